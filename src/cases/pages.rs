//! Pages of the cases area: the work list of each role (`/cases`), intake at the window
//! (`/cases/new`, from the called ticket or directly), a case with the steps its state and the
//! viewer's role allow (`/cases/{number}`), 电子监察 (`/cases/supervision`) and the public
//! progress lookup (`/progress`). Each POST runs one use case of [`super::service`] and
//! redirects (303) with a flash, or shows the page again with the Chinese reason (422).

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::queries::{self, CaseLine, Filter, KindCounts, Refusal};
use super::service::{self, Full, Situation};
use super::{CaseKind, CaseState, MaterialState};
use crate::app::App;
use crate::auth::{CsrfToken, CurrentUser, MaybeUser, PageUser, Role, policy};
use crate::db::CivilDate;
use crate::error::{AppError, AppResult};
use crate::extract::Fields;
use crate::identity;
use crate::ids::CenterId;
use crate::web::{Chrome, PageResult, render, render_status};

/// A center the viewer belongs to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CenterChoice {
    pub id: CenterId,
    pub code: String,
    pub name: String,
}

async fn my_centers(app: &App, user: &CurrentUser) -> AppResult<Vec<CenterChoice>> {
    let all: Vec<CenterChoice> = sqlx::query_as("select id, code, name from centers order by id")
        .fetch_all(app.db.pool())
        .await?;
    Ok(all
        .into_iter()
        .filter(|c| policy::can_see_center(user, c.id.get()))
        .collect())
}

/// The centers a list covers: the named one (if the viewer may see it) or all of theirs.
pub async fn centers_of(
    app: &App,
    user: &CurrentUser,
    code: Option<&str>,
) -> AppResult<Vec<CenterId>> {
    let mine = my_centers(app, user).await?;
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => mine
            .iter()
            .find(|c| c.code == code)
            .map(|c| vec![c.id])
            .ok_or_else(|| AppError::NotFound(format!("找不到中心“{code}”"))),
        None => Ok(mine.iter().map(|c| c.id).collect()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    view: String,
    center: String,
    ok: Option<String>,
}

/// A tab of the work list.
pub struct View {
    pub key: &'static str,
    pub label: &'static str,
    pub states: &'static [CaseState],
}

const VIEWS: &[View] = &[
    View {
        key: "intake",
        label: "待受理 / 待补正",
        states: &[CaseState::Received, CaseState::Correcting],
    },
    View {
        key: "review",
        label: "审批中",
        states: &[CaseState::Accepted, CaseState::Suspended],
    },
    View {
        key: "signing",
        label: "待签批",
        states: &[CaseState::Signing],
    },
    View {
        key: "issue",
        label: "待出件",
        states: &[CaseState::Decided],
    },
    View {
        key: "closed",
        label: "已办结",
        states: &[CaseState::Issued, CaseState::Refused],
    },
];

/// The tab a role starts on.
fn default_view(user: &CurrentUser) -> &'static str {
    if user.has_role(Role::ChiefRepresentative) {
        "signing"
    } else if user.has_role(Role::Approver) {
        "review"
    } else {
        "intake"
    }
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    chrome: Chrome,
    views: &'static [View],
    view: &'static str,
    centers: Vec<CenterChoice>,
    center: String,
    lines: Vec<CaseLine>,
    today: jiff::civil::Date,
    ok: Option<String>,
    /// Departments of the review tab, with their counts (审批人员 see work by category).
    departments: Vec<(String, usize)>,
    can_intake: bool,
    can_supervise: bool,
}

async fn list(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let view = VIEWS
        .iter()
        .find(|v| v.key == q.view)
        .or_else(|| VIEWS.iter().find(|v| v.key == default_view(&user)))
        .unwrap_or(&VIEWS[0]);
    let centers = my_centers(&app, &user).await?;
    let ids = centers_of(
        &app,
        &user,
        Some(q.center.as_str()).filter(|c| !c.is_empty()),
    )
    .await?;
    let mut conn = app.db.pool().acquire().await?;
    let lines = queries::lines(
        &mut conn,
        &Filter {
            centers: ids.clone(),
            states: view.states.to_vec(),
            limit: 300,
            ..Default::default()
        },
    )
    .await?;
    let mut departments: Vec<(String, usize)> = Vec::new();
    for l in &lines {
        match departments.iter_mut().find(|(d, _)| *d == l.department) {
            Some((_, n)) => *n += 1,
            None => departments.push((l.department.clone(), 1)),
        }
    }
    let can_intake = ids.iter().any(|c| policy::can_take_in(&user, c.get()));
    let can_supervise = ids.iter().any(|c| policy::can_read_reports(&user, c.get()));
    render(&ListPage {
        chrome: Chrome::new(Some(user), csrf),
        views: VIEWS,
        view: view.key,
        centers,
        center: q.center,
        lines,
        today: crate::timetable::today(&app),
        ok: q.ok,
        departments,
        can_intake,
        can_supervise,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    center: String,
    window: String,
    ticket: String,
    situation: String,
}

/// A situation as the intake form shows it.
struct Shown {
    code: String,
    name: String,
    materials: Vec<crate::catalog::Material>,
    form_points: Vec<String>,
    content_points: Vec<String>,
    kind: String,
    commitment: bool,
}

impl Shown {
    fn of(s: &Situation) -> Self {
        Self {
            code: s.code.clone(),
            name: s.name.clone(),
            materials: s.input.materials.clone(),
            form_points: s.input.review_form.clone(),
            content_points: s.input.review_content.clone(),
            kind: s.input.kind.clone(),
            commitment: s.input.notice_commitment,
        }
    }
    fn kind_label(&self) -> &'static str {
        CaseKind::parse(&self.kind).map_or("承诺件", CaseKind::label)
    }
}

/// A leaf matter a center's window may take in.
#[derive(sqlx::FromRow)]
struct Option_ {
    code: String,
    name: String,
    department: String,
}

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    chrome: Chrome,
    centers: Vec<CenterChoice>,
    form: Fields,
    options: Vec<Option_>,
    shown: Option<Shown>,
    error: Option<String>,
}

impl NewPage {
    fn is_center(&self, code: &str) -> bool {
        self.form.get("center") == code
    }
    fn is_company(&self) -> bool {
        self.form.get("applicant_kind") == "company"
    }
    fn material_form(&self, form: &str) -> &'static str {
        match form {
            "original" => "原件",
            "copy" => "复印件",
            _ => "原件及复印件",
        }
    }
}

async fn options(app: &App, center: &str) -> AppResult<Vec<Option_>> {
    Ok(sqlx::query_as(
        "select m.code, m.name, m.department from matters m join centers c on c.id = m.center_id \
         where c.code = $1 and m.node = 'matter' and m.outside = 0 \
         and not exists (select 1 from matters k where k.parent_id = m.id) \
         order by m.department, m.sort_order, m.id limit 2000",
    )
    .bind(center)
    .fetch_all(app.db.pool())
    .await?)
}

fn fields_of(q: &NewQuery) -> Fields {
    Fields(vec![
        ("center".into(), q.center.clone()),
        ("window".into(), q.window.clone()),
        ("ticket".into(), q.ticket.clone()),
        ("situation".into(), q.situation.clone()),
    ])
}

async fn new_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    mut form: Fields,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let centers = my_centers(app, &user).await?;
    if form.get("center").is_empty()
        && let Some(c) = centers.first()
    {
        form.0.push(("center".into(), c.code.clone()));
    }
    let options = options(app, form.get("center")).await?;
    let code = form.get("situation").trim().to_owned();
    let mut problem = error.clone().map(|e| e.1);
    let shown = if code.is_empty() {
        None
    } else {
        match service::situation_for_form(app, &code).await {
            Ok(s) => Some(Shown::of(&s)),
            Err(e) => {
                problem.get_or_insert(e.public_message());
                None
            }
        }
    };
    let page = NewPage {
        chrome: Chrome::new(Some(user), csrf),
        centers,
        form,
        options,
        shown,
        error: problem,
    };
    match error {
        Some((status, _)) => render_status(status, &page),
        None => render(&page),
    }
}

async fn new_form(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(q): Query<NewQuery>,
) -> PageResult {
    new_page(&app, user, csrf, fields_of(&q), None).await
}

/// The status and message a page shows for a refused use case; anything else is passed on.
fn shown_refusal(e: AppError) -> Result<(StatusCode, String), AppError> {
    match e {
        AppError::Invalid(_) | AppError::InvalidField { .. } | AppError::NotFound(_) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, e.public_message()))
        }
        AppError::InvalidState(_) | AppError::Conflict(_) => {
            Ok((StatusCode::CONFLICT, e.public_message()))
        }
        AppError::Forbidden(_) => Ok((StatusCode::FORBIDDEN, e.public_message())),
        other => Err(other),
    }
}

fn positions(form: &Fields, name: &str) -> Vec<i64> {
    form.all(name)
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect()
}

async fn create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    let credit = form.get("applicant_kind") == "company";
    let no = form.get("applicant_no").to_owned();
    let input = service::IntakeInput {
        center: Some(form.get("center").to_owned()),
        situation: form.get("situation").to_owned(),
        applicant: service::ApplicantInput {
            name: form.get("applicant_name").to_owned(),
            id_card: (!credit).then(|| no.clone()),
            credit_code: credit.then(|| no.clone()),
            phone: Some(form.get("phone").to_owned()),
        },
        agent: Some(service::AgentInput {
            name: form.get("agent_name").to_owned(),
            id_card: form.get("agent_id_card").to_owned(),
        }),
        ticket: Some(form.get("ticket").to_owned()),
        window: Some(form.get("window").to_owned()),
        received: Some(positions(&form, "received")),
        checked: Some(form.all("checked")),
    };
    match service::intake(&app, &user, &input).await {
        Ok(case) => done(&format!("/cases/{}", case.number), "已收件，请作出受理决定"),
        Err(e) => {
            let refusal = shown_refusal(e)?;
            new_page(&app, user, csrf, form, Some(refusal)).await
        }
    }
}

fn done(path: &str, msg: &str) -> PageResult {
    let msg: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{path}{sep}ok={msg}")).into_response())
}

#[derive(Template)]
#[template(path = "cases/case.html")]
struct CasePage {
    chrome: Chrome,
    f: Full,
    ok: Option<String>,
    error: Option<String>,
    /// What the viewer may do now.
    can_intake: bool,
    can_decide: bool,
    can_accept: bool,
    can_suspend: bool,
    can_grant: bool,
    can_sign: bool,
    can_opine: bool,
    /// The clerk's proposed 一次性告知: the materials marked missing.
    missing_draft: String,
    /// The review points with their keys and whether they are ticked.
    points: Vec<(String, String, bool)>,
    supply_by: String,
}

impl CasePage {
    fn applicant_no(&self) -> String {
        self.f.case.applicant_no.clone()
    }
    fn warning(&self) -> Option<&'static str> {
        super::api::warning_today(&self.f.case, self.f.today)
    }
    fn has_pending_extension(&self) -> bool {
        self.f.extensions.iter().any(|e| e.state == "requested")
    }
    fn has_approved_extension(&self) -> bool {
        self.f.extensions.iter().any(|e| e.state == "approved")
    }
    fn state(&self) -> CaseState {
        self.f.case.state
    }
    fn is(&self, s: &str) -> bool {
        self.f.case.state.as_str() == s
    }
    fn tolerable_missing(&self) -> Vec<&queries::CaseMaterial> {
        self.f
            .materials
            .iter()
            .filter(|m| m.tolerable != 0 && m.state == MaterialState::Missing)
            .collect()
    }
    fn to_supply(&self) -> Vec<&queries::CaseMaterial> {
        self.f
            .materials
            .iter()
            .filter(|m| matches!(m.state, MaterialState::Tolerated | MaterialState::Missing))
            .collect()
    }
    fn decision_label(&self) -> &'static str {
        self.f.case.decision().map_or("", super::Decision::label)
    }
    fn phone(&self) -> &str {
        &self.f.case.applicant_phone
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Flash {
    ok: Option<String>,
}

async fn case_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    number: &str,
    ok: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let f = service::get(app, &user, number).await?;
    let center = f.case.center_id.get();
    let immediate = f.case.kind == CaseKind::Immediate;
    let missing_draft = f
        .materials
        .iter()
        .filter(|m| m.state == MaterialState::Missing)
        .map(|m| format!("{}（{}，{} 份）", m.name, m.form_label(), m.copies))
        .collect::<Vec<_>>()
        .join("\n");
    let (sit_form, sit_content) = {
        let sit = service::situation_for_form(app, &f.matter_code).await.ok();
        sit.map(|s| (s.input.review_form, s.input.review_content))
            .unwrap_or_default()
    };
    let ticked = f.case.ticked();
    let mut points = Vec::new();
    for (kind, list) in [("form", &sit_form), ("content", &sit_content)] {
        for (i, text) in list.iter().enumerate() {
            let key = format!("{kind}:{}", i + 1);
            let on = ticked.contains(&key);
            points.push((key, text.clone(), on));
        }
    }
    let table = crate::timetable::holiday_table(app).await?;
    let supply_by = table
        .deadline(f.today, 5, &[], None)
        .map(|d| d.due.to_string())
        .unwrap_or_default();
    let page = CasePage {
        can_intake: policy::can_take_in(&user, center),
        can_decide: policy::can_decide(&user, center, immediate),
        can_accept: if f.case.collect_only != 0 {
            policy::can_accept_collected(&user, center)
        } else {
            policy::can_take_in(&user, center)
        },
        can_suspend: policy::can_approve(&user, center),
        can_grant: policy::can_grant_extension(&user, center),
        can_sign: policy::is_chief_representative(&user, center),
        can_opine: policy::can_give_opinion(&user, center),
        chrome: Chrome::new(Some(user), csrf),
        f,
        ok,
        missing_draft,
        points,
        supply_by,
        error: error.as_ref().map(|e| e.1.clone()),
    };
    match error {
        Some((status, _)) => render_status(status, &page),
        None => render(&page),
    }
}

async fn show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(number): Path<String>,
    Query(q): Query<Flash>,
) -> PageResult {
    case_page(&app, user, csrf, &number, q.ok, None).await
}

/// One step from the case page: `action` names the use case.
async fn act(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((number, action)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result = match action.as_str() {
        "accept" => {
            let input = service::AcceptInput {
                tolerated: positions(&form, "tolerated"),
                supply_by: Some(form.get("supply_by").to_owned()),
                commitment: form.checked("commitment"),
                fast_track: Some(form.get("fast_track").to_owned()),
            };
            service::accept(&app, &user, &number, &input)
                .await
                .map(|_| "已受理，可打印受理通知书")
        }
        "notify-missing" => {
            let items: Vec<String> = form.get("items").lines().map(str::to_owned).collect();
            service::notify_missing(&app, &user, &number, &items)
                .await
                .map(|_| "已一次性告知，可打印补正告知书")
        }
        "refuse" => service::refuse(&app, &user, &number, form.get("reason"), form.get("basis"))
            .await
            .map(|_| "已不予受理，并登记否定报备"),
        "decide" => {
            let input = service::DecideInput {
                decision: form.get("decision").to_owned(),
                note: form.get("note").to_owned(),
            };
            service::decide(&app, &user, &number, &input)
                .await
                .map(|_| "已作出决定")
        }
        "sign" => service::sign(
            &app,
            &user,
            &number,
            form.get("approve") == "1",
            form.get("note"),
        )
        .await
        .map(|_| "已签批"),
        "suspend" => {
            let input = service::SuspendInput {
                reason: form.get("reason").to_owned(),
                note: form.get("note").to_owned(),
            };
            service::suspend(&app, &user, &number, &input)
                .await
                .map(|_| "已中止计时")
        }
        "resume" => service::resume(&app, &user, &number)
            .await
            .map(|_| "已恢复计时，到期日已重新计算"),
        "extend" => {
            let input = service::ExtendInput {
                days: form.get("days").trim().parse().unwrap_or(0),
                reason: form.get("reason").to_owned(),
            };
            service::request_extension(&app, &user, &number, &input)
                .await
                .map(|_| "已提交延期申请")
        }
        "grant" => service::decide_extension(&app, &user, &number, form.get("approve") == "1")
            .await
            .map(|_| "已处理延期申请"),
        "issue" => {
            let input = service::IssueInput {
                delivery: form.get("delivery").to_owned(),
                id_card: Some(form.get("id_card").to_owned()),
                tracking_no: Some(form.get("tracking_no").to_owned()),
            };
            service::issue(&app, &user, &number, &input)
                .await
                .map(|_| "已出件")
        }
        "supply" => service::supply(
            &app,
            &user,
            &number,
            form.get("position").parse().unwrap_or(0),
        )
        .await
        .map(|_| "已登记补交材料"),
        "opinion" => service::refusal_opinion(&app, &user, &number, form.get("opinion"))
            .await
            .map(|_| "已签署意见"),
        _ => Err(AppError::NotFound("没有这个操作".into())),
    };
    match result {
        Ok(msg) => done(&format!("/cases/{number}"), msg),
        Err(e) => {
            let refusal = shown_refusal(e)?;
            case_page(&app, user, csrf, &number, None, Some(refusal)).await
        }
    }
}

async fn notice(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path((number, kind)): Path<(String, String)>,
) -> PageResult {
    Ok(super::api::notice_pdf(&app, &user, &headers, &number, &kind).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SupervisionQuery {
    center: String,
}

/// A late or nearly late case, with who holds it.
#[derive(sqlx::FromRow)]
struct Watched {
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

#[derive(Template)]
#[template(path = "cases/supervision.html")]
struct SupervisionPage {
    chrome: Chrome,
    centers: Vec<CenterChoice>,
    center: String,
    today: jiff::civil::Date,
    watched: Vec<Watched>,
    by_department: Vec<KindCounts>,
    by_matter: Vec<KindCounts>,
    refusals: Vec<Refusal>,
}

async fn supervision(
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
    let list = ids
        .iter()
        .map(|c| c.0.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let list = if list.is_empty() {
        "0".to_owned()
    } else {
        list
    };
    let sql = format!(
        "select c.number, m.name as matter, c.department, ce.name as center, c.state, c.due_on, \
         u.display_name as person, c.warning from cases c \
         join matters m on m.id = c.matter_id join centers ce on ce.id = c.center_id \
         left join users u on u.id = coalesce(c.decided_by, c.received_by) \
         where c.center_id in ({list}) and {} and c.warn_on <= $1 \
         order by c.due_on, c.number limit 500",
        crate::state::in_list("c.state", &[CaseState::Accepted, CaseState::Signing])
    );
    let watched: Vec<Watched> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
        by_department,
        by_matter,
        refusals,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProgressQuery {
    number: String,
    name: String,
}

#[derive(Template)]
#[template(path = "cases/progress.html")]
struct ProgressPage {
    chrome: Chrome,
    number: String,
    name: String,
    found: Option<super::api::ProgressItem>,
    error: Option<String>,
}

async fn progress(
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
            Ok(f) => (Some(super::api::ProgressItem::from(&f)), None),
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

/// Masks for templates.
pub fn masked_name(name: &str) -> String {
    identity::mask_name(name)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/new", get(new_form).post(create))
        .route("/cases/supervision", get(supervision))
        .route("/cases/{number}", get(show))
        .route("/cases/{number}/notices/{kind}", get(notice))
        .route("/cases/{number}/{action}", post(act))
        .route("/progress", get(progress))
}
