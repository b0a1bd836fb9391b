//! Home visits (上门服务): asked for by the elderly, the seriously ill, the disabled and key
//! enterprises, answered the same day with at least two staff, refused only with the hall
//! manager's approval, cancelled with code and phone — through the API, on both engines.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::id_card;
use crate::helpers::{
    Api, TestApp, cookie_client, csrf_from_page, expect_error, expect_field, merged, on_both_at,
};

/// The body of a request by applicant `n`.
fn request(kind: &str, n: u16) -> Value {
    json!({
        "center": "GX-ML", "kind": kind, "name": "王桂芬", "phone": format!("138{:08}", n),
        "id_number": id_card(n), "address": "梅林镇新村路 8 号 2 栋 301",
        "wanted_date": "2026-12-02", "reason": "老人八十六岁，行动不便，无法到大厅",
        "matter": "养老保险待遇资格认证",
    })
}

async fn request_ok(api: &Api, body: Value) -> String {
    let r = api.post("/api/v1/home-visits", body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(status, StatusCode::CREATED, "request: {v}");
    assert_eq!(v["status"], "pending");
    let code = v["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 10);
    code
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.app.db.pool())
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, code: &str) -> String {
    sqlx::query_scalar("select state from home_visits where code = $1")
        .bind(code)
        .fetch_one(app.app.db.pool())
        .await
        .unwrap()
}

/// Takes `step` on home visit `code` (`POST /api/v1/home-visits/{code}/{step}`).
async fn visit(api: &Api, code: &str, step: &str, body: Value) -> Response {
    api.post(&format!("/api/v1/home-visits/{code}/{step}"), body)
        .await
}

/// [`visit`], read as JSON whatever the status.
async fn visit_json(api: &Api, code: &str, step: &str, body: Value) -> Value {
    visit(api, code, step, body)
        .await
        .json()
        .await
        .expect("JSON")
}

/// [`visit`], asserting the error answer; returns its message.
async fn visit_error(
    api: &Api,
    code: &str,
    step: &str,
    body: Value,
    status: StatusCode,
    error: &str,
) -> String {
    expect_error(visit(api, code, step, body).await, status, error).await
}

/// [`visit`], asserting 409 `invalid_state`: not possible in the visit's state.
async fn visit_conflict(api: &Api, code: &str, step: &str, body: Value) -> String {
    visit_error(api, code, step, body, StatusCode::CONFLICT, "invalid_state").await
}

/// [`visit`], asserting 403 `forbidden`: not the caller's to take.
async fn visit_forbidden(api: &Api, code: &str, step: &str, body: Value) -> String {
    visit_error(api, code, step, body, StatusCode::FORBIDDEN, "forbidden").await
}

fn arrange(staff: &[&str]) -> Value {
    json!({
        "date": "2026-12-02", "time": "09:30", "place": "梅林镇新村路 8 号 2 栋 301",
        "materials": "身份证原件\n社会保障卡", "staff": staff,
    })
}

on_both_at!(
    a_home_visit_is_arranged_with_two_staff_and_then_done,
    "2026-12-01T09:00",
    |app: TestApp| async move {
        let anyone = app.anonymous();
        let code = request_ok(&anyone, request("elderly", 31)).await;
        assert_eq!(
            scalar(
                &app,
                "select count(*) from notifications where kind = 'home_received'"
            )
            .await,
            1,
            "the applicant is told it was received"
        );

        // The center's clerk sees the applicant; a leader sees them masked.
        let clerk = app.api_as("clerk7").await;
        let list = clerk.get_json("/api/v1/centers/GX-ML/home-visits").await;
        let line = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["code"] == code.as_str())
            .cloned()
            .unwrap();
        assert_eq!(line["id_number"], id_card(31), "{line}");
        assert_eq!(line["kind_label"], "高龄老人");
        assert_eq!(line["overdue"], false);
        let leader = app.api_as("leader").await;
        let list = leader.get_json("/api/v1/centers/GX-ML/home-visits").await;
        let masked = &list["items"][0];
        assert!(
            masked["id_number"].as_str().unwrap().contains('*'),
            "{masked}"
        );
        assert_eq!(masked["address"], "");

        // One person is not enough, nor a user of another center: 422 on `staff`, and nothing
        // is written.
        let steps = app.count("home_visit_steps").await;
        let audit = app.count("audit_log").await;
        let messages = app.count("notifications").await;
        let r = visit(&clerk, &code, "arrange", arrange(&["clerk7"])).await;
        let msg = expect_field(r, "staff").await;
        assert!(msg.contains("至少 2 名工作人员"), "{msg}");
        let r = visit(&clerk, &code, "arrange", arrange(&["clerk7", "clerk7"])).await;
        expect_field(r, "staff").await;
        let r = visit(&clerk, &code, "arrange", arrange(&["clerk7", "clerk1"])).await;
        let msg = expect_field(r, "staff").await;
        assert!(msg.contains("不是本中心"), "{msg}");
        let mut no_materials = arrange(&["clerk7", "clerk8"]);
        no_materials["materials"] = json!("");
        let r = visit(&clerk, &code, "arrange", no_materials).await;
        expect_field(r, "materials").await;
        assert_eq!(app.count("home_visit_staff").await, 0);
        assert_eq!(app.count("home_visit_steps").await, steps);
        assert_eq!(app.count("audit_log").await, audit);
        assert_eq!(app.count("notifications").await, messages);
        assert_eq!(state_of(&app, &code).await, "pending");

        // A leader may not arrange.
        visit_forbidden(&leader, &code, "arrange", arrange(&["clerk7", "clerk8"])).await;

        // Two staff of the center: arranged, and the applicant is told when, where and what.
        let r = visit(&clerk, &code, "arrange", arrange(&["clerk7", "clerk8"])).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "arranged");
        assert_eq!(v["visit_date"], "2026-12-02");
        assert_eq!(v["visit_time"], "09:30");
        assert_eq!(v["staff"].as_array().unwrap().len(), 2);
        assert_eq!(app.count("home_visit_staff").await, 2);
        let told: String = sqlx::query_scalar(
            "select body from notifications where kind = 'home_arranged' and home_visit_id is not null",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert!(
            told.contains("09:30") && told.contains("社会保障卡"),
            "{told}"
        );
        assert!(told.contains("郭春兰") && told.contains("邱明辉"), "{told}");

        // The applicant sees it with code and phone; twice arranged is refused.
        let v = anyone
            .get_json(&format!("/api/v1/home-visits/{code}?phone=13800000031"))
            .await;
        assert_eq!(v["status"], "arranged");
        assert_eq!(v["materials"], "身份证原件\n社会保障卡");
        visit_conflict(&clerk, &code, "arrange", arrange(&["clerk7", "clerk8"])).await;
        let page = anyone
            .get_status(&format!("/h/{code}"), StatusCode::OK)
            .await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains("已安排上门") && html.contains("社会保障卡"),
            "{html}"
        );
        assert!(
            !html.contains(&id_card(31)),
            "the page by code alone is masked"
        );

        // After the visit the clerk marks it done.
        let v = visit_json(&clerk, &code, "done", json!({})).await;
        assert_eq!(v["status"], "done");
        visit_conflict(&clerk, &code, "done", json!({})).await;
        assert_eq!(app.count("home_visit_steps").await, steps + 2);
        assert!(
            scalar(
                &app,
                "select count(*) from audit_log where entity = 'home_visit'"
            )
            .await
                >= 4
        );
        // The history cannot be edited.
        crate::helpers::assert_append_only(&app, "home_visit_steps", "note").await;
    }
);

on_both_at!(
    a_home_visit_refusal_needs_the_hall_manager,
    "2026-12-01T09:00",
    |app: TestApp| async move {
        let anyone = app.anonymous();
        let code = request_ok(&anyone, request("disabled", 41)).await;
        let clerk = app.api_as("clerk7").await;
        let manager = app.api_as("manager").await;

        let r = visit(&clerk, &code, "refuse", json!({"reason": ""})).await;
        expect_field(r, "reason").await;
        let v = visit_json(
            &clerk,
            &code,
            "refuse",
            json!({"reason": "该地址不在本镇服务范围，请向所在乡镇申请"}),
        )
        .await;
        assert_eq!(v["status"], "refusing", "{v}");
        assert_eq!(
            scalar(
                &app,
                "select count(*) from notifications where kind = 'home_refused'"
            )
            .await,
            0,
            "not told before the manager approves"
        );
        visit_forbidden(&clerk, &code, "refusal", json!({"approve": true})).await;
        // Waiting for the manager, it can be neither arranged nor cancelled.
        visit_conflict(&clerk, &code, "arrange", arrange(&["clerk7", "clerk8"])).await;
        let v = visit_json(&manager, &code, "refusal", json!({"approve": true})).await;
        assert_eq!(v["status"], "refused");

        // The applicant sees 未同意 with the reason, and is told it.
        let v = anyone
            .get_json(&format!("/api/v1/home-visits/{code}?phone=13800000041"))
            .await;
        assert_eq!(v["status_label"], "未同意");
        assert!(
            v["refusal_reason"].as_str().unwrap().contains("服务范围"),
            "{v}"
        );
        let html = anyone
            .get(&format!("/h/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("未同意") && html.contains("服务范围"),
            "{html}"
        );
        let told: String = sqlx::query_scalar(
            "select body from notifications where kind = 'home_refused' order by id desc limit 1",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert!(told.contains("服务范围"), "{told}");

        // Turned down by the manager, a proposed refusal waits to be arranged again.
        let other = request_ok(&anyone, request("sick", 42)).await;
        visit(&clerk, &other, "refuse", json!({"reason": "材料不全"})).await;
        let v = visit_json(&manager, &other, "refusal", json!({"approve": false})).await;
        assert_eq!(v["status"], "pending", "{v}");
        assert_eq!(v["refusal_reason"], "");

        // The manager's own refusal is approved at once.
        let third = request_ok(&anyone, request("elderly", 43)).await;
        let v = visit_json(
            &manager,
            &third,
            "refuse",
            json!({"reason": "申请人已到大厅办结该事项"}),
        )
        .await;
        assert_eq!(v["status"], "refused");

        // Not answered by the end of the day: overdue, red, on the manager's page.
        app.app.clock.set(crate::helpers::at("2026-12-02T08:00"));
        let page = manager
            .get_status("/appointments/home?center=GX-ML", StatusCode::OK)
            .await;
        let html = page.text().await.unwrap();
        assert!(html.contains("逾期未答复"), "overdue shown");
        assert!(html.contains(&format!("id=\"open-{other}\"")), "{html}");
        let list = manager
            .get_json("/api/v1/centers/GX-ML/home-visits?state=pending")
            .await;
        assert_eq!(list["items"][0]["code"], other.as_str());
        assert_eq!(list["items"][0]["overdue"], true);
    }
);

on_both_at!(
    bad_home_visit_input_writes_nothing_and_cancelling_needs_the_phone,
    "2026-12-01T09:00",
    |app: TestApp| async move {
        let anyone = app.anonymous();
        let before = (
            app.count("home_visits").await,
            app.count("home_visit_steps").await,
            app.count("notifications").await,
        );
        // Asks with `changes` to applicant 51's request, asserting 422 on `field`.
        let refused = async |changes: Value, field: &str| {
            let bad = merged(&request("elderly", 51), changes);
            expect_field(anyone.post("/api/v1/home-visits", bad).await, field).await
        };
        let id = id_card(51);
        let wrong = if id.ends_with('0') { "1" } else { "0" };
        let wrong = format!("{}{wrong}", &id[..17]);
        let msg = refused(json!({"id_number": wrong}), "id_number").await;
        assert!(msg.contains("校验"), "{msg}");
        let msg = refused(json!({"address": "  "}), "address").await;
        assert!(msg.contains("上门地址"), "{msg}");
        refused(json!({"kind": "vip"}), "kind").await;
        refused(json!({"wanted_date": "2026-11-30"}), "wanted_date").await;
        // An enterprise is identified by its credit code, not an ID card.
        let msg = refused(json!({"kind": "enterprise"}), "id_number").await;
        assert!(msg.contains("统一社会信用代码"), "{msg}");
        assert_eq!(
            (
                app.count("home_visits").await,
                app.count("home_visit_steps").await,
                app.count("notifications").await,
            ),
            before
        );

        let mut firm = request("enterprise", 52);
        firm["name"] = json!("梅林镇示例农产品有限公司");
        firm["id_number"] = json!(yichuang::identity::make_credit_code("91360702MA3XXXXX1"));
        let firm = request_ok(&anyone, firm).await;

        // Cancelling with the wrong phone is refused and changes nothing.
        anyone
            .delete_error(
                &format!("/api/v1/home-visits/{firm}?phone=13900000009"),
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        expect_field(
            anyone.delete(&format!("/api/v1/home-visits/{firm}")).await,
            "phone",
        )
        .await;
        assert_eq!(state_of(&app, &firm).await, "pending");
        let r = anyone
            .delete(&format!("/api/v1/home-visits/{firm}?phone=13800000052"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "cancelled");
        assert_eq!(
            scalar(
                &app,
                "select count(*) from notifications where kind = 'home_cancelled'"
            )
            .await,
            1
        );
        anyone
            .delete_error(
                &format!("/api/v1/home-visits/{firm}?phone=13800000052"),
                StatusCode::CONFLICT,
                "invalid_state",
            )
            .await;

        // The public pages: the link from the center's booking page, the form and the status.
        let html = anyone.get("/book/GX-ML").await.text().await.unwrap();
        assert!(
            html.contains("申请上门服务（高龄、重病、残疾人及重点企业）"),
            "{html}"
        );
        let r = anyone.get_status("/book/GX-ML/home", StatusCode::OK).await;
        let html = r.text().await.unwrap();
        assert!(html.contains("name=\"address\"") && html.contains("重点企业"));
        let html = anyone
            .get(&format!("/h/{firm}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("已取消"), "{html}");
        // The staff page is linked from the staff navigation.
        let clerk = app.api_as("clerk7").await;
        let html = clerk
            .get("/appointments?center=GX-ML")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("/appointments/home?center=GX-ML"));
        let r = clerk
            .get_status("/appointments/home?center=GX-ML", StatusCode::OK)
            .await;
        let html = r.text().await.unwrap();
        assert!(html.contains("上门工作人员（至少两名）") || html.contains("没有待答复"));
    }
);

on_both_at!(
    the_public_home_visit_forms_work_without_script,
    "2026-12-01T09:00",
    |app: TestApp| async move {
        let client = cookie_client();
        let token = csrf_from_page(&client, &app.url("/book/GX-ML/home")).await;
        let id = id_card(61);
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("kind", "sick"),
            ("name", "赵德明"),
            ("phone", "13800000061"),
            ("id_number", id.as_str()),
            ("wanted_date", "2026-12-03"),
            ("reason", "术后卧床，无法外出"),
        ];
        // Without the address: the form again, 422, with the reason; nothing written.
        let html = crate::helpers::form_refused(&app, &client, "/book/GX-ML/home", &fields).await;
        assert!(
            html.contains("请填写上门地址") && html.contains("赵德明"),
            "{html}"
        );
        assert_eq!(app.count("home_visits").await, 0);

        fields.push(("address", "梅林镇河东村三组 12 号"));
        let r = crate::helpers::post_form(&app, &client, "/book/GX-ML/home", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/h/") && to.ends_with("?new=1"), "{to}");
        let code = to[3..13].to_owned();
        let html = crate::helpers::page_text(&app, &client, &to).await;
        assert!(
            html.contains("今天内答复") && html.contains(&code),
            "{html}"
        );

        // Cancelling on the status page needs the phone.
        let token = csrf_from_page(&client, &app.url(&format!("/h/{code}"))).await;
        let cancel = async |phone: &str| {
            let form = [("csrf", token.as_str()), ("phone", phone)];
            crate::helpers::post_form(&app, &client, &format!("/h/{code}/cancel"), &form).await
        };
        let r = cancel("13900000000").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(state_of(&app, &code).await, "pending");
        let r = cancel("13800000061").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(state_of(&app, &code).await, "cancelled");
    }
);
