//! `yichuang bench SCENARIO`: the project's own measurements, loopback only and bounded.
//! Scenarios: `startup` (time to a healthy server, idle memory), `healthz` (the machine's HTTP
//! ceiling), `calendar` (deadlines per second); the areas add theirs on top of [`load`].

pub mod load;
mod startup;

use std::time::Duration;

use serde::Serialize;

pub use startup::{StartupReport, startup};

/// Arguments of `yichuang bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// startup | healthz | calendar | tickets | call-next | display | search | booking |
    /// booking-flash | booking-month | cases | case-notice | case-notice-burst |
    /// cases-supervision
    pub scenario: String,
    /// Server to load, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Concurrent connections (or SSE clients, or windows).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long to load, e.g. 10s, 500ms, 1m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// How many requests in total (instead of a duration).
    #[arg(long)]
    pub requests: Option<usize>,
    /// Repetitions for `startup` and `calendar`; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Center code for hall scenarios.
    #[arg(long, default_value = "GX")]
    pub center: String,
    /// API token for scenarios that act as a clerk or device.
    #[arg(long, env = "YICHUANG_BENCH_TOKEN")]
    pub token: Option<String>,
    /// `search`: `zipf` — queries drawn as people ask them, a few very often and a long tail
    /// rarely (most answers then come from the server's cache); `cold` — every query and page
    /// asked once (every answer is searched).
    #[arg(long, default_value = "zipf")]
    pub queries: String,
    /// Print one JSON object on the last line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses `10s`, `500ms`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("时长“{s}”无效，请写成 10s、500ms 或 1m");
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .ok_or_else(bad)?;
    let n: u64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(bad()),
    };
    if d.is_zero() || d > Duration::from_secs(600) {
        return Err("时长须大于 0 且不超过 10 分钟".into());
    }
    Ok(d)
}

/// One figure of a report, for the table.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

/// Renders figures as an aligned table.
pub fn table(figures: &[Figure]) -> String {
    let width = figures.iter().map(|f| f.name.len()).max().unwrap_or(0);
    figures
        .iter()
        .map(|f| format!("{:<width$}  {:>10.1} {}", f.name, f.value, f.unit))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a scenario prints: a table for people, one JSON object for scripts.
pub struct Output {
    pub table: String,
    pub json: serde_json::Value,
}

pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// The server's database, for a scenario that prepares its data or counts the outcome there.
pub async fn open_db(url: &str) -> Result<crate::db::Db, BenchError> {
    let db = crate::db::Db::connect(url, 4).await?;
    if !db.ping().await {
        return Err(
            "无法连接服务器的数据库：请用 --database-url 指向服务器所用的同一数据库".into(),
        );
    }
    Ok(db)
}

/// The id of the center with `code`, or the error a scenario stops with when there is none.
pub async fn center_id(db: &crate::db::Db, code: &str) -> Result<i64, BenchError> {
    Ok(sqlx::query_scalar("select id from centers where code = $1")
        .bind(code)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| format!("数据库中没有编码为“{code}”的中心"))?)
}

/// The id of the matter with `code`, which the scenario has just made sure exists.
pub async fn matter_id(conn: &mut crate::db::Conn, code: &str) -> Result<i64, BenchError> {
    Ok(sqlx::query_scalar("select id from matters where code = $1")
        .bind(code)
        .fetch_one(&mut *conn)
        .await?)
}

/// The load to offer: `--duration`, else `--requests`, else 10 seconds.
pub fn load_config(args: &BenchArgs) -> load::LoadConfig {
    let duration = match (args.duration, args.requests) {
        (None, None) => Some(Duration::from_secs(10)),
        (d, _) => d,
    };
    load::LoadConfig {
        base: args.url.clone(),
        concurrency: args.concurrency.clamp(1, 4096),
        duration,
        requests: args.requests,
    }
}

/// The table and JSON of an HTTP load run.
pub fn load_output(scenario: &str, r: &load::LoadReport, extra: serde_json::Value) -> Output {
    let mut json = serde_json::to_value(r).unwrap_or_default();
    json["scenario"] = scenario.into();
    if let (Some(obj), serde_json::Value::Object(more)) = (json.as_object_mut(), extra) {
        obj.extend(more);
    }
    let table = format!(
        "{scenario}: {} requests in {:.1} s, {} ok, {} errors\n{}",
        r.requests,
        r.seconds,
        r.ok,
        r.errors,
        table(&[
            Figure {
                name: "throughput",
                value: r.rps,
                unit: "/s"
            },
            Figure {
                name: "latency p50",
                value: r.p50_ms,
                unit: "ms"
            },
            Figure {
                name: "latency p99",
                value: r.p99_ms,
                unit: "ms"
            },
            Figure {
                name: "latency max",
                value: r.max_ms,
                unit: "ms"
            },
        ])
    );
    Output { table, json }
}

/// Runs the named scenario.
/// `db_url` is the server's database, for scenarios that prepare data or check it afterwards.
pub async fn dispatch(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    match args.scenario.as_str() {
        "startup" => {
            let runs = args.runs;
            let report = tokio::task::spawn_blocking(move || startup(runs)).await??;
            Ok(Output {
                table: table(&report.figures()),
                json: serde_json::to_value(&report)?,
            })
        }
        "calendar" => {
            // 200,000 deadlines per run, with each implementation.
            let n = args.runs.clamp(1, 50) * 200_000;
            let r = tokio::task::spawn_blocking(move || {
                crate::calendar::bench::run(&crate::calendar::HolidayTable::builtin(), n, 0x5eed)
            })
            .await?;
            let figures = [
                Figure {
                    name: "20-working-day deadlines, indexed",
                    value: r.fast_per_sec,
                    unit: "/s",
                },
                Figure {
                    name: "20-working-day deadlines, day by day",
                    value: r.naive_per_sec,
                    unit: "/s",
                },
            ];
            Ok(Output {
                table: format!(
                    "{} deadlines over random acceptance dates 2019–2026, same answers from both\n{}",
                    r.n,
                    table(&figures)
                ),
                json: serde_json::json!({"scenario": "calendar", "requests": r.n, "days": r.days,
                    "indexed_per_sec": r.fast_per_sec, "day_by_day_per_sec": r.naive_per_sec}),
            })
        }
        "healthz" => {
            let r = load::run(
                load_config(args),
                |_, _| load::get("/healthz"),
                |_, s, _| s.is_success(),
            )
            .await?;
            Ok(load_output("healthz", &r, serde_json::json!({})))
        }
        "search" => crate::catalog::bench::run(args).await,
        "tickets" => crate::queue::bench::tickets(args, db_url).await,
        "call-next" => crate::queue::bench::call_next(args, db_url).await,
        "display" => crate::queue::bench::display(args, db_url).await,
        "booking" => crate::booking::bench::booking(args, db_url).await,
        "booking-flash" => crate::booking::bench::flash(args, db_url).await,
        "booking-month" => crate::booking::bench::month(args, db_url).await,
        "cases" => crate::cases::bench::cases(args, db_url).await,
        "case-notice" => crate::cases::bench::notice(args, db_url).await,
        "case-notice-burst" => crate::cases::bench::notice_burst(args, db_url).await,
        "cases-supervision" => crate::cases::bench::supervision(args, db_url).await,
        other => Err(format!(
            "未知的测量场景“{other}”；可用：startup、healthz、calendar、tickets、call-next、display、search、booking、booking-flash、booking-month、cases、case-notice、case-notice-burst、cases-supervision"
        )
        .into()),
    }
}
