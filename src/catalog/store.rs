//! Matters as stored: validation of a submitted matter, the upsert that every path uses (API,
//! admin pages, spreadsheet import, demo data, generator), reads for guides and lists.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MANDATED_CATEGORIES, MATERIAL_FORMS, Material,
    WINDOW_RIGHTS, WindowRight, code_of, label, search,
};
use crate::{
    audit::{self, Actor},
    db::Tx,
    error::{AppError, AppResult},
};

/// A matter or category as submitted (API body, form, spreadsheet row). Codes, not labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MatterInput {
    /// 事项编号 (opaque, unique).
    pub code: String,
    /// The parent's code; none for a level-1 category.
    pub parent: Option<String>,
    /// The center whose catalogue holds it.
    pub center: String,
    /// `category` (目录) or `matter` (事项/办事情形).
    pub node: String,
    pub name: String,
    pub sort_order: i64,
    /// 事项类型 code (`licence` 行政许可, `confirmation` 行政确认, … `public_service` 公共服务).
    pub type_code: String,
    /// 实施部门 / 行业指导部门.
    pub department: String,
    /// `city`, `county`, `township` or `village`.
    pub level: String,
    /// 办件类型: `immediate` 即办, `promised` 承诺, `joint` 联办, `reported` 上报.
    pub kind: String,
    /// 设定依据.
    pub legal_basis: String,
    /// 受理条件.
    pub conditions: String,
    /// 办理流程.
    pub process: String,
    /// 法定办结时限.
    pub legal_limit: Option<i64>,
    /// 承诺办结时限.
    pub promised_limit: Option<i64>,
    /// `working_days`, `days` or `hours`.
    pub limit_unit: String,
    /// 特别程序 not counted in the limit (公示, 听证, 专家评审, 现场踏勘 …).
    pub special_procedures: String,
    /// 收费标准.
    pub fees: String,
    /// 收费依据.
    pub fee_basis: String,
    /// 告知承诺制 applies.
    pub notice_commitment: bool,
    /// 咨询（预约）电话.
    pub consult_phone: String,
    /// 投诉电话.
    pub complaint_phone: String,
    /// 总值班电话.
    pub duty_phone: String,
    /// 办理地点.
    pub place: String,
    /// 办理时间.
    pub hours: String,
    /// 送达方式 (现场领取, 邮寄 …).
    pub delivery: String,
    /// 备注 (e.g. 进驻专业大厅).
    pub notes: String,
    /// `mandated` 规定目录, `optional` 自选目录, `booking` 预约服务目录, `none`.
    pub list_kind: String,
    /// For `mandated`: one of the 11 categories of seed 000 §3.2.1.
    pub list_category: String,
    /// On the 负面清单 (kept outside the hall).
    pub outside: bool,
    pub outside_reason: String,
    pub materials: Vec<Material>,
    /// 形式审查要点, in order.
    pub review_form: Vec<String>,
    /// 内容审查要点, in order.
    pub review_content: Vec<String>,
    /// Windows with 受理权 or 收件权.
    pub windows: Vec<WindowRight>,
}

/// One search or browse result.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MatterSummary {
    pub code: String,
    pub name: String,
    pub department: String,
    /// 事项类型 (行政许可 …).
    #[serde(rename = "type")]
    pub type_name: String,
    /// 办件类型 code (`immediate`, `promised`, `joint`, `reported`).
    pub kind: String,
    /// Names from the level-1 category down to this matter.
    pub path: Vec<String>,
}

impl MatterSummary {
    pub fn kind_label(&self) -> &'static str {
        label(CASE_KINDS, &self.kind)
    }

    /// The path above this matter, "一级 › 二级".
    pub fn trail(&self) -> String {
        let n = self.path.len().saturating_sub(1);
        self.path[..n].join(" › ")
    }
}

/// A full service guide (办事指南).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Guide {
    #[serde(flatten)]
    pub matter: MatterInput,
    pub center_name: String,
    /// 事项类型 name.
    pub type_name: String,
    pub path: Vec<String>,
    /// Sub-categories, matters or 办事情形 under this node.
    pub children: Vec<MatterSummary>,
    pub updated_at: i64,
}

impl Guide {
    pub fn kind_label(&self) -> &'static str {
        label(CASE_KINDS, &self.matter.kind)
    }
    pub fn level_label(&self) -> &'static str {
        label(LEVELS, &self.matter.level)
    }
    pub fn unit_label(&self) -> &'static str {
        label(LIMIT_UNITS, &self.matter.limit_unit)
    }
    pub fn list_label(&self) -> &'static str {
        label(LIST_KINDS, &self.matter.list_kind)
    }
    pub fn is_category(&self) -> bool {
        self.matter.node == "category"
    }
    /// "20 工作日", or "—".
    pub fn limit_text(&self, limit: &Option<i64>) -> String {
        match limit {
            Some(0) => "即办".into(),
            Some(n) => format!("{n} 个{}", self.unit_label()),
            None => "—".into(),
        }
    }
    pub fn legal_limit_text(&self) -> String {
        self.limit_text(&self.matter.legal_limit)
    }
    pub fn promised_limit_text(&self) -> String {
        self.limit_text(&self.matter.promised_limit)
    }
    pub fn trail(&self) -> String {
        let n = self.path.len().saturating_sub(1);
        self.path[..n].join(" › ")
    }
    pub fn has_tolerable(&self) -> bool {
        self.matter.materials.iter().any(|m| m.tolerable)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MatterRow {
    pub id: i64,
    pub center_id: i64,
    pub center_code: String,
    pub center_name: String,
    pub parent_code: Option<String>,
    pub code: String,
    pub node: String,
    pub name: String,
    pub sort_order: i64,
    pub path_json: String,
    pub type_code: Option<String>,
    pub type_name: Option<String>,
    pub department: String,
    pub level: String,
    pub kind: String,
    pub legal_basis: String,
    pub conditions: String,
    pub process: String,
    pub legal_limit: Option<i64>,
    pub promised_limit: Option<i64>,
    pub limit_unit: String,
    pub special_procedures: String,
    pub fees: String,
    pub fee_basis: String,
    pub notice_commitment: i64,
    pub consult_phone: String,
    pub complaint_phone: String,
    pub duty_phone: String,
    pub place: String,
    pub hours: String,
    pub delivery: String,
    pub notes: String,
    pub list_kind: String,
    pub list_category: String,
    pub outside: i64,
    pub outside_reason: String,
    pub updated_at: i64,
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
    fn input(self) -> (MatterInput, i64) {
        (
            MatterInput {
                code: self.code,
                parent: self.parent_code,
                center: self.center_code,
                node: self.node,
                name: self.name,
                sort_order: self.sort_order,
                type_code: self.type_code.unwrap_or_default(),
                department: self.department,
                level: self.level,
                kind: self.kind,
                legal_basis: self.legal_basis,
                conditions: self.conditions,
                process: self.process,
                legal_limit: self.legal_limit,
                promised_limit: self.promised_limit,
                limit_unit: self.limit_unit,
                special_procedures: self.special_procedures,
                fees: self.fees,
                fee_basis: self.fee_basis,
                notice_commitment: self.notice_commitment != 0,
                consult_phone: self.consult_phone,
                complaint_phone: self.complaint_phone,
                duty_phone: self.duty_phone,
                place: self.place,
                hours: self.hours,
                delivery: self.delivery,
                notes: self.notes,
                list_kind: self.list_kind,
                list_category: self.list_category,
                outside: self.outside != 0,
                outside_reason: self.outside_reason,
                materials: Vec::new(),
                review_form: Vec::new(),
                review_content: Vec::new(),
                windows: Vec::new(),
            },
            self.id,
        )
    }

    pub(crate) fn summary(&self) -> MatterSummary {
        MatterSummary {
            code: self.code.clone(),
            name: self.name.clone(),
            department: self.department.clone(),
            type_name: self.type_name.clone().unwrap_or_default(),
            kind: self.kind.clone(),
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
    pub center_id: i64,
    pub center_code: String,
    pub center_name: String,
    pub path_json: String,
    pub type_name: Option<String>,
    pub name: String,
    pub updated_at: i64,
}

async fn load(
    conn: &mut sqlx::AnyConnection,
    code: &str,
) -> AppResult<Option<(Meta, MatterInput, i64)>> {
    let row: Option<MatterRow> = sqlx::query_as(select_sql("where m.code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let copy = Meta {
        center_id: row.center_id,
        center_code: row.center_code.clone(),
        center_name: row.center_name.clone(),
        path_json: row.path_json.clone(),
        type_name: row.type_name.clone(),
        name: row.name.clone(),
        updated_at: row.updated_at,
    };
    let (mut input, id) = row.input();
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
    let points: Vec<(String, String)> = sqlx::query_as(
        "select kind, text from matter_review_points where matter_id = $1 order by kind, position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for (kind, text) in points {
        if kind == "form" {
            input.review_form.push(text);
        } else {
            input.review_content.push(text);
        }
    }
    let windows: Vec<(String, String, String)> = sqlx::query_as(
        "select w.code, w.name, mw.rights from matter_windows mw join windows w on w.id = mw.window_id \
         where mw.matter_id = $1 order by w.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    input.windows = windows
        .into_iter()
        .map(|(window, window_name, rights)| WindowRight {
            window,
            rights,
            window_name,
        })
        .collect();
    Ok(Some((copy, input, id)))
}

/// The children of a node, in order.
pub async fn children(
    conn: &mut sqlx::AnyConnection,
    parent_id: Option<i64>,
    center_id: i64,
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

// ---- validation ----

fn bad(msg: impl Into<String>) -> AppError {
    AppError::Invalid(msg.into())
}

/// 事项编号: 1–64 letters, digits, `-`, `_` or `.`.
pub fn parse_code(raw: &str) -> AppResult<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad("事项编号不能为空"));
    }
    if s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad(format!(
            "事项编号“{s}”无效：只能由字母、数字、“-”“_”“.”组成，且不超过 64 个字符"
        )));
    }
    Ok(s.to_owned())
}

fn line(raw: &str, what: &str, max: usize) -> AppResult<String> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(bad(format!("{what}不能超过 {max} 个字符")));
    }
    if s.chars().any(char::is_control) {
        return Err(bad(format!("{what}不能包含换行或控制字符")));
    }
    Ok(s.to_owned())
}

fn long(raw: &str, what: &str) -> AppResult<String> {
    let s = raw.trim().replace("\r\n", "\n");
    if s.chars().count() > 20_000 {
        return Err(bad(format!("{what}不能超过 20000 个字符")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(bad(format!("{what}不能包含控制字符")));
    }
    Ok(s)
}

fn pick(list: &[super::Code], raw: &str, what: &str, allow_empty: bool) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() && allow_empty {
        return Ok(String::new());
    }
    code_of(list, t).map(str::to_owned).ok_or_else(|| {
        let options: Vec<&str> = list.iter().map(|(_, l)| *l).collect();
        bad(format!("{what}“{t}”无效，应为：{}", options.join("、")))
    })
}

/// Checks and normalises a submission; does not touch the database.
pub fn normalise(m: &MatterInput) -> AppResult<MatterInput> {
    let code = parse_code(&m.code)?;
    let name = line(&m.name, "事项名称", 200)?;
    if name.is_empty() {
        return Err(bad("事项名称不能为空"));
    }
    let node = match m.node.trim() {
        "" | "matter" | "事项" => "matter",
        "category" | "目录" => "category",
        other => return Err(bad(format!("节点类型“{other}”无效，应为：目录、事项"))),
    };
    let is_matter = node == "matter";
    let kind = pick(CASE_KINDS, &m.kind, "办件类型", !is_matter)?;
    let level = pick(LEVELS, &m.level, "层级", true)?;
    let limit_unit = if m.limit_unit.trim().is_empty() {
        "working_days".to_owned()
    } else {
        pick(LIMIT_UNITS, &m.limit_unit, "时限单位", false)?
    };
    let list_kind = if m.list_kind.trim().is_empty() {
        if is_matter { "booking" } else { "none" }.to_owned()
    } else {
        pick(LIST_KINDS, &m.list_kind, "目录类别", false)?
    };
    let list_category = line(&m.list_category, "目录大类", 32)?;
    if list_kind == "mandated" && !MANDATED_CATEGORIES.contains(&list_category.as_str()) {
        return Err(bad(format!(
            "列入延时错时规定目录的事项须注明大类，应为：{}",
            MANDATED_CATEGORIES.join("、")
        )));
    }
    for (what, v) in [("法定时限", m.legal_limit), ("承诺时限", m.promised_limit)] {
        if let Some(n) = v
            && !(0..=3650).contains(&n)
        {
            return Err(bad(format!("{what}应在 0 到 3650 之间")));
        }
    }
    if let (Some(l), Some(p)) = (m.legal_limit, m.promised_limit)
        && p > l
    {
        return Err(bad("承诺时限不能超过法定时限"));
    }
    let outside_reason = line(&m.outside_reason, "负面清单原因", 200)?;
    if m.outside && outside_reason.is_empty() {
        return Err(bad("列入负面清单的事项须写明不进驻大厅的原因"));
    }
    let mut materials = Vec::new();
    for (i, mat) in m.materials.iter().enumerate() {
        let what = format!("第 {} 项材料", i + 1);
        let name = line(&mat.name, &format!("{what}的名称"), 200)?;
        if name.is_empty() {
            return Err(bad(format!("{what}的名称不能为空")));
        }
        if !(0..=99).contains(&mat.copies) {
            return Err(bad(format!("{what}的份数应在 0 到 99 之间")));
        }
        materials.push(Material {
            name,
            form: pick(
                MATERIAL_FORMS,
                &mat.form,
                &format!("{what}的原件/复印件"),
                false,
            )?,
            copies: mat.copies,
            required: mat.required,
            tolerable: mat.tolerable,
            sample: line(&mat.sample, &format!("{what}的示范文本"), 500)?,
            blank_form: line(&mat.blank_form, &format!("{what}的空白表格"), 500)?,
            note: line(&mat.note, &format!("{what}的说明"), 500)?,
        });
    }
    let points = |v: &[String], what: &str| -> AppResult<Vec<String>> {
        v.iter()
            .map(|p| line(p, what, 500))
            .filter(|p| !matches!(p, Ok(s) if s.is_empty()))
            .collect()
    };
    let mut windows: Vec<WindowRight> = Vec::new();
    for w in &m.windows {
        let window = w.window.trim().to_owned();
        if window.is_empty() {
            continue;
        }
        let rights = pick(WINDOW_RIGHTS, &w.rights, "窗口权限", false)?;
        if windows.iter().any(|x| x.window == window) {
            return Err(bad(format!("窗口“{window}”重复列出")));
        }
        windows.push(WindowRight {
            window,
            rights,
            window_name: String::new(),
        });
    }
    windows.sort_by(|a, b| a.window.cmp(&b.window));
    let parent = match m.parent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(parse_code(p)?),
    };
    if parent.as_deref() == Some(code.as_str()) {
        return Err(bad("事项不能以自己为上级"));
    }
    let center = m.center.trim().to_owned();
    if center.is_empty() {
        return Err(bad("请注明所属中心编码"));
    }
    Ok(MatterInput {
        code,
        parent,
        center,
        node: node.into(),
        name,
        sort_order: m.sort_order,
        type_code: m.type_code.trim().to_owned(),
        department: line(&m.department, "实施部门", 100)?,
        level,
        kind,
        legal_basis: long(&m.legal_basis, "设定依据")?,
        conditions: long(&m.conditions, "受理条件")?,
        process: long(&m.process, "办理流程")?,
        legal_limit: m.legal_limit,
        promised_limit: m.promised_limit,
        limit_unit,
        special_procedures: long(&m.special_procedures, "特别程序")?,
        fees: long(&m.fees, "收费标准")?,
        fee_basis: long(&m.fee_basis, "收费依据")?,
        notice_commitment: m.notice_commitment,
        consult_phone: line(&m.consult_phone, "咨询电话", 100)?,
        complaint_phone: line(&m.complaint_phone, "投诉电话", 100)?,
        duty_phone: line(&m.duty_phone, "总值班电话", 100)?,
        place: line(&m.place, "办理地点", 200)?,
        hours: line(&m.hours, "办理时间", 200)?,
        delivery: line(&m.delivery, "送达方式", 200)?,
        notes: long(&m.notes, "备注")?,
        list_kind,
        list_category,
        outside: m.outside,
        outside_reason,
        materials,
        review_form: points(&m.review_form, "形式审查要点")?,
        review_content: points(&m.review_content, "内容审查要点")?,
        windows,
    })
}

/// Resolved references of a normalised matter.
struct Refs {
    center_id: i64,
    parent_id: Option<i64>,
    path: Vec<String>,
    window_ids: Vec<i64>,
}

async fn resolve(tx: &mut Tx, m: &MatterInput, self_id: Option<i64>) -> AppResult<Refs> {
    let center_id: i64 = sqlx::query_scalar("select id from centers where code = $1")
        .bind(&m.center)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| bad(format!("找不到编码为“{}”的中心", m.center)))?;
    if m.node == "matter" {
        let ok: Option<i64> = sqlx::query_scalar("select 1 from matter_types where code = $1")
            .bind(&m.type_code)
            .fetch_optional(&mut **tx)
            .await?;
        if ok.is_none() {
            let names: Vec<String> =
                sqlx::query_scalar("select name from matter_types order by sort_order")
                    .fetch_all(&mut **tx)
                    .await?;
            return Err(bad(format!(
                "事项类型“{}”无效，应为：{}",
                m.type_code,
                names.join("、")
            )));
        }
    } else if !m.type_code.is_empty() {
        return Err(bad("目录节点不设事项类型"));
    }
    let (parent_id, mut path) = match &m.parent {
        None => (None, Vec::new()),
        Some(p) => {
            let row: Option<(i64, i64, String, String)> = sqlx::query_as(
                "select id, center_id, path_json, node from matters where code = $1",
            )
            .bind(p)
            .fetch_optional(&mut **tx)
            .await?;
            let (pid, pcenter, pjson, _) =
                row.ok_or_else(|| bad(format!("找不到上级事项“{p}”")))?;
            if pcenter != center_id {
                return Err(bad(format!("上级事项“{p}”不属于中心“{}”", m.center)));
            }
            if let Some(me) = self_id {
                // The new parent may not sit below this node.
                let mut cursor = Some(pid);
                let mut steps = 0;
                while let Some(c) = cursor {
                    if c == me {
                        return Err(bad("不能把事项移到它自己的下级之下"));
                    }
                    steps += 1;
                    if steps > 64 {
                        break;
                    }
                    cursor = sqlx::query_scalar("select parent_id from matters where id = $1")
                        .bind(c)
                        .fetch_one(&mut **tx)
                        .await?;
                }
            }
            (Some(pid), path_of(&pjson))
        }
    };
    if path.len() >= 12 {
        return Err(bad("目录层级不能超过 12 级"));
    }
    path.push(m.name.clone());
    let mut window_ids = Vec::new();
    for w in &m.windows {
        let id: i64 =
            sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
                .bind(center_id)
                .bind(&w.window)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| bad(format!("中心“{}”没有编码为“{}”的窗口", m.center, w.window)))?;
        window_ids.push(id);
    }
    Ok(Refs {
        center_id,
        parent_id,
        path,
        window_ids,
    })
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates a matter by its code (upsert), with its materials, review points and
/// window rights, re-indexes it for search, and records the change in the audit log.
/// `action` names the audit entry (`create`/`update` from pages and the API, `import`).
pub async fn save(
    tx: &mut Tx,
    actor: &Actor,
    input: &MatterInput,
    action: &str,
    now: i64,
) -> AppResult<Saved> {
    let m = normalise(input)?;
    let before = load(tx, &m.code).await?;
    let self_id = before.as_ref().map(|(_, _, id)| *id);
    if let Some((row, _, _)) = &before
        && row.center_code != m.center
    {
        return Err(AppError::Conflict(format!(
            "事项编号“{}”已属于中心“{}”，不能移到其他中心",
            m.code, row.center_code
        )));
    }
    let refs = resolve(tx, &m, self_id).await?;
    let path_json =
        serde_json::to_string(&refs.path).map_err(|e| AppError::internal(e.to_string()))?;
    if let Some((row, old, _)) = &before {
        let mut old = old.clone();
        for w in &mut old.windows {
            w.window_name.clear();
        }
        if old == m && row.path_json == path_json {
            return Ok(Saved::Unchanged);
        }
    }
    let type_code = (!m.type_code.is_empty()).then_some(m.type_code.as_str());
    let id: i64 = match self_id {
        None => sqlx::query_scalar(
            "insert into matters (center_id, parent_id, code, node, name, sort_order, path_json, type_code, \
             department, level, kind, legal_basis, conditions, process, legal_limit, promised_limit, limit_unit, \
             special_procedures, fees, fee_basis, notice_commitment, consult_phone, complaint_phone, duty_phone, \
             place, hours, delivery, notes, list_kind, list_category, outside, outside_reason, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $33) returning id",
        ),
        Some(_) => sqlx::query_scalar(
            "update matters set center_id = $1, parent_id = $2, code = $3, node = $4, name = $5, sort_order = $6, \
             path_json = $7, type_code = $8, department = $9, level = $10, kind = $11, legal_basis = $12, \
             conditions = $13, process = $14, legal_limit = $15, promised_limit = $16, limit_unit = $17, \
             special_procedures = $18, fees = $19, fee_basis = $20, notice_commitment = $21, consult_phone = $22, \
             complaint_phone = $23, duty_phone = $24, place = $25, hours = $26, delivery = $27, notes = $28, \
             list_kind = $29, list_category = $30, outside = $31, outside_reason = $32, updated_at = $33 \
             where code = $3 returning id",
        ),
    }
    .bind(refs.center_id)
    .bind(refs.parent_id)
    .bind(&m.code)
    .bind(&m.node)
    .bind(&m.name)
    .bind(m.sort_order)
    .bind(&path_json)
    .bind(type_code)
    .bind(&m.department)
    .bind(&m.level)
    .bind(&m.kind)
    .bind(&m.legal_basis)
    .bind(&m.conditions)
    .bind(&m.process)
    .bind(m.legal_limit)
    .bind(m.promised_limit)
    .bind(&m.limit_unit)
    .bind(&m.special_procedures)
    .bind(&m.fees)
    .bind(&m.fee_basis)
    .bind(i64::from(m.notice_commitment))
    .bind(&m.consult_phone)
    .bind(&m.complaint_phone)
    .bind(&m.duty_phone)
    .bind(&m.place)
    .bind(&m.hours)
    .bind(&m.delivery)
    .bind(&m.notes)
    .bind(&m.list_kind)
    .bind(&m.list_category)
    .bind(i64::from(m.outside))
    .bind(&m.outside_reason)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    if self_id.is_some() {
        for table in ["matter_materials", "matter_review_points", "matter_windows"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "delete from {table} where matter_id = $1"
            )))
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (i, mat) in m.materials.iter().enumerate() {
        sqlx::query(
            "insert into matter_materials (matter_id, position, name, form, copies, required, tolerable, \
             sample, blank_form, note) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(&mat.name)
        .bind(&mat.form)
        .bind(mat.copies)
        .bind(i64::from(mat.required))
        .bind(i64::from(mat.tolerable))
        .bind(&mat.sample)
        .bind(&mat.blank_form)
        .bind(&mat.note)
        .execute(&mut **tx)
        .await?;
    }
    for (kind, list) in [("form", &m.review_form), ("content", &m.review_content)] {
        for (i, text) in list.iter().enumerate() {
            sqlx::query(
                "insert into matter_review_points (matter_id, kind, position, text) values ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(kind)
            .bind(i as i64 + 1)
            .bind(text)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (w, wid) in m.windows.iter().zip(&refs.window_ids) {
        sqlx::query(
            "insert into matter_windows (matter_id, window_id, rights) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(wid)
        .bind(&w.rights)
        .execute(&mut **tx)
        .await?;
    }
    search::index(tx, id, refs.center_id, &refs.path, &m).await?;
    bump_version(tx).await?;
    let old_path = before.as_ref().map(|(r, _, _)| r.path_json.clone());
    if old_path.is_some_and(|p| p != path_json) {
        refresh_descendants(tx, id, &refs.path).await?;
    }
    audit::record(
        tx,
        actor,
        action,
        "matter",
        &m.code,
        Some(refs.center_id),
        before.map(|(_, b, _)| snapshot(&b)),
        Some(snapshot(&m)),
        now,
    )
    .await?;
    Ok(if self_id.is_some() {
        Saved::Updated
    } else {
        Saved::Created
    })
}

fn snapshot(m: &MatterInput) -> serde_json::Value {
    serde_json::to_value(m).unwrap_or_else(|_| json!({"code": m.code}))
}

/// After a rename or move, the descendants' paths (and their search tokens) follow.
async fn refresh_descendants(tx: &mut Tx, id: i64, path: &[String]) -> AppResult<()> {
    let mut stack = vec![(id, path.to_vec())];
    while let Some((parent, ppath)) = stack.pop() {
        let kids: Vec<(i64, String)> =
            sqlx::query_as("select id, name from matters where parent_id = $1")
                .bind(parent)
                .fetch_all(&mut **tx)
                .await?;
        for (kid, name) in kids {
            let mut p = ppath.clone();
            p.push(name);
            let json = serde_json::to_string(&p).map_err(|e| AppError::internal(e.to_string()))?;
            sqlx::query("update matters set path_json = $1 where id = $2")
                .bind(&json)
                .bind(kid)
                .execute(&mut **tx)
                .await?;
            search::reindex(tx, kid).await?;
            stack.push((kid, p));
        }
    }
    Ok(())
}

/// Removes a matter without children (and its materials, points and window rights).
pub async fn delete(tx: &mut Tx, actor: &Actor, code: &str, now: i64) -> AppResult<()> {
    let (row, before, id) = load(tx, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("找不到编号为“{code}”的事项")))?;
    let kids: i64 = sqlx::query_scalar("select count(*) from matters where parent_id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    if kids > 0 {
        return Err(AppError::Conflict(format!(
            "“{}”下还有 {kids} 个下级事项，请先删除或移走它们",
            row.name
        )));
    }
    search::unindex(tx, id).await?;
    bump_version(tx).await?;
    sqlx::query("delete from matters where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if crate::db::is_foreign_key_violation(&e) {
                AppError::Conflict("该事项已被其他记录引用，不能删除".into())
            } else {
                e.into()
            }
        })?;
    audit::record(
        tx,
        actor,
        "delete",
        "matter",
        code,
        Some(row.center_id),
        Some(snapshot(&before)),
        None,
        now,
    )
    .await
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
    center_id: i64,
) -> AppResult<Vec<(Section, i64)>> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select m.list_kind, m.list_category, m.outside, count(*) {LIST_FROM} \
         group by m.list_kind, m.list_category, m.outside"
    )))
    .bind(center_id)
    .fetch_all(pool)
    .await?;
    let mut counts: Vec<(Section, i64)> = Section::all().into_iter().map(|s| (s, 0)).collect();
    for (kind, category, outside, n) in rows {
        if let Some(s) = Section::of(&kind, &category, outside != 0)
            && let Some(c) = counts.iter_mut().find(|(x, _)| *x == s)
        {
            c.1 += n;
        }
    }
    Ok(counts)
}

/// The matters of a center as list rows, in catalogue order: all of them, or a page of one
/// section (`limit` rows from `offset`).
pub async fn list_rows(pool: &sqlx::AnyPool, center_id: i64) -> AppResult<Vec<ListRow>> {
    rows_where(pool, center_id, None, i64::MAX, 0).await
}

/// A page of one section's rows.
pub async fn section_rows(
    pool: &sqlx::AnyPool,
    center_id: i64,
    section: &Section,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<ListRow>> {
    rows_where(pool, center_id, Some(section), limit, offset).await
}

async fn rows_where(
    pool: &sqlx::AnyPool,
    center_id: i64,
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
pub async fn departments(pool: &sqlx::AnyPool, center_id: i64) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "select department, count(*) from matters where center_id = $1 and node = 'matter' \
         and department <> '' group by department order by count(*) desc, department",
    )
    .bind(center_id)
    .fetch_all(pool)
    .await?)
}

/// The matters of a department, in catalogue order.
pub async fn by_department(
    pool: &sqlx::AnyPool,
    center_id: i64,
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
    Ok(
        sqlx::query_as("select code, name from matter_types order by sort_order")
            .fetch_all(pool)
            .await?,
    )
}

/// The 事项类型 code list, inside a transaction.
pub async fn types_in(tx: &mut Tx) -> AppResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("select code, name from matter_types order by sort_order")
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// Marks the catalogue changed, so cached search answers are dropped (see `search::Cache`).
pub(super) async fn bump_version(tx: &mut Tx) -> AppResult<()> {
    sqlx::query("update catalog_version set version = version + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
