//! The Chinese sentences of a refused input: where it was found ([`Origin`]), how its field is
//! named ([`field_name`]), what serde (or a `FromStr`) said of it ([`describe`]), and the ranges
//! of integer inputs ([`int_range`], [`int4`]).

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
pub(super) fn expected(text: &str) -> String {
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
pub(super) fn ticked(text: &str) -> Option<&str> {
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
