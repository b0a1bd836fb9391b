//! Control characters are refused at the edge, once, for every text input: the path, the query,
//! and JSON or form bodies. PostgreSQL rejects a NUL in text (a 500 deep in a handler) while
//! SQLite stores it; neither is input a person typed. Tab, line feed and carriage return pass
//! (text areas hold them); each field's own rules decide about those.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

use crate::app::App;

const MESSAGE: &str = "输入中含有不可见的控制字符（如 NUL），请删除后重试";

/// A control character other than tab, line feed and carriage return.
fn is_bad(b: u32) -> bool {
    (b < 0x20 && !matches!(b, 0x09 | 0x0a | 0x0d)) || b == 0x7f
}

/// Percent-decoded bytes of a path or a urlencoded text hold a control character.
fn percent_bad(text: &[u8]) -> bool {
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'%'
            && i + 2 < text.len()
            && let (Some(h), Some(l)) = (hex(text[i + 1]), hex(text[i + 2]))
        {
            if is_bad(h * 16 + l) {
                return true;
            }
            i += 3;
            continue;
        }
        if is_bad(u32::from(b)) {
            return true;
        }
        i += 1;
    }
    false
}

/// A JSON text holds a control character, raw or as an escape (`\u0000`, `\b`, `\f`).
fn json_bad(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if is_bad(u32::from(b)) {
            return true;
        }
        if b == b'\\' && i + 1 < text.len() {
            match text[i + 1] {
                b'b' | b'f' => return true,
                b'u' if i + 5 < text.len() => {
                    let code = std::str::from_utf8(&text[i + 2..i + 6])
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    if code.is_some_and(is_bad) {
                        return true;
                    }
                    i += 6;
                    continue;
                }
                _ => {
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    false
}

fn refuse(path: &str) -> Response {
    if path.starts_with("/api/") {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({"error": {"code": "invalid", "message": MESSAGE}})),
        )
            .into_response()
    } else {
        super::error_page(StatusCode::UNPROCESSABLE_ENTITY, MESSAGE)
    }
}

/// Middleware: refuses a request whose path, query, JSON or form body holds a control
/// character, before any handler or database sees it.
pub async fn refuse_control_chars(
    State(app): State<Arc<App>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let query_bad = req.uri().query().is_some_and(|q| percent_bad(q.as_bytes()));
    if percent_bad(path.as_bytes()) || query_bad {
        return refuse(&path);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let json = kind.starts_with("application/json");
    let form = kind.starts_with("application/x-www-form-urlencoded");
    if !json && !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return crate::error::AppError::BadRequest("请求内容过大".into()).into_response();
        }
    };
    if (json && json_bad(&bytes)) || (form && percent_bad(&bytes)) {
        return refuse(&path);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_raw_escaped_and_percent_encoded() {
        assert!(json_bad(br#"{"login":"a\u0000"}"#));
        assert!(json_bad(br#"{"zone":"\u001F"}"#));
        assert!(json_bad(br#"{"x":"\b"}"#));
        assert!(json_bad(b"{\"x\":\"a\x01\"}"));
        // An escaped backslash before b, tabs and newlines are text.
        assert!(!json_bad(br#"{"x":"C:\\b\n\t\u4e2d"}"#));
        assert!(!json_bad("{\"reason\":\"第一行\n第二行\"}".as_bytes()));
        assert!(percent_bad(b"/api/v1/centers/%00"));
        assert!(percent_bad(b"name=a%1b&x=1"));
        assert!(!percent_bad(b"q=%E8%BA%AB%E4%BB%BD%E8%AF%81&page=2"));
        assert!(!percent_bad(b"note=line%0Aline"));
        assert!(!percent_bad(b"100%"));
    }
}
