//! Zones (专区) of a hall, R1.2: 不动产登记, 市场准入, … 通用综合, 关爱专区 ….

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    audited::{self, Audited},
    input,
};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult, conflict_on_duplicate},
    ids::ZoneId,
};

/// A zone of one center.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Zone {
    pub id: ZoneId,
    pub center_id: i64,
    pub code: String,
    pub name: String,
    pub sort_order: i64,
    /// First letter of this zone's ticket numbers (A023); empty: the code's first letter.
    pub ticket_prefix: String,
}

impl Audited for Zone {
    const ENTITY: &'static str = "zone";

    fn key(&self) -> &str {
        &self.code
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"code": self.code, "name": self.name, "sort_order": self.sort_order, "ticket_prefix": self.ticket_prefix})
    }
}

/// The zones of a center in display order.
pub async fn list<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
) -> AppResult<Vec<Zone>> {
    Ok(sqlx::query_as(
        "select id, center_id, code, name, sort_order, ticket_prefix from zones where center_id = $1 order by sort_order, code",
    )
    .bind(center_id)
    .fetch_all(db)
    .await?)
}

/// A zone by code within a center.
pub async fn by_code<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
    code: &str,
) -> AppResult<Zone> {
    sqlx::query_as("select id, center_id, code, name, sort_order, ticket_prefix from zones where center_id = $1 and code = $2")
        .bind(center_id)
        .bind(code)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| input::missing("编码", code, "专区"))
}

/// A zone as submitted.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ZoneInput {
    pub code: Option<String>,
    pub name: String,
    /// Display order; an `integer` column, so within ±2147483647.
    #[serde(default)]
    pub sort_order: i64,
    /// One capital letter for ticket numbers; unique within the center.
    #[serde(default)]
    pub ticket_prefix: Option<String>,
}

/// Checks a ticket prefix: empty, or one capital letter no other zone of the center uses.
async fn prefix(
    tx: &mut Tx,
    center_id: i64,
    own: Option<ZoneId>,
    raw: Option<&str>,
) -> AppResult<String> {
    let p = raw.unwrap_or("").trim().to_ascii_uppercase();
    if p.is_empty() {
        return Ok(p);
    }
    if p.len() != 1 || !p.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AppError::Invalid("号码字头须为一个英文字母，如 A".into()));
    }
    let taken: Option<String> = sqlx::query_scalar(
        "select name from zones where center_id = $1 and ticket_prefix = $2 and id <> $3",
    )
    .bind(center_id)
    .bind(&p)
    .bind(own.unwrap_or(ZoneId(-1)))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(name) = taken {
        return Err(AppError::Conflict(format!("号码字头 {p} 已被“{name}”使用")));
    }
    Ok(p)
}

/// Adds a zone to a center.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    center_id: i64,
    z: &ZoneInput,
    now: i64,
) -> AppResult<Zone> {
    let code = input::code(z.code.as_deref().unwrap_or(""), "专区编码")?;
    let name = input::name(&z.name, "专区名称")?;
    let sort_order = crate::extract::int4(z.sort_order, "sort_order", "排序")?;
    let prefix = prefix(tx, center_id, None, z.ticket_prefix.as_deref()).await?;
    sqlx::query(
        "insert into zones (center_id, code, name, sort_order, created_at, ticket_prefix) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(center_id)
    .bind(&code)
    .bind(&name)
    .bind(sort_order)
    .bind(now)
    .bind(&prefix)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同编码或同名称的专区"))?;
    let zone = by_code(&mut **tx, center_id, &code).await?;
    audited::created(tx, actor, Some(center_id), &zone, now).await?;
    Ok(zone)
}

/// Renames or reorders a zone.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    center_id: i64,
    code: &str,
    z: &ZoneInput,
    now: i64,
) -> AppResult<Zone> {
    let before = by_code(&mut **tx, center_id, code).await?;
    let name = input::name(&z.name, "专区名称")?;
    let sort_order = crate::extract::int4(z.sort_order, "sort_order", "排序")?;
    // Absent from the input: keep the zone's prefix.
    let wanted = z.ticket_prefix.as_deref().unwrap_or(&before.ticket_prefix);
    let prefix = prefix(tx, center_id, Some(before.id), Some(wanted)).await?;
    sqlx::query("update zones set name = $1, sort_order = $2, ticket_prefix = $3 where id = $4")
        .bind(&name)
        .bind(sort_order)
        .bind(&prefix)
        .bind(before.id)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同名称的专区"))?;
    let after = by_code(&mut **tx, center_id, code).await?;
    audited::updated(tx, actor, Some(center_id), &before, after.snapshot(), now).await?;
    Ok(after)
}
