//! The matter catalogue: public search and guides, lists, spreadsheet exchange, edits.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yichuang::catalog::{MatterInput, xlsx};

use crate::helpers::{TestApp, expect_error, item_names, on_both};

async fn search(app: &TestApp, q: &str) -> Value {
    let r = app
        .anonymous()
        .get(&format!("/api/v1/matters?center=GX-ML&q={}", url_encode(q)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

on_both!(
    a_citizen_finds_matters_by_word_and_by_pinyin_initials,
    |app: TestApp| async move {
        let v = search(&app, "户口").await;
        let n = names(&v);
        assert!(n.contains(&"居民户口簿补领".to_owned()), "{n:?}");
        assert!(n.contains(&"出国出境定居注销户口".to_owned()), "{n:?}");
        assert_eq!(v["total"].as_i64().unwrap() as usize, n.len());

        // A fragment that is no word of its own is still found.
        let n = names(&search(&app, "口簿补").await);
        assert_eq!(n, ["居民户口簿补领"]);

        let n = names(&search(&app, "身份证").await);
        assert!(n.contains(&"首次申领居民身份证".to_owned()), "{n:?}");

        let v = search(&app, "bdcdj").await;
        let n = names(&v);
        assert!(n.contains(&"不动产登记（宅基地建房）".to_owned()), "{n:?}");
        assert!(n.iter().all(|x| x.starts_with("不动产登记")), "{n:?}");

        // The contract of each item.
        let item = &v["items"][0];
        for key in ["code", "name", "department", "type", "kind", "path"] {
            assert!(!item[key].is_null(), "{key} missing in {item}");
        }
        assert_eq!(item["department"], "自然资源分局");
        assert_eq!(item["type"], "行政确认");
        assert_eq!(item["path"][0], "自然资源与不动产登记");

        // Every matter, paged by 20.
        let all: Value = app
            .anonymous()
            .get("/api/v1/matters?center=GX-ML&page=2")
            .await
            .json()
            .await
            .unwrap();
        assert!(all["total"].as_i64().unwrap() >= 102);
        assert_eq!(all["items"].as_array().unwrap().len(), 20);
        assert_eq!(search(&app, "完全没有这种事项").await["total"], 0);
        expect_error(
            app.anonymous().get("/api/v1/matters?center=NOPE&q=x").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
);

on_both!(
    a_guide_carries_materials_and_review_points,
    |app: TestApp| async move {
        let r = app.anonymous().get("/api/v1/matters/GXML-095").await;
        assert_eq!(r.status(), StatusCode::OK);
        let g: Value = r.json().await.unwrap();
        assert_eq!(g["name"], "首次申领居民身份证");
        assert_eq!(g["type_name"], "行政确认");
        assert_eq!(g["notes"], "进驻专业大厅");
        assert_eq!(g["list_kind"], "mandated");
        assert_eq!(g["list_category"], "户籍");
        assert!(!g["review_form"].as_array().unwrap().is_empty());
        assert!(!g["review_content"].as_array().unwrap().is_empty());
        assert_eq!(g["materials"][0]["name"], "居民户口簿");
        assert_eq!(g["windows"][0]["window_name"], "公安集成综合受理");
        assert_eq!(g["windows"][0]["rights"], "accept");

        // 个体工商户设立、变更、注销登记 is split into three 办事情形.
        let parent: Value = app
            .anonymous()
            .get("/api/v1/matters/GXML-072")
            .await
            .json()
            .await
            .unwrap();
        let kids: Vec<&str> = parent["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            kids,
            [
                "个体工商户设立登记",
                "个体工商户变更登记",
                "个体工商户注销登记"
            ]
        );
        let setup: Value = app
            .anonymous()
            .get("/api/v1/matters/GXML-072-1")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            setup["materials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["tolerable"] == true)
        );
        expect_error(
            app.anonymous().get("/api/v1/matters/NOPE").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let lists: Value = app
            .anonymous()
            .get("/api/v1/catalog/lists?center=GX-ML")
            .await
            .json()
            .await
            .unwrap();
        let rows = lists["items"].as_array().unwrap();
        assert!(rows.iter().any(|r| r["list_category"] == "医保"));
        assert!(rows.iter().any(|r| r["list_kind"] == "booking"));
    }
);

async fn export(app: &TestApp, api: &crate::helpers::Api) -> Vec<u8> {
    let r = api.get("/api/v1/catalog/export?center=GX-ML").await;
    assert_eq!(r.status(), StatusCode::OK);
    let _ = app;
    r.bytes().await.unwrap().to_vec()
}

async fn import(api: &crate::helpers::Api, bytes: Vec<u8>) -> reqwest::Response {
    api.client
        .post(format!("{}/api/v1/catalog/import", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn parsed(bytes: &[u8]) -> Vec<MatterInput> {
    let types: Vec<(String, String)> = [
        ("licence", "行政许可"),
        ("confirmation", "行政确认"),
        ("payment", "行政给付"),
        ("other_power", "其他行政权力"),
        ("public_service", "公共服务"),
    ]
    .iter()
    .map(|(a, b)| ((*a).into(), (*b).into()))
    .collect();
    xlsx::read(bytes, &types)
        .map_err(|e| format!("{e:?}"))
        .unwrap()
}

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

fn bad_workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("事项").unwrap();
    let head = [
        "事项编号",
        "上级编号",
        "所属中心",
        "节点",
        "名称",
        "排序",
        "事项类型",
        "实施部门",
        "层级",
        "办件类型",
        "设定依据",
        "受理条件",
        "办理流程",
        "法定时限",
        "承诺时限",
        "时限单位",
        "特别程序",
        "收费标准",
        "收费依据",
        "告知承诺",
        "咨询电话",
        "投诉电话",
        "总值班电话",
        "办理地点",
        "办理时间",
        "送达方式",
        "备注",
        "目录类别",
        "规定目录大类",
        "负面清单",
        "负面清单原因",
    ];
    for (i, h) in head.iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    let good = [
        "NEW-1",
        "GXML-C01",
        "GX-ML",
        "事项",
        "新的事项",
        "1",
        "公共服务",
        "民政局",
        "乡级",
        "即办件",
    ];
    for (i, v) in good.iter().enumerate() {
        ws.write_string(1, i as u16, *v).unwrap();
    }
    let bad = [
        "NEW-2",
        "GXML-C01",
        "GX-ML",
        "事项",
        "另一个事项",
        "2",
        "行政许可证",
        "民政局",
        "乡级",
        "马上办",
    ];
    for (i, v) in bad.iter().enumerate() {
        ws.write_string(2, i as u16, *v).unwrap();
    }
    ws.write_string(2, 13, "三十").unwrap();
    wb.save_to_buffer().unwrap()
}

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

on_both!(
    the_public_pages_show_search_guides_and_the_booklet,
    |app: TestApp| async move {
        let anon = app.anonymous();
        let page = anon
            .get("/matters?center=GX-ML&q=%E6%88%B7%E5%8F%A3")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("居民户口簿补领"), "{page}");
        let page = anon
            .get("/matters?center=GX-ML")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("户籍与身份证") && page.contains("按部门浏览"));
        let page = anon.get("/matters/GXML-095").await.text().await.unwrap();
        for s in [
            "形式审查要点",
            "内容审查要点",
            "居民户口簿",
            "公安集成综合受理（受理）",
        ] {
            assert!(page.contains(s), "{s} missing");
        }
        let page = anon
            .get("/catalog/booklet?center=GX-ML")
            .await
            .text()
            .await
            .unwrap();
        for s in [
            "延时错时规定目录 · 户籍",
            "预约服务目录",
            "进驻事项负面清单",
            "总值班电话",
        ] {
            assert!(page.contains(s), "{s} missing");
        }
        assert_eq!(
            anon.get("/matters/NOPE").await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn csrf_from_page(client: &reqwest::Client, url: &str) -> String {
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + 64].to_owned()
}

async fn manager_session(app: &TestApp) -> (reqwest::Client, String) {
    session_as(app, "manager").await
}

/// A browser-like client signed in as `login`, and its CSRF token.
async fn session_as(app: &TestApp, login: &str) -> (reqwest::Client, String) {
    let client = cookie_client();
    let token = csrf_from_page(&client, &app.url("/login")).await;
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("login", login),
            ("password", app.passwords[login].as_str()),
            ("csrf", token.as_str()),
            ("next", "/admin/matters"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    (client, token)
}

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
        let edit = client
            .get(app.url("/admin/matters/GXML-100/edit"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
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
        let r = client
            .post(app.url("/admin/matters/save"))
            .form(&form("户口迁移证明", "三十"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("法定时限“三十”不是整数"), "{html}");
        assert!(
            html.contains("户口迁移证明"),
            "the submitted values come back"
        );
        assert_eq!(app.count("audit_log").await, audits);

        let r = client
            .post(app.url("/admin/matters/save"))
            .form(&form("户口迁移证明", "30"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()["location"],
            "/admin/matters/ML-NEW/edit?ok=%E5%B7%B2%E4%BF%9D%E5%AD%98"
        );
        let g: Value = app
            .anonymous()
            .get("/api/v1/matters/ML-NEW")
            .await
            .json()
            .await
            .unwrap();
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
        let r = client
            .post(app.url("/admin/matters/import?center=GX-ML"))
            .header("x-csrf-token", &csrf)
            .header(
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(xlsx_bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = client
            .post(app.url("/admin/matters/import?center=GX-ML"))
            .header("x-csrf-token", &csrf)
            .header(
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(bad_workbook())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("事项类型") && html.contains("未导入任何内容"),
            "{html}"
        );
        // The page's own form (a file field, no script): the token travels as a field.
        let form = |token: &str, file: Vec<u8>| {
            reqwest::multipart::Form::new()
                .text("csrf", token.to_owned())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(file).file_name("目录.xlsx"),
                )
        };
        let r = client
            .post(app.url("/admin/matters/import?center=GX-ML"))
            .multipart(form(&csrf, xlsx_bytes.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = client
            .post(app.url("/admin/matters/import?center=GX-ML"))
            .multipart(form(&"0".repeat(64), xlsx_bytes.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "a forged form is refused"
        );
        let r = client
            .post(app.url("/admin/matters/import?center=GX-ML"))
            .multipart(form(&csrf, bad_workbook()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("未导入任何内容"));

        let r = client
            .post(app.url("/admin/matters/ML-NEW/delete"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            app.anonymous().get("/api/v1/matters/ML-NEW").await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

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
        let g: Value = app
            .anonymous()
            .get("/api/v1/matters/GXML-095")
            .await
            .json()
            .await
            .unwrap();
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
        let r = app.anonymous().get(&url).await;
        assert_eq!(r.status(), StatusCode::OK);
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
        let listed: Value = app
            .anonymous()
            .get("/api/v1/matter-types")
            .await
            .json()
            .await
            .unwrap();
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
        expect_error(
            admin
                .put(
                    "/api/v1/matter-types/inspection",
                    json!({"name": "行政许可"}),
                )
                .await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        expect_error(
            admin
                .put("/api/v1/matter-types/Bad%20Code", json!({"name": "某类"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        let msg = expect_error(
            admin.delete("/api/v1/matter-types/licence").await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(msg.contains("在用"), "{msg}");
        expect_error(
            manager
                .put("/api/v1/matter-types/inspection", json!({"name": "检查"}))
                .await,
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
        let page = client
            .get(app.url("/admin/matter-types"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
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

on_both!(
    a_large_booklet_is_printed_section_by_section_in_pages,
    |app: TestApp| async move {
        let mut tx = app.app.db.begin().await.unwrap();
        yichuang::catalog::generate::generate(&mut tx, "GX-ML", 650, app.app.clock.now_micros())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let page = |q: &str| {
            let anon = app.anonymous();
            let q = q.to_owned();
            async move {
                let r = anon.get(&format!("/catalog/booklet?center=GX-ML{q}")).await;
                assert_eq!(r.status(), StatusCode::OK);
                r.text().await.unwrap()
            }
        };
        let rows = |html: &str| html.matches("<tr><td>").count();
        let all = page("").await;
        // The contents count every section; each shows its first 300 rows.
        assert!(all.contains("href=\"#booking\""), "{all}");
        assert!(
            all.contains("第 1/3 页"),
            "650 and more booking rows make 3 pages"
        );
        assert!(all.contains("section=booking&amp;page=2"));
        let first = page("&section=booking").await;
        assert_eq!(rows(&first), 300);
        let last = page("&section=booking&page=3").await;
        let booked: i64 = sqlx::query_scalar(
            "select count(*) from matters m join centers c on c.id = m.center_id where c.code = 'GX-ML' \
             and m.node = 'matter' and m.list_kind = 'booking' and m.outside = 0 \
             and not exists (select 1 from matters k where k.parent_id = m.id)",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(rows(&last) as i64, booked - 600);
        assert!(last.contains("上一页") && !last.contains("下一页"));
        let r = app
            .anonymous()
            .get("/catalog/booklet?center=GX-ML&section=nope")
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
);

on_both!(
    the_lists_come_a_screenful_at_a_time_for_the_lobby,
    |app: TestApp| async move {
        let anon = app.anonymous();
        let s: Value = anon
            .get("/api/v1/catalog/sections?center=GX-ML")
            .await
            .json()
            .await
            .unwrap();
        let items = s["items"].as_array().unwrap();
        assert_eq!(
            items.len(),
            14,
            "11 mandated categories, 自选, 预约 and the 负面清单"
        );
        let total: i64 = items.iter().map(|i| i["total"].as_i64().unwrap()).sum();
        let situations: i64 = sqlx::query_scalar(
            "select count(*) from matters m join centers c on c.id = m.center_id where c.code = 'GX-ML' \
             and m.node = 'matter' and m.list_kind <> 'none' \
             and not exists (select 1 from matters k where k.parent_id = m.id)",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(total, situations, "every 办事情形 is in one section");
        let booking = items.iter().find(|i| i["key"] == "booking").unwrap();
        let n = booking["total"].as_i64().unwrap();
        assert!(n > 5);
        let p: Value = anon
            .get("/api/v1/catalog/sections/booking?center=GX-ML&page=2&per_page=5")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(p["title"], "预约服务目录");
        assert_eq!(p["page"], 2);
        assert_eq!(p["pages"], (n + 4) / 5);
        assert_eq!(p["items"].as_array().unwrap().len(), 5.min(n as usize - 5));
        let hukou = url_encode("mandated-户籍");
        let p: Value = anon
            .get(&format!("/api/v1/catalog/sections/{hukou}?center=GX-ML"))
            .await
            .json()
            .await
            .unwrap();
        assert!(p["total"].as_i64().unwrap() >= 1);
        assert!(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["list_category"] == "户籍")
        );
        expect_error(
            anon.get("/api/v1/catalog/sections/booking?center=GX-ML&per_page=0")
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        assert_eq!(
            anon.get("/api/v1/catalog/sections/nope?center=GX-ML")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let page = anon.get("/centers/GX-ML/catalog/screen").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("list-screen.js"));
    }
);
