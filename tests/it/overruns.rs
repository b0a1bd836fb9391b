//! Window properties the queue acts on. Acceptance overruns (超时受理, seed 001 (五)): 15
//! minutes at a window, 40 at a joint 不动产+税务 window (a window property). An acceptance
//! past its limit is stored with the ticket when it is finished, counted in the statistics and
//! listed for the hall manager. And a special window 加挂 on a general one is named with it on
//! the window's screen, the lobby display and in the announcement.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::db::Backend;

use crate::helpers::{Api, TestApp, on_both, on_both_at};

/// Moves the server's fixed clock on by `minutes`.
fn later(app: &TestApp, minutes: i64) {
    let at = app.app.clock.now_micros() + minutes * 60_000_000;
    app.app
        .clock
        .set(jiff::Timestamp::from_microsecond(at).unwrap());
}

async fn act(api: &Api, window: &str, action: &str) -> Value {
    let r = api
        .post(
            &format!("/api/v1/centers/GX/windows/{window}/{action}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{window} {action}");
    r.json::<Value>().await.unwrap()["ticket"].clone()
}

/// Issues a ticket in `zone`, calls it at `window` and starts serving it.
async fn serve(app: &TestApp, api: &Api, zone: &str, window: &str) -> String {
    let r = app
        .anonymous()
        .post("/api/v1/centers/GX/tickets", json!({"zone": zone}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let called = act(api, window, "call-next").await;
    act(api, window, "start").await;
    called["number"].as_str().unwrap().to_owned()
}

fn window<'a>(list: &'a Value, code: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("window {code} in {list}"))
}

on_both_at!(
    the_joint_property_tax_window_is_a_property_from_which_its_40_minutes_follow,
    "2026-12-03T09:00",
    |app: TestApp| async move {
        let list = app.anonymous().get_json("/api/v1/centers/GX/windows").await;
        let bdc = window(&list, "BDC01");
        assert_eq!(bdc["joint_property_tax"], true);
        assert_eq!(bdc["limit_minutes"], 40);
        assert_eq!(bdc["acceptance_limit_minutes"], 15, "no 40 typed by hand");
        let ty = window(&list, "TY01");
        assert_eq!(ty["joint_property_tax"], false);
        assert_eq!(ty["limit_minutes"], 15);

        // The manager makes another window a joint one through the API: 40 minutes follow.
        let manager = app.api_as("manager").await;
        let r = manager
            .patch(
                "/api/v1/centers/GX/windows/SW01",
                json!({"name": "综合受理8", "zone": "SWJC", "kind": "zone", "joint_property_tax": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let w: Value = r.json().await.unwrap();
        assert_eq!(w["joint_property_tax"], true);
        assert_eq!(w["limit_minutes"], 40);
        assert_eq!(w["acceptance_limit_minutes"], 15);
        let (after,): (String,) = sqlx::query_as(
            "select after_json from audit_log where entity = 'window' and entity_key = 'SW01' \
             order by id desc limit 1",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert!(after.contains("\"joint_property_tax\":true"), "{after}");

        // The window's page shows the property, checked, with its label.
        let html = manager
            .get("/admin/centers/GX/windows/BDC01")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(
                "name=\"joint_property_tax\" value=\"1\" id=\"joint-property-tax\" checked"
            ),
            "{html}"
        );
        assert!(html.contains("不动产和税务联办窗口"));
        // And the desk counts against it.
        let admin = app.api_as("admin").await;
        serve(&app, &admin, "BDC", "BDC01").await;
        let desk = admin
            .get("/centers/GX/windows/BDC01/desk")
            .await
            .text()
            .await
            .unwrap();
        assert!(desk.contains("受理时限 40 分钟"), "{desk}");
    }
);

on_both_at!(
    an_acceptance_past_its_limit_is_stored_counted_and_listed_for_the_hall_manager,
    "2026-12-03T09:00",
    |app: TestApp| async move {
        let clerk1 = app.api_as("clerk1").await;
        let clerk2 = app.api_as("clerk2").await;
        let admin = app.api_as("admin").await;
        // Three acceptances start together: at TY01 (15 min), TY02 (15 min), BDC01 (joint, 40).
        let a1 = serve(&app, &clerk1, "TYZH", "TY01").await;
        let a2 = serve(&app, &clerk2, "TYZH", "TY02").await;
        let b1 = serve(&app, &admin, "BDC", "BDC01").await;

        later(&app, 10);
        let done = act(&clerk2, "TY02", "finish").await;
        assert_eq!(done["number"], a2.as_str());
        assert_eq!(done["limit_minutes"], 15);
        assert_eq!(done["overrun_minutes"], 0, "10 minutes is within 15");

        later(&app, 7);
        // 17 minutes at TY01: 2 minutes past its limit.
        let done = act(&clerk1, "TY01", "finish").await;
        assert_eq!(done["number"], a1.as_str());
        assert_eq!(done["limit_minutes"], 15);
        assert_eq!(done["overrun_minutes"], 2);

        later(&app, 13);
        // 30 minutes at the joint window: within its 40.
        let done = act(&admin, "BDC01", "finish").await;
        assert_eq!(done["number"], b1.as_str());
        assert_eq!(done["limit_minutes"], 40);
        assert_eq!(done["overrun_minutes"], 0);

        // Stored with the ticket.
        let (limit, over): (Option<i64>, Option<i64>) =
            sqlx::query_as("select limit_minutes, overrun_minutes from tickets where number = $1")
                .bind(&a1)
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert_eq!((limit, over), (Some(15), Some(2)));

        // A second acceptance at BDC01 that runs 45 minutes is past the joint limit.
        let b2 = serve(&app, &admin, "BDC", "BDC01").await;
        later(&app, 45);
        let done = act(&admin, "BDC01", "finish").await;
        assert_eq!(done["overrun_minutes"], 5);

        // Counted in the statistics, by window and by clerk.
        let manager = app.api_as("manager").await;
        let stats = manager
            .get_json("/api/v1/centers/GX/queue/stats?by=window")
            .await;
        let overruns = |code: &str| -> i64 {
            stats["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["key"] == code)
                .map(|l| l["overruns"].as_i64().unwrap())
                .unwrap_or_else(|| panic!("{code} in {stats}"))
        };
        assert_eq!(overruns("TY01"), 1);
        assert_eq!(overruns("TY02"), 0);
        assert_eq!(overruns("BDC01"), 1);
        let by_clerk = manager
            .get_json("/api/v1/centers/GX/queue/stats?by=clerk")
            .await;
        let clerk1_line = by_clerk["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["key"] == "clerk1")
            .unwrap();
        assert_eq!(clerk1_line["overruns"], 1);

        // Listed, longest first, with window, clerk, ticket and minutes.
        let list = manager.get_json("/api/v1/centers/GX/queue/overruns").await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{list}");
        assert_eq!(items[0]["ticket"], b2.as_str());
        assert_eq!(items[0]["window"], "BDC01");
        assert_eq!(items[0]["limit_minutes"], 40);
        assert_eq!(items[0]["overrun_minutes"], 5);
        assert_eq!(items[1]["ticket"], a1.as_str());
        assert_eq!(items[1]["window_name"], "通用综合受理1");
        assert_eq!(items[1]["clerk"], "clerk1");
        assert_eq!(items[1]["clerk_name"], "陈晓梅");
        assert_eq!(items[1]["overrun_minutes"], 2);
        assert_eq!(items[1]["service_micros"], 17 * 60_000_000_i64);

        // The hall manager's statistics page lists them.
        let html = manager
            .get("/admin/centers/GX/queue")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("超时受理（2 件）"), "{html}");
        let table = html
            .split("id=\"overruns\"")
            .nth(1)
            .and_then(|t| t.split("</table>").next())
            .unwrap_or_else(|| panic!("no overrun list in {html}"));
        assert!(table.contains(&a1) && table.contains("陈晓梅"), "{table}");
        assert!(table.contains("通用综合受理1") && table.contains("17 分钟"));
        assert!(table.contains("2 分钟") && table.contains("15 分钟"));
        assert!(
            !table.contains(&a2),
            "a finish within the limit is not listed"
        );

        // Another center's members do not read this list.
        let other = app.api_as("clerk7").await;
        assert_eq!(
            other
                .get("/api/v1/centers/GX/queue/overruns")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
);

on_both_at!(
    time_on_hold_is_not_counted_against_the_limit,
    "2026-12-03T09:00",
    |app: TestApp| async move {
        let clerk1 = app.api_as("clerk1").await;
        let number = serve(&app, &clerk1, "TYZH", "TY01").await;
        later(&app, 10);
        clerk1
            .post_status(
                "/api/v1/centers/GX/windows/TY01/hold",
                json!({"kind": "with_docs"}),
                StatusCode::OK,
            )
            .await;
        later(&app, 30);
        clerk1
            .post_status(
                "/api/v1/centers/GX/windows/TY01/call",
                json!({"number": number}),
                StatusCode::OK,
            )
            .await;
        later(&app, 4);
        // 44 minutes since the start, 30 of them on hold: 14 minutes served.
        let done = act(&clerk1, "TY01", "finish").await;
        assert_eq!(done["overrun_minutes"], 0);
        let list = app
            .api_as("manager")
            .await
            .get_json("/api/v1/centers/GX/queue/overruns")
            .await;
        assert_eq!(list["items"], json!([]));
    }
);

on_both!(
    a_window_with_a_special_window_added_says_so_on_its_screen_and_in_the_call,
    |app: TestApp| async move {
        // 梅林镇's 通用综合受理1 carries 办不成事反映 (加挂); clerk7 holds its A post.
        let screen = app
            .anonymous()
            .get("/centers/GX-ML/windows/TY01/screen")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            screen
                .contains("<div class=\"window-added\" id=\"screen-added\">办不成事反映窗口</div>"),
            "{screen}"
        );
        // A special window of its own is not named twice.
        let own = app
            .anonymous()
            .get("/centers/GX/windows/BBCS/screen")
            .await
            .text()
            .await
            .unwrap();
        assert!(!own.contains("screen-added"), "{own}");

        let r = app
            .anonymous()
            .post("/api/v1/centers/GX-ML/tickets", json!({"zone": "TYZH"}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let number = r.json::<Value>().await.unwrap()["number"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut stream = reqwest::Client::new()
            .get(app.url("/api/v1/centers/GX-ML/events"))
            .send()
            .await
            .unwrap();
        let first = stream.chunk().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("hello"));
        let clerk7 = app.api_as("clerk7").await;
        clerk7
            .post_status(
                "/api/v1/centers/GX-ML/windows/TY01/call-next",
                json!({}),
                StatusCode::OK,
            )
            .await;
        let seen = crate::helpers::until_called(&mut stream, "an event within 10 s").await;
        let say = format!("请{number}号到通用综合受理1号窗口（办不成事反映窗口）办理");
        assert!(seen.contains(&say), "{seen}");

        let v = app
            .anonymous()
            .get_json("/api/v1/centers/GX-ML/display")
            .await;
        assert_eq!(v["calls"][0]["ticket"], number.as_str());
        assert_eq!(v["calls"][0]["window_name"], "通用综合受理1");
        assert_eq!(v["calls"][0]["added_name"], "办不成事反映窗口");
        assert_eq!(v["recent"][0]["added_name"], "办不成事反映窗口");
        // The window list says it too.
        let list = app
            .anonymous()
            .get_json("/api/v1/centers/GX-ML/windows")
            .await;
        assert_eq!(window(&list, "TY01")["added_name"], "办不成事反映窗口");
        assert_eq!(window(&list, "GA01")["added_name"], Value::Null);
    }
);

use crate::browser::{shot, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_manager_reads_the_overruns_and_the_lobby_names_the_added_window() {
    use thirtyfour::prelude::*;
    let app = TestApp::spawn_at(Backend::Sqlite, "2026-12-03T09:00").await;
    let clerk1 = app.api_as("clerk1").await;
    let number = serve(&app, &clerk1, "TYZH", "TY01").await;
    later(&app, 17);
    act(&clerk1, "TY01", "finish").await;
    let clerk7 = app.api_as("clerk7").await;
    app.anonymous()
        .post("/api/v1/centers/GX-ML/tickets", json!({"zone": "TYZH"}))
        .await;
    let (_driver, web) = crate::browser::Driver::start().await;
    let result = async {
        web.goto(app.url("/login?next=/admin/centers/GX/queue"))
            .await?;
        crate::browser::sign_in(&web, &app, "manager").await?;
        let table = text_of(&web, By::Id("overruns")).await?;
        assert!(
            table.contains(&number) && table.contains("陈晓梅"),
            "{table}"
        );
        assert!(
            table.contains("17 分钟") && table.contains("2 分钟"),
            "{table}"
        );
        shot(&web, "overruns-stats").await?;

        web.goto(app.url("/admin/centers/GX/windows/BDC01")).await?;
        assert!(
            web.find(By::Id("joint-property-tax"))
                .await?
                .is_selected()
                .await?
        );
        shot(&web, "overruns-window-form").await?;

        web.goto(app.url("/centers/GX-ML/display?voice=0")).await?;
        web.find(By::Id("clock")).await?;
        // Connected (the stream's first read fills the waiting list), then the call.
        web.query(By::XPath("//table[@id='waiting']//td[contains(., '通用综合')]"))
            .first()
            .await?;
        clerk7.post_status("/api/v1/centers/GX-ML/windows/TY01/call-next", json!({}), StatusCode::OK).await;
        // The announcement's banner names the window and what is added to it.
        web.query(By::XPath(
            "//div[@id='announce' and contains(., '号到通用综合受理1号窗口（办不成事反映窗口）办理')]",
        ))
        .first()
        .await?;
        shot(&web, "added-name-display").await?;

        web.goto(app.url("/centers/GX-ML/windows/TY01/screen"))
            .await?;
        let added = text_of(&web, By::Id("screen-added")).await?;
        assert_eq!(added, "办不成事反映窗口");
        // The number of the call, once the page has read the state.
        web.query(By::XPath(
            "//div[@id='screen-number' and normalize-space(text()) != '—']",
        ))
        .first()
        .await?;
        shot(&web, "added-name-screen").await?;
        Ok(())
    }
    .await;
    crate::browser::finish(web, result).await;
}
