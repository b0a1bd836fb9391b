//! Extractors that tell who sent a request: an API token (`Authorization: Bearer`) or a
//! session cookie. Handlers ask for [`CurrentUser`] (API: 401 when absent), [`PageUser`]
//! (pages: redirect to sign-in) or [`MaybeUser`] (public pages that greet a signed-in user).

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
    response::{IntoResponse, Response},
};
use sqlx::Row;

use super::{CsrfToken, Role, secret_hash};
use crate::{
    app::App,
    error::AppError,
    ids::UserId,
    web::{Chrome, PageError},
};

/// Name of the session cookie (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "yc_session";

/// How the user proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVia {
    Session,
    Token,
}

/// A signed-in person (or the person a device token belongs to).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Centers the user belongs to (R1.1). A system admin sees all regardless.
    pub center_ids: Vec<i64>,
    pub via: AuthVia,
}

impl CurrentUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        super::policy::is_admin(self)
    }

    /// May see the center's internal records.
    pub fn can_see_center(&self, center_id: i64) -> bool {
        super::policy::can_see_center(self, center_id)
    }

    /// May change the center's zones, windows, staff and posts.
    pub fn can_manage_center(&self, center_id: i64) -> bool {
        super::policy::can_manage_center(self, center_id)
    }

    /// May manage anything at all (shows the admin menu).
    pub fn is_manager(&self) -> bool {
        super::policy::is_manager(self)
    }

    /// Refuses unless the user may manage `center_id`.
    pub fn require_manage(&self, center_id: i64) -> Result<(), AppError> {
        if self.can_manage_center(center_id) {
            Ok(())
        } else if self.can_see_center(center_id) {
            Err(AppError::forbidden())
        } else {
            Err(AppError::NotFound("找不到该中心".into()))
        }
    }

    /// Roles as Chinese labels, for the header.
    pub fn role_labels(&self) -> String {
        Role::labels(&self.roles)
    }
}

/// Reads a cookie's value from the request headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The columns [`user_from_row`] reads: the user with roles and centers in one statement
/// (every API call resolves its caller, so this is on the hot path of each window action).
const USER_COLUMNS: &str = "u.id, u.login, u.display_name, \
    (select string_agg(r.role, ',') from user_roles r where r.user_id = u.id) as roles, \
    (select string_agg(cast(uc.center_id as text), ',') from user_centers uc where uc.user_id = u.id) as centers";

fn user_from_row(row: &sqlx::any::AnyRow, via: AuthVia) -> Result<CurrentUser, AppError> {
    let list = |col: &str| -> Result<String, sqlx::Error> {
        Ok(row.try_get::<Option<String>, _>(col)?.unwrap_or_default())
    };
    let mut roles: Vec<Role> = list("roles")?.split(',').filter_map(Role::parse).collect();
    roles.sort_by_key(|r| r.as_str());
    let mut center_ids: Vec<i64> = list("centers")?
        .split(',')
        .filter_map(|c| c.parse().ok())
        .collect();
    center_ids.sort_unstable();
    Ok(CurrentUser {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        roles,
        center_ids,
        via,
    })
}

/// Loads a user by id with roles and centers, if active.
pub async fn load_user(
    app: &App,
    user_id: i64,
    via: AuthVia,
) -> Result<Option<CurrentUser>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from users u where u.id = $1 and u.active = 1"
    )))
    .bind(user_id)
    .fetch_optional(app.db.pool())
    .await?;
    row.map(|r| user_from_row(&r, via)).transpose()
}

/// Resolves the request's credentials; `Err` only for a presented but invalid token.
/// One statement each way (the account with its roles and centers), read each time: a
/// revoked token or an ended session fails at once, on every server. (Window actions use
/// [`super::Acting`], which caches this and has the writer check the credential.)
pub(super) async fn resolve_fresh(
    parts: &Parts,
    app: &App,
) -> Result<Option<CurrentUser>, AppError> {
    let now = app.clock.now_micros();
    if let Some(token) = bearer(parts) {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {USER_COLUMNS}, t.id as token_id, t.last_used_at from api_tokens t join users u on u.id = t.user_id \
             where t.token_hash = $1 and t.revoked_at is null and u.active = 1"
        )))
        .bind(secret_hash(token))
        .fetch_optional(app.db.pool())
        .await?;
        let Some(row) = row else {
            return Err(AppError::Unauthorized);
        };
        let token_id: i64 = row.try_get("token_id")?;
        let last: Option<i64> = row.try_get("last_used_at")?;
        // Record use at most once a minute so a busy device does not write on every call,
        // and in the background: the call need not wait its turn at the writer for it.
        if last.is_none_or(|l| now - l > 60_000_000) {
            let db = app.db.clone();
            tokio::spawn(async move {
                let used = async {
                    let mut tx = db.begin().await?;
                    sqlx::query("update api_tokens set last_used_at = $1 where id = $2")
                        .bind(now)
                        .bind(token_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                };
                if let Err(e) = used.await {
                    tracing::warn!(error = %e, "could not record a token's last use");
                }
            });
        }
        return Ok(Some(user_from_row(&row, AuthVia::Token)?));
    }
    let Some(session) = cookie(parts, SESSION_COOKIE) else {
        return Ok(None);
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from sessions s join users u on u.id = s.user_id \
         where s.token_hash = $1 and s.expires_at > $2 and u.active = 1"
    )))
    .bind(secret_hash(session))
    .bind(now)
    .fetch_optional(app.db.pool())
    .await?;
    row.map(|r| user_from_row(&r, AuthVia::Session)).transpose()
}

/// Resolves once per request and caches the answer in the request's extensions.
async fn cached(parts: &mut Parts, app: &App) -> Result<Option<CurrentUser>, AppError> {
    #[derive(Clone)]
    struct Once(Option<CurrentUser>);
    if let Some(r) = parts.extensions.get::<Once>() {
        return Ok(r.0.clone());
    }
    let user = resolve_fresh(parts, app).await?;
    parts.extensions.insert(Once(user.clone()));
    Ok(user)
}

impl FromRequestParts<Arc<App>> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        cached(parts, app).await?.ok_or(AppError::Unauthorized)
    }
}

/// The signed-in user, or nobody.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<Arc<App>> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(cached(parts, app).await.unwrap_or(None)))
    }
}

/// A signed-in user on a page; anyone else is sent to the sign-in page.
pub struct PageUser(pub CurrentUser);

impl FromRequestParts<Arc<App>> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        match cached(parts, app).await {
            Ok(Some(u)) => Ok(PageUser(u)),
            Ok(None) | Err(AppError::Unauthorized) => Err(PageError::LoginRequired(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// Who is looking at a page, with the token their forms carry: [`PageUser`], then
/// [`CsrfToken`], each refused as it would be alone.
pub struct Viewer {
    pub user: CurrentUser,
    pub csrf: CsrfToken,
}

impl Viewer {
    /// The page's header and menus.
    pub fn chrome(self) -> Chrome {
        Chrome::new(Some(self.user), self.csrf)
    }
}

/// Extracts `U` (who is looking), then the [`CsrfToken`] their forms carry, each refused as
/// it would be alone.
async fn with_csrf<U>(parts: &mut Parts, app: &Arc<App>) -> Result<(U, CsrfToken), Response>
where
    U: FromRequestParts<Arc<App>>,
    U::Rejection: IntoResponse,
{
    let user = U::from_request_parts(parts, app)
        .await
        .map_err(IntoResponse::into_response)?;
    let csrf = CsrfToken::from_request_parts(parts, app)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((user, csrf))
}

impl FromRequestParts<Arc<App>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let (PageUser(user), csrf) = with_csrf(parts, app).await?;
        Ok(Self { user, csrf })
    }
}

/// A page's header and menus for whoever is looking, signed in or not ([`MaybeUser`]), with
/// the [`CsrfToken`] its forms carry.
impl FromRequestParts<Arc<App>> for Chrome {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let (MaybeUser(user), csrf) = with_csrf(parts, app).await?;
        Ok(Chrome::new(user, csrf))
    }
}
