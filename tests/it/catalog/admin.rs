//! The admin pages: edit, import and export; the 事项类型 code list.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{bad_workbook, manager_session, session_as};
use crate::helpers::{TestApp, on_both};

on_both!(
    a_manager_edits_imports_and_exports_the_catalogue_from_the_admin_pages,
    |app: TestApp| async move {
        let (client, csrf) = manager_session(&app).await;
        let page = client
            .get(app.url("/admin/matters?center=GX-ML"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("居民户口簿补领"));
        let edit = crate::helpers::page_text(&app, &client, "/admin/matters/GXML-100/edit").await;
        assert!(edit.contains("居民身份证补领申请表") || edit.contains("居民户口簿补领申请表"));

        let audits = app.count("audit_log").await;
        let form = |name: &str, limit: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("center", "GX-ML".to_owned()),
                ("code", "ML-NEW".to_owned()),
                ("parent", "GXML-C11".to_owned()),
                ("node", "matter".to_owned()),
                ("name", name.to_owned()),
                ("type_code", "confirmation".to_owned()),
                ("kind", "immediate".to_owned()),
                ("department", "公安局".to_owned()),
                ("legal_limit", limit.to_owned()),
                (
                    "materials",
                    "居民户口簿 | 原件 | 1 | 必要 | 容缺".to_owned(),
                ),
                ("review_form", "材料齐全\n签字完整".to_owned()),
                ("windows", "GA01 受理".to_owned()),
            ]
        };
        let html = crate::helpers::form_refused(
            &app,
            &client,
            "/admin/matters/save",
            &form("户口迁移证明", "三十"),
        )
        .await;
        assert!(html.contains("法定时限“三十”不是整数"), "{html}");
        assert!(
            html.contains("户口迁移证明"),
            "the submitted values come back"
        );
        assert_eq!(app.count("audit_log").await, audits);

        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/matters/save",
            &form("户口迁移证明", "30"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()["location"],
            "/admin/matters/ML-NEW/edit?ok=%E5%B7%B2%E4%BF%9D%E5%AD%98"
        );
        let g = app.anonymous().get_json("/api/v1/matters/ML-NEW").await;
        assert_eq!(g["materials"][0]["tolerable"], true);
        assert_eq!(g["review_form"], json!(["材料齐全", "签字完整"]));
        assert_eq!(g["path"], json!(["户籍与身份证", "户口迁移证明"]));
        let actor: String = sqlx::query_scalar(
            "select actor from audit_log where entity = 'matter' and entity_key = 'ML-NEW'",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(actor, "manager");

        // Export, then import the same file through the page: nothing changes.
        let xlsx_bytes = client
            .get(app.url("/admin/matters/export?center=GX-ML"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let import_url = app.url("/admin/matters/import?center=GX-ML");
        // The workbook as the page's script sends it: the bytes, the token in a header.
        let import_bytes = |file: Vec<u8>| {
            client
                .post(&import_url)
                .header("x-csrf-token", &csrf)
                .header("content-type", yichuang::catalog::api::XLSX)
                .body(file)
                .send()
        };
        let r = import_bytes(xlsx_bytes.to_vec()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = import_bytes(bad_workbook()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("事项类型") && html.contains("未导入任何内容"),
            "{html}"
        );
        // The page's own form (a file field, no script): the token travels as a field.
        let import_form = |token: &str, file: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", token.to_owned())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(file).file_name("目录.xlsx"),
                );
            client.post(&import_url).multipart(form).send()
        };
        let r = import_form(&csrf, xlsx_bytes.to_vec()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = import_form(&"0".repeat(64), xlsx_bytes.to_vec())
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "a forged form is refused"
        );
        let r = import_form(&csrf, bad_workbook()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("未导入任何内容"));

        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/matters/ML-NEW/delete",
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            app.anonymous().get("/api/v1/matters/ML-NEW").await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

on_both!(
    the_system_admin_keeps_the_matter_type_code_list,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let r = admin
            .put(
                "/api/v1/matter-types/inspection",
                json!({"name": "行政检查"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let t: Value = r.json().await.unwrap();
        assert_eq!(t["sort_order"], 10, "a new type goes last");
        let listed = app.anonymous().get_json("/api/v1/matter-types").await;
        assert!(
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "inspection" && i["name"] == "行政检查")
        );
        // Refused, nothing changed: a name already used, a bad code, a type still in use,
        // and anyone but the system administrator.
        let manager = app.api_as("manager").await;
        let before = app.count("audit_log").await;
        admin
            .put_error(
                "/api/v1/matter-types/inspection",
                json!({"name": "行政许可"}),
                StatusCode::CONFLICT,
                "conflict",
            )
            .await;
        admin
            .put_error(
                "/api/v1/matter-types/Bad%20Code",
                json!({"name": "某类"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        let msg = admin
            .delete_error(
                "/api/v1/matter-types/licence",
                StatusCode::CONFLICT,
                "conflict",
            )
            .await;
        assert!(msg.contains("在用"), "{msg}");
        manager
            .put_error(
                "/api/v1/matter-types/inspection",
                json!({"name": "检查"}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        assert_eq!(app.count("audit_log").await, before);
        assert_eq!(
            admin
                .delete("/api/v1/matter-types/inspection")
                .await
                .status(),
            StatusCode::NO_CONTENT
        );

        // The admin page: add a type, then rename it.
        let (client, csrf) = session_as(&app, "admin").await;
        let page = crate::helpers::page_text(&app, &client, "/admin/matter-types").await;
        assert!(
            page.contains("行政许可") && page.contains("confirmation"),
            "{page}"
        );
        let post = |fields: Vec<(&str, &str)>| {
            let mut f: Vec<(String, String)> = fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            f.push(("csrf".into(), csrf.clone()));
            client.post(app.url("/admin/matter-types")).form(&f).send()
        };
        let r = post(vec![("code", "supervision"), ("name", "行政监督")])
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = post(vec![
            ("code", "supervision"),
            ("name", ""),
            ("sort_order", "3"),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("类型名称不能为空"));
        let r = post(vec![("code", "supervision"), ("name", "行政监督检查")])
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let name: String =
            sqlx::query_scalar("select name from matter_types where code = 'supervision'")
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert_eq!(name, "行政监督检查");
        let entries: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where entity = 'matter_type' and actor = 'admin'",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(entries, 4, "create, delete, create, update");
    }
);
