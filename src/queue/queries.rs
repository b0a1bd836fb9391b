//! Reads of the queue that pages show and nothing writes: what a clerk's workstation lists.

use super::{
    actions::{Desk, current_at},
    state::{TicketAction, guard},
    ticket::{self, Ticket},
};
use crate::{app::App, error::AppResult, ids::TicketId};

/// What the clerk's workstation shows besides the window itself.
pub struct DeskView {
    /// The ticket the window is calling or serving.
    pub current: Option<Ticket>,
    /// Held tickets this window may call back: its own, and every 不持件 hold.
    pub held: Vec<Ticket>,
    /// Visitors waiting for this window: in its zones or transferred to it.
    pub waiting: i64,
}

pub async fn desk_view(app: &App, center_id: i64, date: &str, desk: &Desk) -> AppResult<DeskView> {
    let mut conn = app.db.pool().acquire().await?;
    let current = current_at(&mut conn, desk.window_id).await?;
    drop(conn);
    let held_ids: Vec<TicketId> = sqlx::query_scalar(
        "select id from tickets where center_id = $1 and service_date = $2 and state = 'held' \
         and (hold_kind = 'away' or window_id = $3) order by queue_key",
    )
    .bind(center_id)
    .bind(date)
    .bind(desk.window_id)
    .fetch_all(app.db.pool())
    .await?;
    let mut held = Vec::new();
    for id in held_ids {
        held.push(ticket::by_id(app.db.pool(), id).await?);
    }
    let waiting: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from tickets where center_id = $1 and service_date = $2 and {} \
         and ((target_window_id is null and (zone_id = $3 or zone_id in (select zone_id from window_zones where window_id = $4))) \
              or target_window_id = $4)",
        guard(TicketAction::CallNext)
    )))
    .bind(center_id)
    .bind(date)
    .bind(desk.zone_id.unwrap_or(-1))
    .bind(desk.window_id)
    .fetch_one(app.db.pool())
    .await?;
    Ok(DeskView {
        current,
        held,
        waiting,
    })
}
