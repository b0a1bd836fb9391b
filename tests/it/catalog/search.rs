//! Finding matters by word and by pinyin.

use reqwest::StatusCode;

use super::{names, search};
use crate::helpers::{TestApp, on_both};

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
        let all = app
            .anonymous()
            .get_json("/api/v1/matters?center=GX-ML&page=2")
            .await;
        assert!(all["total"].as_i64().unwrap() >= 102);
        assert_eq!(all["items"].as_array().unwrap().len(), 20);
        assert_eq!(search(&app, "完全没有这种事项").await["total"], 0);
        app.anonymous()
            .get_error(
                "/api/v1/matters?center=NOPE&q=x",
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
    }
);
