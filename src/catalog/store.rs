//! Matters as written: the one upsert that every path uses (API, admin pages, spreadsheet
//! import, demo data, generator), the delete, and the version that search answers follow.
//! These take the caller's transaction; the use cases around them are in `service`.

use serde_json::json;

use super::{
    MatterInput,
    queries::{self, path_of},
    search::{self, Cuts},
    validate::{bad_field, normalise},
};
use crate::{
    audit::{self, Actor},
    db::Tx,
    error::{AppError, AppResult},
};

/// Resolved references of a normalised matter.
struct Refs {
    center_id: i64,
    parent_id: Option<i64>,
    path: Vec<String>,
    window_ids: Vec<i64>,
}

async fn resolve(tx: &mut Tx, m: &MatterInput, self_id: Option<i64>) -> AppResult<Refs> {
    let center_id: i64 = sqlx::query_scalar("select id from centers where code = $1")
        .bind(&m.center)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| bad_field("center", format!("找不到编码为“{}”的中心", m.center)))?;
    if m.node == "matter" {
        let ok: Option<i64> = sqlx::query_scalar("select 1 from matter_types where code = $1")
            .bind(&m.type_code)
            .fetch_optional(&mut **tx)
            .await?;
        if ok.is_none() {
            let names: Vec<String> =
                sqlx::query_scalar("select name from matter_types order by sort_order")
                    .fetch_all(&mut **tx)
                    .await?;
            return Err(bad_field(
                "type_code",
                format!("事项类型“{}”无效，应为：{}", m.type_code, names.join("、")),
            ));
        }
    } else if !m.type_code.is_empty() {
        return Err(bad_field("type_code", "目录节点不设事项类型"));
    }
    let (parent_id, mut path) = match &m.parent {
        None => (None, Vec::new()),
        Some(p) => {
            #[derive(sqlx::FromRow)]
            struct Parent {
                id: i64,
                center_id: i64,
                path_json: String,
            }
            let row: Option<Parent> =
                sqlx::query_as("select id, center_id, path_json from matters where code = $1")
                    .bind(p)
                    .fetch_optional(&mut **tx)
                    .await?;
            let Parent {
                id: pid,
                center_id: pcenter,
                path_json: pjson,
            } = row.ok_or_else(|| bad_field("parent", format!("找不到上级事项“{p}”")))?;
            if pcenter != center_id {
                return Err(bad_field(
                    "parent",
                    format!("上级事项“{p}”不属于中心“{}”", m.center),
                ));
            }
            if let Some(me) = self_id {
                // The new parent may not sit below this node.
                let mut cursor = Some(pid);
                let mut steps = 0;
                while let Some(c) = cursor {
                    if c == me {
                        return Err(bad_field("parent", "不能把事项移到它自己的下级之下"));
                    }
                    steps += 1;
                    if steps > 64 {
                        break;
                    }
                    cursor = sqlx::query_scalar("select parent_id from matters where id = $1")
                        .bind(c)
                        .fetch_one(&mut **tx)
                        .await?;
                }
            }
            (Some(pid), path_of(&pjson))
        }
    };
    if path.len() >= 12 {
        return Err(bad_field("parent", "目录层级不能超过 12 级"));
    }
    path.push(m.name.clone());
    let mut window_ids = Vec::new();
    for (i, w) in m.windows.iter().enumerate() {
        let id: i64 =
            sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
                .bind(center_id)
                .bind(&w.window)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| {
                    bad_field(
                        format!("windows[{i}]"),
                        format!("中心“{}”没有编码为“{}”的窗口", m.center, w.window),
                    )
                })?;
        window_ids.push(id);
    }
    Ok(Refs {
        center_id,
        parent_id,
        path,
        window_ids,
    })
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates a matter by its code (upsert), with its materials, review points and
/// window rights, re-indexes it for search, and records the change in the audit log.
/// `action` names the audit entry (`create`/`update` from pages and the API, `import`).
pub async fn save(
    tx: &mut Tx,
    actor: &Actor,
    input: &MatterInput,
    action: &str,
    now: i64,
) -> AppResult<Saved> {
    save_with(tx, actor, input, action, now, &Cuts::default()).await
}

/// [`save`], with the search words of names and departments cut beforehand (an import cuts
/// its whole file before it begins the transaction).
pub async fn save_with(
    tx: &mut Tx,
    actor: &Actor,
    input: &MatterInput,
    action: &str,
    now: i64,
    cuts: &Cuts,
) -> AppResult<Saved> {
    let m = normalise(input)?;
    let before = queries::load(tx, &m.code).await?;
    let self_id = before.as_ref().map(|(_, _, id)| id.get());
    if let Some((row, _, _)) = &before
        && row.center_code != m.center
    {
        return Err(AppError::Conflict(format!(
            "事项编号“{}”已属于中心“{}”，不能移到其他中心",
            m.code, row.center_code
        )));
    }
    let refs = resolve(tx, &m, self_id).await?;
    let path_json =
        serde_json::to_string(&refs.path).map_err(|e| AppError::internal(e.to_string()))?;
    if let Some((row, old, _)) = &before {
        let mut old = old.clone();
        for w in &mut old.windows {
            w.window_name.clear();
        }
        if old == m && row.path_json == path_json {
            return Ok(Saved::Unchanged);
        }
    }
    let type_code = (!m.type_code.is_empty()).then_some(m.type_code.as_str());
    let id: i64 = match self_id {
        None => sqlx::query_scalar(
            "insert into matters (center_id, parent_id, code, node, name, sort_order, path_json, type_code, \
             department, level, kind, legal_basis, conditions, process, legal_limit, promised_limit, limit_unit, \
             special_procedures, fees, fee_basis, notice_commitment, consult_phone, complaint_phone, duty_phone, \
             place, hours, delivery, notes, list_kind, list_category, outside, outside_reason, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $33) returning id",
        ),
        Some(_) => sqlx::query_scalar(
            "update matters set center_id = $1, parent_id = $2, code = $3, node = $4, name = $5, sort_order = $6, \
             path_json = $7, type_code = $8, department = $9, level = $10, kind = $11, legal_basis = $12, \
             conditions = $13, process = $14, legal_limit = $15, promised_limit = $16, limit_unit = $17, \
             special_procedures = $18, fees = $19, fee_basis = $20, notice_commitment = $21, consult_phone = $22, \
             complaint_phone = $23, duty_phone = $24, place = $25, hours = $26, delivery = $27, notes = $28, \
             list_kind = $29, list_category = $30, outside = $31, outside_reason = $32, updated_at = $33 \
             where code = $3 returning id",
        ),
    }
    .bind(refs.center_id)
    .bind(refs.parent_id)
    .bind(&m.code)
    .bind(&m.node)
    .bind(&m.name)
    .bind(m.sort_order)
    .bind(&path_json)
    .bind(type_code)
    .bind(&m.department)
    .bind(&m.level)
    .bind(&m.kind)
    .bind(&m.legal_basis)
    .bind(&m.conditions)
    .bind(&m.process)
    .bind(m.legal_limit)
    .bind(m.promised_limit)
    .bind(&m.limit_unit)
    .bind(&m.special_procedures)
    .bind(&m.fees)
    .bind(&m.fee_basis)
    .bind(i64::from(m.notice_commitment))
    .bind(&m.consult_phone)
    .bind(&m.complaint_phone)
    .bind(&m.duty_phone)
    .bind(&m.place)
    .bind(&m.hours)
    .bind(&m.delivery)
    .bind(&m.notes)
    .bind(&m.list_kind)
    .bind(&m.list_category)
    .bind(i64::from(m.outside))
    .bind(&m.outside_reason)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    if self_id.is_some() {
        for table in ["matter_materials", "matter_review_points", "matter_windows"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "delete from {table} where matter_id = $1"
            )))
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (i, mat) in m.materials.iter().enumerate() {
        sqlx::query(
            "insert into matter_materials (matter_id, position, name, form, copies, required, tolerable, \
             sample, blank_form, note) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(&mat.name)
        .bind(&mat.form)
        .bind(mat.copies)
        .bind(i64::from(mat.required))
        .bind(i64::from(mat.tolerable))
        .bind(&mat.sample)
        .bind(&mat.blank_form)
        .bind(&mat.note)
        .execute(&mut **tx)
        .await?;
    }
    for (kind, list) in [("form", &m.review_form), ("content", &m.review_content)] {
        for (i, text) in list.iter().enumerate() {
            sqlx::query(
                "insert into matter_review_points (matter_id, kind, position, text) values ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(kind)
            .bind(i as i64 + 1)
            .bind(text)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (w, wid) in m.windows.iter().zip(&refs.window_ids) {
        sqlx::query(
            "insert into matter_windows (matter_id, window_id, rights) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(wid)
        .bind(&w.rights)
        .execute(&mut **tx)
        .await?;
    }
    search::index(tx, id, refs.center_id, &refs.path, &m, cuts).await?;
    bump_version(tx).await?;
    let old_path = before.as_ref().map(|(r, _, _)| r.path_json.clone());
    if old_path.is_some_and(|p| p != path_json) {
        refresh_descendants(tx, id, &refs.path).await?;
    }
    audit::record(
        tx,
        actor,
        action,
        "matter",
        &m.code,
        Some(refs.center_id),
        before.map(|(_, b, _)| snapshot(&b)),
        Some(snapshot(&m)),
        now,
    )
    .await?;
    Ok(if self_id.is_some() {
        Saved::Updated
    } else {
        Saved::Created
    })
}

fn snapshot(m: &MatterInput) -> serde_json::Value {
    serde_json::to_value(m).unwrap_or_else(|_| json!({"code": m.code}))
}

/// After a rename or move, the descendants' paths (and their search tokens) follow.
async fn refresh_descendants(tx: &mut Tx, id: i64, path: &[String]) -> AppResult<()> {
    let mut stack = vec![(id, path.to_vec())];
    while let Some((parent, ppath)) = stack.pop() {
        #[derive(sqlx::FromRow)]
        struct Kid {
            id: i64,
            name: String,
        }
        let kids: Vec<Kid> = sqlx::query_as("select id, name from matters where parent_id = $1")
            .bind(parent)
            .fetch_all(&mut **tx)
            .await?;
        for Kid { id: kid, name } in kids {
            let mut p = ppath.clone();
            p.push(name);
            let json = serde_json::to_string(&p).map_err(|e| AppError::internal(e.to_string()))?;
            sqlx::query("update matters set path_json = $1 where id = $2")
                .bind(&json)
                .bind(kid)
                .execute(&mut **tx)
                .await?;
            search::reindex(tx, kid).await?;
            stack.push((kid, p));
        }
    }
    Ok(())
}

/// Removes a matter without children (and its materials, points and window rights).
pub async fn delete(tx: &mut Tx, actor: &Actor, code: &str, now: i64) -> AppResult<()> {
    let (row, before, id) = queries::load(tx, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("找不到编号为“{code}”的事项")))?;
    let id = id.get();
    let kids: i64 = sqlx::query_scalar("select count(*) from matters where parent_id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    if kids > 0 {
        return Err(AppError::Conflict(format!(
            "“{}”下还有 {kids} 个下级事项，请先删除或移走它们",
            row.name
        )));
    }
    search::unindex(tx, id).await?;
    bump_version(tx).await?;
    sqlx::query("delete from matters where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if crate::db::is_foreign_key_violation(&e) {
                AppError::Conflict("该事项已被其他记录引用，不能删除".into())
            } else {
                e.into()
            }
        })?;
    audit::record(
        tx,
        actor,
        "delete",
        "matter",
        code,
        Some(row.center_id.get()),
        Some(snapshot(&before)),
        None,
        now,
    )
    .await
}

/// Marks the catalogue changed, so cached search answers are dropped (see `search::Cache`).
pub(crate) async fn bump_version(tx: &mut Tx) -> AppResult<()> {
    sqlx::query("update catalog_version set version = version + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
