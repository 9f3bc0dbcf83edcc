//! The PBX's `POST /v1/pbx/calls` latency while the console is flooded: the
//! release binary (`senim serve`, a child process on SQLite) is posted a call
//! record every 100 ms (`SENIM_BENCH_SECONDS`, default 15, per phase), and its
//! latency, from the scheduled send time, is measured
//!
//! 1. alone;
//! 2. during a login flood: 64 clients, each posting wrong passwords (a new
//!    login every time, so each is checked) as fast as they are answered;
//! 3. during 64 slow-body connections: each sends the headers of a login post
//!    announcing 1,000 bytes, then one byte a second.
//!
//! Prints the median, p95 and max of each phase, beside the figures issue 20
//! measured before the change (4.5 s median during the login flood; 29 s
//! during the slow bodies).
//!
//! Run: `cargo bench --bench console_flood`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

const PBX_TOKEN: &str = "bench-pbx-token-0123456789";
const PASSWORD: &str = "bench console password";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn senim(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_senim"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SENIM_") {
            command.env_remove(name);
        }
    }
    command.arg("--config").arg(config);
    command
}

fn cli(config: &Path, args: &[&str]) {
    let out = senim(config).args(args).output().expect("run senim");
    assert!(
        out.status.success(),
        "senim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The daemon, stopped when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> (Daemon, String) {
    let port = free_port();
    let config = dir.join("senim.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"\"\n\n\
             [database]\ndata_dir = \"{}\"\n\n[log]\nlevel = \"warn\"\nformat = \"json\"\n\n\
             [pbx]\nlate_tolerance_seconds = 2592000\n\n[[pbx.sources]]\nname = \"office\"\n\
             token = \"{PBX_TOKEN}\"\n",
            dir.join("data").display()
        ),
    )
    .expect("write the configuration");
    cli(&config, &["migrate"]);
    cli(
        &config,
        &[
            "persons", "add", "marat", "--name", "Marat", "--role", "manager",
        ],
    );
    let password = dir.join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("write the password");
    cli(
        &config,
        &[
            "persons",
            "password",
            "marat",
            "--password-file",
            password.to_str().unwrap_or_default(),
        ],
    );
    let log = std::fs::File::create(dir.join("senim.log")).expect("the daemon's log");
    let child = senim(&config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start senim serve");
    (Daemon(child), format!("http://127.0.0.1:{port}"))
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the daemon did not become ready");
}

/// Posts a call record every 100 ms for `seconds`; the latencies from each
/// scheduled send, and how many failed.
async fn pbx_latencies(base: &str, phase: &str, seconds: u64) -> (Vec<Duration>, usize) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default();
    let start = Instant::now();
    let interval = Duration::from_millis(100);
    let mut tasks = Vec::new();
    for i in 0..(seconds * 10) {
        let scheduled = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(scheduled.into()).await;
        let (client, url) = (client.clone(), format!("{base}/v1/pbx/calls"));
        let call_id = format!("{phase}-{i}");
        tasks.push(tokio::spawn(async move {
            let now = chrono::Utc::now().timestamp();
            let body = format!(
                r#"{{"call_id":"{call_id}","caller":"+77010000000","start":{},"end":{now},"disposition":"answered"}}"#,
                now - 60
            );
            let ok = client
                .post(&url)
                .bearer_auth(PBX_TOKEN)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status().as_u16() == 201);
            (scheduled.elapsed(), ok)
        }));
    }
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((latency, ok)) = t.await {
            latencies.push(latency);
            failed += usize::from(!ok);
        }
    }
    latencies.sort();
    (latencies, failed)
}

/// 64 clients posting wrong passwords, each for a new login, until `stop`.
fn login_flood(base: &str, stop: &Arc<AtomicBool>, answered: &Arc<AtomicU64>) {
    for c in 0..64 {
        let (base, stop, answered) = (base.to_owned(), stop.clone(), answered.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let Ok(form) = client.get(format!("{base}/console/login")).send().await else {
                    continue;
                };
                let cookie = form
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find(|v| v.starts_with("senim_login="))
                    .and_then(|v| v.split(';').next())
                    .unwrap_or_default()
                    .to_owned();
                let html = form.text().await.unwrap_or_default();
                let csrf = html
                    .split("name=\"csrf\" value=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .unwrap_or_default()
                    .to_owned();
                let login = format!("flood-{c}-{n}");
                let posted = client
                    .post(format!("{base}/console/login"))
                    .header("cookie", cookie)
                    .form(&[
                        ("login", login.as_str()),
                        ("password", "a wrong password"),
                        ("csrf", &csrf),
                    ])
                    .send()
                    .await;
                if posted.is_ok() {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
}

/// 64 connections sending a login post's body one byte a second, opened
/// again when the daemon closes one, until `stop`.
fn slow_bodies(base: &str, stop: &Arc<AtomicBool>, closed: &Arc<AtomicU64>) {
    let addr = base.trim_start_matches("http://").to_owned();
    for _ in 0..64 {
        let (addr, stop, closed) = (addr.clone(), stop.clone(), closed.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let head = format!(
                    "POST /console/login HTTP/1.1\r\nHost: {addr}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    continue;
                }
                while !stop.load(Ordering::Relaxed) {
                    if stream.write_all(b"a").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                closed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

fn report(phase: &str, (latencies, failed): &(Vec<Duration>, usize), before: &str) {
    let pct = |p: f64| {
        let idx =
            ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "console_flood/{phase:<12} PBX POST: {} calls, {failed} failed; median {:>8.1} ms, p95 {:>8.1} ms, max {:>8.1} ms   (issue 20, before: {before})",
        latencies.len(),
        pct(0.50),
        pct(0.95),
        pct(1.0)
    );
}

fn main() {
    let seconds: u64 = env("SENIM_BENCH_SECONDS", 15);
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot start the runtime");
        std::process::exit(2);
    };
    let dir = tempfile::tempdir_in(".").expect("a temporary directory on the working disk");
    let (daemon, base) = start(dir.path());
    runtime.block_on(async {
        wait_ready(&reqwest::Client::new(), &base).await;
        let alone = pbx_latencies(&base, "alone", seconds).await;
        report("alone", &alone, "-");

        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        login_flood(&base, &stop, &answered);
        let flood = pbx_latencies(&base, "flood", seconds).await;
        stop.store(true, Ordering::Relaxed);
        report("login flood", &flood, "median 4.5 s");
        println!(
            "console_flood/login flood  {} wrong logins answered in {seconds} s",
            answered.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_secs(2)).await;

        let stop = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicU64::new(0));
        slow_bodies(&base, &stop, &closed);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let slow = pbx_latencies(&base, "slow", seconds).await;
        stop.store(true, Ordering::Relaxed);
        report("slow bodies", &slow, "29 s");
        println!(
            "console_flood/slow bodies  {} slow connections closed by the daemon",
            closed.load(Ordering::Relaxed)
        );
    });
    drop(daemon);
}
