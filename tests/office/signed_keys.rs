//! The rows that say whom Senim seals or wraps to (the office key's generations,
//! persons' keys, grants) and what a person may do (`persons`) are signed by the
//! installation's key, which the database's administrator does not hold; played
//! here as that administrator, with SQL on the running daemon's database:
//!
//! - an office key swapped for theirs: nothing is sealed to it (the daemon keeps
//!   the verified key it holds; started afresh, or told of a planted newer
//!   generation, it refuses the PBX, which retries) and `journal verify` says so;
//! - a planted reader's key with a grant: the Director's rotation fails naming the
//!   login, and nothing is wrapped to it; nor is an investigation file's key;
//! - a person's row edited (roles, token): their token and console login are
//!   refused, and `verify` names the row;
//! - a rotation does not grant the new key to a disabled reader;
//! - rows from before signing are refused until the Director adopts them, after
//!   seeing them (`senim keys authenticate`), and an edited row is not adopted.

use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use reqwest::StatusCode;
use support::console::{
    CLOCK, PASSWORD, answered_call, cli, console_person, http_login, session_get,
};
use support::database::Backend;
use support::on_both_backends;
use support::scene::{self, Keys, answered_call_record};
use support::senim::output_text as text;
use support::senim::{Daemon, Person, person, run_cli, write_config};

const CHAIN_KEY: &str = "5a69788796a5b4c3d2e1f00f1e2d3c4b0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A daemon's configuration with a chain key (so an installation's key, derived
/// from it) in `dir`, on `url` (empty: SQLite); its path and port.
fn configured(dir: &Path, url: &str) -> (PathBuf, u16) {
    let port = support::ports::free_port();
    let extra = format!(
        "{}\n{}",
        support::console::config(None),
        scene::chain_key_toml(dir, CHAIN_KEY)
    );
    let config = write_config(dir, port, url, &extra);
    (config, port)
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

fn passphrase(dir: &Path, login: &str) -> PathBuf {
    let file = dir.join(format!("{login}.pass"));
    std::fs::write(&file, format!("the long passphrase of {login}\n")).unwrap();
    file
}

fn start(dir: &Path, config: &Path, port: u16) -> Daemon {
    Daemon::start_with_env(
        dir,
        config.to_owned(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    )
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("data/senim.db").display())
}

/// Runs one statement as the database's administrator would.
async fn sql(url: &str, statement: &str, binds: &[&str]) {
    let db = support::database::connect(url).await;
    senim::on_db!(&db, pool => {
        let mut query = sqlx::query(statement);
        for b in binds {
            query = query.bind(*b);
        }
        query.execute(pool).await.map(|_| ())
    })
    .unwrap();
    db.close().await;
}

/// The stored bytes of `column` in `table`, every row.
async fn blobs(url: &str, table: &str, column: &str) -> Vec<Vec<u8>> {
    let db = support::database::connect(url).await;
    let statement = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
    let rows: Vec<Vec<u8>> = senim::on_db!(&db, pool => sqlx::query_scalar(&statement)
        .fetch_all(pool)
        .await)
    .unwrap();
    db.close().await;
    rows
}

/// Whether `identity` opens `sealed` (an age file).
fn opens(identity: &age::x25519::Identity, sealed: &[u8]) -> bool {
    let Ok(decryptor) = age::Decryptor::new_buffered(sealed) else {
        return false;
    };
    let Ok(mut reader) = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)) else {
        return false;
    };
    let mut out = Vec::new();
    reader.read_to_end(&mut out).is_ok()
}

/// Every sealed value and wrapped key of the database, none of which the
/// attacker's identity may open.
async fn attacker_opens_nothing(url: &str, attacker: &age::x25519::Identity) {
    for (table, column) in [
        ("appeal_envelopes", "envelope"),
        ("sealing_keys", "escrowed_identity"),
        ("sealing_keys", "previous_identity"),
        ("key_grants", "office_identity"),
        ("pbx_calls", "caller_sealed"),
        ("investigation_grants", "wrapped"),
    ] {
        for sealed in blobs(url, table, column).await {
            assert!(
                !opens(attacker, &sealed),
                "the attacker's key opens a value of {table}.{column}"
            );
        }
    }
}

/// A call posted by the PBX; its status (201 registered, 503 refused: retry).
async fn post_call(d: &Daemon, call_id: &str) -> StatusCode {
    scene::post_call(d, &answered_call_record(call_id, "2026-12-16"))
        .await
        .status()
}

async fn a_swapped_office_key(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let test_db = support::database::daemon_db(backend).await;
    let url = support::database::daemon_url(&test_db);
    let (config, port) = configured(dir.path(), url);
    let db_url = test_db
        .as_ref()
        .map_or_else(|| sqlite_url(dir.path()), |t| t.url.clone());
    let dana = person(&config, "dana", &["director"]);
    Keys::init_with_env(
        &config,
        dir.path(),
        &dana,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    let d = start(dir.path(), &config, port);
    assert_eq!(post_call(&d, "before-the-swap").await, StatusCode::CREATED);

    // The administrator puts their own key in the office key's place.
    let attacker = age::x25519::Identity::generate();
    let theirs = attacker.to_public().to_string();
    sql(
        &db_url,
        "UPDATE sealing_keys SET office_recipient = $1 WHERE generation = 1",
        &[&theirs],
    )
    .await;
    // The running daemon keeps sealing to the verified key it holds.
    assert_eq!(post_call(&d, "after-the-swap").await, StatusCode::CREATED);
    // A planted newer generation, announced in the chain's head, is refused: the
    // PBX is told to retry, nothing is stored (plain or sealed to it).
    sql(
        &db_url,
        "INSERT INTO sealing_keys (generation, office_recipient, escrow_recipient, escrowed_identity, \
         created_at, created_by) SELECT 2, $1, escrow_recipient, escrowed_identity, created_at, \
         created_by FROM sealing_keys WHERE generation = 1",
        &[&theirs],
    )
    .await;
    sql(&db_url, "UPDATE audit_head SET seal_generation = 2", &[]).await;
    assert_eq!(
        post_call(&d, "after-the-plant").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Started afresh, the daemon holds no verified key: it refuses to register
    // rather than seal to the planted one or store plain.
    assert!(d.terminate().success());
    let d = start(dir.path(), &config, port);
    assert_eq!(
        post_call(&d, "after-the-restart").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        d.logs().contains("sealing_keys"),
        "the refusal is logged naming the table"
    );
    assert!(d.terminate().success());

    attacker_opens_nothing(&db_url, &attacker).await;
    let appeals = blobs(&db_url, "appeal_envelopes", "envelope").await;
    assert_eq!(
        appeals.len(),
        2,
        "only the two calls sealed to the office key"
    );
    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    for row in ["sealing_keys generation 1", "sealing_keys generation 2"] {
        assert!(
            text(&verified).contains(&format!(
                "{row}: not signed by this installation's key: edited or planted outside Senim"
            )),
            "{}",
            text(&verified)
        );
    }
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] a_swapped_office_key => a_swapped_office_key_is_never_sealed_to_and_verify_reports_it_sqlite, a_swapped_office_key_is_never_sealed_to_and_verify_reports_it_postgres);

/// The office key made (`keys`), the Director `dana` enrolled and its reader
/// (her passphrase's file: `pass`); `marat`, a manager, exists but has no key.
struct Office {
    config: PathBuf,
    port: u16,
    dana: Person,
    marat: Person,
    pass: PathBuf,
    keys: Keys,
}

fn sealed_office(dir: &Path) -> Office {
    let (config, port) = configured(dir, "");
    let dana = console_person(&config, dir, "dana", &["director"]);
    let marat = console_person(&config, dir, "marat", &["manager"]);
    let keys = Keys::init_with_env(&config, dir, &dana, &[("TEST_SENIM_CLOCK_START", CLOCK)]);
    let pass = keys.reader(&dana, "the long passphrase of dana");
    Office {
        config,
        port,
        dana,
        marat,
        pass,
        keys,
    }
}

/// The administrator plants a key of theirs for `login` (with a grant of the
/// current generation, if `grant`).
async fn plant_key(url: &str, login: &str, attacker: &age::x25519::Identity, grant: bool) {
    sql(
        url,
        "INSERT INTO person_keys (login, recipient, identity, created_at) \
         VALUES ($1, $2, x'00', '2026-12-16T06:00:00Z')",
        &[login, &attacker.to_public().to_string()],
    )
    .await;
    if grant {
        sql(
            url,
            "INSERT INTO key_grants (generation, login, office_identity, granted_at, granted_by) \
             VALUES (1, $1, x'00', '2026-12-16T06:00:00Z', 'person:dana')",
            &[login],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_reader_key_fails_the_rotation_naming_the_login_and_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Office {
        config,
        dana,
        pass,
        keys,
        ..
    } = sealed_office(dir.path());
    let url = sqlite_url(dir.path());
    let attacker = age::x25519::Identity::generate();
    plant_key(&url, "marat", &attacker, true).await;

    let out = cli(&config, &dana, Some(&pass), &["keys", "rotate"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("key_grants generation 1 login marat")
            && text(&out).contains("not signed by this installation's key"),
        "{}",
        text(&out)
    );
    let generations = blobs(&url, "sealing_keys", "escrowed_identity").await;
    assert_eq!(generations.len(), 1, "no new generation was made");
    attacker_opens_nothing(&url, &attacker).await;

    // A planted key without a grant is not granted either: add-reader refuses.
    sql(&url, "DELETE FROM key_grants WHERE login = 'marat'", &[]).await;
    let out = keys.add_reader("marat");
    assert!(
        !out.status.success() && text(&out).contains("person_keys login marat"),
        "{}",
        text(&out)
    );
    attacker_opens_nothing(&url, &attacker).await;
    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(
        text(&verified).contains("person_keys login marat: not signed"),
        "{}",
        text(&verified)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_investigation_files_key_is_not_wrapped_to_a_planted_key() {
    let dir = tempfile::tempdir().unwrap();
    let Office {
        config, port, dana, ..
    } = sealed_office(dir.path());
    person(&config, "aset", &["operator"]);
    let url = sqlite_url(dir.path());
    let d = start(dir.path(), &config, port);
    let number = answered_call(&d, "investigation-1").await;
    let attacker = age::x25519::Identity::generate();
    plant_key(&url, "marat", &attacker, false).await;

    let out = cli(
        &config,
        &dana,
        None,
        &[
            "investigation",
            "order",
            &number,
            "--number",
            "ПР-17/ВР",
            "--member",
            "aset",
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the key of `marat` is not signed"),
        "{}",
        text(&out)
    );
    assert!(d.terminate().success());
    assert!(
        blobs(&url, "investigation_grants", "wrapped")
            .await
            .is_empty()
    );
    attacker_opens_nothing(&url, &attacker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_persons_row_is_refused_at_the_token_and_the_console_and_verify_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = configured(dir.path(), "");
    let url = sqlite_url(dir.path());
    let aida = person(&config, "aida", &["auditor"]);
    let dana = person(&config, "dana", &["director"]);
    console_person(&config, dir.path(), "olga", &["operator"]);
    let d = start(dir.path(), &config, port);
    let number = answered_call(&d, "edited-rows").await;
    let suggestion = |token: String| {
        let url = d.url(&format!("/v1/appeals/{number}/suggestion"));
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(suggestion(aida.token.clone()).await, StatusCode::OK);
    assert_eq!(suggestion(dana.token.clone()).await, StatusCode::OK);
    let (status, session) = http_login(&d, "olga", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = session.expect("a session");
    let console =
        async |session: String| session_get(&d, &session, "/console/queue").await.status();
    assert_eq!(console(session.clone()).await, StatusCode::OK);

    // The auditor made Director; the Director's token hash replaced by the
    // administrator's own; the operator made a manager.
    sql(
        &url,
        "UPDATE persons SET roles = 'auditor,director' WHERE login = 'aida'",
        &[],
    )
    .await;
    let theirs = format!("snm_{}", "ab".repeat(32));
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(theirs.as_bytes()));
    sql(
        &url,
        "UPDATE persons SET token_hash = $1 WHERE login = 'dana'",
        &[&hash],
    )
    .await;
    sql(
        &url,
        "UPDATE persons SET roles = 'manager,operator' WHERE login = 'olga'",
        &[],
    )
    .await;

    assert_eq!(
        suggestion(aida.token.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(suggestion(theirs).await, StatusCode::UNAUTHORIZED);
    let (status, again) = http_login(&d, "olga", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(again.is_none());
    assert_eq!(
        console(session).await,
        StatusCode::SEE_OTHER,
        "the session of an edited row goes on"
    );
    assert!(
        d.logs().contains("a person's row is not signed"),
        "the refusal is logged"
    );
    assert!(d.terminate().success());

    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    for login in ["aida", "dana", "olga"] {
        assert!(
            text(&verified).contains(&format!(
                "persons login {login}: not signed by this installation's key"
            )),
            "{}",
            text(&verified)
        );
    }
    // An ordinary change does not sign an edited row anew.
    let out = run_cli(&config, &["persons", "disable", "olga"]);
    assert!(
        !out.status.success() && text(&out).contains("not signed anew"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_rotation_does_not_grant_the_new_key_to_a_disabled_reader() {
    let dir = tempfile::tempdir().unwrap();
    let Office {
        config,
        dana,
        marat,
        pass,
        keys,
        ..
    } = sealed_office(dir.path());
    let marat_pass = passphrase(dir.path(), "marat");
    ok(cli(&config, &marat, Some(&marat_pass), &["keys", "enroll"]));
    ok(keys.add_reader("marat"));
    ok(run_cli(&config, &["persons", "disable", "marat"]));

    let out = ok(cli(&config, &dana, Some(&pass), &["keys", "rotate"]));
    assert!(
        out.contains("not granted the new office key") && out.contains("marat"),
        "{out}"
    );
    let list = ok(cli(&config, &dana, None, &["keys", "list"]));
    let line = |login: &str| {
        list.lines()
            .find(|l| l.starts_with(login))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("dana").ends_with("generation(s): 2"), "{list}");
    assert!(line("marat").ends_with("generation(s): none"), "{list}");
    let verified = ok(run_cli(&config, &["journal", "verify"]));
    assert!(verified.contains("journal intact"), "{verified}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_from_before_signing_wait_for_the_directors_adoption_and_an_edited_one_is_not_adopted()
{
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = configured(dir.path(), "");
    let url = sqlite_url(dir.path());
    let dana = person(&config, "dana", &["director"]);
    let olga = person(&config, "olga", &["operator"]);
    ok(cli(&config, &dana, None, &["keys", "init"]));
    // As an upgrade leaves them: no signature; and one row edited besides.
    sql(
        &url,
        "UPDATE persons SET signature = NULL WHERE login = 'dana'",
        &[],
    )
    .await;
    sql(&url, "UPDATE sealing_keys SET signature = NULL", &[]).await;
    sql(
        &url,
        "UPDATE persons SET roles = 'director,operator' WHERE login = 'olga'",
        &[],
    )
    .await;

    let refused = cli(&config, &dana, None, &["keys", "list"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(
        text(&verified).contains("sealing_keys generation 1: not signed")
            && text(&verified).contains("persons login dana: not signed"),
        "{}",
        text(&verified)
    );
    // Not without the Director's word, and not by another.
    let out = cli(&config, &dana, None, &["keys", "authenticate"]);
    assert!(
        !out.status.success() && text(&out).contains("nothing signed"),
        "{}",
        text(&out)
    );
    let out = cli(&config, &olga, None, &["keys", "authenticate", "--yes"]);
    assert!(!out.status.success(), "{}", text(&out));

    let out = ok(cli(
        &config,
        &dana,
        None,
        &["keys", "authenticate", "--yes"],
    ));
    assert!(
        out.contains("persons dana: roles director")
            && out.contains("sealing_keys generation 1: office key age1")
            && !out.contains("persons olga")
            && out.contains("signed 1 person row(s) and 1 key row(s)"),
        "{out}"
    );
    ok(cli(&config, &dana, None, &["keys", "list"]));
    let persons = ok(run_cli(&config, &["persons", "list"]));
    assert!(
        persons.contains("persons olga: roles director,operator") && persons.contains("NOT SIGNED"),
        "{persons}"
    );
    let verified = run_cli(&config, &["journal", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(
        text(&verified).contains("persons login olga: not signed")
            && !text(&verified).contains("persons login dana")
            && !text(&verified).contains("sealing_keys"),
        "{}",
        text(&verified)
    );
    // Checked with another installation's public key, no row verifies.
    let stranger = "00".repeat(32);
    let with_other = run_cli(&config, &["journal", "verify", "--public-key", &stranger]);
    assert!(
        text(&with_other).contains("persons login dana: not signed"),
        "{}",
        text(&with_other)
    );
}
