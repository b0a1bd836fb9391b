//! Edits over the API: refused ones change nothing, accepted ones are audited.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, expect_error, item_names, on_both};

on_both!(
    bad_edits_change_nothing_and_good_ones_are_audited,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let matters = app.count("matters").await;
        let audits = app.count("audit_log").await;
        let base = json!({"center": "GX-ML", "parent": "GXML-C01", "name": "老年人优待证办理",
            "type_code": "public_service", "kind": "immediate", "department": "民政局"});

        let r = app
            .anonymous()
            .put("/api/v1/matters/NEW-1", base.clone())
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let mut bad = base.clone();
        bad["legal_limit"] = json!(5);
        bad["promised_limit"] = json!(10);
        expect_error(
            admin.put("/api/v1/matters/NEW-1", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let mut bad = base.clone();
        bad["type_code"] = json!("nope");
        expect_error(
            admin.put("/api/v1/matters/NEW-1", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let mut bad = base.clone();
        bad["parent"] = json!("NO-SUCH");
        expect_error(
            admin.put("/api/v1/matters/NEW-1", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let mut bad = base.clone();
        bad["list_kind"] = json!("mandated");
        bad["list_category"] = json!("旅游");
        expect_error(
            admin.put("/api/v1/matters/NEW-1", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let mut bad = base.clone();
        bad["outside"] = json!(true);
        expect_error(
            admin.put("/api/v1/matters/NEW-1", bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        expect_error(
            admin.delete("/api/v1/matters/GXML-C01").await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert_eq!(app.count("matters").await, matters);
        assert_eq!(app.count("audit_log").await, audits);

        // Searched before it exists: the cached "nothing" must not outlive the change.
        assert!(
            item_names(app.anonymous().get("/api/v1/matters?q=lnryd").await)
                .await
                .is_empty()
        );
        let mut good = base.clone();
        good["outside"] = json!(true);
        good["outside_reason"] = json!("场地限制，在区政务服务中心办理");
        let r = admin.put("/api/v1/matters/NEW-1", good).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(app.count("matters").await, matters + 1);
        let (actor, entity): (String, String) = sqlx::query_as(
            "select actor, entity from audit_log where entity_key = 'NEW-1' order by id desc limit 1",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!((actor.as_str(), entity.as_str()), ("admin", "matter"));
        let n = item_names(app.anonymous().get("/api/v1/matters?q=lnryd").await).await;
        assert!(n.contains(&"老年人优待证办理".to_owned()), "{n:?}");
        let booklet = app
            .anonymous()
            .get("/catalog/booklet?center=GX-ML")
            .await
            .text()
            .await
            .unwrap();
        assert!(booklet.contains("场地限制，在区政务服务中心办理"));
        assert_eq!(
            admin.delete("/api/v1/matters/NEW-1").await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(app.count("matters").await, matters);
        assert!(
            item_names(app.anonymous().get("/api/v1/matters?q=lnryd").await)
                .await
                .is_empty()
        );
    }
);
