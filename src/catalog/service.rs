//! Use cases of the catalogue that change it: save a matter, delete one, import a workbook.
//! Each checks its input, decides who may do it, writes through [`store`] (which records the
//! audit entry) in one transaction ([`Db::transaction`]). The JSON API, the admin pages and the CLI call these;
//! handlers only parse input and render the answer.

use super::{
    Guide, MatterInput, queries,
    store::{self, Saved},
    xlsx::{self, CellError, ImportError, ImportReport},
};
use crate::{
    app::App,
    audit::Actor,
    auth::CurrentUser,
    db::Db,
    error::{AppError, AppResult},
    hall::centers,
};

/// What a save means to do with an existing matter of the same code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveIntent {
    /// Create or replace (the API's PUT): audited as `save`.
    Put,
    /// A new matter (the admin page's empty form): a taken code is refused.
    Create,
    /// The matter being edited on the admin page.
    Update,
}

impl SaveIntent {
    fn action(self) -> &'static str {
        match self {
            SaveIntent::Put => "save",
            SaveIntent::Create => "create",
            SaveIntent::Update => "update",
        }
    }
}

/// Saves a matter for `user`, who must manage its center (and the center that holds the code
/// now, if it exists). Answers the guide as saved.
pub async fn save_matter(
    app: &App,
    user: &CurrentUser,
    input: &MatterInput,
    intent: SaveIntent,
) -> AppResult<Guide> {
    let center = centers::by_code(app.db.pool(), &input.center).await?;
    user.require_manage(center.id)?;
    let now = app.clock.now_micros();
    let code = input.code.trim();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                match (queries::owner(&mut tx, code).await?, intent) {
                    (Some(_), SaveIntent::Create) => {
                        return Err(AppError::Conflict(format!(
                            "事项编号“{}”已存在",
                            input.code
                        )));
                    }
                    (Some(owner), _) => user.require_manage(owner.center_id.get())?,
                    (None, _) => {}
                }
                store::save(&mut tx, &Actor::from(user), input, intent.action(), now).await?;
                queries::guide(&mut tx, code).await
            })
        })
        .await
}

/// Deletes a matter without children for `user`, who must manage its center. Answers the
/// code of that center.
pub async fn delete_matter(app: &App, user: &CurrentUser, code: &str) -> AppResult<String> {
    let now = app.clock.now_micros();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let owner = queries::owner(&mut tx, code)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("找不到编号为“{code}”的事项")))?;
                user.require_manage(owner.center_id.get())?;
                store::delete(&mut tx, &Actor::from(user), code, now).await?;
                Ok(owner.center_code)
            })
        })
        .await
}

/// Imports a workbook for `user`: all rows or none; only centers the user manages.
pub async fn import_for(
    app: &App,
    user: &CurrentUser,
    bytes: &[u8],
) -> Result<ImportReport, ImportError> {
    let check = |center_id: i64| user.require_manage(center_id);
    import_workbook(
        &app.db,
        &Actor::from(user),
        bytes,
        app.clock.now_micros(),
        &check,
    )
    .await
}

/// Imports a workbook: the file is read, checked and cut into search words first, and only
/// then is the write transaction begun (on SQLite it holds the one write lock, which the
/// kiosks and the windows wait for). Matters are matched by code; parents are saved before
/// their children; any error rolls everything back.
pub async fn import_workbook(
    db: &Db,
    actor: &Actor,
    bytes: &[u8],
    now: i64,
    may_manage: &(dyn Fn(i64) -> AppResult<()> + Sync),
) -> Result<ImportReport, ImportError> {
    let types = queries::types(db.pool()).await?;
    let bytes = bytes.to_vec();
    let prepared = tokio::task::spawn_blocking(move || xlsx::prepare(&bytes, &types))
        .await
        .map_err(AppError::from)??;
    let mut txn = db.begin().await?;
    let tx = &mut txn;
    {
        let mut centers: Vec<&str> = prepared
            .matters
            .iter()
            .map(|(_, m)| m.center.as_str())
            .collect();
        centers.sort_unstable();
        centers.dedup();
        for c in centers {
            if let Some(id) = queries::center_id(tx, c).await? {
                may_manage(id)?;
            }
        }
        let mut report = ImportReport::default();
        let mut errors = Vec::new();
        for (origin, m) in &prepared.matters {
            match store::save_with(tx, actor, m, "import", now, &prepared.cuts).await {
                Ok(Saved::Created) => report.created += 1,
                Ok(Saved::Updated) => report.updated += 1,
                Ok(Saved::Unchanged) => report.unchanged += 1,
                Err(e) => match xlsx::cell_error(origin, e) {
                    Ok(cell) => {
                        errors.push(cell);
                        if errors.len() >= 200 {
                            break;
                        }
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e: &CellError| e.row);
            return Err(ImportError::Rows(errors));
        }
        txn.commit().await?;
        Ok(report)
    }
}

/// The catalogue of one center (or all) as an .xlsx workbook.
pub async fn export_workbook(db: &Db, center: Option<&str>) -> AppResult<Vec<u8>> {
    let mut conn = db.pool().acquire().await?;
    let matters = queries::export(&mut conn, center).await?;
    let types = queries::types(db.pool()).await?;
    tokio::task::spawn_blocking(move || xlsx::write(&matters, &types)).await?
}
