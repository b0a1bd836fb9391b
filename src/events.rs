//! Realtime events, generic over what an area announces. One `broadcast` channel per hub and
//! server; on PostgreSQL every event also goes out with NOTIFY on the hub's channel inside the
//! transaction that makes the change, and one listener task per hub re-broadcasts what it
//! hears, so subscribers on any server see changes made on any other. On SQLite (one server)
//! the caller publishes locally after commit ([`Hub::after_commit`]).
//!
//! An event is sent only if its change commits: NOTIFY is delivered at commit and dropped at
//! rollback, and the SQLite path publishes only after a successful commit.
//!
//! Notifications sent while a listener's connection is down (a PostgreSQL restart, a network
//! cut) are lost to that server. So whenever the listener (re)connects and listens again, it
//! publishes the hub's [`Event::resync`] events to its subscribers, which re-read the state
//! (a lobby display reloads its current calls): whatever committed while it was away is
//! shown. It notices a lost connection at once (`try_recv`, not `recv`, which reconnects
//! silently).
//!
//! ```ignore
//! // in the use case's transaction
//! events::notify_in::<QueueEvent>(&mut tx, backend, &e).await?;
//! tx.commit().await?;
//! app.events.after_commit(backend, vec![e]);
//! ```

use std::{fmt, future::Future, marker::PhantomData, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::broadcast;

use crate::db::{Backend, Conn, Db};

/// What a hub carries: a serialisable value and the PostgreSQL channel its servers share.
pub trait Event: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The NOTIFY channel, one per event type (`yichuang_queue`). A plain lowercase word.
    const CHANNEL: &'static str;

    /// What this server's subscribers get after its listener was away: events that make them
    /// re-read the state, since notifications sent meanwhile are lost. None by default.
    fn resync(db: &Db) -> impl Future<Output = Result<Vec<Self>, sqlx::Error>> + Send {
        let _ = db;
        std::future::ready(Ok(Vec::new()))
    }
}

/// How long the listener waits before connecting again after a failure.
const RECONNECT_AFTER: Duration = Duration::from_millis(250);

/// How long one attempt of the listener to connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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
    /// re-broadcasts them. Reconnects by itself; after every (re)connection it publishes
    /// [`Event::resync`] (when anyone is subscribed), so that what was committed while it was
    /// away is re-read. Nothing on SQLite.
    pub fn spawn_listener(&self, db: &Db, url: String) {
        if db.backend() != Backend::Postgres {
            return;
        }
        let hub = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            // Until the server closes its pool (it stops).
            while !db.pool().is_closed() {
                hub.listen_until_lost(&db, &url).await;
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        });
    }

    /// One connection of the listener: connect, listen, resync, re-broadcast until the
    /// connection is lost.
    async fn listen_until_lost(&self, db: &Db, url: &str) {
        // A pool of one that gives up soon (`PgListener::connect` keeps trying for 30 s, and
        // its back-off can sleep seconds past the database's return).
        let listener = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(url)
            .await;
        let listener = match listener {
            Ok(pool) => sqlx::postgres::PgListener::connect_with(&pool).await,
            Err(e) => Err(e),
        };
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(channel = E::CHANNEL, error = %e, "event listener cannot connect");
                return;
            }
        };
        if let Err(e) = listener.listen(E::CHANNEL).await {
            tracing::warn!(channel = E::CHANNEL, error = %e, "event listener cannot listen");
            return;
        }
        // Listening from here on: a re-read now misses nothing committed before.
        if self.tx.receiver_count() > 0 {
            match E::resync(db).await {
                Ok(events) => {
                    for e in events {
                        self.publish_local(e);
                    }
                }
                Err(e) => {
                    // Try the whole connection again rather than leave displays stale.
                    tracing::warn!(channel = E::CHANNEL, error = %e, "event resync failed");
                    return;
                }
            }
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => match serde_json::from_str::<E>(n.payload()) {
                    Ok(e) => self.publish_local(e),
                    Err(e) => {
                        tracing::warn!(channel = E::CHANNEL, error = %e, "unreadable event")
                    }
                },
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(channel = E::CHANNEL, error = %e, "event listener failed");
                    break;
                }
            }
        }
        tracing::warn!(
            channel = E::CHANNEL,
            "event listener lost its connection; reconnecting"
        );
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
