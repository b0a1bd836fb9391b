//! 联办件 and 上报件 (seed 003 §(四)1(3)): the co-departments' parallel parts, each with its own
//! step limit, that the lead department's decision waits for; and the journey of a case to
//! the upper level's center, with its materials, until the decision comes back.

use super::*;
use crate::calendar::HolidayTable;
use crate::ids::CaseTaskId;

/// One co-department of a 联办件 and its step limit.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct TaskInput {
    /// The co-department (协办部门), e.g. 县税务局.
    pub department: String,
    /// Its step limit in working days from acceptance.
    pub days: i64,
}

/// A co-department's part as stored.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, ToSchema)]
pub struct Task {
    #[schema(value_type = i64)]
    pub id: CaseTaskId,
    #[serde(skip)]
    pub case_id: CaseId,
    pub department: String,
    pub limit_days: i64,
    #[schema(value_type = String)]
    pub due_on: CivilDate,
    #[schema(value_type = String)]
    pub warn_on: CivilDate,
    /// `open` or `done`.
    pub state: String,
    pub opinion: String,
    /// `yellow`, `red` or empty.
    pub warning: String,
    #[serde(skip)]
    pub done_by: Option<crate::ids::UserId>,
    #[schema(value_type = Option<String>)]
    pub done_on: Option<CivilDate>,
}

impl Task {
    pub fn done(&self) -> bool {
        self.state == "done"
    }
    /// The line's colour on `today`, from the dates.
    pub fn colour(&self, today: &Date) -> &'static str {
        if self.done() {
            ""
        } else if *today > self.due_on.date() {
            "red"
        } else if *today >= self.warn_on.date() {
            "yellow"
        } else {
            ""
        }
    }
}

const TASK_COLUMNS: &str = "id, case_id, department, limit_days, due_on, warn_on, state, opinion, \
    warning, done_by, done_on";

/// The co-departments' parts of a case, in the order they were given.
pub async fn tasks(conn: &mut Conn, case: CaseId) -> AppResult<Vec<Task>> {
    let sql = format!("select {TASK_COLUMNS} from case_tasks where case_id = $1 order by id");
    queries::select(conn, sql, case).await
}

/// One co-department's part, for its deadline job.
pub async fn task_by_id(conn: &mut Conn, id: CaseTaskId) -> AppResult<Option<Task>> {
    let sql = format!("select {TASK_COLUMNS} from case_tasks where id = $1");
    Ok(queries::select(conn, sql, id).await?.pop())
}

/// Checks the co-departments given at acceptance: at least one, none twice, none the lead
/// department, each limit within the case's own.
pub(super) fn check_tasks(
    input: &[TaskInput],
    lead: &str,
    limit: Option<i64>,
) -> AppResult<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for t in input {
        let dept = t.department.trim();
        if dept.is_empty() && t.days == 0 {
            continue;
        }
        if dept.is_empty() || dept.chars().count() > 50 {
            return Err(AppError::invalid_field(
                "joint.department",
                "请填写协办部门名称（不超过 50 字）",
            ));
        }
        if dept == lead.trim() {
            return Err(AppError::invalid_field(
                "joint.department",
                format!("“{dept}”是主办部门，不能同时作为协办部门"),
            ));
        }
        if out.iter().any(|(d, _)| d == dept) {
            return Err(AppError::invalid_field(
                "joint.department",
                format!("协办部门“{dept}”重复"),
            ));
        }
        let max = limit.filter(|l| *l > 0).unwrap_or(365);
        if !(1..=max).contains(&t.days) {
            return Err(AppError::invalid_field(
                "joint.days",
                format!("“{dept}”的环节时限应在 1 到 {max} 个工作日之间（不超过办件的承诺时限）"),
            ));
        }
        out.push((dept.to_owned(), t.days));
    }
    if out.is_empty() {
        return Err(AppError::invalid_field(
            "joint",
            "联办件须列出至少一个协办部门及其环节时限",
        ));
    }
    Ok(out)
}

/// The due and warning days of a step of `days` working days from `accepted`, with the case's
/// stops.
async fn task_due(
    app: &App,
    conn: &mut Conn,
    (case, table): (&Case, &HolidayTable),
    accepted: Date,
    days: i64,
) -> AppResult<Due> {
    let settings = queries::settings(conn, case.center_id).await?;
    let stops = queries::stops(conn, case.id).await?;
    clock::due(
        table,
        accepted,
        u32::try_from(days).unwrap_or(1),
        "working_days",
        &stops,
        0,
        u32::try_from(settings.yellow_percent).unwrap_or(80),
        crate::timetable::today(app),
    )
    .map_err(|e| AppError::Invalid(format!("无法计算环节期限：{e}")))
}

/// The co-departments' parts of a case about to be accepted on `accepted`, with their dates,
/// computed before the write transaction.
pub(super) async fn plan_tasks(
    app: &App,
    conn: &mut Conn,
    case: &Case,
    table: &HolidayTable,
    accepted: Date,
    tasks: Vec<(String, i64)>,
) -> AppResult<Vec<(String, i64, Due)>> {
    let mut out = Vec::with_capacity(tasks.len());
    for (dept, days) in tasks {
        let due = task_due(app, conn, (case, table), accepted, days).await?;
        out.push((dept, days, due));
    }
    Ok(out)
}

/// Opens the co-departments' parts of a case just accepted, and schedules their warnings.
pub(super) async fn open_tasks(
    tx: &mut Tx,
    case: CaseId,
    tasks: &[(String, i64, Due)],
    now: i64,
) -> AppResult<()> {
    for (dept, days, due) in tasks {
        let id: CaseTaskId = sqlx::query_scalar(
            "insert into case_tasks (case_id, department, limit_days, due_on, warn_on, state, created_at) \
             values ($1, $2, $3, $4, $5, 'open', $6) returning id",
        )
        .bind(case)
        .bind(dept)
        .bind(days)
        .bind(CivilDate(due.due))
        .bind(CivilDate(due.warn))
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        crate::cases::warn::schedule_task(tx, id, due.warn, now).await?;
    }
    Ok(())
}

/// Moves the open parts' dates after the case's clock stood still.
pub(super) async fn recompute_tasks(
    app: &App,
    tx: &mut Tx,
    case: &Case,
    table: &HolidayTable,
    now: i64,
) -> AppResult<()> {
    let Some(accepted) = case.accepted_on else {
        return Ok(());
    };
    for t in tasks(tx, case.id).await?.into_iter().filter(|t| !t.done()) {
        let due = task_due(app, tx, (case, table), accepted.date(), t.limit_days).await?;
        sqlx::query("update case_tasks set due_on = $1, warn_on = $2, warning = '' where id = $3")
            .bind(CivilDate(due.due))
            .bind(CivilDate(due.warn))
            .bind(t.id)
            .execute(&mut **tx)
            .await?;
        crate::cases::warn::schedule_task(tx, t.id, due.warn, now).await?;
    }
    Ok(())
}

/// What a co-department hands back.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct TaskDoneInput {
    /// The co-department, as given at acceptance.
    pub department: String,
    /// Its opinion (审查意见).
    pub opinion: String,
}

/// A co-department finishes its part, with its opinion.
pub async fn finish_task(
    app: &App,
    user: &CurrentUser,
    number: &str,
    input: &TaskDoneInput,
) -> Outcome {
    let dept = input.department.trim().to_owned();
    let opinion = required(
        "opinion",
        &input.opinion,
        Some(500),
        "请填写协办部门的审查意见（不超过 500 字）",
    )?;
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            let center = case.deciding_center().get();
            allow(
                policy::can_approve(user, center) || policy::is_chief_representative(user, center),
                "只有本中心的后台审批人员可以办理协办环节",
            )?;
            if !case.state.clock_runs() || case.state == CaseState::Signing {
                return Err(state_refusal(&case, "不能办理协办环节"));
            }
            let done = sqlx::query(
                "update case_tasks set state = 'done', opinion = $1, done_by = $2, done_at = $3, done_on = $4 \
                 where case_id = $5 and department = $6 and state = 'open'",
            )
            .bind(&opinion)
            .bind(user.id)
            .bind(now)
            .bind(CivilDate(today))
            .bind(case.id)
            .bind(&dept)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if done == 0 {
                let all = tasks(&mut tx, case.id).await?;
                return Err(match all.iter().find(|t| t.department == dept) {
                    Some(_) => AppError::InvalidState(format!("协办部门“{dept}”的环节已办结")),
                    None => AppError::invalid_field("department", format!("本件没有协办部门“{dept}”")),
                });
            }
            noted(&mut tx, &case, user, "task_done", &format!("{dept}：{opinion}"), now).await
        })
    })
    .await
}

/// The upper level's center of `center`, if it has one.
pub(super) async fn parent_center(
    conn: &mut Conn,
    center: CenterId,
) -> AppResult<Option<CenterId>> {
    let parent: Option<Option<CenterId>> =
        sqlx::query_scalar("select parent_id from centers where id = $1")
            .bind(center)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(parent.flatten())
}

/// The co-departments still working, which the lead's decision waits for.
pub(super) async fn open_departments(conn: &mut Conn, case: CaseId) -> AppResult<Vec<String>> {
    Ok(tasks(conn, case)
        .await?
        .into_iter()
        .filter(|t| !t.done())
        .map(|t| t.department)
        .collect())
}

/// 上报: forwards an accepted 上报件 with its materials to the upper level's center, which
/// decides it; the applicant is not asked for anything again.
pub async fn report(app: &App, user: &CurrentUser, number: &str, note: &str) -> Outcome {
    let note = note.trim().to_owned();
    if note.chars().count() > 500 {
        return Err(AppError::invalid_field("note", "上报说明不超过 500 字"));
    }
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_take_in(user, case.center_id.get()),
                "只有本中心的窗口或部门工作人员可以上报办件",
            )?;
            if case.kind != CaseKind::Reported {
                return Err(AppError::InvalidState("只有上报件可以上报上级中心".into()));
            }
            if case.reported_to.is_some() {
                return Err(AppError::InvalidState("本件已上报".into()));
            }
            if case.state != CaseState::Accepted {
                return Err(state_refusal(&case, "受理后才能上报"));
            }
            let Some(parent) = parent_center(&mut tx, case.center_id).await? else {
                return Err(AppError::InvalidState(
                    "本中心没有上级中心，不能上报".into(),
                ));
            };
            let parent_name: String = sqlx::query_scalar("select name from centers where id = $1")
                .bind(parent)
                .fetch_one(&mut **tx)
                .await?;
            let rows = sqlx::query(
                "update cases set reported_to = $1, reported_at = $2, updated_at = $2 \
                 where id = $3 and state = 'accepted' and reported_to is null",
            )
            .bind(parent)
            .bind(now)
            .bind(case.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            changed(rows, "本件已上报")?;
            let text = if note.is_empty() {
                format!("连同申请材料上报至{parent_name}")
            } else {
                format!("连同申请材料上报至{parent_name}：{note}")
            };
            noted(&mut tx, &case, user, "report", &text, now).await
        })
    })
    .await
}
