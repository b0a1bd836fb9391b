//! Pages of appointments.
//!
//! Citizens (phone-first, also from the kiosk, the hours page and the lobby screen's QR code):
//! `/book` (choose a center), `/book/{center}` (search its bookable matters),
//! `/book/{center}/{matter}` (the free hours of the next weeks and the form), `/a/{code}` (the
//! booking with its code and QR code; cancel or change with the phone), `/book/find`.
//! The kiosk: `/centers/{center}/check-in` (booking code, QR code or ID number → ticket).
//! Staff pages are in [`super::staff_pages`].
//! Each POST runs one use case of [`super::service`] and redirects (303) with a flash, or shows
//! the page again with the Chinese reason.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::api::{BookingItem, line_of};
use super::queries::{self, MatterChoice};
use super::service::{self, BookInput, By, SlotItem};
use super::web::{Visitor, answered, refused, refused_now};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::extract::Fields;
use crate::ids::CenterId;
use crate::state::StateMachine;
use crate::web::qr::qr_svg;
use crate::web::{Chrome, PageResult, render};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CenterRow {
    pub id: CenterId,
    pub code: String,
    pub name: String,
    pub address: String,
}

pub(super) async fn all_centers(app: &App) -> AppResult<Vec<CenterRow>> {
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

async fn centers_page((State(app), chrome): Visitor) -> PageResult {
    render(&CentersPage {
        centers: all_centers(&app).await?,
        chrome,
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
    (State(app), chrome): Visitor,
    Path(center): Path<String>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let center = center_row(&app, &center).await?;
    let mut conn = app.db.pool().acquire().await?;
    let matters = queries::bookable_matters(&mut conn, center.id, &q.q).await?;
    render(&MattersPage {
        chrome,
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
pub(super) struct BookPage {
    pub(super) chrome: Chrome,
    pub(super) center: CenterRow,
    pub(super) matter: String,
    pub(super) matter_name: String,
    pub(super) periods: &'static str,
    pub(super) days: Vec<DaySlots>,
    pub(super) form: BookInput,
    pub(super) chosen: String,
    pub(super) error: Option<String>,
}

impl BookPage {
    pub(super) fn is_chosen(&self, date: &str, start: &str) -> bool {
        self.chosen == format!("{date} {start}")
    }
}

pub(super) async fn book_page_for(
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
    (State(app), chrome): Visitor,
    Path((center, matter)): Path<(String, String)>,
) -> PageResult {
    let form = BookInput::default();
    render(&book_page_for(&app, chrome, &center, &matter, form, None).await?)
}

pub(super) fn book_input(center: &str, matter: &str, form: &Fields) -> BookInput {
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
    (State(app), chrome): Visitor,
    Path((center, matter)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let input = book_input(&center, &matter, &form);
    match service::book(&app, None, &input).await {
        Ok(a) => Ok(Redirect::to(&format!("/a/{}?new=1", a.code)).into_response()),
        Err(e) => {
            let page = |msg| book_page_for(&app, chrome, &center, &matter, input, Some(msg));
            refused(e, page).await
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
    (State(app), chrome): Visitor,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<BookingQuery>,
) -> PageResult {
    render(&booking_page_for(&app, &headers, chrome, &code, q, None).await?)
}

async fn booking_act(
    (State(app), chrome): Visitor,
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
    let back = format!("/a/{}", code.trim().to_ascii_uppercase());
    answered(result, &back, |msg| {
        let q = BookingQuery::default();
        booking_page_for(&app, &headers, chrome, &code, q, Some(msg))
    })
    .await
}

#[derive(Template)]
#[template(path = "booking/find.html")]
struct FindPage {
    chrome: Chrome,
    code: String,
    error: Option<String>,
}

async fn find_page(
    (State(app), chrome): Visitor,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> PageResult {
    let code = q
        .get("code")
        .map(|c| service::code_in(c))
        .unwrap_or_default();
    let phone = q.get("phone").cloned().unwrap_or_default();
    if !code.is_empty() {
        return match service::find(&app, &code, Some(&phone)).await {
            Ok(a) => Ok(Redirect::to(&format!("/a/{}", a.code)).into_response()),
            Err(e) => refused_now(e, |msg| FindPage {
                chrome,
                code,
                error: Some(msg),
            }),
        };
    }
    render(&FindPage {
        chrome,
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

impl CheckInPage {
    /// The kiosk's form, before a check-in or after a refused one (`error`).
    fn blank(chrome: Chrome, center: CenterRow, error: Option<String>) -> Self {
        Self {
            chrome,
            center,
            error,
            ticket: None,
            booking: None,
            qr: String::new(),
        }
    }
}

async fn check_in_page((State(app), chrome): Visitor, Path(center): Path<String>) -> PageResult {
    let center = center_row(&app, &center).await?;
    render(&CheckInPage::blank(chrome, center, None))
}

async fn check_in_submit(
    (State(app), chrome): Visitor,
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
                booking: Some(BookingItem::of(&line, false)),
                ticket: Some(done.ticket),
                qr,
                ..CheckInPage::blank(chrome, row, None)
            })
        }
        Err(e) => refused_now(e, |msg| CheckInPage::blank(chrome, row, Some(msg))),
    }
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
        .merge(super::staff_pages::router())
}
