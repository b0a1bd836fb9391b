//! The queue's use cases, which the JSON API ([`super::api`]) and the pages
//! ([`super::pages`]) both call: issuing a ticket, a clerk's action at a window, a visitor
//! leaving, the calling settings, and the reads behind the phone's status and the lobby
//! display. Handlers parse and render; what is read, checked and written is here.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, Row};
use utoipa::ToSchema;

use super::{
    actions::{Desk, DeskSetup, TransferTo, ZoneName},
    hub,
    state::TicketState,
    ticket::{self, HoldKind, Priority, Rule, Ticket, Who},
    writer::Step,
};
use crate::{
    app::App,
    auth::{Acting, CurrentUser},
    error::{AppError, AppResult},
    hall::{Center, centers},
};

/// A center's calling settings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    pub rule: Rule,
    pub auto_no_show_after: i64,
    pub wait_target_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rule: Rule::PriorityFirst,
            auto_no_show_after: 3,
            wait_target_minutes: 30,
        }
    }
}

pub async fn settings<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    db: E,
    center_id: i64,
) -> AppResult<Settings> {
    let row = sqlx::query("select rule, auto_no_show_after, wait_target_minutes from queue_settings where center_id = $1")
        .bind(center_id)
        .fetch_optional(db)
        .await?;
    Ok(match row {
        None => Settings::default(),
        Some(r) => Settings {
            rule: Rule::parse(&r.try_get::<String, _>("rule")?).unwrap_or(Rule::PriorityFirst),
            auto_no_show_after: r.try_get("auto_no_show_after")?,
            wait_target_minutes: r.try_get("wait_target_minutes")?,
        },
    })
}

/// Today's service date in Beijing, as stored.
pub fn service_date(app: &App) -> String {
    crate::timetable::today(app).to_string()
}

/// A freshly issued ticket.
#[derive(Serialize, ToSchema)]
pub struct Issued {
    pub id: i64,
    pub number: String,
    pub zone: String,
    pub zone_name: String,
    pub ahead: i64,
    pub estimated_wait_minutes: i64,
    /// Microseconds since the epoch.
    pub issued_at: i64,
    /// Path of the visitor's phone page (the QR code's target).
    pub follow: String,
}

/// Minutes a visitor should expect to wait with `ahead` people before them in a zone.
async fn estimate(
    app: &App,
    center_id: i64,
    zone_id: i64,
    date: &str,
    ahead: i64,
) -> AppResult<i64> {
    let (per_visitor, windows) = app
        .queue_cache
        .estimate_inputs(app, center_id, zone_id, date)
        .await?;
    Ok(((ahead as f64) * per_visitor / windows as f64).ceil() as i64)
}

/// Issues a ticket at `center` in `zone` (shared by the API and the kiosk page). Appointment
/// priority is not the visitor's to claim: it comes from checking in a booking.
pub async fn issue_for(
    app: &App,
    center: &Center,
    zone: &str,
    priority: Option<&str>,
) -> AppResult<Issued> {
    if priority.map(str::trim) == Some(Priority::Appointment.as_str()) {
        return Err(AppError::invalid_field(
            "priority",
            "预约号须凭预约码或身份证在取号机“预约签到”取得",
        ));
    }
    if app.config.kiosk_hours
        && let Some(closed) = crate::timetable::closed_now(app, center.id).await?
    {
        return Err(AppError::Invalid(closed));
    }
    issue_checked_in(app, center, zone, priority, None).await
}

/// [`issue_for`], for an appointment checked in at `appointment_at` (today, in Beijing); only
/// the booking area's check-in calls it.
pub async fn issue_checked_in(
    app: &App,
    center: &Center,
    zone: &str,
    priority: Option<&str>,
    appointment_at: Option<i64>,
) -> AppResult<Issued> {
    let mut priority = match priority.map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(Priority::parse(p).ok_or_else(|| {
            AppError::Invalid(
                "优先类型须为 elderly、disabled、pregnant、military 或 appointment".into(),
            )
        })?),
    };
    if let Some(at) = appointment_at {
        let day = jiff::Timestamp::from_microsecond(at)
            .ok()
            .and_then(|t| t.in_tz(crate::clock::HALL_TZ).ok())
            .map(|z| z.date());
        if day != Some(crate::timetable::today(app)) {
            return Err(AppError::Invalid(
                "预约签到只能取当天预约时段的号：预约时间不是今天".into(),
            ));
        }
        if priority.is_some_and(|p| p != Priority::Appointment) {
            return Err(AppError::Invalid(
                "预约签到的号码优先类型只能是 appointment（预约）".into(),
            ));
        }
        priority = Some(Priority::Appointment);
    }
    let zone = app.queue_cache.zone(app, center.id, zone.trim()).await?;
    let t = app
        .queue_writer
        .issue(super::issuer::IssueRequest {
            center_id: center.id,
            center_code: center.code.clone(),
            zone_id: zone.id,
            zone_code: zone.code.clone(),
            prefix: zone.prefix.clone(),
            priority,
            appointment_at,
        })
        .await?;
    Ok(Issued {
        estimated_wait_minutes: estimate(app, center.id, zone.id, &t.service_date, t.ahead).await?,
        id: t.id,
        follow: format!("/t/{}", t.public_token),
        number: t.number,
        zone: zone.code,
        zone_name: zone.name,
        ahead: t.ahead,
        issued_at: t.issued_at,
    })
}

/// The window `window` of the center `center`, if `user` may act there (post holder or
/// system admin), with the center's calling rule. Every window action starts here, so it
/// is one statement, and kept a second in [`App::desk_cache`].
pub async fn desk_for(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
) -> AppResult<DeskSetup> {
    let key = (center.to_owned(), window.to_owned(), user.id);
    let generation = app.generation.current();
    if let Some(d) = app.desk_cache.get(&key, generation) {
        return Ok(d);
    }
    let d = read_desk(app, user, center, window).await?;
    app.desk_cache.put(key, d.clone(), generation);
    Ok(d)
}

/// [`desk_for`] from the database; the misses are told apart afterwards, for their messages.
async fn read_desk(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
) -> AppResult<DeskSetup> {
    let row = sqlx::query(
        "select c.id as center_id, w.id as window_id, w.code, w.name, w.kind, w.zone_id, w.active, \
         (select string_agg(cast(wz.zone_id as text), ',') from window_zones wz where wz.window_id = w.id) as zones, \
         (select string_agg(ws.special, ',') from window_specials ws where ws.window_id = w.id) as specials, \
         (select count(*) from window_posts p where p.window_id = w.id and p.user_id = $3) as posted, \
         s.rule, s.auto_no_show_after \
         from centers c join windows w on w.center_id = c.id left join queue_settings s on s.center_id = c.id \
         where c.code = $1 and w.code = $2",
    )
    .bind(center)
    .bind(window)
    .bind(user.id)
    .fetch_optional(app.db.pool())
    .await?;
    let center_missing = || AppError::NotFound(format!("找不到编码为“{center}”的中心"));
    let Some(r) = row else {
        let c = centers::by_code(app.db.pool(), center).await?;
        if !user.can_see_center(c.id) {
            return Err(center_missing());
        }
        return Err(AppError::NotFound(format!("找不到编码为“{window}”的窗口")));
    };
    let center_id: i64 = r.try_get("center_id")?;
    if !user.can_see_center(center_id) {
        return Err(center_missing());
    }
    let name: String = r.try_get("name")?;
    if !user.is_admin() && r.try_get::<i64, _>("posted")? == 0 {
        return Err(AppError::Forbidden(format!(
            "您没有在“{name}”的岗位，不能在此叫号"
        )));
    }
    if r.try_get::<i64, _>("active")? == 0 {
        return Err(AppError::Conflict(format!("“{name}”已停用")));
    }
    let zone_id: Option<i64> = r.try_get("zone_id")?;
    let mut zones: Vec<i64> = r
        .try_get::<Option<String>, _>("zones")?
        .unwrap_or_default()
        .split(',')
        .filter_map(|z| z.parse().ok())
        .collect();
    if let Some(z) = zone_id
        && !zones.contains(&z)
    {
        zones.push(z);
    }
    let zone_names: Vec<ZoneName> =
        sqlx::query("select id, code, name from zones where center_id = $1")
            .bind(center_id)
            .fetch_all(app.db.pool())
            .await?
            .iter()
            .map(|z| {
                Ok(ZoneName {
                    id: z.try_get("id")?,
                    code: z.try_get("code")?,
                    name: z.try_get("name")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let defaults = Settings::default();
    let added_name = crate::hall::windows::added_name(
        &r.try_get::<String, _>("kind")?,
        &crate::hall::windows::parse_specials(
            r.try_get::<Option<String>, _>("specials")?.as_deref(),
        ),
    );
    let desk = Desk {
        added_name,
        center_id,
        center_code: center.to_owned(),
        zone_names: Arc::new(zone_names),
        window_id: r.try_get("window_id")?,
        code: r.try_get("code")?,
        name,
        zone_id,
        zones,
    };
    Ok(DeskSetup {
        desk,
        rule: r
            .try_get::<Option<String>, _>("rule")?
            .as_deref()
            .and_then(Rule::parse)
            .unwrap_or(defaults.rule),
        auto_no_show_after: r
            .try_get::<Option<i64>, _>("auto_no_show_after")?
            .unwrap_or(defaults.auto_no_show_after),
    })
}

/// What a clerk can do at a window.
pub enum Act {
    CallNext,
    CallNumber(String),
    Recall,
    Start,
    Finish,
    NoShow,
    Transfer {
        window: Option<String>,
        zone: Option<String>,
    },
    Hold(HoldKind),
}

/// Runs one action at a window of the center `center` (its code) and publishes its event
/// after commit.
pub async fn act(
    app: &App,
    acting: &Acting,
    center: &str,
    window: &str,
    action: Act,
) -> AppResult<Option<Ticket>> {
    let user = &acting.user;
    let DeskSetup {
        desk,
        rule,
        auto_no_show_after,
    } = desk_for(app, user, center, window).await?;
    let who = Who {
        user_id: Some(user.id.get()),
        name: user.login.clone(),
    };
    let date = service_date(app);
    let to = match &action {
        Act::Transfer {
            window: Some(w), ..
        } => {
            let target = crate::hall::windows::by_code(app.db.pool(), desk.center_id, w)
                .await
                .map_err(|_| AppError::Invalid(format!("本中心没有编码为“{w}”的窗口")))?;
            let zone_id: Option<i64> =
                sqlx::query_scalar("select zone_id from windows where id = $1")
                    .bind(target.id)
                    .fetch_one(app.db.pool())
                    .await?;
            Some(TransferTo::Window {
                id: target.id,
                zone_id,
                code: target.code,
            })
        }
        Act::Transfer { zone: Some(z), .. } => {
            let id: Option<i64> =
                sqlx::query_scalar("select id from zones where center_id = $1 and code = $2")
                    .bind(desk.center_id)
                    .bind(z)
                    .fetch_optional(app.db.pool())
                    .await?;
            let id = id.ok_or_else(|| AppError::Invalid(format!("本中心没有编码为“{z}”的专区")))?;
            Some(TransferTo::Zone {
                id,
                code: z.clone(),
            })
        }
        Act::Transfer { .. } => return Err(AppError::Invalid("请指定转往的窗口或专区".into())),
        _ => None,
    };
    let step = match action {
        Act::CallNext => Step::CallNext(rule),
        Act::CallNumber(n) => Step::CallNumber(n),
        Act::Recall => Step::Recall(auto_no_show_after),
        Act::Start => Step::Start,
        Act::Finish => Step::Finish,
        Act::NoShow => Step::NoShow,
        Act::Transfer { .. } => {
            Step::Transfer(to.ok_or_else(|| AppError::internal("transfer target"))?)
        }
        Act::Hold(kind) => Step::Hold(kind),
    };
    app.queue_writer
        .act(desk, step, who, acting.credential.clone(), date)
        .await
}

/// What a visitor's phone shows.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub number: String,
    pub state: String,
    pub zone_name: String,
    pub ahead: i64,
    pub estimated_wait_minutes: i64,
    pub window_name: Option<String>,
    pub center: String,
}

pub async fn status_of(app: &App, token: &str) -> AppResult<(Ticket, Status)> {
    let t = ticket::by_token(app.db.pool(), token).await?;
    let ahead = if t.state == TicketState::Waiting {
        ticket::ahead_of(app.db.pool(), &t).await?
    } else {
        0
    };
    let wait = if t.state == TicketState::Waiting {
        estimate(app, t.center_id, t.zone_id, &t.service_date, ahead).await?
    } else {
        0
    };
    let s = Status {
        number: t.number.clone(),
        state: t.state.as_str().to_owned(),
        zone_name: t.zone_name.clone(),
        ahead,
        estimated_wait_minutes: wait,
        window_name: t.window_name.clone(),
        center: t.center_code.clone(),
    };
    Ok((t, s))
}

pub async fn leave_queue(app: &App, token: &str) -> AppResult<()> {
    let (backend, now) = (app.db.backend(), app.clock.now_micros());
    let c = app
        .db
        .transaction(|mut tx| {
            Box::pin(async move {
                let c = ticket::leave(&mut tx, backend, token, now).await?;
                hub::notify_in(&mut tx, backend, &c.event).await?;
                Ok::<_, AppError>(c)
            })
        })
        .await?;
    hub::after_commit(&app.events, app.db.backend(), vec![c.event]);
    Ok(())
}

/// A window's current call, for the lobby display.
#[derive(Serialize, ToSchema)]
pub struct CallItem {
    pub window: String,
    pub window_name: String,
    /// The special functions 加挂 on the window (办不成事反映窗口), if any.
    pub added_name: Option<String>,
    pub ticket: String,
    pub state: String,
    pub called_at: i64,
}

/// A call as read, with the window's kind and specials to name what is 加挂 there.
#[derive(sqlx::FromRow)]
struct CallRow {
    window: String,
    window_name: String,
    window_kind: String,
    specials: Option<String>,
    ticket: String,
    state: String,
    called_at: i64,
}

impl From<CallRow> for CallItem {
    fn from(r: CallRow) -> Self {
        let specials = crate::hall::windows::parse_specials(r.specials.as_deref());
        Self {
            added_name: crate::hall::windows::added_name(&r.window_kind, &specials),
            window: r.window,
            window_name: r.window_name,
            ticket: r.ticket,
            state: r.state,
            called_at: r.called_at,
        }
    }
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct WaitingItem {
    pub zone: String,
    pub zone_name: String,
    pub waiting: i64,
}

/// Everything a lobby display shows.
#[derive(Serialize, ToSchema)]
pub struct DisplayState {
    pub center: String,
    pub center_name: String,
    /// Current calls, newest first.
    pub calls: Vec<CallItem>,
    /// The last calls of the day, newest first.
    pub recent: Vec<CallItem>,
    pub waiting: Vec<WaitingItem>,
}

/// The calls of a center's service day `date` whose ticket (`t`) meets `only`, newest first,
/// at most `limit`.
async fn calls_of(
    app: &App,
    center: &Center,
    date: &str,
    only: &str,
    limit: i64,
) -> AppResult<Vec<CallItem>> {
    let rows: Vec<CallRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select w.code as window, w.name as window_name, w.kind as window_kind, \
         (select string_agg(ws.special, ',') from window_specials ws where ws.window_id = w.id) as specials, \
         t.number as ticket, t.state, t.called_at \
         from tickets t join windows w on w.id = t.window_id \
         where t.center_id = $1 and t.service_date = $2 and {only} \
         order by t.called_at desc limit $3"
    )))
    .bind(center.id)
    .bind(date)
    .bind(limit)
    .fetch_all(app.db.pool())
    .await?;
    Ok(rows.into_iter().map(CallItem::from).collect())
}

pub async fn display_state(app: &App, center: &Center) -> AppResult<DisplayState> {
    let date = service_date(app);
    let calls = calls_of(app, center, &date, "t.state in ('called', 'serving')", 50).await?;
    let recent = calls_of(app, center, &date, "t.called_at is not null", 10).await?;
    let waiting = sqlx::query(
        "select z.code as zone, z.name as zone_name, coalesce(q.waiting, 0) as waiting \
         from zones z left join queue_waiting q \
         on q.zone_id = z.id and q.service_date = $2 where z.center_id = $1 order by z.sort_order, z.code",
    )
    .bind(center.id)
    .bind(&date)
    .fetch_all(app.db.pool())
    .await?
    .iter()
    .map(WaitingItem::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(DisplayState {
        center: center.code.clone(),
        center_name: center.name.clone(),
        calls,
        recent,
        waiting,
    })
}

pub async fn save_settings(
    app: &App,
    user: &CurrentUser,
    center: &Center,
    s: &Settings,
) -> AppResult<()> {
    if !(0..=20).contains(&s.auto_no_show_after) {
        return Err(AppError::Invalid(
            "自动过号的重呼次数须在 0 到 20 之间".into(),
        ));
    }
    if !(1..=480).contains(&s.wait_target_minutes) {
        return Err(AppError::Invalid("等候目标须在 1 到 480 分钟之间".into()));
    }
    let before = settings(app.db.pool(), center.id).await?;
    let now = app.clock.now_micros();
    let mut tx = app.db.begin().await?;
    sqlx::query(
        "insert into queue_settings (center_id, rule, auto_no_show_after, wait_target_minutes) values ($1, $2, $3, $4) \
         on conflict (center_id) do update set rule = excluded.rule, auto_no_show_after = excluded.auto_no_show_after, \
         wait_target_minutes = excluded.wait_target_minutes",
    )
    .bind(center.id)
    .bind(s.rule.as_str())
    .bind(s.auto_no_show_after)
    .bind(s.wait_target_minutes)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        &crate::audit::Actor::from(user),
        "update",
        "queue_settings",
        &center.code,
        Some(center.id),
        serde_json::to_value(&before).ok(),
        serde_json::to_value(s).ok(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
