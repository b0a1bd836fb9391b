//! The queue (排队叫号), R4; seed 001 (一)(五); seed 003 §(四)1(1); seed 004 附件4 一.
//!
//! A ticket is issued at the kiosk (numbered per center, day and zone prefix), called by a
//! window, started, finished — or recalled, transferred (keeping its place, 首问负责), held in
//! one of three ways, or marked no-show. Every change is a row in `ticket_events` and an event
//! on the hub that lobby displays and phones follow over SSE.

pub mod actions;
pub mod api;
mod batch;
pub mod bench;
pub mod cache;
pub mod hub;
pub mod issuer;
mod pages;
pub mod queries;
pub mod service;
pub mod state;
pub mod stats;
pub mod ticket;
pub mod writer;

use std::sync::Arc;

use axum::{Router, response::Response, routing::MethodRouter};

use crate::{app::App, cache::Unchanged};

pub use hub::{EventHub, QueueEvent};
pub use state::{TicketAction, TicketState};
pub use ticket::{EventKind, HoldKind, Priority, Rule, Ticket};

pub fn router() -> Router<Arc<App>> {
    Router::new().merge(api::router()).merge(pages::router())
}

/// Marks the answers of `route` [`Unchanged`]: the requests that run all day (issuing tickets,
/// the window actions, a visitor leaving, the kiosk's form) change no cached record, so they
/// do not start a new cache generation.
pub(crate) fn unchanged(route: MethodRouter<Arc<App>>) -> MethodRouter<Arc<App>> {
    route.layer(axum::middleware::map_response(mark_unchanged))
}

async fn mark_unchanged(mut response: Response) -> Response {
    response.extensions_mut().insert(Unchanged);
    response
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Method};
    use tower::ServiceExt;

    use crate::{
        app::{Server, router},
        auth::password::HashCost,
        cache::Unchanged,
        clock::Clock,
        config::Config,
    };

    async fn marked(app: &std::sync::Arc<crate::app::App>, method: Method, path: &str) -> bool {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let res = router(app.clone()).oneshot(req).await.unwrap();
        res.extensions().get::<Unchanged>().is_some()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn window_actions_and_tickets_are_hot_but_edits_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            database_url: format!("sqlite://{}", dir.path().join("t.db").display()),
            listen: "127.0.0.1:0".into(),
            demo: false,
            rate_limit_per_second: 0,
            ..Config::default()
        };
        let cost = HashCost {
            memory_kib: 64,
            passes: 1,
        };
        let server = Server::build(config, Clock::system(), cost).await.unwrap();
        let app = server.app();
        let post = Method::POST;
        assert!(marked(&app, post.clone(), "/api/v1/centers/GX/tickets").await);
        assert!(
            marked(
                &app,
                post.clone(),
                "/api/v1/centers/GX/windows/TY01/call-next"
            )
            .await
        );
        assert!(marked(&app, post.clone(), "/api/v1/tickets/abc/leave").await);
        assert!(!marked(&app, post.clone(), "/api/v1/centers/GX/windows").await);
        assert!(!marked(&app, Method::PUT, "/api/v1/centers/GX/windows/TY01").await);
        assert!(!marked(&app, post, "/admin/centers/GX/posts").await);
    }
}
