//! The appointments' statements: rows read by name into typed structs.

use jiff::civil::Date;

use super::slots::BookingPeriods;
use super::{Answer, Appointment, BookingState, COLUMNS, Settings};
use crate::db::{Backend, Conn, Tx};
use crate::error::{AppError, AppResult};
use crate::ids::{BookingId, CenterId, MatterId, WindowId};
use crate::state::in_list;

/// A matter that can be booked at a center, with its rule.
#[derive(Clone, Debug)]
pub struct Bookable {
    pub id: MatterId,
    pub code: String,
    pub name: String,
    pub center_id: CenterId,
    pub center_code: String,
    pub center_name: String,
    pub periods: BookingPeriods,
    pub answer: Answer,
}

#[derive(sqlx::FromRow)]
struct BookableRow {
    id: MatterId,
    code: String,
    name: String,
    node: String,
    outside: i64,
    list_kind: String,
    center_id: CenterId,
    center_code: String,
    center_name: String,
    periods: Option<BookingPeriods>,
    answer: Option<Answer>,
}

/// The periods and answer of a matter: its own rule, or for a 预约服务目录 matter extended
/// hours answered at once; other matters are not booked unless a manager says so.
pub fn rule_of(
    list_kind: &str,
    periods: Option<BookingPeriods>,
    answer: Option<Answer>,
) -> (BookingPeriods, Answer) {
    let periods = periods.unwrap_or(if list_kind == "booking" {
        BookingPeriods::Extended
    } else {
        BookingPeriods::None
    });
    (periods, answer.unwrap_or(Answer::Auto))
}

/// The matter `matter` of the center `center`, if it can be booked.
pub async fn bookable(conn: &mut Conn, center: &str, matter: &str) -> AppResult<Bookable> {
    let (center, matter) = (center.trim(), matter.trim());
    if matter.is_empty() {
        return Err(AppError::invalid_field("matter", "请选择要预约的事项"));
    }
    let row: Option<BookableRow> = sqlx::query_as(
        "select m.id, m.code, m.name, m.node, m.outside, m.list_kind, c.id as center_id, c.code as center_code, \
         c.name as center_name, b.periods, b.answer \
         from matters m join centers c on c.id = m.center_id \
         left join booking_matters b on b.matter_id = m.id where m.code = $1",
    )
    .bind(matter)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Err(AppError::invalid_field(
            "matter",
            format!("找不到编号为“{matter}”的事项"),
        ));
    };
    if !center.is_empty() && r.center_code != center {
        return Err(AppError::invalid_field(
            "matter",
            format!("“{}”不是该中心的事项", r.name),
        ));
    }
    if r.node != "matter" {
        return Err(AppError::invalid_field(
            "matter",
            "请选择具体的事项，而不是目录",
        ));
    }
    let (periods, answer) = rule_of(&r.list_kind, r.periods, r.answer);
    if r.outside != 0 || periods == BookingPeriods::None {
        return Err(AppError::invalid_field(
            "matter",
            format!("“{}”不提供预约服务，请直接到大厅取号办理", r.name),
        ));
    }
    Ok(Bookable {
        id: r.id,
        code: r.code,
        name: r.name,
        center_id: r.center_id,
        center_code: r.center_code,
        center_name: r.center_name,
        periods,
        answer,
    })
}

/// A center's booking rules, or the defaults.
pub async fn settings(conn: &mut Conn, center: CenterId) -> AppResult<Settings> {
    let s: Option<Settings> = sqlx::query_as(
        "select days_ahead, max_per_person, max_per_phone, grace_minutes, early_minutes, no_show_limit \
         from booking_settings where center_id = $1",
    )
    .bind(center)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(s.unwrap_or_default())
}

/// A window that takes bookings of a matter, with its places per hour.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Offer {
    pub window_id: WindowId,
    pub code: String,
    pub name: String,
    pub booking_capacity: i64,
}

/// The windows that serve the matter (受理权 or 收件权), are open, take bookings and have
/// someone posted (an A or B post), so the places follow the staff.
pub async fn offers(conn: &mut Conn, m: &Bookable) -> AppResult<Vec<Offer>> {
    Ok(sqlx::query_as(
        "select w.id as window_id, w.code, w.name, w.booking_capacity from matter_windows mw \
         join windows w on w.id = mw.window_id \
         where mw.matter_id = $1 and w.center_id = $2 and w.active = 1 and w.booking_capacity > 0 \
         and exists (select 1 from window_posts p where p.window_id = w.id) order by w.code",
    )
    .bind(m.id)
    .bind(m.center_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Places taken of one window and hour.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Taken {
    pub window_id: WindowId,
    pub service_date: String,
    pub start: String,
    pub booked: i64,
}

/// The places taken at the matter's windows from `from` to `to`. A month at ten windows is
/// thousands of rows, read as one packed value (`window,day,hour,booked;…`): the view costs one
/// row from the driver instead of thousands.
pub async fn taken(
    conn: &mut Conn,
    backend: Backend,
    matter: MatterId,
    from: Date,
    to: Date,
) -> AppResult<Vec<Taken>> {
    let packed = crate::db::dialect::text_agg(
        backend,
        "cast(h.window_id as text) || ',' || h.service_date || ',' || h.start || ',' || cast(h.booked as text)",
        ";",
    );
    let all: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select {packed} from booking_hours h \
         where h.window_id in (select mw.window_id from matter_windows mw where mw.matter_id = $1) \
         and h.service_date >= $2 and h.service_date <= $3 and h.booked > 0"
    )))
    .bind(matter)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let Some(all) = all else {
        return Ok(Vec::new());
    };
    all.split(';')
        .map(|row| {
            let mut f = row.split(',');
            let parsed = (|| {
                Some(Taken {
                    window_id: f.next()?.parse().ok()?,
                    service_date: f.next()?.to_owned(),
                    start: f.next()?.to_owned(),
                    booked: f.next()?.parse().ok()?,
                })
            })();
            parsed.ok_or_else(|| AppError::internal(format!("booking_hours row unreadable: {row}")))
        })
        .collect()
}

/// The places taken of one hour at the given windows.
pub async fn taken_at(
    tx: &mut Tx,
    offers: &[Offer],
    day: &str,
    start: &str,
) -> AppResult<Vec<Taken>> {
    let ids = offers
        .iter()
        .map(|o| o.window_id.get().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are numbers read from the database, never user input.
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select window_id, service_date, start, booked from booking_hours \
         where window_id in ({ids}) and service_date = $1 and start = $2"
    )))
    .bind(day)
    .bind(start)
    .fetch_all(&mut **tx)
    .await?)
}

/// Takes one place of a window's hour if fewer than `places` are taken; true when it did.
pub async fn take_one(
    tx: &mut Tx,
    window: WindowId,
    day: &str,
    start: &str,
    places: i64,
) -> AppResult<bool> {
    sqlx::query(
        "insert into booking_hours (window_id, service_date, start, booked) values ($1, $2, $3, 0) \
         on conflict (window_id, service_date, start) do nothing",
    )
    .bind(window)
    .bind(day)
    .bind(start)
    .execute(&mut **tx)
    .await?;
    let n = sqlx::query(
        "update booking_hours set booked = booked + 1 \
         where window_id = $1 and service_date = $2 and start = $3 and booked < $4",
    )
    .bind(window)
    .bind(day)
    .bind(start)
    .bind(places)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Gives a booking's place back (cancelled, refused, moved).
pub async fn release(tx: &mut Tx, a: &Appointment) -> AppResult<()> {
    sqlx::query(
        "update booking_hours set booked = booked - 1 \
         where window_id = $1 and service_date = $2 and start = $3 and booked > 0",
    )
    .bind(a.window_id)
    .bind(a.service_date.to_string())
    .bind(&a.start)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Active bookings of a person: the same matter that day, all not yet due, and of the phone.
#[derive(Debug, sqlx::FromRow)]
pub struct ActiveCounts {
    pub same_day: i64,
    pub person: i64,
    pub phone: i64,
}

pub async fn active_counts(
    conn: &mut Conn,
    id_card: &str,
    phone: &str,
    matter: MatterId,
    date: Date,
    now: i64,
    except: i64,
) -> AppResult<ActiveCounts> {
    let active = in_list("state", BookingState::ACTIVE);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select \
         (select count(*) from appointments where id_card = $1 and matter_id = $3 and service_date = $4 \
            and {active} and id <> $6) as same_day, \
         (select count(*) from appointments where id_card = $1 and starts_at >= $5 and {active} and id <> $6) as person, \
         (select count(*) from appointments where phone = $2 and starts_at >= $5 and {active} and id <> $6) as phone"
    )))
    .bind(id_card)
    .bind(phone)
    .bind(matter)
    .bind(date.to_string())
    .bind(now)
    .bind(except)
    .fetch_one(&mut *conn)
    .await?)
}

/// No-shows of an ID-card number since `since`.
pub async fn no_shows(conn: &mut Conn, id_card: &str, since: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from appointments where id_card = $1 and state = 'no_show' and starts_at >= $2",
    )
    .bind(id_card)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn by_id(conn: &mut Conn, id: BookingId) -> AppResult<Option<Appointment>> {
    super::common::row_by(conn, COLUMNS, "appointments a", "a.id", id).await
}

pub async fn by_code(conn: &mut Conn, code: &str) -> AppResult<Option<Appointment>> {
    super::common::row_by(conn, COLUMNS, "appointments a", "a.code", code).await
}

/// Today's confirmed booking of an ID-card number at a center (the one due soonest).
pub async fn today_for_person(
    conn: &mut Conn,
    center: CenterId,
    id_card: &str,
    today: Date,
) -> AppResult<Option<Appointment>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from appointments a where a.center_id = $1 and a.id_card = $2 \
         and a.service_date = $3 and a.state = 'confirmed' order by a.starts_at limit 1"
    )))
    .bind(center)
    .bind(id_card)
    .bind(today.to_string())
    .fetch_optional(&mut *conn)
    .await?)
}

/// The center's and the matter's codes of a booking.
pub async fn codes(conn: &mut Conn, a: &Appointment) -> AppResult<(String, String)> {
    center_and_matter(conn, a, "code").await
}

/// The center's and the matter's names of a booking.
pub async fn names(conn: &mut Conn, a: &Appointment) -> AppResult<(String, String)> {
    center_and_matter(conn, a, "name").await
}

/// The column `column` (`code` or `name`) of a booking's center and of its matter.
async fn center_and_matter(
    conn: &mut Conn,
    a: &Appointment,
    column: &'static str,
) -> AppResult<(String, String)> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select c.{column}, m.{column} from centers c, matters m where c.id = $1 and m.id = $2"
    )))
    .bind(a.center_id)
    .bind(a.matter_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// The zone a window's tickets are issued in: its own zone, or the first it serves.
pub async fn zone_of(conn: &mut Conn, window: WindowId) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "select z.code from zones z where z.id = coalesce( \
           (select w.zone_id from windows w where w.id = $1), \
           (select min(wz.zone_id) from window_zones wz where wz.window_id = $1))",
    )
    .bind(window)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A booking as the staff's lists show it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Line {
    pub code: String,
    pub service_date: String,
    pub start: String,
    pub slot_end: String,
    pub state: BookingState,
    pub channel: super::Channel,
    pub name: String,
    pub phone: String,
    pub id_card: String,
    pub reason: String,
    pub agent_name: String,
    pub refusal_reason: String,
    pub created_at: i64,
    pub window_id: WindowId,
    pub window_code: String,
    pub window_name: String,
    pub matter_code: String,
    pub matter_name: String,
    pub center_code: String,
    pub ticket_number: Option<String>,
}

const LINE: &str = "select a.code, a.service_date, a.start, a.slot_end, a.state, a.channel, a.name, a.phone, \
    a.id_card, a.reason, a.agent_name, a.refusal_reason, a.created_at, a.window_id, w.code as window_code, \
    w.name as window_name, m.code as matter_code, m.name as matter_name, c.code as center_code, \
    t.number as ticket_number \
    from appointments a join windows w on w.id = a.window_id join matters m on m.id = a.matter_id \
    join centers c on c.id = a.center_id left join tickets t on t.id = a.ticket_id";

/// A center's bookings of one day (optionally one window's), in hour order.
pub async fn day(
    conn: &mut Conn,
    center: CenterId,
    date: Date,
    window: Option<WindowId>,
) -> AppResult<Vec<Line>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{LINE} where a.center_id = $1 and a.service_date = $2 and ($3 = 0 or a.window_id = $3) \
         order by a.start, w.code, a.id"
    )))
    .bind(center)
    .bind(date.to_string())
    .bind(window.map_or(0, |w| w.get()))
    .fetch_all(&mut *conn)
    .await?)
}

/// A center's requests waiting for an answer (pending, or a refusal waiting for approval),
/// oldest first.
pub async fn open(conn: &mut Conn, center: CenterId) -> AppResult<Vec<Line>> {
    let open = in_list("a.state", BookingState::OPEN);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{LINE} where a.center_id = $1 and {open} order by a.created_at, a.id limit 500"
    )))
    .bind(center)
    .fetch_all(&mut *conn)
    .await?)
}

/// One line of the statistics: a day, matter, window and channel with its counts by state.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = BookingStatLine)]
pub struct StatLine {
    pub service_date: String,
    pub matter: String,
    pub matter_name: String,
    pub window: String,
    pub channel: super::Channel,
    /// Every booking made.
    pub booked: i64,
    pub confirmed: i64,
    pub refused: i64,
    pub cancelled: i64,
    pub checked_in: i64,
    pub no_show: i64,
    /// Still waiting for an answer.
    pub open: i64,
}

/// Counts per day, matter, window and channel from `from` to `to`.
pub async fn stats(
    conn: &mut Conn,
    center: CenterId,
    from: Date,
    to: Date,
) -> AppResult<Vec<StatLine>> {
    Ok(sqlx::query_as(
        "select a.service_date, m.code as matter, m.name as matter_name, w.code as window, a.channel, \
         count(*) as booked, \
         sum(case when a.state in ('confirmed', 'checked_in', 'no_show') then 1 else 0 end) as confirmed, \
         sum(case when a.state = 'refused' then 1 else 0 end) as refused, \
         sum(case when a.state = 'cancelled' then 1 else 0 end) as cancelled, \
         sum(case when a.state = 'checked_in' then 1 else 0 end) as checked_in, \
         sum(case when a.state = 'no_show' then 1 else 0 end) as no_show, \
         sum(case when a.state in ('pending', 'refusing') then 1 else 0 end) as open \
         from appointments a join matters m on m.id = a.matter_id join windows w on w.id = a.window_id \
         where a.center_id = $1 and a.service_date >= $2 and a.service_date <= $3 \
         group by a.service_date, m.code, m.name, w.code, a.channel \
         order by a.service_date, m.code, w.code, a.channel",
    )
    .bind(center)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?)
}

/// A step of a booking's history.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Step {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub to_state: BookingState,
    pub note: String,
}

impl Step {
    /// The step's name: a [`super::BookingAction`]'s label, or 提交预约.
    pub fn action_label(&self) -> &'static str {
        match super::BookingAction::parse(&self.action) {
            Some(a) => a.label(),
            None if self.action == "book" => "提交预约",
            None => "",
        }
    }
}

pub async fn steps(conn: &mut Conn, id: BookingId) -> AppResult<Vec<Step>> {
    Ok(sqlx::query_as(
        "select at, actor, action, to_state, note from appointment_steps where appointment_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The 预约服务 matters of a center that can be booked, for the booking page.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MatterChoice {
    pub code: String,
    pub name: String,
    pub department: String,
}

pub async fn bookable_matters(
    conn: &mut Conn,
    center: CenterId,
    query: &str,
) -> AppResult<Vec<MatterChoice>> {
    let q = query.trim();
    let like = format!("%{}%", q.replace(['%', '_'], ""));
    Ok(sqlx::query_as(
        "select m.code, m.name, m.department from matters m left join booking_matters b on b.matter_id = m.id \
         where m.center_id = $1 and m.node = 'matter' and m.outside = 0 \
         and coalesce(b.periods, case when m.list_kind = 'booking' then 'extended' else 'none' end) <> 'none' \
         and not exists (select 1 from matters k where k.parent_id = m.id) \
         and exists (select 1 from matter_windows mw where mw.matter_id = m.id) \
         and ($2 = '' or m.name like $3 or m.path_json like $3) \
         order by m.sort_order, m.code limit 200",
    )
    .bind(center)
    .bind(q)
    .bind(like)
    .fetch_all(&mut *conn)
    .await?)
}

/// The periods and answer rule of every matter of a center that has windows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MatterRule {
    pub code: String,
    pub name: String,
    pub list_kind: String,
    pub periods: Option<BookingPeriods>,
    pub answer: Option<Answer>,
}

impl MatterRule {
    pub fn rule(&self) -> (BookingPeriods, Answer) {
        rule_of(&self.list_kind, self.periods, self.answer)
    }
}

pub async fn matter_rules(conn: &mut Conn, center: CenterId) -> AppResult<Vec<MatterRule>> {
    Ok(sqlx::query_as(
        "select m.code, m.name, m.list_kind, b.periods, b.answer from matters m \
         left join booking_matters b on b.matter_id = m.id \
         where m.center_id = $1 and m.node = 'matter' and m.outside = 0 \
         and not exists (select 1 from matters k where k.parent_id = m.id) \
         and exists (select 1 from matter_windows mw where mw.matter_id = m.id) \
         order by m.sort_order, m.code",
    )
    .bind(center)
    .fetch_all(&mut *conn)
    .await?)
}

/// A window's places per hour, for the settings page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WindowCapacity {
    pub code: String,
    pub name: String,
    pub booking_capacity: i64,
    pub posted: i64,
}

pub async fn window_capacities(
    conn: &mut Conn,
    center: CenterId,
) -> AppResult<Vec<WindowCapacity>> {
    Ok(sqlx::query_as(
        "select w.code, w.name, w.booking_capacity, \
         (select count(*) from window_posts p where p.window_id = w.id) as posted \
         from windows w where w.center_id = $1 and w.active = 1 order by w.code",
    )
    .bind(center)
    .fetch_all(&mut *conn)
    .await?)
}
