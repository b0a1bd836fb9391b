//! The cases' use cases, one function each: check the input, decide who may (`auth::policy`),
//! write the case and its step inside one [`Db::transaction`](crate::db::Db::transaction),
//! enqueue its deadline job there, and return the case. Each state change is one guarded
//! `update … where state in (…)`, so a racing second request changes nothing and answers 409
//! `invalid_state`.

use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use super::clock::{self, Due};
use super::queries::{self, Settings};
use super::{
    ApplicantKind, Case, CaseAction, CaseKind, CaseState, Decision, Delivery, MaterialState,
};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::db::{CivilDate, Conn, Tx, Work};
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::{CaseId, CenterId, MatterId, TicketId, WindowId};
use crate::state::StateMachine;

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
}

/// The back office's decision.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct DecideInput {
    /// `approved` or `rejected`.
    pub decision: String,
    /// The reasons (required for a rejection).
    pub note: String,
}

/// 出件.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
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

/// What a use case returns: the case after the step.
pub type Outcome = AppResult<Case>;

/// The situation a case applies for, with what intake needs of it.
pub struct Situation {
    pub id: MatterId,
    pub center_id: CenterId,
    pub code: String,
    pub name: String,
    pub input: crate::catalog::MatterInput,
}

async fn situation(conn: &mut Conn, code: &str) -> AppResult<Situation> {
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::invalid_field("situation", "请选择办事情形"));
    }
    let Some((meta, input, id)) = crate::catalog::queries::load(conn, code).await? else {
        return Err(AppError::invalid_field(
            "situation",
            format!("找不到编号为“{code}”的事项"),
        ));
    };
    if input.node != "matter" {
        return Err(AppError::invalid_field(
            "situation",
            "请选择具体的办事情形，而不是目录",
        ));
    }
    if input.outside {
        return Err(AppError::invalid_field(
            "situation",
            "该事项在负面清单中，不在大厅受理",
        ));
    }
    Ok(Situation {
        id,
        center_id: meta.center_id,
        code: code.to_owned(),
        name: meta.name,
        input,
    })
}

/// Loads a situation for the intake form.
pub async fn situation_for_form(app: &App, code: &str) -> AppResult<Situation> {
    let mut conn = app.db.pool().acquire().await?;
    situation(&mut conn, code).await
}

fn default_kind(input: &crate::catalog::MatterInput) -> CaseKind {
    match CaseKind::parse(&input.kind) {
        Some(k) => k,
        None if input.promised_limit == Some(0) => CaseKind::Immediate,
        None => CaseKind::Promised,
    }
}

struct Applicant {
    kind: ApplicantKind,
    name: String,
    no: String,
    phone: String,
}

fn check_applicant(a: &ApplicantInput) -> AppResult<Applicant> {
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

fn check_agent(a: Option<&AgentInput>) -> AppResult<(String, String)> {
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

#[derive(sqlx::FromRow)]
struct CenterRow {
    id: CenterId,
    code: String,
}

async fn center_by_code(conn: &mut Conn, code: &str) -> AppResult<CenterRow> {
    sqlx::query_as("select id, code from centers where code = $1")
        .bind(code.trim())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::invalid_field("center", format!("找不到中心“{}”", code.trim())))
}

async fn center_code(conn: &mut Conn, id: CenterId) -> AppResult<String> {
    Ok(sqlx::query_scalar("select code from centers where id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?)
}

#[derive(sqlx::FromRow)]
struct RightRow {
    window_id: WindowId,
    center_id: CenterId,
    code: String,
    rights: String,
}

/// The windows holding 受理权 or 收件权 for a matter.
async fn rights(conn: &mut Conn, matter: MatterId) -> AppResult<Vec<RightRow>> {
    Ok(sqlx::query_as(
        "select w.id as window_id, w.center_id, w.code, mw.rights from matter_windows mw \
         join windows w on w.id = mw.window_id where mw.matter_id = $1",
    )
    .bind(matter)
    .fetch_all(&mut *conn)
    .await?)
}

/// Which window takes the case and whether it may only collect (收件权).
async fn intake_window(
    conn: &mut Conn,
    user: &CurrentUser,
    center: CenterId,
    sit: &Situation,
    window: Option<&str>,
) -> AppResult<(Option<WindowId>, bool)> {
    let rights = rights(conn, sit.id).await?;
    let named = match window.map(str::trim).filter(|w| !w.is_empty()) {
        Some(code) => {
            let id: Option<WindowId> =
                sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
                    .bind(center)
                    .bind(code)
                    .fetch_optional(&mut *conn)
                    .await?;
            Some(id.ok_or_else(|| {
                AppError::invalid_field("window", format!("本中心没有编号为“{code}”的窗口"))
            })?)
        }
        None => None,
    };
    let here: Vec<&RightRow> = rights.iter().filter(|r| r.center_id == center).collect();
    if rights.is_empty() {
        // No window holds delegated rights: the center's comprehensive windows accept it.
        return Ok((named, false));
    }
    if let Some(id) = named {
        return match here.iter().find(|r| r.window_id == id) {
            Some(r) => Ok((Some(id), r.rights == "collect")),
            None => Err(AppError::invalid_field(
                "window",
                "该窗口没有此事项的受理权或收件权，请引导申请人到有权窗口办理",
            )),
        };
    }
    // The caller's own post at a window with rights.
    // Their A post (where they sit) before a B post (where they stand in), 受理权 before 收件权.
    let posted: Vec<(WindowId, String)> =
        sqlx::query_as("select window_id, post from window_posts where user_id = $1")
            .bind(user.id)
            .fetch_all(&mut *conn)
            .await?;
    let post_of = |w: WindowId| {
        posted
            .iter()
            .find(|(id, _)| *id == w)
            .map(|(_, p)| p.as_str())
    };
    let mine = here
        .iter()
        .filter(|r| post_of(r.window_id).is_some())
        .min_by_key(|r| {
            (
                post_of(r.window_id) != Some("A"),
                r.rights != "accept",
                r.code.clone(),
            )
        });
    match mine {
        Some(r) => Ok((Some(r.window_id), r.rights == "collect")),
        None if policy::is_admin(user) => Ok((None, false)),
        None if here.is_empty() => Err(AppError::invalid_field(
            "center",
            "本中心没有窗口持有该事项的受理权或收件权",
        )),
        None => Err(AppError::invalid_field(
            "window",
            "请在持有该事项受理权或收件权的窗口受理",
        )),
    }
}

async fn ticket_today(
    conn: &mut Conn,
    center: CenterId,
    number: &str,
    today: Date,
) -> AppResult<TicketId> {
    let id: Option<TicketId> = sqlx::query_scalar(
        "select id from tickets where center_id = $1 and service_date = $2 and number = $3",
    )
    .bind(center)
    .bind(today.to_string())
    .bind(number.trim().to_ascii_uppercase())
    .fetch_optional(&mut *conn)
    .await?;
    id.ok_or_else(|| AppError::invalid_field("ticket", format!("今天没有号码“{}”", number.trim())))
}

/// The next case number of a center this year: `2026-GX-ML-000123`. One upsert per case, so
/// numbers never repeat, on one server or several.
async fn next_number(tx: &mut Tx, center: CenterId, code: &str, year: i16) -> AppResult<String> {
    let n: i64 = sqlx::query_scalar(
        "insert into case_counters (center_id, year, last_no) values ($1, $2, 1) \
         on conflict (center_id, year) do update set last_no = case_counters.last_no + 1 \
         returning last_no",
    )
    .bind(center)
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("{year}-{code}-{n:06}"))
}

/// Appends a step to a case's history.
#[allow(clippy::too_many_arguments)]
async fn step(
    tx: &mut Conn,
    case: CaseId,
    actor: &Actor,
    action: &str,
    from: Option<CaseState>,
    to: CaseState,
    note: &str,
    data: Option<serde_json::Value>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "insert into case_steps (case_id, at, actor_id, actor, action, from_state, to_state, note, data_json) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case)
    .bind(now)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(action)
    .bind(from)
    .bind(to)
    .bind(note)
    .bind(data.map(|d| d.to_string()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        id: Some(user.id.get()),
        name: user.display_name.clone(),
    }
}

fn ticked(sit: &Situation, checked: &[String]) -> AppResult<Vec<String>> {
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

/// 收件: a new case at the window, state `received`, with its materials.
pub async fn intake(app: &App, user: &CurrentUser, input: &IntakeInput) -> Outcome {
    let applicant = check_applicant(&input.applicant)?;
    let (agent_name, agent_id) = check_agent(input.agent.as_ref())?;
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let sit = situation(&mut tx, &input.situation).await?;
                let center = match input.center.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                    Some(code) => center_by_code(&mut tx, code).await?,
                    None => CenterRow {
                        id: sit.center_id,
                        code: center_code(&mut tx, sit.center_id).await?,
                    },
                };
                if !policy::can_take_in(user, center.id.get()) {
                    return Err(AppError::Forbidden("只有本中心的窗口工作人员可以受理办件".into()));
                }
                if center.id != sit.center_id {
                    let holds = rights(&mut tx, sit.id).await?.iter().any(|r| r.center_id == center.id);
                    if !holds {
                        return Err(AppError::invalid_field(
                            "center",
                            "该事项不属于本中心，本中心也没有它的受理权或收件权",
                        ));
                    }
                }
                let (window, collect_only) =
                    intake_window(&mut tx, user, center.id, &sit, input.window.as_deref()).await?;
                let ticket = match input.ticket.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    Some(n) => Some(ticket_today(&mut tx, center.id, n, today).await?),
                    None => None,
                };
                let checked = ticked(&sit, input.checked.as_deref().unwrap_or(&[]))?;
                let count = sit.input.materials.len() as i64;
                if let Some(bad) = input
                    .received
                    .iter()
                    .flatten()
                    .find(|p| !(1..=count).contains(*p))
                {
                    return Err(AppError::invalid_field("received", format!("没有第 {bad} 项材料")));
                }
                let number = next_number(&mut tx, center.id, &center.code, today.year()).await?;
                let kind = default_kind(&sit.input);
                let id: CaseId = sqlx::query_scalar(
                    "insert into cases (number, center_id, matter_id, department, window_id, ticket_id, \
                     applicant_kind, applicant_name, applicant_no, applicant_phone, agent_name, agent_id_card, \
                     state, kind, collect_only, review_json, received_by, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
                     returning id",
                )
                .bind(&number)
                .bind(center.id)
                .bind(sit.id)
                .bind(&sit.input.department)
                .bind(window)
                .bind(ticket)
                .bind(applicant.kind)
                .bind(&applicant.name)
                .bind(&applicant.no)
                .bind(&applicant.phone)
                .bind(&agent_name)
                .bind(&agent_id)
                .bind(CaseState::Received)
                .bind(kind)
                .bind(i64::from(collect_only))
                .bind(serde_json::to_string(&checked).unwrap_or_else(|_| "[]".into()))
                .bind(user.id)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                for (i, m) in sit.input.materials.iter().enumerate() {
                    let pos = i as i64 + 1;
                    let got = input.received.as_ref().is_none_or(|r| r.contains(&pos));
                    sqlx::query(
                        "insert into case_materials (case_id, position, name, form, copies, required, tolerable, state) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(id)
                    .bind(pos)
                    .bind(&m.name)
                    .bind(&m.form)
                    .bind(m.copies)
                    .bind(i64::from(m.required))
                    .bind(i64::from(m.tolerable))
                    .bind(if got { MaterialState::Received } else { MaterialState::Missing })
                    .execute(&mut **tx)
                    .await?;
                }
                let note = if collect_only { "收件（本窗口仅有收件权，由部门决定是否受理）" } else { "" };
                step(&mut tx, id, &actor(user), "receive", None, CaseState::Received, note, None, now).await?;
                load(&mut tx, id).await
            })
        })
        .await
}

async fn load(conn: &mut Conn, id: CaseId) -> Outcome {
    queries::by_id(conn, id)
        .await?
        .ok_or_else(|| AppError::internal("case vanished inside its transaction"))
}

/// A case the caller may see (staff of its center), or 404.
pub async fn visible(conn: &mut Conn, user: &CurrentUser, number: &str) -> Outcome {
    let case = queries::by_number(conn, number.trim()).await?;
    match case {
        Some(c) if policy::can_see_center(user, c.center_id.get()) => Ok(c),
        _ => Err(AppError::NotFound(format!("找不到办件“{}”", number.trim()))),
    }
}

fn invalid_state(case: &Case, action: CaseAction) -> AppError {
    AppError::InvalidState(format!(
        "办件当前状态为“{}”，不能{}",
        case.state.label(),
        action.label()
    ))
}

/// Moves a case by `action` with `set` (extra assignments, binds from $3), guarded by the
/// machine: `update cases set state = $1, … where id = $2 and state in (…)`.
async fn transit(
    tx: &mut Tx,
    case: &Case,
    action: CaseAction,
    set: &str,
    binds: Vec<Bind>,
    now: i64,
) -> AppResult<CaseState> {
    let to = case
        .state
        .after(action)
        .ok_or_else(|| invalid_state(case, action))?;
    let sql = format!(
        "update cases set state = $1, updated_at = {now}{set} where id = $2 and {}",
        CaseState::guard(action)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to).bind(case.id);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
            Bind::OptInt(i) => q.bind(i),
        };
    }
    let done = q.execute(&mut **tx).await?.rows_affected();
    if done == 0 {
        return Err(invalid_state(case, action));
    }
    Ok(to)
}

/// A value bound by [`transit`].
enum Bind {
    Text(String),
    Int(i64),
    OptInt(Option<i64>),
}

/// Runs `work` on the case `number` in one transaction, after checking that the caller may
/// see it.
async fn on_case<'a, T, F>(
    app: &App,
    user: &'a CurrentUser,
    number: &'a str,
    work: F,
) -> AppResult<T>
where
    T: Send,
    F: for<'c> FnOnce(Work<'c, 'a>, Case) -> futures_util::future::BoxFuture<'c, AppResult<T>>
        + Send
        + 'a,
{
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let case = visible(&mut tx, user, number).await?;
                work(tx, case).await
            })
        })
        .await
}

fn parse_day(field: &str, text: &str) -> AppResult<Date> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| AppError::invalid_field(field, "日期格式应为 YYYY-MM-DD"))
}

/// The due and warning days of a case accepted on `accepted`, as things stand.
async fn due_of(
    app: &App,
    conn: &mut Conn,
    case: &Case,
    accepted: Date,
    settings: Settings,
) -> AppResult<Option<Due>> {
    let Some(days) = case.limit_days else {
        return Ok(None);
    };
    let days = u32::try_from(days).unwrap_or(0);
    let stops = queries::stops(conn, case.id).await?;
    let granted = queries::granted_days(&queries::extensions(conn, case.id).await?);
    let unit = limit_unit(conn, case.matter_id).await?;
    let table = crate::timetable::holiday_table(app).await?;
    let today = crate::timetable::today(app);
    clock::due(
        &table,
        accepted,
        days,
        &unit,
        &stops,
        granted,
        u32::try_from(settings.yellow_percent).unwrap_or(80),
        today,
    )
    .map(Some)
    .map_err(|e| AppError::Invalid(format!("无法计算办结期限：{e}")))
}

async fn limit_unit(conn: &mut Conn, matter: MatterId) -> AppResult<String> {
    Ok(
        sqlx::query_scalar("select limit_unit from matters where id = $1")
            .bind(matter)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Writes the due and warning days and schedules the deadline job for the warning day.
async fn set_due(tx: &mut Tx, case: CaseId, due: Option<&Due>, now: i64) -> AppResult<()> {
    sqlx::query("update cases set due_on = $1, warn_on = $2, warning = '' where id = $3")
        .bind(due.map(|d| CivilDate(d.due)))
        .bind(due.map(|d| CivilDate(d.warn)))
        .bind(case)
        .execute(&mut **tx)
        .await?;
    if let Some(d) = due {
        super::warn::schedule(tx, case, d.warn, now).await?;
    }
    Ok(())
}

/// 受理: the case enters the back office with its due date.
pub async fn accept(app: &App, user: &CurrentUser, number: &str, input: &AcceptInput) -> Outcome {
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    let table = crate::timetable::holiday_table(app).await?;
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            let center = case.center_id.get();
            let allowed = if case.collect_only != 0 {
                policy::can_accept_collected(user, center)
            } else {
                policy::can_take_in(user, center)
            };
            if !allowed {
                return Err(AppError::Forbidden(if case.collect_only != 0 {
                    "本件由仅有收件权的窗口收取，须由部门工作人员决定是否受理".into()
                } else {
                    "只有本中心的窗口工作人员可以受理办件".into()
                }));
            }
            if !case.state.allows(CaseAction::Accept) {
                return Err(invalid_state(&case, CaseAction::Accept));
            }
            let code = matter_code(&mut tx, case.matter_id).await?;
            let sit = situation(&mut tx, &code).await?;
            if input.commitment && !sit.input.notice_commitment {
                return Err(AppError::invalid_field("commitment", "该事项不适用告知承诺制"));
            }
            let materials = queries::materials(&mut tx, case.id).await?;
            let mut tolerated = Vec::new();
            for &pos in &input.tolerated {
                match materials.iter().find(|m| m.position == pos) {
                    Some(m) if m.tolerable != 0 => tolerated.push(pos),
                    Some(m) => {
                        return Err(AppError::invalid_field(
                            "tolerated",
                            format!("“{}”不可容缺，须在受理前提交", m.name),
                        ));
                    }
                    None => return Err(AppError::invalid_field("tolerated", format!("没有第 {pos} 项材料"))),
                }
            }
            let lacking: Vec<&str> = materials
                .iter()
                .filter(|m| {
                    m.required != 0
                        && matches!(m.state, MaterialState::Missing)
                        && !tolerated.contains(&m.position)
                })
                .map(|m| m.name.as_str())
                .collect();
            if !lacking.is_empty() && !input.commitment {
                return Err(AppError::invalid_field(
                    "materials",
                    format!("材料不齐：{}。请一次性告知补正，或按容缺受理", lacking.join("、")),
                ));
            }
            let supply_by = if tolerated.is_empty() {
                None
            } else {
                Some(match input.supply_by.as_deref().filter(|s| !s.trim().is_empty()) {
                    Some(s) => {
                        let d = parse_day("supply_by", s)?;
                        if d <= today {
                            return Err(AppError::invalid_field("supply_by", "容缺材料的补交日期应晚于今天"));
                        }
                        d
                    }
                    None => table
                        .deadline(today, 5, &[], None)
                        .map(|d| d.due)
                        .map_err(|e| AppError::Invalid(e.to_string()))?,
                })
            };
            for &pos in &tolerated {
                sqlx::query("update case_materials set state = $1, due_on = $2 where case_id = $3 and position = $4")
                    .bind(MaterialState::Tolerated)
                    .bind(supply_by.map(CivilDate))
                    .bind(case.id)
                    .bind(pos)
                    .execute(&mut **tx)
                    .await?;
            }
            let fast = input.fast_track.as_deref().unwrap_or("").trim().to_owned();
            let kind = default_kind(&sit.input);
            let limit = match kind {
                CaseKind::Immediate => Some(0),
                _ => clock::working_days(sit.input.promised_limit, &sit.input.limit_unit)
                    .or(clock::working_days(sit.input.legal_limit, &sit.input.limit_unit))
                    .map(i64::from),
            };
            let legal = clock::working_days(sit.input.legal_limit, &sit.input.limit_unit).map(i64::from);
            let from = case.state;
            let to = transit(
                &mut tx,
                &case,
                CaseAction::Accept,
                ", accepted_on = $3, kind = $4, limit_days = $5, legal_days = $6, tolerated = $7, \
                 commitment = $8, fast_track = $9",
                vec![
                    Bind::Text(today.to_string()),
                    Bind::Text(kind.as_str().into()),
                    Bind::OptInt(limit),
                    Bind::OptInt(legal),
                    Bind::Int(i64::from(!tolerated.is_empty())),
                    Bind::Int(i64::from(input.commitment)),
                    Bind::Text(fast.clone()),
                ],
                now,
            )
            .await?;
            let case = load(&mut tx, case.id).await?;
            let settings = queries::settings(&mut tx, case.center_id).await?;
            let due = due_of(app, &mut tx, &case, today, settings).await?;
            set_due(&mut tx, case.id, due.as_ref(), now).await?;
            let mut note = String::new();
            if !tolerated.is_empty() {
                note.push_str("容缺受理；");
            }
            if input.commitment {
                note.push_str("告知承诺；");
            }
            if !fast.is_empty() {
                note.push_str(&format!("特事特办：{fast}；"));
            }
            step(&mut tx, case.id, &actor(user), CaseAction::Accept.as_str(), Some(from), to, note.trim_end_matches('；'), None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

async fn matter_code(conn: &mut Conn, id: MatterId) -> AppResult<String> {
    Ok(sqlx::query_scalar("select code from matters where id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?)
}

fn clean_items(items: &[String]) -> AppResult<Vec<String>> {
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

/// 一次性告知: every missing or wrong item, once, in writing.
pub async fn notify_missing(
    app: &App,
    user: &CurrentUser,
    number: &str,
    items: &[String],
) -> Outcome {
    let items = clean_items(items)?;
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            let from = case.state;
            let json = serde_json::to_string(&items).unwrap_or_else(|_| "[]".into());
            let to = transit(
                &mut tx,
                &case,
                CaseAction::NotifyMissing,
                ", missing_json = $3",
                vec![Bind::Text(json)],
                now,
            )
            .await?;
            step(
                &mut tx,
                case.id,
                &actor(user),
                CaseAction::NotifyMissing.as_str(),
                Some(from),
                to,
                &items.join("；"),
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// The basis a refusal cites when the clerk gives none.
pub const REFUSAL_BASIS: &str = "《中华人民共和国行政许可法》第三十二条";

/// 不予受理: with the reason and its basis, entered in the 否定报备登记表.
pub async fn refuse(
    app: &App,
    user: &CurrentUser,
    number: &str,
    reason: &str,
    basis: &str,
) -> Outcome {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::invalid_field("reason", "请填写不予受理的理由"));
    }
    let basis = match basis.trim() {
        "" => REFUSAL_BASIS.to_owned(),
        b => b.to_owned(),
    };
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            let from = case.state;
            let to = transit(
                &mut tx,
                &case,
                CaseAction::Refuse,
                ", refusal_reason = $3, refusal_basis = $4, closed_at = $5",
                vec![Bind::Text(reason.clone()), Bind::Text(basis.clone()), Bind::Int(now)],
                now,
            )
            .await?;
            let matter: String = sqlx::query_scalar("select name from matters where id = $1")
                .bind(case.matter_id)
                .fetch_one(&mut **tx)
                .await?;
            sqlx::query(
                "insert into case_refusals (case_id, center_id, applicant, phone, matter, reason, basis, clerk, registered_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(case.id)
            .bind(case.center_id)
            .bind(&case.applicant_name)
            .bind(&case.applicant_phone)
            .bind(&matter)
            .bind(&reason)
            .bind(&basis)
            .bind(&user.display_name)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            step(&mut tx, case.id, &actor(user), CaseAction::Refuse.as_str(), Some(from), to, &reason, None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// The leader's opinion on a refusal (否定报备).
pub async fn refusal_opinion(
    app: &App,
    user: &CurrentUser,
    number: &str,
    opinion: &str,
) -> Outcome {
    let opinion = opinion.trim().to_owned();
    if opinion.is_empty() {
        return Err(AppError::invalid_field("opinion", "请填写领导意见"));
    }
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_give_opinion(user, case.center_id.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的领导可以签署否定报备意见".into(),
                ));
            }
            let done = sqlx::query(
                "update case_refusals set opinion = $1, opinion_by = $2, opinion_at = $3 \
                 where case_id = $4 and opinion = ''",
            )
            .bind(&opinion)
            .bind(user.id)
            .bind(now)
            .bind(case.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(AppError::InvalidState("该办件没有待签署的否定报备".into()));
            }
            step(
                &mut tx,
                case.id,
                &actor(user),
                "opinion",
                Some(case.state),
                case.state,
                &opinion,
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// A 容缺 material handed in after acceptance.
pub async fn supply(app: &App, user: &CurrentUser, number: &str, position: i64) -> Outcome {
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::forbidden());
            }
            if !case.state.is_open() {
                return Err(AppError::InvalidState(format!("办件已{}，不能再补交材料", case.state.label())));
            }
            let name: Option<String> = sqlx::query_scalar(
                "update case_materials set state = $1, supplied_at = $2 where case_id = $3 and position = $4 \
                 and state in ('tolerated', 'missing') returning name",
            )
            .bind(MaterialState::Supplied)
            .bind(now)
            .bind(case.id)
            .bind(position)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(name) = name else {
                return Err(AppError::invalid_field("position", "该材料不在待补交之列"));
            };
            step(&mut tx, case.id, &actor(user), "supply", Some(case.state), case.state, &name, None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// Stops the clock (补正 in the back office, or a special procedure).
pub async fn suspend(app: &App, user: &CurrentUser, number: &str, input: &SuspendInput) -> Outcome {
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 50 {
        return Err(AppError::invalid_field(
            "reason",
            "请填写中止计时的事由（如补正、公示、听证、专家评审、现场踏勘）",
        ));
    }
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_approve(user, case.center_id.get()) {
                return Err(AppError::Forbidden("只有本中心的后台审批人员可以中止计时".into()));
            }
            let from = case.state;
            let to = transit(&mut tx, &case, CaseAction::Suspend, "", vec![], now).await?;
            sqlx::query(
                "insert into case_suspensions (case_id, reason, start_on, created_by, created_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(case.id)
            .bind(&reason)
            .bind(CivilDate(today))
            .bind(user.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let note = format!("{reason} {}", input.note.trim());
            step(&mut tx, case.id, &actor(user), CaseAction::Suspend.as_str(), Some(from), to, note.trim(), None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// Restarts the clock; the due date moves by the working days it stood still.
pub async fn resume(app: &App, user: &CurrentUser, number: &str) -> Outcome {
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_approve(user, case.center_id.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的后台审批人员可以恢复计时".into(),
                ));
            }
            let from = case.state;
            let to = transit(&mut tx, &case, CaseAction::Resume, "", vec![], now).await?;
            let yesterday = today.yesterday().unwrap_or(today);
            sqlx::query(
                "update case_suspensions set end_on = $1 where case_id = $2 and end_on is null",
            )
            .bind(CivilDate(yesterday))
            .bind(case.id)
            .execute(&mut **tx)
            .await?;
            recompute(app, &mut tx, case.id, now).await?;
            step(
                &mut tx,
                case.id,
                &actor(user),
                CaseAction::Resume.as_str(),
                Some(from),
                to,
                "",
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

async fn recompute(app: &App, tx: &mut Tx, id: CaseId, now: i64) -> AppResult<()> {
    let case = load(tx, id).await?;
    let Some(accepted) = case.accepted_on else {
        return Ok(());
    };
    let settings = queries::settings(tx, case.center_id).await?;
    let due = due_of(app, tx, &case, accepted.date(), settings).await?;
    set_due(tx, id, due.as_ref(), now).await
}

/// The approver asks for more time; the hall manager or chief representative decides.
pub async fn request_extension(
    app: &App,
    user: &CurrentUser,
    number: &str,
    input: &ExtendInput,
) -> Outcome {
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::invalid_field(
            "reason",
            "请填写延期理由（将写入延期告知书）",
        ));
    }
    if !(1..=60).contains(&input.days) {
        return Err(AppError::invalid_field(
            "days",
            "延长的工作日应在 1 到 60 之间",
        ));
    }
    let days = input.days;
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_approve(user, case.center_id.get()) {
                return Err(AppError::Forbidden("只有本中心的后台审批人员可以申请延期".into()));
            }
            if !case.state.clock_runs() && case.state != CaseState::Suspended {
                return Err(AppError::InvalidState(format!("办件当前状态为“{}”，不能申请延期", case.state.label())));
            }
            let exts = queries::extensions(&mut tx, case.id).await?;
            if exts.iter().any(|e| e.state == "requested") {
                return Err(AppError::InvalidState("已有待批准的延期申请".into()));
            }
            let limit = u32::try_from(case.limit_days.unwrap_or(0)).unwrap_or(0);
            let legal = case.legal_days.and_then(|d| u32::try_from(d).ok());
            let room = clock::extension_room(limit, legal, queries::granted_days(&exts));
            if days as u32 > room {
                return Err(AppError::invalid_field(
                    "days",
                    format!("延期后将超过法定办结时限，最多还可延长 {room} 个工作日"),
                ));
            }
            sqlx::query(
                "insert into case_extensions (case_id, days, reason, state, requested_by, requested_at) \
                 values ($1, $2, $3, 'requested', $4, $5)",
            )
            .bind(case.id)
            .bind(days)
            .bind(&reason)
            .bind(user.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            step(&mut tx, case.id, &actor(user), "extend_request", Some(case.state), case.state, &format!("{days} 个工作日：{reason}"), None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// Approves or refuses the pending extension; an approved one moves the due date.
pub async fn decide_extension(
    app: &App,
    user: &CurrentUser,
    number: &str,
    approve: bool,
) -> Outcome {
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_grant_extension(user, case.center_id.get()) {
                return Err(AppError::Forbidden(
                    "延期须由首席代表或大厅管理员批准".into(),
                ));
            }
            let state = if approve { "approved" } else { "refused" };
            let done: Option<i64> = sqlx::query_scalar(
                "update case_extensions set state = $1, decided_by = $2, decided_at = $3 \
                 where case_id = $4 and state = 'requested' returning days",
            )
            .bind(state)
            .bind(user.id)
            .bind(now)
            .bind(case.id)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(days) = done else {
                return Err(AppError::InvalidState("没有待批准的延期申请".into()));
            };
            if approve {
                recompute(app, &mut tx, case.id, now).await?;
            }
            let action = if approve {
                "extend_approve"
            } else {
                "extend_refuse"
            };
            step(
                &mut tx,
                case.id,
                &actor(user),
                action,
                Some(case.state),
                case.state,
                &format!("{days} 个工作日"),
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

fn parse_decision(input: &DecideInput) -> AppResult<(Decision, String)> {
    let decision = Decision::parse(input.decision.trim())
        .ok_or_else(|| AppError::invalid_field("decision", "请选择准予或不予办理"))?;
    let note = input.note.trim().to_owned();
    if decision == Decision::Rejected && note.is_empty() {
        return Err(AppError::invalid_field("note", "不予办理须写明理由"));
    }
    Ok((decision, note))
}

/// The department's decision: final, or proposed to the chief representative where the center
/// wants sign-off.
pub async fn decide(app: &App, user: &CurrentUser, number: &str, input: &DecideInput) -> Outcome {
    let (decision, note) = parse_decision(input)?;
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_decide(user, case.center_id.get(), case.kind == CaseKind::Immediate) {
                return Err(AppError::Forbidden("只有本中心的后台审批人员可以作出决定（即办件由受理窗口办结）".into()));
            }
            let settings = queries::settings(&mut tx, case.center_id).await?;
            let action = if settings.chief_signoff != 0 { CaseAction::Propose } else { CaseAction::Decide };
            let from = case.state;
            let set = if action == CaseAction::Decide {
                ", decision = $3, decision_note = $4, decided_by = $5, decided_at = $6, decided_on = $7"
            } else {
                ", decision = $3, decision_note = $4, decided_by = $5"
            };
            let mut binds = vec![
                Bind::Text(decision.as_str().into()),
                Bind::Text(note.clone()),
                Bind::Int(user.id.get()),
            ];
            if action == CaseAction::Decide {
                binds.push(Bind::Int(now));
                binds.push(Bind::Text(today.to_string()));
            }
            let to = transit(&mut tx, &case, action, set, binds, now).await?;
            let text = format!("{}{}{}", decision.label(), if note.is_empty() { "" } else { "：" }, note);
            step(&mut tx, case.id, &actor(user), action.as_str(), Some(from), to, &text, None, now).await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// 首席代表 signs the proposed decision, or sends it back.
pub async fn sign(
    app: &App,
    user: &CurrentUser,
    number: &str,
    approve: bool,
    note: &str,
) -> Outcome {
    let note = note.trim().to_owned();
    if !approve && note.is_empty() {
        return Err(AppError::invalid_field("note", "退回须写明理由"));
    }
    let now = app.clock.now_micros();
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::is_chief_representative(user, case.center_id.get()) {
                return Err(AppError::Forbidden("只有本中心的首席代表可以签批".into()));
            }
            let from = case.state;
            let (action, to) = if approve {
                let to = transit(
                    &mut tx,
                    &case,
                    CaseAction::Sign,
                    ", decided_at = $3, decided_on = $4",
                    vec![Bind::Int(now), Bind::Text(today.to_string())],
                    now,
                )
                .await?;
                (CaseAction::Sign, to)
            } else {
                let to = transit(
                    &mut tx,
                    &case,
                    CaseAction::SendBack,
                    ", decision = ''",
                    vec![],
                    now,
                )
                .await?;
                (CaseAction::SendBack, to)
            };
            step(
                &mut tx,
                case.id,
                &actor(user),
                action.as_str(),
                Some(from),
                to,
                &note,
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// 出件: the result handed over (identity checked) or posted with a tracking number.
pub async fn issue(app: &App, user: &CurrentUser, number: &str, input: &IssueInput) -> Outcome {
    let delivery = Delivery::parse(input.delivery.trim())
        .ok_or_else(|| AppError::invalid_field("delivery", "请选择窗口领取或邮寄送达"))?;
    let now = app.clock.now_micros();
    on_case(app, user, number, |mut tx, case| {
        Box::pin(async move {
            if !policy::can_take_in(user, case.center_id.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的窗口工作人员可以出件".into(),
                ));
            }
            let (tracking, note) = match delivery {
                Delivery::Onsite => {
                    let raw = input.id_card.as_deref().unwrap_or("");
                    let id = identity::check_id_card(raw)
                        .map_err(|m| AppError::invalid_field("id_card", format!("领取人{m}")))?;
                    let applicant =
                        case.applicant_kind == ApplicantKind::Person && id == case.applicant_no;
                    let agent = !case.agent_id_card.is_empty() && id == case.agent_id_card;
                    if !applicant && !agent {
                        return Err(AppError::invalid_field(
                            "id_card",
                            "领取人身份与申请人或登记的代办人不一致",
                        ));
                    }
                    (
                        String::new(),
                        format!("窗口领取，领取人 {}", identity::mask_number(&id)),
                    )
                }
                Delivery::Post => {
                    let t = input.tracking_no.as_deref().unwrap_or("").trim().to_owned();
                    if t.is_empty() || t.len() > 40 || !t.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return Err(AppError::invalid_field(
                            "tracking_no",
                            "请填写邮件号（字母和数字）",
                        ));
                    }
                    (t.clone(), format!("政务专递，邮件号 {t}"))
                }
            };
            let from = case.state;
            let to = transit(
                &mut tx,
                &case,
                CaseAction::Issue,
                ", delivery = $3, tracking_no = $4, closed_at = $5",
                vec![
                    Bind::Text(delivery.as_str().into()),
                    Bind::Text(tracking),
                    Bind::Int(now),
                ],
                now,
            )
            .await?;
            step(
                &mut tx,
                case.id,
                &actor(user),
                CaseAction::Issue.as_str(),
                Some(from),
                to,
                &note,
                None,
                now,
            )
            .await?;
            load(&mut tx, case.id).await
        })
    })
    .await
}

/// Everything a case page or the API's `GET` shows.
pub struct Full {
    pub case: Case,
    pub matter_code: String,
    pub matter_name: String,
    pub center_code: String,
    pub center_name: String,
    pub window_name: Option<String>,
    pub ticket_number: Option<String>,
    pub materials: Vec<queries::CaseMaterial>,
    pub steps: Vec<queries::Step>,
    pub stops: Vec<clock::Stop>,
    pub extensions: Vec<queries::ExtensionRow>,
    pub refusal: Option<queries::Refusal>,
    pub settings: Settings,
    pub today: Date,
}

#[derive(sqlx::FromRow)]
struct Names {
    matter_code: String,
    matter_name: String,
    center_code: String,
    center_name: String,
    window_name: Option<String>,
    ticket_number: Option<String>,
}

/// A case with everything about it.
pub async fn full(app: &App, conn: &mut Conn, case: Case) -> AppResult<Full> {
    let names: Names = sqlx::query_as(
        "select m.code as matter_code, m.name as matter_name, ce.code as center_code, ce.name as center_name, \
         w.name as window_name, t.number as ticket_number \
         from cases c join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         left join windows w on w.id = c.window_id left join tickets t on t.id = c.ticket_id where c.id = $1",
    )
    .bind(case.id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Full {
        matter_code: names.matter_code,
        matter_name: names.matter_name,
        center_code: names.center_code,
        center_name: names.center_name,
        window_name: names.window_name,
        ticket_number: names.ticket_number,
        materials: queries::materials(conn, case.id).await?,
        steps: queries::steps(conn, case.id).await?,
        stops: queries::stops(conn, case.id).await?,
        extensions: queries::extensions(conn, case.id).await?,
        refusal: queries::refusal(conn, case.id).await?,
        settings: queries::settings(conn, case.center_id).await?,
        today: crate::timetable::today(app),
        case,
    })
}

/// A case the caller may see, with everything about it.
pub async fn get(app: &App, user: &CurrentUser, number: &str) -> AppResult<Full> {
    let mut conn = app.db.pool().acquire().await?;
    let case = visible(&mut conn, user, number).await?;
    full(app, &mut conn, case).await
}

/// What the public progress page shows: masked, by case number plus the applicant's name.
pub async fn progress(app: &App, number: &str, name: &str) -> AppResult<Full> {
    let mut conn = app.db.pool().acquire().await?;
    let case = queries::by_number(&mut conn, number.trim()).await?;
    match case {
        Some(c) if c.applicant_name == name.trim() => full(app, &mut conn, c).await,
        _ => Err(AppError::NotFound(
            "没有找到该办件，请核对办件编号和申请人姓名".into(),
        )),
    }
}
