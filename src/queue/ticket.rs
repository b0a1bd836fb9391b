//! Tickets: their kinds and states, how they are read, issued one at a time and left, and the
//! `ticket_events` row and hub event every change makes. The clerk's actions are in
//! [`super::actions`].

use serde::Serialize;
use sqlx::FromRow;

use super::{
    hub::QueueEvent,
    state::{TicketAction, TicketState, guard},
};
use crate::{
    db::{Backend, Conn, placeholders},
    error::{AppError, AppResult},
    ids::TicketId,
    state::StateMachine,
};

crate::text_enum! {
    /// Why a visitor goes first (绿色通道 / 关爱专区), or an appointment checked in.
    pub enum Priority {
        /// 老年人
        Elderly = "elderly" => "老年人",
        /// 残疾人
        Disabled = "disabled" => "残疾人",
        /// 孕妇
        Pregnant = "pregnant" => "孕妇",
        /// 军人
        Military = "military" => "军人",
        /// 预约签到
        Appointment = "appointment" => "预约",
    }
}

crate::text_enum! {
    /// How a window picks the next ticket (`queue_settings.rule`).
    pub enum Rule {
        /// First come, first served.
        Fifo = "fifo",
        /// Priority tickets first, then first come.
        PriorityFirst = "priority_first",
        /// Appointments due within 15 minutes first, then priority, then first come.
        AppointmentsFirst = "appointments_first",
    }
}

crate::text_enum! {
    /// The three holds halls use (挂起).
    pub enum HoldKind {
        /// 不持件: the visitor fetches documents and may return to any window without a new ticket.
        Away = "away" => "不持件",
        /// 持件: the visitor returns to this same window.
        WithDocs = "with_docs" => "持件",
        /// 等待: the clerk serves others meanwhile; the ticket stays with this window.
        Waiting = "waiting" => "等待",
    }
}

crate::text_enum! {
    /// What happened to a ticket: the `ticket_events.action` it records, and (as
    /// [`EventKind::published`]) the kind of hub event displays hear.
    pub enum EventKind {
        Issued = "issued",
        Called = "called",
        /// 指呼
        CalledByNumber = "called_by_number",
        /// A held ticket called back.
        Resumed = "resumed",
        Recalled = "recalled",
        Started = "started",
        Finished = "finished",
        NoShow = "no_show",
        Transferred = "transferred",
        Held = "held",
        Left = "left",
    }
}

impl EventKind {
    /// The kind the lobby hears: calls by number and resumed holds are calls.
    pub fn published(self) -> EventKind {
        match self {
            EventKind::CalledByNumber | EventKind::Resumed => EventKind::Called,
            other => other,
        }
    }
}

/// A ticket as the API shows it, read by [`SELECT`] (its columns are named as the fields).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Ticket {
    #[schema(value_type = i64)]
    pub id: TicketId,
    pub number: String,
    pub zone: String,
    pub zone_name: String,
    pub state: TicketState,
    pub priority: Option<Priority>,
    pub window: Option<String>,
    pub window_name: Option<String>,
    pub hold_kind: Option<HoldKind>,
    pub recalls: i64,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub paused_micros: i64,
    /// For a checked-in appointment: the booked time (microseconds since the epoch).
    pub appointment_at: Option<i64>,
    /// Once finished: the acceptance limit of its window then (15, or 40 at a joint
    /// 不动产+税务 window), in minutes.
    pub limit_minutes: Option<i64>,
    /// Once finished: whole minutes the service ran past `limit_minutes` (0 within it).
    pub overrun_minutes: Option<i64>,
    /// Secret of the visitor's phone page.
    #[serde(skip)]
    pub public_token: String,
    #[serde(skip)]
    pub center_id: i64,
    #[serde(skip)]
    pub center_code: String,
    #[serde(skip)]
    pub zone_id: i64,
    #[serde(skip)]
    pub window_id: Option<i64>,
    #[serde(skip)]
    pub target_window_id: Option<i64>,
    #[serde(skip)]
    pub service_date: String,
    #[serde(skip)]
    pub queue_key: i64,
}

pub(super) const SELECT: &str = "select t.id, t.number, z.code as zone, z.name as zone_name, t.state, t.priority, \
    w.code as window, w.name as window_name, t.hold_kind, t.recalls, t.issued_at, t.called_at, t.started_at, \
    t.finished_at, t.paused_micros, t.public_token, t.center_id, c.code as center_code, t.zone_id, t.window_id, \
    t.target_window_id, t.service_date, t.queue_key, t.appointment_at, t.limit_minutes, t.overrun_minutes \
    from tickets t join zones z on z.id = t.zone_id join centers c on c.id = t.center_id \
    left join windows w on w.id = t.window_id";

pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<Ticket, sqlx::Error> {
    Ticket::from_row(r)
}

/// A ticket by id.
pub async fn by_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    id: TicketId,
) -> AppResult<Ticket> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} where t.id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound("找不到该号码".into()))?;
    Ok(from_row(&row)?)
}

/// A ticket by the secret of its phone page.
pub async fn by_token<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    token: &str,
) -> AppResult<Ticket> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} where t.public_token = $1"
    )))
    .bind(token)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("找不到该号码，可能已过期".into()))?;
    Ok(from_row(&row)?)
}

/// Today's ticket with this number at a center.
pub async fn by_number<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
    date: &str,
    number: &str,
) -> AppResult<Ticket> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} where t.center_id = $1 and t.service_date = $2 and t.number = $3"
    )))
    .bind(center_id)
    .bind(date)
    .bind(number.trim().to_ascii_uppercase())
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("今天没有 {number} 号")))?;
    Ok(from_row(&row)?)
}

/// Who acts, for `ticket_events`.
#[derive(Clone, Debug)]
pub struct Who {
    pub user_id: Option<i64>,
    pub name: String,
}

/// A `ticket_events` row (电子监察: who did what to which ticket, when, at which window).
/// Changes return it instead of writing it, so a batch of actions writes all its rows with
/// one statement ([`write_events`]) in the same transaction.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub ticket_id: TicketId,
    pub at: i64,
    pub actor: String,
    pub action: EventKind,
    pub window_id: Option<i64>,
    pub detail: Option<String>,
}

/// Rows per statement: 6 parameters each stays within both engines' limits.
const EVENT_ROWS_PER_STATEMENT: usize = 1000;

/// Writes `rows` in the caller's transaction.
pub async fn write_events(tx: &mut Conn, backend: Backend, rows: &[EventRow]) -> AppResult<()> {
    write_events_then(tx, backend, rows, "").await
}

/// Writes `rows`, then runs `then` (statements without parameters) in the same round trip:
/// the SQLite writer ends a batch with `commit; begin immediate`, one round trip instead of
/// three on a server whose every round trip waits its turn among the HTTP tasks.
pub async fn write_events_then(
    tx: &mut Conn,
    backend: Backend,
    rows: &[EventRow],
    then: &str,
) -> AppResult<()> {
    if backend == Backend::Postgres && then.is_empty() && !rows.is_empty() {
        return write_events_pg(tx, rows).await;
    }
    let chunks: Vec<&[EventRow]> = rows.chunks(EVENT_ROWS_PER_STATEMENT).collect();
    if chunks.is_empty() {
        if !then.is_empty() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(then.to_owned()))
                .execute(&mut *tx)
                .await?;
        }
        return Ok(());
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(backend, i * 6 + 1, 6)))
            .collect();
        let tail = if i == last { then } else { "" };
        let sql = format!(
            "insert into ticket_events (ticket_id, at, actor, action, window_id, detail) values {}{tail}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.ticket_id)
                .bind(r.at)
                .bind(&r.actor)
                .bind(r.action)
                .bind(r.window_id)
                .bind(&r.detail);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// [`write_events`] on PostgreSQL: the rows as one JSON parameter, one statement text for
/// any number of rows ([`crate::db::dialect::pg_records`]).
async fn write_events_pg(tx: &mut Conn, rows: &[EventRow]) -> AppResult<()> {
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "i": r.ticket_id, "t": r.at, "a": r.actor, "k": r.action.as_str(),
                "w": r.window_id, "d": r.detail,
            })
        })
        .collect();
    let json = serde_json::to_string(&json).map_err(|e| AppError::internal(e.to_string()))?;
    let sql = format!(
        "insert into ticket_events (ticket_id, at, actor, action, window_id, detail) \
         select i, t, a, k, w, d from {}",
        crate::db::dialect::pg_records(1, "i bigint, t bigint, a text, k text, w bigint, d text")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A ticket after a change: the ticket as it now is, the row to record and the event to
/// publish after commit.
#[derive(Clone, Debug)]
pub struct Changed {
    pub ticket: Ticket,
    pub row: EventRow,
    pub event: QueueEvent,
}

impl Changed {
    /// The change `action` made to `ticket`; `window` is where it happened (id, code, name
    /// and the name of what is 加挂 there).
    pub fn new(
        ticket: Ticket,
        who: &Who,
        action: EventKind,
        window: Option<(i64, &str, &str, Option<&str>)>,
        detail: Option<String>,
        now: i64,
    ) -> Self {
        let kind = action.published();
        let event = event(&ticket, kind, window.map(|w| (w.1, w.2, w.3)), now);
        let row = EventRow {
            ticket_id: ticket.id,
            at: now,
            actor: who.name.clone(),
            action,
            window_id: window.map(|w| w.0),
            detail,
        };
        Self { ticket, row, event }
    }
}

/// "3" in 通用综合受理3 is read as a window number: 请A023号到通用综合受理3号窗口办理; a
/// window with a special function 加挂 says it too: 请A023号到通用综合受理1号窗口（办不成事反映窗口）办理.
pub fn announcement(number: &str, window_name: &str, added: Option<&str>) -> String {
    let ends_with_digit = window_name
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_digit());
    let added = added.map(|a| format!("（{a}）")).unwrap_or_default();
    if ends_with_digit {
        format!("请{number}号到{window_name}号窗口{added}办理")
    } else if window_name.ends_with("窗口") {
        // 延时错时预约窗口: not 窗口窗口.
        format!("请{number}号到{window_name}{added}办理")
    } else {
        format!("请{number}号到{window_name}窗口{added}办理")
    }
}

fn event(
    t: &Ticket,
    kind: EventKind,
    window: Option<(&str, &str, Option<&str>)>,
    now: i64,
) -> QueueEvent {
    QueueEvent {
        center: t.center_code.clone(),
        kind: kind.as_str().into(),
        ticket: t.number.clone(),
        zone: Some(t.zone.clone()),
        window: window.map(|w| w.0.to_owned()),
        window_name: window.map(|w| w.1.to_owned()),
        say: match (kind, window) {
            (EventKind::Called | EventKind::Recalled, Some((_, name, added))) => {
                Some(announcement(&t.number, name, added))
            }
            _ => None,
        },
        at: now,
    }
}

/// The secret of a ticket's phone page: the issue instant in hex, then 128 random bits.
/// The prefix keeps new tickets at the end of the token's unique index: random tokens put
/// each ticket of a batch on its own index page, and each such page is written to the WAL
/// at every commit (most of the write volume of issuing, measured).
pub fn new_public_token(issued_at: i64) -> String {
    format!("{issued_at:014x}{}", crate::auth::random_hex(16))
}

/// Formats a sequence as the printed number: A023, A1000.
pub fn format_number(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:03}")
}

/// People waiting before `t` in its zone (or for its target window).
pub async fn ahead_of<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    t: &Ticket,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from tickets where center_id = $1 and service_date = $2 and state = 'waiting' \
         and zone_id = $3 and (queue_key < $4 or (queue_key = $4 and id < $5))",
    )
    .bind(t.center_id)
    .bind(&t.service_date)
    .bind(t.zone_id)
    .bind(t.queue_key)
    .bind(t.id)
    .fetch_one(db)
    .await?)
}

/// The class of the advisory locks on a center's queue (PostgreSQL), the center's id the second
/// key; the booking area's locks are 7101 and 7102.
const CENTER_QUEUE_LOCK: i32 = 7201;

/// On PostgreSQL, takes the transaction's lock on the queue of each of `centers`, in id order,
/// before any of their rows is touched. A writer's batch runs several statements, each taking row
/// locks: a zone's waiting count (`queue_waiting`, by the triggers) when a ticket is issued and
/// when one is called, the ticket at a window when it is finished or transferred. Two servers'
/// batches on one center took them in opposite orders (one issued in zone 1 and called in zone 2,
/// the other the reverse; or finished window 1's ticket and then transferred window 2's) and
/// deadlocked until `deadlock_timeout` broke one off. With the center's lock first, they wait for
/// each other at the start instead. Nothing on SQLite, whose one writer runs them one at a time.
pub async fn lock_centers(
    conn: &mut Conn,
    backend: Backend,
    centers: impl IntoIterator<Item = i64>,
) -> Result<(), sqlx::Error> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let mut ids: Vec<i64> = centers.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    // The sorted subquery feeds the aggregate in order, so the locks are taken in id order.
    sqlx::query(
        "select count(pg_advisory_xact_lock($1, cast(c as integer))) from \
         (select cast(value as bigint) as c from json_array_elements_text(cast($2 as json)) order by 1) s",
    )
    .bind(CENTER_QUEUE_LOCK)
    .bind(format!("[{}]", ids.join(",")))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The visitor leaves the queue from their phone.
pub async fn leave(tx: &mut Conn, backend: Backend, token: &str, now: i64) -> AppResult<Changed> {
    let t = by_token(&mut *tx, token).await?;
    // Its row and its zone's count, after the center's lock as the writers take them.
    lock_centers(tx, backend, [t.center_id]).await?;
    if !t.state.allows(TicketAction::Leave) {
        return Err(AppError::Conflict("该号码已叫号或已结束，不能取消".into()));
    }
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update tickets set state = 'left', finished_at = $1 where id = $2 and {}",
        guard(TicketAction::Leave)
    )))
    .bind(now)
    .bind(t.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::Conflict("该号码已叫号或已结束，不能取消".into()));
    }
    let t = by_id(&mut *tx, t.id).await?;
    let who = Who {
        user_id: None,
        name: "visitor".into(),
    };
    let c = Changed::new(t, &who, EventKind::Left, None, None, now);
    write_events(tx, backend, std::slice::from_ref(&c.row)).await?;
    Ok(c)
}

#[cfg(test)]
mod announcement_tests {
    use super::announcement;

    #[test]
    fn a_call_names_the_window_and_what_is_added_to_it() {
        assert_eq!(
            announcement("A023", "通用综合受理3", None),
            "请A023号到通用综合受理3号窗口办理"
        );
        assert_eq!(
            announcement("A023", "通用综合受理1", Some("办不成事反映窗口")),
            "请A023号到通用综合受理1号窗口（办不成事反映窗口）办理"
        );
        assert_eq!(
            announcement("B002", "出件", Some("政务专递窗口")),
            "请B002号到出件窗口（政务专递窗口）办理"
        );
        assert_eq!(
            announcement("C001", "延时错时预约窗口", None),
            "请C001号到延时错时预约窗口办理"
        );
    }
}
