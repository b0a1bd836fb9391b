//! What the cases' use cases take: the request bodies, and the checks of applicant, agent,
//! review points and texts that need no database.

use super::*;

/// The applicant: a person with an ID-card number, or a company with its credit code.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct ApplicantInput {
    pub name: String,
    pub id_card: Option<String>,
    pub credit_code: Option<String>,
    pub phone: Option<String>,
}

/// Who acts for the applicant (帮办代办).
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct AgentInput {
    pub name: String,
    pub id_card: String,
}

/// A new application at the window.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct IntakeInput {
    /// The center's code; by default the situation's own center.
    pub center: Option<String>,
    /// The situation's (办事情形) matter code.
    pub situation: String,
    pub applicant: ApplicantInput,
    pub agent: Option<AgentInput>,
    /// Today's ticket number the applicant was called with (A023).
    pub ticket: Option<String>,
    /// The window's code; by default the caller's window that holds rights for the matter.
    pub window: Option<String>,
    /// Positions (from 1) of the materials received; by default all of them.
    pub received: Option<Vec<i64>>,
    /// The review points ticked, as `form:1`, `content:2`.
    pub checked: Option<Vec<String>>,
}

/// 受理, with 容缺 materials, 告知承诺 or a fast track.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct AcceptInput {
    /// Positions of 容缺-able materials accepted missing, to be supplied by `supply_by`.
    pub tolerated: Vec<i64>,
    /// The day the 容缺 materials are due (default: five working days on).
    pub supply_by: Option<String>,
    /// Decide on the applicant's written commitment (告知承诺), where the matter allows it.
    pub commitment: bool,
    /// 特事特办: the reason for the fast track.
    pub fast_track: Option<String>,
    /// The case's kind where the clerk judges it differs from the matter's: `promised`,
    /// `joint` (联办件) or `reported` (上报件).
    pub kind: Option<String>,
    /// 联办件: the co-departments and their step limits.
    pub joint: Vec<TaskInput>,
}

/// The back office's decision.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct DecideInput {
    /// `approved` or `rejected`.
    pub decision: String,
    /// The reasons (required for a rejection).
    pub note: String,
    /// The fee in fen where the matter's 收费标准 names no amount (0: nothing to pay); by
    /// default the amount the standard names.
    pub fee_fen: Option<i64>,
}

/// 出件.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[schema(as = CaseIssueInput)]
#[serde(default)]
pub struct IssueInput {
    /// `onsite` (identity checked at the window) or `post` (政务专递).
    pub delivery: String,
    /// The collector's ID-card number, checked against the applicant's or the agent's.
    pub id_card: Option<String>,
    /// The postal tracking number.
    pub tracking_no: Option<String>,
}

/// A stop of the clock.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct SuspendInput {
    /// 补正, 公示, 听证, 专家评审, 现场踏勘, 检验检测 …
    pub reason: String,
    pub note: String,
}

/// An extension request.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct ExtendInput {
    pub days: i64,
    pub reason: String,
}

pub(super) struct Applicant {
    pub(super) kind: ApplicantKind,
    pub(super) name: String,
    pub(super) no: String,
    pub(super) phone: String,
}

pub(super) fn check_applicant(a: &ApplicantInput) -> AppResult<Applicant> {
    let name = a.name.trim();
    if name.is_empty() {
        return Err(AppError::invalid_field(
            "applicant.name",
            "请填写申请人姓名或单位名称",
        ));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid_field("applicant.name", "申请人名称过长"));
    }
    let phone = a.phone.as_deref().unwrap_or("").trim().to_owned();
    if !phone.is_empty()
        && (phone.len() > 20 || !phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
    {
        return Err(AppError::invalid_field(
            "applicant.phone",
            "联系电话只能包含数字和“-”",
        ));
    }
    let id_card = a
        .id_card
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let credit = a
        .credit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (kind, no) = match (id_card, credit) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid_field(
                "applicant",
                "身份证号码与统一社会信用代码只填一项",
            ));
        }
        (Some(id), None) => (
            ApplicantKind::Person,
            identity::check_id_card(id)
                .map_err(|m| AppError::invalid_field("applicant.id_card", m))?,
        ),
        (None, Some(code)) => (
            ApplicantKind::Company,
            identity::check_credit_code(code)
                .map_err(|m| AppError::invalid_field("applicant.credit_code", m))?,
        ),
        (None, None) => {
            return Err(AppError::invalid_field(
                "applicant.id_card",
                "请填写申请人的身份证号码（企业填写统一社会信用代码）",
            ));
        }
    };
    Ok(Applicant {
        kind,
        name: name.to_owned(),
        no,
        phone,
    })
}

pub(super) fn check_agent(a: Option<&AgentInput>) -> AppResult<(String, String)> {
    let Some(a) = a else {
        return Ok((String::new(), String::new()));
    };
    let name = a.name.trim();
    if name.is_empty() && a.id_card.trim().is_empty() {
        return Ok((String::new(), String::new()));
    }
    if name.is_empty() {
        return Err(AppError::invalid_field("agent.name", "请填写代办人姓名"));
    }
    let id = identity::check_id_card(&a.id_card)
        .map_err(|m| AppError::invalid_field("agent.id_card", format!("代办人{m}")))?;
    Ok((name.to_owned(), id))
}

pub(super) fn ticked(sit: &Situation, checked: &[String]) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for key in checked {
        let valid = key
            .split_once(':')
            .and_then(|(kind, n)| Some((kind, n.parse::<usize>().ok()?)))
            .is_some_and(|(kind, n)| match kind {
                "form" => (1..=sit.input.review_form.len()).contains(&n),
                "content" => (1..=sit.input.review_content.len()).contains(&n),
                _ => false,
            });
        if !valid {
            return Err(AppError::invalid_field(
                "checked",
                format!("无效的审查要点“{key}”"),
            ));
        }
        if !out.contains(key) {
            out.push(key.clone());
        }
    }
    Ok(out)
}

/// `text` trimmed, refused (saying `message` about `field`) when empty or longer than `most`
/// characters.
pub(super) fn required(
    field: &str,
    text: &str,
    most: Option<usize>,
    message: &str,
) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || most.is_some_and(|m| text.chars().count() > m) {
        return Err(AppError::invalid_field(field, message));
    }
    Ok(text.to_owned())
}

pub(super) fn parse_day(field: &str, text: &str) -> AppResult<Date> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| AppError::invalid_field(field, "日期格式应为 YYYY-MM-DD"))
}

pub(super) fn clean_items(items: &[String]) -> AppResult<Vec<String>> {
    let items: Vec<String> = items
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(AppError::invalid_field(
            "items",
            "请列出需要补正的全部材料或内容",
        ));
    }
    if items.iter().any(|s| s.chars().count() > 200) {
        return Err(AppError::invalid_field(
            "items",
            "每项补正内容不超过 200 字",
        ));
    }
    Ok(items)
}

pub(super) fn parse_decision(input: &DecideInput) -> AppResult<(Decision, String)> {
    let decision = Decision::parse(input.decision.trim())
        .ok_or_else(|| AppError::invalid_field("decision", "请选择准予或不予办理"))?;
    let note = input.note.trim().to_owned();
    if decision == Decision::Rejected && note.is_empty() {
        return Err(AppError::invalid_field("note", "不予办理须写明理由"));
    }
    Ok((decision, note))
}
