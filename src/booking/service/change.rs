//! Changes a citizen or the staff make to a booking: cancelling it (取消) and moving it to a
//! new hour (改约).

use serde::Deserialize;
use utoipa::ToSchema;

use super::answers::confirm_in;
use super::person::{Wanted, fairness, lock_person};
use super::place::{chosen_slot, plan_of, take_place, tell_booked};
use super::steps::{act, refused_step};
use super::{By, for_action, instant, names, reload, system};
use crate::app::App;
use crate::booking::notify::{self, Message};
use crate::booking::{Answer, Appointment, BookingAction, queries};
use crate::error::{AppError, AppResult};
use crate::state::StateMachine;

/// Cancels a booking before its hour; its place is free again.
pub async fn cancel(app: &App, code: &str, by: By<'_>) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &by).await?;
    let now = app.clock.now_micros();
    if matches!(by, By::Citizen { .. }) && a.starts_at.get() <= now {
        return Err(AppError::InvalidState(
            "预约时间已到，不能再网上取消；如不能前来，请致电窗口".into(),
        ));
    }
    let (a, actor) = (&a, &actor);
    let names = names(app, a).await?;
    let names = &names;
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                act(&mut tx, a, BookingAction::Cancel, actor, "", now).await?;
                queries::release(&mut tx, a).await?;
                let a = reload(&mut tx, a.id).await?;
                notify::queue(&mut tx, &a, &names.0, &names.1, Message::Cancelled, now).await?;
                Ok(a)
            })
        })
        .await
}

/// A new hour for a booking (改约): the new place is taken before the old one is given back,
/// and the booking is answered again as its matter wants.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RescheduleInput {
    pub date: String,
    pub start: String,
}

pub async fn reschedule(
    app: &App,
    code: &str,
    by: By<'_>,
    input: &RescheduleInput,
) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &by).await?;
    if !a.state.allows(BookingAction::Reschedule) {
        return Err(refused_step(&a, BookingAction::Reschedule));
    }
    let now = app.clock.now_micros();
    if matches!(by, By::Citizen { .. }) && a.starts_at.get() <= now {
        return Err(AppError::InvalidState("预约时间已到，不能再改约".into()));
    }
    let plan = plan_of(app, &a).await?;
    let (date, slot) = chosen_slot(app, &plan, &input.date, &input.start).await?;
    let p = a.person.clone();
    let backend = app.db.backend();
    let (a, actor, plan, p) = (&a, &actor, &plan, &p);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                lock_person(&mut tx, backend, &p.id_card, &p.phone).await?;
                let wanted = Wanted {
                    matter: a.matter_id,
                    date,
                    online: false,
                    except: Some(a.id),
                };
                fairness(&mut tx, &plan.settings, p, wanted, now).await?;
                let window = take_place(&mut tx, &plan.offers, date, slot).await?;
                let note = format!(
                    "{} {} → {} {}",
                    a.service_date,
                    a.start,
                    date,
                    slot.start_text()
                );
                act(&mut tx, a, BookingAction::Reschedule, actor, &note, now).await?;
                queries::release(&mut tx, a).await?;
                let moved = sqlx::query(
                    "update appointments set window_id = $1, service_date = $2, start = $3, slot_end = $4, \
                     starts_at = $5, answered_at = null, updated_at = $6 where id = $7",
                )
                .bind(window)
                .bind(date.to_string())
                .bind(slot.start_text())
                .bind(slot.end_text())
                .bind(instant(date, slot.start))
                .bind(now)
                .bind(a.id)
                .execute(&mut **tx)
                .await;
                if let Err(e) = moved {
                    return Err(if crate::db::is_unique_violation(&e) {
                        AppError::Conflict("该身份证号当天已预约过此事项".into())
                    } else {
                        e.into()
                    });
                }
                let mut b = reload(&mut tx, a.id).await?;
                if plan.bookable.answer == Answer::Auto {
                    confirm_in(&mut tx, &b, &system(), "自动确认", now).await?;
                    b = reload(&mut tx, a.id).await?;
                    notify::schedule_followups(&mut tx, &b, &plan.settings, now).await?;
                }
                tell_booked(&mut tx, &b, plan, now).await?;
                Ok(b)
            })
        })
        .await
}
