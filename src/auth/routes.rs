//! Sign-in and sign-out (page and API), `GET /api/v1/me`, and API tokens.

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CsrfToken, CurrentUser, Role, SESSION_COOKIE, queries, service};
use crate::{
    app::App,
    error::{AppError, AppResult},
    extract::{ApiJson, ClientAddr, Fields, Query},
    web::{Chrome, PageResult, render, render_status},
};

fn session_cookie(app: &App, secret: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie made of hex and ASCII")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Where sign-in leads when no page asked for it: `/start`, which sends each role to the page
/// that fits it (a clerk to their desk, a manager to the hall …).
const LANDING: &str = "/start";

/// Only same-site paths are followed after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        LANDING.to_owned()
    }
}

async fn login_page(chrome: Chrome, Query(q): Query<NextQuery>) -> PageResult {
    render(&LoginPage {
        chrome,
        next: safe_next(q.next.as_deref().unwrap_or(LANDING)),
        login: String::new(),
        error: None,
    })
}

async fn login_submit(
    State(app): State<Arc<App>>,
    ClientAddr(client): ClientAddr,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    let login = form.get("login").to_owned();
    let next = safe_next(form.get("next"));
    match service::sign_in(&app, &login, form.get("password"), client).await {
        Ok(secret) => {
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&app, &secret, app.config.session_hours * 3600),
            );
            Ok(r)
        }
        Err(
            e @ (AppError::Invalid(_)
            | AppError::TooMany(_)
            | AppError::Locked { .. }
            | AppError::Busy { .. }),
        ) => {
            let mut page = render_status(
                e.status(),
                &LoginPage {
                    chrome: Chrome::new(None, csrf),
                    next,
                    login: crate::error::quote(&login),
                    error: Some(e.public_message()),
                },
            )?;
            if let Some(secs) = e.retry_after() {
                page.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout_submit(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    service::end_session(&app, &headers).await?;
    let mut r = Redirect::to("/").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&app, "", 0));
    Ok(r)
}

#[derive(Deserialize, ToSchema)]
pub struct LoginInput {
    pub login: String,
    pub password: String,
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Codes of the user's centers.
    pub centers: Vec<String>,
}

async fn me_of(app: &App, u: &CurrentUser) -> AppResult<Me> {
    let centers = queries::center_codes(app, &u.center_ids).await?;
    Ok(Me {
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.clone(),
        centers,
    })
}

/// Signs in and sets the session cookie (for browsers and scripts that use cookies).
#[utoipa::path(post, path = "/api/v1/login", summary = "登录（设置会话 Cookie）", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = Me), (status = 422, description = "用户名或密码错误"), (status = 429, description = "该登录名在此地址已锁定，或账号暂停登录（Retry-After）"),
        (status = 503, description = "同时登录的人过多，稍后再试（Retry-After）")))]
pub async fn api_login(
    State(app): State<Arc<App>>,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<LoginInput>,
) -> AppResult<Response> {
    let secret = service::sign_in(&app, &input.login, &input.password, client).await?;
    let user_id = queries::session_user(&app, &secret).await?;
    let user = super::extract::load_user(&app, user_id, super::extract::AuthVia::Session)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut r = Json(me_of(&app, &user).await?).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(&app, &secret, app.config.session_hours * 3600),
    );
    Ok(r)
}

/// Ends the session.
#[utoipa::path(post, path = "/api/v1/logout", summary = "退出登录", tag = "auth", responses((status = 204)))]
pub async fn api_logout(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    service::end_session(&app, &headers).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&app, "", 0));
    Ok(r)
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", summary = "当前用户", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(app): State<Arc<App>>, user: CurrentUser) -> AppResult<Json<Me>> {
    Ok(Json(me_of(&app, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenInput {
    /// A label, e.g. "1号取号机".
    pub name: String,
    /// Whose token; a system admin may name anyone, others get their own.
    pub login: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NewToken {
    /// The secret, shown only this once: send it as `Authorization: Bearer …`.
    pub token: String,
}

/// Creates an API token.
#[utoipa::path(post, path = "/api/v1/tokens", summary = "创建 API 令牌", tag = "auth", request_body = TokenInput,
    responses((status = 201, body = NewToken)))]
pub async fn create_token(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<TokenInput>,
) -> AppResult<impl IntoResponse> {
    let token =
        super::service::create_token(&app, &user, input.login.as_deref(), &input.name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { token })))
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/api/v1/login", post(api_login))
        .route("/api/v1/logout", post(api_logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tokens", post(create_token))
}
