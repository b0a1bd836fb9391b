//! What a visitor or a clerk meets in the first hour: error pages in the right shape, the
//! public devices without the staff menu, the desk's labels, the icon.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use crate::helpers::{TestApp, on_both};

on_both!(
    unknown_addresses_and_methods_answer_in_the_shape_of_their_side,
    |app: TestApp| async move {
        let anon = app.anonymous();
        // A page nobody serves: the HTML error page, not JSON.
        let r = anon.get_status("/hours/GX-ML", StatusCode::NOT_FOUND).await;
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{kind}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("出错了（404）") && html.contains("找不到该页面"),
            "{html}"
        );
        // An API address nobody serves: the documented error shape.
        let r = anon
            .get_status("/api/v1/nothing-here", StatusCode::NOT_FOUND)
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found");
        assert!(v["error"]["message"].as_str().unwrap().contains("找不到"));

        // A method an address does not take: never an empty body.
        let r = anon.delete("/book").await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("出错了（405）") && html.contains("不支持"),
            "{html}"
        );
        let r = anon.delete("/api/v1/centers").await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert!(v["error"]["message"].as_str().unwrap().contains("不支持"));

        // The browser's own request for an icon.
        let r = anon.get_status("/favicon.ico", StatusCode::OK).await;
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().starts_with("<svg"));
    }
);

on_both!(
    public_devices_show_no_staff_or_api_menu,
    |app: TestApp| async move {
        let anon = app.anonymous();
        for path in ["/centers/GX-ML/kiosk", "/centers/GX-ML/check-in"] {
            let r = anon.get(path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            for link in ["href=\"/api/docs\"", "href=\"/login\"", "href=\"/matters\""] {
                assert!(!html.contains(link), "{path} shows {link}");
            }
            assert!(html.contains("一窗 · 政务服务"), "{path} keeps the brand");
        }
        // The kiosk leads to check-in and booking; the hours page to booking.
        let html = anon.get("/centers/GX-ML/kiosk").await.text().await.unwrap();
        assert!(html.contains("href=\"/centers/GX-ML/check-in\""));
        assert!(html.contains("href=\"/book/GX-ML\""));
        let html = anon.get("/centers/GX-ML/hours").await.text().await.unwrap();
        assert!(html.contains("href=\"/book/GX-ML\""));
        // Everyone else keeps the menu.
        let html = anon.get("/matters").await.text().await.unwrap();
        assert!(html.contains("href=\"/api/docs\""));
    }
);

on_both!(
    the_desk_and_the_header_speak_chinese,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        kiosk
            .post_status(
                "/api/v1/centers/GX/tickets",
                json!({"zone": "TYZH", "priority": "elderly"}),
                StatusCode::CREATED,
            )
            .await;
        let clerk = app.api_as("clerk1").await;
        clerk
            .post_status(
                "/api/v1/centers/GX/windows/TY01/call-next",
                json!({}),
                StatusCode::OK,
            )
            .await;
        // Two more wait: the desk lists its line with their waits and priority marks.
        for body in [
            json!({"zone": "TYZH"}),
            json!({"zone": "TYZH", "priority": "pregnant"}),
        ] {
            kiosk
                .post_status("/api/v1/centers/GX/tickets", body, StatusCode::CREATED)
                .await;
        }
        let html = clerk
            .get("/centers/GX/windows/TY01/desk")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("优先 · 老年人"), "{html}");
        assert!(
            !html.contains("elderly</span>"),
            "the priority's code shown"
        );
        assert!(html.contains("等候中（2 人）"), "{html}");
        let line = html.split("id=\"line\"").nth(1).expect("the waiting line");
        let line = line.split("</table>").next().unwrap();
        assert!(line.contains("<td>A002</td><td>0 分钟</td>"), "{line}");
        assert!(
            line.contains("<td>A003</td>") && line.contains("优先 · 孕妇"),
            "{line}"
        );
        assert!(!line.contains("A001"), "the called ticket is not waiting");
        // The overrun badge is hidden until the limit passes, and [hidden] wins over .badge.
        assert!(html.contains("id=\"overrun\" class=\"badge danger\" hidden"));
        let css = app
            .anonymous()
            .get("/static/app.css")
            .await
            .text()
            .await
            .unwrap();
        assert!(css.contains("[hidden] { display: none !important; }"));

        // A name that is its role is said once.
        let admin = app.api_as("admin").await;
        let html = admin.get("/").await.text().await.unwrap();
        assert!(
            !html.contains("系统管理员（系统管理员）"),
            "the role said twice"
        );
        assert!(
            html.contains("<span class=\"who\">系统管理员</span>"),
            "{html}"
        );
    }
);

/// The hours page of 梅林镇 on Thursday 2026-12-03 at `at`: its status line and the week's dates.
async fn hours_at(backend: Backend, at: &str) -> (String, Vec<String>) {
    let app = TestApp::spawn_at(backend, at).await;
    let html = app
        .anonymous()
        .get("/centers/GX-ML/hours")
        .await
        .text()
        .await
        .unwrap();
    let status = html
        .split("id=\"now-status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_owned();
    let week = html
        .split("id=\"week\"")
        .nth(1)
        .unwrap_or_default()
        .split("<td>")
        .skip(1)
        .step_by(4)
        .map(|c| c.split('<').next().unwrap_or_default().to_owned())
        .collect();
    (status, week)
}

async fn hours_page_says_this_week_and_whether_the_hall_is_open(backend: Backend) {
    let (status, week) = hours_at(backend, "2026-12-03T10:00").await;
    assert_eq!(status, "现在正在办公。");
    assert_eq!(
        week.first().map(String::as_str),
        Some("11月30日 周一"),
        "{week:?}"
    );
    assert_eq!(
        week.last().map(String::as_str),
        Some("12月6日 周日"),
        "{week:?}"
    );
    assert_eq!(week.len(), 7);
    let (status, _) = hours_at(backend, "2026-12-03T12:30").await;
    assert!(status.contains("延时错时服务"), "{status}");
    let (status, _) = hours_at(backend, "2026-12-03T07:00").await;
    assert_eq!(status, "现在不在办公时间，今天 08:30 开始办公。");
    let (status, _) = hours_at(backend, "2026-12-03T18:30").await;
    assert_eq!(status, "今日已下班。下次办公：12月4日（周五）08:30。");
}

crate::helpers::on_each_engine!(
    the_hours_page_says_this_week_and_whether_the_hall_is_open,
    hours_page_says_this_week_and_whether_the_hall_is_open
);

/// A server whose kiosks follow the hall's hours, at `at` in Beijing.
async fn kiosk_at(backend: Backend, at: &str) -> TestApp {
    let (url, dir) = crate::helpers::fresh_database(backend).await;
    let ts = at
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .in_tz(yichuang::clock::HALL_TZ)
        .unwrap()
        .timestamp();
    let config = yichuang::config::Config {
        kiosk_hours: true,
        ..crate::helpers::test_config(&url)
    };
    TestApp::spawn_with_clock(backend, config, dir, yichuang::clock::Clock::fixed(ts)).await
}

async fn kiosks_follow_the_hours_and_the_posts(backend: Backend) {
    // 23:07 on a Thursday: nothing is issued, and the kiosk says when the hall opens.
    let app = kiosk_at(backend, "2026-12-03T23:07").await;
    let anon = app.anonymous();
    let html = anon.get("/centers/GX/kiosk").await.text().await.unwrap();
    assert!(
        html.contains("暂停取号：今日已下班。下次办公：12月4日（周五）08:30。"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"zone-TYZH\""),
        "no zone offered when closed"
    );
    let r = anon
        .post("/api/v1/centers/GX/tickets", json!({"zone": "TYZH"}))
        .await;
    let msg = crate::helpers::expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(msg.contains("下次办公：12月4日（周五）08:30"), "{msg}");
    assert_eq!(app.count("tickets").await, 0);

    // 07:50 the same day: the hall opens at 08:30.
    let app = kiosk_at(backend, "2026-12-03T07:50").await;
    let r = app
        .anonymous()
        .post("/api/v1/centers/GX/tickets", json!({"zone": "TYZH"}))
        .await;
    let msg = crate::helpers::expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(msg.contains("今天 08:30 开始办公"), "{msg}");

    // 10:00: tickets are issued; a zone with no window on post is shown but not offered.
    let app = kiosk_at(backend, "2026-12-03T10:00").await;
    let anon = app.anonymous();
    crate::helpers::take(&anon, "TYZH").await;
    // The demo county hall has someone on post in every zone: all are offered.
    let html = anon.get("/centers/GX/kiosk").await.text().await.unwrap();
    for zone in [
        "TYZH", "BDC", "SCZR", "GCJS", "RSYB", "GAJC", "SWJC", "GJJ", "GAZQ",
    ] {
        assert!(
            html.contains(&format!(
                "<button type=\"submit\" name=\"zone\" value=\"{zone}\""
            )),
            "{zone} offered: {html}"
        );
    }
    assert!(!html.contains("暂无窗口受理"), "{html}");
    let html = anon.get("/centers/GX-ML/kiosk").await.text().await.unwrap();
    assert!(
        html.contains("<button type=\"submit\" name=\"zone\" value=\"TYZH\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"zone-GGFW\" disabled>公共服务<small>暂无窗口受理</small>"),
        "{html}"
    );
    // Asking for it anyway (an old page, a script) is refused with the reason.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let page = crate::helpers::page_text(&app, &client, "/centers/GX-ML/kiosk").await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let before = app.count("tickets").await;
    let r = crate::helpers::post_form(
        &app,
        &client,
        "/centers/GX-ML/kiosk",
        &[
            ("csrf", csrf.as_str()),
            ("priority", "none"),
            ("zone", "GGFW"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("“公共服务”暂无窗口受理"));
    assert_eq!(app.count("tickets").await, before);
}

crate::helpers::on_each_engine!(
    kiosks_follow_the_hours_and_the_posts,
    kiosks_follow_the_hours_and_the_posts
);

on_both!(
    the_audit_trail_reads_in_chinese,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let r = manager
            .post(
                "/api/v1/centers/GX/zones",
                json!({"code": "YLZQ", "name": "养老服务专区", "sort_order": 30}),
            )
            .await;
        crate::helpers::assert_status(r, StatusCode::CREATED).await;
        let html = manager.get("/admin/audit").await.text().await.unwrap();
        let row = html
            .split("<tr>")
            .find(|r| r.contains("YLZQ"))
            .unwrap_or_else(|| panic!("the new zone is in the trail: {html}"));
        assert!(row.contains("<td>新建</td>"), "{row}");
        assert!(row.contains("专区 YLZQ"), "{row}");
        assert!(row.contains("<li>名称：养老服务专区</li>"), "{row}");
        assert!(!row.contains("<td>create</td>"), "{row}");
        // The raw record is still there, folded.
        assert!(
            row.contains("<details><summary>原始记录</summary>"),
            "{row}"
        );
    }
);
