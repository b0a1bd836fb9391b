//! The life cycles of the booking area (bookings, home visits): every state change is one
//! guarded `update … where state in (…)` with its step appended to the record's history.

use crate::audit::Actor;
use crate::booking::{Appointment, BookingAction, BookingState};
use crate::db::{Conn, TextEnum, Tx};
use crate::error::{AppError, AppResult};
use crate::state::StateMachine;

/// Where a life cycle is kept: the records' table (with `state` and `updated_at`) and the
/// table of their steps, with the column naming the record.
pub(in crate::booking) struct Lifecycle {
    pub records: &'static str,
    pub steps: &'static str,
    pub key: &'static str,
}

/// The bookings' life cycle.
pub(in crate::booking) const BOOKINGS: Lifecycle = Lifecycle {
    records: "appointments",
    steps: "appointment_steps",
    key: "appointment_id",
};

/// A step of a record's history: what was done, from and to which state.
pub(in crate::booking) struct Change<'a, S = BookingState> {
    pub action: &'a str,
    pub from: Option<S>,
    pub to: S,
    pub note: &'a str,
}

impl Lifecycle {
    /// Appends a step to the history of record `id`.
    pub(in crate::booking) async fn step<S: TextEnum>(
        &self,
        conn: &mut Conn,
        id: i64,
        actor: &Actor,
        change: Change<'_, S>,
        now: i64,
    ) -> AppResult<()> {
        let Change {
            action,
            from,
            to,
            note,
        } = change;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into {} ({}, at, actor_id, actor, action, from_state, to_state, note) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
            self.steps, self.key
        )))
        .bind(id)
        .bind(now)
        .bind(actor.id)
        .bind(&actor.name)
        .bind(action)
        .bind(from.map(S::as_str))
        .bind(to.as_str())
        .bind(note)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Moves record `id` along `action`, guarded by its state; `None` when it had moved on.
    pub(in crate::booking) async fn transition<S: StateMachine>(
        &self,
        tx: &mut Tx,
        id: i64,
        action: S::Action,
        now: i64,
    ) -> AppResult<Option<S>> {
        let to = S::transition(action).to;
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "update {} set state = $1, updated_at = $2 where id = $3 and {}",
            self.records,
            S::guard(action)
        )))
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok((n == 1).then_some(to))
    }

    /// Moves record `id` (now in `from`) along `action` and appends the step with `note`;
    /// `None` when the record had moved on, and then nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::booking) async fn advance<S: StateMachine>(
        &self,
        tx: &mut Tx,
        id: i64,
        from: S,
        action: S::Action,
        actor: &Actor,
        note: &str,
        now: i64,
    ) -> AppResult<Option<S>> {
        let Some(to) = self.transition::<S>(tx, id, action, now).await? else {
            return Ok(None);
        };
        let change = Change {
            action: action.as_str(),
            from: Some(from),
            to,
            note,
        };
        self.step(tx, id, actor, change, now).await?;
        Ok(Some(to))
    }
}

pub(super) fn refused_step(a: &Appointment, action: BookingAction) -> AppError {
    AppError::InvalidState(format!(
        "预约当前状态为“{}”，不能{}",
        a.state.label(),
        action.label()
    ))
}

/// Performs `action` on `a` with its step, or refuses with `invalid_state`.
pub(in crate::booking) async fn act(
    tx: &mut Tx,
    a: &Appointment,
    action: BookingAction,
    actor: &Actor,
    note: &str,
    now: i64,
) -> AppResult<BookingState> {
    BOOKINGS
        .advance(tx, a.id.get(), a.state, action, actor, note, now)
        .await?
        .ok_or_else(|| refused_step(a, action))
}

/// The digits of `given`, if any, are one of `phones`: how a citizen's phone opens a record
/// (no phone given: staff, who need none).
pub(in crate::booking) fn phone_matches(given: Option<&str>, phones: &[&str]) -> bool {
    match given {
        None => true,
        Some(p) => {
            let p: String = p.chars().filter(char::is_ascii_digit).collect();
            !p.is_empty() && phones.contains(&p.as_str())
        }
    }
}
