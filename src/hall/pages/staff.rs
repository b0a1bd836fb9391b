//! The staff pages: everyone the manager may see, a new person, and one person's edit form.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;

use crate::extract::{Path, Query};

use super::{Flash, Shown, Viewer, done, refused};
use crate::{
    app::App,
    auth::Role,
    error::AppResult,
    extract::Fields,
    hall::{
        Center, service,
        staff::{self, Staff, StaffInput},
    },
    web::{Chrome, PageResult, render},
};

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

/// The roles the user may give: a system admin any, a hall manager all but system admin.
fn grantable_roles(viewer: &Viewer) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| viewer.user.is_admin() || *r != Role::SystemAdmin)
        .collect()
}

async fn staff_page(
    app: &App,
    viewer: Viewer,
    form: Fields,
    error: Option<String>,
    ok: Option<String>,
    new_password: Option<(String, String)>,
) -> AppResult<StaffPage> {
    let user = &viewer.user;
    let all = staff::list(app.db.pool(), None, app.clock.now_micros()).await?;
    let centers = service::visible_centers(app, user).await?;
    let codes: Vec<&str> = centers.iter().map(|c| c.code.as_str()).collect();
    let staff = all
        .into_iter()
        .filter(|s| user.is_admin() || s.centers.iter().any(|c| codes.contains(&c.as_str())))
        .collect();
    let centers = centers
        .into_iter()
        .filter(|c| user.can_manage_center(c.id))
        .collect();
    Ok(StaffPage {
        roles: grantable_roles(&viewer),
        chrome: viewer.chrome(),
        staff,
        centers,
        form,
        error,
        ok,
        new_password,
    })
}

pub(super) async fn staff_index(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<Flash>,
) -> PageResult {
    service::require_staff_manager(&viewer.user)?;
    render(&staff_page(&app, viewer, Fields(Vec::new()), None, f.ok, None).await?)
}

pub(super) async fn staff_create(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    form: Fields,
) -> PageResult {
    service::require_staff_manager(&viewer.user)?;
    match service::create_staff(&app, &viewer.user, &staff_input(&form, true)).await {
        Ok(created) => {
            let login = created.staff.login;
            let msg = format!("已添加人员 {login}");
            let shown = created.generated_password.map(|p| (login, p));
            let page = staff_page(&app, viewer, Fields(Vec::new()), None, Some(msg), shown).await?;
            render(&page)
        }
        Err(e) => {
            refused(e, Shown::RulesAndForbidden, async |msg| {
                staff_page(&app, viewer, form, Some(msg), None, None).await
            })
            .await
        }
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
    viewer: Viewer,
    login: &str,
    form: Option<Fields>,
    error: Option<String>,
) -> AppResult<PersonPage> {
    let centers = service::visible_centers(app, &viewer.user).await?;
    let person = service::visible_person(app, &viewer.user, &centers, login).await?;
    Ok(PersonPage {
        roles: grantable_roles(&viewer),
        chrome: viewer.chrome(),
        form: form.unwrap_or_else(|| person_form(&person)),
        person,
        centers,
        error,
    })
}

pub(super) async fn person_show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(login): Path<String>,
) -> PageResult {
    service::require_staff_manager(&viewer.user)?;
    render(&person_page(&app, viewer, &login, None, None).await?)
}

pub(super) async fn person_update(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(login): Path<String>,
    form: Fields,
) -> PageResult {
    let input = staff_input(&form, false);
    match service::update_staff(&app, &viewer.user, &login, &input).await {
        Ok(_) => done("/admin/staff", &format!("已保存 {login}")),
        Err(e) => {
            refused(e, Shown::RulesAndForbidden, async |msg| {
                person_page(&app, viewer, &login, Some(form), Some(msg)).await
            })
            .await
        }
    }
}
