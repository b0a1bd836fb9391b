//! The OpenAPI document at `/api/v1/openapi.json` and the offline docs page at `/api/docs`.

use std::sync::Arc;

use axum::{Json, Router, response::Redirect, routing::get};
use utoipa::OpenApi;

use crate::{app::App, auth, hall};

#[derive(OpenApi)]
#[openapi(
    info(title = "一窗 Yichuang API", version = "1", description = "政务服务大厅：中心、专区、窗口、人员与岗位。错误统一为 {\"error\":{\"code\",\"message\"}}，message 为中文说明。"),
    paths(
        hall::api::list_centers, hall::api::get_center, hall::api::create_center,
        hall::api::update_center, hall::api::list_zones, hall::api::create_zone,
        hall::api::update_zone, hall::api::list_windows, hall::api::create_window,
        hall::api::update_window, hall::api::list_staff, hall::api::create_staff,
        hall::api::update_staff, hall::api::list_posts, hall::api::assign_post,
        hall::api::remove_post,
        auth::routes::api_login, auth::routes::api_logout, auth::routes::me, auth::routes::create_token,
        crate::catalog::api::search_matters, crate::catalog::api::get_matter, crate::catalog::api::put_matter,
        crate::catalog::api::delete_matter, crate::catalog::api::lists, crate::catalog::api::export,
        crate::catalog::api::import, crate::catalog::api::matter_types, crate::catalog::files::api_attach,
        crate::catalog::types::api_put, crate::catalog::types::api_delete,
        crate::catalog::synonyms::api_get, crate::catalog::synonyms::api_put, crate::catalog::api::adopt,
        crate::catalog::screen::sections, crate::catalog::screen::section_page,
        crate::queue::api::issue_ticket, crate::queue::api::call_next, crate::queue::api::window_action,
        crate::queue::api::ticket_status, crate::queue::api::leave, crate::queue::api::display,
        crate::queue::api::events, crate::queue::api::queue_stats, crate::queue::api::queue_overruns,
        crate::queue::api::get_settings,
        crate::queue::api::put_settings,
        crate::timetable::routes::api_day, crate::timetable::routes::api_deadline,
        crate::timetable::routes::api_years, crate::timetable::routes::api_import,
        crate::timetable::routes::api_hours, crate::timetable::routes::api_set_hours,
        crate::jobs::pages::api_jobs,
        crate::cases::api::create, crate::cases::api::list, crate::cases::api::get_case,
        crate::cases::api::accept, crate::cases::api::notify_missing, crate::cases::api::refuse,
        crate::cases::api::decide, crate::cases::api::sign, crate::cases::api::suspend,
        crate::cases::api::resume, crate::cases::api::extend, crate::cases::api::grant,
        crate::cases::api::issue, crate::cases::api::supply, crate::cases::api::opinion,
        crate::cases::api::notice, crate::cases::api::progress, crate::cases::api::task_done,
        crate::cases::api::report, crate::cases::api::pay, crate::cases::pages::board::api_board,
        crate::booking::api::slots, crate::booking::api::bookable, crate::booking::api::book,
        crate::booking::api::get_one, crate::booking::api::cancel, crate::booking::api::reschedule,
        crate::booking::api::check_in, crate::booking::api::confirm, crate::booking::api::refuse,
        crate::booking::api::decide_refusal, crate::booking::api::day, crate::booking::api::open,
        crate::booking::api::stats, crate::booking::api::get_settings, crate::booking::api::put_settings,
        crate::booking::api::put_matter, crate::booking::api::put_capacity,
        crate::booking::home::api::create, crate::booking::home::api::get_one,
        crate::booking::home::api::cancel, crate::booking::home::api::list,
        crate::booking::home::api::arrange, crate::booking::home::api::refuse,
        crate::booking::home::api::decide_refusal, crate::booking::home::api::done,
    ),
    tags((name = "hall", description = "中心、专区、窗口、人员与AB岗"), (name = "auth", description = "登录与令牌"), (name = "catalog", description = "事项目录、办事指南、目录清单与表格导入导出"),
         (name = "queue", description = "取号、叫号、窗口操作、大厅显示与排队统计"), (name = "calendar", description = "办事时间、节假日与工作日期限"),
         (name = "jobs", description = "后台任务（系统管理员）"), (name = "cases", description = "办件：收件、受理决定、审批、出件、期限与进度查询"),
         (name = "booking", description = "预约与上门服务"))
)]
pub struct ApiDoc;

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route(
            "/api/docs",
            get(|| async { Redirect::permanent("/static/apidocs.html") }),
        )
}
