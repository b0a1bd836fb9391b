//! Appointments (预约): free hours from the calendar, booking with its rules, the same-day
//! answer, check-in as a priority ticket, no-shows, and never more bookings than places under
//! concurrency, on both engines.

mod browser;
mod concurrency;
mod flow;
mod home;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cases::make_situation;
use crate::helpers::{Api, TestApp};

/// A township situation (受理权 at TY01, 收件权 at TY02, both posted in the demo) booked in
/// `periods` and answered `answer` (`auto` or `clerk`).
pub async fn make_bookable(app: &TestApp, code: &str, periods: &str, answer: &str) -> String {
    make_situation(app, code, "promised").await;
    let manager = app.api_as("manager").await;
    let r = manager
        .put(
            &format!("/api/v1/booking/matters/{code}"),
            json!({"periods": periods, "answer": answer}),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::NO_CONTENT).await;
    code.to_owned()
}

/// A valid ID-card number for the `n`-th test applicant.
pub fn id_card(n: u16) -> String {
    yichuang::identity::make_id_card("360702", jiff::civil::date(1985, 3, 9), n)
}

/// The body of a booking of `matter` on `date` at `start` by applicant `n`.
pub fn booking(matter: &str, date: &str, start: &str, n: u16) -> Value {
    json!({
        "center": "GX-ML", "matter": matter, "date": date, "start": start,
        "name": "李秀英", "phone": format!("139{:08}", n), "id_card": id_card(n),
        "reason": "工作日上班，只能午休时间办理",
    })
}

/// Books and expects 201; returns the answer.
pub async fn book_ok(api: &Api, body: Value) -> Value {
    let r = api.post("/api/v1/appointments", body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(status, StatusCode::CREATED, "booking: {v}");
    v
}

/// Books, asserting the error answer; returns its message.
pub async fn book_refused(api: &Api, body: Value, status: StatusCode, code: &str) -> String {
    api.post_error("/api/v1/appointments", body, status, code)
        .await
}

/// The slots of `matter` offered from `from` to `to`, asserting 200.
pub async fn slots(api: &Api, matter: &str, from: &str, to: &str) -> Vec<Value> {
    let r = api
        .get_status(
            &format!("/api/v1/centers/GX-ML/slots?matter={matter}&from={from}&to={to}"),
            StatusCode::OK,
        )
        .await;
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

/// The slot of `date` `start` in a slot list.
pub async fn slot(api: &Api, matter: &str, date: &str, start: &str) -> Option<Value> {
    let slots = slots(api, matter, date, date).await;
    slots.into_iter().find(|s| s["start"] == start)
}

/// How many places of the slot of `date` `start` are booked.
pub async fn booked(api: &Api, matter: &str, date: &str, start: &str) -> Value {
    slot(api, matter, date, start).await.expect("the slot")["booked"].clone()
}
