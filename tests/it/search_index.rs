//! PostgreSQL's search held in memory (`catalog::search::Index`) answers every query as the
//! database does: the same total and the same page, in the same order, with and without a
//! center, through synonyms, and by the substring fallback when no word matches. SQLite keeps
//! its FTS5 search and has no such index.

use yichuang::{
    catalog::{
        bench::queries,
        search::{self, Index, Query, center_token},
        synonyms::{Synonyms, parse_text},
    },
    db::Backend,
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_index_answers_as_postgresql_does() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let db = &app.app.db;
    let mut tx = db.begin().await.unwrap();
    yichuang::catalog::generate::generate(&mut tx, "GX", 3000, app.app.clock.now_micros())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let synonyms = Synonyms::new(
        &parse_text(
            "社保卡 = 社会保障卡\n补办 = 补领，换领\n补办身份证 = 身份证 补领，身份证 换领",
        )
        .unwrap(),
    );
    let index = Index::load(db).await.unwrap();
    let version: i64 = sqlx::query_scalar("select version from catalog_version where id = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(index.version, version);
    let matters: i64 = sqlx::query_scalar("select count(*) from matters where node = 'matter'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(index.len() as i64, matters);
    let gx: i64 = sqlx::query_scalar("select id from centers where code = 'GX'")
        .fetch_one(db.pool())
        .await
        .unwrap();

    // The bench's mix (common words, subjects, pairs and their initials, whole names,
    // misses), thinned, and the shapes it lacks: synonyms, one character, upper case, a
    // query jieba cuts apart from the names (the fallback), words the parser would split.
    let all = queries();
    let mut asked: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 120 || i % 37 == 0)
        .map(|(_, q)| q.clone())
        .collect();
    for q in [
        "社保卡补办",
        "补办身份证",
        "证",
        "户",
        "BDCDJ",
        "  户口  ",
        "口簿补",
        "户口 登记 个人",
        "①号",
        "50%",
        "不动产登记（",
    ] {
        asked.push(q.to_owned());
    }
    let mut from_index = 0;
    let mut with_answers = 0;
    for q in &asked {
        for center in [Some("GX"), None] {
            for page in [1, 2] {
                let expected = search::search(db, &synonyms, q, center, page)
                    .await
                    .unwrap();
                let got = search::search_indexed(db, Some(&index), &synonyms, q, center, page)
                    .await
                    .unwrap();
                assert_eq!(
                    serde_json::to_value(&got).unwrap(),
                    serde_json::to_value(&expected).unwrap(),
                    "{q:?} center {center:?} page {page}"
                );
                let query = Query::new(q, &synonyms);
                if !query.is_empty()
                    && index
                        .search(
                            &query,
                            q.trim(),
                            center.map(|_| center_token(gx)).as_deref(),
                            (page - 1) * search::PER_PAGE,
                        )
                        .is_some()
                {
                    from_index += 1;
                }
                if expected.total > 0 {
                    with_answers += 1;
                }
            }
        }
    }
    // Every query but the one with a word the parser splits (①号) was the index's.
    assert!(
        from_index >= asked.len() * 4 - 4,
        "{from_index} of {}",
        asked.len() * 4
    );
    assert!(with_answers > asked.len() * 2, "{with_answers}");
}

/// The catalogue's version now.
async fn version(app: &TestApp) -> i64 {
    sqlx::query_scalar("select version from catalog_version where id = 1")
        .fetch_one(app.app.db.pool())
        .await
        .unwrap()
}

/// Waits until the server's index is of version `v`. The server began building at its start,
/// and builds again after a change when next asked; the demo catalogue takes milliseconds.
async fn indexed(app: &TestApp, v: i64) {
    for _ in 0..200 {
        if app.app.search_cache.indexed_version() == Some(v) {
            return;
        }
        let _ = app.anonymous().get("/api/v1/matters?q=户口&page=3").await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the index never reached version {v}: {:?}",
        app.app.search_cache.indexed_version()
    );
}

/// The total of the public search for `q`.
async fn total(app: &TestApp, q: &str) -> i64 {
    let r = app.anonymous().get(&format!("/api/v1/matters?q={q}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_the_catalogue_is_searched_at_once_and_then_indexed() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let admin = app.api_as("admin").await;
    indexed(&app, version(&app).await).await;
    assert_eq!(total(&app, "晴川").await, 0);
    let r = admin
        .put(
            "/api/v1/matters/QC-1",
            json!({"center": "GX-ML", "parent": "GXML-C01", "name": "晴川老年人优待证办理",
                "type_code": "public_service", "kind": "immediate", "department": "民政局"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    // At once, though the index is of the version before.
    assert_eq!(total(&app, "晴川老年人").await, 1);
    indexed(&app, version(&app).await).await;
    assert_eq!(total(&app, "晴川").await, 1);
    assert_eq!(total(&app, "qclnr").await, 1);
    assert_eq!(
        admin.delete("/api/v1/matters/QC-1").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(total(&app, "晴川优待").await, 0);
}
