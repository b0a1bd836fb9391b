//! Queue statistics per window, zone and clerk (R4.5): issued, served, no-show, average and
//! longest wait (call − issue) and service time (finish − start − paused), and the share of
//! waits within the center's target (service level).

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
         sum(case when t.called_at is not null then 1 else 0 end) as called \
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
        });
    }
    Ok(out)
}
