//! 联办件 with co-departments working in parallel, 上报件 travelling to the county and back, and
//! fees computed after the approval, paid online (cash only from the elderly), with the
//! applicant told by SMS; the lobby screen of cases.

use reqwest::StatusCode;
use serde_json::json;

use super::{
    accepted, actions, approval, approve, by_post, desk, intake_with, make_situation, number,
    on_both_at, onsite, received, step, step_conflict, step_field_error,
};
use crate::helpers::{TestApp, at};

/// Sets a situation's 收费标准 directly (the catalogue's own tests cover its editing).
async fn set_fees(app: &TestApp, code: &str, fees: &str) {
    sqlx::query("update matters set fees = $1 where code = $2")
        .bind(fees)
        .bind(code)
        .execute(app.app.db.pool())
        .await
        .unwrap();
}

/// A situation of the county center, saved like [`make_situation`] but at `GX`.
async fn other_county(app: &TestApp) -> String {
    let manager = app.api_as("admin").await;
    let r = manager
        .put(
            "/api/v1/matters/T-COUNTY",
            json!({
                "center": "GX", "node": "matter", "name": "测试县级事项", "type_code": "licence",
                "department": "县市监局", "level": "county", "kind": "promised", "legal_limit": 20,
                "promised_limit": 5, "limit_unit": "working_days",
                "materials": [{"name": "申请书", "form": "original", "copies": 1, "required": true}],
            }),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::OK).await;
    "T-COUNTY".into()
}

/// A row of counts: center, department, matter, then the kinds, finished and on time.
type Counts = (i64, String, i64, i64, i64, i64, i64, i64, i64);

/// The supervision counts kept by triggers equal a recount of every case.
async fn assert_rollups_match(app: &TestApp) {
    let kept: Vec<Counts> = sqlx::query_as(
        "select center_id, department, matter_id, immediate, promised, joint, reported, finished, on_time \
         from case_rollups where immediate + promised + joint + reported > 0 order by 1, 2, 3",
    )
    .fetch_all(app.app.db.pool())
    .await
    .unwrap();
    let counted: Vec<Counts> = sqlx::query_as(
        "select center_id, department, matter_id, \
         sum(case when kind = 'immediate' then 1 else 0 end), sum(case when kind = 'promised' then 1 else 0 end), \
         sum(case when kind = 'joint' then 1 else 0 end), sum(case when kind = 'reported' then 1 else 0 end), \
         sum(case when decided_at is not null and due_on is not null then 1 else 0 end), \
         sum(case when decided_at is not null and due_on is not null and decided_on <= due_on then 1 else 0 end) \
         from cases where state <> 'refused' group by center_id, department, matter_id order by 1, 2, 3",
    )
    .fetch_all(app.app.db.pool())
    .await
    .unwrap();
    assert!(!counted.is_empty());
    assert_eq!(
        kept, counted,
        "case_rollups must equal a recount of the cases"
    );
}

async fn messages(app: &TestApp, kind: &str) -> Vec<String> {
    sqlx::query_scalar("select body from notifications where kind = $1 order by id")
        .bind(kind)
        .fetch_all(app.app.db.pool())
        .await
        .unwrap()
}

// Monday 2 March 2026.
on_both_at!(
    a_joint_case_waits_for_every_co_department_each_on_its_own_limit,
    "2026-03-02T09:00",
    |app: TestApp| async move {
        let (code, clerk) = desk(&app, "T-JOINT", "promised").await;
        let n = received(&clerk, &code, 1).await;
        // A joint case needs its co-departments, none twice, none the lead, within the limit.
        let before = app.count("case_tasks").await;
        for (joint, field) in [
            (json!([]), "joint"),
            (
                json!([{"department": "市监局", "days": 2}]),
                "joint.department",
            ),
            (
                json!([{"department": "县税务局", "days": 2}, {"department": "县税务局", "days": 3}]),
                "joint.department",
            ),
            (json!([{"department": "县税务局", "days": 9}]), "joint.days"),
        ] {
            step_field_error(
                &clerk,
                &n,
                "accept",
                json!({"kind": "joint", "joint": joint}),
                field,
            )
            .await;
        }
        assert_eq!(
            app.count("case_tasks").await,
            before,
            "a refused acceptance opens nothing"
        );
        let v = step(
            &clerk,
            &n,
            "accept",
            json!({"kind": "joint", "joint": [
                {"department": "县税务局", "days": 2},
                {"department": "县自然资源局", "days": 3}
            ]}),
        )
        .await;
        assert_eq!(v["kind"], "joint");
        assert_eq!(v["due"], "2026-03-09");
        let tasks = v["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 2);
        // Two working days from Monday is Wednesday; three is Thursday.
        assert_eq!(tasks[0]["due_on"], "2026-03-04");
        assert_eq!(tasks[1]["due_on"], "2026-03-05");
        assert_eq!(tasks[0]["state"], "open");
        // The lead's decision waits for both.
        let approver = app.api_as("approver").await;
        let msg = step_conflict(&approver, &n, "decide", approval()).await;
        assert!(
            msg.contains("县税务局") && msg.contains("县自然资源局"),
            "{msg}"
        );
        step(
            &approver,
            &n,
            "tasks/done",
            json!({"department": "县税务局", "opinion": "无欠税，同意"}),
        )
        .await;
        // Twice is refused; an unknown department names the field.
        step_conflict(
            &approver,
            &n,
            "tasks/done",
            json!({"department": "县税务局", "opinion": "再次"}),
        )
        .await;
        approver
            .post_status(
                &format!("/api/v1/cases/{n}/tasks/done"),
                json!({"department": "县公安局", "opinion": "同意"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        // A clerk cannot do a co-department's part.
        clerk
            .post_status(
                &format!("/api/v1/cases/{n}/tasks/done"),
                json!({"department": "县自然资源局", "opinion": "同意"}),
                StatusCode::FORBIDDEN,
            )
            .await;
        // Friday: the land bureau's part (due Thursday) is late — red for that step only.
        app.app.clock.set(at("2026-03-06T00:30"));
        let task: i64 = sqlx::query_scalar(
            "select t.id from case_tasks t join cases c on c.id = t.case_id where c.number = $1 and t.department = '县自然资源局'",
        )
        .bind(&n)
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        let level = yichuang::cases::warn::check_task(&app.app, yichuang::ids::CaseTaskId(task))
            .await
            .unwrap();
        assert_eq!(level, Some(yichuang::cases::Warning::Red));
        let got = approver.get_json(&format!("/api/v1/cases/{n}")).await;
        assert_eq!(got["tasks"][1]["warning"], "red");
        assert_eq!(
            got["tasks"][0]["warning"], "",
            "a finished step is never warned"
        );
        // The supervision page lists the late step with its department.
        let html = app
            .api_as("leader")
            .await
            .get("/cases/supervision")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("县自然资源局"),
            "late step on the supervision page"
        );
        step(
            &approver,
            &n,
            "tasks/done",
            json!({"department": "县自然资源局", "opinion": "用地符合规划"}),
        )
        .await;
        let v = approve(&approver, &n).await;
        assert_eq!(v["status"], "decided");
        let actions = actions(&v);
        assert_eq!(
            actions,
            [
                "receive",
                "accept",
                "task_done",
                "task_red",
                "task_done",
                "decide"
            ]
        );
        assert_rollups_match(&app).await;
    }
);

on_both_at!(
    a_reported_case_goes_to_the_county_with_its_materials_and_comes_back_for_issuance,
    "2026-03-02T09:00",
    |app: TestApp| async move {
        let (code, clerk) = desk(&app, "T-UP", "reported").await;
        let n = received(&clerk, &code, 1).await;
        let v = step(&clerk, &n, "accept", json!({})).await;
        assert_eq!(v["kind"], "reported");
        // Not decided below: it must go up first.
        let approver = app.api_as("approver").await;
        step_conflict(&approver, &n, "decide", approval()).await;
        // The county's clerk does not see it yet.
        let county_clerk = app.api_as("clerk1").await;
        assert_eq!(
            county_clerk
                .get(&format!("/api/v1/cases/{n}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let v = step(&clerk, &n, "report", json!({"note": "报县市场监管局审批"})).await;
        assert_eq!(v["reported_to"], "赣县区政务服务中心");
        assert_eq!(v["returned"], false);
        // Twice is refused.
        step_conflict(&clerk, &n, "report", json!({})).await;
        // The county sees it with its materials, and its work list shows it.
        let got = county_clerk.get_json(&format!("/api/v1/cases/{n}")).await;
        assert_eq!(got["number"], n.as_str());
        let list = county_clerk.get_json("/api/v1/cases?center=GX").await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|c| c["number"] == n.as_str()),
            "{list}"
        );
        // The county decides; the case is back at the township for 出件.
        let v = step(
            &approver,
            &n,
            "decide",
            json!({"decision": "approved", "note": "准予"}),
        )
        .await;
        assert_eq!(v["status"], "decided");
        assert_eq!(v["returned"], true);
        let v = step(&clerk, &n, "issue", onsite(1)).await;
        assert_eq!(v["status"], "issued");
        let actions = actions(&v);
        assert_eq!(actions, ["receive", "accept", "report", "decide", "issue"]);
        // The county has no upper center: a case there cannot be taken as a 上报件.
        let situation = other_county(&app).await;
        let c = number(&intake_with(&county_clerk, &situation, 5, json!({"center": "GX"})).await);
        step_field_error(&approver, &c, "accept", json!({"kind": "reported"}), "kind").await;
        // A promised case cannot be reported.
        let other = make_situation(&app, "T-NOUP", "promised").await;
        let m = accepted(&clerk, &other, 2).await;
        step_conflict(&clerk, &m, "report", json!({})).await;
        // A refused case leaves the counts.
        let r = received(&clerk, &other, 3).await;
        step(
            &clerk,
            &r,
            "refuse",
            json!({"reason": "不属于本机关职权范围"}),
        )
        .await;
        assert_rollups_match(&app).await;
    }
);

on_both_at!(
    a_fee_is_computed_after_approval_paid_online_or_in_cash_by_the_elderly_before_issuance,
    "2026-03-02T09:00",
    |app: TestApp| async move {
        let code = make_situation(&app, "T-FEE", "promised").await;
        set_fees(&app, &code, "工本费 20 元").await;
        let clerk = app.api_as("clerk7").await;
        let approver = app.api_as("approver").await;
        // A younger applicant (born 1978).
        let n = accepted(&clerk, &code, 1).await;
        let v = approve(&approver, &n).await;
        assert_eq!(v["fee"]["amount_fen"], 2000);
        assert_eq!(v["fee"]["state"], "due");
        let decided = messages(&app, "case_decided").await;
        assert!(
            decided
                .iter()
                .any(|m| m.contains(&n) && m.contains("20.00 元")),
            "{decided:?}"
        );
        // Not issued before payment; no cash from a younger applicant.
        step_conflict(&clerk, &n, "issue", onsite(1)).await;
        step_field_error(
            &clerk,
            &n,
            "pay",
            json!({"method": "cash", "receipt": "P001"}),
            "method",
        )
        .await;
        let v = step(
            &clerk,
            &n,
            "pay",
            json!({"method": "online", "receipt": "JK2026030200001"}),
        )
        .await;
        assert_eq!(v["fee"]["state"], "paid");
        assert_eq!(v["fee"]["method"], "online");
        assert!(
            messages(&app, "case_paid")
                .await
                .iter()
                .any(|m| m.contains("JK2026030200001"))
        );
        step_conflict(
            &clerk,
            &n,
            "pay",
            json!({"method": "online", "receipt": "X2"}),
        )
        .await;
        let v = step(&clerk, &n, "issue", by_post("1189021234567")).await;
        assert_eq!(v["status"], "issued");
        assert!(
            messages(&app, "case_posted")
                .await
                .iter()
                .any(|m| m.contains("1189021234567"))
        );
        // An elderly applicant (born 1950) may pay in cash.
        let old = yichuang::identity::make_id_card("360721", jiff::civil::date(1950, 1, 9), 7);
        let body = json!({"applicant": {"name": "钟桂英", "id_card": old, "phone": "13900001111"}});
        let m = number(&intake_with(&clerk, &code, 7, body).await);
        step(&clerk, &m, "accept", json!({})).await;
        approve(&approver, &m).await;
        let v = step(
            &clerk,
            &m,
            "pay",
            json!({"method": "cash", "receipt": "PJ-0007"}),
        )
        .await;
        assert_eq!(v["fee"]["method"], "cash");
        // A standard without an amount needs the approver's figure; 不收费 costs nothing.
        set_fees(&app, &code, "按国家规定标准收取").await;
        let k = accepted(&clerk, &code, 3).await;
        step_field_error(&approver, &k, "decide", approval(), "fee_fen").await;
        let v = step(
            &approver,
            &k,
            "decide",
            json!({"decision": "approved", "fee_fen": 1550}),
        )
        .await;
        assert_eq!(v["fee"]["amount_fen"], 1550);
        set_fees(&app, &code, "不收费").await;
        let j = accepted(&clerk, &code, 4).await;
        let v = approve(&approver, &j).await;
        assert!(v["fee"].is_null());
        step_conflict(
            &clerk,
            &j,
            "pay",
            json!({"method": "online", "receipt": "X3"}),
        )
        .await;
        // The public progress page tells the fee still due.
        let p = app
            .anonymous()
            .get_json(&format!(
                "/api/v1/progress?number={k}&name=%E7%8E%8B%E5%BB%BA%E6%98%8E"
            ))
            .await;
        assert_eq!(p["fee_due"], "15.50 元");
        assert_rollups_match(&app).await;
    }
);

on_both_at!(
    the_lobby_screen_shows_cases_ready_and_in_progress_with_names_masked,
    "2026-03-02T09:00",
    |app: TestApp| async move {
        let (code, clerk) = desk(&app, "T-BOARD", "promised").await;
        let approver = app.api_as("approver").await;
        let a = accepted(&clerk, &code, 1).await;
        let b = accepted(&clerk, &code, 2).await;
        approve(&approver, &b).await;
        let board = app
            .anonymous()
            .get_json("/api/v1/centers/GX-ML/cases/board")
            .await;
        assert_eq!(board["ready"][0]["number"], b.as_str());
        assert_eq!(board["ready"][0]["applicant"], "王*明");
        assert_eq!(board["working"][0]["number"], a.as_str());
        let page = reqwest::get(app.url("/centers/GX-ML/cases/screen"))
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(&a) && html.contains(&b) && html.contains("王*明"));
        assert!(!html.contains("王建明"), "the full name is never shown");
        assert_eq!(
            app.anonymous()
                .get("/api/v1/centers/NOPE/cases/board")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
);
