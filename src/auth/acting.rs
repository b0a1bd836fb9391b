//! The caller of a window action. Every call-next, finish … would otherwise read the account
//! behind its token or session before it is queued for the writer; instead the account is
//! kept a second per credential ([`App::auth_cache`], emptied by any change on this server),
//! and the credential itself is checked again by the writer in the action's own transaction
//! ([`valid_credentials`]), so a revoked token or an ended session acts no more from that
//! moment, on every server.

use std::{collections::HashSet, sync::Arc};

use axum::{extract::FromRequestParts, http::request::Parts};
use sqlx::Row;

use super::{
    CurrentUser, SESSION_COOKIE,
    extract::{bearer, cookie, resolve_fresh},
    secret_hash,
};
use crate::{
    app::App,
    db::{Backend, Conn},
    error::AppError,
};

/// What a request proved itself with: the hash of its token or of its session secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Credential {
    Token(String),
    Session(String),
}

impl Credential {
    fn of(parts: &Parts) -> Option<Self> {
        if let Some(t) = bearer(parts) {
            return Some(Self::Token(secret_hash(t)));
        }
        cookie(parts, SESSION_COOKIE).map(|s| Self::Session(secret_hash(s)))
    }
}

/// The signed-in caller of a window action and the credential the writer checks again.
#[derive(Clone, Debug)]
pub struct Acting {
    pub user: CurrentUser,
    pub credential: Credential,
}

impl FromRequestParts<Arc<App>> for Acting {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let credential = Credential::of(parts).ok_or(AppError::Unauthorized)?;
        let generation = app.generation.current();
        if let Some(user) = app.auth_cache.get(&credential, generation) {
            return Ok(Self { user, credential });
        }
        let user = resolve_fresh(parts, app)
            .await?
            .ok_or(AppError::Unauthorized)?;
        app.auth_cache
            .put(credential.clone(), user.clone(), generation);
        Ok(Self { user, credential })
    }
}

/// Of `credentials`, those still good at `now` (token not revoked, session not ended,
/// account active), read in the caller's transaction with one statement.
pub async fn valid_credentials(
    conn: &mut Conn,
    backend: Backend,
    credentials: &[&Credential],
    now: i64,
) -> Result<HashSet<Credential>, sqlx::Error> {
    let (mut tokens, mut sessions) = (Vec::new(), Vec::new());
    for c in credentials {
        match c {
            Credential::Token(h) => tokens.push(h.as_str()),
            Credential::Session(h) => sessions.push(h.as_str()),
        }
    }
    let set = |param: usize| crate::db::dialect::text_set(backend, param);
    let sql = format!(
        "select 't' as kind, t.token_hash as hash from api_tokens t join users u on u.id = t.user_id \
         where t.revoked_at is null and u.active = 1 and t.token_hash in {} \
         union all \
         select 's', s.token_hash from sessions s join users u on u.id = s.user_id \
         where s.expires_at > $3 and u.active = 1 and s.token_hash in {}",
        set(1),
        set(2)
    );
    let json = |v: &[&str]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json(&tokens))
        .bind(json(&sessions))
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let hash: String = r.try_get("hash")?;
            Ok(if kind == "t" {
                Credential::Token(hash)
            } else {
                Credential::Session(hash)
            })
        })
        .collect()
}
