//! Bad input at the edge: control characters are refused once, before any handler or database
//! sees them, with a Chinese message, on both engines (PostgreSQL answered 500 for a NUL).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, expect_error, on_both};

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
            let msg = expect_error(
                anon.get(path).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
            assert!(msg.contains("控制字符"), "{path}: {msg}");
        }
        // In JSON, raw or escaped: a sign-in, a ticket, a window's action.
        let r = anon
            .post("/api/v1/login", json!({"login": "a\u{0}", "password": "x"}))
            .await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let r = anon
            .post("/api/v1/centers/GX/tickets", json!({"zone": "\u{0}"}))
            .await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let clerk = app.api_as("clerk1").await;
        let r = clerk
            .post(
                "/api/v1/centers/GX/windows/TY01/call",
                json!({"number": "A\u{1}01"}),
            )
            .await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(app.count("tickets").await, tickets);
        // A page answers the HTML error page.
        let r = anon.get("/matters?q=%00").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
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
        let r = anon
            .post("/api/v1/centers/GX/tickets", json!({"zone": "TYZH"}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = anon
            .get("/api/v1/matters?q=%E8%BA%AB%E4%BB%BD%E8%AF%81")
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
);
