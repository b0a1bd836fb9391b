//! The cases' use cases, one function each: check the input, decide who may (`auth::policy`),
//! write the case and its step inside one [`Db::transaction`](crate::db::Db::transaction),
//! enqueue its deadline job there, and return the case. Each state change is one guarded
//! `update … where state in (…)`, so a racing second request changes nothing and answers 409
//! `invalid_state`.

mod fees;
mod input;
mod intake;
mod joint;
mod office;
mod read;
mod window;

pub use fees::*;
pub use input::*;
pub use intake::*;
pub use joint::*;
pub use office::*;
pub use read::*;
pub use window::*;

use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use super::clock::{self, Due};
use super::queries::{self, Settings};
use super::{
    ApplicantKind, Case, CaseAction, CaseKind, CaseState, Decision, Delivery, MaterialState,
};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::db::{CivilDate, Conn, Tx, Work};
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::{CaseId, CenterId, MatterId, TicketId, WindowId};
use crate::state::StateMachine;

/// What a use case returns: the case after the step.
pub type Outcome = AppResult<Case>;

/// Appends a step to a case's history.
#[allow(clippy::too_many_arguments)]
pub(super) async fn step(
    tx: &mut Conn,
    case: CaseId,
    actor: &Actor,
    action: &str,
    from: Option<CaseState>,
    to: CaseState,
    note: &str,
    data: Option<serde_json::Value>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "insert into case_steps (case_id, at, actor_id, actor, action, from_state, to_state, note, data_json) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case)
    .bind(now)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(action)
    .bind(from)
    .bind(to)
    .bind(note)
    .bind(data.map(|d| d.to_string()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) fn actor(user: &CurrentUser) -> Actor {
    Actor {
        id: Some(user.id.get()),
        name: user.display_name.clone(),
    }
}

pub(super) async fn load(conn: &mut Conn, id: CaseId) -> Outcome {
    queries::by_id(conn, id)
        .await?
        .ok_or_else(|| AppError::internal("case vanished inside its transaction"))
}

/// A case the caller may see (staff of its center), or 404.
pub async fn visible(conn: &mut Conn, user: &CurrentUser, number: &str) -> Outcome {
    let case = queries::by_number(conn, number.trim()).await?;
    match case {
        Some(c)
            if policy::can_see_center(user, c.center_id.get())
                || c.reported_to
                    .is_some_and(|r| policy::can_see_center(user, r.get())) =>
        {
            Ok(c)
        }
        _ => Err(AppError::NotFound(format!("找不到办件“{}”", number.trim()))),
    }
}

/// The case's state refuses `action`.
pub(super) fn invalid_state(case: &Case, action: CaseAction) -> AppError {
    state_refusal(case, &format!("不能{}", action.label()))
}

/// A refusal naming the case's state: "办件当前状态为“…”，" followed by `then`.
pub(super) fn state_refusal(case: &Case, then: &str) -> AppError {
    AppError::InvalidState(format!("办件当前状态为“{}”，{then}", case.state.label()))
}

/// Refuses the step (409, saying `why`) when its guarded write changed no row.
pub(super) fn changed(rows: u64, why: &str) -> AppResult<()> {
    if rows == 0 {
        Err(AppError::InvalidState(why.into()))
    } else {
        Ok(())
    }
}

/// Refuses the caller (403, saying `why`) unless `ok`.
pub(super) fn allow(ok: bool, why: &str) -> AppResult<()> {
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(why.into()))
    }
}

/// The caller works at the case's own center (a window clerk's step), or 403.
pub(super) fn window_clerk(user: &CurrentUser, case: &Case) -> AppResult<()> {
    if policy::can_take_in(user, case.center_id.get()) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// Records `action` of `user` in the case's history, with `note`, the state unchanged, and
/// answers the case as it is now.
pub(super) async fn noted(
    tx: &mut Conn,
    case: &Case,
    user: &CurrentUser,
    action: &str,
    note: &str,
    now: i64,
) -> Outcome {
    let state = case.state;
    step(
        tx,
        case.id,
        &actor(user),
        action,
        Some(state),
        state,
        note,
        None,
        now,
    )
    .await?;
    load(tx, case.id).await
}

/// [`transit`] by `action` with `(set, binds)`, and the step in the history with `note`:
/// the case as the update left it.
pub(super) async fn advance(
    tx: &mut Tx,
    case: &Case,
    user: &CurrentUser,
    action: CaseAction,
    (set, binds): (&str, Vec<Bind>),
    note: &str,
    now: i64,
) -> AppResult<Case> {
    let moved = transit(tx, case, action, set, binds, now).await?;
    let (from, to) = (Some(case.state), moved.state);
    step(
        tx,
        case.id,
        &actor(user),
        action.as_str(),
        from,
        to,
        note,
        None,
        now,
    )
    .await?;
    Ok(moved)
}

/// Moves a case by `action` with `set` (extra assignments, binds from $3), guarded by the
/// machine: `update cases set state = $1, … where id = $2 and state in (…)`. Answers the case
/// as the update left it (`returning`), so a use case that changes nothing else of the row
/// needs no read after it.
pub(super) async fn transit(
    tx: &mut Tx,
    case: &Case,
    action: CaseAction,
    set: &str,
    binds: Vec<Bind>,
    now: i64,
) -> AppResult<Case> {
    static RETURNING: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| super::CASE_COLUMNS.replace("c.", ""));
    let to = case
        .state
        .after(action)
        .ok_or_else(|| invalid_state(case, action))?;
    // `now` is bound, not written into the text: a statement of its own each time would be
    // prepared anew and push the others out of the connection's statement cache.
    let sql = format!(
        "update cases set state = $1, updated_at = ${}{set} where id = $2 and {} returning {}",
        binds.len() + 3,
        CaseState::guard(action),
        *RETURNING
    );
    let mut q = sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql))
        .bind(to)
        .bind(case.id);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
            Bind::OptInt(i) => q.bind(i),
            Bind::OptText(t) => q.bind(t),
        };
    }
    q.bind(now)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| invalid_state(case, action))
}

/// A value bound by [`transit`].
pub(super) enum Bind {
    Text(String),
    Int(i64),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

/// Runs `work` on the case `number` in one transaction, after checking that the caller may
/// see it; `work` is given the case and the instant of the step (read before the transaction).
pub(super) async fn on_case<'a, T, F>(
    app: &App,
    user: &'a CurrentUser,
    number: &'a str,
    work: F,
) -> AppResult<T>
where
    T: Send,
    F: for<'c> FnOnce(Work<'c, 'a>, Case, i64) -> futures_util::future::BoxFuture<'c, AppResult<T>>
        + Send
        + 'a,
{
    let now = app.clock.now_micros();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let case = visible(&mut tx, user, number).await?;
                work(tx, case, now).await
            })
        })
        .await
}
