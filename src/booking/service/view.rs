//! The free hours of a matter as the slot view shows them (public), cached per server.

use serde::Serialize;
use utoipa::ToSchema;

use super::place::plan;
use super::{add_days, bad_date, date_field, now_local};
use crate::app::App;
use crate::booking::queries;
use crate::booking::slots::{self, BookingPeriods};
use crate::error::{AppError, AppResult};
use crate::ids::WindowId;

/// The longest range one slot view covers, in days.
pub const MAX_VIEW_DAYS: i64 = 62;

/// One bookable hour as the API answers it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SlotItem {
    /// YYYY-MM-DD.
    pub date: String,
    /// HH:MM.
    pub start: String,
    /// HH:MM.
    pub end: String,
    /// Places of every window serving the matter.
    pub capacity: i64,
    pub booked: i64,
}

impl SlotItem {
    pub fn free(&self) -> i64 {
        (self.capacity - self.booked).max(0)
    }
}

/// `GET /api/v1/centers/{center}/slots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub center: String,
    pub matter: String,
    pub matter_name: String,
    /// `extended`, `regular` or `both`.
    pub periods: BookingPeriods,
    pub items: Vec<SlotItem>,
}

/// A slot list with its JSON, written once for every answer the cache gives.
#[derive(Debug)]
pub struct SlotView {
    pub list: SlotList,
    pub json: bytes::Bytes,
}

/// The free hours of a matter from `from` to `to` (public): at most [`MAX_VIEW_DAYS`] days,
/// from today to the center's `days_ahead`.
///
/// Answers come from [`App::slot_cache`] while this server has changed nothing (its
/// [`Generation`](crate::cache::Generation), bumped after every booking, cancellation or
/// setting) and for at most a second, which is how late a booking made through another server
/// shows. A booking itself never trusts the view: its place is taken by a guarded update.
pub async fn slots(
    app: &App,
    center: &str,
    matter: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<std::sync::Arc<SlotView>> {
    let key = (
        center.to_owned(),
        matter.to_owned(),
        from.unwrap_or_default().to_owned(),
        to.unwrap_or_default().to_owned(),
    );
    app.slot_cache
        .get_or_load(key, app.generation.current(), || async {
            let list = read_slots(app, center, matter, from, to).await?;
            let json = serde_json::to_vec(&list)
                .map_err(|e| AppError::internal(format!("slot list as JSON: {e}")))?;
            Ok(std::sync::Arc::new(SlotView {
                list,
                json: json.into(),
            }))
        })
        .await
}

async fn read_slots(
    app: &App,
    center: &str,
    matter: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<SlotList> {
    let plan = plan(app, center, matter).await?;
    let today = crate::timetable::today(app);
    let last = add_days(today, plan.settings.days_ahead);
    let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => date_field("from", f)?.max(today),
        None => today,
    };
    let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => date_field("to", t)?,
        None => add_days(from, plan.settings.days_ahead - 1),
    };
    if to < from {
        return Err(AppError::invalid_field("to", "结束日期不能早于开始日期"));
    }
    if (to - from).get_days() as i64 >= MAX_VIEW_DAYS {
        return Err(AppError::invalid_field(
            "to",
            format!("一次最多查询 {MAX_VIEW_DAYS} 天的可预约时段"),
        ));
    }
    let to = to.min(last);
    let table = crate::timetable::holiday_table(app).await?;
    let hours =
        crate::timetable::center_hours(app.db.pool(), plan.bookable.center_id.get()).await?;
    let taken = if plan.offers.is_empty() || to < from {
        Vec::new()
    } else {
        let mut conn = app.db.pool().acquire().await?;
        queries::taken(&mut conn, app.db.backend(), plan.bookable.id, from, to).await?
    };
    // Places taken by (window, day, hour): a month has hundreds of hours at each window.
    let taken: std::collections::HashMap<(WindowId, &str, &str), i64> = taken
        .iter()
        .map(|t| {
            (
                (t.window_id, t.service_date.as_str(), t.start.as_str()),
                t.booked,
            )
        })
        .collect();
    let now = now_local(app);
    let mut items = Vec::new();
    let mut d = from;
    while d <= to && !plan.offers.is_empty() {
        let day = table.day(d, &hours).map_err(|e| bad_date("from", e))?;
        let date = d.to_string();
        for s in slots::day_slots(&day, plan.bookable.periods) {
            if d.to_datetime(s.start) <= now {
                continue;
            }
            let start = s.start_text();
            let mut capacity = 0;
            let mut booked = 0;
            for o in &plan.offers {
                let places = s.places(o.booking_capacity);
                capacity += places;
                let b = taken
                    .get(&(o.window_id, date.as_str(), start.as_str()))
                    .copied()
                    .unwrap_or(0);
                booked += b.min(places);
            }
            items.push(SlotItem {
                date: date.clone(),
                start,
                end: s.end_text(),
                capacity,
                booked,
            });
        }
        d = add_days(d, 1);
    }
    Ok(SlotList {
        center: plan.bookable.center_code,
        matter: plan.bookable.code,
        matter_name: plan.bookable.name,
        periods: plan.bookable.periods,
        items,
    })
}
