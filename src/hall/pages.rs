//! Admin pages for the hall's structure: centers, zones, windows, A/B posts, staff, tokens
//! and the audit trail. Each POST redirects on success (303) and re-renders with the
//! Chinese reason and the submitted values on failure (422), changing nothing.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Center, Level, Special, Window, WindowKind, Zone, centers,
    centers::CenterInput,
    posts::{self, Post, WindowPosts},
    staff::{self, Staff, StaffInput},
    windows::{self, WindowInput},
    zones::{self, ZoneInput},
};
use crate::{
    app::App,
    audit::{self, Actor, AuditEntry},
    auth::{CsrfToken, CurrentUser, PageUser, Role, tokens},
    error::{AppError, AppResult},
    extract::Fields,
    web::{Chrome, PageResult, render, render_status},
};

/// Who is looking at a page, with the token their forms carry.
struct Viewer {
    user: CurrentUser,
    csrf: CsrfToken,
}

/// Flash message after a redirect (`?ok=…`).
#[derive(Deserialize, Default)]
struct Flash {
    ok: Option<String>,
    center: Option<String>,
}

fn done(path: &str, msg: &str) -> PageResult {
    let msg: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{path}{sep}ok={msg}")).into_response())
}

/// Centers the user may see, in code order.
async fn visible_centers(app: &App, user: &CurrentUser) -> AppResult<Vec<Center>> {
    Ok(centers::list(app.db.pool())
        .await?
        .into_iter()
        .filter(|c| user.can_see_center(c.id))
        .collect())
}

/// A center the user may manage, or 404/403.
async fn managed_center(app: &App, user: &CurrentUser, code: &str) -> AppResult<Center> {
    let c = centers::by_code(app.db.pool(), code).await?;
    user.require_manage(c.id)?;
    Ok(c)
}

// ---- overview ----

struct CenterSummary {
    center: Center,
    windows: usize,
    gaps: usize,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    chrome: Chrome,
    rows: Vec<CenterSummary>,
    ok: Option<String>,
}

async fn index(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(f): Query<Flash>,
) -> PageResult {
    let mut rows = Vec::new();
    for c in visible_centers(&app, &user).await? {
        let posts = posts::of_center(app.db.pool(), c.id).await?;
        rows.push(CenterSummary {
            windows: posts.len(),
            gaps: posts
                .iter()
                .filter(|p| p.active && p.gap().is_some())
                .count(),
            center: c,
        });
    }
    render(&IndexPage {
        chrome: Chrome::new(Some(user), csrf),
        rows,
        ok: f.ok,
    })
}

// ---- centers ----

#[derive(Template)]
#[template(path = "admin/center_new.html")]
struct CenterNewPage {
    chrome: Chrome,
    parents: Vec<Center>,
    levels: Vec<Level>,
    form: Fields,
    error: Option<String>,
}

fn center_input(f: &Fields, with_code: bool) -> CenterInput {
    CenterInput {
        code: with_code.then(|| f.get("code").to_owned()),
        name: f.get("name").to_owned(),
        level: f.get("level").to_owned(),
        parent: Some(f.get("parent").to_owned()).filter(|s| !s.is_empty()),
        region_code: f.get("region_code").to_owned(),
        address: f.get("address").to_owned(),
        phone: f.get("phone").to_owned(),
    }
}

async fn center_new(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
) -> PageResult {
    if !user.is_admin() {
        return Err(AppError::Forbidden("只有系统管理员可以新建中心".into()).into());
    }
    render(&CenterNewPage {
        chrome: Chrome::new(Some(user), csrf),
        parents: centers::list(app.db.pool()).await?,
        levels: Level::ALL.to_vec(),
        form: Fields(vec![("level".into(), "township".into())]),
        error: None,
    })
}

async fn center_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    if !user.is_admin() {
        return Err(AppError::Forbidden("只有系统管理员可以新建中心".into()).into());
    }
    let input = center_input(&form, true);
    let result = async {
        let mut tx = app.db.begin().await?;
        let c =
            centers::create(&mut tx, &Actor::from(&user), &input, app.clock.now_micros()).await?;
        tx.commit().await?;
        AppResult::Ok(c)
    }
    .await;
    match result {
        Ok(c) => done(&format!("/admin/centers/{}", c.code), "中心已创建"),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => render_status(
            e.status(),
            &CenterNewPage {
                chrome: Chrome::new(Some(user), csrf),
                parents: centers::list(app.db.pool()).await?,
                levels: Level::ALL.to_vec(),
                form,
                error: Some(e.public_message()),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/center.html")]
struct CenterPage {
    chrome: Chrome,
    center: Center,
    parents: Vec<Center>,
    levels: Vec<Level>,
    zones: Vec<Zone>,
    windows: Vec<Window>,
    kinds: Vec<WindowKind>,
    specials: Vec<Special>,
    /// Which form the error belongs to: "center", "zone" or "window".
    error_for: &'static str,
    error: Option<String>,
    form: Fields,
    ok: Option<String>,
}

async fn center_page_data(
    app: &App,
    viewer: Viewer,
    center: Center,
    error_for: &'static str,
    error: Option<String>,
    form: Fields,
    ok: Option<String>,
) -> AppResult<CenterPage> {
    Ok(CenterPage {
        chrome: Chrome::new(Some(viewer.user), viewer.csrf),
        parents: centers::list(app.db.pool())
            .await?
            .into_iter()
            .filter(|c| c.id != center.id)
            .collect(),
        levels: Level::ALL.to_vec(),
        zones: zones::list(app.db.pool(), center.id).await?,
        windows: windows::list(app.db.pool(), center.id).await?,
        kinds: WindowKind::ALL.to_vec(),
        specials: Special::ALL.to_vec(),
        center,
        error_for,
        error,
        form,
        ok,
    })
}

async fn center_show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult {
    let c = managed_center(&app, &user, &code).await?;
    let viewer = Viewer { user, csrf };
    let page = center_page_data(&app, viewer, c, "", None, Fields(Vec::new()), f.ok).await?;
    render(&page)
}

/// Runs a change to a center's structure; on a rule failure re-renders the center page.
async fn center_change<F, Fut>(
    app: Arc<App>,
    viewer: Viewer,
    code: String,
    form: Fields,
    error_for: &'static str,
    ok: &str,
    change: F,
) -> PageResult
where
    F: FnOnce(Arc<App>, CurrentUser, Center, Fields) -> Fut,
    Fut: std::future::Future<Output = (Fields, AppResult<()>)>,
{
    let c = managed_center(&app, &viewer.user, &code).await?;
    let (form, result) = change(app.clone(), viewer.user.clone(), c.clone(), form).await;
    match result {
        Ok(()) => done(&format!("/admin/centers/{code}"), ok),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            let status = if matches!(e, AppError::NotFound(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                e.status()
            };
            let page = center_page_data(
                &app,
                viewer,
                c,
                error_for,
                Some(e.public_message()),
                form,
                None,
            )
            .await?;
            render_status(status, &page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn center_update(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    center_change(
        app,
        Viewer { user, csrf },
        code,
        form,
        "center",
        "中心信息已保存",
        |app, user, c, form| async move {
            let input = center_input(&form, false);
            let r = async {
                let mut tx = app.db.begin().await?;
                centers::update(
                    &mut tx,
                    &Actor::from(&user),
                    &c.code,
                    &input,
                    app.clock.now_micros(),
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
            .await;
            (form, r)
        },
    )
    .await
}

fn zone_input(f: &Fields, with_code: bool) -> AppResult<ZoneInput> {
    let sort = f.get("sort_order");
    Ok(ZoneInput {
        code: with_code.then(|| f.get("code").to_owned()),
        name: f.get("name").to_owned(),
        ticket_prefix: Some(f.get("ticket_prefix").to_owned()),
        sort_order: if sort.is_empty() {
            0
        } else {
            sort.parse()
                .map_err(|_| AppError::Invalid("排序须为整数".into()))?
        },
    })
}

async fn zone_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    center_change(
        app,
        Viewer { user, csrf },
        code,
        form,
        "zone",
        "专区已添加",
        |app, user, c, form| async move {
            let r = async {
                let input = zone_input(&form, true)?;
                let mut tx = app.db.begin().await?;
                zones::create(
                    &mut tx,
                    &Actor::from(&user),
                    c.id,
                    &input,
                    app.clock.now_micros(),
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
            .await;
            (form, r)
        },
    )
    .await
}

fn window_input(f: &Fields, with_code: bool) -> AppResult<WindowInput> {
    let limit = f.get("acceptance_limit_minutes");
    Ok(WindowInput {
        code: with_code.then(|| f.get("code").to_owned()),
        name: f.get("name").to_owned(),
        zone: Some(f.get("zone").to_owned()).filter(|s| !s.is_empty()),
        kind: f.get("kind").to_owned(),
        specials: f.all("specials"),
        tidal: f.checked("tidal"),
        active: if with_code { true } else { f.checked("active") },
        acceptance_limit_minutes: if limit.is_empty() {
            15
        } else {
            limit
                .parse()
                .map_err(|_| AppError::Invalid("受理时限须为整数分钟".into()))?
        },
    })
}

async fn window_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
    form: Fields,
) -> PageResult {
    center_change(
        app,
        Viewer { user, csrf },
        code,
        form,
        "window",
        "窗口已添加",
        |app, user, c, form| async move {
            let r = async {
                let input = window_input(&form, true)?;
                let mut tx = app.db.begin().await?;
                windows::create(
                    &mut tx,
                    &Actor::from(&user),
                    c.id,
                    &input,
                    app.clock.now_micros(),
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }
            .await;
            (form, r)
        },
    )
    .await
}

// ---- one zone ----

#[derive(Template)]
#[template(path = "admin/zone.html")]
struct ZonePage {
    chrome: Chrome,
    center: Center,
    zone: Zone,
    form: Fields,
    error: Option<String>,
}

async fn zone_show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, zone)): Path<(String, String)>,
) -> PageResult {
    let c = managed_center(&app, &user, &code).await?;
    let z = zones::by_code(app.db.pool(), c.id, &zone).await?;
    let form = Fields(vec![
        ("name".into(), z.name.clone()),
        ("sort_order".into(), z.sort_order.to_string()),
        ("ticket_prefix".into(), z.ticket_prefix.clone()),
    ]);
    render(&ZonePage {
        chrome: Chrome::new(Some(user), csrf),
        center: c,
        zone: z,
        form,
        error: None,
    })
}

async fn zone_update(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, zone)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let c = managed_center(&app, &user, &code).await?;
    let z = zones::by_code(app.db.pool(), c.id, &zone).await?;
    let result = async {
        let input = zone_input(&form, false)?;
        let mut tx = app.db.begin().await?;
        zones::update(
            &mut tx,
            &Actor::from(&user),
            c.id,
            &zone,
            &input,
            app.clock.now_micros(),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(())
    }
    .await;
    match result {
        Ok(()) => done(&format!("/admin/centers/{code}"), "专区已保存"),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => render_status(
            e.status(),
            &ZonePage {
                chrome: Chrome::new(Some(user), csrf),
                center: c,
                zone: z,
                form,
                error: Some(e.public_message()),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

// ---- one window, with its posts ----

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
    if w.active {
        v.push(("active".into(), "1".into()));
    }
    for s in &w.specials {
        v.push(("specials".into(), s.as_str().into()));
    }
    Fields(v)
}

#[allow(clippy::too_many_arguments)]
async fn window_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
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
        chrome: Chrome::new(Some(user), csrf),
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

async fn window_show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    Query(f): Query<Flash>,
) -> PageResult {
    let c = managed_center(&app, &user, &code).await?;
    let w = windows::by_code(app.db.pool(), c.id, &window).await?;
    render(&window_page(&app, user, csrf, c, w, None, None, f.ok).await?)
}

async fn window_action(
    app: Arc<App>,
    viewer: Viewer,
    code: String,
    window: String,
    form: Fields,
    ok: &str,
    act: impl AsyncFnOnce(&App, &CurrentUser, &Center, &Fields) -> AppResult<()>,
) -> PageResult {
    let c = managed_center(&app, &viewer.user, &code).await?;
    let w = windows::by_code(app.db.pool(), c.id, &window).await?;
    match act(&app, &viewer.user, &c, &form).await {
        Ok(()) => done(&format!("/admin/centers/{code}/windows/{window}"), ok),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::NotFound(_))) => {
            let msg = e.public_message();
            let keep = form.0.iter().any(|(k, _)| k == "kind").then_some(form);
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &window_page(&app, viewer.user, viewer.csrf, c, w, keep, Some(msg), None).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn window_update(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let wcode = window.clone();
    window_action(
        app,
        Viewer { user, csrf },
        code,
        window,
        form,
        "窗口已保存",
        async move |app, user, c, form| {
            let input = window_input(form, false)?;
            let mut tx = app.db.begin().await?;
            windows::update(
                &mut tx,
                &Actor::from(user),
                c.id,
                &wcode,
                &input,
                app.clock.now_micros(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        },
    )
    .await
}

async fn post_assign(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let wcode = window.clone();
    window_action(
        app,
        Viewer { user, csrf },
        code,
        window,
        form,
        "岗位已安排",
        async move |app, user, c, form| {
            let post = Post::parse(form.get("post"))
                .ok_or_else(|| AppError::Invalid("岗位须为 A 或 B".into()))?;
            let login = form.get("login");
            if login.is_empty() {
                return Err(AppError::Invalid("请选择人员".into()));
            }
            let mut tx = app.db.begin().await?;
            posts::assign(
                &mut tx,
                user,
                c.id,
                &wcode,
                login,
                post,
                app.clock.now_micros(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        },
    )
    .await
}

async fn post_remove(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path((code, window)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let wcode = window.clone();
    window_action(
        app,
        Viewer { user, csrf },
        code,
        window,
        form,
        "已撤下岗位",
        async move |app, user, c, form| {
            let mut tx = app.db.begin().await?;
            posts::remove(
                &mut tx,
                user,
                c.id,
                &wcode,
                form.get("login"),
                app.clock.now_micros(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
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

async fn posts_show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> PageResult {
    let c = centers::by_code(app.db.pool(), &code).await?;
    if !user.can_see_center(c.id) {
        return Err(AppError::NotFound(format!("找不到编码为“{code}”的中心")).into());
    }
    render(&PostsPage {
        chrome: Chrome::new(Some(user), csrf),
        posts: posts::of_center(app.db.pool(), c.id).await?,
        center: c,
    })
}

// ---- staff ----

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    chrome: Chrome,
    staff: Vec<Staff>,
    centers: Vec<Center>,
    roles: Vec<Role>,
    form: Fields,
    error: Option<String>,
    ok: Option<String>,
    /// A password generated for a new person, shown once.
    new_password: Option<(String, String)>,
}

fn staff_input(f: &Fields, with_login: bool) -> StaffInput {
    StaffInput {
        login: with_login.then(|| f.get("login").to_owned()),
        display_name: f.get("display_name").to_owned(),
        employment: Some(f.get("employment").to_owned()),
        roles: f
            .all("roles")
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect(),
        centers: f.all("centers"),
        active: if with_login {
            true
        } else {
            f.checked("active")
        },
        password: Some(f.get("password").to_owned()).filter(|p| !p.is_empty()),
    }
}

async fn staff_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    form: Fields,
    error: Option<String>,
    ok: Option<String>,
    new_password: Option<(String, String)>,
) -> AppResult<StaffPage> {
    let now = app.clock.now_micros();
    let all = staff::list(app.db.pool(), None, now).await?;
    let centers = visible_centers(app, &user).await?;
    let codes: Vec<&str> = centers.iter().map(|c| c.code.as_str()).collect();
    let staff = all
        .into_iter()
        .filter(|s| user.is_admin() || s.centers.iter().any(|c| codes.contains(&c.as_str())))
        .collect();
    let roles = Role::ALL
        .into_iter()
        .filter(|r| user.is_admin() || *r != Role::SystemAdmin)
        .collect();
    let centers = centers
        .into_iter()
        .filter(|c| user.can_manage_center(c.id))
        .collect();
    Ok(StaffPage {
        chrome: Chrome::new(Some(user), csrf),
        staff,
        centers,
        roles,
        form,
        error,
        ok,
        new_password,
    })
}

async fn staff_index(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(f): Query<Flash>,
) -> PageResult {
    if !user.is_manager() {
        return Err(AppError::forbidden().into());
    }
    render(&staff_page(&app, user, csrf, Fields(Vec::new()), None, f.ok, None).await?)
}

async fn staff_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    if !user.is_manager() {
        return Err(AppError::forbidden().into());
    }
    let input = staff_input(&form, true);
    let result = async {
        let (plain, generated) = match input.password.clone() {
            Some(p) => (p, false),
            None => (crate::auth::password::generate(), true),
        };
        let hash = staff::hash_new_password(plain.clone(), app.hash_cost).await?;
        let mut tx = app.db.begin().await?;
        let s = staff::create(
            &mut tx,
            Some(&user),
            &Actor::from(&user),
            &input,
            &hash,
            app.clock.now_micros(),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok((s.login, generated.then_some(plain)))
    }
    .await;
    match result {
        Ok((login, pw)) => {
            let msg = format!("已添加人员 {login}");
            let shown = pw.map(|p| (login, p));
            render(&staff_page(&app, user, csrf, Fields(Vec::new()), None, Some(msg), shown).await?)
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let msg = e.public_message();
            render_status(
                e.status(),
                &staff_page(&app, user, csrf, form, Some(msg), None, None).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    chrome: Chrome,
    person: Staff,
    centers: Vec<Center>,
    roles: Vec<Role>,
    form: Fields,
    error: Option<String>,
}

fn person_form(s: &Staff) -> Fields {
    let mut v = vec![
        ("display_name".to_owned(), s.display_name.clone()),
        ("employment".to_owned(), s.employment.clone()),
    ];
    if s.active {
        v.push(("active".into(), "1".into()));
    }
    v.extend(
        s.roles
            .iter()
            .map(|r| ("roles".to_owned(), r.as_str().to_owned())),
    );
    v.extend(s.centers.iter().map(|c| ("centers".to_owned(), c.clone())));
    Fields(v)
}

async fn person_page(
    app: &App,
    user: CurrentUser,
    csrf: CsrfToken,
    login: &str,
    form: Option<Fields>,
    error: Option<String>,
) -> AppResult<PersonPage> {
    let mut tx = app.db.pool().begin().await?;
    let person = staff::by_login(&mut tx, login, app.clock.now_micros()).await?;
    tx.rollback().await?;
    let centers = visible_centers(app, &user).await?;
    if !user.is_admin()
        && !person
            .centers
            .iter()
            .any(|c| centers.iter().any(|v| &v.code == c))
    {
        return Err(AppError::NotFound(format!("找不到登录名为“{login}”的人员")));
    }
    let roles = Role::ALL
        .into_iter()
        .filter(|r| user.is_admin() || *r != Role::SystemAdmin)
        .collect();
    Ok(PersonPage {
        chrome: Chrome::new(Some(user), csrf),
        form: form.unwrap_or_else(|| person_form(&person)),
        person,
        centers,
        roles,
        error,
    })
}

async fn person_show(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(login): Path<String>,
) -> PageResult {
    if !user.is_manager() {
        return Err(AppError::forbidden().into());
    }
    render(&person_page(&app, user, csrf, &login, None, None).await?)
}

async fn person_update(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(login): Path<String>,
    form: Fields,
) -> PageResult {
    let input = staff_input(&form, false);
    let result = async {
        let hash = match input.password.clone() {
            Some(p) => Some(staff::hash_new_password(p, app.hash_cost).await?),
            None => None,
        };
        let mut tx = app.db.begin().await?;
        staff::update(
            &mut tx,
            &user,
            &login,
            &input,
            hash.as_deref(),
            app.clock.now_micros(),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(())
    }
    .await;
    match result {
        Ok(()) => done("/admin/staff", &format!("已保存 {login}")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let msg = e.public_message();
            let status = e.status();
            render_status(
                status,
                &person_page(&app, user, csrf, &login, Some(form), Some(msg)).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

// ---- tokens ----

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
    user: CurrentUser,
    csrf: CsrfToken,
    new_token: Option<String>,
    error: Option<String>,
    ok: Option<String>,
) -> AppResult<TokensPage> {
    Ok(TokensPage {
        chrome: Chrome::new(Some(user), csrf),
        tokens: tokens::list(app.db.pool()).await?,
        new_token,
        error,
        ok,
    })
}

async fn tokens_index(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(f): Query<Flash>,
) -> PageResult {
    if !user.is_admin() {
        return Err(AppError::Forbidden("只有系统管理员可以管理 API 令牌".into()).into());
    }
    render(&tokens_page(&app, user, csrf, None, None, f.ok).await?)
}

async fn token_create(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    if !user.is_admin() {
        return Err(AppError::Forbidden("只有系统管理员可以管理 API 令牌".into()).into());
    }
    let result = async {
        let mut tx = app.db.begin().await?;
        let t = tokens::create(
            &mut tx,
            &Actor::from(&user),
            form.get("login"),
            form.get("name"),
            app.clock.now_micros(),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(t)
    }
    .await;
    match result {
        Ok(t) => render(&tokens_page(&app, user, csrf, Some(t), None, None).await?),
        Err(e @ (AppError::Invalid(_) | AppError::NotFound(_))) => {
            let msg = e.public_message();
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &tokens_page(&app, user, csrf, None, Some(msg), None).await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn token_revoke(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
) -> PageResult {
    if !user.is_admin() {
        return Err(AppError::Forbidden("只有系统管理员可以管理 API 令牌".into()).into());
    }
    let mut tx = app.db.begin().await?;
    tokens::revoke(&mut tx, &Actor::from(&user), id, app.clock.now_micros()).await?;
    tx.commit().await?;
    done("/admin/tokens", "令牌已吊销")
}

// ---- audit ----

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
}

async fn audit_index(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(f): Query<Flash>,
) -> PageResult {
    if !user.is_manager() && !user.has_role(Role::Leader) {
        return Err(AppError::forbidden().into());
    }
    let mut scope: Option<Vec<i64>> = (!user.is_admin()).then(|| user.center_ids.clone());
    if let Some(code) = f.center.as_deref().filter(|c| !c.is_empty()) {
        let c = centers::by_code(app.db.pool(), code).await?;
        if !user.can_see_center(c.id) {
            return Err(AppError::NotFound("找不到该中心".into()).into());
        }
        scope = Some(vec![c.id]);
    }
    let entries = audit::recent(app.db.pool(), scope.as_deref(), 200).await?;
    render(&AuditPage {
        chrome: Chrome::new(Some(user), csrf),
        entries,
    })
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/centers", post(center_create))
        .route("/admin/centers/new", get(center_new))
        .route(
            "/admin/centers/{center}",
            get(center_show).post(center_update),
        )
        .route("/admin/centers/{center}/zones", post(zone_create))
        .route(
            "/admin/centers/{center}/zones/{zone}",
            get(zone_show).post(zone_update),
        )
        .route("/admin/centers/{center}/windows", post(window_create))
        .route(
            "/admin/centers/{center}/windows/{window}",
            get(window_show).post(window_update),
        )
        .route(
            "/admin/centers/{center}/windows/{window}/posts",
            post(post_assign),
        )
        .route(
            "/admin/centers/{center}/windows/{window}/posts/remove",
            post(post_remove),
        )
        .route("/admin/centers/{center}/posts", get(posts_show))
        .route("/admin/staff", get(staff_index).post(staff_create))
        .route("/admin/staff/{login}", get(person_show).post(person_update))
        .route("/admin/tokens", get(tokens_index).post(token_create))
        .route("/admin/tokens/{id}/revoke", post(token_revoke))
        .route("/admin/audit", get(audit_index))
}
