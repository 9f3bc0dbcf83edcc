//! The telephone channel end to end: the real `senim` binary, driven over HTTP in
//! every format (Senim's JSON, multipart, Asterisk CDR, Zammad Generic CTI), every
//! disposition, retries, out-of-order events, after-hours calls, every bad input,
//! restarts and kill -9 between deliveries, and the line's schedule.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::senim::{Daemon, run_cli};

const ASTERISK_TOKEN: &str = "asterisk-token-0123456789";
const HOSTED_TOKEN: &str = "hosted-token-0123456789abc";
const HOSTED_SECRET: &str = "hosted-hmac-secret-0123456789";
const FENCED_TOKEN: &str = "fenced-token-0123456789abcd";
const MANAGER_TOKEN: &str = "manager-token-0123456789";

fn config() -> String {
    format!(
        r#"
[[api.managers]]
name = "aigul"
token = "{MANAGER_TOKEN}"

[pbx]
max_record_bytes = 4096
max_recording_bytes = 10000
recording_retry_seconds = 1

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
"#
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn post_json(d: &Daemon, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let r = client()
        .post(d.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("post");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post_form(d: &Daemon, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
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

/// The appeals in the Journal, through the CLI.
fn appeals(d: &Daemon) -> Vec<Value> {
    let out = run_cli(&d.config, &["journal", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn assert_no_caller_number_in_logs(d: &Daemon) {
    let logs = d.logs();
    assert!(
        !logs.contains("77011234567"),
        "caller number in logs:\n{logs}"
    );
}

async fn answered_call_is_registered_once_across_retries_and_restarts(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), database_url, &config());
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
    let metrics = reqwest::get(d.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("senim_appeals_registered_total{channel=\"phone\"} 1"),
        "{metrics}"
    );

    // After a restart, and after kill -9, still the same answer and one appeal.
    let (config, port) = (d.config.clone(), d.port);
    assert!(d.terminate().success());
    let d = Daemon::start_with_config(dir.path(), config.clone(), port);
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    d.kill9();
    let d = Daemon::start_with_config(dir.path(), config, port);
    let (status, again) = post_json(&d, "/v1/pbx/calls", ASTERISK_TOKEN, &record).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    let list = appeals(&d);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["channel"], "phone");
    assert_eq!(list[0]["reporter"]["phone"], "+77011234567");

    // The operator completes it (clause 10.5) with a manager token.
    let id = first["appeal_id"].as_i64().unwrap();
    let r = client()
        .patch(d.url(&format!("/v1/appeals/{id}")))
        .bearer_auth(MANAGER_TOKEN)
        .json(&json!({
            "name": "Айгүл Серікқызы",
            "organisation": "ТОО Пример",
            "postal_address": "Astana, Mangilik El 1",
            "phone": "+77019998877",
            "substance": "An inspector asked for money to sign the act."
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let appeal: Value = r.json().await.unwrap();
    assert_eq!(appeal["status"], "registered");
    assert_eq!(appeal["anonymous"], false);
    assert_eq!(appeal["no_return_address"], false);
    assert_eq!(appeal["reporter"]["phone"], "+77019998877");
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
    let d = Daemon::start(dir.path(), "", &config());
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
    let metrics = client()
        .get(d.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("senim_pbx_missed_calls_total 4"),
        "{metrics}"
    );
    assert_no_caller_number_in_logs(&d);
}

/// A tiny HTTP server on loopback serving one recording; the first `failures`
/// requests get 503.
fn recording_server(body: &'static [u8], failures: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let response = if n < failures {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(body);
                r
            };
            let _ = stream.write_all(&response);
        }
    });
    (port, hits)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn wait_for_file(path: &Path) -> bool {
    for _ in 0..200 {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[tokio::test]
async fn recordings_by_url_are_retried_and_uploads_are_stored_by_hash() {
    static AUDIO: &[u8] = b"RIFF....WAVEfmt a voicemail after hours";
    let (port, hits) = recording_server(AUDIO, 2);
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "", &config());
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
    assert!(
        wait_for_file(&stored),
        "recording not downloaded:\n{}",
        d.logs()
    );
    assert!(hits.load(Ordering::SeqCst) >= 3);
    assert_eq!(std::fs::read(&stored).unwrap(), AUDIO);

    // Multipart: the record and the file itself.
    static UPLOAD: &[u8] = b"RIFF....WAVE uploaded voicemail";
    let form = reqwest::multipart::Form::new()
        .part(
            "record",
            reqwest::multipart::Part::text(
                call(
                    "rec-2",
                    "voicemail",
                    "2026-11-18T21:00:00+05:00",
                    "2026-11-18T21:01:00+05:00",
                )
                .to_string(),
            )
            .mime_str("application/json")
            .unwrap(),
        )
        .part(
            "recording",
            reqwest::multipart::Part::bytes(UPLOAD).file_name("rec-2.wav"),
        );
    let r = client()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(ASTERISK_TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
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

#[tokio::test]
async fn asterisk_cdrs_in_every_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "", &config());
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
    let d = Daemon::start(dir.path(), "", &config());
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
    let d = Daemon::start_with_config(dir.path(), config, port);
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

#[tokio::test]
async fn bad_input_gets_problem_json_naming_the_field_and_registers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "", &config());
    let good = call(
        "bad-1",
        "answered",
        "2026-11-18T10:00:00+05:00",
        "2026-11-18T10:05:00+05:00",
    );
    let now = chrono::Utc::now().timestamp();
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
            "CTI unknown cause",
            raw(
                "/v1/pbx/cti",
                "application/x-www-form-urlencoded",
                b"event=hangup&callId=x&cause=exploded".to_vec(),
                bearer(ASTERISK_TOKEN),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("cause"),
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

#[tokio::test]
async fn the_schedule_tells_the_pbx_whether_the_line_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "", &config());
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

#[tokio::test]
async fn the_operator_records_a_call_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path(), "", &config());
    let (_, a) = post_json(
        &d,
        "/v1/pbx/calls",
        ASTERISK_TOKEN,
        &call(
            "cli-1",
            "answered",
            "2026-11-18T10:00:00+05:00",
            "2026-11-18T10:05:00+05:00",
        ),
    )
    .await;
    let number = a["registration_number"].as_str().unwrap();
    let out = run_cli(
        &d.config,
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
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = appeals(&d);
    assert_eq!(list[0]["status"], "registered");
    assert_eq!(list[0]["substance"], "A bribe for a certificate.");
    assert_eq!(list[0]["reporter"]["phone"], "+77011234567");
    let out = run_cli(&d.config, &["journal", "show", number]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("details_recorded") && text.contains("cli:"),
        "{text}"
    );
}

/// The database goes down (a proxy in front of the real PostgreSQL is cut): the PBX
/// is told 503 with Retry-After in problem+json and nothing is registered; once the
/// database is back, its retry registers the call, exactly once.
#[tokio::test]
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
    let d = Daemon::start(dir.path(), &url, &config());
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
