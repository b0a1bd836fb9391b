//! Pages: the shared chrome (header, CSRF token), HTML errors, static assets and the home page;
//! the edge's middleware: control characters refused, every error in its shape, security headers.

mod assets;
pub mod control_chars;
mod edge;
pub mod error_shapes;
pub mod headers;
pub mod qr;

pub use edge::edge;

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

/// The flash message of a page a change redirected to (`?ok=…`), see [`done`].
#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    pub ok: Option<String>,
}

/// Redirects (303) to `path` with a flash message (`ok=…`): where a form's change lands.
pub fn done(path: &str, msg: &str) -> PageResult {
    redirect_saying(path, "ok", msg)
}

/// Redirects (303) to `path` saying `msg` as the query parameter `key` (`ok`, or `error` for a
/// refusal the page it lands on shows).
pub fn redirect_saying(path: &str, key: &str, msg: &str) -> PageResult {
    let msg: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{path}{sep}{key}={msg}")).into_response())
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

/// Where a signed-in person starts (the page sign-in leads to when no other was asked for).
enum Landing {
    /// A page of its own that fits the role: a clerk's only window, the hall, supervision.
    Go(String),
    /// The start page, for a choice of posts and for the back office.
    Page,
}

/// Every role lands on a page that fits it (issue 13 "Staff"): the system admin and the hall
/// manager on the hall (大厅管理); a clerk on the desk of their window — their one A post, or
/// their one post — or, holding several, on a choice of them; the approver (后台审批人员) and
/// the chief representative (首席代表) on the start page that says what their work lists
/// hold; a leader on 电子监察 and its statistics.
fn landing(user: &CurrentUser, posts: &[crate::queue::queries::PostAt]) -> Landing {
    use crate::auth::Role;
    if user.is_admin() || user.has_role(Role::HallManager) {
        return Landing::Go("/admin".into());
    }
    let a_posts: Vec<&crate::queue::queries::PostAt> =
        posts.iter().filter(|p| p.post == "A").collect();
    let own = match (a_posts.as_slice(), posts) {
        ([one], _) => Some(*one),
        ([], [one]) => Some(one),
        _ => None,
    };
    if let Some(one) = own {
        return Landing::Go(one.desk());
    }
    if !posts.is_empty() {
        return Landing::Page;
    }
    if user.has_role(Role::Approver) || user.has_role(Role::ChiefRepresentative) {
        return Landing::Page;
    }
    if user.has_role(Role::Leader) {
        return Landing::Go("/cases/supervision".into());
    }
    Landing::Page
}

/// An extension of a case's time limit waiting for the chief representative (延期审批).
#[derive(sqlx::FromRow)]
struct PendingExtension {
    number: String,
    matter: String,
    days: i64,
    reason: String,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    chrome: Chrome,
    posts: Vec<crate::queue::queries::PostAt>,
    clerk: bool,
    approver: bool,
    chief: bool,
    leader: bool,
    extensions: Vec<PendingExtension>,
}

/// `/start`: the signed-in person's own start (我的首页) — a redirect to the page that fits
/// their role, or the page that lists what they will find where.
async fn start(
    State(app): State<Arc<App>>,
    crate::auth::PageUser(user): crate::auth::PageUser,
    csrf: CsrfToken,
) -> PageResult {
    let posts = crate::queue::queries::posts_of(&app, user.id.get()).await?;
    if let Landing::Go(path) = landing(&user, &posts) {
        return Ok(Redirect::to(&path).into_response());
    }
    use crate::auth::{Role, policy};
    let chief = user.has_role(Role::ChiefRepresentative);
    let extensions = if chief {
        let mine: Vec<i64> = user
            .center_ids
            .iter()
            .copied()
            .filter(|c| policy::can_grant_extension(&user, *c))
            .collect();
        pending_extensions(&app, &mine).await?
    } else {
        Vec::new()
    };
    render(&StartPage {
        clerk: user.has_role(Role::WindowClerk) || !posts.is_empty(),
        approver: user.has_role(Role::Approver),
        leader: user.has_role(Role::Leader),
        chief,
        extensions,
        posts,
        chrome: Chrome::new(Some(user), csrf),
    })
}

/// Requested extensions of the cases of `centers`, oldest first.
async fn pending_extensions(app: &App, centers: &[i64]) -> Result<Vec<PendingExtension>, AppError> {
    if centers.is_empty() {
        return Ok(Vec::new());
    }
    let list = centers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select c.number, m.name as matter, e.days, e.reason from case_extensions e \
         join cases c on c.id = e.case_id join matters m on m.id = c.matter_id \
         where e.state = 'requested' \
         and (case when c.reported_to is not null and c.returned_at is null then c.reported_to else c.center_id end) in ({list}) \
         order by e.requested_at limit 50"
    )))
    .fetch_all(app.db.pool())
    .await?)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/start", get(start))
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(favicon))
}
