//! JSON API of the catalogue: public search and guides; managers save, delete, import, export,
//! and let a township take a template catalogue.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{
    Guide, MatterInput,
    queries::{self, ListRow},
    search::Found,
    service::{self, SaveIntent},
    template::{self, AdoptReport},
    xlsx::{ImportError, ImportReport},
};
use crate::{
    app::App,
    auth::CurrentUser,
    error::{AppError, AppResult},
    extract::ApiJson,
    hall::centers,
    ids::CenterId,
};

/// Search parameters.
#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words, or pinyin initials (bdcdj); empty lists every matter.
    #[serde(default)]
    pub q: String,
    /// Only this center's catalogue.
    pub center: Option<String>,
    /// Page, from 1; 20 per page.
    pub page: Option<i64>,
}

/// Searches the catalogue.
#[utoipa::path(get, path = "/api/v1/matters", summary = "搜索事项（公开）", tag = "catalog",
    params(SearchParams), responses((status = 200, body = Found), (status = 404, description = "没有该中心")))]
pub async fn search_matters(
    State(app): State<Arc<App>>,
    Query(p): Query<SearchParams>,
) -> AppResult<Response> {
    let answer = app
        .search_cache
        .search(
            &app.db,
            app.generation.current(),
            &p.q,
            p.center.as_deref(),
            p.page.unwrap_or(1),
        )
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer.json).into_response())
}

/// A matter's full guide.
#[utoipa::path(get, path = "/api/v1/matters/{code}", summary = "办事指南（公开）", tag = "catalog",
    params(("code" = String, Path, description = "事项编号")),
    responses((status = 200, body = Guide), (status = 404, description = "没有该事项")))]
pub async fn get_matter(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<Guide>> {
    let mut conn = app.db.pool().acquire().await?;
    Ok(Json(queries::guide(&mut conn, &code).await?))
}

async fn center_id(app: &App, code: &str) -> AppResult<i64> {
    Ok(centers::by_code(app.db.pool(), code).await?.id)
}

/// Creates or replaces a matter (its center's manager).
#[utoipa::path(put, path = "/api/v1/matters/{code}", summary = "保存事项（新建或修改）", tag = "catalog",
    request_body = MatterInput, params(("code" = String, Path, description = "事项编号")),
    responses((status = 200, body = Guide), (status = 422, description = "输入不合规"), (status = 403, description = "无权管理该中心")))]
pub async fn put_matter(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(mut input): ApiJson<MatterInput>,
) -> AppResult<Json<Guide>> {
    if input.code.trim().is_empty() {
        input.code = code.clone();
    } else if input.code.trim() != code {
        return Err(AppError::invalid_field(
            "code",
            "请求体中的事项编号与地址中的不一致",
        ));
    }
    let g = service::save_matter(&app, &user, &input, SaveIntent::Put).await?;
    Ok(Json(g))
}

/// Deletes a matter without sub-matters.
#[utoipa::path(delete, path = "/api/v1/matters/{code}", summary = "删除事项", tag = "catalog",
    params(("code" = String, Path)), responses((status = 204), (status = 409, description = "还有下级事项")))]
pub async fn delete_matter(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<StatusCode> {
    service::delete_matter(&app, &user, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct CenterParam {
    /// 中心编码.
    pub center: String,
}

/// The published lists of a center (seed 000 §3): every 办事情形 with its list and columns.
#[utoipa::path(get, path = "/api/v1/catalog/lists", summary = "延时错时、预约服务目录与负面清单（公开）", tag = "catalog",
    params(CenterParam), responses((status = 200, body = ListAnswer)))]
pub async fn lists(
    State(app): State<Arc<App>>,
    Query(p): Query<CenterParam>,
) -> AppResult<Json<ListAnswer>> {
    let c = centers::by_code(app.db.pool(), &p.center).await?;
    Ok(Json(ListAnswer {
        center: c.code,
        items: queries::list_rows(app.db.pool(), CenterId(c.id)).await?,
    }))
}

#[derive(serde::Serialize, ToSchema)]
pub struct ListAnswer {
    pub center: String,
    pub items: Vec<ListRow>,
}

#[derive(Deserialize, IntoParams)]
pub struct ExportParams {
    /// Only this center (default: every center the user manages may see; admins all).
    pub center: Option<String>,
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn xlsx_response(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalog.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Exports the catalogue (managers).
#[utoipa::path(get, path = "/api/v1/catalog/export", summary = "导出事项目录（.xlsx）", tag = "catalog",
    params(ExportParams), responses((status = 200, description = "Excel 工作簿", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Query(p): Query<ExportParams>,
) -> AppResult<Response> {
    match p.center.as_deref() {
        Some(c) => user.require_manage(center_id(&app, c).await?)?,
        None if user.is_admin() => {}
        None => {
            return Err(AppError::invalid_field(
                "center",
                "请指定要导出的中心（center）",
            ));
        }
    }
    Ok(xlsx_response(
        service::export_workbook(&app.db, p.center.as_deref()).await?,
    ))
}

/// The answer to an import with errors: 422 and every error by row and column.
pub fn import_error_response(e: ImportError) -> Response {
    match e {
        ImportError::App(e) => e.into_response(),
        ImportError::Rows(rows) => {
            let message = format!(
                "表格有 {} 处错误，未导入任何内容：{}",
                rows.len(),
                rows.iter()
                    .take(5)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("；")
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": {"code": "invalid", "message": message, "rows": rows}})),
            )
                .into_response()
        }
    }
}

/// Imports an .xlsx workbook (body is the file).
#[utoipa::path(post, path = "/api/v1/catalog/import", summary = "导入事项目录（.xlsx，有错则全部不导入）", tag = "catalog",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportReport), (status = 422, description = "逐行逐列列出错误，未导入任何内容")))]
pub async fn import(State(app): State<Arc<App>>, user: CurrentUser, body: Bytes) -> Response {
    match service::import_for(&app, &user, &body).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => import_error_response(e),
    }
}

/// 事项类型 code list.
#[utoipa::path(get, path = "/api/v1/matter-types", summary = "事项类型代码表（公开）", tag = "catalog",
    responses((status = 200, description = "[{code, name}]")))]
pub async fn matter_types(State(app): State<Arc<App>>) -> AppResult<Json<serde_json::Value>> {
    let t = queries::types(app.db.pool()).await?;
    Ok(Json(
        json!({"items": t.into_iter().map(|(code, name)| json!({"code": code, "name": name})).collect::<Vec<_>>()}),
    ))
}

/// A township taking a template's catalogue.
#[derive(Deserialize, ToSchema)]
pub struct AdoptInput {
    /// The township's 中心编码.
    pub center: String,
    /// The template center's code (usually the county center above it).
    pub template: String,
}

/// Copies a template center's catalogue into a township's (一乡镇一目录): what the township
/// holds already is kept, so taking it again copies nothing twice; a refusal copies nothing.
#[utoipa::path(post, path = "/api/v1/catalog/adopt", summary = "乡镇采用模板目录（一乡镇一目录）", tag = "catalog",
    request_body = AdoptInput,
    responses((status = 200, body = AdoptReport), (status = 403, description = "无权管理该中心"),
        (status = 409, description = "事项编号已被其他中心使用，未复制任何事项"),
        (status = 422, description = "不是乡镇中心，或模板无效")))]
pub async fn adopt(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<AdoptInput>,
) -> AppResult<Json<AdoptReport>> {
    Ok(Json(
        template::adopt(&app, &user, &input.center, &input.template).await?,
    ))
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/matters", get(search_matters))
        .route(
            "/api/v1/matters/{code}",
            get(get_matter).put(put_matter).delete(delete_matter),
        )
        .route("/api/v1/matter-types", get(matter_types))
        .route("/api/v1/catalog/lists", get(lists))
        .route("/api/v1/catalog/export", get(export))
        .route("/api/v1/catalog/import", post(import))
        .route("/api/v1/catalog/adopt", post(adopt))
}
