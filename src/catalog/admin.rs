//! Admin pages of the catalogue: the tree of a center's matters, the edit form, import and
//! export, and a township's taking of a template catalogue. Writes go through `service` and
//! `template`.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MANDATED_CATEGORIES, api,
    form::{from_form, to_form},
    queries,
    service::{self, SaveIntent},
    template,
    xlsx::{CellError, ImportError},
};
use crate::{
    app::App,
    auth::{CurrentUser, PageUser, Viewer},
    error::{AppError, AppResult},
    extract::Fields,
    hall::{Center, centers},
    ids::CenterId,
    web::{Chrome, PageError, PageResult, done, render, render_status},
};

#[derive(Deserialize)]
struct AdminParams {
    center: Option<String>,
    ok: Option<String>,
}

struct AdminRow {
    code: String,
    depth: usize,
    name: String,
    is_category: bool,
    type_name: String,
    department: String,
}

#[derive(Template)]
#[template(path = "catalog/admin.html")]
struct AdminPage {
    chrome: Chrome,
    centers: Vec<Center>,
    center: Center,
    rows: Vec<AdminRow>,
    total: usize,
    ok: Option<String>,
    errors: Vec<CellError>,
    error: Option<String>,
    /// For a township: the centers whose catalogue it may take as a template, the one
    /// above it first.
    templates: Vec<Center>,
}

impl AdminPage {
    fn is_township(&self) -> bool {
        self.center.level == "township"
    }

    /// The page of `center`: its first [`ADMIN_ROWS`] rows, and what is said above them.
    async fn of(
        app: &App,
        chrome: Chrome,
        center: Center,
        ok: Option<String>,
        errors: Vec<CellError>,
        error: Option<String>,
    ) -> AppResult<Self> {
        let (rows, total) = cap(admin_rows(app, center.id).await?);
        Ok(AdminPage {
            chrome,
            centers: centers::list(app.db.pool()).await?,
            templates: templates_for(app, &center).await?,
            center,
            rows,
            total,
            ok,
            errors,
            error,
        })
    }
}

/// The reason of a refusal a catalogue page shows above its form (invalid input, a conflict,
/// a named record that does not exist), or the error to pass on.
pub(super) fn refusal(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::Invalid(_)
        | AppError::InvalidField { .. }
        | AppError::Conflict(_)
        | AppError::NotFound(_) => Ok(e.public_message()),
        e => Err(e),
    }
}

/// Back to the admin page of `center`, saying `msg` (an import or a template taken).
fn back_with(center: &Center, msg: &str) -> PageResult {
    done(&format!("/admin/matters?center={}", center.code), msg)
}

/// The centers with a catalogue that `center` (a township) may take as its template: the
/// center above it first.
async fn templates_for(app: &App, center: &Center) -> AppResult<Vec<Center>> {
    if center.level != "township" {
        return Ok(Vec::new());
    }
    let counts = queries::matter_counts(app.db.pool()).await?;
    let mut out: Vec<Center> = centers::list(app.db.pool())
        .await?
        .into_iter()
        .filter(|c| c.id != center.id && counts.get(&CenterId(c.id)).is_some_and(|n| *n > 0))
        .collect();
    out.sort_by_key(|c| Some(c.id) != center.parent_id);
    Ok(out)
}

async fn managed_center(app: &App, user: &CurrentUser, code: Option<&str>) -> AppResult<Center> {
    let c = match code.filter(|c| !c.is_empty()) {
        Some(c) => centers::by_code(app.db.pool(), c).await?,
        None => {
            let all = centers::list(app.db.pool()).await?;
            let counts = queries::matter_counts(app.db.pool()).await?;
            let mut best = None;
            for c in all {
                if user.can_manage_center(c.id) {
                    let n = counts.get(&CenterId(c.id)).copied().unwrap_or(0);
                    if best.as_ref().is_none_or(|(_, m)| n > *m) {
                        best = Some((c, n));
                    }
                }
            }
            best.map(|(c, _)| c).ok_or_else(AppError::forbidden)?
        }
    };
    user.require_manage(c.id)?;
    Ok(c)
}

async fn admin_rows(app: &App, center_id: i64) -> AppResult<Vec<AdminRow>> {
    let rows = queries::admin_entries(app.db.pool(), CenterId(center_id)).await?;
    let mut out: Vec<(Vec<String>, AdminRow)> = rows
        .into_iter()
        .map(|r| {
            let path = queries::path_of(&r.path_json);
            (
                path.clone(),
                AdminRow {
                    code: r.code,
                    depth: path.len().saturating_sub(1),
                    name: path.last().cloned().unwrap_or_default(),
                    is_category: r.node == queries::Node::Category,
                    type_name: r.type_name.unwrap_or_default(),
                    department: r.department,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// Rows shown on the admin page at most; large catalogues are exchanged as spreadsheets.
const ADMIN_ROWS: usize = 2000;

fn cap(mut rows: Vec<AdminRow>) -> (Vec<AdminRow>, usize) {
    let total = rows.len();
    rows.truncate(ADMIN_ROWS);
    (rows, total)
}

async fn admin_index(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(p): Query<AdminParams>,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, p.center.as_deref()).await?;
    let chrome = viewer.chrome();
    render(&AdminPage::of(&app, chrome, center, p.ok, Vec::new(), None).await?)
}

async fn admin_export(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Query(p): Query<AdminParams>,
) -> PageResult {
    let center = managed_center(&app, &user, p.center.as_deref()).await?;
    Ok(api::xlsx_response(
        service::export_workbook(&app.db, Some(&center.code)).await?,
    ))
}

/// The file arrives as the raw body (the page's script sends it with the CSRF header).
/// The spreadsheet of an import: the `file` field of the page's form, or the whole body
/// (a script or a tool posting the .xlsx itself).
async fn uploaded_file(headers: &axum::http::HeaderMap, body: Bytes) -> AppResult<Bytes> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("multipart/form-data") {
        return Ok(body);
    }
    crate::extract::multipart_fields(content_type, body)
        .await?
        .into_iter()
        .find(|f| f.name == "file" && !f.data.is_empty())
        .map(|f| f.data)
        .ok_or_else(|| AppError::invalid_field("file", "请选择要导入的 Excel 文件（.xlsx）"))
}

async fn admin_import(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(p): Query<AdminParams>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, p.center.as_deref()).await?;
    let imported = match uploaded_file(&headers, body).await {
        Ok(file) => service::import_for(&app, &viewer.user, &file).await,
        Err(e) => Err(ImportError::App(e)),
    };
    let (errors, error) = match imported {
        Ok(r) => {
            let msg = format!(
                "导入完成：新增 {} 项，更新 {} 项，未变 {} 项",
                r.created, r.updated, r.unchanged
            );
            return back_with(&center, &msg);
        }
        Err(ImportError::Rows(rows)) => (rows, None),
        Err(ImportError::App(
            e @ (AppError::Invalid(_) | AppError::InvalidField { .. } | AppError::BadRequest(_)),
        )) => (Vec::new(), Some(e.public_message())),
        Err(ImportError::App(e)) => return Err(e.into()),
    };
    let error = error.or_else(|| Some(format!("表格有 {} 处错误，未导入任何内容。", errors.len())));
    let chrome = viewer.chrome();
    let page = AdminPage::of(&app, chrome, center, None, errors, error).await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// The page's 采用模板目录 form: copies the chosen template into this township.
async fn admin_adopt(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(p): Query<AdminParams>,
    form: Fields,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, p.center.as_deref()).await?;
    match template::adopt(&app, &viewer.user, &center.code, form.get("template")).await {
        Ok(r) => {
            let mut msg = format!(
                "已从模板中心“{}”复制 {} 项，已有的 {} 项保持不变",
                r.template, r.created, r.kept
            );
            if r.without_window > 0 {
                msg.push_str(&format!(
                    "；其中 {} 项本中心没有对应窗口，请在编辑页指定办理窗口",
                    r.without_window
                ));
            }
            back_with(&center, &msg)
        }
        Err(e) => {
            let error = Some(refusal(e)?);
            let chrome = viewer.chrome();
            let page = AdminPage::of(&app, chrome, center, None, Vec::new(), error).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "catalog/edit.html")]
struct EditPage {
    chrome: Chrome,
    center: Center,
    /// None for a new matter.
    code: Option<String>,
    form: Fields,
    types: Vec<(String, String)>,
    error: Option<String>,
    ok: Option<String>,
    has_children: bool,
}

impl EditPage {
    /// The materials as numbered in the guide, for the upload form.
    fn material_names(&self) -> Vec<(usize, String)> {
        self.form
            .get("materials")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('|').next().unwrap_or("").trim().to_owned()))
            .collect()
    }

    fn levels(&self) -> &'static [super::Code] {
        LEVELS
    }
    fn kinds(&self) -> &'static [super::Code] {
        CASE_KINDS
    }
    fn units(&self) -> &'static [super::Code] {
        LIMIT_UNITS
    }
    fn list_kinds(&self) -> &'static [super::Code] {
        LIST_KINDS
    }
    fn categories(&self) -> &'static [&'static str] {
        MANDATED_CATEGORIES
    }
}

#[derive(Deserialize)]
struct NewParams {
    center: Option<String>,
    parent: Option<String>,
}

async fn admin_new(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(p): Query<NewParams>,
) -> PageResult {
    let center = managed_center(&app, &viewer.user, p.center.as_deref()).await?;
    let mut form = Fields(vec![("node".into(), "matter".into())]);
    if let Some(parent) = p.parent {
        form.0.push(("parent".into(), parent));
    }
    render(&EditPage {
        chrome: viewer.chrome(),
        center,
        code: None,
        form,
        types: queries::types(app.db.pool()).await?,
        error: None,
        ok: None,
        has_children: false,
    })
}

#[derive(Deserialize)]
struct Flash {
    ok: Option<String>,
    error: Option<String>,
}

async fn admin_edit(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult {
    let mut conn = app.db.pool().acquire().await?;
    let g = queries::guide(&mut conn, &code).await?;
    let center = managed_center(&app, &viewer.user, Some(&g.matter.center)).await?;
    render(&EditPage {
        chrome: viewer.chrome(),
        center,
        code: Some(code),
        form: to_form(&g.matter),
        types: queries::types(app.db.pool()).await?,
        error: f.error,
        ok: f.ok,
        has_children: !g.children.is_empty(),
    })
}

async fn admin_save(State(app): State<Arc<App>>, viewer: Viewer, form: Fields) -> PageResult {
    let center = managed_center(&app, &viewer.user, Some(form.get("center"))).await?;
    let editing = Some(form.get("editing").to_owned()).filter(|s| !s.is_empty());
    let result = async {
        let m = from_form(&form, &center.code)?;
        if let Some(e) = &editing
            && e != &m.code
        {
            return Err(AppError::invalid_field("code", "事项编号不能修改"));
        }
        let intent = if editing.is_some() {
            SaveIntent::Update
        } else {
            SaveIntent::Create
        };
        service::save_matter(&app, &viewer.user, &m, intent).await?;
        AppResult::Ok(m.code)
    }
    .await;
    match result {
        Ok(code) => done(&format!("/admin/matters/{code}/edit"), "已保存"),
        Err(e @ (AppError::Invalid(_) | AppError::InvalidField { .. } | AppError::Conflict(_))) => {
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EditPage {
                    chrome: viewer.chrome(),
                    center,
                    code: editing,
                    form,
                    types: queries::types(app.db.pool()).await?,
                    error: Some(e.public_message()),
                    ok: None,
                    has_children: false,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn admin_delete(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let center_code = service::delete_matter(&app, &user, &code)
        .await
        .map_err(PageError::from)?;
    done(
        &format!("/admin/matters?center={center_code}"),
        &format!("已删除 {code}"),
    )
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/admin/matters", get(admin_index))
        .route("/admin/matters/new", get(admin_new))
        .route("/admin/matters/save", post(admin_save))
        .route("/admin/matters/export", get(admin_export))
        .route("/admin/matters/import", post(admin_import))
        .route("/admin/matters/adopt", post(admin_adopt))
        .route("/admin/matters/{code}/edit", get(admin_edit))
        .route("/admin/matters/{code}/delete", post(admin_delete))
}
