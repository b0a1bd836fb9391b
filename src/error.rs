//! Error policy, one type per boundary.
//!
//! * [`AppError`] is what domain functions and API handlers return. Client errors carry a
//!   Chinese message and map to 4xx; the JSON body is `{"error":{"code","message"}}`.
//! * Internal errors (database, I/O) are logged with their cause and a request id and shown
//!   as an opaque 500 — never the internal text.
//! * Pages wrap it in [`crate::web::PageError`], which renders the same message as HTML.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// A failed request, from the client's point of view.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be understood (malformed JSON, wrong types).
    #[error("{0}")]
    BadRequest(String),
    /// Input understood but breaking a rule (empty name, bad code).
    #[error("{0}")]
    Invalid(String),
    /// Not signed in, or a bad token.
    #[error("请先登录")]
    Unauthorized,
    /// Signed in, but this role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or not visible to this user.
    #[error("{0}")]
    NotFound(String),
    /// The change collides with what exists (duplicate code or name).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try later.
    #[error("{0}")]
    TooMany(String),
    /// Something on our side failed; details are in the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Invalid(_) => "invalid",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::TooMany(_) => "too_many_requests",
            Self::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a person may read: for internal errors, an opaque one.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "服务器内部错误，请稍后再试；如持续出现请联系系统管理员".into(),
            other => other.to_string(),
        }
    }

    /// Shorthand for a "没有权限" refusal.
    pub fn forbidden() -> Self {
        Self::Forbidden("没有权限执行此操作".into())
    }

    /// Logs internal errors once, at the boundary.
    pub fn log(&self) {
        if let Self::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("task: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = json!({"error": {"code": self.code(), "message": self.public_message()}});
        (self.status(), Json(body)).into_response()
    }
}

/// Result of an API handler or domain function.
pub type AppResult<T> = Result<T, AppError>;

/// Turns a unique-constraint violation into a [`AppError::Conflict`] with `message`.
pub fn conflict_on_duplicate(message: impl Into<String>) -> impl FnOnce(sqlx::Error) -> AppError {
    let message = message.into();
    move |e| {
        if crate::db::is_unique_violation(&e) {
            AppError::Conflict(message)
        } else {
            e.into()
        }
    }
}
