//! Windows (窗口), R1.3: display names per seed 002 §三(三)2/4, special windows (特色窗口,
//! seed 002 §三(三)5 and seed 000 §4.3) standalone or 加挂 on a comprehensive window, and
//! 潮汐窗口 whose zone follows the load.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::{
    audited::{self, Audited},
    input, zones,
};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult, conflict_on_duplicate},
};

crate::text_enum! {
    /// What a window is, which decides its display-name pattern.
    pub enum WindowKind {
        /// 通用综合受理N — the county's general comprehensive window.
        General = "general" => "通用综合受理",
        /// 综合受理N — a comprehensive window inside a category zone.
        Zone = "zone" => "综合受理",
        /// 出件 — the unified issuance window.
        Issuance = "issuance" => "出件",
        /// 公安集成综合受理 — township police-integrated window.
        Police = "police" => "公安集成综合受理",
        /// 公共服务综合受理 — township public-utility window.
        PublicService = "public_service" => "公共服务综合受理",
        /// A standalone special window (办不成事反映, 帮办代办 …).
        Special = "special" => "特色窗口",
    }
}

crate::text_enum! {
    /// A special-window function (特色窗口).
    pub enum Special {
        /// 办不成事反映
        Unresolved = "unresolved" => "办不成事反映",
        /// 帮办代办
        Assisted = "assisted" => "帮办代办",
        /// 一件事一次办
        OneThing = "one_thing" => "一件事一次办",
        /// 惠企政策兑现
        EnterprisePolicy = "enterprise_policy" => "惠企政策兑现",
        /// 异地通办
        CrossRegion = "cross_region" => "异地通办",
        /// 政务专递（邮递服务）
        Post = "post" => "政务专递",
        /// 延时错时预约窗口 (seed 000 §4.3)
        ExtendedHours = "extended_hours" => "延时错时预约窗口",
        /// 出件 加挂 on a comprehensive window
        Issuance = "issuance" => "出件",
    }
}

/// A window of one center, with its zone and special functions.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    pub id: i64,
    pub center_id: i64,
    pub code: String,
    /// What the screen above the counter shows (通用综合受理3).
    pub name: String,
    pub zone_code: Option<String>,
    pub zone_name: Option<String>,
    pub kind: String,
    pub specials: Vec<Special>,
    /// 潮汐窗口.
    pub tidal: bool,
    pub active: bool,
    /// The window's own acceptance limit (R4.4), 15 minutes unless set otherwise; a joint
    /// window's limit is [`JOINT_LIMIT_MINUTES`] whatever this says ([`Window::limit_minutes`]).
    pub acceptance_limit_minutes: i64,
    /// 不动产和税务联办窗口 (seed 001 (五)): its acceptances may take 40 minutes.
    pub joint_property_tax: bool,
}

/// The acceptance limit of a 不动产和税务联办窗口, seed 001 (五).
pub const JOINT_LIMIT_MINUTES: i64 = 40;

/// [`Window::limit_minutes`] in SQL, over a window aliased `w` (finishing a ticket stores it).
pub const LIMIT_SQL: &str =
    "case when w.joint_property_tax = 1 then 40 else w.acceptance_limit_minutes end";

/// The label of the joint window property.
pub const JOINT_LABEL: &str = "不动产和税务联办窗口";

impl Window {
    pub fn kind_label(&self) -> &'static str {
        WindowKind::parse(&self.kind)
            .map(WindowKind::label)
            .unwrap_or("?")
    }

    /// Special functions 加挂 on a comprehensive window, or a special window's own.
    pub fn specials_label(&self) -> String {
        self.specials
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>()
            .join("、")
    }

    /// The acceptance limit that applies: 40 minutes at a joint 不动产+税务 window, else the
    /// window's own.
    pub fn limit_minutes(&self) -> i64 {
        if self.joint_property_tax {
            JOINT_LIMIT_MINUTES
        } else {
            self.acceptance_limit_minutes
        }
    }

    /// The special functions 加挂 on a comprehensive (or issuance) window, as the screen and
    /// the announcement name them: 办不成事反映窗口. None for a special window itself, whose
    /// name already says it, and for a window without any.
    pub fn added_name(&self) -> Option<String> {
        added_name(&self.kind, &self.specials)
    }
}

impl Audited for Window {
    const ENTITY: &'static str = "window";

    fn key(&self) -> &str {
        &self.code
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"code": self.code, "name": self.name, "zone": self.zone_code, "kind": self.kind,
               "specials": self.specials, "tidal": self.tidal, "active": self.active,
               "acceptance_limit_minutes": self.acceptance_limit_minutes,
               "joint_property_tax": self.joint_property_tax})
    }
}

/// [`Window::added_name`] from a window's kind and specials.
pub fn added_name(kind: &str, specials: &[Special]) -> Option<String> {
    if specials.is_empty() || WindowKind::parse(kind) == Some(WindowKind::Special) {
        return None;
    }
    let names: Vec<String> = specials
        .iter()
        .map(|s| {
            let l = s.label();
            if l.ends_with("窗口") {
                l.to_owned()
            } else {
                format!("{l}窗口")
            }
        })
        .collect();
    Some(names.join("、"))
}

/// Specials as stored (`a,b`), in their declared order.
pub fn parse_specials(list: Option<&str>) -> Vec<Special> {
    let mut specials: Vec<Special> = list
        .unwrap_or_default()
        .split(',')
        .filter_map(Special::parse)
        .collect();
    specials.sort_by_key(|s| Special::ALL.iter().position(|x| x == s));
    specials
}

#[derive(sqlx::FromRow)]
struct WindowRow {
    id: i64,
    center_id: i64,
    code: String,
    name: String,
    zone_code: Option<String>,
    zone_name: Option<String>,
    kind: String,
    tidal: i64,
    active: i64,
    acceptance_limit_minutes: i64,
    joint_property_tax: i64,
    specials: Option<String>,
}

const SELECT: &str = "select w.id, w.center_id, w.code, w.name, z.code as zone_code, z.name as zone_name, \
    w.kind, w.tidal, w.active, w.acceptance_limit_minutes, w.joint_property_tax, \
    (select string_agg(s.special, ',') from window_specials s where s.window_id = w.id) as specials \
    from windows w left join zones z on z.id = w.zone_id";

fn select_sql(tail: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{SELECT} {tail}"))
}

fn from_row(r: WindowRow) -> Window {
    let specials = parse_specials(r.specials.as_deref());
    Window {
        id: r.id,
        center_id: r.center_id,
        code: r.code,
        name: r.name,
        zone_code: r.zone_code,
        zone_name: r.zone_name,
        kind: r.kind,
        specials,
        tidal: r.tidal != 0,
        active: r.active != 0,
        acceptance_limit_minutes: r.acceptance_limit_minutes,
        joint_property_tax: r.joint_property_tax != 0,
    }
}

/// The windows of a center, by code.
pub async fn list<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
) -> AppResult<Vec<Window>> {
    let rows: Vec<WindowRow> = sqlx::query_as(select_sql("where w.center_id = $1 order by w.code"))
        .bind(center_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// A window by code within a center.
pub async fn by_code<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
    code: &str,
) -> AppResult<Window> {
    let row: Option<WindowRow> =
        sqlx::query_as(select_sql("where w.center_id = $1 and w.code = $2"))
            .bind(center_id)
            .bind(code)
            .fetch_optional(db)
            .await?;
    row.map(from_row)
        .ok_or_else(|| input::missing("编码", code, "窗口"))
}

/// A window as submitted.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct WindowInput {
    pub code: Option<String>,
    pub name: String,
    /// The zone's code; none for a window outside any zone.
    #[serde(default)]
    pub zone: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub specials: Vec<String>,
    #[serde(default)]
    pub tidal: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// The window's own limit; a joint window's is 40 whatever this says.
    #[serde(default = "fifteen")]
    pub acceptance_limit_minutes: i64,
    /// 不动产和税务联办窗口: acceptances here may take 40 minutes (seed 001 (五)).
    #[serde(default)]
    pub joint_property_tax: bool,
}

fn yes() -> bool {
    true
}

fn fifteen() -> i64 {
    15
}

struct Parsed {
    name: String,
    zone_id: Option<i64>,
    kind: WindowKind,
    specials: Vec<Special>,
}

impl Parsed {
    /// Binds the columns a create and an edit both write, in the order both statements list
    /// them: zone, name, kind, tidal, active, acceptance limit, joint property tax.
    fn bind_columns<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        w: &WindowInput,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        q.bind(self.zone_id)
            .bind(&self.name)
            .bind(self.kind.as_str())
            .bind(i64::from(w.tidal))
            .bind(i64::from(w.active))
            .bind(w.acceptance_limit_minutes)
            .bind(i64::from(w.joint_property_tax))
    }
}

async fn parse(tx: &mut Tx, center_id: i64, w: &WindowInput) -> AppResult<Parsed> {
    let name = input::name(&w.name, "窗口名称")?;
    let kind = WindowKind::parse(w.kind.trim()).ok_or_else(|| {
        AppError::Invalid(
            "窗口类型须为 general、zone、issuance、police、public_service 或 special".into(),
        )
    })?;
    let mut specials = Vec::new();
    for s in &w.specials {
        let sp = Special::parse(s.trim()).ok_or_else(|| {
            AppError::Invalid(format!("未知的特色窗口类型“{}”", crate::error::quote(s)))
        })?;
        if !specials.contains(&sp) {
            specials.push(sp);
        }
    }
    if kind == WindowKind::Special && specials.is_empty() {
        return Err(AppError::Invalid("特色窗口须至少选择一项特色功能".into()));
    }
    if !(1..=480).contains(&w.acceptance_limit_minutes) {
        return Err(AppError::Invalid("受理时限须在 1 到 480 分钟之间".into()));
    }
    let zone_id = match w.zone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(z) => Some(
            zones::by_code(&mut **tx, center_id, z)
                .await
                .map_err(|_| {
                    AppError::Invalid(format!(
                        "本中心没有编码为“{}”的专区",
                        crate::error::quote(z)
                    ))
                })?
                .id
                .get(),
        ),
    };
    Ok(Parsed {
        name,
        zone_id,
        kind,
        specials,
    })
}

async fn write_specials(tx: &mut Tx, window_id: i64, specials: &[Special]) -> AppResult<()> {
    sqlx::query("delete from window_specials where window_id = $1")
        .bind(window_id)
        .execute(&mut **tx)
        .await?;
    for s in specials {
        sqlx::query("insert into window_specials (window_id, special) values ($1, $2)")
            .bind(window_id)
            .bind(s.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Adds a window to a center.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    center_id: i64,
    w: &WindowInput,
    now: i64,
) -> AppResult<Window> {
    let code = input::code(w.code.as_deref().unwrap_or(""), "窗口编码")?;
    let p = parse(tx, center_id, w).await?;
    let insert = sqlx::query(
        "insert into windows (center_id, code, zone_id, name, kind, tidal, active, acceptance_limit_minutes, \
         joint_property_tax, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
    )
    .bind(center_id)
    .bind(&code);
    let id: i64 = p
        .bind_columns(insert, w)
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同编码或同名称的窗口"))?
        .try_get("id")?;
    write_specials(tx, id, &p.specials).await?;
    let window = by_code(&mut **tx, center_id, &code).await?;
    audited::created(tx, actor, Some(center_id), &window, now).await?;
    Ok(window)
}

/// Edits a window (name, zone, kind, specials, tidal, active, limit, joint); the code stays.
pub async fn update(
    tx: &mut Tx,
    actor: &Actor,
    center_id: i64,
    code: &str,
    w: &WindowInput,
    now: i64,
) -> AppResult<Window> {
    let before = by_code(&mut **tx, center_id, code).await?;
    let p = parse(tx, center_id, w).await?;
    let update = sqlx::query(
        "update windows set zone_id = $1, name = $2, kind = $3, tidal = $4, active = $5, \
         acceptance_limit_minutes = $6, joint_property_tax = $7 where id = $8",
    );
    p.bind_columns(update, w)
        .bind(before.id)
        .execute(&mut **tx)
        .await
        .map_err(conflict_on_duplicate("本中心已有同名称的窗口"))?;
    write_specials(tx, before.id, &p.specials).await?;
    let after = by_code(&mut **tx, center_id, code).await?;
    audited::updated(tx, actor, Some(center_id), &before, after.snapshot(), now).await?;
    Ok(after)
}
