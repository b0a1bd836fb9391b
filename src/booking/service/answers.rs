//! The answer to a booking request: 同意 (confirm) or 不同意 (a refusal a clerk proposes and
//! the hall manager approves).

use super::person::plain;
use super::refusal::{self, Refusable};
use super::steps::{BOOKINGS, Lifecycle, act};
use super::{By, for_action, names, reload};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::CurrentUser;
use crate::booking::notify::{self, Message};
use crate::booking::{Appointment, BookingAction, BookingState, queries};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

pub(super) async fn confirm_in(
    tx: &mut Tx,
    a: &Appointment,
    actor: &Actor,
    note: &str,
    now: i64,
) -> AppResult<()> {
    act(tx, a, BookingAction::Confirm, actor, note, now).await?;
    sqlx::query("update appointments set answered_at = $1 where id = $2")
        .bind(now)
        .bind(a.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// 同意: a clerk confirms a pending request; a hall manager confirms one whose refusal was
/// proposed (turning the refusal down).
pub async fn confirm(app: &App, user: &CurrentUser, code: &str) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    if a.state == BookingState::Refusing && !refusal::approves(user, a.center_id) {
        return Err(AppError::Forbidden(
            "已提出不同意的预约，须由大厅管理员决定".into(),
        ));
    }
    let settings = {
        let mut conn = app.db.pool().acquire().await?;
        queries::settings(&mut conn, a.center_id).await?
    };
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names, settings) = (&a, &actor, &names, &settings);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                confirm_in(&mut tx, a, actor, "", now).await?;
                let b = reload(&mut tx, a.id).await?;
                notify::queue(&mut tx, &b, &names.0, &names.1, Message::Confirmed, now).await?;
                notify::schedule_followups(&mut tx, &b, settings, now).await?;
                Ok(b)
            })
        })
        .await
}

/// 不同意: a clerk proposes it with the reason; the hall manager approves. A hall manager's
/// own refusal is approved at once. The citizen is told the reason once it is approved.
pub async fn refuse(
    app: &App,
    user: &CurrentUser,
    code: &str,
    reason: &str,
) -> AppResult<Appointment> {
    let reason = plain("reason", "不同意的理由", reason, 2, 200)?;
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    let approved = refusal::approves(user, a.center_id);
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names, reason) = (&a, &actor, &names, &reason);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                refusal::propose(&mut tx, a, actor, reason, approved, names, now).await
            })
        })
        .await
}

/// A booking refused with the hall manager's approval; its message names the center and the
/// matter.
impl Refusable for Appointment {
    type State = BookingState;
    type Told = (String, String);
    const LIFECYCLE: Lifecycle = BOOKINGS;
    const PROPOSE: BookingAction = BookingAction::ProposeRefusal;
    const APPROVE: BookingAction = BookingAction::ApproveRefusal;

    fn id(&self) -> i64 {
        self.id.get()
    }

    async fn act(
        &self,
        tx: &mut Tx,
        action: BookingAction,
        actor: &Actor,
        note: &str,
        now: i64,
    ) -> AppResult<BookingState> {
        act(tx, self, action, actor, note, now).await
    }

    async fn reload(&self, tx: &mut Tx) -> AppResult<Self> {
        reload(tx, self.id).await
    }

    async fn refused(&self, tx: &mut Tx, names: &(String, String), now: i64) -> AppResult<()> {
        queries::release(tx, self).await?;
        notify::queue(tx, self, &names.0, &names.1, Message::Refused, now).await
    }
}

/// The hall manager approves a proposed refusal (`approve`) or turns it down, which confirms
/// the booking.
pub async fn decide_refusal(
    app: &App,
    user: &CurrentUser,
    code: &str,
    approve: bool,
) -> AppResult<Appointment> {
    if !approve {
        return confirm(app, user, code).await;
    }
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    refusal::may_decide(user, a.center_id, "预约")?;
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names) = (&a, &actor, &names);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { refusal::approve(&mut tx, a, actor, names, now).await })
        })
        .await
}
