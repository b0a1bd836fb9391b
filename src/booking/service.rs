//! The appointments' use cases, one function each: check the input, decide who may
//! (`auth::policy`), then write the booking, its step, its messages and its jobs inside one
//! [`Db::transaction`](crate::db::Db::transaction). What can be read before the write (the
//! matter, the calendar, the windows) is read before it begins, so SQLite's write lock is held
//! only for the writes. Every state change is one guarded `update … where state in (…)`.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::notify::{self, Message};
use super::queries::{self, Bookable, Offer};
use super::slots::{self, BookingPeriods, Slot, parse_hhmm};
use super::{Answer, Appointment, BookingAction, BookingState, Channel, Settings};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::db::{Backend, Conn, Micros, Tx};
use crate::error::{AppError, AppResult};
use crate::identity;
use crate::ids::{BookingId, CenterId, WindowId};
use crate::state::StateMachine;

/// The longest range one slot view covers, in days.
pub const MAX_VIEW_DAYS: i64 = 62;

/// One bookable hour as the API answers it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SlotItem {
    /// YYYY-MM-DD.
    pub date: String,
    /// HH:MM.
    pub start: String,
    /// HH:MM.
    pub end: String,
    /// Places of every window serving the matter.
    pub capacity: i64,
    pub booked: i64,
}

impl SlotItem {
    pub fn free(&self) -> i64 {
        (self.capacity - self.booked).max(0)
    }
}

/// `GET /api/v1/centers/{center}/slots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub center: String,
    pub matter: String,
    pub matter_name: String,
    /// `extended`, `regular` or `both`.
    pub periods: BookingPeriods,
    pub items: Vec<SlotItem>,
}

/// A slot list with its JSON, written once for every answer the cache gives.
#[derive(Debug)]
pub struct SlotView {
    pub list: SlotList,
    pub json: bytes::Bytes,
}

fn bad_date(field: &str, e: impl std::fmt::Display) -> AppError {
    AppError::invalid_field(field, e.to_string())
}

fn date_field(field: &str, text: &str) -> AppResult<Date> {
    crate::calendar::parse_date(text).map_err(|e| bad_date(field, e))
}

pub(crate) fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// The instant of `time` on `date` in Beijing.
pub fn instant(date: Date, time: Time) -> Micros {
    date.to_datetime(time)
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| Micros::from_timestamp(z.timestamp()))
        .unwrap_or(Micros(0))
}

/// Beijing's wall-clock time now.
fn now_local(app: &App) -> jiff::civil::DateTime {
    app.clock
        .now()
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| z.datetime())
        .unwrap_or_else(|_| app.clock.now().to_zoned(jiff::tz::TimeZone::UTC).datetime())
}

/// What a bookable day offers a matter: its hours, each with the windows' places and what is
/// taken.
struct Plan {
    bookable: Bookable,
    settings: Settings,
    offers: Vec<Offer>,
}

async fn plan(app: &App, center: &str, matter: &str) -> AppResult<Plan> {
    let mut conn = app.db.pool().acquire().await?;
    let bookable = queries::bookable(&mut conn, center, matter).await?;
    let settings = queries::settings(&mut conn, bookable.center_id).await?;
    let offers = queries::offers(&mut conn, &bookable).await?;
    Ok(Plan {
        bookable,
        settings,
        offers,
    })
}

/// The slots of `date` for a matter booked in `periods`, leaving out hours already begun.
async fn day_slots(
    app: &App,
    center: CenterId,
    date: Date,
    periods: BookingPeriods,
) -> AppResult<Vec<Slot>> {
    let table = crate::timetable::holiday_table(app).await?;
    let hours = crate::timetable::center_hours(app.db.pool(), center.get()).await?;
    let day = table.day(date, &hours).map_err(|e| bad_date("date", e))?;
    let now = now_local(app);
    Ok(slots::day_slots(&day, periods)
        .into_iter()
        .filter(|s| date.to_datetime(s.start) > now)
        .collect())
}

/// The free hours of a matter from `from` to `to` (public): at most [`MAX_VIEW_DAYS`] days,
/// from today to the center's `days_ahead`.
///
/// Answers come from [`App::slot_cache`] while this server has changed nothing (its
/// [`Generation`](crate::cache::Generation), bumped after every booking, cancellation or
/// setting) and for at most a second, which is how late a booking made through another server
/// shows. A booking itself never trusts the view: its place is taken by a guarded update.
pub async fn slots(
    app: &App,
    center: &str,
    matter: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<std::sync::Arc<SlotView>> {
    let key = (
        center.to_owned(),
        matter.to_owned(),
        from.unwrap_or_default().to_owned(),
        to.unwrap_or_default().to_owned(),
    );
    app.slot_cache
        .get_or_load(key, app.generation.current(), || async {
            let list = read_slots(app, center, matter, from, to).await?;
            let json = serde_json::to_vec(&list)
                .map_err(|e| AppError::internal(format!("slot list as JSON: {e}")))?;
            Ok(std::sync::Arc::new(SlotView {
                list,
                json: json.into(),
            }))
        })
        .await
}

async fn read_slots(
    app: &App,
    center: &str,
    matter: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<SlotList> {
    let plan = plan(app, center, matter).await?;
    let today = crate::timetable::today(app);
    let last = add_days(today, plan.settings.days_ahead);
    let from = match from.map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => date_field("from", f)?.max(today),
        None => today,
    };
    let to = match to.map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => date_field("to", t)?,
        None => add_days(from, plan.settings.days_ahead - 1),
    };
    if to < from {
        return Err(AppError::invalid_field("to", "结束日期不能早于开始日期"));
    }
    if (to - from).get_days() as i64 >= MAX_VIEW_DAYS {
        return Err(AppError::invalid_field(
            "to",
            format!("一次最多查询 {MAX_VIEW_DAYS} 天的可预约时段"),
        ));
    }
    let to = to.min(last);
    let table = crate::timetable::holiday_table(app).await?;
    let hours =
        crate::timetable::center_hours(app.db.pool(), plan.bookable.center_id.get()).await?;
    let taken = if plan.offers.is_empty() || to < from {
        Vec::new()
    } else {
        let mut conn = app.db.pool().acquire().await?;
        queries::taken(&mut conn, app.db.backend(), plan.bookable.id, from, to).await?
    };
    // Places taken by (window, day, hour): a month has hundreds of hours at each window.
    let taken: std::collections::HashMap<(WindowId, &str, &str), i64> = taken
        .iter()
        .map(|t| {
            (
                (t.window_id, t.service_date.as_str(), t.start.as_str()),
                t.booked,
            )
        })
        .collect();
    let now = now_local(app);
    let mut items = Vec::new();
    let mut d = from;
    while d <= to && !plan.offers.is_empty() {
        let day = table.day(d, &hours).map_err(|e| bad_date("from", e))?;
        let date = d.to_string();
        for s in slots::day_slots(&day, plan.bookable.periods) {
            if d.to_datetime(s.start) <= now {
                continue;
            }
            let start = s.start_text();
            let mut capacity = 0;
            let mut booked = 0;
            for o in &plan.offers {
                let places = s.places(o.booking_capacity);
                capacity += places;
                let b = taken
                    .get(&(o.window_id, date.as_str(), start.as_str()))
                    .copied()
                    .unwrap_or(0);
                booked += b.min(places);
            }
            items.push(SlotItem {
                date: date.clone(),
                start,
                end: s.end_text(),
                capacity,
                booked,
            });
        }
        d = add_days(d, 1);
    }
    Ok(SlotList {
        center: plan.bookable.center_code,
        matter: plan.bookable.code,
        matter_name: plan.bookable.name,
        periods: plan.bookable.periods,
        items,
    })
}

/// A booking request (public, or staff booking for a caller).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct BookInput {
    /// 中心编码 (`GX-ML`).
    pub center: String,
    /// 事项编码.
    pub matter: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// HH:MM, the start of a slot.
    pub start: String,
    /// 申请人姓名.
    pub name: String,
    /// 联系电话.
    pub phone: String,
    /// 申请人身份证号 (check digit checked).
    pub id_card: String,
    /// 预约事由 (正当事由).
    pub reason: String,
    /// 授权委托代理人姓名, when an agent books for the applicant.
    pub agent_name: String,
    /// The agent's phone.
    pub agent_phone: String,
    /// Staff only: `phone` (电话预约) or `counter` (现场预约).
    pub channel: String,
}

/// The applicant's data, checked.
struct Person {
    name: String,
    phone: String,
    id_card: String,
    reason: String,
    agent_name: String,
    agent_phone: String,
}

fn plain(field: &str, label: &str, text: &str, min: usize, max: usize) -> AppResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n < min {
        return Err(AppError::invalid_field(field, format!("请填写{label}")));
    }
    if n > max {
        return Err(AppError::invalid_field(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(AppError::invalid_field(
            field,
            format!("{label}含有不可见的控制字符"),
        ));
    }
    Ok(t.to_owned())
}

/// A phone number: a mobile (11 digits from 1) or a landline with its area code.
pub fn check_phone(field: &str, text: &str) -> AppResult<String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len())));
    if digits.is_empty() {
        return Err(AppError::invalid_field(field, "请填写联系电话"));
    }
    if !ok {
        return Err(AppError::invalid_field(
            field,
            "联系电话须为 11 位手机号码，或带区号的固定电话",
        ));
    }
    Ok(digits)
}

fn person(input: &BookInput) -> AppResult<Person> {
    let name = plain("name", "申请人姓名", &input.name, 1, 30)?;
    let phone = check_phone("phone", &input.phone)?;
    let id_card = identity::check_id_card(&input.id_card)
        .map_err(|m| AppError::invalid_field("id_card", m))?;
    let reason = plain("reason", "预约事由", &input.reason, 2, 200)?;
    let agent_name = plain("agent_name", "代理人姓名", &input.agent_name, 0, 30)?;
    let agent_phone = if agent_name.is_empty() {
        if !input.agent_phone.trim().is_empty() {
            return Err(AppError::invalid_field("agent_name", "请填写代理人姓名"));
        }
        String::new()
    } else {
        check_phone("agent_phone", &input.agent_phone)?
    };
    Ok(Person {
        name,
        phone,
        id_card,
        reason,
        agent_name,
        agent_phone,
    })
}

/// The slot `date` `start` of a matter, if it is bookable now.
async fn chosen_slot(app: &App, plan: &Plan, date: &str, start: &str) -> AppResult<(Date, Slot)> {
    let date = date_field("date", date)?;
    let today = crate::timetable::today(app);
    if date < today {
        return Err(AppError::invalid_field("date", "不能预约已经过去的日期"));
    }
    if date > add_days(today, plan.settings.days_ahead) {
        return Err(AppError::invalid_field(
            "date",
            format!("最多可以预约 {} 天以内的时段", plan.settings.days_ahead),
        ));
    }
    let Some(t) = parse_hhmm(start) else {
        return Err(AppError::invalid_field(
            "start",
            "预约时段须为 HH:MM，例如 12:00",
        ));
    };
    if plan.offers.is_empty() {
        return Err(AppError::invalid_field("matter", "该事项暂无可预约的窗口"));
    }
    let day = day_slots(app, plan.bookable.center_id, date, plan.bookable.periods).await?;
    match day.into_iter().find(|s| s.start == t) {
        Some(s) => Ok((date, s)),
        None => Err(AppError::invalid_field(
            "start",
            format!(
                "{date} {start} 不是该事项的可预约时段（该事项在{}预约，精确到小时）",
                plan.bookable.periods.label()
            ),
        )),
    }
}

/// Serialises bookings of one person and of one phone (PostgreSQL), so the caps hold when one
/// person books from several tabs at once; SQLite's one writer serialises them already. Both
/// locks are taken in the same order by every booking, so two never wait for each other.
async fn lock_person(tx: &mut Tx, backend: Backend, id_card: &str, phone: &str) -> AppResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock(7101, hashtext($1))")
            .bind(id_card)
            .execute(&mut **tx)
            .await?;
        sqlx::query("select pg_advisory_xact_lock(7102, hashtext($1))")
            .bind(phone)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The per-person rules (黄牛): one active booking per ID number, matter and day; at most
/// `max_per_person` and `max_per_phone` active bookings; no more online booking after
/// `no_show_limit` no-shows in 90 days.
/// The booking the fairness rules are checked for.
struct Wanted {
    matter: crate::ids::MatterId,
    date: Date,
    online: bool,
    /// The booking being moved, which does not count against itself.
    except: Option<BookingId>,
}

async fn fairness(
    conn: &mut Conn,
    settings: &Settings,
    p: &Person,
    w: Wanted,
    now: i64,
) -> AppResult<()> {
    let Wanted {
        matter,
        date,
        online,
        except,
    } = w;
    let except = except.map_or(0, |b| b.get());
    let c = queries::active_counts(conn, &p.id_card, &p.phone, matter, date, now, except).await?;
    if c.same_day > 0 {
        return Err(AppError::Conflict(
            "该身份证号当天已预约过此事项，同一事项每人每天只能保留一个预约".into(),
        ));
    }
    if c.person >= settings.max_per_person {
        return Err(AppError::invalid_field(
            "id_card",
            format!(
                "该身份证号已有 {} 个未到期的预约，最多可同时保留 {} 个",
                c.person, settings.max_per_person
            ),
        ));
    }
    if c.phone >= settings.max_per_phone {
        return Err(AppError::invalid_field(
            "phone",
            format!(
                "该手机号已有 {} 个未到期的预约，最多可同时保留 {} 个",
                c.phone, settings.max_per_phone
            ),
        ));
    }
    if online && settings.no_show_limit > 0 {
        let since = now - 90 * 86_400 * 1_000_000;
        let n = queries::no_shows(conn, &p.id_card, since).await?;
        if n >= settings.no_show_limit {
            return Err(AppError::invalid_field(
                "id_card",
                format!("90 天内已有 {n} 次预约未到，暂停网上预约，请致电或到窗口预约"),
            ));
        }
    }
    Ok(())
}

/// Takes one place of the hour at the window with most places left. The guarded update is
/// what keeps the hour within capacity: of two bookings for the last place, the second
/// updates nothing and tries the next window, then is told the hour is full.
async fn take_place(tx: &mut Tx, offers: &[Offer], date: Date, slot: Slot) -> AppResult<WindowId> {
    let day = date.to_string();
    let start = slot.start_text();
    let taken = queries::taken_at(tx, offers, &day, &start).await?;
    let mut order: Vec<(i64, &Offer)> = offers
        .iter()
        .map(|o| {
            let b = taken
                .iter()
                .find(|t| t.window_id == o.window_id)
                .map_or(0, |t| t.booked);
            (slot.places(o.booking_capacity) - b, o)
        })
        .filter(|(free, _)| *free > 0)
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(&b.1.code)));
    for (_, o) in order {
        if queries::take_one(
            tx,
            o.window_id,
            &day,
            &start,
            slot.places(o.booking_capacity),
        )
        .await?
        {
            return Ok(o.window_id);
        }
    }
    Err(AppError::Full(format!(
        "{day} {start} 的预约名额已满，请选择其他时段"
    )))
}

/// Appends a step to a booking's history.
/// A step of a booking's history: what was done, from and to which state.
pub(super) struct Change<'a> {
    pub action: &'a str,
    pub from: Option<BookingState>,
    pub to: BookingState,
    pub note: &'a str,
}

pub(super) async fn step(
    conn: &mut Conn,
    id: BookingId,
    actor: &Actor,
    change: Change<'_>,
    now: i64,
) -> AppResult<()> {
    let Change {
        action,
        from,
        to,
        note,
    } = change;
    sqlx::query(
        "insert into appointment_steps (appointment_id, at, actor_id, actor, action, from_state, to_state, note) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(now)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(action)
    .bind(from)
    .bind(to)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn staff(user: &CurrentUser) -> Actor {
    Actor {
        id: Some(user.id.get()),
        name: user.display_name.clone(),
    }
}

pub(crate) fn citizen() -> Actor {
    Actor {
        id: None,
        name: "申请人".into(),
    }
}

/// A booking code: ten characters without look-alikes (0/O, 1/I), 50 random bits.
pub(crate) fn new_code() -> String {
    // 32 letters and digits: each random byte's low five bits pick one, uniformly.
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut buf = [0u8; 10];
    getrandom::fill(&mut buf).expect("the operating system's random source");
    buf.iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

/// Moves a booking along `action`, guarded by its state; `None` when it had moved on.
pub(super) async fn transition(
    tx: &mut Tx,
    id: BookingId,
    action: BookingAction,
    now: i64,
) -> AppResult<Option<BookingState>> {
    let to = BookingState::transition(action).to;
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update appointments set state = $1, updated_at = $2 where id = $3 and {}",
        BookingState::guard(action)
    )))
    .bind(to)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok((n == 1).then_some(to))
}

fn refused_step(a: &Appointment, action: BookingAction) -> AppError {
    AppError::InvalidState(format!(
        "预约当前状态为“{}”，不能{}",
        a.state.label(),
        action.label()
    ))
}

/// Performs `action` on `a` with its step, or refuses with `invalid_state`.
pub(super) async fn act(
    tx: &mut Tx,
    a: &Appointment,
    action: BookingAction,
    actor: &Actor,
    note: &str,
    now: i64,
) -> AppResult<BookingState> {
    match transition(tx, a.id, action, now).await? {
        Some(to) => {
            let change = Change {
                action: action.as_str(),
                from: Some(a.state),
                to,
                note,
            };
            step(tx, a.id, actor, change, now).await?;
            Ok(to)
        }
        None => Err(refused_step(a, action)),
    }
}

/// Books an hour: public (`by` = `None`, 网上预约) or staff for a caller (电话/现场预约).
pub async fn book(
    app: &App,
    by: Option<&CurrentUser>,
    input: &BookInput,
) -> AppResult<Appointment> {
    let p = person(input)?;
    let plan = plan(app, &input.center, &input.matter).await?;
    let center = plan.bookable.center_id;
    let channel = match by {
        None => Channel::Online,
        Some(user) => {
            if !policy::can_serve_bookings(user, center.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的工作人员可以代为预约".into(),
                ));
            }
            match input.channel.trim() {
                "" | "counter" => Channel::Counter,
                "phone" => Channel::Phone,
                "online" => Channel::Online,
                _ => {
                    return Err(AppError::invalid_field(
                        "channel",
                        "预约方式须为 phone（电话）或 counter（现场）",
                    ));
                }
            }
        }
    };
    let (date, slot) = chosen_slot(app, &plan, &input.date, &input.start).await?;
    let now = app.clock.now_micros();
    let backend = app.db.backend();
    let actor = by.map_or_else(citizen, staff);
    let created_by = by.map(|u| u.id);
    let state = match plan.bookable.answer {
        Answer::Auto => BookingState::Confirmed,
        Answer::Clerk => BookingState::Pending,
    };
    let settings = plan.settings.clone();
    let plan = &plan;
    let p = &p;
    let actor = &actor;
    let id = app
        .db
        .transaction(|mut tx| {
            Box::pin(async move {
                lock_person(&mut tx, backend, &p.id_card, &p.phone).await?;
                let wanted = Wanted {
                    matter: plan.bookable.id,
                    date,
                    online: channel == Channel::Online,
                    except: None,
                };
                fairness(&mut tx, &settings, p, wanted, now).await?;
                let window = take_place(&mut tx, &plan.offers, date, slot).await?;
                let code = new_code();
                let inserted = sqlx::query_scalar(
                    "insert into appointments (code, center_id, matter_id, window_id, service_date, start, slot_end, \
                     starts_at, state, channel, name, phone, id_card, reason, agent_name, agent_phone, created_by, \
                     created_at, answered_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $18) \
                     returning id",
                )
                .bind(&code)
                .bind(center)
                .bind(plan.bookable.id)
                .bind(window)
                .bind(date.to_string())
                .bind(slot.start_text())
                .bind(slot.end_text())
                .bind(instant(date, slot.start))
                .bind(state)
                .bind(channel)
                .bind(&p.name)
                .bind(&p.phone)
                .bind(&p.id_card)
                .bind(&p.reason)
                .bind(&p.agent_name)
                .bind(&p.agent_phone)
                .bind(created_by)
                .bind(now)
                .bind((state == BookingState::Confirmed).then_some(now))
                .fetch_one(&mut **tx)
                .await;
                let id: BookingId = match inserted {
                    Ok(id) => id,
                    Err(e) if crate::db::is_unique_violation(&e) => {
                        return Err(AppError::Conflict(
                            "该身份证号当天已预约过此事项，同一事项每人每天只能保留一个预约".into(),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                };
                let note = match &p.agent_name {
                    a if a.is_empty() => channel.label().to_owned(),
                    a => format!("{}，代理人 {a}", channel.label()),
                };
                let change = Change {
                    action: "book",
                    from: None,
                    to: state,
                    note: &note,
                };
                step(&mut tx, id, actor, change, now).await?;
                let a = queries::by_id(&mut tx, id)
                    .await?
                    .ok_or_else(|| AppError::internal("booking vanished inside its transaction"))?;
                let kind = if state == BookingState::Confirmed {
                    Message::Confirmed
                } else {
                    Message::Received
                };
                notify::queue(&mut tx, &a, &plan.bookable.center_name, &plan.bookable.name, kind, now).await?;
                if state == BookingState::Confirmed {
                    notify::schedule_followups(&mut tx, &a, &settings, now).await?;
                }
                Ok(id)
            })
        })
        .await?;
    let mut conn = app.db.pool().acquire().await?;
    queries::by_id(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::internal("booking vanished after commit"))
}

/// The booking with `code`, if `phone` is its phone (or the agent's).
pub async fn find(app: &App, code: &str, phone: Option<&str>) -> AppResult<Appointment> {
    let mut conn = app.db.pool().acquire().await?;
    let code = code.trim().to_ascii_uppercase();
    let a = queries::by_code(&mut conn, &code).await?;
    let matches = |a: &Appointment| match phone {
        None => true,
        Some(p) => {
            let p: String = p.chars().filter(char::is_ascii_digit).collect();
            !p.is_empty() && (a.phone == p || a.agent_phone == p)
        }
    };
    a.filter(matches)
        .ok_or_else(|| AppError::NotFound("找不到该预约，请核对预约码和手机号".into()))
}

/// Who is acting on a booking or a home visit: the citizen with code and phone, or staff of
/// its center.
pub enum By<'a> {
    Citizen { phone: &'a str },
    Staff(&'a CurrentUser),
}

async fn for_action(app: &App, code: &str, by: &By<'_>) -> AppResult<(Appointment, Actor)> {
    match by {
        By::Citizen { phone } => Ok((find(app, code, Some(phone)).await?, citizen())),
        By::Staff(user) => {
            let a = find(app, code, None).await?;
            if !policy::can_see_center(user, a.center_id.get()) {
                return Err(AppError::NotFound("找不到该预约".into()));
            }
            if !policy::can_serve_bookings(user, a.center_id.get()) {
                return Err(AppError::Forbidden(
                    "只有本中心的工作人员可以办理预约".into(),
                ));
            }
            Ok((a, staff(user)))
        }
    }
}

async fn reload(tx: &mut Tx, id: BookingId) -> AppResult<Appointment> {
    queries::by_id(tx, id)
        .await?
        .ok_or_else(|| AppError::internal("booking vanished inside its transaction"))
}

/// Cancels a booking before its hour; its place is free again.
pub async fn cancel(app: &App, code: &str, by: By<'_>) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &by).await?;
    let now = app.clock.now_micros();
    if matches!(by, By::Citizen { .. }) && a.starts_at.get() <= now {
        return Err(AppError::InvalidState(
            "预约时间已到，不能再网上取消；如不能前来，请致电窗口".into(),
        ));
    }
    let (a, actor) = (&a, &actor);
    let names = names(app, a).await?;
    let names = &names;
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                act(&mut tx, a, BookingAction::Cancel, actor, "", now).await?;
                queries::release(&mut tx, a).await?;
                let a = reload(&mut tx, a.id).await?;
                notify::queue(&mut tx, &a, &names.0, &names.1, Message::Cancelled, now).await?;
                Ok(a)
            })
        })
        .await
}

/// A new hour for a booking (改约): the new place is taken before the old one is given back,
/// and the booking is answered again as its matter wants.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RescheduleInput {
    pub date: String,
    pub start: String,
}

pub async fn reschedule(
    app: &App,
    code: &str,
    by: By<'_>,
    input: &RescheduleInput,
) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &by).await?;
    if !a.state.allows(BookingAction::Reschedule) {
        return Err(refused_step(&a, BookingAction::Reschedule));
    }
    let now = app.clock.now_micros();
    if matches!(by, By::Citizen { .. }) && a.starts_at.get() <= now {
        return Err(AppError::InvalidState("预约时间已到，不能再改约".into()));
    }
    let plan = plan_of(app, &a).await?;
    let (date, slot) = chosen_slot(app, &plan, &input.date, &input.start).await?;
    let p = Person {
        name: a.name.clone(),
        phone: a.phone.clone(),
        id_card: a.id_card.clone(),
        reason: a.reason.clone(),
        agent_name: a.agent_name.clone(),
        agent_phone: a.agent_phone.clone(),
    };
    let backend = app.db.backend();
    let (a, actor, plan, p) = (&a, &actor, &plan, &p);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                lock_person(&mut tx, backend, &p.id_card, &p.phone).await?;
                let wanted = Wanted {
                    matter: a.matter_id,
                    date,
                    online: false,
                    except: Some(a.id),
                };
                fairness(&mut tx, &plan.settings, p, wanted, now).await?;
                let window = take_place(&mut tx, &plan.offers, date, slot).await?;
                let note = format!(
                    "{} {} → {} {}",
                    a.service_date,
                    a.start,
                    date,
                    slot.start_text()
                );
                act(&mut tx, a, BookingAction::Reschedule, actor, &note, now).await?;
                queries::release(&mut tx, a).await?;
                let moved = sqlx::query(
                    "update appointments set window_id = $1, service_date = $2, start = $3, slot_end = $4, \
                     starts_at = $5, answered_at = null, updated_at = $6 where id = $7",
                )
                .bind(window)
                .bind(date.to_string())
                .bind(slot.start_text())
                .bind(slot.end_text())
                .bind(instant(date, slot.start))
                .bind(now)
                .bind(a.id)
                .execute(&mut **tx)
                .await;
                if let Err(e) = moved {
                    return Err(if crate::db::is_unique_violation(&e) {
                        AppError::Conflict("该身份证号当天已预约过此事项".into())
                    } else {
                        e.into()
                    });
                }
                let mut b = reload(&mut tx, a.id).await?;
                if plan.bookable.answer == Answer::Auto {
                    confirm_in(&mut tx, &b, &system(), "自动确认", now).await?;
                    b = reload(&mut tx, a.id).await?;
                    notify::schedule_followups(&mut tx, &b, &plan.settings, now).await?;
                }
                let kind = if b.state == BookingState::Confirmed {
                    Message::Confirmed
                } else {
                    Message::Received
                };
                notify::queue(&mut tx, &b, &plan.bookable.center_name, &plan.bookable.name, kind, now).await?;
                Ok(b)
            })
        })
        .await
}

pub(super) fn system() -> Actor {
    Actor {
        id: None,
        name: "系统".into(),
    }
}

async fn plan_of(app: &App, a: &Appointment) -> AppResult<Plan> {
    let mut conn = app.db.pool().acquire().await?;
    let (center, matter) = queries::codes(&mut conn, a).await?;
    drop(conn);
    plan(app, &center, &matter).await
}

/// The center's and the matter's names of a booking, for messages.
async fn names(app: &App, a: &Appointment) -> AppResult<(String, String)> {
    let mut conn = app.db.pool().acquire().await?;
    queries::names(&mut conn, a).await
}

async fn confirm_in(
    tx: &mut Tx,
    a: &Appointment,
    actor: &Actor,
    note: &str,
    now: i64,
) -> AppResult<()> {
    act(tx, a, BookingAction::Confirm, actor, note, now).await?;
    sqlx::query("update appointments set answered_at = $1 where id = $2")
        .bind(now)
        .bind(a.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// 同意: a clerk confirms a pending request; a hall manager confirms one whose refusal was
/// proposed (turning the refusal down).
pub async fn confirm(app: &App, user: &CurrentUser, code: &str) -> AppResult<Appointment> {
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    if a.state == BookingState::Refusing
        && !policy::can_approve_booking_refusal(user, a.center_id.get())
    {
        return Err(AppError::Forbidden(
            "已提出不同意的预约，须由大厅管理员决定".into(),
        ));
    }
    let settings = {
        let mut conn = app.db.pool().acquire().await?;
        queries::settings(&mut conn, a.center_id).await?
    };
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names, settings) = (&a, &actor, &names, &settings);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                confirm_in(&mut tx, a, actor, "", now).await?;
                let b = reload(&mut tx, a.id).await?;
                notify::queue(&mut tx, &b, &names.0, &names.1, Message::Confirmed, now).await?;
                notify::schedule_followups(&mut tx, &b, settings, now).await?;
                Ok(b)
            })
        })
        .await
}

/// 不同意: a clerk proposes it with the reason; the hall manager approves. A hall manager's
/// own refusal is approved at once. The citizen is told the reason once it is approved.
pub async fn refuse(
    app: &App,
    user: &CurrentUser,
    code: &str,
    reason: &str,
) -> AppResult<Appointment> {
    let reason = plain("reason", "不同意的理由", reason, 2, 200)?;
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    let approves = policy::can_approve_booking_refusal(user, a.center_id.get());
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names, reason) = (&a, &actor, &names, &reason);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                act(
                    &mut tx,
                    a,
                    BookingAction::ProposeRefusal,
                    actor,
                    reason,
                    now,
                )
                .await?;
                sqlx::query("update appointments set refusal_reason = $1 where id = $2")
                    .bind(reason)
                    .bind(a.id)
                    .execute(&mut **tx)
                    .await?;
                let b = reload(&mut tx, a.id).await?;
                if approves {
                    approve_in(&mut tx, &b, actor, names, now).await?;
                }
                reload(&mut tx, a.id).await
            })
        })
        .await
}

async fn approve_in(
    tx: &mut Tx,
    a: &Appointment,
    actor: &Actor,
    names: &(String, String),
    now: i64,
) -> AppResult<()> {
    act(tx, a, BookingAction::ApproveRefusal, actor, "", now).await?;
    sqlx::query("update appointments set answered_at = $1 where id = $2")
        .bind(now)
        .bind(a.id)
        .execute(&mut **tx)
        .await?;
    queries::release(tx, a).await?;
    let b = reload(tx, a.id).await?;
    notify::queue(tx, &b, &names.0, &names.1, Message::Refused, now).await?;
    Ok(())
}

/// The hall manager approves a proposed refusal (`approve`) or turns it down, which confirms
/// the booking.
pub async fn decide_refusal(
    app: &App,
    user: &CurrentUser,
    code: &str,
    approve: bool,
) -> AppResult<Appointment> {
    if !approve {
        return confirm(app, user, code).await;
    }
    let (a, actor) = for_action(app, code, &By::Staff(user)).await?;
    if !policy::can_approve_booking_refusal(user, a.center_id.get()) {
        return Err(AppError::Forbidden("不同意预约须经大厅管理员批准".into()));
    }
    let names = names(app, &a).await?;
    let now = app.clock.now_micros();
    let (a, actor, names) = (&a, &actor, &names);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                approve_in(&mut tx, a, actor, names, now).await?;
                reload(&mut tx, a.id).await
            })
        })
        .await
}

// Check-in (签到) and no-shows live in `checkin.rs`.
pub use super::checkin::{CheckedIn, check_in, code_in, mark_no_show};

// The hall manager's rules (days ahead, caps, periods, capacities) live in `rules.rs`.
pub use super::rules::{
    MatterRuleInput, SettingsInput, save_matter_rule, save_settings, save_window_capacity,
};
