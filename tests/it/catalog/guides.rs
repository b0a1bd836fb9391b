//! Guides: materials, review points and the published lists over the API.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, on_both};

on_both!(
    a_guide_carries_materials_and_review_points,
    |app: TestApp| async move {
        let r = app
            .anonymous()
            .get_status("/api/v1/matters/GXML-095", StatusCode::OK)
            .await;
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
        let parent = app.anonymous().get_json("/api/v1/matters/GXML-072").await;
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
        let setup = app.anonymous().get_json("/api/v1/matters/GXML-072-1").await;
        assert!(
            setup["materials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["tolerable"] == true)
        );
        app.anonymous()
            .get_error("/api/v1/matters/NOPE", StatusCode::NOT_FOUND, "not_found")
            .await;
        let lists = app
            .anonymous()
            .get_json("/api/v1/catalog/lists?center=GX-ML")
            .await;
        let rows = lists["items"].as_array().unwrap();
        assert!(rows.iter().any(|r| r["list_category"] == "医保"));
        assert!(rows.iter().any(|r| r["list_kind"] == "booking"));
    }
);
