//! The audit records of the hall's changes: a center, zone, window or person created or
//! edited, written in the change's transaction ([`crate::audit::record`]).

use serde_json::Value;

use crate::{
    audit::{self, Actor},
    db::Tx,
    error::AppResult,
};

/// A hall record as the audit trail keeps it.
pub(super) trait Audited {
    /// What the trail calls the record ("center", "zone" …).
    const ENTITY: &'static str;
    /// The record's key in the trail (its code, or a person's login).
    fn key(&self) -> &str;
    /// The fields the trail shows.
    fn snapshot(&self) -> Value;
}

/// Records that `record` (of the center `center_id`) was created.
pub(super) async fn created<T: Audited>(
    tx: &mut Tx,
    actor: &Actor,
    center_id: Option<i64>,
    record: &T,
    now: i64,
) -> AppResult<()> {
    let after = Some(record.snapshot());
    audit::record(
        tx,
        actor,
        "create",
        T::ENTITY,
        record.key(),
        center_id,
        None,
        after,
        now,
    )
    .await
}

/// Records that `before` (of the center `center_id`) was edited to `after`.
pub(super) async fn updated<T: Audited>(
    tx: &mut Tx,
    actor: &Actor,
    center_id: Option<i64>,
    before: &T,
    after: Value,
    now: i64,
) -> AppResult<()> {
    let (key, before) = (before.key(), Some(before.snapshot()));
    audit::record(
        tx,
        actor,
        "update",
        T::ENTITY,
        key,
        center_id,
        before,
        Some(after),
        now,
    )
    .await
}
