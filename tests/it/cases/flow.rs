//! A case's life: intake, exactly one decision, the back office with its stops of the clock
//! and extensions, the chief representative's sign-off, 出件, warnings, and the public page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    accepted, actions, approval, approve, by_post, desk, id_card, intake, intake_with,
    make_situation, number, on_both_at, onsite, received, step, step_conflict, step_field_error,
    step_forbidden, step_invalid,
};
use crate::helpers::{assert_append_only, at, expect_field};

fn due(v: &Value) -> String {
    v["due"].as_str().expect("a due date").to_owned()
}

// Monday 2 March 2026, 09:00: five working days later is Monday 9 March.
on_both_at!(
    accepted_case_is_due_in_working_days_and_keeps_its_history,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-A", "promised").await;
        let case = intake(&clerk, &code, 1).await;
        let number = case["number"].as_str().unwrap().to_owned();
        assert_eq!(number, "2026-GX-ML-000001");
        assert_eq!(case["status"], "received");
        let accepted = step(&clerk, &number, "accept", json!({})).await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["kind"], "promised");
        assert_eq!(accepted["accepted"], "2026-03-02");
        assert_eq!(due(&accepted), "2026-03-09");
        let got = clerk.get_json(&format!("/api/v1/cases/{number}")).await;
        let steps = actions(&got);
        assert_eq!(steps, ["receive", "accept"]);
        assert_eq!(got["history"][1]["actor"], "郭春兰");
        // The history is never edited.
        assert_append_only(&app, "case_steps", "note").await;
        // A second case gets the next number.
        let second = intake(&clerk, &code, 2).await;
        assert_eq!(second["number"], "2026-GX-ML-000002");
    }
);

on_both_at!(
    exactly_one_decision_at_intake,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-B", "promised").await;
        // Refused: nothing else is possible afterwards.
        let n1 = received(&clerk, &code, 1).await;
        let refused = step(
            &clerk,
            &n1,
            "refuse",
            json!({"reason": "申请事项不属于本机关职权范围"}),
        )
        .await;
        assert_eq!(refused["status"], "refused");
        for (step, body) in [
            ("accept", json!({})),
            ("notify-missing", json!({"items": ["身份证复印件"]})),
            ("refuse", json!({"reason": "再次"})),
        ] {
            step_conflict(&clerk, &n1, step, body).await;
        }
        let approver = app.api_as("approver").await;
        for (step, body) in [
            ("accept", json!({})),
            ("decide", approval()),
            ("suspend", json!({"reason": "补正"})),
        ] {
            step_conflict(&approver, &n1, step, body).await;
        }
        // The refusal waits in the 否定报备登记表 for the leader's opinion.
        let leader = app.api_as("leader").await;
        step(&leader, &n1, "opinion", json!({"opinion": "同意"})).await;
        step_conflict(&leader, &n1, "opinion", json!({"opinion": "再签"})).await;
        assert_eq!(app.count("case_refusals").await, 1);

        // 一次性告知, then the same case continues and is accepted.
        let n2 = number(&intake_with(&clerk, &code, 2, json!({"received": [2]})).await);
        let msg = step_invalid(&clerk, &n2, "accept", json!({})).await;
        assert!(msg.contains("申请书"), "{msg}");
        let noted = step(
            &clerk,
            &n2,
            "notify-missing",
            json!({"items": ["申请书（原件 1 份）", "申请书须由法定代表人签字"]}),
        )
        .await;
        assert_eq!(noted["status"], "correcting");
        // Approval before acceptance is refused.
        step_conflict(&approver, &n2, "decide", approval()).await;
        // Back with the materials: 容缺 is not needed now, but 告知承诺 is accepted.
        let accepted = step(&clerk, &n2, "accept", json!({"commitment": true})).await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["number"], n2.as_str(), "the same case continues");
    }
);

on_both_at!(
    bad_input_gets_a_chinese_message_and_writes_nothing,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-C", "promised").await;
        let mut wrong = id_card(1);
        let last = if wrong.ends_with('0') { '1' } else { '0' };
        wrong.pop();
        wrong.push(last);
        let cases = [
            (
                json!({"situation": code, "applicant": {"name": "王建明", "id_card": wrong}}),
                "applicant.id_card",
            ),
            (
                json!({"situation": code, "applicant": {"name": "某某公司", "credit_code": "91350100M000100Y44"}}),
                "applicant.credit_code",
            ),
            (
                json!({"situation": code, "applicant": {"name": "", "id_card": id_card(1)}}),
                "applicant.name",
            ),
            (
                json!({"situation": "NO-SUCH", "applicant": {"name": "王建明", "id_card": id_card(1)}}),
                "situation",
            ),
            (
                json!({"situation": code, "window": "GA01", "applicant": {"name": "王建明", "id_card": id_card(1)}}),
                "window",
            ),
            (
                json!({"situation": code, "ticket": "Z999", "applicant": {"name": "王建明", "id_card": id_card(1)}}),
                "ticket",
            ),
            (
                json!({"situation": code, "received": [9], "applicant": {"name": "王建明", "id_card": id_card(1)}}),
                "received",
            ),
        ];
        for (body, field) in cases {
            expect_field(clerk.post("/api/v1/cases", body).await, field).await;
        }
        assert_eq!(app.count("cases").await, 0);
        assert_eq!(app.count("case_counters").await, 0, "no number was used up");
        // A window clerk of another center may not take in here.
        let county = app.api_as("clerk1").await;
        county.post_error("/api/v1/cases", json!({"center": "GX-ML", "situation": code, "applicant": {"name": "王建明", "id_card": id_card(1)}}), StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.count("cases").await, 0);
    }
);

on_both_at!(
    a_collect_only_window_leaves_acceptance_to_the_department,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let code = make_situation(&app, "T-CASE-D", "promised").await;
        // clerk8 holds TY02, which has only 收件权 for the matter.
        let clerk = app.api_as("clerk8").await;
        let n = received(&clerk, &code, 3).await;
        step_forbidden(&clerk, &n, "accept", json!({})).await;
        let approver = app.api_as("approver").await;
        let accepted = step(&approver, &n, "accept", json!({})).await;
        assert_eq!(accepted["status"], "accepted");
    }
);

on_both_at!(
    back_office_stops_extends_decides_and_the_window_issues,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-E", "promised").await;
        let approver = app.api_as("approver").await;
        let chief = app.api_as("chief").await;
        // 容缺: the second material follows by Friday.
        let n = number(&intake_with(&clerk, &code, 4, json!({"received": [1]})).await);
        step_invalid(&clerk, &n, "accept", json!({"tolerated": [1]})).await;
        let accepted = step(
            &clerk,
            &n,
            "accept",
            json!({"tolerated": [2], "supply_by": "2026-03-06"}),
        )
        .await;
        assert_eq!(due(&accepted), "2026-03-09");
        step(&clerk, &n, "supply", json!({"position": 2})).await;

        // Wednesday: the approver stops the clock for a site inspection; Friday it runs again.
        app.app.clock.set(at("2026-03-04T10:00"));
        step_forbidden(&clerk, &n, "suspend", json!({"reason": "现场踏勘"})).await;
        let s = step(&approver, &n, "suspend", json!({"reason": "现场踏勘"})).await;
        assert_eq!(s["status"], "suspended");
        step_conflict(&approver, &n, "decide", approval()).await;
        app.app.clock.set(at("2026-03-06T09:00"));
        let r = step(&approver, &n, "resume", json!({})).await;
        // Wednesday and Thursday stood still: two working days added.
        assert_eq!(due(&r), "2026-03-11");

        // An extension beyond the legal limit (20 − 5 = 15 days) is refused; 10 is granted.
        let msg = step_invalid(
            &approver,
            &n,
            "extensions",
            json!({"days": 16, "reason": "需补充鉴定"}),
        )
        .await;
        assert!(msg.contains("15"), "{msg}");
        step(
            &approver,
            &n,
            "extensions",
            json!({"days": 3, "reason": "需征求相关部门意见"}),
        )
        .await;
        step_forbidden(&approver, &n, "extensions/decide", json!({"approve": true})).await;
        let r = step(&chief, &n, "extensions/decide", json!({"approve": true})).await;
        assert_eq!(due(&r), "2026-03-16");

        // A rejection needs reasons; the approval goes to the issuance window.
        step_field_error(
            &approver,
            &n,
            "decide",
            json!({"decision": "rejected"}),
            "note",
        )
        .await;
        let d = step(
            &approver,
            &n,
            "decide",
            json!({"decision": "approved", "note": "符合条件"}),
        )
        .await;
        assert_eq!(d["status"], "decided");
        assert_eq!(d["decision"], "approved");

        // 出件: the collector must be the applicant (or the recorded agent).
        step_invalid(&clerk, &n, "issue", onsite(99)).await;
        let issued = step(&clerk, &n, "issue", onsite(4)).await;
        assert_eq!(issued["status"], "issued");
        let labels = actions(&issued);
        assert_eq!(
            labels,
            [
                "receive",
                "accept",
                "supply",
                "suspend",
                "resume",
                "extend_request",
                "extend_approve",
                "decide",
                "issue"
            ]
        );
    }
);

on_both_at!(
    the_chief_representative_signs_where_the_center_wants_it,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let code = make_situation(&app, "T-CASE-F", "promised").await;
        sqlx::query("insert into case_settings (center_id, chief_signoff, yellow_percent) select id, 1, 80 from centers where code = 'GX-ML'")
            .execute(app.app.db.pool())
            .await
            .unwrap();
        let clerk = app.api_as("clerk7").await;
        let approver = app.api_as("approver").await;
        let chief = app.api_as("chief").await;
        let n = accepted(&clerk, &code, 5).await;
        let proposed = approve(&approver, &n).await;
        assert_eq!(proposed["status"], "signing");
        step_conflict(&clerk, &n, "issue", by_post("EMS123")).await;
        step_forbidden(&approver, &n, "sign", json!({"approve": true})).await;
        let back = step(
            &chief,
            &n,
            "sign",
            json!({"approve": false, "note": "请补充现场照片"}),
        )
        .await;
        assert_eq!(back["status"], "accepted");
        approve(&approver, &n).await;
        let signed = step(&chief, &n, "sign", json!({"approve": true})).await;
        assert_eq!(signed["status"], "decided");
        let posted = step(&clerk, &n, "issue", by_post("EMS1234567890")).await;
        assert_eq!(posted["status"], "issued");
    }
);

on_both_at!(
    an_immediate_case_is_finished_by_the_clerk_the_same_day,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-G", "immediate").await;
        let n = received(&clerk, &code, 6).await;
        let a = step(&clerk, &n, "accept", json!({})).await;
        assert_eq!(a["kind"], "immediate");
        assert_eq!(due(&a), "2026-03-02");
        let d = approve(&clerk, &n).await;
        assert_eq!(d["status"], "decided");
        // A promised case is not the clerk's to decide.
        let code = make_situation(&app, "T-CASE-H", "promised").await;
        let n = accepted(&clerk, &code, 7).await;
        step_forbidden(&clerk, &n, "decide", approval()).await;
    }
);

on_both_at!(
    warnings_turn_yellow_then_red_through_the_job_runner,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-I", "promised").await;
        let n = accepted(&clerk, &code, 8).await;
        let id: i64 = sqlx::query_scalar("select id from cases where number = $1")
            .bind(&n)
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        let warn_jobs: i64 =
            sqlx::query_scalar("select count(*) from jobs where kind = 'case.deadline'")
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert!(warn_jobs >= 1, "acceptance schedules the warning");
        // Friday 6 March: four of five working days have passed (80%).
        app.app.clock.set(at("2026-03-06T00:30"));
        wait_warning(&app, id, "yellow").await;
        let got = clerk.get_json(&format!("/api/v1/cases/{n}")).await;
        assert_eq!(got["warning"], "yellow");
        // Tuesday 10 March: past the due date.
        app.app.clock.set(at("2026-03-10T00:30"));
        wait_warning(&app, id, "red").await;
        let got = clerk.get_json(&format!("/api/v1/cases/{n}")).await;
        assert_eq!(got["warning"], "red");
        let actions = actions(&got);
        assert_eq!(actions, ["receive", "accept", "warn_yellow", "warn_red"]);
        // The leader sees it on the supervision page.
        let leader = app.api_as("leader").await;
        let page = leader
            .get_status("/cases/supervision", StatusCode::OK)
            .await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&n) && html.contains("已超期"),
            "supervision lists the late case"
        );
    }
);

on_both_at!(
    the_public_sees_progress_masked_by_number_and_name,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-CASE-J", "promised").await;
        let n = accepted(&clerk, &code, 9).await;
        let public = app.anonymous();
        let r = public
            .get_status(
                &format!("/api/v1/progress?number={n}&name=王建明"),
                StatusCode::OK,
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["applicant"], "王*明");
        let no = v["applicant_no"].as_str().unwrap();
        assert!(no.starts_with("3607") && no.contains("**********"), "{no}");
        assert_eq!(v["status"], "accepted");
        assert_eq!(v["due"], "2026-03-09");
        assert!(
            !v.to_string().contains("郭春兰"),
            "staff names stay internal"
        );
        public
            .get_error(
                &format!("/api/v1/progress?number={n}&name=李四"),
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        // The staff API is not public.
        public
            .get_status(&format!("/api/v1/cases/{n}"), StatusCode::UNAUTHORIZED)
            .await;
        let page = reqwest::get(app.url(&format!(
            "/progress?number={n}&name=%E7%8E%8B%E5%BB%BA%E6%98%8E"
        )))
        .await
        .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("王*明") && html.contains("审批中"),
            "progress page"
        );
    }
);

/// Runs due jobs until the case shows `level`.
async fn wait_warning(app: &crate::helpers::TestApp, id: i64, level: &str) {
    for _ in 0..300 {
        let got: String = sqlx::query_scalar("select warning from cases where id = $1")
            .bind(id)
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        if got == level {
            return;
        }
        app.app.jobs.wake();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the case never turned {level}");
}
