//! Parsing of names and codes at the edge: what passes here is safe to store.

use crate::error::AppError;

/// "找不到{by}为“{key}”的{what}" (404), the key quoted: a record named by the request is absent.
pub fn missing(by: &str, key: &str, what: &str) -> AppError {
    AppError::NotFound(format!(
        "找不到{by}为“{}”的{what}",
        crate::error::quote(key)
    ))
}

/// A display name: trimmed, 1–64 characters, no control characters.
pub fn name(raw: &str, what: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(AppError::Invalid(format!("{what}不能为空")));
    }
    if s.chars().count() > 64 {
        return Err(AppError::Invalid(format!("{what}不能超过 64 个字符")));
    }
    if s.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!("{what}不能包含控制字符")));
    }
    Ok(s.to_owned())
}

/// A code: 1–32 letters, digits, `-` or `_`.
pub fn code(raw: &str, what: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(AppError::Invalid(format!("{what}不能为空")));
    }
    if s.len() > 32
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AppError::Invalid(format!(
            "{what}只能由字母、数字、“-”或“_”组成，且不超过 32 个字符"
        )));
    }
    Ok(s.to_owned())
}

/// A region code (行政区划代码): 6 digits, or the 9/12-digit statistical codes for
/// townships and villages.
pub fn region_code(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if matches!(s.len(), 6 | 9 | 12) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(AppError::Invalid("区划代码应为 6、9 或 12 位数字".into()))
    }
}

/// Optional free text (address, phone): trimmed, at most `max` characters.
pub fn text(raw: &str, what: &str, max: usize) -> Result<String, AppError> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(AppError::Invalid(format!("{what}不能超过 {max} 个字符")));
    }
    if s.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!("{what}不能包含控制字符")));
    }
    Ok(s.to_owned())
}

/// A login: 2–32 lowercase letters, digits, `.`, `-` or `_`, starting with a letter.
pub fn login(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    let ok = (2..=32).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_'
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(AppError::Invalid(
            "登录名须以小写字母开头，由 2–32 个小写字母、数字、“.”“-”“_”组成".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(
            name("  通用综合受理1 ", "窗口名称").unwrap(),
            "通用综合受理1"
        );
        let e = name("   ", "窗口名称").unwrap_err();
        assert_eq!(e.to_string(), "窗口名称不能为空");
        assert!(name(&"长".repeat(65), "名称").is_err());
    }

    #[test]
    fn codes_allow_only_safe_characters() {
        assert!(code("GX-01", "编码").is_ok());
        assert!(code("a b", "编码").is_err());
        assert!(code("窗口", "编码").is_err());
    }

    #[test]
    fn region_codes_have_six_nine_or_twelve_digits() {
        assert!(region_code("360704").is_ok());
        assert!(region_code("360704101").is_ok());
        assert!(region_code("36070").is_err());
        assert!(region_code("36070a").is_err());
    }

    #[test]
    fn logins_are_lowercase_identifiers() {
        assert!(login("clerk1").is_ok());
        assert!(login("Clerk").is_err());
        assert!(login("1abc").is_err());
    }
}
