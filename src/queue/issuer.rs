//! Issuing tickets as a batch (取号). The queue writer ([`super::writer`]) takes every kiosk
//! request waiting and issues them together inside its transaction: the numbers with one
//! counter upsert for all prefixes, the places in line from the waiting counts the triggers
//! keep (`queue_waiting`, migration 0008), the tickets with one multi-row insert. The answer
//! goes out after the commit, so every acknowledged ticket is on disk (SQLite
//! `synchronous=FULL`, PostgreSQL `synchronous_commit=on`) while one flush serves the batch.

use std::collections::HashMap;

use sqlx::Row;

use super::{
    hub::QueueEvent,
    ticket::{EventKind, EventRow, Priority, format_number, new_public_token},
};
use crate::{
    db::{Backend, Conn, dialect, placeholders},
    error::{AppError, AppResult},
    ids::TicketId,
};

/// Largest batch: keeps statements within both engines' parameter limits.
pub(crate) const MAX_BATCH: usize = 512;

/// One kiosk's request, already checked against the center's zones.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    pub center_id: i64,
    pub center_code: String,
    pub zone_id: i64,
    pub zone_code: String,
    pub prefix: String,
    pub priority: Option<Priority>,
    /// A checked-in appointment's booked time.
    pub appointment_at: Option<i64>,
}

/// A ticket the writer committed.
#[derive(Clone, Debug)]
pub struct IssuedTicket {
    pub id: i64,
    pub number: String,
    pub public_token: String,
    pub issued_at: i64,
    /// Waiting in the same zone before this ticket.
    pub ahead: i64,
    pub service_date: String,
}

/// What issuing a batch made: the tickets (in the order asked), their `ticket_events` rows
/// and the events to publish after commit.
pub(crate) struct Issued {
    pub tickets: Vec<IssuedTicket>,
    pub rows: Vec<EventRow>,
    pub events: Vec<QueueEvent>,
}

/// Issues `reqs` (at most [`MAX_BATCH`]) for `date` in the caller's transaction; the caller
/// writes the rows and commits.
pub(crate) async fn issue_batch(
    conn: &mut Conn,
    backend: Backend,
    date: &str,
    now: i64,
    reqs: &[IssueRequest],
) -> AppResult<Issued> {
    let first = allocate_numbers(conn, backend, date, reqs).await?;
    let mut ahead = waiting_now(conn, backend, date, reqs).await?;

    let mut next = first;
    let mut tickets = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let seq = next
            .get_mut(&(r.center_id, r.prefix.clone()))
            .ok_or_else(|| AppError::internal("ticket number not allocated"))?;
        let number = format_number(&r.prefix, *seq);
        *seq += 1;
        let waiting = ahead.entry(r.zone_id).or_insert(0);
        tickets.push(IssuedTicket {
            id: 0,
            number,
            public_token: new_public_token(now + i as i64),
            // Distinct instants keep the batch's order in line.
            issued_at: now + i as i64,
            ahead: *waiting,
            service_date: date.to_owned(),
        });
        *waiting += 1;
    }
    insert_tickets(conn, backend, reqs, &mut tickets).await?;

    let rows = reqs
        .iter()
        .zip(&tickets)
        .map(|(r, t)| EventRow {
            ticket_id: TicketId(t.id),
            at: t.issued_at,
            actor: "kiosk".into(),
            action: EventKind::Issued,
            window_id: None,
            detail: r.priority.map(|p| p.as_str().to_owned()),
        })
        .collect();
    // One "issued" event per center and zone in the batch: displays re-read their counts.
    let mut events: Vec<QueueEvent> = Vec::new();
    for (r, t) in reqs.iter().zip(&tickets) {
        match events
            .iter_mut()
            .find(|e| e.center == r.center_code && e.zone.as_deref() == Some(&r.zone_code))
        {
            Some(e) => e.ticket = t.number.clone(),
            None => events.push(QueueEvent {
                center: r.center_code.clone(),
                kind: EventKind::Issued.as_str().into(),
                ticket: t.number.clone(),
                zone: Some(r.zone_code.clone()),
                window: None,
                window_name: None,
                say: None,
                at: now,
            }),
        }
    }
    Ok(Issued {
        tickets,
        rows,
        events,
    })
}

/// The first number of each (center, prefix) in the batch: one upsert hands out a range per
/// prefix, never `max()+1`.
async fn allocate_numbers(
    conn: &mut Conn,
    backend: Backend,
    date: &str,
    reqs: &[IssueRequest],
) -> AppResult<HashMap<(i64, String), i64>> {
    let mut wanted: Vec<((i64, String), i64)> = Vec::new();
    for r in reqs {
        match wanted
            .iter_mut()
            .find(|(k, _)| k.0 == r.center_id && k.1 == r.prefix)
        {
            Some((_, n)) => *n += 1,
            None => wanted.push(((r.center_id, r.prefix.clone()), 1)),
        }
    }
    // Counter rows are locked in one order, so that two writers (two servers on one
    // PostgreSQL) issuing for the same prefixes wait for each other instead of deadlocking.
    wanted.sort_unstable();
    let values: Vec<String> = (0..wanted.len())
        .map(|i| format!("({})", placeholders(backend, i * 4 + 1, 4)))
        .collect();
    let sql = format!(
        "insert into ticket_counters (center_id, service_date, prefix, last_no) values {} \
         on conflict (center_id, service_date, prefix) do update set last_no = ticket_counters.last_no + excluded.last_no \
         returning center_id, prefix, last_no",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for ((center, prefix), n) in &wanted {
        q = q.bind(*center).bind(date).bind(prefix).bind(*n);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut first = HashMap::with_capacity(wanted.len());
    for r in rows {
        let key: (i64, String) = (r.try_get("center_id")?, r.try_get("prefix")?);
        let last: i64 = r.try_get("last_no")?;
        let n = wanted
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        first.insert(key, last - n + 1);
    }
    Ok(first)
}

/// Tickets waiting now in each zone of the batch (`queue_waiting`, kept by triggers).
async fn waiting_now(
    conn: &mut Conn,
    backend: Backend,
    date: &str,
    reqs: &[IssueRequest],
) -> AppResult<HashMap<i64, i64>> {
    let mut zones: Vec<i64> = reqs.iter().map(|r| r.zone_id).collect();
    zones.sort_unstable();
    zones.dedup();
    let sql = format!(
        "select zone_id, waiting from queue_waiting where service_date = {} and zone_id in ({})",
        placeholders(backend, 1, 1),
        placeholders(backend, 2, zones.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date);
    for z in &zones {
        q = q.bind(*z);
    }
    let mut waiting = HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        waiting.insert(r.try_get("zone_id")?, r.try_get("waiting")?);
    }
    Ok(waiting)
}

/// [`insert_tickets`] on PostgreSQL: the rows as one JSON parameter, one statement text for
/// every batch size ([`dialect::pg_records`]).
async fn insert_tickets_pg(
    conn: &mut Conn,
    reqs: &[IssueRequest],
    tickets: &mut [IssuedTicket],
) -> AppResult<()> {
    let rows: Vec<serde_json::Value> = reqs
        .iter()
        .zip(tickets.iter())
        .map(|(r, t)| {
            serde_json::json!({
                "c": r.center_id, "d": t.service_date, "z": r.zone_id, "n": t.number,
                "p": r.priority.map(Priority::as_str), "a": r.appointment_at,
                "t": t.issued_at, "k": t.public_token,
            })
        })
        .collect();
    let sql = format!(
        "insert into tickets (center_id, service_date, zone_id, number, priority, appointment_at, \
         state, queue_key, issued_at, public_token) \
         select c, d, z, n, p, a, 'waiting', t, t, k from {} returning public_token, id",
        dialect::pg_records(
            1,
            "c bigint, d text, z bigint, n text, p text, a bigint, t bigint, k text"
        )
    );
    let json = serde_json::to_string(&rows).map_err(|e| AppError::internal(e.to_string()))?;
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(tickets.len());
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .fetch_all(&mut *conn)
        .await?
    {
        ids.insert(r.try_get("public_token")?, r.try_get("id")?);
    }
    for t in tickets.iter_mut() {
        t.id = *ids
            .get(&t.public_token)
            .ok_or_else(|| AppError::internal("issued ticket not found"))?;
    }
    Ok(())
}

/// Inserts the tickets with one statement and sets their ids. On SQLite, where this writer
/// holds the write lock, the ids are given here (after the largest): a statement returning
/// hundreds of rows hands them one by one through a bounded channel from SQLite's thread and
/// waits whenever it is full. On PostgreSQL, where servers share the sequence, they are
/// returned and matched by the tickets' secret tokens (a multi-row insert does not promise the
/// order of what it returns).
async fn insert_tickets(
    conn: &mut Conn,
    backend: Backend,
    reqs: &[IssueRequest],
    tickets: &mut [IssuedTicket],
) -> AppResult<()> {
    if backend == Backend::Sqlite {
        let last: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from tickets")
            .fetch_one(&mut *conn)
            .await?;
        for (i, t) in tickets.iter_mut().enumerate() {
            t.id = last + 1 + i as i64;
        }
    }
    if backend == Backend::Postgres {
        return insert_tickets_pg(conn, reqs, tickets).await;
    }
    let columns = if backend == Backend::Sqlite { 10 } else { 9 };
    let values: Vec<String> = (0..reqs.len())
        .map(|i| {
            let m = placeholders(backend, i * columns + 1, columns);
            let m: Vec<&str> = m.split(", ").collect();
            let (id, m) = if backend == Backend::Sqlite {
                (format!("{}, ", m[0]), &m[1..])
            } else {
                (String::new(), &m[..])
            };
            format!(
                "({id}{}, {}, {}, {}, {}, {}, 'waiting', {}, {}, {})",
                m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
            )
        })
        .collect();
    let id_column = if backend == Backend::Sqlite {
        "id, "
    } else {
        ""
    };
    let returning = if backend == Backend::Sqlite {
        ""
    } else {
        " returning public_token, id"
    };
    let sql = format!(
        "insert into tickets ({id_column}center_id, service_date, zone_id, number, priority, appointment_at, \
         state, queue_key, issued_at, public_token) values {}{returning}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (r, t) in reqs.iter().zip(tickets.iter()) {
        if backend == Backend::Sqlite {
            q = q.bind(t.id);
        }
        q = q
            .bind(r.center_id)
            .bind(&t.service_date)
            .bind(r.zone_id)
            .bind(&t.number)
            .bind(r.priority.map(Priority::as_str))
            .bind(r.appointment_at)
            .bind(t.issued_at)
            .bind(t.issued_at)
            .bind(&t.public_token);
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        ids.insert(r.try_get("public_token")?, r.try_get("id")?);
    }
    if backend == Backend::Postgres {
        for t in tickets.iter_mut() {
            t.id = *ids
                .get(&t.public_token)
                .ok_or_else(|| AppError::internal("issued ticket not found"))?;
        }
    }
    Ok(())
}
