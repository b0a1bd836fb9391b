//! The queue (排队叫号), R4; seed 001 (一)(五); seed 003 §(四)1(1); seed 004 附件4 一.
//!
//! A ticket is issued at the kiosk (numbered per center, day and zone prefix), called by a
//! window, started, finished — or recalled, transferred (keeping its place, 首问负责), held in
//! one of three ways, or marked no-show. Every change is a row in `ticket_events` and an event
//! on the hub that lobby displays and phones follow over SSE.

pub mod actions;
pub mod api;
mod batch;
pub mod bench;
pub mod cache;
pub mod hub;
pub mod issuer;
mod pages;
pub mod state;
pub mod stats;
pub mod ticket;
pub mod writer;

use std::sync::Arc;

use axum::Router;

use crate::app::App;

pub use hub::{EventHub, QueueEvent};
pub use state::{TicketAction, TicketState};
pub use ticket::{EventKind, HoldKind, Priority, Rule, Ticket};

pub fn router() -> Router<Arc<App>> {
    Router::new().merge(api::router()).merge(pages::router())
}
