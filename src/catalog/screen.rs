//! The lists on a lobby screen (R2.5, seed 000 §3.4 公示): the 延时错时规定目录 category by
//! category, the 自选目录 and the 预约服务目录, a screenful at a time, turning by themselves —
//! so that a visitor waiting in the hall sees which matters are served at lunch time and at
//! weekends, and by appointment. `GET /api/v1/catalog/sections` gives each section's count
//! and `GET /api/v1/catalog/sections/{key}` one page of it; the page
//! `/centers/{code}/catalog/screen` shows them full-screen.

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    api::CenterParam,
    queries::{self, ListRow, Section},
};
use crate::{
    app::App,
    error::{AppError, AppResult},
    hall::{Center, centers},
    ids::CenterId,
    web::{PageResult, render},
};

/// A section of the lists and how many 办事情形 it has.
#[derive(Serialize, ToSchema)]
pub struct SectionCount {
    /// `mandated-户籍`, `optional`, `booking`, `outside`.
    pub key: String,
    pub title: String,
    pub total: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Sections {
    pub center: String,
    pub items: Vec<SectionCount>,
}

/// Every section of a center's lists with its count (public).
#[utoipa::path(get, path = "/api/v1/catalog/sections", summary = "目录清单各部分及事项数（公开）", tag = "catalog",
    params(CenterParam), responses((status = 200, body = Sections)))]
pub async fn sections(
    State(app): State<Arc<App>>,
    Query(q): Query<CenterParam>,
) -> AppResult<Json<Sections>> {
    let c = centers::by_code(app.db.pool(), &q.center).await?;
    let items = queries::section_counts(app.db.pool(), CenterId(c.id))
        .await?
        .into_iter()
        .map(|(s, total)| SectionCount {
            key: s.key(),
            title: s.title(),
            total,
        })
        .collect();
    Ok(Json(Sections {
        center: c.code,
        items,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// 中心编码.
    pub center: String,
    /// From 1.
    pub page: Option<i64>,
    /// Rows per page, 1–500 (default 10, a lobby screenful).
    pub per_page: Option<i64>,
}

/// One page of a section.
#[derive(Serialize, ToSchema)]
pub struct SectionPage {
    pub key: String,
    pub title: String,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub items: Vec<ListRow>,
}

/// A page of one section of a center's lists (public).
#[utoipa::path(get, path = "/api/v1/catalog/sections/{key}", summary = "目录清单某部分的一页（公开）", tag = "catalog",
    params(("key" = String, Path), PageQuery), responses((status = 200, body = SectionPage), (status = 404)))]
pub async fn section_page(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<SectionPage>> {
    let c = centers::by_code(app.db.pool(), &q.center).await?;
    let section =
        Section::parse(&key).ok_or_else(|| AppError::NotFound(format!("没有“{key}”这一目录")))?;
    let per_page = q.per_page.unwrap_or(10);
    if !(1..=500).contains(&per_page) {
        return Err(AppError::invalid_field(
            "per_page",
            "每页条数须在 1 到 500 之间",
        ));
    }
    let total = queries::section_counts(app.db.pool(), CenterId(c.id))
        .await?
        .into_iter()
        .find(|(s, _)| *s == section)
        .map(|(_, n)| n)
        .unwrap_or(0);
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let items = queries::section_rows(
        app.db.pool(),
        CenterId(c.id),
        &section,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Json(SectionPage {
        key: section.key(),
        title: section.title(),
        total,
        page,
        pages,
        items,
    }))
}

#[derive(Template)]
#[template(path = "catalog/screen.html")]
struct ScreenPage {
    center: Center,
}

/// The lists full-screen, for a lobby screen (no sign-in).
async fn screen(State(app): State<Arc<App>>, Path(code): Path<String>) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    render(&ScreenPage { center })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/catalog/sections", get(sections))
        .route("/api/v1/catalog/sections/{key}", get(section_page))
        .route("/centers/{center}/catalog/screen", get(screen))
}
