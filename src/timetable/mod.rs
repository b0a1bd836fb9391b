//! 办事时间: the service calendar as the hall uses it — each center's hours (stored), the
//! holiday table (shipped years plus years imported from new State Council notices), the
//! public hours page, the admin pages, the API and `yichuang calendar`.
//! The rules themselves live in [`crate::calendar`], which has no I/O.

pub mod holiday_form;
pub mod routes;
pub mod service;

use std::sync::Arc;

use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;

use crate::{
    app::App,
    audit::{self, Actor},
    calendar::{CalendarError, DaySchedule, HolidayTable, HolidayYear, Hours},
    db::Tx,
    error::{AppError, AppResult},
};

pub use routes::router;

impl From<CalendarError> for AppError {
    fn from(e: CalendarError) -> Self {
        AppError::Invalid(e.to_string())
    }
}

/// The holiday table, stamped with the `holiday_years` version it was built from.
pub type TableCache = crate::cache::Cache<(), Arc<HolidayTable>, String>;

async fn version(pool: &sqlx::AnyPool) -> AppResult<String> {
    let row = sqlx::query(
        "select count(*) as years, coalesce(max(imported_at), 0) as newest from holiday_years",
    )
    .fetch_one(pool)
    .await?;
    Ok(format!(
        "{}:{}",
        row.try_get::<i64, _>("years")?,
        row.try_get::<i64, _>("newest")?
    ))
}

/// The shipped years with the imported ones laid over them.
pub async fn build_table(pool: &sqlx::AnyPool) -> AppResult<HolidayTable> {
    let mut table = HolidayTable::builtin();
    let rows = sqlx::query("select year, source_toml from holiday_years order by year")
        .fetch_all(pool)
        .await?;
    for r in rows {
        let year: i64 = r.try_get("year")?;
        let text: String = r.try_get("source_toml")?;
        match HolidayYear::from_toml(&text) {
            Ok(y) => {
                table.insert_year(y);
            }
            // Validated on import; a row that no longer parses is reported, not fatal.
            Err(e) => tracing::error!(year, error = %e, "stored holiday year does not parse"),
        }
    }
    Ok(table)
}

/// The holiday table, rebuilt only when `holiday_years` changed (on any server).
pub async fn holiday_table(app: &App) -> AppResult<Arc<HolidayTable>> {
    let v = version(app.db.pool()).await?;
    app.calendar
        .get_or_load((), v, || async {
            Ok(Arc::new(build_table(app.db.pool()).await?))
        })
        .await
}

/// A center's hours, or seed 000's defaults when it has none stored.
pub async fn center_hours<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
) -> AppResult<Hours> {
    let json: Option<String> =
        sqlx::query_scalar("select hours_json from center_hours where center_id = $1")
            .bind(center_id)
            .fetch_optional(db)
            .await?;
    match json {
        None => Ok(Hours::default()),
        Some(j) => {
            serde_json::from_str(&j).map_err(|e| AppError::internal(format!("stored hours: {e}")))
        }
    }
}

/// Stores a center's hours (audited).
pub async fn save_hours(
    tx: &mut Tx,
    actor: &Actor,
    center_id: i64,
    hours: &Hours,
    now: i64,
) -> AppResult<()> {
    let before = center_hours(&mut **tx, center_id).await?;
    let json = serde_json::to_string(hours).map_err(|e| AppError::internal(e.to_string()))?;
    sqlx::query(
        "insert into center_hours (center_id, hours_json, updated_at) values ($1, $2, $3) \
         on conflict (center_id) do update set hours_json = excluded.hours_json, updated_at = excluded.updated_at",
    )
    .bind(center_id)
    .bind(&json)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        "update",
        "center_hours",
        &center_id.to_string(),
        Some(center_id),
        Some(serde_json::to_value(&before).unwrap_or_default()),
        Some(serde_json::to_value(hours).unwrap_or_default()),
        now,
    )
    .await
}

/// Validates and stores a pasted holiday year (replacing an earlier import of that year).
pub async fn import_year(
    tx: &mut Tx,
    actor: &Actor,
    text: &str,
    now: i64,
) -> AppResult<HolidayYear> {
    if text.trim().is_empty() {
        return Err(AppError::Invalid(
            "请粘贴或上传节假日安排（TOML 格式）".into(),
        ));
    }
    let year = HolidayYear::from_toml(text)?;
    let before: Option<String> =
        sqlx::query_scalar("select source_toml from holiday_years where year = $1")
            .bind(i64::from(year.year()))
            .fetch_optional(&mut **tx)
            .await?;
    sqlx::query(
        "insert into holiday_years (year, notice_title, source_toml, imported_by, imported_at) values ($1, $2, $3, $4, $5) \
         on conflict (year) do update set notice_title = excluded.notice_title, source_toml = excluded.source_toml, \
         imported_by = excluded.imported_by, imported_at = excluded.imported_at",
    )
    .bind(i64::from(year.year()))
    .bind(year.notice_title())
    .bind(text)
    .bind(&actor.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        if before.is_some() {
            "replace"
        } else {
            "import"
        },
        "holiday_year",
        &year.year().to_string(),
        None,
        before.map(|b| json!({"toml": b})),
        Some(json!({"title": year.notice_title(), "url": year.notice_url(), "toml": text})),
        now,
    )
    .await?;
    Ok(year)
}

/// Today in Beijing.
pub fn today(app: &App) -> Date {
    today_at(&app.clock)
}

/// The civil date in Beijing by `clock`.
pub fn today_at(clock: &crate::clock::Clock) -> Date {
    clock
        .now()
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| z.date())
        .unwrap_or_else(|_| clock.now().to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// Whether a hall serves at a moment (`open_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// Regular hours.
    Regular,
    /// Planned extended service (延时错时), not the on-demand stay after closing.
    Extended,
    /// Closed: the next start of service today or on a coming day (60 days looked at).
    Closed {
        next: Option<(Date, jiff::civil::Time)>,
    },
}

/// The first start of service on a day: regular or planned extended.
fn first_start(s: &DaySchedule, after: Option<jiff::civil::Time>) -> Option<jiff::civil::Time> {
    s.regular
        .iter()
        .map(|p| p.start)
        .chain(s.extended.iter().filter(|e| !e.on_demand).map(|e| e.start))
        .filter(|t| after.is_none_or(|a| *t > a))
        .min()
}

/// Whether the hall serves at `at` on `day`, and if not, when it opens next.
pub fn open_at(
    table: &HolidayTable,
    hours: &Hours,
    day: &DaySchedule,
    at: jiff::civil::Time,
) -> Open {
    if day.regular.iter().any(|p| p.start <= at && at < p.end) {
        return Open::Regular;
    }
    if day
        .extended
        .iter()
        .any(|e| !e.on_demand && e.start <= at && at < e.end)
    {
        return Open::Extended;
    }
    if let Some(t) = first_start(day, Some(at)) {
        return Open::Closed {
            next: Some((day.date, t)),
        };
    }
    let mut d = day.date;
    for _ in 0..60 {
        let Ok(next) = d.tomorrow() else { break };
        d = next;
        if let Ok(s) = table.day(d, hours)
            && let Some(t) = first_start(&s, None)
        {
            return Open::Closed { next: Some((d, t)) };
        }
    }
    Open::Closed { next: None }
}

/// Why a center issues no ticket now, with when it opens next (`None` while it serves).
pub async fn closed_now(app: &App, center_id: i64) -> AppResult<Option<String>> {
    let table = holiday_table(app).await?;
    let hours = center_hours(app.db.pool(), center_id).await?;
    let day = table.day(today(app), &hours)?;
    let at = now_time(app);
    Ok(match open_at(&table, &hours, &day, at) {
        Open::Regular | Open::Extended => None,
        Open::Closed { .. } => Some(format!(
            "暂停取号：{}",
            routes::now_status(&table, &hours, &day, at)
        )),
    })
}

/// The wall-clock time in Beijing now.
pub fn now_time(app: &App) -> jiff::civil::Time {
    app.clock
        .now()
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| z.time())
        .unwrap_or(jiff::civil::Time::midnight())
}

/// A center's schedule for `days` days from `from`.
pub fn schedules(
    table: &HolidayTable,
    hours: &Hours,
    from: Date,
    days: usize,
) -> AppResult<Vec<DaySchedule>> {
    let mut out = Vec::with_capacity(days);
    let mut d = from;
    for _ in 0..days {
        out.push(table.day(d, hours)?);
        d = d.tomorrow().map_err(|e| AppError::Invalid(e.to_string()))?;
    }
    Ok(out)
}

/// The next day from `from` (inclusive) on which the hall has no regular hours, and why.
pub fn next_closed(
    table: &HolidayTable,
    hours: &Hours,
    from: Date,
) -> AppResult<Option<(DaySchedule, String)>> {
    let mut d = from;
    for _ in 0..30 {
        let s = table.day(d, hours)?;
        if !s.workday {
            let why = s.holiday.clone().unwrap_or_else(|| "周末".into());
            return Ok(Some((s, why)));
        }
        d = d.tomorrow().map_err(|e| AppError::Invalid(e.to_string()))?;
    }
    Ok(None)
}
