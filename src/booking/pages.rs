//! Pages of appointments.
//!
//! Citizens (phone-first, also from the kiosk, the hours page and the lobby screen's QR code):
//! `/book` (choose a center), `/book/{center}` (search its bookable matters),
//! `/book/{center}/{matter}` (the free hours of the next weeks and the form), `/a/{code}` (the
//! booking with its code and QR code; cancel or change with the phone), `/book/find`.
//! The kiosk: `/centers/{center}/check-in` (booking code, QR code or ID number → ticket).
//! Staff: `/appointments` (the day per center and window, the requests waiting for an answer,
//! refusals for the hall manager), `/appointments/new` (电话/现场预约), `/appointments/stats`,
//! `/appointments/settings` and `/appointments/messages` (the outbox).
//! Each POST runs one use case of [`super::service`] and redirects (303) with a flash, or shows
//! the page again with the Chinese reason.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::api::{BookingItem, line_of, posts_of, serves, staff_center};
use super::queries::{self, Line, MatterChoice, MatterRule, StatLine, Step, WindowCapacity};
use super::service::{self, BookInput, By, SlotItem};
use super::{BookingState, Settings};
use crate::app::App;
use crate::auth::{CsrfToken, CurrentUser, MaybeUser, PageUser, policy};
use crate::error::{AppError, AppResult};
use crate::extract::Fields;
use crate::ids::CenterId;
use crate::state::StateMachine;
use crate::web::{Chrome, PageResult, render, render_status};

/// The status and message a page shows for a refused use case; anything else is passed on.
pub(super) fn shown(e: AppError) -> Result<(StatusCode, String), AppError> {
    match e {
        AppError::Invalid(_) | AppError::InvalidField { .. } | AppError::NotFound(_) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, e.public_message()))
        }
        AppError::InvalidState(_) | AppError::Conflict(_) | AppError::Full(_) => {
            Ok((StatusCode::CONFLICT, e.public_message()))
        }
        AppError::Forbidden(_) => Ok((StatusCode::FORBIDDEN, e.public_message())),
        other => Err(other),
    }
}

pub(super) fn done(path: &str, msg: &str) -> PageResult {
    let msg: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{path}{sep}ok={msg}")).into_response())
}

pub(super) fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CenterRow {
    pub id: CenterId,
    pub code: String,
    pub name: String,
    pub address: String,
}

async fn all_centers(app: &App) -> AppResult<Vec<CenterRow>> {
    Ok(
        sqlx::query_as("select id, code, name, address from centers order by id")
            .fetch_all(app.db.pool())
            .await?,
    )
}

pub(super) async fn center_row(app: &App, code: &str) -> AppResult<CenterRow> {
    sqlx::query_as("select id, code, name, address from centers where code = $1")
        .bind(code.trim())
        .fetch_optional(app.db.pool())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("找不到中心“{}”", code.trim())))
}

// ---- citizens ----

#[derive(Template)]
#[template(path = "booking/centers.html")]
struct CentersPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
}

async fn centers_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
) -> PageResult {
    render(&CentersPage {
        chrome: Chrome::new(user, csrf),
        centers: all_centers(&app).await?,
    })
}

#[derive(Template)]
#[template(path = "booking/matters.html")]
struct MattersPage {
    chrome: Chrome,
    center: CenterRow,
    q: String,
    matters: Vec<MatterChoice>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

async fn matters_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(center): Path<String>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let center = center_row(&app, &center).await?;
    let mut conn = app.db.pool().acquire().await?;
    let matters = queries::bookable_matters(&mut conn, center.id, &q.q).await?;
    render(&MattersPage {
        chrome: Chrome::new(user, csrf),
        center,
        q: q.q,
        matters,
    })
}

/// One day of free hours on the booking form.
pub struct DaySlots {
    pub date: String,
    pub weekday: &'static str,
    pub slots: Vec<SlotItem>,
}

impl DaySlots {
    pub fn any_free(&self) -> bool {
        self.slots.iter().any(|s| s.free() > 0)
    }
}

fn weekday(date: &str) -> &'static str {
    use jiff::civil::Weekday::*;
    match date.parse::<jiff::civil::Date>().map(|d| d.weekday()) {
        Ok(Monday) => "周一",
        Ok(Tuesday) => "周二",
        Ok(Wednesday) => "周三",
        Ok(Thursday) => "周四",
        Ok(Friday) => "周五",
        Ok(Saturday) => "周六",
        Ok(Sunday) => "周日",
        Err(_) => "",
    }
}

fn by_day(items: &[SlotItem]) -> Vec<DaySlots> {
    let mut out: Vec<DaySlots> = Vec::new();
    for s in items.iter().cloned() {
        match out.last_mut() {
            Some(d) if d.date == s.date => d.slots.push(s),
            _ => out.push(DaySlots {
                weekday: weekday(&s.date),
                date: s.date.clone(),
                slots: vec![s],
            }),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "booking/book.html")]
struct BookPage {
    chrome: Chrome,
    center: CenterRow,
    matter: String,
    matter_name: String,
    periods: &'static str,
    days: Vec<DaySlots>,
    form: BookInput,
    chosen: String,
    error: Option<String>,
}

impl BookPage {
    fn is_chosen(&self, date: &str, start: &str) -> bool {
        self.chosen == format!("{date} {start}")
    }
}

async fn book_page_for(
    app: &App,
    chrome: Chrome,
    center: &str,
    matter: &str,
    form: BookInput,
    error: Option<String>,
) -> AppResult<BookPage> {
    let center = center_row(app, center).await?;
    let list = service::slots(app, &center.code, matter, None, None).await?;
    let chosen = format!("{} {}", form.date, form.start);
    Ok(BookPage {
        chrome,
        matter: list.list.matter.clone(),
        matter_name: list.list.matter_name.clone(),
        periods: list.list.periods.label(),
        days: by_day(&list.list.items),
        center,
        form,
        chosen,
        error,
    })
}

async fn book_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path((center, matter)): Path<(String, String)>,
) -> PageResult {
    let page = book_page_for(
        &app,
        Chrome::new(user, csrf),
        &center,
        &matter,
        BookInput::default(),
        None,
    )
    .await?;
    render(&page)
}

fn book_input(center: &str, matter: &str, form: &Fields) -> BookInput {
    let (date, start) = form.get("slot").split_once(' ').unwrap_or(("", ""));
    BookInput {
        center: center.into(),
        matter: matter.into(),
        date: date.into(),
        start: start.into(),
        name: form.get("name").into(),
        phone: form.get("phone").into(),
        id_card: form.get("id_card").into(),
        reason: form.get("reason").into(),
        agent_name: form.get("agent_name").into(),
        agent_phone: form.get("agent_phone").into(),
        channel: form.get("channel").into(),
    }
}

async fn book_submit(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path((center, matter)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let input = book_input(&center, &matter, &form);
    match service::book(&app, None, &input).await {
        Ok(a) => Ok(Redirect::to(&format!("/a/{}?new=1", a.code)).into_response()),
        Err(e) => {
            let (status, msg) = shown(e)?;
            let page = book_page_for(
                &app,
                Chrome::new(user, csrf),
                &center,
                &matter,
                input,
                Some(msg),
            )
            .await?;
            render_status(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "booking/booking.html")]
struct BookingPage {
    chrome: Chrome,
    b: BookingItem,
    center_name: String,
    qr: String,
    link: String,
    fresh: bool,
    ok: Option<String>,
    error: Option<String>,
    days: Vec<DaySlots>,
    can_change: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BookingQuery {
    new: Option<String>,
    ok: Option<String>,
}

async fn booking_page_for(
    app: &App,
    headers: &HeaderMap,
    chrome: Chrome,
    code: &str,
    q: BookingQuery,
    error: Option<String>,
) -> AppResult<BookingPage> {
    let a = service::find(app, code, None).await?;
    let line = line_of(app, &a).await?;
    let (center_name, _) = {
        let mut conn = app.db.pool().acquire().await?;
        queries::names(&mut conn, &a).await?
    };
    let link = format!(
        "{}/a/{}",
        crate::cases::api::public_base(app, headers),
        a.code
    );
    let can_change = a.state.allows(super::BookingAction::Reschedule)
        && a.starts_at.get() > app.clock.now_micros();
    let days = if can_change {
        let (c, m) = {
            let mut conn = app.db.pool().acquire().await?;
            queries::codes(&mut conn, &a).await?
        };
        match service::slots(app, &c, &m, None, None).await {
            Ok(l) => by_day(&l.list.items),
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    Ok(BookingPage {
        chrome,
        // The page is reached with the code alone: the applicant's data stay masked.
        b: BookingItem::of(&line, false),
        center_name,
        qr: qr_svg(&link),
        link,
        fresh: q.new.is_some(),
        ok: q.ok,
        error,
        days,
        can_change,
    })
}

async fn booking_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<BookingQuery>,
) -> PageResult {
    let page = booking_page_for(&app, &headers, Chrome::new(user, csrf), &code, q, None).await?;
    render(&page)
}

async fn booking_act(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path((code, action)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let phone = form.get("phone");
    let by = By::Citizen { phone };
    let result = match action.as_str() {
        "cancel" => service::cancel(&app, &code, by).await.map(|_| "预约已取消"),
        "change" => {
            let (date, start) = form.get("slot").split_once(' ').unwrap_or(("", ""));
            let input = service::RescheduleInput {
                date: date.into(),
                start: start.into(),
            };
            service::reschedule(&app, &code, by, &input)
                .await
                .map(|_| "已改约到新的时段")
        }
        _ => return Err(AppError::NotFound("找不到该页面".into()).into()),
    };
    match result {
        Ok(msg) => done(&format!("/a/{}", code.trim().to_ascii_uppercase()), msg),
        Err(e) => {
            let (status, msg) = shown(e)?;
            let page = booking_page_for(
                &app,
                &headers,
                Chrome::new(user, csrf),
                &code,
                BookingQuery::default(),
                Some(msg),
            )
            .await?;
            render_status(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "booking/find.html")]
struct FindPage {
    chrome: Chrome,
    code: String,
    error: Option<String>,
}

async fn find_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    let code = q
        .get("code")
        .map(|c| service::code_in(c))
        .unwrap_or_default();
    let phone = q.get("phone").cloned().unwrap_or_default();
    if !code.is_empty() {
        match service::find(&app, &code, Some(&phone)).await {
            Ok(a) => return Ok(Redirect::to(&format!("/a/{}", a.code)).into_response()),
            Err(e) => {
                let (status, msg) = shown(e)?;
                return render_status(
                    status,
                    &FindPage {
                        chrome: Chrome::new(user, csrf),
                        code,
                        error: Some(msg),
                    },
                );
            }
        }
    }
    render(&FindPage {
        chrome: Chrome::new(user, csrf),
        code,
        error: None,
    })
}

// ---- the kiosk ----

#[derive(Template)]
#[template(path = "booking/check_in.html")]
struct CheckInPage {
    chrome: Chrome,
    center: CenterRow,
    error: Option<String>,
    ticket: Option<crate::queue::api::Issued>,
    booking: Option<BookingItem>,
    qr: String,
}

async fn check_in_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(center): Path<String>,
) -> PageResult {
    render(&CheckInPage {
        chrome: Chrome::new(user, csrf),
        center: center_row(&app, &center).await?,
        error: None,
        ticket: None,
        booking: None,
        qr: String::new(),
    })
}

async fn check_in_submit(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(center): Path<String>,
    form: Fields,
) -> PageResult {
    let row = center_row(&app, &center).await?;
    match service::check_in(&app, &row.code, form.get("key")).await {
        Ok(done) => {
            let line = line_of(&app, &done.appointment).await?;
            let qr = qr_svg(&format!(
                "{}{}",
                crate::cases::api::public_base(&app, &headers),
                done.ticket.follow
            ));
            render(&CheckInPage {
                chrome: Chrome::new(user, csrf),
                center: row,
                error: None,
                booking: Some(BookingItem::of(&line, false)),
                ticket: Some(done.ticket),
                qr,
            })
        }
        Err(e) => {
            let (status, msg) = shown(e)?;
            render_status(
                status,
                &CheckInPage {
                    chrome: Chrome::new(user, csrf),
                    center: row,
                    error: Some(msg),
                    ticket: None,
                    booking: None,
                    qr: String::new(),
                },
            )
        }
    }
}

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
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<StaffQuery>,
) -> PageResult {
    let page = staff_page_for(&app, user, csrf, q, None).await?;
    render(&page)
}

async fn staff_act(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
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
                if a.state == BookingState::Refused {
                    "已不同意该预约，已通知申请人"
                } else {
                    "已提出不同意，待大厅管理员审批"
                }
            }),
        "approve" => service::decide_refusal(&app, &user, &code, true)
            .await
            .map(|_| "已批准不同意，已通知申请人"),
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
    match result {
        Ok(msg) => done(
            &format!(
                "/appointments?center={}&date={}&window={}",
                back.center, back.date, back.window
            ),
            msg,
        ),
        Err(e) => {
            let (status, msg) = shown(e)?;
            let page = staff_page_for(&app, user, csrf, back, Some(msg)).await?;
            render_status(status, &page)
        }
    }
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

async fn new_page(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let (centers, center) = pick_center(&app, &user, &q.center).await?;
    let mut conn = app.db.pool().acquire().await?;
    let matters = queries::bookable_matters(&mut conn, center.id, "").await?;
    drop(conn);
    let chrome = Chrome::new(Some(user), csrf);
    let book = match q.matter.trim() {
        "" => None,
        m => Some(
            book_page_for(
                &app,
                chrome.clone(),
                &center.code,
                m,
                BookInput::default(),
                None,
            )
            .await?,
        ),
    };
    render(&NewPage {
        chrome,
        centers,
        center,
        matters,
        book,
    })
}

async fn new_submit(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
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
            let (status, msg) = shown(e)?;
            let (centers, c) = pick_center(&app, &user, &center).await?;
            let mut conn = app.db.pool().acquire().await?;
            let matters = queries::bookable_matters(&mut conn, c.id, "").await?;
            drop(conn);
            let chrome = Chrome::new(Some(user), csrf);
            let book =
                book_page_for(&app, chrome.clone(), &center, &matter, input, Some(msg)).await?;
            render_status(
                status,
                &NewPage {
                    chrome,
                    centers,
                    center: c,
                    matters,
                    book: Some(book),
                },
            )
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
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
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
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<CenterQuery>,
) -> PageResult {
    let page = settings_page_for(&app, user, csrf, &q.center, q.ok, None).await?;
    render(&page)
}

fn number(form: &Fields, name: &str, label: &str) -> AppResult<i64> {
    form.get(name)
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_field(name, format!("{label}须为整数")))
}

async fn settings_submit(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((center, what)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result: AppResult<&str> = async {
        match what.as_str() {
            "rules" => {
                let s = service::SettingsInput {
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
    match result {
        Ok(msg) => done(&format!("/appointments/settings?center={center}"), msg),
        Err(e) => {
            let (status, msg) = shown(e)?;
            let page = settings_page_for(&app, user, csrf, &center, None, Some(msg)).await?;
            render_status(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "booking/messages.html")]
struct MessagesPage {
    chrome: Chrome,
    sender: &'static str,
    messages: Vec<(super::notify::Outgoing, String)>,
}

async fn messages_page(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
) -> PageResult {
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
    let messages = super::notify::recent(&mut conn, &centers, 200)
        .await?
        .into_iter()
        .map(|m| {
            let at = crate::clock::format_local(m.created_at);
            (m, at)
        })
        .collect();
    render(&MessagesPage {
        chrome: Chrome::new(Some(user), csrf),
        sender: app.sms.name(),
        messages,
    })
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
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> PageResult {
    let a = service::find(&app, &code, None).await?;
    if !policy::can_see_center(&user, a.center_id.get()) {
        return Err(AppError::NotFound("找不到该预约".into()).into());
    }
    let posts = posts_of(&app, &user).await?;
    let line = line_of(&app, &a).await?;
    let mut conn = app.db.pool().acquire().await?;
    let steps = queries::steps(&mut conn, a.id)
        .await?
        .into_iter()
        .map(|s| {
            let at = crate::clock::format_local(s.at);
            (s, at)
        })
        .collect();
    render(&HistoryPage {
        b: BookingItem::of(&line, serves(&user, &posts, a.center_id, a.window_id)),
        chrome: Chrome::new(Some(user), csrf),
        steps,
    })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/book", get(centers_page))
        .route("/book/find", get(find_page))
        .route("/book/{center}", get(matters_page))
        .route("/book/{center}/{matter}", get(book_page).post(book_submit))
        .route("/a/{code}", get(booking_page))
        .route("/a/{code}/{action}", post(booking_act))
        .route(
            "/centers/{center}/check-in",
            get(check_in_page).post(check_in_submit),
        )
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
