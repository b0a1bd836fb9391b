//! Use cases of the timetable that change it, each in one transaction; the JSON API and the
//! admin pages both call these (authorisation stays with the caller's `managed` lookup).

use super::{HolidayYear, Hours};
use crate::{app::App, audit::Actor, auth::CurrentUser, error::AppResult};

/// Sets a center's regular hours and season dates for `user`.
pub async fn set_hours(
    app: &App,
    user: &CurrentUser,
    center_id: i64,
    hours: &Hours,
) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    super::save_hours(
        &mut tx,
        &Actor::from(user),
        center_id,
        hours,
        app.clock.now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Imports a pasted holiday year for `user`.
pub async fn import_year(app: &App, user: &CurrentUser, text: &str) -> AppResult<HolidayYear> {
    let mut tx = app.db.begin().await?;
    let y = super::import_year(&mut tx, &Actor::from(user), text, app.clock.now_micros()).await?;
    tx.commit().await?;
    Ok(y)
}
