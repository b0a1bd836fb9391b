//! The hall's structure through the API: public signs, changes by managers, refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, TestApp, expect_error, item_names, on_both};

on_both!(
    the_demo_hall_is_public_like_the_signs_in_the_hall,
    |app: TestApp| async move {
        let anon = app.anonymous();
        let r = anon.get_status("/api/v1/centers", StatusCode::OK).await;
        let v: Value = r.json().await.unwrap();
        let items = v["items"].as_array().unwrap();
        let county = items
            .iter()
            .find(|c| c["code"] == "GX")
            .expect("county center");
        assert_eq!(county["name"], "赣县区政务服务中心");
        assert_eq!(county["level"], "county");
        assert!(county["parent"].is_null());
        let township = items
            .iter()
            .find(|c| c["code"] == "GX-ML")
            .expect("township center");
        assert_eq!(township["name"], "梅林镇综合便民服务中心");
        assert_eq!(township["parent"], "GX");

        let windows = item_names(anon.get("/api/v1/centers/GX/windows").await).await;
        for n in 1..=6 {
            assert!(windows.contains(&format!("通用综合受理{n}")), "{windows:?}");
        }
        for name in [
            "出件",
            "办不成事反映",
            "帮办代办",
            "延时错时预约窗口",
            "综合受理1",
        ] {
            assert!(
                windows.contains(&name.to_owned()),
                "{name} missing from {windows:?}"
            );
        }
        let zones = item_names(anon.get("/api/v1/centers/GX/zones").await).await;
        for z in [
            "不动产登记",
            "市场准入",
            "工程建设项目",
            "人社医保",
            "公安集成",
            "税务集成",
            "公积金",
            "通用综合",
        ] {
            assert!(zones.contains(&z.to_owned()), "{z} missing from {zones:?}");
        }
        let township_windows = item_names(anon.get("/api/v1/centers/GX-ML/windows").await).await;
        for name in [
            "公安集成综合受理",
            "公共服务综合受理",
            "通用综合受理1",
            "出件",
        ] {
            assert!(
                township_windows.contains(&name.to_owned()),
                "{name} missing"
            );
        }
        anon.get_error(
            "/api/v1/centers/NOPE/windows",
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
);

on_both!(
    a_manager_adds_a_window_and_the_change_is_audited,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let audits_before = app.count("audit_log").await;
        let r = manager
            .post_status(
                "/api/v1/centers/GX/windows",
                json!({"code": "TY07", "name": "通用综合受理7", "zone": "TYZH", "kind": "general",
                   "specials": ["assisted"], "tidal": true}),
                StatusCode::CREATED,
            )
            .await;
        let w: Value = r.json().await.unwrap();
        assert_eq!(w["name"], "通用综合受理7");
        assert_eq!(w["specials"], json!(["assisted"]));
        assert_eq!(w["tidal"], true);
        assert_eq!(w["acceptance_limit_minutes"], 15);
        let names = item_names(app.anonymous().get("/api/v1/centers/GX/windows").await).await;
        assert!(names.contains(&"通用综合受理7".to_owned()));

        let r = manager
        .patch(
            "/api/v1/centers/GX/windows/TY07",
            json!({"name": "通用综合受理7", "zone": "BDC", "kind": "zone", "acceptance_limit_minutes": 40}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let w: Value = r.json().await.unwrap();
        assert_eq!(w["zone"], "BDC");
        assert_eq!(w["acceptance_limit_minutes"], 40);
        assert_eq!(w["specials"], json!([]));

        assert_eq!(app.count("audit_log").await, audits_before + 2);
        let (actor, before, after): (String, Option<String>, Option<String>) = sqlx::query_as(
        "select actor, before_json, after_json from audit_log where entity = 'window' and entity_key = 'TY07' \
         order by id desc limit 1",
    )
    .fetch_one(app.app.db.pool())
    .await
    .unwrap();
        assert_eq!(actor, "manager");
        assert!(before.unwrap().contains("TYZH"));
        assert!(after.unwrap().contains("BDC"));
    }
);

on_both!(
    bad_input_gets_a_chinese_message_and_changes_nothing,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let windows = app.count("windows").await;
        let centers = app.count("centers").await;
        let audits = app.count("audit_log").await;

        let invalid = (StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let mut told = Vec::new();
        for (body, (status, code)) in [
            (
                json!({"code": "X1", "name": "   ", "kind": "general"}),
                invalid,
            ),
            (
                json!({"code": "TY01", "name": "新窗口", "kind": "general"}),
                (StatusCode::CONFLICT, "conflict"),
            ),
            (
                json!({"code": "X2", "name": "窗口X", "kind": "teleport"}),
                invalid,
            ),
            (
                json!({"code": "X3", "name": "窗口Y", "kind": "special", "specials": []}),
                invalid,
            ),
        ] {
            told.push(
                admin
                    .post_error("/api/v1/centers/GX/windows", body, status, code)
                    .await,
            );
        }
        assert_eq!(told[0], "窗口名称不能为空");
        assert!(told[1].contains("已有"), "{}", told[1]);
        expect_error(
            admin
                .post_raw(
                    "/api/v1/centers/GX/windows",
                    b"{\"code\": \"X4\", ".to_vec(),
                )
                .await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        admin
            .post_error(
                "/api/v1/centers/GX/windows",
                json!({"code": "X5"}),
                StatusCode::BAD_REQUEST,
                "bad_request",
            )
            .await;
        let huge = format!(
            "{{\"code\":\"X6\",\"name\":\"{}\",\"kind\":\"general\"}}",
            "长".repeat(40_000)
        );
        let msg = expect_error(
            admin
                .post_raw("/api/v1/centers/GX/windows", huge.into_bytes())
                .await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        assert_eq!(msg, "请求内容过大");
        let mut told = Vec::new();
        for (body, (status, code)) in [
            (
                json!({"code": "GX", "name": "另一个中心", "level": "county", "region_code": "360704"}),
                (StatusCode::CONFLICT, "conflict"),
            ),
            (
                json!({"code": "V1", "name": "某村便民服务站", "level": "village", "region_code": "36"}),
                invalid,
            ),
            (
                json!({"code": "C1", "name": "某市中心", "level": "city", "parent": "GX-ML", "region_code": "360700"}),
                invalid,
            ),
        ] {
            told.push(
                admin
                    .post_error("/api/v1/centers", body, status, code)
                    .await,
            );
        }
        assert!(told[0].contains("已存在"));
        assert!(told[2].contains("层级"), "{}", told[2]);

        assert_eq!(app.count("windows").await, windows);
        assert_eq!(app.count("centers").await, centers);
        assert_eq!(app.count("audit_log").await, audits);
    }
);

on_both!(
    an_admin_builds_a_village_station_under_the_township,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        admin.post_status("/api/v1/centers",
            json!({"code": "GX-ML-01", "name": "梅林镇某村便民服务站", "level": "village", "parent": "GX-ML",
                   "region_code": "360704100201"}), StatusCode::CREATED).await;
        admin
            .post_status(
                "/api/v1/centers/GX-ML-01/zones",
                json!({"code": "TY", "name": "综合服务"}),
                StatusCode::CREATED,
            )
            .await;
        let r = admin
            .patch(
                "/api/v1/centers/GX-ML-01/zones/TY",
                json!({"name": "综合服务区", "sort_order": 2}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            item_names(admin.get("/api/v1/centers/GX-ML-01/zones").await).await,
            vec!["综合服务区"]
        );
        let r = admin
            .patch(
                "/api/v1/centers/GX-ML-01",
                json!({"name": "梅林镇某村便民服务站", "level": "village", "parent": "GX-ML",
                   "region_code": "360704100201", "phone": "0797-1234567"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = admin.get_json("/api/v1/centers/GX-ML-01").await;
        assert_eq!(v["phone"], "0797-1234567");
        assert_eq!(v["level_name"], "村");

        // A manager may not create centers.
        let manager = app.api_as("manager").await;
        manager
            .post_error(
                "/api/v1/centers",
                json!({"code": "Z9", "name": "某站", "level": "village", "region_code": "360704"}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
    }
);

on_both!(
    a_clerk_of_one_center_cannot_reach_another_centers_records,
    |app: TestApp| async move {
        // clerk7 belongs to the township only.
        let clerk = app.api_as("clerk7").await;
        clerk
            .get_status("/api/v1/centers/GX-ML/staff", StatusCode::OK)
            .await;
        for path in ["/api/v1/centers/GX/staff", "/api/v1/centers/GX/posts"] {
            clerk
                .get_error(path, StatusCode::NOT_FOUND, "not_found")
                .await;
        }
        // Seeing a center is not managing it.
        for (center, status, code) in [
            ("GX-ML", StatusCode::FORBIDDEN, "forbidden"),
            ("GX", StatusCode::NOT_FOUND, "not_found"),
        ] {
            let window = json!({"code": "Q1", "name": "窗口Q", "kind": "general"});
            let path = format!("/api/v1/centers/{center}/windows");
            clerk.post_error(&path, window, status, code).await;
        }
        // Without credentials: 401.
        app.anonymous()
            .get_error(
                "/api/v1/centers/GX/staff",
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
            .await;

        // A clerk acts only at their windows; a system admin at any (support).
        let db = app.app.db.pool();
        let window = |code: &'static str| async move {
            sqlx::query_scalar::<_, i64>("select w.id from windows w join centers c on c.id = w.center_id where c.code = 'GX' and w.code = $1")
            .bind(code)
            .fetch_one(db)
            .await
            .unwrap()
        };
        let me = |login: &'static str| {
            let app = app.app.clone();
            async move {
                let id: i64 = sqlx::query_scalar("select id from users where login = $1")
                    .bind(login)
                    .fetch_one(app.db.pool())
                    .await
                    .unwrap();
                yichuang::auth::extract::load_user(
                    &app,
                    id,
                    yichuang::auth::extract::AuthVia::Token,
                )
                .await
                .unwrap()
                .unwrap()
            }
        };
        let clerk1 = me("clerk1").await;
        let admin = me("admin").await;
        use yichuang::hall::posts::may_act_at;
        assert!(may_act_at(db, &clerk1, window("TY01").await).await.unwrap());
        assert!(
            may_act_at(db, &clerk1, window("TY06").await).await.unwrap(),
            "B post counts"
        );
        assert!(!may_act_at(db, &clerk1, window("TY03").await).await.unwrap());
        assert!(may_act_at(db, &admin, window("TY03").await).await.unwrap());
    }
);

/// The posts line of the county's YSCS window.
async fn yscs_posts(api: &Api) -> Value {
    let v = api.get_json("/api/v1/centers/GX/posts").await;
    let items = v["items"].as_array().unwrap();
    items
        .iter()
        .find(|i| i["window"] == "YSCS")
        .unwrap()
        .clone()
}

/// Gives `login` the `post` (A or B) at YSCS, asserting 204.
async fn hold_yscs(api: &Api, login: &str, post: &str) {
    let path = format!("/api/v1/centers/GX/windows/YSCS/posts/{login}");
    let r = api.put(&path, json!({"post": post})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

on_both!(
    ab_posts_allow_one_a_and_show_windows_lacking_a_b,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let v = manager.get_json("/api/v1/centers/GX/posts").await;
        let items = v["items"].as_array().unwrap();
        let ty1 = items.iter().find(|i| i["window"] == "TY01").unwrap();
        assert_eq!(ty1["a"], "clerk1");
        assert_eq!(ty1["b"], json!(["clerk2"]));
        assert!(ty1["gap"].is_null());
        let yscs = items.iter().find(|i| i["window"] == "YSCS").unwrap();
        assert_eq!(yscs["gap"], "缺少A岗和B岗");

        hold_yscs(&manager, "clerk3", "A").await;
        let msg = manager
            .put_error(
                "/api/v1/centers/GX/windows/YSCS/posts/clerk4",
                json!({"post": "A"}),
                StatusCode::CONFLICT,
                "conflict",
            )
            .await;
        assert!(msg.contains("曾丽华"), "names the A holder: {msg}");
        let yscs = yscs_posts(&manager).await;
        assert_eq!(yscs["gap"], "缺少B岗");
        hold_yscs(&manager, "clerk4", "B").await;
        let yscs = yscs_posts(&manager).await;
        assert!(yscs["gap"].is_null());

        // Someone outside the center cannot hold its post.
        manager
            .put_error(
                "/api/v1/centers/GX/windows/YSCS/posts/clerk7",
                json!({"post": "B"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        let r = manager
            .delete("/api/v1/centers/GX/windows/YSCS/posts/clerk4")
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        manager
            .delete_error(
                "/api/v1/centers/GX/windows/YSCS/posts/clerk4",
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
    }
);

on_both!(
    managers_add_staff_but_only_admins_grant_admin,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let r = manager.post_status("/api/v1/staff",
            json!({"login": "clerk29", "display_name": "蓝晓燕", "roles": ["window_clerk"], "centers": ["GX-ML"],
                   "employment": "purchased"}), StatusCode::CREATED).await;
        let v: Value = r.json().await.unwrap();
        let password = v["password"]
            .as_str()
            .expect("generated password shown once");
        assert_eq!(password.len(), 14);
        assert_eq!(v["staff"]["centers"], json!(["GX-ML"]));
        manager.post_error("/api/v1/staff", json!({"login": "root2", "display_name": "某人", "roles": ["system_admin"], "centers": ["GX"]}), StatusCode::FORBIDDEN, "forbidden").await;
        manager.post_error("/api/v1/staff", json!({"login": "clerk29", "display_name": "重复", "roles": ["window_clerk"], "centers": ["GX"]}), StatusCode::CONFLICT, "conflict").await;
        manager.post_error("/api/v1/staff", json!({"login": "weak", "display_name": "弱密码", "roles": ["window_clerk"], "centers": ["GX"], "password": "123"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        // Deactivating someone ends their access.
        let clerk29 = app.api_as("clerk29").await;
        assert_eq!(clerk29.get("/api/v1/me").await.status(), StatusCode::OK);
        let r = manager
        .patch(
            "/api/v1/staff/clerk29",
            json!({"display_name": "蓝晓燕", "roles": ["window_clerk"], "centers": ["GX-ML"], "active": false}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            clerk29.get("/api/v1/me").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);
