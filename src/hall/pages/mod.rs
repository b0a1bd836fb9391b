//! Admin pages for the hall's structure: centers, zones, windows, A/B posts, staff, tokens
//! and the audit trail. Each POST redirects on success (303) and re-renders with the
//! Chinese reason and the submitted values on failure (422), changing nothing. The changes
//! themselves are the use cases of [`super::service`]; these handlers parse forms and render.

mod audit;
mod centers;
mod staff;
mod tokens;
mod windows;
mod zones;

use centers::CenterForm;
use windows::WindowForm;

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use super::{Center, posts, service};
use crate::{
    app::App,
    auth::Viewer,
    error::{AppError, AppResult},
    extract::Query,
    web::{Chrome, PageResult, done, render, render_status},
};

/// Flash message after a redirect (`?ok=…`).
#[derive(Deserialize, Default)]
struct Flash {
    ok: Option<String>,
    center: Option<String>,
}

/// Which refusals of a use case a form shows beside its fields; any other error becomes an
/// error page.
#[derive(Clone, Copy)]
enum Shown {
    /// Invalid input and conflicts, with their own status (422, 409).
    Rules,
    /// Also "not found" (a named zone, window or person), shown as 422.
    RulesAndMissing,
    /// Also "not allowed" (403), e.g. a role the manager may not give.
    RulesAndForbidden,
    /// Invalid input, conflicts and "not found", all as 422.
    AllAs422,
    /// Invalid input and "not found", as 422.
    InvalidOrMissingAs422,
}

/// Splits a use case's error: a refusal the form shows (its status and the Chinese reason),
/// or the error to pass on.
fn refusal(e: AppError, shown: Shown) -> Result<(StatusCode, String), AppError> {
    use AppError::{Conflict, Forbidden, Invalid, NotFound};
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    // A rule broken by one named field is shown like any other broken rule.
    let e = match e {
        AppError::InvalidField { message, .. } | AppError::Malformed { message, .. } => {
            Invalid(message)
        }
        other => other,
    };
    let status = match (&e, shown) {
        (Invalid(_) | Conflict(_), Shown::Rules | Shown::RulesAndMissing) => e.status(),
        (Invalid(_) | Conflict(_) | Forbidden(_), Shown::RulesAndForbidden) => e.status(),
        (NotFound(_), Shown::RulesAndMissing) => unprocessable,
        (Invalid(_) | Conflict(_) | NotFound(_), Shown::AllAs422) => unprocessable,
        (Invalid(_) | NotFound(_), Shown::InvalidOrMissingAs422) => unprocessable,
        _ => return Err(e),
    };
    Ok((status, e.public_message()))
}

/// Answers a refused form: `page`, given the reason, rendered with the refusal's status
/// ([`refusal`]); any other error is passed on.
async fn refused<P: Template>(
    e: AppError,
    shown: Shown,
    page: impl AsyncFnOnce(String) -> AppResult<P>,
) -> PageResult {
    let (status, msg) = refusal(e, shown)?;
    render_status(status, &page(msg).await?)
}

// ---- overview ----

struct CenterSummary {
    center: Center,
    windows: usize,
    gaps: usize,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    chrome: Chrome,
    rows: Vec<CenterSummary>,
    ok: Option<String>,
}

async fn index(State(app): State<Arc<App>>, viewer: Viewer, Query(f): Query<Flash>) -> PageResult {
    let mut rows = Vec::new();
    for c in service::visible_centers(&app, &viewer.user).await? {
        let posts = posts::of_center(app.db.pool(), c.id).await?;
        rows.push(CenterSummary {
            windows: posts.len(),
            gaps: posts
                .iter()
                .filter(|p| p.active && p.gap().is_some())
                .count(),
            center: c,
        });
    }
    render(&IndexPage {
        chrome: viewer.chrome(),
        rows,
        ok: f.ok,
    })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/centers", post(centers::center_create))
        .route("/admin/centers/new", get(centers::center_new))
        .route(
            "/admin/centers/{center}",
            get(centers::center_show).merge(CenterForm::Center.route()),
        )
        .route("/admin/centers/{center}/zones", CenterForm::Zone.route())
        .route(
            "/admin/centers/{center}/zones/{zone}",
            get(zones::zone_show).post(zones::zone_update),
        )
        .route(
            "/admin/centers/{center}/windows",
            CenterForm::Window.route(),
        )
        .route(
            "/admin/centers/{center}/windows/{window}",
            get(windows::window_show).merge(WindowForm::Edit.route()),
        )
        .route(
            "/admin/centers/{center}/windows/{window}/posts",
            WindowForm::Assign.route(),
        )
        .route(
            "/admin/centers/{center}/windows/{window}/posts/remove",
            WindowForm::Remove.route(),
        )
        .route("/admin/centers/{center}/posts", get(windows::posts_show))
        .route(
            "/admin/staff",
            get(staff::staff_index).post(staff::staff_create),
        )
        .route(
            "/admin/staff/{login}",
            get(staff::person_show).post(staff::person_update),
        )
        .route(
            "/admin/tokens",
            get(tokens::tokens_index).post(tokens::token_create),
        )
        .route("/admin/tokens/{id}/revoke", post(tokens::token_revoke))
        .route("/admin/audit", get(audit::audit_index))
}
