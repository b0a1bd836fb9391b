//! Start-up: how long the binary takes from exec to a 200 on `/healthz`, on an empty SQLite
//! database (migrate + demo load, real argon2 cost) and on one with the demo already loaded,
//! and the server's resident memory once idle.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::Serialize;

use super::Figure;

/// What `bench startup` measured (medians over the runs).
#[derive(Debug, Serialize)]
pub struct StartupReport {
    pub scenario: &'static str,
    pub runs: usize,
    pub empty_db_ms: f64,
    pub demo_db_ms: f64,
    pub idle_rss_mb: f64,
}

impl StartupReport {
    pub fn figures(&self) -> Vec<Figure> {
        vec![
            Figure {
                name: "start, empty database (migrate + demo)",
                value: self.empty_db_ms,
                unit: "ms",
            },
            Figure {
                name: "start, demo already loaded",
                value: self.demo_db_ms,
                unit: "ms",
            },
            Figure {
                name: "idle RSS after start",
                value: self.idle_rss_mb,
                unit: "MB",
            },
        ]
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// True when `/healthz` answers 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

/// Starts the server on `db` and returns it once healthy, with the elapsed time.
fn start(exe: &Path, db: &Path) -> std::io::Result<(Running, Duration)> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let t0 = Instant::now();
    let child = Command::new(exe)
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["serve", "--listen", &addr.to_string()])
        .env("YICHUANG_RATE_LIMIT_PER_SECOND", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let running = Running(child);
    while !healthy(addr) {
        if t0.elapsed() > Duration::from_secs(30) {
            return Err(std::io::Error::other("服务在 30 秒内未就绪"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((running, t0.elapsed()))
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the start-up measurement `runs` times with this very binary.
pub fn startup(runs: usize) -> std::io::Result<StartupReport> {
    let exe = std::env::current_exe()?;
    let runs = runs.clamp(1, 20);
    let (mut empty, mut loaded, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let dir =
            std::env::temp_dir().join(format!("yichuang-bench-{}", crate::auth::random_hex(6)));
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("bench.db");
        let result = (|| {
            let (first, t) = start(&exe, &db)?;
            empty.push(t.as_secs_f64() * 1000.0);
            drop(first);
            let (second, t) = start(&exe, &db)?;
            loaded.push(t.as_secs_f64() * 1000.0);
            std::thread::sleep(Duration::from_secs(1));
            rss.push(rss_mb(second.0.id()));
            std::io::Result::Ok(())
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result?;
    }
    Ok(StartupReport {
        scenario: "startup",
        runs,
        empty_db_ms: median(empty),
        demo_db_ms: median(loaded),
        idle_rss_mb: median(rss),
    })
}
