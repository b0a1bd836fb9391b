//! Queue pages: the kiosk (取号机) and its ticket slip, the visitor's phone page, the clerk's
//! workstation, the lobby display and the screen above a window, and the statistics page.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    api::{self, Settings},
    stats::{self, Overrun, StatLine},
    ticket::{Priority, Rule, Ticket},
};
use crate::{
    app::App,
    auth::{CsrfToken, Viewer},
    error::{AppError, AppResult},
    extract::Fields,
    hall::{Center, Window, Zone, centers, windows, zones},
    web::{Chrome, PageResult, done, qr::qr_svg, render, render_status},
};

// ---- kiosk ----

#[derive(Template)]
#[template(path = "queue/kiosk.html")]
struct KioskPage {
    chrome: Chrome,
    center: Center,
    zones: Vec<Zone>,
    /// Zones with no window on post now: shown, but not offered.
    unstaffed: Vec<crate::ids::ZoneId>,
    priorities: Vec<Priority>,
    error: Option<String>,
    /// Outside the hall's hours: why no ticket is issued, and when it opens.
    closed: Option<String>,
}

impl KioskPage {
    fn staffed(&self, zone: &crate::ids::ZoneId) -> bool {
        !self.unstaffed.contains(zone)
    }
}

/// The zones of a center where no active window has a post holder (none can call there).
async fn unstaffed_zones(app: &App, center: i64) -> AppResult<Vec<crate::ids::ZoneId>> {
    Ok(sqlx::query_scalar(
        "select z.id from zones z where z.center_id = $1 and not exists (\
           select 1 from windows w where w.center_id = z.center_id and w.active = 1 \
           and (w.zone_id = z.id or exists (select 1 from window_zones wz where wz.window_id = w.id and wz.zone_id = z.id)) \
           and exists (select 1 from window_posts p where p.window_id = w.id))",
    )
    .bind(center)
    .fetch_all(app.db.pool())
    .await?)
}

async fn kiosk_page(
    app: &App,
    chrome: Chrome,
    center: Center,
    error: Option<String>,
) -> AppResult<KioskPage> {
    let closed = if app.config.kiosk_hours {
        crate::timetable::closed_now(app, center.id).await?
    } else {
        None
    };
    Ok(KioskPage {
        chrome,
        zones: zones::list(app.db.pool(), center.id).await?,
        unstaffed: unstaffed_zones(app, center.id).await?,
        priorities: kiosk_priorities(),
        center,
        error,
        closed,
    })
}

async fn kiosk(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Path(code): Path<String>,
) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    render(&kiosk_page(&app, chrome, center, None).await?)
}

#[derive(Template)]
#[template(path = "queue/slip.html")]
struct SlipPage {
    chrome: Chrome,
    center: Center,
    issued: api::Issued,
    priority: Option<&'static str>,
    qr: String,
    issued_time: String,
}

async fn kiosk_take(
    State(app): State<Arc<App>>,
    chrome: Chrome,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
    form: Fields,
) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    let priority = Some(form.get("priority")).filter(|p| !p.is_empty() && *p != "none");
    let unstaffed = unstaffed_zones(&app, center.id).await?;
    let wanted = zones::list(app.db.pool(), center.id)
        .await?
        .into_iter()
        .find(|z| z.code == form.get("zone").trim());
    let issued = match wanted {
        Some(z) if unstaffed.contains(&z.id) => Err(AppError::Invalid(format!(
            "“{}”暂无窗口受理，请选择其他专区或到咨询台询问",
            z.name
        ))),
        _ => api::issue_for(&app, &center, form.get("zone"), priority).await,
    };
    match issued {
        Ok(issued) => {
            // A phone opens only an absolute address (`public_url`, else this request's host).
            let base = crate::cases::api::public_base(&app, &headers);
            let qr = qr_svg(&format!("{base}{}", issued.follow));
            render(&SlipPage {
                chrome,
                issued_time: crate::clock::format_local(issued.issued_at),
                priority: priority.and_then(Priority::parse).map(Priority::label),
                center,
                issued,
                qr,
            })
        }
        Err(e @ AppError::Invalid(_)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &kiosk_page(&app, chrome, center, Some(e.public_message())).await?,
        ),
        Err(e) => Err(e.into()),
    }
}

/// The priorities a visitor may choose at the kiosk (an appointment is checked in, not chosen).
fn kiosk_priorities() -> Vec<Priority> {
    Priority::ALL
        .iter()
        .copied()
        .filter(|p| *p != Priority::Appointment)
        .collect()
}

// ---- the visitor's phone ----

#[derive(Template)]
#[template(path = "queue/follow.html")]
struct FollowPage {
    chrome: Chrome,
    token: String,
    status: api::Status,
    state_label: &'static str,
    error: Option<String>,
}

fn state_label(s: &str) -> &'static str {
    match s {
        "waiting" => "排队中",
        "called" => "请到窗口办理",
        "serving" => "办理中",
        "held" => "已挂起",
        "done" => "已办结",
        "no_show" => "已过号",
        "left" => "已放弃排队",
        _ => "",
    }
}

/// The phone page of the ticket `token`, as it stands now.
async fn follow_page(
    app: &App,
    csrf: CsrfToken,
    token: String,
    error: Option<String>,
) -> AppResult<FollowPage> {
    let (_, status) = api::status_of(app, &token).await?;
    Ok(FollowPage {
        chrome: Chrome::new(None, csrf),
        state_label: state_label(&status.state),
        token,
        status,
        error,
    })
}

async fn follow(
    State(app): State<Arc<App>>,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> PageResult {
    render(&follow_page(&app, csrf, token, None).await?)
}

async fn follow_leave(
    State(app): State<Arc<App>>,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> PageResult {
    match api::leave_queue(&app, &token).await {
        Ok(()) => Ok(Redirect::to(&format!("/t/{token}")).into_response()),
        Err(e @ AppError::Conflict(_)) => {
            let page = follow_page(&app, csrf, token, Some(e.public_message())).await?;
            render_status(StatusCode::CONFLICT, &page)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- the clerk's workstation ----

#[derive(Template)]
#[template(path = "queue/desk.html")]
struct DeskPage {
    chrome: Chrome,
    center: Center,
    window: Window,
    current: Option<Ticket>,
    held: Vec<Ticket>,
    waiting: i64,
    line: Vec<super::queries::Waiting>,
    now: i64,
    windows: Vec<Window>,
    zones: Vec<Zone>,
    /// The clerk's posts at other windows (AB岗), to switch desks.
    other_posts: Vec<super::queries::PostAt>,
}

async fn desk(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path((code, window)): Path<(String, String)>,
) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    let desk = api::desk_for(&app, &viewer.user, &center.code, &window)
        .await?
        .desk;
    let w = windows::by_code(app.db.pool(), center.id, &window).await?;
    let date = api::service_date(&app);
    let super::queries::DeskView {
        current,
        held,
        waiting,
        line,
    } = super::queries::desk_view(&app, center.id, &date, &desk).await?;
    let other_posts = super::queries::posts_of(&app, viewer.user.id.get())
        .await?
        .into_iter()
        .filter(|p| !(p.center_code == center.code && p.window_code == w.code))
        .collect();
    render(&DeskPage {
        other_posts,
        chrome: viewer.chrome(),
        windows: windows::list(app.db.pool(), center.id)
            .await?
            .into_iter()
            .filter(|x| x.active && x.id != w.id)
            .collect(),
        zones: zones::list(app.db.pool(), center.id).await?,
        center,
        window: w,
        current,
        held,
        waiting,
        line,
        now: app.clock.now_micros(),
    })
}

// ---- displays ----

#[derive(Template)]
#[template(path = "queue/display.html")]
struct DisplayPage {
    center: Center,
    /// The QR code of the center's booking page (预约办事), for phones in the lobby.
    book_qr: String,
}

async fn display(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    let base = crate::cases::api::public_base(&app, &headers);
    let book_qr = qr_svg(&format!("{base}/book/{}", center.code));
    render(&DisplayPage { center, book_qr })
}

#[derive(Template)]
#[template(path = "queue/screen.html")]
struct ScreenPage {
    center: Center,
    window: Window,
}

async fn screen(
    State(app): State<Arc<App>>,
    Path((code, window)): Path<(String, String)>,
) -> PageResult {
    let center = centers::by_code(app.db.pool(), &code).await?;
    let window = windows::by_code(app.db.pool(), center.id, &window).await?;
    render(&ScreenPage { center, window })
}

// ---- statistics and settings ----

#[derive(Template)]
#[template(path = "queue/stats.html")]
struct StatsPage {
    chrome: Chrome,
    center: Center,
    date: String,
    by_window: Vec<StatLine>,
    by_zone: Vec<StatLine>,
    by_clerk: Vec<StatLine>,
    /// Acceptances past their window's limit, longest first (超时受理).
    overruns: Vec<Overrun>,
    settings: Settings,
    rule: &'static str,
    error: Option<String>,
    ok: Option<String>,
}

#[derive(Deserialize)]
struct StatsQuery {
    date: Option<String>,
    ok: Option<String>,
}

/// The statistics page of a center's day, with the settings form.
async fn stats_of(
    app: &App,
    viewer: Viewer,
    center: Center,
    date: String,
    error: Option<String>,
    ok: Option<String>,
) -> AppResult<StatsPage> {
    let s = api::settings(app.db.pool(), center.id).await?;
    let (t, day) = (s.wait_target_minutes, date.as_str());
    Ok(StatsPage {
        by_window: stats::of_day(app.db.pool(), center.id, day, "window", t).await?,
        by_zone: stats::of_day(app.db.pool(), center.id, day, "zone", t).await?,
        by_clerk: stats::of_day(app.db.pool(), center.id, day, "clerk", t).await?,
        overruns: stats::overruns_of_day(app.db.pool(), center.id, day).await?,
        chrome: viewer.chrome(),
        rule: s.rule.as_str(),
        settings: s,
        center,
        date,
        error,
        ok,
    })
}

async fn stats_page(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let date = q.date.as_deref().filter(|d| !d.is_empty());
    let (center, date) = api::stats_scope(&app, &viewer.user, &code, date).await?;
    render(&stats_of(&app, viewer, center, date, None, q.ok).await?)
}

async fn settings_save(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    let user = &viewer.user;
    let center = centers::by_code(app.db.pool(), &code).await?;
    user.require_manage(center.id)?;
    let result = async {
        let s = Settings {
            rule: Rule::parse(form.get("rule"))
                .ok_or_else(|| AppError::Invalid("请选择叫号规则".into()))?,
            auto_no_show_after: form
                .get("auto_no_show_after")
                .parse()
                .map_err(|_| AppError::Invalid("自动过号的重呼次数须为整数".into()))?,
            wait_target_minutes: form
                .get("wait_target_minutes")
                .parse()
                .map_err(|_| AppError::Invalid("等候目标须为整数分钟".into()))?,
        };
        api::save_settings(&app, user, &center, &s).await
    }
    .await;
    match result {
        Ok(()) => done(&format!("/admin/centers/{code}/queue"), "已保存"),
        Err(e @ AppError::Invalid(_)) => {
            let date = api::service_date(&app);
            let error = Some(e.public_message());
            let page = stats_of(&app, viewer, center, date, error, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/centers/{center}/kiosk",
            super::unchanged(get(kiosk).post(kiosk_take)),
        )
        .route("/t/{token}", get(follow))
        .route("/t/{token}/leave", super::unchanged(post(follow_leave)))
        .route("/centers/{center}/windows/{window}/desk", get(desk))
        .route("/centers/{center}/display", get(display))
        .route("/centers/{center}/windows/{window}/screen", get(screen))
        .route(
            "/admin/centers/{center}/queue",
            get(stats_page).post(settings_save),
        )
}
