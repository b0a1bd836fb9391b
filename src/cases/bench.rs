//! Case scenarios of `yichuang bench`:
//! - `cases`: applications taken in, then accepted, over HTTP (two timed phases);
//! - `case-notice`: intake → 受理 → the 受理通知书 PDF, one chain after another per client, timed
//!   as a whole;
//! - `case-notice-burst`: `--concurrency` (default 200) clients ask for notice PDFs at once
//!   while the server's resident memory is sampled;
//! - `cases-supervision`: the 电子监察 page of a center with a million cases stored.
//!
//! Each prepares its own situations (codes `BENCH-CASE-…`) and a system admin's and a
//! leader's token in the server's database. The seeded cases of `cases-supervision` stay:
//! run these on a database kept for measuring.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::audit::Actor;
use crate::bench::{
    BenchArgs, BenchError, Figure, Output, center_id, load, load_config, load_output, matter_id,
    open_db, table,
};
use crate::clock::Clock;
use crate::db::{Backend, Db};

/// Cases `cases-supervision` keeps stored at the center.
const STORED: i64 = 1_000_000;
/// Departments and situations the stored cases spread over.
const DEPARTMENTS: i64 = 12;
const SITUATIONS: i64 = 60;

/// What a scenario works with.
struct Prepared {
    center: i64,
    /// Situation codes, the first one for the HTTP scenarios.
    codes: Vec<String>,
    admin: String,
    leader: String,
}

/// `n` situations of the center (promised, 5 working days, one material, 不收费), spread over
/// [`DEPARTMENTS`] departments, with no window holding delegated rights (so the center's
/// comprehensive windows take them), and tokens for the system admin and a leader.
async fn prepare(db: &Db, center_code: &str, n: i64) -> Result<Prepared, BenchError> {
    let now = Clock::system().now_micros();
    let center = center_id(db, center_code).await?;
    let mut tx = db.begin().await?;
    let mut codes = Vec::new();
    for i in 0..n {
        let code = format!("BENCH-CASE-{center_code}-{i:03}");
        sqlx::query(
            "insert into matters (center_id, code, node, name, path_json, department, kind, legal_limit, \
             promised_limit, limit_unit, fees, created_at, updated_at) \
             values ($1, $2, 'matter', $3, '[\"办件压测\"]', $4, 'promised', 20, 5, 'working_days', '不收费', $5, $5) \
             on conflict (code) do nothing",
        )
        .bind(center)
        .bind(&code)
        .bind(format!("办件压测事项{i:03}"))
        .bind(format!("压测部门{:02}", i % DEPARTMENTS))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id = matter_id(&mut tx, &code).await?;
        sqlx::query(
            "insert into matter_materials (matter_id, position, name, form, copies, required, tolerable) \
             values ($1, 1, '申请书', 'original', 1, 1, 0) on conflict (matter_id, position) do nothing",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        codes.push(code);
    }
    let admin =
        crate::auth::tokens::create(&mut tx, &Actor::system(), "admin", "bench", now).await?;
    let leader_login: Option<String> = sqlx::query_scalar(
        "select u.login from users u join user_roles r on r.user_id = u.id \
         join user_centers uc on uc.user_id = u.id \
         where r.role = 'leader' and uc.center_id = $1 order by u.id limit 1",
    )
    .bind(center)
    .fetch_optional(&mut *tx)
    .await?;
    let leader = match leader_login {
        Some(l) => crate::auth::tokens::create(&mut tx, &Actor::system(), &l, "bench", now).await?,
        None => admin.clone(),
    };
    tx.commit().await?;
    Ok(Prepared {
        center,
        codes,
        admin,
        leader,
    })
}

fn run_id() -> u64 {
    Clock::system().now_micros() as u64 / 1_000_000
}

/// The `n`-th applicant of run `run`: a valid ID-card number.
fn id_card(run: u64, n: usize) -> String {
    let birth = jiff::civil::date(1960, 1, 1)
        .checked_add(jiff::Span::new().days((n / 1000) as i64 + (run % 500) as i64 * 17))
        .unwrap_or(jiff::civil::date(1960, 1, 1));
    crate::identity::make_id_card("360721", birth, (n % 1000) as u16)
}

fn intake_body(center: &str, code: &str, run: u64, n: usize) -> String {
    json!({"center": center, "situation": code,
           "applicant": {"name": "压测申请人", "id_card": id_card(run, n), "phone": "13800000000"}})
    .to_string()
}

/// `cases`: the load's requests take applications in; then as many acceptances, each of one of
/// those cases. Both phases' rates and latencies, and the case numbers counted in the database.
pub async fn cases(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, 1).await?;
    let run = run_id();
    let concurrency = load_config(args).concurrency;
    let numbers = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = numbers.clone();
    let (center, code, token) = (args.center.clone(), p.codes[0].clone(), p.admin.clone());
    let intake = load::run(
        load_config(args),
        move |w, n| {
            load::post_json(
                "/api/v1/cases",
                intake_body(&center, &code, run, n * concurrency + w),
                Some(&token),
            )
        },
        move |_, status, body| {
            if status.as_u16() != 201 {
                return false;
            }
            if let Ok(v) = serde_json::from_slice::<Value>(body)
                && let Some(n) = v["number"].as_str()
            {
                sink.lock().expect("numbers").push(n.to_owned());
            }
            true
        },
    )
    .await?;
    let taken = Arc::new(std::mem::take(&mut *numbers.lock().expect("numbers")));
    let (list, token) = (taken.clone(), p.admin.clone());
    // Each case once: the workers take the next number in turn.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let accept = load::run(
        load::LoadConfig {
            base: args.url.clone(),
            concurrency,
            duration: None,
            requests: Some(taken.len()),
        },
        move |_, _| {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % list.len().max(1);
            load::post_json(
                &format!("/api/v1/cases/{}/accept", list[i]),
                "{}".into(),
                Some(&token),
            )
        },
        |_, status, _| status.as_u16() == 200,
    )
    .await?;
    let distinct: i64 = sqlx::query_scalar(
        "select count(distinct number) - count(*) from cases where center_id = $1",
    )
    .bind(p.center)
    .fetch_one(db.pool())
    .await?;
    let mut out = load_output(
        "cases (accept)",
        &accept,
        json!({"intake": intake, "duplicate_numbers": -distinct}),
    );
    let intake_out = load_output("cases (intake)", &intake, json!({}));
    out.table = format!(
        "{}\n\n{}\n\nduplicate case numbers in the database: {}",
        intake_out.table, out.table, -distinct
    );
    Ok(out)
}

/// Sends one request on `s` and returns its status and body.
async fn send(
    s: &mut load::Sender,
    mut req: hyper::Request<http_body_util::Full<Bytes>>,
) -> Result<(u16, Bytes), BenchError> {
    req.headers_mut().insert(
        hyper::header::HOST,
        hyper::header::HeaderValue::from_static("127.0.0.1"),
    );
    s.ready().await?;
    let resp = s.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn bearer_get(path: &str, token: &str) -> hyper::Request<http_body_util::Full<Bytes>> {
    hyper::Request::get(path)
        .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(http_body_util::Full::new(Bytes::new()))
        .expect("a valid request")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// `case-notice`: each client repeats intake → 受理 → 受理通知书 PDF; the chain is timed whole,
/// and the PDF's part alone.
pub async fn notice(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, 1).await?;
    let addr = load::loopback_addr(&args.url)?;
    let run = run_id();
    let clients = args.concurrency.clamp(1, 256);
    let limit = args.requests.unwrap_or(usize::MAX);
    let deadline = Instant::now() + args.duration.unwrap_or(Duration::from_secs(10));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (center, code, token, next) = (
            args.center.clone(),
            p.codes[0].clone(),
            p.admin.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut chains = Vec::new();
            let mut pdfs = Vec::new();
            let mut errors = Vec::new();
            let Ok(mut s) = load::connect(addr).await else {
                errors.push("无法连接".to_owned());
                return (chains, pdfs, errors);
            };
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= limit || Instant::now() >= deadline {
                    break;
                }
                let t0 = Instant::now();
                let body = intake_body(&center, &code, run, i);
                let step = async {
                    let (st, b) =
                        send(&mut s, load::post_json("/api/v1/cases", body, Some(&token))).await?;
                    if st != 201 {
                        return Err(format!("收件 {st} {}", String::from_utf8_lossy(&b)).into());
                    }
                    let v: Value = serde_json::from_slice(&b)?;
                    let number = v["number"].as_str().unwrap_or_default().to_owned();
                    let path = format!("/api/v1/cases/{number}/accept");
                    let (st, b) =
                        send(&mut s, load::post_json(&path, "{}".into(), Some(&token))).await?;
                    if st != 200 {
                        return Err(format!("受理 {st} {}", String::from_utf8_lossy(&b)).into());
                    }
                    let t1 = Instant::now();
                    let path = format!("/api/v1/cases/{number}/notices/accept.pdf");
                    let (st, b) = send(&mut s, bearer_get(&path, &token)).await?;
                    if st != 200 || !b.starts_with(b"%PDF") {
                        return Err(format!("通知书 {st}").into());
                    }
                    Ok::<_, BenchError>(t1.elapsed())
                }
                .await;
                match step {
                    Ok(pdf) => {
                        chains.push(t0.elapsed().as_secs_f64() * 1000.0);
                        pdfs.push(pdf.as_secs_f64() * 1000.0);
                    }
                    Err(e) => {
                        errors.push(e.to_string());
                        match load::connect(addr).await {
                            Ok(fresh) => s = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
            (chains, pdfs, errors)
        }));
    }
    let (mut chains, mut pdfs, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for w in workers {
        if let Ok((c, p, e)) = w.await {
            chains.extend(c);
            pdfs.extend(p);
            errors.extend(e);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    chains.sort_by(f64::total_cmp);
    pdfs.sort_by(f64::total_cmp);
    let figures = [
        (
            "chains per second",
            chains.len() as f64 / seconds.max(1e-9),
            "/s",
        ),
        ("intake→notice p50", percentile(&chains, 0.5), "ms"),
        ("intake→notice p99", percentile(&chains, 0.99), "ms"),
        ("notice PDF p50", percentile(&pdfs, 0.5), "ms"),
        ("notice PDF p99", percentile(&pdfs, 0.99), "ms"),
    ]
    .map(|(name, value, unit)| Figure { name, value, unit });
    let table = format!(
        "case-notice: {} chains (intake, accept, PDF) by {clients} clients in {seconds:.1} s, {} errors{}\n{}",
        chains.len(),
        errors.len(),
        errors
            .first()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        table(&figures)
    );
    let json = json!({"scenario": "case-notice", "chains": chains.len(), "errors": errors.len(),
        "p50_ms": percentile(&chains, 0.5), "p99_ms": percentile(&chains, 0.99),
        "pdf_p50_ms": percentile(&pdfs, 0.5), "pdf_p99_ms": percentile(&pdfs, 0.99)});
    Ok(Output { table, json })
}

/// The process listening on `port` (loopback), found through `/proc` (Linux).
fn listener_pid(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is column 9.
            if cols.len() > 9
                && cols[3] == "0A"
                && cols[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    == Some(port)
            {
                inodes.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && inodes.iter().any(|i| target.to_string_lossy() == *i)
            {
                return Some(pid);
            }
        }
    }
    None
}

/// Resident memory of `pid` in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// `case-notice-burst`: `--concurrency` clients (default here 200) each ask for a notice PDF at
/// once, `--requests` in all (default 4 rounds), while the server's resident memory is sampled
/// every 5 ms.
pub async fn notice_burst(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, 1).await?;
    let addr = load::loopback_addr(&args.url)?;
    let pid = listener_pid(addr.port())
        .ok_or("找不到监听该端口的服务器进程（需要在同一台机器上以可读取 /proc 的用户运行）")?;
    // Cases to print: accepted through the API.
    let clients = if args.concurrency == 64 {
        200
    } else {
        args.concurrency.clamp(1, 1000)
    };
    let mut s = load::connect(addr).await?;
    let run = run_id();
    let mut numbers = Vec::new();
    for i in 0..20 {
        let (st, b) = send(
            &mut s,
            load::post_json(
                "/api/v1/cases",
                intake_body(&args.center, &p.codes[0], run, i),
                Some(&p.admin),
            ),
        )
        .await?;
        if st != 201 {
            return Err(format!("收件失败：{st} {}", String::from_utf8_lossy(&b)).into());
        }
        let v: Value = serde_json::from_slice(&b)?;
        let n = v["number"].as_str().unwrap_or_default().to_owned();
        let (st, _) = send(
            &mut s,
            load::post_json(
                &format!("/api/v1/cases/{n}/accept"),
                "{}".into(),
                Some(&p.admin),
            ),
        )
        .await?;
        if st != 200 {
            return Err(format!("受理失败：{st}").into());
        }
        numbers.push(n);
    }
    let before = rss_mib(pid).unwrap_or(0.0);
    let peak = Arc::new(Mutex::new(before));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(m) = rss_mib(pid) {
                    let mut p = peak.lock().expect("peak");
                    *p = p.max(m);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let numbers = Arc::new(numbers);
    let token = p.admin.clone();
    let r = load::run(
        load::LoadConfig {
            base: args.url.clone(),
            concurrency: clients,
            duration: None,
            requests: Some(args.requests.unwrap_or(clients * 4)),
        },
        move |w, n| {
            bearer_get(
                &format!(
                    "/api/v1/cases/{}/notices/accept.pdf",
                    numbers[(w + n) % numbers.len()]
                ),
                &token,
            )
        },
        |_, status, body| status.as_u16() == 200 && body.starts_with(b"%PDF"),
    )
    .await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.await;
    let peak = *peak.lock().expect("peak");
    let mut out = load_output(
        "case-notice-burst",
        &r,
        json!({"clients": clients, "rss_before_mib": before, "rss_peak_mib": peak, "server_pid": pid}),
    );
    out.table.push_str(&format!(
        "\n{clients} clients at once; server (pid {pid}) resident memory {before:.0} MiB before, {peak:.0} MiB at the peak"
    ));
    Ok(out)
}

/// Stores cases at the center until it holds [`STORED`]: 95% issued (most on time), 3% in the
/// back office with due dates around today, 2% refused, over [`SITUATIONS`] situations.
async fn seed(db: &Db, p: &Prepared) -> Result<i64, BenchError> {
    let have: i64 = sqlx::query_scalar("select count(*) from cases where center_id = $1")
        .bind(p.center)
        .fetch_one(db.pool())
        .await?;
    if have >= STORED {
        return Ok(have);
    }
    let now = Clock::system().now_micros();
    let today = crate::timetable::today_at(&Clock::system());
    let day = |offset: i64| {
        today
            .checked_add(jiff::Span::new().days(offset))
            .unwrap_or(today)
            .to_string()
    };
    let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select id from matters where code like 'BENCH-CASE-%' and center_id = {} order by code",
        p.center
    )))
    .fetch_all(db.pool())
    .await?;
    if ids.is_empty() {
        return Err("没有压测事项".into());
    }
    let sits = ids.len() as i64;
    let matter = format!(
        "case i % {sits} {} end",
        ids.iter()
            .enumerate()
            .map(|(k, id)| format!("when {k} then {id}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Open cases fall due over six weeks, from ten days ago on (about a quarter late), each
    // warned the day before.
    let open_days = |shift: i64| {
        format!(
            "case i % 42 {} end",
            (0..42)
                .map(|k| format!("when {k} then '{}'", day(k - 10 + shift)))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let batch = 50_000i64;
    let mut start = have;
    while start < STORED {
        let end = (start + batch).min(STORED);
        // The row's number `i` decides everything about it, so both engines store the same.
        let series = match db.backend() {
            Backend::Postgres => format!("select generate_series({}, {}) as i", start + 1, end),
            Backend::Sqlite => format!(
                "with recursive s(i) as (select {} union all select i + 1 from s where i < {}) select i from s",
                start + 1,
                end
            ),
        };
        let concat = |a: &str, b: &str| format!("{a} || {b}");
        let sql = format!(
            "insert into cases (number, center_id, matter_id, department, applicant_kind, applicant_name, applicant_no, \
             state, kind, accepted_on, decided_on, limit_days, legal_days, due_on, warn_on, decision, created_at, updated_at, \
             decided_at, closed_at) \
             select {number}, {center}, {matter}, '压测部门' || {dept}, 'person', '压测申请人', '360721196001010000', \
             case when i % 100 < 95 then 'issued' when i % 100 < 98 then 'accepted' else 'refused' end, 'promised', \
             '{d_old}', case when i % 100 < 95 then '{d_old}' else null end, 5, 20, \
             case when i % 100 < 95 then (case when i % 10 = 0 then '{d_old_early}' else '{d_old_late}' end) \
                  when i % 100 < 98 then {d_open} else null end, \
             case when i % 100 < 95 then '{d_warn}' when i % 100 < 98 then {w_open} else null end, \
             case when i % 100 < 95 then 'approved' else '' end, {now} - i, {now} - i, \
             case when i % 100 < 95 then {now} - i else null end, case when i % 100 < 95 then {now} - i else null end \
             from ({series}) s",
            number = concat("'BENCH-'", "cast(i as text)"),
            center = p.center,
            dept = match db.backend() {
                Backend::Postgres =>
                    format!("lpad(cast((i % {sits}) % {DEPARTMENTS} as text), 2, '0')"),
                Backend::Sqlite =>
                    format!("substr('0' || cast((i % {sits}) % {DEPARTMENTS} as text), -2)"),
            },
            d_old = day(-60),
            d_old_early = day(-70),
            d_old_late = day(-50),
            d_open = open_days(0),
            w_open = open_days(-1),
            d_warn = day(-61),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(db.pool())
            .await?;
        start = end;
        eprintln!("stored {end} of {STORED} cases");
    }
    if db.backend() == Backend::Postgres {
        sqlx::query("analyze cases").execute(db.pool()).await?;
        sqlx::query("analyze case_rollups")
            .execute(db.pool())
            .await?;
    }
    Ok(STORED)
}

/// `cases-supervision`: the 电子监察 page for the center with [`STORED`] cases, as its leader.
pub async fn supervision(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, SITUATIONS).await?;
    let stored = seed(&db, &p).await?;
    let path = format!("/cases/supervision?center={}", args.center);
    let token = p.leader.clone();
    let mut config = load_config(args);
    if args.concurrency == 64 {
        config.concurrency = 1;
    }
    let r = load::run(
        config,
        move |_, _| bearer_get(&path, &token),
        |_, status, body| {
            status.as_u16() == 200 && body.windows(12).any(|w| w == "电子监察".as_bytes())
        },
    )
    .await?;
    let mut out = load_output("cases-supervision", &r, json!({"stored": stored}));
    out.table
        .push_str(&format!("\n{stored} cases stored at {}", args.center));
    Ok(out)
}
