//! The API tokens page (system admin): every token, a new one (its secret shown once), revoke.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, done, refused};
use crate::{
    app::App,
    auth::{PageUser, service, tokens},
    error::AppResult,
    extract::Fields,
    ids::TokenId,
    web::{Chrome, PageResult, render},
};

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<tokens::TokenInfo>,
    new_token: Option<String>,
    error: Option<String>,
    ok: Option<String>,
}

async fn tokens_page(
    app: &App,
    viewer: Viewer,
    new_token: Option<String>,
    error: Option<String>,
    ok: Option<String>,
) -> AppResult<TokensPage> {
    Ok(TokensPage {
        chrome: viewer.chrome(),
        tokens: tokens::list(app.db.pool()).await?,
        new_token,
        error,
        ok,
    })
}

pub(super) async fn tokens_index(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<Flash>,
) -> PageResult {
    service::require_token_admin(&viewer.user)?;
    render(&tokens_page(&app, viewer, None, None, f.ok).await?)
}

pub(super) async fn token_create(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    form: Fields,
) -> PageResult {
    service::require_token_admin(&viewer.user)?;
    let (login, name) = (Some(form.get("login")), form.get("name"));
    match service::create_token(&app, &viewer.user, login, name).await {
        Ok(t) => render(&tokens_page(&app, viewer, Some(t), None, None).await?),
        Err(e) => {
            refused(e, Shown::InvalidOrMissingAs422, async |msg| {
                tokens_page(&app, viewer, None, Some(msg), None).await
            })
            .await
        }
    }
}

pub(super) async fn token_revoke(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Path(id): Path<TokenId>,
) -> PageResult {
    service::revoke_token(&app, &user, id).await?;
    done("/admin/tokens", "令牌已吊销")
}
