//! The main journey in a real browser: a citizen books an hour on the phone page, checks in at
//! the kiosk and is called at the desk.

use thirtyfour::prelude::*;
use yichuang::db::Backend;

use super::{id_card, make_bookable};
use crate::browser::{Driver, click, click_and_wait, finish, sign_in, text_of, type_into};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_books_on_the_phone_checks_in_at_the_kiosk_and_is_called() {
    // 11:20 on a Tuesday: the 12:00 lunch-break hour is bookable and check-in is open.
    let app = TestApp::spawn_at(Backend::Sqlite, "2026-12-01T11:20").await;
    let matter = make_bookable(&app, "T-BK-WEB", "extended", "auto").await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.set_window_rect(0, 0, 390, 844).await?;
        web.goto(app.url("/")).await?;
        click_and_wait(web.find(By::LinkText("预约办事")).await?).await?;
        click_and_wait(web.find(By::Css("a[href='/book/GX-ML']")).await?).await?;
        type_into(&web, By::Name("q"), "测试事项").await?;
        click_and_wait(web.find(By::Css("form.search button[type=submit]")).await?).await?;
        click_and_wait(
            web.find(By::Css(format!("a[href='/book/GX-ML/{matter}']")))
                .await?,
        )
        .await?;
        click(
            &web,
            By::Css("input[name=slot][value='2026-12-01 12:00'] + span"),
        )
        .await?;
        for (name, value) in [
            ("name", "李秀英".to_owned()),
            ("phone", "13900000031".to_owned()),
            ("id_card", id_card(31)),
            ("reason", "工作日上班，只能午休时间办理".to_owned()),
        ] {
            type_into(&web, By::Css(format!("#book-form [name={name}]")), &value).await?;
        }
        click_and_wait(web.find(By::Css("#book-form button[type=submit]")).await?).await?;
        assert_eq!(text_of(&web, By::Id("status")).await?, "已确认");
        let code = text_of(&web, By::Id("code")).await?;
        assert_eq!(code.len(), 10);

        // At the kiosk: the booking code becomes a priority ticket.
        web.set_window_rect(0, 0, 1080, 1920).await?;
        web.goto(app.url("/centers/GX-ML/check-in")).await?;
        type_into(&web, By::Id("key"), &code).await?;
        click_and_wait(
            web.find(By::Css("#check-in-form button[type=submit]"))
                .await?,
        )
        .await?;
        let number = text_of(&web, By::Id("ticket-number")).await?;

        // The clerk of the booked window calls it.
        web.set_window_rect(0, 0, 1366, 768).await?;
        web.goto(app.url("/login?next=/centers/GX-ML/windows/TY01/desk"))
            .await?;
        sign_in(&web, &app, "clerk7").await?;
        web.find(By::Css("#current.idle")).await?;
        type_into(&web, By::Tag("body"), "n").await?;
        let current = text_of(&web, By::Id("current-number")).await?;
        assert_eq!(current, number);
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}
