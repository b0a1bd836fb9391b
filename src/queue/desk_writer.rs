//! Group commit for the clerks' actions. Each window's call-next, finish, recall … goes to one
//! writer that runs everything waiting in one transaction — each action inside its own
//! savepoint, so a refused action (nobody waiting, wrong state) changes nothing and does not
//! disturb the others — and commits once. Answers go out after the commit: an acknowledged
//! call is on disk, and one flush serves every window that acted meanwhile.

use tokio::sync::{mpsc, oneshot};

use super::{
    hub::{self, EventHub, QueueEvent},
    ticket::{self, Desk, HoldKind, Rule, Ticket, TransferTo, Who},
};
use crate::{
    clock::Clock,
    db::{Backend, Db, Tx},
    error::{AppError, AppResult},
};

const MAX_BATCH: usize = 256;

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
    date: String,
    reply: oneshot::Sender<AppResult<Option<Ticket>>>,
}

/// Handle to the writer task (SQLite), or the way to run an action in its own transaction
/// (PostgreSQL, which already shares WAL flushes between concurrent commits: there parallel
/// transactions beat one writer paying a network round trip per statement).
#[derive(Clone, Debug)]
pub struct DeskWriter {
    tx: mpsc::Sender<Job>,
    db: Db,
    clock: Clock,
    hub: EventHub,
}

async fn run_step(
    tx: &mut Tx,
    backend: Backend,
    job: &Job,
    now: i64,
) -> AppResult<Option<(Ticket, QueueEvent)>> {
    let (desk, who, date) = (&job.desk, &job.who, job.date.as_str());
    Ok(match &job.step {
        Step::CallNext(rule) => ticket::call_next(tx, backend, desk, *rule, date, who, now).await?,
        Step::CallNumber(n) => Some(ticket::call_number(tx, desk, date, n, who, now).await?),
        Step::Recall(limit) => Some(ticket::recall(tx, desk, *limit, who, now).await?),
        Step::Start => Some(ticket::start(tx, desk, who, now).await?),
        Step::Finish => Some(ticket::finish(tx, desk, who, now).await?),
        Step::NoShow => Some(ticket::no_show(tx, desk, who, now, false).await?),
        Step::Transfer(to) => Some(ticket::transfer(tx, desk, to, who, now).await?),
        Step::Hold(kind) => Some(ticket::hold(tx, desk, *kind, who, now).await?),
    })
}

type Outcome = AppResult<Option<(Ticket, QueueEvent)>>;

async fn write_batch(db: &Db, clock: &Clock, jobs: &[Job]) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        sqlx::query("savepoint desk_action")
            .execute(&mut *tx)
            .await?;
        let outcome = run_step(&mut tx, db.backend(), job, clock.now_micros()).await;
        if outcome.is_err() {
            sqlx::query("rollback to savepoint desk_action")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("release savepoint desk_action")
            .execute(&mut *tx)
            .await?;
        if let Ok(Some((_, e))) = &outcome {
            hub::notify_in(&mut tx, db.backend(), e).await?;
        }
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}

impl DeskWriter {
    /// Starts the writer on the current runtime.
    pub fn start(db: Db, clock: Clock, hub: EventHub) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let this = Self {
            tx,
            db: db.clone(),
            clock: clock.clone(),
            hub: hub.clone(),
        };
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                match write_batch(&db, &clock, &batch).await {
                    Ok(outcomes) => {
                        let events: Vec<QueueEvent> = outcomes
                            .iter()
                            .filter_map(|o| {
                                o.as_ref()
                                    .ok()
                                    .and_then(|x| x.as_ref())
                                    .map(|(_, e)| e.clone())
                            })
                            .collect();
                        hub::after_commit(&hub, db.backend(), events);
                        for (job, outcome) in batch.into_iter().zip(outcomes) {
                            let _ = job.reply.send(outcome.map(|o| o.map(|(t, _)| t)));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, size = batch.len(), "a batch of window actions failed");
                        for job in batch {
                            let _ = job
                                .reply
                                .send(Err(AppError::Internal(format!("desk batch: {e}"))));
                        }
                    }
                }
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
        date: String,
    ) -> AppResult<Option<Ticket>> {
        let (reply, answer) = oneshot::channel();
        if self.db.backend() == Backend::Postgres {
            let job = Job {
                desk,
                step,
                who,
                date,
                reply,
            };
            let mut tx = self.db.begin().await?;
            let Some((t, e)) =
                run_step(&mut tx, Backend::Postgres, &job, self.clock.now_micros()).await?
            else {
                tx.rollback().await?;
                return Ok(None);
            };
            hub::notify_in(&mut tx, Backend::Postgres, &e).await?;
            tx.commit().await?;
            hub::after_commit(&self.hub, Backend::Postgres, vec![e]);
            return Ok(Some(t));
        }
        self.tx
            .send(Job {
                desk,
                step,
                who,
                date,
                reply,
            })
            .await
            .map_err(|_| AppError::Internal("desk writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("desk writer dropped an action".into()))?
    }
}
