//! A small HTTP/1.1 load generator for `yichuang bench`: N workers, each on its own keep-alive
//! connection to a loopback server, for a duration or a number of requests. It records every
//! latency and lets the scenario inspect each answer (to check numbers, double calls …).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use serde::Serialize;
use tokio::net::TcpStream;

/// How much load to offer.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// `http://127.0.0.1:PORT` — loopback only.
    pub base: String,
    pub concurrency: usize,
    /// Stop after this long…
    pub duration: Option<Duration>,
    /// …or after this many requests in total.
    pub requests: Option<usize>,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub requests: usize,
    pub ok: usize,
    pub errors: usize,
    pub seconds: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("只能对本机回环地址施压（127.0.0.0/8 或 ::1），收到：{0}")]
    NotLoopback(String),
    #[error("无法连接 {0}：{1}")]
    Connect(String, std::io::Error),
}

/// Parses `http://HOST:PORT` and refuses anything that is not loopback.
pub fn loopback_addr(base: &str) -> Result<SocketAddr, LoadError> {
    let rest = base
        .trim_end_matches('/')
        .strip_prefix("http://")
        .unwrap_or(base);
    let hostport = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = hostport
        .replace("localhost", "127.0.0.1")
        .parse()
        .map_err(|_| LoadError::NotLoopback(base.to_owned()))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(LoadError::NotLoopback(base.to_owned()))
    }
}

/// One HTTP/1.1 connection's request sender.
pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Opens one keep-alive connection.
pub async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Runs the load. `make(worker, n)` builds worker `worker`'s `n`-th request (path and body;
/// the host is added); `check(worker, status, body)` sees every answer and says whether it
/// counts as ok.
pub async fn run<M, C>(config: LoadConfig, make: M, check: C) -> Result<LoadReport, LoadError>
where
    M: Fn(usize, usize) -> Request<Full<Bytes>> + Send + Sync + 'static,
    C: Fn(usize, StatusCode, &Bytes) -> bool + Send + Sync + 'static,
{
    let addr = loopback_addr(&config.base)?;
    // Fail early and clearly when nothing listens.
    connect(addr)
        .await
        .map_err(|e| LoadError::Connect(config.base.clone(), e))?;
    let make = Arc::new(make);
    let check = Arc::new(check);
    let next = Arc::new(AtomicUsize::new(0));
    let limit = config.requests.unwrap_or(usize::MAX);
    let deadline = Instant::now() + config.duration.unwrap_or(Duration::from_secs(3600));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..config.concurrency.max(1) {
        let (make, check, next) = (make.clone(), check.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut own = 0usize;
            let (mut ok, mut errors) = (0usize, 0usize);
            let mut sender: Option<Sender> = None;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit {
                    break;
                }
                if sender.is_none() {
                    sender = connect(addr).await.ok();
                }
                let Some(s) = sender.as_mut() else {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let mut req = make(worker, own);
                own += 1;
                req.headers_mut().insert(
                    hyper::header::HOST,
                    hyper::header::HeaderValue::from_static("127.0.0.1"),
                );
                let t0 = Instant::now();
                let answer = async {
                    s.ready().await?;
                    let resp = s.send_request(req).await?;
                    let status = resp.status();
                    let body = resp.into_body().collect().await?.to_bytes();
                    Ok::<_, hyper::Error>((status, body))
                }
                .await;
                latencies.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                match answer {
                    Ok((status, body)) => {
                        if check(worker, status, &body) {
                            ok += 1;
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        sender = None;
                    }
                }
            }
            (latencies, ok, errors)
        }));
    }
    let mut all = Vec::new();
    let (mut ok, mut errors) = (0, 0);
    for w in workers {
        if let Ok((l, o, e)) = w.await {
            all.extend(l);
            ok += o;
            errors += e;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let idx = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[idx]) / 1000.0
    };
    Ok(LoadReport {
        requests: all.len(),
        ok,
        errors,
        seconds,
        rps: all.len() as f64 / seconds.max(1e-9),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: all.last().map(|v| f64::from(*v) / 1000.0).unwrap_or(0.0),
    })
}

/// A GET request for `path`.
pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

/// A JSON POST to `path`.
pub fn post_json(path: &str, body: String, bearer: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::post(path).header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(t) = bearer {
        b = b.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Full::new(Bytes::from(body)))
        .expect("a valid request")
}
