//! One window's page with its A/B posts, its edit form and the post forms; and the center's
//! posts overview (AB岗, R1.6).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, centers::window_input, done, refusal};
use crate::{
    app::App,
    auth::{CsrfToken, CurrentUser, PageUser},
    error::{AppError, AppResult},
    extract::Fields,
    hall::{
        Center, Special, Window, WindowKind, Zone,
        posts::{self, WindowPosts},
        service,
        staff::{self, Staff},
        windows, zones,
    },
    web::{Chrome, PageResult, render, render_status},
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
        chrome: Chrome::new(Some(viewer.user), viewer.csrf),
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
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    Query(f): Query<Flash>,
) -> PageResult {
    let c = service::managed_center(&app, &user, &code).await?;
    let w = windows::by_code(app.db.pool(), c.id, &window).await?;
    let viewer = Viewer { user, csrf };
    render(&window_page(&app, viewer, c, w, None, None, f.ok).await?)
}

/// Runs a change at one window; on a refusal re-renders the window's page with the reason
/// (and the submitted edit form, when it was that form).
async fn window_action(
    app: &App,
    viewer: Viewer,
    code: &str,
    window: &str,
    form: Fields,
    ok: &str,
    act: impl AsyncFnOnce(&App, &CurrentUser, &Fields) -> AppResult<()>,
) -> PageResult {
    let c = service::managed_center(app, &viewer.user, code).await?;
    let w = windows::by_code(app.db.pool(), c.id, window).await?;
    match act(app, &viewer.user, &form).await {
        Ok(()) => done(&format!("/admin/centers/{code}/windows/{window}"), ok),
        Err(e) => {
            let (status, msg) = refusal(e, Shown::AllAs422)?;
            let keep = form.0.iter().any(|(k, _)| k == "kind").then_some(form);
            let page = window_page(app, viewer, c, w, keep, Some(msg), None).await?;
            render_status(status, &page)
        }
    }
}

pub(super) async fn window_update(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let viewer = Viewer { user, csrf };
    window_action(
        &app,
        viewer,
        &code,
        &window,
        form,
        "窗口已保存",
        async |app, user, form| {
            service::update_window(app, user, &code, &window, &window_input(form, false)?).await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn post_assign(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let viewer = Viewer { user, csrf };
    window_action(
        &app,
        viewer,
        &code,
        &window,
        form,
        "岗位已安排",
        async |app, user, form| {
            let post = service::parse_post(form.get("post"))?;
            let login = form.get("login");
            if login.is_empty() {
                return Err(AppError::Invalid("请选择人员".into()));
            }
            service::assign_post(app, user, &code, &window, login, post).await
        },
    )
    .await
}

pub(super) async fn post_remove(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let viewer = Viewer { user, csrf };
    window_action(
        &app,
        viewer,
        &code,
        &window,
        form,
        "已撤下岗位",
        async |app, user, form| {
            service::remove_post(app, user, &code, &window, form.get("login")).await
        },
    )
    .await
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
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> PageResult {
    let c = service::visible_center(&app, &user, &code).await?;
    render(&PostsPage {
        chrome: Chrome::new(Some(user), csrf),
        posts: posts::of_center(app.db.pool(), c.id).await?,
        center: c,
    })
}
