//! Check-in (签到) at the kiosk or the counter, which turns a booking into a priority ticket,
//! and the no-show a booking becomes when nobody comes within the grace time.

use super::service::{BOOKINGS, act, system};
use super::{Appointment, BookingAction, BookingState, queries};
use crate::app::App;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::{BookingId, CenterId};

/// What identifies the booking at check-in: its code (typed, or the QR code's address) or the
/// applicant's ID-card number.
pub fn code_in(text: &str) -> String {
    let t = text.trim();
    let tail = t.rsplit('/').next().unwrap_or(t);
    let tail = tail.split(['?', '#']).next().unwrap_or(tail);
    tail.trim().to_ascii_uppercase()
}

/// A checked-in booking and the ticket it became.
pub struct CheckedIn {
    pub appointment: Appointment,
    pub ticket: crate::queue::api::Issued,
}

/// 签到: turns today's confirmed booking at `center` into a priority ticket for its window's
/// zone, from `early_minutes` before the hour until `grace_minutes` after it starts.
pub async fn check_in(app: &App, center: &str, key: &str) -> AppResult<CheckedIn> {
    let center = app.queue_cache.center(app, center.trim()).await?;
    let center_id = CenterId(center.id);
    let today = crate::timetable::today(app);
    let key = key.trim();
    if key.is_empty() {
        return Err(AppError::invalid_field("code", "请输入预约码或身份证号"));
    }
    let a = {
        let mut conn = app.db.pool().acquire().await?;
        if key.chars().count() == 18 && identity::check_id_card(key).is_ok() {
            let id = identity::check_id_card(key).unwrap_or_default();
            queries::today_for_person(&mut conn, center_id, &id, today)
                .await?
                .ok_or_else(|| {
                    AppError::NotFound("没有找到该身份证号今天在本中心已确认的预约".into())
                })?
        } else {
            let code = code_in(key);
            match queries::by_code(&mut conn, &code).await? {
                Some(a) if a.center_id == center_id => a,
                Some(_) => {
                    return Err(AppError::invalid_field(
                        "code",
                        "该预约不在本中心，请到预约的服务中心签到",
                    ));
                }
                None => return Err(AppError::NotFound("找不到该预约码，请核对后重试".into())),
            }
        }
    };
    if a.state != BookingState::Confirmed {
        let why = match a.state {
            BookingState::Pending | BookingState::Refusing => "预约尚未确认，请到咨询台询问",
            BookingState::CheckedIn => "该预约已签到取号",
            BookingState::Cancelled => "该预约已取消",
            BookingState::Refused => "该预约未获同意",
            BookingState::NoShow => "已超过签到时间，该预约已记为未到",
            BookingState::Confirmed => "",
        };
        return Err(AppError::InvalidState(why.into()));
    }
    if a.service_date.date() != today {
        return Err(AppError::invalid_field(
            "code",
            format!("该预约的日期是 {}，请在当天签到", a.service_date),
        ));
    }
    let settings = {
        let mut conn = app.db.pool().acquire().await?;
        queries::settings(&mut conn, center_id).await?
    };
    let now = app.clock.now_micros();
    let minute = 60_000_000;
    let opens = a.starts_at.get() - settings.early_minutes * minute;
    let closes = a.starts_at.get() + settings.grace_minutes * minute;
    if now < opens {
        return Err(AppError::invalid_field(
            "code",
            format!(
                "预约时间是 {}，请在 {} 以后签到",
                a.start,
                crate::clock::format_local(opens).get(11..16).unwrap_or("")
            ),
        ));
    }
    if now > closes {
        return Err(AppError::invalid_field(
            "code",
            format!(
                "已超过预约时间 {} 分钟，请直接取号排队",
                (now - a.starts_at.get()) / minute
            ),
        ));
    }
    let zone = {
        let mut conn = app.db.pool().acquire().await?;
        queries::zone_of(&mut conn, a.window_id)
            .await?
            .ok_or_else(|| AppError::Invalid("预约窗口没有所属专区，请到咨询台取号".into()))?
    };
    let a = &a;
    let actor = Actor {
        id: None,
        name: "签到".into(),
    };
    let actor = &actor;
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { act(&mut tx, a, BookingAction::CheckIn, actor, "", now).await })
        })
        .await?;
    let issued = crate::queue::service::issue_checked_in(
        app,
        &center,
        &zone,
        Some("appointment"),
        Some(a.starts_at.get()),
    )
    .await;
    match issued {
        Ok(ticket) => {
            sqlx::query("update appointments set ticket_id = $1 where id = $2")
                .bind(ticket.id)
                .bind(a.id)
                .execute(app.db.pool())
                .await?;
            let mut conn = app.db.pool().acquire().await?;
            let appointment = queries::by_id(&mut conn, a.id)
                .await?
                .ok_or_else(|| AppError::internal("booking vanished after check-in"))?;
            Ok(CheckedIn {
                appointment,
                ticket,
            })
        }
        Err(e) => {
            // No ticket: the booking is confirmed again, so the visitor can try once more.
            sqlx::query(
                "update appointments set state = 'confirmed' where id = $1 and state = 'checked_in' \
                 and ticket_id is null",
            )
            .bind(a.id)
            .execute(app.db.pool())
            .await?;
            Err(e)
        }
    }
}

/// Marks a confirmed booking whose grace time passed as a no-show (the `booking.no_show` job).
pub async fn mark_no_show(app: &App, id: BookingId) -> AppResult<bool> {
    let now = app.clock.now_micros();
    let mut conn = app.db.pool().acquire().await?;
    let Some(a) = queries::by_id(&mut conn, id).await? else {
        return Ok(false);
    };
    drop(conn);
    if a.state != BookingState::Confirmed {
        return Ok(false);
    }
    let settings = {
        let mut conn = app.db.pool().acquire().await?;
        queries::settings(&mut conn, a.center_id).await?
    };
    if now <= a.starts_at.get() + settings.grace_minutes * 60_000_000 {
        return Ok(false);
    }
    let a = &a;
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let moved = BOOKINGS
                    .advance(
                        &mut tx,
                        a.id.get(),
                        a.state,
                        BookingAction::MarkNoShow,
                        &system(),
                        "超过签到宽限时间未到",
                        now,
                    )
                    .await?;
                Ok(moved.is_some())
            })
        })
        .await
}
