//! The application: typed state, the router, and the server that binds and runs it.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderName, StatusCode},
    middleware,
    response::IntoResponse,
    routing::get,
};
use tokio::net::TcpListener;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    auth, clock::Clock, config::Config, db::Db, demo, error::AppError, hall, openapi, web,
};

/// Shared state of one server, reached by handlers through axum's `State`.
#[derive(Debug)]
pub struct App {
    /// Settings the server started with.
    pub config: Config,
    /// The database (SQLite or PostgreSQL).
    pub db: Db,
    /// "Now"; fixed in tests.
    pub clock: Clock,
    /// argon2id cost for new passwords.
    pub hash_cost: auth::password::HashCost,
    /// A hash verified against when a login does not exist, so timing does not reveal it.
    pub decoy_hash: String,
    /// The password checks running at once, bounded ([`auth::password::Hashers`]).
    pub hashers: auth::password::Hashers,
    /// The holiday table, rebuilt when a year is imported.
    pub calendar: crate::timetable::TableCache,
    /// Queue events for lobby displays, window screens and phones (SSE).
    pub events: crate::queue::EventHub,
    /// The queue's group-commit writer: tickets issued and the clerks' window actions.
    pub queue_writer: crate::queue::writer::QueueWriter,
    /// Short-lived lookups for the kiosk's hot path.
    pub queue_cache: crate::queue::cache::QueueCache,
    /// Counts this server's changes; cache entries made before the latest are stale.
    pub generation: crate::cache::Generation,
    /// Catalogue search answers while the catalogue stays the same (API and pages).
    pub search_cache: crate::catalog::search::Cache,
    /// Who a window action's token or session belongs to ([`auth::Acting`]).
    pub auth_cache: crate::cache::Cache<auth::Credential, auth::CurrentUser>,
    /// Windows as the clerks' actions need them, per (center, window, user).
    pub desk_cache:
        crate::cache::Cache<(String, String, crate::ids::UserId), crate::queue::actions::DeskSetup>,
    /// Slot views per (center, matter, from, to) while this server changes nothing, at most
    /// a second ([`crate::booking::service::slots`]).
    pub slot_cache: crate::cache::Cache<
        (String, String, String, String),
        Arc<crate::booking::service::SlotView>,
    >,
    /// Background jobs: the handlers by kind and this server's runner ([`crate::jobs`]).
    pub jobs: crate::jobs::Jobs,
    /// Where text messages to citizens go ([`crate::booking::notify::SmsSender`]).
    pub sms: Arc<dyn crate::booking::notify::SmsSender>,
}

/// A failure to start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    app: Arc<App>,
    /// Demo accounts created at this start, with their one-time passwords.
    pub demo_accounts: Vec<demo::Account>,
}

impl Server {
    /// Opens the database, migrates it, loads the demo hall into an empty one (if the
    /// config says so) and binds the listener (`127.0.0.1:0` in tests).
    pub async fn build(
        config: Config,
        clock: Clock,
        hash_cost: auth::password::HashCost,
    ) -> Result<Self, StartError> {
        let db = Db::connect_with(&config.database_url, config.pool_settings()).await?;
        db.migrate().await?;
        let demo_accounts = if config.demo {
            demo::load_if_empty(&db, &clock, hash_cost).await?
        } else {
            Vec::new()
        };
        db.checkpoint_in_background().await?;
        let listener = TcpListener::bind(&config.listen).await?;
        let decoy_hash =
            tokio::task::spawn_blocking(move || auth::password::decoy_hash(hash_cost)).await?;
        let events = crate::queue::EventHub::new();
        let queue_writer =
            crate::queue::writer::QueueWriter::start(db.clone(), clock.clone(), events.clone());
        let hashers = auth::password::Hashers::new(
            config.hash_concurrency,
            Duration::from_millis(config.hash_wait_ms),
        );
        let app = Arc::new(App {
            config,
            db,
            clock,
            hash_cost,
            decoy_hash,
            hashers,
            calendar: crate::cache::Cache::new(None),
            events,
            queue_writer,
            queue_cache: Default::default(),
            generation: Default::default(),
            search_cache: Default::default(),
            auth_cache: Default::default(),
            desk_cache: Default::default(),
            slot_cache: Default::default(),
            jobs: Default::default(),
            sms: Arc::new(crate::booking::notify::LogSender),
        });
        crate::cases::warn::register(&app.jobs);
        crate::booking::notify::register(&app.jobs);
        if !demo_accounts.is_empty() && app.config.demo_cases {
            crate::cases::demo::load(&app).await?;
        }
        app.jobs.start(&app);
        // PostgreSQL's search answers from memory once the index is built: begin now.
        if let Err(e) = app.search_cache.warm(&app.db).await {
            tracing::warn!(error = %e, "could not start building the search index");
        }
        crate::queue::hub::spawn_listener(
            &app.db,
            app.config.database_url.clone(),
            app.events.clone(),
        );
        let router = router(app.clone());
        Ok(Self {
            listener,
            router,
            app,
            demo_accounts,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `shutdown` completes, then closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        // The runner finishes the job in hand before the pools close.
        self.app.jobs.stop().await;
        self.app.db.close().await;
        Ok(())
    }
}

async fn healthz(State(app): State<Arc<App>>) -> impl IntoResponse {
    if app.db.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// An address nobody serves: the API's error shape under `/api/`, the HTML error page elsewhere.
async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        AppError::NotFound("找不到该接口".into()).into_response()
    } else {
        web::error_page(StatusCode::NOT_FOUND, "找不到该页面，请从首页进入")
    }
}

/// A method an address does not take (405): the same two shapes, never an empty body.
async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    let message = "该地址不支持这种请求方式";
    if uri.path().starts_with("/api/") {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            axum::Json(
                serde_json::json!({"error": {"code": "method_not_allowed", "message": message}}),
            ),
        )
            .into_response()
    } else {
        web::error_page(StatusCode::METHOD_NOT_ALLOWED, message)
    }
}

/// The whole HTTP surface: each area contributes its router; layers wrap them all.
pub fn router(app: Arc<App>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::render))
        .merge(web::router())
        .merge(auth::router())
        .merge(hall::router())
        .merge(crate::timetable::router())
        .merge(crate::queue::router())
        .merge(crate::catalog::router())
        .merge(crate::jobs::router())
        .merge(crate::cases::router())
        .merge(crate::booking::router())
        .merge(openapi::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            crate::cache::bump_after_changes,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), auth::protect))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            crate::web::control_chars::refuse_control_chars,
        ))
        .layer(DefaultBodyLimit::max(app.config.max_body_bytes));
    if app.config.rate_limit_per_second > 0 {
        router = crate::metrics::with_rate_limit(router, &app.config);
    }
    router
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // The request id known to the errors, every error in its shape (JSON under /api/, the
        // HTML page elsewhere; a timeout's and the rate limit's included) and the security
        // headers: one layer (`web::edge`).
        .layer(middleware::from_fn(crate::web::edge))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        // A 5xx is logged here too (tower_http, at ERROR); every line logged while serving a
        // request starts with its request id (`error::WithRequestId`), at no cost per request.
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(app)
}
