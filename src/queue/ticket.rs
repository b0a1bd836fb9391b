//! Tickets and what happens to them: issue, call, recall, start, finish, no-show, transfer,
//! hold, resume, leave. Each function takes the transaction, checks the ticket's state, writes
//! the change and its `ticket_events` row, and returns the event for the hub.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::hub::QueueEvent;
use crate::{
    db::{Backend, Tx},
    error::{AppError, AppResult},
};

/// Why a visitor goes first (绿色通道 / 关爱专区), or an appointment checked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// 老年人
    Elderly,
    /// 残疾人
    Disabled,
    /// 孕妇
    Pregnant,
    /// 军人
    Military,
    /// 预约签到
    Appointment,
}

impl Priority {
    pub const ALL: [Priority; 5] = [
        Priority::Elderly,
        Priority::Disabled,
        Priority::Pregnant,
        Priority::Military,
        Priority::Appointment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Elderly => "elderly",
            Priority::Disabled => "disabled",
            Priority::Pregnant => "pregnant",
            Priority::Military => "military",
            Priority::Appointment => "appointment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::Elderly => "老年人",
            Priority::Disabled => "残疾人",
            Priority::Pregnant => "孕妇",
            Priority::Military => "军人",
            Priority::Appointment => "预约",
        }
    }
}

/// How a window picks the next ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// First come, first served.
    Fifo,
    /// Priority tickets first, then first come.
    PriorityFirst,
    /// Appointments due within 15 minutes first, then priority, then first come.
    AppointmentsFirst,
}

impl Rule {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fifo" => Some(Rule::Fifo),
            "priority_first" => Some(Rule::PriorityFirst),
            "appointments_first" => Some(Rule::AppointmentsFirst),
            _ => None,
        }
    }
}

/// The three holds halls use (挂起).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// 不持件: the visitor fetches documents and may return to any window without a new ticket.
    Away,
    /// 持件: the visitor returns to this same window.
    WithDocs,
    /// 等待: the clerk serves others meanwhile; the ticket stays with this window.
    Waiting,
}

impl HoldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Away => "away",
            HoldKind::WithDocs => "with_docs",
            HoldKind::Waiting => "waiting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "away" => Some(HoldKind::Away),
            "with_docs" => Some(HoldKind::WithDocs),
            "waiting" => Some(HoldKind::Waiting),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HoldKind::Away => "不持件",
            HoldKind::WithDocs => "持件",
            HoldKind::Waiting => "等待",
        }
    }
}

/// A ticket as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub zone: String,
    pub zone_name: String,
    pub state: String,
    pub priority: Option<String>,
    pub window: Option<String>,
    pub window_name: Option<String>,
    pub hold_kind: Option<String>,
    pub recalls: i64,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub paused_micros: i64,
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

const SELECT: &str = "select t.id, t.number, z.code, z.name, t.state, t.priority, w.code, w.name, t.hold_kind, \
    t.recalls, t.issued_at, t.called_at, t.started_at, t.finished_at, t.paused_micros, t.public_token, \
    t.center_id, c.code, t.zone_id, t.window_id, t.target_window_id, t.service_date, t.queue_key \
    from tickets t join zones z on z.id = t.zone_id join centers c on c.id = t.center_id \
    left join windows w on w.id = t.window_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Ticket, sqlx::Error> {
    Ok(Ticket {
        id: r.try_get(0)?,
        number: r.try_get(1)?,
        zone: r.try_get(2)?,
        zone_name: r.try_get(3)?,
        state: r.try_get(4)?,
        priority: r.try_get(5)?,
        window: r.try_get(6)?,
        window_name: r.try_get(7)?,
        hold_kind: r.try_get(8)?,
        recalls: r.try_get(9)?,
        issued_at: r.try_get(10)?,
        called_at: r.try_get(11)?,
        started_at: r.try_get(12)?,
        finished_at: r.try_get(13)?,
        paused_micros: r.try_get(14)?,
        public_token: r.try_get(15)?,
        center_id: r.try_get(16)?,
        center_code: r.try_get(17)?,
        zone_id: r.try_get(18)?,
        window_id: r.try_get(19)?,
        target_window_id: r.try_get(20)?,
        service_date: r.try_get(21)?,
        queue_key: r.try_get(22)?,
    })
}

/// A ticket by id.
pub async fn by_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    id: i64,
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

async fn record(
    tx: &mut Tx,
    t: &Ticket,
    who: &Who,
    action: &str,
    window_id: Option<i64>,
    detail: Option<String>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "insert into ticket_events (ticket_id, at, actor, action, window_id, detail) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(t.id)
    .bind(now)
    .bind(&who.name)
    .bind(action)
    .bind(window_id)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// "3" in 通用综合受理3 is read as a window number: 请A023号到通用综合受理3号窗口办理.
pub fn announcement(number: &str, window_name: &str) -> String {
    let ends_with_digit = window_name
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_digit());
    if ends_with_digit {
        format!("请{number}号到{window_name}号窗口办理")
    } else {
        format!("请{number}号到{window_name}窗口办理")
    }
}

fn event(t: &Ticket, kind: &str, window: Option<(&str, &str)>, now: i64) -> QueueEvent {
    QueueEvent {
        center: t.center_code.clone(),
        kind: kind.into(),
        ticket: t.number.clone(),
        zone: Some(t.zone.clone()),
        window: window.map(|w| w.0.to_owned()),
        window_name: window.map(|w| w.1.to_owned()),
        say: match (kind, window) {
            ("called" | "recalled", Some((_, name))) => Some(announcement(&t.number, name)),
            _ => None,
        },
        at: now,
    }
}

/// Formats a sequence as the printed number: A023, A1000.
pub fn format_number(prefix: &str, seq: i64) -> String {
    format!("{prefix}{seq:03}")
}

/// Issues a ticket in `zone_id` for `date`; the number comes from the day's counter.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    tx: &mut Tx,
    center_id: i64,
    zone_id: i64,
    prefix: &str,
    date: &str,
    priority: Option<Priority>,
    appointment_at: Option<i64>,
    now: i64,
) -> AppResult<Ticket> {
    let seq: i64 = sqlx::query_scalar(
        "insert into ticket_counters (center_id, service_date, prefix, last_no) values ($1, $2, $3, 1) \
         on conflict (center_id, service_date, prefix) do update set last_no = ticket_counters.last_no + 1 \
         returning last_no",
    )
    .bind(center_id)
    .bind(date)
    .bind(prefix)
    .fetch_one(&mut **tx)
    .await?;
    let number = format_number(prefix, seq);
    let token = crate::auth::random_hex(16);
    let id: i64 = sqlx::query_scalar(
        "insert into tickets (center_id, service_date, zone_id, number, priority, appointment_at, state, queue_key, \
         issued_at, public_token) values ($1, $2, $3, $4, $5, $6, 'waiting', $7, $7, $8) returning id",
    )
    .bind(center_id)
    .bind(date)
    .bind(zone_id)
    .bind(&number)
    .bind(priority.map(Priority::as_str))
    .bind(appointment_at)
    .bind(now)
    .bind(&token)
    .fetch_one(&mut **tx)
    .await?;
    let t = by_id(&mut **tx, id).await?;
    let who = Who {
        user_id: None,
        name: "kiosk".into(),
    };
    record(
        tx,
        &t,
        &who,
        "issued",
        None,
        priority.map(|p| p.as_str().to_owned()),
        now,
    )
    .await?;
    Ok(t)
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

/// The window a clerk acts at.
#[derive(Clone, Debug)]
pub struct Desk {
    pub center_id: i64,
    pub window_id: i64,
    pub code: String,
    pub name: String,
    pub zone_id: Option<i64>,
}

/// The ticket a window is calling or serving now, if any.
pub async fn current_at(tx: &mut Tx, window_id: i64) -> AppResult<Option<Ticket>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} where t.window_id = $1 and t.state in ('called', 'serving') order by t.called_at desc limit 1"
    )))
    .bind(window_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// A head of line: (id, queue_key, is priority, appointment due soon).
type Head = (i64, i64, bool, bool);

/// The ticket the rule puts first for `desk`, read as the heads of the window's lines through
/// partial indexes (no sort of the line): transferred to this window, and per zone served the
/// first priority ticket, the first appointment and the first of all.
async fn next_candidate(
    tx: &mut Tx,
    backend: Backend,
    desk: &Desk,
    rule: Rule,
    date: &str,
    now: i64,
) -> AppResult<Option<i64>> {
    let lock = if backend == Backend::Postgres {
        " for update skip locked"
    } else {
        ""
    };
    let soon = now + 15 * 60_000_000;
    let mut zones: Vec<i64> =
        sqlx::query_scalar("select zone_id from window_zones where window_id = $1")
            .bind(desk.window_id)
            .fetch_all(&mut **tx)
            .await?;
    if let Some(z) = desk.zone_id {
        zones.push(z);
    }
    let mut heads: Vec<Head> = Vec::new();
    let transferred: Option<(i64, i64, Option<String>, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select id, queue_key, priority, appointment_at from tickets where target_window_id = $1 and state = 'waiting' \
         order by queue_key, id limit 1{lock}"
    )))
    .bind(desk.window_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id, key, p, a)) = transferred {
        heads.push((id, key, p.is_some(), a.is_some_and(|a| a <= soon)));
    }
    let base = "from tickets where center_id = $1 and service_date = $2 and zone_id = $3 \
                and state = 'waiting' and target_window_id is null";
    for zone in zones {
        let mut queries = vec![format!(
            "select id, queue_key, priority, appointment_at {base} order by queue_key, id limit 1{lock}"
        )];
        // SQLite has no statistics to prefer the partial index over `tickets_line`, which would
        // walk every waiting ticket of the zone looking for a priority one: name it.
        let hint = |index: &str| match backend {
            Backend::Sqlite => format!(" indexed by {index}"),
            Backend::Postgres => String::new(),
        };
        if rule != Rule::Fifo {
            let base = base.replacen(
                "from tickets",
                &format!("from tickets{}", hint("tickets_next_priority")),
                1,
            );
            queries.push(format!(
                "select id, queue_key, priority, appointment_at {base} and priority is not null order by queue_key, id limit 1{lock}"
            ));
        }
        if rule == Rule::AppointmentsFirst {
            let base = base.replacen(
                "from tickets",
                &format!("from tickets{}", hint("tickets_next_appointment")),
                1,
            );
            queries.push(format!(
                "select id, queue_key, priority, appointment_at {base} and appointment_at is not null and appointment_at <= $4 \
                 order by appointment_at, id limit 1{lock}"
            ));
        }
        for sql in queries {
            let mut q = sqlx::query_as::<_, (i64, i64, Option<String>, Option<i64>)>(
                sqlx::AssertSqlSafe(sql),
            )
            .bind(desk.center_id)
            .bind(date)
            .bind(zone);
            if rule == Rule::AppointmentsFirst {
                q = q.bind(soon);
            }
            if let Some((id, key, p, a)) = q.fetch_optional(&mut **tx).await? {
                heads.push((id, key, p.is_some(), a.is_some_and(|a| a <= soon)));
            }
        }
    }
    let rank = |h: &Head| -> (u8, i64, i64) {
        let first = match rule {
            Rule::Fifo => 0,
            Rule::PriorityFirst => u8::from(!h.2),
            Rule::AppointmentsFirst => {
                if h.3 {
                    0
                } else if h.2 {
                    1
                } else {
                    2
                }
            }
        };
        (first, h.1, h.0)
    };
    Ok(heads.into_iter().min_by_key(rank).map(|h| h.0))
}

/// Calls the next ticket for a window by the center's rule; `None` when nobody waits.
/// On PostgreSQL the candidate row is locked with SKIP LOCKED so concurrent windows (on any
/// server) never take the same ticket; on SQLite the write transaction serialises them.
pub async fn call_next(
    tx: &mut Tx,
    backend: Backend,
    desk: &Desk,
    rule: Rule,
    date: &str,
    who: &Who,
    now: i64,
) -> AppResult<Option<(Ticket, QueueEvent)>> {
    if let Some(cur) = current_at(tx, desk.window_id).await? {
        return Err(AppError::Conflict(format!(
            "{} 号尚未办结：请先“办结”“过号”或“挂起”，再叫下一号",
            cur.number
        )));
    }
    let id = next_candidate(tx, backend, desk, rule, date, now).await?;
    let Some(id) = id else { return Ok(None) };
    let t = take_call(tx, desk, id, who, "called", now).await?;
    Ok(Some(t))
}

/// Moves a waiting or held ticket to "called" at `desk`; refuses if another window took it.
async fn take_call(
    tx: &mut Tx,
    desk: &Desk,
    id: i64,
    who: &Who,
    action: &str,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let done = sqlx::query(
        "update tickets set state = 'called', window_id = $1, called_at = coalesce(called_at, $2), \
         target_window_id = null, hold_kind = null, recalls = 0, served_by = $3, \
         paused_micros = paused_micros + case when paused_since is null then 0 else $2 - paused_since end, \
         paused_since = null \
         where id = $4 and state in ('waiting', 'held')",
    )
    .bind(desk.window_id)
    .bind(now)
    .bind(who.user_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AppError::Conflict("该号码已被其他窗口叫走".into()));
    }
    let t = by_id(&mut **tx, id).await?;
    record(tx, &t, who, action, Some(desk.window_id), None, now).await?;
    let e = event(&t, "called", Some((&desk.code, &desk.name)), now);
    Ok((t, e))
}

/// 指呼: calls a given number — waiting, transferred here, or held (不持件 anywhere; 持件 and
/// 等待 only at the window that held it).
pub async fn call_number(
    tx: &mut Tx,
    desk: &Desk,
    date: &str,
    number: &str,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    if let Some(cur) = current_at(tx, desk.window_id).await? {
        return Err(AppError::Conflict(format!(
            "{} 号尚未办结，请先处理当前号码",
            cur.number
        )));
    }
    let t = by_number(&mut **tx, desk.center_id, date, number).await?;
    match t.state.as_str() {
        "waiting" => {}
        "held" if t.hold_kind.as_deref() == Some("away") => {}
        "held"
            if t.window_id == Some(desk.window_id)
                || t.target_window_id == Some(desk.window_id) => {}
        "held" => {
            return Err(AppError::Conflict(format!(
                "{} 号挂起在其他窗口，须回原窗口办理",
                t.number
            )));
        }
        "called" | "serving" => {
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
    let action = if t.state == "held" {
        "resumed"
    } else {
        "called_by_number"
    };
    take_call(tx, desk, t.id, who, action, now).await
}

/// The ticket after a change at `desk`: its `ticket_events` row written and its event made.
async fn recorded(
    tx: &mut Tx,
    desk: &Desk,
    who: &Who,
    id: i64,
    action: &str,
    detail: Option<String>,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = by_id(&mut **tx, id).await?;
    record(tx, &t, who, action, Some(desk.window_id), detail, now).await?;
    let e = event(&t, action, Some((&desk.code, &desk.name)), now);
    Ok((t, e))
}

/// The ticket this window is calling or serving, or a Chinese refusal.
async fn current_or_refuse(tx: &mut Tx, desk: &Desk) -> AppResult<Ticket> {
    current_at(tx, desk.window_id)
        .await?
        .ok_or_else(|| AppError::Conflict("本窗口当前没有正在叫号或办理的号码".into()))
}

/// Calls the current ticket again; past the center's limit it becomes a no-show.
pub async fn recall(
    tx: &mut Tx,
    desk: &Desk,
    auto_no_show_after: i64,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = current_or_refuse(tx, desk).await?;
    if t.state != "called" {
        return Err(AppError::Conflict(format!(
            "{} 号已在办理中，无需重呼",
            t.number
        )));
    }
    if auto_no_show_after > 0 && t.recalls >= auto_no_show_after {
        return no_show(tx, desk, who, now, true).await;
    }
    sqlx::query("update tickets set recalls = recalls + 1 where id = $1")
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
    recorded(tx, desk, who, t.id, "recalled", None, now).await
}

/// The visitor has arrived: service starts (the service timer runs from here).
pub async fn start(
    tx: &mut Tx,
    desk: &Desk,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = current_or_refuse(tx, desk).await?;
    if t.state != "called" {
        return Err(AppError::Conflict(format!("{} 号已在办理中", t.number)));
    }
    sqlx::query("update tickets set state = 'serving', started_at = $1 where id = $2")
        .bind(now)
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
    recorded(tx, desk, who, t.id, "started", None, now).await
}

/// Service done (a called ticket finished without "start" counts from its call).
pub async fn finish(
    tx: &mut Tx,
    desk: &Desk,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = current_or_refuse(tx, desk).await?;
    sqlx::query("update tickets set state = 'done', finished_at = $1, started_at = coalesce(started_at, called_at) where id = $2")
        .bind(now)
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
    recorded(tx, desk, who, t.id, "finished", None, now).await
}

/// 过号: the visitor did not come.
pub async fn no_show(
    tx: &mut Tx,
    desk: &Desk,
    who: &Who,
    now: i64,
    automatic: bool,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = current_or_refuse(tx, desk).await?;
    if t.state != "called" {
        return Err(AppError::Conflict(format!(
            "{} 号已在办理中，不能过号",
            t.number
        )));
    }
    sqlx::query("update tickets set state = 'no_show', finished_at = $1 where id = $2")
        .bind(now)
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
    let detail = automatic.then(|| "多次重呼未到，自动过号".to_owned());
    recorded(tx, desk, who, t.id, "no_show", detail, now).await
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

/// 首问负责: hands the visitor to another window or zone, keeping their place in line.
pub async fn transfer(
    tx: &mut Tx,
    desk: &Desk,
    to: &TransferTo,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
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
    sqlx::query(
        "update tickets set state = 'waiting', window_id = null, target_window_id = $1, zone_id = $2, \
         called_at = null, started_at = null, recalls = 0 where id = $3",
    )
    .bind(target)
    .bind(zone_id)
    .bind(t.id)
    .execute(&mut **tx)
    .await?;
    recorded(tx, desk, who, t.id, "transferred", Some(detail), now).await
}

/// 挂起: puts the current ticket on hold; its paused time does not count against the clerk.
pub async fn hold(
    tx: &mut Tx,
    desk: &Desk,
    kind: HoldKind,
    who: &Who,
    now: i64,
) -> AppResult<(Ticket, QueueEvent)> {
    let t = current_or_refuse(tx, desk).await?;
    // 不持件: free for any window; the others stay with this window.
    let target = if kind == HoldKind::Away {
        None
    } else {
        Some(desk.window_id)
    };
    sqlx::query(
        "update tickets set state = 'held', hold_kind = $1, window_id = $2, target_window_id = $2, \
         paused_since = $3, started_at = coalesce(started_at, called_at) where id = $4",
    )
    .bind(kind.as_str())
    .bind(target)
    .bind(now)
    .bind(t.id)
    .execute(&mut **tx)
    .await?;
    recorded(tx, desk, who, t.id, "held", Some(kind.as_str().into()), now).await
}

/// The visitor leaves the queue from their phone.
pub async fn leave(tx: &mut Tx, token: &str, now: i64) -> AppResult<(Ticket, QueueEvent)> {
    let t = by_token(&mut **tx, token).await?;
    if !matches!(t.state.as_str(), "waiting" | "held") {
        return Err(AppError::Conflict("该号码已叫号或已结束，不能取消".into()));
    }
    sqlx::query("update tickets set state = 'left', finished_at = $1 where id = $2")
        .bind(now)
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
    let t = by_id(&mut **tx, t.id).await?;
    let who = Who {
        user_id: None,
        name: "visitor".into(),
    };
    record(tx, &t, &who, "left", None, None, now).await?;
    Ok((t.clone(), event(&t, "left", None, now)))
}
