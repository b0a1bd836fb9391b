//! The outer edge every request passes, as one layer (a layer each cost a clone and a drop of
//! the whole inner service per request): the request id made known to the errors made while
//! serving it (so a 500 shows its 错误编号), every error in its address's shape
//! ([`super::error_shapes`]), and the security headers ([`super::headers`]).

use axum::{extract::Request, middleware::Next, response::Response};

/// Middleware: the edge of every request (see the module).
pub async fn edge(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut response =
        crate::error::with_request_id(id, super::error_shapes::uniform_errors(req, next)).await;
    super::headers::add_security_headers(response.headers_mut());
    response
}
