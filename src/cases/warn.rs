//! 电子监察 warnings through the job runner: a `case.deadline` job runs at the start (Beijing
//! time) of a case's warning day and of the day after its due date. It reads the case as it
//! is then — suspended, extended or finished since — marks `yellow` or `red` once, records the
//! step, and schedules its next run. Jobs left over from an earlier due date find nothing to
//! do, so rescheduling never needs to delete one.

use std::sync::Arc;

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Warning, queries};
use crate::app::App;
use crate::db::{Micros, Tx};
use crate::error::AppResult;
use crate::ids::{CaseId, CaseTaskId};

/// The job's kind.
pub const KIND: &str = "case.deadline";

/// The job that warns about a 联办件's co-department step (环节预警).
pub const TASK_KIND: &str = "case.task_deadline";

#[derive(Serialize, Deserialize)]
struct TaskPayload {
    task: CaseTaskId,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    case: CaseId,
}

/// The instant a Beijing day starts.
fn start_of(day: Date) -> Micros {
    day.in_tz(crate::clock::HALL_TZ)
        .map(|z| Micros::from_timestamp(z.timestamp()))
        .unwrap_or(Micros(0))
}

/// Enqueues the job `kind` with `payload` for the start of `day` (now, when that has passed).
async fn enqueue_on(
    tx: &mut Tx,
    kind: &str,
    payload: &impl Serialize,
    day: Date,
    now: i64,
) -> AppResult<()> {
    let at = start_of(day).max(Micros(now));
    crate::jobs::enqueue(tx, kind, payload, at, Micros(now)).await?;
    Ok(())
}

/// Schedules the case's check for the start of `day`.
pub async fn schedule(tx: &mut Tx, case: CaseId, day: Date, now: i64) -> AppResult<()> {
    enqueue_on(tx, KIND, &Payload { case }, day, now).await
}

/// Schedules a co-department step's check for the start of `day`.
pub async fn schedule_task(tx: &mut Tx, task: CaseTaskId, day: Date, now: i64) -> AppResult<()> {
    enqueue_on(tx, TASK_KIND, &TaskPayload { task }, day, now).await
}

/// Registers `run` as the handler of `kind`, with the job's payload read as a `P`.
fn handle<P, F, Fut>(jobs: &crate::jobs::Jobs, kind: &str, run: F)
where
    P: DeserializeOwned + Send + 'static,
    F: Fn(Arc<App>, P) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = AppResult<Option<Warning>>> + Send + 'static,
{
    jobs.register(kind, move |app: Arc<App>, job| async move {
        let payload: P =
            serde_json::from_value(job.payload).map_err(|e| format!("任务参数无效：{e}"))?;
        run(app, payload)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// Registers the handlers with the runner.
pub fn register(jobs: &crate::jobs::Jobs) {
    handle(jobs, KIND, |app, p: Payload| async move {
        check(&app, p.case).await
    });
    handle(jobs, TASK_KIND, |app, p: TaskPayload| async move {
        check_task(&app, p.task).await
    });
}

/// Marks a co-department step's warning as of today and schedules its next check. A step
/// done, or a case whose clock stands still, is left alone (a resume schedules again).
pub async fn check_task(app: &App, id: CaseTaskId) -> AppResult<Option<Warning>> {
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let Some(task) = super::service::task_by_id(&mut tx, id).await? else {
                    return Ok(None);
                };
                if task.done() {
                    return Ok(None);
                }
                let Some(case) = queries::by_id(&mut tx, task.case_id).await? else {
                    return Ok(None);
                };
                if !case.state.clock_runs() {
                    return Ok(None);
                }
                let (due, warn) = (task.due_on.date(), task.warn_on.date());
                let Some(level) = level_on(today, warn, due) else {
                    schedule_task(&mut tx, id, warn, now).await?;
                    return Ok(None);
                };
                let dept = &task.department;
                let step = match level {
                    Warning::Yellow => (
                        "task_yellow",
                        format!("协办部门{dept}的环节将于 {due} 到期"),
                    ),
                    Warning::Red => ("task_red", format!("协办部门{dept}的环节已超过期限 {due}")),
                };
                mark(&mut tx, "case_tasks", id.get(), &case, level, step, now).await?;
                if level == Warning::Yellow {
                    schedule_task(&mut tx, id, due.tomorrow().unwrap_or(due), now).await?;
                }
                Ok(Some(level))
            })
        })
        .await
}

/// Marks the case's warning as of today and schedules the next check.
pub async fn check(app: &App, id: CaseId) -> AppResult<Option<Warning>> {
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let Some(case) = queries::by_id(&mut tx, id).await? else {
                    return Ok(None);
                };
                if !case.state.clock_runs() {
                    // Suspended, decided or closed: a resume schedules again.
                    return Ok(None);
                }
                let (Some(due), Some(warn)) = (case.due_on, case.warn_on) else {
                    return Ok(None);
                };
                let Some(level) = level_on(today, warn.date(), due.date()) else {
                    schedule(&mut tx, id, warn.date(), now).await?;
                    return Ok(None);
                };
                let step = match level {
                    Warning::Yellow => ("warn_yellow", format!("将于 {due} 到期")),
                    Warning::Red => ("warn_red", format!("已超过办结期限 {due}")),
                };
                mark(&mut tx, "cases", id.get(), &case, level, step, now).await?;
                if level == Warning::Yellow {
                    let next = due.date().tomorrow().unwrap_or(due.date());
                    schedule(&mut tx, id, next, now).await?;
                }
                Ok(Some(level))
            })
        })
        .await
}

/// The warning on `today` of a clock warned from `warn` and due on `due`, if any.
fn level_on(today: Date, warn: Date, due: Date) -> Option<Warning> {
    if today > due {
        Some(Warning::Red)
    } else if today >= warn {
        Some(Warning::Yellow)
    } else {
        None
    }
}

/// Sets `warning` on row `id` of `table` (`cases` or `case_tasks`) and, when that changed it,
/// records the step `(action, note)` in the case's history as 电子监察's.
async fn mark(
    tx: &mut Tx,
    table: &str,
    id: i64,
    case: &super::Case,
    level: Warning,
    (action, note): (&str, String),
    now: i64,
) -> AppResult<()> {
    let sql = format!("update {table} set warning = $1 where id = $2 and warning <> $1");
    let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(level.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if changed > 0 {
        sqlx::query(
            "insert into case_steps (case_id, at, actor, action, from_state, to_state, note) \
             values ($1, $2, '电子监察', $3, $4, $4, $5)",
        )
        .bind(case.id)
        .bind(now)
        .bind(action)
        .bind(case.state)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
