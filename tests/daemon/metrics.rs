//! The metrics listener (`server.metrics_listen`), through the real binary: the
//! main port, which faces the PBXes, answers `/readyz`'s status alone and no
//! `/metrics`; the metrics port serves both, and nothing else; with
//! `server.metrics_token` it wants the token; off loopback it is refused without
//! one; a port in use stops the start-up naming the key; and it stops with the
//! rest of the daemon.

use crate::support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::app::TestApp;
use support::senim::{Daemon, Served, add_server_keys, run_cli, write_config};

const TOKEN: &str = "metrics-token-0123456789abcdef";

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `GET url`, with `Authorization: Bearer <token>` when given.
async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("an answer")
}

/// A problem+json answer with `status`.
async fn assert_problem(response: reqwest::Response, status: u16) {
    assert_eq!(response.status(), status, "{}", response.url());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
}

#[tokio::test]
async fn the_main_port_hides_the_details_and_the_metrics_port_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), "", "");

    // The main port: health as before, readiness without details, no metrics.
    let health = get(&daemon.url("/healthz"), None).await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");
    let ready = get(&daemon.url("/readyz"), None).await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body, json!({"status": "ready"}));
    assert_problem(get(&daemon.url("/metrics"), None).await, 404).await;

    // The metrics port: both, in full.
    let metrics = get(&daemon.metrics_url("/metrics"), None).await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    assert!(text.contains("senim_build_info"), "{text}");
    assert!(text.contains("senim_outbox_undelivered"), "{text}");
    let ready = get(&daemon.metrics_url("/readyz"), None).await;
    assert_eq!(ready.status(), 200);
    let details: Value = ready.json().await.unwrap();
    assert_eq!(details["ready"], true, "{details}");
    assert_eq!(details["database"]["backend"], "sqlite", "{details}");
    assert_eq!(details["calendar"]["ok"], true, "{details}");
    assert_eq!(details["outbox"]["undelivered"], 0, "{details}");
    assert_eq!(details["alerts"]["director_configured"], false, "{details}");
    assert!(details["mailbox"].is_object(), "{details}");

    // And nothing else: not the main port's routes, nor other methods.
    for path in ["/healthz", "/v1/pbx/calls", "/v1/appeals", "/nothing"] {
        assert_problem(get(&daemon.metrics_url(path), None).await, 404).await;
    }
    let post = reqwest::Client::new()
        .post(daemon.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_problem(post, 405).await;
}

#[tokio::test]
async fn with_a_token_the_metrics_port_wants_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    add_server_keys(&config, &format!("metrics_token = \"{TOKEN}\""));
    let daemon = Daemon::start_with_config(dir.path(), config, port);
    for path in ["/metrics", "/readyz"] {
        let url = daemon.metrics_url(path);
        assert_problem(get(&url, None).await, 401).await;
        assert_problem(get(&url, Some("metrics-token-0123456789abcdeX")).await, 401).await;
        assert_problem(get(&url, Some(&TOKEN[..TOKEN.len() - 1])).await, 401).await;
        let basic = reqwest::Client::new()
            .get(&url)
            .basic_auth("prometheus", Some(TOKEN))
            .send()
            .await
            .unwrap();
        assert_problem(basic, 401).await;
        let right = get(&url, Some(TOKEN)).await;
        assert_eq!(right.status(), 200, "{path}");
    }
    let text = get(&daemon.metrics_url("/metrics"), Some(TOKEN))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("senim_build_info"), "{text}");
    // An unknown route is not told apart without the token.
    assert_problem(get(&daemon.metrics_url("/nothing"), None).await, 401).await;
    assert_problem(get(&daemon.metrics_url("/nothing"), Some(TOKEN)).await, 404).await;
    // The main port is as without a token.
    assert_eq!(get(&daemon.url("/healthz"), None).await.status(), 200);
    assert_problem(get(&daemon.url("/metrics"), Some(TOKEN)).await, 404).await;
    let log = daemon.log.clone();
    assert!(daemon.terminate().success());
    let logs = std::fs::read_to_string(log).unwrap();
    assert!(!logs.contains(TOKEN), "the token is never logged:\n{logs}");
}

/// The token may come from a file, under systemd a credential
/// (`LoadCredential=`): a relative `metrics_token_file` is read from
/// `$CREDENTIALS_DIRECTORY`.
#[tokio::test]
async fn the_token_file_is_read_from_systemds_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("metrics.token"), format!("{TOKEN}\n")).unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    add_server_keys(&config, "metrics_token_file = \"metrics.token\"");

    // Without the credentials directory the file is not there: named with its key.
    let mut check = support::senim::command();
    check.args(["--config", config.to_str().unwrap(), "check-config"]);
    check.env_remove("CREDENTIALS_DIRECTORY");
    let out = check.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("server.metrics_token_file"),
        "{}",
        stderr(&out)
    );

    let daemon = Daemon::start_with_env(
        dir.path(),
        config,
        port,
        &[("CREDENTIALS_DIRECTORY", credentials.to_str().unwrap())],
    );
    let url = daemon.metrics_url("/metrics");
    assert_problem(get(&url, None).await, 401).await;
    assert_eq!(get(&url, Some(TOKEN)).await.status(), 200);
}

/// Runs `senim check-config` on a file with `[server]` keys `server`.
fn check_config(dir: &Path, server: &str) -> std::process::Output {
    let path = dir.join("check.toml");
    let text = format!(
        "[server]\n{server}\n\n[database]\ndata_dir = \"{}\"\n",
        dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    run_cli(&path, &["check-config"])
}

#[test]
fn off_loopback_the_metrics_listener_wants_a_token() {
    let dir = tempfile::tempdir().unwrap();
    for open in ["0.0.0.0:9464", "[::]:9464", "192.0.2.7:9464"] {
        let out = check_config(dir.path(), &format!("metrics_listen = \"{open}\""));
        assert_eq!(out.status.code(), Some(2), "{open} without a token");
        assert!(
            stderr(&out).contains("server.metrics_listen"),
            "{open}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("metrics_token"),
            "{open}: {}",
            stderr(&out)
        );
    }
    let out = check_config(
        dir.path(),
        &format!("metrics_listen = \"0.0.0.0:9464\"\nmetrics_token = \"{TOKEN}\""),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("metrics.token");
    std::fs::write(&file, TOKEN).unwrap();
    let out = check_config(
        dir.path(),
        &format!(
            "metrics_listen = \"0.0.0.0:9464\"\nmetrics_token_file = \"{}\"",
            file.display()
        ),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // Loopback (the default) needs none; empty turns the listener off.
    for fine in [
        "",
        "metrics_listen = \"127.0.0.1:9464\"",
        "metrics_listen = \"\"",
    ] {
        let out = check_config(dir.path(), fine);
        assert!(out.status.success(), "{fine}: {}", stderr(&out));
    }

    // What is wrong with the token or the address is named too, never the token.
    for (server, key) in [
        ("metrics_token = \"short\"", "server.metrics_token"),
        ("metrics_listen = \"nowhere\"", "server.metrics_listen"),
        (
            "listen = \"127.0.0.1:9464\"\nmetrics_listen = \"127.0.0.1:9464\"",
            "server.metrics_listen",
        ),
    ] {
        let out = check_config(dir.path(), server);
        assert_eq!(out.status.code(), Some(2), "{server}");
        assert!(stderr(&out).contains(key), "{server}: {}", stderr(&out));
        assert!(!stderr(&out).contains("short\""), "{}", stderr(&out));
    }
}

#[test]
fn a_metrics_port_in_use_stops_the_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    let mut child = support::senim::command()
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("SENIM_SERVER__METRICS_LISTEN", taken_addr.to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited =
        support::process::poll_until(Duration::from_secs(60), || child.try_wait().ok().flatten());
    let Some(status) = exited else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("senim serve did not stop with its metrics port taken");
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("server.metrics_listen"), "{err}");
    assert!(err.contains(&taken_addr.to_string()), "{err}");
    assert!(!err.contains("senim is serving"), "it never served: {err}");
    drop(taken);
}

#[tokio::test]
async fn an_empty_metrics_listen_turns_the_listener_off() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", "");
    let daemon = Daemon::start_with_env(
        dir.path(),
        config,
        port,
        &[("SENIM_SERVER__METRICS_LISTEN", "")],
    );
    assert!(daemon.metrics.is_none());
    assert!(
        daemon.logs().contains(r#""metrics_listen":"off""#),
        "{}",
        daemon.logs()
    );
    // The main port still keeps the details and the metrics to itself.
    assert_problem(get(&daemon.url("/metrics"), None).await, 404).await;
    let body: Value = get(&daemon.url("/readyz"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"status": "ready"}));
}

/// The metrics listener is one of the daemon's tasks: it stops on the stop
/// signal with the others (here in the test's process, so a listener left
/// behind would still accept connections), an idle keep-alive connection to it
/// notwithstanding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_stops_with_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-18T10:00:00+05:00").unwrap();
    let app = TestApp::spawn(dir.path(), "", "", at.to_utc()).await;
    let metrics_addr = app.app.config.server.metrics_listen.unwrap();
    let client = reqwest::Client::new();
    let scraped = client
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let _ = scraped.text().await.unwrap();
    assert!(support::ports::accepts_connections(metrics_addr.port()));
    // `stop` returns once every task is done, within the grace period.
    app.stop().await;
    assert!(
        !support::ports::accepts_connections(metrics_addr.port()),
        "the metrics listener still accepts connections after the stop"
    );
    drop(client);
}

/// Missing calendar data is a warning, never unreadiness (issue 19): with the
/// clock in January 2027 and no Kurban Ait date for 2027 or 2028 in the data
/// file, both ports answer ready; the details name the years (and 2027's
/// estimate), the gauge
/// `senim_calendar_data_missing` counts them, and the log says it once, not
/// per request.
#[tokio::test]
async fn missing_calendar_data_is_a_warning_not_unreadiness() {
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2027-01-12T10:00:00+05:00").unwrap();
    let app = TestApp::spawn(dir.path(), "", "", at.to_utc()).await;

    for _ in 0..3 {
        let ready = get(&app.url("/readyz"), None).await;
        assert_eq!(ready.status(), 200);
        let body: Value = ready.json().await.unwrap();
        assert_eq!(body, json!({"status": "ready"}));
    }
    let ready = get(&app.metrics_url("/readyz"), None).await;
    assert_eq!(ready.status(), 200);
    let details: Value = ready.json().await.unwrap();
    assert_eq!(details["ready"], true, "{details}");
    assert_eq!(details["calendar"]["ok"], false, "{details}");
    assert_eq!(
        details["calendar"]["missing_kurban_ait"],
        json!([2027, 2028]),
        "{details}"
    );
    let warning = details["calendar"]["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("Kurban Ait"), "{details}");
    // 2027 is counted meanwhile with the estimate, and the details say so.
    assert_eq!(
        details["calendar"]["estimated_kurban_ait"],
        json!({"2027": "2027-05-16"}),
        "{details}"
    );
    assert!(warning.contains("estimate 2027-05-16"), "{details}");

    let text = get(&app.metrics_url("/metrics"), None)
        .await
        .text()
        .await
        .unwrap();
    for year in ["2027", "2028"] {
        let line = text
            .lines()
            .find(|line| {
                line.starts_with("senim_calendar_data_missing{")
                    && line.contains(&format!("year=\"{year}\""))
            })
            .unwrap_or_else(|| panic!("no gauge for {year}:\n{text}"));
        assert!(line.contains("holiday=\"kurban_ait\""), "{line}");
        assert!(line.ends_with(" 1"), "{line}");
    }

    // Logged once in the process's life, whatever the number of requests.
    let logs = app.logs();
    let lines = logs
        .lines()
        .filter(|line| line.contains("CALENDAR DATA MISSING") && line.contains("2028"))
        .count();
    assert_eq!(lines, 1, "{logs}");
    app.stop().await;
}
