//! Queue statistics per window, zone and clerk (R4.5): issued, served, no-show, average and
//! longest wait (call − issue) and service time (finish − start − paused), the share of
//! waits within the center's target (service level), and the acceptances that ran past their
//! window's limit (超时受理, seed 001 (五)) — counted per line and listed one by one.

use serde::Serialize;
use sqlx::Row;

use crate::error::AppResult;

/// One line of the statistics.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatLine {
    /// Window, zone or clerk code/login.
    pub key: String,
    pub name: String,
    pub issued: i64,
    pub served: i64,
    pub no_show: i64,
    pub avg_wait_minutes: f64,
    pub max_wait_minutes: f64,
    pub avg_service_minutes: f64,
    pub max_service_minutes: f64,
    /// Share of called tickets whose wait was within the target, 0–100.
    pub service_level_percent: f64,
    /// Finished tickets whose acceptance ran past the window's limit.
    pub overruns: i64,
}

/// Statistics of one center and day, grouped by `by` (window | zone | clerk).
pub async fn of_day(
    pool: &sqlx::AnyPool,
    center_id: i64,
    date: &str,
    by: &str,
    target_minutes: i64,
) -> AppResult<Vec<StatLine>> {
    let (key, name, join) = match by {
        "zone" => ("z.code", "z.name", "join zones z on z.id = t.zone_id"),
        "clerk" => (
            "u.login",
            "u.display_name",
            "join users u on u.id = t.served_by",
        ),
        _ => ("w.code", "w.name", "join windows w on w.id = t.window_id"),
    };
    let sql = format!(
        "select {key} as key, {name} as name, count(*) as issued, \
         sum(case when t.state = 'done' then 1 else 0 end) as served, \
         sum(case when t.state = 'no_show' then 1 else 0 end) as no_show, \
         cast(avg(case when t.called_at is not null then t.called_at - t.issued_at end) as double precision) as avg_wait, \
         max(case when t.called_at is not null then t.called_at - t.issued_at end) as max_wait, \
         cast(avg(case when t.state = 'done' then t.finished_at - t.started_at - t.paused_micros end) as double precision) as avg_service, \
         max(case when t.state = 'done' then t.finished_at - t.started_at - t.paused_micros end) as max_service, \
         sum(case when t.called_at is not null and t.called_at - t.issued_at <= $3 then 1 else 0 end) as within, \
         sum(case when t.called_at is not null then 1 else 0 end) as called, \
         sum(case when t.overrun_minutes > 0 then 1 else 0 end) as overruns \
         from tickets t {join} where t.center_id = $1 and t.service_date = $2 \
         group by {key}, {name} order by {key}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(center_id)
        .bind(date)
        .bind(target_minutes * 60_000_000)
        .fetch_all(pool)
        .await?;
    let minutes = |v: Option<f64>| {
        v.map(|m| (m / 60_000_000.0 * 10.0).round() / 10.0)
            .unwrap_or(0.0)
    };
    let num = |r: &sqlx::any::AnyRow, i: &str| -> Option<f64> {
        r.try_get::<Option<f64>, _>(i).ok().flatten().or_else(|| {
            r.try_get::<Option<i64>, _>(i)
                .ok()
                .flatten()
                .map(|v| v as f64)
        })
    };
    let mut out = Vec::new();
    for r in rows {
        let called = num(&r, "called").unwrap_or(0.0);
        let within = num(&r, "within").unwrap_or(0.0);
        out.push(StatLine {
            key: r.try_get("key")?,
            name: r.try_get("name")?,
            issued: r.try_get("issued")?,
            served: num(&r, "served").unwrap_or(0.0) as i64,
            no_show: num(&r, "no_show").unwrap_or(0.0) as i64,
            avg_wait_minutes: minutes(num(&r, "avg_wait")),
            max_wait_minutes: minutes(num(&r, "max_wait")),
            avg_service_minutes: minutes(num(&r, "avg_service")),
            max_service_minutes: minutes(num(&r, "max_service")),
            service_level_percent: if called > 0.0 {
                (within / called * 1000.0).round() / 10.0
            } else {
                0.0
            },
            overruns: num(&r, "overruns").unwrap_or(0.0) as i64,
        });
    }
    Ok(out)
}

/// One acceptance that ran past its window's limit.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Overrun {
    /// The ticket's number (A023).
    pub ticket: String,
    pub window: String,
    pub window_name: String,
    /// The clerk's login and name; none for a ticket finished without one.
    pub clerk: Option<String>,
    pub clerk_name: Option<String>,
    /// The window's limit when the ticket was finished.
    pub limit_minutes: i64,
    /// Whole minutes past the limit.
    pub overrun_minutes: i64,
    /// Microseconds since the epoch.
    pub finished_at: i64,
    /// The acceptance's service time (finish − start − time on hold), microseconds.
    pub service_micros: i64,
}

impl Overrun {
    /// Whole minutes the acceptance took.
    pub fn service_minutes(&self) -> i64 {
        self.service_micros / 60_000_000
    }

    /// 14:05, Beijing time.
    pub fn finished_time(&self) -> String {
        let s = crate::clock::format_local(self.finished_at);
        s.get(11..16).map(str::to_owned).unwrap_or(s)
    }
}

/// The overruns of one center and day, longest first.
pub async fn overruns_of_day(
    pool: &sqlx::AnyPool,
    center_id: i64,
    date: &str,
) -> AppResult<Vec<Overrun>> {
    Ok(sqlx::query_as(
        "select t.number as ticket, w.code as window, w.name as window_name, u.login as clerk, \
         u.display_name as clerk_name, t.limit_minutes, t.overrun_minutes, t.finished_at, \
         t.finished_at - t.started_at - t.paused_micros as service_micros \
         from tickets t join windows w on w.id = t.window_id left join users u on u.id = t.served_by \
         where t.center_id = $1 and t.service_date = $2 and t.overrun_minutes > 0 \
         order by t.overrun_minutes desc, t.finished_at",
    )
    .bind(center_id)
    .bind(date)
    .fetch_all(pool)
    .await?)
}
