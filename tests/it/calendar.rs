//! The service calendar through the API, the pages and the command line.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use crate::helpers::{Api, TestApp, fresh_database, on_both_at};

/// A 2027 table used only to prove that importing a year changes the calendar.
const YEAR_2027: &str = r#"
year = 2027
notice_title = "2027年节假日安排（测试用）"
notice_url = "https://www.gov.cn/"
holidays = [
  { name = "元旦", dates = ["2027-01-01", "2027-01-02", "2027-01-03"] },
]
workdays = [
  { name = "元旦", date = "2027-01-09" },
]
"#;

/// A center's calendar day as the API gives it.
async fn calendar_day(api: &Api, center: &str, date: &str) -> Value {
    api.get_json(&format!("/api/v1/centers/{center}/calendar/{date}"))
        .await
}

on_both_at!(
    the_api_gives_a_days_hours_and_deadlines_by_the_notice,
    "2026-11-23T09:00",
    |app: TestApp| async move {
        let anon = app.anonymous();
        let v = calendar_day(&anon, "GX", "2026-02-16").await;
        assert_eq!(
            v,
            json!({"date":"2026-02-16","workday":false,"holiday":"春节","regular":[],
               "extended":[{"start":"08:30","end":"12:00","on_demand":false}]})
        );
        // 正月初一 (2026-02-17): no extended service at all.
        let v = calendar_day(&anon, "GX", "2026-02-17").await;
        assert_eq!(v["extended"], json!([]));
        // A 调休 Saturday is a working day with the lunch break and the on-demand hour.
        let v = calendar_day(&anon, "GX", "2026-02-14").await;
        assert_eq!(v["workday"], true);
        assert_eq!(
            v["extended"],
            json!([{"start":"12:00","end":"13:30","on_demand":false},{"start":"16:30","end":"17:30","on_demand":true}])
        );
        let v = anon
            .get_json("/api/v1/calendar/deadline?from=2026-09-28&days=5")
            .await;
        assert_eq!(v, json!({"from":"2026-09-28","days":5,"due":"2026-10-10"}));
        let msg = anon
            .get_error(
                "/api/v1/centers/GX/calendar/2026-02-30",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        assert!(msg.contains("2026-02-30"), "{msg}");
        anon.get_error(
            "/api/v1/calendar/deadline?from=2026-09-28&days=-3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let v = anon.get_json("/api/v1/holidays").await;
        let years: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["year"].as_i64().unwrap())
            .collect();
        assert_eq!(years, (2019..=2026).collect::<Vec<_>>());
        assert!(
            v["items"][7]["notice_title"]
                .as_str()
                .unwrap()
                .contains("2026年部分节假日安排")
        );
    }
);

on_both_at!(
    a_manager_imports_a_new_year_without_a_rebuild,
    "2026-12-30T10:00",
    |app: TestApp| async move {
        let anon = app.anonymous();
        // No notice yet: 元旦 is off by law, flagged as computed without the notice; the
        // Saturday the notice will make a 调休 working day is still a weekend.
        let v = calendar_day(&anon, "GX", "2027-01-01").await;
        assert_eq!(v["workday"], false, "元旦 by law: {v}");
        assert_eq!(v["holiday"], "元旦");
        assert_eq!(v["year_missing"], true);
        let v = calendar_day(&anon, "GX", "2027-01-09").await;
        assert_eq!(v["workday"], false, "a plain Saturday before the notice");
        let manager = app.api_as("manager").await;
        let clerk = app.api_as("clerk1").await;
        clerk
            .post_error(
                "/api/v1/holidays",
                json!({"toml": YEAR_2027}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        let bad = YEAR_2027.replace("2027-01-03", "2027-02-30");
        let audits = app.count("audit_log").await;
        let msg = manager
            .post_error(
                "/api/v1/holidays",
                json!({"toml": bad}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{msg}"
        );
        assert_eq!(app.count("holiday_years").await, 0);
        assert_eq!(app.count("audit_log").await, audits);

        let r = manager
            .post_status(
                "/api/v1/holidays",
                json!({"toml": YEAR_2027}),
                StatusCode::CREATED,
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["year"], 2027);
        assert_eq!(v["source"], "imported");
        let v = calendar_day(&anon, "GX", "2027-01-01").await;
        assert_eq!(v["workday"], false);
        assert_eq!(v["holiday"], "元旦");
        assert_ne!(
            v["year_missing"], true,
            "the imported notice covers it: {v}"
        );
        let v = calendar_day(&anon, "GX", "2027-01-09").await;
        assert_eq!(v["workday"], true, "the imported 调休 Saturday");
        // The public page of this week names the next closed day.
        let html = anon.get("/centers/GX/hours").await.text().await.unwrap();
        assert!(html.contains("12月30日") && html.contains("元旦"), "{html}");
        assert_eq!(app.count("audit_log").await, audits + 1);
    }
);

on_both_at!(
    a_center_uses_its_own_hours,
    "2026-07-01T10:00",
    |app: TestApp| async move {
        let anon = app.anonymous();
        let manager = app.api_as("manager").await;
        let hours = json!({"season": {"summer_start": "05-01", "winter_start": "10-01"},
        "summer": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
        "winter": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]});
        let r = manager
            .put("/api/v1/centers/GX-ML/hours", hours.clone())
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = calendar_day(&anon, "GX-ML", "2026-07-01").await;
        assert_eq!(
            v["regular"],
            json!([{"start":"09:00","end":"12:00"},{"start":"13:00","end":"17:00"}])
        );
        // The county keeps seed 000's summer hours.
        let v = calendar_day(&anon, "GX", "2026-07-01").await;
        assert_eq!(
            v["regular"],
            json!([{"start":"08:30","end":"12:00"},{"start":"14:00","end":"17:00"}])
        );
        // Overlapping periods are refused and change nothing.
        let bad = json!({"summer": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "17:00"}],
        "winter": [{"start": "09:00", "end": "12:00"}]});
        manager
            .put_error(
                "/api/v1/centers/GX-ML/hours",
                bad,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        let v = anon.get_json("/api/v1/centers/GX-ML/hours").await;
        assert_eq!(v, hours);
        // Today's page and the lobby fragment show the hours.
        let html = anon.get("/centers/GX-ML/hours").await.text().await.unwrap();
        assert!(html.contains("09:00–12:00，13:00–17:00"), "{html}");
        let frag = anon
            .get("/centers/GX-ML/hours/today")
            .await
            .text()
            .await
            .unwrap();
        assert!(frag.contains("工作时间 09:00–12:00，13:00–17:00"), "{frag}");
        let clerk = app.api_as("clerk7").await;
        clerk
            .put_error(
                "/api/v1/centers/GX-ML/hours",
                hours,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
    }
);

use crate::helpers::run_cli as yichuang;

/// `yichuang calendar deadline --from FROM --days DAYS --json` on the database at `url`.
fn deadline(url: &str, from: &str, days: &str) -> (bool, String, String) {
    yichuang(
        url,
        &[
            "calendar", "deadline", "--from", from, "--days", days, "--json",
        ],
    )
}

#[tokio::test]
async fn the_calendar_command_prints_the_contract() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await;
    let (ok, out, err) = yichuang(&url, &["calendar", "day", "2026-02-16", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        r#"{"date":"2026-02-16","workday":false,"holiday":"春节","regular":[],"extended":[{"start":"08:30","end":"12:00","on_demand":false}]}"#
    );
    let (ok, out, err) = deadline(&url, "2026-09-28", "5");
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        r#"{"from":"2026-09-28","days":5,"due":"2026-10-10"}"#
    );
    let (ok, _, err) = yichuang(&url, &["calendar", "day", "2026-02-30", "--json"]);
    assert!(!ok);
    assert!(err.contains("2026-02-30"), "{err}");
    let (ok, _, err) = deadline(&url, "2026-09-28", "-3");
    assert!(!ok);
    assert!(err.contains("-3"), "{err}");
    // A year without a notice: computed as weekdays and weekends, said on stderr, exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yichuang"))
        .args(["calendar", "day", "2027-03-01", "--json"])
        .env("YICHUANG_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""workday":true"#));
    assert!(String::from_utf8_lossy(&out.stderr).contains("尚未录入 2027 年"));
    let (ok, out, _) = deadline(&url, "2026-12-20", "20");
    assert!(!ok, "a deadline reaching into 2027 is provisional");
    assert!(out.contains(r#""due":"2027-"#), "{out}");
    let (ok, _, err) = yichuang(
        &url,
        &[
            "calendar",
            "day",
            "2026-03-01",
            "--center",
            "NOPE",
            "--json",
        ],
    );
    assert!(!ok);
    assert!(err.contains("NOPE"), "{err}");
}

/// A manager's browser-like session: a cookie client signed in through the form, and the
/// CSRF token of its pages.
async fn manager_session(app: &TestApp) -> (reqwest::Client, String) {
    crate::helpers::form_session(app, "manager", Some("/admin/holidays")).await
}

crate::helpers::on_both!(
    a_manager_fills_in_a_year_on_the_form_and_mistakes_are_told_beside_their_fields,
    |app: TestApp| async move {
        let (client, csrf) = manager_session(&app).await;
        let page = crate::helpers::page_text(&app, &client, "/admin/holidays").await;
        assert!(page.contains("id=\"holiday-form\""), "{page}");
        assert!(
            page.contains("id=\"holiday-toml\""),
            "the TOML import stays"
        );

        let post = |fields: Vec<(&'static str, &'static str)>| {
            let mut form = vec![("csrf", csrf.clone())];
            form.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
            client
                .post(app.url("/admin/holidays/form"))
                .form(&form)
                .send()
        };
        let r = post(vec![
            ("year", "2027"),
            ("notice_url", "gov.cn"),
            ("break_0_from", "2027-01-01"),
            ("break_0_to", "2027-01-03"),
            ("break_1_from", "2027-02-12"),
            ("break_1_to", "2027-02-05"),
            ("workday_0_date", "2027-02-14"),
            ("workday_0_name", "国庆节"),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        let beside = |id: &str| -> String {
            html.split(&format!("id=\"{id}\">"))
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap_or_else(|| panic!("no {id} in {html}"))
                .to_owned()
        };
        assert!(beside("form-url-error").contains("https://"));
        assert!(beside("break-1-error").contains("早于"));
        assert!(beside("workday-0-error").contains("国庆节"));
        // What was typed is kept.
        assert!(html.contains("value=\"2027-02-12\""));
        assert_eq!(app.count("holiday_years").await, 0);

        let r = post(vec![
            ("year", "2027"),
            ("notice_url", "https://www.gov.cn/zhengce/2027.htm"),
            ("break_0_from", "2027-01-01"),
            ("break_0_to", "2027-01-03"),
            ("break_1_from", "2027-02-05"),
            ("break_1_to", "2027-02-12"),
            ("workday_0_date", "2027-02-14"),
            ("workday_0_name", "春节"),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/admin/holidays?ok=")
        );
        assert_eq!(app.count("holiday_years").await, 1);
        let anon = app.anonymous();
        let day = calendar_day(&anon, "GX", "2027-02-10").await;
        assert_eq!(day["workday"], false);
        assert_eq!(day["holiday"], "春节");
        let day = calendar_day(&anon, "GX", "2027-02-14").await;
        assert_eq!(day["workday"], true, "the 调休 Sunday is worked");
        let years = anon.get_json("/api/v1/holidays").await;
        assert!(
            years
                .to_string()
                .contains("国务院办公厅关于2027年部分节假日安排的通知"),
            "{years}"
        );
    }
);
