//! One window's page with its A/B posts, its edit form and the post forms; and the center's
//! posts overview (AB岗, R1.6).

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::State,
    routing::{MethodRouter, post},
};

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, centers::window_input, done, refused};
use crate::{
    app::App,
    auth::CurrentUser,
    error::{AppError, AppResult},
    extract::Fields,
    hall::{
        Center, Special, Window, WindowKind, Zone,
        posts::{self, WindowPosts},
        service,
        staff::{self, Staff},
        windows, zones,
    },
    web::{Chrome, PageResult, render},
};

#[derive(Template)]
#[template(path = "admin/window.html")]
struct WindowPage {
    chrome: Chrome,
    center: Center,
    window: Window,
    zones: Vec<Zone>,
    kinds: Vec<WindowKind>,
    specials: Vec<Special>,
    posts: Option<WindowPosts>,
    staff: Vec<Staff>,
    form: Fields,
    error: Option<String>,
    ok: Option<String>,
}

fn window_form(w: &Window) -> Fields {
    let mut v = vec![
        ("name".to_owned(), w.name.clone()),
        ("zone".to_owned(), w.zone_code.clone().unwrap_or_default()),
        ("kind".to_owned(), w.kind.clone()),
        (
            "acceptance_limit_minutes".to_owned(),
            w.acceptance_limit_minutes.to_string(),
        ),
    ];
    if w.tidal {
        v.push(("tidal".into(), "1".into()));
    }
    if w.joint_property_tax {
        v.push(("joint_property_tax".into(), "1".into()));
    }
    if w.active {
        v.push(("active".into(), "1".into()));
    }
    for s in &w.specials {
        v.push(("specials".into(), s.as_str().into()));
    }
    Fields(v)
}

async fn window_page(
    app: &App,
    viewer: Viewer,
    center: Center,
    window: Window,
    form: Option<Fields>,
    error: Option<String>,
    ok: Option<String>,
) -> AppResult<WindowPage> {
    let posts = posts::of_center(app.db.pool(), center.id)
        .await?
        .into_iter()
        .find(|p| p.window_code == window.code);
    Ok(WindowPage {
        chrome: viewer.chrome(),
        zones: zones::list(app.db.pool(), center.id).await?,
        kinds: WindowKind::ALL.to_vec(),
        specials: Special::ALL.to_vec(),
        posts,
        staff: staff::list(app.db.pool(), Some(center.id), app.clock.now_micros())
            .await?
            .into_iter()
            .filter(|s| s.active)
            .collect(),
        form: form.unwrap_or_else(|| window_form(&window)),
        center,
        window,
        error,
        ok,
    })
}

pub(super) async fn window_show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path((code, window)): Path<(String, String)>,
    Query(f): Query<Flash>,
) -> PageResult {
    let c = service::managed_center(&app, &viewer.user, &code).await?;
    let w = windows::by_code(app.db.pool(), c.id, &window).await?;
    render(&window_page(&app, viewer, c, w, None, None, f.ok).await?)
}

/// A form on a window's page: its edit form and the post forms.
#[derive(Clone, Copy)]
pub(super) enum WindowForm {
    /// Edits the window.
    Edit,
    /// Puts a person on a post.
    Assign,
    /// Takes a person off their post.
    Remove,
}

impl WindowForm {
    /// The flash after the change.
    fn done(self) -> &'static str {
        match self {
            Self::Edit => "窗口已保存",
            Self::Assign => "岗位已安排",
            Self::Remove => "已撤下岗位",
        }
    }

    async fn submit(
        self,
        app: &App,
        user: &CurrentUser,
        (code, window): (&str, &str),
        form: &Fields,
    ) -> AppResult<()> {
        match self {
            Self::Edit => {
                let input = window_input(form, false)?;
                service::update_window(app, user, code, window, &input).await?;
                Ok(())
            }
            Self::Assign => {
                let post = service::parse_post(form.get("post"))?;
                let login = form.get("login");
                if login.is_empty() {
                    return Err(AppError::Invalid("请选择人员".into()));
                }
                service::assign_post(app, user, code, window, login, post).await
            }
            Self::Remove => service::remove_post(app, user, code, window, form.get("login")).await,
        }
    }

    /// The POST route of the form: runs the change at the window; on a refusal re-renders
    /// the window's page with the reason (and the submitted edit form, when it was that form).
    pub(super) fn route(self) -> MethodRouter<Arc<App>> {
        post(
            move |State(app): State<Arc<App>>,
                  viewer: Viewer,
                  Path((code, window)): Path<(String, String)>,
                  form: Fields| async move {
                let c = service::managed_center(&app, &viewer.user, &code).await?;
                let w = windows::by_code(app.db.pool(), c.id, &window).await?;
                match self
                    .submit(&app, &viewer.user, (&code, &window), &form)
                    .await
                {
                    Ok(()) => done(
                        &format!("/admin/centers/{code}/windows/{window}"),
                        self.done(),
                    ),
                    Err(e) => {
                        refused(e, Shown::AllAs422, async |msg| {
                            let keep = form.0.iter().any(|(k, _)| k == "kind").then_some(form);
                            window_page(&app, viewer, c, w, keep, Some(msg), None).await
                        })
                        .await
                    }
                }
            },
        )
    }
}

#[derive(Template)]
#[template(path = "admin/posts.html")]
struct PostsPage {
    chrome: Chrome,
    center: Center,
    posts: Vec<WindowPosts>,
}

pub(super) async fn posts_show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> PageResult {
    let c = service::visible_center(&app, &viewer.user, &code).await?;
    render(&PostsPage {
        chrome: viewer.chrome(),
        posts: posts::of_center(app.db.pool(), c.id).await?,
        center: c,
    })
}
