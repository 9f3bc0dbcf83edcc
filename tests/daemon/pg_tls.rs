//! PostgreSQL over TLS, verified: against a real PostgreSQL with `ssl = on` and a
//! throw-away CA (`support::postgres_tls`), the daemon's database opens with
//! `sslmode=verify-full` and `database.ca_file`, and the server sees the session
//! encrypted; without the CA, or to a name the certificate does not carry, it is
//! refused with a clear error. And the rule of the configuration: a server off
//! loopback is reached with `sslmode=verify-full` or not at all.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::CertificateError;
use senim::app::App;
use senim::clock::FixedClock;
use senim::config::{Config, ConfigSource};
use senim::db::{Db, DbSettings};
use senim::journal::{NewAppeal, Reporter, SourceRef};
use support::postgres_tls::{PASSWORD, TlsPostgres, UNNAMED_LOOPBACK};
use support::scene::new_appeal;
use support::senim::{run_cli, write_config};
use support::time::astana;

/// A configuration in `dir` for the database at `url`, trusting `ca_file` if given.
fn config_for(dir: &Path, url: &str, ca_file: Option<&Path>) -> PathBuf {
    let config = write_config(dir, support::ports::free_port(), url, "");
    if let Some(ca) = ca_file {
        support::scene::add_keys(
            &config,
            "database",
            &format!("ca_file = \"{}\"", ca.display()),
        );
    }
    config
}

fn settings(url: &str, ca_file: Option<&Path>) -> DbSettings {
    DbSettings {
        url: url.to_owned(),
        max_connections: 2,
        connect_timeout: Duration::from_secs(10),
        lock_wait: Duration::from_secs(10),
        ca_file: ca_file.map(Path::to_owned),
    }
}

/// What the server knows of this session's encryption: `pg_stat_ssl`'s `ssl`
/// and `version` for the backend serving it.
async fn session_ssl(db: &Db) -> (bool, Option<String>) {
    senim::on_db!(db, pool => sqlx::query_as(
        "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_one(pool)
    .await)
    .expect("read pg_stat_ssl")
}

/// The certificate check that failed a connection, if that is what failed it
/// (sqlx hands rustls's error on inside an I/O error).
fn certificate_error(error: &sqlx::Error) -> Option<CertificateError> {
    let cause: &(dyn std::error::Error + Send + Sync + 'static) = match error {
        sqlx::Error::Io(e) => e.get_ref()?,
        sqlx::Error::Tls(e) => e.as_ref(),
        _ => return None,
    };
    match cause.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(e) => Some(e.clone()),
        _ => None,
    }
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The real binary migrates over verified TLS with `database.ca_file`; the
/// daemon's own assembly (`App::open`, reading the same file) registers an appeal
/// on an encrypted session; the binary reads it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_migrates_registers_and_reads_back_over_verified_tls() {
    let pg = TlsPostgres::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = config_for(
        dir.path(),
        &pg.url("localhost", "verify-full"),
        Some(pg.ca_pem()),
    );

    let migrated = run_cli(&config, &["migrate"]);
    assert!(
        migrated.status.success(),
        "senim migrate over TLS failed: {}\n{}",
        stderr(&migrated),
        pg.log()
    );
    assert_eq!(
        String::from_utf8_lossy(&migrated.stdout).trim(),
        "migrations applied (postgres)"
    );

    let loaded = Config::load(&ConfigSource::new(Some(&config))).expect("the config loads");
    let clock = FixedClock::at(astana(2026, 3, 17, 11, 0));
    let app = App::open(loaded, Arc::new(clock))
        .await
        .expect("the daemon opens its database over TLS");
    assert_eq!(app.db.backend(), "postgres");
    let (ssl, version) = session_ssl(&app.db).await;
    assert!(ssl, "the server sees the daemon's session unencrypted");
    assert!(
        version.as_deref().is_some_and(|v| v.starts_with("TLSv1.")),
        "{version:?}"
    );

    let substance = "The head of procurement asked for a kickback on tender 42.";
    let appeal = app
        .journal
        .register(NewAppeal {
            reporter: Reporter {
                name: Some("Aigerim S.".into()),
                email: Some("aigerim@example.kz".into()),
                ..Reporter::default()
            },
            subject: Some("Tender 42".into()),
            substance: Some(substance.into()),
            ..new_appeal(
                SourceRef::new("test", "pg-tls-1"),
                astana(2026, 3, 17, 10, 30),
            )
        })
        .await
        .expect("register over TLS")
        .into_appeal();
    let stored = app.journal.get(appeal.id).await.expect("read back");
    assert_eq!(stored.registration_number, appeal.registration_number);
    assert_eq!(stored.substance.as_deref(), Some(substance));
    app.db.close().await;

    let manager = support::senim::person(&config, "aigul", &["manager"]);
    let listed = support::senim::run_cli_as(
        &config,
        &manager,
        &["journal", "list", "--json", "--with-identity"],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0]["registration_number"],
        appeal.registration_number.to_string()
    );
    assert_eq!(rows[0]["substance"], substance);
    assert_eq!(rows[0]["reporter"]["email"], "aigerim@example.kz");
}

/// `verify-full` with only the built-in roots: the test CA is unknown, so the
/// connection is refused, by the binary with an error naming the database and
/// the certificate (and not the password), by the library with a TLS error. The
/// same settings with the CA connect: the refusal is the certificate's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_without_the_ca_is_refused_clearly() {
    let pg = TlsPostgres::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = pg.url("localhost", "verify-full");

    let config = config_for(dir.path(), &url, None);
    let refused = run_cli(&config, &["migrate"]);
    let message = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(
        message.contains("cannot open the database"),
        "no clear error: {message}"
    );
    assert!(message.contains("certificate"), "no cause: {message}");
    assert!(!message.contains("panicked"), "{message}");
    assert!(
        !message.contains(PASSWORD),
        "the password is shown: {message}"
    );

    match Db::connect(&settings(&url, None)).await {
        Err(e) => assert!(
            matches!(certificate_error(&e), Some(CertificateError::UnknownIssuer)),
            "not the unknown CA: {e}"
        ),
        Ok(_) => panic!("connected over TLS to a server signed by an unknown CA"),
    }

    let db = Db::connect(&settings(&url, Some(pg.ca_pem())))
        .await
        .expect("with the CA, the same URL connects");
    assert!(session_ssl(&db).await.0);
    db.close().await;
}

/// The server's view is what tells: with `verify-full` and the CA, `pg_stat_ssl`
/// says the session is encrypted; with `sslmode=disable` it says it is not (so
/// the check can tell them apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sees_the_session_encrypted() {
    let pg = TlsPostgres::start();

    let db = Db::connect(&settings(
        &pg.url("127.0.0.1", "verify-full"),
        Some(pg.ca_pem()),
    ))
    .await
    .expect("connect with verify-full to 127.0.0.1");
    db.migrate().await.expect("migrate over TLS");
    let (ssl, version) = session_ssl(&db).await;
    assert!(ssl, "the session is not encrypted");
    assert!(version.is_some());
    db.close().await;

    let clear = Db::connect(&settings(&pg.url("127.0.0.1", "disable"), None))
        .await
        .expect("connect without TLS");
    assert_eq!(session_ssl(&clear).await, (false, None));
    clear.close().await;
}

/// `verify-full` checks the host name: to a loopback address the certificate
/// does not name, with the CA that signed it trusted, the connection is refused
/// for the name. (The server is there: the refusal comes from its certificate.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_checks_the_host_name() {
    let pg = TlsPostgres::start();

    match Db::connect(&settings(
        &pg.url(UNNAMED_LOOPBACK, "verify-full"),
        Some(pg.ca_pem()),
    ))
    .await
    {
        Err(e) => assert!(
            matches!(
                certificate_error(&e),
                Some(
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                )
            ),
            "not the host name: {e}"
        ),
        Ok(_) => panic!("verify-full accepted a certificate that does not name {UNNAMED_LOOPBACK}"),
    }
}

/// `senim check-config`: a server off loopback with `sslmode=verify-full` (and a
/// CA file) is accepted; without it, refused naming `database.url` and not
/// showing the password; a missing CA file is named.
#[test]
fn check_config_wants_verify_full_off_loopback() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let certs = support::tls::TestCertificates::generate(dir.path());
    let remote = "postgres://senim:s3cret-pw@db.example.kz:5432/senim";

    let config = config_for(
        dir.path(),
        &format!("{remote}?sslmode=verify-full"),
        Some(&certs.ca_pem),
    );
    let accepted = run_cli(&config, &["check-config"]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));

    for ssl_mode in ["", "?sslmode=require", "?sslmode=verify-ca"] {
        let config = config_for(
            dir.path(),
            &format!("{remote}{ssl_mode}"),
            Some(&certs.ca_pem),
        );
        let refused = run_cli(&config, &["check-config"]);
        let message = stderr(&refused);
        assert!(!refused.status.success(), "{ssl_mode:?} accepted");
        assert!(message.contains("database.url"), "{message}");
        assert!(message.contains("sslmode=verify-full"), "{message}");
        assert!(!message.contains("s3cret-pw"), "password shown: {message}");
    }

    let config = config_for(
        dir.path(),
        &format!("{remote}?sslmode=verify-full"),
        Some(&dir.path().join("no-such-ca.pem")),
    );
    let refused = run_cli(&config, &["check-config"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("database.ca_file"),
        "{}",
        stderr(&refused)
    );
}
