//! Blank forms and samples attached to materials.

use reqwest::StatusCode;
use serde_json::Value;

use super::url_encode;
use crate::helpers::{TestApp, on_both};

on_both!(
    a_manager_attaches_a_blank_form_and_citizens_download_it,
    |app: TestApp| async move {
        let admin = app.api_as("admin").await;
        let pdf = b"%PDF-1.4\n% a blank application form\n".to_vec();
        let upload = |query: &str, body: Vec<u8>| {
            admin
                .client
                .post(app.url(&format!("/api/v1/matters/GXML-095/files?{query}")))
                .bearer_auth(admin.token.as_deref().unwrap())
                .body(body)
                .send()
        };
        let name = url_encode("居民身份证申领登记表.pdf");
        let r = upload(
            &format!("material=1&kind=blank_form&name={name}"),
            pdf.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let url = r.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(url.starts_with("/files/"), "{url}");
        // The material refers to it, in the guide's JSON and on its page.
        let g = app.anonymous().get_json("/api/v1/matters/GXML-095").await;
        assert_eq!(g["materials"][0]["blank_form"], url.as_str());
        let page = app
            .anonymous()
            .get("/matters/GXML-095")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("href=\"{url}\"")), "{page}");
        // Anyone downloads it, as uploaded.
        let r = app.anonymous().get_status(&url, StatusCode::OK).await;
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("filename*=UTF-8''"),
        );
        assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
        // A form with a file field works too.
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"\x89PNG sample".to_vec()).file_name("填写示例.png"),
        );
        let r = admin
            .client
            .post(app.url("/api/v1/matters/GXML-095/files?material=1&kind=sample"))
            .bearer_auth(admin.token.as_deref().unwrap())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);

        // Refused, and nothing stored: no such material, a program, an unknown kind.
        let files = app.count("catalog_files").await;
        for (query, status) in [
            (
                "material=99&kind=sample&name=a.pdf",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "material=1&kind=sample&name=setup.exe",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "material=1&kind=photo&name=a.pdf",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ("material=1&kind=sample&name=a.pdf", StatusCode::CREATED),
        ] {
            let body = if status == StatusCode::CREATED {
                pdf.clone()
            } else {
                b"x".to_vec()
            };
            let r = upload(query, body).await.unwrap();
            assert_eq!(r.status(), status, "{query}");
        }
        assert_eq!(app.count("catalog_files").await, files + 1);
        let clerk = app.api_as("clerk1").await;
        let r = clerk
            .client
            .post(app.url("/api/v1/matters/GXML-095/files?material=1&kind=sample&name=b.pdf"))
            .bearer_auth(clerk.token.as_deref().unwrap())
            .body(pdf.clone())
            .send()
            .await
            .unwrap();
        assert!(
            matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            r.status()
        );
        assert_eq!(
            app.anonymous().get("/files/999999/none.pdf").await.status(),
            StatusCode::NOT_FOUND
        );
        let audited: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where entity = 'matter' and entity_key = 'GXML-095' and action = 'update'",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert!(audited >= 3, "every attachment is an audited change");
    }
);
