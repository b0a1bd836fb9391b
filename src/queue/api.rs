//! JSON API of the queue: issuing (public, like the kiosk), the clerk's actions, the phone's
//! status, the display's state, statistics and the SSE event stream.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use tokio_stream::{StreamExt, wrappers::BroadcastStream};
use utoipa::ToSchema;

pub use super::service::{
    Act, CallItem, DisplayState, Issued, Settings, Status, WaitingItem, act, desk_for,
    display_state, issue_checked_in, issue_for, leave_queue, save_settings, service_date, settings,
    status_of,
};
use super::{
    stats::{self, Overrun, StatLine},
    ticket::{HoldKind, Ticket},
};
use crate::{
    app::App,
    auth::{Acting, CurrentUser},
    error::{AppError, AppResult},
    extract::ApiJson,
    hall::{Center, centers},
};

#[derive(Deserialize, ToSchema)]
pub struct IssueInput {
    /// Zone code.
    pub zone: String,
    /// elderly | disabled | pregnant | military. An appointment ticket comes only from
    /// checking in a booking (`POST /api/v1/appointments/{code}/check-in`).
    #[serde(default)]
    pub priority: Option<String>,
    /// No longer accepted: a request naming it is refused, so no caller claims priority.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub appointment_at: Option<serde_json::Value>,
}

/// Issues a ticket (public, like the kiosk).
#[utoipa::path(post, path = "/api/v1/centers/{center}/tickets", summary = "取号（公开）", tag = "queue",
    request_body = IssueInput, params(("center" = String, Path)),
    responses((status = 201, body = Issued), (status = 422, description = "专区或优先类型无效")))]
pub async fn issue_ticket(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<IssueInput>,
) -> AppResult<impl IntoResponse> {
    let center = app.queue_cache.center(&app, &code).await?;
    if input.appointment_at.is_some() {
        return Err(AppError::invalid_field(
            "appointment_at",
            "预约号须凭预约码或身份证在取号机“预约签到”取得",
        ));
    }
    let issued = issue_for(&app, &center, &input.zone, input.priority.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// The answer to a clerk's action.
#[derive(Serialize, ToSchema)]
pub struct Acted {
    pub ticket: Ticket,
}

fn acted(t: Option<Ticket>) -> Response {
    match t {
        Some(ticket) => Json(Acted { ticket }).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Calls the next visitor for a window.
#[utoipa::path(post, path = "/api/v1/centers/{center}/windows/{window}/call-next", summary = "叫下一号", tag = "queue",
    params(("center" = String, Path), ("window" = String, Path)),
    responses((status = 200, body = Acted), (status = 204, description = "没有人等候"), (status = 409, description = "当前号码尚未办结")))]
pub async fn call_next(
    State(app): State<Arc<App>>,
    user: Acting,
    Path((code, window)): Path<(String, String)>,
) -> AppResult<Response> {
    Ok(acted(
        act(&app, &user, &code, &window, Act::CallNext).await?,
    ))
}

#[derive(Default, Deserialize, ToSchema)]
pub struct ActionInput {
    /// For `call`: the number to call (指呼).
    #[serde(default)]
    pub number: Option<String>,
    /// For `transfer`: the target window code…
    #[serde(default)]
    pub window: Option<String>,
    /// …or the target zone code.
    #[serde(default)]
    pub zone: Option<String>,
    /// For `hold`: away (不持件) | with_docs (持件) | waiting (等待).
    #[serde(default)]
    pub kind: Option<String>,
}

/// One of: call (指呼), recall, start, finish, no-show, transfer, hold.
#[utoipa::path(post, path = "/api/v1/centers/{center}/windows/{window}/{action}", summary = "窗口操作：call 指呼 / recall 重呼 / start 开始办理 / finish 办结 / no-show 过号 / transfer 转移 / hold 挂起", tag = "queue",
    request_body = ActionInput,
    params(("center" = String, Path), ("window" = String, Path), ("action" = String, Path)),
    responses((status = 200, body = Acted), (status = 409, description = "状态不允许该操作")))]
pub async fn window_action(
    State(app): State<Arc<App>>,
    user: Acting,
    Path((code, window, action)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    // The body is optional (recall, start … carry none).
    let input: ActionInput = if body.iter().all(u8::is_ascii_whitespace) {
        ActionInput::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| AppError::BadRequest("JSON 格式错误，无法解析".into()))?
    };
    let action =
        match action.as_str() {
            "call" => Act::CallNumber(
                input
                    .number
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| AppError::Invalid("请填写要呼叫的号码".into()))?,
            ),
            "recall" => Act::Recall,
            "start" => Act::Start,
            "finish" => Act::Finish,
            "no-show" => Act::NoShow,
            "transfer" => Act::Transfer {
                window: input.window.filter(|w| !w.is_empty()),
                zone: input.zone.filter(|z| !z.is_empty()),
            },
            "hold" => Act::Hold(input.kind.as_deref().and_then(HoldKind::parse).ok_or_else(
                || {
                    AppError::Invalid(
                        "挂起方式须为 away（不持件）、with_docs（持件）或 waiting（等待）".into(),
                    )
                },
            )?),
            other => return Err(AppError::NotFound(format!("没有“{other}”这个窗口操作"))),
        };
    Ok(acted(act(&app, &user, &code, &window, action).await?))
}

/// A ticket's live status (the QR code's page polls it).
#[utoipa::path(get, path = "/api/v1/tickets/{token}", summary = "号码状态（凭二维码）", tag = "queue",
    params(("token" = String, Path)), responses((status = 200, body = Status)))]
pub async fn ticket_status(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> AppResult<Json<Status>> {
    Ok(Json(status_of(&app, &token).await?.1))
}

/// Leaves the queue.
#[utoipa::path(post, path = "/api/v1/tickets/{token}/leave", summary = "放弃排队", tag = "queue",
    params(("token" = String, Path)), responses((status = 200, body = Status), (status = 409)))]
pub async fn leave(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> AppResult<Json<Status>> {
    leave_queue(&app, &token).await?;
    Ok(Json(status_of(&app, &token).await?.1))
}

/// The lobby display's state (public, like the screen in the hall).
#[utoipa::path(get, path = "/api/v1/centers/{center}/display", summary = "大厅显示屏数据（公开）", tag = "queue",
    params(("center" = String, Path)), responses((status = 200, body = DisplayState)))]
pub async fn display(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<DisplayState>> {
    let center = centers::by_code(app.db.pool(), &code).await?;
    Ok(Json(display_state(&app, &center).await?))
}

/// Server-sent events of a center: `called`, `recalled`, `issued`, … with the ticket and window;
/// `resync` when the stream fell behind (re-read the state).
#[utoipa::path(get, path = "/api/v1/centers/{center}/events", summary = "叫号事件流（SSE，公开）", tag = "queue",
    params(("center" = String, Path)), responses((status = 200, description = "text/event-stream")))]
pub async fn events(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<impl IntoResponse> {
    let center = centers::by_code(app.db.pool(), &code).await?;
    let stream = BroadcastStream::new(app.events.subscribe()).filter_map(move |item| match item {
        Ok(e) if e.center == center.code => Some(Ok::<_, Infallible>(
            Event::default()
                .event(e.kind.clone())
                .data(serde_json::to_string(&e).unwrap_or_default()),
        )),
        Ok(_) => None,
        Err(_) => Some(Ok(Event::default().event("resync").data("{}"))),
    });
    let opening = tokio_stream::once(Ok::<_, Infallible>(
        Event::default().event("hello").data("{}"),
    ));
    Ok(Sse::new(opening.chain(stream))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// YYYY-MM-DD, default today.
    pub date: Option<String>,
    /// window | zone | clerk
    pub by: Option<String>,
}

/// The center of a statistics request and the day it asks for (`date`, else the service
/// day); 404 unless the user may see the center.
pub(super) async fn stats_scope(
    app: &App,
    user: &CurrentUser,
    code: &str,
    date: Option<&str>,
) -> AppResult<(Center, String)> {
    let center = centers::by_code(app.db.pool(), code).await?;
    if !user.can_see_center(center.id) {
        return Err(AppError::NotFound(format!("找不到编码为“{code}”的中心")));
    }
    let date = match date {
        Some(d) => crate::calendar::parse_date(d)?.to_string(),
        None => service_date(app),
    };
    Ok((center, date))
}

/// Statistics of a day (members of the center).
#[utoipa::path(get, path = "/api/v1/centers/{center}/queue/stats", summary = "排队统计", tag = "queue",
    params(("center" = String, Path), StatsQuery), responses((status = 200, body = crate::hall::api::Items<StatLine>)))]
pub async fn queue_stats(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<crate::hall::api::Items<StatLine>>> {
    let (center, date) = stats_scope(&app, &user, &code, q.date.as_deref()).await?;
    let by = q.by.as_deref().unwrap_or("window");
    if !matches!(by, "window" | "zone" | "clerk") {
        return Err(AppError::Invalid(
            "统计维度须为 window、zone 或 clerk".into(),
        ));
    }
    let s = settings(app.db.pool(), center.id).await?;
    Ok(crate::hall::api::items(
        stats::of_day(app.db.pool(), center.id, &date, by, s.wait_target_minutes).await?,
    ))
}

/// The acceptances of a day that ran past their window's limit (15 minutes, 40 at a joint
/// 不动产+税务 window; seed 001 (五)), longest first (members of the center).
#[utoipa::path(get, path = "/api/v1/centers/{center}/queue/overruns", summary = "超时受理清单", tag = "queue",
    params(("center" = String, Path), StatsQuery), responses((status = 200, body = crate::hall::api::Items<Overrun>)))]
pub async fn queue_overruns(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<crate::hall::api::Items<Overrun>>> {
    let (center, date) = stats_scope(&app, &user, &code, q.date.as_deref()).await?;
    Ok(crate::hall::api::items(
        stats::overruns_of_day(app.db.pool(), center.id, &date).await?,
    ))
}

/// A center's calling settings.
#[utoipa::path(get, path = "/api/v1/centers/{center}/queue/settings", summary = "叫号规则", tag = "queue",
    params(("center" = String, Path)), responses((status = 200, body = Settings)))]
pub async fn get_settings(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<Settings>> {
    let center = centers::by_code(app.db.pool(), &code).await?;
    Ok(Json(settings(app.db.pool(), center.id).await?))
}

/// Sets a center's calling rule, automatic no-show and wait target (hall manager).
#[utoipa::path(put, path = "/api/v1/centers/{center}/queue/settings", summary = "设置叫号规则", tag = "queue",
    request_body = Settings, params(("center" = String, Path)), responses((status = 200, body = Settings)))]
pub async fn put_settings(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(s): ApiJson<Settings>,
) -> AppResult<Json<Settings>> {
    let center = centers::by_code(app.db.pool(), &code).await?;
    user.require_manage(center.id)?;
    save_settings(&app, &user, &center, &s).await?;
    Ok(Json(s))
}

pub fn router() -> Router<Arc<App>> {
    use super::unchanged;
    Router::new()
        .route(
            "/api/v1/centers/{center}/tickets",
            unchanged(post(issue_ticket)),
        )
        .route(
            "/api/v1/centers/{center}/windows/{window}/call-next",
            unchanged(post(call_next)),
        )
        .route(
            "/api/v1/centers/{center}/windows/{window}/{action}",
            unchanged(post(window_action)),
        )
        .route("/api/v1/tickets/{token}", get(ticket_status))
        .route("/api/v1/tickets/{token}/leave", unchanged(post(leave)))
        .route("/api/v1/centers/{center}/display", get(display))
        .route("/api/v1/centers/{center}/events", get(events))
        .route("/api/v1/centers/{center}/queue/stats", get(queue_stats))
        .route(
            "/api/v1/centers/{center}/queue/overruns",
            get(queue_overruns),
        )
        .route(
            "/api/v1/centers/{center}/queue/settings",
            get(get_settings).put(put_settings),
        )
}
