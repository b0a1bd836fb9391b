//! 一乡镇一目录: the county hall's own catalogue, and a township taking a template catalogue
//! once, all or nothing, audited; kinds and limits that contradict each other are refused.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{session_as, url_encode};
use crate::helpers::{Api, TestApp, merged, on_both};

/// A new township under the county, with a 公安集成 window, made by the system admin.
async fn new_township(app: &TestApp, admin: &Api) {
    admin
        .post_status(
            "/api/v1/centers",
            json!({"code": "GX-WMD", "name": "王母渡镇便民服务中心", "level": "township",
                   "parent": "GX", "region_code": "360704101", "address": "王母渡镇政府一楼",
                   "phone": "0797-0000301"}),
            StatusCode::CREATED,
        )
        .await;
    let r = admin
        .post(
            "/api/v1/centers/GX-WMD/windows",
            json!({"code": "GA01", "name": "公安集成综合受理", "kind": "general"}),
        )
        .await;
    crate::helpers::assert_status(r, StatusCode::CREATED).await;
    let _ = app;
}

async fn count_in(app: &TestApp, center: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from matters m join centers c on c.id = m.center_id where c.code = $1",
    )
    .bind(center)
    .fetch_one(app.app.db.pool())
    .await
    .unwrap()
}

on_both!(
    the_county_hall_has_a_catalogue_of_the_eleven_mandated_categories,
    |app: TestApp| async move {
        let lists = app
            .anonymous()
            .get_json("/api/v1/catalog/lists?center=GX")
            .await;
        let rows = lists["items"].as_array().unwrap();
        for c in [
            "医保",
            "社保",
            "不动产交易与登记",
            "公积金",
            "水电气",
            "企业注册登记",
            "税务",
            "户籍",
            "婚姻登记",
            "出入境",
            "车驾管理",
        ] {
            assert!(
                rows.iter()
                    .any(|r| r["list_kind"] == "mandated" && r["list_category"] == c),
                "{c} missing from the county's lists"
            );
        }
        assert!(rows.iter().any(|r| r["list_kind"] == "booking"));
        // Taken in at the county's own zone windows.
        let v = app
            .anonymous()
            .get_json(&format!(
                "/api/v1/matters?center=GX&q={}",
                url_encode("护照")
            ))
            .await;
        let code = v["items"][0]["code"].as_str().unwrap().to_owned();
        let g = app
            .anonymous()
            .get_json(&format!("/api/v1/matters/{code}"))
            .await;
        assert_eq!(g["name"], "普通护照签发");
        assert_eq!(g["windows"][0]["window_name"], "综合受理7");
        let page = app
            .anonymous()
            .get("/catalog/booklet?center=GX")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("延时错时规定目录 · 车驾管理"));
        // The township's 附件2 keeps being the default of the public pages.
        let page = app.anonymous().get("/matters").await.text().await.unwrap();
        assert!(
            page.contains("<h1>办事指南 · 梅林镇综合便民服务中心</h1>"),
            "{page}"
        );
    }
);

on_both!(
    a_township_takes_the_county_template_once_and_is_audited,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        new_township(&app, &admin).await;
        let county = count_in(&app, "GX").await;
        let r = admin
            .post_status(
                "/api/v1/catalog/adopt",
                json!({"center": "GX-WMD", "template": "GX"}),
                StatusCode::OK,
            )
            .await;
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["created"].as_i64().unwrap(), county);
        assert_eq!(report["kept"], 0);
        assert_eq!(count_in(&app, "GX-WMD").await, county);
        // The copy is the township's: its code, place, phone, level and its own window.
        let g = app
            .anonymous()
            .get_json("/api/v1/matters/GX-WMD.GXZX-C08-05")
            .await;
        assert_eq!(g["name"], "首次申领居民身份证");
        assert_eq!(g["parent"], "GX-WMD.GXZX-C08");
        assert_eq!(g["place"], "王母渡镇政府一楼");
        assert_eq!(g["duty_phone"], "0797-0000301");
        assert_eq!(g["level"], "township");
        assert_eq!(g["windows"][0]["window"], "GA01");
        let found = app
            .anonymous()
            .get_json(&format!(
                "/api/v1/matters?center=GX-WMD&q={}",
                url_encode("身份证")
            ))
            .await;
        assert!(found["total"].as_i64().unwrap() >= 4, "{found}");
        let adopted: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'adopt' and entity = 'catalog' and entity_key = 'GX-WMD'",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(adopted, 1);
        let copies: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'adopt' and entity = 'matter'",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(copies, county);

        // Again: nothing copied twice, nothing written; a township's own edit stays.
        let mut own = g.clone();
        own.as_object_mut().unwrap().retain(|k, _| {
            !["center_name", "type_name", "path", "children", "updated_at"].contains(&k.as_str())
        });
        own["name"] = json!("首次申领居民身份证（王母渡镇）");
        let r = admin.put("/api/v1/matters/GX-WMD.GXZX-C08-05", own).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let audits = app.count("audit_log").await;
        let report = admin
            .post_json(
                "/api/v1/catalog/adopt",
                json!({"center": "GX-WMD", "template": "GX"}),
            )
            .await;
        assert_eq!(report["created"], 0);
        assert_eq!(report["kept"].as_i64().unwrap(), county);
        assert_eq!(count_in(&app, "GX-WMD").await, county);
        assert_eq!(app.count("audit_log").await, audits);
        let g = app
            .anonymous()
            .get_json("/api/v1/matters/GX-WMD.GXZX-C08-05")
            .await;
        assert_eq!(g["name"], "首次申领居民身份证（王母渡镇）");
    }
);

on_both!(
    taking_a_template_is_all_or_nothing,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        new_township(&app, &admin).await;
        // One code the copy would take already belongs to another center.
        let r = admin
            .put(
                "/api/v1/matters/GX-WMD.GXZX-C08-05",
                json!({"center": "GX-ML", "parent": "GXML-C11", "name": "占用编号的事项",
                       "type_code": "confirmation", "kind": "immediate", "department": "公安局"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let (matters, audits) = (app.count("matters").await, app.count("audit_log").await);
        let msg = admin
            .post_error(
                "/api/v1/catalog/adopt",
                json!({"center": "GX-WMD", "template": "GX"}),
                StatusCode::CONFLICT,
                "conflict",
            )
            .await;
        assert!(
            msg.contains("GX-WMD.GXZX-C08-05") && msg.contains("未复制任何事项"),
            "{msg}"
        );
        assert_eq!(count_in(&app, "GX-WMD").await, 0);
        assert_eq!(app.count("matters").await, matters);
        assert_eq!(app.count("audit_log").await, audits);
    }
);

on_both!(
    only_a_townships_manager_takes_a_template_into_a_township,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let clerk = app.api_as("clerk7").await;
        let audits = app.count("audit_log").await;
        // The county itself is no township; nor is a township its own or an unknown template.
        for (who, center, template, status, code) in [
            (
                &manager,
                "GX",
                "GX-ML",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                &manager,
                "GX-ML",
                "GX-ML",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                &manager,
                "GX-ML",
                "NOPE",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (&clerk, "GX-ML", "GX", StatusCode::FORBIDDEN, "forbidden"),
        ] {
            let body = json!({"center": center, "template": template});
            who.post_error("/api/v1/catalog/adopt", body, status, code)
                .await;
        }
        assert_eq!(app.count("audit_log").await, audits);

        // The page's button: the township's manager takes the county's catalogue.
        let matters = count_in(&app, "GX-ML").await;
        let (client, csrf) = session_as(&app, "manager").await;
        let html = crate::helpers::page_text(&app, &client, "/admin/matters?center=GX-ML").await;
        assert!(html.contains("id=\"adopt-form\""), "{html}");
        assert!(
            html.contains("<option value=\"GX\">赣县区政务服务中心</option>"),
            "{html}"
        );
        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/matters/adopt?center=GX-ML",
            &[("csrf", csrf.as_str()), ("template", "GX")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        let html = crate::helpers::page_text(&app, &client, &to).await;
        assert!(html.contains("已从模板中心“GX”复制"), "{html}");
        let flash = html
            .split("flash ok")
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .unwrap_or("");
        assert_eq!(
            count_in(&app, "GX-ML").await,
            matters + count_in(&app, "GX").await,
            "{flash}"
        );
        // The county's page offers no template: it is no township.
        let html = crate::helpers::page_text(&app, &client, "/admin/matters?center=GX").await;
        assert!(!html.contains("id=\"adopt-form\""));
    }
);

on_both!(
    a_kind_and_a_limit_that_contradict_each_other_are_refused,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let matters = app.count("matters").await;
        let base = json!({"center": "GX-ML", "parent": "GXML-C11", "name": "临时身份证明",
            "type_code": "confirmation", "department": "公安局"});
        // Saves `base` with `changes`, asserting a 422; returns the message.
        let refused = async |changes: Value| {
            admin
                .put_error(
                    "/api/v1/matters/ML-TMP",
                    merged(&base, changes),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                )
                .await
        };
        let msg = refused(
            json!({"kind": "immediate", "legal_limit": 60, "promised_limit": 20,
            "limit_unit": "days"}),
        )
        .await;
        assert!(msg.contains("即办件须当场或当日办结"), "{msg}");
        let msg = refused(json!({"kind": "promised", "promised_limit": 0})).await;
        assert!(msg.contains("应选“即办件”"), "{msg}");
        assert_eq!(app.count("matters").await, matters);
        // The demo guide that promised 20 days for a 即办件 is a 承诺件 now.
        let g = app.anonymous().get_json("/api/v1/matters/GXML-095").await;
        assert_eq!(
            (g["kind"].as_str(), g["promised_limit"].as_i64()),
            (Some("promised"), Some(20))
        );
    }
);
