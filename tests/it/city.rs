//! A city's servers on one PostgreSQL database (issue 15). Two and four servers share a fresh
//! database under a mixed load for `YICHUANG_CITY_SECONDS` (5 by default): kiosks issue tickets
//! across the zones of both demo centers on every server, visitors leave, every window calls,
//! starts, finishes, recalls, transfers, holds and marks no-shows from every server (the same
//! window from several servers at once), and lobby displays follow the event stream on every
//! server. Afterwards: no deadlock (PostgreSQL's own count with `deadlock_timeout` at 50 ms, and
//! the servers' log), no answer but 2xx, 409 and 422, no number issued twice, no ticket at two
//! windows, the waiting counts equal to the waiting tickets, and every committed call on every
//! server's streams. No timing is asserted: every wait is a loop with a bound. The deadlock count
//! is the database's, read after the servers' connections are ended (a backend's statistics reach
//! `pg_stat_database` at the latest when it exits); the log is watched over the whole test binary,
//! so a deadlock logged by another test running at the same time fails this one too.
//!
//! ```sh
//! YICHUANG_CITY_SECONDS=30 cargo test --locked --test it -- city:: --nocapture
//! ```

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt::Write as _,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;
use yichuang::db::Backend;

use crate::helpers::{Api, TestApp, fresh_database, test_config};

/// The windows the load acts at: (center, window, the clerk posted there).
const WINDOWS: &[(&str, &str, &str)] = &[
    ("GX", "TY01", "clerk1"),
    ("GX", "TY02", "clerk2"),
    ("GX", "TY03", "clerk3"),
    ("GX", "TY04", "clerk4"),
    ("GX", "TY05", "clerk5"),
    ("GX", "TY06", "clerk6"),
    ("GX", "BDC01", "clerk9"),
    ("GX", "BDC02", "clerk10"),
    ("GX", "SC01", "clerk11"),
    ("GX", "GC01", "clerk12"),
    ("GX", "RS01", "clerk13"),
    ("GX", "RS02", "clerk14"),
    ("GX", "GA01", "clerk15"),
    ("GX", "SW01", "clerk16"),
    ("GX", "GJ01", "clerk17"),
    ("GX", "BBDB", "clerk18"),
    ("GX-ML", "TY01", "clerk7"),
    ("GX-ML", "TY02", "clerk8"),
    ("GX-ML", "GA01", "clerk19"),
];

/// The zones kiosks issue in (each has a window on post), by center.
const ZONES: &[(&str, &[&str])] = &[
    (
        "GX",
        &[
            "TYZH", "BDC", "SCZR", "GCJS", "RSYB", "GAJC", "SWJC", "GJJ", "GAZQ",
        ],
    ),
    ("GX-ML", &["TYZH", "GAJC"]),
];

/// Kiosks per server, and display streams per server and center.
const KIOSKS: usize = 3;
const STREAMS: usize = 2;

fn seconds() -> u64 {
    std::env::var("YICHUANG_CITY_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(5)
}

/// A small deterministic generator (xorshift), so the test needs no crate for dice.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What the load saw: answers by request and status, the unexpected ones with their bodies, and
/// the numbers issued.
#[derive(Default)]
struct Tally {
    answers: BTreeMap<(&'static str, u16), u64>,
    unexpected: Vec<String>,
    issued: Vec<(String, String)>,
    /// Phone pages of issued tickets, for visitors who leave.
    follows: Vec<String>,
}

impl Tally {
    fn requests(&self) -> u64 {
        self.answers.values().sum()
    }

    fn unexpected_answers(&self) -> u64 {
        self.answers
            .iter()
            .filter(|((_, status), _)| !expected(*status))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Records an answer; anything but 2xx, 409 and 422 is kept with its body. Returns the status
/// and the JSON body of a 2xx answer.
async fn answer(
    tally: &Mutex<Tally>,
    what: &'static str,
    r: Result<reqwest::Response, reqwest::Error>,
) -> (u16, Value) {
    let (status, body) = match r {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (status, text)
        }
        // No answer at all (a timeout): counted as a failure of its own.
        Err(e) => (0, e.to_string()),
    };
    let mut t = tally.lock().unwrap();
    *t.answers.entry((what, status)).or_default() += 1;
    if !expected(status) && t.unexpected.len() < 20 {
        t.unexpected.push(format!("{what}: {status} {body}"));
    }
    let v = if (200..300).contains(&status) {
        serde_json::from_str(&body).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    (status, v)
}

/// The answers the queue documents: 2xx, 409 (the window or ticket moved on) and 422.
fn expected(status: u16) -> bool {
    (200..300).contains(&status) || status == 409 || status == 422
}

/// A client whose every request ends within a bound, so a stuck server fails the test.
fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

fn on(server: &TestApp, token: Option<String>) -> Api {
    Api {
        base: server.base.clone(),
        client: client(),
        token,
    }
}

/// A call as a display hears it and as `ticket_events` records it.
type Call = (String, String, String, i64);

/// What one display stream heard.
#[derive(Default)]
struct Heard {
    hello: bool,
    events: u64,
    resyncs: u64,
    calls: HashSet<Call>,
}

/// A lobby display's event stream on one server, read by a task of its own.
struct Stream {
    server: usize,
    center: &'static str,
    heard: Arc<Mutex<Heard>>,
    task: tokio::task::JoinHandle<()>,
}

/// Follows `center`'s event stream on `server` (number `index`) until aborted, as a lobby
/// display does.
fn follow_stream(index: usize, server: &TestApp, center: &'static str) -> Stream {
    let heard = Arc::new(Mutex::new(Heard::default()));
    let url = server.url(&format!("/api/v1/centers/{center}/events"));
    let into = heard.clone();
    let task = tokio::spawn(async move {
        // No overall timeout: the stream stays open for the whole test.
        let mut stream = Client::new()
            .get(url)
            .send()
            .await
            .expect("the event stream opens");
        assert_eq!(stream.status(), StatusCode::OK);
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let (mut event, mut data) = ("", "");
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = e.trim();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data = d.trim();
                    }
                }
                let mut h = into.lock().unwrap();
                match event {
                    "" => {}
                    "hello" => h.hello = true,
                    "resync" => h.resyncs += 1,
                    kind => {
                        h.events += 1;
                        if kind == "called" {
                            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                            h.calls.insert((
                                v["center"].as_str().unwrap_or_default().to_owned(),
                                v["ticket"].as_str().unwrap_or_default().to_owned(),
                                v["window"].as_str().unwrap_or_default().to_owned(),
                                v["at"].as_i64().unwrap_or_default(),
                            ));
                        }
                    }
                }
            }
        }
    });
    Stream {
        server: index,
        center,
        heard,
        task,
    }
}

/// A kiosk: tickets in random zones of both centers; now and then a visitor who took one leaves.
async fn kiosk(api: Api, tally: Arc<Mutex<Tally>>, until: Instant, seed: u64) {
    let mut dice = Dice::new(seed);
    while Instant::now() < until {
        if dice.below(12) == 0 {
            let follow = {
                let mut t = tally.lock().unwrap();
                let n = t.follows.len();
                (n > 0).then(|| t.follows.swap_remove(dice.below(n)))
            };
            if let Some(follow) = follow {
                let token = follow.trim_start_matches("/t/");
                let r = post(&api, &format!("/api/v1/tickets/{token}/leave"), json!({})).await;
                answer(&tally, "leave", r).await;
                continue;
            }
        }
        let (center, zones) = dice.pick(ZONES);
        let zone = dice.pick(zones);
        let body = if dice.below(8) == 0 {
            json!({"zone": zone, "priority": "elderly"})
        } else {
            json!({"zone": zone})
        };
        let r = post(&api, &format!("/api/v1/centers/{center}/tickets"), body).await;
        let (status, v) = answer(&tally, "issue", r).await;
        if status == 201 {
            let mut t = tally.lock().unwrap();
            t.issued.push((
                (*center).to_owned(),
                v["number"].as_str().unwrap_or_default().to_owned(),
            ));
            if let Some(f) = v["follow"].as_str() {
                t.follows.push(f.to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
}

/// A clerk at `window` on one server: calls the next visitor, then finishes (perhaps after
/// starting or recalling), transfers to another zone or window, holds (不持件) or marks a
/// no-show. The same window is worked from every server, so calls meet a window another
/// server has just called at (409) and finishes meet a ticket finished elsewhere (409).
async fn clerk(
    api: Api,
    center: &'static str,
    window: &'static str,
    tally: Arc<Mutex<Tally>>,
    until: Instant,
    seed: u64,
) {
    let mut dice = Dice::new(seed);
    let at = |action: &str| format!("/api/v1/centers/{center}/windows/{window}/{action}");
    let zones = ZONES.iter().find(|(c, _)| *c == center).expect("zones").1;
    let others: Vec<&str> = WINDOWS
        .iter()
        .filter(|(c, w, _)| *c == center && *w != window)
        .map(|(_, w, _)| *w)
        .collect();
    while Instant::now() < until {
        let (status, _) = answer(
            &tally,
            "call-next",
            post(&api, &at("call-next"), json!({})).await,
        )
        .await;
        match status {
            200 => {}
            204 => {
                tokio::time::sleep(Duration::from_millis(15)).await;
                continue;
            }
            // Another server's clerk called here: sometimes finish it from this one.
            _ => {
                if dice.below(3) == 0 {
                    let r = post(&api, &at("finish"), json!({})).await;
                    answer(&tally, "finish", r).await;
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
                continue;
            }
        }
        let roll = dice.below(100);
        let (what, path, body): (&'static str, String, Value) = match roll {
            0..60 => {
                if dice.below(2) == 0 {
                    let r = post(&api, &at("start"), json!({})).await;
                    answer(&tally, "start", r).await;
                }
                ("finish", at("finish"), json!({}))
            }
            60..72 => (
                "transfer",
                at("transfer"),
                json!({"zone": dice.pick(zones)}),
            ),
            72..80 => (
                "transfer",
                at("transfer"),
                json!({"window": dice.pick(&others)}),
            ),
            80..86 => ("hold", at("hold"), json!({"kind": "away"})),
            86..92 => ("no-show", at("no-show"), json!({})),
            _ => {
                let r = post(&api, &at("recall"), json!({})).await;
                answer(&tally, "recall", r).await;
                ("finish", at("finish"), json!({}))
            }
        };
        answer(&tally, what, post(&api, &path, body).await).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A POST whose failure to answer is recorded rather than panicking the worker.
async fn post(api: &Api, path: &str, body: Value) -> Result<reqwest::Response, reqwest::Error> {
    let r = api.client.post(format!("{}{}", api.base, path)).json(&body);
    match &api.token {
        Some(t) => r.bearer_auth(t),
        None => r,
    }
    .send()
    .await
}

/// Counts the servers' warnings and errors that report a deadlock (SQLSTATE 40P01), over the
/// whole test binary: a global subscriber that looks at nothing below a warning.
#[derive(Default)]
struct DeadlockLog {
    seen: AtomicU64,
    first: Mutex<Option<String>>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for &'static DeadlockLog {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if *meta.level() <= tracing::Level::WARN {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, " {}={:?}", field.name(), value);
            }
        }
        let meta = event.metadata();
        if *meta.level() > tracing::Level::WARN || !meta.target().starts_with("yichuang") {
            return;
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        let lower = text.0.to_lowercase();
        if lower.contains("deadlock detected") || lower.contains("40p01") {
            self.seen.fetch_add(1, Ordering::Relaxed);
            self.first
                .lock()
                .unwrap()
                .get_or_insert_with(|| format!("{}:{}", meta.target(), text.0));
        }
    }
}

/// The deadlock log, installed once for the binary; `None` when another subscriber was first.
fn deadlock_log() -> Option<&'static DeadlockLog> {
    static LOG: OnceLock<Option<&'static DeadlockLog>> = OnceLock::new();
    *LOG.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let log: &'static DeadlockLog = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(log);
        tracing::subscriber::set_global_default(subscriber)
            .ok()
            .map(|()| log)
    })
}

/// `pg_stat_database.deadlocks` of the connection's database.
async fn deadlocks(conn: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query("select count(*) from (select pg_stat_clear_snapshot()) s")
        .execute(&mut *conn)
        .await
        .expect("clear the statistics snapshot");
    sqlx::query_scalar(
        "select cast(deadlocks as bigint) from pg_stat_database where datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("read pg_stat_database")
}

/// The calls committed in the database, by center.
async fn committed_calls(conn: &mut sqlx::AnyConnection) -> HashMap<String, HashSet<Call>> {
    let rows = sqlx::query(
        "select c.code as center, t.number, w.code as window_code, e.at \
         from ticket_events e join tickets t on t.id = e.ticket_id \
         join centers c on c.id = t.center_id join windows w on w.id = e.window_id \
         where e.action in ('called', 'called_by_number', 'resumed')",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("read the calls");
    let mut calls: HashMap<String, HashSet<Call>> = HashMap::new();
    for r in rows {
        let center: String = r.get("center");
        calls.entry(center.clone()).or_default().insert((
            center,
            r.get("number"),
            r.get("window_code"),
            r.get("at"),
        ));
    }
    calls
}

/// Tickets whose recorded history is impossible: called while a window holds them (a ticket at
/// two windows), or finished, transferred, held or marked no-show while no window held them.
/// Walks every ticket's `ticket_events` rows in the order they were written.
async fn tickets_at_two_windows(conn: &mut sqlx::AnyConnection) -> Vec<String> {
    let rows = sqlx::query(
        "select t.number, e.ticket_id, e.action, coalesce(w.code, '') as window_code, e.at, e.id \
         from ticket_events e join tickets t on t.id = e.ticket_id left join windows w on w.id = e.window_id \
         order by e.ticket_id, e.id",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("read the ticket events");
    let mut doubled = Vec::new();
    let mut current: Option<i64> = None;
    let mut at_window = false;
    let mut story = String::new();
    for r in rows {
        let id: i64 = r.get("ticket_id");
        if current != Some(id) {
            current = Some(id);
            at_window = false;
            story.clear();
        }
        let action: String = r.get("action");
        let _ = write!(
            story,
            " {}@{}#{}/{}",
            action,
            r.get::<String, _>("window_code"),
            r.get::<i64, _>("id"),
            r.get::<i64, _>("at")
        );
        match action.as_str() {
            "called" | "called_by_number" | "resumed" => {
                if at_window {
                    doubled.push(format!(
                        "{} called while at a window:{story}",
                        r.get::<String, _>("number")
                    ));
                }
                at_window = true;
            }
            "finished" | "no_show" | "transferred" | "held" => {
                if !at_window {
                    doubled.push(format!(
                        "{} left a window it was not at:{story}",
                        r.get::<String, _>("number")
                    ));
                }
                at_window = false
            }
            "left" => at_window = false,
            _ => {}
        }
    }
    doubled
}

async fn scalar(conn: &mut sqlx::AnyConnection, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs the city's load on `servers` servers sharing one fresh database and checks it.
async fn city(servers: usize) {
    let log = deadlock_log();
    let logged_before = log.map_or(0, |l| l.seen.load(Ordering::Relaxed));
    let (url, _) = fresh_database(Backend::Postgres).await;
    let mut watch = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect to the test database");
    // A deadlock is found and broken within 50 ms instead of a second (servers connect after).
    let name: String = sqlx::query_scalar("select cast(current_database() as text)")
        .fetch_one(&mut watch)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database {name} set deadlock_timeout = '50ms'"
    )))
    .execute(&mut watch)
    .await
    .expect("set deadlock_timeout");
    let deadlocks_before = deadlocks(&mut watch).await;

    let mut apps = Vec::with_capacity(servers);
    for _ in 0..servers {
        apps.push(TestApp::spawn_with(Backend::Postgres, test_config(&url), None).await);
    }
    let timeout: String = sqlx::query_scalar("show deadlock_timeout")
        .fetch_one(apps[0].app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        timeout, "50ms",
        "the servers' connections detect deadlocks fast"
    );
    let mut tokens = HashMap::new();
    for (_, _, login) in WINDOWS {
        if !tokens.contains_key(login) {
            let api = apps[0].api_as(login).await;
            tokens.insert(*login, api.token.expect("a token"));
        }
    }

    // Display streams on every server; each must hear the queue before the load begins.
    let mut streams = Vec::new();
    for (s, app) in apps.iter().enumerate() {
        for (center, _) in ZONES {
            for _ in 0..STREAMS {
                streams.push(follow_stream(s, app, center));
            }
        }
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut ready = false;
    for round in 0..100 {
        let kiosk = on(&apps[round % servers], None);
        for (center, zones) in ZONES {
            let r = post(
                &kiosk,
                &format!("/api/v1/centers/{center}/tickets"),
                json!({"zone": zones[0]}),
            )
            .await;
            let (status, v) = answer(&tally, "issue", r).await;
            assert_eq!(status, 201, "a ticket before the load");
            tally.lock().unwrap().issued.push((
                (*center).to_owned(),
                v["number"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if streams.iter().all(|st| {
            let h = st.heard.lock().unwrap();
            h.hello && h.events > 0
        }) {
            ready = true;
            break;
        }
    }
    assert!(
        ready,
        "every server's listener hears the queue before the load"
    );
    for st in &streams {
        st.heard.lock().unwrap().resyncs = 0;
    }

    // The load.
    let secs = seconds();
    let until = Instant::now() + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for (s, app) in apps.iter().enumerate() {
        for k in 0..KIOSKS {
            let seed = (s * 1000 + k) as u64 + 1;
            workers.push(tokio::spawn(kiosk(
                on(app, None),
                tally.clone(),
                until,
                seed,
            )));
        }
        for (w, (center, window, login)) in WINDOWS.iter().enumerate() {
            let api = on(app, Some(tokens[login].clone()));
            let seed = (s * 1000 + 100 + w) as u64;
            workers.push(tokio::spawn(clerk(
                api,
                center,
                window,
                tally.clone(),
                until,
                seed,
            )));
        }
    }
    for w in workers {
        w.await.expect("a worker of the load");
    }

    // Every committed call reaches every stream of its center on every server.
    let calls = committed_calls(&mut watch).await;
    let complete = |streams: &[Stream]| {
        streams.iter().all(|st| {
            let h = st.heard.lock().unwrap();
            calls
                .get(st.center)
                .is_none_or(|want| want.is_subset(&h.calls))
        })
    };
    for _ in 0..300 {
        if complete(&streams) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut missed = 0;
    let mut phantom = 0;
    let mut resyncs = 0;
    let mut report = String::new();
    for st in &streams {
        st.task.abort();
        let (s, center) = (st.server, st.center);
        let h = st.heard.lock().unwrap();
        let want = calls.get(center).cloned().unwrap_or_default();
        let lost = want.difference(&h.calls).count();
        let extra = h.calls.difference(&want).count();
        missed += lost;
        phantom += extra;
        resyncs += h.resyncs;
        if lost > 0 || extra > 0 || h.resyncs > 0 {
            let _ = writeln!(
                report,
                "server {s} {center}: {lost} calls missed, {extra} not committed, {} resyncs",
                h.resyncs
            );
        }
    }

    // The database after the load.
    let duplicates = scalar(
        &mut watch,
        "select count(*) from (select 1 from tickets group by center_id, service_date, number \
         having count(*) > 1) d",
    )
    .await;
    let doubled = tickets_at_two_windows(&mut watch).await;
    let miscounted = scalar(
        &mut watch,
        "select count(*) from (select zone_id, service_date, count(*) as n from tickets \
         where state = 'waiting' group by zone_id, service_date) w \
         full join queue_waiting q on q.zone_id = w.zone_id and q.service_date = w.service_date \
         where coalesce(w.n, 0) <> coalesce(q.waiting, 0)",
    )
    .await;
    let tickets = scalar(&mut watch, "select count(*) from tickets").await;
    // A backend's statistics reach pg_stat_database at the latest when it exits: end the
    // servers' connections (and wait for them) before reading the deadlock count.
    sqlx::query(
        "select count(pg_terminate_backend(pid, 10000)) from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid()",
    )
    .execute(&mut watch)
    .await
    .expect("end the servers' connections");
    let deadlocks_found = deadlocks(&mut watch).await - deadlocks_before;
    // How the hot tables were written (for the README's autovacuum advice).
    let mut writes = String::new();
    for r in sqlx::query(
        "select cast(relname as text) as relname, cast(n_tup_ins as bigint) as ins, cast(n_tup_upd as bigint) as upd, \
         cast(n_tup_hot_upd as bigint) as hot, cast(n_dead_tup as bigint) as dead \
         from pg_stat_user_tables where relname in ('tickets', 'queue_waiting', 'ticket_counters', 'ticket_events') \
         order by relname",
    )
    .fetch_all(&mut watch)
    .await
    .expect("read pg_stat_user_tables")
    {
        let _ = write!(
            writes,
            " {} ins {} upd {} hot {} dead {};",
            r.get::<String, _>("relname"),
            r.get::<i64, _>("ins"),
            r.get::<i64, _>("upd"),
            r.get::<i64, _>("hot"),
            r.get::<i64, _>("dead"),
        );
    }
    let _ = sqlx::Connection::close(watch).await;
    let logged = log.map_or(0, |l| l.seen.load(Ordering::Relaxed)) - logged_before;

    let t = tally.lock().unwrap();
    let mut answers = String::new();
    for ((what, status), n) in &t.answers {
        let _ = write!(answers, " {what} {status}×{n};");
    }
    let numbers: HashSet<&(String, String)> = t.issued.iter().collect();
    let calls_committed: usize = calls.values().map(HashSet::len).sum();
    eprintln!(
        "city, {servers} servers, {secs} s: {} requests ({answers} ), {tickets} tickets, \
         {calls_committed} calls committed, {} streams, {deadlocks_found} deadlocks \
         (pg_stat_database), {logged} deadlocks logged, {} unexpected answers, {missed} calls \
         missed on streams, {phantom} not committed, {resyncs} resyncs, {duplicates} duplicate \
         numbers, {} impossible ticket histories, {miscounted} waiting counts off; tables:{writes}",
        t.requests(),
        streams.len(),
        t.unexpected_answers(),
        doubled.len(),
    );
    assert_eq!(deadlocks_found, 0, "deadlocks in PostgreSQL's statistics");
    assert_eq!(
        logged,
        0,
        "deadlocks in the servers' log: {:?}",
        log.and_then(|l| l.first.lock().unwrap().clone())
    );
    assert!(
        t.unexpected.is_empty(),
        "unexpected answers: {:#?}",
        t.unexpected
    );
    assert_eq!(numbers.len(), t.issued.len(), "a number issued twice");
    assert_eq!(duplicates, 0, "a number twice in the database");
    assert!(
        doubled.is_empty(),
        "impossible ticket histories: {doubled:#?}"
    );
    assert_eq!(
        miscounted, 0,
        "waiting counts that differ from the waiting tickets"
    );
    assert!(calls_committed > 0, "the load called no one");
    assert_eq!(missed + phantom, 0, "display streams:\n{report}");
    assert_eq!(resyncs, 0, "display streams fell behind:\n{report}");
    drop(t);
    drop(apps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_never_deadlock_and_every_display_sees_every_call() {
    city(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_servers_on_one_database_never_deadlock_and_every_display_sees_every_call() {
    city(4).await;
}
