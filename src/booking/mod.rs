//! R5, appointments (预约): online 24 hours, by phone and at the counter, precise to the hour in
//! the periods each matter is booked in (the 预约服务目录 in 延时错时 hours), answered the same
//! day, checked in as a priority ticket, reminded the day before.
//!
//! * `state.rs`: the life cycle as a [`StateMachine`](crate::state::StateMachine);
//! * `slots.rs`: a day's bookable hours from the calendar (pure);
//! * `queries.rs`: reads; `service.rs`: one function per use case, with check-in and no-shows
//!   in `checkin.rs` and the hall manager's rules in `rules.rs`;
//! * `notify.rs`: the message outbox, the [`notify::SmsSender`] seam and the jobs that send
//!   reminders and mark no-shows;
//! * `home.rs` (with `home/`): home visits (上门服务), their life cycle, use cases and routes;
//! * `api.rs`, `pages.rs`: JSON and pages; `bench.rs`: `yichuang bench booking`.
//!
//! **No hour is ever overbooked.** Every booking adds one to its window's row of
//! `booking_hours` with `update … set booked = booked + 1 where … and booked < $capacity`, in
//! the booking's transaction: the database, not an earlier read, decides who gets the last
//! place, on one server or several (PostgreSQL locks the row; SQLite has one writer).

pub mod api;
pub mod bench;
pub mod checkin;
mod common;
pub mod home;
pub mod notify;
pub mod pages;
pub mod queries;
pub mod rules;
pub mod service;
pub mod slots;
pub mod staff_pages;
pub mod state;
mod web;

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};

pub use slots::{BookingPeriods, Slot};
pub use state::{BookingAction, BookingState};

use crate::app::App;
use crate::db::{CivilDate, Micros};
use crate::ids::{BookingId, CenterId, MatterId, TicketId, UserId, WindowId};

crate::text_enum! {
    /// How a booking was made.
    pub enum Channel {
        /// 网上预约: the citizen's phone or the kiosk, 24 hours.
        Online = "online" => "网上预约",
        /// 电话预约, entered by staff.
        Phone = "phone" => "电话预约",
        /// 现场预约 at the counter, entered by staff.
        Counter = "counter" => "现场预约",
    }
}

crate::text_enum! {
    /// How a matter's requests are answered (`booking_matters.answer`).
    pub enum Answer {
        /// Confirmed at once.
        Auto = "auto" => "自动确认",
        /// A clerk answers the same day (seed 001 第三章五).
        Clerk = "clerk" => "窗口当日答复",
    }
}

/// A booking as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Appointment {
    pub id: BookingId,
    pub code: String,
    pub center_id: CenterId,
    pub matter_id: MatterId,
    pub window_id: WindowId,
    pub service_date: CivilDate,
    pub start: String,
    pub slot_end: String,
    pub starts_at: Micros,
    pub state: BookingState,
    pub channel: Channel,
    #[sqlx(flatten)]
    pub person: Person,
    pub refusal_reason: String,
    pub ticket_id: Option<TicketId>,
    pub created_by: Option<UserId>,
    pub created_at: Micros,
    pub answered_at: Option<Micros>,
    pub updated_at: Micros,
}

/// The applicant's data of a booking, checked: who it is for, why, and the agent who booked it
/// for them (if anyone).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Person {
    pub name: String,
    pub phone: String,
    pub id_card: String,
    pub reason: String,
    pub agent_name: String,
    pub agent_phone: String,
}

/// The columns of [`Appointment`], for `select`.
pub const COLUMNS: &str = "a.id, a.code, a.center_id, a.matter_id, a.window_id, a.service_date, a.start, \
    a.slot_end, a.starts_at, a.state, a.channel, a.name, a.phone, a.id_card, a.reason, a.agent_name, \
    a.agent_phone, a.refusal_reason, a.ticket_id, a.created_by, a.created_at, a.answered_at, a.updated_at";

/// A center's booking rules (`booking_settings`, defaults where no row), as the hall manager
/// reads and sets them.
#[derive(Clone, Debug, Deserialize, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = BookingSettings)]
pub struct Settings {
    /// How far ahead citizens may book, in days.
    pub days_ahead: i64,
    /// Active bookings per ID-card number.
    pub max_per_person: i64,
    /// Active bookings per phone number.
    pub max_per_phone: i64,
    /// Minutes after the booked hour's start a visitor still checks in.
    pub grace_minutes: i64,
    /// Minutes before the booked hour check-in opens.
    pub early_minutes: i64,
    /// No-shows in 90 days after which online booking is refused (0: not counted).
    pub no_show_limit: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            days_ahead: 14,
            max_per_person: 3,
            max_per_phone: 5,
            grace_minutes: 30,
            early_minutes: 60,
            no_show_limit: 0,
        }
    }
}

pub fn router() -> Router<Arc<App>> {
    api::router()
        .merge(pages::router())
        .merge(home::api::router())
        .merge(home::pages::router())
}
