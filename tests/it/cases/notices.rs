//! The written notices: A4 PDFs with the wording the 行政许可法 requires, read back out of the
//! PDF the server produced.

use reqwest::StatusCode;
use serde_json::json;

use super::{desk, intake_with, number, on_both_at, received, step};

/// The notice's words, with the PDF's line breaks and spaces removed.
async fn notice_text(api: &crate::helpers::Api, number: &str, kind: &str) -> String {
    let r = api
        .get(&format!("/api/v1/cases/{number}/notices/{kind}.pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{kind}.pdf");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let text = pdf_extract::extract_text_from_mem(&bytes).expect("text in the PDF");
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn has_all(text: &str, words: &[&str]) {
    for w in words {
        let w: String = w.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(text.contains(&w), "the notice lacks “{w}”:\n{text}");
    }
}

on_both_at!(
    each_notice_carries_what_the_law_requires,
    "2026-03-02T09:00",
    |app: crate::helpers::TestApp| async move {
        let (code, clerk) = desk(&app, "T-NOTE-A", "promised").await;

        // 受理通知书 with its 材料接收清单, a 容缺 material and the due date.
        let n = number(&intake_with(&clerk, &code, 1, json!({"received": [1]})).await);
        step(
            &clerk,
            &n,
            "accept",
            json!({"tolerated": [2], "supply_by": "2026-03-06"}),
        )
        .await;
        let text = notice_text(&clerk, &n, "accept").await;
        has_all(
            &text,
            &[
                "受理通知书",
                "梅林镇综合便民服务中心",
                &n,
                "王建明",
                "测试事项T-NOTE-A",
                "第三十二条第一款第（五）项",
                "予以受理",
                "承诺办结时限为5个工作日",
                "法定办结时限为20个工作日",
                "2026年3月9日",
                "第四十二条",
                "材料接收清单",
                "申请书",
                "场所使用证明",
                "容缺后补",
                "2026年3月6日前补交",
                "2026年3月2日",
                "/progress?number=",
            ],
        );
        // A case not accepted has no acceptance notice.
        let n2 = received(&clerk, &code, 2).await;
        clerk
            .get_status(
                &format!("/api/v1/cases/{n2}/notices/accept.pdf"),
                StatusCode::NOT_FOUND,
            )
            .await;

        // 补正告知书: every item, once.
        step(
            &clerk,
            &n2,
            "notify-missing",
            json!({"items": ["申请书（原件1份）", "场所使用证明须加盖公章"]}),
        )
        .await;
        let text = notice_text(&clerk, &n2, "missing").await;
        has_all(
            &text,
            &[
                "补正材料告知书",
                &n2,
                "第三十二条第一款第（四）项",
                "一次性告知",
                "申请书（原件1份）",
                "场所使用证明须加盖公章",
                "办件编号不变",
            ],
        );

        // 不予受理通知书: reason, basis and the right to review or sue.
        let n3 = received(&clerk, &code, 3).await;
        step(&clerk, &n3, "refuse", json!({"reason": "申请人不具备法定资格", "basis": "《中华人民共和国行政许可法》第三十二条第一款第（二）项"})).await;
        let text = notice_text(&clerk, &n3, "refuse").await;
        has_all(
            &text,
            &[
                "不予受理通知书",
                &n3,
                "申请人不具备法定资格",
                "第三十二条第一款第（二）项",
                "决定不予受理",
                "六十日内依法申请行政复议",
                "六个月内依法向人民法院提起行政诉讼",
            ],
        );

        // 延期告知书 once an extension is granted.
        let approver = app.api_as("approver").await;
        let chief = app.api_as("chief").await;
        step(
            &approver,
            &n,
            "extensions",
            json!({"days": 5, "reason": "需要征求县自然资源局意见"}),
        )
        .await;
        step(&chief, &n, "extensions/decide", json!({"approve": true})).await;
        let text = notice_text(&clerk, &n, "extension").await;
        has_all(
            &text,
            &[
                "延期办理告知书",
                "需要征求县自然资源局意见",
                "延长5个工作日",
                "2026年3月16日",
                "第四十二条第一款",
            ],
        );

        clerk
            .get_status(
                &format!("/api/v1/cases/{n}/notices/other.pdf"),
                StatusCode::NOT_FOUND,
            )
            .await;
    }
);
