//! The clerk's actions at a window (R4.2): call next, call a number (指呼), recall, start,
//! finish, no-show (过号), transfer (首问负责) and hold (挂起).
//!
//! Each takes the transaction and returns the [`Changed`] ticket; the caller writes the
//! `ticket_events` rows (batched) and publishes the events after commit. Every action
//! refuses *before* it writes: a refused action has changed nothing, so a batch of actions
//! needs no savepoint around each one. Each is one statement, an `update … returning` whose
//! `where` holds the rule (the ticket the window holds, in the right state); only when it
//! changes nothing is the reason read. Calling the next visitor is done for a whole batch
//! of windows at once, in [`super::batch`].

use std::sync::{Arc, LazyLock};

use sqlx::Row;

use super::{
    state::{TicketAction, TicketState, guard},
    ticket::{Changed, EventKind, HoldKind, Rule, SELECT, Ticket, Who, by_id, by_number, from_row},
};
use crate::{
    db::Conn,
    error::{AppError, AppResult},
    ids::TicketId,
    state::in_list,
};

/// A zone's id, code and name.
#[derive(Clone, Debug)]
pub struct ZoneName {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// The window a clerk acts at, with the zones it calls from.
#[derive(Clone, Debug)]
pub struct Desk {
    pub center_id: i64,
    pub center_code: String,
    pub window_id: i64,
    pub code: String,
    pub name: String,
    /// The window's own zone, if any.
    pub zone_id: Option<i64>,
    /// Every zone the window calls from: its own and those added for 潮汐 (window_zones).
    pub zones: Vec<i64>,
    /// The center's zones, to name a ticket's zone without reading it again.
    pub zone_names: Arc<Vec<ZoneName>>,
    /// The special functions 加挂 on this window (办不成事反映窗口), said in its calls.
    pub added_name: Option<String>,
}

impl Desk {
    pub(super) fn at(&self) -> Option<(i64, &str, &str, Option<&str>)> {
        Some((
            self.window_id,
            &self.code,
            &self.name,
            self.added_name.as_deref(),
        ))
    }
}

/// A window ready for actions: the desk and its center's calling rule.
#[derive(Clone, Debug)]
pub struct DeskSetup {
    pub desk: Desk,
    pub rule: Rule,
    /// Recalls after which a called ticket becomes a no-show (0: never).
    pub auto_no_show_after: i64,
}

/// Where a transfer sends the visitor.
#[derive(Clone, Debug)]
pub enum TransferTo {
    Window {
        id: i64,
        zone_id: Option<i64>,
        code: String,
    },
    Zone {
        id: i64,
        code: String,
    },
}

/// A ticket's own columns, as `update … returning` gives them back ([`ticket_at`]).
pub(super) const ROW: &str = "id, number, state, priority, hold_kind, recalls, issued_at, called_at, started_at, \
    finished_at, paused_micros, public_token, center_id, zone_id, window_id, target_window_id, \
    service_date, queue_key, appointment_at, limit_minutes, overrun_minutes";

/// The ticket an update at `desk` returned ([`ROW`]), named from the desk: its zone from the
/// center's zones, its window from the desk (the only window an action sets). Anything else
/// (a zone added since the desk was read) is read again.
pub(super) async fn ticket_at(
    tx: &mut Conn,
    desk: &Desk,
    r: &sqlx::any::AnyRow,
) -> AppResult<Ticket> {
    let id: TicketId = r.try_get("id")?;
    let zone_id: i64 = r.try_get("zone_id")?;
    let window_id: Option<i64> = r.try_get("window_id")?;
    let zone = desk.zone_names.iter().find(|z| z.id == zone_id);
    let (Some(zone), true) = (zone, window_id.is_none_or(|w| w == desk.window_id)) else {
        return by_id(&mut *tx, id).await;
    };
    let here = window_id.is_some();
    Ok(Ticket {
        id,
        number: r.try_get("number")?,
        zone: zone.code.clone(),
        zone_name: zone.name.clone(),
        state: r.try_get("state")?,
        priority: r.try_get("priority")?,
        window: here.then(|| desk.code.clone()),
        window_name: here.then(|| desk.name.clone()),
        hold_kind: r.try_get("hold_kind")?,
        recalls: r.try_get("recalls")?,
        issued_at: r.try_get("issued_at")?,
        called_at: r.try_get("called_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        paused_micros: r.try_get("paused_micros")?,
        public_token: r.try_get("public_token")?,
        center_id: r.try_get("center_id")?,
        center_code: desk.center_code.clone(),
        zone_id,
        window_id,
        target_window_id: r.try_get("target_window_id")?,
        service_date: r.try_get("service_date")?,
        queue_key: r.try_get("queue_key")?,
        appointment_at: r.try_get("appointment_at")?,
        limit_minutes: r.try_get("limit_minutes")?,
        overrun_minutes: r.try_get("overrun_minutes")?,
    })
}

/// The ticket a window is calling or serving now, if any.
pub async fn current_at(tx: &mut Conn, window_id: i64) -> AppResult<Option<Ticket>> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{SELECT} where t.window_id = $1 and {} order by t.called_at desc limit 1",
            in_list("t.state", TicketState::AT_WINDOW)
        )
    });
    let row = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(window_id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Refuses a new call while the window still holds ticket `number`.
pub(super) fn refuse_busy(number: &str) -> AppError {
    AppError::Conflict(format!(
        "{number} 号尚未办结：请先“办结”“过号”或“挂起”，再叫下一号"
    ))
}

/// Moves a waiting or held ticket to "called" at `desk`; refuses if another window took it.
async fn take_call(
    tx: &mut Conn,
    desk: &Desk,
    prev: Ticket,
    who: &Who,
    action: EventKind,
    now: i64,
) -> AppResult<Changed> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "update tickets set state = 'called', window_id = $1, called_at = coalesce(called_at, $2), \
         target_window_id = null, hold_kind = null, recalls = 0, served_by = $3, \
         paused_micros = paused_micros + case when paused_since is null then 0 else $2 - paused_since end, \
         paused_since = null \
         where id = $4 and {} returning {ROW}",
            guard(TicketAction::CallNumber)
        )
    });
    let row = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(desk.window_id)
        .bind(now)
        .bind(who.user_id)
        .bind(prev.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Conflict("该号码已被其他窗口叫走".into()))?;
    let t = ticket_at(tx, desk, &row).await?;
    Ok(Changed::new(t, who, action, desk.at(), None, now))
}

/// 指呼: calls a given number — waiting, transferred here, or held (不持件 anywhere; 持件 and
/// 等待 only at the window that held it).
pub async fn call_number(
    tx: &mut Conn,
    desk: &Desk,
    date: &str,
    number: &str,
    who: &Who,
    now: i64,
) -> AppResult<Changed> {
    if let Some(cur) = current_at(tx, desk.window_id).await? {
        return Err(AppError::Conflict(format!(
            "{} 号尚未办结，请先处理当前号码",
            cur.number
        )));
    }
    let t = by_number(&mut *tx, desk.center_id, date, number).await?;
    match t.state {
        TicketState::Waiting => {}
        TicketState::Held if t.hold_kind == Some(HoldKind::Away) => {}
        TicketState::Held
            if t.window_id == Some(desk.window_id)
                || t.target_window_id == Some(desk.window_id) => {}
        TicketState::Held => {
            return Err(AppError::Conflict(format!(
                "{} 号挂起在其他窗口，须回原窗口办理",
                t.number
            )));
        }
        TicketState::Called | TicketState::Serving => {
            return Err(AppError::Conflict(format!(
                "{} 号正在其他窗口办理",
                t.number
            )));
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "{} 号已办结、过号或离开",
                t.number
            )));
        }
    }
    let action = if t.state == TicketState::Held {
        EventKind::Resumed
    } else {
        EventKind::CalledByNumber
    };
    take_call(tx, desk, t, who, action, now).await
}

pub(super) fn nothing_current() -> AppError {
    AppError::Conflict("本窗口当前没有正在叫号或办理的号码".into())
}

/// The ticket this window is calling or serving, or a Chinese refusal.
async fn current_or_refuse(tx: &mut Conn, desk: &Desk) -> AppResult<Ticket> {
    current_at(tx, desk.window_id)
        .await?
        .ok_or_else(nothing_current)
}

/// Runs `update tickets set {set} where window_id = $1 and {only}` on the ticket the window
/// holds, returning it as changed, or `None` when no ticket there meets `only`. `bind` adds
/// the statement's other values from $2.
async fn change_current<'q>(
    tx: &mut Conn,
    desk: &Desk,
    set: &str,
    only: &str,
    bind: impl FnOnce(
        sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
) -> AppResult<Option<Ticket>> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update tickets set {set} where window_id = $1 and {only} returning {ROW}"
    )))
    .bind(desk.window_id);
    match bind(q).fetch_optional(&mut *tx).await? {
        Some(r) => Ok(Some(ticket_at(tx, desk, &r).await?)),
        None => Ok(None),
    }
}

/// Does `action` to the ticket the window holds ([`change_current`] under the action's guard,
/// `now` as $2), or refuses: no ticket here, or `wrong_state` says why not this one.
async fn act_on_current(
    tx: &mut Conn,
    desk: &Desk,
    action: TicketAction,
    set: &str,
    now: i64,
    wrong_state: impl FnOnce(&Ticket) -> String,
) -> AppResult<Ticket> {
    match change_current(tx, desk, set, guard(action), |q| q.bind(now)).await? {
        Some(t) => Ok(t),
        None => Err(refusal(tx, desk, wrong_state).await),
    }
}

/// Why `change_current` changed nothing: no ticket here, or one in the wrong state.
async fn refusal(
    tx: &mut Conn,
    desk: &Desk,
    wrong_state: impl FnOnce(&Ticket) -> String,
) -> AppError {
    match current_or_refuse(tx, desk).await {
        Ok(t) => AppError::Conflict(wrong_state(&t)),
        Err(e) => e,
    }
}

/// Calls the current ticket again; past the center's limit it becomes a no-show.
pub async fn recall(
    tx: &mut Conn,
    desk: &Desk,
    auto_no_show_after: i64,
    who: &Who,
    now: i64,
) -> AppResult<Changed> {
    let limit = if auto_no_show_after > 0 {
        auto_no_show_after
    } else {
        i64::MAX
    };
    let recalled = change_current(
        tx,
        desk,
        "recalls = recalls + 1",
        &format!("{} and recalls < $2", guard(TicketAction::Recall)),
        |q| q.bind(limit),
    )
    .await?;
    if let Some(t) = recalled {
        return Ok(Changed::new(
            t,
            who,
            EventKind::Recalled,
            desk.at(),
            None,
            now,
        ));
    }
    let t = current_or_refuse(tx, desk).await?;
    if t.state != TicketState::Called {
        return Err(AppError::Conflict(format!(
            "{} 号已在办理中，无需重呼",
            t.number
        )));
    }
    // Called and recalled as often as the center allows: 过号.
    mark_no_show(tx, desk, who, now, true).await
}

/// The visitor has arrived: service starts (the service timer runs from here).
pub async fn start(tx: &mut Conn, desk: &Desk, who: &Who, now: i64) -> AppResult<Changed> {
    let set = "state = 'serving', started_at = $2";
    let t = act_on_current(tx, desk, TicketAction::Start, set, now, |t| {
        format!("{} 号已在办理中", t.number)
    })
    .await?;
    Ok(Changed::new(
        t,
        who,
        EventKind::Started,
        desk.at(),
        None,
        now,
    ))
}

/// 过号: the visitor did not come.
pub async fn no_show(tx: &mut Conn, desk: &Desk, who: &Who, now: i64) -> AppResult<Changed> {
    mark_no_show(tx, desk, who, now, false).await
}

async fn mark_no_show(
    tx: &mut Conn,
    desk: &Desk,
    who: &Who,
    now: i64,
    automatic: bool,
) -> AppResult<Changed> {
    let set = "state = 'no_show', finished_at = $2";
    let t = act_on_current(tx, desk, TicketAction::NoShow, set, now, |t| {
        format!("{} 号已在办理中，不能过号", t.number)
    })
    .await?;
    let detail = automatic.then(|| "多次重呼未到，自动过号".to_owned());
    Ok(Changed::new(
        t,
        who,
        EventKind::NoShow,
        desk.at(),
        detail,
        now,
    ))
}

/// 首问负责: hands the visitor to another window or zone, keeping their place in line.
pub async fn transfer(
    tx: &mut Conn,
    desk: &Desk,
    to: &TransferTo,
    who: &Who,
    now: i64,
) -> AppResult<Changed> {
    let t = current_or_refuse(tx, desk).await?;
    let (zone_id, target, detail) = match to {
        TransferTo::Window { id, zone_id, code } => {
            if *id == desk.window_id {
                return Err(AppError::Invalid("不能转给本窗口".into()));
            }
            (
                zone_id.unwrap_or(t.zone_id),
                Some(*id),
                format!("window:{code}"),
            )
        }
        TransferTo::Zone { id, code } => (*id, None, format!("zone:{code}")),
    };
    let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update tickets set state = 'waiting', window_id = null, target_window_id = $1, zone_id = $2, \
         called_at = null, started_at = null, recalls = 0 where id = $3 and window_id = $4 and {}",
        guard(TicketAction::Transfer)
    )))
    .bind(target)
    .bind(zone_id)
    .bind(t.id)
    .bind(desk.window_id)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(nothing_current());
    }
    // The zone may have changed: read its code and name back with the ticket.
    let t = by_id(&mut *tx, t.id).await?;
    Ok(Changed::new(
        t,
        who,
        EventKind::Transferred,
        desk.at(),
        Some(detail),
        now,
    ))
}

/// 挂起: puts the current ticket on hold; its paused time does not count against the clerk.
pub async fn hold(
    tx: &mut Conn,
    desk: &Desk,
    kind: HoldKind,
    who: &Who,
    now: i64,
) -> AppResult<Changed> {
    // 不持件: free for any window; the others stay with this window.
    let target = if kind == HoldKind::Away {
        None
    } else {
        Some(desk.window_id)
    };
    let held = change_current(
        tx,
        desk,
        "state = 'held', hold_kind = $2, window_id = $3, target_window_id = $3, \
         paused_since = $4, started_at = coalesce(started_at, called_at)",
        guard(TicketAction::Hold),
        |q| q.bind(kind.as_str()).bind(target).bind(now),
    )
    .await?;
    let t = held.ok_or_else(nothing_current)?;
    Ok(Changed::new(
        t,
        who,
        EventKind::Held,
        desk.at(),
        Some(kind.as_str().into()),
        now,
    ))
}
