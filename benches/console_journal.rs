//! The console's Journal page with 100,000 appeals (`SENIM_BENCH_APPEALS`): the
//! daemon in-process on SQLite, an auditor logged in, then 200 requests each of
//! the first page, a page deep in the Journal, a filtered page and a search by
//! number, one after another; prints p50, p99 and max, and the page's weight.
//!
//! Run: `cargo bench --bench console_journal`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use senim::app::App;
use senim::clock::SystemClock;
use senim::db::{Db, DbSettings};
use senim::journal::{Channel, NewAppeal, Reporter, SourceRef, Status};
use senim::persons::Role;

const PASSWORD: &str = "bench console password";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn appeal(i: usize) -> NewAppeal {
    NewAppeal {
        received_at: Utc::now() - chrono::Duration::minutes(i as i64 * 5),
        channel: if i.is_multiple_of(3) {
            Channel::Email
        } else {
            Channel::Phone
        },
        reporter: Reporter {
            name: Some(format!("Reporter {i}")),
            ..Reporter::default()
        },
        subject: None,
        substance: Some("An inspector asked for money to sign the act.".into()),
        status: if i.is_multiple_of(7) {
            Status::AwaitingOperatorNotes
        } else {
            Status::Registered
        },
        source: SourceRef::new("bench", i.to_string()),
        also_known_as: vec![],
        actor: "bench".into(),
    }
}

async fn fill(app: &App, total: usize) {
    let writers = 16;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let journal = app.journal.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(writers) {
                journal.register(appeal(i)).await.expect("register");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
}

/// The session cookie of the auditor, logged in through the login form.
async fn log_in(client: &reqwest::Client, base: &str) -> String {
    let form = client
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("login page");
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(name))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .expect("cookie")
    };
    let login_cookie = cookie(&form, "senim_login=");
    let html = form.text().await.expect("login form");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf")
        .to_owned();
    let r = client
        .post(format!("{base}/console/login"))
        .header("cookie", login_cookie)
        .form(&[("login", "bench"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .expect("login");
    cookie(&r, "senim_session=")
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    session: &str,
    n: usize,
) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let start = Instant::now();
        let r = client
            .get(url)
            .header("cookie", session)
            .send()
            .await
            .expect("page");
        assert_eq!(r.status().as_u16(), 200, "{url}");
        bytes = r.bytes().await.expect("body").len();
        times.push(start.elapsed());
    }
    times.sort();
    (times, bytes)
}

fn pct(times: &[Duration], p: f64) -> f64 {
    let idx = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
    times[idx].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let total: usize = env("SENIM_BENCH_APPEALS", 100_000);
    let dir = tempfile::tempdir_in(".").expect("temporary directory on the working disk");
    let mut config = senim::config::Config::default();
    config.database.data_dir = dir.path().join("data");
    config.server.metrics_listen = None;
    std::fs::create_dir_all(&config.database.data_dir).expect("data dir");
    let db = Db::connect(&DbSettings {
        url: format!(
            "sqlite://{}",
            config.database.data_dir.join("senim.db").display()
        ),
        max_connections: 8,
        connect_timeout: Duration::from_secs(10),
        lock_wait: Duration::from_secs(30),
        ca_file: None,
    })
    .await
    .expect("open SQLite");
    db.migrate().await.expect("migrate");
    let app = Arc::new(App::assemble(config, db, Arc::new(SystemClock)).expect("assemble"));
    let start = Instant::now();
    fill(&app, total).await;
    eprintln!(
        "{total} appeals registered in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    app.persons
        .add("bench", "Bench Auditor", &[Role::Auditor], None)
        .await
        .expect("person");
    app.persons
        .set_password("bench", PASSWORD)
        .await
        .expect("password");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(senim::server::serve_until(
        app.clone(),
        listener,
        async move {
            let _ = stop_rx.await;
        },
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let session = log_in(&client, &base).await;
    let deep = total as u32 / 50 / 2;
    let pages = [
        ("first page", format!("{base}/console/journal")),
        (
            "a page deep in it",
            format!("{base}/console/journal?page={deep}"),
        ),
        (
            "filtered (e-mail, registered)",
            format!("{base}/console/journal?channel=email&status=registered"),
        ),
        (
            "search by number",
            format!("{base}/console/journal?number=TL-2026-000042"),
        ),
    ];
    for (what, url) in pages {
        // A warm-up, then the measured run.
        measure(&client, &url, &session, 5).await;
        let (times, bytes) = measure(&client, &url, &session, 200).await;
        println!(
            "console/journal, {total} appeals, {what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.1} KiB",
            pct(&times, 0.50),
            pct(&times, 0.99),
            pct(&times, 1.0),
            bytes as f64 / 1024.0
        );
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}
