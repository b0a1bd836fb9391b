//! 不同意 with the hall manager's approval, one flow for bookings and home visits: a clerk
//! proposes it with the reason, the hall manager approves it (and the applicant is told) or
//! turns it down; a hall manager's own refusal is approved at once.

use std::future::Future;

use super::steps::Lifecycle;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ids::CenterId;
use crate::state::StateMachine;

/// The action of a [`Refusable`]'s life cycle.
type Action<R> = <<R as Refusable>::State as StateMachine>::Action;

/// A request the hall answers and refuses only with the hall manager's approval: its table
/// (with `refusal_reason` and `answered_at`) and what its kind does on its own.
pub(in crate::booking) trait Refusable: Sized + Send + Sync {
    type State: StateMachine;
    /// What the applicant's message is made of, read before the transaction begins.
    type Told: Sync;
    /// Where the requests are kept.
    const LIFECYCLE: Lifecycle;
    /// 提出不同意, from a request waiting for its answer.
    const PROPOSE: Action<Self>;
    /// 批准不同意, by the hall manager.
    const APPROVE: Action<Self>;

    fn id(&self) -> i64;

    /// Performs `action` with its step, or refuses with `invalid_state`.
    fn act(
        &self,
        tx: &mut Tx,
        action: Action<Self>,
        actor: &Actor,
        note: &str,
        now: i64,
    ) -> impl Future<Output = AppResult<Self::State>> + Send;

    /// The request as it is now, inside the transaction.
    fn reload(&self, tx: &mut Tx) -> impl Future<Output = AppResult<Self>> + Send;

    /// What follows an approved refusal besides its step: its place given back, the applicant
    /// told.
    fn refused(
        &self,
        tx: &mut Tx,
        told: &Self::Told,
        now: i64,
    ) -> impl Future<Output = AppResult<()>> + Send;
}

/// Whether `user`'s own refusals of `center`'s requests are approved at once: a hall manager's.
pub(in crate::booking) fn approves(user: &CurrentUser, center: CenterId) -> bool {
    policy::can_approve_booking_refusal(user, center.get())
}

/// Refuses anyone but a hall manager of `center` the decision on a proposed refusal of a
/// request (`what`: 预约, 上门服务).
pub(in crate::booking) fn may_decide(
    user: &CurrentUser,
    center: CenterId,
    what: &str,
) -> AppResult<()> {
    if approves(user, center) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "不同意{what}须经大厅管理员批准"
        )))
    }
}

/// 提出不同意 of `r` with `reason` and, where `approved` (a hall manager's own refusal), its
/// approval at once; the request as it is then.
pub(in crate::booking) async fn propose<R: Refusable>(
    tx: &mut Tx,
    r: &R,
    actor: &Actor,
    reason: &str,
    approved: bool,
    told: &R::Told,
    now: i64,
) -> AppResult<R> {
    r.act(tx, R::PROPOSE, actor, reason, now).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update {} set refusal_reason = $1 where id = $2",
        R::LIFECYCLE.records
    )))
    .bind(reason)
    .bind(r.id())
    .execute(&mut **tx)
    .await?;
    let r = r.reload(tx).await?;
    if approved {
        return approve(tx, &r, actor, told, now).await;
    }
    Ok(r)
}

/// 批准不同意: the refusal of `r` is final and the request answered; its place is given back
/// and the applicant told the reason. The request as it is then.
pub(in crate::booking) async fn approve<R: Refusable>(
    tx: &mut Tx,
    r: &R,
    actor: &Actor,
    told: &R::Told,
    now: i64,
) -> AppResult<R> {
    r.act(tx, R::APPROVE, actor, "", now).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update {} set answered_at = $1 where id = $2",
        R::LIFECYCLE.records
    )))
    .bind(now)
    .bind(r.id())
    .execute(&mut **tx)
    .await?;
    let r = r.reload(tx).await?;
    r.refused(tx, told, now).await?;
    Ok(r)
}
