//! The statements of sign-in, lockout (`sign_in_attempts`) and sessions, by intent. [`super::service`] decides;
//! these only read and write.

use crate::{app::App, db::Tx, error::AppResult};

/// What sign-in needs to know of an account.
#[derive(sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub password_hash: String,
    /// 0/1 (flags are integers on both engines).
    pub active: i64,
}

/// The account signing in as `login`, if there is one.
pub async fn account(app: &App, login: &str) -> AppResult<Option<Account>> {
    Ok(
        sqlx::query_as("select id, password_hash, active from users where login = $1")
            .bind(login)
            .fetch_optional(app.db.pool())
            .await?,
    )
}

/// Counts a sign-in attempt of `login` from `client` as failed, before its password is checked:
/// one guarded statement, so of many parallel attempts only as many pass as the limit allows.
/// A count whose last failure is at or before `forget_before`, or (with `restart_after_lock`)
/// whose lock has ended, starts again at 1. Returns the count, or `None` while it is locked.
pub async fn count_attempt(
    tx: &mut Tx,
    login: &str,
    client: &str,
    now: i64,
    forget_before: i64,
    restart_after_lock: bool,
) -> AppResult<Option<i64>> {
    sqlx::query(
        "insert into sign_in_attempts (login, client, failures, last_failed_at) values ($1, $2, 0, $3) \
         on conflict (login, client) do nothing",
    )
    .bind(login)
    .bind(client)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let failures: Option<i64> = sqlx::query_scalar(
        "update sign_in_attempts set \
         failures = case when (locked_until <= $3 and $5 = 1) or last_failed_at <= $4 then 1 \
         else failures + 1 end, \
         last_failed_at = $3, locked_until = null \
         where login = $1 and client = $2 and (locked_until is null or locked_until <= $3) \
         returning failures",
    )
    .bind(login)
    .bind(client)
    .bind(now)
    .bind(forget_before)
    .bind(i64::from(restart_after_lock))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(failures)
}

/// Until when `login` is locked for `client` (µs), if it is.
pub async fn locked_until(tx: &mut Tx, login: &str, client: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "select locked_until from sign_in_attempts where login = $1 and client = $2",
    )
    .bind(login)
    .bind(client)
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// Locks `login` for `client` until `until` (in the transaction that counted the attempt).
pub async fn lock_attempts(tx: &mut Tx, login: &str, client: &str, until: i64) -> AppResult<()> {
    sqlx::query("update sign_in_attempts set locked_until = $3 where login = $1 and client = $2")
        .bind(login)
        .bind(client)
        .bind(until)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Forgets the failed attempts of `login` from these clients after a good sign-in.
pub async fn forget_attempts(tx: &mut Tx, login: &str, clients: &[&str]) -> AppResult<()> {
    for client in clients {
        sqlx::query("delete from sign_in_attempts where login = $1 and client = $2")
            .bind(login)
            .bind(client)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The centers of an account, for the audit entry of its lockout.
pub async fn user_center_ids(tx: &mut Tx, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select center_id from user_centers where user_id = $1 order by center_id",
    )
    .bind(user_id)
    .fetch_all(&mut **tx)
    .await?)
}

/// Deletes the sessions that ended before `now`.
pub async fn delete_expired_sessions(tx: &mut Tx, now: i64) -> AppResult<()> {
    sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores a session by the hash of its secret.
pub async fn insert_session(
    tx: &mut Tx,
    token_hash: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "insert into sessions (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends the session with that hash, if any.
pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> AppResult<()> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whose session the secret opens.
pub async fn session_user(app: &App, secret: &str) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar("select user_id from sessions where token_hash = $1")
            .bind(super::secret_hash(secret))
            .fetch_one(app.db.pool())
            .await?,
    )
}

/// The codes of these centers, in the same order.
pub async fn center_codes(app: &App, ids: &[i64]) -> AppResult<Vec<String>> {
    let mut codes = Vec::with_capacity(ids.len());
    for id in ids {
        let code: String = sqlx::query_scalar("select code from centers where id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await?;
        codes.push(code);
    }
    Ok(codes)
}
