//! Never more bookings than places: many clients at once for the last places of an hour, on
//! each engine and with two servers on one PostgreSQL database.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use super::{booking, make_bookable, slot};
use crate::helpers::on_both_at;
use crate::helpers::{Api, TestApp, fresh_database, test_config};

/// Sets the places per hour of TY01 and TY02 at 梅林镇.
async fn places(app: &TestApp, each: i64) {
    let manager = app.api_as("manager").await;
    for w in ["TY01", "TY02"] {
        let r = manager
            .put(
                &format!("/api/v1/centers/GX-ML/windows/{w}/booking-capacity"),
                json!({"capacity": each}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
}

/// `clients` distinct applicants book the same hour at once through `apis` in turn; returns
/// the codes granted and how many were told `slot_full`.
async fn flash(apis: &[Api], matter: &str, clients: u16) -> (Vec<String>, usize) {
    let mut tasks = Vec::new();
    for n in 0..clients {
        let api = apis[usize::from(n) % apis.len()].clone();
        let body = booking(matter, "2026-12-02", "12:00", n);
        tasks.push(tokio::spawn(async move {
            let r = api.post("/api/v1/appointments", body).await;
            let status = r.status();
            let v: Value = r.json().await.expect("JSON answer");
            (status, v)
        }));
    }
    let mut granted = Vec::new();
    let mut full = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            StatusCode::CREATED => granted.push(v["code"].as_str().unwrap().to_owned()),
            StatusCode::CONFLICT if v["error"]["code"] == "slot_full" => full += 1,
            other => panic!("unexpected answer {other}: {v}"),
        }
    }
    (granted, full)
}

async fn assert_counts_match(app: &TestApp, places: i64) {
    let (rows, booked): (i64, i64) = sqlx::query_as(
        "select (select count(*) from appointments where service_date = '2026-12-02' and start = '12:00'), \
         (select coalesce(sum(booked), 0) from booking_hours where service_date = '2026-12-02' and start = '12:00')",
    )
    .fetch_one(app.app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows, places, "bookings stored");
    assert_eq!(booked, places, "places counted");
    let over: i64 = sqlx::query_scalar(
        "select count(*) from booking_hours h join windows w on w.id = h.window_id where h.booked > w.booking_capacity",
    )
    .fetch_one(app.app.db.pool())
    .await
    .unwrap();
    assert_eq!(over, 0, "no window's hour over its capacity");
}

on_both_at!(
    a_flash_opening_grants_exactly_the_places,
    "2026-12-01T09:00",
    |app: TestApp| async move {
        let m = make_bookable(&app, "T-BK-FLASH", "extended", "auto").await;
        places(&app, 10).await;
        let apis: Vec<Api> = (0..8).map(|_| app.anonymous()).collect();
        let (granted, full) = flash(&apis, &m, 300).await;
        assert_eq!(granted.len(), 20, "exactly the 20 places");
        assert_eq!(full, 280, "every other client told slot_full");
        assert_eq!(
            granted.iter().collect::<HashSet<_>>().len(),
            20,
            "codes unique"
        );
        assert_counts_match(&app, 20).await;
        let s = slot(&app.anonymous(), &m, "2026-12-02", "12:00")
            .await
            .unwrap();
        assert_eq!(
            (s["capacity"].as_i64(), s["booked"].as_i64()),
            (Some(20), Some(20))
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_never_overbook() {
    let (url, _) = fresh_database(Backend::Postgres).await;
    let at = crate::helpers::at("2026-12-01T09:00");
    // Each server with its own clock, fixed at the same instant.
    let server = || {
        let clock = yichuang::clock::Clock::fixed(at);
        TestApp::spawn_with_clock(Backend::Postgres, test_config(&url), None, clock)
    };
    let (a, b) = (server().await, server().await);
    let m = make_bookable(&a, "T-BK-TWO", "extended", "auto").await;
    places(&a, 15).await;
    let apis = vec![a.anonymous(), b.anonymous(), a.anonymous(), b.anonymous()];
    let (granted, full) = flash(&apis, &m, 200).await;
    assert_eq!(granted.len(), 30);
    assert_eq!(full, 170);
    assert_counts_match(&a, 30).await;
}
