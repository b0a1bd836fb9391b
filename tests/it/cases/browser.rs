//! The main journey in a real browser: a clerk takes in and accepts a case at the window, the
//! approver approves it, and the clerk hands the result over at the issuance window.

use thirtyfour::prelude::*;
use yichuang::db::Backend;

use super::{id_card, make_situation};
use crate::browser::{Driver, click_and_wait, finish, sign_in, text_of, type_into};
use crate::helpers::TestApp;

/// Submits a form and waits until its page has been replaced, so the next lookup reads the
/// page the server answered with rather than the one that is going away.
async fn submit(web: &WebDriver, form: &str) -> WebDriverResult<()> {
    click_and_wait(
        web.find(By::Css(format!("#{form} button[type=submit]")))
            .await?,
    )
    .await
}

async fn switch_to(web: &WebDriver, app: &TestApp, login: &str, path: &str) -> WebDriverResult<()> {
    web.delete_all_cookies().await?;
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    web.goto(app.url(&format!("/login?next={next}"))).await?;
    sign_in(web, app, login).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_goes_from_intake_to_approval_to_issuance() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let code = make_situation(&app, "T-WEB-A", "promised").await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.goto(app.url("/")).await?;
        web.goto(app.url("/cases/new")).await?;
        sign_in(&web, &app, "clerk7").await?;
        type_into(&web, By::Css("#pick input[name=situation]"), &code).await?;
        submit(&web, "pick").await?;
        type_into(
            &web,
            By::Css("#intake input[name=applicant_name]"),
            "王建明",
        )
        .await?;
        type_into(
            &web,
            By::Css("#intake input[name=applicant_no]"),
            &id_card(11),
        )
        .await?;
        type_into(&web, By::Css("#intake input[name=phone]"), "13800005678").await?;
        submit(&web, "intake").await?;
        let state = text_of(&web, By::Id("state")).await?;
        assert_eq!(state, "已收件");
        let url = web.current_url().await?.to_string();
        let path = url[url.find("/cases/").unwrap()..]
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        submit(&web, "accept-form").await?;
        assert_eq!(text_of(&web, By::Id("state")).await?, "审批中");
        web.find(By::LinkText("受理通知书")).await?;

        // The approver finds it under 审批中 and approves it.
        switch_to(&web, &app, "approver", "/").await?;
        click_and_wait(web.find(By::LinkText("待审批办件")).await?).await?;
        let number = path.trim_start_matches("/cases/").to_owned();
        click_and_wait(web.find(By::LinkText(&number)).await?).await?;
        submit(&web, "decide-form").await?;
        assert_eq!(text_of(&web, By::Id("state")).await?, "待出件");

        // Back at the window: the applicant collects with their ID card.
        switch_to(&web, &app, "clerk7", "/cases?view=issue").await?;
        click_and_wait(web.find(By::LinkText(&number)).await?).await?;
        type_into(
            &web,
            By::Css("#issue-form input[name=id_card]"),
            &id_card(11),
        )
        .await?;
        submit(&web, "issue-form").await?;
        assert_eq!(text_of(&web, By::Id("state")).await?, "已出件");
        let history = text_of(&web, By::Id("history")).await?;
        for step in ["收件", "受理", "作出决定", "出件"] {
            assert!(history.contains(step), "history lacks {step}: {history}");
        }
        Ok(())
    }
    .await;
    finish(web, result).await;
}
