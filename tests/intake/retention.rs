//! Retention end to end: appeals registered through the PBX (a call with its
//! recording uploaded, the operator's notes from the real binary) and through the
//! library (with a stored mail and a receipt), closed with `senim journal status`,
//! the clock moved past their periods; `senim journal purge --dry-run` changes
//! nothing, `senim journal purge` erases them and what the channels keep of them,
//! the audit chain records it and still verifies, and a second purge does
//! nothing. On SQLite, the database file and the data directory no longer hold
//! a byte of what was destroyed, while an appeal not yet due keeps its own.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, Utc};
use senim::app::App;
use senim::journal::{
    Amendment, AppealId, Category, Channel, JournalError, NewAppeal, Reporter, SourceRef, Status,
};
use senim::mailbox::store::{Disposition, NewMessage};
use senim::outbox::{Mail, MailKind};
use serde_json::{Value, json};
use support::app::TestApp;
use support::database::{Backend, TestDb};
use support::on_both_backends;
use support::pbx::{call_record as call, upload};
use support::scene::SCRIPT;
use support::senim::{Served, command};

const PBX_TOKEN: &str = "office-token-0123456789abcdef";

/// Registration, closing and purge: 18 and 20 November 2026, 6 January 2027.
const REGISTERED: &str = "2026-11-18T12:00:00+05:00";
const CLOSED: &str = "2026-11-20T10:00:00+05:00";
const PURGED: &str = "2027-01-06T10:00:00+05:00";

fn config() -> String {
    format!(
        r#"
[pbx]
late_tolerance_seconds = 2592000
max_recording_bytes = 10000

[[pbx.sources]]
name = "office"
token = "{PBX_TOKEN}"

[retention]
corruption_days = 365
criminal_offence_days = 365
not_corruption_days = 30
unclassified_days = 30
missed_call_days = 10
automatic_mail_days = 10
"#
    )
}

/// What the purged appeals held: none of it may survive the purge.
const PURGED_SECRETS: &[&str] = &[
    // A: the phone appeal (caller number, operator's notes, recording).
    "7015550101",
    "Жанар Purgedova",
    "Subject-A-akimat",
    "Substance-A the akim took a bribe",
    "RIFF-WAVE-recording-of-call-A",
    // B: the appeal by mail (identity, text, raw mail, attachment, receipt).
    "Berik Purgebekov",
    "7015550202",
    "berik.purge@example.kz",
    "Subject-B-tender",
    "Substance-B the tender was rigged",
    "Attachment-B-scan-of-invoice",
    "Receipt-B-body-registered",
    // M: a missed call long ago.
    "7015550404",
    // A bounce of B's receipt, long ago.
    "Bounce-B-undeliverable",
];

/// What the appeals not yet due hold: all of it stays.
const KEPT_SECRETS: &[&str] = &[
    "Kept Keptova",
    "Substance-C still open",
    "Dana Corruptova",
    "Substance-D corruption kept five years",
    // M2: a missed call of yesterday.
    "7015550505",
];

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// `senim --config <config> <args>` with its clock at `now`.
/// `senim` on the daemon's configuration at `now`, as a person who may record
/// notes and close appeals.
fn cli(config: &Path, now: &str, args: &[&str]) -> Output {
    let person = support::senim::person(config, "records", &["manager", "operator"]);
    let output = command()
        .arg("--config")
        .arg(config)
        .args(["--as", &person.login])
        .args(args)
        .env("SENIM_TOKEN", &person.token)
        .env("TEST_SENIM_CLOCK_START", now)
        .output()
        .expect("run senim");
    assert!(
        output.status.success(),
        "senim {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn post_call(d: &TestApp, record: &Value, recording: Option<&'static [u8]>) -> Value {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let request = client.post(d.url("/v1/pbx/calls")).bearer_auth(PBX_TOKEN);
    let request = match recording {
        None => request.json(record),
        Some(bytes) => request.multipart(upload(record, "call.wav", bytes)),
    };
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

async fn register(app: &App, key: &str, reporter: Reporter, subject: &str, text: &str) -> AppealId {
    let new = NewAppeal {
        received_at: app.clock.now(),
        channel: Channel::Email,
        reporter,
        subject: Some(subject.into()),
        substance: Some(text.into()),
        status: Status::Registered,
        source: SourceRef::new("test", key),
        also_known_as: Vec::new(),
        actor: "test".into(),
    };
    app.journal.register(new).await.unwrap().appeal().id
}

/// B's message as it reached the mailbox, with an attachment (base64).
fn raw_mail() -> Vec<u8> {
    // base64 of "Attachment-B-scan-of-invoice".
    let attachment = "QXR0YWNobWVudC1CLXNjYW4tb2YtaW52b2ljZQ==";
    format!(
        "From: Berik Purgebekov <berik.purge@example.kz>\r\n\
         To: trust@example.kz\r\n\
         Subject: Subject-B-tender\r\n\
         Message-ID: <b-1@example.kz>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n\
         --xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Substance-B the tender was rigged\r\n\
         --xx\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"invoice.txt\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--xx--\r\n"
    )
    .into_bytes()
}

/// Stores B's mail and queues its receipt, as the mailbox does.
async fn mail_and_receipt(app: &App, appeal: AppealId) {
    let raw = raw_mail();
    let reading = senim::mailbox::message::read(&raw, 1 << 20);
    assert_eq!(
        reading.attachments.len(),
        1,
        "the test mail has its attachment"
    );
    let now = app.clock.now();
    let mut tx = app.db.begin().await.unwrap();
    let message = NewMessage {
        source_key: "INBOX/1/7",
        raw: &raw,
        reading: &reading,
        received_at: now,
        disposition: Disposition::Appeal(appeal),
    };
    senim::mailbox::store::insert(&mut tx, &app.sealer, &message, &[], now)
        .await
        .unwrap();
    let receipt = Mail {
        kind: MailKind::Receipt,
        dedupe_key: format!("receipt:{appeal}"),
        reference: "receipt".into(),
        appeal_id: Some(appeal.0),
        to: "berik.purge@example.kz".parse().unwrap(),
        subject: "Receipt".into(),
        body: "Receipt-B-body-registered under your number".into(),
        urgent: false,
        due_by: None,
        escalate_at: None,
    };
    let from = "senim@example.kz".parse().unwrap();
    app.outbox
        .enqueue_in(&mut tx, &from, &receipt, now)
        .await
        .unwrap();
    // The receipt bounced: machine-made mail, tied to no appeal.
    let bounce = b"From: MAILER-DAEMON@example.kz\r\nTo: trust@example.kz\r\n\
        Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n\
        Message-ID: <bounce-1@example.kz>\r\n\r\n\
        Bounce-B-undeliverable: <berik.purge@example.kz> mailbox full\r\n";
    let reading = senim::mailbox::message::read(bounce, 1 << 20);
    let message = NewMessage {
        source_key: "INBOX/1/8",
        raw: bounce,
        reading: &reading,
        received_at: now,
        disposition: Disposition::Automatic,
    };
    senim::mailbox::store::insert(&mut tx, &app.sealer, &message, &[], now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The first file under `dir` whose bytes hold `secret`.
fn holds(dir: &Path, secret: &str) -> Option<PathBuf> {
    support::files::grep_first(dir, secret)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The number of events in the chain, as `verify` reports it.
fn verified_events(config: &Path, now: &str) -> u64 {
    let out = stdout(&cli(config, now, &["journal", "verify"]));
    assert!(out.contains("journal intact"), "{out}");
    out.split(", ")
        .find_map(|part| part.strip_suffix(" event(s)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no event count in {out}"))
}

async fn purge_end_to_end(backend: Backend) {
    static RECORDING: &[u8] = b"RIFF-WAVE-recording-of-call-A and its audio";
    let dir = tempfile::tempdir().unwrap();
    let test_db = support::database::daemon_db(backend).await;
    let url = support::database::daemon_url(&test_db);
    let d = TestApp::spawn(dir.path(), url, &config(), at(REGISTERED)).await;
    let app = d.app.clone();
    let config = d.config_path().to_owned();

    // A: an answered call with its recording; M: a missed call (logged only).
    let a = post_call(
        &d,
        &call(
            "call-a",
            "+77015550101",
            "answered",
            "2026-11-18T11:00:00+05:00",
            "2026-11-18T11:04:00+05:00",
        ),
        Some(RECORDING),
    )
    .await;
    assert_eq!(a["outcome"], "appeal", "{a}");
    assert_eq!(a["recording"], "stored", "{a}");
    let a_number = a["registration_number"].as_str().unwrap().to_owned();
    let a_id = AppealId(a["appeal_id"].as_i64().unwrap());
    let m = post_call(
        &d,
        &call(
            "call-m",
            "+77015550404",
            "no_answer",
            "2026-11-18T11:10:00+05:00",
            "2026-11-18T11:10:30+05:00",
        ),
        None,
    )
    .await;
    assert_eq!(m["outcome"], "logged", "{m}");
    // The operator's notes, from the real binary.
    cli(
        &config,
        REGISTERED,
        &[
            "journal",
            "record-call",
            &a_number,
            "--name",
            "Жанар Purgedova",
            "--subject",
            "Subject-A-akimat",
            "--substance",
            "Substance-A the akim took a bribe",
            "--said",
            &SCRIPT.join(","),
        ],
    );

    // B by mail (through the library), with its raw mail and receipt; C still
    // open; D closed but kept five years as corruption.
    let b_id = register(
        &app,
        "b",
        Reporter {
            name: Some("Berik Purgebekov".into()),
            phone: Some("+77015550202".into()),
            email: Some("berik.purge@example.kz".into()),
            ..Reporter::default()
        },
        "Subject-B-tender",
        "Substance-B the tender was rigged",
    )
    .await;
    mail_and_receipt(&app, b_id).await;
    let c_id = register(
        &app,
        "c",
        Reporter {
            name: Some("Kept Keptova".into()),
            ..Reporter::default()
        },
        "Subject-C",
        "Substance-C still open",
    )
    .await;
    let d_id = register(
        &app,
        "d",
        Reporter {
            name: Some("Dana Corruptova".into()),
            ..Reporter::default()
        },
        "Subject-D",
        "Substance-D corruption kept five years",
    )
    .await;
    app.journal
        .amend(
            d_id,
            Amendment::Classify {
                category: Category::Corruption,
                reason: "a bribe".into(),
            },
            "test",
        )
        .await
        .unwrap();
    let number = |id: AppealId| {
        let journal = app.journal.clone();
        async move {
            journal
                .get(id)
                .await
                .unwrap()
                .registration_number
                .to_string()
        }
    };
    let b_number = number(b_id).await;
    let c_number = number(c_id).await;
    let d_number = number(d_id).await;

    // Closed on 20 November.
    d.clock.set(at(CLOSED));
    for n in [&a_number, &b_number, &d_number] {
        let out = stdout(&cli(
            &config,
            CLOSED,
            &["journal", "status", n, "closed", "--reason", "answered"],
        ));
        assert!(out.contains("status closed"), "{out}");
    }
    // A purge now finds nothing due: the periods run from the closing.
    let out = stdout(&cli(&config, CLOSED, &["journal", "purge"]));
    assert!(out.contains("0 appeal(s)"), "{out}");

    // 6 January: A and B are 47 days closed (30 kept), D is not (365), M is 49
    // days old (10 kept); M2, a missed call of yesterday, is not.
    d.clock.set(at(PURGED));
    post_call(
        &d,
        &call(
            "call-m2",
            "+77015550505",
            "busy",
            "2027-01-05T09:00:00+05:00",
            "2027-01-05T09:00:10+05:00",
        ),
        None,
    )
    .await;
    let events_before = verified_events(&config, PURGED);
    let recording = dir
        .path()
        .join("data/recordings")
        .join(&sha256_hex(RECORDING)[..2])
        .join(sha256_hex(RECORDING));
    assert!(recording.exists());
    if backend == Backend::Sqlite {
        // The check below can fail: before the purge, the bytes are there.
        let data = dir.path().join("data");
        for secret in [
            "Жанар Purgedova",
            "Attachment-B-scan-of-invoice",
            "7015550404",
            "Bounce-B-undeliverable",
        ] {
            assert!(holds(&data, secret).is_some(), "{secret} not stored at all");
        }
    }

    // The dry run names what is due, in numbers and counts, and changes nothing.
    let dry = stdout(&cli(&config, PURGED, &["journal", "purge", "--dry-run"]));
    assert!(dry.contains(&a_number) && dry.contains(&b_number), "{dry}");
    assert!(
        !dry.contains(&c_number) && !dry.contains(&d_number),
        "{dry}"
    );
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");
    // Counted from the closing (20 November), not the registration.
    assert!(dry.contains("(closed 2026-11-20, unclassified)"), "{dry}");
    assert!(dry.contains("pbx_recordings 1"), "{dry}");
    assert!(dry.contains("mail_attachments 1"), "{dry}");
    assert!(dry.contains("the numbers of 1 call(s)"), "{dry}");
    assert!(dry.contains("auto-replies): would destroy 1"), "{dry}");
    for secret in PURGED_SECRETS {
        assert!(!dry.contains(secret), "the dry run printed {secret}: {dry}");
    }
    assert_eq!(verified_events(&config, PURGED), events_before);
    let a_now = app.journal.get(a_id).await.unwrap();
    assert_eq!(a_now.reporter.name.as_deref(), Some("Жанар Purgedova"));
    assert!(recording.exists(), "the dry run removed the recording");
    assert_eq!(
        senim::mailbox::store::list(&app.db).await.unwrap()[0]
            .body_text
            .as_deref()
            .map(|t| t.contains("Substance-B")),
        Some(true)
    );

    // The purge.
    let out = stdout(&cli(&config, PURGED, &["journal", "purge"]));
    assert!(out.contains(&a_number) && out.contains(&b_number), "{out}");
    assert!(out.contains("2 appeal(s): 2 destroyed whole"), "{out}");
    assert!(out.contains("recording files: removed 1"), "{out}");
    assert!(out.contains("auto-replies): destroyed 1"), "{out}");
    for secret in PURGED_SECRETS {
        assert!(!out.contains(secret), "the purge printed {secret}: {out}");
    }
    for id in [a_id, b_id] {
        let appeal = app.journal.get(id).await.unwrap();
        assert_eq!(appeal.reporter, Reporter::default(), "{id}");
        assert_eq!((appeal.subject, appeal.substance), (None, None), "{id}");
        assert_eq!(appeal.status, Status::Closed);
        let history = app.journal.history(id).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.kind, "destroyed");
        let detail: Value = serde_json::from_str(&last.detail).unwrap();
        assert!(
            detail["erased"]
                .as_array()
                .unwrap()
                .contains(&json!("reporter.name")),
            "{detail}"
        );
        assert!(
            detail["reason"]
                .as_str()
                .unwrap()
                .contains("retention.unclassified_days")
        );
    }
    let a_history = app.journal.history(a_id).await.unwrap();
    let detail: Value = serde_json::from_str(&a_history.last().unwrap().detail).unwrap();
    assert_eq!(detail["elsewhere"]["pbx_recordings"], 1, "{detail}");
    assert_eq!(detail["elsewhere"]["pbx_calls"], 1, "{detail}");
    for (id, name) in [(c_id, "Kept Keptova"), (d_id, "Dana Corruptova")] {
        let kept = app.journal.get(id).await.unwrap();
        assert_eq!(kept.reporter.name.as_deref(), Some(name));
    }
    assert!(!recording.exists(), "the recording's file is still there");
    let show = stdout(&cli(&config, PURGED, &["journal", "show", &a_number]));
    assert!(show.contains("destroyed"), "{show}");
    assert!(!show.contains("Purgedova"), "{show}");
    // A destroyed appeal takes no identity again.
    let again = app
        .journal
        .amend(
            a_id,
            Amendment::Details {
                reporter: None,
                subject: Some("new".into()),
                substance: None,
            },
            "test",
        )
        .await;
    assert!(
        matches!(again, Err(JournalError::NotAllowed(_))),
        "{again:?}"
    );
    let mail = &senim::mailbox::store::list(&app.db).await.unwrap()[0];
    assert_eq!((&mail.subject, &mail.body_text), (&None, &None));
    assert_eq!(
        senim::mailbox::store::raw(&app.db, senim::mailbox::store::MessagePk(mail.id))
            .await
            .unwrap(),
        Some(Vec::new())
    );
    let receipt = app.outbox.list(None, 10).await.unwrap();
    assert!(
        receipt.iter().all(|m| m.recipient.is_empty()),
        "{receipt:?}"
    );

    // The chain verifies, and a second purge does nothing.
    let events_after = verified_events(&config, PURGED);
    assert_eq!(events_after, events_before + 2);
    let second = stdout(&cli(&config, PURGED, &["journal", "purge"]));
    assert!(second.contains("0 appeal(s)"), "{second}");
    assert!(second.contains("the numbers of 0 call(s)"), "{second}");
    assert!(second.contains("recording files: removed 0"), "{second}");
    assert!(second.contains("auto-replies): destroyed 0"), "{second}");
    assert_eq!(verified_events(&config, PURGED), events_after);

    // A purge killed after its commit, before the file went: the next run
    // removes it (and a missing file is no error).
    std::fs::write(&recording, RECORDING).unwrap();
    senim::on_db!(&app.db, pool => sqlx::query("UPDATE pbx_recordings SET file_removed = FALSE")
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    let dry = stdout(&cli(&config, PURGED, &["journal", "purge", "--dry-run"]));
    assert!(dry.contains("interrupted purge: 1"), "{dry}");
    let rerun = stdout(&cli(&config, PURGED, &["journal", "purge"]));
    assert!(rerun.contains("recording files: removed 1"), "{rerun}");
    assert!(!recording.exists());

    // Nothing the purge destroyed was ever logged.
    let logs = support::app::logs();
    for secret in PURGED_SECRETS {
        assert!(!logs.contains(secret), "logged: {secret}");
    }

    d.stop().await;
    app.db.close().await;
    if backend == Backend::Sqlite {
        // The bytes of the database (its WAL checkpointed by the purge, and by
        // the close) and of every file in the data directory.
        let data = dir.path().join("data");
        for secret in PURGED_SECRETS {
            assert_eq!(holds(&data, secret), None, "{secret} survived the purge");
        }
        for secret in KEPT_SECRETS {
            assert!(
                holds(&data, secret).is_some(),
                "{secret} (not due) was destroyed"
            );
        }
    }
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] purge_end_to_end => purge_destroys_what_is_due_and_nothing_else_sqlite, purge_destroys_what_is_due_and_nothing_else_postgres);

/// The daemon assembled on `test_db` with `config` (its data in the database's
/// temporary directory), its clock pinned at registration time.
fn assembled(
    test_db: &TestDb,
    mut config: senim::config::Config,
) -> (App, senim::clock::FixedClock) {
    let clock = senim::clock::FixedClock::at(at(REGISTERED));
    config.database.data_dir = test_db.dir.path().join("data");
    let app = App::assemble(
        config,
        test_db.db.clone(),
        std::sync::Arc::new(clock.clone()),
    )
    .unwrap();
    (app, clock)
}

/// A purge never touches an appeal that is not closed, however old.
#[tokio::test]
async fn only_appeals_whose_case_ended_are_destroyed() {
    let test_db = TestDb::sqlite().await;
    let (app, clock) = assembled(&test_db, senim::config::Config::default());
    let id = register(
        &app,
        "open",
        Reporter {
            name: Some("Open Case".into()),
            ..Reporter::default()
        },
        "s",
        "t",
    )
    .await;
    clock.set(at("2040-01-01T00:00:00Z"));
    let report = app.retention().purge(false, "test").await.unwrap();
    assert!(report.appeals.is_empty());
    let refused = app
        .journal
        .amend(
            id,
            Amendment::Destroyed {
                reason: "by hand".into(),
                elsewhere: Default::default(),
            },
            "test",
        )
        .await;
    assert!(
        matches!(&refused, Err(JournalError::NotAllowed(m)) if m.contains("only an appeal whose case has ended")),
        "{refused:?}"
    );
    assert_eq!(
        app.journal.get(id).await.unwrap().reporter.name.as_deref(),
        Some("Open Case")
    );
    // Found "not considered" and never closed: the case ended there, and its
    // period runs from that day, as from a closing.
    use senim::clock::Clock as _;
    let today = clock
        .now()
        .with_timezone(&chrono_tz::Asia::Almaty)
        .date_naive();
    app.case()
        .record(
            id,
            &senim::cases::Act::NotConsidered {
                reason: "no facts (6.3)".into(),
            },
            &support::rules::permitted_as(senim::rulebook::Action::NotConsider, "person:manager"),
            clock.now(),
            today,
        )
        .await
        .unwrap();
    clock.set(at("2043-06-01T00:00:00Z"));
    let report = app.retention().purge(false, "test").await.unwrap();
    assert_eq!(report.appeals.len(), 1, "the ended case is purged");
    assert_eq!(app.journal.get(id).await.unwrap().reporter.name, None);
}

/// `retention.raw_mail_days` shorter than the appeal's period: the raw mail and
/// its attachments go first, the appeal (and the mail's parsed text) later.
#[tokio::test]
async fn raw_mail_may_go_before_the_appeal() {
    let test_db = TestDb::sqlite().await;
    let mut config = senim::config::Config::default();
    config.retention.unclassified_days = senim::config::Days::new(30);
    config.retention.raw_mail_days = Some(senim::config::Days::new(5));
    let (app, clock) = assembled(&test_db, config);
    let id = register(
        &app,
        "b",
        Reporter {
            name: Some("Berik Purgebekov".into()),
            ..Reporter::default()
        },
        "Subject-B-tender",
        "Substance-B the tender was rigged",
    )
    .await;
    mail_and_receipt(&app, id).await;
    clock.set(at(CLOSED));
    app.journal
        .amend(
            id,
            Amendment::Status {
                status: Status::Closed,
                reason: None,
            },
            "test",
        )
        .await
        .unwrap();

    // Ten days on: the raw mail is due, the appeal is not.
    clock.set(at(CLOSED) + chrono::Duration::days(10));
    let report = app.retention().purge(false, "test").await.unwrap();
    assert_eq!(report.appeals.len(), 1);
    let done = &report.appeals[0];
    assert!(!done.whole);
    assert_eq!((done.mail.messages, done.mail.attachments), (1, 1));
    let mail = &senim::mailbox::store::list(&app.db).await.unwrap()[0];
    let pk = senim::mailbox::store::MessagePk(mail.id);
    assert_eq!(
        senim::mailbox::store::raw(&app.db, pk).await.unwrap(),
        Some(Vec::new())
    );
    assert!(
        mail.body_text.is_some(),
        "the parsed text goes with the appeal"
    );
    let appeal = app.journal.get(id).await.unwrap();
    assert_eq!(appeal.reporter.name.as_deref(), Some("Berik Purgebekov"));
    let history = app.journal.history(id).await.unwrap();
    assert_eq!(history.last().unwrap().kind, "status_changed");
    // Nothing more to do until the appeal's own period ends.
    let again = app.retention().purge(false, "test").await.unwrap();
    assert!(again.appeals.is_empty(), "{:?}", again.appeals);

    clock.set(at(CLOSED) + chrono::Duration::days(31));
    let report = app.retention().purge(false, "test").await.unwrap();
    assert_eq!(report.appeals.len(), 1);
    assert!(report.appeals[0].whole);
    let mail = &senim::mailbox::store::list(&app.db).await.unwrap()[0];
    assert_eq!((&mail.subject, &mail.body_text), (&None, &None));
    assert_eq!(
        app.journal.get(id).await.unwrap().reporter,
        Reporter::default()
    );
    assert!(app.journal.verify().await.unwrap().is_intact());
}
