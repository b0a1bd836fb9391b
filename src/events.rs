//! Realtime events, generic over what an area announces. One `broadcast` channel per hub and
//! server; on PostgreSQL every event also goes out with NOTIFY on the hub's channel inside the
//! transaction that makes the change, and one listener task per hub re-broadcasts what it
//! hears, so subscribers on any server see changes made on any other. On SQLite (one server)
//! the caller publishes locally after commit ([`Hub::after_commit`]).
//!
//! An event is sent only if its change commits: NOTIFY is delivered at commit and dropped at
//! rollback, and the SQLite path publishes only after a successful commit.
//!
//! ```ignore
//! // in the use case's transaction
//! events::notify_in::<QueueEvent>(&mut tx, backend, &e).await?;
//! tx.commit().await?;
//! app.events.after_commit(backend, vec![e]);
//! ```

use std::{fmt, marker::PhantomData};

use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::broadcast;

use crate::db::{Backend, Conn, Db};

/// What a hub carries: a serialisable value and the PostgreSQL channel its servers share.
pub trait Event: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The NOTIFY channel, one per event type (`yichuang_queue`). A plain lowercase word.
    const CHANNEL: &'static str;
}

/// Fan-out of one event type inside one server.
pub struct Hub<E: Event> {
    tx: broadcast::Sender<E>,
    _event: PhantomData<fn() -> E>,
}

impl<E: Event> Clone for Hub<E> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            _event: PhantomData,
        }
    }
}

impl<E: Event> fmt::Debug for Hub<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("channel", &E::CHANNEL)
            .field("subscribers", &self.tx.receiver_count())
            .finish()
    }
}

impl<E: Event> Default for Hub<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Event> Hub<E> {
    /// A hub keeping up to 4,096 events for a slow subscriber (who then sees `Lagged` and
    /// re-reads the state).
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            tx,
            _event: PhantomData,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<E> {
        self.tx.subscribe()
    }

    /// Delivers to this server's subscribers.
    pub fn publish_local(&self, e: E) {
        let _ = self.tx.send(e);
    }

    /// After commit: on SQLite publish locally (PostgreSQL's NOTIFY comes back by the listener).
    pub fn after_commit(&self, backend: Backend, events: Vec<E>) {
        if backend == Backend::Sqlite {
            for e in events {
                self.publish_local(e);
            }
        }
    }

    /// On PostgreSQL, listens on the hub's channel for other servers' (and our own) events and
    /// re-broadcasts them. Reconnects by itself; notifications sent while disconnected are
    /// lost, which subscribers cover by re-reading the state when their stream reconnects.
    /// Nothing on SQLite.
    pub fn spawn_listener(&self, db: &Db, url: String) {
        if db.backend() != Backend::Postgres {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if listener.listen(E::CHANNEL).await.is_ok() {
                            while let Ok(n) = listener.recv().await {
                                match serde_json::from_str::<E>(n.payload()) {
                                    Ok(e) => hub.publish_local(e),
                                    Err(e) => {
                                        tracing::warn!(channel = E::CHANNEL, error = %e, "unreadable event")
                                    }
                                }
                            }
                        }
                        tracing::warn!(
                            channel = E::CHANNEL,
                            "event listener lost its connection; reconnecting"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(channel = E::CHANNEL, error = %e, "event listener cannot connect")
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}

/// Queues `e` in the transaction: on PostgreSQL as a NOTIFY on `E::CHANNEL` (sent at commit,
/// heard by every server including this one); on SQLite nothing (the caller publishes after
/// commit).
pub async fn notify_in<E: Event>(
    tx: &mut Conn,
    backend: Backend,
    e: &E,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        let payload = serde_json::to_string(e).unwrap_or_default();
        sqlx::query("select pg_notify($1, $2)")
            .bind(E::CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// [`notify_in`] for many events with one statement.
pub async fn notify_all_in<E: Event>(
    tx: &mut Conn,
    backend: Backend,
    events: &[&E],
) -> Result<(), sqlx::Error> {
    if backend != Backend::Postgres || events.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect();
    sqlx::query("select pg_notify($1, value) from json_array_elements_text(cast($2 as json))")
        .bind(E::CHANNEL)
        .bind(serde_json::to_string(&payloads).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    Ok(())
}
