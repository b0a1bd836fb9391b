//! The runner: one task per server that claims due jobs one at a time, runs their handler,
//! and records the outcome.
//!
//! A claim is one short write transaction ([`Db::begin`](crate::db::Db::begin); not
//! `Db::transaction`, whose async closure the compiler cannot yet prove `Send` inside a
//! spawned task): on PostgreSQL the `select … for update skip locked` ([`dialect::skip_locked`]) lets runners
//! on several servers take different jobs, and the row is marked running before the commit; on
//! SQLite the one writer serialises claims. The handler runs outside any transaction; its
//! outcome is written only if this runner still holds the job (same `locked_by` and
//! `locked_at`), so a runner that was presumed dead cannot overwrite the job's new run.

use std::sync::{Arc, Weak};

use tokio::sync::{Notify, watch};

use super::{JobAction, JobRun, JobState};
use crate::{
    app::App,
    db::{Micros, dialect},
    ids::JobId,
    state::StateMachine,
};

/// A job this runner holds.
#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: JobId,
    kind: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
}

/// The runner's loop: drain what is due, then sleep until woken, the poll interval passes,
/// or the server stops.
pub(super) async fn run(app: Weak<App>, mut stop: watch::Receiver<bool>, wake: Arc<Notify>) {
    loop {
        let Some(strong) = app.upgrade() else { return };
        loop {
            if *stop.borrow() {
                return;
            }
            match claim(&strong).await {
                Ok(Some((job, locked_at))) => run_one(&strong, job, locked_at).await,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "job runner cannot claim a job");
                    break;
                }
            }
        }
        let poll = strong.jobs.settings().poll;
        drop(strong);
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Takes the next due job (or a stale running one) and marks it running; returns it with the
/// `locked_at` this runner wrote.
async fn claim(app: &App) -> Result<Option<(Claimed, Micros)>, sqlx::Error> {
    let kinds = app.jobs.kinds();
    if kinds.is_empty() {
        return Ok(None);
    }
    let backend = app.db.backend();
    let settings = app.jobs.settings();
    let now = app.clock.now_micros();
    let stale = now.saturating_sub(settings.stale_after.as_micros() as i64);
    let select = format!(
        "select id, kind, payload, attempts, max_attempts from jobs \
         where (({claim} and run_at <= $1) or ({reclaim} and locked_at <= $2)) \
         and kind in {kinds} order by run_at, id limit 1{lock}",
        claim = JobState::guard(JobAction::Claim),
        reclaim = JobState::guard(JobAction::Reclaim),
        kinds = dialect::text_set(backend, 3),
        lock = dialect::skip_locked(backend),
    );
    let mark = format!(
        "update jobs set state = $1, attempts = attempts + 1, locked_by = $2, locked_at = $3 \
         where id = $4 and ({} or {})",
        JobState::guard(JobAction::Claim),
        JobState::guard(JobAction::Reclaim),
    );
    let kinds = serde_json::to_string(&kinds).unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let job: Option<Claimed> = sqlx::query_as(sqlx::AssertSqlSafe(select))
        .bind(now)
        .bind(stale)
        .bind(kinds)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(mut job) = job else {
        tx.commit().await?;
        return Ok(None);
    };
    sqlx::query(sqlx::AssertSqlSafe(mark))
        .bind(JobState::Running)
        .bind(app.jobs.runner_id())
        .bind(now)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    job.attempts += 1;
    Ok(Some((job, Micros(now))))
}

/// Runs the handler of a claimed job and records what came of it.
async fn run_one(app: &Arc<App>, job: Claimed, locked_at: Micros) {
    let outcome = match (
        app.jobs.handler(&job.kind),
        serde_json::from_str(&job.payload),
    ) {
        (None, _) => Err(format!("没有处理“{}”类任务的程序", job.kind)),
        (_, Err(e)) => Err(format!("任务内容不是有效的 JSON：{e}")),
        (Some(handler), Ok(payload)) => {
            let run = JobRun {
                id: job.id,
                kind: job.kind.clone(),
                payload,
                attempt: job.attempts,
            };
            // Its own task, so a panicking handler fails its job instead of the runner.
            match tokio::spawn(handler(app.clone(), run)).await {
                Ok(outcome) => outcome,
                Err(e) => Err(format!("处理程序异常终止：{e}")),
            }
        }
    };
    if let Err(e) = &outcome {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
    }
    if let Err(e) = finish(app, &job, locked_at, outcome).await {
        tracing::warn!(job = %job.id, error = %e, "cannot record a job's outcome");
    }
}

/// Writes the outcome: done; pending again after the backoff; or failed for good.
async fn finish(
    app: &App,
    job: &Claimed,
    locked_at: Micros,
    outcome: Result<(), String>,
) -> Result<(), sqlx::Error> {
    let now = app.clock.now_micros();
    let (action, error) = match outcome {
        Ok(()) => (JobAction::Succeed, None),
        Err(e) if job.attempts >= job.max_attempts => (JobAction::Fail, Some(e)),
        Err(e) => (JobAction::Retry, Some(e)),
    };
    let (set, at) = match action {
        JobAction::Retry => (
            "run_at = $5, last_error = $6",
            now.saturating_add(app.jobs.settings().backoff_micros(job.attempts)),
        ),
        JobAction::Fail => ("finished_at = $5, last_error = $6", now),
        _ => ("finished_at = $5", now),
    };
    let sql = format!(
        "update jobs set state = $4, {set}, locked_by = null, locked_at = null \
         where id = $1 and locked_by = $2 and locked_at = $3 and {}",
        JobState::guard(action)
    );
    let to = JobState::transition(action).to;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(job.id)
        .bind(app.jobs.runner_id())
        .bind(locked_at)
        .bind(to)
        .bind(at);
    if let Some(e) = error {
        q = q.bind(e);
    }
    // One statement: autocommit through the writer, no transaction to open.
    let mut conn = app.db.hold_writer().await?;
    q.execute(&mut *conn).await?;
    Ok(())
}
