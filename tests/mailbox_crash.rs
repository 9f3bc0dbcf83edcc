//! `kill -9`-equivalent crash exactly between the commit and the MOVE, made
//! deterministic with the test-only `TEST_SENIM_CRASH_AFTER_COMMIT`: the real
//! binary aborts right after its first committed batch; restarted, it
//! registers nothing twice. Alone in its test binary because it sets an
//! environment variable the spawned daemon inherits.

mod support;

use std::time::{Duration, Instant};

use support::dovecot::Dovecot;
use support::senim::Daemon;

fn mail(n: usize) -> Vec<u8> {
    format!(
        "From: citizen{n}@example.kz\r\nSubject: Appeal {n}\r\nMessage-ID: <crash-{n}@example.kz>\r\n\r\nText {n}.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn crash_between_commit_and_move_then_restart_registers_exactly_once() {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[mailbox]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = \"{}\"\n\
         username = \"{}\"\npassword = \"{}\"\nauth = \"plain\"\npoll_interval_seconds = 1\nbatch_size = 100\n",
        dovecot.imap_port(),
        dovecot.ca_pem_path().display(),
        dovecot.user(),
        dovecot.password(),
    );
    // SAFETY: the only test in this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("TEST_SENIM_CRASH_AFTER_COMMIT", "1") };
    let daemon = Daemon::start(dir.path(), "", &extra);
    for n in 0..5 {
        dovecot.append("INBOX", &mail(n));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(daemon.url("/healthz")).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the daemon did not abort:\n{}",
            daemon.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        daemon.logs().contains("aborting between commit and settle"),
        "{}",
        daemon.logs()
    );
    let url = format!("sqlite://{}", dir.path().join("data/senim.db").display());
    let db = support::database::connect(&url).await;
    let committed = senim::mailbox::store::list(&db).await.unwrap().len();
    assert!(committed >= 1, "a batch was committed before the crash");
    assert_eq!(dovecot.message_count("INBOX"), 5, "but nothing was moved");
    let (config, port) = (daemon.config.clone(), daemon.port);
    daemon.kill9();

    unsafe { std::env::remove_var("TEST_SENIM_CRASH_AFTER_COMMIT") };
    let daemon = Daemon::start_with_config(dir.path(), config, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while dovecot.message_count("INBOX") > 0 {
        assert!(
            Instant::now() < deadline,
            "INBOX not emptied:\n{}",
            daemon.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = senim::mailbox::store::list(&db).await.unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.disposition == "appeal")
            .count(),
        5
    );
    let journal = support::senim::run_cli(&daemon.config, &["journal", "list", "--json"]);
    let lines = String::from_utf8_lossy(&journal.stdout).lines().count();
    assert_eq!(lines, 5, "five appeals in the Journal");
    assert_eq!(dovecot.message_count("Senim/Registered"), 5);
    daemon.terminate();
}
