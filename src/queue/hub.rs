//! Realtime events of the queue. One `broadcast` channel per server; on PostgreSQL every
//! event also goes out with NOTIFY in the changing transaction and each server re-broadcasts
//! what it hears, so displays connected to any server see calls made on any other.
//! Events carry what a display needs; after a gap a client re-reads the state.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::db::{Backend, Conn, Db};

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

/// Fan-out of queue events inside one server.
#[derive(Debug, Clone)]
pub struct EventHub {
    tx: broadcast::Sender<QueueEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<QueueEvent> {
        self.tx.subscribe()
    }

    /// Delivers to this server's subscribers.
    pub fn publish_local(&self, e: QueueEvent) {
        let _ = self.tx.send(e);
    }
}

/// Queues `e` in the transaction: on PostgreSQL as a NOTIFY (sent at commit, heard by every
/// server including this one); on SQLite the caller publishes after commit.
pub async fn notify_in(tx: &mut Conn, backend: Backend, e: &QueueEvent) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        let payload = serde_json::to_string(e).unwrap_or_default();
        sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// [`notify_in`] for many events with one statement.
pub async fn notify_all_in(
    tx: &mut Conn,
    backend: Backend,
    events: &[&QueueEvent],
) -> Result<(), sqlx::Error> {
    if backend != Backend::Postgres || events.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect();
    sqlx::query("select pg_notify($1, value) from json_array_elements_text(cast($2 as json))")
        .bind(CHANNEL)
        .bind(serde_json::to_string(&payloads).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// After commit: on SQLite publish locally (PostgreSQL's NOTIFY comes back by the listener).
pub fn after_commit(hub: &EventHub, backend: Backend, events: Vec<QueueEvent>) {
    if backend == Backend::Sqlite {
        for e in events {
            hub.publish_local(e);
        }
    }
}

/// On PostgreSQL, listens for other servers' (and our own) events and re-broadcasts them.
/// Reconnects by itself; notifications sent while disconnected are lost, which clients cover
/// by re-reading the state when their stream reconnects.
pub fn spawn_listener(db: &Db, url: String, hub: EventHub) {
    if db.backend() != Backend::Postgres {
        return;
    }
    tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if listener.listen(CHANNEL).await.is_ok() {
                        while let Ok(n) = listener.recv().await {
                            if let Ok(e) = serde_json::from_str::<QueueEvent>(n.payload()) {
                                hub.publish_local(e);
                            }
                        }
                    }
                    tracing::warn!("queue event listener lost its connection; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "queue event listener cannot connect"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}
