//! The server's read cache ([`Cache`]) and the generation that empties it.
//!
//! The window actions use it with a one-second TTL (whose account a token or session is, which
//! window a clerk acts at); the kiosk, the catalogue search and the holiday table use the same
//! type with their own stamps.
//!
//! Every window action would otherwise read the caller's account, roles and centers and the
//! window, its zones, posts and the center's calling rule before it writes. Those change
//! rarely, so an entry is kept for [`TTL`] and is dropped at once when this server makes any
//! change not marked [`Unchanged`]: [`bump_after_changes`] counts a new generation after
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

/// How long a lookup of the window actions may serve without being read again.
pub const TTL: Duration = Duration::from_secs(1);

/// Entries kept at most per cache unless told otherwise; a full cache starts over.
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

/// The one read cache of the server. An entry is kept with a *stamp*, what it was read under,
/// and serves only while the caller's current stamp is equal and the entry is younger than the
/// cache's TTL (if it has one). The stamp is whatever says "nothing changed": this server's
/// [`Generation`], a version read from the database (`catalog_version`, the holiday years), or
/// `()` when age alone decides. Concurrent misses of one key wait for one load
/// ([`Cache::get_or_load`]). The cache knows no area: each area keeps its own in `App`.
#[derive(Debug)]
pub struct Cache<K, V, S = u64> {
    ttl: Option<Duration>,
    capacity: usize,
    state: Mutex<Entries<K, V, S>>,
}

#[derive(Debug)]
struct Entries<K, V, S> {
    entries: HashMap<K, (V, Instant, S)>,
    /// Loads under way: concurrent askers of the same key wait for one.
    pending: HashMap<K, Arc<tokio::sync::OnceCell<V>>>,
}

impl<K, V, S> Default for Cache<K, V, S> {
    /// A cache of [`TTL`], the window actions' lookups.
    fn default() -> Self {
        Self::new(Some(TTL))
    }
}

impl<K, V, S> Cache<K, V, S> {
    /// A cache whose entries expire after `ttl` (`None`: only a new stamp expires them).
    pub fn new(ttl: Option<Duration>) -> Self {
        Self::with_capacity(ttl, CAPACITY)
    }

    /// [`Cache::new`] holding at most `capacity` entries.
    pub fn with_capacity(ttl: Option<Duration>, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            state: Mutex::new(Entries {
                entries: HashMap::new(),
                pending: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V, S>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

impl<K: Eq + Hash + Clone, V: Clone, S: PartialEq + Clone> Cache<K, V, S> {
    fn fresh(&self, at: &Instant) -> bool {
        self.ttl.is_none_or(|ttl| at.elapsed() < ttl)
    }

    /// The entry for `key`, if it was read under `stamp` and is young enough.
    pub fn get(&self, key: &K, stamp: S) -> Option<V> {
        let st = self.lock();
        st.entries
            .get(key)
            .filter(|(_, at, s)| *s == stamp && self.fresh(at))
            .map(|(v, _, _)| v.clone())
    }

    /// Keeps `value`, read from the database under `stamp` (taken *before* the read, so a
    /// change committed meanwhile makes the entry stale rather than lasting).
    pub fn put(&self, key: K, value: V, stamp: S) {
        let mut st = self.lock();
        if st.entries.len() >= self.capacity {
            st.entries.clear();
        }
        st.entries.insert(key, (value, Instant::now(), stamp));
    }

    /// The entry for `key` under `stamp`, or the value `load` reads, kept under `stamp`.
    /// Concurrent callers that miss the same key wait for one load; a failed load is not kept
    /// (its caller gets the error and the next waiter loads again).
    pub async fn get_or_load<E, F, Fut>(&self, key: K, stamp: S, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key, stamp.clone()) {
            return Ok(v);
        }
        let cell = self.lock().pending.entry(key.clone()).or_default().clone();
        let loaded = cell.get_or_try_init(load).await.cloned();
        let mut st = self.lock();
        if st.pending.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            st.pending.remove(&key);
        }
        drop(st);
        let v = loaded?;
        self.put(key, v.clone(), stamp);
        Ok(v)
    }
}

/// Marks a response whose request changed no cached record, though its method is unsafe (a
/// ticket issued, a window's action): [`bump_after_changes`] then keeps the generation. An
/// area inserts it, through a `map_response` layer, on the routes that run all day.
#[derive(Clone, Copy, Debug)]
pub struct Unchanged;

/// Middleware: after any request that may have changed something (an unsafe method whose
/// answer is not marked [`Unchanged`]) has been answered, starts a new generation.
pub async fn bump_after_changes(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(req).await;
    if unsafe_method && response.extensions().get::<Unchanged>().is_none() {
        app.generation.bump();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_under_its_stamp_and_within_its_age() {
        let cache: Cache<&str, i64, &str> = Cache::new(Some(Duration::from_millis(50)));
        cache.put("k", 1, "v1");
        assert_eq!(cache.get(&"k", "v1"), Some(1));
        assert_eq!(cache.get(&"k", "v2"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"k", "v1"), None);
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_load_once() {
        let cache: Arc<Cache<&str, i64, ()>> = Arc::new(Cache::new(None));
        let loads = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, loads) = (cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load("k", (), || async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, String>(7)
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache: Cache<&str, i64, ()> = Cache::new(None);
        let r = cache
            .get_or_load("k", (), || async { Err::<i64, _>("down".to_owned()) })
            .await;
        assert_eq!(r, Err("down".to_owned()));
        let r = cache
            .get_or_load("k", (), || async { Ok::<_, String>(3) })
            .await;
        assert_eq!(r, Ok(3));
    }

    #[test]
    fn an_entry_is_stale_after_a_new_generation() {
        let cache: Cache<&str, i64> = Cache::default();
        cache.put("k", 1, 7);
        assert_eq!(cache.get(&"k", 7), Some(1));
        assert_eq!(cache.get(&"k", 8), None);
    }
}
