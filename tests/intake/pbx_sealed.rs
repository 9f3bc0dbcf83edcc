//! The telephone channel sealed at rest (issue 10): once the office key exists,
//! no caller number (in any form) and no recording's content is left readable
//! in the database, its WAL or the data directory; what was stored plain before
//! is sealed in place (`pbx::store::seal_existing_in`,
//! `RecordingStore::seal_existing`); calls are still registered once, CTI
//! events still make their call, recordings open with the key, and retention
//! still erases what it must.
//!
//! The daemon's Journal keeps the reporter's phone plain on this branch, so the
//! configuration sets `pbx.rules.caller_number_as_phone = false`: the number
//! then reaches no table but the channel's own.

use crate::support;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use senim::clock::Clock;
use senim::journal::SourceRef;
use senim::pbx::store;
use senim::sealing::Unlocked;
use serde_json::{Value, json};
use support::app::TestApp;
use support::pbx::{call_record as call, pbx_client as client, upload};
use support::scene::{self, chain_key_toml};
use support::senim::Served;

const TOKEN: &str = "office-token-0123456789ab";
const CLOCK: &str = "2026-12-16T11:00:00+05:00";
/// The caller of every call made once sealing is on, and its other forms.
const NUMBER: &str = "+77011234567";
const NATIONAL: &str = "87011234567";
const DIGITS: &str = "7011234567";
/// The caller of the calls made before sealing was on.
const EARLIER: &str = "+77019998877";
const EARLIER_DIGITS: &str = "7019998877";

static DOWNLOADED: &[u8] = b"RIFF....WAVEfmt sealed voicemail, downloaded from the PBX";
static UPLOADED: &[u8] = b"RIFF....WAVEfmt sealed voicemail, uploaded with the record";
static EARLIER_UPLOAD: &[u8] = b"RIFF....WAVEfmt plain voicemail, stored before sealing";

fn config(dir: &Path, port: u16) -> String {
    format!(
        r#"
{}
[pbx]
late_tolerance_seconds = 2592000
max_recording_bytes = 10000
recording_retry_seconds = 1

[pbx.rules]
caller_number_as_phone = false

[[pbx.sources]]
name = "office"
token = "{TOKEN}"
recording_base_url = "http://127.0.0.1:{port}/"
"#,
        chain_key_toml(dir, &"k".repeat(40))
    )
}

/// A tiny HTTP server on loopback serving one recording, counting requests.
fn recording_server(body: &'static [u8]) -> (u16, Arc<AtomicUsize>) {
    support::pbx::recording_server(body, 0)
}

async fn post_json(d: &TestApp, path: &str, body: &Value) -> (StatusCode, Value) {
    support::pbx::post_json(d, path, TOKEN, body).await
}

async fn post_cti(d: &TestApp, body: &str) -> Value {
    let r = client()
        .post(d.url(&format!("/v1/pbx/cti/{TOKEN}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn post_upload(d: &TestApp, record: &Value, file_name: &str, bytes: &'static [u8]) -> Value {
    support::pbx::post_upload(d, TOKEN, upload(record, file_name, bytes)).await
}

/// Every file under `dir`, recursively.
/// Which of `needles` some file under `dir` holds: `(file, needle)`.
fn found_in_files(dir: &Path, needles: &[&[u8]]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for path in support::files::files_under(dir) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for needle in needles {
            if bytes.windows(needle.len()).any(|w| w == *needle) {
                found.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(needle).into_owned(),
                ));
            }
        }
    }
    found
}

async fn count(d: &TestApp, sql: &str) -> i64 {
    senim::on_db!(&d.app.db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
        .unwrap()
}

async fn appeal_of(d: &TestApp, call_id: &str) -> Option<i64> {
    d.app
        .journal
        .find_source(&SourceRef::new("pbx-call", format!("office:{call_id}")))
        .await
        .unwrap()
        .map(|a| a.id.0)
}

/// Turns sealing on as `senim keys init` does: the office key, then, in the same
/// transaction, the channel's plain values sealed; after the commit, the
/// recording files, and the WAL truncated.
async fn keys_init(d: &TestApp) -> Unlocked {
    let app = &d.app;
    let escrow = scene::keys_init(app, "test", async |tx| {
        let sealed = store::seal_existing_by_table_in(tx, &app.sealer)
            .await
            .unwrap();
        // The call logged before (the upload), the CTI call's one event, the
        // recording's file name.
        assert_eq!(
            (sealed.calls, sealed.cti_events, sealed.recordings),
            (1, 1, 1),
            "{sealed:?}"
        );
    })
    .await;
    let files = app
        .pbx
        .recordings
        .seal_existing(&app.db, &app.sealer)
        .await
        .unwrap();
    assert_eq!(files, 1, "the plain recording is sealed");
    // Run again (as after a crash): nothing left to do.
    assert_eq!(
        app.pbx
            .recordings
            .seal_existing(&app.db, &app.sealer)
            .await
            .unwrap(),
        0
    );
    app.db.checkpoint().await.unwrap();
    scene::office_key(app, escrow).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_calls_are_sealed_at_rest_and_still_work_on_sqlite() {
    phone_calls_are_sealed_at_rest_and_still_work("").await;
}

/// On PostgreSQL the data directory holds the recordings (and the instance id)
/// only; the rest is checked through the tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_calls_are_sealed_at_rest_and_still_work_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    phone_calls_are_sealed_at_rest_and_still_work(&db.url).await;
}

async fn phone_calls_are_sealed_at_rest_and_still_work(database_url: &str) {
    let (port, hits) = recording_server(DOWNLOADED);
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(CLOCK)
        .unwrap()
        .to_utc();
    let d = TestApp::spawn(dir.path(), database_url, &config(dir.path(), port), at).await;
    let sqlite = database_url.is_empty();
    let data = dir.path().join("data");

    // Before sealing: an answered call with an uploaded recording, and a CTI
    // call that has only rung so far.
    let earlier = call(
        "plain-1",
        EARLIER,
        "voicemail",
        "2026-11-18T21:00:00+05:00",
        "2026-11-18T21:01:00+05:00",
    );
    let a = post_upload(
        &d,
        &earlier,
        &format!("in-{EARLIER_DIGITS}.wav"),
        EARLIER_UPLOAD,
    )
    .await;
    assert_eq!(a["recording"], "stored", "{a}");
    let ringing = post_cti(
        &d,
        &format!("event=newCall&from={EARLIER}&to=77172000000&direction=in&callId=cti-0"),
    )
    .await;
    assert_eq!(ringing["state"], "ringing");
    if sqlite {
        assert!(
            !found_in_files(&data, &[EARLIER_DIGITS.as_bytes()]).is_empty(),
            "the test can see a plain number"
        );
    }
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_calls WHERE caller IS NOT NULL"
        )
        .await,
        1
    );

    let unlocked = keys_init(&d).await;

    // The CTI call rung before sealing ends now: its caller, sealed in place
    // with the intake key, is read back to make the call.
    post_cti(
        &d,
        "event=answer&to=77172000000&direction=in&callId=cti-0&answeringNumber=201",
    )
    .await;
    let ended = post_cti(
        &d,
        "event=hangup&direction=in&callId=cti-0&cause=normalClearing",
    )
    .await;
    assert_eq!(ended["call"]["outcome"], "appeal", "{ended}");
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "cti-0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(numbers.caller.as_deref(), Some(EARLIER));
    assert_eq!(numbers.extension.as_deref(), Some("201"));

    // An answered call, JSON form; posted again, the same answer and no second
    // appeal.
    let answered = call(
        "s-answered",
        NUMBER,
        "answered",
        "2026-12-14T10:00:00+05:00",
        "2026-12-14T10:05:00+05:00",
    );
    let (status, first) = post_json(&d, "/v1/pbx/calls", &answered).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["outcome"], "appeal");
    let appeals = count(&d, "SELECT COUNT(*) FROM appeals").await;
    let (status, again) = post_json(&d, "/v1/pbx/calls", &answered).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, first, "a retry gets the stored answer");
    assert_eq!(count(&d, "SELECT COUNT(*) FROM appeals").await, appeals);
    assert_eq!(
        appeal_of(&d, "s-answered").await,
        first["appeal_id"].as_i64()
    );
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "s-answered")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (numbers.caller.as_deref(), numbers.called.as_deref()),
        (Some(NUMBER), Some("+77172000000"))
    );

    // A CTI call in its national form: newCall, answer, hangup; one appeal.
    let ev = |event: &str, extra: &str| {
        format!("event={event}&from={NATIONAL}&to=77172000000&direction=in&callId=cti-1{extra}")
    };
    assert_eq!(post_cti(&d, &ev("newCall", "")).await["state"], "ringing");
    assert_eq!(
        post_cti(&d, &ev("answer", "&answeringNumber=201")).await["state"],
        "answered"
    );
    let hangup = post_cti(&d, &ev("hangup", "&cause=normalClearing")).await;
    assert_eq!(hangup["call"]["outcome"], "appeal", "{hangup}");
    assert_eq!(
        post_cti(&d, &ev("hangup", "&cause=normalClearing")).await,
        hangup
    );
    assert!(appeal_of(&d, "cti-1").await.is_some());
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "cti-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (numbers.caller.as_deref(), numbers.caller_raw.as_deref()),
        (Some(NUMBER), Some(NATIONAL))
    );
    // The call is an appeal: its events' numbers are sealed to the office key,
    // none left for the daemon's own key.
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_cti_events WHERE call_id IN ('cti-0', 'cti-1') \
             AND (sealed_to <> 'office' OR caller IS NOT NULL OR called IS NOT NULL OR answered_by IS NOT NULL)"
        )
        .await,
        0
    );

    // A missed call: logged, not an appeal; its number kept for a call-back,
    // for a person with the key.
    let (status, missed) = post_json(
        &d,
        "/v1/pbx/calls",
        &call(
            "s-missed",
            NUMBER,
            "no_answer",
            "2026-12-14T11:00:00+05:00",
            "2026-12-14T11:01:00+05:00",
        ),
    )
    .await;
    assert_eq!(
        (status, missed["outcome"].as_str()),
        (StatusCode::CREATED, Some("logged"))
    );
    assert!(appeal_of(&d, "s-missed").await.is_none());
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "s-missed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(numbers.caller.as_deref(), Some(NUMBER));

    // A missed CTI call (rang, hung up unanswered): logged, not an appeal.
    // Once hung up, the daemon reads its numbers no more: they are sealed to
    // the office key, and the intake key (the chain key's) opens nothing of it.
    let ev = |event: &str, extra: &str| {
        format!(
            "event={event}&from={NATIONAL}&to=77172000000&direction=in&callId=cti-missed{extra}"
        )
    };
    assert_eq!(post_cti(&d, &ev("newCall", "")).await["state"], "ringing");
    let missed = post_cti(&d, &ev("hangup", "&cause=cancel")).await;
    assert_eq!(missed["call"]["outcome"], "logged", "{missed}");
    assert!(appeal_of(&d, "cti-missed").await.is_none());
    let intake = d.app.sealer.intake().expect("the intake key");
    type EventNumbers = (
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<String>,
    );
    let rows: Vec<EventNumbers> = senim::on_db!(&d.app.db, pool => sqlx::query_as(
            "SELECT sealed_to, caller_sealed, called_sealed, answered_by_sealed, caller \
             FROM pbx_cti_events WHERE call_id = 'cti-missed'",
        )
        .fetch_all(pool)
        .await)
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (sealed_to, caller, called, answered_by, plain) in &rows {
        assert_eq!((sealed_to.as_str(), plain), ("office", &None));
        for sealed in [caller, called, answered_by].into_iter().flatten() {
            assert!(
                intake.open(sealed).is_err(),
                "the intake key opens a number of a final call"
            );
        }
    }
    assert!(
        rows.iter().any(|r| r.1.is_some()),
        "the caller's number is kept"
    );
    // The person with the key reads the number, for the call-back.
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "cti-missed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (numbers.caller.as_deref(), numbers.caller_raw.as_deref()),
        (Some(NUMBER), Some(NATIONAL))
    );

    // A voicemail whose recording is downloaded from a URL naming the caller.
    let mut by_url = call(
        "s-rec",
        NUMBER,
        "no_answer",
        "2026-12-14T20:00:00+05:00",
        "2026-12-14T20:01:00+05:00",
    );
    by_url["recording_url"] = json!(format!("http://127.0.0.1:{port}/in-{DIGITS}.wav"));
    let (status, a) = post_json(&d, "/v1/pbx/calls", &by_url).await;
    assert_eq!(
        (status, a["recording"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{a}"
    );
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM pbx_recordings WHERE call_id = 's-rec' AND url IS NULL AND url_sealed IS NOT NULL").await,
        1,
        "the pending URL is sealed"
    );
    support::eventually::eventually(
        Duration::from_secs(20),
        "the recording downloaded",
        async || {
            let stored =
                "SELECT COUNT(*) FROM pbx_recordings WHERE call_id = 's-rec' AND state = 'stored'";
            if count(&d, stored).await == 1 {
                return Ok(());
            }
            d.clock.advance(chrono::Duration::seconds(1));
            Err(support::eventually::Raw(d.logs()))
        },
    )
    .await;
    assert!(hits.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM pbx_recordings WHERE call_id = 's-rec' AND url IS NULL AND url_sealed IS NULL AND file_generation = 1").await,
        1,
        "the URL is erased once the recording is stored"
    );

    // A voicemail uploaded with its record, its file name naming the caller.
    let uploaded = post_upload(
        &d,
        &call(
            "s-upload",
            NUMBER,
            "voicemail",
            "2026-12-14T21:00:00+05:00",
            "2026-12-14T21:01:00+05:00",
        ),
        &format!("in-{DIGITS}.wav"),
        UPLOADED,
    )
    .await;
    assert_eq!(uploaded["recording"], "stored");

    // Each recording opens with the key to its own bytes.
    for (call_id, bytes) in [
        ("s-rec", DOWNLOADED),
        ("s-upload", UPLOADED),
        ("plain-1", EARLIER_UPLOAD),
    ] {
        let mut out = Vec::new();
        d.app
            .pbx
            .open_recording(&unlocked, "office", call_id)
            .await
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, bytes, "{call_id}");
    }
    // A content-derived name cannot confirm a guess: no file and no row is
    // named by a recording's SHA-256.
    let shas: Vec<String> = [DOWNLOADED, UPLOADED, EARLIER_UPLOAD]
        .iter()
        .map(|b| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b)))
        .collect();
    for sha in &shas {
        assert_eq!(
            count(
                &d,
                &format!("SELECT COUNT(*) FROM pbx_recordings WHERE sha256 = '{sha}'")
            )
            .await,
            0
        );
    }

    // A CTI call answered and never hung up: the sweep reads its number back
    // (intake key) and registers it, pbx.unanswered_hangup_hours later.
    let ev = |event: &str, extra: &str| {
        format!("event={event}&from={NUMBER}&to=77172000000&direction=in&callId=cti-2{extra}")
    };
    post_cti(&d, &ev("newCall", "")).await;
    assert_eq!(
        post_cti(&d, &ev("answer", "&answeringNumber=202")).await["state"],
        "answered"
    );
    d.clock.advance(chrono::Duration::hours(5));
    senim::pbx::cti::sweep(&d.app.pbx).await.unwrap();
    assert!(
        appeal_of(&d, "cti-2").await.is_some(),
        "the sweep registered it"
    );
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "cti-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (numbers.caller.as_deref(), numbers.extension.as_deref()),
        (Some(NUMBER), Some("202"))
    );
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_cti_events WHERE call_id = 'cti-2' AND sealed_to = 'office'"
        )
        .await,
        2
    );

    // Nothing readable is left: no number in any form, no recording's bytes,
    // no SHA-256 of one, in the database, its WAL or any file of the data
    // directory.
    d.app.db.checkpoint().await.unwrap();
    let mut needles: Vec<&[u8]> = vec![
        DIGITS.as_bytes(),
        NATIONAL.as_bytes(),
        EARLIER_DIGITS.as_bytes(),
        DOWNLOADED,
        UPLOADED,
        EARLIER_UPLOAD,
    ];
    needles.extend(shas.iter().map(|s| s.as_bytes()));
    let found = found_in_files(&data, &needles);
    assert!(found.is_empty(), "found in plain: {found:?}");
    assert_eq!(
        support::files::files_under(&data)
            .iter()
            .any(|p| p.ends_with("senim.db")),
        sqlite,
        "the database is among the files checked"
    );
    // Nor, on either backend, in a plain column.
    assert_eq!(
        count(
            &d,
            "SELECT (SELECT COUNT(*) FROM pbx_calls WHERE caller IS NOT NULL OR caller_raw IS NOT NULL \
             OR called IS NOT NULL OR extension IS NOT NULL) \
             + (SELECT COUNT(*) FROM pbx_cti_events WHERE caller IS NOT NULL OR called IS NOT NULL \
             OR answered_by IS NOT NULL) \
             + (SELECT COUNT(*) FROM pbx_recordings WHERE url IS NOT NULL OR file_name IS NOT NULL)"
        )
        .await,
        0
    );
    let logs = d.logs();
    assert!(
        !logs.contains(DIGITS) && !logs.contains(EARLIER_DIGITS),
        "a number in the logs"
    );

    // Retention erases sealed values: the missed calls' numbers are forgotten
    // (the CTI call's events' too), the voicemail's recording destroyed and
    // its sealed file removed.
    let now = d.clock.now();
    let mut tx = d.app.db.begin().await.unwrap();
    let forgotten = store::forget_missed_callers_in(&mut tx, now, 100, now)
        .await
        .unwrap();
    assert_eq!(
        (forgotten.calls, forgotten.cti_events),
        (2, 2),
        "{forgotten:?}"
    );
    let rec_appeal = appeal_of(&d, "s-rec").await.unwrap();
    let destroyed = store::destroy_for_appeal_in(&mut tx, rec_appeal, true, now)
        .await
        .unwrap();
    assert_eq!(
        (destroyed.calls, destroyed.recordings),
        (1, 1),
        "{destroyed:?}"
    );
    tx.commit().await.unwrap();
    let numbers = store::call_numbers(&d.app.db, &unlocked, "office", "s-missed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(numbers.caller, None);
    assert_eq!(numbers.called.as_deref(), Some("+77172000000"));
    // A reseal that crashed after switching a row to its sealed file, before
    // erasing the plain one: the next purge erases it.
    let plain = &shas[2];
    let leftover = data.join("recordings").join(&plain[..2]).join(plain);
    std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
    std::fs::write(&leftover, EARLIER_UPLOAD).unwrap();
    senim::on_db!(&d.app.db, pool => sqlx::query(
        "UPDATE pbx_recordings SET unsealed_file = $1 WHERE call_id = 'plain-1'",
    )
    .bind(plain)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    let files_before = support::files::files_under(&data.join("recordings")).len();
    let removed = senim::pbx::recordings::remove_destroyed(&d.app.db, &d.app.pbx.recordings)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!leftover.exists(), "the plain leftover is erased");
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_recordings WHERE unsealed_file IS NOT NULL"
        )
        .await,
        0
    );
    let mut out = Vec::new();
    d.app
        .pbx
        .open_recording(&unlocked, "office", "plain-1")
        .await
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, EARLIER_UPLOAD, "the sealed copy stays");
    assert_eq!(
        support::files::files_under(&data.join("recordings")).len(),
        files_before - 2
    );
    assert!(
        d.app
            .pbx
            .open_recording(&unlocked, "office", "s-rec")
            .await
            .is_err(),
        "a destroyed recording no longer opens"
    );
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM pbx_calls WHERE call_id IN ('s-missed', 's-rec') AND caller_sealed IS NOT NULL").await,
        0
    );
}

/// Every sealed value of the telephone channel's own tables that is under the
/// office key: the call log's numbers, the CTI events sealed to the office key,
/// the recordings' file names.
async fn office_sealed_values(d: &TestApp) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for sql in [
        "SELECT caller_sealed FROM pbx_calls WHERE caller_sealed IS NOT NULL",
        "SELECT called_sealed FROM pbx_calls WHERE called_sealed IS NOT NULL",
        "SELECT extension_sealed FROM pbx_calls WHERE extension_sealed IS NOT NULL",
        "SELECT caller_sealed FROM pbx_cti_events WHERE sealed_to = 'office' AND caller_sealed IS NOT NULL",
        "SELECT called_sealed FROM pbx_cti_events WHERE sealed_to = 'office' AND called_sealed IS NOT NULL",
        "SELECT answered_by_sealed FROM pbx_cti_events WHERE sealed_to = 'office' AND answered_by_sealed IS NOT NULL",
        "SELECT file_name_sealed FROM pbx_recordings WHERE file_name_sealed IS NOT NULL",
    ] {
        let found: Vec<Vec<u8>> = senim::on_db!(&d.app.db, pool => sqlx::query_scalar(sql)
            .fetch_all(pool)
            .await)
        .unwrap();
        values.extend(found);
    }
    values
}

/// `senim keys rotate` (and `remove-reader`, which rotates the same way)
/// reseals the telephone channel too: every call's numbers, every CTI event
/// sealed to the office key, every recording's file name and every recording
/// file is sealed to the new generation, opens with the key to the same bytes,
/// and no longer opens with the old generation's office identity alone (what a
/// removed reader could have kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_reseals_numbers_file_names_and_recordings() {
    rotation_reseals("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_reseals_numbers_file_names_and_recordings_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    rotation_reseals(&db.url).await;
}

async fn rotation_reseals(database_url: &str) {
    let (port, _) = recording_server(DOWNLOADED);
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(CLOCK)
        .unwrap()
        .to_utc();
    let d = TestApp::spawn(dir.path(), database_url, &config(dir.path(), port), at).await;
    let data = dir.path().join("data");
    let app = &d.app;
    let keys = app.keys();
    let escrow = scene::keys_init(app, "test", async |_| {}).await;

    // Sealed to generation 1: an answered call, a CTI call made an appeal (its
    // events sealed to the office key), and two voicemails uploaded with the
    // same recording (one file) under a file name naming the caller.
    let (status, answered) = post_json(
        &d,
        "/v1/pbx/calls",
        &call(
            "r-answered",
            NUMBER,
            "answered",
            "2026-12-14T10:00:00+05:00",
            "2026-12-14T10:05:00+05:00",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answered}");
    let ev = |event: &str, extra: &str| {
        format!("event={event}&from={NATIONAL}&to=77172000000&direction=in&callId=r-cti{extra}")
    };
    post_cti(&d, &ev("newCall", "")).await;
    post_cti(&d, &ev("answer", "&answeringNumber=201")).await;
    let hangup = post_cti(&d, &ev("hangup", "&cause=normalClearing")).await;
    assert_eq!(hangup["call"]["outcome"], "appeal", "{hangup}");
    for id in ["r-upload-1", "r-upload-2"] {
        let uploaded = post_upload(
            &d,
            &call(
                id,
                NUMBER,
                "voicemail",
                "2026-12-14T21:00:00+05:00",
                "2026-12-14T21:01:00+05:00",
            ),
            &format!("in-{DIGITS}.wav"),
            UPLOADED,
        )
        .await;
        assert_eq!(uploaded["recording"], "stored");
    }
    let unlocked = keys.unlock_escrow(escrow.clone()).await.unwrap();
    // The old generation's office identity alone (a removed reader's copy)
    // opens all of it now.
    let old = unlocked.restricted_to(&[1]);
    assert_eq!(old.generations(), [1]);
    let before = office_sealed_values(&d).await;
    assert!(before.len() >= 8, "{}", before.len());
    for v in &before {
        old.open(v)
            .expect("generation 1 opens what is sealed to it");
    }
    let recordings = support::files::files_under(&data.join("recordings"));
    assert_eq!(recordings.len(), 1, "one file for the two calls");
    let sealed_before = std::fs::read(&recordings[0]).unwrap();
    assert_eq!(old.open(&sealed_before).unwrap(), UPLOADED);

    // The rotation, as `senim keys rotate` runs it.
    let rotated = senim::cli::keys::rotate(app, &unlocked, None, "test")
        .await
        .unwrap();
    assert_eq!(rotated.generation, 2);
    assert_eq!(
        (rotated.recordings, rotated.recordings_left),
        (1, 0),
        "{rotated:?}"
    );
    // Four calls' numbers, the CTI call's events, two file names.
    assert!(rotated.calls >= 4 + 1 + 2, "{rotated:?}");
    assert_eq!(app.sealer.current_generation(), Some(2));

    // Every row is on the new generation.
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_calls WHERE sealed_generation IS NOT NULL AND sealed_generation <> 2"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_calls WHERE sealed_generation = 2"
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_recordings WHERE state = 'stored' AND file_generation = 2"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_recordings WHERE file_generation IS NOT NULL AND file_generation <> 2"
        )
        .await,
        0
    );

    // The new generation alone opens every value and the file; the old one
    // opens none of them.
    let again = keys.unlock_escrow(escrow).await.unwrap();
    let new = again.restricted_to(&[2]);
    let after = office_sealed_values(&d).await;
    assert_eq!(after.len(), before.len());
    for v in &after {
        new.open(v)
            .expect("generation 2 opens every resealed value");
        assert!(
            old.open(v).is_err(),
            "a value still opens with the old generation"
        );
        assert!(!before.contains(v), "a value was not resealed");
    }
    let mut opened: Vec<Vec<u8>> = before.iter().map(|v| old.open(v).unwrap()).collect();
    let mut reopened: Vec<Vec<u8>> = after.iter().map(|v| new.open(v).unwrap()).collect();
    opened.sort();
    reopened.sort();
    assert_eq!(opened, reopened, "the same bytes, resealed");
    let files = support::files::files_under(&data.join("recordings"));
    assert_eq!(
        files, recordings,
        "the file keeps its name; no temporary left"
    );
    let sealed_after = std::fs::read(&files[0]).unwrap();
    assert_ne!(sealed_after, sealed_before);
    assert!(
        old.open(&sealed_after).is_err(),
        "the file opens with the old generation"
    );
    assert_eq!(new.open(&sealed_after).unwrap(), UPLOADED);
    for key in [&again, &new] {
        for id in ["r-upload-1", "r-upload-2"] {
            let mut out = Vec::new();
            app.pbx
                .open_recording(key, "office", id)
                .await
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, UPLOADED, "{id}");
        }
        let numbers = store::call_numbers(&app.db, key, "office", "r-cti")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (numbers.caller.as_deref(), numbers.caller_raw.as_deref()),
            (Some(NUMBER), Some(NATIONAL))
        );
        let numbers = store::call_numbers(&app.db, key, "office", "r-answered")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(numbers.caller.as_deref(), Some(NUMBER));
    }
    assert!(
        store::call_numbers(&app.db, &old, "office", "r-answered")
            .await
            .is_err()
    );
    assert!(
        app.pbx
            .open_recording(&old, "office", "r-upload-1")
            .await
            .is_err()
    );

    // Run again (as after a crash past the commit): nothing is left to reseal.
    let files_again = app
        .pbx
        .recordings
        .reseal(&app.db, &app.sealer, &again)
        .await
        .unwrap();
    assert_eq!(files_again.resealed + files_again.left, 0);

    // A crash after the file was switched but before its rows were: the rows
    // still say generation 1, the file opens all the same, and the next run
    // reseals it again.
    senim::on_db!(&app.db, pool => sqlx::query(
        "UPDATE pbx_recordings SET file_generation = 1 WHERE file_generation = 2",
    )
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    let mut out = Vec::new();
    app.pbx
        .open_recording(&again, "office", "r-upload-1")
        .await
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, UPLOADED);
    let resumed = app
        .pbx
        .recordings
        .reseal(&app.db, &app.sealer, &again)
        .await
        .unwrap();
    assert_eq!((resumed.resealed, resumed.left), (1, 0));
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_recordings WHERE file_generation = 2"
        )
        .await,
        2
    );
    let files = support::files::files_under(&data.join("recordings"));
    assert_eq!(files, recordings, "no temporary left");
    let mut out = Vec::new();
    new.open_stream(std::fs::File::open(&files[0]).unwrap())
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, UPLOADED);

    // A call made after the rotation is sealed to the new generation.
    let (status, _) = post_json(
        &d,
        "/v1/pbx/calls",
        &call(
            "r-later",
            NUMBER,
            "answered",
            "2026-12-15T10:00:00+05:00",
            "2026-12-15T10:05:00+05:00",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        count(
            &d,
            "SELECT COUNT(*) FROM pbx_calls WHERE call_id = 'r-later' AND sealed_generation = 2"
        )
        .await,
        1
    );
    assert!(app.journal.verify().await.unwrap().is_intact());
}
