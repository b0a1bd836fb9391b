//! What the system admin sees of the jobs: `/admin/jobs` (a page) and `GET /api/v1/admin/jobs`
//! (JSON): counts per state and the latest pending, failed (with the error) and done jobs.

use std::sync::Arc;

use askama::Template;
use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use super::{Job, JobCounts, JobState};
use crate::{
    app::App,
    auth::{CurrentUser, Viewer},
    error::{AppError, AppResult},
    web::{Chrome, PageResult, render},
};

/// How many jobs of each group a listing shows.
const LISTED: i64 = 50;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/admin/jobs", get(jobs_page))
        .route("/api/v1/admin/jobs", get(api_jobs))
}

fn require_admin(user: &CurrentUser) -> AppResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有系统管理员可以查看后台任务".into()))
    }
}

/// The jobs a system admin looks at.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobsOverview {
    pub counts: JobCounts,
    /// Waiting or running, newest first.
    pub pending: Vec<Job>,
    /// Failed for good, with `last_error`.
    pub failed: Vec<Job>,
    pub done: Vec<Job>,
}

/// Counts and the latest jobs of each group.
pub async fn overview(app: &App) -> AppResult<JobsOverview> {
    Ok(JobsOverview {
        counts: super::counts(&app.db).await?,
        pending: super::latest(&app.db, &[JobState::Pending, JobState::Running], LISTED).await?,
        failed: super::latest(&app.db, &[JobState::Failed], LISTED).await?,
        done: super::latest(&app.db, &[JobState::Done], LISTED).await?,
    })
}

/// Background jobs: counts and the latest pending, failed and done (system admin).
#[utoipa::path(get, path = "/api/v1/admin/jobs", summary = "后台任务（系统管理员）", tag = "jobs",
    responses((status = 200, body = JobsOverview), (status = 403, description = "不是系统管理员")))]
pub async fn api_jobs(
    State(app): State<Arc<App>>,
    user: CurrentUser,
) -> AppResult<Json<JobsOverview>> {
    require_admin(&user)?;
    Ok(Json(overview(&app).await?))
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    chrome: Chrome,
    jobs: JobsOverview,
}

async fn jobs_page(State(app): State<Arc<App>>, viewer: Viewer) -> PageResult {
    require_admin(&viewer.user)?;
    let jobs = overview(&app).await?;
    render(&JobsPage {
        chrome: viewer.chrome(),
        jobs,
    })
}
