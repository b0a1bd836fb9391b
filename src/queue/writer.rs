//! The queue's writer: group commit for kiosks and clerks. Every ticket issued and every
//! window action goes to one task per server, which runs everything waiting in one
//! transaction — the tickets as one batch ([`super::issuer`]), the actions as sets
//! ([`super::batch`]), the `ticket_events` rows with one insert — and commits once. Answers go
//! out after the commit: an acknowledged ticket or call is on disk, and one flush serves every
//! kiosk and window that came meanwhile.
//!
//! What bounds it is the number of statements, not of rows: each is a round trip to the
//! database whose answer waits its turn among the server's HTTP work. So the writer holds
//! its connection while work keeps coming (sqlx tests a connection with a round trip on
//! every return to the pool), and on SQLite ends each batch with `commit; begin immediate`
//! in the same round trip as the rows. It lets the connection go after [`IDLE`] without work
//! or [`HOLD`] held, so that other writes get their turn.
//!
//! Should a statement fail (not a refusal: the database itself), the batch is rolled back and
//! each job retried in a transaction of its own, so one broken job cannot fail the others.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{
    actions::{Desk, TransferTo},
    batch::{self, Action, Outcome},
    hub::{self, EventHub, QueueEvent},
    issuer::{self, IssueRequest, IssuedTicket},
    ticket::{self, HoldKind, Rule, Ticket, Who},
};
use crate::{
    auth::Credential,
    clock::Clock,
    db::{self, Backend, Conn, Db},
    error::{AppError, AppResult},
};

/// Jobs in one transaction at most (issues within [`issuer::MAX_BATCH`]).
const MAX_BATCH: usize = issuer::MAX_BATCH;

const IDLE: Duration = Duration::from_millis(5);
const HOLD: Duration = Duration::from_millis(50);

/// A window action, with what the request already resolved.
#[derive(Clone, Debug)]
pub enum Step {
    CallNext(Rule),
    CallNumber(String),
    /// Recall, with the center's automatic no-show limit.
    Recall(i64),
    Start,
    Finish,
    NoShow,
    Transfer(TransferTo),
    Hold(HoldKind),
}

struct ActJob {
    desk: Desk,
    step: Step,
    who: Who,
    credential: Credential,
    date: String,
    reply: oneshot::Sender<AppResult<Option<Ticket>>>,
}

enum Job {
    Issue(IssueRequest, oneshot::Sender<AppResult<IssuedTicket>>),
    Act(ActJob),
}

/// Handle to the writer task.
#[derive(Clone, Debug)]
pub struct QueueWriter {
    tx: mpsc::Sender<Job>,
}

/// What a batch's transaction made: the issued tickets, the actions' outcomes, and the events
/// to publish once it is committed.
struct Written {
    issued: Vec<IssuedTicket>,
    acted: Vec<Outcome>,
    events: Vec<QueueEvent>,
}

/// Runs `issues` and `acts` in one transaction on `conn`. With `open` (SQLite) the
/// transaction is already open and is opened again after the commit; else it is begun and
/// committed here. `Err` when the database failed, after rolling back.
async fn write_batch(
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    issues: &[&IssueRequest],
    acts: &[&ActJob],
    open: bool,
    restart_wal: bool,
) -> AppResult<Written> {
    if !open {
        db::begin_on(conn, backend).await?;
    }
    // SQLite takes the commit in the same round trip as the rows; PostgreSQL's extended
    // protocol runs one statement per message.
    let tail = match (backend, open) {
        (Backend::Sqlite, true) if restart_wal => {
            "; commit; pragma wal_checkpoint(passive); begin immediate"
        }
        (Backend::Sqlite, true) => "; commit; begin immediate",
        (Backend::Sqlite, false) => "; commit",
        (Backend::Postgres, _) => "",
    };
    match run_batch(conn, backend, clock, issues, acts, tail).await {
        Ok(written) => {
            if backend == Backend::Postgres {
                db::commit_on(conn).await?;
            }
            Ok(written)
        }
        Err(e) => {
            db::rollback_on(conn).await?;
            if open {
                db::begin_on(conn, backend).await?;
            }
            Err(e)
        }
    }
}

/// The tickets, the actions, their NOTIFYs and rows, then `tail` (the commit).
async fn run_batch(
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    issues: &[&IssueRequest],
    acts: &[&ActJob],
    tail: &str,
) -> AppResult<Written> {
    let now = clock.now_micros();
    // Before any row of a center is touched (PostgreSQL): see `ticket::lock_centers`.
    let centers = issues
        .iter()
        .map(|r| r.center_id)
        .chain(acts.iter().map(|j| j.desk.center_id));
    ticket::lock_centers(conn, backend, centers).await?;
    let mut rows = Vec::new();
    let mut events = Vec::new();
    let mut issued = Vec::new();
    if !issues.is_empty() {
        let date = crate::timetable::today_at(clock).to_string();
        let reqs: Vec<IssueRequest> = issues.iter().map(|r| (*r).clone()).collect();
        let made = issuer::issue_batch(conn, backend, &date, now, &reqs).await?;
        rows.extend(made.rows);
        events.extend(made.events);
        issued = made.tickets;
    }
    let actions: Vec<Action> = acts
        .iter()
        .map(|j| Action {
            desk: &j.desk,
            step: &j.step,
            who: &j.who,
            credential: &j.credential,
            date: &j.date,
        })
        .collect();
    let ran = if actions.is_empty() {
        batch::Ran {
            outcomes: Vec::new(),
            order: Vec::new(),
        }
    } else {
        batch::run(conn, backend, &actions, now).await?
    };
    // Recorded and announced in the order the changes were made.
    for c in ran
        .order
        .iter()
        .filter_map(|&i| ran.outcomes[i].as_ref().ok().and_then(Option::as_ref))
    {
        rows.push(c.row.clone());
        events.push(c.event.clone());
    }
    let acted = ran.outcomes;
    let refs: Vec<&QueueEvent> = events.iter().collect();
    hub::notify_all_in(conn, backend, &refs).await?;
    ticket::write_events_then(conn, backend, &rows, tail).await?;
    Ok(Written {
        issued,
        acted,
        events,
    })
}

/// Writes a batch and answers its jobs; should the database fail, retries each job alone.
/// False when the batch failed (the connection may be broken).
async fn write_and_answer(
    db: &Db,
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    hub: &EventHub,
    batch: Vec<Job>,
) -> bool {
    let open = backend == Backend::Sqlite;
    let (mut issues, mut acts) = (Vec::new(), Vec::new());
    for job in batch {
        match job {
            Job::Issue(r, reply) => issues.push((r, reply)),
            Job::Act(a) => acts.push(a),
        }
    }
    let issue_refs: Vec<&IssueRequest> = issues.iter().map(|(r, _)| r).collect();
    let act_refs: Vec<&ActJob> = acts.iter().collect();
    let restart_wal = db.take_wal_restart();
    let started = Instant::now();
    let written = write_batch(
        conn,
        backend,
        clock,
        &issue_refs,
        &act_refs,
        open,
        restart_wal,
    )
    .await;
    // How full the writer's batches run and how long each takes: what bounds tickets and
    // calls per second (`/metrics`).
    metrics::histogram!("queue_writer_batch_jobs").record((issues.len() + acts.len()) as f64);
    metrics::histogram!("queue_writer_batch_seconds").record(started.elapsed().as_secs_f64());
    match written {
        Ok(w) => {
            hub::after_commit(hub, backend, w.events);
            for ((_, reply), t) in issues.into_iter().zip(w.issued) {
                let _ = reply.send(Ok(t));
            }
            for (job, outcome) in acts.into_iter().zip(w.acted) {
                let _ = job.reply.send(outcome.map(|o| o.map(|c| c.ticket)));
            }
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, issues = issues.len(), actions = acts.len(),
                "a batch of the queue writer failed; retrying each job alone");
            // PostgreSQL went away under the writer's own connection (a restart): retry on a
            // fresh one rather than on the dead one, so the first calls after it come back
            // are written, not refused.
            let mut fresh: Option<Conn> = None;
            let conn: &mut Conn = if backend == Backend::Postgres
                && e.failure() == Some(crate::error::Failure::Unavailable)
            {
                match sqlx::ConnectOptions::connect(&*db.pool().connect_options()).await {
                    Ok(c) => fresh.insert(c),
                    Err(_) => conn,
                }
            } else {
                conn
            };
            for (r, reply) in issues {
                let one = write_batch(conn, backend, clock, &[&r], &[], open, false).await;
                let answer = one.and_then(|mut w| {
                    hub::after_commit(hub, backend, std::mem::take(&mut w.events));
                    w.issued
                        .pop()
                        .ok_or_else(|| AppError::internal("ticket not issued"))
                });
                let _ = reply.send(answer);
            }
            for job in acts {
                let one = write_batch(conn, backend, clock, &[], &[&job], open, false).await;
                let answer = one.and_then(|mut w| {
                    hub::after_commit(hub, backend, std::mem::take(&mut w.events));
                    w.acted.pop().unwrap_or(Ok(None))
                });
                let _ = job.reply.send(answer.map(|o| o.map(|c| c.ticket)));
            }
            false
        }
    }
}

/// Tells a job that the writer could not start its transaction: 503 when the database is
/// away, from the error itself.
fn refuse(job: Job, why: &str, e: sqlx::Error) {
    tracing::warn!(error = %e, "queue writer: {why}");
    let error = AppError::from(e);
    match job {
        Job::Issue(_, reply) => {
            let _ = reply.send(Err(error));
        }
        Job::Act(a) => {
            let _ = a.reply.send(Err(error));
        }
    }
}

impl QueueWriter {
    /// Starts the writer on a thread and runtime of its own. On SQLite it takes the one
    /// writer connection of [`Db`]; on PostgreSQL it opens a connection of its own on that
    /// runtime (the shared pool's connections belong to the HTTP runtime), and opens it again
    /// after a batch the database failed.
    pub fn start(db: Db, clock: Clock, hub: EventHub) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(8192);
        let run = async move {
            let backend = db.backend();
            let open = backend == Backend::Sqlite;
            let mut own: Option<Conn> = None;
            while let Some(first) = rx.recv().await {
                let mut pooled: Option<sqlx::pool::PoolConnection<sqlx::Any>> = None;
                let conn: &mut Conn = if open {
                    match db.hold_writer().await {
                        Ok(c) => {
                            let c: &mut Conn = pooled.insert(c);
                            c
                        }
                        Err(e) => {
                            refuse(first, "its connection failed", e);
                            continue;
                        }
                    }
                } else {
                    match own.take() {
                        Some(c) => own.insert(c),
                        None => {
                            let options = db.pool().connect_options();
                            match sqlx::ConnectOptions::connect(&*options).await {
                                Ok(c) => own.insert(c),
                                Err(e) => {
                                    refuse(first, "its connection failed", e);
                                    continue;
                                }
                            }
                        }
                    }
                };
                let mut healthy = true;
                if open && let Err(e) = db::begin_on(conn, backend).await {
                    refuse(first, "its transaction did not begin", e);
                    continue;
                }
                let held = Instant::now();
                let mut next = Some(first);
                while let Some(job) = next.take() {
                    let mut batch = vec![job];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    healthy &= write_and_answer(&db, conn, backend, &clock, &hub, batch).await;
                    if held.elapsed() < HOLD
                        && let Ok(Some(job)) = tokio::time::timeout(IDLE, rx.recv()).await
                    {
                        next = Some(job);
                    }
                }
                // The transaction left open after the last commit holds nothing.
                if open && let Err(e) = db::rollback_on(conn).await {
                    tracing::warn!(error = %e, "queue writer: closing its transaction failed");
                    if let Some(p) = pooled.as_mut() {
                        p.close_on_drop();
                    }
                }
                if !healthy {
                    // PostgreSQL: open a fresh connection for the next batch.
                    own = None;
                }
            }
        };
        std::thread::Builder::new()
            .name("queue-writer".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("queue writer runtime")
                    .block_on(run)
            })
            .expect("queue writer thread");
        Self { tx }
    }

    async fn send(&self, job: Job) -> AppResult<()> {
        self.tx
            .send(job)
            .await
            .map_err(|_| AppError::internal("queue writer stopped"))
    }

    /// Issues one ticket; returns once it is committed.
    pub async fn issue(&self, r: IssueRequest) -> AppResult<IssuedTicket> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Issue(r, reply)).await?;
        answer
            .await
            .map_err(|_| AppError::internal("queue writer dropped a ticket"))?
    }

    /// Runs one window action; returns once it is committed (or refused).
    pub async fn act(
        &self,
        desk: Desk,
        step: Step,
        who: Who,
        credential: Credential,
        date: String,
    ) -> AppResult<Option<Ticket>> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Act(ActJob {
            desk,
            step,
            who,
            credential,
            date,
            reply,
        }))
        .await?;
        answer
            .await
            .map_err(|_| AppError::internal("queue writer dropped an action"))?
    }
}
