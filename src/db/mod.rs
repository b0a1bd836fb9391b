//! Storage seam: one pool that speaks to SQLite (the embedded default) or PostgreSQL.
//!
//! Queries are written once in the portable subset (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`) and run through sqlx's `Any` driver. Where the engines differ (locking,
//! search, DDL) code matches on [`Backend`]. Instants are `i64` microseconds (UTC) and flags
//! are `0/1` integers, the types both engines decode alike through `Any`.
//!
//! After a PostgreSQL restart the pool's idle connections are dead. They are not pinged on
//! every acquire (a round trip per transaction on the hot paths); a connection is pinged
//! before use only when it has been idle longer than [`PoolSettings::check_idle_after`], or
//! when it has been idle since the last connection fault this pool saw (a broken connection,
//! a failed ping), so one fault makes every older idle connection prove itself once.
//! [`Db::begin`] tries once more on a fresh connection when `BEGIN` itself failed on a broken
//! one: nothing was written.

pub mod dialect;
mod group;
mod migrate;
mod types;

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{
    AnyPool, Connection, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

pub use dialect::placeholders;
pub use group::database_error;
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
    /// When this pool last saw a connection fault (PostgreSQL).
    health: Arc<Health>,
    /// SQLite: the use-case transactions that share one commit ([`group`]).
    group: Arc<group::Group>,
}

/// How a pool hands out connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections at most.
    pub max_connections: u32,
    /// PostgreSQL: how long a request waits for a connection before it fails (and answers
    /// 503). While the database is down the pool keeps trying to connect until then, so this
    /// is how long a request hangs during an outage. SQLite waits 10 s: its writers queue for
    /// the one write connection.
    pub acquire_timeout: Duration,
    /// PostgreSQL: a pooled connection idle for longer is pinged before it is used.
    pub check_idle_after: Duration,
}

impl PoolSettings {
    /// `max_connections` with the default timeouts (2 s to acquire, ping after 1 s idle).
    pub fn new(max_connections: u32) -> Self {
        Self {
            max_connections,
            acquire_timeout: Duration::from_secs(2),
            check_idle_after: Duration::from_secs(1),
        }
    }
}

/// When a pool last saw a connection fault, so that connections idle since then are pinged
/// before use.
#[derive(Debug)]
struct Health {
    origin: Instant,
    /// Microseconds from `origin` to the last fault, plus one; 0: none yet.
    fault_at: std::sync::atomic::AtomicU64,
}

impl Health {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            fault_at: Default::default(),
        }
    }

    fn note_fault(&self) {
        let at = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX - 1) + 1;
        self.fault_at.store(at, Ordering::Release);
    }

    /// Whether a connection idle for `idle_for` must be pinged before use: idle longer than
    /// `check_idle_after`, or idle since before the last fault.
    fn must_check(&self, idle_for: Duration, check_idle_after: Duration) -> bool {
        if idle_for >= check_idle_after {
            return true;
        }
        match self.fault_at.load(Ordering::Acquire) {
            0 => false,
            at => {
                let fault = self.origin + Duration::from_micros(at - 1);
                idle_for >= fault.elapsed()
            }
        }
    }
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
    /// Opens a pool of `max_connections` with the default [`PoolSettings`]; an SQLite file is
    /// created if missing and set to WAL with full sync, so an acknowledged write survives a
    /// killed process and a power cut.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, OpenError> {
        Self::connect_with(url, PoolSettings::new(max_connections)).await
    }

    /// [`Db::connect`] with the pool's settings.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Self, OpenError> {
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
        let health = Arc::new(Health::new());
        let settings = PoolSettings {
            max_connections: settings.max_connections.max(1),
            ..settings
        };
        let pool = Self::pool_options(backend, settings, &health)
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => {
                Self::pool_options(
                    backend,
                    PoolSettings {
                        max_connections: 1,
                        ..settings
                    },
                    &health,
                )
                .connect_with(options)
                .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Self {
            pool,
            writer,
            backend,
            wal_restart_due: Arc::default(),
            health,
            group: Arc::default(),
        })
    }

    fn pool_options(
        backend: Backend,
        settings: PoolSettings,
        health: &Arc<Health>,
    ) -> AnyPoolOptions {
        let acquire_timeout = match backend {
            Backend::Sqlite => Duration::from_secs(10),
            Backend::Postgres => settings.acquire_timeout,
        };
        let options = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(acquire_timeout)
            // A ping on every acquire is a round trip per transaction on the hot paths; a
            // connection is pinged only when it may have died meanwhile (`Health`).
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
            });
        if backend == Backend::Sqlite {
            // A file does not go away under an open connection.
            return options;
        }
        let health = health.clone();
        let check_idle_after = settings.check_idle_after;
        options.before_acquire(move |conn, meta| {
            let health = health.clone();
            Box::pin(async move {
                if health.must_check(meta.idle_for, check_idle_after)
                    && let Err(e) = conn.ping().await
                {
                    // Every connection idle since before now may be as dead as this one.
                    health.note_fault();
                    tracing::info!(error = %e, "a pooled connection was broken; taking another");
                    return Err(e);
                }
                Ok(true)
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
    ///
    /// On PostgreSQL, when `BEGIN` failed on a broken connection (one that died in a restart
    /// since it was last used), it is tried once more on another: nothing was written.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = self.writer.acquire().await?;
                if conn.is_in_transaction() {
                    // SQLite rolled a transaction back itself (a full disk, an I/O error) and
                    // sqlx's ROLLBACK after it failed, so sqlx still counts it open and would
                    // refuse every BEGIN on this connection: close it and take a fresh one.
                    tracing::warn!("the write connection was left in a transaction; reopening it");
                    conn.close_on_drop();
                    drop(conn);
                    conn = self.writer.acquire().await?;
                }
                sqlx::Transaction::begin(
                    conn,
                    Some(sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE")),
                )
                .await
            }
            Backend::Postgres => match self.writer.begin().await {
                Err(e) if is_broken_connection(&e) => {
                    self.note_fault(&e);
                    tracing::info!(error = %e, "BEGIN failed on a broken connection; trying another");
                    self.writer
                        .begin()
                        .await
                        .inspect_err(|e| self.note_fault(e))
                }
                other => other.inspect_err(|e| self.note_fault(e)),
            },
        }
    }

    /// Tells the pool that `e` happened on one of its connections: when it is a connection
    /// fault, every connection idle since is pinged before its next use.
    pub fn note_fault(&self, e: &sqlx::Error) {
        if is_broken_connection(e) {
            self.health.note_fault();
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
        if self.backend == Backend::Sqlite {
            return self.grouped(work).await;
        }
        let mut tx = self.begin().await?;
        let out = work(Work {
            tx: &mut tx,
            _scope: std::marker::PhantomData,
        })
        .await?;
        tx.commit().await.inspect_err(|e| self.note_fault(e))?;
        Ok(out)
    }

    /// SQLite's [`Db::transaction`]: `work` runs in its own savepoint of the group transaction
    /// open now (or one it opens), and is answered after the group's commit ([`group`]).
    async fn grouped<'a, T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(Work<'c, 'a>) -> futures_util::future::BoxFuture<'c, Result<T, E>>,
        E: From<sqlx::Error>,
    {
        let mut turn = self.group.turn().await;
        turn.clean().await?;
        if !turn.is_open() {
            let tx = self.begin().await?;
            turn.open(tx);
        }
        let tx = turn.enter().await?;
        let out = work(Work {
            tx,
            _scope: std::marker::PhantomData,
        })
        .await;
        let receive = match turn.leave(out.is_ok()).await {
            Ok(receive) => receive,
            Err(e) => return Err(out.err().unwrap_or_else(|| e.into())),
        };
        turn.settle().await;
        drop(turn);
        let out = out?;
        if let Some(receive) = receive {
            group::answered(&self.group, receive).await?;
        }
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
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .inspect_err(|e| self.note_fault(e))
            .is_ok()
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

/// Rolls back the transaction [`begin_on`] started. SQLite rolls a transaction back itself
/// after some errors (a full disk, an I/O error); one it already rolled back is not an error
/// here, so the caller answers with the error that ended it.
pub async fn rollback_on(conn: &mut Conn) -> Result<(), sqlx::Error> {
    match sqlx::query("rollback").execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.message().contains("no transaction is active") => Ok(()),
        Err(e) => Err(e),
    }
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

/// True when `e` says the connection it ran on is gone: an I/O error, the server closing it
/// (PostgreSQL shutting down or restarting: SQLSTATE 57P01, 57P02), or a connection exception
/// (class 08). A statement that failed so may be tried again on another connection when
/// nothing of it was written.
pub fn is_broken_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| matches!(&*c, "57P01" | "57P02") || c.starts_with("08")),
        _ => false,
    }
}

/// True when `e` means the database cannot be reached just now (a request answers 503): a
/// broken connection ([`is_broken_connection`]), no connection within the acquire timeout
/// (refused while the server is down), a closed pool (the server stopping), PostgreSQL still
/// starting (57P03) or out of connections (53300).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| matches!(&*c, "57P03" | "53300")) =>
        {
            true
        }
        e => is_broken_connection(e),
    }
}

/// True when SQLite gave `db` (its code is a result code, not an SQLSTATE), also when it is
/// told again to the members of a failed group commit.
fn from_sqlite(db: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        || db
            .try_downcast_ref::<group::Echoed>()
            .is_some_and(|e| e.sqlite)
}

/// SQLite's extended result code of `e`, when SQLite gave it.
fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    match e {
        sqlx::Error::Database(db) if from_sqlite(db.as_ref()) => db.code()?.parse().ok(),
        _ => None,
    }
}

/// The SQLSTATE of `e`, when PostgreSQL gave it.
fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if !from_sqlite(db.as_ref()) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// True when `e` says the disk is full: SQLITE_FULL, SQLITE_IOERR_SHMSIZE (the shared-memory
/// file could not grow), PostgreSQL's `disk_full` (53100).
pub fn is_disk_full(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|n| n & 0xff == 13 || n == 4874)
        || sqlstate(e).is_some_and(|c| c == "53100")
}

/// True when `e` says the database cannot be written: SQLITE_READONLY and its extended codes
/// (a read-only file or filesystem), PostgreSQL's `read_only_sql_transaction` (25006, a
/// standby).
pub fn is_read_only(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|n| n & 0xff == 8) || sqlstate(e).is_some_and(|c| c == "25006")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_pinged_when_idle_long_or_idle_since_a_fault() {
        let health = Health::new();
        let after = Duration::from_secs(1);
        assert!(!health.must_check(Duration::from_millis(10), after));
        assert!(health.must_check(Duration::from_secs(2), after));
        health.note_fault();
        std::thread::sleep(Duration::from_millis(5));
        // Idle since before the fault: pinged; used since: not.
        assert!(health.must_check(Duration::from_millis(900), after));
        assert!(!health.must_check(Duration::ZERO, after));
    }

    #[test]
    fn connection_faults_are_told_from_other_errors() {
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(is_broken_connection(&refused));
        assert!(is_unavailable(&refused));
        assert!(!is_broken_connection(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
