//! The hall's structure (R1): centers in their 市/县/乡/村 hierarchy, zones (专区), windows
//! (窗口, seed 002 §三(三)), staff with roles, and A/B posts (AB岗, R1.6).

pub mod api;
pub mod centers;
pub mod input;
mod pages;
pub mod posts;
pub mod service;
pub mod staff;
pub mod windows;
pub mod zones;

use std::sync::Arc;

use axum::Router;
use serde::Serialize;

use crate::app::App;

pub use centers::Center;
pub use windows::{Special, Window, WindowKind};
pub use zones::Zone;

/// Administrative level of a center's region (R1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 市 — 市政务服务中心
    City,
    /// 县 — 县（区）政务服务中心
    County,
    /// 乡 — 乡镇（街道）便民服务中心
    Township,
    /// 村 — 村（社区）便民服务站
    Village,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::City, Level::County, Level::Township, Level::Village];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// 市/县/乡/村.
    pub fn label(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::County => "县",
            Level::Township => "乡",
            Level::Village => "村",
        }
    }

    /// Depth in the hierarchy; a parent is always shallower.
    pub fn depth(self) -> u8 {
        match self {
            Level::City => 0,
            Level::County => 1,
            Level::Township => 2,
            Level::Village => 3,
        }
    }
}

/// Label for a stored level string (templates).
pub fn level_label(s: &str) -> &'static str {
    Level::parse(s).map(Level::label).unwrap_or("?")
}

pub fn router() -> Router<Arc<App>> {
    Router::new().merge(api::router()).merge(pages::router())
}
