//! What a bookable day offers a matter (its hours, the windows' places) and taking one place
//! of an hour, for a booking and for a move to a new hour alike.

use jiff::civil::Date;

use super::{add_days, bad_date, date_field, now_local};
use crate::app::App;
use crate::booking::notify::{self, Message};
use crate::booking::queries::{self, Bookable, Offer};
use crate::booking::slots::{self, BookingPeriods, Slot, parse_hhmm};
use crate::booking::{Appointment, BookingState, Settings};
use crate::db::{Conn, Tx};
use crate::error::{AppError, AppResult};
use crate::ids::{CenterId, WindowId};

/// What a bookable day offers a matter: its hours, each with the windows' places and what is
/// taken.
pub(super) struct Plan {
    pub bookable: Bookable,
    pub settings: Settings,
    pub offers: Vec<Offer>,
}

pub(super) async fn plan(app: &App, center: &str, matter: &str) -> AppResult<Plan> {
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

pub(super) async fn plan_of(app: &App, a: &Appointment) -> AppResult<Plan> {
    let mut conn = app.db.pool().acquire().await?;
    let (center, matter) = queries::codes(&mut conn, a).await?;
    drop(conn);
    plan(app, &center, &matter).await
}

/// The slot `date` `start` of a matter, if it is bookable now.
pub(super) async fn chosen_slot(
    app: &App,
    plan: &Plan,
    date: &str,
    start: &str,
) -> AppResult<(Date, Slot)> {
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

/// Takes one place of the hour at the window with most places left. The guarded update is
/// what keeps the hour within capacity: of two bookings for the last place, the second
/// updates nothing and tries the next window, then is told the hour is full.
pub(super) async fn take_place(
    tx: &mut Tx,
    offers: &[Offer],
    date: Date,
    slot: Slot,
) -> AppResult<WindowId> {
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

/// Tells the applicant of `a`, just booked or moved along `plan`, that it is confirmed or that
/// it was received and waits for the answer.
pub(super) async fn tell_booked(
    tx: &mut Conn,
    a: &Appointment,
    plan: &Plan,
    now: i64,
) -> AppResult<()> {
    let kind = if a.state == BookingState::Confirmed {
        Message::Confirmed
    } else {
        Message::Received
    };
    let (center, matter) = (&plan.bookable.center_name, &plan.bookable.name);
    notify::queue(tx, a, center, matter, kind, now).await
}
