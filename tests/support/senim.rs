//! The real `senim` binary, run by end-to-end tests: with a configuration in a
//! temporary directory, listening on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::eventually::{Raw, eventually_blocking, ok_if};
use super::ports::free_port;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_senim")
}

/// A `senim` command with none of the caller's `SENIM_…` variables (which would
/// override the test's configuration) and no `RUST_LOG`.
pub fn command() -> Command {
    let mut command = Command::new(binary());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SENIM_") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

/// Runs `senim --config <config> <args>` to completion.
/// Asserts a command ran well, showing its stderr if not.
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a run of the binary wrote, stdout then stderr, for its messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn run_cli(config: &Path, args: &[&str]) -> Output {
    command()
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run senim")
}

/// A person of the daemon configured by `config` (`senim persons add`), with
/// their token; added once per configuration and login, then remembered.
#[derive(Clone, Debug)]
pub struct Person {
    pub login: String,
    pub token: String,
}

pub fn person(config: &Path, login: &str, roles: &[&str]) -> Person {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static ADDED: Mutex<Option<HashMap<(PathBuf, String), String>>> = Mutex::new(None);
    let mut added = ADDED.lock().unwrap_or_else(|e| e.into_inner());
    let key = (config.to_owned(), login.to_owned());
    if let Some(token) = added.get_or_insert_with(HashMap::new).get(&key) {
        return Person {
            login: login.to_owned(),
            token: token.clone(),
        };
    }
    let mut args = vec!["persons", "add", login, "--name", "Test Person"];
    for role in roles {
        args.extend(["--role", role]);
    }
    let out = run_cli(config, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("snm_"))
        .expect("the new person's token")
        .to_owned();
    added
        .get_or_insert_with(HashMap::new)
        .insert(key, token.clone());
    Person {
        login: login.to_owned(),
        token,
    }
}

/// Runs `senim --config <config> --as <person> <args>`, their token in `SENIM_TOKEN`.
pub fn run_cli_as(config: &Path, person: &Person, args: &[&str]) -> Output {
    command()
        .arg("--config")
        .arg(config)
        .args(["--as", &person.login])
        .args(args)
        .env("SENIM_TOKEN", &person.token)
        .output()
        .expect("run senim")
}

/// Writes a configuration file for a daemon in `dir`: its data under `dir/data`,
/// the given database URL (empty for SQLite in the data directory), listening on
/// `port` and its metrics listener on another free loopback port (not the
/// default 9464, which daemons started side by side would share), followed by
/// `extra` TOML.
pub fn write_config(dir: &Path, port: u16, database_url: &str, extra: &str) -> PathBuf {
    let path = dir.join("senim.toml");
    let metrics_port = free_port();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n\
         shutdown_grace_seconds = 5\n\n\
         [database]\ndata_dir = \"{}\"\nurl = \"{database_url}\"\n\n\
         [log]\nformat = \"json\"\nlevel = \"info\"\n\n{extra}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Adds `keys` (TOML lines) to the `[server]` table of the configuration
/// `write_config` wrote at `config` (TOML allows a table once).
pub fn add_server_keys(config: &Path, keys: &str) {
    super::scene::add_keys(config, "server", keys);
}

/// The metrics listener's address (`server.metrics_listen`) in the configuration
/// file `config`, with a `SENIM_SERVER__METRICS_LISTEN` among `env` winning as
/// it does in the daemon; none when it is off (empty) or not in the file.
pub fn metrics_listen(config: &Path, env: &[(&str, &str)]) -> Option<String> {
    let configured = env
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("SENIM_SERVER__METRICS_LISTEN"))
        .map(|(_, value)| (*value).to_owned())
        .or_else(|| {
            let text = std::fs::read_to_string(config).ok()?;
            let table: toml::Table = text.parse().ok()?;
            let listen = table.get("server")?.get("metrics_listen")?.as_str()?;
            Some(listen.to_owned())
        })?;
    (!configured.trim().is_empty()).then_some(configured)
}

/// The text of the daemon's `/metrics`.
pub async fn metrics(d: &impl Served) -> String {
    reqwest::get(d.metrics_url("/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("the metrics' text")
}

/// A serving daemon, in its own process (`Daemon`) or in the test's
/// (`support::app::TestApp`): what the HTTP tests need of either.
pub trait Served {
    /// The URL of `path` on the daemon.
    fn url(&self, path: &str) -> String;
    /// The URL of `path` on the daemon's metrics listener (`/metrics`, `/readyz`
    /// with its details).
    fn metrics_url(&self, path: &str) -> String;
    /// Its configuration file (for `run_cli`).
    fn config_path(&self) -> &Path;
    /// What it has logged so far.
    fn logs(&self) -> String;
}

/// A reference to a served daemon is served too (for helpers given `&d`
/// where `d` is a reference already).
impl<T: Served> Served for &T {
    fn url(&self, path: &str) -> String {
        (**self).url(path)
    }

    fn metrics_url(&self, path: &str) -> String {
        (**self).metrics_url(path)
    }

    fn config_path(&self) -> &Path {
        (**self).config_path()
    }

    fn logs(&self) -> String {
        (**self).logs()
    }
}

impl Served for Daemon {
    fn url(&self, path: &str) -> String {
        Daemon::url(self, path)
    }

    fn metrics_url(&self, path: &str) -> String {
        Daemon::metrics_url(self, path)
    }

    fn config_path(&self) -> &Path {
        &self.config
    }

    fn logs(&self) -> String {
        Daemon::logs(self)
    }
}

/// A running `senim serve`.
pub struct Daemon {
    child: Option<Child>,
    pub port: u16,
    pub config: PathBuf,
    pub log: PathBuf,
    /// The metrics listener's address, if it has one.
    pub metrics: Option<String>,
}

impl Daemon {
    /// Starts `senim serve` with a fresh config in `dir` and waits for `/healthz`.
    pub fn start(dir: &Path, database_url: &str, extra: &str) -> Daemon {
        let port = free_port();
        let config = write_config(dir, port, database_url, extra);
        Self::start_with_config(dir, config, port)
    }

    /// Starts `senim serve` on an existing config file (for restarts).
    pub fn start_with_config(dir: &Path, config: PathBuf, port: u16) -> Daemon {
        Self::start_with_env(dir, config, port, &[])
    }

    /// Starts `senim serve` on an existing config file with extra environment
    /// variables (the test-only crash hook, say).
    pub fn start_with_env(dir: &Path, config: PathBuf, port: u16, env: &[(&str, &str)]) -> Daemon {
        let addr = format!("127.0.0.1:{port}");
        Self::start_until(dir, config, port, env, "/healthz over HTTP", || {
            http_get_status(&addr, "/healthz") == Some(200)
        })
    }

    /// Starts `senim serve` on an existing config file and waits until `ready`
    /// (`what`, for the failure's message) holds: a daemon serving HTTPS, which
    /// the plain-HTTP poll of `start` cannot reach.
    pub fn start_until(
        dir: &Path,
        config: PathBuf,
        port: u16,
        env: &[(&str, &str)],
        what: &str,
        ready: impl FnMut() -> bool,
    ) -> Daemon {
        let log = dir.join(format!("senim-{}.log", uuid::Uuid::new_v4().simple()));
        let log_file = std::fs::File::create(&log).expect("create log file");
        let child = command()
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn senim serve");
        let metrics = metrics_listen(&config, env);
        let mut daemon = Daemon {
            child: Some(child),
            port,
            config,
            log,
            metrics,
        };
        daemon.wait_until(what, ready);
        daemon
    }

    /// Sends the signal `name` (`HUP`, say) to the daemon.
    pub fn signal(&self, name: &str) {
        signal(self.child.as_ref().expect("running"), name);
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// The daemon's process id (for its memory use in benchmarks).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The URL of `path` on the metrics listener (plain HTTP).
    pub fn metrics_url(&self, path: &str) -> String {
        let addr = self
            .metrics
            .as_deref()
            .expect("the daemon has a metrics listener (server.metrics_listen)");
        format!("http://{addr}{path}")
    }

    /// Everything the daemon logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let what = format!("senim to answer {what}");
        eventually_blocking(Duration::from_secs(30), &what, || {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("senim exited during start-up ({status}):\n{}", self.logs());
            }
            ok_if(ready(), Raw(self.logs()))
        });
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(&child, "TERM");
        child.wait().expect("wait for senim")
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{name} failed");
}

/// A minimal blocking HTTP GET, for start-up polling without an async runtime.
pub fn http_get_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until the outbox of the daemon configured by `config` has nothing left to
/// send (every mail `sent` or `failed`), and returns its rows (`outbox list
/// --json`): a check on state, instead of a sleep, that nothing more is coming.
pub fn wait_outbox_settled(config: &Path, timeout: Duration) -> Vec<serde_json::Value> {
    eventually_blocking(timeout, "the outbox settled", || {
        let out = run_cli(config, &["outbox", "list", "--json"]);
        let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let settled = out.status.success()
            && rows
                .iter()
                .all(|r| r["state"] == "sent" || r["state"] == "failed");
        if settled { Ok(rows) } else { Err(rows) }
    })
}
