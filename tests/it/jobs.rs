//! The durable job runner: jobs exist only when their transaction commits, failures are
//! retried with backoff until they succeed or run out of attempts, two servers never run one
//! job twice, and the system admin sees them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::{
    db::{Backend, Micros},
    ids::JobId,
    jobs::{self, Job, JobState},
};

use crate::helpers::{TestApp, fresh_database, on_both, test_config};

/// Enqueues one job due now in its own committed transaction and wakes the runner.
async fn enqueue(app: &TestApp, kind: &str, payload: Value, max_attempts: i64) -> JobId {
    let now = Micros(app.app.clock.now_micros());
    let mut tx = app.app.db.begin().await.unwrap();
    let id = jobs::enqueue_with(&mut tx, kind, &payload, now, now, max_attempts)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.app.jobs.wake();
    id
}

/// Waits (up to ten seconds) until the job satisfies `done`, and returns it.
async fn wait_for(app: &TestApp, id: JobId, done: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..500 {
        let job = jobs::by_id(&app.app.db, id)
            .await
            .unwrap()
            .expect("the job");
        if done(&job) {
            return job;
        }
        app.app.jobs.wake();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let job = jobs::by_id(&app.app.db, id).await.unwrap();
    panic!("the job never got there: {job:?}");
}

/// Runs the body once per engine with a fixed clock, so backoff is driven by moving it.
macro_rules! on_both_at {
    ($name:ident, $body:expr) => {
        crate::helpers::on_both_at!($name, "2026-03-02T09:00", $body);
    };
}

on_both!(
    a_job_enqueued_in_a_rolled_back_transaction_does_not_exist,
    |app: TestApp| async move {
        let now = Micros(app.app.clock.now_micros());
        let mut tx = app.app.db.begin().await.unwrap();
        jobs::enqueue(&mut tx, "test.never", &json!({"n": 1}), now, now)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(app.count("jobs").await, 0);

        let mut tx = app.app.db.begin().await.unwrap();
        jobs::enqueue(&mut tx, "test.never", &json!({"n": 2}), now, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(app.count("jobs").await, 1);
    }
);

on_both_at!(
    a_job_that_fails_twice_is_retried_with_backoff_and_ends_done,
    |app: TestApp| async move {
        app.app.jobs.register("test.flaky", |_app, run| async move {
            if run.attempt < 3 {
                Err(format!("第 {} 次失败", run.attempt))
            } else {
                Ok(())
            }
        });
        let t0 = app.app.clock.now_micros();
        let id = enqueue(&app, "test.flaky", json!({"to": "A023"}), 5).await;

        let job = wait_for(&app, id, |j| {
            j.attempts == 1 && j.state == JobState::Pending
        })
        .await;
        assert_eq!(job.run_at, Micros(t0 + 2_000_000), "first retry after 2 s");
        assert_eq!(job.last_error.as_deref(), Some("第 1 次失败"));
        assert!(job.locked_by.is_none());

        // Not due yet: the clock has not moved, so the runner leaves it.
        app.app.jobs.wake();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let same = jobs::by_id(&app.app.db, id).await.unwrap().unwrap();
        assert_eq!(same.attempts, 1);

        app.app.clock.set(job.run_at.timestamp());
        let job = wait_for(&app, id, |j| {
            j.attempts == 2 && j.state == JobState::Pending
        })
        .await;
        assert_eq!(
            job.run_at,
            Micros(t0 + 2_000_000 + 4_000_000),
            "then after 4 s"
        );

        app.app.clock.set(job.run_at.timestamp());
        let job = wait_for(&app, id, |j| j.state == JobState::Done).await;
        assert_eq!(job.attempts, 3);
        assert_eq!(job.finished_at, Some(Micros(t0 + 6_000_000)));
    }
);

on_both_at!(
    a_job_that_always_fails_ends_failed_with_its_error,
    |app: TestApp| async move {
        app.app
            .jobs
            .register("test.broken", |_app, _run| async move {
                Err::<(), _>("短信网关无应答".to_owned())
            });
        let id = enqueue(&app, "test.broken", json!({}), 2).await;
        let job = wait_for(&app, id, |j| {
            j.attempts == 1 && j.state == JobState::Pending
        })
        .await;
        app.app.clock.set(job.run_at.timestamp());
        let job = wait_for(&app, id, |j| j.state == JobState::Failed).await;
        assert_eq!(job.attempts, 2);
        assert_eq!(job.last_error.as_deref(), Some("短信网关无应答"));
        assert!(job.finished_at.is_some());
    }
);

/// A job that runner `by` took `ago_secs` seconds ago and is still running.
async fn running_since(app: &TestApp, by: &str, ago_secs: i64) -> JobId {
    let now = app.app.clock.now_micros();
    let mut tx = app.app.db.begin().await.unwrap();
    let id = jobs::enqueue(&mut tx, "test.ok", &json!({}), Micros(now), Micros(now))
        .await
        .unwrap();
    sqlx::query(
        "update jobs set state = 'running', attempts = 1, locked_by = $1, locked_at = $2 where id = $3",
    )
    .bind(by)
    .bind(now - ago_secs * 1_000_000)
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

on_both_at!(
    a_job_whose_runner_died_is_claimed_again,
    |app: TestApp| async move {
        // A runner on a server that went away took it 20 minutes ago.
        let id = running_since(&app, "gone", 20 * 60).await;
        app.app
            .jobs
            .register("test.ok", |_app, _run| async move { Ok(()) });
        let job = wait_for(&app, id, |j| j.state == JobState::Done).await;
        assert_eq!(job.attempts, 2);
    }
);

on_both_at!(
    a_job_not_long_running_is_left_to_its_runner,
    |app: TestApp| async move {
        let id = running_since(&app, "busy", 1).await;
        app.app
            .jobs
            .register("test.ok", |_app, _run| async move { Ok(()) });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let job = jobs::by_id(&app.app.db, id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.locked_by.as_deref(), Some("busy"));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_on_one_postgres_never_run_one_job_twice() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let runs: Arc<Mutex<HashMap<JobId, Vec<String>>>> = Arc::default();
    for server in [&a, &b] {
        let runs = runs.clone();
        server.app.jobs.register("test.count", move |app, run| {
            let runs = runs.clone();
            async move {
                runs.lock()
                    .unwrap()
                    .entry(run.id)
                    .or_default()
                    .push(app.jobs.runner_id().to_owned());
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(())
            }
        });
    }
    let mut ids = Vec::new();
    for n in 0..40 {
        let server = if n % 2 == 0 { &a } else { &b };
        ids.push(enqueue(server, "test.count", json!({"n": n}), 3).await);
    }
    b.app.jobs.wake();
    for &id in &ids {
        wait_for(&a, id, |j| j.state == JobState::Done).await;
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 40);
    for (id, by) in runs.iter() {
        assert_eq!(by.len(), 1, "job {id} ran {} times: {by:?}", by.len());
    }
    let done: i64 =
        sqlx::query_scalar("select count(*) from jobs where state = 'done' and attempts = 1")
            .fetch_one(a.app.db.pool())
            .await
            .unwrap();
    assert_eq!(done, 40);
}

on_both_at!(
    the_system_admin_sees_pending_failed_and_done_jobs,
    |app: TestApp| async move {
        app.app
            .jobs
            .register("test.ok", |_app, _run| async move { Ok(()) });
        app.app
            .jobs
            .register("test.broken", |_app, _run| async move {
                Err::<(), _>("办件系统接口超时".to_owned())
            });
        let ok = enqueue(&app, "test.ok", json!({}), 1).await;
        let broken = enqueue(&app, "test.broken", json!({}), 1).await;
        wait_for(&app, ok, |j| j.state == JobState::Done).await;
        wait_for(&app, broken, |j| j.state == JobState::Failed).await;
        // Due tomorrow: stays pending.
        let now = app.app.clock.now_micros();
        let mut tx = app.app.db.begin().await.unwrap();
        jobs::enqueue(
            &mut tx,
            "test.ok",
            &json!({}),
            Micros(now + 86_400_000_000),
            Micros(now),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let admin = app.api_as("admin").await;
        let r = admin.get_status("/api/v1/admin/jobs", StatusCode::OK).await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["counts"],
            json!({"pending": 1, "running": 0, "done": 1, "failed": 1})
        );
        assert_eq!(v["failed"][0]["last_error"], "办件系统接口超时");
        assert_eq!(v["done"][0]["kind"], "test.ok");
        assert_eq!(v["pending"][0]["state"], "pending");

        let doc = admin.get_json("/api/v1/openapi.json").await;
        assert!(
            doc["paths"]["/api/v1/admin/jobs"]["get"].is_object(),
            "documented"
        );

        let page = admin.get_status("/admin/jobs", StatusCode::OK).await;
        let html = page.text().await.unwrap();
        assert!(html.contains("后台任务"), "{html}");
        assert!(html.contains("办件系统接口超时"), "{html}");
        assert!(html.contains("test.broken"), "{html}");
        assert!(
            html.contains("href=\"/admin/jobs\""),
            "the admin's menu links the page"
        );

        let manager = app.api_as("manager").await;
        assert_eq!(
            manager.get("/api/v1/admin/jobs").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            manager.get("/admin/jobs").await.status(),
            StatusCode::FORBIDDEN
        );
        let clerk = app.api_as("clerk1").await;
        assert_eq!(
            clerk.get("/api/v1/admin/jobs").await.status(),
            StatusCode::FORBIDDEN
        );
        let html = manager.get("/admin").await.text().await.unwrap();
        assert!(
            !html.contains("href=\"/admin/jobs\""),
            "no link for a manager"
        );
        assert_eq!(
            app.anonymous().get("/api/v1/admin/jobs").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);
