//! Extractors whose rejections speak Chinese, name the input and change nothing: JSON bodies
//! ([`ApiJson`]), query strings ([`Query`]), path parameters ([`Path`]) and forms ([`Fields`]).
//!
//! serde's English ("missing field `name` at line 1 column 2") is never shown: [`describe`]
//! turns it into a Chinese sentence that names the field. A value of the wrong type answers
//! 400 `bad_request`; a value of the right type that its field cannot hold (an integer
//! outside its column's range, an unknown variant) answers 422 `invalid`. Both carry `field`.
//!
//! Integers bound for an `integer` column (int4 on PostgreSQL; SQLite would take any `i64`,
//! and the engines would disagree) are checked with [`int4`], or read as `i32`, whose serde
//! refusal says the same; forms parse with [`Fields::int`]. All say it with [`int_range`].

use axum::{
    body::{Bytes, to_bytes},
    extract::{FromRequest, FromRequestParts, Request, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, quote};

/// Where a malformed input was found, for the message that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A member of a JSON body.
    Body,
    /// A query-string parameter.
    Query,
    /// A parameter of the address's path.
    Path,
}

/// An integer type of an input, with the range its column holds.
pub trait IntInput: std::str::FromStr<Err = std::num::ParseIntError> + Copy {
    const MIN: i128;
    const MAX: i128;
}

impl IntInput for i32 {
    const MIN: i128 = i32::MIN as i128;
    const MAX: i128 = i32::MAX as i128;
}

impl IntInput for i64 {
    const MIN: i128 = i64::MIN as i128;
    const MAX: i128 = i64::MAX as i128;
}

/// What an integer input outside its type's range is told: "须为 … 到 … 之间的整数".
pub fn int_range<T: IntInput>() -> String {
    int_range_of(T::MIN, T::MAX)
}

fn int_range_of(min: i128, max: i128) -> String {
    format!("须为 {min} 到 {max} 之间的整数")
}

/// Checks an integer input bound for an `integer` column (int4 on PostgreSQL): the one range
/// check of such inputs, for the API and the forms alike (a form parses with [`Fields::int`]
/// first). Refuses with 422 naming `field`, e.g. "排序须为 -2147483648 到 2147483647 之间的整数".
pub fn int4(value: i64, field: &str, label: &str) -> AppResult<i32> {
    i32::try_from(value)
        .map_err(|_| AppError::invalid_field(field, format!("{label}{}", int_range::<i32>())))
}

/// The range of a Rust integer type named by serde ("i32", "u8" …).
fn range_of_type(name: &str) -> Option<(i128, i128)> {
    Some(match name {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// How a field is named in a message: `排序（sort_order）`, `查询参数“page”`.
pub fn field_name(origin: Origin, path: &str) -> String {
    let path = quote(path);
    let last = path
        .rsplit('.')
        .next()
        .unwrap_or(&path)
        .split('[')
        .next()
        .unwrap_or_default();
    let label = crate::audit_labels::field_label(last);
    let named = if label != last && !last.is_empty() {
        format!("{label}（{path}）")
    } else {
        format!("“{path}”")
    };
    match origin {
        Origin::Body => format!("字段{named}"),
        Origin::Query => format!("查询参数{named}"),
        Origin::Path => format!("地址中的{named}"),
    }
}

/// A serde expectation in Chinese ("i32" → 整数, "a string" → 文本).
fn expected(text: &str) -> String {
    let t = text.trim();
    if range_of_type(t).is_some() || t == "i128" || t == "u128" {
        return "整数".into();
    }
    if has_chinese(t) {
        return quote(t);
    }
    match t {
        "f32" | "f64" | "a number" => "数字",
        "a string" | "a borrowed string" | "string" | "String" | "a string or bytes" => "文本",
        "a boolean" | "bool" => "true 或 false",
        "a character" | "char" => "单个字符",
        "a sequence" => "数组",
        "a map" => "对象",
        "unit" => "null",
        _ if t.starts_with("struct ") || t.starts_with("a map") => "对象",
        _ if t.starts_with("a sequence")
            || t.starts_with("an array")
            || t.starts_with("a tuple") =>
        {
            "数组"
        }
        _ if t.starts_with("one of") || t.starts_with('`') => "规定的取值之一",
        _ => "符合要求的值",
    }
    .into()
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The words between the first pair of backticks.
fn ticked(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('`')?;
    Some(rest.split_once('`').map_or(rest, |(w, _)| w))
}

/// What a parser said about one input, as a Chinese predicate: whether the value was of the
/// right type but not allowed (422) or not understood (400), and the words after the field's
/// name. `message` is serde's (or a `FromStr`'s) text for the value at `path`.
pub fn describe(origin: Origin, path: &str, message: &str) -> AppError {
    let path = match path {
        "." | "?" => "",
        p => p,
    };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let m = message.trim();
    // (field, value error, predicate)
    let (field, value, predicate) = if let Some(rest) = m.strip_prefix("missing field ") {
        let name = ticked(rest).unwrap_or(rest);
        let field = join(name);
        let msg = format!("缺少必填的{}", field_name(origin, &field));
        return AppError::malformed(quote(&field), msg);
    } else if let Some(rest) = m.strip_prefix("unknown field ") {
        let name = ticked(rest).unwrap_or(rest);
        let field = join(name);
        let msg = format!("不认识的{}，请检查拼写", field_name(origin, &field));
        return AppError::malformed(quote(&field), msg);
    } else if let Some(rest) = m.strip_prefix("duplicate field ") {
        let field = join(ticked(rest).unwrap_or(rest));
        let msg = format!("{}重复出现", field_name(origin, &field));
        return AppError::malformed(quote(&field), msg);
    } else if let Some(rest) = m.strip_prefix("invalid type: ") {
        let exp = rest.rsplit_once(", expected ").map_or("", |(_, e)| e);
        (path.to_owned(), false, format!("应为{}", expected(exp)))
    } else if let Some(rest) = m.strip_prefix("invalid value: ") {
        let exp = rest.rsplit_once(", expected ").map_or("", |(_, e)| e);
        let predicate = match range_of_type(exp.trim()) {
            Some((min, max)) => int_range_of(min, max),
            None => format!("须为{}", expected(exp)),
        };
        (path.to_owned(), true, predicate)
    } else if let Some(rest) = m.strip_prefix("invalid length ") {
        let exp = rest.split_once(", expected ").map_or("", |(_, e)| e);
        (
            path.to_owned(),
            true,
            format!("长度不符，应为{}", expected(exp)),
        )
    } else if let Some(rest) = m.strip_prefix("unknown variant ") {
        let got = ticked(rest).unwrap_or_default();
        let options: Vec<&str> = rest
            .split_once("expected ")
            .map_or("", |(_, e)| e)
            .split('`')
            .skip(1)
            .step_by(2)
            .take(20)
            .collect();
        let predicate = if options.is_empty() {
            format!("的取值“{}”无效", quote(got))
        } else {
            format!("的取值“{}”无效，可选：{}", quote(got), options.join("、"))
        };
        (path.to_owned(), true, predicate)
    } else {
        // A `FromStr` or a custom deserializer: the standard library's number errors, or a
        // message of our own (Chinese, kept).
        let predicate = match m {
            "invalid digit found in string" => "须为整数".to_owned(),
            "cannot parse integer from empty string" => "不能为空，须为整数".to_owned(),
            "number too large to fit in target type" | "number too small to fit in target type" => {
                "超出可接受的整数范围".to_owned()
            }
            "invalid float literal" => "须为数字".to_owned(),
            "provided string was not `true` or `false`" => "须为 true 或 false".to_owned(),
            _ if has_chinese(m) => format!("有误：{}", quote_long(m)),
            _ => "格式不符合要求".to_owned(),
        };
        let value = has_chinese(m) || m.starts_with("number too");
        (path.to_owned(), value, predicate)
    };
    let message = if field.is_empty() {
        match origin {
            Origin::Body => format!("请求内容{predicate}"),
            Origin::Query => format!("查询参数{predicate}"),
            Origin::Path => format!("地址{predicate}"),
        }
    } else {
        format!("{}{predicate}", field_name(origin, &field))
    };
    let field = quote(&field);
    if value {
        AppError::invalid_field(field, message)
    } else {
        AppError::malformed(field, message)
    }
}

/// A message of our own kept whole when short, else cut like any quoted input.
fn quote_long(text: &str) -> String {
    match text.char_indices().nth(120) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

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

/// The query string as `T`; a parameter that does not parse is named in Chinese (400, or
/// 422 for a value its field cannot hold).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| describe(Origin::Query, &e.path().to_string(), &e.inner().to_string()))
    }
}

/// The path's parameters as `T`; one that does not parse (not a number, not UTF-8 after
/// percent-decoding, `%FF`) is named in Chinese.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => {
                // The names of the parameters, for errors that give only an index.
                let names: Vec<String> =
                    axum::extract::RawPathParams::from_request_parts(parts, state)
                        .await
                        .map(|p| p.iter().map(|(k, _)| k.to_owned()).collect())
                        .unwrap_or_default();
                Err(path_rejection(rejection, &names))
            }
        }
    }
}

fn path_rejection(
    rejection: axum::extract::rejection::PathRejection,
    names: &[String],
) -> AppError {
    use axum::extract::path::ErrorKind;
    use axum::extract::rejection::PathRejection;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return AppError::internal("path parameters missing from the route");
    };
    let only = if names.len() == 1 {
        names[0].as_str()
    } else {
        ""
    };
    match e.into_kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => AppError::malformed(
            quote(&key),
            format!(
                "{}不是有效的 UTF-8 文字（如 %FF），请检查地址",
                field_name(Origin::Path, &key)
            ),
        ),
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => describe_parse(&key, expected_type),
        ErrorKind::ParseErrorAtIndex {
            index,
            expected_type,
            ..
        } => describe_parse(names.get(index).map_or("", String::as_str), expected_type),
        ErrorKind::ParseError { expected_type, .. } => describe_parse(only, expected_type),
        ErrorKind::DeserializeError { key, message, .. } => describe(Origin::Path, &key, &message),
        ErrorKind::Message(message) => describe(Origin::Path, only, &message),
        ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. } => {
            AppError::internal("path parameters do not fit the handler")
        }
        _ => AppError::BadRequest("地址格式有误，请检查后重试".into()),
    }
}

/// A path parameter that is not of its type (`Cannot parse "abc" to a "i64"`).
fn describe_parse(key: &str, expected_type: &str) -> AppError {
    let predicate = format!("应为{}", expected(expected_type));
    let message = if key.is_empty() {
        format!("地址中的参数{predicate}")
    } else {
        format!("{}{predicate}", field_name(Origin::Path, key))
    };
    AppError::malformed(quote(key), message)
}

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
            return AppError::malformed(
                quote(key),
                format!(
                    "{}不是有效的 UTF-8 文字（如 %FF），请检查地址",
                    field_name(Origin::Path, key)
                ),
            )
            .into();
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

/// The address the request came from (the peer of the connection, as the per-IP rate limit
/// sees it); the unspecified address where the server was started without it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddr(ip))
    }
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

    /// An integer field as the type of its column (`i32` for an `integer` column, see the
    /// module's note): `None` when empty; text, or a number the type cannot hold, is refused
    /// (422) with `label` and the range ([`int_range`]).
    pub fn int<T: IntInput>(&self, name: &str, label: &str) -> AppResult<Option<T>> {
        let text = self.get(name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<T>().map(Some).map_err(|e| {
            let predicate = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    int_range::<T>()
                }
                _ => "须为整数".to_owned(),
            };
            AppError::invalid_field(name, format!("{label}{predicate}"))
        })
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

    #[test]
    fn a_form_integer_is_parsed_as_its_column_type() {
        let f = Fields(vec![
            ("sort_order".into(), "2147483648".into()),
            ("limit".into(), "abc".into()),
        ]);
        let e = f.int::<i32>("sort_order", "排序").unwrap_err();
        assert_eq!(
            e.to_string(),
            "排序须为 -2147483648 到 2147483647 之间的整数"
        );
        assert_eq!(
            f.int::<i64>("sort_order", "排序").unwrap(),
            Some(2_147_483_648)
        );
        assert_eq!(
            f.int::<i64>("limit", "受理时限").unwrap_err().to_string(),
            "受理时限须为整数"
        );
        assert_eq!(f.int::<i64>("missing", "x").unwrap(), None);
        assert!(int4(2_147_483_648, "sort_order", "排序").is_err());
        assert_eq!(
            int4(-2_147_483_648, "sort_order", "排序").unwrap(),
            i32::MIN
        );
    }
}
