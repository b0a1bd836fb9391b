//! Auth's use cases: signing in (with the lockout) and out, and API tokens. Each decides,
//! then writes in one transaction through [`super::queries`]; the API and the pages both
//! call them.

use super::{
    CurrentUser, SESSION_COOKIE, password, policy, queries, random_hex, secret_hash, tokens,
};
use crate::{
    app::App,
    audit::Actor,
    error::{AppError, AppResult},
    ids::TokenId,
};

/// Refuses the token pages to anyone but a system admin.
pub fn require_token_admin(user: &CurrentUser) -> AppResult<()> {
    if policy::is_admin(user) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有系统管理员可以管理 API 令牌".into(),
        ))
    }
}

/// Creates an API token for `login` (the user's own when `None`); only a system admin may
/// create one for someone else. Returns the secret, shown once.
pub async fn create_token(
    app: &App,
    user: &CurrentUser,
    login: Option<&str>,
    name: &str,
) -> AppResult<String> {
    let login = match login {
        Some(l) if l != user.login => {
            if !policy::is_admin(user) {
                return Err(AppError::Forbidden(
                    "只有系统管理员可以为他人创建令牌".into(),
                ));
            }
            l
        }
        _ => user.login.as_str(),
    };
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                tokens::create(
                    &mut tx,
                    &Actor::from(user),
                    login,
                    name,
                    app.clock.now_micros(),
                )
                .await
            })
        })
        .await
}

/// Revokes a token (system admin); revoking twice is harmless.
pub async fn revoke_token(app: &App, user: &CurrentUser, id: TokenId) -> AppResult<()> {
    require_token_admin(user)?;
    let mut tx = app.db.begin().await?;
    tokens::revoke(
        &mut tx,
        &Actor::from(user),
        id.get(),
        app.clock.now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a login and password; on success opens a session and returns its secret.
/// Failures count towards a lockout (`lockout_after` in a row locks for `lockout_minutes`).
pub async fn sign_in(app: &App, login: &str, plain: &str) -> AppResult<String> {
    let now = app.clock.now_micros();
    let refused = || AppError::Invalid("用户名或密码错误".into());
    let account = queries::account(app, login.trim()).await?;
    let (user_id, hash, active, locked_until) = match account {
        Some(a) => (Some(a.id), a.password_hash, a.active != 0, a.locked_until),
        None => (None, app.decoy_hash.clone(), false, None),
    };
    if let Some(until) = locked_until.filter(|u| *u > now) {
        let minutes = ((until - now) / 60_000_000).max(1);
        return Err(AppError::TooMany(format!(
            "该账号因连续登录失败已被锁定，请 {minutes} 分钟后再试，或请管理员重置密码"
        )));
    }
    let candidate = plain.to_owned();
    let ok = tokio::task::spawn_blocking(move || password::verify(&candidate, &hash)).await?;
    let Some(user_id) = user_id.filter(|_| ok && active) else {
        if let Some(id) = user_id {
            // Writes go through the writer (on SQLite the one write connection).
            let mut tx = app.db.begin().await?;
            let failed = queries::count_failure(&mut tx, id).await?;
            if failed >= app.config.lockout_after {
                let until = now + app.config.lockout_minutes * 60_000_000;
                queries::lock(&mut tx, id, until).await?;
                tracing::warn!(login, "account locked after repeated failed sign-ins");
            }
            tx.commit().await?;
        }
        return Err(refused());
    };
    let secret = random_hex(32);
    let expires_at = now + app.config.session_hours * 3_600_000_000;
    let mut tx = app.db.begin().await?;
    queries::clear_failures(&mut tx, user_id).await?;
    queries::delete_expired_sessions(&mut tx, now).await?;
    queries::insert_session(&mut tx, &secret_hash(&secret), user_id, now, expires_at).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Ends the session whose cookie the request carries, if any.
pub async fn end_session(app: &App, headers: &axum::http::HeaderMap) -> AppResult<()> {
    let secret = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned());
    if let Some(s) = secret {
        let mut tx = app.db.begin().await?;
        queries::delete_session(&mut tx, &secret_hash(&s)).await?;
        tx.commit().await?;
    }
    Ok(())
}
