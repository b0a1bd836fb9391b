//! Forms: URL-encoded as name/value pairs ([`Fields`], keeping repeated names) and
//! `multipart/form-data` bodies already read ([`multipart_fields`]).

use axum::{
    body::to_bytes,
    extract::{FromRequest, Request},
};

use super::messages::{IntInput, int_range};
use crate::error::{AppError, AppResult};

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
    use crate::extract::int4;

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
