//! Spreadsheet exchange over the API: export, import again, errors by cell.

use reqwest::StatusCode;
use serde_json::Value;

use super::{bad_workbook, export, import, parsed};
use crate::helpers::{TestApp, expect_error, on_both};

on_both!(
    a_spreadsheet_export_imported_again_gives_the_same_catalogue,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let first = export(&app, &admin).await;
        let before = parsed(&first);
        assert!(before.len() > 102);

        // Someone edits a guide; importing the exported file puts it back.
        let mut changed = before
            .iter()
            .find(|m| m.code == "GXML-095")
            .unwrap()
            .clone();
        changed.name = "首次申领居民身份证（改）".into();
        changed.review_form.clear();
        let r = admin
            .put(
                "/api/v1/matters/GXML-095",
                serde_json::to_value(&changed).unwrap(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_ne!(parsed(&export(&app, &admin).await), before);

        let r = import(&admin, first).await;
        assert_eq!(r.status(), StatusCode::OK);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["updated"], 1);
        assert_eq!(report["created"], 0);
        assert_eq!(parsed(&export(&app, &admin).await), before);
    }
);

on_both!(
    a_spreadsheet_with_errors_reports_rows_and_columns_and_imports_nothing,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let matters = app.count("matters").await;
        let audits = app.count("audit_log").await;
        let r = import(&admin, bad_workbook()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = r.json().await.unwrap();
        let rows = v["error"]["rows"].as_array().unwrap();
        let cols: Vec<(i64, &str)> = rows
            .iter()
            .map(|r| (r["row"].as_i64().unwrap(), r["column"].as_str().unwrap()))
            .collect();
        assert!(cols.contains(&(3, "事项类型")), "{cols:?}");
        assert!(cols.contains(&(3, "办件类型")), "{cols:?}");
        assert!(cols.contains(&(3, "法定时限")), "{cols:?}");
        assert!(cols.iter().all(|(r, _)| *r == 3), "{cols:?}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("第 3 行") && msg.contains("未导入"), "{msg}");
        assert_eq!(app.count("matters").await, matters);
        assert_eq!(app.count("audit_log").await, audits);

        let r = import(&admin, b"not a spreadsheet".to_vec()).await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(app.count("matters").await, matters);
    }
);
