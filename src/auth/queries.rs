//! The statements of sign-in, lockout and sessions, by intent. [`super::service`] decides;
//! these only read and write.

use crate::{app::App, db::Tx, error::AppResult};

/// What sign-in needs to know of an account.
#[derive(sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub password_hash: String,
    /// 0/1 (flags are integers on both engines).
    pub active: i64,
    /// µs; the account refuses sign-ins until then.
    pub locked_until: Option<i64>,
}

/// The account signing in as `login`, if there is one.
pub async fn account(app: &App, login: &str) -> AppResult<Option<Account>> {
    Ok(
        sqlx::query_as(
            "select id, password_hash, active, locked_until from users where login = $1",
        )
        .bind(login)
        .fetch_optional(app.db.pool())
        .await?,
    )
}

/// Counts one more failed sign-in; returns the count in a row.
pub async fn count_failure(tx: &mut Tx, user_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "update users set failed_logins = failed_logins + 1 where id = $1 returning failed_logins",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// Locks the account until `until` and starts counting failures again.
pub async fn lock(tx: &mut Tx, user_id: i64, until: i64) -> AppResult<()> {
    sqlx::query("update users set locked_until = $1, failed_logins = 0 where id = $2")
        .bind(until)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Forgets failed sign-ins and any lock after a good one.
pub async fn clear_failures(tx: &mut Tx, user_id: i64) -> AppResult<()> {
    sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
