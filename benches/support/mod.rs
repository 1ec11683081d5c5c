//! What the service benchmarks share: a real `portalctl serve` on a loopback port with a
//! temporary database, and the figures' arithmetic.

#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The admin token every benchmark server takes.
pub const TOKEN: &str = "bench-token";

/// A running `portalctl serve`, killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `portalctl serve` with a fresh SQLite file and `args`, and waits for its address.
pub fn start(args: &[&str]) -> Server {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .arg("serve")
        .arg("--db")
        .arg(dir.path().join("bench.db"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("PORTALCTL_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        // `BENCH_SERVER_LOG=debug` (a `RUST_LOG` filter) shows the server's log on stderr.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portalctl starts");
    let stderr = child.stderr.take().expect("piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("listening on ") {
                let _ = sender.send(address.trim().to_string());
            } else if std::env::var_os("BENCH_SERVER_LOG").is_some() {
                eprintln!("serve: {line}");
            }
        }
    });
    let base = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the server announces its address");
    Server {
        child,
        base,
        _dir: dir,
    }
}

/// Whether `cargo bench -- --test` (CI's smoke mode) runs this benchmark: once, small.
pub fn smoke() -> bool {
    std::env::args().any(|arg| arg == "--test")
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The `p` quantile (0 to 1) of `sorted`, in ms.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    millis(sorted[at])
}

/// A `put` change of `POST /v1/changes`.
pub fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}
