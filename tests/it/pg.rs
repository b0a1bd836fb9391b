//! The PostgreSQL server the tests run on.
//!
//! `YICHUANG_TEST_PG` (e.g. `postgres://postgres@127.0.0.1:5432/test`) names an existing server. Without it the
//! test binary starts one private throwaway cluster of its own: a data directory under
//! `target/tmp/test-pg/<pid>`, a free port on 127.0.0.1, trust authentication, no fsync. It never touches a
//! system cluster. A watchdog process stops the cluster and removes its directory when the test binary exits;
//! a run that was killed outright leaves a directory behind, which the next run stops and removes.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

/// What to do when there is no PostgreSQL to test on.
const INSTALL_HINT: &str = "PostgreSQL tests need the PostgreSQL server: apt-get install postgresql \
     (or run scripts/test.sh), or set YICHUANG_TEST_PG=postgres://USER@HOST:PORT/DATABASE";

/// The base URL the tests create their databases from (it ends in `/DATABASE`).
///
/// Fails the test with one line when no server can be had.
pub fn base_url() -> &'static str {
    static BASE: OnceLock<Result<String, String>> = OnceLock::new();
    let base = BASE.get_or_init(|| match std::env::var("YICHUANG_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => {
            sweep_on_exit(&url);
            Ok(url)
        }
        _ => start_private_cluster(),
    });
    match base {
        Ok(url) => url,
        Err(e) => fail_setup(e),
    }
}

/// Fails the current test with `message` alone: no panic location, no backtrace (even under
/// `RUST_BACKTRACE`), as a missing program is no bug of the test.
pub fn fail_setup(message: &str) -> ! {
    eprintln!("{message}");
    // `resume_unwind` skips the panic hook, which would print the location and a backtrace.
    std::panic::resume_unwind(Box::new(message.to_owned()))
}

/// On a server of `YICHUANG_TEST_PG`: when this process is gone, a watchdog drops the test databases it
/// left (a `TestApp` drops its own; a test that only calls `fresh_database` cannot). Needs `psql`; without
/// it, nothing is swept.
fn sweep_on_exit(url: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         for db in $(psql -X -w -At -d \"$YC_TEST_PG\" -c \
           \"select datname from pg_database where datname like 'yc\\_test\\_{pid}\\_%'\"); do \
           psql -X -w -q -d \"$YC_TEST_PG\" -c \"drop database if exists $db with (force)\"; \
         done",
        pid = std::process::id(),
    );
    spawn_watchdog(&script, &[("YC_TEST_PG", url)]);
}

/// Runs `script` with `sh` in a process group of its own, so that a Ctrl-C of the test run does not kill it
/// before it has cleaned up; its output goes nowhere.
fn spawn_watchdog(script: &str, env: &[(&str, &str)]) -> Option<()> {
    use std::os::unix::process::CommandExt;
    Command::new("sh")
        .args(["-c", script])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
        .map(drop)
}

/// `initdb` and `pg_ctl` of the newest PostgreSQL installed (Debian's layout first, then PATH).
fn server_binaries() -> Option<(PathBuf, PathBuf)> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    dirs.sort();
    let mut candidates: Vec<PathBuf> = dirs.into_iter().rev().map(|(_, d)| d).collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.into_iter().find_map(|dir| {
        let (initdb, pg_ctl) = (dir.join("initdb"), dir.join("pg_ctl"));
        (initdb.is_file() && pg_ctl.is_file()).then_some((initdb, pg_ctl))
    })
}

/// Where the private clusters live: `target/tmp/test-pg`.
fn clusters_dir() -> PathBuf {
    let tmp = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    tmp.join("test-pg")
}

/// PostgreSQL refuses to run as root: then its programs run as the `postgres` user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command line for `program`, as the `postgres` user when we are root.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Whether the `postgres` user can enter `dir` (every directory above it searchable).
fn reachable_by_server_user(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Stops and removes clusters of earlier runs whose test process is gone (a killed run).
fn remove_stale_clusters(dir: &Path, pg_ctl: &Path, root: bool) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = as_server_user(pg_ctl, root)
                .arg("-D")
                .arg(&data)
                .args(["stop", "-m", "immediate", "-s"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs a command to its end; on failure the error names it and carries its output.
/// Makes a fresh cluster in `home` (removed first): its data directory, initialised as the
/// server's user, with a watchdog that stops the cluster and removes `home` when this process
/// is gone. Returns the data directory.
fn init_cluster(home: &Path, initdb: &Path, pg_ctl: &Path, root: bool) -> Result<PathBuf, String> {
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
    if root {
        let mut chown = Command::new("chown");
        chown.arg("postgres:").arg(home);
        run("chown postgres (is the postgres user there?)", chown)?;
    }
    let data = home.join("data");

    // C.UTF-8 where the system has it, else plain C with UTF-8 encoding.
    let mut made = Err(String::new());
    for locale in ["C.UTF-8", "C"] {
        let _ = std::fs::remove_dir_all(&data);
        let mut cmd = as_server_user(initdb, root);
        cmd.arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .arg(format!("--locale={locale}"));
        made = run("initdb", cmd);
        if made.is_ok() {
            break;
        }
    }
    made?;

    // The watchdog: when this process is gone, stop the cluster and remove it.
    let pg_ctl_cmd = if root {
        format!("runuser -u postgres -- '{}'", pg_ctl.display())
    } else {
        format!("'{}'", pg_ctl.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {pg_ctl_cmd} -D '{data}' stop -m immediate -s; rm -rf '{home}'",
        pid = std::process::id(),
        data = data.display(),
        home = home.display(),
    );
    spawn_watchdog(&script, &[]).ok_or("cannot start the cluster's watchdog (sh)")?;
    Ok(data)
}

fn run(what: &str, mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn start_private_cluster() -> Result<String, String> {
    let (initdb, pg_ctl) = server_binaries().ok_or_else(|| INSTALL_HINT.to_owned())?;
    let root = running_as_root();
    let mut clusters = clusters_dir();
    std::fs::create_dir_all(&clusters)
        .map_err(|e| format!("cannot create {}: {e}", clusters.display()))?;
    // As root, the `postgres` user must be able to reach the directory: a checkout under a
    // private home (/root is 0700) is not reachable, and then the system's temporary
    // directory holds the clusters instead.
    if root && !reachable_by_server_user(&clusters) {
        clusters = std::env::temp_dir().join("yichuang-test-pg");
        std::fs::create_dir_all(&clusters)
            .map_err(|e| format!("cannot create {}: {e}", clusters.display()))?;
    }
    remove_stale_clusters(&clusters, &pg_ctl, root);

    let home = clusters.join(std::process::id().to_string());
    let data = init_cluster(&home, &initdb, &pg_ctl, root)?;

    // A port found free may be taken before the server binds it: try a few.
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port().map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
        let mut cmd = as_server_user(&pg_ctl, root);
        cmd.arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(data.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k '{}' -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                data.display()
            ))
            .args(["start", "-w", "-t", "60", "-s"]);
        match run("pg_ctl start", cmd) {
            Ok(()) => return Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres")),
            Err(e) => {
                last = e;
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
    Err(format!(
        "the private PostgreSQL cluster in {} did not start: {last}\n{log}",
        home.display()
    ))
}

/// Drops a test database, forcibly (PostgreSQL 13+ ends its remaining sessions).
///
/// Runs on a thread of its own with its own small runtime, so that it may be called from `Drop` in any
/// runtime; best-effort: a failure is only reported.
pub fn drop_database(base: &str, name: &str) {
    let (base, db) = (base.to_owned(), name.to_owned());
    let dropped = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists {db} with (force)"
            )))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
            let _ = sqlx::Connection::close(conn).await;
            Ok::<(), String>(())
        })
    })
    .join();
    match dropped {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("could not drop test database {name}: {e}"),
        Err(_) => eprintln!("could not drop test database {name}: the thread panicked"),
    }
}

/// A throwaway PostgreSQL cluster of one test's own, to stop and start at will (the fault tests restart
/// it; never the shared one). Its directory is `target/tmp/test-pg/throwaway/<pid>-<tag>` (or under the
/// system's temporary directory when the `postgres` user cannot reach that), its port a free one on
/// 127.0.0.1. Dropping it stops the server and removes the directory; so does a watchdog when the test
/// process is gone.
pub struct Cluster {
    pg_ctl: PathBuf,
    root: bool,
    home: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Cluster {
    /// Creates and starts a cluster tagged `tag` (unique within the test binary).
    pub fn start(tag: &str) -> Result<Self, String> {
        let (initdb, pg_ctl) = server_binaries().ok_or_else(|| INSTALL_HINT.to_owned())?;
        let root = running_as_root();
        let mut dir = clusters_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if root && !reachable_by_server_user(&dir) {
            dir = std::env::temp_dir().join("yichuang-test-pg");
        }
        let dir = dir.join("throwaway");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let home = dir.join(format!("{}-{tag}", std::process::id()));
        let data = init_cluster(&home, &initdb, &pg_ctl, root)?;
        let mut cluster = Self {
            pg_ctl,
            root,
            home,
            data,
            port: 0,
        };
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port().map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
            match cluster.start_again() {
                Ok(()) => return Ok(cluster),
                Err(e) => {
                    last = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        Err(format!(
            "the throwaway PostgreSQL cluster did not start: {last}"
        ))
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Starts the stopped server again, on the same port, and waits until it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let mut cmd = as_server_user(&self.pg_ctl, self.root);
        cmd.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -k '{}' -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=100",
                self.port,
                self.data.display()
            ))
            .args(["start", "-w", "-t", "60", "-s"]);
        run("pg_ctl start", cmd)
    }

    /// Stops the server as an operator would (`-m fast`: sessions are ended, 57P01), and waits until it has.
    pub fn stop(&self) -> Result<(), String> {
        let mut cmd = as_server_user(&self.pg_ctl, self.root);
        cmd.arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "fast", "-w", "-t", "60", "-s"]);
        run("pg_ctl stop", cmd)
    }

    /// Stops and starts the server.
    pub fn restart(&self) -> Result<(), String> {
        self.stop()?;
        self.start_again()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_server_user(&self.pg_ctl, self.root)
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate", "-s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
