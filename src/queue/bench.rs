//! Queue scenarios of `yichuang bench`: `tickets` (kiosks issuing), `call-next` (many windows
//! calling at once) and `display` (SSE clients, time from a call to its arrival). Each checks
//! correctness as well as speed: no number twice, no ticket called by two windows — from the
//! answers and, when the bench can open the server's database, from the database afterwards.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::{
    audit::Actor,
    bench::{BenchArgs, BenchError, Output, load, load_config, load_output},
    clock::Clock,
    db::Db,
};

async fn open_db(url: &str) -> Option<Db> {
    let db = Db::connect(url, 4).await.ok()?;
    db.ping().await.then_some(db)
}

async fn center_id(db: &Db, code: &str) -> Result<i64, BenchError> {
    let id: Option<i64> = sqlx::query_scalar("select id from centers where code = $1")
        .bind(code)
        .fetch_optional(db.pool())
        .await?;
    id.ok_or_else(|| format!("数据库中没有编码为“{code}”的中心").into())
}

/// Numbers given out twice on one day, counted in the database.
async fn db_duplicates(db: &Db, center: i64) -> Result<i64, BenchError> {
    Ok(sqlx::query_scalar(
        "select count(*) from (select service_date, number from tickets where center_id = $1 \
         group by service_date, number having count(*) > 1) d",
    )
    .bind(center)
    .fetch_one(db.pool())
    .await?)
}

/// Tickets called by more than one window (or twice), counted in the database.
async fn db_double_called(db: &Db, center: i64) -> Result<i64, BenchError> {
    Ok(sqlx::query_scalar(
        "select count(*) from (select e.ticket_id from ticket_events e join tickets t on t.id = e.ticket_id \
         where t.center_id = $1 and e.action = 'called' group by e.ticket_id having count(*) > 1) d",
    )
    .bind(center)
    .fetch_one(db.pool())
    .await?)
}

async fn zones_of(args: &BenchArgs) -> Result<Vec<String>, BenchError> {
    let base = args.url.trim_end_matches('/').to_owned();
    let cfg = load::LoadConfig {
        base,
        concurrency: 1,
        duration: None,
        requests: Some(1),
    };
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink = found.clone();
    let center = args.center.clone();
    load::run(
        cfg,
        move |_, _| load::get(&format!("/api/v1/centers/{center}/zones")),
        move |_, status, body| {
            if let Ok(v) = serde_json::from_slice::<Value>(body)
                && let Some(items) = v["items"].as_array()
            {
                let mut z = sink.lock().expect("zones");
                z.extend(
                    items
                        .iter()
                        .filter_map(|i| i["code"].as_str().map(str::to_owned)),
                );
            }
            status.is_success()
        },
    )
    .await?;
    let zones = found.lock().expect("zones").clone();
    if zones.is_empty() {
        return Err(format!("中心“{}”没有专区，无法取号", args.center).into());
    }
    Ok(zones)
}

/// Kiosks issuing tickets over every zone, with the HTTP ceiling (`healthz`) measured first
/// for the same time so the two can be compared.
pub async fn tickets(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let zones = Arc::new(zones_of(args).await?);
    let base_run = load::run(
        load_config(args),
        |_, _| load::get("/healthz"),
        |_, s, _| s.is_success(),
    )
    .await?;
    let seen = Arc::new(Mutex::new(HashSet::<String>::new()));
    let dups = Arc::new(AtomicUsize::new(0));
    let (s2, d2) = (seen.clone(), dups.clone());
    let center = args.center.clone();
    let z = zones.clone();
    let r = load::run(
        load_config(args),
        move |w, n| {
            let zone = &z[(w + n) % z.len()];
            load::post_json(
                &format!("/api/v1/centers/{center}/tickets"),
                format!("{{\"zone\":\"{zone}\"}}"),
                None,
            )
        },
        move |_, status, body| {
            if status.as_u16() != 201 {
                return false;
            }
            let Ok(v) = serde_json::from_slice::<Value>(body) else {
                return false;
            };
            let number = v["number"].as_str().unwrap_or_default().to_owned();
            if !s2.lock().expect("numbers").insert(number) {
                d2.fetch_add(1, Ordering::Relaxed);
            }
            true
        },
    )
    .await?;
    let mut duplicates = dups.load(Ordering::Relaxed) as i64;
    let mut checked = "answers";
    if let Some(db) = open_db(db_url).await
        && let Ok(c) = center_id(&db, &args.center).await
    {
        duplicates += db_duplicates(&db, c).await?;
        checked = "answers+database";
    }
    let mut out = load_output(
        "tickets",
        &r,
        json!({"duplicates": duplicates, "double_called": 0, "checked": checked,
               "healthz_rps": base_run.rps, "share_of_healthz_percent": r.rps / base_run.rps.max(1e-9) * 100.0}),
    );
    out.table.push_str(&format!(
        "\nhealthz in the same run: {:.0}/s (tickets at {:.1}% of it)\nduplicate numbers: {duplicates} (checked: {checked})",
        base_run.rps,
        r.rps / base_run.rps.max(1e-9) * 100.0
    ));
    Ok(out)
}

/// Prepares `windows` bench windows in a bench zone, a token for the system admin and
/// `tickets` waiting tickets, directly in the server's database.
async fn prepare(
    db: &Db,
    center_code: &str,
    windows: usize,
    tickets: usize,
) -> Result<(String, i64), BenchError> {
    let center = center_id(db, center_code).await?;
    let clock = Clock::system();
    let now = clock.now_micros();
    let actor = Actor::system();
    let mut tx = db.begin().await?;
    let zone: Option<i64> =
        sqlx::query_scalar("select id from zones where center_id = $1 and code = 'BENCH'")
            .bind(center)
            .fetch_optional(&mut *tx)
            .await?;
    let zone =
        match zone {
            Some(z) => z,
            None => sqlx::query_scalar(
                "insert into zones (center_id, code, name, sort_order, created_at, ticket_prefix) \
                 values ($1, 'BENCH', '压测专区', 999, $2, 'Z') returning id",
            )
            .bind(center)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?,
        };
    for i in 1..=windows {
        sqlx::query(
            "insert into windows (center_id, zone_id, code, name, kind, created_at) values ($1, $2, $3, $4, 'zone', $5) \
             on conflict (center_id, code) do nothing",
        )
        .bind(center)
        .bind(zone)
        .bind(format!("BENCH{i:03}"))
        .bind(format!("压测窗口{i}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    // Finish what an earlier run left at the bench windows.
    sqlx::query(
        "update tickets set state = 'done', finished_at = $1 where zone_id = $2 and state in ('called', 'serving', 'held')",
    )
    .bind(now)
    .bind(zone)
    .execute(&mut *tx)
    .await?;
    let token = crate::auth::tokens::create(&mut tx, &actor, "admin", "bench", now).await?;
    tx.commit().await?;
    // Through the kiosks' own group-commit path: numbers, tickets and their events.
    let request = super::issuer::IssueRequest {
        center_id: center,
        center_code: center_code.to_owned(),
        zone_id: zone,
        zone_code: "BENCH".into(),
        prefix: "Z".into(),
        priority: None,
        appointment_at: None,
    };
    let mut left = tickets;
    while left > 0 {
        let batch = left.min(super::issuer::MAX_BATCH);
        let mut tx = db.begin().await?;
        let date = crate::timetable::today_at(&clock).to_string();
        let reqs = vec![request.clone(); batch];
        let made =
            super::issuer::issue_batch(&mut tx, db.backend(), &date, clock.now_micros(), &reqs)
                .await?;
        super::ticket::write_events(&mut tx, db.backend(), &made.rows).await?;
        tx.commit().await?;
        left -= batch;
    }
    if db.backend() == crate::db::Backend::Postgres {
        // A hall's tables grow slowly and autovacuum keeps their statistics; a bench that
        // inserts thousands of rows at once must refresh them itself.
        sqlx::query("analyze tickets").execute(db.pool()).await?;
    }
    Ok((token, center))
}

/// Many windows calling at once: each worker is one window that calls the next ticket and
/// finishes it, over and over.
pub async fn call_next(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await.ok_or(
        "call-next 需要直接访问服务器的数据库以准备窗口和号码：请用 --database-url 指向同一数据库",
    )?;
    let windows = args.concurrency.clamp(1, 999);
    // Enough waiting tickets that the line never runs dry: half the requests are calls, and a
    // timed run is given 10,000 calls a second.
    let planned = match (args.requests, args.duration) {
        (Some(n), _) => n,
        (None, d) => (d.unwrap_or(Duration::from_secs(10)).as_secs_f64() * 20_000.0) as usize,
    };
    let (token, center) = prepare(&db, &args.center, windows, planned / 2 + windows).await?;
    let calls = Arc::new(Mutex::new(HashSet::<String>::new()));
    let double = Arc::new(AtomicUsize::new(0));
    let made = Arc::new(AtomicUsize::new(0));
    let (c2, d2, m2) = (calls.clone(), double.clone(), made.clone());
    let code = args.center.clone();
    let t = token.clone();
    let mut cfg = load_config(args);
    cfg.concurrency = windows;
    let started = Instant::now();
    let r = load::run(
        cfg,
        move |w, n| {
            let action = if n % 2 == 0 { "call-next" } else { "finish" };
            load::post_json(
                &format!("/api/v1/centers/{code}/windows/BENCH{:03}/{action}", w + 1),
                String::new(),
                Some(&t),
            )
        },
        move |_, status, body| {
            if status.as_u16() == 204 {
                return true;
            }
            if !status.is_success() {
                return false;
            }
            let Ok(v) = serde_json::from_slice::<Value>(body) else {
                return false;
            };
            if v["ticket"]["state"] == "called" {
                m2.fetch_add(1, Ordering::Relaxed);
                let n = v["ticket"]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if !c2.lock().expect("calls").insert(n) {
                    d2.fetch_add(1, Ordering::Relaxed);
                }
            }
            true
        },
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let double_called =
        double.load(Ordering::Relaxed) as i64 + db_double_called(&db, center).await?;
    let duplicates = db_duplicates(&db, center).await?;
    let calls_done = made.load(Ordering::Relaxed);
    let mut out = load_output(
        "call-next",
        &r,
        json!({"windows": windows, "calls": calls_done, "calls_per_sec": calls_done as f64 / seconds,
               "duplicates": duplicates, "double_called": double_called, "checked": "answers+database"}),
    );
    out.table.push_str(&format!(
        "\n{windows} windows: {calls_done} calls ({:.0}/s, each followed by a finish); tickets at two windows: {double_called}; duplicate numbers: {duplicates}",
        calls_done as f64 / seconds
    ));
    Ok(out)
}

/// N SSE clients follow a center while one window calls at a steady pace; measures the time
/// from each call (its commit) to its arrival at every client.
pub async fn display(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await.ok_or(
        "display 需要直接访问服务器的数据库以准备号码：请用 --database-url 指向同一数据库",
    )?;
    let clients = args.concurrency.clamp(1, 5000);
    let duration = args.duration.unwrap_or(Duration::from_secs(10));
    let rate = 20u64; // calls per second
    let calls_planned = (duration.as_secs_f64() * rate as f64) as usize + 5;
    let (token, _) = prepare(&db, &args.center, 1, calls_planned + 5).await?;
    let addr = load::loopback_addr(&args.url)?;
    let latencies = Arc::new(Mutex::new(Vec::<u32>::with_capacity(
        clients * calls_planned,
    )));
    let connected = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (lat, conn, stop, center) = (
            latencies.clone(),
            connected.clone(),
            stop.clone(),
            args.center.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let Ok(mut sender) = load::connect(addr).await else {
                return;
            };
            let mut req = load::get(&format!("/api/v1/centers/{center}/events"));
            req.headers_mut().insert(
                hyper::header::HOST,
                hyper::header::HeaderValue::from_static("127.0.0.1"),
            );
            let Ok(resp) = sender.send_request(req).await else {
                return;
            };
            conn.fetch_add(1, Ordering::Relaxed);
            let mut body = resp.into_body();
            let mut buf = String::new();
            while !stop.load(Ordering::Relaxed) {
                let frame =
                    match tokio::time::timeout(Duration::from_millis(500), body.frame()).await {
                        Ok(Some(Ok(f))) => f,
                        Ok(_) => break,
                        Err(_) => continue,
                    };
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let now = Clock::system().now_micros();
                buf.push_str(&String::from_utf8_lossy(&data));
                while let Some(end) = buf.find("\n\n") {
                    let message: String = buf.drain(..end + 2).collect();
                    if message.contains("event: called")
                        && let Some(line) = message.lines().find(|l| l.starts_with("data: "))
                        && let Ok(e) = serde_json::from_str::<Value>(&line[6..])
                    {
                        let at = e["at"].as_i64().unwrap_or(now);
                        lat.lock()
                            .expect("latencies")
                            .push((now - at).max(0) as u32);
                    }
                }
            }
        }));
    }
    let wait_until = Instant::now() + Duration::from_secs(30);
    while connected.load(Ordering::Relaxed) < clients && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = connected.load(Ordering::Relaxed);
    let mut driver = load::connect(addr).await?;
    let mut calls = 0usize;
    let start = Instant::now();
    let path = |a: &str| format!("/api/v1/centers/{}/windows/BENCH001/{a}", args.center);
    while start.elapsed() < duration {
        for action in ["call-next", "finish"] {
            let mut req = load::post_json(&path(action), String::new(), Some(&token));
            req.headers_mut().insert(
                hyper::header::HOST,
                hyper::header::HeaderValue::from_static("127.0.0.1"),
            );
            driver.ready().await?;
            let resp = driver.send_request(req).await?;
            let ok = resp.status().is_success();
            let _: Bytes = resp.into_body().collect().await?.to_bytes();
            if ok && action == "call-next" {
                calls += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(1000 / rate)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let mut all = latencies.lock().expect("latencies").clone();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i]) / 1000.0
    };
    let expected = calls * ready;
    let json = json!({"scenario": "display", "clients": ready, "calls": calls, "requests": all.len(),
        "ok": all.len(), "errors": expected.saturating_sub(all.len()), "expected_deliveries": expected,
        "rps": all.len() as f64 / start.elapsed().as_secs_f64(),
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0), "duplicates": 0, "double_called": 0});
    let table = format!(
        "display: {ready} SSE clients, {calls} calls, {} of {expected} deliveries\n{}",
        all.len(),
        crate::bench::table(&[
            crate::bench::Figure {
                name: "call-to-arrival p50",
                value: pct(0.5),
                unit: "ms"
            },
            crate::bench::Figure {
                name: "call-to-arrival p99",
                value: pct(0.99),
                unit: "ms"
            },
            crate::bench::Figure {
                name: "call-to-arrival max",
                value: pct(1.0),
                unit: "ms"
            },
        ])
    );
    Ok(Output { table, json })
}
