//! A fixed-rate client for `POST /v1/pbx/calls` (wrk from Debian cannot hold a
//! rate): sends `SENIM_BENCH_RATE` records per second (default 200) for
//! `SENIM_BENCH_SECONDS` (default 20) to `SENIM_BENCH_URL` with the bearer token
//! `SENIM_BENCH_TOKEN`, each on schedule whatever the previous one is doing, and
//! prints the latency percentiles measured from the scheduled send time (so a
//! stall is not hidden by coordinated omission). Run by `benches/pbx-load.sh`.

use std::time::{Duration, Instant};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let url = std::env::var("SENIM_BENCH_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8080/v1/pbx/calls".into());
    let token = std::env::var("SENIM_BENCH_TOKEN").unwrap_or_default();
    let rate: u64 = env("SENIM_BENCH_RATE", 200);
    let seconds: u64 = env("SENIM_BENCH_SECONDS", 20);
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("cannot start the runtime");
        std::process::exit(2);
    };
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let total = rate * seconds;
        let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
        let run = std::process::id();
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            let scheduled = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
            tokio::time::sleep_until(scheduled.into()).await;
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let now = chrono::Utc::now().timestamp();
                let body = format!(
                    r#"{{"call_id":"rate-{run}-{i}","caller":"+77010000000","called":"+77172000000","start":{},"end":{now},"disposition":"answered","extension":"201"}}"#,
                    now - 60
                );
                let ok = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 201);
                (scheduled.elapsed(), ok)
            }));
        }
        let mut latencies = Vec::with_capacity(tasks.len());
        let mut failed = 0usize;
        for t in tasks {
            if let Ok((latency, ok)) = t.await {
                latencies.push(latency);
                failed += usize::from(!ok);
            }
        }
        let elapsed = start.elapsed();
        latencies.sort();
        let pct = |p: f64| {
            let idx = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
            latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "fixed rate {rate}/s for {seconds} s: {} records in {:.1} s, {failed} failed; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
    });
}
