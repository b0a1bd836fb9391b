//! Zones (专区) of a hall, R1.2: 不动产登记, 市场准入, … 通用综合, 关爱专区 ….

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::input;
use crate::{
    audit::{self, Actor},
    db::Tx,
    error::{AppError, AppResult, conflict_on_duplicate},
};

/// A zone of one center.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Zone {
    pub id: i64,
    pub center_id: i64,
    pub code: String,
    pub name: String,
    pub sort_order: i64,
}

impl Zone {
    fn snapshot(&self) -> serde_json::Value {
        json!({"code": self.code, "name": self.name, "sort_order": self.sort_order})
    }
}

/// The zones of a center in display order.
pub async fn list<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
) -> AppResult<Vec<Zone>> {
    Ok(sqlx::query_as(
        "select id, center_id, code, name, sort_order from zones where center_id = $1 order by sort_order, code",
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
    sqlx::query_as("select id, center_id, code, name, sort_order from zones where center_id = $1 and code = $2")
        .bind(center_id)
        .bind(code)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("找不到编码为“{code}”的专区")))
}

/// A zone as submitted.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ZoneInput {
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub sort_order: i64,
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
    sqlx::query("insert into zones (center_id, code, name, sort_order, created_at) values ($1, $2, $3, $4, $5)")
        .bind(center_id)
        .bind(&code)
        .bind(&name)
        .bind(z.sort_order)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同编码或同名称的专区"))?;
    let zone = by_code(&mut **tx, center_id, &code).await?;
    audit::record(
        tx,
        actor,
        "create",
        "zone",
        &code,
        Some(center_id),
        None,
        Some(zone.snapshot()),
        now,
    )
    .await?;
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
    sqlx::query("update zones set name = $1, sort_order = $2 where id = $3")
        .bind(&name)
        .bind(z.sort_order)
        .bind(before.id)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同名称的专区"))?;
    let after = by_code(&mut **tx, center_id, code).await?;
    audit::record(
        tx,
        actor,
        "update",
        "zone",
        code,
        Some(center_id),
        Some(before.snapshot()),
        Some(after.snapshot()),
        now,
    )
    .await?;
    Ok(after)
}
