//! Everyday words (社保卡, 上户口 …) through the managers' synonym list, names ranked first,
//! and the list kept by managers only.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{session_as, url_encode};
use crate::helpers::{TestApp, on_both};

/// Every page of the answer to `q` in `center`: the names in order, after checking that
/// `total` counts exactly the matters the pages list, each once.
async fn all_pages(app: &TestApp, center: &str, q: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut codes = HashSet::new();
    let mut total = None;
    for page in 1.. {
        let r = app
            .anonymous()
            .get(&format!(
                "/api/v1/matters?center={center}&q={}&page={page}",
                url_encode(q)
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        let t = v["total"].as_i64().unwrap();
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "{q}: total changed between pages"
        );
        let items = v["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for i in items {
            assert!(
                codes.insert(i["code"].as_str().unwrap().to_owned()),
                "{q}: {} listed twice",
                i["code"]
            );
            names.push(i["name"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(total.unwrap_or(0) as usize, names.len(), "{q} in {center}");
    names
}

/// (word, the center searched, texts one of which the first answer's name holds).
const EVERYDAY: &[(&str, &str, &[&str])] = &[
    ("社保卡", "GX-ML", &["社会保障卡"]),
    ("社保卡", "GX", &["社会保障卡"]),
    ("营业执照", "GX-ML", &["设立登记", "个体工商户"]),
    ("营业执照", "GX", &["营业执照", "设立登记"]),
    ("医保卡", "GX-ML", &["医疗保险"]),
    ("医保卡", "GX", &["医疗保险", "医疗保障"]),
    ("上户口", "GX-ML", &["出生登记", "立户"]),
    ("上户口", "GX", &["出生登记"]),
    ("准生证", "GX-ML", &["生育服务"]),
    ("准生证", "GX", &["生育登记"]),
    ("补办身份证", "GX-ML", &["补领身份证"]),
    ("补办身份证", "GX", &["补领居民身份证", "换领居民身份证"]),
    ("个体户", "GX-ML", &["个体工商户"]),
    ("个体户", "GX", &["个体工商户"]),
];

on_both!(
    everyday_words_find_their_matters_in_the_demo_catalogues,
    |app: TestApp| async move {
        for (word, center, expected) in EVERYDAY {
            let names = all_pages(&app, center, word).await;
            let first = names
                .first()
                .unwrap_or_else(|| panic!("{word} finds nothing in {center}"));
            assert!(
                expected.iter().any(|e| first.contains(e)),
                "{word} in {center} starts with {first}: {names:?}"
            );
        }
        // A word the list does not know still finds what it finds by itself.
        assert!(
            all_pages(&app, "GX-ML", "户口")
                .await
                .contains(&"居民户口簿补领".to_owned())
        );
    }
);

on_both!(
    names_that_hold_the_query_come_first,
    |app: TestApp| async move {
        for center in ["GX-ML", "GX"] {
            let names = all_pages(&app, center, "身份证").await;
            assert!(names.len() > 3, "{names:?}");
            for n in &names[..3] {
                assert!(n.contains("身份证"), "{center}: {names:?}");
            }
            // Matters found only by their category (户籍与身份证) follow every name match.
            let last_holding = names.iter().rposition(|n| n.contains("身份证")).unwrap();
            let first_other = names.iter().position(|n| !n.contains("身份证")).unwrap();
            assert!(last_holding < first_other, "{center}: {names:?}");
        }
        // A name that starts with the query comes before one that only holds it.
        let names = all_pages(&app, "GX", "社会保障卡").await;
        assert!(names[0].starts_with("社会保障卡"), "{names:?}");
        // Over every center too: 身份证 matters of both catalogues lead.
        let v = app
            .anonymous()
            .get_json(&format!("/api/v1/matters?q={}", url_encode("身份证")))
            .await;
        for i in v["items"].as_array().unwrap().iter().take(3) {
            assert!(i["name"].as_str().unwrap().contains("身份证"), "{v}");
        }
    }
);

on_both!(
    a_managers_edit_of_the_synonyms_takes_effect_at_once,
    |app: TestApp| async move {
        // Asked before the edit: the cached "nothing" must not outlive it.
        assert!(all_pages(&app, "GX-ML", "一卡通补办").await.is_empty());
        let manager = app.api_as("manager").await;
        let mut list = manager.get_json("/api/v1/catalog/synonyms").await;
        let items = list["items"].as_array_mut().unwrap();
        assert!(items.iter().any(|i| i["term"] == "社保卡"));
        items.push(json!({"term": "一卡通补办", "alternatives": ["一卡通 账号"]}));
        let r = manager.put("/api/v1/catalog/synonyms", list.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let names = all_pages(&app, "GX-ML", "一卡通补办").await;
        assert_eq!(names, ["“一卡通”账号信息变更"]);
        let (actor, entity): (String, String) = sqlx::query_as(
            "select actor, entity from audit_log where entity = 'search_synonyms' order by id desc limit 1",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert_eq!(
            (actor.as_str(), entity.as_str()),
            ("manager", "search_synonyms")
        );

        // A refused list changes nothing.
        let audits = app.count("audit_log").await;
        let mut bad = list.clone();
        bad["items"]
            .as_array_mut()
            .unwrap()
            .push(json!({"term": "社保卡", "alternatives": ["社保"]}));
        let msg = manager
            .put_error(
                "/api/v1/catalog/synonyms",
                bad,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        assert!(msg.contains("重复"), "{msg}");
        assert_eq!(app.count("audit_log").await, audits);

        // The page: one entry a line; a bad line is named and the text kept.
        let (client, csrf) = session_as(&app, "manager").await;
        let page = client
            .get(app.url("/admin/search-synonyms"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("社保卡 = 社会保障卡"), "{html}");
        let html = crate::helpers::form_refused(
            &app,
            &client,
            "/admin/search-synonyms",
            &[
                ("csrf", csrf.as_str()),
                ("synonyms", "社保卡 = 社会保障卡\n准生证 生育登记"),
            ],
        )
        .await;
        assert!(
            html.contains("第 2 行缺少“=”") && html.contains("准生证 生育登记"),
            "{html}"
        );
        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/search-synonyms",
            &[
                ("csrf", csrf.as_str()),
                ("synonyms", "社保卡 = 社会保障卡\n惠农卡 = 一卡通"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // Gone from the list: 准生证 finds nothing by itself now; 惠农卡 is new.
        assert!(all_pages(&app, "GX-ML", "准生证").await.is_empty());
        assert_eq!(
            all_pages(&app, "GX-ML", "惠农卡").await,
            ["“一卡通”账号信息变更"]
        );
        let v = app.anonymous().get_json("/api/v1/catalog/synonyms").await;
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
    }
);

on_both!(
    a_clerk_cannot_edit_the_synonyms,
    |app: TestApp| async move {
        let clerk = app.api_as("clerk1").await;
        let before = clerk.get_json("/api/v1/catalog/synonyms").await;
        let audits = app.count("audit_log").await;
        clerk
            .put_error(
                "/api/v1/catalog/synonyms",
                json!({"items": [{"term": "社保卡", "alternatives": ["公积金"]}]}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        let r = app
            .anonymous()
            .put("/api/v1/catalog/synonyms", json!({"items": []}))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let (client, csrf) = session_as(&app, "clerk1").await;
        let page = client
            .get(app.url("/admin/search-synonyms"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        let r = crate::helpers::post_form(
            &app,
            &client,
            "/admin/search-synonyms",
            &[("csrf", csrf.as_str()), ("synonyms", "社保卡 = 公积金")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let after = app.anonymous().get_json("/api/v1/catalog/synonyms").await;
        assert_eq!(before, after);
        assert_eq!(app.count("audit_log").await, audits);
        // The managers' menu leads to the page; a clerk's does not.
        let (manager, _) = session_as(&app, "manager").await;
        let html = crate::helpers::page_text(&app, &manager, "/admin/matters").await;
        assert!(html.contains("href=\"/admin/search-synonyms\""));
    }
);
