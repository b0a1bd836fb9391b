//! 电子监察 for leaders and hall managers, and the public progress lookup.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SupervisionQuery {
    center: String,
}

/// A late or nearly late case, with who holds it.
#[derive(sqlx::FromRow)]
pub(super) struct Watched {
    number: String,
    matter: String,
    department: String,
    center: String,
    state: CaseState,
    due_on: Option<CivilDate>,
    person: Option<String>,
    warning: String,
}

impl Watched {
    fn late(&self, today: &jiff::civil::Date) -> bool {
        self.due_on.is_some_and(|d| *today > d.date())
    }
    fn state_label(&self) -> &'static str {
        self.state.label()
    }
    fn person_name(&self) -> &str {
        self.person.as_deref().unwrap_or("—")
    }
    fn due_text(&self) -> String {
        self.due_on.map(|d| d.to_string()).unwrap_or_default()
    }
}

/// A co-department's step of a 联办件 that is about to be late, or late.
#[derive(sqlx::FromRow)]
pub(super) struct WatchedTask {
    number: String,
    matter: String,
    center: String,
    lead: String,
    department: String,
    due_on: CivilDate,
}

impl WatchedTask {
    fn late(&self, today: &jiff::civil::Date) -> bool {
        *today > self.due_on.date()
    }
}

#[derive(Template)]
#[template(path = "cases/supervision.html")]
pub(super) struct SupervisionPage {
    chrome: Chrome,
    centers: Vec<CenterChoice>,
    center: String,
    today: jiff::civil::Date,
    watched: Vec<Watched>,
    tasks: Vec<WatchedTask>,
    by_department: Vec<KindCounts>,
    by_matter: Vec<KindCounts>,
    refusals: Vec<Refusal>,
}

pub(super) async fn supervision(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<SupervisionQuery>,
) -> PageResult {
    let centers: Vec<CenterChoice> = my_centers(&app, &user)
        .await?
        .into_iter()
        .filter(|c| policy::can_read_reports(&user, c.id.get()))
        .collect();
    if centers.is_empty() {
        return Err(AppError::Forbidden("电子监察页面供领导和大厅管理员使用".into()).into());
    }
    let ids: Vec<CenterId> = match q.center.trim() {
        "" => centers.iter().map(|c| c.id).collect(),
        code => centers
            .iter()
            .filter(|c| c.code == code)
            .map(|c| c.id)
            .collect(),
    };
    let today = crate::timetable::today(&app);
    let mut conn = app.db.pool().acquire().await?;
    let list = queries::id_list(&ids);
    let sql = format!(
        "select c.number, m.name as matter, c.department, ce.name as center, c.state, c.due_on, \
         u.display_name as person, c.warning from cases c {} \
         join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         left join users u on u.id = coalesce(c.decided_by, c.received_by) \
         where {} and c.state <> 'suspended' and c.center_id in ({list}) and c.warn_on <= $1 \
         order by c.due_on, c.number limit 500",
        // SQLite, without statistics, would fetch every open case of the center and sort
        // them; the partial index walks them in due order and stops at the limit.
        crate::db::dialect::indexed_by(app.db.backend(), "cases_open_due"),
        // The open states as the partial index `cases_open_due` names them, so both engines
        // walk only open cases in due order; a suspended clock does not run.
        crate::state::in_list("c.state", CaseState::BACK_OFFICE)
    );
    let watched: Vec<Watched> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(CivilDate(today))
        .fetch_all(&mut *conn)
        .await?;
    let sql = format!(
        "select c.number, m.name as matter, ce.name as center, c.department as lead, t.department, t.due_on \
         from case_tasks t join cases c on c.id = t.case_id \
         join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         where t.state = 'open' and t.warn_on <= $1 and (c.center_id in ({list}) or c.reported_to in ({list})) \
         and {} order by t.due_on, c.number limit 500",
        crate::state::in_list("c.state", &[CaseState::Accepted, CaseState::Signing])
    );
    let tasks: Vec<WatchedTask> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(CivilDate(today))
        .fetch_all(&mut *conn)
        .await?;
    let by_department = queries::kind_counts(&mut conn, &ids, false, CivilDate(today)).await?;
    let by_matter = queries::kind_counts(&mut conn, &ids, true, CivilDate(today)).await?;
    let refusals = queries::refusals(&mut conn, &ids).await?;
    render(&SupervisionPage {
        chrome: Chrome::new(Some(user), csrf),
        centers,
        center: q.center,
        today,
        watched,
        tasks,
        by_department,
        by_matter,
        refusals,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ProgressQuery {
    number: String,
    name: String,
}

#[derive(Template)]
#[template(path = "cases/progress.html")]
pub(super) struct ProgressPage {
    chrome: Chrome,
    number: String,
    name: String,
    found: Option<crate::cases::api::ProgressItem>,
    error: Option<String>,
}

pub(super) async fn progress(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(q): Query<ProgressQuery>,
) -> PageResult {
    let (found, error) = if q.number.trim().is_empty() || q.name.trim().is_empty() {
        let e = (!q.number.trim().is_empty() || !q.name.trim().is_empty())
            .then(|| "请同时填写办件编号和申请人姓名".to_owned());
        (None, e)
    } else {
        match service::progress(&app, &q.number, &q.name).await {
            Ok(f) => (Some(crate::cases::api::ProgressItem::from(&f)), None),
            Err(AppError::NotFound(m)) => (None, Some(m)),
            Err(e) => return Err(e.into()),
        }
    };
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &ProgressPage {
            chrome: Chrome::new(user, csrf),
            number: q.number,
            name: q.name,
            found,
            error,
        },
    )
}
