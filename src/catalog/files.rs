//! A material's files (R2.2): its 示范文本 (sample, how a filled-in form looks) and 空白表格
//! (blank form to print or fill in). Managers upload them on the matter's edit page or through
//! the API; they are kept in the database (`catalog_files`), so a backup holds them and every
//! server of a city serves them, and the material refers to its file by address,
//! `/files/{id}/{name}` — which the 办事指南 links and the spreadsheet carries.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{queries, store};
use crate::{
    app::App,
    audit::Actor,
    auth::{CurrentUser, PageUser},
    db::Tx,
    error::{AppError, AppResult},
    extract::multipart_fields,
    hall::centers,
    web::PageResult,
};

/// The kinds of file people exchange with a hall, by extension, with their media type.
const ALLOWED: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("ofd", "application/ofd"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("wps", "application/vnd.ms-works"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("et", "application/vnd.ms-excel"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
];

/// Which of a material's two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// 示范文本
    Sample,
    /// 空白表格
    BlankForm,
}

impl FileKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sample" => Some(Self::Sample),
            "blank_form" => Some(Self::BlankForm),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Sample => "示范文本",
            Self::BlankForm => "空白表格",
        }
    }
}

/// A file's name as shown and saved: its last path segment, without control characters.
fn clean_name(raw: &str) -> AppResult<(String, &'static str)> {
    let name: String = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::Invalid(
            "文件名不能为空，且不能超过 120 个字".into(),
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let media = ALLOWED
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "不支持的文件类型“{name}”：请上传 PDF、OFD、Word、WPS、Excel 或 JPG/PNG 图片"
            ))
        })?;
    Ok((name, media))
}

/// Where a stored file is served.
pub fn address(id: i64, name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("/files/{id}/{}", encoded.replace('+', "%20"))
}

/// Stores `data` as the `kind` file of material number `position` (from 1) of the matter
/// `code`, and points the material at it; audited as an update of the matter. The use case
/// behind the API and the edit page's upload form; answers the file's address.
pub async fn attach(
    app: &App,
    user: &CurrentUser,
    code: &str,
    position: usize,
    kind: FileKind,
    file_name: &str,
    data: &[u8],
) -> AppResult<String> {
    let (actor, now) = (Actor::from(user), app.clock.now_micros());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                attach_in(
                    &mut tx, &actor, user, code, position, kind, file_name, data, now,
                )
                .await
            })
        })
        .await
}

#[allow(clippy::too_many_arguments)]
async fn attach_in(
    tx: &mut Tx,
    actor: &Actor,
    user: &CurrentUser,
    code: &str,
    position: usize,
    kind: FileKind,
    file_name: &str,
    data: &[u8],
    now: i64,
) -> AppResult<String> {
    let (name, media) = clean_name(file_name)?;
    if data.is_empty() {
        return Err(AppError::Invalid(format!("文件“{name}”是空的")));
    }
    let g = queries::guide(tx, code).await?;
    let center = centers::by_code(&mut **tx, &g.matter.center).await?;
    user.require_manage(center.id)?;
    let mut matter = g.matter;
    let Some(material) = position
        .checked_sub(1)
        .and_then(|i| matter.materials.get_mut(i))
    else {
        return Err(AppError::Invalid(format!(
            "事项“{code}”没有第 {position} 项申请材料"
        )));
    };
    let sha = hex::encode(Sha256::digest(data));
    let existing: Option<i64> = sqlx::query_scalar(
        "select id from catalog_files where center_id = $1 and sha256 = $2 and name = $3",
    )
    .bind(center.id)
    .bind(&sha)
    .bind(&name)
    .fetch_optional(&mut **tx)
    .await?;
    let id = match existing {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "insert into catalog_files (center_id, name, content_type, size, sha256, data, uploaded_at, uploaded_by) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
            )
            .bind(center.id)
            .bind(&name)
            .bind(media)
            .bind(data.len() as i64)
            .bind(&sha)
            .bind(data.to_vec())
            .bind(now)
            .bind(&actor.name)
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let url = address(id, &name);
    match kind {
        FileKind::Sample => material.sample = url.clone(),
        FileKind::BlankForm => material.blank_form = url.clone(),
    }
    store::save(tx, actor, &matter, "update", now).await?;
    Ok(url)
}

/// A stored file, for download (public, like the 办事指南 that links it).
async fn download(
    State(app): State<Arc<App>>,
    Path((id, _name)): Path<(crate::ids::FileId, String)>,
) -> AppResult<Response> {
    #[derive(sqlx::FromRow)]
    struct Stored {
        name: String,
        content_type: String,
        data: Vec<u8>,
    }
    let row: Option<Stored> =
        sqlx::query_as("select name, content_type, data from catalog_files where id = $1")
            .bind(id)
            .fetch_optional(app.db.pool())
            .await?;
    let Stored {
        name,
        content_type: media,
        data,
    } = row.ok_or_else(|| AppError::NotFound("找不到该文件".into()))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            ALLOWED
                .iter()
                .find(|(_, m)| *m == media)
                .map(|(_, m)| *m)
                .unwrap_or("application/octet-stream"),
        ),
    );
    // Pictures and PDFs open in the browser; the rest download, under their own name.
    let disposition = if media.starts_with("image/") || media == "application/pdf" {
        "inline"
    } else {
        "attachment"
    };
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{disposition}; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    Ok((StatusCode::OK, headers, data).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AttachQuery {
    /// The material's number in the guide, from 1.
    pub material: usize,
    /// sample (示范文本) | blank_form (空白表格)
    pub kind: String,
    /// The file's name (for a body that is the file itself).
    pub name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Attached {
    /// Where the file is served; the material now refers to it.
    pub url: String,
}

/// The file of a request: the `file` field of a form, or the body itself named by `name`.
async fn file_of(
    headers: &HeaderMap,
    body: Bytes,
    name: Option<&str>,
) -> AppResult<(String, Bytes)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let part = multipart_fields(content_type, body)
            .await?
            .into_iter()
            .find(|f| f.name == "file" && !f.data.is_empty())
            .ok_or_else(|| AppError::Invalid("请选择要上传的文件".into()))?;
        let name = part.file_name.clone().unwrap_or_default();
        return Ok((name, part.data));
    }
    let name = name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AppError::Invalid("请用 name 参数给出文件名".into()))?;
    Ok((name.to_owned(), body))
}

/// Uploads a material's sample or blank form (hall manager of the matter's center).
#[utoipa::path(post, path = "/api/v1/matters/{code}/files", summary = "上传申请材料的示范文本或空白表格", tag = "catalog",
    params(("code" = String, Path), AttachQuery),
    request_body(content = Vec<u8>, description = "the file itself (with ?name=), or a multipart form with a `file` field"),
    responses((status = 201, body = Attached), (status = 422, description = "文件类型或材料序号无效")))]
pub async fn api_attach(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<AttachQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<impl IntoResponse> {
    let kind = FileKind::parse(&q.kind).ok_or_else(|| {
        AppError::Invalid("kind 须为 sample（示范文本）或 blank_form（空白表格）".into())
    })?;
    let (name, data) = file_of(&headers, body, q.name.as_deref()).await?;
    let url = attach(&app, &user, &code, q.material, kind, &name, &data).await?;
    Ok((StatusCode::CREATED, axum::Json(Attached { url })))
}

/// The edit page's upload form; back to the page with what happened.
async fn page_attach(
    State(app): State<Arc<App>>,
    PageUser(user): PageUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let result = async {
        let parts = multipart_fields(&content_type, body).await?;
        let field = |n: &str| {
            parts
                .iter()
                .find(|p| p.name == n)
                .map(|p| String::from_utf8_lossy(&p.data).trim().to_owned())
                .unwrap_or_default()
        };
        let position: usize = field("material")
            .parse()
            .map_err(|_| AppError::Invalid("请选择申请材料".into()))?;
        let kind = FileKind::parse(&field("kind"))
            .ok_or_else(|| AppError::Invalid("请选择示范文本或空白表格".into()))?;
        let file = parts
            .iter()
            .find(|p| p.name == "file" && !p.data.is_empty())
            .ok_or_else(|| AppError::Invalid("请选择要上传的文件".into()))?;
        let name = file.file_name.as_deref().unwrap_or("");
        attach(&app, &user, &code, position, kind, name, &file.data).await?;
        AppResult::Ok(format!("已上传{}", kind.label()))
    }
    .await;
    let (key, msg) = match result {
        Ok(m) => ("ok", m),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::InvalidField { .. }
            | AppError::BadRequest(_)
            | AppError::NotFound(_)),
        ) => ("error", e.public_message()),
        Err(e) => return Err(e.into()),
    };
    crate::web::redirect_saying(&format!("/admin/matters/{code}/edit"), key, &msg)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/files/{id}/{name}", get(download))
        .route("/api/v1/matters/{code}/files", post(api_attach))
        .route("/admin/matters/{code}/files", post(page_attach))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_their_last_segment_and_a_known_type() {
        assert_eq!(
            clean_name("C:\\表格\\申请表.DOCX").unwrap().0,
            "申请表.DOCX"
        );
        assert!(clean_name("run.exe").is_err());
        assert!(clean_name("   ").is_err());
        assert_eq!(
            address(7, "申请 表.pdf"),
            "/files/7/%E7%94%B3%E8%AF%B7%20%E8%A1%A8.pdf"
        );
    }
}
