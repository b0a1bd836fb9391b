//! JSON bodies ([`ApiJson`], optional as `Option<ApiJson<T>>`) and JSON texts or values
//! parsed with the refusal naming the field.

use axum::{
    body::{Bytes, to_bytes},
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;

use super::messages::{Origin, describe};
use crate::error::{AppError, AppResult};

/// serde_json's message without its " at line L column C".
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Parses a JSON text as `T`, refusing it in Chinese (400 for malformed JSON and wrong types,
/// 422 for values a field cannot hold), with the field named.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let syntax = |e: &serde_json::Error| match e.classify() {
        serde_json::error::Category::Eof => {
            AppError::BadRequest("JSON 格式错误：内容不完整，无法解析".into())
        }
        _ => AppError::BadRequest(format!(
            "JSON 格式错误（第 {} 行第 {} 列），无法解析",
            e.line(),
            e.column()
        )),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                describe(Origin::Body, &path, &json_message(&inner))
            }
            _ => syntax(&inner),
        }
    })?;
    de.end().map_err(|e| syntax(&e))?;
    Ok(value)
}

/// Converts a JSON value already read into `T`, refusing it like [`from_json_slice`] but
/// always with 422 `invalid` (the body was JSON; this member breaks the rules of its field).
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        match describe(Origin::Body, &path, &json_message(e.inner())) {
            AppError::Malformed { field, message } => AppError::invalid_field(field, message),
            other => other,
        }
    })
}

/// JSON body; malformed or oversized input answers 400/413 with a Chinese message.
pub struct ApiJson<T>(pub T);

/// The body is JSON by its `Content-Type` (`application/json` or `…+json`).
fn is_json(parts_headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = parts_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn body_rejection(e: BytesRejection) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::BadRequest("请求内容过大".into())
    } else {
        AppError::BadRequest("请求内容无法读取".into())
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::BadRequest(
                "请求须为 JSON（Content-Type: application/json）".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        from_json_slice(&bytes).map(ApiJson)
    }
}

/// An optional JSON body (`Option<ApiJson<T>>`): an empty body is `None`, anything else must
/// be JSON as for [`ApiJson`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, usize::MAX)
            .await
            .map_err(|_| AppError::BadRequest("请求内容无法读取".into()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Zone {
        name: String,
        sort_order: i32,
    }

    #[test]
    fn json_errors_name_the_field_in_chinese() {
        let e = from_json_slice::<Zone>(br#"{"sort_order": 1}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.field(), Some("name"));
        assert_eq!(e.to_string(), "缺少必填的字段名称（name）");
        let e = from_json_slice::<Zone>(br#"{"name": "a", "sort_order": 2147483648}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            e.to_string(),
            "字段排序（sort_order）须为 -2147483648 到 2147483647 之间的整数"
        );
        let e = from_json_slice::<Zone>(br#"{"name": 5, "sort_order": 1}"#).unwrap_err();
        assert_eq!(e.to_string(), "字段名称（name）应为文本");
        let e = from_json_slice::<Zone>(br#"{"name": "a",,}"#).unwrap_err();
        assert!(e.to_string().starts_with("JSON 格式错误"), "{e}");
        let e = from_json_slice::<Zone>(br#"{"name": "a", "sort_order": 1} x"#).unwrap_err();
        assert!(e.to_string().starts_with("JSON 格式错误"), "{e}");
    }
}
