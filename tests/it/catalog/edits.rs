//! Edits over the API: refused ones change nothing, accepted ones are audited.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, item_names, on_both};

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
        // Each refused edit: the members set over the base.
        for changes in [
            json!({"legal_limit": 5, "promised_limit": 10}),
            json!({"type_code": "nope"}),
            json!({"parent": "NO-SUCH"}),
            json!({"list_kind": "mandated", "list_category": "旅游"}),
            json!({"outside": true}),
        ] {
            let mut bad = base.clone();
            for (k, v) in changes.as_object().unwrap() {
                bad[k] = v.clone();
            }
            admin
                .put_error(
                    "/api/v1/matters/NEW-1",
                    bad,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                )
                .await;
        }
        admin
            .delete_error("/api/v1/matters/GXML-C01", StatusCode::CONFLICT, "conflict")
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
