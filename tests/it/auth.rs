//! Sign-in, sessions, CSRF, lockout and API tokens.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, cookie_client, csrf_from_page, expect_error, on_both, post_sign_in};

on_both!(
    a_session_signs_in_and_changes_need_the_csrf_token,
    |app: TestApp| async move {
        let client = cookie_client();
        let token = csrf_from_page(&client, &app.url("/login")).await;
        let r = client
            .post(app.url("/api/v1/login"))
            .json(&json!({"login": "manager", "password": app.passwords["manager"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let set_cookie: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let session = set_cookie
            .iter()
            .find(|c| c.starts_with("yc_session="))
            .expect("session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["login"], "manager");
        assert_eq!(me["roles"], json!(["hall_manager"]));

        let windows = app.count("windows").await;
        let body = json!({"code": "TY08", "name": "通用综合受理8", "kind": "general"});
        let r = client
            .post(app.url("/api/v1/centers/GX/windows"))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = client
            .post(app.url("/api/v1/centers/GX/windows"))
            .header("x-csrf-token", "0".repeat(64))
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.count("windows").await, windows);
        let r = client
            .post(app.url("/api/v1/centers/GX/windows"))
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);

        // A form post without the field is refused too.
        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/centers/GX/zones",
            &[("code", "NEW"), ("name", "新专区")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/centers/GX/zones",
            &[
                ("code", "NEW"),
                ("name", "新专区"),
                ("csrf", token.as_str()),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        let r = client
            .post(app.url("/api/v1/logout"))
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = client.get(app.url("/api/v1/me")).send().await.unwrap();
        expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

on_both!(
    repeated_failed_sign_ins_lock_the_account,
    |app: TestApp| async move {
        let client = Client::new();
        let attempt = |password: String| {
            let client = client.clone();
            let url = app.url("/api/v1/login");
            async move {
                client
                    .post(url)
                    .json(&json!({"login": "clerk1", "password": password}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        for _ in 0..5 {
            let msg = expect_error(
                attempt("wrong-password".into()).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
            assert_eq!(msg, "用户名或密码错误");
        }
        let msg = expect_error(
            attempt(app.passwords["clerk1"].clone()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
        )
        .await;
        assert!(msg.contains("锁定"), "{msg}");
        // An unknown login answers like a wrong password.
        let r = client
            .post(app.url("/api/v1/login"))
            .json(&json!({"login": "nobody", "password": "x"}))
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        // A manager's new password unlocks it.
        let manager = app.api_as("manager").await;
        let r = manager
        .patch(
            "/api/v1/staff/clerk1",
            json!({"display_name": "陈晓梅", "roles": ["window_clerk"], "centers": ["GX"], "password": "Meilin-Clerk-2026"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = attempt("Meilin-Clerk-2026".into()).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
);

on_both!(
    api_tokens_authenticate_until_revoked,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let r = admin
            .post_status(
                "/api/v1/tokens",
                json!({"name": "一楼取号机", "login": "clerk2"}),
                StatusCode::CREATED,
            )
            .await;
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(token.starts_with("yct_"));
        let device = crate::helpers::Api {
            base: app.base.clone(),
            client: Client::new(),
            token: Some(token.clone()),
        };
        let me = device.get_json("/api/v1/me").await;
        assert_eq!(me["login"], "clerk2");
        // Only its hash is stored.
        let stored: i64 =
            sqlx::query_scalar("select count(*) from api_tokens where token_hash = $1")
                .bind(&token)
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert_eq!(stored, 0);
        let id: i64 = sqlx::query_scalar("select id from api_tokens where name = '一楼取号机'")
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        let mut tx = app.app.db.begin().await.unwrap();
        yichuang::auth::tokens::revoke(&mut tx, &yichuang::audit::Actor::system(), id, 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        device
            .get_error("/api/v1/me", StatusCode::UNAUTHORIZED, "unauthorized")
            .await;
        // A clerk may not mint tokens for others.
        let clerk = app.api_as("clerk1").await;
        clerk
            .post_error(
                "/api/v1/tokens",
                json!({"name": "x", "login": "admin"}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
    }
);

on_both!(
    pages_send_strangers_to_sign_in_and_keep_clerks_out_of_admin,
    |app: TestApp| async move {
        let client = cookie_client();
        let r = client.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login?next=%2Fadmin");
        let token = csrf_from_page(&client, &app.url("/login")).await;
        post_sign_in(&app, &client, "clerk7", &token, Some("/admin/centers/GX")).await;
        let r = client
            .get(app.url("/admin/centers/GX"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let body = r.text().await.unwrap();
        assert!(body.contains("找不到"), "{body}");
        let r = client
            .get(app.url("/admin/centers/GX-ML"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // A wrong password re-renders the form with the reason.
        let other = cookie_client();
        let token = csrf_from_page(&other, &app.url("/login")).await;
        let body = crate::helpers::form_refused(
            &app,
            &other,
            "/login",
            &[
                ("login", "manager"),
                ("password", "nope"),
                ("csrf", token.as_str()),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
        assert!(body.contains("用户名或密码错误"));
        assert!(
            !body.contains("evil.example"),
            "an off-site next is dropped"
        );
    }
);
