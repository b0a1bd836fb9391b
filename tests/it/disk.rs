//! Issue 14, kept in the project: an SQLite database on a disk that fills up, and on one that
//! turns read-only.
//!
//! The real server runs on an SQLite file in a small tmpfs mounted for the test (we run as
//! root in a VM; where mounting is not allowed the test says so in one line and passes). A
//! filler file takes the last free byte: writes must then be refused with a clear Chinese
//! message (507 on the API with `{"error":{"code","message"}}`, the HTML error page on a
//! page), never a panic or a 500, while reads go on; the file stays intact (`pragma
//! integrity_check`), every acknowledged ticket is kept, and writes work again once the filler
//! is deleted. Then the filesystem is remounted read-only (the server killed first: a
//! filesystem with files open for writing cannot be remounted so) and the server started on
//! it: it reads, refuses writes with 503 and a Chinese message, and works again after the
//! filesystem is writable and the server restarted. The mount is undone in a `Drop` guard.
//!
//! ```text
//! cargo test --locked --test it -- disk:: --nocapture
//! ```

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::crash::{Server, demo_with_token, log_tail};
use crate::helpers::cookie_client;

/// The size of the test's filesystem: the demo database with its WAL and room to spare.
const SIZE: &str = "48m";

/// A tmpfs mounted on a temporary directory; unmounted (and the directory removed) on drop.
struct Mount {
    dir: Option<tempfile::TempDir>,
}

impl Mount {
    fn tmpfs(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
                &dir.path().display().to_string(),
            ],
        )?;
        Ok(Self { dir: Some(dir) })
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("mounted").path()
    }

    fn remount(&self, how: &str) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,{how}"),
                &self.path().display().to_string(),
            ],
        )
        .unwrap_or_else(|e| panic!("remount {how}: {e}"));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let path = dir.path().display().to_string();
            if run("umount", &[&path]).is_err() {
                let _ = run("umount", &["-l", &path]);
            }
            drop(dir);
        }
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Fills the filesystem of `path` up to its last byte; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("the filler file");
    let mut written = 0u64;
    for size in [1 << 20, 64 << 10, 4 << 10, 512, 1] {
        let chunk = vec![0x5a_u8; size];
        while f.write_all(&chunk).is_ok() {
            written += size as u64;
        }
    }
    let _ = f.sync_all();
    written
}

fn chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// What one request answered: status, content type and body.
struct Answer {
    status: StatusCode,
    kind: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A refusal in the API's shape with a Chinese message that holds `words`.
    fn api_refusal(&self, statuses: &[StatusCode], words: &str) -> Result<(), String> {
        let v = self.json();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        if statuses.contains(&self.status)
            && v["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
            && chinese(message)
            && message.contains(words)
        {
            Ok(())
        } else {
            Err(format!(
                "expected {statuses:?} with a Chinese message about {words}: {} {}",
                self.status, self.body
            ))
        }
    }

    /// A refusal as the HTML error page with `words` in it.
    fn page_refusal(&self, statuses: &[StatusCode], words: &str) -> Result<(), String> {
        if statuses.contains(&self.status)
            && self.kind.starts_with("text/html")
            && self.body.contains("<html")
            && self.body.contains(words)
        {
            Ok(())
        } else {
            Err(format!(
                "expected an HTML page {statuses:?} about {words}: {} {:?} {}",
                self.status,
                self.kind,
                &self.body[..self.body.floor_char_boundary(600)]
            ))
        }
    }
}

async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer");
    let status = r.status();
    let kind = crate::helpers::content_type(&r);
    Answer {
        status,
        kind,
        body: r.text().await.unwrap_or_default(),
    }
}

/// The client of one phase: a visitor with a cookie jar (for the kiosk page's form) and
/// the admin's token (for the API).
struct Hall {
    base: String,
    token: String,
    client: Client,
    zones: usize,
    tickets: Vec<(i64, String)>,
}

impl Hall {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn issue(&mut self) -> Answer {
        let a = answer(
            self.client
                .post(self.url("/api/v1/centers/GX/tickets"))
                .json(&json!({"zone": "TYZH"})),
        )
        .await;
        if a.status == StatusCode::CREATED {
            let v = a.json();
            self.tickets.push((
                v["id"].as_i64().expect("id"),
                v["number"].as_str().expect("number").to_owned(),
            ));
        }
        a
    }

    /// A use case in a transaction of its own (not the queue writer): a new zone.
    async fn add_zone(&mut self) -> Answer {
        self.zones += 1;
        let n = self.zones;
        answer(
            self.client
                .post(self.url("/api/v1/centers/GX/zones"))
                .bearer_auth(&self.token)
                .json(&json!({"code": format!("DZ{n}"), "name": format!("磁盘测试专区{n}")})),
        )
        .await
    }

    /// The kiosk page's form, as a visitor sends it.
    async fn kiosk_form(&self) -> Answer {
        let html = self
            .client
            .get(self.url("/centers/GX/kiosk"))
            .send()
            .await
            .expect("the kiosk page")
            .text()
            .await
            .unwrap_or_default();
        let form = crate::form_fuzz::forms("/centers/GX/kiosk", &html)
            .into_iter()
            .find(|f| f.action.ends_with("/kiosk"))
            .expect("the kiosk form");
        let mut pairs: Vec<(String, String)> = crate::form_fuzz::plausible(&form)
            .into_iter()
            .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
            .filter(|(n, _)| n != "zone")
            .collect();
        pairs.push(("zone".into(), "TYZH".into()));
        answer(self.client.post(self.url(&form.action)).form(&pairs)).await
    }

    async fn read(&self) -> StatusCode {
        answer(self.client.get(self.url("/api/v1/centers/GX/zones")))
            .await
            .status
    }
}

/// `pragma integrity_check` on a connection of its own (read-only, so it works on a full
/// or read-only disk).
async fn integrity(file: &Path) -> String {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("open the database read-only");
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity check");
    let _ = sqlx::Connection::close(conn).await;
    check
}

/// The tickets stored, by id.
async fn stored(file: &Path) -> std::collections::HashMap<i64, String> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("open the database read-only");
    let rows: Vec<(i64, String)> = sqlx::query_as("select id, number from tickets")
        .fetch_all(&mut conn)
        .await
        .expect("tickets");
    let _ = sqlx::Connection::close(conn).await;
    rows.into_iter().collect()
}

/// Retries a request until it is accepted, for at most ten seconds.
macro_rules! until_accepted {
    ($what:expr, $request:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let a = $request.await;
            if a.status.is_success() || a.status.is_redirection() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} not accepted again: {} {}",
                $what,
                a.status,
                a.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

/// Sends a write until it is refused (at most 500 times): every answer is an acceptance or
/// a refusal that `$check` approves. Returns how many were accepted.
macro_rules! until_refused {
    ($request:expr, $check:expr, $log:expr) => {{
        let mut accepted = 0;
        loop {
            let a = $request.await;
            if a.status.is_success() || a.status.is_redirection() {
                accepted += 1;
                assert!(accepted < 500, "still accepted on a full disk: {}", a.body);
                continue;
            }
            ($check)(&a)
                .unwrap_or_else(|e| panic!("{e}\nthe server's log ends:\n{}", log_tail($log)));
            break accepted;
        }
    }};
}

fn no_panic(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        !text.contains("panicked"),
        "the server panicked; its log ends:\n{}",
        log_tail(log)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_or_read_only_disk_refuses_writes_clearly_and_recovers() {
    let mount = match Mount::tmpfs(SIZE) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "disk: skipped, cannot mount a small tmpfs here (needs root and mount rights): {e}"
            );
            return;
        }
    };
    let file: PathBuf = mount.path().join("yichuang.db");
    let url = format!("sqlite://{}", file.display());
    let logs = tempfile::tempdir().expect("a log dir");
    let log = logs.path().join("server.log");
    let token = demo_with_token(&url, "disk");

    // ---- disk full ----
    let server = Server::start(&url, &log).await;
    let mut hall = Hall {
        base: server.base.clone(),
        token,
        client: cookie_client(),
        zones: 0,
        tickets: Vec::new(),
    };
    assert_eq!(hall.issue().await.status, StatusCode::CREATED);
    let filler = mount.path().join("filler");
    let filled = fill(&filler);
    // The WAL may take a few more commits in space it already holds; the first refusal
    // comes within a bounded number of tickets, and every answer is a ticket or a clear
    // refusal.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut refused = None;
    let mut issued_while_full = 0;
    while refused.is_none() {
        let a = hall.issue().await;
        if a.status == StatusCode::CREATED {
            issued_while_full += 1;
        } else {
            a.api_refusal(&[StatusCode::INSUFFICIENT_STORAGE], "磁盘已满")
                .unwrap_or_else(|e| panic!("{e}\nthe server's log ends:\n{}", log_tail(&log)));
            refused = Some(a);
        }
        assert!(
            Instant::now() < deadline,
            "tickets still issued on a full disk after {issued_while_full}"
        );
    }
    // A write that still fits in space the database holds may succeed; each kind of write is
    // tried until it is refused, and is then refused clearly.
    let zones_while_full = until_refused!(
        hall.add_zone(),
        |a: &Answer| a.api_refusal(&[StatusCode::INSUFFICIENT_STORAGE], "磁盘已满"),
        &log
    );
    let forms_while_full = until_refused!(
        hall.kiosk_form(),
        |a: &Answer| a.page_refusal(&[StatusCode::INSUFFICIENT_STORAGE], "磁盘已满"),
        &log
    );
    eprintln!(
        "disk: on the full disk {zones_while_full} zones and {forms_while_full} kiosk tickets were \
         still written before the refusal"
    );
    assert_eq!(hall.read().await, StatusCode::OK, "reads go on");
    assert_eq!(integrity(&file).await, "ok", "intact while full");
    eprintln!(
        "disk: filled {filled} bytes; {issued_while_full} tickets were still issued, then: {}",
        refused.map(|a| a.body).unwrap_or_default()
    );

    // Space returns: writes work again, without a restart.
    std::fs::remove_file(&filler).expect("remove the filler");
    until_accepted!("a ticket", hall.issue());
    until_accepted!("a zone", hall.add_zone());
    until_accepted!("the kiosk form", hall.kiosk_form());
    no_panic(&log);
    server.kill();
    assert_eq!(integrity(&file).await, "ok", "intact after the full disk");
    let kept = stored(&file).await;
    let lost: Vec<_> = hall
        .tickets
        .iter()
        .filter(|(id, n)| kept.get(id) != Some(n))
        .collect();
    assert!(lost.is_empty(), "acknowledged tickets lost: {lost:?}");

    // ---- read-only ----
    mount.remount("ro");
    match Server::try_start(&url, &log).await {
        Ok(server) => {
            hall.base = server.base.clone();
            assert_eq!(
                hall.read().await,
                StatusCode::OK,
                "reads on a read-only disk"
            );
            let ticket = hall.issue().await;
            eprintln!(
                "disk: read-only: a ticket answers {} {}",
                ticket.status, ticket.body
            );
            ticket
                .api_refusal(&[StatusCode::SERVICE_UNAVAILABLE], "只读")
                .unwrap_or_else(|e| panic!("{e}\nthe server's log ends:\n{}", log_tail(&log)));
            hall.add_zone()
                .await
                .api_refusal(&[StatusCode::SERVICE_UNAVAILABLE], "只读")
                .unwrap_or_else(|e| panic!("{e}\nthe server's log ends:\n{}", log_tail(&log)));
            hall.kiosk_form()
                .await
                .page_refusal(&[StatusCode::SERVICE_UNAVAILABLE], "只读")
                .unwrap_or_else(|e| panic!("{e}\nthe server's log ends:\n{}", log_tail(&log)));
            no_panic(&log);
            server.kill();
        }
        Err(e) => panic!("the server does not start on a read-only disk: {e}"),
    }
    assert_eq!(integrity(&file).await, "ok", "intact on a read-only disk");
    mount.remount("rw");
    let server = Server::start(&url, &log).await;
    hall.base = server.base.clone();
    until_accepted!("a ticket", hall.issue());
    until_accepted!("a zone", hall.add_zone());
    no_panic(&log);
    server.kill();
    assert_eq!(integrity(&file).await, "ok", "intact at the end");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    eprintln!(
        "disk: the server logged {} lines, {} warnings, {} errors",
        text.lines().count(),
        text.matches(" WARN ").count(),
        text.matches(" ERROR ").count()
    );
    if std::env::var_os("YICHUANG_DISK_LOG").is_some() {
        eprintln!("{text}");
    }
    let kept = stored(&file).await;
    assert!(
        hall.tickets.iter().all(|(id, n)| kept.get(id) == Some(n)),
        "every acknowledged ticket is kept"
    );
}
