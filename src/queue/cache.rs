//! Short-lived read caches for the kiosk's hot path: a center's id, a zone's id and prefix,
//! and the inputs of the wait estimate. Entries live five seconds; a miss reads the database,
//! so a new zone is usable at once and an edited prefix within seconds.

use std::time::Duration;

use sqlx::Row;

use crate::{
    app::App,
    cache::Cache,
    error::{AppError, AppResult},
    hall::{Center, centers},
};

const TTL: Duration = Duration::from_secs(5);

/// A zone as the kiosk needs it.
#[derive(Clone, Debug)]
pub struct ZoneInfo {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub prefix: String,
}

/// The kiosk's lookups, each kept for [`TTL`] whatever changes (age alone decides).
#[derive(Debug)]
pub struct QueueCache {
    /// Centers by code.
    centers: Cache<String, Center, ()>,
    /// Zones by center and code.
    zones: Cache<(i64, String), ZoneInfo, ()>,
    /// The wait estimate's inputs by zone.
    estimates: Cache<i64, (f64, i64), ()>,
}

impl Default for QueueCache {
    fn default() -> Self {
        Self {
            centers: Cache::new(Some(TTL)),
            zones: Cache::new(Some(TTL)),
            estimates: Cache::new(Some(TTL)),
        }
    }
}

/// The printed prefix of a zone's tickets: its own, or the first letter of its code.
pub fn prefix_of(stored: &str, code: &str) -> String {
    if !stored.is_empty() {
        return stored.to_owned();
    }
    code.chars()
        .find(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_else(|| "A".into())
}

impl QueueCache {
    pub async fn center(&self, app: &App, code: &str) -> AppResult<Center> {
        self.centers
            .get_or_load(code.to_owned(), (), || {
                centers::by_code(app.db.pool(), code)
            })
            .await
    }

    pub async fn zone(&self, app: &App, center_id: i64, code: &str) -> AppResult<ZoneInfo> {
        let key = (center_id, code.to_owned());
        self.zones
            .get_or_load(key, (), || read_zone(app, center_id, code))
            .await
    }

    /// (minutes per visitor today, windows serving the zone).
    pub async fn estimate_inputs(
        &self,
        app: &App,
        center_id: i64,
        zone_id: i64,
        date: &str,
    ) -> AppResult<(f64, i64)> {
        self.estimates
            .get_or_load(zone_id, (), || {
                read_estimate_inputs(app, center_id, zone_id, date)
            })
            .await
    }
}

async fn read_zone(app: &App, center_id: i64, code: &str) -> AppResult<ZoneInfo> {
    let row = sqlx::query(
        "select id, code, name, ticket_prefix from zones where center_id = $1 and code = $2",
    )
    .bind(center_id)
    .bind(code)
    .fetch_optional(app.db.pool())
    .await?
    .ok_or_else(|| AppError::Invalid(format!("本中心没有编码为“{code}”的专区")))?;
    let code: String = row.try_get("code")?;
    let z = ZoneInfo {
        id: row.try_get("id")?,
        prefix: prefix_of(&row.try_get::<String, _>("ticket_prefix")?, &code),
        name: row.try_get("name")?,
        code,
    };
    Ok(z)
}

async fn read_estimate_inputs(
    app: &App,
    center_id: i64,
    zone_id: i64,
    date: &str,
) -> AppResult<(f64, i64)> {
    let avg: Option<f64> = sqlx::query_scalar(
            "select cast(avg(finished_at - started_at - paused_micros) as double precision) from tickets \
             where center_id = $1 and service_date = $2 and zone_id = $3 and state = 'done'",
        )
        .bind(center_id)
        .bind(date)
        .bind(zone_id)
        .fetch_one(app.db.pool())
        .await?;
    let windows: i64 = sqlx::query_scalar(
        "select count(*) from windows w where w.active = 1 and (w.zone_id = $1 or exists \
             (select 1 from window_zones wz where wz.window_id = w.id and wz.zone_id = $1))",
    )
    .bind(zone_id)
    .fetch_one(app.db.pool())
    .await?;
    let per_visitor = avg
        .map(|m| m / 60_000_000.0)
        .filter(|m| *m > 0.5)
        .unwrap_or(5.0);
    Ok((per_visitor, windows.max(1)))
}
