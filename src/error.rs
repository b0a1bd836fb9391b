//! Error policy, one type per boundary.
//!
//! * [`AppError`] is what domain functions and API handlers return. Client errors carry a
//!   Chinese message and map to 4xx; the JSON body is `{"error":{"code","message"}}`.
//! * A rule broken by one input names it ([`AppError::invalid_field`]): the body then carries
//!   `"field"`, and a spreadsheet import names sheet, row and column in it.
//! * Internal errors (database, I/O) keep their source ([`Internal`]), are logged once with the
//!   request id, and are shown as an opaque 500 whose message gives a short 错误编号 (the first
//!   eight characters of the request id) that an operator finds in the log — never the
//!   internal text.
//! * A database error is still [`AppError::Internal`] (a failed statement aborts a PostgreSQL
//!   transaction, and the queue's batches stop at an internal error), but it answers as what it
//!   is ([`Failure`], decided once in `From<sqlx::Error>`): a unique-index violation that no
//!   use case mapped to its own message (two servers acting on one window at once) is a 409
//!   with code `conflict`; a database that cannot be reached (refused, pool timed out,
//!   connection closed, PostgreSQL shutting down or starting: SQLSTATE 57P01–57P03, 08xxx,
//!   53300) is a 503 with code `unavailable`, 数据库暂时不可用，请稍后再试 and `Retry-After`.
//!   Use cases keep their own messages for the duplicates they expect ([`conflict_on_duplicate`]).
//!   A full disk (SQLITE_FULL, PostgreSQL 53100) is a 507 and a read-only database (SQLITE_READONLY,
//!   a standby's 25006) a 503, both `unavailable` with their own Chinese message, logged as errors
//!   for the operator: the transaction was rolled back, so nothing was written.
//! * Pages wrap it in [`crate::web::PageError`], which renders the same message as HTML.
//! * A message quotes input at most as a short prefix ([`quote`]), and no message a person
//!   reads is longer than [`MAX_MESSAGE_CHARS`]: a 1 MB name is not sent back as a 1 MB error.

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
    /// One input that cannot be understood (a member of the wrong type, a query parameter that
    /// is not a number): 400 like [`AppError::BadRequest`], with `field` naming it.
    #[error("{message}")]
    Malformed { field: String, message: String },
    /// Input understood but breaking a rule (empty name, bad code).
    #[error("{0}")]
    Invalid(String),
    /// One input breaking a rule: `field` names it (a form field, a JSON member, or a
    /// spreadsheet's `sheet!C12`).
    #[error("{message}")]
    InvalidField { field: String, message: String },
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
    /// The record's state does not allow this step (a case already refused cannot be
    /// accepted): 409 with code `invalid_state`.
    #[error("{0}")]
    InvalidState(String),
    /// Every place of a bookable hour is taken: 409 with code `slot_full`.
    #[error("{0}")]
    Full(String),
    /// Too many attempts; try later.
    #[error("{0}")]
    TooMany(String),
    /// Too many attempts of this client (a locked sign-in): 429 with `Retry-After`.
    #[error("{message}")]
    Locked {
        message: String,
        retry_after_secs: u64,
    },
    /// The server is saturated (every password hasher busy): 503 with `Retry-After`.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// A part the server needs is missing or down (no CJK font for notices): 503.
    #[error("{0}")]
    Unavailable(String),
    /// Something on our side failed; details are in the log only.
    #[error("{0}")]
    Internal(Box<Internal>),
}

/// What failed on our side, with the error that caused it.
#[derive(Debug)]
pub struct Internal {
    /// What we were doing ("database", "xlsx", "queue writer stopped").
    pub what: String,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// How the client is answered, from the source ([`Failure::of`]).
    pub failure: Failure,
}

/// How a failure on our side is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A fault: 500 with the 错误编号, logged as an error.
    Fault,
    /// A unique index refused the write because another request made the same change at
    /// the same moment: 409 `conflict`.
    Conflict,
    /// The database cannot be reached just now: 503 `unavailable` with `Retry-After`.
    Unavailable,
    /// The disk is full (SQLite's file cannot grow): 507 `unavailable`, nothing written.
    DiskFull,
    /// The database is read-only (a read-only filesystem): 503 `unavailable`.
    ReadOnly,
}

impl Failure {
    /// How a failure caused by `source` is answered: by the first database error in its
    /// chain of sources, by its kind; anything else is a fault.
    pub fn of(source: &(dyn std::error::Error + 'static)) -> Self {
        let mut next = Some(source);
        while let Some(e) = next {
            if let Some(e) = e.downcast_ref::<sqlx::Error>() {
                return if crate::db::is_unique_violation(e) {
                    Self::Conflict
                } else if crate::db::is_disk_full(e) {
                    Self::DiskFull
                } else if crate::db::is_read_only(e) {
                    Self::ReadOnly
                } else if crate::db::is_unavailable(e) {
                    Self::Unavailable
                } else {
                    Self::Fault
                };
            }
            next = e.source();
        }
        Self::Fault
    }
}

/// What a client is told when the database cannot be reached.
pub const UNAVAILABLE_MESSAGE: &str = "数据库暂时不可用，请稍后再试";

/// What a client is told when the disk is full.
pub const DISK_FULL_MESSAGE: &str =
    "服务器磁盘已满，本次操作未能保存，请联系系统管理员清理磁盘空间后再试";

/// What a client is told when the database cannot be written.
pub const READ_ONLY_MESSAGE: &str = "数据库当前为只读，本次操作未能保存，请联系系统管理员";

/// What a client is told when a unique index refused a change made at the same moment by
/// another request.
pub const CONFLICT_MESSAGE: &str = "该操作与同时进行的另一操作冲突，未能完成，请刷新后再试";

/// Seconds a client waits before trying again while the database is unavailable: a
/// PostgreSQL restart takes a second or two.
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(e) => write!(f, "internal error: {}: {e}", self.what),
            None => write!(f, "internal error: {}", self.what),
        }
    }
}

tokio::task_local! {
    /// The request id of the request being served ([`with_request_id`]).
    static REQUEST_ID: String;
}

/// Runs `work` (the rest of a request) with `id`, the request's `x-request-id`, known to the
/// errors made meanwhile ([`request_id`]); [`crate::web::edge`] calls it.
pub async fn with_request_id<F: std::future::Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// Log lines that start with the request id being served (`request_id=…`), so that every line
/// logged while serving a request, an internal error's above all, is found by its 错误编号. It
/// reads the id when a line is written, so a request that logs nothing costs nothing (a span
/// per request did: about a tenth of a simple request's time).
pub struct WithRequestId<F>(pub F);

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for WithRequestId<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if let Some(id) = request_id() {
            write!(writer, "request_id={id} ")?;
        }
        self.0.format_event(ctx, writer, event)
    }
}

/// The request id being served, or `None` outside a request (CLI, jobs).
pub fn request_id() -> Option<String> {
    REQUEST_ID
        .try_with(|id| id.clone())
        .ok()
        .filter(|id| !id.is_empty())
}

/// The short 错误编号 a person reads out: the request id's first eight characters.
pub fn error_number(request_id: &str) -> String {
    request_id.chars().filter(|c| *c != '-').take(8).collect()
}

impl AppError {
    /// Machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) | Self::Malformed { .. } => "bad_request",
            Self::Invalid(_) | Self::InvalidField { .. } => "invalid",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::InvalidState(_) => "invalid_state",
            Self::Full(_) => "slot_full",
            Self::TooMany(_) | Self::Locked { .. } => "too_many_requests",
            Self::Unavailable(_) | Self::Busy { .. } => "unavailable",
            Self::Internal(e) => match e.failure {
                Failure::Fault => "internal",
                Failure::Conflict => "conflict",
                Failure::Unavailable | Failure::DiskFull | Failure::ReadOnly => "unavailable",
            },
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::Invalid(_) | Self::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::InvalidState(_) | Self::Full(_) => StatusCode::CONFLICT,
            Self::TooMany(_) | Self::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(e) => match e.failure {
                Failure::Fault => StatusCode::INTERNAL_SERVER_ERROR,
                Failure::Conflict => StatusCode::CONFLICT,
                Failure::Unavailable | Failure::ReadOnly => StatusCode::SERVICE_UNAVAILABLE,
                Failure::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            },
        }
    }

    /// The message a person may read: for internal errors, an opaque one with the 错误编号.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(e) if e.failure == Failure::Conflict => CONFLICT_MESSAGE.into(),
            Self::Internal(e) if e.failure == Failure::Unavailable => UNAVAILABLE_MESSAGE.into(),
            Self::Internal(e) if e.failure == Failure::DiskFull => DISK_FULL_MESSAGE.into(),
            Self::Internal(e) if e.failure == Failure::ReadOnly => READ_ONLY_MESSAGE.into(),
            Self::Internal(_) => {
                let base = "服务器内部错误，请稍后再试；如持续出现请联系系统管理员";
                match request_id() {
                    Some(id) => format!("{base}（错误编号 {}）", error_number(&id)),
                    None => base.into(),
                }
            }
            other => bounded(&other.to_string()),
        }
    }

    /// Seconds a client should wait before trying again (`Retry-After`), when known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Locked {
                retry_after_secs, ..
            }
            | Self::Busy {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Internal(e) if e.failure == Failure::Unavailable => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }

    /// How a failure on our side is answered, or `None` for a client error: lets a caller
    /// that holds its own connection (the queue writer) tell an unreachable database
    /// ([`Failure::Unavailable`]) from a fault.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            Self::Internal(e) => Some(e.failure),
            _ => None,
        }
    }

    /// An internal error with no underlying error.
    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal(Box::new(Internal {
            what: what.into(),
            source: None,
            failure: Failure::Fault,
        }))
    }

    /// An internal error caused by `source`.
    pub fn internal_from(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        Self::Internal(Box::new(Internal {
            what: what.into(),
            failure: Failure::of(&*source),
            source: Some(source),
        }))
    }

    /// A rule broken by the input named `field`.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// One input that cannot be understood, named `field` (400).
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Malformed {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The input a refusal names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidField { field, .. } | Self::Malformed { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Shorthand for a "没有权限" refusal.
    pub fn forbidden() -> Self {
        Self::Forbidden("没有权限执行此操作".into())
    }

    /// Logs internal errors once, at the boundary, with the request id and the chain of
    /// sources: a fault as an error, a conflict or an unavailable database (which the client
    /// is told plainly) as a warning.
    pub fn log(&self) {
        if let Self::Internal(e) = self {
            let mut chain = e.to_string();
            let mut next = e.source.as_deref().and_then(std::error::Error::source);
            while let Some(cause) = next {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                next = cause.source();
            }
            // The line starts with the request id already (`WithRequestId`).
            if matches!(e.failure, Failure::Conflict | Failure::Unavailable) {
                tracing::warn!(
                    failure = ?e.failure,
                    cause = %chain,
                    "database refused or unavailable"
                );
                return;
            }
            tracing::error!(
                error_number = %error_number(&request_id().unwrap_or_default()),
                cause = %chain,
                "internal error"
            );
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal_from("database", e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::internal_from("template", e)
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal_from("task", e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut error = json!({"code": self.code(), "message": self.public_message()});
        if let Some(field) = self.field() {
            error["field"] = quote(field).into();
        }
        let body = json!({ "error": error });
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Characters of input an error quotes ([`quote`]).
pub const QUOTE_CHARS: usize = 40;

/// The longest message a person is shown; longer ones (input echoed by a parser) are cut.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// Input as an error quotes it: at most [`QUOTE_CHARS`] characters, then "…".
pub fn quote(text: &str) -> String {
    cut(text, QUOTE_CHARS)
}

/// A message cut to [`MAX_MESSAGE_CHARS`], the last line of defence against echoed input.
fn bounded(message: &str) -> String {
    cut(message, MAX_MESSAGE_CHARS)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_source_and_shows_none_of_it() {
        let e = AppError::internal_from("xlsx", std::io::Error::other("disk gone"));
        assert_eq!(e.to_string(), "internal error: xlsx: disk gone");
        assert!(!e.public_message().contains("disk"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn the_error_number_comes_from_the_request_id() {
        let msg = REQUEST_ID
            .scope("1a2b3c4d-5e6f-0000-0000-000000000000".into(), async {
                AppError::internal("x").public_message()
            })
            .await;
        assert!(msg.ends_with("（错误编号 1a2b3c4d）"), "{msg}");
    }

    #[test]
    fn log_lines_written_while_serving_a_request_start_with_its_id() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .event_format(WithRequestId(
                tracing_subscriber::fmt::format::Format::default(),
            ))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            REQUEST_ID.sync_scope("1a2b3c4d-5e6f".into(), || tracing::warn!("inside"));
            tracing::warn!("outside");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("request_id=1a2b3c4d-5e6f "), "{text}");
        assert!(lines[0].ends_with("inside"), "{text}");
        assert!(!lines[1].contains("request_id"), "{text}");
        assert!(lines[1].ends_with("outside"), "{text}");
    }

    #[test]
    fn quoted_input_and_messages_are_short() {
        assert_eq!(quote("短"), "短");
        let q = quote(&"长".repeat(1000));
        assert_eq!(q.chars().count(), QUOTE_CHARS + 1);
        assert!(q.ends_with('…'));
        let e = AppError::Invalid(format!("名称“{}”不合规", "x".repeat(1_000_000)));
        assert!(e.public_message().chars().count() <= MAX_MESSAGE_CHARS + 1);
    }

    /// A database error with an SQLSTATE, as PostgreSQL reports one.
    fn database(code: &'static str) -> sqlx::Error {
        let kind = match code {
            "23505" => sqlx::error::ErrorKind::UniqueViolation,
            _ => sqlx::error::ErrorKind::Other,
        };
        crate::db::database_error(
            "terminating connection due to administrator command",
            Some(code),
            kind,
            false,
        )
    }

    #[test]
    fn a_full_disk_answers_507_and_a_read_only_database_503_in_chinese() {
        let full = AppError::from(database("53100"));
        assert_eq!(full.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(full.code(), "unavailable");
        assert_eq!(full.public_message(), DISK_FULL_MESSAGE);
        let read_only = AppError::from(database("25006"));
        assert_eq!(read_only.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(read_only.public_message(), READ_ONLY_MESSAGE);
        // Another numeric SQLSTATE is not taken for an SQLite code.
        assert_eq!(
            AppError::from(database("40001")).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn an_unreachable_database_answers_503_with_retry_after() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(refused),
            database("57P01"),
            database("57P02"),
            database("57P03"),
            database("08006"),
            database("53300"),
        ] {
            let shown = format!("{e}");
            let e = AppError::from(e);
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE, "{shown}");
            assert_eq!(e.code(), "unavailable");
            assert_eq!(e.public_message(), "数据库暂时不可用，请稍后再试");
            assert_eq!(e.retry_after(), Some(UNAVAILABLE_RETRY_SECS));
            // Still a failure on our side, so a queue batch stops at it.
            assert!(matches!(e, AppError::Internal(_)));
            let response = e.into_response();
            assert_eq!(response.headers()["retry-after"], "2");
        }
    }

    #[test]
    fn a_unique_violation_answers_409_and_other_database_errors_500() {
        let e = AppError::from(database("23505"));
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.code(), "conflict");
        assert_eq!(e.public_message(), CONFLICT_MESSAGE);
        assert_eq!(e.retry_after(), None);
        assert!(matches!(e, AppError::Internal(_)));
        let mapped = conflict_on_duplicate("编码已存在")(database("23505"));
        assert!(matches!(&mapped, AppError::Conflict(m) if m == "编码已存在"));
        for e in [
            database("42P01"),
            sqlx::Error::RowNotFound,
            sqlx::Error::WorkerCrashed,
        ] {
            let e = AppError::from(e);
            assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(e.code(), "internal");
        }
    }

    #[test]
    fn a_database_error_inside_another_is_answered_by_its_kind() {
        #[derive(Debug, thiserror::Error)]
        #[error("loading the table")]
        struct Loading(#[source] sqlx::Error);
        let e = AppError::internal_from("calendar", Loading(sqlx::Error::PoolTimedOut));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let e = AppError::internal_from("xlsx", std::io::Error::other("disk gone"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_field_error_names_its_field() {
        let e = AppError::invalid_field("name", "名称不能为空");
        assert_eq!(e.field(), Some("name"));
        assert_eq!(e.code(), "invalid");
        assert_eq!(e.to_string(), "名称不能为空");
    }
}
