//! Bad input at the edge: control characters are refused once, before any handler or database
//! sees them, with a Chinese message, on both engines (PostgreSQL answered 500 for a NUL).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, on_both};

on_both!(
    a_nul_or_other_control_character_is_refused_everywhere_and_changes_nothing,
    |app: TestApp| async move {
        let anon = app.anonymous();
        let tickets = app.count("tickets").await;
        // In a path and a query.
        for path in [
            "/api/v1/centers/%00",
            "/api/v1/matters?q=%00",
            "/api/v1/centers/GX%1B",
        ] {
            let msg = anon
                .get_error(path, StatusCode::UNPROCESSABLE_ENTITY, "invalid")
                .await;
            assert!(msg.contains("控制字符"), "{path}: {msg}");
        }
        // In JSON, raw or escaped: a sign-in, a ticket, a window's action.
        anon.post_error(
            "/api/v1/login",
            json!({"login": "a\u{0}", "password": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        anon.post_error(
            "/api/v1/centers/GX/tickets",
            json!({"zone": "\u{0}"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let clerk = app.api_as("clerk1").await;
        clerk
            .post_error(
                "/api/v1/centers/GX/windows/TY01/call",
                json!({"number": "A\u{1}01"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        assert_eq!(app.count("tickets").await, tickets);
        // A page answers the HTML error page.
        let r = anon
            .get_status("/matters?q=%00", StatusCode::UNPROCESSABLE_ENTITY)
            .await;
        assert!(r.text().await.unwrap().contains("出错了（422）"));
        // In a form.
        let r = reqwest::Client::new()
            .post(app.url("/centers/GX/kiosk"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("csrf=x&priority=none&zone=TY%00ZH")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("控制字符"));
        assert_eq!(app.count("tickets").await, tickets);
        // Ordinary text still passes, new lines included.
        crate::helpers::take(&anon, "TYZH").await;
        anon.get_status(
            "/api/v1/matters?q=%E8%BA%AB%E4%BB%BD%E8%AF%81",
            StatusCode::OK,
        )
        .await;
    }
);
