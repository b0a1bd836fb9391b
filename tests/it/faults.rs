//! Faults as a city expects them (issue 15): a unique-index conflict answers 409 on both engines; on a
//! PostgreSQL cluster of the test's own that it stops and restarts, a database outage answers 503 with a
//! Chinese message and `Retry-After`, the first requests after a restart succeed on the pooled
//! connections, and a display whose server's listener was away gets a `resync`, so the calls committed
//! meanwhile are shown. No timings are asserted: every wait is a loop with a bound.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::{
    db::Backend,
    error::{AppError, CONFLICT_MESSAGE, UNAVAILABLE_MESSAGE, conflict_on_duplicate},
};

use crate::{
    helpers::{Api, TestApp, on_both, test_config},
    pg::Cluster,
};

/// Makes two centers' codes collide: a unique-index violation no use case maps to a message of its own.
async fn duplicate_center_code(app: &TestApp) -> sqlx::Error {
    sqlx::query(
        "update centers set code = 'GX' \
         where id = (select min(id) from centers where code <> 'GX')",
    )
    .execute(app.app.db.pool())
    .await
    .expect_err("the unique index on centers.code refuses a second GX")
}

on_both!(
    a_unique_index_conflict_answers_409_with_a_chinese_message,
    |app: TestApp| async move {
        let e = AppError::from(duplicate_center_code(&app).await);
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.code(), "conflict");
        assert_eq!(e.public_message(), CONFLICT_MESSAGE);
        let response = axum::response::IntoResponse::into_response(e);
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "conflict");
        assert_eq!(v["error"]["message"], CONFLICT_MESSAGE);

        // A use case's own message for a duplicate it expects is kept.
        let e = conflict_on_duplicate("中心编码已存在")(duplicate_center_code(&app).await);
        assert!(
            matches!(&e, AppError::Conflict(m) if m == "中心编码已存在"),
            "{e:?}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_acted_on_from_two_servers_answers_409_never_500() {
    let (url, _) = crate::helpers::fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let kiosk = a.anonymous();
    for _ in 0..24 {
        crate::helpers::take(&kiosk, "TYZH").await;
    }
    let on_a = a.api_as("clerk1").await;
    let on_b = Api {
        base: b.base.clone(),
        ..on_a.clone()
    };
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let path = "/api/v1/centers/GX/windows/TY01/call-next";
        let (x, y) = tokio::join!(on_a.post(path, json!({})), on_b.post(path, json!({})));
        for r in [x, y] {
            let status = r.status();
            if status != StatusCode::OK {
                let v: Value = r.json().await.unwrap();
                assert!(
                    status == StatusCode::CONFLICT,
                    "call-next from two servers: {status} {v}"
                );
            }
            statuses.push(status);
        }
        let r = on_a
            .post("/api/v1/centers/GX/windows/TY01/finish", json!({}))
            .await;
        assert!(
            r.status() == StatusCode::OK || r.status() == StatusCode::CONFLICT,
            "finish: {}",
            r.status()
        );
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
}

/// Runs a blocking `pg_ctl` step off the runtime's workers.
async fn on_cluster(cluster: &std::sync::Arc<Cluster>, step: fn(&Cluster) -> Result<(), String>) {
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || step(&cluster))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Reads the event stream until `text` has come (`event: resync`, a ticket's number), at most `chunks`
/// chunks, each bounded by a timeout, so a lost event fails the test instead of hanging it; returns
/// what was read.
async fn read_until(stream: &mut reqwest::Response, text: &str, chunks: usize) -> String {
    let mut seen = String::new();
    for _ in 0..chunks {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{text}` on the event stream; read: {seen}"))
            .expect("the stream stays open")
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains(text) {
            return seen;
        }
    }
    panic!("no `{text}` on the event stream; read: {seen}");
}

/// How the event stream shows the call of `ticket`.
fn called_event(ticket: &str) -> String {
    format!("\"kind\":\"called\",\"ticket\":\"{ticket}\"")
}

async fn display(api: &Api) -> reqwest::Response {
    api.get("/api/v1/centers/GX/display").await
}

/// Calls the next ticket at `window`, trying again (a bounded number of times) while the database
/// comes back; returns the ticket's number.
async fn call_next_when_up(clerk: &Api, window: &str) -> String {
    for _ in 0..60 {
        let r = clerk
            .post(
                &format!("/api/v1/centers/GX/windows/{window}/call-next"),
                json!({}),
            )
            .await;
        if r.status() == StatusCode::OK {
            let v: Value = r.json().await.unwrap();
            return v["ticket"]["number"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("call-next never succeeded after the database came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_answers_503_then_recovers_and_resyncs_the_displays() {
    let cluster =
        std::sync::Arc::new(Cluster::start("faults").unwrap_or_else(|e| crate::pg::fail_setup(&e)));
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&cluster.url("postgres"))
        .await
        .expect("connect to the throwaway cluster");
    sqlx::query("create database yichuang")
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = sqlx::Connection::close(admin).await;
    let config = yichuang::config::Config {
        // An outage answers after half a second, not two.
        db_acquire_timeout_ms: 500,
        db_check_idle_ms: 1000,
        ..test_config(&cluster.url("yichuang"))
    };
    let app = TestApp::spawn_with(Backend::Postgres, config, None).await;
    let kiosk = app.anonymous();
    let clerk1 = app.api_as("clerk1").await;
    let clerk2 = app.api_as("clerk2").await;
    let clerk3 = app.api_as("clerk3").await;
    let manager = app.api_as("manager").await;
    let settings = json!({"rule": "fifo", "auto_no_show_after": 3, "wait_target_minutes": 30});
    let mut stream = reqwest::Client::new()
        .get(app.url("/api/v1/centers/GX/events"))
        .send()
        .await
        .unwrap();
    read_until(&mut stream, "event: hello", 10).await;
    // The listener connects in the background: issue tickets until the stream hears one.
    let mut heard = false;
    for _ in 0..50 {
        crate::helpers::take(&kiosk, "TYZH").await;
        if let Ok(Some(Ok(chunk))) =
            tokio::time::timeout(Duration::from_millis(300), stream.chunk())
                .await
                .map(Result::transpose)
            && String::from_utf8_lossy(&chunk).contains("event: issued")
        {
            heard = true;
            break;
        }
    }
    assert!(heard, "the server's listener never heard its own tickets");
    for _ in 0..3 {
        crate::helpers::take(&kiosk, "TYZH").await;
    }
    let first = call_next_when_up(&clerk1, "TY01").await;
    read_until(&mut stream, &called_event(&first), 40).await;

    // Several pooled connections, then the server stays idle while the database restarts.
    let reads = futures_util::future::join_all((0..6).map(|_| display(&kiosk))).await;
    assert!(reads.iter().all(|r| r.status() == StatusCode::OK));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    on_cluster(&cluster, Cluster::restart).await;

    // The first requests after the restart succeed: reads on the pool and a write in a transaction.
    let (reads, write) = tokio::join!(
        futures_util::future::join_all((0..6).map(|_| display(&kiosk))),
        manager.put("/api/v1/centers/GX/queue/settings", settings.clone()),
    );
    for r in &reads {
        assert_eq!(r.status(), StatusCode::OK, "a read right after the restart");
    }
    assert_eq!(
        write.status(),
        StatusCode::OK,
        "a write right after the restart"
    );
    // The listener was away: the display is told to re-read.
    read_until(&mut stream, "event: resync", 20).await;

    // An outage: 503 with the Chinese message and Retry-After, for reads and writes alike.
    on_cluster(&cluster, Cluster::stop).await;
    for r in [
        display(&kiosk).await,
        manager
            .put("/api/v1/centers/GX/queue/settings", settings.clone())
            .await,
    ] {
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "2");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unavailable");
        assert_eq!(v["error"]["message"], UNAVAILABLE_MESSAGE);
    }
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Back again: a call made as soon as the database answers, perhaps before this server listens
    // again, is shown — by its own event or by the resync that follows the listener's return.
    on_cluster(&cluster, Cluster::start_again).await;
    let second = call_next_when_up(&clerk2, "TY02").await;
    let seen = read_until(&mut stream, "event: resync", 40).await;
    let v: Value = display(&kiosk).await.json().await.unwrap();
    let shown: Vec<&str> = v["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter_map(|c| c["ticket"].as_str())
        .collect();
    assert!(
        shown.contains(&first.as_str()) && shown.contains(&second.as_str()),
        "both calls on the display: {shown:?} (stream: {seen})"
    );

    // And the listener hears calls again.
    let third = call_next_when_up(&clerk3, "TY03").await;
    read_until(&mut stream, &called_event(&third), 40).await;
}
