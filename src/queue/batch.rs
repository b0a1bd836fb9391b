//! A batch of window actions run as sets: all finishes with one statement, all calls of the
//! next visitor with one read and one write, whatever the number of windows. The writer
//! ([`super::writer`]) waits a round trip to the database for each statement among the
//! HTTP work of a busy server, so the statements of a batch, not its rows, bound how many
//! actions a second the hall can take.
//!
//! The batch is cut into segments in which each window acts once; within a segment the
//! windows' actions are independent requests, so any order is a valid one: finishes first,
//! then the rarer actions one by one (`super::actions`), then the calls. Call-next reads, for
//! every zone the calling windows serve, the first K of each line it ranks by (all, priority,
//! appointments due soon), where K is the number of calling windows that serve the zone —
//! enough, since each window before another takes one ticket at most — plus what is
//! transferred to those windows and what they hold now; it then gives each window, in order,
//! the best ticket left by its rule, and moves them all to "called" with one update.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::state::{StateMachine, in_list};

use super::{
    actions::{self, Desk, nothing_current, refuse_busy, ticket_at},
    state::{TicketAction, TicketState, guard, guard_on},
    ticket::{Changed, EventKind, Rule, SELECT, Ticket, Who, from_row},
    writer::Step,
};
use crate::{
    auth::{Credential, valid_credentials},
    db::{Backend, Conn, dialect},
    error::{AppError, AppResult},
    ids::TicketId,
};

/// One clerk's action, with what the request resolved.
pub(super) struct Action<'a> {
    pub desk: &'a Desk,
    pub step: &'a Step,
    pub who: &'a Who,
    /// Checked again here: a token revoked or a session ended since the request acts no more.
    pub credential: &'a Credential,
    pub date: &'a str,
}

pub(super) type Outcome = AppResult<Option<Changed>>;

/// Appointments due within this long are "due soon" for the appointments-first rule.
const SOON_MICROS: i64 = 15 * 60_000_000;

fn json_ids(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// What a batch of actions did: each action's outcome, in the order of the actions, and the
/// order in which they ran (indexes into `outcomes`). A segment runs its finishes, then its
/// other actions, then its calls, so a transfer placed after a call in the batch may run
/// first; its change is recorded and announced in the order it ran.
pub(super) struct Ran {
    pub outcomes: Vec<Outcome>,
    pub order: Vec<usize>,
}

/// Runs `actions` and returns each one's outcome and the order they ran in. `Err` only when
/// the database failed; the caller then rolls back.
pub(super) async fn run(
    conn: &mut Conn,
    backend: Backend,
    actions: &[Action<'_>],
    now: i64,
) -> AppResult<Ran> {
    let mut order = Vec::with_capacity(actions.len());
    let mut outcomes: Vec<Option<Outcome>> = (0..actions.len()).map(|_| None).collect();
    let credentials: Vec<&Credential> = actions.iter().map(|a| a.credential).collect();
    let valid = valid_credentials(conn, backend, &credentials, now).await?;
    for (o, a) in outcomes.iter_mut().zip(actions) {
        if !valid.contains(a.credential) {
            *o = Some(Err(AppError::Unauthorized));
        }
    }
    let mut start = 0;
    while start < actions.len() {
        let mut windows = HashSet::new();
        let end = (start..actions.len())
            .find(|&i| !windows.insert(actions[i].desk.window_id))
            .unwrap_or(actions.len());
        let segment: Vec<usize> = (start..end).filter(|&i| outcomes[i].is_none()).collect();
        let of = |f: fn(&Step) -> bool| -> Vec<usize> {
            segment
                .iter()
                .copied()
                .filter(|&i| f(actions[i].step))
                .collect()
        };
        let finishes = of(|s| matches!(s, Step::Finish));
        let calls = of(|s| matches!(s, Step::CallNext(_)));
        let others = of(|s| !matches!(s, Step::Finish | Step::CallNext(_)));
        if !finishes.is_empty() {
            let picked: Vec<&Action> = finishes.iter().map(|&i| &actions[i]).collect();
            for (i, o) in finishes
                .iter()
                .zip(finish_all(conn, backend, &picked, now).await?)
            {
                outcomes[*i] = Some(o);
            }
            order.extend(&finishes);
        }
        for &i in &others {
            let o = run_one(conn, backend, &actions[i], now).await;
            if let Err(e @ AppError::Internal(_)) = o {
                return Err(e);
            }
            outcomes[i] = Some(o);
            order.push(i);
        }
        if !calls.is_empty() {
            let picked: Vec<&Action> = calls.iter().map(|&i| &actions[i]).collect();
            for (i, o) in calls
                .iter()
                .zip(call_next_all(conn, backend, &picked, now).await?)
            {
                outcomes[*i] = Some(o);
            }
            order.extend(&calls);
        }
        start = end;
    }
    Ok(Ran {
        outcomes: outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Ok(None)))
            .collect(),
        order,
    })
}

/// One action by itself ([`super::actions`]).
async fn run_one(conn: &mut Conn, backend: Backend, a: &Action<'_>, now: i64) -> Outcome {
    let (desk, who, date) = (a.desk, a.who, a.date);
    Ok(match a.step {
        Step::CallNext(_) => {
            let mut one = call_next_all(conn, backend, &[a], now).await?;
            return one.pop().unwrap_or(Ok(None));
        }
        Step::CallNumber(n) => Some(actions::call_number(conn, desk, date, n, who, now).await?),
        Step::Recall(limit) => Some(actions::recall(conn, desk, *limit, who, now).await?),
        Step::Start => Some(actions::start(conn, desk, who, now).await?),
        Step::Finish => {
            let mut one = finish_all(conn, backend, &[a], now).await?;
            return one.pop().unwrap_or(Ok(None));
        }
        Step::NoShow => Some(actions::no_show(conn, desk, who, now).await?),
        Step::Transfer(to) => Some(actions::transfer(conn, desk, to, who, now).await?),
        Step::Hold(kind) => Some(actions::hold(conn, desk, *kind, who, now).await?),
    })
}

/// Finishes the ticket each window holds, one statement for all windows. The acceptance's
/// limit (its window's, 40 minutes at a joint 不动产+税务 window) and the whole minutes it ran
/// past it are stored with the ticket in the same statement (seed 001 (五)).
async fn finish_all(
    conn: &mut Conn,
    backend: Backend,
    finishes: &[&Action<'_>],
    now: i64,
) -> AppResult<Vec<Outcome>> {
    let limit = crate::hall::windows::LIMIT_SQL;
    let window = "from windows w where w.id = tickets.window_id";
    let served = "($1 - coalesce(tickets.started_at, tickets.called_at) - tickets.paused_micros)";
    // In µs as bigint: 40 minutes of int4 minutes times 60,000,000 would overflow int4.
    let limit_us = format!("({limit}) * cast(60000000 as bigint)");
    let sql = format!(
        "update tickets set state = 'done', finished_at = $1, started_at = coalesce(started_at, called_at), \
         limit_minutes = (select {limit} {window}), \
         overrun_minutes = (select case when {served} > {limit_us} \
           then ({served} - {limit_us} + 59999999) / 60000000 else 0 end {window}) \
         where {} and window_id in {} returning {}",
        guard(TicketAction::Finish),
        dialect::id_set(backend, 2),
        actions::ROW
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(json_ids(finishes.iter().map(|a| a.desk.window_id)))
        .fetch_all(&mut *conn)
        .await?;
    let mut by_window: HashMap<i64, sqlx::any::AnyRow> = HashMap::new();
    for r in rows {
        by_window.insert(r.try_get::<Option<i64>, _>("window_id")?.unwrap_or(0), r);
    }
    let mut out = Vec::with_capacity(finishes.len());
    for a in finishes {
        out.push(match by_window.get(&a.desk.window_id) {
            Some(r) => {
                let t = ticket_at(conn, a.desk, r).await?;
                Ok(Some(Changed::new(
                    t,
                    a.who,
                    EventKind::Finished,
                    a.desk.at(),
                    None,
                    now,
                )))
            }
            None => Err(nothing_current()),
        });
    }
    Ok(out)
}

/// The lines of one zone a batch reads, and how deep.
struct ZoneLines {
    center_id: i64,
    date: String,
    zone_id: i64,
    depth: i64,
    priority: bool,
    appointments: bool,
}

/// Calls the next visitor at each window, one read and one write for all of them.
async fn call_next_all(
    conn: &mut Conn,
    backend: Backend,
    calls: &[&Action<'_>],
    now: i64,
) -> AppResult<Vec<Outcome>> {
    let soon = now + SOON_MICROS;
    let rule_of = |a: &Action| match a.step {
        Step::CallNext(r) => *r,
        _ => Rule::PriorityFirst,
    };
    // Every zone the calling windows serve, as deep as the windows serving it.
    let mut zones: Vec<ZoneLines> = Vec::new();
    for a in calls {
        let rule = rule_of(a);
        for &z in &a.desk.zones {
            let found = zones
                .iter_mut()
                .find(|l| l.zone_id == z && l.center_id == a.desk.center_id && l.date == a.date);
            let l = match found {
                Some(l) => l,
                None => {
                    zones.push(ZoneLines {
                        center_id: a.desk.center_id,
                        date: a.date.to_owned(),
                        zone_id: z,
                        depth: 0,
                        priority: false,
                        appointments: false,
                    });
                    zones.last_mut().expect("just pushed")
                }
            };
            l.depth += 1;
            l.priority |= rule != Rule::Fifo;
            l.appointments |= rule == Rule::AppointmentsFirst;
        }
    }
    let found = read_candidates(conn, backend, calls, &zones, soon).await?;
    let window_ids: HashSet<i64> = calls.iter().map(|a| a.desk.window_id).collect();
    let busy: HashMap<i64, &Ticket> = found
        .iter()
        .filter(|t| t.state.at_window())
        .filter_map(|t| {
            t.window_id
                .filter(|w| window_ids.contains(w))
                .map(|w| (w, t))
        })
        .collect();
    let mut free: Vec<&Ticket> = found
        .iter()
        .filter(|t| t.state.allows(TicketAction::CallNext))
        .collect();
    // Each window in turn takes the best ticket left by its rule.
    let mut picks: Vec<Option<TicketId>> = Vec::with_capacity(calls.len());
    let mut out: Vec<Option<Outcome>> = Vec::with_capacity(calls.len());
    for a in calls {
        if let Some(cur) = busy.get(&a.desk.window_id) {
            picks.push(None);
            out.push(Some(Err(refuse_busy(&cur.number))));
            continue;
        }
        let rule = rule_of(a);
        let d = a.desk;
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, t)| match t.target_window_id {
                Some(w) => w == d.window_id,
                None => {
                    t.center_id == d.center_id
                        && t.service_date == a.date
                        && d.zones.contains(&t.zone_id)
                }
            })
            .min_by_key(|(_, t)| rank(rule, t, soon))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                picks.push(Some(free.swap_remove(i).id));
                out.push(None);
            }
            None => {
                picks.push(None);
                out.push(Some(Ok(None)));
            }
        }
    }
    let taken = take_all(conn, backend, calls, &picks, now).await?;
    let mut result = Vec::with_capacity(calls.len());
    for ((a, pick), o) in calls.iter().zip(&picks).zip(out) {
        result.push(match (o, pick) {
            (Some(o), _) => o,
            (None, Some(id)) => match taken.get(id) {
                Some(r) => {
                    let t = ticket_at(conn, a.desk, r).await?;
                    Ok(Some(Changed::new(
                        t,
                        a.who,
                        EventKind::Called,
                        a.desk.at(),
                        None,
                        now,
                    )))
                }
                // Taken meanwhile by a window of another server (PostgreSQL).
                None => Err(AppError::Conflict("该号码已被其他窗口叫走".into())),
            },
            (None, None) => Ok(None),
        });
    }
    Ok(result)
}

/// The rule's order: lower first, then by place in line.
fn rank(rule: Rule, t: &Ticket, soon: i64) -> (u8, i64, i64) {
    let priority = t.priority.is_some();
    let due = t.appointment_at.is_some_and(|a| a <= soon);
    let first = match rule {
        Rule::Fifo => 0,
        Rule::PriorityFirst => u8::from(!priority),
        Rule::AppointmentsFirst => {
            if due {
                0
            } else if priority {
                1
            } else {
                2
            }
        }
    };
    (first, t.queue_key, t.id.get())
}

/// In one statement: the first `depth` of each line of each zone, what is transferred to the
/// calling windows, and what they hold now. On PostgreSQL the heads of the lines are locked
/// with SKIP LOCKED, so the windows of another server take others.
async fn read_candidates(
    conn: &mut Conn,
    backend: Backend,
    calls: &[&Action<'_>],
    zones: &[ZoneLines],
    soon: i64,
) -> AppResult<Vec<Ticket>> {
    let lock = dialect::skip_locked(backend);
    // SQLite has no statistics to prefer the partial indexes: name them.
    let indexed = |index: &str| dialect::indexed_by(backend, index);
    let waiting = guard(TicketAction::CallNext);
    // $1 the calling windows, $2 the due-soon instant, then per zone: center, date, zone, depth.
    let mut heads: Vec<String> = Vec::new();
    for (i, l) in zones.iter().enumerate() {
        let p = 3 + i * 4;
        let line = format!(
            "where center_id = ${} and service_date = ${} and zone_id = ${} and {waiting} \
             and target_window_id is null",
            p,
            p + 1,
            p + 2
        );
        let depth = format!("${}", p + 3);
        heads.push(format!(
            "select id from tickets{} {line} order by queue_key, id limit {depth}{lock}",
            indexed("tickets_next_any")
        ));
        if l.priority {
            heads.push(format!(
                "select id from tickets{} {line} and priority is not null order by queue_key, id limit {depth}{lock}",
                indexed("tickets_next_priority")
            ));
        }
        if l.appointments {
            heads.push(format!(
                "select id from tickets{} {line} and appointment_at is not null and appointment_at <= $2 \
                 order by appointment_at, id limit {depth}{lock}",
                indexed("tickets_next_appointment")
            ));
        }
    }
    let with: Vec<String> = heads
        .iter()
        .enumerate()
        .map(|(i, sql)| format!("h{i} as ({sql})"))
        .collect();
    let mut ids: Vec<String> = (0..heads.len())
        .map(|i| format!("select id from h{i}"))
        .collect();
    let windows = dialect::id_set(backend, 1);
    ids.push(format!(
        "select id from tickets where {waiting} and target_window_id in {windows}"
    ));
    ids.push(format!(
        "select id from tickets where {} and window_id in {windows}",
        in_list("state", TicketState::AT_WINDOW)
    ));
    let with = if with.is_empty() {
        String::new()
    } else {
        format!("with {} ", with.join(", "))
    };
    let sql = format!("{with}{SELECT} where t.id in ({})", ids.join(" union all "));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json_ids(calls.iter().map(|a| a.desk.window_id)))
        .bind(soon);
    for l in zones {
        q = q
            .bind(l.center_id)
            .bind(l.date.clone())
            .bind(l.zone_id)
            .bind(l.depth);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Moves every picked ticket to "called" at its window with one update; the rows returned,
/// by ticket id.
async fn take_all(
    conn: &mut Conn,
    backend: Backend,
    calls: &[&Action<'_>],
    picks: &[Option<TicketId>],
    now: i64,
) -> AppResult<HashMap<TicketId, sqlx::any::AnyRow>> {
    let assignments: Vec<String> = calls
        .iter()
        .zip(picks)
        .filter_map(|(a, p)| {
            p.map(|id| {
                let user = a
                    .who
                    .user_id
                    .map_or_else(|| "null".to_owned(), |u| u.to_string());
                format!("[{id},{},{user}]", a.desk.window_id)
            })
        })
        .collect();
    if assignments.is_empty() {
        return Ok(HashMap::new());
    }
    let picked = dialect::int_rows(backend, 2, &["t", "w", "u"]);
    let sql = format!(
        "update tickets set state = 'called', window_id = a.w, called_at = coalesce(called_at, $1), \
         target_window_id = null, hold_kind = null, recalls = 0, served_by = a.u, \
         paused_micros = paused_micros + case when paused_since is null then 0 else $1 - paused_since end, \
         paused_since = null \
         from {picked} a where tickets.id = a.t and {} returning {}",
        guard_on("tickets.state", TicketAction::CallNext),
        actions::ROW
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(format!("[{}]", assignments.join(",")))
        .fetch_all(&mut *conn)
        .await?;
    let mut by_id = HashMap::with_capacity(rows.len());
    for r in rows {
        by_id.insert(r.try_get::<TicketId, _>("id")?, r);
    }
    Ok(by_id)
}
