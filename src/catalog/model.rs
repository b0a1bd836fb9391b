//! The catalogue's shapes: a matter as submitted ([`MatterInput`]), a search or browse result
//! ([`MatterSummary`]) and a full guide ([`Guide`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, Material, WindowRight, label};

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

impl MatterInput {
    /// The terms held as text under one name in the `matters` table, the edit form and the
    /// JSON: the codes (`level`, `kind`, `limit_unit`, `list_kind`) and the free texts; for
    /// filling a matter in from a row or a form.
    pub(crate) fn texts_mut(&mut self) -> [(&'static str, &mut String); 20] {
        [
            ("department", &mut self.department),
            ("level", &mut self.level),
            ("kind", &mut self.kind),
            ("legal_basis", &mut self.legal_basis),
            ("conditions", &mut self.conditions),
            ("process", &mut self.process),
            ("limit_unit", &mut self.limit_unit),
            ("special_procedures", &mut self.special_procedures),
            ("fees", &mut self.fees),
            ("fee_basis", &mut self.fee_basis),
            ("consult_phone", &mut self.consult_phone),
            ("complaint_phone", &mut self.complaint_phone),
            ("duty_phone", &mut self.duty_phone),
            ("place", &mut self.place),
            ("hours", &mut self.hours),
            ("delivery", &mut self.delivery),
            ("notes", &mut self.notes),
            ("list_kind", &mut self.list_kind),
            ("list_category", &mut self.list_category),
            ("outside_reason", &mut self.outside_reason),
        ]
    }
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

crate::text_enum! {
    /// What a node of the catalogue is: a 目录 (category) or a 事项/办事情形 (matter).
    pub enum Node {
        Category = "category",
        Matter = "matter",
    }
}
