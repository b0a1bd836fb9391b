//! CSRF protection for every state-changing request a browser can be tricked into sending.
//!
//! Double-submit token: each browser gets a random `yc_csrf` cookie (HttpOnly,
//! SameSite=Strict); every page embeds the same value in its forms (`csrf` field) and htmx
//! sends it as `X-CSRF-Token`. A POST/PUT/PATCH/DELETE that carries a session cookie or a
//! form body must present the matching value. Calls that carry a bearer token (which no
//! page can make a browser send) are not checked, whatever their body.

use std::sync::Arc;

use axum::{
    body::{Body, to_bytes},
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{SESSION_COOKIE, extract::cookie, random_hex};
use crate::{app::App, error::AppError, web::PageError};

pub const CSRF_COOKIE: &str = "yc_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The request's CSRF token, to embed in forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| AppError::internal("csrf layer missing"))
    }
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/x-www-form-urlencoded")
                || ct.starts_with("multipart/form-data")
        })
}

fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn refuse(parts: &Parts) -> Response {
    let e = AppError::Forbidden("页面已过期或请求来源无法确认，请刷新页面后重试".into());
    if wants_html(parts) {
        PageError::App(e).into_response()
    } else {
        e.into_response()
    }
}

/// Middleware: issues the token cookie and checks unsafe requests.
pub async fn protect(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let existing = cookie(&parts, CSRF_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let has_session = cookie(&parts, SESSION_COOKIE).is_some();
    // A page cannot make the browser send an Authorization header to another site, so a
    // call that names its bearer token (a device, a tool) needs no token of ours.
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    let mut body = body;
    if unsafe_method && !bearer && (has_session || is_form(&parts)) {
        let Some(expected) = existing.as_deref() else {
            return refuse(&parts);
        };
        let header_ok = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected);
        if !header_ok {
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let urlencoded = content_type.starts_with("application/x-www-form-urlencoded");
            let multipart = content_type.starts_with("multipart/form-data");
            if !urlencoded && !multipart {
                return refuse(&parts);
            }
            let bytes = match to_bytes(body, app.config.max_body_bytes).await {
                Ok(b) => b,
                Err(_) => {
                    return AppError::BadRequest("提交的内容过大或不完整".into()).into_response();
                }
            };
            let field_ok = if urlencoded {
                url::form_urlencoded::parse(&bytes).any(|(k, v)| k == CSRF_FIELD && v == expected)
            } else {
                // A form with a file (no script needed): the token is one of its fields.
                crate::extract::multipart_field(&content_type, bytes.clone(), CSRF_FIELD)
                    .await
                    .is_some_and(|v| v.as_ref() == expected.as_bytes())
            };
            if !field_ok {
                return refuse(&parts);
            }
            body = Body::from(bytes);
        }
    }
    let token = existing.clone().unwrap_or_else(|| random_hex(32));
    parts.extensions.insert(CsrfToken(token.clone()));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if existing.is_none() {
        let secure = if app.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let value = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}
