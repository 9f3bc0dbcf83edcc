//! Server processes started by the harness, and polling helpers.
//!
//! A [`ServerProcess`] runs in its own process group, so that stopping it
//! also stops everything it forked (Dovecot's login, auth and mail
//! processes). It also holds a "lifeline" pipe to a watchdog in that group:
//! if the test process dies without running destructors (Ctrl-C, SIGKILL, a
//! test runner's timeout), the pipe closes and the watchdog sends SIGTERM to
//! the group, so no server outlives its test run.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::ports;

/// How long a server may take to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to shut down after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Interval between two checks while polling.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// `sh -c` script that runs `"$@"` as the process-group leader, with a
/// watchdog that terminates the group once stdin (the lifeline) closes.
/// Background jobs of a non-interactive shell get /dev/null as stdin, hence fd 3.
const LIFELINE: &str =
    "exec 3<&0 </dev/null; { cat <&3 >/dev/null; kill -TERM 0; } & exec \"$@\" 3<&-";

/// Calls `check` until it returns `Some`, or `timeout` has passed (then `None`).
pub fn poll_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Why a server is not serving.
#[derive(Debug)]
pub enum StartFailure {
    /// `sh` could not be spawned.
    Spawn(std::io::Error),
    /// The process exited before all its ports accepted connections (exit
    /// status 127: the program was not found).
    Exited(ExitStatus),
    /// The ports did not accept connections within [`START_TIMEOUT`].
    TimedOut,
}

/// A running server; dropping it kills its whole process group.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    _lifeline: ChildStdin,
}

impl ServerProcess {
    /// Runs `program args...` with stdout and stderr appended to `log`, and
    /// waits until every port in `ports` accepts connections on 127.0.0.1.
    /// On failure the process group is killed.
    pub fn start(
        program: &OsStr,
        args: &[&OsStr],
        log: &File,
        ports: &[u16],
    ) -> Result<ServerProcess, StartFailure> {
        let output = || log.try_clone().expect("clone log file handle");
        let mut child = Command::new("sh")
            .args(["-c", LIFELINE, "sh"])
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(output())
            .stderr(output())
            .process_group(0)
            .spawn()
            .map_err(StartFailure::Spawn)?;
        let lifeline = child.stdin.take().expect("piped stdin");
        let mut server = ServerProcess {
            child,
            _lifeline: lifeline,
        };
        server.wait_until_listening(ports)?;
        Ok(server)
    }

    /// Stops the server: SIGTERM to the process group, a bounded wait, then
    /// SIGKILL to whatever is left. Returns once the group leader is reaped.
    pub fn terminate(mut self) {
        signal_group(self.child.id(), "TERM");
        if wait_for_exit(&mut self.child, STOP_TIMEOUT).is_none() {
            eprintln!("server ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
        }
        // Drop sends SIGKILL to the group: ends stragglers, if any.
    }

    /// Waits until every port in `ports` accepts connections, failing early
    /// if the process exits.
    fn wait_until_listening(&mut self, ports: &[u16]) -> Result<(), StartFailure> {
        let outcome = poll_until(START_TIMEOUT, || {
            if let Some(status) = self.child.try_wait().expect("try_wait on server") {
                return Some(Err(StartFailure::Exited(status)));
            }
            let listening = ports.iter().all(|&port| ports::accepts_connections(port));
            listening.then_some(Ok(()))
        });
        outcome.unwrap_or(Err(StartFailure::TimedOut))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        signal_group(self.child.id(), "KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `timeout` for `child` to exit.
fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    poll_until(timeout, || child.try_wait().expect("try_wait on server"))
}

/// Sends `signal` (`TERM`, `KILL`, ...) to the process group `pgid`. Errors
/// ("no such process": the group is already gone) are ignored.
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .output();
}

/// The last `lines` lines of the text file at `path`, or a note that it is unreadable.
pub fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({} unreadable: {e})", path.display()),
    }
}

/// Opens `path` for appending (created if missing): a server's log.
pub fn append_log(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Runs `id FLAGS [USER]` and returns its trimmed output; a user not found
/// is a machine not set up (`scripts/install-test-deps.sh` creates the test
/// users).
pub fn id(flags: &[&str], user: Option<&str>) -> String {
    let output = Command::new("id")
        .args(flags)
        .args(user)
        .output()
        .expect("run id");
    assert!(
        output.status.success(),
        "user {user:?} not found ({}): run scripts/install-test-deps.sh, which creates it",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 from id")
        .trim()
        .to_owned()
}
