//! Settings: defaults, then a TOML file, then `YICHUANG_*` environment variables, then flags.

use serde::Deserialize;

/// Everything the server needs to start. Every field has a default that runs a demo hall.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://yichuang.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Load the demo hall into an empty database at start.
    pub demo: bool,
    /// With the demo hall, also a few demo cases in every state (off in tests).
    pub demo_cases: bool,
    /// Per-IP request limit per second; 0 turns the limit off (benchmarks).
    pub rate_limit_per_second: u64,
    /// Requests a client may burst above the steady rate.
    pub rate_limit_burst: u32,
    /// Failed sign-ins in a row, for one login from one client address, that lock that login
    /// for that address (other addresses still sign in).
    pub lockout_after: i64,
    /// How long such a lock lasts, in minutes; also how long a quiet spell must be for the
    /// account-wide count to start again.
    pub lockout_minutes: i64,
    /// Failed sign-ins for one login from every address (none further apart than
    /// `lockout_minutes`) after which the account backs off: each further failure makes every
    /// address wait, 1 minute doubling, at most half of `lockout_minutes`. Keep it above
    /// `lockout_after`, so that one address alone never reaches it.
    pub lockout_account_after: i64,
    /// Password checks (argon2) that may run at once; 0: one per core.
    pub hash_concurrency: usize,
    /// How long a sign-in waits for a free password check before answering 503, in ms.
    pub hash_wait_ms: u64,
    /// Session lifetime in hours.
    pub session_hours: i64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Mark cookies `Secure` (set when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
    /// Database pool size.
    pub max_connections: u32,
    /// PostgreSQL: how long a request waits for a pooled connection, in ms, before it answers
    /// 503 (数据库暂时不可用). During an outage every request waits this long.
    pub db_acquire_timeout_ms: u64,
    /// PostgreSQL: a pooled connection idle longer than this, in ms, is pinged before use, so
    /// the first requests after a restart of the database do not fail on dead connections.
    pub db_check_idle_ms: u64,
    /// Where the CJK fonts of the written notices are (searched below it).
    pub font_dir: String,
    /// The hall's public address (`https://zwfw.example.gov.cn`) for QR codes and printed
    /// links; when empty, the address a request came in by.
    pub public_url: String,
    /// Tickets are issued only while the hall serves (regular hours and planned extended
    /// service); outside them the kiosk says when it opens. Off for benchmarks run at any hour.
    pub kiosk_hours: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://yichuang.db".into(),
            listen: "127.0.0.1:8080".into(),
            demo: true,
            demo_cases: true,
            rate_limit_per_second: 50,
            rate_limit_burst: 200,
            lockout_after: 5,
            lockout_minutes: 15,
            lockout_account_after: 20,
            hash_concurrency: 0,
            hash_wait_ms: 1000,
            session_hours: 12,
            max_body_bytes: 10 * 1024 * 1024,
            secure_cookies: false,
            max_connections: 16,
            db_acquire_timeout_ms: 2000,
            db_check_idle_ms: 1000,
            font_dir: "/usr/share/fonts".into(),
            public_url: String::new(),
            kiosk_hours: true,
        }
    }
}

impl Config {
    /// The database pool's settings.
    pub fn pool_settings(&self) -> crate::db::PoolSettings {
        crate::db::PoolSettings {
            max_connections: self.max_connections,
            acquire_timeout: std::time::Duration::from_millis(self.db_acquire_timeout_ms),
            check_idle_after: std::time::Duration::from_millis(self.db_check_idle_ms),
        }
    }

    /// Reads `path` (if given, or `yichuang.toml` if present) and `YICHUANG_*` variables over the defaults.
    pub fn load(path: Option<&str>) -> Result<Self, config::ConfigError> {
        let mut builder = config::Config::builder();
        match path {
            Some(p) => builder = builder.add_source(config::File::with_name(p).required(true)),
            None => {
                builder =
                    builder.add_source(config::File::with_name("yichuang.toml").required(false))
            }
        }
        builder
            .add_source(config::Environment::with_prefix("YICHUANG").try_parsing(true))
            .build()?
            .try_deserialize()
    }
}
