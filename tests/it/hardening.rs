//! Issue 14, hardening: integers within their columns' range, sign-in lockout under
//! concurrency and per address, bounded password hashing, one error shape with Chinese messages
//! that name the field and quote input briefly, and security headers. Each test failed before
//! its fix, on both engines.

use std::net::IpAddr;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, fresh_database, on_both, test_config};

/// A client whose connections come from `ip` (any 127.x.y.z reaches the test server).
fn client_from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A browser-like session for `login`: the client and the CSRF token of its forms.
async fn signed_in(app: &TestApp, login: &str) -> (Client, String) {
    crate::helpers::form_session(app, login, None).await
}

async fn login_from(
    client: &Client,
    app: &TestApp,
    login: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

/// The error body of a response, asserting the documented shape and a Chinese message.
async fn error_body(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status, "status");
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"));
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(v["error"]["code"].is_string(), "{v}");
    assert!(
        msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "Chinese message: {msg}"
    );
    for english in [
        "Failed",
        "deserialize",
        "Invalid URL",
        "expected",
        "at line",
    ] {
        assert!(!msg.contains(english), "no parser English in {msg}");
    }
    v
}

// ---- 2. integer ranges ----

on_both!(
    an_integer_beyond_its_column_is_refused_naming_the_field_on_the_api_and_the_form,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let zones = app.count("zones").await;
        for sort in [2_147_483_648_i64, -2_147_483_649] {
            let v = error_body(
                manager
                    .post(
                        "/api/v1/centers/GX/zones",
                        json!({"code": "BIG", "name": "大号专区", "sort_order": sort}),
                    )
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(v["error"]["code"], "invalid");
            assert_eq!(v["error"]["field"], "sort_order");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains("排序") && msg.contains("2147483647"), "{msg}");
        }
        let v = error_body(
            manager
                .patch(
                    "/api/v1/centers/GX/zones/TYZH",
                    json!({"name": "通用综合", "sort_order": 2_147_483_648_i64}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["error"]["field"], "sort_order");
        // Beyond any integer: a number of the wrong kind, named.
        let v = error_body(
            manager
                .post_raw(
                    "/api/v1/centers/GX/zones",
                    br#"{"code":"BIG","name":"x","sort_order":99999999999999999999}"#.to_vec(),
                )
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "sort_order");
        assert_eq!(app.count("zones").await, zones);

        // The form says the same and changes nothing.
        let (client, csrf) = signed_in(&app, "manager").await;
        let html = crate::helpers::form_refused(
            &app,
            &client,
            "/admin/centers/GX/zones",
            &[
                ("code", "BIG"),
                ("name", "大号专区"),
                ("sort_order", "2147483648"),
                ("csrf", csrf.as_str()),
            ],
        )
        .await;
        assert!(
            html.contains("排序须为 -2147483648 到 2147483647 之间的整数"),
            "{html}"
        );
        assert_eq!(app.count("zones").await, zones);

        // The largest value the column holds is taken on both engines.
        manager
            .post_status(
                "/api/v1/centers/GX/zones",
                json!({"code": "BIG", "name": "大号专区", "sort_order": 2_147_483_647_i64}),
                StatusCode::CREATED,
            )
            .await;
    }
);

// ---- 3. the lockout under concurrency ----

on_both!(
    forty_parallel_wrong_passwords_check_at_most_the_limit,
    |app: TestApp| async move {
        let limit = app.app.config.lockout_after as usize;
        for login in ["clerk1", "nobody-here"] {
            let client = Client::new();
            let guesses = (0..40).map(|i| {
                let client = client.clone();
                let url = app.url("/api/v1/login");
                async move {
                    client
                        .post(url)
                        .json(&json!({"login": login, "password": format!("guess-{i}")}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                }
            });
            let statuses = futures_util::future::join_all(guesses).await;
            // A 422 ("用户名或密码错误") is a password that was checked.
            let checked = statuses
                .iter()
                .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
                .count();
            assert!(
                checked <= limit,
                "{login}: {checked} checked, limit {limit}"
            );
            assert!(
                statuses.iter().all(|s| matches!(
                    *s,
                    StatusCode::UNPROCESSABLE_ENTITY
                        | StatusCode::TOO_MANY_REQUESTS
                        | StatusCode::SERVICE_UNAVAILABLE
                )),
                "{statuses:?}"
            );
            assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
        }
        // The right password from that address waits for the lock to end.
        let r = login_from(&Client::new(), &app, "clerk1", &app.passwords["clerk1"]).await;
        let retry = r.headers().get("retry-after").cloned();
        let msg = expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
        assert!(msg.contains("锁定"), "{msg}");
        assert!(retry.is_some(), "a lock says when to retry");
    }
);

// ---- 4. bounded hashing ----

async fn spawn_with_one_hasher(backend: yichuang::db::Backend) -> TestApp {
    let (url, dir) = fresh_database(backend).await;
    let config = yichuang::config::Config {
        hash_concurrency: 1,
        hash_wait_ms: 20,
        ..test_config(&url)
    };
    TestApp::spawn_with(backend, config, dir).await
}

async fn sign_ins_beyond_the_password_checks_answer_busy(backend: yichuang::db::Backend) {
    let app = spawn_with_one_hasher(backend).await;
    let held = app.app.hashers.acquire().await.unwrap();
    for login in ["clerk1", "nobody-here"] {
        let r = login_from(&Client::new(), &app, login, "whatever-password").await;
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
            Some("1")
        );
        let msg = expect_error(r, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
        assert!(msg.contains("稍"), "{msg}");
    }
    // A refused attempt was not counted.
    assert_eq!(app.count("sign_in_attempts").await, 0);
    drop(held);
    let r = login_from(&Client::new(), &app, "clerk1", &app.passwords["clerk1"]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

crate::helpers::on_each_engine!(
    sign_ins_beyond_the_password_checks_answer_busy,
    sign_ins_beyond_the_password_checks_answer_busy
);

// ---- 5. a lock per (login, address), the account's backoff, the manager's record ----

async fn locks_hold_per_address(backend: yichuang::db::Backend) {
    let (url, dir) = fresh_database(backend).await;
    let config = yichuang::config::Config {
        lockout_after: 5,
        lockout_account_after: 8,
        ..test_config(&url)
    };
    let app = TestApp::spawn_with(backend, config, dir).await;
    let (attacker, colleague) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    let mut answers = Vec::new();
    for login in ["clerk1", "nobody-here"] {
        for _ in 0..5 {
            let r = login_from(&attacker, &app, login, "wrong-password").await;
            let msg = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(msg, "用户名或密码错误");
        }
        let r = login_from(&attacker, &app, login, "wrong-password").await;
        answers.push(expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await);
    }
    // A login that has no account locks exactly like one that has.
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("锁定"), "{}", answers[0]);
    // The lock is the attacker's address's: a colleague elsewhere signs in.
    let r = login_from(&colleague, &app, "clerk1", &app.passwords["clerk1"]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = login_from(&attacker, &app, "clerk1", &app.passwords["clerk1"]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // The hall manager sees the lockout in the audit trail and in the staff list.
    let manager = app.api_as("manager").await;
    let html = manager.get("/admin/audit").await.text().await.unwrap();
    let row = html
        .split("<tr>")
        .find(|r| r.contains("clerk1") && r.contains("锁定登录"))
        .unwrap_or_else(|| panic!("the lockout is in the trail: {html}"));
    assert!(row.contains("来源地址：127.0.0.1"), "{row}");
    let html = manager.get("/admin/staff").await.text().await.unwrap();
    assert!(html.contains("已锁定"), "{html}");

    // Many addresses together: past 8 failures the account backs off for every address.
    for ip in ["127.0.0.11", "127.0.0.12"] {
        for _ in 0..4 {
            login_from(&client_from(ip), &app, "clerk2", "wrong-password").await;
        }
    }
    let r = login_from(
        &client_from("127.0.0.13"),
        &app,
        "clerk2",
        &app.passwords["clerk2"],
    )
    .await;
    assert!(r.headers().contains_key("retry-after"));
    let msg = expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(msg.contains("暂停"), "{msg}");
    // A new password from the manager lifts every lock.
    let r = manager
        .patch(
            "/api/v1/staff/clerk2",
            json!({"display_name": "林晓", "roles": ["window_clerk"], "centers": ["GX"], "password": "Lin-Clerk-2026!"}),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::OK).await;
    let r = login_from(
        &client_from("127.0.0.11"),
        &app,
        "clerk2",
        "Lin-Clerk-2026!",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

crate::helpers::on_each_engine!(
    a_lock_holds_for_one_address_and_unknown_logins_lock_alike,
    locks_hold_per_address
);

// ---- 6. one error shape, in Chinese, naming the field ----

on_both!(
    every_api_error_has_the_shape_and_names_the_field_in_chinese,
    |app: TestApp| async move {
        let anon = app.anonymous();
        // A query parameter that is not a number (an area that uses axum's own Query).
        let v = error_body(
            anon.get("/api/v1/matters?page=abc").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "page", "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("page"));
        // A path that is not UTF-8 once decoded.
        let v = error_body(
            anon.get("/api/v1/centers/%FF").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "center", "{v}");
        let v = error_body(
            anon.get("/api/v1/centers/GX/calendar/%FF").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "date", "{v}");
        // JSON: a missing member, a wrong type, a syntax error.
        let manager = app.api_as("manager").await;
        let v = error_body(
            manager
                .post("/api/v1/centers/GX/zones", json!({"code": "X"}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "name");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("名称（name）"),
            "{v}"
        );
        let v = error_body(
            manager
                .post("/api/v1/centers/GX/zones", json!({"code": "X", "name": 5}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(v["error"]["field"], "name");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("文本"),
            "{v}"
        );
        let v = error_body(
            manager
                .post_raw("/api/v1/centers/GX/zones", b"{\"code\": \"X\",,}".to_vec())
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            v["error"]["message"].as_str().unwrap().contains("JSON"),
            "{v}"
        );
        // The parser's text holding non-ASCII is still said in Chinese.
        let v = error_body(
            manager
                .put("/api/v1/centers/GX/hours", json!({"season": "😀"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["error"]["code"], "invalid");
        // Pages answer the HTML error page instead.
        for path in ["/matters?page=abc", "/centers/%FF/hours"] {
            let r = anon.get(path).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            let html = r.text().await.unwrap();
            assert!(html.contains("出错了（400）"), "{path}: {html}");
            assert!(
                !html.contains("Failed") && !html.contains("Invalid URL"),
                "{html}"
            );
        }
    }
);

// ---- 7. errors quote input briefly ----

async fn errors_quote_briefly(backend: yichuang::db::Backend) {
    let (url, dir) = fresh_database(backend).await;
    let config = yichuang::config::Config {
        max_body_bytes: 4 * 1024 * 1024,
        ..test_config(&url)
    };
    let app = TestApp::spawn_with(backend, config, dir).await;
    let manager = app.api_as("manager").await;
    let huge = "长".repeat(350_000);
    let probes = [
        (
            "/api/v1/centers/GX/zones",
            json!({"code": "HUGE", "name": huge}),
        ),
        (
            "/api/v1/centers/GX/windows",
            json!({"code": "HUGE", "name": "窗", "kind": "special", "specials": [huge]}),
        ),
        (
            "/api/v1/centers/GX/windows",
            json!({"code": "HUGE", "name": "窗", "kind": "general", "zone": huge}),
        ),
        (
            "/api/v1/holidays",
            json!({"toml": format!("year = 2027\n{huge}")}),
        ),
        ("/api/v1/holidays", json!({"toml": huge})),
    ];
    for (path, body) in probes {
        let r = manager.post(path, body).await;
        let status = r.status();
        assert!(status.is_client_error(), "{path}: {status}");
        let text = r.text().await.unwrap();
        assert!(text.len() < 2_000, "{path} echoes {} bytes", text.len());
    }
    let r = manager
        .patch(
            &format!("/api/v1/centers/GX/zones/{}", "Z".repeat(20_000)),
            json!({"name": "x"}),
        )
        .await;
    assert!(r.status().is_client_error());
    assert!(r.text().await.unwrap().len() < 2_000);
}

crate::helpers::on_each_engine!(
    errors_quote_at_most_a_short_prefix_of_the_input,
    errors_quote_briefly
);

// ---- 8. security headers ----

on_both!(
    every_response_carries_the_security_headers,
    |app: TestApp| async move {
        let anon = app.anonymous();
        for path in [
            "/",
            "/login",
            "/static/app.css",
            "/api/v1/centers",
            "/no-such-page",
            "/api/v1/no-such-thing",
            "/api/v1/centers/%FF",
        ] {
            let r = anon.get(path).await;
            let h = r.headers();
            let csp = h
                .get("content-security-policy")
                .unwrap_or_else(|| panic!("{path}: CSP"))
                .to_str()
                .unwrap();
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("'unsafe-inline'"), "{path}: {csp}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        }
        // No page carries an inline script or style for the policy to refuse.
        let html = anon.get("/").await.text().await.unwrap();
        assert!(!html.contains("<script>") && !html.contains("style=\""));
    }
);

/// Collects the policy's refusals in the page from now on.
const WATCH_VIOLATIONS: &str = "window.__csp = []; document.addEventListener('securitypolicyviolation', \
     function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });";

async fn violations(web: &thirtyfour::WebDriver) -> thirtyfour::prelude::WebDriverResult<Value> {
    Ok(web
        .execute("return window.__csp || [];", vec![])
        .await?
        .json()
        .clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_behave_under_the_content_security_policy() {
    use thirtyfour::prelude::*;

    use crate::browser::{Driver, click, click_and_wait, finish, sign_in, type_into};
    let app = TestApp::spawn(yichuang::db::Backend::Sqlite).await;
    let issued: Value = app
        .anonymous()
        .post("/api/v1/centers/GX/tickets", json!({"zone": "TYZH"}))
        .await
        .json()
        .await
        .unwrap();
    let follow = issued["follow"].as_str().expect("a phone page").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("2027.toml");
    std::fs::write(&file, "year = 2027\n").unwrap();
    let (_driver, web) = Driver::start().await;
    let result = async {
        // data-confirm: leaving the queue asks first; saying no keeps the ticket.
        web.goto(app.url(&follow)).await?;
        web.execute(WATCH_VIOLATIONS, vec![]).await?;
        click(&web, By::Id("leave")).await?;
        assert!(web.get_alert_text().await?.contains("放弃排队"));
        web.dismiss_alert().await?;
        web.find(By::Id("leave")).await?;
        assert_eq!(violations(&web).await?, json!([]));

        // data-fills: a chosen file is read into the text area.
        web.goto(app.url("/login?next=/admin/holidays")).await?;
        sign_in(&web, &app, "manager").await?;
        web.execute(WATCH_VIOLATIONS, vec![]).await?;
        type_into(&web, By::Id("holiday-file"), file.to_str().unwrap()).await?;
        let area = web.find(By::Id("holiday-toml")).await?;
        let mut filled = String::new();
        for _ in 0..50 {
            filled = area.prop("value").await?.unwrap_or_default();
            if !filled.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(filled, "year = 2027\n");
        assert_eq!(violations(&web).await?, json!([]));

        // The error page's way back is a data attribute too.
        web.goto(app.url("/no-such-page")).await?;
        web.execute(WATCH_VIOLATIONS, vec![]).await?;
        click_and_wait(web.find(By::Css("a[data-back]")).await?).await?;
        assert!(
            web.current_url()
                .await?
                .as_str()
                .ends_with("/admin/holidays")
        );
        // And the policy is in force: an injected inline script does not run, and is seen.
        web.execute(WATCH_VIOLATIONS, vec![]).await?;
        let ran = web
            .execute(
                "var s = document.createElement('script'); s.textContent = 'window.__ran = 1'; \
                 document.body.appendChild(s); return window.__ran === 1;",
                vec![],
            )
            .await?;
        assert_eq!(ran.json(), &json!(false));
        for _ in 0..50 {
            if violations(&web).await? != json!([]) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let seen = violations(&web).await?;
        assert!(seen.to_string().contains("script-src"), "{seen}");
        // No inline handler runs at all, not even the one the intake page once had.
        web.execute(
            "var f = document.createElement('form'); f.action = '/hours'; f.method = 'get'; \
             var b = document.createElement('button'); b.type = 'button'; b.id = 'inline'; \
             b.setAttribute('onclick', 'this.form.submit()'); f.appendChild(b); \
             document.body.appendChild(f);",
            vec![],
        )
        .await?;
        click(&web, By::Id("inline")).await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!web.current_url().await?.path().ends_with("/hours"));
        // Its replacement, a select with data-autosubmit (the intake page's center), submits.
        web.execute(
            "var f = document.createElement('form'); f.action = '/matters'; f.method = 'get'; \
             var s = document.createElement('select'); s.name = 'q'; s.id = 'auto'; \
             s.setAttribute('data-autosubmit', ''); \
             ['', '身份证'].forEach(function (v) { var o = document.createElement('option'); o.value = v; o.textContent = v || '—'; s.appendChild(o); }); \
             f.appendChild(s); document.body.appendChild(f); \
             s.value = '身份证'; s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await?;
        for _ in 0..50 {
            if web.current_url().await?.path().ends_with("/matters") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(web.current_url().await?.path().ends_with("/matters"));
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}
