//! Operations: Prometheus metrics at `/metrics` and the per-IP request limit.

use std::{sync::OnceLock, time::Instant};

use axum::{
    body::Body,
    extract::Request,
    http::{Response, header},
    middleware::Next,
    response::IntoResponse,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::{config::Config, error::AppError};

/// The process-wide recorder (the `metrics` facade is global by design); installed once.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests): then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Installs the recorder now, for figures recorded before the first request.
pub fn install() {
    let _ = handle();
}

/// `GET /metrics`: Prometheus text format.
pub async fn render() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}

/// Counts requests and their latency by method and status class.
pub async fn track(req: Request, next: Next) -> Response<Body> {
    let _ = handle();
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = format!("{}xx", response.status().as_u16() / 100);
    metrics::counter!("http_requests_total", "method" => method.clone(), "status" => status.clone())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "status" => status)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Wraps `router` in the per-IP limit (tower_governor); refusals answer 429 in Chinese.
pub fn with_rate_limit<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    config: &Config,
) -> axum::Router<S> {
    let per_second = config.rate_limit_per_second.max(1);
    let period_ns = (1_000_000_000 / per_second).max(1);
    let conf = tower_governor::governor::GovernorConfigBuilder::default()
        .per_nanosecond(period_ns)
        .burst_size(config.rate_limit_burst.max(1))
        .finish()
        .expect("rate limit with a positive period and burst");
    router.layer(
        tower_governor::GovernorLayer::new(conf).error_handler(|_| {
            AppError::TooMany("请求过于频繁，请稍后再试".into()).into_response()
        }),
    )
}
