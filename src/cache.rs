//! Short-lived read caches for the window actions (whose account a token or session is, which
//! window a clerk acts at), and the generation that empties them.
//!
//! Every window action would otherwise read the caller's account, roles and centers and the
//! window, its zones, posts and the center's calling rule before it writes. Those change
//! rarely, so an entry is kept for [`TTL`] and is dropped at once when this server makes any
//! change outside the queue's hot paths: [`bump_after_changes`] counts a new generation after
//! every such request has been answered (so after its commit), and an entry read before that
//! is stale. A change made through another server or the CLI is seen within the TTL — except
//! that a revoked token or an ended session is refused at once: the writer checks the
//! credential of every action in the action's transaction ([`crate::auth::Acting`]).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};

use crate::app::App;

/// How long an entry may serve without being read again.
pub const TTL: Duration = Duration::from_secs(1);

/// Entries kept at most per cache; a full cache starts over.
const CAPACITY: usize = 10_000;

/// Counts this server's changes; a cache entry made under an older count is stale.
#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A map whose entries expire after [`TTL`] or when the generation moves on.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant, u64)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// The entry for `key`, if fresh under generation `generation`.
    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at, g)| *g == generation && at.elapsed() < TTL)
            .map(|(v, _, _)| v.clone())
    }

    /// Keeps `value`, read from the database under `generation` (taken *before* the read, so
    /// a change committed meanwhile makes the entry stale rather than lasting).
    pub fn put(&self, key: K, value: V, generation: u64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, (value, Instant::now(), generation));
    }
}

/// True for the requests that run all day and change no cached record: issuing tickets,
/// the window actions, a visitor leaving the queue, the kiosk's form.
fn is_queue_hot_path(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["api", "v1", "centers", _, "tickets"]
            | ["api", "v1", "centers", _, "windows", _, _]
            | ["api", "v1", "tickets", _, "leave"]
            | ["centers", _, "kiosk"]
            | ["t", _, "leave"]
    )
}

/// Middleware: after any request that may have changed something (an unsafe method outside
/// the queue's hot paths) has been answered, starts a new generation.
pub async fn bump_after_changes(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !is_queue_hot_path(req.method(), req.uri().path());
    let response = next.run(req).await;
    if changes {
        app.generation.bump();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_actions_and_tickets_are_hot_but_edits_are_not() {
        let post = Method::POST;
        assert!(is_queue_hot_path(&post, "/api/v1/centers/GX/tickets"));
        assert!(is_queue_hot_path(
            &post,
            "/api/v1/centers/GX/windows/TY01/call-next"
        ));
        assert!(is_queue_hot_path(&post, "/api/v1/tickets/abc/leave"));
        assert!(!is_queue_hot_path(&post, "/api/v1/centers/GX/windows"));
        assert!(!is_queue_hot_path(
            &Method::PUT,
            "/api/v1/centers/GX/windows/TY01"
        ));
        assert!(!is_queue_hot_path(&post, "/admin/centers/GX/posts"));
    }

    #[test]
    fn an_entry_is_stale_after_a_new_generation() {
        let cache: TtlCache<&str, i64> = TtlCache::default();
        cache.put("k", 1, 7);
        assert_eq!(cache.get(&"k", 7), Some(1));
        assert_eq!(cache.get(&"k", 8), None);
    }
}
