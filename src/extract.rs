//! Request-body extractors whose rejections speak Chinese and change nothing.

use axum::{
    body::to_bytes,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// JSON body; malformed or oversized input answers 400/413 with a Chinese message.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> AppError {
    match e {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::BadRequest("请求须为 JSON（Content-Type: application/json）".into())
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest("JSON 格式错误，无法解析".into()),
        JsonRejection::JsonDataError(err) => AppError::BadRequest(format!(
            "JSON 字段缺失或类型不符：{}",
            data_error_detail(&err.body_text())
        )),
        JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::BadRequest("请求内容过大".into())
        }
        _ => AppError::BadRequest("请求内容无法读取".into()),
    }
}

/// serde's message names the field; keep that part, drop the English around it.
fn data_error_detail(text: &str) -> String {
    let t = text
        .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        .to_owned();
    t.chars().take(160).collect()
}

/// A URL-encoded form as name/value pairs; keeps repeated names (check boxes).
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of `name` (a group of check boxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// True when `name` has `value` among its values (selected option, ticked box).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v.trim() == value)
    }

    /// A check box: present and not "0"/"false".
    pub fn checked(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(k, v)| k == name && v != "0" && v != "false")
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = to_bytes(req.into_body(), 1024 * 1024)
            .await
            .map_err(|_| AppError::BadRequest("提交的内容过大或不完整".into()))?;
        Ok(Fields(
            url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}
