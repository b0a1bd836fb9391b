//! Sign-in and sign-out (page and API), `GET /api/v1/me`, and API tokens.

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::{
    CsrfToken, CurrentUser, MaybeUser, Role, SESSION_COOKIE, password, random_hex, secret_hash,
};
use crate::{
    app::App,
    error::{AppError, AppResult},
    extract::{ApiJson, Fields},
    web::{Chrome, PageResult, render, render_status},
};

/// Checks a login and password; on success opens a session and returns its secret.
/// Failures count towards a lockout (`lockout_after` in a row locks for `lockout_minutes`).
pub async fn sign_in(app: &App, login: &str, plain: &str) -> AppResult<String> {
    let now = app.clock.now_micros();
    let refused = || AppError::Invalid("用户名或密码错误".into());
    let row =
        sqlx::query("select id, password_hash, active, locked_until from users where login = $1")
            .bind(login.trim())
            .fetch_optional(app.db.pool())
            .await?;
    let (user_id, hash, active, locked_until) = match &row {
        Some(r) => (
            Some(r.try_get::<i64, _>(0)?),
            r.try_get::<String, _>(1)?,
            r.try_get::<i64, _>(2)? != 0,
            r.try_get::<Option<i64>, _>(3)?,
        ),
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
            let failed: i64 = sqlx::query_scalar(
                "update users set failed_logins = failed_logins + 1 where id = $1 returning failed_logins",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if failed >= app.config.lockout_after {
                let until = now + app.config.lockout_minutes * 60_000_000;
                sqlx::query("update users set locked_until = $1, failed_logins = 0 where id = $2")
                    .bind(until)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tracing::warn!(login, "account locked after repeated failed sign-ins");
            }
            tx.commit().await?;
        }
        return Err(refused());
    };
    let secret = random_hex(32);
    let mut tx = app.db.begin().await?;
    sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into sessions (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)")
        .bind(secret_hash(&secret))
        .bind(user_id)
        .bind(now)
        .bind(now + app.config.session_hours * 3_600_000_000)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(secret)
}

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

async fn end_session(app: &App, headers: &axum::http::HeaderMap) -> AppResult<()> {
    let secret = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned());
    if let Some(s) = secret {
        let mut tx = app.db.begin().await?;
        sqlx::query("delete from sessions where token_hash = $1")
            .bind(secret_hash(&s))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
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

/// Only same-site paths are followed after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

async fn login_page(
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(q): Query<NextQuery>,
) -> PageResult {
    render(&LoginPage {
        chrome: Chrome::new(user, csrf),
        next: safe_next(q.next.as_deref().unwrap_or("/admin")),
        login: String::new(),
        error: None,
    })
}

async fn login_submit(State(app): State<Arc<App>>, csrf: CsrfToken, form: Fields) -> PageResult {
    let login = form.get("login").to_owned();
    let next = safe_next(form.get("next"));
    match sign_in(&app, &login, form.get("password")).await {
        Ok(secret) => {
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&app, &secret, app.config.session_hours * 3600),
            );
            Ok(r)
        }
        Err(e @ (AppError::Invalid(_) | AppError::TooMany(_))) => render_status(
            e.status(),
            &LoginPage {
                chrome: Chrome::new(None, csrf),
                next,
                login,
                error: Some(e.public_message()),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

async fn logout_submit(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    end_session(&app, &headers).await?;
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
    let mut centers = Vec::new();
    for id in &u.center_ids {
        let code: String = sqlx::query_scalar("select code from centers where id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await?;
        centers.push(code);
    }
    Ok(Me {
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.clone(),
        centers,
    })
}

/// Signs in and sets the session cookie (for browsers and scripts that use cookies).
#[utoipa::path(post, path = "/api/v1/login", summary = "登录（设置会话 Cookie）", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = Me), (status = 422, description = "用户名或密码错误"), (status = 429, description = "账号已锁定")))]
pub async fn api_login(
    State(app): State<Arc<App>>,
    ApiJson(input): ApiJson<LoginInput>,
) -> AppResult<Response> {
    let secret = sign_in(&app, &input.login, &input.password).await?;
    let user_id: i64 = sqlx::query_scalar("select user_id from sessions where token_hash = $1")
        .bind(secret_hash(&secret))
        .fetch_one(app.db.pool())
        .await?;
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
    end_session(&app, &headers).await?;
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
