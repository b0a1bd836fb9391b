//! 电子监察 groundwork: every administrative change is appended to `audit_log` in the same
//! transaction as the change — who, when, what, and the record before and after.
//! The table refuses UPDATE and DELETE (triggers on both engines).

use serde_json::Value;

use crate::{auth::CurrentUser, db::Tx, error::AppResult};

/// Who made a change: a signed-in person, or the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    /// An operator at the console (`yichuang user add …`).
    pub fn cli() -> Self {
        Self {
            id: None,
            name: "cli".into(),
        }
    }

    /// The system itself (demo data, migrations).
    pub fn system() -> Self {
        Self {
            id: None,
            name: "system".into(),
        }
    }
}

impl From<&CurrentUser> for Actor {
    fn from(u: &CurrentUser) -> Self {
        Self {
            id: Some(u.id.get()),
            name: u.login.clone(),
        }
    }
}

/// Appends one audit record.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_key: &str,
    center_id: Option<i64>,
    before: Option<Value>,
    after: Option<Value>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "insert into audit_log (at, actor_id, actor, action, entity, entity_key, center_id, before_json, after_json) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(action)
    .bind(entity)
    .bind(entity_key)
    .bind(center_id)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One audit record as shown to managers.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub center_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// The newest entries; limited to `centers` unless `None` (system admin: everything).
pub async fn recent(
    pool: &sqlx::AnyPool,
    centers: Option<&[i64]>,
    limit: i64,
) -> AppResult<Vec<AuditEntry>> {
    let columns = "select id, at, actor, action, entity, entity_key, center_id, before_json, after_json from audit_log";
    let rows = match centers {
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{columns} order by id desc limit $1"
            )))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Some([]) => Vec::new(),
        Some(ids) => {
            // The list holds only integers, bound as parameters $2…
            let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "{columns} where center_id in ({}) order by id desc limit $1",
                marks.join(", ")
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        }
    };
    Ok(rows)
}

impl AuditEntry {
    /// When, in Beijing time.
    pub fn when(&self) -> String {
        crate::clock::format_local(self.at)
    }

    /// The action in Chinese (新建, 修改 …).
    pub fn action_label(&self) -> &str {
        crate::audit_labels::action_label(&self.action)
    }

    /// The kind of record in Chinese (专区, 窗口 …).
    pub fn entity_label(&self) -> &str {
        crate::audit_labels::entity_label(&self.entity)
    }

    /// What changed, field by field (名称：旧 → 新).
    pub fn changes(&self) -> Vec<String> {
        crate::audit_labels::changes(self.before_json.as_deref(), self.after_json.as_deref(), 8)
    }
}
