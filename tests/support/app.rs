//! The daemon in the test's own process, as zero-to-production's `spawn_app`:
//! the configuration a test writes, assembled by `App::open` (the daemon's own
//! assembly), serving on a free loopback port with a pinned clock, and every
//! background task running. Faster than the binary and with the clock in the
//! test's hand; the tests that need signals, crashes or a second process use
//! `support::senim::Daemon` instead.
//!
//! What the daemon logs goes to one buffer per test binary (`logs`), so a test
//! can check that no identity was logged by any test running beside it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use senim::app::App;
use senim::clock::FixedClock;
use senim::config::{Config, ConfigSource};

use super::eventually::eventually;
use super::senim::{Served, write_config};

/// A running in-process daemon; stopped when dropped.
pub struct TestApp {
    pub app: Arc<App>,
    pub clock: FixedClock,
    pub addr: SocketAddr,
    pub config: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Serves a fresh configuration in `dir` (as `support::senim::write_config`
    /// writes it: data under `dir/data`, `database_url` empty for SQLite there,
    /// then `extra`), its clock pinned at `at`.
    pub async fn spawn(dir: &Path, database_url: &str, extra: &str, at: DateTime<Utc>) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let config_path = write_config(dir, addr.port(), database_url, extra);
        Self::serve_on(listener, config_path, at).await
    }

    async fn serve_on(
        listener: tokio::net::TcpListener,
        config_path: PathBuf,
        at: DateTime<Utc>,
    ) -> TestApp {
        capture_logs();
        let addr = listener.local_addr().expect("local address");
        let config = Config::load(&ConfigSource::new(Some(&config_path))).expect("test config");
        let clock = FixedClock::at(at);
        let app = Arc::new(
            App::open(config, Arc::new(clock.clone()))
                .await
                .expect("assemble the daemon"),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut task = tokio::spawn(senim::server::serve_until(app.clone(), listener, async {
            let _ = stopped.await;
        }));
        // The main port is bound above; the metrics listener is bound by
        // `serve_until`, in its task: wait until it accepts connections.
        if let Some(metrics) = app.config.server.metrics_listen {
            let what = format!("the metrics listener {metrics} to start");
            eventually(Duration::from_secs(30), &what, async || {
                if task.is_finished() {
                    let ended = (&mut task).await;
                    panic!("the daemon stopped during start-up: {ended:?}");
                }
                tokio::net::TcpStream::connect(metrics).await.map(drop)
            })
            .await;
        }
        TestApp {
            app,
            clock,
            addr,
            config: config_path,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops every task, as SIGTERM does, and waits for them.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("served");
        }
    }
}

impl Served for TestApp {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn metrics_url(&self, path: &str) -> String {
        let addr = self
            .app
            .config
            .server
            .metrics_listen
            .expect("the daemon has a metrics listener (server.metrics_listen)");
        format!("http://{addr}{path}")
    }

    fn config_path(&self) -> &Path {
        &self.config
    }

    fn logs(&self) -> String {
        logs()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Everything every in-process daemon of this test binary has logged so far.
pub fn logs() -> String {
    let buffer = LOGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    String::from_utf8_lossy(&buffer).into_owned()
}

struct Buffer;

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = LOGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a JSON log at `info` into `LOGS`: what the
/// daemon logs in production.
fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(|| Buffer)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}
