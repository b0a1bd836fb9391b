//! The 事项类型 code list (R2.2): 行政许可, 行政确认, 行政给付 … kept as data. The types are
//! national, shared by every center, so the system administrator keeps the list: add a type,
//! rename it, reorder, and remove one no matter uses. Every change is audited, and the
//! catalogue's search answers are dropped (they carry the type's name).

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, put},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store;
use crate::{
    app::App,
    audit::{self, Actor},
    auth::{CurrentUser, Viewer},
    db::{Tx, is_unique_violation},
    error::{AppError, AppResult},
    extract::{ApiJson, Fields},
    web::{Chrome, Flash, PageResult, render_status},
};

/// A 事项类型 as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct MatterType {
    /// Opaque code, e.g. `licence`.
    pub code: String,
    /// 名称, e.g. 行政许可.
    pub name: String,
    pub sort_order: i64,
}

/// A type as submitted (the code is the path's).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct TypeInput {
    pub name: String,
    #[serde(default)]
    pub sort_order: Option<i64>,
}

fn parse_code(raw: &str) -> AppResult<String> {
    let code = raw.trim();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::invalid_field(
            "code",
            "类型代码须为 1–32 位小写字母、数字或下划线",
        ));
    }
    Ok(code.to_owned())
}

fn parse_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 20 {
        return Err(AppError::invalid_field(
            "name",
            "类型名称不能为空，且不超过 20 个字",
        ));
    }
    Ok(name.to_owned())
}

/// The list, in its order, with how many matters use each type.
pub async fn list(pool: &sqlx::AnyPool) -> AppResult<Vec<(MatterType, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        t: MatterType,
        used: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select t.code, t.name, t.sort_order, \
         (select count(*) from matters m where m.type_code = t.code) as used \
         from matter_types t order by t.sort_order, t.code",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.t, r.used)).collect())
}

async fn find(tx: &mut Tx, code: &str) -> AppResult<Option<MatterType>> {
    Ok(
        sqlx::query_as("select code, name, sort_order from matter_types where code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Adds the type `code` or renames and reorders it; a new type goes last unless placed.
pub async fn save(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    input: &TypeInput,
    now: i64,
) -> AppResult<MatterType> {
    let code = parse_code(code)?;
    let name = parse_name(&input.name)?;
    let before = find(tx, &code).await?;
    let sort_order = match (input.sort_order, &before) {
        (Some(n), _) => n,
        (None, Some(b)) => b.sort_order,
        (None, None) => {
            sqlx::query_scalar::<_, i64>(
                "select coalesce(max(sort_order), 0) + 1 from matter_types",
            )
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let t = MatterType {
        code: code.clone(),
        name,
        sort_order,
    };
    if before.as_ref() == Some(&t) {
        return Ok(t);
    }
    let written = sqlx::query(
        "insert into matter_types (code, name, sort_order) values ($1, $2, $3) \
         on conflict (code) do update set name = excluded.name, sort_order = excluded.sort_order",
    )
    .bind(&t.code)
    .bind(&t.name)
    .bind(t.sort_order)
    .execute(&mut **tx)
    .await;
    if let Err(e) = written {
        return Err(if is_unique_violation(&e) {
            AppError::Conflict(format!("已有名为“{}”的事项类型", t.name))
        } else {
            e.into()
        });
    }
    store::bump_version(tx).await?;
    audit::record(
        tx,
        actor,
        if before.is_some() { "update" } else { "create" },
        "matter_type",
        &t.code,
        None,
        before.map(|b| json!(b)),
        Some(json!(t)),
        now,
    )
    .await?;
    Ok(t)
}

/// Removes a type no matter uses.
pub async fn delete(tx: &mut Tx, actor: &Actor, code: &str, now: i64) -> AppResult<()> {
    let before = find(tx, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("没有代码为“{code}”的事项类型")))?;
    let used: i64 = sqlx::query_scalar("select count(*) from matters where type_code = $1")
        .bind(code)
        .fetch_one(&mut **tx)
        .await?;
    if used > 0 {
        return Err(AppError::Conflict(format!(
            "“{}”仍有 {used} 个事项在用，不能删除；请先改这些事项的类型",
            before.name
        )));
    }
    sqlx::query("delete from matter_types where code = $1")
        .bind(code)
        .execute(&mut **tx)
        .await?;
    store::bump_version(tx).await?;
    audit::record(
        tx,
        actor,
        "delete",
        "matter_type",
        code,
        None,
        Some(json!(before)),
        None,
        now,
    )
    .await
}

fn require_admin(user: &CurrentUser) -> AppResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("事项类型代码表由系统管理员维护".into()))
    }
}

/// Adds or changes a type: the use case behind the API and the page (system administrator).
pub async fn save_type(
    app: &App,
    user: &CurrentUser,
    code: &str,
    input: &TypeInput,
) -> AppResult<MatterType> {
    require_admin(user)?;
    let (actor, now) = (Actor::from(user), app.clock.now_micros());
    app.db
        .transaction(|mut tx| {
            Box::pin(async move { save(&mut tx, &actor, code, input, now).await })
        })
        .await
}

/// Removes a type no matter uses (system administrator).
pub async fn delete_type(app: &App, user: &CurrentUser, code: &str) -> AppResult<()> {
    require_admin(user)?;
    let (actor, now) = (Actor::from(user), app.clock.now_micros());
    app.db
        .transaction(|mut tx| Box::pin(async move { delete(&mut tx, &actor, code, now).await }))
        .await
}

/// The page form's fields as a [`TypeInput`].
fn type_input(form: &Fields) -> AppResult<TypeInput> {
    let sort_order = match form.get("sort_order").trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| AppError::invalid_field("sort_order", "排序须为整数"))?,
        ),
    };
    Ok(TypeInput {
        name: form.get("name").to_owned(),
        sort_order,
    })
}

/// Adds or changes a 事项类型 (system administrator).
#[utoipa::path(put, path = "/api/v1/matter-types/{code}", summary = "新增或修改事项类型", tag = "catalog",
    request_body = TypeInput, params(("code" = String, Path)),
    responses((status = 200, body = MatterType), (status = 409, description = "名称已被其他类型使用")))]
pub async fn api_put(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<TypeInput>,
) -> AppResult<Json<MatterType>> {
    Ok(Json(save_type(&app, &user, &code, &input).await?))
}

/// Removes a 事项类型 no matter uses (system administrator).
#[utoipa::path(delete, path = "/api/v1/matter-types/{code}", summary = "删除未使用的事项类型", tag = "catalog",
    params(("code" = String, Path)),
    responses((status = 204), (status = 409, description = "仍有事项在用")))]
pub async fn api_delete(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<StatusCode> {
    delete_type(&app, &user, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "catalog/types.html")]
struct TypesPage {
    chrome: Chrome,
    types: Vec<(MatterType, i64)>,
    ok: Option<String>,
    error: Option<String>,
    /// The form as submitted, after a refusal.
    form: Fields,
}

impl TypesPage {
    /// The page with every type, and what is said above them.
    async fn of(
        app: &App,
        viewer: Viewer,
        ok: Option<String>,
        error: Option<String>,
        form: Fields,
    ) -> AppResult<Self> {
        Ok(TypesPage {
            chrome: viewer.chrome(),
            types: list(app.db.pool()).await?,
            ok,
            error,
            form,
        })
    }
}

async fn page(State(app): State<Arc<App>>, viewer: Viewer, Query(f): Query<Flash>) -> PageResult {
    require_admin(&viewer.user)?;
    let page = TypesPage::of(&app, viewer, f.ok, None, Fields(Vec::new())).await?;
    render_status(StatusCode::OK, &page)
}

/// The page's forms: `save` (add or change) and `delete`.
async fn page_submit(State(app): State<Arc<App>>, viewer: Viewer, form: Fields) -> PageResult {
    require_admin(&viewer.user)?;
    let code = form.get("code");
    let result = async {
        if form.get("action") == "delete" {
            delete_type(&app, &viewer.user, code).await?;
            return Ok("已删除");
        }
        save_type(&app, &viewer.user, code, &type_input(&form)?).await?;
        AppResult::Ok("已保存")
    }
    .await;
    match result {
        Ok(done) => crate::web::done("/admin/matter-types", done),
        Err(e) => {
            let error = Some(super::admin::refusal(e)?);
            let page = TypesPage::of(&app, viewer, None, error, form).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/api/v1/matter-types/{code}",
            put(api_put).delete(api_delete),
        )
        // The list itself is `GET /api/v1/matter-types` (api.rs).
        .route("/admin/matter-types", get(page).post(page_submit))
}
