//! Checks of a submitted matter: codes, lengths, code lists, limits; no database.

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MANDATED_CATEGORIES, MATERIAL_FORMS, Material,
    MatterInput, WINDOW_RIGHTS, WindowRight, code_of,
};
use crate::error::{AppError, AppResult};

pub(super) fn bad(msg: impl Into<String>) -> AppError {
    AppError::Invalid(msg.into())
}

/// The same refusal, naming the input it is about (`name`, `materials[2].form`).
pub(super) fn bad_field(field: impl Into<String>, msg: impl Into<String>) -> AppError {
    AppError::invalid_field(field, msg)
}

/// Names the input a check of one value refused.
fn on(field: impl Into<String>) -> impl FnOnce(AppError) -> AppError {
    move |e| match e {
        AppError::Invalid(msg) => AppError::invalid_field(field, msg),
        e => e,
    }
}

/// 事项编号: 1–64 letters, digits, `-`, `_` or `.`.
pub fn parse_code(raw: &str) -> AppResult<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad("事项编号不能为空"));
    }
    if s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad(format!(
            "事项编号“{s}”无效：只能由字母、数字、“-”“_”“.”组成，且不超过 64 个字符"
        )));
    }
    Ok(s.to_owned())
}

fn line(raw: &str, what: &str, max: usize) -> AppResult<String> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(bad(format!("{what}不能超过 {max} 个字符")));
    }
    if s.chars().any(char::is_control) {
        return Err(bad(format!("{what}不能包含换行或控制字符")));
    }
    Ok(s.to_owned())
}

fn long(raw: &str, what: &str) -> AppResult<String> {
    let s = raw.trim().replace("\r\n", "\n");
    if s.chars().count() > 20_000 {
        return Err(bad(format!("{what}不能超过 20000 个字符")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(bad(format!("{what}不能包含控制字符")));
    }
    Ok(s)
}

fn pick(list: &[super::Code], raw: &str, what: &str, allow_empty: bool) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() && allow_empty {
        return Ok(String::new());
    }
    code_of(list, t).map(str::to_owned).ok_or_else(|| {
        let options: Vec<&str> = list.iter().map(|(_, l)| *l).collect();
        bad(format!("{what}“{t}”无效，应为：{}", options.join("、")))
    })
}

/// Checks and normalises a submission; does not touch the database.
pub fn normalise(m: &MatterInput) -> AppResult<MatterInput> {
    let code = parse_code(&m.code).map_err(on("code"))?;
    let name = line(&m.name, "事项名称", 200).map_err(on("name"))?;
    if name.is_empty() {
        return Err(bad_field("name", "事项名称不能为空"));
    }
    let node = match m.node.trim() {
        "" | "matter" | "事项" => "matter",
        "category" | "目录" => "category",
        other => {
            return Err(bad_field(
                "node",
                format!("节点类型“{other}”无效，应为：目录、事项"),
            ));
        }
    };
    let is_matter = node == "matter";
    let kind = pick(CASE_KINDS, &m.kind, "办件类型", !is_matter).map_err(on("kind"))?;
    let level = pick(LEVELS, &m.level, "层级", true).map_err(on("level"))?;
    let limit_unit = if m.limit_unit.trim().is_empty() {
        "working_days".to_owned()
    } else {
        pick(LIMIT_UNITS, &m.limit_unit, "时限单位", false).map_err(on("limit_unit"))?
    };
    let list_kind = if m.list_kind.trim().is_empty() {
        if is_matter { "booking" } else { "none" }.to_owned()
    } else {
        pick(LIST_KINDS, &m.list_kind, "目录类别", false).map_err(on("list_kind"))?
    };
    let list_category = line(&m.list_category, "目录大类", 32).map_err(on("list_category"))?;
    if list_kind == "mandated" && !MANDATED_CATEGORIES.contains(&list_category.as_str()) {
        return Err(bad_field(
            "list_category",
            format!(
                "列入延时错时规定目录的事项须注明大类，应为：{}",
                MANDATED_CATEGORIES.join("、")
            ),
        ));
    }
    for (field, what, v) in [
        ("legal_limit", "法定时限", m.legal_limit),
        ("promised_limit", "承诺时限", m.promised_limit),
    ] {
        if let Some(n) = v
            && !(0..=3650).contains(&n)
        {
            return Err(bad_field(field, format!("{what}应在 0 到 3650 之间")));
        }
    }
    if let (Some(l), Some(p)) = (m.legal_limit, m.promised_limit)
        && p > l
    {
        return Err(bad_field("promised_limit", "承诺时限不能超过法定时限"));
    }
    if is_matter {
        check_kind_and_limit(&kind, m.promised_limit, &limit_unit)?;
    }
    let outside_reason =
        line(&m.outside_reason, "负面清单原因", 200).map_err(on("outside_reason"))?;
    if m.outside && outside_reason.is_empty() {
        return Err(bad_field(
            "outside_reason",
            "列入负面清单的事项须写明不进驻大厅的原因",
        ));
    }
    let mut materials = Vec::new();
    for (i, mat) in m.materials.iter().enumerate() {
        let what = format!("第 {} 项材料", i + 1);
        let name = line(&mat.name, &format!("{what}的名称"), 200)
            .map_err(on(format!("materials[{i}].name")))?;
        if name.is_empty() {
            return Err(bad_field(
                format!("materials[{i}].name"),
                format!("{what}的名称不能为空"),
            ));
        }
        if !(0..=99).contains(&mat.copies) {
            return Err(bad_field(
                format!("materials[{i}].copies"),
                format!("{what}的份数应在 0 到 99 之间"),
            ));
        }
        materials.push(Material {
            name,
            form: pick(
                MATERIAL_FORMS,
                &mat.form,
                &format!("{what}的原件/复印件"),
                false,
            )
            .map_err(on(format!("materials[{i}].form")))?,
            copies: mat.copies,
            required: mat.required,
            tolerable: mat.tolerable,
            sample: line(&mat.sample, &format!("{what}的示范文本"), 500)
                .map_err(on(format!("materials[{i}].sample")))?,
            blank_form: line(&mat.blank_form, &format!("{what}的空白表格"), 500)
                .map_err(on(format!("materials[{i}].blank_form")))?,
            note: line(&mat.note, &format!("{what}的说明"), 500)
                .map_err(on(format!("materials[{i}].note")))?,
        });
    }
    let points = |v: &[String], what: &str, field: &str| -> AppResult<Vec<String>> {
        v.iter()
            .enumerate()
            .map(|(i, p)| line(p, what, 500).map_err(on(format!("{field}[{i}]"))))
            .filter(|p| !matches!(p, Ok(s) if s.is_empty()))
            .collect()
    };
    let mut windows: Vec<WindowRight> = Vec::new();
    for (i, w) in m.windows.iter().enumerate() {
        let window = w.window.trim().to_owned();
        if window.is_empty() {
            continue;
        }
        let rights = pick(WINDOW_RIGHTS, &w.rights, "窗口权限", false)
            .map_err(on(format!("windows[{i}].rights")))?;
        if windows.iter().any(|x| x.window == window) {
            return Err(bad_field(
                format!("windows[{i}]"),
                format!("窗口“{window}”重复列出"),
            ));
        }
        windows.push(WindowRight {
            window,
            rights,
            window_name: String::new(),
        });
    }
    windows.sort_by(|a, b| a.window.cmp(&b.window));
    let parent = match m.parent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(parse_code(p).map_err(on("parent"))?),
    };
    if parent.as_deref() == Some(code.as_str()) {
        return Err(bad_field("parent", "事项不能以自己为上级"));
    }
    let center = m.center.trim().to_owned();
    if center.is_empty() {
        return Err(bad_field("center", "请注明所属中心编码"));
    }
    Ok(MatterInput {
        code,
        parent,
        center,
        node: node.into(),
        name,
        sort_order: m.sort_order,
        type_code: m.type_code.trim().to_owned(),
        department: line(&m.department, "实施部门", 100).map_err(on("department"))?,
        level,
        kind,
        legal_basis: long(&m.legal_basis, "设定依据").map_err(on("legal_basis"))?,
        conditions: long(&m.conditions, "受理条件").map_err(on("conditions"))?,
        process: long(&m.process, "办理流程").map_err(on("process"))?,
        legal_limit: m.legal_limit,
        promised_limit: m.promised_limit,
        limit_unit,
        special_procedures: long(&m.special_procedures, "特别程序")
            .map_err(on("special_procedures"))?,
        fees: long(&m.fees, "收费标准").map_err(on("fees"))?,
        fee_basis: long(&m.fee_basis, "收费依据").map_err(on("fee_basis"))?,
        notice_commitment: m.notice_commitment,
        consult_phone: line(&m.consult_phone, "咨询电话", 100).map_err(on("consult_phone"))?,
        complaint_phone: line(&m.complaint_phone, "投诉电话", 100)
            .map_err(on("complaint_phone"))?,
        duty_phone: line(&m.duty_phone, "总值班电话", 100).map_err(on("duty_phone"))?,
        place: line(&m.place, "办理地点", 200).map_err(on("place"))?,
        hours: line(&m.hours, "办理时间", 200).map_err(on("hours"))?,
        delivery: line(&m.delivery, "送达方式", 200).map_err(on("delivery"))?,
        notes: long(&m.notes, "备注").map_err(on("notes"))?,
        list_kind,
        list_category,
        outside: m.outside,
        outside_reason,
        materials,
        review_form: points(&m.review_form, "形式审查要点", "review_form")?,
        review_content: points(&m.review_content, "内容审查要点", "review_content")?,
        windows,
    })
}

/// The longest promise a 即办件 may carry when counted in hours: one working day.
const IMMEDIATE_MAX_HOURS: i64 = 8;

/// 办件类型 and 承诺时限 agree (seed 003 §(四)1(3)): a 即办件 is done on the spot or the
/// same day, so it promises no days; a 承诺件 promises a time, so not 0 (that is a 即办件).
pub fn check_kind_and_limit(kind: &str, promised: Option<i64>, unit: &str) -> AppResult<()> {
    match (kind, promised) {
        ("immediate", Some(p)) if p > 0 && !(unit == "hours" && p <= IMMEDIATE_MAX_HOURS) => {
            Err(bad_field(
                "kind",
                format!(
                    "即办件须当场或当日办结，不能承诺 {p} 个{}；需要办理时限的事项请选“承诺件”",
                    super::label(LIMIT_UNITS, unit)
                ),
            ))
        }
        ("promised", Some(0)) => Err(bad_field(
            "kind",
            "承诺时限为 0 即当场办结，应选“即办件”；承诺件请填写承诺办结时限",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matter(kind: &str, promised: Option<i64>, unit: &str) -> MatterInput {
        MatterInput {
            code: "T-1".into(),
            center: "GX".into(),
            name: "测试事项".into(),
            kind: kind.into(),
            legal_limit: Some(60),
            promised_limit: promised,
            limit_unit: unit.into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_immediate_matter_promises_no_days() {
        let e = normalise(&matter("immediate", Some(20), "days")).unwrap_err();
        assert_eq!(e.field(), Some("kind"));
        assert!(
            e.public_message()
                .contains("即办件须当场或当日办结，不能承诺 20 个自然日")
        );
        assert!(normalise(&matter("immediate", Some(0), "working_days")).is_ok());
        assert!(normalise(&matter("immediate", None, "")).is_ok());
        assert!(normalise(&matter("immediate", Some(2), "hours")).is_ok());
        assert!(normalise(&matter("immediate", Some(24), "hours")).is_err());
        // A law may allow 60 days for what the hall does on the spot.
        assert!(normalise(&matter("immediate", None, "days")).is_ok());
    }

    #[test]
    fn a_promised_matter_promises_a_time() {
        let e = normalise(&matter("promised", Some(0), "working_days")).unwrap_err();
        assert!(e.public_message().contains("应选“即办件”"));
        assert!(normalise(&matter("promised", Some(20), "days")).is_ok());
        assert!(normalise(&matter("promised", None, "")).is_ok());
        // Categories carry no kind.
        let mut c = matter("", Some(0), "");
        c.node = "category".into();
        assert!(normalise(&c).is_ok());
    }
}
