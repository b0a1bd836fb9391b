//! Every error answers in one of two shapes: under `/api/` the JSON body
//! `{"error":{"code","message"}}`, elsewhere the HTML error page, both in Chinese.
//!
//! Handlers and [`crate::extract`]'s extractors already answer so. This middleware is the net
//! under what they do not reach: axum's own rejections (its `Path`, `Query` and `Json`, still
//! used by some areas, answer English `text/plain`), an empty body (a timeout), and JSON errors
//! on a page's address. It reads the English text the rejection carries (bounded) and says it
//! again in Chinese with [`crate::extract::from_rejection_text`], naming the field.

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::extract::{Rejected, from_rejection_text};

/// How much of a body to read to say it again; rejection texts are short.
const READ_LIMIT: usize = 64 * 1024;

/// The addresses that answer plain text by design (probes and Prometheus).
fn plain_by_design(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics")
}

fn content_type(response: &Response) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Middleware: rewrites an error response that is not in its address's shape.
pub async fn uniform_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let api = path.starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || plain_by_design(&path) {
        return response;
    }
    let kind = content_type(&response);
    let json = kind.starts_with("application/json");
    if (api && json) || (!api && kind.starts_with("text/html")) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, READ_LIMIT)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let rejected = if json {
        // A JSON error on a page's address: its message, as a page.
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .map(|message| Rejected {
                status,
                code: "error".into(),
                message,
                field: None,
            })
            .unwrap_or_else(|| from_rejection_text(status, ""))
    } else {
        from_rejection_text(status, &text)
    };
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
    ] {
        parts.headers.remove(name);
    }
    let mut fresh = if api {
        let mut error = serde_json::json!({"code": rejected.code, "message": rejected.message});
        if let Some(field) = &rejected.field {
            error["field"] = field.as_str().into();
        }
        (
            rejected.status,
            axum::Json(serde_json::json!({ "error": error })),
        )
            .into_response()
    } else {
        super::error_page(rejected.status, &rejected.message)
    };
    for (name, value) in parts.headers.iter() {
        if !fresh.headers().contains_key(name) {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if api {
        fresh.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let (mut fresh_parts, fresh_body) = fresh.into_parts();
    fresh_parts.extensions = parts.extensions;
    Response::from_parts(fresh_parts, fresh_body)
}
