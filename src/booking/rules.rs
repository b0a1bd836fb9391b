//! The hall manager's booking rules: a center's settings, each matter's periods and answer,
//! each window's hourly capacity. Checked, written and audited in one transaction each.

use serde::Deserialize;
use utoipa::ToSchema;

use super::queries;
use super::slots::BookingPeriods;
use super::{Answer, Settings};
use crate::app::App;
use crate::audit::Actor;
use crate::auth::{CurrentUser, policy};
use crate::error::{AppError, AppResult};
use crate::ids::CenterId;

fn in_range(field: &str, label: &str, v: i64, lo: i64, hi: i64) -> AppResult<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            field,
            format!("{label}须在 {lo} 到 {hi} 之间"),
        ))
    }
}

/// Refuses anyone but a hall manager of `center`: the booking rules are theirs to set.
fn require_rules_manager(user: &CurrentUser, center: i64) -> AppResult<()> {
    if policy::can_approve_booking_refusal(user, center) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有本中心的大厅管理员可以设置预约规则".into(),
        ))
    }
}

/// Sets a center's booking rules (hall manager; audited).
pub async fn save_settings(
    app: &App,
    user: &CurrentUser,
    center: &str,
    s: &Settings,
) -> AppResult<Settings> {
    // (field, label, value, lowest, highest), checked in this order.
    let ranges = [
        ("days_ahead", "可提前预约天数", s.days_ahead, 1, 90),
        (
            "max_per_person",
            "每个身份证号的有效预约数",
            s.max_per_person,
            1,
            100,
        ),
        (
            "max_per_phone",
            "每个手机号的有效预约数",
            s.max_per_phone,
            1,
            100,
        ),
        ("grace_minutes", "迟到宽限分钟数", s.grace_minutes, 0, 240),
        ("early_minutes", "提前签到分钟数", s.early_minutes, 0, 480),
        ("no_show_limit", "爽约次数上限", s.no_show_limit, 0, 100),
    ];
    for (field, label, v, lo, hi) in ranges {
        in_range(field, label, v, lo, hi)?;
    }
    let c = crate::hall::centers::by_code(app.db.pool(), center.trim()).await?;
    require_rules_manager(user, c.id)?;
    let now = app.clock.now_micros();
    let actor = Actor::from(user);
    let (actor, s) = (&actor, s);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let before = queries::settings(&mut tx, CenterId(c.id)).await?;
                sqlx::query(
                    "insert into booking_settings (center_id, days_ahead, max_per_person, max_per_phone, \
                     grace_minutes, early_minutes, no_show_limit, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8) \
                     on conflict (center_id) do update set days_ahead = excluded.days_ahead, \
                     max_per_person = excluded.max_per_person, max_per_phone = excluded.max_per_phone, \
                     grace_minutes = excluded.grace_minutes, early_minutes = excluded.early_minutes, \
                     no_show_limit = excluded.no_show_limit, updated_at = excluded.updated_at",
                )
                .bind(c.id)
                .bind(s.days_ahead)
                .bind(s.max_per_person)
                .bind(s.max_per_phone)
                .bind(s.grace_minutes)
                .bind(s.early_minutes)
                .bind(s.no_show_limit)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let after = queries::settings(&mut tx, CenterId(c.id)).await?;
                crate::audit::record(
                    &mut tx,
                    actor,
                    "update",
                    "booking_settings",
                    &c.code,
                    Some(c.id),
                    serde_json::to_value(&before).ok(),
                    serde_json::to_value(&after).ok(),
                    now,
                )
                .await?;
                Ok(after)
            })
        })
        .await
}

/// How a matter is booked, as a manager sets it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct MatterRuleInput {
    /// `none`, `extended`, `regular` or `both`.
    pub periods: String,
    /// `auto` or `clerk`.
    pub answer: String,
}

/// Sets which periods a matter is booked in and how it is answered (hall manager; audited).
pub async fn save_matter_rule(
    app: &App,
    user: &CurrentUser,
    matter: &str,
    input: &MatterRuleInput,
) -> AppResult<()> {
    let periods = BookingPeriods::parse(input.periods.trim()).ok_or_else(|| {
        AppError::invalid_field("periods", "预约时段须为 none、extended、regular 或 both")
    })?;
    let answer = Answer::parse(input.answer.trim())
        .ok_or_else(|| AppError::invalid_field("answer", "答复方式须为 auto 或 clerk"))?;
    let mut conn = app.db.pool().acquire().await?;
    let (id, center_id): (crate::ids::MatterId, CenterId) =
        sqlx::query_as("select id, center_id from matters where code = $1 and node = 'matter'")
            .bind(matter.trim())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("找不到编号为“{}”的事项", matter.trim())))?;
    drop(conn);
    require_rules_manager(user, center_id.get())?;
    let (now, actor, code) = (app.clock.now_micros(), &Actor::from(user), matter.trim());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                sqlx::query(
                    "insert into booking_matters (matter_id, periods, answer, updated_at) values ($1, $2, $3, $4) \
                     on conflict (matter_id) do update set periods = excluded.periods, answer = excluded.answer, \
                     updated_at = excluded.updated_at",
                )
                .bind(id)
                .bind(periods)
                .bind(answer)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let after = serde_json::json!({"periods": periods, "answer": answer});
                audit_rule(&mut tx, actor, "booking_matter", code, center_id.get(), after, now).await
            })
        })
        .await
}

/// Sets a window's places per bookable hour (hall manager; audited).
pub async fn save_window_capacity(
    app: &App,
    user: &CurrentUser,
    center: &str,
    window: &str,
    capacity: i64,
) -> AppResult<()> {
    in_range("capacity", "每小时可预约人数", capacity, 0, 1000)?;
    let c = crate::hall::centers::by_code(app.db.pool(), center.trim()).await?;
    require_rules_manager(user, c.id)?;
    let (now, actor, window) = (app.clock.now_micros(), &Actor::from(user), window.trim());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let n = sqlx::query(
                    "update windows set booking_capacity = $1 where center_id = $2 and code = $3",
                )
                .bind(capacity)
                .bind(c.id)
                .bind(window)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(AppError::NotFound(format!(
                        "本中心没有编号为“{window}”的窗口"
                    )));
                }
                let key = format!("{}/{window}", c.code);
                let after = serde_json::json!({"capacity": capacity});
                audit_rule(&mut tx, actor, "booking_capacity", &key, c.id, after, now).await
            })
        })
        .await
}

/// The audit record of a rule a manager set: what it is now (`after`) of `record` `key`.
async fn audit_rule(
    tx: &mut crate::db::Tx,
    actor: &Actor,
    record: &str,
    key: &str,
    center: i64,
    after: serde_json::Value,
    now: i64,
) -> AppResult<()> {
    crate::audit::record(
        tx,
        actor,
        "update",
        record,
        key,
        Some(center),
        None,
        Some(after),
        now,
    )
    .await
}
