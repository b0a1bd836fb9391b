//! The matter catalogue: public search and guides, lists, spreadsheet exchange, edits.

mod admin;
mod edits;
mod files;
mod guides;
mod pages;
mod search;
mod spreadsheets;
mod synonyms;
mod template;

use reqwest::StatusCode;
use serde_json::Value;
use yichuang::catalog::{MatterInput, xlsx};

use crate::helpers::TestApp;

pub(super) async fn search(app: &TestApp, q: &str) -> Value {
    let r = app
        .anonymous()
        .get(&format!("/api/v1/matters?center=GX-ML&q={}", url_encode(q)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub(super) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(super) fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

pub(super) async fn export(app: &TestApp, api: &crate::helpers::Api) -> Vec<u8> {
    let r = api
        .get_status("/api/v1/catalog/export?center=GX-ML", StatusCode::OK)
        .await;
    let _ = app;
    r.bytes().await.unwrap().to_vec()
}

pub(super) async fn import(api: &crate::helpers::Api, bytes: Vec<u8>) -> reqwest::Response {
    api.client
        .post(format!("{}/api/v1/catalog/import", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header("content-type", yichuang::catalog::api::XLSX)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub(super) fn parsed(bytes: &[u8]) -> Vec<MatterInput> {
    let types: Vec<(String, String)> = [
        ("licence", "行政许可"),
        ("confirmation", "行政确认"),
        ("payment", "行政给付"),
        ("other_power", "其他行政权力"),
        ("public_service", "公共服务"),
    ]
    .iter()
    .map(|(a, b)| ((*a).into(), (*b).into()))
    .collect();
    xlsx::read(bytes, &types)
        .map_err(|e| format!("{e:?}"))
        .unwrap()
}

pub(super) fn bad_workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("事项").unwrap();
    let head = xlsx::MATTER_COLUMNS;
    for (i, h) in head.iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    let good = [
        "NEW-1",
        "GXML-C01",
        "GX-ML",
        "事项",
        "新的事项",
        "1",
        "公共服务",
        "民政局",
        "乡级",
        "即办件",
    ];
    for (i, v) in good.iter().enumerate() {
        ws.write_string(1, i as u16, *v).unwrap();
    }
    let bad = [
        "NEW-2",
        "GXML-C01",
        "GX-ML",
        "事项",
        "另一个事项",
        "2",
        "行政许可证",
        "民政局",
        "乡级",
        "马上办",
    ];
    for (i, v) in bad.iter().enumerate() {
        ws.write_string(2, i as u16, *v).unwrap();
    }
    ws.write_string(2, 13, "三十").unwrap();
    wb.save_to_buffer().unwrap()
}

pub(super) async fn manager_session(app: &TestApp) -> (reqwest::Client, String) {
    session_as(app, "manager").await
}

/// A browser-like client signed in as `login`, and its CSRF token.
pub(super) async fn session_as(app: &TestApp, login: &str) -> (reqwest::Client, String) {
    crate::helpers::form_session(app, login, Some("/admin/matters")).await
}
