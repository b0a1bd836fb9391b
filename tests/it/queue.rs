//! The queue through the API: numbering, calling rules, the clerk's actions, events, and
//! concurrency on both engines (no number twice, no ticket at two windows).

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use crate::helpers::{Api, TestApp, expect_error, on_both};

use crate::helpers::take;

async fn act(api: &Api, window: &str, action: &str, body: Value) -> reqwest::Response {
    api.post(
        &format!("/api/v1/centers/GX/windows/{window}/{action}"),
        body,
    )
    .await
}

async fn called(api: &Api, window: &str) -> Value {
    let r = act(api, window, "call-next", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["ticket"].clone()
}

/// Sets the county's queue rules as `manager`, asserting 200.
async fn queue_rules(manager: &Api, rules: Value) {
    let r = manager
        .put("/api/v1/centers/GX/queue/settings", rules)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

on_both!(
    tickets_are_numbered_per_zone_and_called_in_order,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        let a1 = take(&kiosk, "TYZH").await;
        assert_eq!(a1["number"], "A001");
        assert_eq!(a1["ahead"], 0);
        assert!(a1["estimated_wait_minutes"].is_i64());
        assert!(a1["issued_at"].is_i64() && a1["id"].is_i64());
        let a2 = take(&kiosk, "TYZH").await;
        assert_eq!(a2["number"], "A002");
        assert_eq!(a2["ahead"], 1);
        let b1 = take(&kiosk, "BDC").await;
        assert_eq!(
            b1["number"], "B001",
            "each zone has its prefix and sequence"
        );
        let r = kiosk
            .post(
                "/api/v1/centers/GX/tickets",
                json!({"zone": "TYZH", "priority": "elderly"}),
            )
            .await;
        let old = r.json::<Value>().await.unwrap();
        assert_eq!(old["number"], "A003");
        for bad in [
            json!({"zone": "NOPE"}),
            json!({"zone": "TYZH", "priority": "vip"}),
        ] {
            let (status, code) = (StatusCode::UNPROCESSABLE_ENTITY, "invalid");
            kiosk
                .post_error("/api/v1/centers/GX/tickets", bad, status, code)
                .await;
        }
        assert_eq!(app.count("tickets").await, 4);

        let clerk = app.api_as("clerk1").await;
        // Priority first (the default rule): the elderly visitor, then first come.
        assert_eq!(called(&clerk, "TY01").await["number"], "A003");
        let msg = expect_error(
            act(&clerk, "TY01", "call-next", json!({})).await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(msg.contains("A003"), "{msg}");
        assert_eq!(
            act(&clerk, "TY01", "start", json!({})).await.status(),
            StatusCode::OK
        );
        let done = act(&clerk, "TY01", "finish", json!({}))
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(done["ticket"]["state"], "done");
        assert_eq!(called(&clerk, "TY01").await["number"], "A001");
        act(&clerk, "TY01", "finish", json!({})).await;
        assert_eq!(called(&clerk, "TY01").await["number"], "A002");
        act(&clerk, "TY01", "finish", json!({})).await;
        // Nobody left in 通用综合: 204.
        assert_eq!(
            act(&clerk, "TY01", "call-next", json!({})).await.status(),
            StatusCode::NO_CONTENT
        );
        // The 不动产 ticket waits for its own zone's windows.
        let admin = app.api_as("admin").await;
        assert_eq!(called(&admin, "BDC01").await["number"], "B001");

        // Every change is recorded with who and when.
        let actions: Vec<(String, String)> = sqlx::query_as(
        "select e.action, e.actor from ticket_events e join tickets t on t.id = e.ticket_id where t.number = 'A003' order by e.id",
    )
    .fetch_all(app.app.db.pool())
    .await
    .unwrap();
        let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(names, ["issued", "called", "started", "finished"]);
        assert_eq!(actions[1].1, "clerk1");
    }
);

on_both!(
    clerks_act_only_at_their_windows,
    |app: TestApp| async move {
        take(&app.anonymous(), "TYZH").await;
        let clerk = app.api_as("clerk1").await;
        let msg = expect_error(
            act(&clerk, "TY03", "call-next", json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert!(msg.contains("通用综合受理3"), "{msg}");
        let township = app.api_as("clerk7").await;
        expect_error(
            act(&township, "TY01", "call-next", json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        app.anonymous()
            .post_error(
                "/api/v1/centers/GX/windows/TY01/call-next",
                json!({}),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
            .await;
        // A system admin may act at any window (support).
        let admin = app.api_as("admin").await;
        assert_eq!(called(&admin, "TY03").await["number"], "A001");
    }
);

on_both!(
    transfer_keeps_the_place_and_holds_come_back,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        for _ in 0..3 {
            take(&kiosk, "TYZH").await;
        }
        let c1 = app.api_as("clerk1").await;
        let c2 = app.api_as("clerk2").await;
        assert_eq!(called(&c1, "TY01").await["number"], "A001");
        // 首问负责: A001 goes to window TY02 and is called there before A002 and A003.
        let r = act(&c1, "TY01", "transfer", json!({"window": "TY02"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(called(&c2, "TY02").await["number"], "A001");
        // 持件: held at TY02; another window cannot resume it, TY02 can.
        let r = act(&c2, "TY02", "hold", json!({"kind": "with_docs"})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["ticket"]["state"], "held");
        let msg = expect_error(
            act(&c1, "TY01", "call", json!({"number": "A001"})).await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(msg.contains("原窗口"), "{msg}");
        // Meanwhile TY02 serves the next visitor.
        assert_eq!(called(&c2, "TY02").await["number"], "A002");
        act(&c2, "TY02", "finish", json!({})).await;
        let r = act(&c2, "TY02", "call", json!({"number": "a001"})).await;
        assert_eq!(
            r.json::<Value>().await.unwrap()["ticket"]["state"],
            "called"
        );
        // 不持件: any window may take it back.
        act(&c2, "TY02", "start", json!({})).await;
        act(&c2, "TY02", "hold", json!({"kind": "away"})).await;
        let r = act(&c1, "TY01", "call", json!({"number": "A001"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let t = act(&c1, "TY01", "finish", json!({}))
            .await
            .json::<Value>()
            .await
            .unwrap()["ticket"]
            .clone();
        assert_eq!(t["state"], "done");
        assert!(t["paused_micros"].as_i64().unwrap() >= 0);
        expect_error(
            act(&c1, "TY01", "hold", json!({"kind": "forever"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        expect_error(
            act(&c1, "TY01", "transfer", json!({})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        expect_error(
            act(&c1, "TY01", "teleport", json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
);

on_both!(
    recalls_past_the_limit_become_a_no_show,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        queue_rules(
            &manager,
            json!({"rule": "fifo", "auto_no_show_after": 2, "wait_target_minutes": 20}),
        )
        .await;
        take(&app.anonymous(), "TYZH").await;
        let c = app.api_as("clerk1").await;
        called(&c, "TY01").await;
        for n in 1..=2 {
            let t = act(&c, "TY01", "recall", json!({}))
                .await
                .json::<Value>()
                .await
                .unwrap();
            assert_eq!(t["ticket"]["recalls"], n);
        }
        let t = act(&c, "TY01", "recall", json!({}))
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(t["ticket"]["state"], "no_show");
        let v = c.get_json("/api/v1/centers/GX/queue/stats?by=window").await;
        let line = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["key"] == "TY01")
            .unwrap()
            .clone();
        assert_eq!(line["no_show"], 1);
        assert_eq!(line["served"], 0);
        manager
            .put_error(
                "/api/v1/centers/GX/queue/settings",
                json!({"rule": "fifo", "auto_no_show_after": 99, "wait_target_minutes": 20}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
    }
);

on_both!(
    a_visitor_follows_and_leaves_from_the_phone,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        take(&kiosk, "TYZH").await;
        let mine = take(&kiosk, "TYZH").await;
        let follow = mine["follow"].as_str().unwrap().to_owned();
        let token = follow.trim_start_matches("/t/");
        let s = kiosk.get_json(&format!("/api/v1/tickets/{token}")).await;
        assert_eq!(s["state"], "waiting");
        assert_eq!(s["ahead"], 1);
        let html = kiosk.get(&follow).await.text().await.unwrap();
        assert!(html.contains("A002") && html.contains("前面还有"));
        let s = kiosk
            .post_json(&format!("/api/v1/tickets/{token}/leave"), json!({}))
            .await;
        assert_eq!(s["state"], "left");
        kiosk
            .post_error(
                &format!("/api/v1/tickets/{token}/leave"),
                json!({}),
                StatusCode::CONFLICT,
                "conflict",
            )
            .await;
        kiosk
            .get_error("/api/v1/tickets/nope", StatusCode::NOT_FOUND, "not_found")
            .await;
    }
);

on_both!(
    a_call_reaches_the_event_stream_with_its_announcement,
    |app: TestApp| async move {
        take(&app.anonymous(), "TYZH").await;
        let mut stream = reqwest::Client::new()
            .get(app.url("/api/v1/centers/GX/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        let first = stream.chunk().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("hello"));
        let clerk = app.api_as("clerk3").await;
        called(&clerk, "TY03").await;
        let seen = crate::helpers::until_called(&mut stream, "an event within 10 s").await;
        assert!(seen.contains("请A001号到通用综合受理3号窗口办理"), "{seen}");
        let v = app.anonymous().get_json("/api/v1/centers/GX/display").await;
        assert_eq!(v["calls"][0]["ticket"], "A001");
        assert_eq!(v["calls"][0]["window_name"], "通用综合受理3");
    }
);

/// Issues from many concurrent clients and calls from every window at once.
async fn no_duplicates_and_no_double_calls(app: TestApp) {
    let base = app.base.clone();
    let mut issuers = Vec::new();
    for _ in 0..16 {
        let base = base.clone();
        issuers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut numbers = Vec::new();
            for _ in 0..12 {
                let r = client
                    .post(format!("{base}/api/v1/centers/GX/tickets"))
                    .json(&json!({"zone": "TYZH"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                numbers.push(
                    r.json::<Value>().await.unwrap()["number"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            numbers
        }));
    }
    let mut all = Vec::new();
    for h in issuers {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 192);
    assert_eq!(unique.len(), 192, "a number was handed out twice");

    // Every window of the zone calls as fast as it can until the line is empty.
    let admin = app.api_as("admin").await;
    let token = admin.token.clone().unwrap();
    let mut callers = Vec::new();
    for w in ["TY01", "TY02", "TY03", "TY04", "TY05", "TY06"] {
        let (base, token) = (base.clone(), token.clone());
        callers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut got = Vec::new();
            loop {
                let r = client
                    .post(format!("{base}/api/v1/centers/GX/windows/{w}/call-next"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::NO_CONTENT {
                    break;
                }
                assert_eq!(r.status(), StatusCode::OK);
                got.push(
                    r.json::<Value>().await.unwrap()["ticket"]["number"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
                let r = client
                    .post(format!("{base}/api/v1/centers/GX/windows/{w}/finish"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
            }
            got
        }));
    }
    let mut calls = Vec::new();
    for h in callers {
        calls.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = calls.iter().collect();
    assert_eq!(calls.len(), 192, "every ticket called once");
    assert_eq!(unique.len(), 192, "a ticket was called by two windows");
    let called_twice: i64 = sqlx::query_scalar(
        "select count(*) from (select ticket_id from ticket_events where action = 'called' group by ticket_id having count(*) > 1) x",
    )
    .fetch_one(app.app.db.pool())
    .await
    .unwrap();
    assert_eq!(called_twice, 0);
}

on_both!(
    concurrent_kiosks_and_windows_never_duplicate,
    no_duplicates_and_no_double_calls
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_share_numbers_calls_and_events() {
    let (url, _) = crate::helpers::fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, crate::helpers::test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, crate::helpers::test_config(&url), None).await;
    // A display on server B hears a call made on server A.
    let mut stream = reqwest::Client::new()
        .get(b.url("/api/v1/centers/GX/events"))
        .send()
        .await
        .unwrap();
    stream.chunk().await.unwrap();
    let mut numbers = HashSet::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &a } else { &b };
        let t = take(&server.anonymous(), "TYZH").await;
        assert!(
            numbers.insert(t["number"].as_str().unwrap().to_owned()),
            "duplicate across servers"
        );
    }
    let clerk = a.api_as("clerk1").await;
    called(&clerk, "TY01").await;
    let seen = crate::helpers::until_called(&mut stream, "the other server's call arrives").await;
    assert!(seen.contains("A001"), "{seen}");
}

on_both!(
    first_come_first_served_ignores_priority,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        queue_rules(
            &manager,
            json!({"rule": "fifo", "auto_no_show_after": 3, "wait_target_minutes": 30}),
        )
        .await;
        let kiosk = app.anonymous();
        take(&kiosk, "TYZH").await;
        kiosk
            .post_status(
                "/api/v1/centers/GX/tickets",
                json!({"zone": "TYZH", "priority": "military"}),
                StatusCode::CREATED,
            )
            .await;
        let clerk = app.api_as("clerk1").await;
        assert_eq!(called(&clerk, "TY01").await["number"], "A001");
        act(&clerk, "TY01", "finish", json!({})).await;
        assert_eq!(called(&clerk, "TY01").await["number"], "A002");
    }
);

on_both!(
    windows_calling_at_once_take_the_line_in_the_rules_order,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        for _ in 0..8 {
            take(&kiosk, "TYZH").await;
        }
        let mut elderly = HashSet::new();
        for _ in 0..2 {
            let r = kiosk
                .post_status(
                    "/api/v1/centers/GX/tickets",
                    json!({"zone": "TYZH", "priority": "elderly"}),
                    StatusCode::CREATED,
                )
                .await;
            elderly.insert(
                r.json::<Value>().await.unwrap()["number"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        // Four windows call at once: whatever batches the writer makes of them, priority
        // first takes the two elderly visitors and then the first two in line.
        let admin = app.api_as("admin").await;
        let calls = ["TY01", "TY02", "TY03", "TY04"].map(|w| {
            let admin = admin.clone();
            tokio::spawn(async move {
                called(&admin, w).await["number"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
        });
        let mut got = HashSet::new();
        for c in calls {
            got.insert(c.await.unwrap());
        }
        let mut expected = elderly;
        expected.extend(["A001".to_owned(), "A002".to_owned()]);
        assert_eq!(got, expected);
        // Each window holds one ticket now, and a second call is refused there.
        let msg = expect_error(
            act(&admin, "TY01", "call-next", json!({})).await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(msg.contains("尚未办结"), "{msg}");
    }
);

on_both!(
    a_revoked_token_stops_acting_at_once,
    |app: TestApp| async move {
        take(&app.anonymous(), "TYZH").await;
        let clerk = app.api_as("clerk1").await;
        assert_eq!(called(&clerk, "TY01").await["number"], "A001");
        // Revoked outside any request of this server (as another server or the CLI would).
        let mut tx = app.app.db.begin().await.unwrap();
        let id: i64 = sqlx::query_scalar("select max(id) from api_tokens")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        yichuang::auth::tokens::revoke(&mut tx, &yichuang::audit::Actor::system(), id, 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        expect_error(
            act(&clerk, "TY01", "finish", json!({})).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        let state: String = sqlx::query_scalar("select state from tickets where number = 'A001'")
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        assert_eq!(state, "called", "a refused action changes nothing");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_on_two_servers_drain_one_line_without_a_double_call() {
    let (url, _) = crate::helpers::fresh_database(Backend::Postgres).await;
    let a = TestApp::spawn_with(Backend::Postgres, crate::helpers::test_config(&url), None).await;
    let b = TestApp::spawn_with(Backend::Postgres, crate::helpers::test_config(&url), None).await;
    for i in 0..40 {
        let server = if i % 2 == 0 { &a } else { &b };
        take(&server.anonymous(), "TYZH").await;
    }
    let (on_a, on_b) = (a.api_as("admin").await, b.api_as("admin").await);
    let mut callers = Vec::new();
    for (i, w) in ["TY01", "TY02", "TY03", "TY04", "TY05", "TY06"]
        .into_iter()
        .enumerate()
    {
        let api = if i % 2 == 0 {
            on_a.clone()
        } else {
            on_b.clone()
        };
        callers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let r = act(&api, w, "call-next", json!({})).await;
                if r.status() == StatusCode::NO_CONTENT {
                    return got;
                }
                assert_eq!(r.status(), StatusCode::OK);
                let t: Value = r.json().await.unwrap();
                got.push(t["ticket"]["number"].as_str().unwrap().to_owned());
                assert_eq!(
                    act(&api, w, "finish", json!({})).await.status(),
                    StatusCode::OK
                );
            }
        }));
    }
    let mut calls = Vec::new();
    for c in callers {
        calls.extend(c.await.unwrap());
    }
    let unique: HashSet<_> = calls.iter().collect();
    assert_eq!(calls.len(), 40, "every ticket called once");
    assert_eq!(unique.len(), 40, "a ticket was called at two windows");
}

/// The waiting counts the triggers keep, against a count of the tickets themselves.
async fn assert_waiting_counts_match(app: &TestApp) {
    let kept: Vec<(i64, String, i64)> = sqlx::query_as(
        "select zone_id, service_date, waiting from queue_waiting where waiting <> 0 order by zone_id, service_date",
    )
    .fetch_all(app.app.db.pool())
    .await
    .unwrap();
    let counted: Vec<(i64, String, i64)> = sqlx::query_as(
        "select zone_id, service_date, count(*) from tickets where state = 'waiting' \
         group by zone_id, service_date order by zone_id, service_date",
    )
    .fetch_all(app.app.db.pool())
    .await
    .unwrap();
    assert_eq!(kept, counted);
}

on_both!(
    waiting_counts_follow_every_change_and_tell_the_kiosk_who_is_ahead,
    |app: TestApp| async move {
        let kiosk = app.anonymous();
        for n in 0..4 {
            assert_eq!(take(&kiosk, "TYZH").await["ahead"], n);
        }
        take(&kiosk, "BDC").await;
        assert_waiting_counts_match(&app).await;
        let c1 = app.api_as("clerk1").await;
        assert_eq!(called(&c1, "TY01").await["number"], "A001");
        assert_waiting_counts_match(&app).await;
        // Sent to the 不动产 zone: waiting again, in another zone.
        let r = act(&c1, "TY01", "transfer", json!({"zone": "BDC"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_waiting_counts_match(&app).await;
        assert_eq!(take(&kiosk, "BDC").await["ahead"], 2);
        called(&c1, "TY01").await;
        act(&c1, "TY01", "hold", json!({"kind": "away"})).await;
        assert_waiting_counts_match(&app).await;
        let t = take(&kiosk, "TYZH").await;
        let token = t["follow"]
            .as_str()
            .unwrap()
            .trim_start_matches("/t/")
            .to_owned();
        kiosk
            .post_status(
                &format!("/api/v1/tickets/{token}/leave"),
                json!({}),
                StatusCode::OK,
            )
            .await;
        assert_waiting_counts_match(&app).await;
        assert_eq!(take(&kiosk, "TYZH").await["ahead"], 2, "A003 and A004 wait");
    }
);

/// A checked-in appointment (预约签到) is called first from 15 minutes before its time. The
/// appointment ticket comes from checking in a real booking; the ticket API refuses any caller
/// who names an appointment time.
async fn checked_in_appointments_go_first(app: TestApp) {
    let manager = app.api_as("manager").await;
    queue_rules(
        &manager,
        json!({"rule": "appointments_first", "auto_no_show_after": 3, "wait_target_minutes": 30}),
    )
    .await;
    // A county matter served at TY01, booked in regular hours (08:30, 09:30, 10:30 …).
    let r = manager
        .put(
            "/api/v1/matters/T-Q-BOOK",
            json!({"center": "GX", "node": "matter", "name": "预约测试事项", "type_code": "licence",
                   "department": "市监局", "kind": "promised", "promised_limit": 5,
                   "windows": [{"window": "TY01", "rights": "accept"}]}),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::OK).await;
    let r = manager
        .put(
            "/api/v1/booking/matters/T-Q-BOOK",
            json!({"periods": "regular", "answer": "auto"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let kiosk = app.anonymous();
    let now = app.app.clock.now_micros();
    let minute = 60_000_000;
    let walk_in = take(&kiosk, "TYZH").await;
    let id_card = yichuang::identity::make_id_card("360702", jiff::civil::date(1980, 1, 2), 5);
    let booked = kiosk.post_status("/api/v1/appointments",
            json!({"center": "GX", "matter": "T-Q-BOOK", "date": "2026-12-01", "start": "10:30",
                   "name": "李秀英", "phone": "13900000005", "id_card": id_card, "reason": "出差前急需办理"}), StatusCode::CREATED).await;
    let booked: Value = booked.json().await.unwrap();
    let due = kiosk
        .post_status(
            &format!(
                "/api/v1/appointments/{}/check-in",
                booked["code"].as_str().unwrap()
            ),
            json!({}),
            StatusCode::CREATED,
        )
        .await;
    let due: Value = due.json().await.unwrap();
    // Naming an appointment time or claiming appointment priority: refused, nothing issued.
    let before = app.count("tickets").await;
    kiosk
        .post_error(
            "/api/v1/centers/GX/tickets",
            json!({"zone": "TYZH", "appointment_at": now + 10 * minute}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
    kiosk
        .post_error(
            "/api/v1/centers/GX/tickets",
            json!({"zone": "TYZH", "priority": "appointment"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
    assert_eq!(app.count("tickets").await, before);
    let clerk = app.api_as("clerk1").await;
    let first = called(&clerk, "TY01").await;
    assert_eq!(
        first["number"], due["number"],
        "the appointment due soon goes first"
    );
    assert_eq!(first["priority"], "appointment");
    assert_eq!(first["appointment_at"], now + 10 * minute);
    act(&clerk, "TY01", "finish", json!({})).await;
    assert_eq!(called(&clerk, "TY01").await["number"], walk_in["number"]);
}

mod checked_in_appointments_are_called_from_shortly_before_their_time {
    use super::*;

    // A fixed morning ten minutes before a booked hour (10:30), so check-in is open.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        checked_in_appointments_go_first(
            TestApp::spawn_at(Backend::Sqlite, "2026-12-01T10:20").await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        checked_in_appointments_go_first(
            TestApp::spawn_at(Backend::Postgres, "2026-12-01T10:20").await,
        )
        .await;
    }
}

on_both!(
    a_racing_action_on_a_ticket_that_moved_on_changes_nothing,
    |app: TestApp| async move {
        use yichuang::queue::{TicketAction, state::guard};
        take(&app.anonymous(), "TYZH").await;
        let clerk = app.api_as("clerk1").await;
        let t = called(&clerk, "TY01").await;
        // Two finishes at once: the guard lets one through and refuses the other.
        let (a, b) = tokio::join!(
            act(&clerk, "TY01", "finish", json!({})),
            act(&clerk, "TY01", "finish", json!({}))
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let finished: i64 = sqlx::query_scalar(
            "select count(*) from ticket_events where ticket_id = $1 and action = 'finished'",
        )
        .bind(t["id"].as_i64().unwrap())
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(finished, 1, "the refused finish recorded nothing");
        // A call guarded as call-next finds the finished ticket no longer waiting.
        let sql = format!(
            "update tickets set state = 'called' where id = $1 and {}",
            guard(TicketAction::CallNext)
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t["id"].as_i64().unwrap())
            .execute(app.app.db.pool())
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0);
        let state: String = sqlx::query_scalar("select state from tickets where id = $1")
            .bind(t["id"].as_i64().unwrap())
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        assert_eq!(state, "done");
        // And through the API: calling that number again is refused.
        let r = act(&clerk, "TY01", "call", json!({"number": t["number"]})).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
    }
);
