//! The API tokens page (system admin): every token, a new one (its secret shown once), revoke.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, done, refusal};
use crate::{
    app::App,
    auth::{CsrfToken, PageUser, service, tokens},
    error::AppResult,
    extract::Fields,
    ids::TokenId,
    web::{Chrome, PageResult, render, render_status},
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
        chrome: Chrome::new(Some(viewer.user), viewer.csrf),
        tokens: tokens::list(app.db.pool()).await?,
        new_token,
        error,
        ok,
    })
}

pub(super) async fn tokens_index(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(f): Query<Flash>,
) -> PageResult {
    service::require_token_admin(&user)?;
    render(&tokens_page(&app, Viewer { user, csrf }, None, None, f.ok).await?)
}

pub(super) async fn token_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    service::require_token_admin(&user)?;
    let result =
        service::create_token(&app, &user, Some(form.get("login")), form.get("name")).await;
    let viewer = Viewer { user, csrf };
    match result {
        Ok(t) => render(&tokens_page(&app, viewer, Some(t), None, None).await?),
        Err(e) => {
            let (status, msg) = refusal(e, Shown::InvalidOrMissingAs422)?;
            render_status(
                status,
                &tokens_page(&app, viewer, None, Some(msg), None).await?,
            )
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
