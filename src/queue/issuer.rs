//! Group commit for issuing tickets. Kiosks' requests queue on a channel; one writer takes
//! everything that is waiting (up to a batch), allocates the numbers with one counter update
//! per zone prefix, inserts the tickets and their events with one statement each, and commits
//! once — so every acknowledged ticket is on disk (SQLite `synchronous=FULL`, PostgreSQL
//! `synchronous_commit=on`) while one flush serves a whole batch.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::{
    hub::{self, EventHub, QueueEvent},
    ticket::{EventRow, Priority, format_number, write_events},
};
use crate::{
    clock::Clock,
    db::{Db, placeholders},
    error::{AppError, AppResult},
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

type Job = (IssueRequest, oneshot::Sender<AppResult<IssuedTicket>>);

/// Handle to the writer task.
#[derive(Clone, Debug)]
pub struct Issuer {
    tx: mpsc::Sender<Job>,
}

impl Issuer {
    /// Starts the writer on the current runtime.
    pub fn start(db: Db, clock: Clock, hub: EventHub) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(8192);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let requests: Vec<IssueRequest> = batch.iter().map(|(r, _)| r.clone()).collect();
                match write_batch(&db, &clock, &requests).await {
                    Ok((tickets, events)) => {
                        hub::after_commit(&hub, db.backend(), events);
                        for ((_, reply), t) in batch.into_iter().zip(tickets) {
                            let _ = reply.send(Ok(t));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, size = requests.len(), "issuing a batch of tickets failed");
                        for (_, reply) in batch {
                            let _ =
                                reply.send(Err(AppError::Internal(format!("issue batch: {e}"))));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Issues one ticket; returns once it is committed.
    pub async fn issue(&self, r: IssueRequest) -> AppResult<IssuedTicket> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((r, reply))
            .await
            .map_err(|_| AppError::Internal("issuer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("issuer dropped a request".into()))?
    }
}

/// Writes one batch in one transaction (the bench fills lines with it too).
pub(crate) async fn write_batch(
    db: &Db,
    clock: &Clock,
    reqs: &[IssueRequest],
) -> AppResult<(Vec<IssuedTicket>, Vec<QueueEvent>)> {
    let now = clock.now_micros();
    let date = crate::timetable::today_at(clock).to_string();
    let mut tx = db.begin().await?;

    // Numbers: one counter update per (center, prefix), handing out a range.
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
    let mut next: HashMap<(i64, String), i64> = HashMap::new();
    for ((center, prefix), n) in &wanted {
        let last: i64 = sqlx::query_scalar(
            "insert into ticket_counters (center_id, service_date, prefix, last_no) values ($1, $2, $3, $4) \
             on conflict (center_id, service_date, prefix) do update set last_no = ticket_counters.last_no + $4 \
             returning last_no",
        )
        .bind(center)
        .bind(&date)
        .bind(prefix)
        .bind(n)
        .fetch_one(&mut *tx)
        .await?;
        next.insert((*center, prefix.clone()), last - n + 1);
    }

    // Places in line: those waiting in each zone now, plus the batch before each ticket.
    let mut waiting: HashMap<i64, i64> = HashMap::new();
    for r in reqs {
        if let std::collections::hash_map::Entry::Vacant(slot) = waiting.entry(r.zone_id) {
            let n: i64 = sqlx::query_scalar(
                "select count(*) from tickets where center_id = $1 and service_date = $2 and state = 'waiting' and zone_id = $3",
            )
            .bind(r.center_id)
            .bind(&date)
            .bind(r.zone_id)
            .fetch_one(&mut *tx)
            .await?;
            slot.insert(n);
        }
    }

    let mut tickets = Vec::with_capacity(reqs.len());
    let mut values = Vec::with_capacity(reqs.len());
    for (i, r) in reqs.iter().enumerate() {
        let seq = next
            .get_mut(&(r.center_id, r.prefix.clone()))
            .expect("counter allocated");
        let number = format_number(&r.prefix, *seq);
        *seq += 1;
        let ahead = waiting.get_mut(&r.zone_id).expect("zone counted");
        tickets.push(IssuedTicket {
            id: 0,
            number,
            public_token: crate::auth::random_hex(16),
            // Distinct instants keep the batch's order in line.
            issued_at: now + i as i64,
            ahead: *ahead,
            service_date: date.clone(),
        });
        *ahead += 1;
        let m = placeholders(db.backend(), i * 8 + 1, 8);
        let m: Vec<&str> = m.split(", ").collect();
        values.push(format!(
            "({}, {}, {}, {}, {}, 'waiting', {}, {}, {})",
            m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
        ));
    }
    let sql = format!(
        "insert into tickets (center_id, service_date, zone_id, number, priority, state, queue_key, issued_at, public_token) \
         values {}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (r, t) in reqs.iter().zip(&tickets) {
        q = q
            .bind(r.center_id)
            .bind(&t.service_date)
            .bind(r.zone_id)
            .bind(&t.number)
            .bind(r.priority.map(Priority::as_str))
            .bind(t.issued_at)
            .bind(t.issued_at)
            .bind(&t.public_token);
    }
    q.execute(&mut *tx).await?;

    // Ids by token (RETURNING order is not promised for multi-row inserts).
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(tickets.len());
    for chunk in tickets.chunks(MAX_BATCH) {
        let sql = format!(
            "select public_token, id from tickets where public_token in ({})",
            placeholders(db.backend(), 1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for t in chunk {
            q = q.bind(&t.public_token);
        }
        ids.extend(q.fetch_all(&mut *tx).await?);
    }
    for t in &mut tickets {
        t.id = *ids
            .get(&t.public_token)
            .ok_or_else(|| AppError::Internal("issued ticket not found".into()))?;
    }

    let rows: Vec<EventRow> = reqs
        .iter()
        .zip(&tickets)
        .map(|(r, t)| EventRow {
            ticket_id: t.id,
            at: t.issued_at,
            actor: "kiosk".into(),
            action: "issued",
            window_id: None,
            detail: r.priority.map(|p| p.as_str().to_owned()),
        })
        .collect();
    write_events(&mut tx, db.backend(), &rows).await?;

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
                kind: "issued".into(),
                ticket: t.number.clone(),
                zone: Some(r.zone_code.clone()),
                window: None,
                window_name: None,
                say: None,
                at: now,
            }),
        }
    }
    for e in &events {
        hub::notify_in(&mut tx, db.backend(), e).await?;
    }
    tx.commit().await?;
    Ok((tickets, events))
}
