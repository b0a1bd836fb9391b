//! Staff pages of appointments: `/appointments` (the day per center and window, the requests
//! waiting for an answer, refusals for the hall manager), `/appointments/new` (电话/现场预约),
//! `/appointments/stats`, `/appointments/settings`, `/appointments/messages` (the outbox) and
//! `/appointments/{code}` (a booking's history). Each POST runs one use case of
//! [`super::service`] and redirects (303) with a flash, or shows the page again with the reason.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    routing::{get, post},
};
use serde::Deserialize;

use super::api::{BookingItem, line_of, posts_of, serves, staff_center};
use super::pages::{BookPage, CenterRow, all_centers, book_input, book_page_for};
use super::queries::{self, Line, MatterChoice, MatterRule, StatLine, Step, WindowCapacity};
use super::service::{self, BookInput, By};
use super::web::{REFUSAL_APPROVED, Staff, answered, refusal_proposed, refused};
use super::{BookingState, Settings};
use crate::app::App;
use crate::auth::{CsrfToken, CurrentUser, Viewer, policy};
use crate::error::{AppError, AppResult};
use crate::extract::Fields;
use crate::web::{Chrome, PageResult, done, render};

// ---- staff ----

#[derive(Template)]
#[template(path = "booking/staff.html")]
struct StaffPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
    center: CenterRow,
    date: String,
    window: String,
    windows: Vec<WindowCapacity>,
    lines: Vec<BookingItem>,
    open: Vec<(BookingItem, bool)>,
    can_approve: bool,
    ok: Option<String>,
    error: Option<String>,
    today: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StaffQuery {
    center: String,
    date: String,
    window: String,
    ok: Option<String>,
}

async fn my_centers(app: &App, user: &CurrentUser) -> AppResult<Vec<CenterRow>> {
    Ok(all_centers(app)
        .await?
        .into_iter()
        .filter(|c| policy::can_see_center(user, c.id.get()))
        .collect())
}

pub(super) async fn pick_center(
    app: &App,
    user: &CurrentUser,
    code: &str,
) -> AppResult<(Vec<CenterRow>, CenterRow)> {
    let mine = my_centers(app, user).await?;
    let chosen = match code.trim() {
        "" => mine
            .iter()
            .find(|c| policy::can_serve_bookings(user, c.id.get()))
            .or(mine.first())
            .cloned(),
        code => mine.iter().find(|c| c.code == code).cloned(),
    };
    let chosen = chosen.ok_or_else(|| AppError::NotFound("没有可查看的中心".into()))?;
    Ok((mine, chosen))
}

async fn staff_page_for(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    q: StaffQuery,
    error: Option<String>,
) -> AppResult<StaffPage> {
    let (centers, center) = pick_center(app, &user, &q.center).await?;
    let today = crate::timetable::today(app);
    let date = match q.date.trim() {
        "" => today,
        d => crate::calendar::parse_date(d)
            .map_err(|e| AppError::invalid_field("date", e.to_string()))?,
    };
    let mut conn = app.db.pool().acquire().await?;
    let windows = queries::window_capacities(&mut conn, center.id).await?;
    let window = match q.window.trim() {
        "" => None,
        w => Some(super::api::window_id(app, center.id, w).await?),
    };
    let posts = posts_of(app, &user).await?;
    let day = queries::day(&mut conn, center.id, date, window).await?;
    let open = queries::open(&mut conn, center.id).await?;
    let start_of_today = service::instant(today, jiff::civil::Time::midnight()).get();
    let show = |l: &Line| BookingItem::of(l, serves(&user, &posts, center.id, l.window_id));
    Ok(StaffPage {
        lines: day.iter().map(show).collect(),
        open: open
            .iter()
            .map(|l| (show(l), l.created_at < start_of_today))
            .collect(),
        can_approve: policy::can_approve_booking_refusal(&user, center.id.get()),
        chrome: Chrome::new(Some(user), csrf),
        centers,
        center,
        date: date.to_string(),
        window: q.window,
        windows,
        ok: q.ok,
        error,
        today: today.to_string(),
    })
}

async fn staff_page(
    (State(app), Viewer { user, csrf }): Staff,
    Query(q): Query<StaffQuery>,
) -> PageResult {
    render(&staff_page_for(&app, user, csrf, q, None).await?)
}

async fn staff_act(
    (State(app), Viewer { user, csrf }): Staff,
    Path((code, action)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result = match action.as_str() {
        "confirm" => service::confirm(&app, &user, &code)
            .await
            .map(|_| "已同意预约"),
        "refuse" => service::refuse(&app, &user, &code, form.get("reason"))
            .await
            .map(|a| {
                refusal_proposed(
                    a.state == BookingState::Refused,
                    "已不同意该预约，已通知申请人",
                )
            }),
        "approve" => service::decide_refusal(&app, &user, &code, true)
            .await
            .map(|_| REFUSAL_APPROVED),
        "deny" => service::decide_refusal(&app, &user, &code, false)
            .await
            .map(|_| "已驳回不同意，预约已确认"),
        "cancel" => service::cancel(&app, &code, By::Staff(&user))
            .await
            .map(|_| "预约已取消"),
        _ => return Err(AppError::NotFound("找不到该页面".into()).into()),
    };
    let back = StaffQuery {
        center: form.get("center").into(),
        date: form.get("date").into(),
        window: form.get("window").into(),
        ok: None,
    };
    let url = format!(
        "/appointments?center={}&date={}&window={}",
        back.center, back.date, back.window
    );
    answered(result, &url, |msg| {
        staff_page_for(&app, user, csrf, back, Some(msg))
    })
    .await
}

#[derive(Template)]
#[template(path = "booking/new.html")]
struct NewPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
    center: CenterRow,
    matters: Vec<MatterChoice>,
    book: Option<BookPage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    center: String,
    matter: String,
}

/// The phone and counter booking page at the center `center` (the first the user serves where
/// none is named); with `book`, the form of that matter, filled in and with the reason it was
/// refused.
async fn new_page_for(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    center: &str,
    book: Option<(&str, BookInput, Option<String>)>,
) -> AppResult<NewPage> {
    let (centers, center) = pick_center(app, &user, center).await?;
    let mut conn = app.db.pool().acquire().await?;
    let matters = queries::bookable_matters(&mut conn, center.id, "").await?;
    drop(conn);
    let chrome = Chrome::new(Some(user), csrf);
    let book = match book {
        None => None,
        Some((matter, form, error)) => {
            Some(book_page_for(app, chrome.clone(), &center.code, matter, form, error).await?)
        }
    };
    Ok(NewPage {
        chrome,
        centers,
        center,
        matters,
        book,
    })
}

async fn new_page(
    (State(app), Viewer { user, csrf }): Staff,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let book = match q.matter.trim() {
        "" => None,
        m => Some((m, BookInput::default(), None)),
    };
    render(&new_page_for(&app, user, csrf, &q.center, book).await?)
}

async fn new_submit(
    (State(app), Viewer { user, csrf }): Staff,
    Path((center, matter)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let mut input = book_input(&center, &matter, &form);
    if input.channel.trim().is_empty() {
        input.channel = "counter".into();
    }
    match service::book(&app, Some(&user), &input).await {
        Ok(a) => done(
            &format!("/appointments?center={}&date={}", center, a.service_date),
            &format!("已预约，预约码 {}", a.code),
        ),
        Err(e) => {
            let page =
                |msg| new_page_for(&app, user, csrf, &center, Some((&matter, input, Some(msg))));
            refused(e, page).await
        }
    }
}

#[derive(Template)]
#[template(path = "booking/stats.html")]
struct StatsPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
    center: CenterRow,
    from: String,
    to: String,
    lines: Vec<StatLine>,
    total: StatLine,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatsQuery {
    center: String,
    from: String,
    to: String,
}

async fn stats_page(
    (State(app), Viewer { user, csrf }): Staff,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let (centers, center) = pick_center(&app, &user, &q.center).await?;
    let today = crate::timetable::today(&app);
    let from = if q.from.trim().is_empty() {
        today.first_of_month().to_string()
    } else {
        q.from.trim().to_owned()
    };
    let to = if q.to.trim().is_empty() {
        today.last_of_month().to_string()
    } else {
        q.to.trim().to_owned()
    };
    let (f, t) = super::api::range(&from, &to)?;
    let id = staff_center(&app, &user, &center.code).await?;
    let mut conn = app.db.pool().acquire().await?;
    let lines = queries::stats(&mut conn, id, f, t).await?;
    let mut total = StatLine {
        service_date: String::new(),
        matter: String::new(),
        matter_name: "合计".into(),
        window: String::new(),
        channel: super::Channel::Online,
        booked: 0,
        confirmed: 0,
        refused: 0,
        cancelled: 0,
        checked_in: 0,
        no_show: 0,
        open: 0,
    };
    for l in &lines {
        total.booked += l.booked;
        total.confirmed += l.confirmed;
        total.refused += l.refused;
        total.cancelled += l.cancelled;
        total.checked_in += l.checked_in;
        total.no_show += l.no_show;
        total.open += l.open;
    }
    render(&StatsPage {
        chrome: Chrome::new(Some(user), csrf),
        centers,
        center,
        from,
        to,
        lines,
        total,
    })
}

#[derive(Template)]
#[template(path = "booking/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
    center: CenterRow,
    settings: Settings,
    windows: Vec<WindowCapacity>,
    rules: Vec<MatterRule>,
    can_edit: bool,
    ok: Option<String>,
    error: Option<String>,
}

impl SettingsPage {
    fn periods_of(&self, r: &MatterRule) -> &'static str {
        r.rule().0.as_str()
    }

    fn answer_of(&self, r: &MatterRule) -> &'static str {
        r.rule().1.as_str()
    }

    fn periods_all(&self) -> &'static [super::BookingPeriods] {
        super::BookingPeriods::ALL
    }

    fn answers_all(&self) -> &'static [super::Answer] {
        super::Answer::ALL
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CenterQuery {
    center: String,
    ok: Option<String>,
}

async fn settings_page_for(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    center: &str,
    ok: Option<String>,
    error: Option<String>,
) -> AppResult<SettingsPage> {
    let (centers, center) = pick_center(app, &user, center).await?;
    let mut conn = app.db.pool().acquire().await?;
    Ok(SettingsPage {
        settings: queries::settings(&mut conn, center.id).await?,
        windows: queries::window_capacities(&mut conn, center.id).await?,
        rules: queries::matter_rules(&mut conn, center.id).await?,
        can_edit: policy::can_approve_booking_refusal(&user, center.id.get()),
        chrome: Chrome::new(Some(user), csrf),
        centers,
        center,
        ok,
        error,
    })
}

async fn settings_page(
    (State(app), Viewer { user, csrf }): Staff,
    Query(q): Query<CenterQuery>,
) -> PageResult {
    render(&settings_page_for(&app, user, csrf, &q.center, q.ok, None).await?)
}

fn number(form: &Fields, name: &str, label: &str) -> AppResult<i64> {
    form.get(name)
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_field(name, format!("{label}须为整数")))
}

async fn settings_submit(
    (State(app), Viewer { user, csrf }): Staff,
    Path((center, what)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result: AppResult<&str> = async {
        match what.as_str() {
            "rules" => {
                let s = Settings {
                    days_ahead: number(&form, "days_ahead", "可提前预约天数")?,
                    max_per_person: number(&form, "max_per_person", "每个身份证号的有效预约数")?,
                    max_per_phone: number(&form, "max_per_phone", "每个手机号的有效预约数")?,
                    grace_minutes: number(&form, "grace_minutes", "迟到宽限分钟数")?,
                    early_minutes: number(&form, "early_minutes", "提前签到分钟数")?,
                    no_show_limit: number(&form, "no_show_limit", "爽约次数上限")?,
                };
                service::save_settings(&app, &user, &center, &s).await?;
                Ok("预约规则已保存")
            }
            "window" => {
                let cap = number(&form, "capacity", "每小时可预约人数")?;
                service::save_window_capacity(&app, &user, &center, form.get("window"), cap)
                    .await?;
                Ok("窗口预约人数已保存")
            }
            "matter" => {
                let input = service::MatterRuleInput {
                    periods: form.get("periods").into(),
                    answer: form.get("answer").into(),
                };
                service::save_matter_rule(&app, &user, form.get("matter"), &input).await?;
                Ok("事项预约方式已保存")
            }
            _ => Err(AppError::NotFound("找不到该页面".into())),
        }
    }
    .await;
    answered(
        result,
        &format!("/appointments/settings?center={center}"),
        |msg| settings_page_for(&app, user, csrf, &center, None, Some(msg)),
    )
    .await
}

#[derive(Template)]
#[template(path = "booking/messages.html")]
struct MessagesPage {
    chrome: Chrome,
    sender: &'static str,
    messages: Vec<(super::notify::Outgoing, String)>,
}

async fn messages_page((State(app), Viewer { user, csrf }): Staff) -> PageResult {
    let centers: Vec<i64> = my_centers(&app, &user)
        .await?
        .into_iter()
        .map(|c| c.id.get())
        .filter(|c| policy::can_approve_booking_refusal(&user, *c))
        .collect();
    if centers.is_empty() {
        return Err(AppError::Forbidden("只有大厅管理员可以查看短信发送记录".into()).into());
    }
    let mut conn = app.db.pool().acquire().await?;
    let messages = super::notify::recent(&mut conn, &centers, 200).await?;
    let messages = with_local_time(messages, |m| m.created_at);
    render(&MessagesPage {
        chrome: Chrome::new(Some(user), csrf),
        sender: app.sms.name(),
        messages,
    })
}

/// Each row beside its instant (`at`) in Beijing time, for a list of what was done or sent.
fn with_local_time<T>(rows: Vec<T>, at: impl Fn(&T) -> i64) -> Vec<(T, String)> {
    rows.into_iter()
        .map(|r| {
            let local = crate::clock::format_local(at(&r));
            (r, local)
        })
        .collect()
}

/// A booking's history, for staff.
#[derive(Template)]
#[template(path = "booking/history.html")]
struct HistoryPage {
    chrome: Chrome,
    b: BookingItem,
    steps: Vec<(Step, String)>,
}

async fn history_page(
    (State(app), Viewer { user, csrf }): Staff,
    Path(code): Path<String>,
) -> PageResult {
    let a = service::find(&app, &code, None).await?;
    if !policy::can_see_center(&user, a.center_id.get()) {
        return Err(AppError::NotFound("找不到该预约".into()).into());
    }
    let posts = posts_of(&app, &user).await?;
    let line = line_of(&app, &a).await?;
    let mut conn = app.db.pool().acquire().await?;
    let steps = with_local_time(queries::steps(&mut conn, a.id).await?, |s| s.at);
    render(&HistoryPage {
        b: BookingItem::of(&line, serves(&user, &posts, a.center_id, a.window_id)),
        chrome: Chrome::new(Some(user), csrf),
        steps,
    })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/appointments", get(staff_page))
        .route("/appointments/new", get(new_page))
        .route("/appointments/new/{center}/{matter}", post(new_submit))
        .route("/appointments/stats", get(stats_page))
        .route("/appointments/settings", get(settings_page))
        .route(
            "/appointments/settings/{center}/{what}",
            post(settings_submit),
        )
        .route("/appointments/messages", get(messages_page))
        .route("/appointments/{code}", get(history_page))
        .route("/appointments/{code}/{action}", post(staff_act))
}
