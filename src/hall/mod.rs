//! The hall's structure (R1): centers in their 市/县/乡/村 hierarchy, zones (专区), windows
//! (窗口, seed 002 §三(三)), staff with roles, and A/B posts (AB岗, R1.6).

pub mod api;
mod audited;
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

use crate::app::App;

pub use centers::Center;
pub use windows::{Special, Window, WindowKind};
pub use zones::Zone;

crate::text_enum! {
    /// Administrative level of a center's region (R1.1); labelled 市/县/乡/村.
    pub enum Level {
        /// 市 — 市政务服务中心
        City = "city" => "市",
        /// 县 — 县（区）政务服务中心
        County = "county" => "县",
        /// 乡 — 乡镇（街道）便民服务中心
        Township = "township" => "乡",
        /// 村 — 村（社区）便民服务站
        Village = "village" => "村",
    }
}

impl Level {
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
