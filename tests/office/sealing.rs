//! Sealing at rest (10.5, 10.14), end to end through the real binary: once
//! `senim keys init` has made the office key, the reporter's identity and text are
//! in no byte of the database (SQLite file and WAL, or a `pg_dump`) or the data
//! directory; appeals registered before are sealed in place and `journal verify`
//! stays green; a manager opens them with their own key, once added as a reader,
//! and every read is in the chain; an operator and an auditor cannot; a reader
//! removed can read nothing any more.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use support::database::{Backend, TestDb, pg_dump};
use support::on_both_backends;
use support::scene::new_appeal;
use support::scene::{chain_key_toml, pbx_toml, post_answered_call, record_notes};
use support::senim::output_text as text;
use support::senim::{Daemon, Person, person, run_cli, run_cli_as, write_config};

const CHAIN_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Recorded by the operator before the office key exists: sealed in place.
const BEFORE: [&str; 3] = [
    "Бекзат Оразалиев",
    "+77015550101",
    "asked for a kickback on the canteen tender",
];
/// The caller's number, in every form the PBX and the Journal write it
/// (`+77011234567`, `87011234567`).
const CALLER: &str = "7011234567";
/// Recorded after: sealed at intake.
const AFTER: [&str; 4] = [
    "Айгүл Серікқызы",
    "aigul.reporter@example.kz",
    "+77019998877",
    "Инспектор потребовал взятку за подпись акта",
];

fn config(dir: &Path) -> String {
    format!("\n{}\n{}", chain_key_toml(dir, CHAIN_KEY), pbx_toml())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn succeeds(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

/// An answered call, registered awaiting the operator's notes; its appeal id.
async fn answered_call(d: &Daemon, call_id: &str) -> i64 {
    let body = post_answered_call(d, call_id, "2026-12-15").await;
    body["appeal_id"].as_i64().unwrap()
}

/// The operator's notes (clause 10.5), through the API as the operator, with
/// every point of the script said.
async fn notes(d: &Daemon, operator: &Person, id: i64, body: Value) -> Value {
    record_notes(d, &operator.token, id, body).await
}

fn show(config: &Path, who: &Person, id: i64, passphrase: Option<&Path>) -> std::process::Output {
    let id = id.to_string();
    let mut args = vec!["journal", "show", id.as_str(), "--with-identity"];
    let file;
    if let Some(p) = passphrase {
        file = p.display().to_string();
        args.extend(["--passphrase-file", file.as_str()]);
    }
    run_cli_as(config, who, &args)
}

fn disclosures(config: &Path, auditor: &Person, id: i64) -> usize {
    let out = succeeds(run_cli_as(
        config,
        auditor,
        &["journal", "show", &id.to_string()],
    ));
    out.lines()
        .filter(|l| l.contains("identity_disclosed"))
        .count()
}

/// The first file under `dir` whose bytes hold `secret`.
fn holds(dir: &Path, secret: &str) -> Option<PathBuf> {
    support::files::grep_first(dir, secret)
}

async fn sealed_end_to_end(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let test_db = support::database::daemon_db(backend).await;
    let url = support::database::daemon_url(&test_db);
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, url, &config(dir.path()));
    let director = person(&config, "dana", &["director"]);
    let manager = person(&config, "marat", &["manager"]);
    let operator = person(&config, "olga", &["operator"]);
    let auditor = person(&config, "aida", &["auditor"]);
    let d = support::console::serve(dir.path(), &config, port);

    // Before the office key: a plain appeal.
    let before = answered_call(&d, "1765778400.1").await;
    notes(
        &d,
        &operator,
        before,
        json!({"name": BEFORE[0], "phone": BEFORE[1], "substance": BEFORE[2]}),
    )
    .await;

    // The Director makes the office key with the daemon stopped (as for a
    // migration: it is refused while the daemon answers); the Journal is sealed in
    // place and the escrow key written for the safe.
    let escrow = dir.path().join("escrow.key");
    let escrow_arg = escrow.display().to_string();
    let init = ["keys", "init", "--escrow-out", escrow_arg.as_str()];
    let refused = run_cli_as(&config, &director, &init);
    assert!(
        text(&refused).contains("stop the daemon"),
        "{}",
        text(&refused)
    );
    assert!(d.terminate().success());
    let out = succeeds(run_cli_as(&config, &director, &init));
    assert!(out.contains("1 appeal(s) sealed in place"), "{out}");
    let again = run_cli_as(&config, &director, &["keys", "init"]);
    assert!(!again.status.success(), "a second init must be refused");
    let d = support::console::serve(dir.path(), &config, port);

    // After: the daemon seals at intake.
    let after = answered_call(&d, "1765778400.2").await;
    let answer = notes(
        &d,
        &operator,
        after,
        json!({"name": AFTER[0], "email": AFTER[1], "phone": AFTER[2], "substance": AFTER[3]}),
    )
    .await;
    assert_eq!(answer["status"], "registered", "{answer}");
    assert_eq!(answer["anonymous"], false, "{answer}");
    assert_eq!(answer["no_return_address"], false, "{answer}");
    assert_eq!(answer["substance"], Value::Null, "{answer}");

    // Triage still works from the words found at intake.
    let r = client()
        .get(d.url(&format!("/v1/appeals/{after}/suggestion")))
        .bearer_auth(&manager.token)
        .send()
        .await
        .unwrap();
    let suggestion: Value = r.json().await.unwrap();
    assert_eq!(
        suggestion["suggestion"]["category"], "corruption",
        "{suggestion}"
    );
    assert_eq!(
        suggestion["suggestion"]["matched"],
        json!(["взятк"]),
        "{suggestion}"
    );

    // A manager without a key cannot read; with a key but not yet a reader,
    // neither; added by the Director with the escrow key, they can.
    let passphrase = dir.path().join("marat.pass");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    let denied = show(&config, &manager, after, Some(&passphrase));
    assert!(!denied.status.success());
    assert!(text(&denied).contains("has no key"), "{}", text(&denied));
    succeeds(run_cli_as(
        &config,
        &manager,
        &[
            "keys",
            "enroll",
            "--passphrase-file",
            &passphrase.display().to_string(),
        ],
    ));
    let denied = show(&config, &manager, after, Some(&passphrase));
    assert!(text(&denied).contains("not a reader"), "{}", text(&denied));
    succeeds(run_cli_as(
        &config,
        &director,
        &[
            "keys",
            "add-reader",
            "marat",
            "--escrow-key-file",
            &escrow.display().to_string(),
        ],
    ));
    let shown = succeeds(show(&config, &manager, after, Some(&passphrase)));
    for secret in AFTER {
        assert!(shown.contains(secret), "{secret} not shown:\n{shown}");
    }
    let shown = succeeds(show(&config, &manager, before, Some(&passphrase)));
    for secret in BEFORE {
        assert!(shown.contains(secret), "{secret} not shown:\n{shown}");
    }
    // The appeal's materials, opened with the key, in a private directory with a
    // manifest `sha256sum -c` accepts; the read is in the chain.
    let materials = dir.path().join("materials");
    let out = succeeds(run_cli_as(
        &config,
        &manager,
        &[
            "journal",
            "materials",
            &after.to_string(),
            "--output",
            &materials.display().to_string(),
            "--passphrase-file",
            &passphrase.display().to_string(),
        ],
    ));
    assert!(out.contains("MANIFEST.sha256"), "{out}");
    let appeal_json = std::fs::read_to_string(materials.join("appeal.json")).unwrap();
    assert!(
        appeal_json.contains(AFTER[0]) && appeal_json.contains(AFTER[3]),
        "{appeal_json}"
    );
    let call = std::fs::read_to_string(materials.join("call-01.json")).unwrap();
    assert!(call.contains(&format!("+7{CALLER}")), "{call}");
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "MANIFEST.sha256"])
        .current_dir(&materials)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&materials).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    std::fs::remove_dir_all(&materials).unwrap();

    // A wrong passphrase opens nothing and records nothing.
    let wrong = dir.path().join("wrong.pass");
    std::fs::write(&wrong, "not the passphrase at all\n").unwrap();
    let denied = show(&config, &manager, after, Some(&wrong));
    assert!(
        text(&denied).contains("wrong passphrase"),
        "{}",
        text(&denied)
    );
    assert_eq!(
        disclosures(&config, &auditor, after),
        2,
        "show and materials"
    );
    // An operator and an auditor are never shown an identity.
    for who in [&operator, &auditor] {
        let denied = show(&config, who, after, Some(&passphrase));
        assert!(!denied.status.success());
        assert!(
            text(&denied).contains("needs the role"),
            "{}",
            text(&denied)
        );
    }

    // Removing the reader rotates the office key: they read nothing any more,
    // while the escrow (and any reader who remains) still opens everything.
    succeeds(run_cli_as(
        &config,
        &director,
        &[
            "keys",
            "remove-reader",
            "marat",
            "--escrow-key-file",
            &escrow.display().to_string(),
        ],
    ));
    let denied = show(&config, &manager, before, Some(&passphrase));
    assert!(text(&denied).contains("not a reader"), "{}", text(&denied));
    let director_pass = dir.path().join("dana.pass");
    std::fs::write(&director_pass, "the director's own long passphrase\n").unwrap();
    succeeds(run_cli_as(
        &config,
        &director,
        &[
            "keys",
            "enroll",
            "--passphrase-file",
            &director_pass.display().to_string(),
        ],
    ));
    succeeds(run_cli_as(
        &config,
        &director,
        &[
            "keys",
            "add-reader",
            "dana",
            "--escrow-key-file",
            &escrow.display().to_string(),
        ],
    ));
    let shown = succeeds(show(&config, &director, before, Some(&director_pass)));
    assert!(shown.contains(BEFORE[0]), "{shown}");

    // Every step is in the chain, and the chain holds.
    let verified = succeeds(run_cli(&config, &["journal", "verify"]));
    assert!(verified.contains("journal intact"), "{verified}");
    let history = succeeds(run_cli_as(
        &config,
        &auditor,
        &["journal", "show", &before.to_string()],
    ));
    for kind in [
        "details_recorded",
        "sealed",
        "resealed",
        "identity_disclosed",
    ] {
        assert!(history.contains(kind), "no {kind} event:\n{history}");
    }
    assert!(
        history.contains("person:marat") && history.contains("person:dana"),
        "{history}"
    );

    // No byte at rest holds the identity or the text.
    assert!(d.terminate().success());
    let db_url = match &test_db {
        Some(t) => t.url.clone(),
        None => format!("sqlite://{}", dir.path().join("data/senim.db").display()),
    };
    let data = dir.path().join("data");
    // What may be plain is found where it is stored: the search can find.
    if test_db.is_none() {
        assert!(holds(&data, "TL-2026-000002").is_some());
    }
    for secret in BEFORE.iter().chain(AFTER.iter()).chain([&CALLER]) {
        assert_eq!(holds(&data, secret), None, "{secret} is stored in plain");
    }
    if let Some(t) = &test_db {
        let dump = pg_dump(&t.url);
        assert!(dump.windows(14).any(|w| w == b"TL-2026-000002"));
        for secret in BEFORE.iter().chain(AFTER.iter()).chain([&CALLER]) {
            assert!(
                !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in pg_dump"
            );
        }
    }

    // Whoever holds the database cannot read an envelope, nor move one: an
    // appeal given another's envelope is a finding of `verify`.
    let db = support::database::connect(&db_url).await;
    senim::on_db!(&db, pool => sqlx::query(
        "UPDATE appeal_envelopes SET envelope = \
         (SELECT envelope FROM appeal_envelopes WHERE appeal_id = $1 AND seq = 1) \
         WHERE appeal_id = $2 AND seq = 1",
    )
    .bind(before)
    .bind(after)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    db.close().await;
    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(
        text(&verified).contains(&format!("TL-2026-000002 ({after})"))
            && text(&verified).contains("envelopes replaced"),
        "{}",
        text(&verified)
    );
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] sealed_end_to_end => a_sealed_journal_keeps_no_identity_at_rest_and_only_readers_open_it_sqlite, a_sealed_journal_keeps_no_identity_at_rest_and_only_readers_open_it_postgres);

/// Without journal.chain_key_file there is no sealing: `keys init` says why.
#[test]
fn keys_init_needs_the_chain_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), support::ports::free_port(), "", "");
    let director = person(&config, "dana", &["director"]);
    let out = run_cli_as(&config, &director, &["keys", "init"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("journal.chain_key_file"), "{said}");
}

/// A sealed appeal destroyed under the records schedule loses its envelopes (the
/// file key of each with them): the escrow opens nothing of it any more, the
/// event names the fields erased, and the chain verifies.
#[tokio::test]
async fn destroying_a_sealed_appeal_deletes_its_envelopes() {
    use senim::journal::{NewAppeal, Reporter, SourceRef, Status};
    let test_db = TestDb::sqlite().await;
    let db = test_db.db.clone();
    let authority = Some(std::sync::Arc::new(
        senim::authority::Authority::generate().unwrap().0,
    ));
    let keys = senim::sealing::Keys::new(db.clone(), authority.clone());
    let mut tx = db.begin().await.unwrap();
    let made = keys
        .init_in(&mut tx, "test", chrono::Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let sealer = senim::sealing::Sealer::new(
        &db,
        Some(senim::sealing::IntakeKey::derive(&[7; 32])),
        authority,
    );
    sealer.refresh().await.unwrap();
    let calendar = std::sync::Arc::new(senim::calendar::Calendar::new(
        senim::calendar::WorkingHours::default(),
        senim::calendar::CalendarData::embedded(),
    ));
    let journal = senim::journal::Journal::new(
        db.clone(),
        calendar,
        std::sync::Arc::new(senim::clock::SystemClock),
        "TL",
    )
    .sealed_with(sealer);
    let appeal = journal
        .register(NewAppeal {
            reporter: Reporter {
                name: Some(AFTER[0].into()),
                email: Some(AFTER[1].into()),
                ..Reporter::default()
            },
            substance: Some(AFTER[3].into()),
            status: Status::Closed,
            ..new_appeal(SourceRef::new("test", "1"), chrono::Utc::now())
        })
        .await
        .unwrap()
        .into_appeal();
    assert!(appeal.sealed.is_some() && appeal.reporter.name.is_none());
    use age::secrecy::ExposeSecret;
    let escrow = senim::sealing::keys::parse_escrow(made.escrow_identity.expose_secret()).unwrap();
    let unlocked = keys.unlock_escrow(escrow).await.unwrap();
    let opened = journal.open(appeal.clone(), &unlocked).await.unwrap();
    assert_eq!(opened.reporter.name.as_deref(), Some(AFTER[0]));
    assert_eq!(opened.substance.as_deref(), Some(AFTER[3]));

    let destroyed = support::scene::destroyed_on_schedule(&journal, appeal.id).await;
    assert_eq!(destroyed.sealed, None);
    let opened = journal.open(destroyed, &unlocked).await.unwrap();
    assert_eq!((opened.reporter.name, opened.substance), (None, None));
    let left: i64 = senim::on_db!(&db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM appeal_envelopes"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(left, 0);
    let history = journal.history(appeal.id).await.unwrap();
    let event = history.last().unwrap();
    assert_eq!(event.kind, "destroyed");
    assert!(
        event.detail.contains("reporter.name") && event.detail.contains("substance"),
        "{}",
        event.detail
    );
    assert!(journal.verify().await.unwrap().is_intact());
}

/// A passphrase or a console password shorter than 12 characters is refused,
/// saying why, and nothing is stored.
#[test]
fn short_passphrases_and_passwords_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), support::ports::free_port(), "", "");
    let manager = person(&config, "marat", &["manager"]);
    let short = dir.path().join("short");
    std::fs::write(&short, "too short\n").unwrap();
    let short = short.to_str().unwrap();
    let out = run_cli_as(
        &config,
        &manager,
        &["keys", "enroll", "--passphrase-file", short],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 12 characters"),
        "{}",
        text(&out)
    );
    let keys = succeeds(run_cli_as(&config, &manager, &["keys", "list"]));
    assert!(!keys.contains("marat"), "no key was stored: {keys}");
    let out = run_cli(
        &config,
        &["persons", "password", "marat", "--password-file", short],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 12 characters"),
        "{}",
        text(&out)
    );
}
