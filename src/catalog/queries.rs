//! Reads of the catalogue: guides with their materials, points and windows, the tree for
//! browsing, the published lists and their sections, departments, the 事项类型 code list.

use serde::Serialize;
use utoipa::ToSchema;

pub use super::model::Node;
use super::{Guide, Material, MatterInput, MatterSummary, WindowRight};
use crate::{
    db::Tx,
    error::{AppError, AppResult},
    ids::{CenterId, MatterId},
};

/// A `matters` row as [`SELECT`] reads it: the matter as submitted (its materials, review
/// points and windows are other tables' rows, left empty) and what the catalogue keeps
/// beside it.
pub(crate) struct MatterRow {
    pub id: MatterId,
    pub center_id: CenterId,
    pub center_name: String,
    pub path_json: String,
    pub type_name: Option<String>,
    pub updated_at: i64,
    /// `center` holds the center's code and `parent` the parent's.
    pub matter: MatterInput,
}

impl sqlx::FromRow<'_, sqlx::any::AnyRow> for MatterRow {
    fn from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        let flag = |column: &str| -> sqlx::Result<bool> { Ok(r.try_get::<i64, _>(column)? != 0) };
        let node: Node = r.try_get("node")?;
        let type_code: Option<String> = r.try_get("type_code")?;
        let mut matter = MatterInput {
            code: r.try_get("code")?,
            parent: r.try_get("parent_code")?,
            center: r.try_get("center_code")?,
            node: node.as_str().to_owned(),
            name: r.try_get("name")?,
            sort_order: r.try_get("sort_order")?,
            type_code: type_code.unwrap_or_default(),
            legal_limit: r.try_get("legal_limit")?,
            promised_limit: r.try_get("promised_limit")?,
            notice_commitment: flag("notice_commitment")?,
            outside: flag("outside")?,
            ..MatterInput::default()
        };
        for (column, value) in matter.texts_mut() {
            *value = r.try_get(column)?;
        }
        Ok(MatterRow {
            id: r.try_get("id")?,
            center_id: r.try_get("center_id")?,
            center_name: r.try_get("center_name")?,
            path_json: r.try_get("path_json")?,
            type_name: r.try_get("type_name")?,
            updated_at: r.try_get("updated_at")?,
            matter,
        })
    }
}

pub(crate) const SELECT: &str = "select m.id, m.center_id, c.code as center_code, c.name as center_name, \
    p.code as parent_code, m.code, m.node, m.name, m.sort_order, m.path_json, m.type_code, t.name as type_name, \
    m.department, m.level, m.kind, m.legal_basis, m.conditions, m.process, m.legal_limit, m.promised_limit, \
    m.limit_unit, m.special_procedures, m.fees, m.fee_basis, m.notice_commitment, m.consult_phone, \
    m.complaint_phone, m.duty_phone, m.place, m.hours, m.delivery, m.notes, m.list_kind, m.list_category, \
    m.outside, m.outside_reason, m.updated_at \
    from matters m join centers c on c.id = m.center_id left join matters p on p.id = m.parent_id \
    left join matter_types t on t.code = m.type_code";

pub(crate) fn select_sql(tail: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{SELECT} {tail}"))
}

pub(crate) fn path_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl MatterRow {
    pub(crate) fn summary(&self) -> MatterSummary {
        let m = &self.matter;
        MatterSummary {
            code: m.code.clone(),
            name: m.name.clone(),
            department: m.department.clone(),
            type_name: self.type_name.clone().unwrap_or_default(),
            kind: m.kind.clone(),
            path: path_of(&self.path_json),
        }
    }
}

#[derive(sqlx::FromRow)]
struct MaterialRow {
    name: String,
    form: String,
    copies: i64,
    required: i64,
    tolerable: i64,
    sample: String,
    blank_form: String,
    note: String,
}

/// Loads a matter with its materials, review points and windows.
/// What a load keeps of the row besides the input.
pub(crate) struct Meta {
    pub center_id: CenterId,
    pub center_code: String,
    pub center_name: String,
    pub path_json: String,
    pub type_name: Option<String>,
    pub name: String,
    pub updated_at: i64,
}

pub(crate) async fn load(
    conn: &mut sqlx::AnyConnection,
    code: &str,
) -> AppResult<Option<(Meta, MatterInput, MatterId)>> {
    let row: Option<MatterRow> = sqlx::query_as(select_sql("where m.code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(MatterRow {
        id,
        center_id,
        center_name,
        path_json,
        type_name,
        updated_at,
        matter: mut input,
    }) = row
    else {
        return Ok(None);
    };
    let copy = Meta {
        center_id,
        center_code: input.center.clone(),
        center_name,
        path_json,
        type_name,
        name: input.name.clone(),
        updated_at,
    };
    let materials: Vec<MaterialRow> = sqlx::query_as(
        "select name, form, copies, required, tolerable, sample, blank_form, note \
         from matter_materials where matter_id = $1 order by position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    input.materials = materials
        .into_iter()
        .map(|m| Material {
            name: m.name,
            form: m.form,
            copies: m.copies,
            required: m.required != 0,
            tolerable: m.tolerable != 0,
            sample: m.sample,
            blank_form: m.blank_form,
            note: m.note,
        })
        .collect();
    #[derive(sqlx::FromRow)]
    struct Point {
        kind: String,
        text: String,
    }
    let points: Vec<Point> = sqlx::query_as(
        "select kind, text from matter_review_points where matter_id = $1 order by kind, position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for Point { kind, text } in points {
        if kind == "form" {
            input.review_form.push(text);
        } else {
            input.review_content.push(text);
        }
    }
    #[derive(sqlx::FromRow)]
    struct Right {
        code: String,
        name: String,
        rights: String,
    }
    let windows: Vec<Right> = sqlx::query_as(
        "select w.code, w.name, mw.rights from matter_windows mw join windows w on w.id = mw.window_id \
         where mw.matter_id = $1 order by w.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    input.windows = windows
        .into_iter()
        .map(|r| WindowRight {
            window: r.code,
            rights: r.rights,
            window_name: r.name,
        })
        .collect();
    Ok(Some((copy, input, id)))
}

/// A matter's own row by id, without its materials, review points and windows: what a
/// decision on a case needs of it (its kind, limits, 告知承诺 flag), in one statement.
pub(crate) async fn terms(
    conn: &mut sqlx::AnyConnection,
    id: MatterId,
) -> AppResult<Option<MatterInput>> {
    let row: Option<MatterRow> = sqlx::query_as(select_sql("where m.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.matter))
}

/// The children of a node, in order.
pub async fn children(
    conn: &mut sqlx::AnyConnection,
    parent_id: Option<MatterId>,
    center_id: CenterId,
) -> AppResult<Vec<MatterSummary>> {
    let rows: Vec<MatterRow> = match parent_id {
        Some(p) => {
            sqlx::query_as(select_sql(
                "where m.parent_id = $1 order by m.sort_order, m.code",
            ))
            .bind(p)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as(select_sql(
                "where m.parent_id is null and m.center_id = $1 order by m.sort_order, m.code",
            ))
            .bind(center_id)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    Ok(rows.iter().map(MatterRow::summary).collect())
}

/// The full guide of a matter or category.
pub async fn guide(conn: &mut sqlx::AnyConnection, code: &str) -> AppResult<Guide> {
    let (row, matter, id) = load(conn, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("找不到编号为“{code}”的事项")))?;
    let children = children(conn, Some(id), row.center_id).await?;
    Ok(Guide {
        matter,
        center_name: row.center_name,
        type_name: row.type_name.unwrap_or_default(),
        path: path_of(&row.path_json),
        children,
        updated_at: row.updated_at,
    })
}

/// Every matter of the given centers (all when empty), parents before children, as inputs.
pub async fn export(
    conn: &mut sqlx::AnyConnection,
    center: Option<&str>,
) -> AppResult<Vec<MatterInput>> {
    let codes: Vec<String> = match center {
        Some(c) => sqlx::query_scalar(
            "select m.code from matters m join centers c on c.id = m.center_id where c.code = $1 order by m.id",
        )
        .bind(c)
        .fetch_all(&mut *conn)
        .await?,
        None => sqlx::query_scalar("select code from matters order by id")
            .fetch_all(&mut *conn)
            .await?,
    };
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        if let Some((_, m, _)) = load(conn, &code).await? {
            out.push(m);
        }
    }
    Ok(sort_parents_first(out))
}

/// Orders matters so that each parent precedes its children (ids can be out of order after
/// a move), keeping the given order otherwise.
pub fn sort_parents_first(items: Vec<MatterInput>) -> Vec<MatterInput> {
    use std::collections::{HashMap, HashSet};
    let codes: HashSet<String> = items.iter().map(|m| m.code.clone()).collect();
    let mut by_parent: HashMap<Option<String>, Vec<MatterInput>> = HashMap::new();
    let mut roots = Vec::new();
    for m in items {
        match &m.parent {
            Some(p) if codes.contains(p) => by_parent.entry(Some(p.clone())).or_default().push(m),
            _ => roots.push(m),
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<MatterInput> = roots.into_iter().rev().collect();
    while let Some(m) = stack.pop() {
        if let Some(kids) = by_parent.remove(&Some(m.code.clone())) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(m);
    }
    out
}

/// A row of a published list (seed 000 §3.3.2 columns).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ListRow {
    pub code: String,
    pub path: Vec<String>,
    pub list_kind: String,
    pub list_category: String,
    /// 办理窗口 names.
    pub windows: String,
    pub consult_phone: String,
    pub duty_phone: String,
    pub department: String,
    pub outside: bool,
    pub outside_reason: String,
}

/// A section of the published lists (seed 000 §3) and of their booklet: one of the 11
/// mandated categories of the 延时错时规定目录, the 自选目录, the 预约服务目录, or the 负面清单
/// of matters kept outside the hall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Mandated(&'static str),
    Optional,
    Booking,
    Outside,
}

impl Section {
    /// Every section, in the booklet's order.
    pub fn all() -> Vec<Section> {
        super::MANDATED_CATEGORIES
            .iter()
            .map(|c| Section::Mandated(c))
            .chain([Section::Optional, Section::Booking, Section::Outside])
            .collect()
    }

    /// Its name in addresses: `mandated-户籍`, `optional`, `booking`, `outside`.
    pub fn key(&self) -> String {
        match self {
            Section::Mandated(c) => format!("mandated-{c}"),
            Section::Optional => "optional".into(),
            Section::Booking => "booking".into(),
            Section::Outside => "outside".into(),
        }
    }

    pub fn parse(key: &str) -> Option<Section> {
        Section::all().into_iter().find(|s| s.key() == key)
    }

    pub fn title(&self) -> String {
        match self {
            Section::Mandated(c) => format!("延时错时规定目录 · {c}"),
            Section::Optional => "延时错时自选目录".into(),
            Section::Booking => "预约服务目录".into(),
            Section::Outside => "进驻事项负面清单".into(),
        }
    }

    fn of(list_kind: &str, list_category: &str, outside: bool) -> Option<Section> {
        if outside {
            return Some(Section::Outside);
        }
        match list_kind {
            "mandated" => super::MANDATED_CATEGORIES
                .iter()
                .find(|c| **c == list_category)
                .map(|c| Section::Mandated(c)),
            "optional" => Some(Section::Optional),
            "booking" => Some(Section::Booking),
            _ => None,
        }
    }
}

/// The 办事情形 of a center (matters without children) that a list shows.
const LIST_FROM: &str = "from matters m where m.center_id = $1 and m.node = 'matter' \
    and not exists (select 1 from matters k where k.parent_id = m.id)";

/// How many rows each section of a center's lists has.
pub async fn section_counts(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
) -> AppResult<Vec<(Section, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Count {
        list_kind: String,
        list_category: String,
        outside: i64,
        n: i64,
    }
    let rows: Vec<Count> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select m.list_kind, m.list_category, m.outside, count(*) as n {LIST_FROM} \
         group by m.list_kind, m.list_category, m.outside"
    )))
    .bind(center_id)
    .fetch_all(pool)
    .await?;
    let mut counts: Vec<(Section, i64)> = Section::all().into_iter().map(|s| (s, 0)).collect();
    for r in rows {
        if let Some(s) = Section::of(&r.list_kind, &r.list_category, r.outside != 0)
            && let Some(c) = counts.iter_mut().find(|(x, _)| *x == s)
        {
            c.1 += r.n;
        }
    }
    Ok(counts)
}

/// The matters of a center as list rows, in catalogue order: all of them, or a page of one
/// section (`limit` rows from `offset`).
pub async fn list_rows(pool: &sqlx::AnyPool, center_id: CenterId) -> AppResult<Vec<ListRow>> {
    rows_where(pool, center_id, None, i64::MAX, 0).await
}

/// A page of one section's rows.
pub async fn section_rows(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
    section: &Section,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<ListRow>> {
    rows_where(pool, center_id, Some(section), limit, offset).await
}

async fn rows_where(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
    section: Option<&Section>,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<ListRow>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        code: String,
        path_json: String,
        list_kind: String,
        list_category: String,
        windows: Option<String>,
        consult_phone: String,
        duty_phone: String,
        department: String,
        outside: i64,
        outside_reason: String,
    }
    let (filter, category) = match section {
        None => ("", None),
        Some(Section::Mandated(c)) => (
            " and m.outside = 0 and m.list_kind = 'mandated' and m.list_category = $4",
            Some(*c),
        ),
        Some(Section::Optional) => (" and m.outside = 0 and m.list_kind = 'optional'", None),
        Some(Section::Booking) => (" and m.outside = 0 and m.list_kind = 'booking'", None),
        Some(Section::Outside) => (" and m.outside = 1", None),
    };
    let sql = format!(
        "select m.code, m.path_json, m.list_kind, m.list_category, \
         (select string_agg(w.name, '、') from matter_windows mw join windows w on w.id = mw.window_id \
          where mw.matter_id = m.id) as windows, \
         m.consult_phone, m.duty_phone, m.department, m.outside, m.outside_reason \
         {LIST_FROM}{filter} order by m.path_json, m.id limit $2 offset $3"
    );
    let mut q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(center_id)
        .bind(limit)
        .bind(offset);
    if let Some(c) = category {
        q = q.bind(c);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| ListRow {
            code: r.code,
            path: path_of(&r.path_json),
            list_kind: r.list_kind,
            list_category: r.list_category,
            windows: r.windows.unwrap_or_default(),
            consult_phone: r.consult_phone,
            duty_phone: r.duty_phone,
            department: r.department,
            outside: r.outside != 0,
            outside_reason: r.outside_reason,
        })
        .collect())
}

/// Departments of a center's matters, with counts.
pub async fn departments(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
) -> AppResult<Vec<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Count {
        department: String,
        n: i64,
    }
    let rows: Vec<Count> = sqlx::query_as(
        "select department, count(*) as n from matters where center_id = $1 and node = 'matter' \
         and department <> '' group by department order by count(*) desc, department",
    )
    .bind(center_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.department, r.n)).collect())
}

/// The matters of a department, in catalogue order.
pub async fn by_department(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
    department: &str,
) -> AppResult<Vec<MatterSummary>> {
    let rows: Vec<MatterRow> = sqlx::query_as(select_sql(
        "where m.center_id = $1 and m.department = $2 and m.node = 'matter' order by m.path_json",
    ))
    .bind(center_id)
    .bind(department)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(MatterRow::summary).collect())
}

/// The 事项类型 code list.
pub async fn types(pool: &sqlx::AnyPool) -> AppResult<Vec<(String, String)>> {
    let mut conn = pool.acquire().await?;
    types_on(&mut conn).await
}

#[derive(sqlx::FromRow)]
struct MatterType {
    code: String,
    name: String,
}

async fn types_on(conn: &mut sqlx::AnyConnection) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<MatterType> =
        sqlx::query_as("select code, name from matter_types order by sort_order")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|t| (t.code, t.name)).collect())
}

/// The 事项类型 code list, inside a transaction.
pub async fn types_in(tx: &mut Tx) -> AppResult<Vec<(String, String)>> {
    types_on(tx).await
}

/// The id of the center `code`, if there is one.
pub async fn center_id(tx: &mut Tx, code: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar("select id from centers where code = $1")
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?)
}

/// The center with the largest catalogue, the first made among equals (the default of the
/// public pages).
pub async fn first_center_with_matters(pool: &sqlx::AnyPool) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "select c.code from centers c join matters m on m.center_id = c.id \
         group by c.id, c.code order by count(*) desc, c.id limit 1",
    )
    .fetch_optional(pool)
    .await?)
}

/// How many matters and categories each center's catalogue has, in one grouped read.
pub async fn matter_counts(
    pool: &sqlx::AnyPool,
) -> AppResult<std::collections::HashMap<CenterId, i64>> {
    #[derive(sqlx::FromRow)]
    struct Count {
        center_id: CenterId,
        n: i64,
    }
    let rows: Vec<Count> =
        sqlx::query_as("select center_id, count(*) as n from matters group by center_id")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| (r.center_id, r.n)).collect())
}

/// The level-1 categories of a center, each with its children, in order: two reads.
pub async fn branches(
    conn: &mut sqlx::AnyConnection,
    center_id: CenterId,
) -> AppResult<Vec<(MatterSummary, Vec<MatterSummary>)>> {
    let roots = children(conn, None, center_id).await?;
    let kids: Vec<MatterRow> = sqlx::query_as(select_sql(
        "where m.parent_id in (select r.id from matters r where r.parent_id is null and r.center_id = $1) \
         order by m.sort_order, m.code",
    ))
    .bind(center_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_parent: std::collections::HashMap<String, Vec<MatterSummary>> =
        std::collections::HashMap::new();
    for k in &kids {
        if let Some(p) = &k.matter.parent {
            by_parent.entry(p.clone()).or_default().push(k.summary());
        }
    }
    Ok(roots
        .into_iter()
        .map(|r| {
            let kids = by_parent.remove(&r.code).unwrap_or_default();
            (r, kids)
        })
        .collect())
}

/// A node of a center's catalogue as the admin page lists it.
#[derive(sqlx::FromRow)]
pub struct AdminEntry {
    pub code: String,
    pub node: Node,
    pub path_json: String,
    pub type_name: Option<String>,
    pub department: String,
}

/// Every node of a center's catalogue, in the order they were made.
pub async fn admin_entries(
    pool: &sqlx::AnyPool,
    center_id: CenterId,
) -> AppResult<Vec<AdminEntry>> {
    Ok(sqlx::query_as(
        "select m.code, m.node, m.path_json, t.name as type_name, m.department from matters m \
         left join matter_types t on t.code = m.type_code where m.center_id = $1 order by m.id",
    )
    .bind(center_id)
    .fetch_all(pool)
    .await?)
}

/// The center a stored matter belongs to.
#[derive(sqlx::FromRow)]
pub struct Owner {
    pub center_id: CenterId,
    pub center_code: String,
}

/// Whose catalogue holds the matter `code`, if it exists.
pub async fn owner(tx: &mut Tx, code: &str) -> AppResult<Option<Owner>> {
    Ok(sqlx::query_as(
        "select m.center_id, c.code as center_code from matters m join centers c on c.id = m.center_id \
         where m.code = $1",
    )
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?)
}
