//! One zone's page and its edit form.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::Path;

use super::{Shown, Viewer, centers::zone_input, done, refused};
use crate::{
    app::App,
    extract::Fields,
    hall::{Center, Zone, service, zones},
    web::{Chrome, PageResult, render},
};

#[derive(Template)]
#[template(path = "admin/zone.html")]
struct ZonePage {
    chrome: Chrome,
    center: Center,
    zone: Zone,
    form: Fields,
    error: Option<String>,
}

impl ZonePage {
    fn new(
        viewer: Viewer,
        center: Center,
        zone: Zone,
        form: Fields,
        error: Option<String>,
    ) -> Self {
        Self {
            chrome: viewer.chrome(),
            center,
            zone,
            form,
            error,
        }
    }
}

pub(super) async fn zone_show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path((code, zone)): Path<(String, String)>,
) -> PageResult {
    let c = service::managed_center(&app, &viewer.user, &code).await?;
    let z = zones::by_code(app.db.pool(), c.id, &zone).await?;
    let form = Fields(vec![
        ("name".into(), z.name.clone()),
        ("sort_order".into(), z.sort_order.to_string()),
        ("ticket_prefix".into(), z.ticket_prefix.clone()),
    ]);
    render(&ZonePage::new(viewer, c, z, form, None))
}

pub(super) async fn zone_update(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path((code, zone)): Path<(String, String)>,
    form: Fields,
) -> PageResult {
    let c = service::managed_center(&app, &viewer.user, &code).await?;
    let z = zones::by_code(app.db.pool(), c.id, &zone).await?;
    let result = match zone_input(&form, false) {
        Ok(input) => service::update_zone(&app, &viewer.user, &code, &zone, &input)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&format!("/admin/centers/{code}"), "专区已保存"),
        Err(e) => {
            refused(e, Shown::Rules, async |msg| {
                Ok(ZonePage::new(viewer, c, z, form, Some(msg)))
            })
            .await
        }
    }
}
