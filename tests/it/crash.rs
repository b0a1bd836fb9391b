//! Issue 14, kept in the project: the real server killed with SIGKILL under load, restarted on
//! the same database, several times, on an SQLite file and on a PostgreSQL database.
//!
//! Kiosks issue tickets (`POST /api/v1/centers/GX/tickets`) and windows call and finish
//! (`…/windows/{w}/call-next`, `…/finish`) at once, while the server is killed (`kill -9`) at
//! a random moment and started again. Afterwards the database must hold every acknowledged
//! (2xx-answered) ticket with its number and every acknowledged call (a `called` event of that
//! ticket at that window), no number twice per center, day and zone, no ticket called twice,
//! and no window holding two current tickets. The figures are printed.
//!
//! Three kills per engine by default, a few seconds each; more with `YICHUANG_CRASH_ROUNDS`
//! (`YICHUANG_CRASH_SEED` repeats a run's moments):
//!
//! ```text
//! YICHUANG_CRASH_ROUNDS=20 cargo test --locked --test it -- crash:: --nocapture
//! ```

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use yichuang::db::Backend;

use crate::helpers::fresh_database;

/// The zones the kiosks issue tickets for, and the windows that call them (the system
/// admin may act at any window).
const ZONES: &[&str] = &["TYZH", "BDC", "RSYB"];
const WINDOWS: &[&str] = &["TY01", "TY02", "TY03", "TY04", "BDC01", "RS01"];
const KIOSKS: usize = 6;

/// How long one server start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a command of the binary on `url`; its standard output.
pub(crate) fn yichuang(url: &str, args: &[&str]) -> String {
    let (ok, out, err) = crate::helpers::run_cli(url, args);
    assert!(ok, "yichuang {args:?}: {err}");
    out
}

/// Migrates the database at `url`, loads the demo and mints an admin token named `name`.
pub(crate) fn demo_with_token(url: &str, name: &str) -> String {
    yichuang(url, &["migrate"]);
    yichuang(url, &["demo"]);
    let out = yichuang(url, &["token", "create", "--user", "admin", "--name", name]);
    out.lines().last().expect("a token").trim().to_owned()
}

/// The last few thousand characters of a server's log.
pub(crate) fn log_tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    text[text.floor_char_boundary(start)..].to_owned()
}

/// A running server process; killed with SIGKILL when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    /// Starts `yichuang serve` on a free loopback port and waits for its first 200 on
    /// `/healthz`.
    pub(crate) async fn start(url: &str, log: &std::path::Path) -> Self {
        match Self::try_start(url, log).await {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Server::start`], but a server that exits or never answers is an `Err` with the
    /// end of its log.
    pub(crate) async fn try_start(url: &str, log_path: &std::path::Path) -> Result<Self, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .expect("server log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_yichuang"))
            .args(["serve", "--listen", "127.0.0.1:0", "--no-demo"])
            .env("YICHUANG_DATABASE_URL", url)
            .env("YICHUANG_RATE_LIMIT_PER_SECOND", "0")
            .env("YICHUANG_KIOSK_HOURS", "false")
            .env_remove("YICHUANG_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address from the start line, then keeps draining stdout.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("http://").nth(1) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(START_TIMEOUT))
            .await
            .expect("the start line's reader");
        let fail = |mut child: Child, why: &str| {
            let _ = child.kill();
            let status = child.wait().ok();
            Err(format!(
                "the server {why} (exit {status:?}); its log ends:\n{}",
                log_tail(log_path)
            ))
        };
        let addr = match addr {
            Ok(a) => a,
            Err(_) => return fail(child, "did not start"),
        };
        let server = Self {
            child,
            base: format!("http://{addr}"),
        };
        let client = Client::new();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let up = client
                .get(format!("{}/healthz", server.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if up {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                drop(server);
                return Err(format!(
                    "the server never answered 200 on /healthz; its log ends:\n{}",
                    log_tail(log_path)
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `kill -9`, and waits until the process is gone.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drops a PostgreSQL test database when the test ends, however it ends.
struct DropDatabase(Option<String>);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.0 {
            crate::pg::drop_database(crate::pg::base_url(), name);
        }
    }
}

/// What the clients were told.
#[derive(Default)]
struct Seen {
    sent: AtomicUsize,
    /// Requests with no answer (the server was killed under them, or was down).
    unanswered: AtomicUsize,
    /// Acknowledged tickets: (id, zone, number).
    tickets: Mutex<Vec<(i64, String, String)>>,
    /// Acknowledged calls: (ticket id, window).
    calls: Mutex<Vec<(i64, String)>>,
    /// Answers that are neither an acknowledgement nor an expected refusal.
    odd: Mutex<BTreeMap<String, usize>>,
}

impl Seen {
    fn odd(&self, what: String) {
        *self.odd.lock().unwrap().entry(what).or_default() += 1;
    }
}

/// The server the clients talk to now (its address changes at each start).
type Base = Arc<Mutex<String>>;

/// Sends one request; `None` when it got no answer.
async fn send(
    client: &Client,
    base: &Base,
    seen: &Seen,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Option<(StatusCode, Value)> {
    let url = format!("{}{path}", base.lock().unwrap());
    let mut r = client.post(url).timeout(Duration::from_secs(10));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    seen.sent.fetch_add(1, Ordering::Relaxed);
    let answer = match r.send().await {
        Ok(a) => a,
        Err(_) => {
            seen.unanswered.fetch_add(1, Ordering::Relaxed);
            return None;
        }
    };
    let status = answer.status();
    match answer.bytes().await {
        Ok(bytes) => Some((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )),
        // Killed after the head: not an acknowledgement the client could read.
        Err(_) => {
            seen.unanswered.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// A kiosk: issues tickets round the zones until told to stop.
async fn kiosk(n: usize, base: Base, seen: Arc<Seen>, stop: Arc<AtomicBool>) {
    let client = Client::new();
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let zone = ZONES[i % ZONES.len()];
        let path = "/api/v1/centers/GX/tickets";
        match send(
            &client,
            &base,
            &seen,
            path,
            None,
            Some(json!({"zone": zone})),
        )
        .await
        {
            Some((StatusCode::CREATED, v)) => {
                let id = v["id"].as_i64().expect("a ticket id");
                let number = v["number"].as_str().expect("a number").to_owned();
                seen.tickets
                    .lock()
                    .unwrap()
                    .push((id, zone.to_owned(), number));
            }
            Some((s, v)) => {
                seen.odd(format!("ticket {s} {}", v["error"]["code"]));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A window: calls the next visitor, finishes, and again, until told to stop.
async fn window(
    code: &'static str,
    token: String,
    base: Base,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
) {
    let client = Client::new();
    let at = |action: &str| format!("/api/v1/centers/GX/windows/{code}/{action}");
    while !stop.load(Ordering::Relaxed) {
        match send(&client, &base, &seen, &at("call-next"), Some(&token), None).await {
            Some((StatusCode::OK, v)) => {
                let id = v["ticket"]["id"].as_i64().expect("the called ticket's id");
                seen.calls.lock().unwrap().push((id, code.to_owned()));
            }
            // Nobody waiting.
            Some((StatusCode::NO_CONTENT, _)) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            // The window still holds a ticket: a call whose answer was lost in a kill.
            Some((StatusCode::CONFLICT, _)) => {}
            Some((s, v)) => {
                seen.odd(format!("call-next {s} {}", v["error"]["code"]));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            None => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        }
        match send(&client, &base, &seen, &at("finish"), Some(&token), None).await {
            Some((s, _)) if s.is_success() => {}
            // Nothing to finish (a ticket called before the kill is still 'called' and
            // finishes; one that never was cannot).
            Some((StatusCode::CONFLICT | StatusCode::NOT_FOUND, _)) => {}
            Some((s, v)) => seen.odd(format!("finish {s} {}", v["error"]["code"])),
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

use crate::fuzz::Rng;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What the database holds after the last kill.
#[derive(sqlx::FromRow)]
struct Stored {
    id: i64,
    number: String,
}

async fn kill_under_load(backend: Backend) {
    let kills = env_number("YICHUANG_CRASH_ROUNDS").unwrap_or(3).max(1) as usize;
    let seed = env_number("YICHUANG_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(14, |d| d.as_nanos() as u64)
    });
    let mut rng = Rng(seed);
    let (url, dir) = fresh_database(backend).await;
    let _drop = DropDatabase(
        (backend == Backend::Postgres)
            .then(|| url.rsplit_once('/').map(|(_, n)| n.to_owned()))
            .flatten(),
    );
    let logs = tempfile::tempdir().expect("a log dir");
    let log = logs.path().join("server.log");
    let token = demo_with_token(&url, "crash");

    let started = Instant::now();
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let server = Server::start(&url, &log).await;
    let base: Base = Arc::new(Mutex::new(server.base.clone()));
    let mut tasks = Vec::new();
    for n in 0..KIOSKS {
        tasks.push(tokio::spawn(kiosk(
            n,
            base.clone(),
            seen.clone(),
            stop.clone(),
        )));
    }
    for code in WINDOWS {
        tasks.push(tokio::spawn(window(
            code,
            token.clone(),
            base.clone(),
            seen.clone(),
            stop.clone(),
        )));
    }
    let mut server = Some(server);
    for _ in 0..kills {
        // Load for 0.3 to 1.5 seconds, then kill -9 at that moment.
        let ms = 300 + rng.next() % 1200;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if let Some(s) = server.take() {
            s.kill();
        }
        // Down for a moment: the clients' requests fail.
        tokio::time::sleep(Duration::from_millis(rng.next() % 200)).await;
        let s = Server::start(&url, &log).await;
        *base.lock().unwrap() = s.base.clone();
        server = Some(s);
    }
    // A last stretch of load on the restarted server, then stop the clients and kill it too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("the clients stop")
            .expect("a client panicked");
    }
    if let Some(s) = server.take() {
        s.kill();
    }

    // The database, read directly.
    let db = yichuang::db::Db::connect(&url, 2)
        .await
        .expect("open the database");
    let pool = db.pool();
    let stored: HashMap<i64, String> =
        sqlx::query_as::<_, Stored>("select id, number from tickets")
            .fetch_all(pool)
            .await
            .expect("tickets")
            .into_iter()
            .map(|s| (s.id, s.number))
            .collect();
    let called: HashSet<(i64, String)> = sqlx::query_as::<_, (i64, String)>(
        "select e.ticket_id, w.code from ticket_events e join windows w on w.id = e.window_id \
         where e.action = 'called'",
    )
    .fetch_all(pool)
    .await
    .expect("call events")
    .into_iter()
    .collect();
    let duplicate_numbers: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from tickets group by center_id, service_date, zone_id, number \
         having count(*) > 1) d",
    )
    .fetch_one(pool)
    .await
    .expect("duplicates");
    let called_twice: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from ticket_events where action = 'called' \
         group by ticket_id having count(*) > 1) d",
    )
    .fetch_one(pool)
    .await
    .expect("double calls");
    let two_current: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from tickets where state in ('called', 'serving') \
         group by window_id having count(*) > 1) d",
    )
    .fetch_one(pool)
    .await
    .expect("windows with two tickets");
    let integrity: Option<String> = match backend {
        Backend::Sqlite => Some(
            sqlx::query_scalar("pragma integrity_check")
                .fetch_one(pool)
                .await
                .expect("integrity check"),
        ),
        Backend::Postgres => None,
    };
    db.pool().close().await;

    let tickets = seen.tickets.lock().unwrap().clone();
    let calls = seen.calls.lock().unwrap().clone();
    let lost_tickets: Vec<_> = tickets
        .iter()
        .filter(|(id, _, number)| stored.get(id) != Some(number))
        .collect();
    let lost_calls: Vec<_> = calls
        .iter()
        .filter(|(id, w)| !called.contains(&(*id, w.clone())))
        .collect();
    let mut numbers = HashSet::new();
    let duplicated_answers = tickets
        .iter()
        .filter(|(_, zone, number)| !numbers.insert((zone.clone(), number.clone())))
        .count();
    let mut once = HashSet::new();
    let called_twice_answers = calls.iter().filter(|(id, _)| !once.insert(*id)).count();
    let odd = seen.odd.lock().unwrap().clone();
    eprintln!(
        "crash on {backend:?} (seed {seed}): {kills} kills in {:.1} s; {} requests sent, {} unanswered; \
         {} tickets and {} calls acknowledged; lost {} tickets and {} calls; duplicated numbers {} \
         (answers) {duplicate_numbers} (stored); called twice {} (answers) {called_twice} (stored); \
         windows with two current tickets {two_current}; {} tickets stored; other answers {odd:?}",
        started.elapsed().as_secs_f64(),
        seen.sent.load(Ordering::Relaxed),
        seen.unanswered.load(Ordering::Relaxed),
        tickets.len(),
        calls.len(),
        lost_tickets.len(),
        lost_calls.len(),
        duplicated_answers,
        called_twice_answers,
        stored.len(),
    );
    assert!(
        lost_tickets.is_empty() && lost_calls.is_empty(),
        "acknowledged but lost: tickets {:?}, calls {:?}",
        &lost_tickets[..lost_tickets.len().min(10)],
        &lost_calls[..lost_calls.len().min(10)]
    );
    assert_eq!(duplicated_answers, 0, "a number was given twice");
    assert_eq!(duplicate_numbers, 0, "a number is stored twice");
    assert_eq!(called_twice_answers, 0, "a ticket was called twice");
    assert_eq!(called_twice, 0, "a ticket was called twice (stored)");
    assert_eq!(two_current, 0, "a window holds two current tickets");
    if let Some(check) = integrity {
        assert_eq!(check, "ok", "the SQLite file is intact");
    }
    assert!(
        odd.is_empty(),
        "unexpected answers {odd:?}; the server's log ends:\n{}",
        log_tail(&log)
    );
    assert!(
        !tickets.is_empty() && !calls.is_empty(),
        "the load made tickets and calls; the server's log ends:\n{}",
        log_tail(&log)
    );
    drop(dir);
}

crate::helpers::on_each_engine!(
    every_acknowledged_ticket_and_call_survives_kill_9,
    kill_under_load
);
