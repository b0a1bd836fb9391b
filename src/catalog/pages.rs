//! Pages of the catalogue: public search and browsing, the printable 办事指南 and booklet of
//! lists (打印成册, seed 000 §3.4); admin pages to edit matters, import and export.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    CASE_KINDS, Guide, LEVELS, LIMIT_UNITS, LIST_KINDS, MANDATED_CATEGORIES, Material, MatterInput,
    MatterSummary, WindowRight, api, code_of,
    search::{Found, PER_PAGE},
    store::{self, ListRow},
    xlsx::{CellError, ImportError},
};
use crate::{
    app::App,
    audit::Actor,
    auth::{CsrfToken, CurrentUser, MaybeUser, PageUser},
    error::{AppError, AppResult},
    extract::Fields,
    hall::{Center, centers},
    web::{Chrome, PageError, PageResult, render, render_status},
};

#[derive(Deserialize)]
struct BrowseParams {
    #[serde(default)]
    q: String,
    center: Option<String>,
    dept: Option<String>,
    page: Option<i64>,
}

/// A level-1 category with its children, for browsing.
struct Branch {
    category: MatterSummary,
    code: String,
    children: Vec<MatterSummary>,
}

#[derive(Template)]
#[template(path = "catalog/index.html")]
struct IndexPage {
    chrome: Chrome,
    centers: Vec<Center>,
    center: Option<Center>,
    q: String,
    dept: String,
    found: Option<Found>,
    page: i64,
    pages: i64,
    branches: Vec<Branch>,
    departments: Vec<(String, i64)>,
    by_dept: Vec<MatterSummary>,
}

impl IndexPage {
    fn center_code(&self) -> &str {
        self.center.as_ref().map(|c| c.code.as_str()).unwrap_or("")
    }
}

async fn default_center(app: &App, code: Option<&str>) -> AppResult<Option<Center>> {
    match code.filter(|c| !c.is_empty()) {
        Some(c) => Ok(Some(centers::by_code(app.db.pool(), c).await?)),
        None => {
            // The first center that has a catalogue.
            let code: Option<String> = sqlx::query_scalar(
                "select c.code from centers c where exists (select 1 from matters m where m.center_id = c.id) \
                 order by c.id limit 1",
            )
            .fetch_optional(app.db.pool())
            .await?;
            match code {
                Some(c) => Ok(Some(centers::by_code(app.db.pool(), &c).await?)),
                None => Ok(None),
            }
        }
    }
}

async fn index(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(p): Query<BrowseParams>,
) -> PageResult {
    let center = default_center(&app, p.center.as_deref()).await?;
    let centers = centers::list(app.db.pool()).await?;
    let page = p.page.unwrap_or(1).max(1);
    let q = p.q.trim().to_owned();
    let dept = p.dept.unwrap_or_default();
    let mut found = None;
    let mut branches = Vec::new();
    let mut departments = Vec::new();
    let mut by_dept = Vec::new();
    if let Some(c) = &center {
        if !q.is_empty() {
            let answer = app
                .search_cache
                .search(&app.db, app.generation.current(), &q, Some(&c.code), page)
                .await?;
            found = Some(answer.found.as_ref().clone());
        } else {
            let mut conn = app.db.pool().acquire().await?;
            for category in store::children(&mut conn, None, c.id).await? {
                let id: i64 = sqlx::query_scalar("select id from matters where code = $1")
                    .bind(&category.code)
                    .fetch_one(&mut *conn)
                    .await?;
                let children = store::children(&mut conn, Some(id), c.id).await?;
                branches.push(Branch {
                    code: category.code.clone(),
                    category,
                    children,
                });
            }
            departments = store::departments(app.db.pool(), c.id).await?;
            if !dept.is_empty() {
                by_dept = store::by_department(app.db.pool(), c.id, &dept).await?;
            }
        }
    }
    let pages = found
        .as_ref()
        .map(|f| (f.total + PER_PAGE - 1) / PER_PAGE)
        .unwrap_or(0);
    render(&IndexPage {
        chrome: Chrome::new(user, csrf),
        centers,
        center,
        q,
        dept,
        found,
        page,
        pages,
        branches,
        departments,
        by_dept,
    })
}

#[derive(Template)]
#[template(path = "catalog/guide.html")]
struct GuidePage {
    chrome: Chrome,
    g: Guide,
}

async fn guide_page(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> PageResult {
    let mut conn = app.db.pool().acquire().await?;
    let g = store::guide(&mut conn, &code).await?;
    render(&GuidePage {
        chrome: Chrome::new(user, csrf),
        g,
    })
}

/// Rows of one section on one page of the booklet: a county's lists fit on the first, a
/// synthetic catalogue of 100,000 situations would be a 14 MB page.
const BOOKLET_ROWS: i64 = 300;

/// One section of the booklet, as far as this page shows it.
struct Booklet {
    key: String,
    title: String,
    total: i64,
    rows: Vec<ListRow>,
    page: i64,
    pages: i64,
}

#[derive(Template)]
#[template(path = "catalog/booklet.html")]
struct BookletPage {
    chrome: Chrome,
    center: Center,
    /// Every section with its count (the contents).
    contents: Vec<(String, String, i64)>,
    /// The sections this page shows: all (their first pages), or one page of one.
    lists: Vec<Booklet>,
    /// Showing one section only.
    single: bool,
}

#[derive(Deserialize)]
struct BookletQuery {
    center: Option<String>,
    section: Option<String>,
    page: Option<i64>,
}

async fn booklet(
    State(app): State<Arc<App>>,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(p): Query<BookletQuery>,
) -> PageResult {
    let center = default_center(&app, p.center.as_deref())
        .await?
        .ok_or_else(|| AppError::NotFound("尚无事项目录".into()))?;
    let counts = store::section_counts(app.db.pool(), center.id).await?;
    let chosen = match p.section.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(
            store::Section::parse(k)
                .ok_or_else(|| AppError::NotFound(format!("没有“{k}”这一目录")))?,
        ),
    };
    let mut lists = Vec::new();
    for (section, total) in &counts {
        if chosen.as_ref().is_some_and(|c| c != section) {
            continue;
        }
        let pages = ((total + BOOKLET_ROWS - 1) / BOOKLET_ROWS).max(1);
        let page = if chosen.is_some() {
            p.page.unwrap_or(1).clamp(1, pages)
        } else {
            1
        };
        let rows = store::section_rows(
            app.db.pool(),
            center.id,
            section,
            BOOKLET_ROWS,
            (page - 1) * BOOKLET_ROWS,
        )
        .await?;
        lists.push(Booklet {
            key: section.key(),
            title: section.title(),
            total: *total,
            rows,
            page,
            pages,
        });
    }
    render(&BookletPage {
        chrome: Chrome::new(user, csrf),
        contents: counts
            .iter()
            .map(|(s, n)| (s.key(), s.title(), *n))
            .collect(),
        single: chosen.is_some(),
        center,
        lists,
    })
}

// ---- admin ----

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
}

async fn managed_center(app: &App, user: &CurrentUser, code: Option<&str>) -> AppResult<Center> {
    let c = match code.filter(|c| !c.is_empty()) {
        Some(c) => centers::by_code(app.db.pool(), c).await?,
        None => {
            let all = centers::list(app.db.pool()).await?;
            let mut best = None;
            for c in all {
                if user.can_manage_center(c.id) {
                    let n: i64 =
                        sqlx::query_scalar("select count(*) from matters where center_id = $1")
                            .bind(c.id)
                            .fetch_one(app.db.pool())
                            .await?;
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
    #[derive(sqlx::FromRow)]
    struct Row {
        code: String,
        node: String,
        path_json: String,
        type_name: Option<String>,
        department: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select m.code, m.node, m.path_json, t.name as type_name, m.department from matters m \
         left join matter_types t on t.code = m.type_code where m.center_id = $1 order by m.id",
    )
    .bind(center_id)
    .fetch_all(app.db.pool())
    .await?;
    let mut out: Vec<(Vec<String>, AdminRow)> = rows
        .into_iter()
        .map(|r| {
            let path = store::path_of(&r.path_json);
            (
                path.clone(),
                AdminRow {
                    code: r.code,
                    depth: path.len().saturating_sub(1),
                    name: path.last().cloned().unwrap_or_default(),
                    is_category: r.node == "category",
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
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(p): Query<AdminParams>,
) -> PageResult {
    let center = managed_center(&app, &user, p.center.as_deref()).await?;
    let (rows, total) = cap(admin_rows(&app, center.id).await?);
    render(&AdminPage {
        total,
        chrome: Chrome::new(Some(user), csrf),
        centers: centers::list(app.db.pool()).await?,
        center,
        rows,
        ok: p.ok,
        errors: Vec::new(),
        error: None,
    })
}

async fn admin_export(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Query(p): Query<AdminParams>,
) -> PageResult {
    let center = managed_center(&app, &user, p.center.as_deref()).await?;
    Ok(api::xlsx_response(
        api::export_bytes(&app, Some(&center.code)).await?,
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
        .ok_or_else(|| AppError::Invalid("请选择要导入的 Excel 文件（.xlsx）".into()))
}

async fn admin_import(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(p): Query<AdminParams>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> PageResult {
    let center = managed_center(&app, &user, p.center.as_deref()).await?;
    let imported = match uploaded_file(&headers, body).await {
        Ok(file) => api::import_bytes(&app, &user, &file).await,
        Err(e) => Err(ImportError::App(e)),
    };
    let (errors, error) = match imported {
        Ok(r) => {
            let msg = format!(
                "导入完成：新增 {} 项，更新 {} 项，未变 {} 项",
                r.created, r.updated, r.unchanged
            );
            let msg: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
            return Ok(
                Redirect::to(&format!("/admin/matters?center={}&ok={msg}", center.code))
                    .into_response(),
            );
        }
        Err(ImportError::Rows(rows)) => (rows, None),
        Err(ImportError::App(e @ (AppError::Invalid(_) | AppError::BadRequest(_)))) => {
            (Vec::new(), Some(e.public_message()))
        }
        Err(ImportError::App(e)) => return Err(e.into()),
    };
    let (rows, total) = cap(admin_rows(&app, center.id).await?);
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &AdminPage {
            chrome: Chrome::new(Some(user), csrf),
            centers: centers::list(app.db.pool()).await?,
            center,
            rows,
            total,
            ok: None,
            error: error
                .or_else(|| Some(format!("表格有 {} 处错误，未导入任何内容。", errors.len()))),
            errors,
        },
    )
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

/// A material's sample or blank form given as an address (an uploaded file or a web page),
/// to link; anything else is a name shown as it is.
fn link(s: &str) -> Option<&str> {
    (s.starts_with("/files/") || s.starts_with("https://") || s.starts_with("http://")).then_some(s)
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

fn yes(b: bool) -> String {
    if b { "1".into() } else { String::new() }
}

/// A matter as the edit form's fields.
fn to_form(m: &MatterInput) -> Fields {
    let mut f = vec![
        ("code", m.code.clone()),
        ("parent", m.parent.clone().unwrap_or_default()),
        ("node", m.node.clone()),
        ("name", m.name.clone()),
        ("sort_order", m.sort_order.to_string()),
        ("type_code", m.type_code.clone()),
        ("department", m.department.clone()),
        ("level", m.level.clone()),
        ("kind", m.kind.clone()),
        ("legal_basis", m.legal_basis.clone()),
        ("conditions", m.conditions.clone()),
        ("process", m.process.clone()),
        (
            "legal_limit",
            m.legal_limit.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "promised_limit",
            m.promised_limit.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("limit_unit", m.limit_unit.clone()),
        ("special_procedures", m.special_procedures.clone()),
        ("fees", m.fees.clone()),
        ("fee_basis", m.fee_basis.clone()),
        ("notice_commitment", yes(m.notice_commitment)),
        ("consult_phone", m.consult_phone.clone()),
        ("complaint_phone", m.complaint_phone.clone()),
        ("duty_phone", m.duty_phone.clone()),
        ("place", m.place.clone()),
        ("hours", m.hours.clone()),
        ("delivery", m.delivery.clone()),
        ("notes", m.notes.clone()),
        ("list_kind", m.list_kind.clone()),
        ("list_category", m.list_category.clone()),
        ("outside", yes(m.outside)),
        ("outside_reason", m.outside_reason.clone()),
        ("review_form", m.review_form.join("\n")),
        ("review_content", m.review_content.join("\n")),
        (
            "materials",
            m.materials
                .iter()
                .map(material_line)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "windows",
            m.windows
                .iter()
                .map(|w| format!("{} {}", w.window, w.rights_label()))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    f.retain(|(_, v)| !v.is_empty());
    Fields(f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// "名称 | 原件 | 1 | 必要 | 容缺 | 示范文本 | 空白表格 | 说明".
fn material_line(m: &Material) -> String {
    let mut parts = vec![
        m.name.clone(),
        m.form_label().to_owned(),
        m.copies.to_string(),
        if m.required { "必要" } else { "非必要" }.to_owned(),
        if m.tolerable { "容缺" } else { "不容缺" }.to_owned(),
        m.sample.clone(),
        m.blank_form.clone(),
        m.note.clone(),
    ];
    while parts.len() > 5 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.join(" | ")
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The edit form's fields as a matter; malformed lines are refused with their number.
fn from_form(f: &Fields, center: &str) -> AppResult<MatterInput> {
    let number = |name: &str, what: &str| -> AppResult<Option<i64>> {
        let t = f.get(name);
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| AppError::Invalid(format!("{what}“{t}”不是整数")))
    };
    let mut materials = Vec::new();
    for (i, l) in lines(f.get("materials")).enumerate() {
        let p: Vec<&str> = l.split(['|', '｜']).map(str::trim).collect();
        let what = format!("申请材料第 {} 行", i + 1);
        let form = code_of(super::MATERIAL_FORMS, p.get(1).copied().unwrap_or("原件")).ok_or_else(
            || AppError::Invalid(format!("{what}：第二栏应为 原件、复印件 或 原件及复印件")),
        )?;
        let copies = match p.get(2).copied().unwrap_or("1") {
            "" => 1,
            t => t
                .parse()
                .map_err(|_| AppError::Invalid(format!("{what}：份数“{t}”不是整数")))?,
        };
        materials.push(Material {
            name: p[0].to_owned(),
            form: form.into(),
            copies,
            required: !matches!(p.get(3).copied(), Some("非必要" | "可选" | "否")),
            tolerable: matches!(p.get(4).copied(), Some("容缺" | "是")),
            sample: p.get(5).copied().unwrap_or("").into(),
            blank_form: p.get(6).copied().unwrap_or("").into(),
            note: p.get(7).copied().unwrap_or("").into(),
        });
    }
    let mut windows = Vec::new();
    for (i, l) in lines(f.get("windows")).enumerate() {
        let mut p = l.split_whitespace();
        let window = p.next().unwrap_or("").to_owned();
        let rights =
            code_of(super::WINDOW_RIGHTS, p.next().unwrap_or("受理")).ok_or_else(|| {
                AppError::Invalid(format!("受理窗口第 {} 行：权限应为“受理”或“收件”", i + 1))
            })?;
        windows.push(WindowRight {
            window,
            rights: rights.into(),
            window_name: String::new(),
        });
    }
    Ok(MatterInput {
        code: f.get("code").into(),
        parent: Some(f.get("parent").to_owned()).filter(|s| !s.is_empty()),
        center: center.into(),
        node: f.get("node").into(),
        name: f.get("name").into(),
        sort_order: number("sort_order", "排序")?.unwrap_or(0),
        type_code: f.get("type_code").into(),
        department: f.get("department").into(),
        level: f.get("level").into(),
        kind: f.get("kind").into(),
        legal_basis: f.get("legal_basis").into(),
        conditions: f.get("conditions").into(),
        process: f.get("process").into(),
        legal_limit: number("legal_limit", "法定时限")?,
        promised_limit: number("promised_limit", "承诺时限")?,
        limit_unit: f.get("limit_unit").into(),
        special_procedures: f.get("special_procedures").into(),
        fees: f.get("fees").into(),
        fee_basis: f.get("fee_basis").into(),
        notice_commitment: f.checked("notice_commitment"),
        consult_phone: f.get("consult_phone").into(),
        complaint_phone: f.get("complaint_phone").into(),
        duty_phone: f.get("duty_phone").into(),
        place: f.get("place").into(),
        hours: f.get("hours").into(),
        delivery: f.get("delivery").into(),
        notes: f.get("notes").into(),
        list_kind: f.get("list_kind").into(),
        list_category: f.get("list_category").into(),
        outside: f.checked("outside"),
        outside_reason: f.get("outside_reason").into(),
        materials,
        review_form: lines(f.get("review_form")).map(str::to_owned).collect(),
        review_content: lines(f.get("review_content")).map(str::to_owned).collect(),
        windows,
    })
}

#[derive(Deserialize)]
struct NewParams {
    center: Option<String>,
    parent: Option<String>,
}

async fn admin_new(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Query(p): Query<NewParams>,
) -> PageResult {
    let center = managed_center(&app, &user, p.center.as_deref()).await?;
    let mut form = Fields(vec![("node".into(), "matter".into())]);
    if let Some(parent) = p.parent {
        form.0.push(("parent".into(), parent));
    }
    render(&EditPage {
        chrome: Chrome::new(Some(user), csrf),
        center,
        code: None,
        form,
        types: store::types(app.db.pool()).await?,
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
    PageUser(user): PageUser,
    csrf: CsrfToken,
    Path(code): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult {
    let mut conn = app.db.pool().acquire().await?;
    let g = store::guide(&mut conn, &code).await?;
    let center = managed_center(&app, &user, Some(&g.matter.center)).await?;
    render(&EditPage {
        chrome: Chrome::new(Some(user), csrf),
        center,
        code: Some(code),
        form: to_form(&g.matter),
        types: store::types(app.db.pool()).await?,
        error: f.error,
        ok: f.ok,
        has_children: !g.children.is_empty(),
    })
}

async fn admin_save(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    csrf: CsrfToken,
    form: Fields,
) -> PageResult {
    let center = managed_center(&app, &user, Some(form.get("center"))).await?;
    let editing = Some(form.get("editing").to_owned()).filter(|s| !s.is_empty());
    let result = async {
        let m = from_form(&form, &center.code)?;
        if let Some(e) = &editing
            && e != &m.code
        {
            return Err(AppError::Invalid("事项编号不能修改".into()));
        }
        let mut tx = app.db.begin().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("select center_id from matters where code = $1")
                .bind(&m.code)
                .fetch_optional(&mut *tx)
                .await?;
        match (existing, &editing) {
            (Some(_), None) => {
                return Err(AppError::Conflict(format!("事项编号“{}”已存在", m.code)));
            }
            (Some(c), Some(_)) => user.require_manage(c)?,
            _ => {}
        }
        let action = if editing.is_some() {
            "update"
        } else {
            "create"
        };
        store::save(
            &mut tx,
            &Actor::from(&user),
            &m,
            action,
            app.clock.now_micros(),
        )
        .await?;
        tx.commit().await?;
        AppResult::Ok(m.code)
    }
    .await;
    match result {
        Ok(code) => Ok(Redirect::to(&format!(
            "/admin/matters/{code}/edit?ok=%E5%B7%B2%E4%BF%9D%E5%AD%98"
        ))
        .into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EditPage {
                chrome: Chrome::new(Some(user), csrf),
                center,
                code: editing,
                form,
                types: store::types(app.db.pool()).await?,
                error: Some(e.public_message()),
                ok: None,
                has_children: false,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

async fn admin_delete(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let mut tx = app.db.begin().await?;
    let row: Option<(i64, String)> = sqlx::query_as(
        "select m.center_id, c.code from matters m join centers c on c.id = m.center_id where m.code = $1",
    )
    .bind(&code)
    .fetch_optional(&mut *tx)
    .await?;
    let (center_id, center_code) =
        row.ok_or_else(|| AppError::NotFound(format!("找不到编号为“{code}”的事项")))?;
    user.require_manage(center_id)?;
    store::delete(&mut tx, &Actor::from(&user), &code, app.clock.now_micros())
        .await
        .map_err(PageError::from)?;
    tx.commit().await?;
    let msg: String =
        url::form_urlencoded::byte_serialize(format!("已删除 {code}").as_bytes()).collect();
    Ok(Redirect::to(&format!("/admin/matters?center={center_code}&ok={msg}")).into_response())
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/matters", get(index))
        .route("/matters/{code}", get(guide_page))
        .route("/catalog/booklet", get(booklet))
        .route("/admin/matters", get(admin_index))
        .route("/admin/matters/new", get(admin_new))
        .route("/admin/matters/save", post(admin_save))
        .route("/admin/matters/export", get(admin_export))
        .route("/admin/matters/import", post(admin_import))
        .route("/admin/matters/{code}/edit", get(admin_edit))
        .route("/admin/matters/{code}/delete", post(admin_delete))
}
