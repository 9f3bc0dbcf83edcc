//! Test harness: real servers on 127.0.0.1, started per test, each with its
//! own free ports and temporary directory. Nothing here reaches beyond
//! loopback.
//!
//! Each integration test file declares `mod support;`, then e.g.
//!
//! ```ignore
//! let imap = support::dovecot::Dovecot::start();
//! imap.append("INBOX", b"Subject: hi\r\n\r\nbody\r\n");
//! let smtp = support::smtp::SmtpServer::start(Default::default());
//! ```
//!
//! Prerequisites (PostgreSQL, Dovecot, aiosmtpd, openssl, the `senimtest` user):
//! `scripts/install-test-deps.sh`, once per machine. `SENIMTEST_PYTHON`
//! overrides the `python3` that runs the SMTP server.

#[allow(dead_code)]
pub mod app;
#[allow(dead_code)]
pub mod browser;
#[allow(dead_code)]
pub mod console;
#[allow(dead_code)]
pub mod database;
#[allow(dead_code)]
pub mod dovecot;
#[allow(dead_code)]
pub mod eventually;
#[allow(dead_code)]
pub mod files;
#[allow(dead_code)]
pub mod pbx;
#[allow(dead_code)]
pub mod pdf;
#[allow(dead_code)]
pub mod ports;
#[allow(dead_code)]
pub mod postgres_tls;
#[allow(dead_code)]
pub mod process;
#[allow(dead_code)]
pub mod scene;
#[allow(dead_code)]
pub mod senim;
#[allow(dead_code)]
pub mod smtp;
#[allow(dead_code)]
pub mod tcp_proxy;
#[allow(dead_code)]
pub mod time;
#[allow(dead_code)]
pub mod tls;

/// One scenario as two tests, on SQLite and on PostgreSQL:
/// `on_both_backends!(#[tokio::test] scenario => on_sqlite, on_postgres);`
/// where `scenario` is an `async fn(Backend)`.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    (#[$attr:meta] $scenario:ident => $sqlite:ident, $postgres:ident) => {
        #[$attr]
        async fn $sqlite() {
            $scenario($crate::support::database::Backend::Sqlite).await;
        }

        #[$attr]
        async fn $postgres() {
            $scenario($crate::support::database::Backend::Postgres).await;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;
