//! Operations: health, metrics, OpenAPI, migrations, audit immutability, shared PostgreSQL.

use reqwest::StatusCode;
use serde_json::Value;
use yichuang::db::{Backend, migrations_for};

use crate::helpers::{TestApp, fresh_database, on_both, test_config};

#[test]
fn both_engines_carry_the_same_migration_versions() {
    let s: Vec<(i64, String)> = migrations_for(Backend::Sqlite)
        .into_iter()
        .map(|m| (m.version, m.name))
        .collect();
    let p: Vec<(i64, String)> = migrations_for(Backend::Postgres)
        .into_iter()
        .map(|m| (m.version, m.name))
        .collect();
    assert!(!s.is_empty());
    assert_eq!(s, p);
}

on_both!(
    health_metrics_and_api_docs_answer,
    |app: TestApp| async move {
        let anon = app.anonymous();
        anon.get_status("/healthz", StatusCode::OK).await;
        let _ = anon.get("/api/v1/centers").await;
        let r = anon.get_status("/metrics", StatusCode::OK).await;
        let text = r.text().await.unwrap();
        assert!(text.contains("http_requests_total"), "{text}");
        let r = anon
            .get_status("/api/v1/openapi.json", StatusCode::OK)
            .await;
        let doc: Value = r.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/centers",
            "/api/v1/centers/{center}/windows",
            "/api/v1/centers/{center}/zones",
            "/api/v1/login",
            "/api/v1/centers/{center}/tickets",
            "/api/v1/centers/{center}/windows/{window}/call-next",
            "/api/v1/centers/{center}/events",
            "/api/v1/matters/{code}/files",
            "/api/v1/calendar/deadline",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} documented");
        }
        let html = anon.get("/static/apidocs.html").await.text().await.unwrap();
        assert!(html.contains("apidocs.js"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "docs page loads nothing from the internet"
        );
        // An unknown page answers the HTML error page; an unknown API address the JSON shape.
        let r = anon
            .get_status("/no/such/page", StatusCode::NOT_FOUND)
            .await;
        assert!(r.text().await.unwrap().contains("出错了（404）"));
        let r = anon.get("/api/v1/no/such").await;
        crate::helpers::expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
    }
);

on_both!(
    the_audit_log_refuses_edits_and_deletes,
    |app: TestApp| async move {
        assert!(app.count("audit_log").await > 0, "the demo load is audited");
        crate::helpers::assert_append_only(&app, "audit_log", "actor").await;
        assert!(app.count("audit_log").await > 0);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_postgres_database() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let (a, b) = tokio::join!(
        TestApp::spawn_with(Backend::Postgres, test_config(&url), None),
        TestApp::spawn_with(Backend::Postgres, test_config(&url), None),
    );
    // Exactly one of them loaded the demo.
    assert_eq!(
        a.passwords.is_empty() as u8 + b.passwords.is_empty() as u8,
        1
    );
    let loaded = if a.passwords.is_empty() { &b } else { &a };
    let other = if a.passwords.is_empty() { &a } else { &b };
    let manager = loaded.api_as("manager").await;
    manager
        .post_status(
            "/api/v1/centers/GX/windows",
            serde_json::json!({"code": "TY09", "name": "通用综合受理9", "kind": "general"}),
            StatusCode::CREATED,
        )
        .await;
    let names =
        crate::helpers::item_names(other.anonymous().get("/api/v1/centers/GX/windows").await).await;
    assert!(names.contains(&"通用综合受理9".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_limit_answers_429_in_chinese() {
    let (url, dir) = fresh_database(Backend::Sqlite).await;
    let config = yichuang::config::Config {
        rate_limit_per_second: 1,
        rate_limit_burst: 3,
        ..test_config(&url)
    };
    let app = TestApp::spawn_with(Backend::Sqlite, config, dir).await;
    let anon = app.anonymous();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(anon.get("/api/v1/centers").await);
    }
    let limited = statuses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS);
    let limited = limited.expect("a burst past the limit is refused");
    crate::helpers::expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}
