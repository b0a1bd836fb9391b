//! Cases (办件): intake at the window, exactly one decision, the back office, 出件, deadlines,
//! warnings, notices and the public progress page, on both engines.

mod browser;
mod flow;
mod kinds;
mod notices;
mod numbers;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, merged};

pub(crate) use crate::helpers::on_both_at;

/// A valid ID-card number for the `n`-th test applicant (check digit computed).
pub fn id_card(n: u16) -> String {
    yichuang::identity::make_id_card("360721", jiff::civil::date(1978, 5, 17), n)
}

/// Saves a township situation (as the hall manager): 5 promised and 20 legal working days,
/// 告知承诺 allowed, two materials (the second 容缺-able), two review points, 受理权 at TY01
/// and 收件权 at TY02. `kind` is the 办件类型 code.
pub async fn make_situation(app: &TestApp, code: &str, kind: &str) -> String {
    let manager = app.api_as("manager").await;
    let r = manager
        .put(
            &format!("/api/v1/matters/{code}"),
            json!({
                "center": "GX-ML", "node": "matter", "name": format!("测试事项{code}"),
                "type_code": "licence", "department": "市监局", "level": "township",
                "kind": kind, "legal_limit": 20, "promised_limit": if kind == "immediate" { 0 } else { 5 },
                "limit_unit": "working_days", "notice_commitment": true,
                "legal_basis": "《中华人民共和国行政许可法》",
                "materials": [
                    {"name": "申请书", "form": "original", "copies": 1, "required": true},
                    {"name": "场所使用证明", "form": "copy", "copies": 2, "required": true, "tolerable": true},
                ],
                "review_form": ["申请书由申请人签字"],
                "review_content": ["经营场所与申请一致"],
                "windows": [{"window": "TY01", "rights": "accept"}, {"window": "TY02", "rights": "collect"}],
            }),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::OK).await;
    code.to_owned()
}

/// Takes in a case for applicant `n` as `api`; returns its answer.
pub async fn intake(api: &Api, situation: &str, n: u16) -> Value {
    intake_with(api, situation, n, json!({})).await
}

/// [`intake`] with more members in the body (`received`, `window`, `ticket` …).
pub async fn intake_with(api: &Api, situation: &str, n: u16, extra: Value) -> Value {
    let body = json!({
        "center": "GX-ML",
        "situation": situation,
        "applicant": {"name": "王建明", "id_card": id_card(n), "phone": "13800005678"},
    });
    let r = api.post("/api/v1/cases", merged(&body, extra)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "intake");
    r.json().await.expect("case JSON")
}

pub async fn post_ok(api: &Api, path: &str, body: Value) -> Value {
    let r = api.post(path, body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(status, StatusCode::OK, "{path}: {v}");
    v
}

/// The body of `issue` handing the result over on site to whoever shows ID card `id_card(n)`.
pub fn onsite(n: u16) -> Value {
    json!({"delivery": "onsite", "id_card": id_card(n)})
}

/// The body of `issue` sending the result by post under `tracking_no`.
pub fn by_post(tracking_no: &str) -> Value {
    json!({"delivery": "post", "tracking_no": tracking_no})
}

/// The case number in an answer.
pub fn number(v: &Value) -> String {
    v["number"].as_str().expect("a case number").to_owned()
}

/// The actions of a case's history, oldest first.
pub fn actions(case: &Value) -> Vec<&str> {
    case["history"]
        .as_array()
        .expect("a history")
        .iter()
        .map(|s| s["action"].as_str().expect("an action"))
        .collect()
}

/// Takes `step` on case `n` (`POST /api/v1/cases/{n}/{step}`), asserting 200; returns the case.
pub async fn step(api: &Api, n: &str, step: &str, body: Value) -> Value {
    post_ok(api, &format!("/api/v1/cases/{n}/{step}"), body).await
}

/// Tries `step` on case `n`, asserting the error `status` and `code`; returns the message.
async fn step_error(
    api: &Api,
    n: &str,
    step: &str,
    body: Value,
    status: StatusCode,
    code: &str,
) -> String {
    let r = api.post(&format!("/api/v1/cases/{n}/{step}"), body).await;
    crate::helpers::expect_error(r, status, code).await
}

/// Tries `step` on case `n`, asserting 409 `invalid_state`: not possible in the case's state.
/// Returns the message.
pub async fn step_conflict(api: &Api, n: &str, step: &str, body: Value) -> String {
    step_error(api, n, step, body, StatusCode::CONFLICT, "invalid_state").await
}

/// Tries `step` on case `n`, asserting 403 `forbidden`: not the caller's to take.
pub async fn step_forbidden(api: &Api, n: &str, step: &str, body: Value) -> String {
    step_error(api, n, step, body, StatusCode::FORBIDDEN, "forbidden").await
}

/// Tries `step` on case `n`, asserting 422 `invalid`; returns the message.
pub async fn step_invalid(api: &Api, n: &str, step: &str, body: Value) -> String {
    step_error(
        api,
        n,
        step,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await
}

/// Tries `step` on case `n`, asserting a 422 that names `field`; returns the message.
pub async fn step_field_error(api: &Api, n: &str, step: &str, body: Value, field: &str) -> String {
    let r = api.post(&format!("/api/v1/cases/{n}/{step}"), body).await;
    crate::helpers::expect_field(r, field).await
}

/// The body of `decide` that approves.
pub fn approval() -> Value {
    json!({"decision": "approved"})
}

/// A situation `code` of `kind` (see [`make_situation`]) and its window clerk, clerk7 at TY01.
pub async fn desk(app: &TestApp, code: &str, kind: &str) -> (String, Api) {
    let code = make_situation(app, code, kind).await;
    (code, app.api_as("clerk7").await)
}

/// Takes in a case for applicant `n` as `api`; returns its number.
pub async fn received(api: &Api, situation: &str, n: u16) -> String {
    number(&intake(api, situation, n).await)
}

/// Takes in a case for applicant `n` and accepts it as `api`; returns its number.
pub async fn accepted(api: &Api, situation: &str, n: u16) -> String {
    let number = received(api, situation, n).await;
    step(api, &number, "accept", json!({})).await;
    number
}

/// Approves case `n` as `api` (`decide` with `approved`), asserting 200; returns the case.
pub async fn approve(api: &Api, n: &str) -> Value {
    step(api, n, "decide", approval()).await
}
