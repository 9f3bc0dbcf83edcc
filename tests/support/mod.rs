//! Test harness: real servers on 127.0.0.1, started per test, each with its
//! own free ports and temporary directory. Nothing here reaches beyond
//! loopback.
//!
//! Each test binary (`tests/intake`, `tests/office`, `tests/daemon`, the two
//! benchmarks) declares `mod support;` once, then e.g.
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

pub mod app;
pub mod browser;
pub mod console;
pub mod database;
pub mod dovecot;
pub mod eventually;
pub mod files;
pub mod pbx;
pub mod pdf;
pub mod ports;
pub mod postgres_tls;
pub mod process;
pub mod rules;
pub mod scene;
pub mod senim;
pub mod smtp;
pub mod tcp_proxy;
pub mod time;
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
