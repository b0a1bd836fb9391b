//! JSON API of the hall's structure under `/api/v1`. Centers, zones and windows are public,
//! like the signs in the hall; staff, posts and every change need a signed-in user.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::IntoResponse,
    routing::{get, patch, put},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    Center, Window, Zone, centers,
    centers::CenterInput,
    posts, service,
    staff::{self, StaffInput},
    windows::{self, WindowInput},
    zones::{self, ZoneInput},
};
use crate::{
    app::App,
    auth::CurrentUser,
    error::AppResult,
    extract::{ApiJson, Path},
};

/// A center as the public sees it.
#[derive(Serialize, ToSchema)]
pub struct CenterItem {
    pub code: String,
    pub name: String,
    /// city | county | township | village
    pub level: String,
    /// 市/县/乡/村
    pub level_name: String,
    /// The parent center's code.
    pub parent: Option<String>,
    pub region_code: String,
    pub address: String,
    pub phone: String,
}

impl From<Center> for CenterItem {
    fn from(c: Center) -> Self {
        Self {
            level_name: c.level_label().to_owned(),
            code: c.code,
            name: c.name,
            level: c.level,
            parent: c.parent_code,
            region_code: c.region_code,
            address: c.address,
            phone: c.phone,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ZoneItem {
    pub code: String,
    pub name: String,
    pub sort_order: i64,
    /// First letter of the zone's ticket numbers.
    pub ticket_prefix: String,
}

impl From<Zone> for ZoneItem {
    fn from(z: Zone) -> Self {
        Self {
            code: z.code,
            name: z.name,
            sort_order: z.sort_order,
            ticket_prefix: z.ticket_prefix,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WindowItem {
    pub code: String,
    /// Display name over the counter.
    pub name: String,
    pub zone: Option<String>,
    pub kind: String,
    pub specials: Vec<super::Special>,
    pub tidal: bool,
    pub active: bool,
    /// The window's own acceptance limit (15 unless set otherwise).
    pub acceptance_limit_minutes: i64,
    /// 不动产和税务联办窗口: its limit is 40 minutes (seed 001 (五)).
    pub joint_property_tax: bool,
    /// The limit that applies: 40 at a joint window, else `acceptance_limit_minutes`.
    pub limit_minutes: i64,
    /// The special functions 加挂 on this window, as its screen names them (办不成事反映窗口).
    pub added_name: Option<String>,
}

impl From<Window> for WindowItem {
    fn from(w: Window) -> Self {
        let (limit_minutes, added_name) = (w.limit_minutes(), w.added_name());
        Self {
            limit_minutes,
            added_name,
            joint_property_tax: w.joint_property_tax,
            code: w.code,
            name: w.name,
            zone: w.zone_code,
            kind: w.kind,
            specials: w.specials,
            tidal: w.tidal,
            active: w.active,
            acceptance_limit_minutes: w.acceptance_limit_minutes,
        }
    }
}

/// A list answer: `{"items":[…]}`.
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// `v` as a list answer, each turned into its item.
pub(crate) fn items<T, U: From<T>>(v: Vec<T>) -> Json<Items<U>> {
    Json(Items {
        items: v.into_iter().map(U::from).collect(),
    })
}

/// All centers.
#[utoipa::path(get, path = "/api/v1/centers", summary = "中心列表（公开）", tag = "hall",
    responses((status = 200, description = "中心列表", body = Items<CenterItem>)))]
pub async fn list_centers(State(app): State<Arc<App>>) -> AppResult<Json<Items<CenterItem>>> {
    Ok(items(centers::list(app.db.pool()).await?))
}

/// One center.
#[utoipa::path(get, path = "/api/v1/centers/{center}", summary = "中心详情（公开）", tag = "hall",
    params(("center" = String, Path, description = "中心编码")),
    responses((status = 200, body = CenterItem), (status = 404, description = "没有该中心")))]
pub async fn get_center(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<CenterItem>> {
    Ok(Json(centers::by_code(app.db.pool(), &code).await?.into()))
}

/// Creates a center (system admin).
#[utoipa::path(post, path = "/api/v1/centers", summary = "新建中心（系统管理员）", tag = "hall", request_body = CenterInput,
    responses((status = 201, body = CenterItem), (status = 409, description = "编码或名称重复"), (status = 422, description = "输入不合规")))]
pub async fn create_center(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<CenterInput>,
) -> AppResult<impl IntoResponse> {
    let c = service::create_center(&app, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(CenterItem::from(c))))
}

/// Edits a center (system admin, or a hall manager of it).
#[utoipa::path(patch, path = "/api/v1/centers/{center}", summary = "修改中心信息", tag = "hall", request_body = CenterInput,
    params(("center" = String, Path)), responses((status = 200, body = CenterItem)))]
pub async fn update_center(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<CenterInput>,
) -> AppResult<Json<CenterItem>> {
    Ok(Json(
        service::update_center(&app, &user, &code, &input)
            .await?
            .into(),
    ))
}

/// Zones of a center.
#[utoipa::path(get, path = "/api/v1/centers/{center}/zones", summary = "专区列表（公开）", tag = "hall",
    params(("center" = String, Path)), responses((status = 200, body = Items<ZoneItem>)))]
pub async fn list_zones(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<Items<ZoneItem>>> {
    let c = centers::by_code(app.db.pool(), &code).await?;
    Ok(items(zones::list(app.db.pool(), c.id).await?))
}

/// Adds a zone.
#[utoipa::path(post, path = "/api/v1/centers/{center}/zones", summary = "添加专区", tag = "hall", request_body = ZoneInput,
    params(("center" = String, Path)), responses((status = 201, body = ZoneItem)))]
pub async fn create_zone(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<ZoneInput>,
) -> AppResult<impl IntoResponse> {
    let z = service::create_zone(&app, &user, &code, &input).await?;
    Ok((StatusCode::CREATED, Json(ZoneItem::from(z))))
}

/// Renames or reorders a zone.
#[utoipa::path(patch, path = "/api/v1/centers/{center}/zones/{zone}", summary = "修改专区", tag = "hall", request_body = ZoneInput,
    params(("center" = String, Path), ("zone" = String, Path)), responses((status = 200, body = ZoneItem)))]
pub async fn update_zone(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path((code, zone)): Path<(String, String)>,
    ApiJson(input): ApiJson<ZoneInput>,
) -> AppResult<Json<ZoneItem>> {
    let z = service::update_zone(&app, &user, &code, &zone, &input).await?;
    Ok(Json(z.into()))
}

/// Windows of a center.
#[utoipa::path(get, path = "/api/v1/centers/{center}/windows", summary = "窗口列表（公开）", tag = "hall",
    params(("center" = String, Path)), responses((status = 200, body = Items<WindowItem>)))]
pub async fn list_windows(
    State(app): State<Arc<App>>,
    Path(code): Path<String>,
) -> AppResult<Json<Items<WindowItem>>> {
    let c = centers::by_code(app.db.pool(), &code).await?;
    Ok(items(windows::list(app.db.pool(), c.id).await?))
}

/// Adds a window.
#[utoipa::path(post, path = "/api/v1/centers/{center}/windows", summary = "添加窗口", tag = "hall", request_body = WindowInput,
    params(("center" = String, Path)), responses((status = 201, body = WindowItem)))]
pub async fn create_window(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<WindowInput>,
) -> AppResult<impl IntoResponse> {
    let w = service::create_window(&app, &user, &code, &input).await?;
    Ok((StatusCode::CREATED, Json(WindowItem::from(w))))
}

/// Edits a window.
#[utoipa::path(patch, path = "/api/v1/centers/{center}/windows/{window}", summary = "修改窗口", tag = "hall", request_body = WindowInput,
    params(("center" = String, Path), ("window" = String, Path)), responses((status = 200, body = WindowItem)))]
pub async fn update_window(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path((code, window)): Path<(String, String)>,
    ApiJson(input): ApiJson<WindowInput>,
) -> AppResult<Json<WindowItem>> {
    let w = service::update_window(&app, &user, &code, &window, &input).await?;
    Ok(Json(w.into()))
}

/// A person as listed to colleagues.
#[derive(Serialize, ToSchema)]
pub struct StaffItem {
    pub login: String,
    pub display_name: String,
    pub employment: String,
    pub active: bool,
    pub roles: Vec<crate::auth::Role>,
    pub centers: Vec<String>,
}

impl From<staff::Staff> for StaffItem {
    fn from(s: staff::Staff) -> Self {
        Self {
            login: s.login,
            display_name: s.display_name,
            employment: s.employment,
            active: s.active,
            roles: s.roles,
            centers: s.centers,
        }
    }
}

/// Staff of a center (members of it, or a system admin).
#[utoipa::path(get, path = "/api/v1/centers/{center}/staff", summary = "本中心人员", tag = "hall",
    params(("center" = String, Path)), responses((status = 200, body = Items<StaffItem>), (status = 404)))]
pub async fn list_staff(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Items<StaffItem>>> {
    let c = service::visible_center(&app, &user, &code).await?;
    Ok(items(
        staff::list(app.db.pool(), Some(c.id), app.clock.now_micros()).await?,
    ))
}

/// Answer to creating a person: the record and, once, a generated password.
#[derive(Serialize, ToSchema)]
pub struct CreatedStaff {
    pub staff: StaffItem,
    /// Present when the password was generated; shown only this once.
    pub password: Option<String>,
}

/// Adds a person (system admin, or a hall manager for their centers).
#[utoipa::path(post, path = "/api/v1/staff", summary = "添加人员", tag = "hall", request_body = StaffInput,
    responses((status = 201, body = CreatedStaff), (status = 409, description = "登录名已被使用")))]
pub async fn create_staff(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<StaffInput>,
) -> AppResult<impl IntoResponse> {
    let created = service::create_staff(&app, &user, &input).await?;
    let body = CreatedStaff {
        staff: created.staff.into(),
        password: created.generated_password,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Edits a person; a `password` sets a new one.
#[utoipa::path(patch, path = "/api/v1/staff/{login}", summary = "修改人员（可重设密码）", tag = "hall", request_body = StaffInput,
    params(("login" = String, Path)), responses((status = 200, body = StaffItem)))]
pub async fn update_staff(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(login): Path<String>,
    ApiJson(input): ApiJson<StaffInput>,
) -> AppResult<Json<StaffItem>> {
    let s = service::update_staff(&app, &user, &login, &input).await?;
    Ok(Json(s.into()))
}

#[derive(Serialize, ToSchema)]
pub struct PostItem {
    pub window: String,
    pub window_name: String,
    pub a: Option<String>,
    pub b: Vec<String>,
    /// 缺少A岗 / 缺少B岗, when the window lacks one.
    pub gap: Option<String>,
}

/// A/B posts of a center's windows, with gaps.
#[utoipa::path(get, path = "/api/v1/centers/{center}/posts", summary = "AB岗安排及缺岗提示", tag = "hall",
    params(("center" = String, Path)), responses((status = 200, body = Items<PostItem>)))]
pub async fn list_posts(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Items<PostItem>>> {
    let c = service::visible_center(&app, &user, &code).await?;
    let list = posts::of_center(app.db.pool(), c.id).await?;
    Ok(Json(Items {
        items: list
            .into_iter()
            .map(|w| PostItem {
                gap: w.gap().map(str::to_owned),
                a: w.a.as_ref().map(|(l, _)| l.clone()),
                b: w.b.iter().map(|(l, _)| l.clone()).collect(),
                window: w.window_code,
                window_name: w.window_name,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PostInput {
    /// "A" or "B"
    pub post: String,
}

/// Puts a person on a window's A or B post.
#[utoipa::path(put, path = "/api/v1/centers/{center}/windows/{window}/posts/{login}", summary = "安排A岗或B岗", tag = "hall",
    request_body = PostInput, params(("center" = String, Path), ("window" = String, Path), ("login" = String, Path)),
    responses((status = 204), (status = 409, description = "该窗口已有A岗")))]
pub async fn assign_post(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path((code, window, login)): Path<(String, String, String)>,
    ApiJson(input): ApiJson<PostInput>,
) -> AppResult<StatusCode> {
    service::managed_center(&app, &user, &code).await?;
    let post = service::parse_post(&input.post)?;
    service::assign_post(&app, &user, &code, &window, &login, post).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a person off a window's post.
#[utoipa::path(delete, path = "/api/v1/centers/{center}/windows/{window}/posts/{login}", summary = "撤下岗位", tag = "hall",
    params(("center" = String, Path), ("window" = String, Path), ("login" = String, Path)), responses((status = 204)))]
pub async fn remove_post(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    Path((code, window, login)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    service::remove_post(&app, &user, &code, &window, &login).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/centers", get(list_centers).post(create_center))
        .route(
            "/api/v1/centers/{center}",
            get(get_center).patch(update_center),
        )
        .route(
            "/api/v1/centers/{center}/zones",
            get(list_zones).post(create_zone),
        )
        .route("/api/v1/centers/{center}/zones/{zone}", patch(update_zone))
        .route(
            "/api/v1/centers/{center}/windows",
            get(list_windows).post(create_window),
        )
        .route(
            "/api/v1/centers/{center}/windows/{window}",
            patch(update_window),
        )
        .route(
            "/api/v1/centers/{center}/windows/{window}/posts/{login}",
            put(assign_post).delete(remove_post),
        )
        .route("/api/v1/centers/{center}/staff", get(list_staff))
        .route("/api/v1/centers/{center}/posts", get(list_posts))
        .route("/api/v1/staff", axum::routing::post(create_staff))
        .route("/api/v1/staff/{login}", patch(update_staff))
}
