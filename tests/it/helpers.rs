//! Test harness: a real server on 127.0.0.1:0 over a fresh database of either engine.

use std::collections::HashMap;

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use yichuang::{
    app::{App, Server},
    audit::Actor,
    auth::password::HashCost,
    clock::Clock,
    config::Config,
    db::Backend,
};

/// Runs an async test body once on SQLite and once on PostgreSQL.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::helpers::TestApp::spawn(yichuang::db::Backend::Sqlite).await;
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = crate::helpers::TestApp::spawn(yichuang::db::Backend::Postgres).await;
                ($body)(app).await;
            }
        }
    };
}
pub(crate) use on_both;

/// Cheap argon2 for tests: the hashing is tested on its own, the cost only slows tests.
pub const TEST_COST: HashCost = HashCost {
    memory_kib: 64,
    passes: 1,
};

/// A fresh database URL: an SQLite file in a temp dir, or a new PostgreSQL database.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("yichuang.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            let base = crate::pg::base_url();
            // The pid lets a watchdog drop what a killed run left behind (see `pg`).
            let name = format!(
                "yc_test_{}_{}",
                std::process::id(),
                yichuang::auth::random_hex(8)
            );
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(base)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {base}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = sqlx::Connection::close(conn).await;
            let url = match base.rsplit_once('/') {
                Some((head, _)) => format!("{head}/{name}"),
                None => panic!("YICHUANG_TEST_PG must end in /DATABASE"),
            };
            (url, None)
        }
    }
}

/// Test databases in use by live `TestApp`s, by URL: the last app on one drops it.
static PG_IN_USE: std::sync::Mutex<Option<HashMap<String, usize>>> = std::sync::Mutex::new(None);

/// A `TestApp`'s hold on its PostgreSQL test database; the last hold drops the database.
struct PgDatabase {
    url: String,
    name: String,
}

impl PgDatabase {
    /// A hold on `url` when it is a test database made by `fresh_database`.
    fn hold(url: &str) -> Option<Self> {
        if !url.starts_with("postgres") {
            return None;
        }
        let name = url.rsplit_once('/')?.1.split('?').next()?;
        if !name.starts_with("yc_test_") {
            return None;
        }
        let mut in_use = PG_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        *in_use
            .get_or_insert_with(HashMap::new)
            .entry(url.to_owned())
            .or_default() += 1;
        Some(Self {
            url: url.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let last = {
            let mut in_use = PG_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
            let map = in_use.get_or_insert_with(HashMap::new);
            let n = map.entry(self.url.clone()).or_default();
            *n = n.saturating_sub(1);
            let last = *n == 0;
            if last {
                map.remove(&self.url);
            }
            last
        };
        if last {
            crate::pg::drop_database(crate::pg::base_url(), &self.name);
        }
    }
}

/// Test settings: port 0, demo hall, no rate limit.
pub fn test_config(url: &str) -> Config {
    Config {
        database_url: url.to_owned(),
        listen: "127.0.0.1:0".into(),
        demo: true,
        // Tests make the cases they look at.
        demo_cases: false,
        rate_limit_per_second: 0,
        // Tests issue tickets at whatever hour they run; the hours rule has its own test.
        kiosk_hours: false,
        max_connections: 8,
        // Small enough that an oversized test body still fits the socket buffers.
        max_body_bytes: 64 * 1024,
        ..Config::default()
    }
}

/// A running server with the demo hall.
pub struct TestApp {
    pub base: String,
    pub app: std::sync::Arc<App>,
    pub passwords: HashMap<String, String>,
    _stop: oneshot::Sender<()>,
    _dir: Option<tempfile::TempDir>,
    // Last: dropped after the server has been told to stop.
    _db: Option<PgDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let (url, dir) = fresh_database(backend).await;
        Self::spawn_with(backend, test_config(&url), dir).await
    }

    pub async fn spawn_with(
        backend: Backend,
        config: Config,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        Self::spawn_with_clock(backend, config, dir, Clock::system()).await
    }

    /// A server whose "now" is `at` in Beijing time, e.g. "2026-02-16T09:00".
    pub async fn spawn_at(backend: Backend, at: &str) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let ts = at
            .parse::<jiff::civil::DateTime>()
            .expect("a civil date-time")
            .in_tz(yichuang::clock::HALL_TZ)
            .expect("Beijing time")
            .timestamp();
        Self::spawn_with_clock(backend, test_config(&url), dir, Clock::fixed(ts)).await
    }

    pub async fn spawn_with_clock(
        _backend: Backend,
        config: Config,
        dir: Option<tempfile::TempDir>,
        clock: Clock,
    ) -> Self {
        let db = PgDatabase::hold(&config.database_url);
        let server = Server::build(config, clock, TEST_COST)
            .await
            .expect("server starts");
        let base = format!("http://{}", server.local_addr());
        let passwords = server
            .demo_accounts
            .iter()
            .map(|a| (a.login.clone(), a.password.clone()))
            .collect();
        let app = server.app();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            base,
            app,
            passwords,
            _stop: stop,
            _dir: dir,
            _db: db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Api {
        Api {
            base: self.base.clone(),
            client: Client::new(),
            token: None,
        }
    }

    /// A client that authenticates as `login` with a fresh API token.
    pub async fn api_as(&self, login: &str) -> Api {
        let mut tx = self.app.db.begin().await.expect("begin");
        let token = yichuang::auth::tokens::create(
            &mut tx,
            &Actor::system(),
            login,
            "test",
            self.app.clock.now_micros(),
        )
        .await
        .expect("token for a demo user");
        tx.commit().await.expect("commit");
        Api {
            base: self.base.clone(),
            client: Client::new(),
            token: Some(token),
        }
    }

    /// Rows in a table, to prove a refused request changed nothing.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(self.app.db.pool())
            .await
            .expect("count rows")
    }
}

/// A JSON API client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: Client,
    pub token: Option<String>,
}

impl Api {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("request")
    }

    /// Sends raw bytes as JSON (malformed bodies).
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Response {
        self.req(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts a status and an error body with a Chinese message; returns the message.
pub async fn expect_error(r: Response, status: StatusCode, code: &str) -> String {
    assert_eq!(r.status(), status, "unexpected status");
    let v: Value = r.json().await.expect("JSON error body");
    assert_eq!(v["error"]["code"], code, "error code in {v}");
    let msg = v["error"]["message"].as_str().expect("message").to_owned();
    assert!(
        msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "message should be Chinese: {msg}"
    );
    msg
}

/// The `name` fields of an `{"items":[…]}` answer.
pub async fn item_names(r: Response) -> Vec<String> {
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("JSON");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect()
}
