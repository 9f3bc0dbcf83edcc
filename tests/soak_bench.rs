//! The soak benchmark, run by `benches/soak.sh [minutes]` (release build): the
//! real daemon with every background task busy, under a steady PBX load.
//!
//! - A real Dovecot (the mailbox poller: a citizen's mail every two seconds) and a
//!   real SMTP server (the sender: receipts, the Director's alerts and digests).
//! - The Journal starts with `SOAK_PRELOAD` (30,000) appeals, posted as calls.
//! - Then `SOAK_RATE` (200) PBX records/s, open loop, for `SOAK_MINUTES` (10),
//!   while a manager classifies an appeal as corruption every two seconds (an
//!   alert to the Director each) and the scheduler ticks every five seconds.
//! - Every minute it prints p50/p99/max latency (from each record's scheduled
//!   send time, so a stall is not hidden), failures and the daemon's RSS; at the
//!   end the RSS after the load, and fails if any record was not registered.

// Each test binary uses a part of the support.
#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::dovecot::Dovecot;
use support::senim::Daemon;
use support::smtp::{SmtpOptions, SmtpServer};

const TOKEN: &str = "soak-token-0123456789abcdef";
const MANAGER: &str = "soak-manager-0123456789abcdef";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mb(pid: Option<u32>) -> f64 {
    let status = pid
        .and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn mail(n: u64) -> Vec<u8> {
    format!(
        "From: Citizen {n} <soak{n}@example.kz>\r\nTo: trust@example.kz\r\nSubject: Obrashchenie {n}\r\n\
         Message-ID: <soak-{n}@example.kz>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0500\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nСообщаю о вымогательстве взятки, случай {n}.\r\n"
    )
    .into_bytes()
}

fn call(id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    format!(
        r#"{{"call_id":"{id}","caller":"+77010000000","called":"+77172000000","start":{},"end":{now},"disposition":"answered","extension":"201"}}"#,
        now - 60
    )
}

async fn post(client: &reqwest::Client, url: &str, id: &str) -> bool {
    client
        .post(url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(call(id))
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 201)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run benches/soak.sh"]
async fn soak() {
    let minutes = env("SOAK_MINUTES", 10);
    let preload = env("SOAK_PRELOAD", 30_000);
    let rate = env("SOAK_RATE", 200);
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[api.managers]]\nname = \"soak\"\ntoken = \"{MANAGER}\"\n\n\
         [[pbx.sources]]\nname = \"soak\"\ntoken = \"{TOKEN}\"\n\n\
         [mailbox]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\n\
         username = \"{}\"\npassword = \"{}\"\npoll_interval_seconds = 5\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"senim@example.kz\"\npoll_seconds = 1\n\n\
         [alerts]\ndirector = [\"director@example.kz\"]\nmanagers = [\"manager@example.kz\"]\ninterval_seconds = 5\n",
        dovecot.imaps_port(),
        dovecot.ca_pem_path().display(),
        dovecot.user(),
        dovecot.password(),
        smtp.port(),
    );
    let daemon = Daemon::start(dir.path(), "", &extra);
    let url = daemon.url("/v1/pbx/calls");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    println!("idle after start: RSS {:.0} MB", rss_mb(daemon.pid()));

    // The Journal as a busy office has it: `preload` appeals already registered.
    let loading = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let loaders: Vec<_> = (0..16)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            tokio::spawn(async move {
                let mut failed = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= preload {
                        return failed;
                    }
                    failed += u64::from(!post(&client, &url, &format!("preload-{i}")).await);
                }
            })
        })
        .collect();
    let mut preload_failed = 0;
    for l in loaders {
        preload_failed += l.await.unwrap();
    }
    println!(
        "preloaded {preload} appeals in {:.1} s ({preload_failed} failed); RSS {:.0} MB",
        loading.elapsed().as_secs_f64(),
        rss_mb(daemon.pid())
    );

    // Mail and classifications arrive alongside the calls, until `stop`.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let dovecot = Arc::new(dovecot);
    let mail_task = {
        let (stop, dovecot) = (stop.clone(), dovecot.clone());
        tokio::task::spawn_blocking(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                dovecot.append("INBOX", &mail(n));
                n += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
            n
        })
    };
    let classify_task = {
        let (stop, client) = (stop.clone(), client.clone());
        let classify = daemon.url("/v1/appeals/");
        tokio::spawn(async move {
            let mut id = 1u64;
            let mut ok = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(format!("{classify}{id}/classification"))
                    .bearer_auth(MANAGER)
                    .json(&serde_json::json!({"category": "corruption", "reason": "soak"}))
                    .send()
                    .await;
                ok += u64::from(r.is_ok_and(|r| r.status().is_success()));
                id += 97;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            ok
        })
    };

    // The steady load, reported minute by minute.
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut total_failed = 0u64;
    let mut total = 0u64;
    let mut all = Vec::new();
    let run = std::process::id();
    for minute in 1..=minutes {
        let start = Instant::now();
        let mut tasks = Vec::with_capacity((rate * 60) as usize);
        for i in 0..rate * 60 {
            let scheduled = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
            tokio::time::sleep_until(scheduled.into()).await;
            let (client, url) = (client.clone(), url.clone());
            let id = format!("soak-{run}-{minute}-{i}");
            tasks.push(tokio::spawn(async move {
                let ok = post(&client, &url, &id).await;
                (scheduled.elapsed(), ok)
            }));
        }
        let mut latencies = Vec::with_capacity(tasks.len());
        let mut failed = 0u64;
        for t in tasks {
            let (latency, ok) = t.await.unwrap();
            latencies.push(latency);
            failed += u64::from(!ok);
        }
        latencies.sort();
        total += latencies.len() as u64;
        total_failed += failed;
        println!(
            "minute {minute:>2}: {} records, {failed} failed; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; RSS {:.0} MB",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
            rss_mb(daemon.pid())
        );
        all.extend(latencies);
    }
    stop.store(true, Ordering::Relaxed);
    let mails = mail_task.await.unwrap();
    let classified = classify_task.await.unwrap();
    all.sort();
    tokio::time::sleep(Duration::from_secs(15)).await;
    println!(
        "soak: {total} records at {rate}/s over {minutes} min, {total_failed} failed; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {mails} mails appended, {classified} classified; RSS 15 s after the load {:.0} MB",
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
        rss_mb(daemon.pid())
    );
    let sent = smtp.wait_for_messages(1, Duration::from_secs(30)).len();
    println!("mail delivered to the SMTP server: {sent}+");
    let errors = daemon
        .logs()
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\"") && !l.contains("CALENDAR DATA MISSING"))
        .count();
    println!("errors logged (besides missing calendar data for next year): {errors}");
    daemon.terminate();
    assert_eq!(total_failed + preload_failed, 0, "every record registered");
}
