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
    let (actor, now) = (Actor::from(user), app.clock.now_micros());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { super::save_hours(&mut tx, &actor, center_id, hours, now).await })
        })
        .await
}

/// Imports a pasted holiday year for `user`.
pub async fn import_year(app: &App, user: &CurrentUser, text: &str) -> AppResult<HolidayYear> {
    let (actor, now) = (Actor::from(user), app.clock.now_micros());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { super::import_year(&mut tx, &actor, text, now).await })
        })
        .await
}
