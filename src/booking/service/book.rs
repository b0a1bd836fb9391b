//! Booking an hour (预约): online by the citizen, or by staff for a caller on the phone or at
//! the counter.

use serde::Deserialize;
use utoipa::ToSchema;

use super::person::{Wanted, fairness, lock_person, one_a_day, person};
use super::place::{chosen_slot, plan, take_place, tell_booked};
use super::steps::{BOOKINGS, Change};
use super::{citizen, instant, new_code, reload, staff};
use crate::app::App;
use crate::auth::{CurrentUser, policy};
use crate::booking::notify;
use crate::booking::{Answer, Appointment, BookingState, Channel, queries};
use crate::error::{AppError, AppResult};
use crate::ids::BookingId;

/// A booking request (public, or staff booking for a caller).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct BookInput {
    /// 中心编码 (`GX-ML`).
    pub center: String,
    /// 事项编码.
    pub matter: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// HH:MM, the start of a slot.
    pub start: String,
    /// 申请人姓名.
    pub name: String,
    /// 联系电话.
    pub phone: String,
    /// 申请人身份证号 (check digit checked).
    pub id_card: String,
    /// 预约事由 (正当事由).
    pub reason: String,
    /// 授权委托代理人姓名, when an agent books for the applicant.
    pub agent_name: String,
    /// The agent's phone.
    pub agent_phone: String,
    /// Staff only: `phone` (电话预约) or `counter` (现场预约).
    pub channel: String,
}

/// Books an hour: public (`by` = `None`, 网上预约) or staff for a caller (电话/现场预约).
pub async fn book(
    app: &App,
    by: Option<&CurrentUser>,
    input: &BookInput,
) -> AppResult<Appointment> {
    let p = person(input)?;
    let plan = plan(app, &input.center, &input.matter).await?;
    let center = plan.bookable.center_id;
    let channel = match by {
        None => Channel::Online,
        Some(user) => {
            if !policy::can_serve_bookings(user, center.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的工作人员可以代为预约".into(),
                ));
            }
            match input.channel.trim() {
                "" | "counter" => Channel::Counter,
                "phone" => Channel::Phone,
                "online" => Channel::Online,
                _ => {
                    return Err(AppError::invalid_field(
                        "channel",
                        "预约方式须为 phone（电话）或 counter（现场）",
                    ));
                }
            }
        }
    };
    let (date, slot) = chosen_slot(app, &plan, &input.date, &input.start).await?;
    let now = app.clock.now_micros();
    let backend = app.db.backend();
    let actor = by.map_or_else(citizen, staff);
    let created_by = by.map(|u| u.id);
    let state = match plan.bookable.answer {
        Answer::Auto => BookingState::Confirmed,
        Answer::Clerk => BookingState::Pending,
    };
    let settings = plan.settings.clone();
    let plan = &plan;
    let p = &p;
    let actor = &actor;
    let id = app
        .db
        .transaction(|mut tx| {
            Box::pin(async move {
                lock_person(&mut tx, backend, &p.id_card, &p.phone).await?;
                let wanted = Wanted {
                    matter: plan.bookable.id,
                    date,
                    online: channel == Channel::Online,
                    except: None,
                };
                fairness(&mut tx, &settings, p, wanted, now).await?;
                let window = take_place(&mut tx, &plan.offers, date, slot).await?;
                let code = new_code();
                let inserted = sqlx::query_scalar(
                    "insert into appointments (code, center_id, matter_id, window_id, service_date, start, slot_end, \
                     starts_at, state, channel, name, phone, id_card, reason, agent_name, agent_phone, created_by, \
                     created_at, answered_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $18) \
                     returning id",
                )
                .bind(&code)
                .bind(center)
                .bind(plan.bookable.id)
                .bind(window)
                .bind(date.to_string())
                .bind(slot.start_text())
                .bind(slot.end_text())
                .bind(instant(date, slot.start))
                .bind(state)
                .bind(channel)
                .bind(&p.name)
                .bind(&p.phone)
                .bind(&p.id_card)
                .bind(&p.reason)
                .bind(&p.agent_name)
                .bind(&p.agent_phone)
                .bind(created_by)
                .bind(now)
                .bind((state == BookingState::Confirmed).then_some(now))
                .fetch_one(&mut **tx)
                .await;
                let id: BookingId = match inserted {
                    Ok(id) => id,
                    Err(e) if crate::db::is_unique_violation(&e) => return Err(one_a_day()),
                    Err(e) => return Err(e.into()),
                };
                let note = match &p.agent_name {
                    a if a.is_empty() => channel.label().to_owned(),
                    a => format!("{}，代理人 {a}", channel.label()),
                };
                let change = Change {
                    action: "book",
                    from: None,
                    to: state,
                    note: &note,
                };
                BOOKINGS.step(&mut tx, id.get(), actor, change, now).await?;
                let a = reload(&mut tx, id).await?;
                tell_booked(&mut tx, &a, plan, now).await?;
                if state == BookingState::Confirmed {
                    notify::schedule_followups(&mut tx, &a, &settings, now).await?;
                }
                Ok(id)
            })
        })
        .await?;
    let mut conn = app.db.pool().acquire().await?;
    queries::by_id(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::internal("booking vanished after commit"))
}
