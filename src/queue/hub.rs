//! Realtime events of the queue, on the platform's event hub ([`crate::events`]): one
//! `broadcast` channel per server; on PostgreSQL every event also goes out with NOTIFY in the
//! changing transaction and each server re-broadcasts what it hears, so displays connected to
//! any server see calls made on any other.
//! Events carry what a display needs; after a gap a client re-reads the state. When a
//! server's listener was away (PostgreSQL restarted), it sends every center a `resync`
//! ([`QueueEvent::resync_center`]) once it listens again, so the calls made meanwhile are shown.

use crate::db::{Backend, Conn, Db};
use serde::{Deserialize, Serialize};

/// PostgreSQL channel the servers of one database share.
pub const CHANNEL: &str = "yichuang_queue";

/// Something a lobby display, a window screen or a phone should react to.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueEvent {
    pub center: String,
    /// issued | called | recalled | started | finished | no_show | transferred | held | resumed | left
    pub kind: String,
    pub ticket: String,
    pub zone: Option<String>,
    pub window: Option<String>,
    pub window_name: Option<String>,
    /// The announcement for calls and recalls: 请A023号到通用综合受理3号窗口办理.
    pub say: Option<String>,
    /// Microseconds since the epoch when the change was made (call-to-arrival timing).
    pub at: i64,
}

impl crate::events::Event for QueueEvent {
    const CHANNEL: &'static str = CHANNEL;

    /// A `resync` for every center: its displays, screens and phones re-read the state
    /// (the SSE stream sends it as `event: resync`, as when a stream fell behind).
    fn resync(db: &Db) -> impl std::future::Future<Output = Result<Vec<Self>, sqlx::Error>> + Send {
        let pool = db.pool().clone();
        async move {
            let codes: Vec<String> = sqlx::query_scalar("select code from centers order by id")
                .fetch_all(&pool)
                .await?;
            let at = jiff::Timestamp::now().as_microsecond();
            Ok(codes
                .into_iter()
                .map(|center| QueueEvent::resync_center(center, at))
                .collect())
        }
    }
}

impl QueueEvent {
    /// Kind of the event that tells a center's subscribers to re-read the state.
    pub const RESYNC: &'static str = "resync";

    /// Tells `center`'s subscribers to re-read the state: events may have been missed.
    pub fn resync_center(center: String, at: i64) -> Self {
        Self {
            center,
            kind: Self::RESYNC.into(),
            ticket: String::new(),
            zone: None,
            window: None,
            window_name: None,
            say: None,
            at,
        }
    }
}

/// Fan-out of queue events: the platform's [`crate::events::Hub`] on [`CHANNEL`].
pub type EventHub = crate::events::Hub<QueueEvent>;

/// Queues `e` in the transaction: on PostgreSQL as a NOTIFY (sent at commit, heard by every
/// server including this one); on SQLite the caller publishes after commit.
pub async fn notify_in(tx: &mut Conn, backend: Backend, e: &QueueEvent) -> Result<(), sqlx::Error> {
    crate::events::notify_in(tx, backend, e).await
}

/// [`notify_in`] for many events with one statement.
pub async fn notify_all_in(
    tx: &mut Conn,
    backend: Backend,
    events: &[&QueueEvent],
) -> Result<(), sqlx::Error> {
    crate::events::notify_all_in(tx, backend, events).await
}

/// After commit: on SQLite publish locally (PostgreSQL's NOTIFY comes back by the listener).
pub fn after_commit(hub: &EventHub, backend: Backend, events: Vec<QueueEvent>) {
    hub.after_commit(backend, events)
}

/// On PostgreSQL, listens for other servers' (and our own) queue events and re-broadcasts
/// them ([`crate::events::Hub::spawn_listener`]).
pub fn spawn_listener(db: &Db, url: String, hub: EventHub) {
    hub.spawn_listener(db, url)
}
