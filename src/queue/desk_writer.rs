//! Group commit for the clerks' actions. On SQLite every window's call-next, finish, recall …
//! goes to one writer that runs everything waiting in one transaction and commits once.
//! Actions refuse before they write (see [`super::actions`]), so a refused one changes
//! nothing and needs no savepoint; the `ticket_events` rows of the batch are written with one
//! statement. Answers go out after the commit: an acknowledged call is on disk, and one flush
//! serves every window that acted meanwhile. Should a statement fail (not a refusal: the
//! database itself), the batch is rolled back and each action retried in its own transaction,
//! so one broken action cannot fail the others.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{
    actions::{Desk, TransferTo},
    batch::{self, Action, Outcome},
    hub::{self, EventHub, QueueEvent},
    ticket::{self, Changed, HoldKind, Rule, Ticket, Who},
};
use crate::{
    auth::Credential,
    clock::Clock,
    db::{self, Backend, Conn, Db},
    error::{AppError, AppResult},
};

const MAX_BATCH: usize = 256;

/// The writer keeps the write connection between batches while actions keep coming, and
/// lets it go when none arrives for [`IDLE`] or after [`HOLD`], so other writers get a turn.
const IDLE: Duration = Duration::from_millis(5);
const HOLD: Duration = Duration::from_millis(50);

/// One action, with what the request already resolved.
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

struct Job {
    desk: Desk,
    step: Step,
    who: Who,
    credential: Credential,
    date: String,
    reply: oneshot::Sender<AppResult<Option<Ticket>>>,
}

/// Handle to the writer task (SQLite), or the way to run an action in its own transaction
/// (PostgreSQL, which already shares WAL flushes between concurrent commits: there parallel
/// transactions beat one writer paying a network round trip per statement).
#[derive(Clone, Debug)]
pub struct DeskWriter {
    tx: mpsc::Sender<Job>,
}

/// Runs `jobs` in one transaction on `conn`: the actions, their `ticket_events` rows, and on
/// PostgreSQL their NOTIFYs. `Err` when the database failed (rolled back); refusals are
/// outcomes. With `open` the transaction is already open and is left open again after the
/// commit (the SQLite writer's `commit; begin immediate`), else it is begun and committed here.
async fn write_batch(
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    jobs: &[&Job],
    open: bool,
) -> AppResult<Vec<Outcome>> {
    if !open {
        db::begin_on(conn, backend).await?;
    }
    // SQLite takes the commit in the same round trip as the rows; PostgreSQL's extended
    // protocol runs one statement per message.
    let tail = match (backend, open) {
        (Backend::Sqlite, true) => "; commit; begin immediate",
        (Backend::Sqlite, false) => "; commit",
        (Backend::Postgres, _) => "",
    };
    match run_batch(conn, backend, clock, jobs, tail).await {
        Ok(outcomes) if backend == Backend::Postgres => {
            db::commit_on(conn).await?;
            Ok(outcomes)
        }
        Ok(outcomes) => Ok(outcomes),
        Err(e) => {
            db::rollback_on(conn).await?;
            if open {
                db::begin_on(conn, backend).await?;
            }
            Err(e)
        }
    }
}

/// The actions, then their rows and NOTIFYs, then `tail` (the commit).
async fn run_batch(
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    jobs: &[&Job],
    tail: &str,
) -> AppResult<Vec<Outcome>> {
    let actions: Vec<Action> = jobs
        .iter()
        .map(|j| Action {
            desk: &j.desk,
            step: &j.step,
            who: &j.who,
            credential: &j.credential,
            date: &j.date,
        })
        .collect();
    let outcomes = batch::run(conn, backend, &actions, clock.now_micros()).await?;
    let changed: Vec<&Changed> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().and_then(Option::as_ref))
        .collect();
    let events: Vec<&QueueEvent> = changed.iter().map(|c| &c.event).collect();
    hub::notify_all_in(conn, backend, &events).await?;
    let rows: Vec<ticket::EventRow> = changed.iter().map(|c| c.row.clone()).collect();
    ticket::write_events_then(conn, backend, &rows, tail).await?;
    Ok(outcomes)
}

/// Sends each job its answer and publishes the committed events.
fn answer(hub: &EventHub, backend: Backend, batch: Vec<Job>, outcomes: Vec<Outcome>) {
    let events: Vec<QueueEvent> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().and_then(Option::as_ref))
        .map(|c| c.event.clone())
        .collect();
    hub::after_commit(hub, backend, events);
    for (job, outcome) in batch.into_iter().zip(outcomes) {
        let _ = job.reply.send(outcome.map(|o| o.map(|c| c.ticket)));
    }
}

/// Writes a batch and answers its jobs; should the database fail, retries each job in its
/// own transaction so that one broken action cannot fail the others.
async fn write_and_answer(
    conn: &mut Conn,
    backend: Backend,
    clock: &Clock,
    hub: &EventHub,
    batch: Vec<Job>,
) {
    let all: Vec<&Job> = batch.iter().collect();
    match write_batch(conn, backend, clock, &all, backend == Backend::Sqlite).await {
        Ok(outcomes) => answer(hub, backend, batch, outcomes),
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "a batch of window actions failed; retrying one by one");
            for job in batch {
                let outcome =
                    match write_batch(conn, backend, clock, &[&job], backend == Backend::Sqlite)
                        .await
                    {
                        Ok(mut one) => one.pop().unwrap_or(Ok(None)),
                        Err(e) => Err(e),
                    };
                answer(hub, backend, vec![job], vec![outcome]);
            }
        }
    }
}

impl DeskWriter {
    /// Starts the writer on the current runtime.
    pub fn start(db: Db, clock: Clock, hub: EventHub) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let this = Self { tx };
        tokio::spawn(async move {
            let backend = db.backend();
            let mut next = rx.recv().await;
            while let Some(first) = next.take() {
                let mut conn = match db.hold_writer().await {
                    Ok(c) => c,
                    Err(e) => {
                        let error = AppError::Internal(format!("desk writer connection: {e}"));
                        let _ = first.reply.send(Err(error));
                        next = rx.recv().await;
                        continue;
                    }
                };
                if backend == Backend::Sqlite
                    && let Err(e) = db::begin_on(&mut conn, backend).await
                {
                    let error = AppError::Internal(format!("desk writer begin: {e}"));
                    let _ = first.reply.send(Err(error));
                    next = rx.recv().await;
                    continue;
                }
                let held = Instant::now();
                let mut first = Some(first);
                while let Some(job) = first.take() {
                    let mut batch = vec![job];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    write_and_answer(&mut conn, backend, &clock, &hub, batch).await;
                    if held.elapsed() < HOLD
                        && let Ok(Some(job)) = tokio::time::timeout(IDLE, rx.recv()).await
                    {
                        first = Some(job);
                    }
                }
                // The transaction left open after the last commit holds nothing.
                if backend == Backend::Sqlite
                    && let Err(e) = db::rollback_on(&mut conn).await
                {
                    tracing::warn!(error = %e, "desk writer: closing its transaction failed");
                    conn.close_on_drop();
                }
                drop(conn);
                next = rx.recv().await;
            }
        });
        this
    }

    /// Runs one action; returns once it is committed (or refused).
    pub async fn run(
        &self,
        desk: Desk,
        step: Step,
        who: Who,
        credential: Credential,
        date: String,
    ) -> AppResult<Option<Ticket>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            desk,
            step,
            who,
            credential,
            date,
            reply,
        };
        self.tx
            .send(job)
            .await
            .map_err(|_| AppError::Internal("desk writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("desk writer dropped an action".into()))?
    }
}
