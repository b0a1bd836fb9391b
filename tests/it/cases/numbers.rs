//! Case numbers: unique per center and year, in sequence, when two servers on one
//! PostgreSQL database take cases at once.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use super::{id_card, make_situation};
use crate::helpers::{TestApp, fresh_database, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_take_cases_at_once_without_a_duplicate_number() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await;
    let code = make_situation(&a, "T-NUM-A", "promised").await;
    let on_a = a.api_as("clerk7").await;
    let on_b = b.api_as("clerk8").await;
    let mut tasks = Vec::new();
    for i in 0..60u16 {
        let api = if i % 2 == 0 {
            on_a.clone()
        } else {
            on_b.clone()
        };
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            let r = api.post_status("/api/v1/cases",
                    json!({"situation": code, "applicant": {"name": "王建明", "id_card": id_card(i)}}), StatusCode::CREATED).await;
            let v: Value = r.json().await.unwrap();
            v["number"].as_str().unwrap().to_owned()
        }));
    }
    let mut numbers = HashSet::new();
    for t in tasks {
        assert!(numbers.insert(t.await.unwrap()), "a number was given twice");
    }
    let year = jiff::Timestamp::now()
        .in_tz(yichuang::clock::HALL_TZ)
        .unwrap()
        .year();
    let expected: HashSet<String> = (1..=60).map(|n| format!("{year}-GX-ML-{n:06}")).collect();
    assert_eq!(numbers, expected, "numbers run 1…60 without a gap");
}
