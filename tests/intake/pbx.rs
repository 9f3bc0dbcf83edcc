//! The telephone channel end to end: the real `senim` binary, driven over HTTP in
//! every format (Senim's JSON, multipart, Asterisk CDR, Zammad Generic CTI), every
//! disposition, retries, out-of-order events, after-hours calls, every bad input,
//! restarts and kill -9 between deliveries, and the line's schedule.

use crate::support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use senim::clock::Clock;
use serde_json::{Value, json};
use support::app::TestApp;
use support::pbx::{
    http_server, pbx_client as client, post_json, post_upload, recording_server, upload,
};
use support::scene::{SCRIPT, manager_toml, record_notes};
use support::senim::{Daemon, Served, metrics, run_cli, write_config};

const ASTERISK_TOKEN: &str = "asterisk-token-0123456789";
const HOSTED_TOKEN: &str = "hosted-token-0123456789abc";
const HOSTED_SECRET: &str = "hosted-hmac-secret-0123456789";
const FENCED_TOKEN: &str = "fenced-token-0123456789abcd";
const MANAGER_TOKEN: &str = "manager-token-0123456789";
/// A source with no `recording_base_url`.
const CLOUD_TOKEN: &str = "cloud-token-0123456789abcdef";

/// Where the daemon's clock starts in most tests: after every call they post (in
/// November and December 2026), with `late_tolerance_seconds` covering them all,
/// so each is received at its start.
const CLOCK: &str = "2026-12-16T11:00:00+05:00";

fn config() -> String {
    config_with("late_tolerance_seconds = 2592000")
}

/// The test configuration with more `[pbx]` keys.
fn config_with(pbx: &str) -> String {
    format!(
        r#"
{}
[pbx]
max_record_bytes = 4096
max_recording_bytes = 10000
recording_retry_seconds = 1
{pbx}

[[pbx.sources]]
name = "office"
token = "{ASTERISK_TOKEN}"
recording_base_url = "http://127.0.0.1:1/never"

[[pbx.sources]]
name = "hosted"
token = "{HOSTED_TOKEN}"
hmac_secret = "{HOSTED_SECRET}"
signature_tolerance_seconds = 300

[[pbx.sources]]
name = "fenced"
token = "{FENCED_TOKEN}"
allowed_networks = ["10.0.0.0/8"]

[[pbx.sources]]
name = "cloud"
token = "{CLOUD_TOKEN}"
"#,
        manager_toml("aigul", MANAGER_TOKEN)
    )
}

/// `senim serve` on a fresh config whose clock starts at `CLOCK`.
fn start(dir: &Path, database_url: &str) -> Daemon {
    start_at(dir, database_url, &config(), CLOCK)
}

/// `senim serve` on a fresh config whose clock starts at `at` (RFC 3339).
fn start_at(dir: &Path, database_url: &str, extra: &str, at: &str) -> Daemon {
    let port = support::ports::free_port();
    let config = write_config(dir, port, database_url, extra);
    restart_at(dir, config, port, at)
}

/// The daemon in this test's process on a fresh config, its clock pinned at `CLOCK`.
async fn spawn(dir: &Path, database_url: &str) -> TestApp {
    spawn_at(dir, database_url, &config(), CLOCK).await
}

/// The daemon in this test's process on a fresh config, its clock pinned at `at`.
async fn spawn_at(dir: &Path, database_url: &str, extra: &str, at: &str) -> TestApp {
    let at = chrono::DateTime::parse_from_rfc3339(at).expect("RFC 3339 test time");
    TestApp::spawn(dir, database_url, extra, at.to_utc()).await
}

/// `senim serve` again on an existing config, its clock starting at `at`.
fn restart_at(dir: &Path, config: std::path::PathBuf, port: u16, at: &str) -> Daemon {
    Daemon::start_with_env(dir, config, port, &[("TEST_SENIM_CLOCK_START", at)])
}

async fn post_form(
    d: &impl Served,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = client()
        .post(d.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("post");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn call(id: &str, disposition: &str, start: &str, end: &str) -> Value {
    json!({
        "call_id": id,
        "caller": "+77011234567",
        "called": "+77172000000",
        "start": start,
        "end": end,
        "disposition": disposition,
        "extension": "201",
    })
}

/// An answered call of 18 November 2026, posted by tests whose clock reads 26 November.
fn eight_days_late() -> Value {
    call(
        "late",
        "answered",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    )
}

/// Posts an answered call with the given times as Senim's JSON form.
async fn post_answered(d: &impl Served, id: &str, start: &str, end: &str) -> (StatusCode, Value) {
    post_json(
        d,
        "/v1/pbx/calls",
        ASTERISK_TOKEN,
        &call(id, "answered", start, end),
    )
    .await
}

/// The appeals in the Journal with their identities, through the CLI (each read
/// is recorded in the audit log as a disclosure).
fn appeals(d: &impl Served) -> Vec<Value> {
    // One manager per configuration: two daemons may share a database.
    let digest =
        <sha2::Sha256 as sha2::Digest>::digest(d.config_path().as_os_str().as_encoded_bytes());
    let login = format!("manager-{}", &hex::encode(digest)[..12]);
    let manager = support::senim::person(d.config_path(), &login, &["manager"]);
    let out = support::senim::run_cli_as(
        d.config_path(),
        &manager,
        &["journal", "list", "--json", "--with-identity"],
    );
    crate::support::senim::assert_succeeded(&out);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn assert_no_caller_number_in_logs(d: &impl Served) {
    let logs = d.logs();
    assert!(
        !logs.contains("77011234567"),
        "caller number in logs:\n{logs}"
    );
}

async fn answered_call_is_registered_once_across_retries_and_restarts(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), database_url);
    let record = json!({
        "call_id": "1763445600.17",
        "caller": "+77011234567",
        "called": "+77172000000",
        "start": "2026-11-18T10:00:00+05:00",
        "answer": "2026-11-18T10:00:12+05:00",
        "end": 1794978300,
        "duration": 300,
        "billsec": 288,
        "disposition": "answered",
        "extension": "201",
    });
    let (status, first) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["outcome"], "appeal");
    assert_eq!(first["status"], "awaiting_operator_notes");
    assert_eq!(first["in_working_hours"], true);
    assert_eq!(first["disposition"], "answered");
    assert_eq!(first["registration_number"], "TL-2026-000001");

    // A retry gets the same answer.
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    // The registration is counted once, the retry not at all.
    let metrics = metrics(&d).await;
    assert!(
        metrics.contains("senim_appeals_registered_total{channel=\"phone\"} 1"),
        "{metrics}"
    );

    // After a restart, and after kill -9, still the same answer and one appeal.
    let (config, port) = (d.config.clone(), d.port);
    assert!(d.terminate().success());
    let d = restart_at(dir.path(), config.clone(), port, CLOCK);
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    d.kill9();
    let d = restart_at(dir.path(), config, port, CLOCK);
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    let list = appeals(&d);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["channel"], "phone");
    assert_eq!(list[0]["reporter"]["phone"], "+77011234567");

    // The operator completes it (clause 10.5) with a manager token.
    let id = first["appeal_id"].as_i64().unwrap();
    let fields = json!({
        "name": "Айгүл Серікқызы",
        "organisation": "ТОО Пример",
        "postal_address": "Astana, Mangilik El 1",
        "phone": "+77019998877",
        "substance": "An inspector asked for money to sign the act.",
    });
    let appeal = record_notes(&d, MANAGER_TOKEN, id, fields).await;
    assert_eq!(appeal["status"], "registered");
    assert_eq!(appeal["anonymous"], false);
    assert_eq!(appeal["no_return_address"], false);
    // The answer carries no identity and no text; the Journal has them.
    assert_eq!(appeal["reporter"]["phone"], Value::Null, "{appeal}");
    assert_eq!(appeal["substance"], Value::Null, "{appeal}");
    assert_eq!(appeals(&d)[0]["reporter"]["phone"], "+77019998877");
    // Once registered, the appeal is the manager's: the operator's notes are refused.
    let r = client()
        .patch(d.url(&format!("/v1/appeals/{id}")))
        .bearer_auth(MANAGER_TOKEN)
        .json(&json!({"name": "Someone else", "script": SCRIPT}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Without a manager token: 401.
    let r = client()
        .patch(d.url(&format!("/v1/appeals/{id}")))
        .json(&json!({"substance": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_no_caller_number_in_logs(&d);
    let logs = d.logs();
    assert!(
        !logs.contains("Айгүл") && !logs.contains("inspector"),
        "{logs}"
    );
}

#[tokio::test]
async fn answered_call_once_across_retries_and_restarts_on_sqlite() {
    answered_call_is_registered_once_across_retries_and_restarts("").await;
}

#[tokio::test]
async fn answered_call_once_across_retries_and_restarts_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    answered_call_is_registered_once_across_retries_and_restarts(&db.url).await;
}

#[tokio::test]
async fn every_disposition_of_the_json_form_and_after_hours_calls() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), "");
    let cases = [
        // id, disposition, start, end, outcome, in working hours
        (
            "a1",
            "answered",
            "2026-11-18T10:00:00+05:00",
            "2026-11-18T10:05:00+05:00",
            "appeal",
            true,
        ),
        (
            "a2",
            "no_answer",
            "2026-11-18T10:10:00+05:00",
            "2026-11-18T10:10:30+05:00",
            "logged",
            true,
        ),
        (
            "a3",
            "BUSY",
            "2026-11-18T11:00:00+05:00",
            "2026-11-18T11:00:05+05:00",
            "logged",
            true,
        ),
        (
            "a4",
            "failed",
            "2026-11-18T12:00:00+05:00",
            "2026-11-18T12:00:01+05:00",
            "logged",
            true,
        ),
        // After hours (19:00 on a Wednesday) and on a Saturday: voicemails.
        (
            "a5",
            "voicemail",
            "2026-11-18T19:00:00+05:00",
            "2026-11-18T19:02:00+05:00",
            "appeal",
            false,
        ),
        (
            "a6",
            "voicemail",
            "2026-11-21T10:00:00+05:00",
            "2026-11-21T10:01:00+05:00",
            "appeal",
            false,
        ),
        // A missed call after hours, on Independence Day.
        (
            "a7",
            "no answer",
            "2026-12-16T10:00:00+05:00",
            "2026-12-16T10:00:20+05:00",
            "logged",
            false,
        ),
    ];
    for (id, disposition, start, end, outcome, hours) in cases {
        let (status, a) = post_json(
            &d,
            "/v1/pbx/calls",
            ASTERISK_TOKEN,
            &call(id, disposition, start, end),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {a}");
        assert_eq!(a["outcome"], outcome, "{id}: {a}");
        assert_eq!(a["in_working_hours"], hours, "{id}: {a}");
    }
    let list = appeals(&d);
    assert_eq!(list.len(), 3);
    // The voicemail left on Saturday is registered on Monday 23 November.
    assert_eq!(list[2]["registration_date"], "2026-11-23");
    let metrics = metrics(&d).await;
    assert!(
        metrics.contains("senim_pbx_missed_calls_total 4"),
        "{metrics}"
    );
    assert_no_caller_number_in_logs(&d);
}

/// A tiny HTTP server on loopback that redirects every request to `location`.
fn redirect_server(location: String) -> (u16, Arc<AtomicUsize>) {
    http_server(move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .into_bytes()
    })
}

/// The state of a call's recording download, from the channel's table.
async fn recording_state(d: &TestApp, call_id: &str) -> Option<(String, Option<String>)> {
    senim::on_db!(&d.app.db, pool => sqlx::query_as(
        "SELECT state, last_error FROM pbx_recordings WHERE call_id = $1",
    )
    .bind(call_id)
    .fetch_optional(pool)
    .await)
    .unwrap()
}

/// A call record names the URL Senim downloads from, so a PBX's token must not
/// buy a way into the host's loopback, the cloud's metadata service or another
/// server: a URL off the source's `recording_base_url`, or at an internal address
/// when it has none, is refused as an invalid field, and a redirect off the
/// URL's origin is not followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_urls_cannot_reach_internal_or_foreign_addresses() {
    let (target_port, target_hits) = recording_server(b"secret admin page", 0);
    let (redirect_port, redirect_hits) =
        redirect_server(format!("http://127.0.0.1:{target_port}/admin"));
    let dir = tempfile::tempdir().unwrap();
    let config = config().replace(
        "http://127.0.0.1:1/never",
        &format!("http://127.0.0.1:{redirect_port}/recordings"),
    );
    let d = spawn_at(dir.path(), "", &config, CLOCK).await;
    let cases = [
        (CLOUD_TOKEN, "http://127.0.0.1:1/".to_owned()),
        (
            CLOUD_TOKEN,
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
        (CLOUD_TOKEN, "http://[::1]:5432/".to_owned()),
        (CLOUD_TOKEN, "http://localhost:5432/".to_owned()),
        (
            ASTERISK_TOKEN,
            format!("http://127.0.0.1:{target_port}/admin"),
        ),
        (
            ASTERISK_TOKEN,
            "https://recordings.example.kz/r.wav".to_owned(),
        ),
    ];
    for (i, (token, url)) in cases.iter().enumerate() {
        let mut record = call(
            &format!("ssrf-{i}"),
            "voicemail",
            "2026-11-18T20:00:00+05:00",
            "2026-11-18T20:01:00+05:00",
        );
        record["recording_url"] = json!(url);
        let (status, problem) = post_json(&d, "/v1/pbx/calls", token, &record).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {problem}");
        assert_eq!(problem["field"], "recording_url", "{url}: {problem}");
    }
    assert!(appeals(&d).is_empty(), "nothing refused is registered");

    // On the source's own origin the URL is taken, but its redirect to another
    // server is not followed: the download fails for good, the target untouched.
    let mut record = call(
        "redirected",
        "voicemail",
        "2026-11-18T20:00:00+05:00",
        "2026-11-18T20:01:00+05:00",
    );
    record["recording_url"] = json!(format!("http://127.0.0.1:{redirect_port}/recordings/r.wav"));
    let (status, a) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let what = "the redirected recording failed";
    let error = support::eventually::eventually(Duration::from_secs(10), what, async || {
        match recording_state(&d, "redirected").await {
            Some((state, error)) if state == "failed" => Ok(error),
            other => Err(other),
        }
    })
    .await;
    assert!(error.unwrap_or_default().contains("redirected"));
    assert!(redirect_hits.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Waits up to 10 s for `path`, doing `meanwhile` between looks; on time-out
/// shows the daemon's `logs`.
fn wait_for_file_while(path: &Path, meanwhile: impl Fn(), logs: impl Fn() -> String) {
    support::eventually::eventually_blocking(
        Duration::from_secs(10),
        "the recording's file",
        || {
            if path.exists() {
                return Ok(());
            }
            meanwhile();
            Err(support::eventually::Raw(logs()))
        },
    );
}

/// SIGTERM stops every background task of the channel, the recording downloader
/// and the unfinished-call sweep included, even with a download pending: the
/// process exits cleanly and says so; the pending download is kept for the next
/// start.
#[tokio::test]
async fn sigterm_stops_every_task_with_a_recording_download_pending() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), "");
    let mut record = call(
        "rec-pending",
        "no_answer",
        "2026-11-18T20:00:00+05:00",
        "2026-11-18T20:01:00+05:00",
    );
    // Nothing listens there: the download stays pending, retried every second.
    record["recording_url"] = json!("http://127.0.0.1:1/never/rec.wav");
    let (status, a) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!(
        (status, a["recording"].as_str()),
        (StatusCode::CREATED, Some("pending"))
    );
    // The metrics listener stops too, with a scraper's keep-alive connection open.
    let scraper = client();
    let scraped = scraper.get(d.metrics_url("/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let _ = scraped.text().await.unwrap();
    let log = d.log.clone();
    let exit = d.terminate();
    assert!(exit.success(), "{exit:?}");
    let logs = std::fs::read_to_string(log).unwrap();
    assert!(logs.contains("every task stopped"), "{logs}");
    assert!(!logs.contains("did not stop in time"), "{logs}");
    drop(scraper);
}

/// A proxy named in the daemon's environment (`HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY`) would take the recording's download elsewhere than the
/// addresses checked and pinned: the downloader uses none, and the recording
/// comes from the PBX itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_downloader_ignores_proxies_in_the_environment() {
    static AUDIO: &[u8] = b"RIFF....WAVEfmt a voicemail, straight from the PBX";
    let (port, hits) = recording_server(AUDIO, 0);
    // The proxy answers every request with a recording of its own.
    let (proxy, proxied) = http_server(|_| {
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nPROXIED!!".to_vec()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = config().replace(
        "http://127.0.0.1:1/never",
        &format!("http://127.0.0.1:{port}/"),
    );
    let listen = support::ports::free_port();
    let config = write_config(dir.path(), listen, "", &config);
    let proxy = format!("http://127.0.0.1:{proxy}");
    let d = Daemon::start_with_env(
        dir.path(),
        config,
        listen,
        &[
            ("TEST_SENIM_CLOCK_START", CLOCK),
            ("HTTP_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("HTTPS_PROXY", &proxy),
            ("ALL_PROXY", &proxy),
            ("NO_PROXY", ""),
        ],
    );
    let mut record = call(
        "rec-proxy",
        "no_answer",
        "2026-11-18T20:00:00+05:00",
        "2026-11-18T20:01:00+05:00",
    );
    record["recording_url"] = json!(format!("http://127.0.0.1:{port}/rec-proxy.wav"));
    let (status, a) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!(
        (status, a["recording"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{a}"
    );
    let hash = sha256_hex(AUDIO);
    let stored = dir
        .path()
        .join("data/recordings")
        .join(&hash[..2])
        .join(&hash);
    wait_for_file_while(&stored, || {}, || d.logs());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(proxied.load(Ordering::SeqCst), 0, "the proxy was asked");
    d.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_by_url_are_retried_and_uploads_are_stored_by_hash() {
    static AUDIO: &[u8] = b"RIFF....WAVEfmt a voicemail after hours";
    let (port, hits) = recording_server(AUDIO, 2);
    let dir = tempfile::tempdir().unwrap();
    // The office PBX serves its recordings from the test's server.
    let config = config().replace(
        "http://127.0.0.1:1/never",
        &format!("http://127.0.0.1:{port}/"),
    );
    let d = spawn_at(dir.path(), "", &config, CLOCK).await;
    // A no-answer call with a recording is a voicemail; the download fails twice
    // and is retried in the background; registration does not wait for it.
    let mut record = call(
        "rec-1",
        "no_answer",
        "2026-11-18T20:00:00+05:00",
        "2026-11-18T20:01:00+05:00",
    );
    record["recording_url"] = json!(format!("http://127.0.0.1:{port}/rec-1.wav"));
    let (status, a) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["disposition"], "voicemail");
    assert_eq!(a["outcome"], "appeal");
    assert_eq!(a["recording"], "pending");
    let hash = sha256_hex(AUDIO);
    let stored = dir
        .path()
        .join("data/recordings")
        .join(&hash[..2])
        .join(&hash);
    // The retries are due by the daemon's clock: the test moves it on.
    let advance = || d.clock.advance(chrono::Duration::seconds(1));
    wait_for_file_while(&stored, advance, || d.logs());
    assert!(hits.load(Ordering::SeqCst) >= 3);
    assert_eq!(std::fs::read(&stored).unwrap(), AUDIO);

    // Multipart: the record and the file itself.
    static UPLOAD: &[u8] = b"RIFF....WAVE uploaded voicemail";
    let record = call(
        "rec-2",
        "voicemail",
        "2026-11-18T21:00:00+05:00",
        "2026-11-18T21:01:00+05:00",
    );
    let a = post_upload(&d, ASTERISK_TOKEN, upload(&record, "rec-2.wav", UPLOAD)).await;
    assert_eq!(a["recording"], "stored");
    let hash = sha256_hex(UPLOAD);
    assert!(
        dir.path()
            .join("data/recordings")
            .join(&hash[..2])
            .join(&hash)
            .exists()
    );

    // A recording over pbx.max_recording_bytes: 413, nothing registered.
    let form = reqwest::multipart::Form::new()
        .part(
            "record",
            reqwest::multipart::Part::text(
                call(
                    "rec-3",
                    "voicemail",
                    "2026-11-18T21:00:00+05:00",
                    "2026-11-18T21:01:00+05:00",
                )
                .to_string(),
            ),
        )
        .part(
            "recording",
            reqwest::multipart::Part::bytes(vec![7u8; 10_001]),
        );
    let r = client()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(ASTERISK_TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(appeals(&d).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asterisk_cdrs_in_every_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let cdr = |id: &str, disposition: &str, extra: &str| {
        format!(
            "uniqueid={id}&linkedid={id}&src=%2B77011234567&dst=200&start=2026-11-18+10%3A00%3A00\
             &answer=&end=2026-11-18+10%3A03%3A00&duration=180&billsec=0&disposition={disposition}\
             &userfield=&recording={extra}"
        )
    };
    let answered = "uniqueid=1763445600.1&linkedid=1763445600.1&src=%2B77011234567&dst=200\
        &start=1794978000.000000&answer=1794978010.000000&end=1794978180.000000&duration=180&billsec=170\
        &disposition=ANSWERED&dstchannel=PJSIP%2F201-0000001a&lastapp=Dial";
    let (status, a) = post_form(&d, "/v1/pbx/asterisk", Some(ASTERISK_TOKEN), answered).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["disposition"].as_str(), a["outcome"].as_str()),
        (Some("answered"), Some("appeal"))
    );
    assert_eq!(a["in_working_hours"], true);
    // Retried by the dialplan: same answer.
    let (status, again) = post_form(&d, "/v1/pbx/asterisk", Some(ASTERISK_TOKEN), answered).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &a));

    for (id, disposition, outcome) in [
        ("1763445600.2", "NO+ANSWER", "logged"),
        ("1763445600.3", "BUSY", "logged"),
        ("1763445600.4", "FAILED", "logged"),
        ("1763445600.5", "CONGESTION", "logged"),
    ] {
        let (status, a) = post_form(
            &d,
            "/v1/pbx/asterisk",
            Some(ASTERISK_TOKEN),
            &cdr(id, disposition, ""),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {a}");
        assert_eq!(a["outcome"], outcome, "{id}: {a}");
    }
    // Answered by VoiceMail(): a voicemail; the token in the path works too.
    let vm = "uniqueid=1763445600.6&src=%2B77011234567&dst=200&start=2026-11-18+19%3A00%3A00\
        &answer=2026-11-18+19%3A00%3A05&end=2026-11-18+19%3A01%3A00&disposition=ANSWERED&lastapp=VoiceMail\
        &recording=vm-6.wav";
    let (status, a) = post_form(&d, &format!("/v1/pbx/asterisk/{ASTERISK_TOKEN}"), None, vm).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["disposition"], "voicemail");
    assert_eq!(a["in_working_hours"], false);
    assert_eq!(a["recording"], "pending");
    assert_eq!(appeals(&d).len(), 2);
    assert_no_caller_number_in_logs(&d);
}

#[tokio::test]
async fn zammad_cti_events_in_any_order_make_one_appeal() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), "");
    let path = format!("/v1/pbx/cti/{ASTERISK_TOKEN}");
    let ev = |event: &str, id: &str, extra: &str| {
        format!(
            "event={event}&from=77011234567&to=77172000000&direction=in&callId={id}&user%5B%5D=Aigul{extra}"
        )
    };
    // In order: newCall, answer, hangup.
    let (s, a) = post_form(&d, &path, None, &ev("newCall", "c1", "")).await;
    assert_eq!(
        (s, a["state"].as_str()),
        (StatusCode::OK, Some("ringing")),
        "{a}"
    );
    let (_, a) = post_form(&d, &path, None, &ev("answer", "c1", "&answeringNumber=201")).await;
    assert_eq!(a["state"], "answered");
    let (_, hangup) = post_form(
        &d,
        &path,
        None,
        &ev("hangup", "c1", "&cause=normalClearing"),
    )
    .await;
    assert_eq!(hangup["state"], "ended");
    assert_eq!(hangup["call"]["outcome"], "appeal");
    // The hangup retried: same answer.
    let (_, again) = post_form(
        &d,
        &path,
        None,
        &ev("hangup", "c1", "&cause=normalClearing"),
    )
    .await;
    assert_eq!(again, hangup);

    // Out of order: hangup first, then answer, then newCall; one appeal.
    let (_, h) = post_form(
        &d,
        &path,
        None,
        &ev("hangup", "c2", "&cause=normalClearing"),
    )
    .await;
    assert_eq!(h["call"]["outcome"], "appeal", "{h}");
    let (_, a) = post_form(&d, &path, None, &ev("answer", "c2", "&answeringNumber=201")).await;
    assert_eq!(a["state"], "ended");
    assert_eq!(
        a["call"]["registration_number"],
        h["call"]["registration_number"]
    );
    let (_, n) = post_form(&d, &path, None, &ev("newCall", "c2", "")).await;
    assert_eq!(n["state"], "ended");

    // A busy line and a caller who gave up: logged, not appeals.
    let (_, b) = post_form(&d, &path, None, &ev("hangup", "c3", "&cause=busy")).await;
    assert_eq!(
        (
            b["call"]["disposition"].as_str(),
            b["call"]["outcome"].as_str()
        ),
        (Some("busy"), Some("logged"))
    );
    post_form(&d, &path, None, &ev("newCall", "c4", "")).await;
    let (_, c) = post_form(&d, &path, None, &ev("hangup", "c4", "&cause=cancel")).await;
    assert_eq!(c["call"]["outcome"], "logged");
    // Answered by the voicemail box (user "voicemail"), as JSON with a bearer token.
    let (s, _) = post_json(&d, "/v1/pbx/cti", ASTERISK_TOKEN, &json!({"event": "answer", "callId": "c5", "from": "1", "to": "2", "direction": "in", "user": "voicemail"})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = post_json(
        &d,
        "/v1/pbx/cti",
        ASTERISK_TOKEN,
        &json!({"event": "hangup", "callId": "c5", "direction": "in", "cause": "normalClearing"}),
    )
    .await;
    assert_eq!(v["call"]["disposition"], "voicemail", "{v}");
    // Outbound calls are not appeals.
    let (_, o) = post_form(
        &d,
        &path,
        None,
        "event=hangup&from=201&to=7701&direction=out&callId=c6&cause=normalClearing",
    )
    .await;
    assert_eq!(o["state"], "ignored");

    // A restart between two deliveries of the same event.
    let (config, port) = (d.config.clone(), d.port);
    assert!(d.terminate().success());
    let d = restart_at(dir.path(), config, port, CLOCK);
    let (_, again) = post_form(
        &d,
        &path,
        None,
        &ev("hangup", "c1", "&cause=normalClearing"),
    )
    .await;
    assert_eq!(again, hangup);
    assert_eq!(appeals(&d).len(), 3);
    assert_no_caller_number_in_logs(&d);
}

fn sign(timestamp: i64, body: &[u8]) -> String {
    senim::pbx::auth::sign(HOSTED_SECRET.as_bytes(), timestamp, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_problem_json_naming_the_field_and_registers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let good = call(
        "bad-1",
        "answered",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    );
    // Signatures are timed by the daemon's clock.
    let now = d.clock.now().timestamp();
    let body = good.to_string();
    let raw = |path: &str, ctype: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let mut req = client()
            .post(d.url(path))
            .header("content-type", ctype)
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req
    };
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let mut missing_id = good.clone();
    missing_id.as_object_mut().unwrap().remove("call_id");
    let mut backwards = good.clone();
    backwards["end"] = json!("2026-11-18T09:00:00+05:00");
    let mut unknown = good.clone();
    unknown["disposition"] = json!("hung_up_angrily");
    let mut bad_time = good.clone();
    bad_time["start"] = json!("18/11/2026 10:00");
    let mut signed_headers = bearer(HOSTED_TOKEN);
    signed_headers.push(("x-senim-timestamp", (now - 1000).to_string()));
    signed_headers.push(("x-senim-signature", sign(now - 1000, body.as_bytes())));
    let mut wrong_sig = bearer(HOSTED_TOKEN);
    wrong_sig.push(("x-senim-timestamp", now.to_string()));
    wrong_sig.push(("x-senim-signature", sign(now, b"another body")));
    let json_ct = "application/json";
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, Option<&str>)> = vec![
        (
            "malformed JSON",
            raw(
                "/v1/pbx/calls",
                json_ct,
                b"{\"call_id\": ".to_vec(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "missing call id",
            raw(
                "/v1/pbx/calls",
                json_ct,
                missing_id.to_string().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            Some("call_id"),
        ),
        (
            "end before start",
            raw(
                "/v1/pbx/calls",
                json_ct,
                backwards.to_string().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("end"),
        ),
        (
            "unknown disposition",
            raw(
                "/v1/pbx/calls",
                json_ct,
                unknown.to_string().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("disposition"),
        ),
        (
            "unreadable time",
            raw(
                "/v1/pbx/calls",
                json_ct,
                bad_time.to_string().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            Some("start"),
        ),
        (
            "body too large",
            raw(
                "/v1/pbx/calls",
                json_ct,
                vec![b' '; 5000],
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            "wrong content type",
            raw(
                "/v1/pbx/calls",
                "text/plain",
                body.clone().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("Content-Type"),
        ),
        (
            "JSON to the CDR endpoint",
            raw(
                "/v1/pbx/asterisk",
                json_ct,
                body.clone().into_bytes(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("Content-Type"),
        ),
        (
            "malformed form",
            raw(
                "/v1/pbx/asterisk",
                "application/x-www-form-urlencoded",
                b"uniqueid=%zz".to_vec(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "CDR without uniqueid",
            raw(
                "/v1/pbx/asterisk",
                "application/x-www-form-urlencoded",
                b"start=1794978000&end=1794978100&disposition=ANSWERED".to_vec(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            Some("uniqueid"),
        ),
        (
            "CTI without callId",
            raw(
                "/v1/pbx/cti",
                "application/x-www-form-urlencoded",
                b"event=hangup&cause=busy".to_vec(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::BAD_REQUEST,
            Some("callId"),
        ),
        (
            "no credentials",
            raw("/v1/pbx/calls", json_ct, body.clone().into_bytes(), vec![]),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "wrong token",
            raw(
                "/v1/pbx/calls",
                json_ct,
                body.clone().into_bytes(),
                bearer("not-a-token-at-all-123"),
            ),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "wrong token in path",
            raw(
                "/v1/pbx/cti/wrong-token-0123456789",
                "application/x-www-form-urlencoded",
                b"event=hangup&callId=x&cause=busy".to_vec(),
                vec![],
            ),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "unsigned",
            raw(
                "/v1/pbx/calls",
                json_ct,
                body.clone().into_bytes(),
                bearer(HOSTED_TOKEN),
            ),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "signature outside window",
            raw(
                "/v1/pbx/calls",
                json_ct,
                body.clone().into_bytes(),
                signed_headers,
            ),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "signature of another body",
            raw(
                "/v1/pbx/calls",
                json_ct,
                body.clone().into_bytes(),
                wrong_sig,
            ),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        (
            "outside allowed networks",
            raw(
                "/v1/pbx/calls",
                json_ct,
                body.clone().into_bytes(),
                bearer(FENCED_TOKEN),
            ),
            StatusCode::FORBIDDEN,
            None,
        ),
    ];
    for (what, request, status, field) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status, "{what}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["status"], status.as_u16(), "{what}");
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{what}: {problem}");
        }
    }
    assert!(appeals(&d).is_empty());
    assert!(!d.logs().contains("panicked"));

    // Correctly signed, it is accepted.
    let mut headers = bearer(HOSTED_TOKEN);
    headers.push(("x-senim-timestamp", now.to_string()));
    headers.push(("x-senim-signature", sign(now, body.as_bytes())));
    let r = raw("/v1/pbx/calls", json_ct, body.into_bytes(), headers)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(appeals(&d).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_tells_the_pbx_whether_the_line_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let get = |q: &str| client().get(d.url(&format!("/v1/schedule/now{q}"))).send();
    let open: Value = get("?at=2026-11-18T10:00:00%2B05:00")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(open["open"], true);
    assert_eq!(open["closes_at"], "2026-11-18T13:00:00Z");
    assert_eq!(open["reason"], "working hours");
    let weekend: Value = get("?at=2026-11-21T10:00:00%2B05:00")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (weekend["open"].as_bool(), weekend["reason"].as_str()),
        (Some(false), Some("weekend"))
    );
    assert_eq!(weekend["next_opening"], "2026-11-23T04:00:00Z");
    let holiday: Value = get("?at=2026-12-16T10:00:00%2B05:00")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        holiday["reason"]
            .as_str()
            .unwrap()
            .starts_with("public holiday"),
        "{holiday}"
    );
    let evening: Value = get("?at=2026-11-18T19:00:00%2B05:00")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        evening["reason"]
            .as_str()
            .unwrap()
            .starts_with("after hours"),
        "{evening}"
    );
    let text = get("?format=text&at=2026-11-18T10:00:00%2B05:00")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "OPEN");
    let text = get("?format=text&at=2026-11-18T08:00:00%2B05:00")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "CLOSED");
    let now = get("?format=text").await.unwrap().text().await.unwrap();
    assert!(now == "OPEN" || now == "CLOSED");
    let bad = get("?at=tomorrow").await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_records_a_call_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let (_, a) = post_answered(
        &d,
        "cli-1",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    )
    .await;
    let number = a["registration_number"].as_str().unwrap();
    // Without a person, the CLI does not write the Journal.
    let nobody = run_cli(
        &d.config,
        &["journal", "record-call", number, "--name", "X"],
    );
    assert_eq!(nobody.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("--as LOGIN"));
    let operator = support::senim::person(&d.config, "dana", &["operator"]);
    let out = support::senim::run_cli_as(
        &d.config,
        &operator,
        &[
            "journal",
            "record-call",
            number,
            "--name",
            "Ержан",
            "--postal-address",
            "Astana",
            "--substance",
            "A bribe for a certificate.",
            "--said",
            &SCRIPT.join(","),
        ],
    );
    crate::support::senim::assert_succeeded(&out);
    let list = appeals(&d);
    assert_eq!(list[0]["status"], "registered");
    assert_eq!(list[0]["substance"], "A bribe for a certificate.");
    assert_eq!(list[0]["reporter"]["phone"], "+77011234567");
    let out = run_cli(d.config_path(), &["journal", "show", number]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("details_recorded") && text.contains("by person:dana"),
        "{text}"
    );
    // The audit log names the fields the operator recorded, never their values;
    // `show` without `--with-identity` shows neither, and the read of the identity
    // by `appeals` above is in the log.
    assert!(
        text.contains(r#""changed":["reporter.name","reporter.postal_address","substance"]"#),
        "{text}"
    );
    assert!(
        !text.contains("Ержан") && !text.contains("bribe") && !text.contains("77011234567"),
        "{text}"
    );
    assert!(text.contains("identity_disclosed"), "{text}");
}

/// The database goes down (a proxy in front of the real PostgreSQL is cut): the PBX
/// is told 503 with Retry-After in problem+json and nothing is registered; once the
/// database is back, its retry registers the call, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_answers_503_with_retry_after_and_the_retry_registers_once() {
    let db = support::database::TestDb::postgres().await;
    let upstream: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let mut proxy = support::tcp_proxy::TcpProxy::start(upstream);
    let database = db
        .url
        .rsplit_once('/')
        .map(|(_, name)| name.to_owned())
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/{database}", proxy.port());
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), &url).await;
    let first = call(
        "down-1",
        "answered",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    );
    let (status, _) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &first).await;
    assert_eq!(status, StatusCode::CREATED);

    proxy.stop();
    let second = call(
        "down-2",
        "answered",
        "2026-11-18T11:00:00+05:00",
        "2026-11-18T11:05:00+05:00",
    );
    let response = client()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(ASTERISK_TOKEN)
        .json(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().contains_key("retry-after"),
        "Retry-After tells the PBX when"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let ready = reqwest::get(d.url("/readyz")).await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "/readyz says the database is down"
    );
    // Which part is down, on the metrics listener alone.
    let details: Value = reqwest::get(d.metrics_url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(details["database"]["ok"], false, "{details}");

    proxy.start_again();
    let (status, answer) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &second).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &second).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["registration_number"], answer["registration_number"]);
    let numbers: Vec<_> = appeals(&d)
        .iter()
        .map(|a| a["registration_number"].clone())
        .collect();
    assert_eq!(numbers.len(), 2, "{numbers:?}");
}

/// Epoch seconds of an RFC 3339 instant.
fn epoch(at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at)
        .expect("RFC 3339")
        .timestamp()
}

/// The call log's lines, read from the daemon's SQLite database:
/// `(call id, caller, caller_raw, late_delivery, unfinished)`.
async fn call_log(dir: &Path) -> Vec<(String, Option<String>, Option<String>, bool, bool)> {
    let url = format!("sqlite://{}", dir.join("data/senim.db").display());
    let db = support::database::connect(&url).await;
    senim::on_db!(&db, pool => sqlx::query_as(
        "SELECT call_id, caller, caller_raw, late_delivery, unfinished FROM pbx_calls ORDER BY call_id",
    )
    .fetch_all(pool)
    .await)
    .unwrap()
}

/// Issue 8, section 4: the PBX's times are call metadata; a plausible start is the
/// receipt instant, an impossible one is refused, a late record is received now.
#[tokio::test]
async fn the_pbx_clock_does_not_decide_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    // Thursday 26 November 2026, 12:00 in Astana; default tolerances (5 min, 1 h).
    let d = start_at(
        dir.path(),
        "",
        &config_with(""),
        "2026-11-26T12:00:00+05:00",
    );
    for (id, start, end, field) in [
        (
            "old",
            "1900-01-01T10:00:00+05:00",
            "1900-01-01T10:05:00+05:00",
            "start",
        ),
        (
            "far",
            "9999-01-01T10:00:00+05:00",
            "9999-01-01T10:05:00+05:00",
            "start",
        ),
        (
            "soon",
            "2026-11-26T12:30:00+05:00",
            "2026-11-26T12:31:00+05:00",
            "start",
        ),
        (
            "long",
            "2026-11-26T11:00:00+05:00",
            "2026-11-26T13:00:00+05:00",
            "end",
        ),
    ] {
        let (status, p) = post_json(
            &d,
            "/v1/pbx/calls",
            ASTERISK_TOKEN,
            &call(id, "answered", start, end),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {p}");
        assert_eq!(p["field"], field, "{id}: {p}");
    }
    // The same from an Asterisk CDR: a start in 1900 is refused.
    let (status, p) = post_form(
        &d,
        "/v1/pbx/asterisk",
        Some(ASTERISK_TOKEN),
        "uniqueid=1900.1&src=87012345678&dst=200&start=1900-01-01+10%3A00%3A00&end=1900-01-01+10%3A01%3A00&disposition=ANSWERED",
    )
    .await;
    assert_eq!(
        (status, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("start")),
        "{p}"
    );
    assert!(appeals(&d).is_empty());

    // In time (and a PBX clock a little fast): received at the call's start.
    let (status, a) = post_answered(
        &d,
        "now",
        "2026-11-26T11:50:00+05:00",
        "2026-11-26T11:55:00+05:00",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a.get("late_delivery"), None, "{a}");
    let (status, fast) = post_answered(
        &d,
        "fast",
        "2026-11-26T12:03:00+05:00",
        "2026-11-26T12:04:00+05:00",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{fast}");

    // Posted eight days late: registered now, flagged, counted, logged.
    let late_call = eight_days_late();
    let (status, late) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &late_call).await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    assert_eq!(late["late_delivery"], true, "{late}");
    assert_eq!(
        late["in_working_hours"], true,
        "the call itself came in working hours"
    );
    let (_, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &late_call).await;
    assert_eq!(again, late, "a retry gets the first answer");

    let list = appeals(&d);
    assert_eq!(list.len(), 3);
    let by_number = |n: &Value| {
        list.iter()
            .find(|x| x["registration_number"] == *n)
            .cloned()
            .unwrap()
    };
    let on_time = by_number(&a["registration_number"]);
    assert_eq!(on_time["received_at"], "2026-11-26T06:50:00Z");
    let registered_late = by_number(&late["registration_number"]);
    assert!(
        registered_late["received_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-26T07:0"),
        "received when Senim got it: {registered_late}"
    );
    // Registered today, so the next-day alert and the digest of today still cover it.
    assert_eq!(registered_late["registration_date"], "2026-11-26");
    assert!(
        registered_late["subject"]
            .as_str()
            .unwrap()
            .contains("arrived late"),
        "{registered_late}"
    );
    let log = call_log(dir.path()).await;
    let flagged: Vec<_> = log.iter().filter(|l| l.3).map(|l| l.0.as_str()).collect();
    assert_eq!(flagged, ["late"]);
    assert!(
        metrics(&d)
            .await
            .contains("senim_pbx_late_deliveries_total 1")
    );
    assert!(d.logs().contains("late delivery"));
    assert_no_caller_number_in_logs(&d);
}

/// A record the PBX delivered late is no reason to tell the Director late: the
/// alert about it goes out at once (not in the next day's digest), with the
/// call's own time and without the caller's number; a retry sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_record_alerts_the_director_at_once() {
    let smtp = support::smtp::SmtpServer::start(Default::default());
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"senim@example.kz\"\npoll_seconds = 1\n\n\
         [alerts]\ndirector = [\"director@example.kz\"]\n",
        config_with(""),
        smtp.port()
    );
    let d = spawn_at(dir.path(), "", &extra, "2026-11-26T12:00:00+05:00").await;
    let late_call = eight_days_late();
    let (status, late) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &late_call).await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    assert_eq!(late["late_delivery"], true);
    let (status, _) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &late_call).await;
    assert_eq!(status, StatusCode::CREATED);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(30));
    assert_eq!(
        mails.len(),
        1,
        "one alert, however often the record is retried"
    );
    assert_eq!(mails[0].rcpt_to, ["director@example.kz"]);
    let parsed = mail_parser::MessageParser::default()
        .parse(&mails[0].data)
        .expect("a parsable mail");
    let text = format!(
        "{}\n{}",
        parsed.subject().unwrap_or_default(),
        parsed.body_text(0).unwrap_or_default()
    );
    let number = late["registration_number"].as_str().unwrap();
    assert!(text.contains(number), "{text}");
    assert!(
        text.contains("2026-11-18 10:00"),
        "the call's own time: {text}"
    );
    assert!(text.contains("delivered its record late"), "{text}");
    assert!(!text.contains("7011234567"), "no caller number: {text}");
    // An on-time call raises no such alert.
    let (status, _) = post_answered(
        &d,
        "now",
        "2026-11-26T11:50:00+05:00",
        "2026-11-26T11:55:00+05:00",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let out = run_cli(d.config_path(), &["outbox", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.matches("late_delivery_alert").count(), 1, "{listed}");
    assert_eq!(
        listed.lines().filter(|l| l.contains("alert")).count(),
        1,
        "{listed}"
    );
}

/// Kazakh numbers in any shape are stored in E.164 with the raw string kept; a
/// withheld caller is no number at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_numbers_are_normalised_and_withheld_callers_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let cdr = |id: &str, src: &str| {
        format!(
            "uniqueid={id}&src={src}&dst=200&start=2026-11-18+10%3A00%3A00\
             &answer=2026-11-18+10%3A00%3A05&end=2026-11-18+10%3A03%3A00&disposition=ANSWERED"
        )
    };
    for (id, src) in [
        ("n1", "87012345678"),
        ("n2", "7012345678"),
        ("n3", "8+%287172%29+55-12-34"),
        ("n4", "%2B77012345678"),
    ] {
        let (status, a) =
            post_form(&d, "/v1/pbx/asterisk", Some(ASTERISK_TOKEN), &cdr(id, src)).await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {a}");
    }
    let path = format!("/v1/pbx/cti/{ASTERISK_TOKEN}");
    for from in ["anonymous", "restricted", "unknown"] {
        let id = format!("anon-{from}");
        for ev in ["newCall", "answer", "hangup"] {
            let body = format!(
                "event={ev}&from={from}&to=77172000000&direction=in&callId={id}&cause=normalClearing"
            );
            let (status, a) = post_form(&d, &path, None, &body).await;
            assert_eq!(status, StatusCode::OK, "{a}");
        }
    }
    let phones: Vec<Value> = appeals(&d)
        .iter()
        .map(|a| a["reporter"]["phone"].clone())
        .collect();
    assert_eq!(
        phones,
        [
            json!("+77012345678"),
            json!("+77012345678"),
            json!("+77172551234"),
            json!("+77012345678"),
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    );
    let log = call_log(dir.path()).await;
    let seen: Vec<_> = log
        .iter()
        .map(|l| (l.0.as_str(), l.1.as_deref(), l.2.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("anon-anonymous", None, Some("anonymous")),
            ("anon-restricted", None, Some("restricted")),
            ("anon-unknown", None, Some("unknown")),
            ("n1", Some("+77012345678"), Some("87012345678")),
            ("n2", Some("+77012345678"), Some("7012345678")),
            ("n3", Some("+77172551234"), Some("8 (7172) 55-12-34")),
            ("n4", Some("+77012345678"), Some("+77012345678")),
        ]
    );
    let anonymous = appeals(&d);
    assert_eq!(anonymous[4]["anonymous"], true, "{}", anonymous[4]);
}

/// The CDR the documented after-hours dialplan produces (it answers before
/// `Record()`, so Asterisk says ANSWERED) is a voicemail, after hours and when
/// nobody picked up in working hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_dialplan_cdr_is_a_voicemail() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/pbx.md")).unwrap();
    let closed = doc
        .find("same => n(closed),Answer()")
        .expect("the closed branch");
    let marks = doc
        .find("Set(CDR(userfield)=voicemail)")
        .expect("the voicemail mark");
    let records = doc.find("same => n,Record(").expect("Record()");
    assert!(
        closed < marks && marks < records,
        "the dialplan marks the voicemail before Record()"
    );
    assert!(doc.contains("userfield=${URIENCODE(${CDR(userfield)})}"));

    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let cdr = |id: &str, start: &str, dstchannel: &str| {
        let s = epoch(start);
        format!(
            "uniqueid={id}&linkedid={id}&src=87012345678&dst=77172000000&start={s}.000000\
             &answer={}.000000&end={}.000000&duration=70&billsec=65&disposition=ANSWERED\
             &dstchannel={dstchannel}&lastapp=Hangup&userfield=voicemail&recording=vm-{id}.wav",
            s + 5,
            s + 70
        )
    };
    for (id, start, dstchannel, hours) in [
        ("1763478000.7", "2026-11-18T19:00:00+05:00", "", false),
        (
            "1763445600.8",
            "2026-11-18T10:00:00+05:00",
            "PJSIP%2F202-0000001b",
            true,
        ),
    ] {
        let (status, a) = post_form(
            &d,
            &format!("/v1/pbx/asterisk/{ASTERISK_TOKEN}"),
            None,
            &cdr(id, start, dstchannel),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
        assert_eq!(a["disposition"], "voicemail", "{id}: {a}");
        assert_eq!(a["outcome"], "appeal");
        assert_eq!(a["in_working_hours"], hours);
        assert_eq!(a["recording"], "pending");
    }
}

/// The same CTI events give the same outcome in any order, and a hangup with a
/// cause Zammad does not define is accepted and kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cti_outcome_does_not_depend_on_event_order_or_unknown_causes() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let path = format!("/v1/pbx/cti/{ASTERISK_TOKEN}");
    let ev = |event: &str, id: &str, cause: &str| {
        format!(
            "event={event}&from=87012345678&to=77172000000&direction=in&callId={id}&answeringNumber=201&cause={cause}"
        )
    };
    let mut last = Vec::new();
    for (id, order, cause) in [
        ("o1", ["newCall", "answer", "hangup"], "cancel"),
        ("o2", ["newCall", "hangup", "answer"], "cancel"),
        ("o3", ["hangup", "answer", "newCall"], "cancel"),
        ("o4", ["answer", "hangup", "newCall"], "voicemail"),
        ("o5", ["newCall", "hangup", "answer"], "voicemail"),
    ] {
        let mut outcome = Value::Null;
        for e in order {
            let (status, a) = post_form(&d, &path, None, &ev(e, id, cause)).await;
            assert_eq!(status, StatusCode::OK, "{id} {e}: {a}");
            if a["state"] == "ended" {
                outcome = a["call"].clone();
            }
        }
        assert_eq!(outcome["outcome"], "appeal", "{id}: {outcome}");
        assert_eq!(outcome["disposition"], "answered", "{id}: {outcome}");
        last.push(outcome["registration_number"].clone());
    }
    last.dedup();
    assert_eq!(last.len(), 5, "one appeal each: {last:?}");
    assert_eq!(appeals(&d).len(), 5);
    // Never answered, whatever the cause: logged.
    for (id, cause) in [("m1", "cancel"), ("m2", "voicemail")] {
        post_form(&d, &path, None, &ev("newCall", id, cause)).await;
        let (_, h) = post_form(&d, &path, None, &ev("hangup", id, cause)).await;
        assert_eq!(h["call"]["outcome"], "logged", "{id}: {h}");
    }
    assert_eq!(appeals(&d).len(), 5);
    // The cause is kept as sent.
    let url = format!("sqlite://{}", dir.path().join("data/senim.db").display());
    let db = support::database::connect(&url).await;
    let cause: Option<String> = senim::on_db!(&db, pool => sqlx::query_scalar(
        "SELECT cause FROM pbx_cti_events WHERE call_id = 'o4' AND event = 'hangup'",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(cause.as_deref(), Some("voicemail"));
}

/// Zammad's own documentation posts CTI with `curl --form`: multipart form
/// fields are accepted on the CTI and CDR routes. A form value that is not UTF-8
/// is refused with 400 naming the field, never decoded into a lookalike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_forms_are_accepted_and_invalid_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .fold(reqwest::multipart::Form::new(), |f, (k, v)| {
                f.text(k.to_string(), v.to_string())
            })
    };
    let mut last = Value::Null;
    for event in ["newCall", "answer", "hangup"] {
        let r = client()
            .post(d.url(&format!("/v1/pbx/cti/{ASTERISK_TOKEN}")))
            .multipart(form(&[
                ("event", event),
                ("from", "87012345678"),
                ("to", "77172000000"),
                ("direction", "in"),
                ("callId", "mp-1"),
                ("cause", "normalClearing"),
                ("user[]", "Aigul"),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{event}");
        last = r.json().await.unwrap();
    }
    assert_eq!(last["call"]["outcome"], "appeal", "{last}");
    let r = client()
        .post(d.url("/v1/pbx/asterisk"))
        .bearer_auth(ASTERISK_TOKEN)
        .multipart(form(&[
            ("uniqueid", "mp-2"),
            ("src", "87012345678"),
            ("dst", "200"),
            ("start", "2026-11-18 10:00:00"),
            ("answer", "2026-11-18 10:00:05"),
            ("end", "2026-11-18 10:03:00"),
            ("disposition", "ANSWERED"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(appeals(&d).len(), 2);

    // %FE and %FD are different bytes, neither UTF-8: both refused, nothing registered.
    for id in ["%FE", "%FD"] {
        let (status, p) = post_form(
            &d,
            "/v1/pbx/asterisk",
            Some(ASTERISK_TOKEN),
            &format!(
                "uniqueid={id}&src=1&dst=200&start=1794978000&end=1794978100&disposition=ANSWERED"
            ),
        )
        .await;
        assert_eq!(
            (status, p["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("uniqueid")),
            "{p}"
        );
        let (status, p) = post_form(
            &d,
            &format!("/v1/pbx/cti/{ASTERISK_TOKEN}"),
            None,
            &format!("event=hangup&direction=in&callId={id}&cause=normalClearing"),
        )
        .await;
        assert_eq!(
            (status, p["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("callId")),
            "{p}"
        );
    }
    let bytes =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"callId\"\r\n\r\n\xfe\r\n--XyZ--\r\n"
            .to_vec();
    let r = client()
        .post(d.url(&format!("/v1/pbx/cti/{ASTERISK_TOKEN}")))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["field"], "callId", "{p}");
    assert_eq!(appeals(&d).len(), 2);
    assert!(!d.logs().contains("panicked"));
}

/// An answered CTI call whose hangup never comes is registered
/// `unanswered_hangup_hours` after its answer, flagged and counted, exactly once
/// with two Senim processes on one database and across restarts.
#[tokio::test]
async fn an_answered_cti_call_never_hung_up_is_registered_once() {
    let db = support::database::TestDb::postgres().await;
    let (dir1, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let d = start_at(dir1.path(), &db.url, &config(), "2026-11-26T10:00:00+05:00");
    let path = format!("/v1/pbx/cti/{ASTERISK_TOKEN}");
    let ev = |event: &str, id: &str| {
        format!(
            "event={event}&from=87012345678&to=77172000000&direction=in&callId={id}&answeringNumber=201&cause=normalClearing"
        )
    };
    for (event, id) in [
        ("newCall", "u1"),
        ("answer", "u1"),
        ("newCall", "u2"),
        ("answer", "u2"),
        ("hangup", "u2"),
    ] {
        let (status, a) = post_form(&d, &path, None, &ev(event, id)).await;
        assert_eq!(status, StatusCode::OK, "{a}");
    }
    assert_eq!(appeals(&d).len(), 1, "u2 hung up; u1 is still talking");
    let (config1, port1) = (d.config.clone(), d.port);
    assert!(d.terminate().success());

    // Three hours on: not yet.
    let d = restart_at(
        dir1.path(),
        config1.clone(),
        port1,
        "2026-11-26T13:00:00+05:00",
    );
    assert_eq!(appeals(&d).len(), 1);
    assert!(d.terminate().success());

    // Four and a half hours on, two processes on the same database.
    let later = "2026-11-26T14:30:00+05:00";
    let a = restart_at(dir1.path(), config1.clone(), port1, later);
    let b = start_at(dir2.path(), &db.url, &config(), later);
    let list = support::eventually::eventually_blocking(
        Duration::from_secs(30),
        "the two unfinished calls registered by the sweep",
        || {
            let list = appeals(&a);
            if list.len() == 2 {
                Ok(list)
            } else {
                Err(support::eventually::Raw(format!("{list:?}\n{}", a.logs())))
            }
        },
    );
    let u1 = list
        .iter()
        .find(|x| x["subject"].as_str().unwrap_or("").contains("no hangup"))
        .cloned()
        .expect("the unfinished call's appeal");
    assert!(
        u1["received_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-26T05:00:0"),
        "received when the call came in: {u1}"
    );
    assert_eq!(u1["reporter"]["phone"], "+77012345678");
    // The hangup turns up at last: the call is already registered, flagged.
    let (_, h) = post_form(&b, &path, None, &ev("hangup", "u1")).await;
    assert_eq!(h["state"], "ended", "{h}");
    assert_eq!(h["call"]["unfinished"], true, "{h}");
    assert_eq!(h["call"]["registration_number"], u1["registration_number"]);
    let counted: usize = [metrics(&a).await, metrics(&b).await]
        .iter()
        .filter(|m| m.contains("senim_pbx_unfinished_calls_total 1"))
        .count();
    assert_eq!(
        counted, 1,
        "counted once, by the process that registered it"
    );
    assert!(a.terminate().success());
    let a = restart_at(dir1.path(), config1, port1, "2026-11-26T20:00:00+05:00");
    assert_eq!(appeals(&a).len(), 2);
    assert_eq!(appeals(&b).len(), 2);
    assert_no_caller_number_in_logs(&a);
    assert_no_caller_number_in_logs(&b);
}

/// The token printed by `senim persons add` or `reset`.
fn person_token(out: &std::process::Output) -> String {
    crate::support::senim::assert_succeeded(out);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("snm_"))
        .expect("a token")
        .to_owned()
}

/// Each person acts as themselves, with their roles: an operator completes a
/// phone appeal awaiting notes but cannot classify or read deadlines; an auditor
/// reads but cannot write; the manager classifies, and the audit log names them.
/// A disabled person's token, or a reset one's old token, is refused; a reset
/// leaves a disabled person disabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persons_act_as_themselves_within_their_roles() {
    let dir = tempfile::tempdir().unwrap();
    let d = spawn(dir.path(), "").await;
    let add = |login: &str, role: &str| {
        person_token(&run_cli(
            d.config_path(),
            &[
                "persons",
                "add",
                login,
                "--name",
                "Test Person",
                "--role",
                role,
            ],
        ))
    };
    let (clerk, auditor, manager) = (
        add("hr-clerk", "operator"),
        add("audit", "auditor"),
        add("aigul", "manager"),
    );
    let (_, a) = post_answered(
        &d,
        "persons-1",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    )
    .await;
    let id = a["appeal_id"].as_i64().unwrap();
    let send = |method: reqwest::Method, path: String, token: &str, body: Value| {
        client()
            .request(method, d.url(&path))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let patch = |token: &str| {
        send(
            reqwest::Method::PATCH,
            format!("/v1/appeals/{id}"),
            token,
            json!({"name": "Ержан", "script": SCRIPT}),
        )
    };
    let classify = |token: &str| {
        send(
            reqwest::Method::POST,
            format!("/v1/appeals/{id}/classification"),
            token,
            json!({"category": "not_corruption", "reason": "a complaint about service"}),
        )
    };
    let deadlines = |token: &str| {
        client()
            .get(d.url(&format!("/v1/appeals/{id}/deadlines")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(patch(&clerk).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        classify(&clerk).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        deadlines(&clerk).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(deadlines(&auditor).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        patch(&auditor).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        classify(&auditor).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(classify(&manager).await.unwrap().status(), StatusCode::OK);
    let history = run_cli(d.config_path(), &["journal", "show", &id.to_string()]);
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.contains("by person:hr-clerk") && history.contains("by person:aigul"),
        "{history}"
    );

    let renewed = person_token(&run_cli(d.config_path(), &["persons", "reset", "audit"]));
    assert_eq!(
        deadlines(&auditor).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(deadlines(&renewed).await.unwrap().status(), StatusCode::OK);
    let disabled = run_cli(d.config_path(), &["persons", "disable", "audit"]);
    assert!(disabled.status.success());
    assert_eq!(
        deadlines(&renewed).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // A reset does not enable them again.
    let again = person_token(&run_cli(d.config_path(), &["persons", "reset", "audit"]));
    assert_eq!(
        deadlines(&again).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = run_cli(d.config_path(), &["persons", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("hr-clerk") && listed.contains("operator"),
        "{listed}"
    );
    assert!(
        !listed.contains("snm_"),
        "tokens are never listed: {listed}"
    );
    // The database keeps only the tokens' hashes.
    let db = std::fs::read(dir.path().join("data/senim.db")).unwrap();
    assert!(!db.windows(clerk.len()).any(|w| w == clerk.as_bytes()));
}
