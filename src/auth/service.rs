//! Auth's use cases: API tokens. Each decides who may, writes and audits in one transaction;
//! the API and the admin pages both call them.

use super::{CurrentUser, policy, tokens};
use crate::{
    app::App,
    audit::Actor,
    error::{AppError, AppResult},
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
    let mut tx = app.db.begin().await?;
    let token = tokens::create(
        &mut tx,
        &Actor::from(user),
        login,
        name,
        app.clock.now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Revokes a token (system admin); revoking twice is harmless.
pub async fn revoke_token(app: &App, user: &CurrentUser, id: i64) -> AppResult<()> {
    require_token_admin(user)?;
    let mut tx = app.db.begin().await?;
    tokens::revoke(&mut tx, &Actor::from(user), id, app.clock.now_micros()).await?;
    tx.commit().await?;
    Ok(())
}
