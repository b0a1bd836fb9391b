//! The answers of the public search kept per server ([`Cache`]), and on PostgreSQL the
//! in-memory index they are searched in ([`Index`]) once it is built.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::body::Bytes;

use super::{Found, Index, search_indexed};
use crate::{
    cache,
    catalog::synonyms::{self, Synonyms},
    db::{Backend, Db},
    error::{AppError, AppResult},
};

/// Answers of the public search, serialised, while the catalogue stays the same: citizens
/// ask the same few things (户口, 身份证) all day. One per server; a change anywhere bumps
/// `catalog_version`, and answers kept under an older version no longer serve.
#[derive(Debug)]
pub struct Cache {
    /// `catalog_version` as last read, stamped by this server's generation and trusted for
    /// [`VERSION_TTL`].
    version: cache::Cache<(), i64, u64>,
    /// Answers, stamped by the version they were searched under. The version is in the key
    /// too, so a search under way for an older version is not shared with a newer asker.
    answers: cache::Cache<(i64, Key), Answer, i64>,
    /// The synonym list by the version it was read under (in the key, like the answers'):
    /// an edit bumps the version, so the next answer reads the list again.
    synonyms: cache::Cache<i64, Arc<Synonyms>, i64>,
    /// On PostgreSQL, the search table of the newest version read, in memory ([`Index`]).
    memory: Arc<Mutex<Memory>>,
}

/// The in-memory index of a server and its building.
#[derive(Debug, Default)]
struct Memory {
    index: Option<Arc<Index>>,
    building: bool,
    /// When the last build failed (the database away): none again before [`REBUILD_PAUSE`].
    failed_at: Option<Instant>,
}

/// How long a failed build of the in-memory index waits before the next try.
const REBUILD_PAUSE: Duration = Duration::from_secs(5);

impl Default for Cache {
    fn default() -> Self {
        Self {
            version: cache::Cache::new(Some(VERSION_TTL)),
            answers: cache::Cache::with_capacity(None, CACHE_ENTRIES),
            synonyms: cache::Cache::with_capacity(None, 4),
            memory: Default::default(),
        }
    }
}

type Key = (String, Option<String>, i64);

/// A cached answer: for pages, and serialised for the API.
#[derive(Clone, Debug)]
pub struct Answer {
    pub found: Arc<Found>,
    pub json: Bytes,
}

/// How long the cache trusts its answers without reading `catalog_version` again. A change
/// made through this server is seen at once (it starts a new [`crate::cache::Generation`]);
/// one made through another server or the CLI within this.
const VERSION_TTL: Duration = Duration::from_millis(250);

/// Answers kept at most; the cache starts over when full.
const CACHE_ENTRIES: usize = 10_000;

impl Cache {
    /// [`search`], from the cache when the catalogue has not changed. `generation` is this
    /// server's count of changes ([`crate::app::App::generation`]).
    pub async fn search(
        &self,
        db: &Db,
        generation: u64,
        q: &str,
        center: Option<&str>,
        page: i64,
    ) -> AppResult<Answer> {
        let version = match self.version.get(&(), generation) {
            Some(v) => v,
            None => {
                let v: i64 = sqlx::query_scalar("select version from catalog_version where id = 1")
                    .fetch_one(db.pool())
                    .await?;
                self.version.put((), v, generation);
                v
            }
        };
        let key = (
            q.trim().to_owned(),
            center
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            page.clamp(1, 10_000),
        );
        self.answers
            .get_or_load((version, key.clone()), version, || async {
                let synonyms = self
                    .synonyms
                    .get_or_load(version, version, || async {
                        AppResult::Ok(Arc::new(synonyms::load(db.pool()).await?))
                    })
                    .await?;
                let index = self.index(db, version);
                let found = search_indexed(
                    db,
                    index.as_deref(),
                    &synonyms,
                    &key.0,
                    key.1.as_deref(),
                    key.2,
                )
                .await?;
                let json = serde_json::to_vec(&found)
                    .map(Bytes::from)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                AppResult::Ok(Answer {
                    found: Arc::new(found),
                    json,
                })
            })
            .await
    }
}

impl Cache {
    /// The in-memory index of `version`, on PostgreSQL, once built. Until then (and after a
    /// change, until the next is built) the database answers, and one build starts in the
    /// background.
    fn index(&self, db: &Db, version: i64) -> Option<Arc<Index>> {
        if db.backend() != Backend::Postgres {
            return None;
        }
        let mut memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        let held = memory.index.as_ref().map(|ix| ix.version);
        if held == Some(version) {
            return memory.index.clone();
        }
        let paused = memory
            .failed_at
            .is_some_and(|at| at.elapsed() < REBUILD_PAUSE);
        if !memory.building && !paused && held.is_none_or(|v| v < version) {
            memory.building = true;
            let (db, state) = (db.clone(), self.memory.clone());
            tokio::spawn(async move {
                let built = Index::load(&db).await;
                let mut memory = state.lock().unwrap_or_else(|e| e.into_inner());
                memory.building = false;
                match built {
                    Ok(ix) => {
                        tracing::info!(
                            version = ix.version,
                            matters = ix.len(),
                            "search index built"
                        );
                        memory.failed_at = None;
                        if memory
                            .index
                            .as_ref()
                            .is_none_or(|old| old.version < ix.version)
                        {
                            memory.index = Some(Arc::new(ix));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "building the search index failed");
                        memory.failed_at = Some(Instant::now());
                    }
                }
            });
        }
        None
    }

    /// The catalogue version of the in-memory index, once one is built.
    pub fn indexed_version(&self) -> Option<i64> {
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        memory.index.as_ref().map(|ix| ix.version)
    }

    /// Starts building the in-memory index (PostgreSQL) ahead of the first search.
    pub async fn warm(&self, db: &Db) -> AppResult<()> {
        let v: i64 = sqlx::query_scalar("select version from catalog_version where id = 1")
            .fetch_one(db.pool())
            .await?;
        self.index(db, v);
        Ok(())
    }
}
