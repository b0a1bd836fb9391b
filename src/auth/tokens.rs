//! API tokens for devices (kiosk, lobby display, rating pad) and integrations.
//! The token is shown once; the database keeps only its SHA-256.

use super::{random_hex, secret_hash};
use crate::{
    audit::{self, Actor},
    db::Tx,
    error::{AppError, AppResult},
    ids::TokenId,
};

/// Prefix that makes a leaked token easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "yct_";

/// A token as listed (never its secret).
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: TokenId,
    pub login: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Creates a token for `login`; returns the secret, which is shown once.
pub async fn create(
    tx: &mut Tx,
    actor: &Actor,
    login: &str,
    name: &str,
    now: i64,
) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::Invalid(
            "令牌名称不能为空且不超过 64 个字符".into(),
        ));
    }
    let user_id: Option<i64> =
        sqlx::query_scalar("select id from users where login = $1 and active = 1")
            .bind(login)
            .fetch_optional(&mut **tx)
            .await?;
    let user_id = user_id.ok_or_else(|| {
        AppError::NotFound(format!("找不到启用的用户“{}”", crate::error::quote(login)))
    })?;
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(24));
    let id: i64 = sqlx::query_scalar(
        "insert into api_tokens (user_id, name, token_hash, created_at) values ($1, $2, $3, $4) returning id",
    )
    .bind(user_id)
    .bind(name)
    .bind(secret_hash(&secret))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(
        tx,
        actor,
        "create",
        "api_token",
        &id.to_string(),
        None,
        None,
        Some(serde_json::json!({"login": login, "name": name})),
        now,
    )
    .await?;
    Ok(secret)
}

/// Revokes a token; revoking twice is harmless.
pub async fn revoke(tx: &mut Tx, actor: &Actor, id: i64, now: i64) -> AppResult<()> {
    let done =
        sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() == 1 {
        audit::record(
            tx,
            actor,
            "revoke",
            "api_token",
            &id.to_string(),
            None,
            None,
            None,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Every token, newest first.
pub async fn list(pool: &sqlx::AnyPool) -> AppResult<Vec<TokenInfo>> {
    Ok(sqlx::query_as(
        "select t.id, u.login, t.name, t.created_at, t.last_used_at, t.revoked_at \
         from api_tokens t join users u on u.id = t.user_id order by t.id desc",
    )
    .fetch_all(pool)
    .await?)
}

impl TokenInfo {
    pub fn created(&self) -> String {
        crate::clock::format_local(self.created_at)
    }

    pub fn last_used(&self) -> String {
        self.last_used_at
            .map(crate::clock::format_local)
            .unwrap_or_else(|| "从未使用".into())
    }
}
