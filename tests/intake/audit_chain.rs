//! The audit chain against someone who holds the database but not the keys (a
//! database administrator, a stolen backup): they drop the append-only
//! triggers, erase an appeal's identity and the event that recorded it, recompute
//! every hash with the published algorithm and put the triggers back; or append
//! events and move the head; or delete the newest appeal and set the head back to
//! an earlier signed one; or edit and delete deadlines. The head's signature
//! (`journal.signing_key_file`), the heads the daemon publishes every
//! `journal.head_publish_seconds` and the deadlines' signatures catch each, and
//! an auditor checks all of it with the public key alone.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::clock::SystemClock;
use senim::db::Db;
use senim::journal::audit::{self, ChainKey, EventRow};
use senim::journal::{Amendment, AppealId, Channel, Journal, NewAppeal, Reporter, SourceRef};
use support::on_both_backends;
use support::scene;
use support::senim::{run_cli, write_config};

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A Journal with the chain key `key`; `signed`: with the signing key derived
/// from it, as the daemon has it (its chain public from its first write).
fn journal_signed(db: &Db, key: Option<&str>, signed: bool) -> Journal {
    let chain_key = key.map(|k| ChainKey::new(k.as_bytes()).unwrap());
    let authority = chain_key
        .as_ref()
        .filter(|_| signed)
        .map(|k| Arc::new(k.derived_authority().unwrap()));
    let keys = senim::journal::accepted_keys(authority.as_deref(), chain_key.as_ref());
    let deadlines =
        senim::deadlines::Deadlines::new(db.clone(), calendar()).signed_by(authority.clone(), keys);
    journal(db, key)
        .signed_by(authority)
        .followed_by(Arc::new(deadlines))
}

fn calendar() -> Arc<Calendar> {
    let hours = WorkingHours {
        tz: chrono_tz::Asia::Almaty,
        opens: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        closes: chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    };
    Arc::new(Calendar::new(hours, CalendarData::embedded()))
}

fn journal(db: &Db, key: Option<&str>) -> Journal {
    Journal::new(db.clone(), calendar(), Arc::new(SystemClock), "TL")
        .keyed_with(key.map(|k| ChainKey::new(k.as_bytes()).unwrap()))
}

/// A daemon's configuration and SQLite database with three appeals, the second
/// with a reporter's identity recorded after registration; `signed`: written by
/// this version (its head signed), else by one from before the signing key.
async fn seed(dir: &Path, key: Option<&str>, signed: bool) -> (PathBuf, Db) {
    let key_file = dir.join("chain.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let extra = if key.is_some() {
        format!("[journal]\nchain_key_file = \"{}\"\n", key_file.display())
    } else {
        String::new()
    };
    let config = write_config(dir, support::ports::free_port(), "", &extra);
    let db =
        support::database::connect(&format!("sqlite://{}", dir.join("data/senim.db").display()))
            .await;
    let journal = journal_signed(&db, key, signed);
    for i in 0..3u32 {
        let received_at = chrono_tz::Asia::Almaty
            .with_ymd_and_hms(2026, 11, 16 + i, 10, 0, 0)
            .unwrap()
            .to_utc();
        journal
            .register(NewAppeal {
                channel: Channel::Phone,
                substance: Some("Взятка за справку".into()),
                ..scene::new_appeal(SourceRef::new("seed", i.to_string()), received_at)
            })
            .await
            .unwrap();
    }
    let details = Amendment::Details {
        reporter: Some(Reporter {
            name: Some("Айгүл Серікқызы".into()),
            phone: Some("+77011234567".into()),
            ..Reporter::default()
        }),
        subject: None,
        substance: None,
    };
    journal
        .amend(AppealId(2), details, "operator:test")
        .await
        .unwrap();
    (config, db)
}

async fn sql(db: &Db, statement: &str) {
    senim::on_db!(db, pool => sqlx::query(statement).execute(pool).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// The forger: erases appeal 2's identity and the event that recorded it, then
/// recomputes the whole chain with `key` (the forger's guess; not the real key)
/// and marks the chain `keyed` as given.
async fn rewrite_chain(db: &Db, key: Option<&ChainKey>, keyed: bool) {
    sql(db, "DROP TRIGGER appeal_events_no_update").await;
    sql(db, "DROP TRIGGER appeal_events_no_delete").await;
    sql(db, "UPDATE appeals SET reporter_name = NULL, reporter_phone = NULL, anonymous = 1, no_return_address = 1 WHERE id = 2").await;
    sql(
        db,
        "DELETE FROM appeal_events WHERE kind = 'details_recorded'",
    )
    .await;
    let events: Vec<EventRow> = senim::on_db!(db, pool => sqlx::query_as(
        "SELECT seq, appeal_id, at, actor, kind, detail, state_hash, prev_hash, hash FROM appeal_events ORDER BY seq",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    let reader = journal(db, None);
    let mut prev = audit::GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let seq = i as i64 + 1;
        // The appeal's row as it now is, for its last event.
        let state = audit::state_hash(&reader.get(AppealId(e.appeal_id)).await.unwrap());
        let hash = audit::event_hash(
            key,
            &prev,
            seq,
            e.appeal_id,
            e.at,
            &e.actor,
            &e.kind,
            &e.detail,
            &state,
        );
        senim::on_db!(db, pool => sqlx::query(
            "UPDATE appeal_events SET seq = $1, prev_hash = $2, hash = $3, state_hash = $4 WHERE seq = $5",
        )
        .bind(seq)
        .bind(&prev)
        .bind(&hash)
        .bind(&state)
        .bind(e.seq)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        prev = hash;
    }
    senim::on_db!(db, pool => sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, keyed = $3 WHERE id = 1")
        .bind(events.len() as i64)
        .bind(&prev)
        .bind(keyed)
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    sql(db, "CREATE TRIGGER appeal_events_no_update BEFORE UPDATE ON appeal_events BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END").await;
    sql(db, "CREATE TRIGGER appeal_events_no_delete BEFORE DELETE ON appeal_events BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END").await;
}

/// Without a key the forgery passes: this is the attack the key is for.
#[tokio::test]
async fn an_unkeyed_chain_cannot_tell_a_careful_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = seed(dir.path(), None, false).await;
    rewrite_chain(&db, None, false).await;
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
}

/// The forger recomputes the chain with plain SHA-256 (the algorithm events
/// after the switch point are hashed with) or with a key of their own, and moves
/// the head: its signature no longer verifies, with the chain key or without.
#[tokio::test]
async fn a_signed_head_and_published_heads_catch_a_rewrite_without_the_signing_key() {
    for keyed_claim in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (config, db) = seed(dir.path(), Some(KEY), true).await;
        // The auditors keep the head, signed, outside the database.
        let heads = dir.path().join("heads.jsonl");
        let published = run_cli(
            &config,
            &[
                "journal",
                "publish-head",
                "--append",
                heads.to_str().unwrap(),
            ],
        );
        crate::support::senim::assert_succeeded(&published);
        let intact = run_cli(
            &config,
            &["journal", "verify", "--heads", heads.to_str().unwrap()],
        );
        assert!(intact.status.success(), "{}", stdout(&intact));
        assert!(stdout(&intact).contains("journal intact: 3 appeal(s), 4 event(s)"));

        // The forger recomputes the chain, with SHA-256 or a key of their own.
        let guess = ChainKey::new(b"the forger does not have the real key".to_vec()).unwrap();
        rewrite_chain(&db, keyed_claim.then_some(&guess), keyed_claim).await;

        let verify = run_cli(&config, &["journal", "verify"]);
        assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
        let report = stdout(&verify);
        assert!(
            report.contains("chain head: is not signed by the signing key"),
            "{report}"
        );
        if keyed_claim {
            assert!(
                report.contains("was edited (hash does not match its contents)"),
                "{report}"
            );
        }
        let with_heads = run_cli(
            &config,
            &["journal", "verify", "--heads", heads.to_str().unwrap()],
        );
        assert_eq!(with_heads.status.code(), Some(1));
        assert!(
            stdout(&with_heads).contains("published head 4")
                && stdout(&with_heads).contains("events were deleted"),
            "{}",
            stdout(&with_heads)
        );
    }
}

/// An existing unkeyed chain is keyed once, after it verifies; the daemon will
/// not start while the configured key and the stored chain disagree; a forged
/// head line is refused.
#[tokio::test]
async fn an_existing_chain_is_keyed_once_and_forged_heads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (plain_config, _db) = seed(dir.path(), None, false).await;
    let keyed_config = dir.path().join("keyed.toml");
    let text = std::fs::read_to_string(&plain_config).unwrap()
        + &format!(
            "[journal]\nchain_key_file = \"{}\"\n",
            dir.path().join("chain.key").display()
        );
    std::fs::write(&keyed_config, text).unwrap();

    let refused = support::senim::command()
        .args(["--config", keyed_config.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("senim journal key-chain"));

    // A chain key without a signing key of its own: check-config says so.
    let checked = run_cli(&keyed_config, &["check-config"]);
    assert!(checked.status.success());
    assert!(
        String::from_utf8_lossy(&checked.stderr).contains(
            "the signing key is derived from the chain key: set journal.signing_key_file"
        ),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let keyed = run_cli(&keyed_config, &["journal", "key-chain"]);
    crate::support::senim::assert_succeeded(&keyed);
    assert!(stdout(&keyed).contains("audit chain keyed: 4 event(s)"));
    let verify = run_cli(&keyed_config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    // Keyed, the chain cannot be checked (or written) without its key.
    let without = run_cli(&plain_config, &["journal", "verify"]);
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("chain_key_file"));
    let again = run_cli(&keyed_config, &["journal", "key-chain"]);
    assert_eq!(again.status.code(), Some(2));

    // A head line signed by another key is a finding.
    let head = stdout(&run_cli(&keyed_config, &["journal", "publish-head"]));
    let mut forged: serde_json::Value = serde_json::from_str(head.trim()).unwrap();
    forged["hash"] = serde_json::json!("00".repeat(32));
    let heads = dir.path().join("forged.jsonl");
    std::fs::write(&heads, format!("{head}{forged}\n")).unwrap();
    let checked = run_cli(
        &keyed_config,
        &["journal", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        stdout(&checked).contains("is not signed by this chain's key"),
        "{}",
        stdout(&checked)
    );
    let key = stdout(&run_cli(&keyed_config, &["journal", "head-key"]));
    assert_eq!(key.trim(), forged["public_key"].as_str().unwrap());
}

/// `key-chain` lifts the append-only guard only inside its own transaction, on
/// PostgreSQL too: the keyed chain verifies, and the guard is back afterwards.
#[tokio::test]
async fn keying_works_on_postgres_and_restores_the_append_only_guard() {
    let db = support::database::TestDb::postgres().await;
    let plain = journal(&db.db, None);
    plain
        .register(NewAppeal {
            substance: Some("text".into()),
            ..scene::new_appeal(
                SourceRef::new("seed", "pg"),
                chrono::Utc.with_ymd_and_hms(2026, 11, 30, 5, 0, 0).unwrap(),
            )
        })
        .await
        .unwrap();
    let keyed = journal(&db.db, Some(KEY));
    assert_eq!(keyed.key_chain().await.unwrap(), 1);
    let report = keyed.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    let edit = senim::on_db!(&db.db, pool => sqlx::query("UPDATE appeal_events SET actor = 'x'").execute(pool).await.map(|_| ()));
    assert!(edit.is_err(), "appeal_events is append-only again");
    assert!(plain.verify().await.is_err(), "a keyed chain needs its key");
}

// ---------------------------------------------------------------------------
// The daemon: the head signed at every write and published every second to a
// file; the database administrator on SQLite and PostgreSQL.

use support::app::TestApp;
use support::database::{Backend, TestDb};

/// The signing key, in a file of its own (`journal.signing_key_file`).
const SIGNING: &str = "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f5";

/// The keys and the heads file of a daemon in `dir`, as `[journal]` TOML.
fn keys_config(dir: &Path) -> String {
    let chain = dir.join("chain.key");
    let signing = dir.join("signing.key");
    std::fs::write(&chain, format!("{KEY}\n")).unwrap();
    std::fs::write(&signing, format!("{SIGNING}\n")).unwrap();
    format!(
        "[journal]\nchain_key_file = \"{}\"\nsigning_key_file = \"{}\"\n\
         published_heads_file = \"{}\"\nhead_publish_seconds = 1\n",
        chain.display(),
        signing.display(),
        dir.join("heads.jsonl").display()
    )
}

/// A configuration in a directory of its own for the database at `url` with
/// `journal` as its `[journal]` table: the auditor's (no key), the signer's.
fn other_config(url: &str, journal: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), support::ports::free_port(), url, journal);
    (dir, config)
}

fn new_appeal(i: u32, email: Option<&str>) -> NewAppeal {
    NewAppeal {
        reporter: Reporter {
            email: email.map(str::to_owned),
            ..Reporter::default()
        },
        substance: Some("Взятка за справку".into()),
        ..scene::new_appeal(
            SourceRef::new("seed", i.to_string()),
            chrono::Utc.with_ymd_and_hms(2026, 11, 16, 5, i, 0).unwrap(),
        )
    }
}

/// The stored head: seq, hash, switch point, signature.
async fn stored_head(db: &Db) -> (i64, String, Option<i64>, Option<String>) {
    senim::on_db!(db, pool => sqlx::query_as(
        "SELECT seq, hash, public_from, head_signature FROM audit_head WHERE id = 1",
    )
    .fetch_one(pool)
    .await)
    .unwrap()
}

/// Waits until the heads file's last line is the head at `seq` (the daemon
/// appends it within `journal.head_publish_seconds`).
async fn published_up_to(file: &Path, seq: i64) {
    let what = format!("the daemon publishing the head at event {seq}");
    crate::support::eventually::until(std::time::Duration::from_secs(60), &what, async || {
        let last = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.lines().last().map(str::to_owned))
            .and_then(|l| serde_json::from_str::<audit::SignedHead>(&l).ok());
        last.is_some_and(|h| h.seq == seq)
    })
    .await;
}

/// What the database administrator runs, each statement on its own; those that
/// do not apply to a backend (a trigger of the other's) fail and are skipped.
async fn as_dba(db: &Db, statements: &[&str]) {
    for statement in statements {
        let _ = senim::on_db!(db, pool => sqlx::query(statement).execute(pool).await.map(|_| ()));
    }
}

const DROP_GUARDS: &[&str] = &[
    "DROP TRIGGER appeal_events_no_update",
    "DROP TRIGGER appeal_events_no_delete",
    "ALTER TABLE appeal_events DISABLE TRIGGER appeal_events_append_only",
];

/// Deletes appeal `id` and everything that names it, as the administrator would.
async fn delete_appeal(db: &Db, id: i64) {
    as_dba(db, DROP_GUARDS).await;
    for table in [
        "appeal_events",
        "appeal_sources",
        "deadlines",
        "deadline_seals",
        "deadline_events",
        "outbox",
        "alert_marks",
        "appeal_envelopes",
        "appeal_earlier_values",
    ] {
        as_dba(
            db,
            &[&format!("DELETE FROM {table} WHERE appeal_id = {id}")],
        )
        .await;
    }
    sql(db, &format!("DELETE FROM appeals WHERE id = {id}")).await;
}

async fn set_head(db: &Db, seq: i64, hash: &str, signature: Option<&str>) {
    senim::on_db!(db, pool => sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, head_signature = $3 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .bind(signature)
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
}

/// A daemon in `dir` with the keys and the heads file (`keys_config`), on a
/// fresh database of `backend`.
async fn keyed_daemon(dir: &Path, backend: Backend) -> (Option<TestDb>, TestApp) {
    let test_db = support::database::daemon_db(backend).await;
    let url = support::database::daemon_url(&test_db);
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 17, 5, 0, 0).unwrap();
    let d = TestApp::spawn(dir, url, &keys_config(dir), at).await;
    (test_db, d)
}

/// The newest appeal deleted with its events and rows, and the head set back:
/// to a head the administrator made, caught by its signature; to an earlier
/// head the daemon signed, caught by the heads the daemon published to the file.
async fn the_deleted_newest_appeal_is_caught(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (test_db, d) = keyed_daemon(dir.path(), backend).await;
    let db = d.app.db.clone();
    let config = d.config.clone();
    let heads = dir.path().join("heads.jsonl");
    let url = db_url(&test_db, dir.path());
    for i in 0..2 {
        d.app
            .journal
            .register(new_appeal(i, Some("a@example.kz")))
            .await
            .unwrap();
    }
    // The administrator keeps the head as it was before the newest appeal.
    let (earlier_seq, earlier_hash, public_from, earlier_signature) = stored_head(&db).await;
    assert_eq!(
        public_from,
        Some(1),
        "the daemon's start made the chain public"
    );
    let newest = d
        .app
        .journal
        .register(new_appeal(2, Some("b@example.kz")))
        .await
        .unwrap();
    let (seq, ..) = stored_head(&db).await;
    published_up_to(&heads, seq).await;
    d.stop().await;
    let db = support::database::connect(&url).await;
    let verify = run_cli(
        &config,
        &["journal", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert!(verify.status.success(), "{}", stdout(&verify));

    delete_appeal(&db, newest.appeal().id.0).await;
    // A head made by hand (the last event left, the signature it had) is found
    // without the heads file: it is not signed.
    let (_, _, _, signature) = stored_head(&db).await;
    set_head(&db, earlier_seq, &earlier_hash, signature.as_deref()).await;
    let forged = run_cli(&config, &["journal", "verify"]);
    assert_eq!(forged.status.code(), Some(1), "{}", stdout(&forged));
    assert!(
        stdout(&forged).contains("chain head: is not signed by the signing key"),
        "{}",
        stdout(&forged)
    );

    // Set back to the earlier head the daemon signed, it verifies by itself...
    set_head(
        &db,
        earlier_seq,
        &earlier_hash,
        earlier_signature.as_deref(),
    )
    .await;
    let alone = run_cli(&config, &["journal", "verify"]);
    assert!(alone.status.success(), "{}", stdout(&alone));
    // ...but the published heads name the deletion.
    let checked = run_cli(
        &config,
        &["journal", "verify", "--heads", heads.to_str().unwrap()],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", stdout(&checked));
    let report = stdout(&checked);
    assert!(
        report.contains(&format!("published head {seq}"))
            && report.contains("names an event the log no longer has: events were deleted"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "chain head: is at event {earlier_seq} but the newest published head"
        )),
        "{report}"
    );
    // And so does the auditor, with the public key alone.
    let key = stdout(&run_cli(&config, &["journal", "head-key"]));
    let (_auditor_dir, auditor) = other_config(&url, "");
    let audited = run_cli(
        &auditor,
        &[
            "journal",
            "verify",
            "--public-key",
            key.trim(),
            "--heads",
            heads.to_str().unwrap(),
        ],
    );
    assert_eq!(audited.status.code(), Some(1), "{}", stdout(&audited));
    assert!(
        stdout(&audited).contains("events were deleted"),
        "{}",
        stdout(&audited)
    );
}

/// The database URL of a test's daemon, for a configuration in another directory.
fn db_url(test_db: &Option<TestDb>, dir: &Path) -> String {
    match test_db {
        Some(t) => t.url.clone(),
        None => format!("sqlite://{}", dir.join("data/senim.db").display()),
    }
}

on_both_backends!(#[tokio::test] the_deleted_newest_appeal_is_caught => the_deleted_newest_appeal_is_caught_on_sqlite, the_deleted_newest_appeal_is_caught_on_postgres);

/// A deadline's due date moved, a deadline deleted, an appeal's deadlines and
/// their signed list deleted: `verify` names each; the board refuses to show
/// deadlines that disagree with their signature, and so does a write on them.
async fn edited_and_deleted_deadlines_are_reported(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (test_db, d) = keyed_daemon(dir.path(), backend).await;
    let db = d.app.db.clone();
    let config = d.config.clone();
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = d
            .app
            .journal
            .register(new_appeal(i, Some("a@example.kz")))
            .await
            .unwrap();
        ids.push(r.appeal().id.0);
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
    assert!(d.app.deadlines.board(today).await.is_ok());
    let intact = run_cli(&config, &["journal", "verify"]);
    assert!(intact.status.success(), "{}", stdout(&intact));

    // The triage of the first appeal (due yesterday: overdue) met by hand.
    sql(
        &db,
        &format!(
            "UPDATE deadlines SET met_on = due_on WHERE appeal_id = {} AND kind = 'triage'",
            ids[0]
        ),
    )
    .await;
    // The reply of the second given more time.
    sql(
        &db,
        &format!(
            "UPDATE deadlines SET due_on = '2027-01-31' WHERE appeal_id = {} AND kind = 'reply'",
            ids[1]
        ),
    )
    .await;
    let refused = d.app.deadlines.board(today).await;
    assert!(
        matches!(refused, Err(senim::deadlines::DeadlineError::Tampered(_))),
        "{refused:?}"
    );
    assert!(
        d.app
            .deadlines
            .of_appeal(senim::journal::AppealId(ids[1]))
            .await
            .is_err()
    );
    // The third's triage deleted.
    sql(
        &db,
        &format!(
            "DELETE FROM deadlines WHERE appeal_id = {} AND kind = 'triage'",
            ids[2]
        ),
    )
    .await;
    d.stop().await;
    let db = support::database::connect(&db_url(&test_db, dir.path())).await;

    let verify = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    let report = stdout(&verify);
    for (id, kind, problem) in [
        (ids[0], "triage", "was edited outside Senim"),
        (ids[1], "reply", "was edited outside Senim (due 2027-01-31"),
        (ids[2], "triage", "was deleted outside Senim"),
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.contains(&format!("({kind}, appeal {id})")) && l.contains(problem)),
            "{kind} of {id}: {report}"
        );
    }
    // Every deadline of an appeal and its signed list deleted: still found.
    as_dba(
        &db,
        &[
            &format!("DELETE FROM deadlines WHERE appeal_id = {}", ids[2]),
            &format!("DELETE FROM deadline_seals WHERE appeal_id = {}", ids[2]),
        ],
    )
    .await;
    let report = stdout(&run_cli(&config, &["journal", "verify"]));
    assert!(
        report.contains(&format!(
            "deadlines of appeal {}: have no signed list",
            ids[2]
        )),
        "{report}"
    );
}

on_both_backends!(#[tokio::test] edited_and_deleted_deadlines_are_reported => edited_and_deleted_deadlines_are_reported_on_sqlite, edited_and_deleted_deadlines_are_reported_on_postgres);

/// The auditor holds the public key and the heads file, no chain key and no
/// signing key: green on the intact chain, red once the forger appends an event
/// with its SHA-256 recomputed and moves the head; `journal head-key` needs only
/// the signing key file.
#[tokio::test]
async fn an_auditor_verifies_with_the_public_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (_, d) = keyed_daemon(dir.path(), Backend::Sqlite).await;
    let db = d.app.db.clone();
    let heads = dir.path().join("heads.jsonl");
    for i in 0..3 {
        d.app.journal.register(new_appeal(i, None)).await.unwrap();
    }
    let (seq, ..) = stored_head(&db).await;
    published_up_to(&heads, seq).await;
    d.stop().await;
    let url = db_url(&None, dir.path());
    let db = support::database::connect(&url).await;

    let (_signer_dir, signer) = other_config(
        &url,
        &format!(
            "[journal]\nsigning_key_file = \"{}\"\n",
            dir.path().join("signing.key").display()
        ),
    );
    let key = run_cli(&signer, &["journal", "head-key"]);
    crate::support::senim::assert_succeeded(&key);
    let key = stdout(&key).trim().to_owned();
    let (_auditor_dir, auditor) = other_config(&url, "");
    let audit = |key: &str| {
        run_cli(
            &auditor,
            &[
                "journal",
                "verify",
                "--public-key",
                key,
                "--heads",
                heads.to_str().unwrap(),
            ],
        )
    };
    let green = audit(&key);
    assert!(
        green.status.success(),
        "{}{}",
        stdout(&green),
        String::from_utf8_lossy(&green.stderr)
    );
    assert!(
        stdout(&green).contains("journal intact: 3 appeal(s)"),
        "{}",
        stdout(&green)
    );
    // Without a key, nothing is claimed: the head is signed.
    let none = run_cli(&auditor, &["journal", "verify"]);
    assert_eq!(none.status.code(), Some(2), "{}", stdout(&none));
    // Another installation's key does not pass.
    let (stranger, _) = senim::authority::Authority::generate().unwrap();
    assert_eq!(audit(stranger.public_key().as_hex()).status.code(), Some(1));

    // The forger appends an event to appeal 3, its hash recomputed with the
    // published algorithm, and moves the head.
    let reader = journal(&db, None);
    let appeal = reader.get(senim::journal::AppealId(3)).await.unwrap();
    let (seq, hash, ..) = stored_head(&db).await;
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 18, 5, 0, 0).unwrap();
    let state = audit::state_hash(&appeal);
    let forged = audit::event_hash(
        None,
        &hash,
        seq + 1,
        3,
        at,
        "person:nobody",
        "reply_sent",
        "{}",
        &state,
    );
    senim::on_db!(&db, pool => sqlx::query(
        "INSERT INTO appeal_events (seq, appeal_id, at, actor, kind, detail, state_hash, prev_hash, hash) \
         VALUES ($1, 3, $2, 'person:nobody', 'reply_sent', '{}', $3, $4, $5)",
    )
    .bind(seq + 1)
    .bind(at)
    .bind(&state)
    .bind(&hash)
    .bind(&forged)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    sql(
        &db,
        &format!(
            "UPDATE audit_head SET seq = {}, hash = '{forged}' WHERE id = 1",
            seq + 1
        ),
    )
    .await;
    let red = audit(&key);
    assert_eq!(red.status.code(), Some(1), "{}", stdout(&red));
    let said = stdout(&red);
    assert!(
        said.contains("chain head: is not signed by the signing key"),
        "{said}"
    );
}

/// A chain written before the signing key (every event an HMAC under the chain
/// key) continues: the daemon's start makes it public from the next event, and
/// it verifies with the chain key (every event) and with the public key alone
/// (the events before by their links).
#[tokio::test]
async fn a_chain_from_before_the_upgrade_continues_and_verifies_with_and_without_the_chain_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = seed(dir.path(), Some(KEY), false).await;
    assert_eq!(
        stored_head(&db).await.2,
        None,
        "written before the signing key"
    );
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 20, 5, 0, 0).unwrap();
    let d = TestApp::spawn(dir.path(), "", &keys_config(dir.path()), at).await;
    assert_eq!(
        stored_head(&db).await.2,
        Some(5),
        "public from the next event"
    );
    d.app
        .journal
        .register(new_appeal(9, Some("c@example.kz")))
        .await
        .unwrap();
    let (seq, ..) = stored_head(&db).await;
    published_up_to(&dir.path().join("heads.jsonl"), seq).await;
    let config = d.config.clone();
    d.stop().await;

    let with_key = run_cli(&config, &["journal", "verify"]);
    assert!(with_key.status.success(), "{}", stdout(&with_key));
    assert!(
        !stdout(&with_key).contains("by their links only"),
        "{}",
        stdout(&with_key)
    );
    let key = stdout(&run_cli(&config, &["journal", "head-key"]))
        .trim()
        .to_owned();
    let (_auditor_dir, auditor) = other_config(&db_url(&None, dir.path()), "");
    let heads = dir.path().join("heads.jsonl");
    let public = run_cli(
        &auditor,
        &[
            "journal",
            "verify",
            "--public-key",
            &key,
            "--heads",
            heads.to_str().unwrap(),
        ],
    );
    assert!(public.status.success(), "{}", stdout(&public));
    assert!(
        stdout(&public)
            .contains("4 event(s) from before the chain turned public checked by their links only"),
        "{}",
        stdout(&public)
    );
}
