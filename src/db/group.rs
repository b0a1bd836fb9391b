//! Group commit for SQLite's use-case transactions ([`Db::transaction`](super::Db::transaction)).
//!
//! SQLite has one writer, and every commit waits for the disk (`synchronous = full`): one
//! fsync per use case bounded acceptances, bookings and the other use cases to what the
//! disk flushes per second, however little each one wrote. So use cases that queue for the
//! writer while one runs share its transaction: each runs inside its own savepoint (an `Err`
//! rolls back to it, so a refused request still changes nothing), and the last of a burst
//! commits for all. Every caller is answered only after the commit, so an acknowledged
//! change is on disk, and when the commit fails every member of the group gets the error.
//!
//! A use case whose future is dropped halfway (a client that went away) leaves its savepoint
//! open; the next member rolls back to it before it starts, so no half of a use case is ever
//! committed. A member waiting for a commit that nobody is left to make commits itself after
//! a few milliseconds.
//!
//! PostgreSQL needs none of this: its transactions run side by side and share WAL flushes.

use std::{
    borrow::Cow,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use sqlx::error::ErrorKind;
use tokio::sync::{Mutex, oneshot};

use super::Tx;

/// Members of one group at most: bounds how long the first one waits for its answer.
const MAX_MEMBERS: usize = 64;
/// How long a group stays open at most, from its `BEGIN`.
const MAX_OPEN: Duration = Duration::from_millis(10);
/// How long a member waits for the commit before it makes the commit itself.
const ORPHAN_AFTER: Duration = Duration::from_millis(20);

/// The open group transaction and the members waiting for its commit.
#[derive(Debug, Default)]
pub(super) struct Group {
    slot: Mutex<Option<Open>>,
    /// Callers waiting for the slot: while any is, the holder leaves the commit to them.
    queued: AtomicUsize,
}

#[derive(Debug)]
pub(super) struct Open {
    tx: Tx,
    began: Instant,
    /// Set while a member's work runs in its savepoint; still set when that work was dropped.
    in_work: bool,
    members: Vec<oneshot::Sender<Result<(), sqlx::Error>>>,
}

/// The savepoint each member works in.
const SAVEPOINT: &str = "savepoint yc_member";
const ROLLBACK: &str = "rollback to yc_member";
const RELEASE: &str = "release yc_member";

/// A member's hold on the slot. Counts the caller as queued until it has the slot.
pub(super) struct Turn<'g> {
    group: &'g Group,
    guard: tokio::sync::MutexGuard<'g, Option<Open>>,
}

impl Group {
    /// Waits for the slot.
    pub(super) async fn turn(&self) -> Turn<'_> {
        struct Queued<'g>(&'g AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let queued = Queued(&self.queued);
        let guard = self.slot.lock().await;
        drop(queued);
        Turn { group: self, guard }
    }
}

impl Turn<'_> {
    /// True while a group transaction is open.
    pub(super) fn is_open(&self) -> bool {
        self.guard.is_some()
    }

    /// Opens the group with `tx` when none is open.
    pub(super) fn open(&mut self, tx: Tx) {
        *self.guard = Some(Open {
            tx,
            began: Instant::now(),
            in_work: false,
            members: Vec::new(),
        });
    }

    /// Rolls back what a dropped member left in its savepoint; `Err` when the transaction is
    /// gone (then the group has been failed and the slot is empty).
    pub(super) async fn clean(&mut self) -> Result<(), sqlx::Error> {
        let Some(open) = self.guard.as_mut() else {
            return Ok(());
        };
        if !open.in_work {
            return Ok(());
        }
        tracing::info!("a use case was dropped inside the group transaction; rolling it back");
        let undone = async {
            sqlx::query(ROLLBACK).execute(&mut *open.tx).await?;
            sqlx::query(RELEASE).execute(&mut *open.tx).await
        }
        .await;
        open.in_work = false;
        if let Err(e) = undone {
            self.fail(&e);
            return Err(e);
        }
        Ok(())
    }

    /// Starts a member's savepoint.
    pub(super) async fn enter(&mut self) -> Result<&mut Tx, sqlx::Error> {
        let open = self.guard.as_mut().expect("the group is open");
        if let Err(e) = sqlx::query(SAVEPOINT).execute(&mut *open.tx).await {
            self.fail(&e);
            return Err(e);
        }
        let open = self.guard.as_mut().expect("the group is open");
        open.in_work = true;
        Ok(&mut open.tx)
    }

    /// Ends a member's work: kept (released into the group, answered at the commit) or rolled
    /// back to its savepoint. Returns what the member waits on for the commit.
    pub(super) async fn leave(
        &mut self,
        keep: bool,
    ) -> Result<Option<oneshot::Receiver<Result<(), sqlx::Error>>>, sqlx::Error> {
        let open = self.guard.as_mut().expect("the group is open");
        let ended = if keep {
            sqlx::query(RELEASE).execute(&mut *open.tx).await
        } else {
            match sqlx::query(ROLLBACK).execute(&mut *open.tx).await {
                Ok(_) => sqlx::query(RELEASE).execute(&mut *open.tx).await,
                Err(e) => Err(e),
            }
        };
        open.in_work = false;
        if let Err(e) = ended {
            // SQLite ended the whole transaction itself (a full disk, an I/O error).
            self.fail(&e);
            return Err(e);
        }
        if !keep {
            return Ok(None);
        }
        let (send, receive) = oneshot::channel();
        open.members.push(send);
        Ok(Some(receive))
    }

    /// Commits now unless another caller is queued to carry on the group, which is neither
    /// full nor old. True when it committed (or nothing was open).
    pub(super) async fn settle(&mut self) -> bool {
        let Some(open) = self.guard.as_ref() else {
            return true;
        };
        let carry_on = self.group.queued.load(Ordering::Acquire) > 0
            && open.members.len() < MAX_MEMBERS
            && open.began.elapsed() < MAX_OPEN;
        if carry_on && !open.members.is_empty() {
            return false;
        }
        self.commit().await;
        true
    }

    /// Commits the open group and answers its members. The commit runs in a task of its own,
    /// so a committing member that is dropped meanwhile cannot leave the others unanswered or
    /// answered wrongly.
    pub(super) async fn commit(&mut self) {
        let Some(open) = self.guard.take() else {
            return;
        };
        let Open { tx, members, .. } = open;
        let done = tokio::spawn(async move {
            match tx.commit().await {
                Ok(()) => {
                    for m in members {
                        let _ = m.send(Ok(()));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, members = members.len(), "group commit failed");
                    for m in members {
                        let _ = m.send(Err(echo(&e)));
                    }
                }
            }
        });
        // Holding the slot until then keeps the next group from starting on this connection.
        let _ = done.await;
    }

    /// The transaction is lost: every member waiting for it gets `e`.
    fn fail(&mut self, e: &sqlx::Error) {
        if let Some(open) = self.guard.take() {
            for m in open.members {
                let _ = m.send(Err(echo(e)));
            }
            // Dropping the transaction rolls back whatever is left of it.
            drop(open.tx);
        }
    }
}

/// Waits for the commit of the group a member joined; commits it itself when nobody else
/// has after [`ORPHAN_AFTER`] (the member that should have was dropped).
pub(super) async fn answered(
    group: &Group,
    mut receive: oneshot::Receiver<Result<(), sqlx::Error>>,
) -> Result<(), sqlx::Error> {
    loop {
        match tokio::time::timeout(ORPHAN_AFTER, &mut receive).await {
            Ok(Ok(answer)) => return answer,
            Ok(Err(_)) => {
                return Err(sqlx::Error::Protocol(
                    "the group transaction ended without an answer".into(),
                ));
            }
            Err(_) => {
                let mut turn = group.turn().await;
                if turn.clean().await.is_ok() {
                    turn.commit().await;
                }
            }
        }
    }
}

/// The same error again, for each member of a failed group: the commit's error is one value
/// and every member answers with it (a full disk is 507 for all of them, not only for one).
fn echo(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::Database(db) => database_error(
            db.message(),
            db.code().as_deref(),
            copy_kind(&db.kind()),
            db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some(),
        ),
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// `ErrorKind` is neither `Clone` nor exhaustive: the kinds we know, else `Other`.
fn copy_kind(kind: &ErrorKind) -> ErrorKind {
    match kind {
        ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
        ErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
        ErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
        ErrorKind::CheckViolation => ErrorKind::CheckViolation,
        _ => ErrorKind::Other,
    }
}

/// A database error made from its parts: `message`, `code` (SQLite's result code when
/// `sqlite`, else an SQLSTATE) and `kind`. The errors [`crate::db`] tells apart
/// (`is_disk_full`, `is_unavailable`, …) read it as they read the engine's own.
pub fn database_error(
    message: &str,
    code: Option<&str>,
    kind: ErrorKind,
    sqlite: bool,
) -> sqlx::Error {
    sqlx::Error::Database(Box::new(Echoed {
        message: message.to_owned(),
        code: code.map(str::to_owned),
        kind,
        sqlite,
    }))
}

/// A database error made from its parts ([`database_error`]).
#[derive(Debug)]
pub(super) struct Echoed {
    message: String,
    code: Option<String>,
    kind: ErrorKind,
    /// SQLite gave it (its codes are SQLite's result codes, not SQLSTATEs).
    pub(super) sqlite: bool,
}

impl std::fmt::Display for Echoed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Echoed {}

impl sqlx::error::DatabaseError for Echoed {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.code.as_deref().map(Cow::Borrowed)
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        copy_kind(&self.kind)
    }
}
