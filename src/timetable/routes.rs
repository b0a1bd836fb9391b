//! Pages and API of the service calendar.

use std::sync::Arc;

use askama::Template;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use jiff::civil::{Date, Time, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    center_hours, holiday_form::YearForm, holiday_table, next_closed, schedules, service, today,
};
use crate::{
    app::App,
    auth::{CurrentUser, Viewer},
    calendar::{self, DaySchedule, HolidayTable, Hours, MonthDay, Period, Season},
    error::{AppError, AppResult},
    extract::{ApiJson, Fields, Path, Query},
    hall::{Center, centers, service::managed_center},
    web::{Chrome, Flash, PageResult, done, render, render_status},
};

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn weekday(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "周一",
        Weekday::Tuesday => "周二",
        Weekday::Wednesday => "周三",
        Weekday::Thursday => "周四",
        Weekday::Friday => "周五",
        Weekday::Saturday => "周六",
        Weekday::Sunday => "周日",
    }
}

/// One day as the hours page shows it.
pub struct DayView {
    pub date: String,
    pub weekday: &'static str,
    pub is_today: bool,
    /// 工作日 / 调休上班 / holiday name / 周末.
    pub kind: String,
    pub regular: String,
    pub extended: Vec<String>,
}

fn day_view(s: &DaySchedule, table: &HolidayTable, today: Date) -> DayView {
    let info = table.day_kind(s.date);
    let kind = match (&s.holiday, s.workday) {
        (Some(h), _) => h.clone(),
        (None, true) if matches!(info.kind, calendar::DayKind::AdjustedWorkday { .. }) => {
            "调休上班".into()
        }
        (None, true) => "工作日".into(),
        (None, false) => "周末".into(),
    };
    DayView {
        date: format!("{}月{}日", s.date.month(), s.date.day()),
        weekday: weekday(s.date),
        is_today: s.date == today,
        kind,
        regular: s
            .regular
            .iter()
            .map(|p| format!("{}–{}", hhmm(p.start), hhmm(p.end)))
            .collect::<Vec<_>>()
            .join("，"),
        extended: s
            .extended
            .iter()
            .map(|e| {
                let base = format!("{}–{}", hhmm(e.start), hhmm(e.end));
                if e.on_demand {
                    format!("{base}（有群众等候时延时）")
                } else {
                    base
                }
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "hours.html")]
struct HoursPage {
    chrome: Chrome,
    center: Center,
    today: DayView,
    week: Vec<DayView>,
    next_closed: Option<(String, String)>,
    missing_notice: Option<i16>,
    /// Whether the hall is open at this moment, and when it opens next if not.
    now_status: String,
}

/// 正在办公 / 延时错时服务中 / when the hall opens (later today or on a coming day).
pub(crate) fn now_status(
    table: &HolidayTable,
    hours: &Hours,
    today: &DaySchedule,
    at: Time,
) -> String {
    match super::open_at(table, hours, today, at) {
        super::Open::Regular => "现在正在办公。".into(),
        super::Open::Extended => "现在是延时错时服务时间，可办理预约服务目录中的事项。".into(),
        super::Open::Closed { next: Some((d, t)) } if d == today.date => {
            format!("现在不在办公时间，今天 {} 开始办公。", hhmm(t))
        }
        super::Open::Closed { next: Some((d, t)) } => format!(
            "今日已下班。下次办公：{}月{}日（{}）{}。",
            d.month(),
            d.day(),
            weekday(d),
            hhmm(t)
        ),
        super::Open::Closed { next: None } => "今日已下班。".into(),
    }
}

async fn hours_data(app: &App, code: &str) -> AppResult<(Center, Arc<HolidayTable>, Hours, Date)> {
    let center = centers::by_code(app.db.pool(), code).await?;
    let table = holiday_table(app).await?;
    let hours = center_hours(app.db.pool(), center.id).await?;
    Ok((center, table, hours, today(app)))
}

async fn hours_page(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Path(code): Path<String>,
) -> PageResult {
    let (center, table, hours, now) = hours_data(&app, &code).await?;
    // 本周: Monday to Sunday of this week.
    let monday = now
        .checked_sub(jiff::Span::new().days(i64::from(now.weekday().to_monday_zero_offset())))
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let week = schedules(&table, &hours, monday, 7)?;
    let today_schedule = table.day(now, &hours).map_err(AppError::from)?;
    let at = super::now_time(&app);
    let next = next_closed(&table, &hours, now)?.map(|(s, why)| {
        (
            format!(
                "{}月{}日（{}）",
                s.date.month(),
                s.date.day(),
                weekday(s.date)
            ),
            why,
        )
    });
    render(&HoursPage {
        chrome,
        now_status: now_status(&table, &hours, &today_schedule, at),
        today: day_view(&today_schedule, &table, now),
        missing_notice: week.iter().find(|s| s.year_missing).map(|s| s.date.year()),
        week: week.iter().map(|s| day_view(s, &table, now)).collect(),
        next_closed: next,
        center,
    })
}

#[derive(Template)]
#[template(path = "hours_today.html")]
struct TodayFragment {
    today: DayView,
}

/// Today's hours as an HTML fragment for the lobby display.
async fn hours_today(State(app): State<Arc<App>>, Path(code): Path<String>) -> PageResult {
    let (_, table, hours, now) = hours_data(&app, &code).await?;
    let s = table.day(now, &hours).map_err(AppError::from)?;
    render(&TodayFragment {
        today: day_view(&s, &table, now),
    })
}

// ---- admin: a center's hours ----

fn periods_text(p: &[Period]) -> String {
    p.iter()
        .map(|p| format!("{}-{}", hhmm(p.start), hhmm(p.end)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_time(s: &str) -> Result<Time, AppError> {
    let bad = || {
        AppError::Invalid(format!(
            "时间“{}”无效，请写成 08:30 这样的格式",
            crate::error::quote(s)
        ))
    };
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: i8 = h.trim().parse().map_err(|_| bad())?;
    let m: i8 = m.trim().parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// "08:30-12:00, 14:00-17:00" → periods.
pub fn parse_periods(text: &str, what: &str) -> Result<Vec<Period>, AppError> {
    let mut out = Vec::new();
    for part in text
        .split([',', '，', ';', '；', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, b) = part.split_once(['-', '–', '~', '至']).ok_or_else(|| {
            AppError::Invalid(format!("{what}时段“{part}”无效，请写成 08:30-12:00"))
        })?;
        out.push(Period::new(parse_time(a)?, parse_time(b)?)?);
    }
    if out.is_empty() {
        return Err(AppError::Invalid(format!("请填写{what}的工作时段")));
    }
    Ok(out)
}

fn parse_month_day(text: &str, what: &str) -> Result<MonthDay, AppError> {
    let bad = || AppError::Invalid(format!("{what}“{text}”无效，请写成 05-01 这样的月-日"));
    let (m, d) = text.trim().split_once(['-', '/', '月']).ok_or_else(bad)?;
    let d = d.trim_end_matches('日');
    let m: i8 = m.trim().parse().map_err(|_| bad())?;
    let d: i8 = d.trim().parse().map_err(|_| bad())?;
    Ok(MonthDay::new(m, d)?)
}

fn hours_from_form(f: &Fields) -> AppResult<Hours> {
    if f.get("preset") == "nine_to_five" {
        return Ok(Hours::nine_to_five());
    }
    if f.get("preset") == "default" {
        return Ok(Hours::default());
    }
    let season = Season {
        summer_start: parse_month_day(f.get("summer_start"), "夏季作息开始日期")?,
        winter_start: parse_month_day(f.get("winter_start"), "冬季作息开始日期")?,
    };
    Ok(Hours::new(
        season,
        parse_periods(f.get("summer"), "夏季")?,
        parse_periods(f.get("winter"), "冬季")?,
    )?)
}

fn hours_form(h: &Hours) -> Fields {
    Fields(vec![
        ("summer_start".into(), h.season().summer_start.to_string()),
        ("winter_start".into(), h.season().winter_start.to_string()),
        ("summer".into(), periods_text(h.summer())),
        ("winter".into(), periods_text(h.winter())),
    ])
}

#[derive(Template)]
#[template(path = "admin/hours.html")]
struct HoursAdminPage {
    chrome: Chrome,
    center: Center,
    form: Fields,
    error: Option<String>,
    ok: Option<String>,
}

async fn hours_admin(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, &code).await?;
    let hours = center_hours(app.db.pool(), center.id).await?;
    render(&HoursAdminPage {
        chrome: viewer.chrome(),
        center,
        form: hours_form(&hours),
        error: None,
        ok: f.ok,
    })
}

async fn hours_admin_save(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, &code).await?;
    let result = async {
        let hours = hours_from_form(&form)?;
        service::set_hours(&app, &viewer.user, center.id, &hours).await
    }
    .await;
    match result {
        Ok(()) => done(&format!("/admin/centers/{code}/hours"), "已保存"),
        Err(e @ AppError::Invalid(_)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &HoursAdminPage {
                chrome: viewer.chrome(),
                center,
                form,
                error: Some(e.public_message()),
                ok: None,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

// ---- admin: holiday years ----

/// A year of the holiday table as listed.
#[derive(Serialize, ToSchema)]
pub struct YearItem {
    pub year: i16,
    pub notice_title: String,
    pub notice_url: String,
    /// `builtin` (shipped) or `imported`.
    pub source: String,
    /// Days off and 调休 working days.
    pub holidays: usize,
    pub workdays: usize,
}

async fn year_items(app: &App) -> AppResult<Vec<YearItem>> {
    let table = holiday_table(app).await?;
    let imported: Vec<i64> = sqlx::query_scalar("select year from holiday_years")
        .fetch_all(app.db.pool())
        .await?;
    Ok(table
        .years()
        .map(|y| YearItem {
            year: y.year(),
            notice_title: y.notice_title().to_owned(),
            notice_url: y.notice_url().to_owned(),
            source: if imported.contains(&i64::from(y.year())) {
                "imported"
            } else {
                "builtin"
            }
            .into(),
            holidays: y.holidays().iter().map(|h| h.dates.len()).sum(),
            workdays: y.workdays().len(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/holidays.html")]
struct HolidaysPage {
    chrome: Chrome,
    years: Vec<YearItem>,
    /// The year form (a year, its breaks and 调休 days), with its errors beside the fields.
    form: YearForm,
    text: String,
    error: Option<String>,
    ok: Option<String>,
}

impl HolidaysPage {
    /// The page with every year of the table, the year form and the pasted text.
    async fn of(
        app: &App,
        viewer: Viewer,
        form: YearForm,
        text: String,
        error: Option<String>,
        ok: Option<String>,
    ) -> AppResult<Self> {
        Ok(HolidaysPage {
            chrome: viewer.chrome(),
            years: year_items(app).await?,
            form,
            text,
            error,
            ok,
        })
    }
}

/// The form for the year after today's.
fn next_year_form(app: &App) -> YearForm {
    YearForm::blank(today(app).year() + 1)
}

fn require_manager(user: &CurrentUser) -> AppResult<()> {
    if user.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有系统管理员或大厅管理员可以维护节假日安排".into(),
        ))
    }
}

async fn holidays_admin(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<Flash>,
) -> PageResult {
    require_manager(&viewer.user)?;
    let form = next_year_form(&app);
    render(&HolidaysPage::of(&app, viewer, form, String::new(), None, f.ok).await?)
}

/// The year form's submission: checked field by field, then imported as the text would be.
async fn holidays_form_import(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    fields: Fields,
) -> PageResult {
    require_manager(&viewer.user)?;
    let mut form = YearForm::from_fields(&fields);
    let imported = match form.to_toml() {
        Some(toml) => match service::import_year(&app, &viewer.user, &toml).await {
            Ok(y) => Some(y.year()),
            Err(e @ AppError::Invalid(_)) => {
                form.error = Some(e.public_message());
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    match imported {
        Some(year) => imported_flash(year),
        None => {
            let page = HolidaysPage::of(&app, viewer, form, String::new(), None, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

fn imported_flash(year: i16) -> PageResult {
    done("/admin/holidays", &format!("已导入 {year} 年节假日安排"))
}

async fn holidays_import(State(app): State<Arc<App>>, viewer: Viewer, form: Fields) -> PageResult {
    require_manager(&viewer.user)?;
    let text = form
        .0
        .iter()
        .find(|(k, _)| k == "toml")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let result = async {
        let y = service::import_year(&app, &viewer.user, &text).await?;
        AppResult::Ok(y.year())
    }
    .await;
    match result {
        Ok(year) => imported_flash(year),
        Err(e @ AppError::Invalid(_)) => {
            let (form, error) = (next_year_form(&app), Some(e.public_message()));
            let page = HolidaysPage::of(&app, viewer, form, text, error, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- API ----

/// What a hall offers on a date: regular and extended (延时错时) hours.
#[utoipa::path(get, path = "/api/v1/centers/{center}/calendar/{date}", summary = "某日办事时间（公开）", tag = "calendar",
    params(("center" = String, Path), ("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, description = "{\"date\",\"workday\",\"holiday\",\"regular\",\"extended\"}")))]
pub async fn api_day(
    State(app): State<Arc<App>>,
    Path((code, date)): Path<(String, String)>,
) -> AppResult<Json<DaySchedule>> {
    let date = calendar::parse_date(&date)?;
    let (_, table, hours, _) = hours_data(&app, &code).await?;
    Ok(Json(table.day(date, &hours)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeadlineQuery {
    /// Day of acceptance, YYYY-MM-DD.
    pub from: String,
    /// Working days.
    pub days: String,
}

/// The due date of a limit of N working days counted from the day after acceptance.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", summary = "按工作日计算办结期限（公开）", tag = "calendar",
    params(DeadlineQuery), responses((status = 200, description = "{\"from\",\"days\",\"due\"}")))]
pub async fn api_deadline(
    State(app): State<Arc<App>>,
    Query(q): Query<DeadlineQuery>,
) -> AppResult<Json<calendar::Deadline>> {
    let from = calendar::parse_date(&q.from)?;
    let days = calendar::parse_days(&q.days)?;
    let table = holiday_table(&app).await?;
    Ok(Json(table.deadline(from, days, &[], None)?))
}

/// The years of the holiday table with their notices.
#[utoipa::path(get, path = "/api/v1/holidays", summary = "节假日安排年份（公开）", tag = "calendar",
    responses((status = 200, body = crate::hall::api::Items<YearItem>)))]
pub async fn api_years(
    State(app): State<Arc<App>>,
) -> AppResult<Json<crate::hall::api::Items<YearItem>>> {
    Ok(crate::hall::api::items(year_items(&app).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ImportInput {
    /// The year's notice in the shipped TOML format.
    pub toml: String,
}

/// Imports a year of holidays and 调休 working days (hall manager or admin).
#[utoipa::path(post, path = "/api/v1/holidays", summary = "导入一年的节假日安排", tag = "calendar",
    request_body = ImportInput, responses((status = 201, body = YearItem), (status = 422, description = "格式或日期有误")))]
pub async fn api_import(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<ImportInput>,
) -> AppResult<impl IntoResponse> {
    require_manager(&user)?;
    let y = service::import_year(&app, &user, &input.toml).await?;
    let item = year_items(&app)
        .await?
        .into_iter()
        .find(|i| i.year == y.year())
        .ok_or_else(|| AppError::internal("imported year not in table"))?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// A center's regular hours and season switch dates.
#[utoipa::path(get, path = "/api/v1/centers/{center}/hours", summary = "中心作息时间（公开）", tag = "calendar",
    params(("center" = String, Path)), responses((status = 200, description = "{\"season\",\"summer\",\"winter\"}")))]
pub async fn api_hours(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<Hours>> {
    let c = centers::by_code(app.db.pool(), &code).await?;
    Ok(Json(center_hours(app.db.pool(), c.id).await?))
}

/// Sets a center's hours (hall manager of it, or admin).
#[utoipa::path(put, path = "/api/v1/centers/{center}/hours", summary = "设置中心作息时间", tag = "calendar",
    params(("center" = String, Path)), responses((status = 200), (status = 422)))]
pub async fn api_set_hours(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> AppResult<Json<Hours>> {
    let c = managed_center(&app, &user, &code).await?;
    // A value the hours cannot hold is 422 naming the field, in Chinese whatever the input.
    let hours: Hours = crate::extract::from_json_value(value)?;
    service::set_hours(&app, &user, c.id, &hours).await?;
    Ok(Json(hours))
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/centers/{center}/hours", get(hours_page))
        .route("/centers/{center}/hours/today", get(hours_today))
        .route(
            "/admin/centers/{center}/hours",
            get(hours_admin).post(hours_admin_save),
        )
        .route("/admin/holidays", get(holidays_admin).post(holidays_import))
        .route(
            "/admin/holidays/form",
            axum::routing::post(holidays_form_import),
        )
        .route("/api/v1/centers/{center}/calendar/{date}", get(api_day))
        .route("/api/v1/calendar/deadline", get(api_deadline))
        .route("/api/v1/holidays", get(api_years).post(api_import))
        .route(
            "/api/v1/centers/{center}/hours",
            get(api_hours).put(api_set_hours),
        )
}
