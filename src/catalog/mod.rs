//! 事项目录与办事指南 (R2): the tree of matters from the level-1 category down to each specific
//! 办事情形 (seed 000 §2.4.3, §3.3.1), each with the national guide elements, 受理审查要点,
//! the 延时错时/预约 lists (seed 000 §3), window rights (受理权/收件权, §2.4.2) and the
//! 负面清单 (seed 002 §三(一)3). Search (jieba + pinyin), spreadsheet exchange and demo data.

mod admin;
pub mod api;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod files;
mod form;
pub mod generate;
pub mod model;
mod pages;
pub mod queries;
pub mod screen;
pub mod search;
pub mod service;
pub mod store;
pub mod synonyms;
pub mod template;
pub mod types;
pub mod validate;
pub mod xlsx;

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;

pub use model::{Guide, MatterInput, MatterSummary};

/// A code with its Chinese label, for the small code lists of the catalogue.
pub type Code = (&'static str, &'static str);

/// 办件类型 (seed 003 §(四)1(3)): the four kinds of case.
pub const CASE_KINDS: &[Code] = &[
    ("immediate", "即办件"),
    ("promised", "承诺件"),
    ("joint", "联办件"),
    ("reported", "上报件"),
];

/// 层级 of the body that handles a matter.
pub const LEVELS: &[Code] = &[
    ("city", "市级"),
    ("county", "县级"),
    ("township", "乡级"),
    ("village", "村级"),
];

/// Unit of a time limit.
pub const LIMIT_UNITS: &[Code] = &[
    ("working_days", "工作日"),
    ("days", "自然日"),
    ("hours", "小时"),
];

/// Which list of seed 000 §3 a matter is on.
pub const LIST_KINDS: &[Code] = &[
    ("mandated", "延时错时规定目录"),
    ("optional", "延时错时自选目录"),
    ("booking", "预约服务目录"),
    ("none", "不列入"),
];

/// The 11 categories seed 000 §3.2.1 requires on the 延时错时 list.
pub const MANDATED_CATEGORIES: &[&str] = &[
    "医保",
    "社保",
    "不动产交易与登记",
    "公积金",
    "水电气",
    "企业注册登记",
    "税务",
    "户籍",
    "婚姻登记",
    "出入境",
    "车驾管理",
];

/// 原件/复印件 of a material.
pub const MATERIAL_FORMS: &[Code] = &[
    ("original", "原件"),
    ("copy", "复印件"),
    ("both", "原件及复印件"),
];

/// 受理权 / 收件权 delegated to a window.
pub const WINDOW_RIGHTS: &[Code] = &[("accept", "受理"), ("collect", "收件")];

/// 形式审查要点 / 内容审查要点.
pub const REVIEW_KINDS: &[Code] = &[("form", "形式审查"), ("content", "内容审查")];

/// The label of `code` in `list`, or "" for an unknown or empty code.
pub fn label(list: &[Code], code: &str) -> &'static str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

/// The code for a label or a code (spreadsheets carry labels; the API carries codes).
pub fn code_of(list: &[Code], text: &str) -> Option<&'static str> {
    let t = text.trim();
    list.iter()
        .find(|(c, l)| *c == t || *l == t)
        .map(|(c, _)| *c)
}

/// A material to bring (申请材料).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Material {
    pub name: String,
    /// `original`, `copy` or `both`.
    pub form: String,
    /// Copies (份数).
    #[serde(default = "one")]
    pub copies: i64,
    #[serde(default = "yes")]
    pub required: bool,
    /// 容缺: may follow after acceptance on the applicant's commitment.
    #[serde(default)]
    pub tolerable: bool,
    /// Sample (示范文本) file name or address.
    #[serde(default)]
    pub sample: String,
    /// Blank form (空白表格) file name or address.
    #[serde(default)]
    pub blank_form: String,
    #[serde(default)]
    pub note: String,
}

impl Material {
    pub fn form_label(&self) -> &'static str {
        label(MATERIAL_FORMS, &self.form)
    }
}

fn one() -> i64 {
    1
}

fn yes() -> bool {
    true
}

/// A window's right to a matter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WindowRight {
    /// The window's code in the matter's center.
    pub window: String,
    /// `accept` (受理权) or `collect` (收件权).
    pub rights: String,
    /// The window's display name (answers only).
    #[serde(default, skip_deserializing)]
    pub window_name: String,
}

impl WindowRight {
    pub fn rights_label(&self) -> &'static str {
        label(WINDOW_RIGHTS, &self.rights)
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .merge(files::router())
        .merge(types::router())
        .merge(synonyms::router())
        .merge(screen::router())
}
