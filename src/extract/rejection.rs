//! What the net under the extractors answers ([`Rejected`]): an axum rejection's English said
//! again in Chinese ([`from_rejection_text`]), or the status's own message.

use axum::http::StatusCode;

use super::messages::{Origin, describe, ticked};
use super::params::{describe_parse, invalid_utf8};
use crate::error::{AppError, quote};

/// An error as the net under the extractors answers it ([`crate::web::error_shapes`]).
#[derive(Debug)]
pub struct Rejected {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl From<AppError> for Rejected {
    fn from(e: AppError) -> Self {
        e.log();
        Self {
            status: e.status(),
            code: e.code().into(),
            message: e.public_message(),
            field: e.field().map(quote),
        }
    }
}

/// serde messages that start without a path before them.
const SERDE_STARTS: [&str; 8] = [
    "missing field ",
    "unknown field ",
    "duplicate field ",
    "invalid type: ",
    "invalid value: ",
    "invalid length ",
    "unknown variant ",
    "invalid digit ",
];

/// `path: message` as serde_path_to_error writes it (no path when it is unknown).
fn split_path(text: &str) -> (&str, &str) {
    if SERDE_STARTS.iter().any(|s| text.starts_with(s)) {
        return ("", text);
    }
    text.split_once(": ").unwrap_or(("", text))
}

/// The text without serde_json's " at line L column C".
fn without_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(i) if text[i..].contains(" column ") => &text[..i],
        _ => text,
    }
}

/// Says again in Chinese what an axum rejection said in English (`text`, with its `status`),
/// naming the field; a text it does not know gets the status's Chinese message, never the
/// English.
pub fn from_rejection_text(status: StatusCode, text: &str) -> Rejected {
    let text = text.trim();
    let known = |prefix: &str| text.strip_prefix(prefix);
    if let Some(rest) = known("Failed to deserialize query string: ") {
        let (path, msg) = split_path(rest);
        return describe(Origin::Query, path, msg).into();
    }
    if let Some(rest) = known("Failed to deserialize the JSON body into the target type: ")
        .or_else(|| known("Failed to deserialize form body: "))
        .or_else(|| known("Failed to deserialize form: "))
    {
        let (path, msg) = split_path(without_position(rest));
        return describe(Origin::Body, path, msg).into();
    }
    if known("Failed to parse the request body as JSON").is_some() {
        return AppError::BadRequest("JSON 格式错误，无法解析".into()).into();
    }
    if known("Expected request with `Content-Type: application/json`").is_some() {
        return AppError::BadRequest("请求须为 JSON（Content-Type: application/json）".into())
            .into();
    }
    if known("Form requests must have").is_some() {
        return AppError::BadRequest("表单须以 application/x-www-form-urlencoded 提交".into())
            .into();
    }
    if let Some(rest) = known("Invalid URL: ") {
        if let Some(key) = rest.strip_prefix("Invalid UTF-8 in ") {
            let key = key.trim_matches('`');
            return invalid_utf8(key).into();
        }
        if let Some(rest) = rest.strip_prefix("Cannot parse ") {
            // The expected type is the last quoted word; the key the first, when given.
            let expected_type = rest.rsplit('`').nth(1).unwrap_or_default();
            let key = if rest.starts_with('`') && rest.contains("` with value `") {
                ticked(rest).unwrap_or_default()
            } else {
                ""
            };
            return describe_parse(key, expected_type).into();
        }
        return AppError::BadRequest("地址格式有误，请检查后重试".into()).into();
    }
    if text.contains("multipart/form-data") {
        return AppError::BadRequest("上传的表单格式错误，无法解析".into()).into();
    }
    if known("Request body didn't contain valid UTF-8").is_some() {
        return AppError::BadRequest("请求内容不是有效的 UTF-8 文字".into()).into();
    }
    by_status(status)
}

/// The Chinese message of a status whose body says nothing we can use.
fn by_status(status: StatusCode) -> Rejected {
    let (code, message) = match status.as_u16() {
        400 => ("bad_request", "请求格式有误，无法处理"),
        401 => ("unauthorized", "请先登录"),
        403 => ("forbidden", "没有权限执行此操作"),
        404 => ("not_found", "找不到该地址"),
        405 => ("method_not_allowed", "该地址不支持这种请求方式"),
        408 => ("timeout", "请求处理超时，请稍后再试"),
        409 => ("conflict", "与现有数据冲突"),
        413 => ("too_large", "请求内容过大"),
        415 => ("unsupported_media_type", "请求内容的类型不受支持"),
        422 => ("invalid", "提交的内容不符合要求"),
        429 => ("too_many_requests", "请求过于频繁，请稍后再试"),
        503 => ("unavailable", "服务暂时不可用，请稍后再试"),
        s if s >= 500 => {
            return AppError::internal(format!("an error response without a body ({status})"))
                .into();
        }
        _ => ("bad_request", "请求有误，无法处理"),
    };
    Rejected {
        status,
        code: code.into(),
        message: message.into(),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axum_rejection_texts_are_said_again_in_chinese() {
        let r = from_rejection_text(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: page: invalid digit found in string",
        );
        assert_eq!(r.field.as_deref(), Some("page"));
        assert_eq!(r.message, "查询参数页码（page）须为整数");
        let r = from_rejection_text(
            StatusCode::BAD_REQUEST,
            "Invalid URL: Invalid UTF-8 in `center`",
        );
        assert_eq!(r.field.as_deref(), Some("center"));
        assert!(r.message.contains("UTF-8"), "{}", r.message);
        let r = from_rejection_text(
            StatusCode::BAD_REQUEST,
            "Invalid URL: Cannot parse `id` with value `abc` to a `i64`",
        );
        assert_eq!(r.message, "地址中的“id”应为整数");
        let r = from_rejection_text(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Failed to deserialize the JSON body into the target type: kind: unknown variant \
             `x`, expected `a` or `b` at line 1 column 10",
        );
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.message, "字段类型（kind）的取值“x”无效，可选：a、b");
        // A text nobody knows gets its status's Chinese words, never the English.
        let r = from_rejection_text(StatusCode::NOT_FOUND, "Something else entirely");
        assert_eq!(r.message, "找不到该地址");
    }
}
