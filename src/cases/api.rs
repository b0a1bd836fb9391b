//! JSON API of cases under `/api/v1/cases` (staff: session or bearer token). A step the
//! case's state does not allow answers 409 `invalid_state`.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::notice::{self, NoticeKind};
use super::queries::{self, CaseLine};
use super::service::{
    self, AcceptInput, Brief, DecideInput, ExtendInput, Fee, Full, IntakeInput, IssueInput,
    PayInput, SuspendInput, Task, TaskDoneInput,
};
use super::{Case, CaseState};
use crate::app::App;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::identity;

/// A case as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct CaseItem {
    /// 办件编号.
    pub number: String,
    /// `received`, `correcting`, `accepted`, `suspended`, `signing`, `decided`, `refused`, `issued`.
    pub status: String,
    /// 办件类型: `immediate`, `promised`, `joint`, `reported`.
    pub kind: String,
    pub center: String,
    pub matter: String,
    pub matter_name: String,
    pub applicant: String,
    /// 受理日, YYYY-MM-DD.
    pub accepted: Option<String>,
    /// 到期日 of a 承诺件 (and the day of a 即办件), YYYY-MM-DD.
    pub due: Option<String>,
    /// `yellow` (预警) or `red` (超期) as of today, when the clock runs.
    pub warning: Option<String>,
    /// `approved` or `rejected`, once decided.
    pub decision: Option<String>,
    /// The ticket the applicant was called with.
    pub ticket: Option<String>,
    /// 联办件: each co-department's part, with its own step limit and due date.
    pub tasks: Vec<Task>,
    /// The fee computed after approval, and whether it is paid.
    pub fee: Option<Fee>,
    /// 上报件: the upper level's center it was forwarded to.
    pub reported_to: Option<String>,
    /// 上报件: its decision is back from the upper level's center.
    pub returned: bool,
    /// Every step: who, when, what.
    pub history: Vec<HistoryItem>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryItem {
    /// Beijing time.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub label: String,
    pub from: Option<String>,
    pub to: String,
    pub note: String,
}

/// The warning of a case as of `today`, read from its dates.
pub fn warning_today(case: &Case, today: jiff::civil::Date) -> Option<&'static str> {
    if !case.state.clock_runs() {
        return None;
    }
    match (case.due_on, case.warn_on) {
        (Some(due), _) if today > due.date() => Some("red"),
        (_, Some(warn)) if today >= warn.date() => Some("yellow"),
        _ => None,
    }
}

impl From<&Brief> for CaseItem {
    fn from(f: &Brief) -> Self {
        let c = &f.case;
        Self {
            number: c.number.clone(),
            status: c.state.as_str().into(),
            kind: c.kind.as_str().into(),
            center: f.center_code.clone(),
            matter: f.matter_code.clone(),
            matter_name: f.matter_name.clone(),
            applicant: c.applicant_name.clone(),
            accepted: c.accepted_on.map(|d| d.to_string()),
            due: c.due_on.map(|d| d.to_string()),
            warning: warning_today(c, f.today).map(Into::into),
            decision: c.decision().map(|d| d.as_str().into()),
            ticket: f.ticket_number.clone(),
            tasks: f.tasks.clone(),
            fee: f.fee.clone(),
            reported_to: f.reported_to_name.clone(),
            returned: c.returned_at.is_some(),
            history: f
                .steps
                .iter()
                .map(|s| HistoryItem {
                    at: s.when(),
                    actor: s.actor.clone(),
                    action: s.action.clone(),
                    label: s.label(),
                    from: s.from_state.map(|x| x.as_str().into()),
                    to: s.to_state.as_str().into(),
                    note: s.note.clone(),
                })
                .collect(),
        }
    }
}

async fn answer(app: &App, case: Case) -> AppResult<Json<CaseItem>> {
    let mut conn = app.db.pool().acquire().await?;
    let brief = service::brief(app, &mut conn, case).await?;
    Ok(Json(CaseItem::from(&brief)))
}

/// Takes in an application (收件).
#[utoipa::path(post, path = "/api/v1/cases", summary = "收件：新建办件（窗口工作人员）", tag = "cases",
    request_body = IntakeInput,
    responses((status = 201, body = CaseItem), (status = 422, description = "输入不合规（字段见 error.field）"),
        (status = 403, description = "无权在该中心收件")))]
pub async fn create(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<IntakeInput>,
) -> AppResult<Response> {
    let case = service::intake(&app, &user, &input).await?;
    Ok((StatusCode::CREATED, answer(&app, case).await?).into_response())
}

/// One case with its full history.
#[utoipa::path(get, path = "/api/v1/cases/{number}", summary = "办件详情与全部记录（工作人员）", tag = "cases",
    params(("number" = String, Path, description = "办件编号")),
    responses((status = 200, body = CaseItem), (status = 404, description = "没有该办件")))]
pub async fn get_case(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> AppResult<Json<CaseItem>> {
    let brief = service::get_brief(&app, &user, &number).await?;
    Ok(Json(CaseItem::from(&brief)))
}

/// 受理.
#[utoipa::path(post, path = "/api/v1/cases/{number}/accept", summary = "受理（可容缺、告知承诺、特事特办）", tag = "cases",
    params(("number" = String, Path, description = "办件编号")), request_body = AcceptInput,
    responses((status = 200, body = CaseItem), (status = 409, description = "状态不允许（invalid_state）"),
        (status = 422, description = "材料不齐等")))]
pub async fn accept(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(number): Path<String>,
    body: Option<ApiJson<AcceptInput>>,
) -> AppResult<Json<CaseItem>> {
    let input = body.map(|b| b.0).unwrap_or_default();
    let case = service::accept(&app, &user, &number, &input).await?;
    answer(&app, case).await
}

/// The items of a 一次性告知.
#[derive(Deserialize, ToSchema)]
pub struct MissingInput {
    pub items: Vec<String>,
}

/// A refusal's reason and basis.
#[derive(Deserialize, ToSchema)]
pub struct CaseRefuseInput {
    pub reason: String,
    /// The legal basis; by default 《行政许可法》第三十二条.
    #[serde(default)]
    pub basis: String,
}

/// The chief representative's sign-off.
#[derive(Deserialize, ToSchema)]
pub struct SignInput {
    /// true: sign; false: send back (with a note).
    pub approve: bool,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/resume", summary = "恢复计时", tag = "cases",
    params(("number" = String, Path, description = "办件编号")),
    responses((status = 200, body = CaseItem), (status = 409, description = "状态不允许（invalid_state）")))]
pub async fn resume(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> AppResult<Json<CaseItem>> {
    let case = service::resume(&app, &user, &number).await?;
    answer(&app, case).await
}

/// Approve or refuse the pending extension.
#[derive(Deserialize, ToSchema)]
pub struct GrantInput {
    pub approve: bool,
}

/// A 容缺 material handed in.
#[derive(Deserialize, ToSchema)]
pub struct SupplyInput {
    pub position: i64,
}

/// The leader's opinion on a refusal.
#[derive(Deserialize, ToSchema)]
pub struct OpinionInput {
    pub opinion: String,
}

/// A 上报 with its note.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct ReportInput {
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/report", summary = "上报件：连同材料上报上级中心（不再要求申请人重复提交）", tag = "cases",
    params(("number" = String, Path, description = "办件编号")), request_body = ReportInput,
    responses((status = 200, body = CaseItem), (status = 409, description = "不是上报件、已上报或状态不允许（invalid_state）")))]
pub async fn report(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(number): Path<String>,
    body: Option<ApiJson<ReportInput>>,
) -> AppResult<Json<CaseItem>> {
    let input = body.map(|b| b.0).unwrap_or_default();
    let case = service::report(&app, &user, &number, &input.note).await?;
    answer(&app, case).await
}

/// The handlers of the steps on one case: `POST` with the case number in the path and a JSON
/// body, answering the case after the step as a [`CaseItem`]. Each names its path, summary,
/// body and error responses, and the use case it runs with the app, the caller, the number and
/// the body.
macro_rules! case_steps {
    ($(
        $(#[$doc:meta])*
        $name:ident($path:tt, $summary:tt, $input:ident $(, $response:tt)*)
            => |$app:ident, $user:ident, $number:ident, $body:ident| $call:expr;
    )+) => {$(
        $(#[$doc])*
        #[utoipa::path(post, path = $path, summary = $summary, tag = "cases",
            params(("number" = String, Path, description = "办件编号")), request_body = $input,
            responses((status = 200, body = CaseItem) $(, $response)*))]
        pub async fn $name(
            State($app): State<Arc<App>>,
            $user: CurrentUser,
            Path($number): Path<String>,
            ApiJson($body): ApiJson<$input>,
        ) -> AppResult<Json<CaseItem>> {
            let case = $call.await?;
            answer(&$app, case).await
        }
    )+};
}

case_steps! {
    /// 一次性告知.
    notify_missing("/api/v1/cases/{number}/notify-missing", "一次性告知补正", MissingInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::notify_missing(&app, &user, &number, &input.items);
    /// 不予受理.
    refuse("/api/v1/cases/{number}/refuse", "不予受理（登记否定报备）", CaseRefuseInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::refuse(&app, &user, &number, &input.reason, &input.basis);
    /// The department's decision.
    decide("/api/v1/cases/{number}/decide", "审批决定（准予/不予）", DecideInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::decide(&app, &user, &number, &input);
    sign("/api/v1/cases/{number}/sign", "首席代表签批或退回", SignInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::sign(&app, &user, &number, input.approve, &input.note);
    suspend("/api/v1/cases/{number}/suspend", "中止计时（补正、公示、听证、专家评审、现场踏勘等）", SuspendInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::suspend(&app, &user, &number, &input);
    extend("/api/v1/cases/{number}/extensions", "申请延期（不超过法定时限）", ExtendInput, (status = 422, description = "超过法定时限等"))
        => |app, user, number, input| service::request_extension(&app, &user, &number, &input);
    grant("/api/v1/cases/{number}/extensions/decide", "批准或不批准延期（首席代表、大厅管理员）", GrantInput)
        => |app, user, number, input| service::decide_extension(&app, &user, &number, input.approve);
    issue("/api/v1/cases/{number}/issue", "出件（窗口领取核验身份，或政务专递）", IssueInput, (status = 409, description = "状态不允许（invalid_state）"))
        => |app, user, number, input| service::issue(&app, &user, &number, &input);
    supply("/api/v1/cases/{number}/supply", "补交容缺材料", SupplyInput)
        => |app, user, number, input| service::supply(&app, &user, &number, input.position);
    opinion("/api/v1/cases/{number}/opinion", "否定报备：领导意见", OpinionInput)
        => |app, user, number, input| service::refusal_opinion(&app, &user, &number, &input.opinion);
    task_done("/api/v1/cases/{number}/tasks/done", "联办件：协办部门办结本环节并填写意见", TaskDoneInput, (status = 409, description = "环节已办结或状态不允许（invalid_state）"))
        => |app, user, number, input| service::finish_task(&app, &user, &number, &input);
    pay("/api/v1/cases/{number}/pay", "登记缴费（网上支付凭证；现金仅限老年人）", PayInput, (status = 409, description = "无需缴费、已缴费或尚未办结（invalid_state）"), (status = 422, description = "非老年人现金缴费等"))
        => |app, user, number, input| service::pay(&app, &user, &number, &input);
}

/// The hall's public address: the configured one, or the one the request came in by.
pub fn public_base(app: &App, headers: &HeaderMap) -> String {
    let configured = app.config.public_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let scheme = if app.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The public progress address of a case.
pub fn progress_url(base: &str, number: &str) -> String {
    let n: String = url::form_urlencoded::byte_serialize(number.as_bytes()).collect();
    format!("{base}/progress?number={n}")
}

/// A notice as a PDF for a case the caller may see.
pub async fn notice_pdf(
    app: &App,
    user: &CurrentUser,
    headers: &HeaderMap,
    number: &str,
    kind: &str,
) -> AppResult<Response> {
    let kind = kind.strip_suffix(".pdf").unwrap_or(kind);
    let kind = NoticeKind::parse(kind)
        .ok_or_else(|| AppError::NotFound(format!("没有“{kind}”这种通知书")))?;
    let full = service::get(app, user, number).await?;
    let url = progress_url(&public_base(app, headers), &full.case.number);
    let notice = notice::compose(&full, kind, &url)?;
    let pdf = notice::typesetter(&app.config.font_dir)?
        .pdf(&notice)
        .await?;
    let name: String = url::form_urlencoded::byte_serialize(
        format!("{}-{}.pdf", full.case.number, kind.label()).as_bytes(),
    )
    .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename*=UTF-8''{name}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}

/// A written notice: `accept`, `missing`, `refuse` or `extension`.
#[utoipa::path(get, path = "/api/v1/cases/{number}/notices/{kind}", summary = "通知书 PDF（受理、补正、不予受理、延期）", tag = "cases",
    params(("number" = String, Path, description = "办件编号"), ("kind" = String, Path, description = "accept.pdf | missing.pdf | refuse.pdf | extension.pdf")),
    responses((status = 200, description = "PDF", content_type = "application/pdf"), (status = 404, description = "该办件没有这种通知书")))]
pub async fn notice(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    headers: HeaderMap,
    Path((number, kind)): Path<(String, String)>,
) -> AppResult<Response> {
    notice_pdf(&app, &user, &headers, &number, &kind).await
}

/// Which cases to list.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct ListQuery {
    /// A center code; by default all the caller's centers.
    pub center: Option<String>,
    /// A state, e.g. `accepted`.
    pub state: Option<String>,
}

/// Cases of the caller's centers, the most urgent first.
#[utoipa::path(get, path = "/api/v1/cases", summary = "办件列表（按到期日）", tag = "cases",
    params(("center" = Option<String>, Query, description = "中心编码"), ("state" = Option<String>, Query, description = "状态")),
    responses((status = 200, body = Vec<CaseLine>)))]
pub async fn list(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Vec<CaseLine>>> {
    let states = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => vec![
            CaseState::parse(s)
                .ok_or_else(|| AppError::invalid_field("state", format!("没有“{s}”这种状态")))?,
        ],
        None => Vec::new(),
    };
    let centers = super::pages::centers_of(&app, &user, q.center.as_deref()).await?;
    let mut conn = app.db.pool().acquire().await?;
    let filter = queries::Filter {
        centers,
        states,
        limit: 200,
        ..Default::default()
    };
    Ok(Json(queries::lines(&mut conn, &filter).await?))
}

/// What the public sees of a case.
#[derive(Serialize, ToSchema)]
pub struct ProgressItem {
    pub number: String,
    /// Masked: 张*明.
    pub applicant: String,
    /// Masked: 3607**********1234.
    pub applicant_no: String,
    pub matter: String,
    pub center: String,
    pub status: String,
    pub status_name: String,
    pub due: Option<String>,
    /// The fee to pay, e.g. "20.00 元", while it is unpaid.
    pub fee_due: Option<String>,
    /// The steps, without the staff's names.
    pub steps: Vec<PublicStep>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicStep {
    pub at: String,
    pub label: String,
}

impl From<&Full> for ProgressItem {
    fn from(f: &Full) -> Self {
        Self {
            number: f.case.number.clone(),
            applicant: identity::mask_name(&f.case.applicant_name),
            applicant_no: identity::mask_number(&f.case.applicant_no),
            matter: f.matter_name.clone(),
            center: f.center_name.clone(),
            status: f.case.state.as_str().into(),
            status_name: f.case.state.label().into(),
            due: f.case.due_on.map(|d| d.to_string()),
            fee_due: f
                .fee
                .as_ref()
                .filter(|fee| !fee.paid())
                .map(|fee| fee.amount_text()),
            steps: public_steps(f),
        }
    }
}

/// The steps the public sees: the life-cycle steps, not warnings or opinions.
pub fn public_steps(f: &Full) -> Vec<PublicStep> {
    f.steps
        .iter()
        .filter(|s| {
            !s.action.starts_with("warn_")
                && !s.action.starts_with("task_")
                && s.action != "opinion"
        })
        .map(|s| PublicStep {
            at: s.when(),
            label: s.label(),
        })
        .collect()
}

/// The public progress lookup.
#[derive(Deserialize, ToSchema)]
pub struct ProgressQuery {
    pub number: String,
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/progress", summary = "办件进度查询（公开，需办件编号和申请人姓名）", tag = "cases",
    params(("number" = String, Query, description = "办件编号"), ("name" = String, Query, description = "申请人姓名或单位名称")),
    responses((status = 200, body = ProgressItem), (status = 404, description = "编号与姓名不符")))]
pub async fn progress(
    State(app): State<Arc<App>>,
    Query(q): Query<ProgressQuery>,
) -> AppResult<Json<ProgressItem>> {
    let full = service::progress(&app, &q.number, &q.name).await?;
    Ok(Json(ProgressItem::from(&full)))
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/cases", post(create).get(list))
        .route("/api/v1/cases/{number}", get(get_case))
        .route("/api/v1/cases/{number}/accept", post(accept))
        .route(
            "/api/v1/cases/{number}/notify-missing",
            post(notify_missing),
        )
        .route("/api/v1/cases/{number}/refuse", post(refuse))
        .route("/api/v1/cases/{number}/decide", post(decide))
        .route("/api/v1/cases/{number}/sign", post(sign))
        .route("/api/v1/cases/{number}/suspend", post(suspend))
        .route("/api/v1/cases/{number}/resume", post(resume))
        .route("/api/v1/cases/{number}/extensions", post(extend))
        .route("/api/v1/cases/{number}/extensions/decide", post(grant))
        .route("/api/v1/cases/{number}/issue", post(issue))
        .route("/api/v1/cases/{number}/supply", post(supply))
        .route("/api/v1/cases/{number}/opinion", post(opinion))
        .route("/api/v1/cases/{number}/tasks/done", post(task_done))
        .route("/api/v1/cases/{number}/report", post(report))
        .route("/api/v1/cases/{number}/pay", post(pay))
        .route("/api/v1/cases/{number}/notices/{kind}", get(notice))
        .route("/api/v1/progress", get(progress))
}
