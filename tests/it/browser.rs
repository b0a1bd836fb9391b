//! End-to-end in a real browser: Debian's chromium driven through chromedriver.
//! Set `YICHUANG_CHROMEDRIVER` / `YICHUANG_CHROMIUM` to override the paths.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use thirtyfour::prelude::*;
use yichuang::db::Backend;

use crate::helpers::TestApp;

/// What to do when the browser is missing.
const BROWSER_HINT: &str = "browser tests need chromium and chromedriver: apt-get install chromium \
     chromium-driver (or run scripts/test.sh), or set YICHUANG_CHROMIUM and YICHUANG_CHROMEDRIVER";

/// The first of `candidates` that is a file.
fn first_file(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
        .map(|p| (*p).to_owned())
}

/// chromedriver and chromium: from `YICHUANG_CHROMEDRIVER` / `YICHUANG_CHROMIUM`, else where Debian
/// and Ubuntu put them. Fails the test with one line when either is missing.
fn browser_paths() -> (String, String) {
    let pick = |var: &str, candidates: &[&str]| match std::env::var(var) {
        Ok(p) if !p.trim().is_empty() => Some(p),
        _ => first_file(candidates),
    };
    let driver = pick(
        "YICHUANG_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    );
    let chromium = pick(
        "YICHUANG_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    match (driver, chromium) {
        (Some(d), Some(c)) => (d, c),
        _ => crate::pg::fail_setup(BROWSER_HINT),
    }
}

/// A chromedriver process, killed on drop.
pub struct Driver {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a free loopback port and a headless browser session.
    pub async fn start() -> (Self, WebDriver) {
        let (driver_path, chromium) = browser_paths();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                crate::pg::fail_setup(&format!("cannot start {driver_path} ({e}): {BROWSER_HINT}"))
            });
        let url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            "--lang=zh-CN",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .unwrap();
        let mut last_err = None;
        for _ in 0..50 {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(d) => {
                    // Look-ups wait for the element: a page may still be loading after a click.
                    d.set_implicit_wait_timeout(Duration::from_secs(10))
                        .await
                        .expect("set the implicit wait");
                    return (
                        Self {
                            child,
                            _profile: profile,
                        },
                        d,
                    );
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("chromedriver did not start a session: {last_err:?}");
    }
}

/// Fills in the sign-in form the browser is on (or was redirected to) as `login`.
pub(crate) async fn sign_in(web: &WebDriver, app: &TestApp, login: &str) -> WebDriverResult<()> {
    type_into(web, By::Id("login"), login).await?;
    type_into(web, By::Id("password"), &app.passwords[login]).await?;
    click_and_wait(web.find(By::Id("login-submit")).await?).await
}

/// Clicks a link or a submit button and waits until its page has been replaced, so the next
/// lookup reads the page the server answered with, not the one going away.
pub(crate) async fn click_and_wait(element: WebElement) -> WebDriverResult<()> {
    element.click().await?;
    element
        .wait_until()
        .wait(Duration::from_secs(20), Duration::from_millis(50))
        .stale()
        .await
}

/// Ends the session; on failure, shows where the browser was and what it saw.
pub(crate) async fn finish(web: WebDriver, result: WebDriverResult<()>) {
    if let Err(e) = result {
        let url = web
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let source = web.source().await.unwrap_or_default();
        let _ = web.quit().await;
        panic!(
            "browser journey failed at {url}: {e}\n{}",
            source.chars().take(3000).collect::<String>()
        );
    }
    let _ = web.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_manager_signs_in_adds_a_window_and_sees_it_listed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.goto(app.url("/admin")).await?;
        // Redirected to the sign-in page.
        sign_in(&web, &app, "manager").await?;
        web.find(By::LinkText("管理")).await?;
        web.goto(app.url("/admin/centers/GX")).await?;
        click(&web, By::Css("details > summary")).await?;
        type_into(&web, By::Id("window-code"), "TY07").await?;
        type_into(&web, By::Id("window-name"), "通用综合受理7").await?;
        let zone = web.find(By::Id("window-zone")).await?;
        zone.find(By::Css("option[value='TYZH']"))
            .await?
            .click()
            .await?;
        click(&web, By::Id("add-window-submit")).await?;
        let flash = text_of(&web, By::Css(".flash.ok")).await?;
        assert_eq!(flash, "窗口已添加");
        let table = text_of(&web, By::Id("window-list")).await?;
        assert!(table.contains("通用综合受理7"), "{table}");
        // An empty name is refused in Chinese without adding anything.
        click(&web, By::Css("details > summary")).await?;
        type_into(&web, By::Id("window-code"), "TY08").await?;
        web.execute(
            "document.getElementById('window-name').removeAttribute('required')",
            vec![],
        )
        .await?;
        type_into(&web, By::Id("window-name"), "   ").await?;
        click(&web, By::Id("add-window-submit")).await?;
        let error = text_of(&web, By::Css(".flash.error")).await?;
        assert_eq!(error, "窗口名称不能为空");
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
    assert_eq!(app.count("windows where code = 'TY08'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_imports_a_holiday_year_and_the_public_page_shows_the_hours() {
    let app = TestApp::spawn_at(Backend::Sqlite, "2026-12-30T10:00").await;
    let (_driver, web) = Driver::start().await;
    let year = "year = 2027\nnotice_title = \"2027年节假日安排（测试用）\"\nnotice_url = \"https://www.gov.cn/\"\n\
                holidays = [\n  { name = \"元旦\", dates = [\"2027-01-01\", \"2027-01-02\", \"2027-01-03\"] },\n]\nworkdays = []\n";
    let result = async {
        web.goto(app.url("/login?next=/admin/holidays")).await?;
        sign_in(&web, &app, "manager").await?;
        type_into(&web, By::Id("holiday-toml"), year).await?;
        click(&web, By::Css("#import-holidays button[type=submit]")).await?;
        let flash = text_of(&web, By::Css(".flash.ok")).await?;
        assert_eq!(flash, "已导入 2027 年节假日安排");
        let years = text_of(&web, By::Id("years")).await?;
        assert!(years.contains("2027年节假日安排（测试用）"), "{years}");

        web.goto(app.url("/centers/GX/hours")).await?;
        let today = text_of(&web, By::Id("today")).await?;
        assert!(
            today.contains("12月30日") && today.contains("08:30–12:00，13:30–16:30"),
            "{today}"
        );
        let next = text_of(&web, By::Id("next-closed")).await?;
        assert!(next.contains("1月1日") && next.contains("元旦"), "{next}");
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

/// Reads the QR codes in a PNG screenshot the way a phone's camera would: their texts.
pub(crate) fn decode_qr(png_bytes: &[u8]) -> Vec<String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of sensible size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let px = &buf[y * info.line_size + x * channels..][..channels];
        // Luminance of grey or RGB(A), alpha ignored (screenshots are opaque).
        match channels {
            1 | 2 => px[0],
            _ => {
                ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000)
                    as u8
            }
        }
    });
    image
        .detect_grids()
        .iter()
        .map(|g| g.decode().expect("a readable QR code").1)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_from_the_kiosk_is_called_at_the_desk_and_shown_on_the_display() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        // The lobby display, open before anything happens.
        web.goto(app.url("/centers/GX/display?voice=0")).await?;
        let display = web.window().await?;
        // A visitor takes a ticket at the kiosk (in a second tab).
        let kiosk = web.new_tab().await?;
        web.switch_to_window(kiosk.clone()).await?;
        web.goto(app.url("/centers/GX/kiosk")).await?;
        click(&web, By::Id("zone-TYZH")).await?;
        let number = text_of(&web, By::Id("ticket-number")).await?;
        assert_eq!(number, "A001");
        // The slip's QR code, read as a phone reads it, holds an absolute address that opens
        // the ticket's progress page.
        let qr = web
            .find(By::Css("#slip .qr"))
            .await?
            .screenshot_as_png()
            .await?;
        let texts = decode_qr(&qr);
        assert_eq!(texts.len(), 1, "one QR code on the slip");
        assert!(texts[0].starts_with(&app.url("/t/")), "{}", texts[0]);
        let progress = app
            .anonymous()
            .get(texts[0].trim_start_matches(&app.url("")))
            .await;
        assert_eq!(progress.status(), reqwest::StatusCode::OK);
        assert!(progress.text().await.unwrap().contains("A001"));
        // The clerk signs in and calls the next number from the keyboard.
        web.goto(app.url("/login?next=/centers/GX/windows/TY01/desk"))
            .await?;
        sign_in(&web, &app, "clerk1").await?;
        web.find(By::Css("#current.idle")).await?;
        type_into(&web, By::Tag("body"), "n").await?;
        let current = text_of(&web, By::Id("current-number")).await?;
        assert_eq!(current, "A001");
        // The display shows the call without a reload.
        web.switch_to_window(display).await?;
        let row = web.query(By::Css("#calls tbody tr")).first().await?;
        let text = row.text().await?;
        assert!(
            text.contains("A001") && text.contains("通用综合受理1"),
            "{text}"
        );
        let banner = web
            .query(By::Id("announce"))
            .and_displayed()
            .first()
            .await?
            .text()
            .await?;
        assert_eq!(banner, "请A001号到通用综合受理1号窗口办理");

        // Back at the desk: F (办结) asks first; Esc lets it be; F twice finishes.
        web.switch_to_window(kiosk).await?;
        type_into(&web, By::Tag("body"), "f").await?;
        let ask = web
            .query(By::Id("desk-confirm"))
            .and_displayed()
            .first()
            .await?;
        assert!(
            ask.text().await?.contains("确认办结 A001"),
            "{}",
            ask.text().await?
        );
        type_into(&web, By::Tag("body"), Key::Escape).await?;
        assert!(!ask.is_displayed().await?);
        assert_eq!(text_of(&web, By::Id("current-number")).await?, "A001");
        // X (过号) asks too, and 取消 keeps the ticket.
        type_into(&web, By::Tag("body"), "x").await?;
        click(&web, By::Id("desk-confirm-no")).await?;
        assert_eq!(text_of(&web, By::Id("current-number")).await?, "A001");
        let body = web.find(By::Tag("body")).await?;
        body.send_keys("f").await?;
        body.send_keys("f").await?;
        web.query(By::Css("#current.idle")).first().await?;
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_finds_a_matter_by_pinyin_initials_and_opens_its_guide() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.goto(app.url("/")).await?;
        click(&web, By::LinkText("事项 / 办事指南")).await?;
        type_into(&web, By::Name("q"), "bdcdj").await?;
        click(&web, By::Css("#matter-search button[type=submit]")).await?;
        let results = text_of(&web, By::Id("results")).await?;
        assert!(results.contains("不动产登记（宅基地建房）"), "{results}");
        let q = web.find(By::Name("q")).await?;
        q.clear().await?;
        q.send_keys("身份证").await?;
        click(&web, By::Css("#matter-search button[type=submit]")).await?;
        click(&web, By::LinkText("首次申领居民身份证")).await?;
        let points = text_of(&web, By::Id("review-form")).await?;
        assert!(points.contains("居民户口簿"), "{points}");
        let materials = text_of(&web, By::Id("materials")).await?;
        assert!(materials.contains("居民户口簿"), "{materials}");
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

/// What the lobby display shows, measured in the page.
#[derive(serde::Deserialize, Debug)]
struct DisplayLayout {
    width: f64,
    height: f64,
    /// Right and bottom edges of everything laid out in the page.
    right: f64,
    bottom_of_oldest_call: f64,
    calls: usize,
    number_font_px: f64,
    waiting_rows: usize,
    banner_bottom: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_display_fits_a_1080p_and_a_4k_screen() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // Six windows are calling, and people wait in two zones.
    let kiosk = app.anonymous();
    for zone in ["TYZH"; 9].into_iter().chain(["BDC", "BDC"]) {
        kiosk
            .post_status(
                "/api/v1/centers/GX/tickets",
                serde_json::json!({"zone": zone}),
                reqwest::StatusCode::CREATED,
            )
            .await;
    }
    let admin = app.api_as("admin").await;
    for w in ["TY01", "TY02", "TY03", "TY04", "TY05", "TY06"] {
        admin
            .post_status(
                &format!("/api/v1/centers/GX/windows/{w}/call-next"),
                serde_json::json!({}),
                reqwest::StatusCode::OK,
            )
            .await;
    }
    let (_driver, web) = Driver::start().await;
    let result = async {
        for (w, h, min_font) in [(1920u32, 1080u32, 80.0), (3840, 2160, 160.0)] {
            display_at(&web, &app, w, h).await?;
            let measured = web
                .execute(
                    r#"
                    const all = [...document.querySelectorAll('body *')]
                        .filter(e => e.offsetParent !== null || e.tagName === 'MAIN');
                    const right = Math.max(...all.map(e => e.getBoundingClientRect().right));
                    const rows = document.querySelectorAll('#calls tbody tr');
                    const number = rows[0].querySelector('td');
                    const banner = document.getElementById('announce');
                    banner.hidden = false;
                    banner.textContent = '请A001号到通用综合受理1号窗口办理';
                    return {
                        width: window.innerWidth, height: window.innerHeight, right,
                        bottom_of_oldest_call: rows[rows.length - 1].getBoundingClientRect().bottom,
                        calls: rows.length,
                        number_font_px: parseFloat(getComputedStyle(number).fontSize),
                        waiting_rows: document.querySelectorAll('#waiting tbody tr').length,
                        banner_bottom: banner.getBoundingClientRect().bottom,
                    };
                    "#,
                    Vec::new(),
                )
                .await?;
            let m: DisplayLayout = measured.convert()?;
            shot(&web, &format!("display-{w}x{h}")).await?;
            assert!(
                (m.width - f64::from(w)).abs() < 2.0 && (m.height - f64::from(h)).abs() < 2.0,
                "the page is {w}×{h}: {m:?}"
            );
            assert!(
                m.right <= m.width + 0.5,
                "nothing runs off the right edge: {m:?}"
            );
            // The six comprehensive windows' calls are all on screen.
            assert_eq!(m.calls, 6, "{m:?}");
            assert!(m.bottom_of_oldest_call <= m.height, "{m:?}");
            assert!(m.banner_bottom <= m.height, "{m:?}");
            // Readable across the hall: the ticket number scales with the screen.
            assert!(m.number_font_px >= min_font, "{m:?}");
            assert_eq!(m.waiting_rows, 2, "the zones where people wait: {m:?}");
        }
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_menu_fits_one_line_on_a_1366_desk() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.set_window_rect(0, 0, 1366, 768).await?;
        for login in ["admin", "manager", "clerk1", "leader"] {
            web.delete_all_cookies().await?;
            web.goto(app.url("/login")).await?;
            sign_in(&web, &app, login).await?;
            // Every item of the menu on the row of the first.
            let rows: Vec<f64> = web
                .execute(
                    "return [...document.querySelectorAll('header.top nav > *')]\
                       .filter(e => e.offsetParent !== null)\
                       .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2));",
                    Vec::new(),
                )
                .await?
                .convert()?;
            let first = rows[0];
            assert!(
                rows.iter().all(|r| (r - first).abs() <= 4.0),
                "{login}'s menu wraps at 1366 px: {rows:?}"
            );
        }
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

/// Opens the county's lobby display (voice off) with the page itself `w` × `h` CSS pixels —
/// the window's own frame takes part of its size — and waits for its calls.
async fn display_at(web: &WebDriver, app: &TestApp, w: u32, h: u32) -> WebDriverResult<()> {
    web.set_window_rect(0, 0, w, h).await?;
    let frame: Vec<i64> = web
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            Vec::new(),
        )
        .await?
        .convert()?;
    let grow = |n: u32, by: i64| u32::try_from(i64::from(n) + by.max(0)).unwrap_or(n);
    web.set_window_rect(0, 0, grow(w, frame[0]), grow(h, frame[1]))
        .await?;
    web.goto(app.url("/centers/GX/display?voice=0")).await?;
    web.query(By::Css("#calls tbody tr")).first().await?;
    Ok(())
}

/// Clicks the element `by` finds.
pub(crate) async fn click(web: &WebDriver, by: By) -> WebDriverResult<()> {
    web.find(by).await?.click().await
}

/// Types `text` into the element `by` finds.
pub(crate) async fn type_into(
    web: &WebDriver,
    by: By,
    text: impl Into<thirtyfour::TypingData>,
) -> WebDriverResult<()> {
    web.find(by).await?.send_keys(text).await
}

/// The text of the element `by` finds.
pub(crate) async fn text_of(web: &WebDriver, by: By) -> WebDriverResult<String> {
    web.find(by).await?.text().await
}

/// Saves a screenshot of the page as `name`.png when `YICHUANG_SCREENSHOTS` names a directory.
pub(crate) async fn shot(web: &WebDriver, name: &str) -> WebDriverResult<()> {
    if let Ok(dir) = std::env::var("YICHUANG_SCREENSHOTS") {
        let png = web.screenshot_as_png().await?;
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }
    Ok(())
}

/// Switches the lobby display's voice on with its button (the page stays).
async fn switch_voice_on(web: &WebDriver) -> WebDriverResult<()> {
    let unlock = web.find(By::Id("voice-unlock")).await?;
    assert_eq!(unlock.text().await?, "启用语音播报");
    unlock.click().await?;
    assert!(!unlock.is_displayed().await?);
    Ok(())
}

/// The calls on a lobby screen of `w` × `h` CSS pixels: how many rows, how many lie wholly on
/// screen, and the smallest ticket-number type.
async fn calls_on_screen(
    web: &WebDriver,
    app: &TestApp,
    w: u32,
    h: u32,
) -> WebDriverResult<(usize, usize, f64)> {
    display_at(web, app, w, h).await?;
    let m: (usize, usize, f64) = web
        .execute(
            r#"
            const rows = [...document.querySelectorAll('#calls tbody tr')];
            const shown = rows.filter(r => {
                const b = r.getBoundingClientRect();
                return b.bottom <= window.innerHeight && b.right <= window.innerWidth && b.top >= 0;
            }).length;
            const font = Math.min(...rows.map(r => parseFloat(getComputedStyle(r.querySelector('td')).fontSize)));
            return [rows.length, shown, font];
            "#,
            Vec::new(),
        )
        .await?
        .convert()?;
    shot(web, &format!("display-many-{w}x{h}")).await?;
    Ok(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_stays_on_the_lobby_screen_when_the_whole_hall_calls() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.api_as("admin").await;
    // A busy county hall: three more 通用综合 windows, so that more than 20 call at once.
    for n in 7..=9 {
        admin
            .post_status(
                "/api/v1/centers/GX/windows",
                serde_json::json!({"code": format!("TY0{n}"), "name": format!("通用综合受理{n}"),
                    "zone": "TYZH", "kind": "general"}),
                reqwest::StatusCode::CREATED,
            )
            .await;
    }
    // A ticket in every zone, several in the busy ones, and every window calls.
    let kiosk = app.anonymous();
    let zones = [
        "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH", "TYZH",
        "BDC", "BDC", "GAJC", "GCJS", "GJJ", "RSYB", "RSYB", "SCZR", "SWJC", "GAZQ", "GAZQ",
    ];
    for zone in zones {
        let r = kiosk
            .post(
                "/api/v1/centers/GX/tickets",
                serde_json::json!({"zone": zone}),
            )
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{zone}");
    }
    let windows: serde_json::Value = admin
        .get("/api/v1/centers/GX/windows")
        .await
        .json()
        .await
        .unwrap();
    let mut calling = 0;
    for w in windows["items"].as_array().unwrap() {
        let code = w["code"].as_str().unwrap();
        let r = admin
            .post(
                &format!("/api/v1/centers/GX/windows/{code}/call-next"),
                serde_json::json!({}),
            )
            .await;
        if r.status() == reqwest::StatusCode::OK {
            calling += 1;
        }
    }
    assert!(calling >= 20, "only {calling} windows could call");
    let (_driver, web) = Driver::start().await;
    let result = async {
        for (w, h, min_font) in [(1920u32, 1080u32, 36.0), (1366, 768, 26.0)] {
            let (rows, shown, font) = calls_on_screen(&web, &app, w, h).await?;
            assert_eq!(rows, calling, "one row per window calling at {w}×{h}");
            assert_eq!(shown, rows, "every call wholly on the {w}×{h} screen");
            assert!(font >= min_font, "ticket numbers of {font}px at {w}×{h}");
            // With the screen full of calls, the booking QR code in its corner still reads,
            // as an absolute address a phone can open.
            let texts = decode_qr(&web.screenshot_as_png().await?);
            assert_eq!(texts.len(), 1, "one QR code on the {w}×{h} screen");
            assert_eq!(texts[0], app.url("/book/GX"));
            let page = app
                .anonymous()
                .get(texts[0].trim_start_matches(&app.url("")))
                .await;
            assert_eq!(page.status(), reqwest::StatusCode::OK, "{}", texts[0]);
        }
        // The voice switch is remembered by the display: after a reload it asks for the one
        // click browsers require, saying that announcements were on.
        web.goto(app.url("/centers/GX/display")).await?;
        switch_voice_on(&web).await?;
        web.refresh().await?;
        let unlock = web.find(By::Id("voice-unlock")).await?;
        assert!(unlock.is_displayed().await?);
        assert_eq!(unlock.text().await?, "语音播报已开启，点击屏幕任意处恢复");
        click(&web, By::Tag("main")).await?;
        assert!(
            !unlock.is_displayed().await?,
            "a click anywhere turns it back on"
        );
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_imports_a_catalogue_spreadsheet_through_the_page_without_script() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.api_as("admin").await;
    let xlsx = admin
        .get("/api/v1/catalog/export?center=GX-ML")
        .await
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("目录.xlsx");
    std::fs::write(&file, &xlsx).unwrap();
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.goto(app.url("/login?next=/admin/matters?center=GX-ML"))
            .await?;
        sign_in(&web, &app, "manager").await?;
        // Script off the form: it is a plain multipart form with the token as a field.
        web.execute(
            "document.querySelectorAll('script').forEach(s => s.remove());",
            Vec::new(),
        )
        .await?;
        type_into(&web, By::Id("import-file"), file.display().to_string()).await?;
        click(&web, By::Css("#import-form button[type=submit]")).await?;
        let flash = text_of(&web, By::Css(".flash.ok")).await?;
        assert!(flash.contains("导入完成"), "{flash}");
        // A sample of the first material, uploaded on the matter's page, is linked in its guide.
        let sample = dir.path().join("填写示例.pdf");
        std::fs::write(&sample, b"%PDF-1.4\n").unwrap();
        web.goto(app.url("/admin/matters/GXML-095/edit")).await?;
        type_into(&web, By::Id("file-input"), sample.display().to_string()).await?;
        click(&web, By::Css("#file-form button[type=submit]")).await?;
        let flash = text_of(&web, By::Css(".flash.ok")).await?;
        assert!(flash.contains("已上传示范文本"), "{flash}");
        web.goto(app.url("/matters/GXML-095")).await?;
        let link = web.find(By::Css("#materials a.file")).await?;
        assert_eq!(link.text().await?, "示范文本");
        assert!(
            link.attr("href")
                .await?
                .unwrap_or_default()
                .starts_with("/files/")
        );
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_screen_turns_through_the_lists_by_itself() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.set_window_rect(0, 0, 1920, 1080).await?;
        web.goto(app.url("/centers/GX-ML/catalog/screen?seconds=3&rows=4"))
            .await?;
        let rows = web.query(By::Css("#list-rows tbody tr")).first().await?;
        assert!(!rows.text().await?.is_empty());
        let title = web.find(By::Id("section-title")).await?;
        let first = title.text().await?;
        assert!(first.contains("目录"), "{first}");
        let page = text_of(&web, By::Id("page-no")).await?;
        // The next screenful comes by itself: another section, or the next page of this one.
        let mut changed = false;
        for _ in 0..40 {
            let now = (
                text_of(&web, By::Id("section-title")).await?,
                text_of(&web, By::Id("page-no")).await?,
            );
            if now != (first.clone(), page.clone()) {
                changed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(changed, "the screen turned to the next list or page");
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matter_type_table_lines_up_and_saves_a_row_in_place() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_driver, web) = Driver::start().await;
    let result = async {
        web.set_window_rect(0, 0, 1366, 768).await?;
        web.goto(app.url("/login?next=/admin/matter-types")).await?;
        sign_in(&web, &app, "admin").await?;
        // Every row's name and order fields stand under their own headings, and the table
        // fits the desk's width.
        let misplaced: Vec<String> = web
            .execute(
                r#"
                const table = document.getElementById('types');
                const heads = [...table.querySelectorAll('thead th')].map(th => th.getBoundingClientRect());
                const out = [];
                if (table.getBoundingClientRect().right > document.documentElement.clientWidth) out.push('table wider than the page');
                for (const tr of table.querySelectorAll('tbody tr')) {
                  [...tr.children].forEach((td, i) => {
                    const b = td.getBoundingClientRect(), h = heads[i];
                    if (!h || Math.abs(b.left - h.left) > 1 || Math.abs(b.right - h.right) > 1) out.push(`row ${tr.rowIndex} cell ${i}`);
                    for (const el of td.querySelectorAll('input:not([type=hidden]), button')) {
                      const e = el.getBoundingClientRect();
                      if (e.left < b.left - 1 || e.right > b.right + 1) out.push(`row ${tr.rowIndex} ${el.name || el.textContent} spills out of cell ${i}`);
                    }
                  });
                }
                return out;
                "#,
                Vec::new(),
            )
            .await?
            .convert()?;
        assert!(misplaced.is_empty(), "{misplaced:?}");
        shot(&web, "matter-types-1366").await?;
        // The row's fields belong to the row's form: 保存 renames the type.
        let name = web
            .find(By::Css("input[form='type-licence'][name='name']"))
            .await?;
        name.clear().await?;
        name.send_keys("行政许可事项").await?;
        click(&web, By::Css("#type-licence button")).await?;
        web.find(By::Css(".flash.ok")).await?;
        WebDriverResult::Ok(())
    }
    .await;
    finish(web, result).await;
    assert_eq!(
        app.count("matter_types where code = 'licence' and name = '行政许可事项'")
            .await,
        1
    );
}
