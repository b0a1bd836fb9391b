//! The appointments' use cases, one function each: check the input, decide who may
//! (`auth::policy`), then write the booking, its step, its messages and its jobs inside one
//! [`Db::transaction`](crate::db::Db::transaction). What can be read before the write (the
//! matter, the calendar, the windows) is read before it begins, so SQLite's write lock is held
//! only for the writes. Every state change is one guarded `update … where state in (…)`.
//!
//! By use case: `view` (the free hours), `book`, `change` (cancel, 改约), `answers`
//! (同意, 不同意); `person` checks the applicant and the per-person rules, `place` reads
//! what a day offers and takes a place, `steps` writes the guarded state changes, `refusal` is
//! 不同意 with the hall manager's approval (bookings and home visits alike).

use jiff::civil::{Date, Time};

use super::Appointment;
use super::queries;
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::db::{Micros, Tx};
use crate::error::{AppError, AppResult};
use crate::ids::{BookingId, CenterId};

mod answers;
mod book;
mod change;
mod person;
mod place;
pub(in crate::booking) mod refusal;
mod steps;
mod view;

pub use answers::{confirm, decide_refusal, refuse};
pub use book::{BookInput, book};
pub use change::{RescheduleInput, cancel, reschedule};
pub use person::check_phone;
pub(super) use person::checked_text;
pub(super) use steps::{BOOKINGS, Change, Lifecycle, act, phone_matches};
pub use view::{MAX_VIEW_DAYS, SlotItem, SlotList, SlotView, slots};

pub(super) fn bad_date(field: &str, e: impl std::fmt::Display) -> AppError {
    AppError::invalid_field(field, e.to_string())
}

pub(super) fn date_field(field: &str, text: &str) -> AppResult<Date> {
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
pub(super) fn now_local(app: &App) -> jiff::civil::DateTime {
    app.clock
        .now()
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| z.datetime())
        .unwrap_or_else(|_| app.clock.now().to_zoned(jiff::tz::TimeZone::UTC).datetime())
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

pub(in crate::booking) fn system() -> Actor {
    Actor {
        id: None,
        name: "系统".into(),
    }
}

/// The booking with `code`, if `phone` is its phone (or the agent's).
pub async fn find(app: &App, code: &str, phone: Option<&str>) -> AppResult<Appointment> {
    let mut conn = app.db.pool().acquire().await?;
    queries::by_code(&mut conn, &code.trim().to_ascii_uppercase())
        .await?
        .filter(|a| phone_matches(phone, &[&a.person.phone, &a.person.agent_phone]))
        .ok_or_else(|| AppError::NotFound("找不到该预约，请核对预约码和手机号".into()))
}

/// Who is acting on a booking or a home visit: the citizen with code and phone, or staff of
/// its center.
pub enum By<'a> {
    Citizen { phone: &'a str },
    Staff(&'a CurrentUser),
}

impl<'a> By<'a> {
    /// Who calls the API: the citizen when a phone is given, else the signed-in staff; with
    /// neither, `phone` is refused with `missing`.
    pub fn of(
        user: &'a Option<CurrentUser>,
        phone: &'a Option<String>,
        missing: &str,
    ) -> AppResult<Self> {
        match (
            phone.as_deref().map(str::trim).filter(|p| !p.is_empty()),
            user,
        ) {
            (Some(phone), _) => Ok(By::Citizen { phone }),
            (None, Some(u)) => Ok(By::Staff(u)),
            (None, None) => Err(AppError::invalid_field("phone", missing)),
        }
    }

    /// The phone the citizen gave; staff give none.
    pub(in crate::booking) fn phone(&self) -> Option<&'a str> {
        match self {
            By::Citizen { phone } => Some(*phone),
            By::Staff(_) => None,
        }
    }

    /// The member of staff, if it is one.
    pub(in crate::booking) fn staff(&self) -> Option<&'a CurrentUser> {
        match self {
            By::Citizen { .. } => None,
            By::Staff(user) => Some(*user),
        }
    }

    /// Refuses staff who cannot see `center` as if its request (`not_found`) did not exist;
    /// the citizen's phone opened it already.
    pub(in crate::booking) fn may_see(&self, center: CenterId, not_found: &str) -> AppResult<()> {
        match self {
            By::Staff(user) if !policy::can_see_center(user, center.get()) => {
                Err(AppError::NotFound(not_found.into()))
            }
            _ => Ok(()),
        }
    }

    /// Who acts on a request of `center` the citizen's phone opened: the citizen, or staff
    /// who may `serve` its requests ([`staff_on`], refused with `refusals`).
    pub(in crate::booking) fn actor(
        &self,
        center: CenterId,
        serve: fn(&CurrentUser, i64) -> bool,
        refusals: (&str, &str),
    ) -> AppResult<Actor> {
        match self {
            By::Citizen { .. } => Ok(citizen()),
            By::Staff(user) => staff_on(user, center, serve, refusals),
        }
    }
}

pub(super) async fn for_action(
    app: &App,
    code: &str,
    by: &By<'_>,
) -> AppResult<(Appointment, Actor)> {
    let a = find(app, code, by.phone()).await?;
    let refusals = ("找不到该预约", "只有本中心的工作人员可以办理预约");
    let actor = by.actor(a.center_id, policy::can_serve_bookings, refusals)?;
    Ok((a, actor))
}

/// Staff acting on a request of `center` (a booking, a home visit): refused as not found
/// (`refusals.0`) where they cannot see the center, as forbidden (`refusals.1`) where they
/// see it but may not `serve` its requests.
pub(in crate::booking) fn staff_on(
    user: &CurrentUser,
    center: CenterId,
    serve: fn(&CurrentUser, i64) -> bool,
    refusals: (&str, &str),
) -> AppResult<Actor> {
    if !policy::can_see_center(user, center.get()) {
        return Err(AppError::NotFound(refusals.0.into()));
    }
    if !serve(user, center.get()) {
        return Err(AppError::Forbidden(refusals.1.into()));
    }
    Ok(staff(user))
}

pub(super) async fn reload(tx: &mut Tx, id: BookingId) -> AppResult<Appointment> {
    queries::by_id(tx, id)
        .await?
        .ok_or_else(|| AppError::internal("booking vanished inside its transaction"))
}

/// The center's and the matter's names of a booking, for messages.
pub(super) async fn names(app: &App, a: &Appointment) -> AppResult<(String, String)> {
    let mut conn = app.db.pool().acquire().await?;
    queries::names(&mut conn, a).await
}

// Check-in (签到) and no-shows live in `checkin.rs`.
pub use super::checkin::{CheckedIn, check_in, code_in, mark_no_show};

// The hall manager's rules (days ahead, caps, periods, capacities) live in `rules.rs`.
pub use super::rules::{MatterRuleInput, save_matter_rule, save_settings, save_window_capacity};
