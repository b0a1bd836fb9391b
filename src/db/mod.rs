//! Storage seam: one pool that speaks to SQLite (the embedded default) or PostgreSQL.
//!
//! Queries are written once in the portable subset (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`) and run through sqlx's `Any` driver. Where the engines differ (locking,
//! search, DDL) code matches on [`Backend`]. Instants are `i64` microseconds (UTC) and flags
//! are `0/1` integers, the types both engines decode alike through `Any`.

pub mod dialect;
mod migrate;
mod types;

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

pub use dialect::placeholders;
pub use migrate::{Migration, migrations_for};
pub use types::{CivilDate, Micros, TextEnum, UnknownValue};

/// A transaction on either engine. Domain functions take `&mut Tx`.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A connection on either engine. The queue's functions take `&mut Conn` inside a
/// transaction — a [`Tx`] derefs to one — so its writer can run transactions on a connection
/// it holds ([`Db::hold_writer`]) instead of taking one from the pool for each.
pub type Conn = sqlx::AnyConnection;

/// Which engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Tells the engine from a URL, or `None` for a scheme we do not serve.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The application database.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Where write transactions run. On SQLite a pool of one connection: writers queue in
    /// the pool (first come, first served) instead of retrying against the file lock in
    /// SQLite's busy handler, whose back-off sleeps collapse throughput under load.
    /// On PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
    /// SQLite: set by the background checkpointer when the WAL has grown long; the writer
    /// then checkpoints the little left itself between two transactions, which lets the next
    /// one start the WAL over ([`Db::checkpoint_in_background`]).
    wal_restart_due: Arc<AtomicBool>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("不支持的数据库地址“{0}”：请使用 sqlite://文件 或 postgres://…")]
    Scheme(String),
    #[error("无法连接数据库：{0}")]
    Connect(#[from] sqlx::Error),
}

impl Db {
    /// Opens a pool; an SQLite file is created if missing and set to WAL with full sync,
    /// so an acknowledged write survives a killed process and a power cut.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, OpenError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| OpenError::Scheme(url.to_owned()))?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = Self::pool_options(backend, max_connections.max(1))
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => Self::pool_options(backend, 1).connect_with(options).await?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            backend,
            wal_restart_due: Arc::default(),
        })
    }

    fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
        AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A ping on every acquire is a round trip per transaction on the hot paths; a
            // broken connection fails its statement instead, and the pool replaces it.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = full; \
                             pragma foreign_keys = on; pragma busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred one that later upgrades fails with SQLITE_BUSY.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// Runs `work` in one write transaction ([`Db::begin`]) and commits when it returns `Ok`;
    /// an `Err` (a refusal or a failure) rolls everything back, so a refused request changes
    /// nothing. This is the one place use cases begin and commit:
    ///
    /// ```ignore
    /// let zone = app
    ///     .db
    ///     .transaction(|mut tx| Box::pin(async move { zones::create(&mut tx, &actor, center, &input).await }))
    ///     .await?;
    /// ```
    pub async fn transaction<'a, T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(Work<'c, 'a>) -> futures_util::future::BoxFuture<'c, Result<T, E>>,
        E: From<sqlx::Error>,
    {
        let mut tx = self.begin().await?;
        let out = work(Work {
            tx: &mut tx,
            _scope: std::marker::PhantomData,
        })
        .await?;
        tx.commit().await?;
        self.restart_wal_if_due().await;
        Ok(out)
    }

    /// SQLite: when the background checkpoint asks for it ([`Db::take_wal_restart`]),
    /// checkpoints on the writer between two transactions, so the next one starts the WAL over.
    /// Without this, a stream of use-case transactions (bookings, cases) with no queue traffic
    /// let the WAL grow without end, and every read slowed as it searched a longer WAL.
    async fn restart_wal_if_due(&self) {
        if self.backend != Backend::Sqlite || !self.take_wal_restart() {
            return;
        }
        match self.writer.acquire().await {
            Ok(mut conn) => {
                if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
                    .execute(&mut *conn)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint between transactions failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "no writer for the WAL checkpoint"),
        }
    }

    /// Takes the write connection for a while (SQLite: the one writer; PostgreSQL: one of the
    /// pool). Every return to the pool costs a round trip (sqlx tests the connection), so a
    /// writer with a stream of batches holds it and runs [`begin_on`]/[`commit_on`] itself.
    pub async fn hold_writer(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error> {
        self.writer.acquire().await
    }

    /// SQLite: checkpoints the WAL from a background task instead of in the writer's commits.
    /// A commit that crosses the automatic checkpoint's threshold copies the WAL into the
    /// database and flushes it, which made one batch of the queue's writer in a few hundred
    /// take ten times as long; a PASSIVE checkpoint on a read connection needs no write lock.
    /// But under a steady stream of commits such a checkpoint never catches up with the last
    /// one, and the WAL can only start over once it has: so when the WAL is long the writer is
    /// asked ([`Db::take_wal_restart`]) to checkpoint the few frames left between two of its
    /// transactions. (Should the writer's connection be opened again, it checkpoints by itself
    /// as SQLite does by default.)
    pub async fn checkpoint_in_background(&self) -> Result<(), sqlx::Error> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut conn = self.hold_writer().await?;
        sqlx::query("pragma wal_autocheckpoint = 0")
            .execute(&mut *conn)
            .await?;
        drop(conn);
        let pool = self.pool.clone();
        let due = self.wal_restart_due.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                // The pragma answers (busy, log, checkpointed): `log` is the frames in the WAL.
                let frames = sqlx::query("pragma wal_checkpoint(passive)")
                    .fetch_one(&pool)
                    .await
                    .and_then(|row| sqlx::Row::try_get::<i64, _>(&row, "log"));
                match frames {
                    Ok(frames) if frames > WAL_RESTART_FRAMES => due.store(true, Ordering::Release),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        });
        Ok(())
    }

    /// True (once) when the writer should checkpoint between two transactions so that the
    /// WAL starts over ([`Db::checkpoint_in_background`]).
    pub fn take_wal_restart(&self) -> bool {
        self.wal_restart_due.swap(false, Ordering::AcqRel)
    }

    /// Applies pending migrations; safe when several servers start at once.
    pub async fn migrate(&self) -> Result<usize, migrate::MigrateError> {
        migrate::run(self).await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(&self.pool).await.is_ok()
    }

    /// Closes the pools, waiting for connections to return.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await
    }
}

/// A WAL longer than this many pages (4 KiB each) is started over (`Db::take_wal_restart`).
const WAL_RESTART_FRAMES: i64 = 4096;

/// Starts a write transaction on a held connection (see [`Db::begin`] for why IMMEDIATE).
pub async fn begin_on(conn: &mut Conn, backend: Backend) -> Result<(), sqlx::Error> {
    sqlx::query(dialect::begin_write(backend))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Commits the transaction [`begin_on`] started.
pub async fn commit_on(conn: &mut Conn) -> Result<(), sqlx::Error> {
    sqlx::query("commit").execute(&mut *conn).await.map(|_| ())
}

/// Rolls back the transaction [`begin_on`] started.
pub async fn rollback_on(conn: &mut Conn) -> Result<(), sqlx::Error> {
    sqlx::query("rollback")
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// True when `e` is a unique-constraint violation (duplicate code, name, login …).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// True when `e` is a foreign-key violation (a row still referenced, or a missing parent).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_foreign_key_violation()
                || db.code().as_deref() == Some("23503")
                || db.message().contains("FOREIGN KEY constraint failed")
        }
        _ => false,
    }
}

/// The transaction a [`Db::transaction`] closure works in; derefs to [`Tx`], so domain functions
/// take `&mut tx`. The `'a` ties it to the caller's borrows (as `std::thread::Scope` does), which
/// lets the closure's future use the caller's references and still be `Send`: a closure taking
/// `&mut Tx` straight is rejected by the compiler once the future must be `Send + 'static`
/// (every axum handler's) — "implementation of `AsyncFnOnce` is not general enough".
pub struct Work<'c, 'a> {
    tx: &'c mut Tx,
    _scope: std::marker::PhantomData<&'c mut &'a ()>,
}

impl std::ops::Deref for Work<'_, '_> {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        self.tx
    }
}

impl std::ops::DerefMut for Work<'_, '_> {
    fn deref_mut(&mut self) -> &mut Tx {
        self.tx
    }
}
