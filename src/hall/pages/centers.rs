//! The center pages: a new center, a center's page with its zones and windows, and the forms
//! on it (edit the center, add a zone, add a window).

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::State,
    routing::{MethodRouter, post},
};

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, done, refused};
use crate::{
    app::App,
    auth::CurrentUser,
    error::AppResult,
    extract::Fields,
    hall::{
        Center, Level, Special, Window, WindowKind, Zone, centers,
        centers::CenterInput,
        service,
        windows::{self, WindowInput},
        zones::{self, ZoneInput},
    },
    web::{Chrome, PageResult, render},
};

#[derive(Template)]
#[template(path = "admin/center_new.html")]
struct CenterNewPage {
    chrome: Chrome,
    parents: Vec<Center>,
    levels: Vec<Level>,
    form: Fields,
    error: Option<String>,
}

impl CenterNewPage {
    async fn new(
        app: &App,
        viewer: Viewer,
        form: Fields,
        error: Option<String>,
    ) -> AppResult<Self> {
        Ok(Self {
            chrome: viewer.chrome(),
            parents: centers::list(app.db.pool()).await?,
            levels: Level::ALL.to_vec(),
            form,
            error,
        })
    }
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

pub(super) async fn center_new(State(app): State<Arc<App>>, viewer: Viewer) -> PageResult {
    service::require_center_creator(&viewer.user)?;
    let form = Fields(vec![("level".into(), "township".into())]);
    render(&CenterNewPage::new(&app, viewer, form, None).await?)
}

pub(super) async fn center_create(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    form: Fields,
) -> PageResult {
    service::require_center_creator(&viewer.user)?;
    match service::create_center(&app, &viewer.user, &center_input(&form, true)).await {
        Ok(c) => done(&format!("/admin/centers/{}", c.code), "中心已创建"),
        Err(e) => {
            refused(e, Shown::Rules, async |msg| {
                CenterNewPage::new(&app, viewer, form, Some(msg)).await
            })
            .await
        }
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
        chrome: viewer.chrome(),
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

pub(super) async fn center_show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult {
    let c = service::managed_center(&app, &viewer.user, &code).await?;
    let page = center_page_data(&app, viewer, c, "", None, Fields(Vec::new()), f.ok).await?;
    render(&page)
}

/// A form on a center's page that changes the center's structure.
#[derive(Clone, Copy)]
pub(super) enum CenterForm {
    /// Edits the center itself.
    Center,
    /// Adds a zone.
    Zone,
    /// Adds a window.
    Window,
}

impl CenterForm {
    /// The form an error is shown beside (the page's `error_for`).
    fn name(self) -> &'static str {
        match self {
            Self::Center => "center",
            Self::Zone => "zone",
            Self::Window => "window",
        }
    }

    /// The flash after the change.
    fn done(self) -> &'static str {
        match self {
            Self::Center => "中心信息已保存",
            Self::Zone => "专区已添加",
            Self::Window => "窗口已添加",
        }
    }

    async fn submit(self, app: &App, user: &CurrentUser, code: &str, f: &Fields) -> AppResult<()> {
        match self {
            Self::Center => {
                service::update_center(app, user, code, &center_input(f, false)).await?;
            }
            Self::Zone => {
                service::create_zone(app, user, code, &zone_input(f, true)?).await?;
            }
            Self::Window => {
                service::create_window(app, user, code, &window_input(f, true)?).await?;
            }
        }
        Ok(())
    }

    /// The POST route of the form: runs the change; on a rule failure re-renders the center
    /// page with the reason beside this form.
    pub(super) fn route(self) -> MethodRouter<Arc<App>> {
        post(
            move |State(app): State<Arc<App>>,
                  viewer: Viewer,
                  Path(code): Path<String>,
                  form: Fields| async move {
                let c = service::managed_center(&app, &viewer.user, &code).await?;
                match self.submit(&app, &viewer.user, &code, &form).await {
                    Ok(()) => done(&format!("/admin/centers/{code}"), self.done()),
                    Err(e) => {
                        refused(e, Shown::RulesAndMissing, async |msg| {
                            let error = Some(msg);
                            center_page_data(&app, viewer, c, self.name(), error, form, None).await
                        })
                        .await
                    }
                }
            },
        )
    }
}

pub(super) fn zone_input(f: &Fields, with_code: bool) -> AppResult<ZoneInput> {
    Ok(ZoneInput {
        code: with_code.then(|| f.get("code").to_owned()),
        name: f.get("name").to_owned(),
        ticket_prefix: Some(f.get("ticket_prefix").to_owned()),
        sort_order: f.int("sort_order", "排序")?.unwrap_or(0),
    })
}

pub(super) fn window_input(f: &Fields, with_code: bool) -> AppResult<WindowInput> {
    Ok(WindowInput {
        code: with_code.then(|| f.get("code").to_owned()),
        name: f.get("name").to_owned(),
        zone: Some(f.get("zone").to_owned()).filter(|s| !s.is_empty()),
        kind: f.get("kind").to_owned(),
        specials: f.all("specials"),
        tidal: f.checked("tidal"),
        active: if with_code { true } else { f.checked("active") },
        acceptance_limit_minutes: f
            .int("acceptance_limit_minutes", "受理时限（分钟）")?
            .unwrap_or(15),
        joint_property_tax: f.checked("joint_property_tax"),
    })
}
