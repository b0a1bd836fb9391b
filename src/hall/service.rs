//! The hall's use cases (R1): one function each, called by the JSON API and the admin pages
//! alike. Each validates, decides whether the caller may (on the center, in one place:
//! [`managed_center`]), writes and audits in one transaction ([`crate::db::Db::transaction`]).
//! Handlers only parse their input and render the answer.

use futures_util::future::BoxFuture;

use super::{
    Center, Window, Zone, centers,
    centers::CenterInput,
    posts::{self, Post},
    staff::{self, Staff, StaffInput},
    windows::{self, WindowInput},
    zones::{self, ZoneInput},
};
use crate::{
    app::App,
    audit::Actor,
    auth::{CurrentUser, policy},
    db::Work,
    error::{AppError, AppResult},
};

/// A center the user may manage, or 404 (not theirs) / 403 (theirs, but not to manage).
pub async fn managed_center(app: &App, user: &CurrentUser, code: &str) -> AppResult<Center> {
    let c = centers::by_code(app.db.pool(), code).await?;
    user.require_manage(c.id)?;
    Ok(c)
}

/// Runs `write` in one transaction on a center the user manages ([`managed_center`]), with
/// the clock's now: every change to a center's structure (zones, windows, posts) has this shape.
async fn in_managed_center<'a, T>(
    app: &App,
    user: &'a CurrentUser,
    center: &str,
    write: impl for<'c> FnOnce(Work<'c, 'a>, Center, i64) -> BoxFuture<'c, AppResult<T>>,
) -> AppResult<T> {
    let c = managed_center(app, user, center).await?;
    let now = app.clock.now_micros();
    app.db.transaction(|tx| write(tx, c, now)).await
}

/// A center whose internal records (staff, posts) the user may read, or 404.
pub async fn visible_center(app: &App, user: &CurrentUser, code: &str) -> AppResult<Center> {
    let c = centers::by_code(app.db.pool(), code).await?;
    if !user.can_see_center(c.id) {
        return Err(super::input::missing("编码", code, "中心"));
    }
    Ok(c)
}

/// Centers the user may see, in code order.
pub async fn visible_centers(app: &App, user: &CurrentUser) -> AppResult<Vec<Center>> {
    Ok(centers::list(app.db.pool())
        .await?
        .into_iter()
        .filter(|c| user.can_see_center(c.id))
        .collect())
}

/// Refuses a new center unless the user is a system admin.
pub fn require_center_creator(user: &CurrentUser) -> AppResult<()> {
    if policy::can_create_center(user) {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有系统管理员可以新建中心".into()))
    }
}

/// Refuses the staff pages and staff changes to anyone who manages nothing.
pub fn require_staff_manager(user: &CurrentUser) -> AppResult<()> {
    if user.is_manager() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// Creates a center (system admin).
pub async fn create_center(
    app: &App,
    user: &CurrentUser,
    input: &CenterInput,
) -> AppResult<Center> {
    require_center_creator(user)?;
    let now = app.clock.now_micros();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { centers::create(&mut tx, &Actor::from(user), input, now).await })
        })
        .await
}

/// Edits a center (system admin, or a hall manager of it).
pub async fn update_center(
    app: &App,
    user: &CurrentUser,
    code: &str,
    input: &CenterInput,
) -> AppResult<Center> {
    in_managed_center(app, user, code, |mut tx, c, now| {
        Box::pin(
            async move { centers::update(&mut tx, &Actor::from(user), &c.code, input, now).await },
        )
    })
    .await
}

/// Adds a zone to a center.
pub async fn create_zone(
    app: &App,
    user: &CurrentUser,
    center: &str,
    input: &ZoneInput,
) -> AppResult<Zone> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(async move { zones::create(&mut tx, &Actor::from(user), c.id, input, now).await })
    })
    .await
}

/// Renames or reorders a zone.
pub async fn update_zone(
    app: &App,
    user: &CurrentUser,
    center: &str,
    zone: &str,
    input: &ZoneInput,
) -> AppResult<Zone> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(
            async move { zones::update(&mut tx, &Actor::from(user), c.id, zone, input, now).await },
        )
    })
    .await
}

/// Adds a window to a center.
pub async fn create_window(
    app: &App,
    user: &CurrentUser,
    center: &str,
    input: &WindowInput,
) -> AppResult<Window> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(
            async move { windows::create(&mut tx, &Actor::from(user), c.id, input, now).await },
        )
    })
    .await
}

/// Edits a window.
pub async fn update_window(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
    input: &WindowInput,
) -> AppResult<Window> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(async move {
            windows::update(&mut tx, &Actor::from(user), c.id, window, input, now).await
        })
    })
    .await
}

/// A new person and, when none was given, the password generated for them (shown once).
pub struct CreatedStaff {
    pub staff: Staff,
    pub generated_password: Option<String>,
}

/// Adds a person (system admin, or a hall manager for their centers).
pub async fn create_staff(
    app: &App,
    user: &CurrentUser,
    input: &StaffInput,
) -> AppResult<CreatedStaff> {
    require_staff_manager(user)?;
    let (plain, generated) = match input.password.clone().filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (crate::auth::password::generate(), true),
    };
    let hash = staff::hash_new_password(plain.clone(), app.hash_cost).await?;
    let now = app.clock.now_micros();
    let out = app
        .db
        .transaction(|mut tx| {
            Box::pin(async move {
                staff::create(&mut tx, Some(user), &Actor::from(user), input, &hash, now).await
            })
        })
        .await?;
    Ok(CreatedStaff {
        staff: out,
        generated_password: generated.then_some(plain),
    })
}

/// Edits a person; a non-empty `password` resets theirs (and unlocks the account).
pub async fn update_staff(
    app: &App,
    user: &CurrentUser,
    login: &str,
    input: &StaffInput,
) -> AppResult<Staff> {
    let hash = match input.password.clone().filter(|p| !p.is_empty()) {
        Some(p) => Some(staff::hash_new_password(p, app.hash_cost).await?),
        None => None,
    };
    let now = app.clock.now_micros();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                staff::update(&mut tx, user, login, input, hash.as_deref(), now).await
            })
        })
        .await
}

/// Puts a person on a window's A or B post.
pub async fn assign_post(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
    login: &str,
    post: Post,
) -> AppResult<()> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(async move { posts::assign(&mut tx, user, c.id, window, login, post, now).await })
    })
    .await
}

/// Takes a person off a window's post.
pub async fn remove_post(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
    login: &str,
) -> AppResult<()> {
    in_managed_center(app, user, center, |mut tx, c, now| {
        Box::pin(async move { posts::remove(&mut tx, user, c.id, window, login, now).await })
    })
    .await
}

/// Parses "A" or "B".
pub fn parse_post(raw: &str) -> AppResult<Post> {
    Post::parse(raw).ok_or_else(|| AppError::Invalid("岗位须为 A 或 B".into()))
}

/// A person the user may see: one of `visible` (the user's [`visible_centers`]) is theirs, or
/// the user is a system admin; else 404.
pub async fn visible_person(
    app: &App,
    user: &CurrentUser,
    visible: &[Center],
    login: &str,
) -> AppResult<Staff> {
    let mut tx = app.db.pool().begin().await?;
    let person = staff::by_login(&mut tx, login, app.clock.now_micros()).await?;
    tx.rollback().await?;
    let shares_a_center = person
        .centers
        .iter()
        .any(|c| visible.iter().any(|v| &v.code == c));
    if !user.is_admin() && !shares_a_center {
        return Err(super::input::missing("登录名", login, "人员"));
    }
    Ok(person)
}
