//! Test harness: a real server on 127.0.0.1:0 over a fresh database of either engine.

use std::collections::HashMap;

use reqwest::{Client, Method, Response, StatusCode};
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

/// Runs an async test body once per engine with the clock fixed at `at` (Beijing time).
macro_rules! on_both_at {
    ($name:ident, $at:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    crate::helpers::TestApp::spawn_at(yichuang::db::Backend::Sqlite, $at).await;
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app =
                    crate::helpers::TestApp::spawn_at(yichuang::db::Backend::Postgres, $at).await;
                ($body)(app).await;
            }
        }
    };
}
pub(crate) use on_both_at;

/// Runs `$test(backend)`, a test that starts its own servers, once per engine.
macro_rules! on_each_engine {
    ($name:ident, $test:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(yichuang::db::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test(yichuang::db::Backend::Postgres).await;
            }
        }
    };
}
pub(crate) use on_each_engine;

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

/// An instant in Beijing time, e.g. "2026-02-16T09:00".
pub fn at(text: &str) -> jiff::Timestamp {
    text.parse::<jiff::civil::DateTime>()
        .expect("a civil date-time")
        .in_tz(yichuang::clock::HALL_TZ)
        .expect("Beijing time")
        .timestamp()
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
        Self::spawn_with_clock(backend, test_config(&url), dir, Clock::fixed(self::at(at))).await
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

/// Asserts that the rows of `table` can be neither changed (`column` set to 'x') nor deleted.
pub async fn assert_append_only(app: &TestApp, table: &str, column: &str) {
    for sql in [
        format!("update {table} set {column} = 'x'"),
        format!("delete from {table}"),
    ] {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(app.app.db.pool())
            .await;
        assert!(
            done.is_err(),
            "{table} is append-only: `{sql}` must be refused"
        );
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
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let r = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends a request, with a JSON body when given.
    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut r = self.req(method, path);
        if let Some(body) = body {
            r = r.json(body);
        }
        r.send().await.expect("request")
    }

    /// Sends a request and asserts an error answer (see [`expect_error`]); returns its message.
    async fn refused(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: StatusCode,
        code: &str,
    ) -> String {
        expect_error(self.send(method, path, body).await, status, code).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.send(Method::PUT, path, Some(&body)).await
    }

    /// GETs `path` and reads the answer as JSON, whatever its status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.expect("JSON")
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(Method::PATCH, path, Some(&body)).await
    }

    /// POSTs `body` and reads the answer as JSON, whatever its status.
    pub async fn post_json(&self, path: &str, body: Value) -> Value {
        self.post(path, body).await.json().await.expect("JSON")
    }

    /// POSTs `body`, asserting the answer's status; returns the answer.
    pub async fn post_status(&self, path: &str, body: Value, status: StatusCode) -> Response {
        let r = self.post(path, body).await;
        assert_eq!(r.status(), status, "POST {path}");
        r
    }

    /// GETs `path`, asserting the answer's status; returns the answer.
    pub async fn get_status(&self, path: &str, status: StatusCode) -> Response {
        let r = self.get(path).await;
        assert_eq!(r.status(), status, "GET {path}");
        r
    }

    /// GETs `path`, asserting an error answer (see [`expect_error`]); returns its message.
    pub async fn get_error(&self, path: &str, status: StatusCode, code: &str) -> String {
        self.refused(Method::GET, path, None, status, code).await
    }

    /// POSTs `body`, asserting an error answer; returns its message.
    pub async fn post_error(&self, path: &str, body: Value, s: StatusCode, code: &str) -> String {
        self.refused(Method::POST, path, Some(&body), s, code).await
    }

    /// DELETEs `path`, asserting an error answer; returns its message.
    pub async fn delete_error(&self, path: &str, status: StatusCode, code: &str) -> String {
        self.refused(Method::DELETE, path, None, status, code).await
    }

    /// PUTs `body`, asserting an error answer; returns its message.
    pub async fn put_error(&self, path: &str, body: Value, s: StatusCode, code: &str) -> String {
        self.refused(Method::PUT, path, Some(&body), s, code).await
    }

    /// Sends raw bytes as JSON (malformed bodies).
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Response {
        self.req(Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }
}

/// `base` with the members of the object `changes` added or replaced.
pub fn merged(base: &Value, changes: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(c)) = (out.as_object_mut(), changes) {
        o.extend(c);
    }
    out
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

/// Asserts 422 naming `field` with a Chinese message; returns the message.
pub async fn expect_field(r: Response, field: &str) -> String {
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
    let v: Value = r.json().await.expect("JSON error body");
    assert_eq!(v["error"]["field"], field, "{v}");
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

/// A browser-like client: keeps cookies and does not follow redirects (plain HTML forms).
pub fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of the first form in a page.
pub fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + 64].to_owned()
}

/// The CSRF token the server hands this client on the page at `url`.
pub async fn csrf_from_page(client: &Client, url: &str) -> String {
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    csrf_in(&html)
}

/// Posts the sign-in form as `login` (with `next` when given) and asserts the redirect.
pub async fn post_sign_in(
    app: &TestApp,
    client: &Client,
    login: &str,
    csrf: &str,
    next: Option<&str>,
) -> Response {
    let mut form = vec![
        ("login", login),
        ("password", app.passwords[login].as_str()),
        ("csrf", csrf),
    ];
    form.extend(next.map(|next| ("next", next)));
    let r = client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{login} signs in");
    r
}

/// A cookie client signed in as `login` through the sign-in form, and its CSRF token.
pub async fn form_session(app: &TestApp, login: &str, next: Option<&str>) -> (Client, String) {
    let client = cookie_client();
    let csrf = csrf_from_page(&client, &app.url("/login")).await;
    post_sign_in(app, &client, login, &csrf, next).await;
    (client, csrf)
}

/// Reads an event stream until a `called` event has come, waiting at most 10 s for each
/// chunk (`what` names the wait); returns all it read.
pub async fn until_called(stream: &mut Response, what: &str) -> String {
    let mut seen = String::new();
    while !seen.contains("event: called") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect(what)
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

/// Posts a form to `path` with a browser-like `client`.
pub async fn post_form<F: serde::Serialize + ?Sized>(
    app: &TestApp,
    client: &Client,
    path: &str,
    form: &F,
) -> Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

/// Posts a form that must be refused: asserts 422 and returns the form page shown again.
pub async fn form_refused<F: serde::Serialize + ?Sized>(
    app: &TestApp,
    client: &Client,
    path: &str,
    form: &F,
) -> String {
    let r = post_form(app, client, path, form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    r.text().await.unwrap()
}

/// The HTML of the page at `path`, as `client` sees it.
pub async fn page_text(app: &TestApp, client: &Client, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Runs a command of the real binary on the database at `url`: whether it succeeded, its
/// standard output and its standard error.
pub fn run_cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yichuang"))
        .args(args)
        .env("YICHUANG_DATABASE_URL", url)
        .env_remove("YICHUANG_LISTEN")
        .output()
        .expect("run yichuang");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the status of an answer, with its body in the message.
pub async fn assert_status(r: Response, status: StatusCode) {
    let got = r.status();
    let body = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "{body}");
}

/// The content type of an answer ("" when it has none).
pub fn content_type(r: &Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Takes a ticket in `zone` at the county center as `api`, asserting 201; returns it.
pub async fn take(api: &Api, zone: &str) -> Value {
    let r = api
        .post_status(
            "/api/v1/centers/GX/tickets",
            serde_json::json!({"zone": zone}),
            StatusCode::CREATED,
        )
        .await;
    r.json().await.unwrap()
}
