//! Durable background jobs: reminders, deadline warnings (预警), report rollups.
//!
//! * A job is a row of `jobs`, written by [`enqueue`] inside the transaction that causes it,
//!   so it exists exactly when its cause committed.
//! * Each server runs one runner ([`runner`]) that claims due jobs — `for update skip locked`
//!   on PostgreSQL, so several servers take different jobs; through the one writer on SQLite —
//!   and runs the handler registered for the job's kind ([`Jobs::register`]).
//! * A failure is retried with exponential backoff until `max_attempts`, then the job is
//!   `failed` with its error; a job whose runner died (`running` with a stale `locked_at`) is
//!   claimed again. Handlers must therefore be idempotent: a job may run more than once.
//! * The system admin sees them at `/admin/jobs` ([`pages`]).

pub mod pages;
pub mod runner;

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::{
    app::App,
    db::{Conn, Micros},
    ids::JobId,
    state::{StateMachine, Transition, go},
};

pub use pages::router;

crate::text_enum! {
    /// Where a job is in its life.
    pub enum JobState {
        /// 待执行: waiting for its `run_at` (a new job, or one to retry).
        Pending = "pending" => "待执行",
        /// 执行中: claimed by a runner.
        Running = "running" => "执行中",
        /// 已完成
        Done = "done" => "已完成",
        /// 失败: failed `max_attempts` times; `last_error` says why.
        Failed = "failed" => "失败",
    }
}

crate::text_enum! {
    /// What a runner does to a job.
    pub enum JobAction {
        /// Takes a due pending job.
        Claim = "claim",
        /// Takes a running job whose runner stopped answering (stale `locked_at`).
        Reclaim = "reclaim",
        /// The handler succeeded.
        Succeed = "succeed",
        /// The handler failed and attempts are left: pending again, later.
        Retry = "retry",
        /// The handler failed its last attempt.
        Fail = "fail",
    }
}

impl StateMachine for JobState {
    type Action = JobAction;
    const TRANSITIONS: &'static [Transition<Self, JobAction>] = &[
        go(JobAction::Claim, &[JobState::Pending], JobState::Running),
        go(JobAction::Reclaim, &[JobState::Running], JobState::Running),
        go(JobAction::Succeed, &[JobState::Running], JobState::Done),
        go(JobAction::Retry, &[JobState::Running], JobState::Pending),
        go(JobAction::Fail, &[JobState::Running], JobState::Failed),
    ];
}

/// Attempts a job gets unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// A job as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Job {
    #[schema(value_type = i64)]
    pub id: JobId,
    pub kind: String,
    /// The handler's input, JSON text.
    pub payload: String,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    #[schema(value_type = i64)]
    pub run_at: Micros,
    pub locked_by: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub locked_at: Option<Micros>,
    pub last_error: Option<String>,
    #[schema(value_type = i64)]
    pub created_at: Micros,
    #[schema(value_type = Option<i64>)]
    pub finished_at: Option<Micros>,
}

/// Queues a job of `kind` to run at `run_at` (or as soon as possible after), with
/// [`DEFAULT_MAX_ATTEMPTS`]. Call it inside the transaction that causes the job: a rollback
/// takes the job with it. `now` is the enqueuer's clock (`app.clock.now_micros()`).
pub async fn enqueue(
    tx: &mut Conn,
    kind: &str,
    payload: &impl Serialize,
    run_at: Micros,
    now: Micros,
) -> Result<JobId, sqlx::Error> {
    enqueue_with(tx, kind, payload, run_at, now, DEFAULT_MAX_ATTEMPTS).await
}

/// [`enqueue`] with its own number of attempts (at least 1).
pub async fn enqueue_with(
    tx: &mut Conn,
    kind: &str,
    payload: &impl Serialize,
    run_at: Micros,
    now: Micros,
    max_attempts: i64,
) -> Result<JobId, sqlx::Error> {
    let payload = serde_json::to_string(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query_scalar(
        "insert into jobs (kind, payload, state, attempts, max_attempts, run_at, created_at) \
         values ($1, $2, $3, 0, $4, $5, $6) returning id",
    )
    .bind(kind)
    .bind(payload)
    .bind(JobState::Pending)
    .bind(max_attempts.max(1))
    .bind(run_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

/// What a handler is given: the job's id, kind, decoded payload and which attempt this is.
#[derive(Clone, Debug)]
pub struct JobRun {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    /// 1 on the first run.
    pub attempt: i64,
}

/// A handler's future: `Err` carries the reason kept in `last_error` (Chinese for the admin).
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'static>>;

/// Runs jobs of one kind.
pub type Handler = Arc<dyn Fn(Arc<App>, JobRun) -> JobFuture + Send + Sync>;

/// How the runner paces itself.
#[derive(Clone, Copy, Debug)]
pub struct JobSettings {
    /// How long an idle runner sleeps before looking again ([`Jobs::wake`] cuts it short).
    pub poll: Duration,
    /// The first retry waits `2 × backoff_base`, the n-th `2ⁿ × backoff_base` …
    pub backoff_base: Duration,
    /// … but never longer than this.
    pub backoff_cap: Duration,
    /// A running job locked longer than this is taken to have lost its runner and is claimed
    /// again. Longer than any handler should run.
    pub stale_after: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(3600),
            stale_after: Duration::from_secs(15 * 60),
        }
    }
}

impl JobSettings {
    /// The wait before the retry that follows attempt `attempts` (1-based): 2^attempts × base,
    /// capped, in microseconds.
    pub fn backoff_micros(&self, attempts: i64) -> i64 {
        let base = self.backoff_base.as_micros() as i64;
        let cap = self.backoff_cap.as_micros() as i64;
        let factor = 1i64
            .checked_shl(attempts.clamp(0, 62) as u32)
            .unwrap_or(i64::MAX);
        base.saturating_mul(factor).min(cap)
    }
}

/// The job platform of one server: the handlers by kind, the settings, and the runner's
/// controls. Lives in [`App::jobs`].
pub struct Jobs {
    handlers: RwLock<HashMap<String, Handler>>,
    settings: Mutex<JobSettings>,
    /// Who this runner is in `locked_by`: a random id per server start.
    runner_id: String,
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("runner_id", &self.runner_id)
            .field("kinds", &self.kinds())
            .finish()
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Self::new()
    }
}

impl Jobs {
    pub fn new() -> Self {
        Self {
            handlers: RwLock::default(),
            settings: Mutex::default(),
            runner_id: format!("runner-{}", crate::auth::random_hex(6)),
            wake: Arc::default(),
            stop: watch::Sender::new(false),
            task: Mutex::default(),
        }
    }

    /// Registers the handler of `kind`. Areas register theirs when the server starts; the
    /// runner claims only kinds it has a handler for, so other jobs wait rather than fail.
    pub fn register<F, Fut>(&self, kind: &str, handler: F)
    where
        F: Fn(Arc<App>, JobRun) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |app, run| Box::pin(handler(app, run)));
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind.to_owned(), handler);
        self.wake();
    }

    /// The kinds with a handler, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        kinds.sort();
        kinds
    }

    fn handler(&self, kind: &str) -> Option<Handler> {
        self.handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kind)
            .cloned()
    }

    pub fn settings(&self) -> JobSettings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes how the runner paces itself (tests shorten the poll).
    pub fn configure(&self, settings: JobSettings) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
        self.wake();
    }

    /// This server's runner id, as written in `locked_by`.
    pub fn runner_id(&self) -> &str {
        &self.runner_id
    }

    /// Asks the runner to look for due jobs now, e.g. after committing one that is due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts this server's runner. It holds the app weakly, so a server dropped without
    /// running stops its runner too.
    pub fn start(&self, app: &Arc<App>) {
        let task = tokio::spawn(runner::run(
            Arc::downgrade(app),
            self.stop.subscribe(),
            self.wake.clone(),
        ));
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Stops the runner: it finishes the job in hand, if any, and claims no other.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Jobs per state.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct JobCounts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

/// How many jobs are in each state.
pub async fn counts(db: &crate::db::Db) -> Result<JobCounts, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        state: JobState,
        n: i64,
    }
    let rows: Vec<Row> = sqlx::query_as("select state, count(*) as n from jobs group by state")
        .fetch_all(db.pool())
        .await?;
    let mut c = JobCounts::default();
    for r in rows {
        match r.state {
            JobState::Pending => c.pending = r.n,
            JobState::Running => c.running = r.n,
            JobState::Done => c.done = r.n,
            JobState::Failed => c.failed = r.n,
        }
    }
    Ok(c)
}

/// The latest `limit` jobs in `states`, newest first.
pub async fn latest(
    db: &crate::db::Db,
    states: &[JobState],
    limit: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    let sql = format!(
        "select * from jobs where {} order by id desc limit $1",
        crate::state::in_list("state", states)
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(db.pool())
        .await
}

/// One job by id.
pub async fn by_id(db: &crate::db::Db, id: JobId) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as("select * from jobs where id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_machine_is_well_formed() {
        crate::state::check_machine::<JobState>();
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = JobSettings::default();
        assert_eq!(s.backoff_micros(1), 2_000_000);
        assert_eq!(s.backoff_micros(2), 4_000_000);
        assert_eq!(s.backoff_micros(3), 8_000_000);
        assert_eq!(s.backoff_micros(40), 3_600_000_000);
        assert_eq!(s.backoff_micros(1000), 3_600_000_000);
    }

    #[test]
    fn a_runner_claims_pending_jobs_and_reclaims_running_ones() {
        assert_eq!(JobState::guard(JobAction::Claim), "state = 'pending'");
        assert_eq!(JobState::guard(JobAction::Reclaim), "state = 'running'");
        assert_eq!(
            JobState::Running.after(JobAction::Retry),
            Some(JobState::Pending)
        );
        assert_eq!(JobState::Done.after(JobAction::Retry), None);
    }
}
