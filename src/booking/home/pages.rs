//! Pages of home visits.
//!
//! Applicants (phone-first, plain forms): `/book/{center}/home` (the request form, linked from
//! the center's booking page), `/h/{code}` (the request's status, with the agreed date, place,
//! materials and staff; cancel with the phone). Staff: `/appointments/home` (open requests,
//! overdue ones red; arranged visits; the arrange and refuse forms; the hall manager's
//! decision). Each POST runs one use case of [`super::service`] and redirects (303) with a
//! flash, or shows the page again with the Chinese reason.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::api::{VisitItem, item_for, list_for};
use super::service::{self, ArrangeInput, By, VisitInput};
use super::{Member, VisitAction, VisitApplicant, VisitState};
use crate::app::App;
use crate::auth::{CsrfToken, CurrentUser, Viewer, policy};
use crate::booking::pages::{CenterRow, center_row};
use crate::booking::staff_pages::pick_center;
use crate::booking::web::{
    REFUSAL_APPROVED, Staff, Visitor, answered, refusal_proposed, refused, refused_now,
};
use crate::error::{AppError, AppResult};
use crate::extract::Fields;
use crate::state::StateMachine;
use crate::web::{Chrome, PageResult, done, render};

// ---- applicants ----

#[derive(Template)]
#[template(path = "booking/home_new.html")]
struct RequestPage {
    chrome: Chrome,
    center: CenterRow,
    form: VisitInput,
    today: String,
    error: Option<String>,
}

impl RequestPage {
    fn kinds(&self) -> &'static [VisitApplicant] {
        VisitApplicant::ALL
    }

    /// The form of `center` with `form` filled in, and the reason it was refused (`error`).
    fn new(
        app: &App,
        chrome: Chrome,
        center: CenterRow,
        form: VisitInput,
        error: Option<String>,
    ) -> Self {
        Self {
            chrome,
            center,
            form,
            today: crate::timetable::today(app).to_string(),
            error,
        }
    }
}

async fn request_page((State(app), chrome): Visitor, Path(center): Path<String>) -> PageResult {
    let center = center_row(&app, &center).await?;
    let form = VisitInput {
        center: center.code.clone(),
        wanted_date: crate::timetable::today(&app).to_string(),
        ..VisitInput::default()
    };
    render(&RequestPage::new(&app, chrome, center, form, None))
}

async fn request_submit(
    (State(app), chrome): Visitor,
    Path(center): Path<String>,
    form: Fields,
) -> PageResult {
    let center = center_row(&app, &center).await?;
    let input = VisitInput {
        center: center.code.clone(),
        kind: form.get("kind").into(),
        name: form.get("name").into(),
        phone: form.get("phone").into(),
        id_number: form.get("id_number").into(),
        address: form.get("address").into(),
        wanted_date: form.get("wanted_date").into(),
        reason: form.get("reason").into(),
        matter: form.get("matter").into(),
    };
    match service::request(&app, &input).await {
        Ok(v) => Ok(Redirect::to(&format!("/h/{}?new=1", v.code)).into_response()),
        Err(e) => refused_now(e, |msg| {
            RequestPage::new(&app, chrome, center, input, Some(msg))
        }),
    }
}

#[derive(Template)]
#[template(path = "booking/home_visit.html")]
struct VisitPage {
    chrome: Chrome,
    v: VisitItem,
    fresh: bool,
    can_cancel: bool,
    ok: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VisitQuery {
    new: Option<String>,
    ok: Option<String>,
}

async fn visit_page_for(
    app: &App,
    chrome: Chrome,
    code: &str,
    q: VisitQuery,
    error: Option<String>,
) -> AppResult<VisitPage> {
    let v = service::find(app, code, None).await?;
    let mut item = item_for(app, &v, None).await?;
    // The page is reached with the code alone: the applicant's data stay masked.
    item.name = crate::identity::mask_name(&v.name);
    item.phone = crate::identity::mask_phone(&v.phone);
    item.id_number = crate::identity::mask_number(&v.id_number);
    item.address = String::new();
    item.reason = String::new();
    Ok(VisitPage {
        chrome,
        can_cancel: v.state.allows(VisitAction::Cancel),
        v: item,
        fresh: q.new.is_some(),
        ok: q.ok,
        error,
    })
}

async fn visit_page(
    (State(app), chrome): Visitor,
    Path(code): Path<String>,
    Query(q): Query<VisitQuery>,
) -> PageResult {
    render(&visit_page_for(&app, chrome, &code, q, None).await?)
}

async fn visit_cancel(
    (State(app), chrome): Visitor,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    let by = By::Citizen {
        phone: form.get("phone"),
    };
    match service::cancel(&app, &code, by).await {
        Ok(v) => done(&format!("/h/{}", v.code), "上门服务申请已取消"),
        Err(e) => {
            let page = |msg| {
                let q = VisitQuery::default();
                visit_page_for(&app, chrome, &code, q, Some(msg))
            };
            refused(e, page).await
        }
    }
}

// ---- staff ----

#[derive(Template)]
#[template(path = "booking/home_staff.html")]
struct StaffPage {
    chrome: Chrome,
    centers: Vec<CenterRow>,
    center: CenterRow,
    open: Vec<VisitItem>,
    arranged: Vec<VisitItem>,
    members: Vec<Member>,
    can_serve: bool,
    can_approve: bool,
    today: String,
    ok: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StaffQuery {
    center: String,
    ok: Option<String>,
}

async fn staff_page_for(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    q: StaffQuery,
    error: Option<String>,
) -> AppResult<StaffPage> {
    let (centers, center) = pick_center(app, &user, &q.center).await?;
    let items = list_for(app, &user, center.id, VisitState::CURRENT).await?;
    let (arranged, mut open): (Vec<VisitItem>, Vec<VisitItem>) = items
        .into_iter()
        .partition(|v| v.status == VisitState::Arranged.as_str());
    open.sort_by_key(|v| !v.overdue);
    let members = {
        let mut conn = app.db.pool().acquire().await?;
        super::members(&mut conn, center.id).await?
    };
    Ok(StaffPage {
        can_serve: policy::can_serve_home_visits(&user, center.id.get()),
        can_approve: policy::can_approve_booking_refusal(&user, center.id.get()),
        chrome: Chrome::new(Some(user), csrf),
        centers,
        center,
        open,
        arranged,
        members,
        today: crate::timetable::today(app).to_string(),
        ok: q.ok,
        error,
    })
}

async fn staff_page(
    (State(app), Viewer { user, csrf }): Staff,
    Query(q): Query<StaffQuery>,
) -> PageResult {
    render(&staff_page_for(&app, user, csrf, q, None).await?)
}

async fn staff_act(
    (State(app), Viewer { user, csrf }): Staff,
    Path((code, action)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let result = match action.as_str() {
        "arrange" => {
            let input = ArrangeInput {
                date: form.get("date").into(),
                time: form.get("time").into(),
                place: form.get("place").into(),
                materials: form.get("materials").into(),
                staff: form.all("staff"),
            };
            service::arrange(&app, &user, &code, &input)
                .await
                .map(|_| "已安排上门服务，已通知申请人")
        }
        "refuse" => service::refuse(&app, &user, &code, form.get("reason"))
            .await
            .map(|v| {
                refusal_proposed(
                    v.state == VisitState::Refused,
                    "已不同意该申请，已通知申请人",
                )
            }),
        "approve" => service::decide_refusal(&app, &user, &code, true)
            .await
            .map(|_| REFUSAL_APPROVED),
        "deny" => service::decide_refusal(&app, &user, &code, false)
            .await
            .map(|_| "已驳回不同意，请安排上门"),
        "done" => service::complete(&app, &user, &code)
            .await
            .map(|_| "已记录上门办结"),
        "cancel" => service::cancel(&app, &code, By::Staff(&user))
            .await
            .map(|_| "上门服务已取消"),
        _ => return Err(AppError::NotFound("找不到该页面".into()).into()),
    };
    let center = form.get("center").to_owned();
    let back = format!("/appointments/home?center={center}");
    answered(result, &back, |msg| {
        let q = StaffQuery { center, ok: None };
        staff_page_for(&app, user, csrf, q, Some(msg))
    })
    .await
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/book/{center}/home",
            get(request_page).post(request_submit),
        )
        .route("/h/{code}", get(visit_page))
        .route("/h/{code}/cancel", post(visit_cancel))
        .route("/appointments/home", get(staff_page))
        .route("/appointments/home/{code}/{action}", post(staff_act))
}
