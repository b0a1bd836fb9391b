//! After sign-in every role lands on a page that fits it (issue 13 "Staff"): a clerk on their
//! window's desk or a choice of posts, a hall manager on the hall, a leader on supervision,
//! and the approver and the chief representative on a start page that says what their work
//! lists hold — and every link there opens.

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, cookie_client, csrf_in, on_both, post_sign_in};

/// Signs `login` in through the sign-in page's form, as a person does (no `next` asked for),
/// and returns the client with where the answer sent it.
async fn sign_in(app: &TestApp, login: &str) -> (Client, String) {
    let client = cookie_client();
    let html = crate::helpers::page_text(app, &client, "/login").await;
    let csrf = csrf_in(&html);
    let next = html
        .split("name=\"next\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next field")
        .to_owned();
    let r = post_sign_in(app, &client, login, &csrf, Some(&next)).await;
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    (client, to)
}

/// Follows redirects from `path` to the page a person sees: its address and its HTML.
async fn land(app: &TestApp, client: &Client, path: &str) -> (String, String) {
    let mut at = path.to_owned();
    for _ in 0..5 {
        let r = client.get(app.url(&at)).send().await.unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            at = r.headers()["location"].to_str().unwrap().to_owned();
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "{at}");
        return (at, r.text().await.unwrap());
    }
    panic!("too many redirects from {path}");
}

/// Signs `login` in and returns the page they land on.
async fn landing_of(app: &TestApp, login: &str) -> (Client, String, String) {
    let (client, to) = sign_in(app, login).await;
    assert_eq!(to, "/start", "sign-in leads to the start");
    let (at, html) = land(app, &client, &to).await;
    (client, at, html)
}

/// Every `href="/…"` of the page's main content opens for the person (200).
async fn links_open(app: &TestApp, client: &Client, html: &str, section: &str) {
    let part = html
        .split(&format!("id=\"{section}\""))
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_else(|| panic!("no {section} in {html}"));
    let mut seen = 0;
    for href in part.split("href=\"").skip(1) {
        let link = href.split('"').next().unwrap().replace("&amp;", "&");
        let r = client.get(app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{section}: {link}");
        seen += 1;
    }
    assert!(seen > 0, "{section} has links");
}

on_both!(
    a_clerk_lands_on_the_desk_of_their_window,
    |app: TestApp| async move {
        // clerk1: A post at 通用综合受理1, B post at 通用综合受理6.
        let (client, at, html) = landing_of(&app, "clerk1").await;
        assert_eq!(at, "/centers/GX/windows/TY01/desk");
        assert!(html.contains("<h1>通用综合受理1"), "{html}");
        // The B post is a link away.
        let other = html
            .split("id=\"other-posts\"")
            .nth(1)
            .expect("the other posts");
        assert!(
            other.contains("href=\"/centers/GX/windows/TY06/desk\""),
            "{other}"
        );
        let r = client
            .get(app.url("/centers/GX/windows/TY06/desk"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
);

on_both!(
    a_clerk_with_several_windows_of_their_own_chooses_one,
    |app: TestApp| async move {
        let manager = app.api_as("manager").await;
        let r = manager
            .put(
                "/api/v1/centers/GX/windows/YSCS/posts/clerk1",
                json!({"post": "A"}),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
        let (client, at, html) = landing_of(&app, "clerk1").await;
        assert_eq!(at, "/start");
        assert!(html.contains("请选择今天所在的窗口"), "{html}");
        assert!(html.contains("href=\"/centers/GX/windows/TY01/desk\""));
        assert!(html.contains("href=\"/centers/GX/windows/YSCS/desk\""));
        assert!(html.contains("href=\"/centers/GX/windows/TY06/desk\""));
        links_open(&app, &client, &html, "start-posts").await;
    }
);

on_both!(
    a_hall_manager_lands_on_the_hall_and_a_leader_on_supervision,
    |app: TestApp| async move {
        let (_, at, html) = landing_of(&app, "manager").await;
        assert_eq!(at, "/admin");
        assert!(html.contains("大厅管理"), "{html}");
        let (_, at, _) = landing_of(&app, "admin").await;
        assert_eq!(at, "/admin");
        let (_, at, html) = landing_of(&app, "leader").await;
        assert_eq!(at, "/cases/supervision");
        assert!(html.contains("电子监察"), "{html}");
    }
);

on_both!(
    the_approver_lands_on_a_page_that_says_what_their_lists_hold,
    |app: TestApp| async move {
        let (client, at, html) = landing_of(&app, "approver").await;
        assert_eq!(at, "/start");
        assert!(html.contains("<h2>后台审批</h2>"), "{html}");
        assert!(html.contains("href=\"/cases?view=review\""));
        assert!(html.contains("联办件中本部门的环节"));
        assert!(!html.contains("id=\"start-chief\""), "not the chief's part");
        assert!(!html.contains("id=\"start-posts\""), "no windows");
        links_open(&app, &client, &html, "start-approver").await;
        case_list_shows_tab(&app, &client, "review", "审批中").await;
    }
);

/// Asserts that the case list `/cases?view={view}` opens with its tab `label` current.
async fn case_list_shows_tab(app: &TestApp, client: &Client, view: &str, label: &str) {
    let list = crate::helpers::page_text(app, client, &format!("/cases?view={view}")).await;
    assert!(
        list.contains(&format!("aria-current=\"page\" class=\"active\">{label}")),
        "{list}"
    );
}

on_both!(
    the_chief_representative_lands_on_signing_and_extension_approvals,
    |app: TestApp| async move {
        let (client, at, html) = landing_of(&app, "chief").await;
        assert_eq!(at, "/start");
        assert!(html.contains("<h2>首席代表</h2>"), "{html}");
        assert!(html.contains("href=\"/cases?view=signing\""));
        assert!(html.contains("延期申请"));
        assert!(html.contains("现在没有待批准的延期申请"));
        links_open(&app, &client, &html, "start-chief").await;
        case_list_shows_tab(&app, &client, "signing", "待签批").await;
    }
);

on_both!(
    a_page_that_asked_for_sign_in_still_comes_back_after_it,
    |app: TestApp| async move {
        let client = cookie_client();
        let r = client
            .get(app.url("/admin/centers/GX/queue"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["location"],
            "/login?next=%2Fadmin%2Fcenters%2FGX%2Fqueue"
        );
        // Signed out, the start asks for sign-in and comes back to it.
        let r = client.get(app.url("/start")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login?next=%2Fstart");
    }
);

use crate::browser::{shot, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_each_role_signs_in_and_lands_on_its_page() {
    use thirtyfour::prelude::*;
    let app = TestApp::spawn(yichuang::db::Backend::Sqlite).await;
    let (_driver, web) = crate::browser::Driver::start().await;
    let result = async {
        // The header's sign-in link asks for no page: the clerk is taken to their desk.
        web.goto(app.url("/")).await?;
        crate::browser::click_and_wait(web.find(By::LinkText("工作人员登录")).await?).await?;
        crate::browser::sign_in(&web, &app, "clerk1").await?;
        let url = web.current_url().await?;
        assert_eq!(url.path(), "/centers/GX/windows/TY01/desk");
        let other = text_of(&web, By::Id("other-posts")).await?;
        assert!(other.contains("通用综合受理6（B 岗）"), "{other}");
        shot(&web, "landing-clerk1-desk").await?;

        for (login, section, title) in [
            ("approver", "start-approver", "后台审批"),
            ("chief", "start-chief", "首席代表"),
        ] {
            web.delete_all_cookies().await?;
            web.goto(app.url("/login")).await?;
            crate::browser::sign_in(&web, &app, login).await?;
            assert_eq!(web.current_url().await?.path(), "/start");
            let part = web.find(By::Id(section)).await?;
            let h2 = part.find(By::Tag("h2")).await?.text().await?;
            assert_eq!(h2, title);
            shot(&web, &format!("landing-{login}")).await?;
            // Its main list is one click away.
            let first = part.find(By::Css("a.button.primary")).await?;
            crate::browser::click_and_wait(first).await?;
            assert_eq!(web.current_url().await?.path(), "/cases");
            web.find(By::Css("nav.tabs a.active")).await?;
        }
        Ok(())
    }
    .await;
    crate::browser::finish(web, result).await;
}
