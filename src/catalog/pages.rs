//! Public pages of the catalogue: search and browsing, the printable 办事指南 and the booklet
//! of lists (打印成册, seed 000 §3.4). The admin pages are in `admin`.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    routing::get,
};
use serde::Deserialize;

use super::{
    Guide, MatterSummary, admin, queries,
    queries::{ListRow, Section},
    search::{Found, PER_PAGE},
};
use crate::{
    app::App,
    error::{AppError, AppResult},
    hall::{Center, centers},
    ids::CenterId,
    web::{Chrome, PageResult, render},
};

#[derive(Deserialize)]
struct BrowseParams {
    #[serde(default)]
    q: String,
    center: Option<String>,
    dept: Option<String>,
    page: Option<i64>,
}

/// A level-1 category with its children, for browsing.
struct Branch {
    category: MatterSummary,
    code: String,
    children: Vec<MatterSummary>,
}

#[derive(Template)]
#[template(path = "catalog/index.html")]
struct IndexPage {
    chrome: Chrome,
    centers: Vec<Center>,
    center: Option<Center>,
    q: String,
    dept: String,
    found: Option<Found>,
    page: i64,
    pages: i64,
    branches: Vec<Branch>,
    departments: Vec<(String, i64)>,
    by_dept: Vec<MatterSummary>,
}

impl IndexPage {
    fn center_code(&self) -> &str {
        self.center.as_ref().map(|c| c.code.as_str()).unwrap_or("")
    }
}

async fn default_center(app: &App, code: Option<&str>) -> AppResult<Option<Center>> {
    match code.filter(|c| !c.is_empty()) {
        Some(c) => Ok(Some(centers::by_code(app.db.pool(), c).await?)),
        None => {
            // The first center that has a catalogue.
            match queries::first_center_with_matters(app.db.pool()).await? {
                Some(c) => Ok(Some(centers::by_code(app.db.pool(), &c).await?)),
                None => Ok(None),
            }
        }
    }
}

async fn index(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Query(p): Query<BrowseParams>,
) -> PageResult {
    let center = default_center(&app, p.center.as_deref()).await?;
    let centers = centers::list(app.db.pool()).await?;
    let page = p.page.unwrap_or(1).max(1);
    let q = p.q.trim().to_owned();
    let dept = p.dept.unwrap_or_default();
    let mut found = None;
    let mut branches = Vec::new();
    let mut departments = Vec::new();
    let mut by_dept = Vec::new();
    if let Some(c) = &center {
        if !q.is_empty() {
            let answer = app
                .search_cache
                .search(&app.db, app.generation.current(), &q, Some(&c.code), page)
                .await?;
            found = Some(answer.found.as_ref().clone());
        } else {
            let mut conn = app.db.pool().acquire().await?;
            for (category, children) in queries::branches(&mut conn, CenterId(c.id)).await? {
                branches.push(Branch {
                    code: category.code.clone(),
                    category,
                    children,
                });
            }
            departments = queries::departments(app.db.pool(), CenterId(c.id)).await?;
            if !dept.is_empty() {
                by_dept = queries::by_department(app.db.pool(), CenterId(c.id), &dept).await?;
            }
        }
    }
    let pages = found
        .as_ref()
        .map(|f| (f.total + PER_PAGE - 1) / PER_PAGE)
        .unwrap_or(0);
    render(&IndexPage {
        chrome,
        centers,
        center,
        q,
        dept,
        found,
        page,
        pages,
        branches,
        departments,
        by_dept,
    })
}

#[derive(Template)]
#[template(path = "catalog/guide.html")]
struct GuidePage {
    chrome: Chrome,
    g: Guide,
}

async fn guide_page(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Path(code): Path<String>,
) -> PageResult {
    let mut conn = app.db.pool().acquire().await?;
    let g = queries::guide(&mut conn, &code).await?;
    render(&GuidePage { chrome, g })
}

/// Rows of one section on one page of the booklet: a county's lists fit on the first, a
/// synthetic catalogue of 100,000 situations would be a 14 MB page.
const BOOKLET_ROWS: i64 = 300;

/// One section of the booklet, as far as this page shows it.
struct Booklet {
    key: String,
    title: String,
    total: i64,
    rows: Vec<ListRow>,
    page: i64,
    pages: i64,
}

#[derive(Template)]
#[template(path = "catalog/booklet.html")]
struct BookletPage {
    chrome: Chrome,
    center: Center,
    /// Every section with its count (the contents).
    contents: Vec<(String, String, i64)>,
    /// The sections this page shows: all (their first pages), or one page of one.
    lists: Vec<Booklet>,
    /// Showing one section only.
    single: bool,
}

#[derive(Deserialize)]
struct BookletQuery {
    center: Option<String>,
    section: Option<String>,
    page: Option<i64>,
}

async fn booklet(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Query(p): Query<BookletQuery>,
) -> PageResult {
    let center = default_center(&app, p.center.as_deref())
        .await?
        .ok_or_else(|| AppError::NotFound("尚无事项目录".into()))?;
    let counts = queries::section_counts(app.db.pool(), CenterId(center.id)).await?;
    let chosen = match p.section.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(
            Section::parse(k).ok_or_else(|| AppError::NotFound(format!("没有“{k}”这一目录")))?,
        ),
    };
    let mut lists = Vec::new();
    for (section, total) in &counts {
        if chosen.as_ref().is_some_and(|c| c != section) {
            continue;
        }
        let pages = ((total + BOOKLET_ROWS - 1) / BOOKLET_ROWS).max(1);
        let page = if chosen.is_some() {
            p.page.unwrap_or(1).clamp(1, pages)
        } else {
            1
        };
        let rows = queries::section_rows(
            app.db.pool(),
            CenterId(center.id),
            section,
            BOOKLET_ROWS,
            (page - 1) * BOOKLET_ROWS,
        )
        .await?;
        lists.push(Booklet {
            key: section.key(),
            title: section.title(),
            total: *total,
            rows,
            page,
            pages,
        });
    }
    render(&BookletPage {
        chrome,
        contents: counts
            .iter()
            .map(|(s, n)| (s.key(), s.title(), *n))
            .collect(),
        single: chosen.is_some(),
        center,
        lists,
    })
}

/// A material's sample or blank form given as an address (an uploaded file or a web page),
/// to link; anything else is a name shown as it is.
pub(super) fn link(s: &str) -> Option<&str> {
    (s.starts_with("/files/") || s.starts_with("https://") || s.starts_with("http://")).then_some(s)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/matters", get(index))
        .route("/matters/{code}", get(guide_page))
        .route("/catalog/booklet", get(booklet))
        .merge(admin::router())
}
