//! Reads of the cases area: a case with its materials, steps, stops and extensions; lists for
//! the work pages; the supervision figures.

use serde::Serialize;

use super::clock::Stop;
use super::{CASE_COLUMNS, Case, CaseKind, CaseState, MaterialState};
use crate::db::{CivilDate, Conn, Micros};
use crate::error::AppResult;
use crate::ids::{CaseId, CenterId, UserId};

/// A material of a case.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct CaseMaterial {
    pub position: i64,
    pub name: String,
    pub form: String,
    pub copies: i64,
    pub required: i64,
    pub tolerable: i64,
    pub state: MaterialState,
    pub due_on: Option<CivilDate>,
}

impl CaseMaterial {
    pub fn form_label(&self) -> &'static str {
        match self.form.as_str() {
            "original" => "原件",
            "copy" => "复印件",
            _ => "原件及复印件",
        }
    }
}

/// One step of a case's history.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Step {
    pub at: Micros,
    pub actor: String,
    pub action: String,
    pub from_state: Option<CaseState>,
    pub to_state: CaseState,
    pub note: String,
}

impl Step {
    pub fn when(&self) -> String {
        self.at.format_local()
    }
    /// The step's name: a [`super::CaseAction`]'s label, or the stored word (收件, 预警 …).
    pub fn label(&self) -> String {
        super::CaseAction::parse(&self.action)
            .map(|a| a.label().to_owned())
            .unwrap_or_else(|| step_label(&self.action).to_owned())
    }
}

/// Labels of the steps that are no state-machine action.
pub fn step_label(action: &str) -> &str {
    match action {
        "receive" => "收件",
        "supply" => "补齐容缺材料",
        "extend_request" => "申请延期",
        "extend_approve" => "批准延期",
        "extend_refuse" => "不批准延期",
        "warn_yellow" => "黄牌预警",
        "warn_red" => "红牌超期",
        "opinion" => "领导意见",
        other => other,
    }
}

/// An extension request.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ExtensionRow {
    pub id: i64,
    pub days: i64,
    pub reason: String,
    pub state: String,
    pub requested_at: Micros,
}

/// The 否定报备登记表 entry of a refused case.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Refusal {
    pub id: i64,
    pub number: String,
    pub applicant: String,
    pub phone: String,
    pub matter: String,
    pub reason: String,
    pub basis: String,
    pub clerk: String,
    pub registered_at: Micros,
    pub opinion: String,
    pub opinion_at: Option<Micros>,
}

impl Refusal {
    pub fn when(&self) -> String {
        self.registered_at.format_local()
    }
}

/// A center's case settings.
#[derive(Clone, Copy, Debug, Serialize, sqlx::FromRow)]
pub struct Settings {
    pub chief_signoff: i64,
    pub yellow_percent: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            chief_signoff: 0,
            yellow_percent: 80,
        }
    }
}

/// The rows of `T` that `sql` selects, with `value` bound as `$1`.
pub(super) async fn select<'q, T, V>(
    conn: &mut Conn,
    sql: impl Into<String>,
    value: V,
) -> AppResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    V: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.into()))
        .bind(value)
        .fetch_all(&mut *conn)
        .await?)
}

/// The case whose `column` (of `cases c`, a unique one) is `value`.
async fn case_by<'q, T>(conn: &mut Conn, column: &str, value: T) -> AppResult<Option<Case>>
where
    T: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let sql = format!("select {CASE_COLUMNS} from cases c where {column} = $1");
    Ok(select(conn, sql, value).await?.pop())
}

pub async fn by_number(conn: &mut Conn, number: &str) -> AppResult<Option<Case>> {
    case_by(conn, "c.number", number).await
}

pub async fn by_id(conn: &mut Conn, id: CaseId) -> AppResult<Option<Case>> {
    case_by(conn, "c.id", id).await
}

pub async fn materials(conn: &mut Conn, id: CaseId) -> AppResult<Vec<CaseMaterial>> {
    let sql = "select position, name, form, copies, required, tolerable, state, due_on \
         from case_materials where case_id = $1 order by position";
    select(conn, sql, id).await
}

pub async fn steps(conn: &mut Conn, id: CaseId) -> AppResult<Vec<Step>> {
    let sql = "select at, actor, action, from_state, to_state, note from case_steps \
         where case_id = $1 order by id";
    select(conn, sql, id).await
}

pub async fn stops(conn: &mut Conn, id: CaseId) -> AppResult<Vec<Stop>> {
    let sql =
        "select id, reason, start_on, end_on from case_suspensions where case_id = $1 order by id";
    select(conn, sql, id).await
}

pub async fn extensions(conn: &mut Conn, id: CaseId) -> AppResult<Vec<ExtensionRow>> {
    let sql = "select id, days, reason, state, requested_at from case_extensions \
         where case_id = $1 order by id";
    select(conn, sql, id).await
}

/// Working days of the approved extensions.
pub fn granted_days(extensions: &[ExtensionRow]) -> u32 {
    extensions
        .iter()
        .filter(|e| e.state == "approved")
        .map(|e| u32::try_from(e.days).unwrap_or(0))
        .sum()
}

const REFUSAL_COLUMNS: &str = "r.id, c.number, r.applicant, r.phone, r.matter, r.reason, \
    r.basis, r.clerk, r.registered_at, r.opinion, r.opinion_at";

pub async fn refusal(conn: &mut Conn, id: CaseId) -> AppResult<Option<Refusal>> {
    let sql = format!(
        "select {REFUSAL_COLUMNS} from case_refusals r join cases c on c.id = r.case_id \
         where r.case_id = $1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The 否定报备登记表 of the centers, newest first.
pub async fn refusals(conn: &mut Conn, centers: &[CenterId]) -> AppResult<Vec<Refusal>> {
    let sql = format!(
        "select {REFUSAL_COLUMNS} from case_refusals r join cases c on c.id = r.case_id \
         where r.center_id in ({}) order by r.registered_at desc limit 200",
        id_list(centers)
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn settings(conn: &mut Conn, center: CenterId) -> AppResult<Settings> {
    let row: Option<Settings> = sqlx::query_as(
        "select chief_signoff, yellow_percent from case_settings where center_id = $1",
    )
    .bind(center)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.unwrap_or_default())
}

/// A line of a work list.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseLine {
    pub number: String,
    #[schema(value_type = String)]
    pub state: CaseState,
    #[schema(value_type = String)]
    pub kind: CaseKind,
    pub matter: String,
    pub department: String,
    pub applicant_name: String,
    pub center: String,
    #[schema(value_type = Option<String>)]
    pub accepted_on: Option<CivilDate>,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<CivilDate>,
    #[schema(value_type = Option<String>)]
    pub warn_on: Option<CivilDate>,
    pub decision: String,
    #[schema(value_type = i64)]
    pub created_at: Micros,
}

impl CaseLine {
    /// `red` when overdue on `today`, `yellow` from its warning day, else empty: the colour of
    /// the line, read from the dates so it is right the moment a day turns.
    pub fn colour(&self, today: &jiff::civil::Date) -> &'static str {
        let today = *today;
        if !self.state.clock_runs() {
            return "";
        }
        match (self.due_on, self.warn_on) {
            (Some(due), _) if today > due.date() => "red",
            (_, Some(warn)) if today >= warn.date() => "yellow",
            _ => "",
        }
    }
    pub fn state_label(&self) -> &'static str {
        self.state.label()
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind.label()
    }
    pub fn due_text(&self) -> String {
        self.due_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".into())
    }
}

/// The ids as an SQL list, `0` for none.
pub(super) fn id_list(ids: &[CenterId]) -> String {
    if ids.is_empty() {
        return "0".into();
    }
    ids.iter()
        .map(|c| c.0.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which cases a work list shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub centers: Vec<CenterId>,
    pub states: Vec<CaseState>,
    /// Only those received by this person.
    pub received_by: Option<UserId>,
    pub department: Option<String>,
    /// Only cases whose clock is past its warning day on this date.
    pub warned_by: Option<CivilDate>,
    pub limit: i64,
}

/// The cases of a filter, the most urgent first (due date, then age).
pub async fn lines(conn: &mut Conn, filter: &Filter) -> AppResult<Vec<CaseLine>> {
    let mut sql = format!(
        "select c.number, c.state, c.kind, m.name as matter, c.department, c.applicant_name, \
         ce.name as center, c.accepted_on, c.due_on, c.warn_on, c.decision, c.created_at \
         from cases c join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         where (c.center_id in ({list}) or c.reported_to in ({list}))",
        list = id_list(&filter.centers)
    );
    if !filter.states.is_empty() {
        sql.push_str(" and ");
        sql.push_str(&crate::state::in_list("c.state", &filter.states));
    }
    let mut binds: Vec<String> = Vec::new();
    if let Some(user) = filter.received_by {
        sql.push_str(&format!(" and c.received_by = {}", user.0));
    }
    if let Some(dept) = &filter.department {
        binds.push(dept.clone());
        sql.push_str(&format!(" and c.department = ${}", binds.len()));
    }
    if let Some(day) = filter.warned_by {
        binds.push(day.to_string());
        sql.push_str(&format!(" and c.warn_on <= ${}", binds.len()));
    }
    sql.push_str(&format!(
        " order by case when c.due_on is null then 1 else 0 end, c.due_on, c.created_at desc limit {}",
        filter.limit.clamp(1, 1000)
    ));
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Kind counts and the on-time rate (电子监察), per department or per matter.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct KindCounts {
    /// The department or matter name.
    pub name: String,
    pub immediate: i64,
    pub promised: i64,
    pub joint: i64,
    pub reported: i64,
    /// Decided or issued cases with a due date.
    pub finished: i64,
    /// Of those, decided on or before the due date.
    pub on_time: i64,
    /// Open cases past their due date.
    pub overdue: i64,
}

impl KindCounts {
    /// "98.5%", or "—" before anything is finished.
    pub fn on_time_rate(&self) -> String {
        if self.finished == 0 {
            return "—".into();
        }
        format!("{:.1}%", self.on_time as f64 * 100.0 / self.finished as f64)
    }
}

/// Counts by department or by matter for the centers, `today` deciding overdue. The kind
/// counts and on-time figures come from `case_rollups` (kept by triggers as cases change), the
/// overdue count from the open cases' index, so the page costs the same with a million cases.
pub async fn kind_counts(
    conn: &mut Conn,
    centers: &[CenterId],
    by_matter: bool,
    today: CivilDate,
) -> AppResult<Vec<KindCounts>> {
    let list = id_list(centers);
    let (name, join, group) = if by_matter {
        ("m.name", "join matters m on m.id = r.matter_id", "m.name")
    } else {
        ("r.department", "", "r.department")
    };
    let sql = format!(
        "select {name} as name, sum(r.immediate) as immediate, sum(r.promised) as promised, \
         sum(r.joint) as joint, sum(r.reported) as reported, sum(r.finished) as finished, \
         sum(r.on_time) as on_time, cast(0 as bigint) as overdue \
         from case_rollups r {join} where r.center_id in ({list}) \
         group by {group} having sum(r.immediate + r.promised + r.joint + r.reported) > 0 order by {group}"
    );
    let mut counts: Vec<KindCounts> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    // Days are YYYY-MM-DD text, so they compare as text on both engines; the partial index
    // `cases_open_due` holds just these rows.
    let sql = format!(
        "select {oname} as name, count(*) as n from cases c {ojoin} \
         where {} and c.due_on < $1 and c.center_id in ({list}) and c.decided_at is null group by {ogroup}",
        crate::state::in_list("c.state", CaseState::BACK_OFFICE),
        oname = if by_matter { "m.name" } else { "c.department" },
        ojoin = if by_matter {
            "join matters m on m.id = c.matter_id"
        } else {
            ""
        },
        ogroup = if by_matter { "m.name" } else { "c.department" },
    );
    let overdue: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(today)
        .fetch_all(&mut *conn)
        .await?;
    for (name, n) in overdue {
        if let Some(k) = counts.iter_mut().find(|k| k.name == name) {
            k.overdue = n;
        }
    }
    Ok(counts)
}
