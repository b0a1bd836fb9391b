//! Pages: the shared chrome (header, CSRF token), HTML errors, static assets and the home page;
//! the edge's middleware: control characters refused, every error in its shape, security headers.

mod assets;
pub mod control_chars;
pub mod error_shapes;
pub mod headers;

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};

use crate::{
    app::App,
    auth::{CsrfToken, CurrentUser, MaybeUser},
    error::AppError,
    hall,
};

/// What every page's header needs: who is signed in and the CSRF token for its forms.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub user: Option<CurrentUser>,
    pub csrf: String,
}

impl Chrome {
    pub fn new(user: Option<CurrentUser>, csrf: CsrfToken) -> Self {
        Self { user, csrf: csrf.0 }
    }

    /// Shows the management menu.
    pub fn is_manager(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_manager)
    }

    /// Shows system-admin-only links.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_admin)
    }
}

/// A failed page request, rendered as HTML.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page and come back to this path.
    LoginRequired(String),
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::App(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::App(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::LoginRequired(next) => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            PageError::App(e) => {
                e.log();
                let page = ErrorPage {
                    status: e.status().as_u16(),
                    message: e.public_message(),
                };
                let mut response = match page.render() {
                    Ok(html) => (e.status(), Html(html)).into_response(),
                    Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误").into_response(),
                };
                if let Some(secs) = e.retry_after() {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, secs.into());
                }
                response
            }
        }
    }
}

/// Result of a page handler.
pub type PageResult = Result<Response, PageError>;

/// The HTML error page with `status` and a Chinese `message`.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        message: message.to_owned(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    }
}

/// `/favicon.ico`, which browsers ask for by themselves: the product's icon.
async fn favicon() -> Response {
    assets::serve(axum::extract::Path("favicon.svg".to_owned())).await
}

/// Renders a template as a 200 page.
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// Renders a template with a status (422 for a form with errors).
pub fn render_status(status: StatusCode, t: &impl Template) -> PageResult {
    Ok((status, Html(t.render()?)).into_response())
}

/// A window the signed-in person holds a post at, for their start links.
#[derive(sqlx::FromRow)]
struct MyWindow {
    center_code: String,
    center_name: String,
    window_code: String,
    window_name: String,
    post: String,
}

/// What a role starts its day with (工作台): links to the pages it works on.
struct Work {
    windows: Vec<MyWindow>,
    clerk: bool,
    approver: bool,
    chief: bool,
    supervisor: bool,
    manager: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    centers: Vec<hall::Center>,
    work: Option<Work>,
}

async fn home(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
) -> PageResult {
    let centers = hall::centers::list(app.db.pool()).await?;
    let work = match &user {
        Some(u) => {
            let windows: Vec<MyWindow> = sqlx::query_as(
                "select c.code as center_code, c.name as center_name, w.code as window_code, \
                 w.name as window_name, p.post from window_posts p join windows w on w.id = p.window_id \
                 join centers c on c.id = w.center_id where p.user_id = $1 order by p.post, c.id, w.code",
            )
            .bind(u.id)
            .fetch_all(app.db.pool())
            .await?;
            use crate::auth::Role;
            Some(Work {
                windows,
                clerk: u.has_role(Role::WindowClerk)
                    || u.is_admin()
                    || u.has_role(Role::HallManager),
                approver: u.has_role(Role::Approver),
                chief: u.has_role(Role::ChiefRepresentative),
                supervisor: u.has_role(Role::Leader)
                    || u.is_admin()
                    || u.has_role(Role::HallManager),
                manager: u.is_admin() || u.has_role(Role::HallManager),
            })
        }
        None => None,
    };
    render(&HomePage {
        chrome: Chrome::new(user, csrf),
        centers,
        work,
    })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(favicon))
}
