//! The admin page's edit form as fields, and back: a matter's materials and windows are
//! edited one per line ("名称 | 原件 | 1 | 必要 …", "TY01 受理").

use super::{Material, MatterInput, WindowRight, code_of};
use crate::{
    error::{AppError, AppResult},
    extract::Fields,
};

fn yes(b: bool) -> String {
    if b { "1".into() } else { String::new() }
}

/// A matter as the edit form's fields.
pub(super) fn to_form(m: &MatterInput) -> Fields {
    let mut f = vec![
        ("code", m.code.clone()),
        ("parent", m.parent.clone().unwrap_or_default()),
        ("node", m.node.clone()),
        ("name", m.name.clone()),
        ("sort_order", m.sort_order.to_string()),
        ("type_code", m.type_code.clone()),
        ("department", m.department.clone()),
        ("level", m.level.clone()),
        ("kind", m.kind.clone()),
        ("legal_basis", m.legal_basis.clone()),
        ("conditions", m.conditions.clone()),
        ("process", m.process.clone()),
        (
            "legal_limit",
            m.legal_limit.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "promised_limit",
            m.promised_limit.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("limit_unit", m.limit_unit.clone()),
        ("special_procedures", m.special_procedures.clone()),
        ("fees", m.fees.clone()),
        ("fee_basis", m.fee_basis.clone()),
        ("notice_commitment", yes(m.notice_commitment)),
        ("consult_phone", m.consult_phone.clone()),
        ("complaint_phone", m.complaint_phone.clone()),
        ("duty_phone", m.duty_phone.clone()),
        ("place", m.place.clone()),
        ("hours", m.hours.clone()),
        ("delivery", m.delivery.clone()),
        ("notes", m.notes.clone()),
        ("list_kind", m.list_kind.clone()),
        ("list_category", m.list_category.clone()),
        ("outside", yes(m.outside)),
        ("outside_reason", m.outside_reason.clone()),
        ("review_form", m.review_form.join("\n")),
        ("review_content", m.review_content.join("\n")),
        (
            "materials",
            m.materials
                .iter()
                .map(material_line)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "windows",
            m.windows
                .iter()
                .map(|w| format!("{} {}", w.window, w.rights_label()))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    f.retain(|(_, v)| !v.is_empty());
    Fields(f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// "名称 | 原件 | 1 | 必要 | 容缺 | 示范文本 | 空白表格 | 说明".
fn material_line(m: &Material) -> String {
    let mut parts = vec![
        m.name.clone(),
        m.form_label().to_owned(),
        m.copies.to_string(),
        if m.required { "必要" } else { "非必要" }.to_owned(),
        if m.tolerable { "容缺" } else { "不容缺" }.to_owned(),
        m.sample.clone(),
        m.blank_form.clone(),
        m.note.clone(),
    ];
    while parts.len() > 5 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.join(" | ")
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The edit form's fields as a matter; malformed lines are refused with their number.
pub(super) fn from_form(f: &Fields, center: &str) -> AppResult<MatterInput> {
    let number = |name: &str, what: &str| -> AppResult<Option<i64>> {
        let t = f.get(name);
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| AppError::invalid_field(name, format!("{what}“{t}”不是整数")))
    };
    let mut materials = Vec::new();
    for (i, l) in lines(f.get("materials")).enumerate() {
        let p: Vec<&str> = l.split(['|', '｜']).map(str::trim).collect();
        let what = format!("申请材料第 {} 行", i + 1);
        let form = code_of(super::MATERIAL_FORMS, p.get(1).copied().unwrap_or("原件")).ok_or_else(
            || {
                AppError::invalid_field(
                    "materials",
                    format!("{what}：第二栏应为 原件、复印件 或 原件及复印件"),
                )
            },
        )?;
        let copies = match p.get(2).copied().unwrap_or("1") {
            "" => 1,
            t => t.parse().map_err(|_| {
                AppError::invalid_field("materials", format!("{what}：份数“{t}”不是整数"))
            })?,
        };
        materials.push(Material {
            name: p[0].to_owned(),
            form: form.into(),
            copies,
            required: !matches!(p.get(3).copied(), Some("非必要" | "可选" | "否")),
            tolerable: matches!(p.get(4).copied(), Some("容缺" | "是")),
            sample: p.get(5).copied().unwrap_or("").into(),
            blank_form: p.get(6).copied().unwrap_or("").into(),
            note: p.get(7).copied().unwrap_or("").into(),
        });
    }
    let mut windows = Vec::new();
    for (i, l) in lines(f.get("windows")).enumerate() {
        let mut p = l.split_whitespace();
        let window = p.next().unwrap_or("").to_owned();
        let rights =
            code_of(super::WINDOW_RIGHTS, p.next().unwrap_or("受理")).ok_or_else(|| {
                AppError::invalid_field(
                    "windows",
                    format!("受理窗口第 {} 行：权限应为“受理”或“收件”", i + 1),
                )
            })?;
        windows.push(WindowRight {
            window,
            rights: rights.into(),
            window_name: String::new(),
        });
    }
    let mut m = MatterInput {
        code: f.get("code").into(),
        parent: Some(f.get("parent").to_owned()).filter(|s| !s.is_empty()),
        center: center.into(),
        node: f.get("node").into(),
        name: f.get("name").into(),
        sort_order: number("sort_order", "排序")?.unwrap_or(0),
        type_code: f.get("type_code").into(),
        legal_limit: number("legal_limit", "法定时限")?,
        promised_limit: number("promised_limit", "承诺时限")?,
        notice_commitment: f.checked("notice_commitment"),
        outside: f.checked("outside"),
        materials,
        review_form: lines(f.get("review_form")).map(str::to_owned).collect(),
        review_content: lines(f.get("review_content")).map(str::to_owned).collect(),
        windows,
        ..MatterInput::default()
    };
    for (name, value) in m.texts_mut() {
        *value = f.get(name).into();
    }
    Ok(m)
}
