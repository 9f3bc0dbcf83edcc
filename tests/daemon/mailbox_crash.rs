//! Crashes exactly between the commit and the MOVE, made deterministic with the
//! test-only `TEST_SENIM_CRASH_AFTER_COMMIT`: the real binary aborts right after
//! its first committed batch. Restarted, it registers nothing twice; and a second
//! Senim on the same database moves the dead one's messages once its claim runs out.

use crate::support;

use std::path::Path;
use std::time::Duration;

use support::database::TestDb;
use support::dovecot::Dovecot;
use support::eventually::{Raw, eventually, ok_if};
use support::senim::{Daemon, write_config};

const CRASH_HOOK: (&str, &str) = ("TEST_SENIM_CRASH_AFTER_COMMIT", "1");
const PROCESSED: &str = "Senim/Registered";

fn mail(n: usize) -> Vec<u8> {
    format!(
        "From: citizen{n}@example.kz\r\nSubject: Appeal {n}\r\nMessage-ID: <crash-{n}@example.kz>\r\n\r\nText {n}.\r\n"
    )
    .into_bytes()
}

fn mailbox_toml(dovecot: &Dovecot, extra: &str) -> String {
    format!(
        "[mailbox]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = \"{}\"\n\
         username = \"{}\"\npassword = \"{}\"\nauth = \"plain\"\npoll_interval_seconds = 1\n{extra}\n",
        dovecot.imap_port(),
        dovecot.ca_pem_path().display(),
        dovecot.user(),
        dovecot.password(),
    )
}

/// Starts a daemon in `dir` that aborts after its first commit, gives it five
/// messages, and waits until it is gone.
async fn crashed_daemon(dovecot: &Dovecot, dir: &Path, database_url: &str, extra: &str) -> Daemon {
    let port = support::ports::free_port();
    let config = write_config(dir, port, database_url, &mailbox_toml(dovecot, extra));
    let daemon = Daemon::start_with_env(dir, config, port, &[CRASH_HOOK]);
    for n in 0..5 {
        dovecot.append("INBOX", &mail(n));
    }
    eventually(Duration::from_secs(60), "the daemon to abort", async || {
        let up = reqwest::get(daemon.url("/healthz")).await.is_ok();
        ok_if(!up, Raw(daemon.logs()))
    })
    .await;
    assert!(
        daemon.logs().contains("aborting between commit and settle"),
        "{}",
        daemon.logs()
    );
    daemon
}

async fn wait_inbox_empty(dovecot: &Dovecot, daemon: &Daemon) {
    eventually(Duration::from_secs(60), "the INBOX emptied", async || {
        ok_if(dovecot.message_count("INBOX") == 0, Raw(daemon.logs()))
    })
    .await;
}

fn journal_lines(daemon: &Daemon) -> usize {
    let journal = support::senim::run_cli(&daemon.config, &["journal", "list", "--json"]);
    String::from_utf8_lossy(&journal.stdout).lines().count()
}

#[tokio::test]
async fn crash_between_commit_and_move_then_restart_registers_exactly_once() {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let daemon = crashed_daemon(&dovecot, dir.path(), "", "batch_size = 100").await;
    let url = format!("sqlite://{}", dir.path().join("data/senim.db").display());
    let db = support::database::connect(&url).await;
    let committed = senim::mailbox::store::list(&db).await.unwrap().len();
    assert!(committed >= 1, "a batch was committed before the crash");
    assert_eq!(dovecot.message_count("INBOX"), 5, "but nothing was moved");
    let (config, port) = (daemon.config.clone(), daemon.port);
    daemon.kill9();

    // The same installation (its instance id in the data directory) restarted:
    // its own claim does not hold it back.
    let daemon = Daemon::start_with_config(dir.path(), config, port);
    wait_inbox_empty(&dovecot, &daemon).await;
    let messages = senim::mailbox::store::list(&db).await.unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.disposition == "appeal")
            .count(),
        5
    );
    assert_eq!(journal_lines(&daemon), 5, "five appeals in the Journal");
    assert_eq!(dovecot.message_count(PROCESSED), 5);
    daemon.terminate();
}

#[tokio::test]
async fn another_senim_moves_a_dead_ones_messages_after_its_claim_runs_out() {
    let dovecot = Dovecot::start();
    let db = TestDb::postgres().await;
    let claim = "batch_size = 100\nsettle_claim_seconds = 8";
    let dead_dir = tempfile::tempdir().unwrap();
    let dead = crashed_daemon(&dovecot, dead_dir.path(), &db.url, claim).await;
    let committed = senim::mailbox::store::list(&db.db).await.unwrap().len();
    assert!(committed >= 1, "a batch was committed before the crash");
    dead.kill9();

    // Another installation on the same database: it finds the committed messages
    // already stored, leaves them to their claimant, then moves them itself.
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, &db.url, &mailbox_toml(&dovecot, claim));
    let other = Daemon::start_with_config(dir.path(), config, port);
    wait_inbox_empty(&dovecot, &other).await;
    assert!(
        other.logs().contains("left to it"),
        "the claim was honoured first:\n{}",
        other.logs()
    );
    assert_eq!(senim::mailbox::store::list(&db.db).await.unwrap().len(), 5);
    assert_eq!(journal_lines(&other), 5, "five appeals in the Journal");
    assert_eq!(dovecot.message_count(PROCESSED), 5, "each moved once");
    other.terminate();
}
