//! The audit trail page (managers and leaders), scoped to the user's centers.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::Query;

use super::Flash;
use crate::{
    app::App,
    audit::{self, AuditEntry},
    auth::{Viewer, policy},
    error::AppError,
    hall::centers,
    web::{Chrome, PageResult, render},
};

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
}

pub(super) async fn audit_index(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<Flash>,
) -> PageResult {
    let user = &viewer.user;
    if !policy::can_read_audit(user) {
        return Err(AppError::forbidden().into());
    }
    let mut scope: Option<Vec<i64>> = (!user.is_admin()).then(|| user.center_ids.clone());
    if let Some(code) = f.center.as_deref().filter(|c| !c.is_empty()) {
        let c = centers::by_code(app.db.pool(), code).await?;
        if !policy::can_see_center(user, c.id) {
            return Err(AppError::NotFound("找不到该中心".into()).into());
        }
        scope = Some(vec![c.id]);
    }
    let entries = audit::recent(app.db.pool(), scope.as_deref(), 200).await?;
    render(&AuditPage {
        chrome: viewer.chrome(),
        entries,
    })
}
