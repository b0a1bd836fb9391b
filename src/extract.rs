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

/// The named field of a `multipart/form-data` body, if it has one (the first of that name).
pub async fn multipart_field(
    content_type: &str,
    body: axum::body::Bytes,
    name: &str,
) -> Option<axum::body::Bytes> {
    multipart_fields(content_type, body)
        .await
        .ok()?
        .into_iter()
        .find(|f| f.name == name)
        .map(|f| f.data)
}

/// One field of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    /// The file's name, for a file field.
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: axum::body::Bytes,
}

/// The fields of a `multipart/form-data` body already read (the CSRF layer has read it, and
/// the body limit bounds it).
pub async fn multipart_fields(
    content_type: &str,
    body: axum::body::Bytes,
) -> Result<Vec<Part>, crate::error::AppError> {
    let bad = || crate::error::AppError::BadRequest("上传的表单格式错误，无法解析".into());
    let boundary = multer::parse_boundary(content_type).map_err(|_| bad())?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.map_err(|_| bad())?;
        parts.push(Part {
            name,
            file_name,
            content_type,
            data,
        });
    }
    Ok(parts)
}
