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
    /// The first of them, in the order they were queued (at most [`LINE_SHOWN`]).
    pub line: Vec<Waiting>,
}

/// How many waiting tickets the workstation lists.
pub const LINE_SHOWN: i64 = 15;

/// One visitor in the line a window serves.
#[derive(Debug, sqlx::FromRow)]
pub struct Waiting {
    pub number: String,
    pub priority: Option<String>,
    pub issued_at: i64,
    /// Transferred to this window in person (not only waiting in its zone).
    pub transferred: i64,
}

impl Waiting {
    /// 老年人, 预约 … for a priority ticket.
    pub fn priority_label(&self) -> Option<&'static str> {
        self.priority
            .as_deref()
            .and_then(super::ticket::Priority::parse)
            .map(super::ticket::Priority::label)
    }

    /// Whole minutes waited by `now` (microseconds).
    pub fn waited_minutes(&self, now: &i64) -> i64 {
        ((now - self.issued_at) / 60_000_000).max(0)
    }
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
    let mine = "((target_window_id is null and (zone_id = $3 or zone_id in (select zone_id from window_zones where window_id = $4))) \
              or target_window_id = $4)";
    let waiting: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from tickets where center_id = $1 and service_date = $2 and {} and {mine}",
        guard(TicketAction::CallNext)
    )))
    .bind(center_id)
    .bind(date)
    .bind(desk.zone_id.unwrap_or(-1))
    .bind(desk.window_id)
    .fetch_one(app.db.pool())
    .await?;
    let line: Vec<Waiting> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select number, priority, issued_at, case when target_window_id = $4 then 1 else 0 end as transferred \
         from tickets where center_id = $1 and service_date = $2 and {} and {mine} order by queue_key limit {LINE_SHOWN}",
        guard(TicketAction::CallNext)
    )))
    .bind(center_id)
    .bind(date)
    .bind(desk.zone_id.unwrap_or(-1))
    .bind(desk.window_id)
    .fetch_all(app.db.pool())
    .await?;
    Ok(DeskView {
        current,
        held,
        waiting,
        line,
    })
}

/// A window where a person holds an A or B post (AB岗), for their start page and desk links.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PostAt {
    pub center_code: String,
    pub center_name: String,
    pub window_code: String,
    pub window_name: String,
    /// A | B
    pub post: String,
}

impl PostAt {
    /// The desk's address.
    pub fn desk(&self) -> String {
        format!(
            "/centers/{}/windows/{}/desk",
            self.center_code, self.window_code
        )
    }
}

/// The posts of `user_id` at active windows: A posts first, then by center and window.
pub async fn posts_of(app: &App, user_id: i64) -> AppResult<Vec<PostAt>> {
    Ok(sqlx::query_as(
        "select c.code as center_code, c.name as center_name, w.code as window_code, \
         w.name as window_name, p.post from window_posts p join windows w on w.id = p.window_id \
         join centers c on c.id = w.center_id where p.user_id = $1 and w.active = 1 \
         order by p.post, c.id, w.code",
    )
    .bind(user_id)
    .fetch_all(app.db.pool())
    .await?)
}
