//! JSON API of home visits. Public: asking for a visit, looking it up and cancelling with the
//! code and the phone. Staff of the center (session or bearer token): the list, arranging,
//! refusing (with the hall manager's approval) and marking a visit done.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, ArrangeInput, By, VisitInput};
use super::{HomeVisit, Member, VisitState};
use crate::app::App;
use crate::auth::{CurrentUser, MaybeUser, policy};
use crate::booking::api::RefusalDecision;
use crate::booking::web::{Caller, PhoneQuery, StaffCall};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::identity;

/// A home visit as the API answers it. The applicant's data are masked unless the caller
/// answers home visits at the center, goes on this visit, or gave the visit's phone.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VisitItem {
    /// 申请编号.
    pub code: String,
    /// `pending`, `arranged`, `refusing`, `refused`, `cancelled`, `done`.
    pub status: String,
    pub status_label: String,
    pub center: String,
    pub center_name: String,
    /// `elderly`, `sick`, `disabled`, `enterprise`.
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub phone: String,
    /// ID-card number or unified social credit code.
    pub id_number: String,
    pub address: String,
    pub wanted_date: String,
    pub reason: String,
    pub matter: String,
    /// Agreed when arranged.
    pub visit_date: Option<String>,
    pub visit_time: Option<String>,
    pub place: String,
    pub materials: String,
    pub staff: Vec<Member>,
    pub refusal_reason: String,
    /// Asked for before today and not answered.
    pub overdue: bool,
}

impl VisitItem {
    pub fn of(
        v: &HomeVisit,
        center: (&str, &str),
        staff: Vec<Member>,
        full: bool,
        overdue: bool,
    ) -> Self {
        let (name, phone, id_number, address) = if full {
            (
                v.name.clone(),
                v.phone.clone(),
                v.id_number.clone(),
                v.address.clone(),
            )
        } else {
            (
                identity::mask_name(&v.name),
                identity::mask_phone(&v.phone),
                identity::mask_number(&v.id_number),
                String::new(),
            )
        };
        Self {
            code: v.code.clone(),
            status: v.state.as_str().into(),
            status_label: v.state.label().into(),
            center: center.0.into(),
            center_name: center.1.into(),
            kind: v.applicant_kind.as_str().into(),
            kind_label: v.applicant_kind.label().into(),
            name,
            phone,
            id_number,
            place: if full || v.state != VisitState::Arranged {
                v.place.clone()
            } else {
                String::new()
            },
            address,
            wanted_date: v.wanted_date.clone(),
            reason: if full {
                v.reason.clone()
            } else {
                String::new()
            },
            matter: v.matter.clone(),
            visit_date: v.visit_date.clone(),
            visit_time: v.visit_time.clone(),
            materials: v.materials.clone(),
            staff,
            refusal_reason: v.refusal_reason.clone(),
            overdue,
        }
    }

    pub fn materials_lines(&self) -> Vec<&str> {
        self.materials
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    pub fn staff_names(&self) -> String {
        self.staff
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// Whether `user` sees the visit's applicant unmasked.
pub fn sees(user: &CurrentUser, v: &HomeVisit, staff: &[Member]) -> bool {
    let assigned = staff.iter().any(|m| m.id == user.id);
    policy::can_see_home_visit_applicant(user, v.center_id.get(), assigned)
}

/// The item of one visit, as `user` may see it (`None`: the applicant, who sees it all).
pub async fn item_for(
    app: &App,
    v: &HomeVisit,
    user: Option<&CurrentUser>,
) -> AppResult<VisitItem> {
    let mut conn = app.db.pool().acquire().await?;
    let staff = super::staff_of(&mut conn, v.id).await?;
    let (code, name) = super::center_of(&mut conn, v.center_id).await?;
    let full = user.is_none_or(|u| sees(u, v, &staff));
    Ok(VisitItem::of(
        v,
        (&code, &name),
        staff,
        full,
        service::overdue(app, v),
    ))
}

/// What a member of staff who answered a visit is told: the visit as they see it now.
async fn answered(
    app: &App,
    user: &CurrentUser,
    v: AppResult<HomeVisit>,
) -> AppResult<Json<VisitItem>> {
    Ok(Json(item_for(app, &v?, Some(user)).await?))
}

/// Asks for a home visit (public).
#[utoipa::path(post, path = "/api/v1/home-visits", summary = "申请上门服务（公开）", tag = "booking",
    request_body = VisitInput,
    responses((status = 201, body = VisitItem), (status = 422, description = "输入无效")))]
pub async fn create(
    State(app): State<Arc<App>>,
    ApiJson(input): ApiJson<VisitInput>,
) -> AppResult<impl IntoResponse> {
    let v = service::request(&app, &input).await?;
    Ok((StatusCode::CREATED, Json(item_for(&app, &v, None).await?)))
}

/// What a call without a phone and without a signed-in user is told.
const NO_PHONE: &str = "请填写申请时的手机号";

/// A home visit, by code and phone (or for staff of its center).
#[utoipa::path(get, path = "/api/v1/home-visits/{code}", summary = "查询上门服务申请", tag = "booking",
    params(("code" = String, Path), PhoneQuery),
    responses((status = 200, body = VisitItem), (status = 404, description = "编号或手机号不符")))]
pub async fn get_one(call: Caller, Query(q): Query<PhoneQuery>) -> AppResult<Json<VisitItem>> {
    let (State(app), MaybeUser(user), Path(code)) = call;
    let who = By::of(&user, &q.phone, NO_PHONE)?;
    let v = service::find(&app, &code, who.phone()).await?;
    who.may_see(v.center_id, "找不到该上门服务申请")?;
    Ok(Json(item_for(&app, &v, who.staff()).await?))
}

/// Cancels a request or an arranged visit (code + phone, or staff of its center).
#[utoipa::path(delete, path = "/api/v1/home-visits/{code}", summary = "取消上门服务申请", tag = "booking",
    params(("code" = String, Path), PhoneQuery),
    responses((status = 200, body = VisitItem), (status = 404, description = "编号或手机号不符"),
        (status = 409, description = "状态不允许取消")))]
pub async fn cancel(call: Caller, Query(q): Query<PhoneQuery>) -> AppResult<Json<VisitItem>> {
    let (State(app), MaybeUser(user), Path(code)) = call;
    let who = By::of(&user, &q.phone, NO_PHONE)?;
    let staff = who.staff();
    let v = service::cancel(&app, &code, who).await?;
    Ok(Json(item_for(&app, &v, staff).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// One state only (default: open requests and arranged visits).
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VisitList {
    pub items: Vec<VisitItem>,
}

/// A center's home visits for `user`: masked unless they serve them.
pub async fn list_for(
    app: &App,
    user: &CurrentUser,
    center: crate::ids::CenterId,
    states: &[VisitState],
) -> AppResult<Vec<VisitItem>> {
    let mut conn = app.db.pool().acquire().await?;
    let (code, name) = super::center_of(&mut conn, center).await?;
    let visits = super::list(&mut conn, center, states).await?;
    let mut out = Vec::with_capacity(visits.len());
    for v in &visits {
        let staff = super::staff_of(&mut conn, v.id).await?;
        let full = sees(user, v, &staff);
        out.push(VisitItem::of(
            v,
            (&code, &name),
            staff,
            full,
            service::overdue(app, v),
        ));
    }
    Ok(out)
}

/// A center's home visits (staff): open requests first (oldest first), arranged visits by date.
#[utoipa::path(get, path = "/api/v1/centers/{center}/home-visits", summary = "上门服务申请（工作人员）", tag = "booking",
    params(("center" = String, Path), ListQuery), responses((status = 200, body = VisitList)))]
pub async fn list(call: StaffCall, Query(q): Query<ListQuery>) -> AppResult<Json<VisitList>> {
    let (State(app), user, Path(center)) = call;
    let center = crate::booking::api::staff_center(&app, &user, &center).await?;
    let one;
    let states: &[VisitState] = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => VisitState::CURRENT,
        Some(s) => {
            one = [VisitState::parse(s).ok_or_else(|| {
                AppError::invalid_field(
                    "state",
                    "状态须为 pending、arranged、refusing、refused、cancelled 或 done",
                )
            })?];
            &one
        }
    };
    Ok(Json(VisitList {
        items: list_for(&app, &user, center, states).await?,
    }))
}

/// 安排上门 (staff of the center): date, time, place, materials and at least two staff.
#[utoipa::path(post, path = "/api/v1/home-visits/{code}/arrange", summary = "安排上门服务", tag = "booking",
    request_body = ArrangeInput, params(("code" = String, Path)),
    responses((status = 200, body = VisitItem), (status = 422, description = "少于两名工作人员或输入无效"),
        (status = 409, description = "状态不允许安排")))]
pub async fn arrange(
    call: StaffCall,
    ApiJson(input): ApiJson<ArrangeInput>,
) -> AppResult<Json<VisitItem>> {
    let (State(app), user, Path(code)) = call;
    answered(
        &app,
        &user,
        service::arrange(&app, &user, &code, &input).await,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct VisitRefuseInput {
    /// 不同意的理由, told to the applicant.
    #[serde(default)]
    pub reason: String,
}

/// 不同意: a clerk proposes it with the reason; the hall manager's own refusal is final at once.
#[utoipa::path(post, path = "/api/v1/home-visits/{code}/refuse", summary = "不同意上门服务（报大厅审批）", tag = "booking",
    request_body = VisitRefuseInput, params(("code" = String, Path)), responses((status = 200, body = VisitItem)))]
pub async fn refuse(
    call: StaffCall,
    ApiJson(input): ApiJson<VisitRefuseInput>,
) -> AppResult<Json<VisitItem>> {
    let (State(app), user, Path(code)) = call;
    answered(
        &app,
        &user,
        service::refuse(&app, &user, &code, &input.reason).await,
    )
    .await
}

/// The hall manager decides on a proposed refusal.
#[utoipa::path(post, path = "/api/v1/home-visits/{code}/refusal", summary = "审批不同意上门服务", tag = "booking",
    request_body = RefusalDecision, params(("code" = String, Path)), responses((status = 200, body = VisitItem)))]
pub async fn decide_refusal(
    call: StaffCall,
    ApiJson(input): ApiJson<RefusalDecision>,
) -> AppResult<Json<VisitItem>> {
    let (State(app), user, Path(code)) = call;
    let v = service::decide_refusal(&app, &user, &code, input.approve).await;
    answered(&app, &user, v).await
}

/// 办结: the visit took place (staff of the center).
#[utoipa::path(post, path = "/api/v1/home-visits/{code}/done", summary = "上门服务办结", tag = "booking",
    params(("code" = String, Path)), responses((status = 200, body = VisitItem), (status = 409, description = "尚未安排")))]
pub async fn done(call: StaffCall) -> AppResult<Json<VisitItem>> {
    let (State(app), user, Path(code)) = call;
    answered(&app, &user, service::complete(&app, &user, &code).await).await
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/home-visits", post(create))
        .route("/api/v1/home-visits/{code}", get(get_one).delete(cancel))
        .route("/api/v1/home-visits/{code}/arrange", post(arrange))
        .route("/api/v1/home-visits/{code}/refuse", post(refuse))
        .route("/api/v1/home-visits/{code}/refusal", post(decide_refusal))
        .route("/api/v1/home-visits/{code}/done", post(done))
        .route("/api/v1/centers/{center}/home-visits", get(list))
}
