//! What the booking area's pages and API handlers share: who asks (a visitor, staff on a page,
//! staff calling the API about one record) as one extractor each (tuples of axum's, extracted
//! in order and refused as each would be alone), and the page shown again with the reason when
//! a use case is refused.

use std::future::Future;
use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
};

use crate::app::App;
use crate::auth::{CurrentUser, MaybeUser, Viewer};
use crate::error::{AppError, AppResult};
use crate::web::{Chrome, PageResult, done, render_status};

/// Anyone on a public page: the app and the page's [`Chrome`] (who is signed in, if anyone,
/// and the CSRF token), extracted in that order.
pub type Visitor = (State<Arc<App>>, Chrome);

/// A signed-in member of staff on a page (a [`Viewer`]: anyone else is sent to the sign-in
/// page), with the app.
pub type Staff = (State<Arc<App>>, Viewer);

/// A call of the API by anyone (a citizen giving the record's phone, or staff signed in) about
/// the record whose code is the path's one parameter (`/…/{code}`).
pub type Caller = (State<Arc<App>>, MaybeUser, Path<String>);

/// The query of a [`Caller`]: the citizen's phone.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct PhoneQuery {
    /// The phone given with the booking or the request (citizens); staff of the center need
    /// none.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A call of the API by a signed-in member of staff about the record or the center whose code
/// is the path's one parameter (`/…/{code}/…`, `/…/{center}/…`).
pub type StaffCall = (State<Arc<App>>, CurrentUser, Path<String>);

/// The status and message a page shows for a refused use case; anything else is passed on.
pub fn shown(e: AppError) -> Result<(StatusCode, String), AppError> {
    match e {
        AppError::Invalid(_) | AppError::InvalidField { .. } | AppError::NotFound(_) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, e.public_message()))
        }
        AppError::InvalidState(_) | AppError::Conflict(_) | AppError::Full(_) => {
            Ok((StatusCode::CONFLICT, e.public_message()))
        }
        AppError::Forbidden(_) => Ok((StatusCode::FORBIDDEN, e.public_message())),
        other => Err(other),
    }
}

/// The page `page` makes with the reason `e` is shown for, with its status.
pub fn refused_now<T: Template>(e: AppError, page: impl FnOnce(String) -> T) -> PageResult {
    let (status, msg) = shown(e)?;
    render_status(status, &page(msg))
}

/// [`refused_now`] for a page that is read before it is shown.
pub async fn refused<T, F>(e: AppError, page: impl FnOnce(String) -> F) -> PageResult
where
    T: Template,
    F: Future<Output = AppResult<T>>,
{
    let (status, msg) = shown(e)?;
    let page = page(msg).await?;
    render_status(status, &page)
}

/// Where a form's change lands: `back` with the flash `result` says, or the form's page again
/// with the reason it was refused.
pub async fn answered<T, F>(
    result: AppResult<&str>,
    back: &str,
    page: impl FnOnce(String) -> F,
) -> PageResult
where
    T: Template,
    F: Future<Output = AppResult<T>>,
{
    match result {
        Ok(msg) => done(back, msg),
        Err(e) => refused(e, page).await,
    }
}

/// What staff are told after proposing 不同意: `final_text` where the refusal was final at once
/// (a hall manager's own), else that it waits for the hall manager's approval.
pub fn refusal_proposed(final_at_once: bool, final_text: &'static str) -> &'static str {
    if final_at_once {
        final_text
    } else {
        "已提出不同意，待大厅管理员审批"
    }
}

/// What the hall manager is told after approving a proposed refusal.
pub const REFUSAL_APPROVED: &str = "已批准不同意，已通知申请人";
