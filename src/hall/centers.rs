//! Centers (中心/站) and their hierarchy, R1.1.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Level,
    audited::{self, Audited},
    input,
};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult, conflict_on_duplicate},
};

/// A 政务服务中心, 便民服务中心 or 便民服务站.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Center {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<i64>,
    /// The parent's code, for display and the API.
    pub parent_code: Option<String>,
    pub region_code: String,
    pub address: String,
    pub phone: String,
}

impl Center {
    pub fn level_label(&self) -> &'static str {
        super::level_label(&self.level)
    }
}

impl Audited for Center {
    const ENTITY: &'static str = "center";

    fn key(&self) -> &str {
        &self.code
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"code": self.code, "name": self.name, "level": self.level, "parent": self.parent_code,
               "region_code": self.region_code, "address": self.address, "phone": self.phone})
    }
}

const SELECT: &str = "select c.id, c.code, c.name, c.level, c.parent_id, p.code as parent_code, \
    c.region_code, c.address, c.phone from centers c left join centers p on p.id = c.parent_id";

/// Every center, by hierarchy then code.
pub async fn list<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
) -> AppResult<Vec<Center>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} order by c.code")))
            .fetch_all(db)
            .await?,
    )
}

/// A center by its code; `NotFound` in Chinese when absent.
pub async fn by_code<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    code: &str,
) -> AppResult<Center> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where c.code = $1")))
        .bind(code)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| input::missing("编码", code, "中心"))
}

/// What a new center or an edit carries, as submitted.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CenterInput {
    pub code: Option<String>,
    pub name: String,
    pub level: String,
    /// The parent center's code, if any.
    #[serde(default)]
    pub parent: Option<String>,
    pub region_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
}

struct Parsed {
    name: String,
    level: Level,
    parent_id: Option<i64>,
    region_code: String,
    address: String,
    phone: String,
}

async fn parse(tx: &mut Tx, input: &CenterInput, own_code: Option<&str>) -> AppResult<Parsed> {
    let name = input::name(&input.name, "中心名称")?;
    let level = Level::parse(input.level.trim()).ok_or_else(|| {
        AppError::Invalid("层级须为 city、county、township 或 village（市/县/乡/村）".into())
    })?;
    let region_code = input::region_code(&input.region_code)?;
    let address = input::text(&input.address, "地址", 200)?;
    let phone = input::text(&input.phone, "电话", 40)?;
    let parent_id = match input
        .parent
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(p) if Some(p) == own_code => {
            return Err(AppError::Invalid("上级中心不能是自己".into()));
        }
        Some(p) => {
            let parent = by_code(&mut **tx, p).await.map_err(|_| {
                AppError::Invalid(format!("上级中心“{}”不存在", crate::error::quote(p)))
            })?;
            let plevel = Level::parse(&parent.level).unwrap_or(Level::City);
            if plevel.depth() >= level.depth() {
                return Err(AppError::Invalid(format!(
                    "上级中心的层级（{}）必须高于本中心（{}）",
                    plevel.label(),
                    level.label()
                )));
            }
            Some(parent.id)
        }
    };
    Ok(Parsed {
        name,
        level,
        parent_id,
        region_code,
        address,
        phone,
    })
}

impl Parsed {
    /// Binds the fields as `$1`…`$6`: name, level, parent, region code, address, phone.
    fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        q.bind(&self.name)
            .bind(self.level.as_str())
            .bind(self.parent_id)
            .bind(&self.region_code)
            .bind(&self.address)
            .bind(&self.phone)
    }
}

/// Creates a center (system admin).
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    input: &CenterInput,
    now: i64,
) -> AppResult<Center> {
    let code = input::code(input.code.as_deref().unwrap_or(""), "中心编码")?;
    let p = parse(tx, input, None).await?;
    p.bind(sqlx::query(
        "insert into centers (name, level, parent_id, region_code, address, phone, code, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    ))
    .bind(&code)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_duplicate("中心编码或名称已存在"))?;
    let center = by_code(&mut **tx, &code).await?;
    audited::created(tx, actor, Some(center.id), &center, now).await?;
    Ok(center)
}

/// Edits a center's name, level, parent, region and contacts; the code stays.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    input: &CenterInput,
    now: i64,
) -> AppResult<Center> {
    let before = by_code(&mut **tx, code).await?;
    let p = parse(tx, input, Some(code)).await?;
    if p.level.as_str() != before.level {
        let below: i64 = sqlx::query_scalar("select count(*) from centers where parent_id = $1")
            .bind(before.id)
            .fetch_one(&mut **tx)
            .await?;
        if below > 0 {
            return Err(AppError::Invalid(
                "该中心下已有下级中心，不能修改层级".into(),
            ));
        }
    }
    p.bind(sqlx::query(
        "update centers set name = $1, level = $2, parent_id = $3, region_code = $4, address = $5, phone = $6 \
         where id = $7",
    ))
    .bind(before.id)
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_duplicate("中心名称已存在"))?;
    let after = by_code(&mut **tx, code).await?;
    audited::updated(tx, actor, Some(before.id), &before, after.snapshot(), now).await?;
    Ok(after)
}
