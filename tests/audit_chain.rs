//! The audit chain against someone who holds the database but not the chain key
//! (a database administrator, a stolen backup): they drop the append-only
//! triggers, erase an appeal's identity and the event that recorded it, recompute
//! every hash with the published algorithm and put the triggers back. With
//! `journal.chain_key_file`, `senim journal verify` catches it, and so do the
//! heads published to the auditors before the rewrite.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeZone;
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::clock::SystemClock;
use senim::db::Db;
use senim::journal::audit::{self, ChainKey, EventRow};
use senim::journal::{
    Amendment, AppealId, Channel, Journal, NewAppeal, Reporter, SourceRef, Status,
};
use support::senim::{run_cli, write_config};

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn journal(db: &Db, key: Option<&str>) -> Journal {
    let hours = WorkingHours {
        tz: chrono_tz::Asia::Almaty,
        opens: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        closes: chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    };
    Journal::new(
        db.clone(),
        Arc::new(Calendar::new(hours, CalendarData::embedded())),
        Arc::new(SystemClock),
        "TL",
    )
    .keyed_with(key.map(|k| ChainKey::new(k.as_bytes()).unwrap()))
}

/// A daemon's configuration and SQLite database with three appeals, the second
/// with a reporter's identity recorded after registration.
async fn seed(dir: &Path, key: Option<&str>) -> (PathBuf, Db) {
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
    let journal = journal(&db, key);
    for i in 0..3u32 {
        let received_at = chrono_tz::Asia::Almaty
            .with_ymd_and_hms(2026, 11, 16 + i, 10, 0, 0)
            .unwrap()
            .to_utc();
        journal
            .register(NewAppeal {
                received_at,
                channel: Channel::Phone,
                reporter: Reporter::default(),
                subject: None,
                substance: Some("Взятка за справку".into()),
                status: Status::Registered,
                source: SourceRef::new("seed", i.to_string()),
                also_known_as: vec![],
                actor: "test".into(),
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
    let (config, db) = seed(dir.path(), None).await;
    rewrite_chain(&db, None, false).await;
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
}

#[tokio::test]
async fn a_keyed_chain_and_published_heads_catch_a_rewrite_without_the_key() {
    for keyed_claim in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (config, db) = seed(dir.path(), Some(KEY)).await;
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
        assert!(
            published.status.success(),
            "{}",
            String::from_utf8_lossy(&published.stderr)
        );
        let intact = run_cli(
            &config,
            &["journal", "verify", "--heads", heads.to_str().unwrap()],
        );
        assert!(intact.status.success(), "{}", stdout(&intact));
        assert!(stdout(&intact).contains("journal intact: 3 appeal(s), 4 event(s)"));

        // The forger recomputes the chain, unkeyed or with a key of their own.
        let guess = ChainKey::new(b"the forger does not have the real key".to_vec()).unwrap();
        rewrite_chain(&db, keyed_claim.then_some(&guess), keyed_claim).await;

        let verify = run_cli(&config, &["journal", "verify"]);
        assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
        let report = stdout(&verify);
        if keyed_claim {
            assert!(
                report.contains("was edited (hash does not match its contents)"),
                "{report}"
            );
        } else {
            assert!(report.contains("chain: is not keyed"), "{report}");
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
    let (plain_config, _db) = seed(dir.path(), None).await;
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

    let keyed = run_cli(&keyed_config, &["journal", "key-chain"]);
    assert!(
        keyed.status.success(),
        "{}",
        String::from_utf8_lossy(&keyed.stderr)
    );
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
            received_at: chrono::Utc.with_ymd_and_hms(2026, 11, 30, 5, 0, 0).unwrap(),
            channel: Channel::Email,
            reporter: Reporter::default(),
            subject: None,
            substance: Some("text".into()),
            status: Status::Registered,
            source: SourceRef::new("seed", "pg"),
            also_known_as: vec![],
            actor: "test".into(),
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
