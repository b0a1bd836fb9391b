//! JSON API of appointments. Public: the free hours, booking, looking up, changing and
//! cancelling with code + phone, check-in. Staff (session or bearer token): booking for a
//! caller, the same-day answer, day lists, statistics and the center's rules.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post, put},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::{self, Line, MatterChoice, StatLine};
use super::service::{self, BookInput, By, MatterRuleInput, RescheduleInput, SlotList};
use super::web::{Caller, PhoneQuery, StaffCall};
use super::{Appointment, Settings};
use crate::app::App;
use crate::auth::{CurrentUser, MaybeUser, policy};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::identity;
use crate::ids::{CenterId, WindowId};

#[derive(Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// 事项编码.
    pub matter: String,
    /// YYYY-MM-DD (default today).
    #[serde(default)]
    pub from: Option<String>,
    /// YYYY-MM-DD (default: as far as the center lets citizens book).
    #[serde(default)]
    pub to: Option<String>,
}

/// The bookable hours of a matter with their places (public).
#[utoipa::path(get, path = "/api/v1/centers/{center}/slots", summary = "可预约时段（公开）", tag = "booking",
    params(("center" = String, Path), SlotsQuery),
    responses((status = 200, body = SlotList), (status = 422, description = "事项不可预约或日期无效")))]
pub async fn slots(
    State(app): State<Arc<App>>,
    Path(center): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> AppResult<axum::response::Response> {
    let list = service::slots(&app, &center, &q.matter, q.from.as_deref(), q.to.as_deref()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        list.json.clone(),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct MattersQuery {
    /// Words of the matter's name.
    #[serde(default)]
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct MatterList {
    pub items: Vec<MatterChoice>,
}

/// The matters of a center that can be booked (public).
#[utoipa::path(get, path = "/api/v1/centers/{center}/bookable", summary = "可预约事项（公开）", tag = "booking",
    params(("center" = String, Path), MattersQuery), responses((status = 200, body = MatterList)))]
pub async fn bookable(
    State(app): State<Arc<App>>,
    Path(center): Path<String>,
    Query(q): Query<MattersQuery>,
) -> AppResult<Json<MatterList>> {
    let c = crate::hall::centers::by_code(app.db.pool(), center.trim()).await?;
    let mut conn = app.db.pool().acquire().await?;
    Ok(Json(MatterList {
        items: queries::bookable_matters(&mut conn, CenterId(c.id), &q.q).await?,
    }))
}

/// A booking as the API answers it. The applicant's data are masked unless the caller serves
/// them (or gave the booking's phone).
#[derive(Serialize, ToSchema)]
pub struct BookingItem {
    /// 预约码.
    pub code: String,
    /// `pending`, `confirmed`, `refusing`, `refused`, `cancelled`, `checked_in`, `no_show`.
    pub status: String,
    pub status_label: String,
    pub center: String,
    pub matter: String,
    pub matter_name: String,
    pub window: String,
    pub window_name: String,
    pub date: String,
    pub start: String,
    pub end: String,
    /// `online`, `phone`, `counter`.
    pub channel: String,
    pub name: String,
    pub phone: String,
    pub id_card: String,
    pub reason: String,
    pub agent_name: String,
    /// The reason of a refusal.
    pub refusal_reason: String,
    /// The ticket number once checked in.
    pub ticket: Option<String>,
}

impl BookingItem {
    pub fn channel_label(&self) -> &'static str {
        super::Channel::parse(&self.channel).map_or("", super::Channel::label)
    }

    pub fn of(l: &Line, full: bool) -> Self {
        let (name, phone, id_card) = if full {
            (l.name.clone(), l.phone.clone(), l.id_card.clone())
        } else {
            (
                identity::mask_name(&l.name),
                identity::mask_phone(&l.phone),
                identity::mask_number(&l.id_card),
            )
        };
        Self {
            code: l.code.clone(),
            status: l.state.as_str().into(),
            status_label: l.state.label().into(),
            center: l.center_code.clone(),
            matter: l.matter_code.clone(),
            matter_name: l.matter_name.clone(),
            window: l.window_code.clone(),
            window_name: l.window_name.clone(),
            date: l.service_date.clone(),
            start: l.start.clone(),
            end: l.slot_end.clone(),
            channel: l.channel.as_str().into(),
            name,
            phone,
            id_card,
            reason: if full {
                l.reason.clone()
            } else {
                String::new()
            },
            agent_name: l.agent_name.clone(),
            refusal_reason: l.refusal_reason.clone(),
            ticket: l.ticket_number.clone(),
        }
    }
}

/// The line of one booking.
pub async fn line_of(app: &App, a: &Appointment) -> AppResult<Line> {
    let mut conn = app.db.pool().acquire().await?;
    let date = a.service_date.date();
    queries::day(&mut conn, a.center_id, date, Some(a.window_id))
        .await?
        .into_iter()
        .find(|l| l.code == a.code)
        .ok_or_else(|| AppError::internal("booking missing from its day"))
}

/// The windows where `user` holds a post.
pub async fn posts_of(app: &App, user: &CurrentUser) -> AppResult<Vec<WindowId>> {
    Ok(
        sqlx::query_scalar("select window_id from window_posts where user_id = $1")
            .bind(user.id)
            .fetch_all(app.db.pool())
            .await?,
    )
}

/// Whether `user` serves the booking's applicant: a post at its window, or the center's
/// hall manager (who answers refusals).
pub fn serves(user: &CurrentUser, posts: &[WindowId], center: CenterId, window: WindowId) -> bool {
    posts.contains(&window) || policy::can_approve_booking_refusal(user, center.get())
}

async fn item(app: &App, a: &Appointment, full: bool) -> AppResult<BookingItem> {
    Ok(BookingItem::of(&line_of(app, a).await?, full))
}

/// What a member of staff who answered a booking is told: the booking as it is now, unmasked.
async fn answered(app: &App, a: AppResult<Appointment>) -> AppResult<Json<BookingItem>> {
    Ok(Json(item(app, &a?, true).await?))
}

/// Lines of a center as `user` (posted at `posts`) sees them.
fn listed(
    user: &CurrentUser,
    posts: &[WindowId],
    center: CenterId,
    lines: &[Line],
) -> Json<BookingList> {
    Json(BookingList {
        items: lines
            .iter()
            .map(|l| BookingItem::of(l, serves(user, posts, center, l.window_id)))
            .collect(),
    })
}

/// Books an hour (public, 网上预约). Staff signed in who name a `channel` book for a caller
/// (电话预约 / 现场预约).
#[utoipa::path(post, path = "/api/v1/appointments", summary = "预约（公开）", tag = "booking",
    request_body = BookInput,
    responses((status = 201, body = BookingItem), (status = 409, description = "slot_full：该时段已约满"),
        (status = 422, description = "输入无效或不是可预约时段")))]
pub async fn book(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    ApiJson(input): ApiJson<BookInput>,
) -> AppResult<impl IntoResponse> {
    let staff = user.as_ref().filter(|_| !input.channel.trim().is_empty());
    let a = service::book(&app, staff, &input).await?;
    Ok((StatusCode::CREATED, Json(item(&app, &a, true).await?)))
}

/// What a call without a phone and without a signed-in user is told.
const NO_PHONE: &str = "请填写预约时的手机号";

/// A booking, by code and phone (or for staff of its center).
#[utoipa::path(get, path = "/api/v1/appointments/{code}", summary = "查询预约", tag = "booking",
    params(("code" = String, Path), PhoneQuery),
    responses((status = 200, body = BookingItem), (status = 404, description = "预约码或手机号不符")))]
pub async fn get_one(call: Caller, Query(q): Query<PhoneQuery>) -> AppResult<Json<BookingItem>> {
    let (State(app), MaybeUser(user), Path(code)) = call;
    let who = By::of(&user, &q.phone, NO_PHONE)?;
    let a = service::find(&app, &code, who.phone()).await?;
    who.may_see(a.center_id, "找不到该预约")?;
    let full = match &user {
        Some(u) if q.phone.is_none() => {
            serves(u, &posts_of(&app, u).await?, a.center_id, a.window_id)
        }
        _ => true,
    };
    Ok(Json(item(&app, &a, full).await?))
}

/// Cancels a booking (code + phone, or staff of its center); its place is free again.
#[utoipa::path(delete, path = "/api/v1/appointments/{code}", summary = "取消预约", tag = "booking",
    params(("code" = String, Path), PhoneQuery),
    responses((status = 200, body = BookingItem), (status = 409, description = "状态不允许取消")))]
pub async fn cancel(call: Caller, Query(q): Query<PhoneQuery>) -> AppResult<Json<BookingItem>> {
    let (State(app), MaybeUser(user), Path(code)) = call;
    let who = By::of(&user, &q.phone, NO_PHONE)?;
    let a = service::cancel(&app, &code, who).await?;
    Ok(Json(item(&app, &a, q.phone.is_some()).await?))
}

/// Moves a booking to another hour (改约).
#[utoipa::path(put, path = "/api/v1/appointments/{code}", summary = "改约", tag = "booking",
    request_body = RescheduleInput, params(("code" = String, Path), PhoneQuery),
    responses((status = 200, body = BookingItem), (status = 409, description = "slot_full 或状态不允许")))]
pub async fn reschedule(
    call: Caller,
    Query(q): Query<PhoneQuery>,
    ApiJson(input): ApiJson<RescheduleInput>,
) -> AppResult<Json<BookingItem>> {
    let (State(app), MaybeUser(user), Path(code)) = call;
    let who = By::of(&user, &q.phone, NO_PHONE)?;
    let a = service::reschedule(&app, &code, who, &input).await?;
    Ok(Json(item(&app, &a, q.phone.is_some()).await?))
}

/// Checks a booking in: the answer is the ticket, as the ticket API returns it.
#[utoipa::path(post, path = "/api/v1/appointments/{code}/check-in", summary = "预约签到取号（公开）", tag = "booking",
    params(("code" = String, Path)),
    responses((status = 201, body = crate::queue::api::Issued), (status = 409, description = "预约未确认、已签到或已取消"),
        (status = 422, description = "不在签到时间内")))]
pub async fn check_in(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<impl IntoResponse> {
    let a = service::find(&app, &service::code_in(&code), None).await?;
    let (center, _) = {
        let mut conn = app.db.pool().acquire().await?;
        queries::codes(&mut conn, &a).await?
    };
    let done = service::check_in(&app, &center, &a.code).await?;
    Ok((StatusCode::CREATED, Json(done.ticket)))
}

/// 同意 a pending request (staff of the center).
#[utoipa::path(post, path = "/api/v1/appointments/{code}/confirm", summary = "同意预约", tag = "booking",
    params(("code" = String, Path)), responses((status = 200, body = BookingItem)))]
pub async fn confirm(call: StaffCall) -> AppResult<Json<BookingItem>> {
    let (State(app), user, Path(code)) = call;
    answered(&app, service::confirm(&app, &user, &code).await).await
}

#[derive(Deserialize, ToSchema)]
pub struct BookingRefuseInput {
    /// 不同意的理由, told to the citizen.
    pub reason: String,
}

/// 不同意: a clerk proposes it with the reason; the hall manager's own refusal is final at once.
#[utoipa::path(post, path = "/api/v1/appointments/{code}/refuse", summary = "不同意预约（报大厅审批）", tag = "booking",
    request_body = BookingRefuseInput, params(("code" = String, Path)), responses((status = 200, body = BookingItem)))]
pub async fn refuse(
    call: StaffCall,
    ApiJson(input): ApiJson<BookingRefuseInput>,
) -> AppResult<Json<BookingItem>> {
    let (State(app), user, Path(code)) = call;
    let a = service::refuse(&app, &user, &code, &input.reason).await;
    answered(&app, a).await
}

/// The hall manager's decision on a proposed refusal, of a booking or a home visit.
#[derive(Deserialize, ToSchema)]
pub struct RefusalDecision {
    /// true: the refusal stands; false: it is turned down (a booking is confirmed, a home
    /// visit waits to be arranged).
    pub approve: bool,
}

/// The hall manager decides on a proposed refusal.
#[utoipa::path(post, path = "/api/v1/appointments/{code}/refusal", summary = "审批不同意预约", tag = "booking",
    request_body = RefusalDecision, params(("code" = String, Path)), responses((status = 200, body = BookingItem)))]
pub async fn decide_refusal(
    call: StaffCall,
    ApiJson(input): ApiJson<RefusalDecision>,
) -> AppResult<Json<BookingItem>> {
    let (State(app), user, Path(code)) = call;
    let a = service::decide_refusal(&app, &user, &code, input.approve).await;
    answered(&app, a).await
}

#[derive(Deserialize, IntoParams)]
pub struct DayQuery {
    /// YYYY-MM-DD (default today).
    #[serde(default)]
    pub date: Option<String>,
    /// A window's code: only its bookings.
    #[serde(default)]
    pub window: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingList {
    pub items: Vec<BookingItem>,
}

/// The center a staff member may see, by code.
pub async fn staff_center(app: &App, user: &CurrentUser, code: &str) -> AppResult<CenterId> {
    let c = crate::hall::centers::by_code(app.db.pool(), code.trim()).await?;
    if !policy::can_see_center(user, c.id) {
        return Err(AppError::NotFound(format!("找不到中心“{}”", code.trim())));
    }
    Ok(CenterId(c.id))
}

/// A window's id by code at a center.
pub async fn window_id(app: &App, center: CenterId, code: &str) -> AppResult<WindowId> {
    sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
        .bind(center)
        .bind(code.trim())
        .fetch_optional(app.db.pool())
        .await?
        .ok_or_else(|| {
            AppError::invalid_field("window", format!("本中心没有编号为“{}”的窗口", code.trim()))
        })
}

/// A center's (or one window's) bookings of a day (staff).
#[utoipa::path(get, path = "/api/v1/centers/{center}/appointments", summary = "预约日程（工作人员）", tag = "booking",
    params(("center" = String, Path), DayQuery), responses((status = 200, body = BookingList)))]
pub async fn day(call: StaffCall, Query(q): Query<DayQuery>) -> AppResult<Json<BookingList>> {
    let (State(app), user, Path(center)) = call;
    let center = staff_center(&app, &user, &center).await?;
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => crate::calendar::parse_date(d)
            .map_err(|e| AppError::invalid_field("date", e.to_string()))?,
        None => crate::timetable::today(&app),
    };
    let window = match q.window.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => Some(window_id(&app, center, w).await?),
        None => None,
    };
    let posts = posts_of(&app, &user).await?;
    let mut conn = app.db.pool().acquire().await?;
    let lines = queries::day(&mut conn, center, date, window).await?;
    Ok(listed(&user, &posts, center, &lines))
}

/// Requests waiting for an answer, oldest first (staff).
#[utoipa::path(get, path = "/api/v1/centers/{center}/appointments/open", summary = "待答复的预约", tag = "booking",
    params(("center" = String, Path)), responses((status = 200, body = BookingList)))]
pub async fn open(call: StaffCall) -> AppResult<Json<BookingList>> {
    let (State(app), user, Path(center)) = call;
    let center = staff_center(&app, &user, &center).await?;
    let posts = posts_of(&app, &user).await?;
    let mut conn = app.db.pool().acquire().await?;
    let lines = queries::open(&mut conn, center).await?;
    Ok(listed(&user, &posts, center, &lines))
}

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// YYYY-MM-DD.
    pub from: String,
    /// YYYY-MM-DD.
    pub to: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatList {
    pub items: Vec<StatLine>,
}

/// Bookings, confirmations, refusals, no-shows and check-ins per day, matter, window and
/// channel (hall managers and leaders).
#[utoipa::path(get, path = "/api/v1/centers/{center}/appointments/stats", summary = "预约统计", tag = "booking",
    params(("center" = String, Path), RangeQuery), responses((status = 200, body = StatList)))]
pub async fn stats(call: StaffCall, Query(q): Query<RangeQuery>) -> AppResult<Json<StatList>> {
    let (State(app), user, Path(center)) = call;
    let center = staff_center(&app, &user, &center).await?;
    if !policy::can_read_reports(&user, center.get())
        && !policy::can_serve_bookings(&user, center.get())
    {
        return Err(AppError::forbidden());
    }
    let (from, to) = range(&q.from, &q.to)?;
    let mut conn = app.db.pool().acquire().await?;
    Ok(Json(StatList {
        items: queries::stats(&mut conn, center, from, to).await?,
    }))
}

/// A date range of at most a year.
pub fn range(from: &str, to: &str) -> AppResult<(jiff::civil::Date, jiff::civil::Date)> {
    let f = crate::calendar::parse_date(from)
        .map_err(|e| AppError::invalid_field("from", e.to_string()))?;
    let t = crate::calendar::parse_date(to)
        .map_err(|e| AppError::invalid_field("to", e.to_string()))?;
    if t < f {
        return Err(AppError::invalid_field("to", "结束日期不能早于开始日期"));
    }
    if (t - f).get_days() > 366 {
        return Err(AppError::invalid_field("to", "统计范围最多一年"));
    }
    Ok((f, t))
}

/// A center's booking rules (staff of the center).
#[utoipa::path(get, path = "/api/v1/centers/{center}/booking/settings", summary = "预约规则", tag = "booking",
    params(("center" = String, Path)), responses((status = 200, body = Settings)))]
pub async fn get_settings(call: StaffCall) -> AppResult<Json<Settings>> {
    let (State(app), user, Path(center)) = call;
    let center = staff_center(&app, &user, &center).await?;
    let mut conn = app.db.pool().acquire().await?;
    Ok(Json(queries::settings(&mut conn, center).await?))
}

/// Sets a center's booking rules (hall manager).
#[utoipa::path(put, path = "/api/v1/centers/{center}/booking/settings", summary = "设置预约规则", tag = "booking",
    request_body = Settings, params(("center" = String, Path)), responses((status = 200, body = Settings)))]
pub async fn put_settings(
    call: StaffCall,
    ApiJson(input): ApiJson<Settings>,
) -> AppResult<Json<Settings>> {
    let (State(app), user, Path(center)) = call;
    Ok(Json(
        service::save_settings(&app, &user, &center, &input).await?,
    ))
}

/// Sets which periods a matter is booked in and how it is answered (hall manager).
#[utoipa::path(put, path = "/api/v1/booking/matters/{code}", summary = "设置事项的预约时段和答复方式", tag = "booking",
    request_body = MatterRuleInput, params(("code" = String, Path)), responses((status = 204)))]
pub async fn put_matter(
    call: StaffCall,
    ApiJson(input): ApiJson<MatterRuleInput>,
) -> AppResult<StatusCode> {
    let (State(app), user, Path(code)) = call;
    service::save_matter_rule(&app, &user, &code, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct CapacityInput {
    /// Places per bookable hour (0: no bookings at this window).
    pub capacity: i64,
}

/// Sets a window's places per bookable hour (hall manager).
#[utoipa::path(put, path = "/api/v1/centers/{center}/windows/{window}/booking-capacity", summary = "设置窗口每小时可预约人数", tag = "booking",
    request_body = CapacityInput, params(("center" = String, Path), ("window" = String, Path)), responses((status = 204)))]
pub async fn put_capacity(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path((center, window)): Path<(String, String)>,
    ApiJson(input): ApiJson<CapacityInput>,
) -> AppResult<StatusCode> {
    service::save_window_capacity(&app, &user, &center, &window, input.capacity).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/centers/{center}/slots", get(slots))
        .route("/api/v1/centers/{center}/bookable", get(bookable))
        .route("/api/v1/centers/{center}/appointments", get(day))
        .route("/api/v1/centers/{center}/appointments/open", get(open))
        .route("/api/v1/centers/{center}/appointments/stats", get(stats))
        .route(
            "/api/v1/centers/{center}/booking/settings",
            get(get_settings).put(put_settings),
        )
        .route(
            "/api/v1/centers/{center}/windows/{window}/booking-capacity",
            put(put_capacity),
        )
        .route("/api/v1/booking/matters/{code}", put(put_matter))
        .route("/api/v1/appointments", post(book))
        .route(
            "/api/v1/appointments/{code}",
            get(get_one).delete(cancel).put(reschedule),
        )
        .route("/api/v1/appointments/{code}/check-in", post(check_in))
        .route("/api/v1/appointments/{code}/confirm", post(confirm))
        .route("/api/v1/appointments/{code}/refuse", post(refuse))
        .route("/api/v1/appointments/{code}/refusal", post(decide_refusal))
}
