//! The query string ([`Query`]) and the path's parameters ([`Path`]), a parameter that does
//! not parse named in Chinese.

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

use super::messages::{Origin, describe, expected, field_name};
use crate::error::{AppError, quote};

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
        ErrorKind::InvalidUtf8InPathParam { key } => invalid_utf8(&key),
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

/// A path parameter that is not UTF-8 once percent-decoded (`%FF`).
pub(super) fn invalid_utf8(key: &str) -> AppError {
    AppError::malformed(
        quote(key),
        format!(
            "{}不是有效的 UTF-8 文字（如 %FF），请检查地址",
            field_name(Origin::Path, key)
        ),
    )
}

/// A path parameter that is not of its type (`Cannot parse "abc" to a "i64"`).
pub(super) fn describe_parse(key: &str, expected_type: &str) -> AppError {
    let predicate = format!("应为{}", expected(expected_type));
    let message = if key.is_empty() {
        format!("地址中的参数{predicate}")
    } else {
        format!("{}{predicate}", field_name(Origin::Path, key))
    };
    AppError::malformed(quote(key), message)
}
