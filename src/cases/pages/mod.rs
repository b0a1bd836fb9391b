//! Pages of the cases area: the work list of each role (`/cases`), intake at the window
//! (`/cases/new`, from the called ticket or directly), a case with the steps its state and the
//! viewer's role allow (`/cases/{number}`), 电子监察 (`/cases/supervision`) and the public
//! progress lookup (`/progress`). Each POST runs one use case of [`super::service`] and
//! redirects (303) with a flash, or shows the page again with the Chinese reason (422).

pub mod board;
mod case;
mod intake;
mod watch;

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
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
use crate::ids::CenterId;
use crate::web::{Chrome, Flash, PageResult, done, render, render_status};

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

/// A form's page: shown again with the refusal's status where a use case refused it.
fn render_after(refused: Option<StatusCode>, page: &impl Template) -> PageResult {
    match refused {
        Some(status) => render_status(status, page),
        None => render(page),
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/new", get(intake::new_form).post(intake::create))
        .route("/cases/supervision", get(watch::supervision))
        .route("/cases/{number}", get(case::show))
        .route("/cases/{number}/notices/{kind}", get(case::notice))
        .route("/cases/{number}/{action}", post(case::act))
        .route("/progress", get(watch::progress))
        .route("/centers/{center}/cases/screen", get(board::screen))
        .route(
            "/api/v1/centers/{center}/cases/board",
            get(board::api_board),
        )
}
