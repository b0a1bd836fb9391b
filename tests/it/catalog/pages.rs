//! The public pages: search, guides, the booklet and the lobby's lists.

use reqwest::StatusCode;

use super::url_encode;
use crate::helpers::{TestApp, on_both};

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
                let r = anon
                    .get_status(&format!("/catalog/booklet?center=GX-ML{q}"), StatusCode::OK)
                    .await;
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
        let s = anon.get_json("/api/v1/catalog/sections?center=GX-ML").await;
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
        let p = anon
            .get_json("/api/v1/catalog/sections/booking?center=GX-ML&page=2&per_page=5")
            .await;
        assert_eq!(p["title"], "预约服务目录");
        assert_eq!(p["page"], 2);
        assert_eq!(p["pages"], (n + 4) / 5);
        assert_eq!(p["items"].as_array().unwrap().len(), 5.min(n as usize - 5));
        let hukou = url_encode("mandated-户籍");
        let p = anon
            .get_json(&format!("/api/v1/catalog/sections/{hukou}?center=GX-ML"))
            .await;
        assert!(p["total"].as_i64().unwrap() >= 1);
        assert!(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["list_category"] == "户籍")
        );
        anon.get_error(
            "/api/v1/catalog/sections/booking?center=GX-ML&per_page=0",
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
        let page = anon
            .get_status("/centers/GX-ML/catalog/screen", StatusCode::OK)
            .await;
        assert!(page.text().await.unwrap().contains("list-screen.js"));
    }
);
