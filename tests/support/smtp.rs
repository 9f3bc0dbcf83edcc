//! A real SMTP server for integration tests: `smtp_server.py` (aiosmtpd),
//! run as a child process on 127.0.0.1.
//!
//! Every accepted message lands as a file in a spool directory inside the
//! server's temporary directory; [`SmtpServer::messages`] reads them back in
//! arrival order. The spool and the port survive [`SmtpServer::stop`] and
//! [`SmtpServer::start_again`], for "server down, then back" tests.
//!
//! The Python interpreter is `python3` from `PATH`, or `$SENIMTEST_PYTHON`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use tempfile::TempDir;

use super::ports::free_port;
use super::process::{self, ServerProcess, StartFailure};
use super::tls::TestCertificates;

/// The server script, next to this file.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");

/// Exit code of the script when aiosmtpd cannot be imported.
const EXIT_NO_AIOSMTPD: i32 = 3;

/// How many times to pick a new port when another process took ours.
const PORT_ATTEMPTS: usize = 3;

/// Transport security of the listening port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpMode {
    /// No TLS at all; STARTTLS is not offered.
    #[default]
    Plain,
    /// STARTTLS offered and required before MAIL (and before AUTH).
    StartTlsRequired,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    ImplicitTls,
}

impl SmtpMode {
    fn as_arg(self) -> &'static str {
        match self {
            SmtpMode::Plain => "plain",
            SmtpMode::StartTlsRequired => "starttls",
            SmtpMode::ImplicitTls => "tls",
        }
    }
}

/// How [`SmtpServer::start`] configures the server.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Transport security.
    pub mode: SmtpMode,
    /// `Some((user, password))`: AUTH (PLAIN or LOGIN) required before MAIL.
    pub auth: Option<(String, String)>,
    /// Recipients answered with `550` (permanent failure) at RCPT
    /// (compared case-insensitively).
    pub reject_permanent: Vec<String>,
    /// Recipients answered with `451` (temporary failure) at RCPT
    /// (compared case-insensitively).
    pub reject_temporary: Vec<String>,
}

/// One accepted message, as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), empty for the null sender `<>`.
    pub mail_from: String,
    /// Accepted envelope recipients (`RCPT TO`), in order.
    pub rcpt_to: Vec<String>,
    /// The user the client authenticated as, if it did.
    pub auth_user: Option<String>,
    /// The message data, byte for byte (CRLF line ends, dot-unstuffed).
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// Parses one spool file (format documented in `smtp_server.py`).
    fn parse(bytes: &[u8]) -> ReceivedMail {
        let split = bytes
            .windows(2)
            .position(|pair| pair == b"\n\n")
            .expect("spool file without header end");
        let header = std::str::from_utf8(&bytes[..split]).expect("UTF-8 spool header");
        let mut mail = ReceivedMail {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            auth_user: None,
            data: bytes[split + 2..].to_vec(),
        };
        for line in header.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "FROM" => mail.mail_from = value.to_owned(),
                "RCPT" => mail.rcpt_to.push(value.to_owned()),
                "AUTH" => mail.auth_user = Some(value.to_owned()),
                _ => panic!("unexpected spool header line {line:?}"),
            }
        }
        mail
    }

    /// The data as (lossy) UTF-8, for assertions.
    pub fn data_str(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A test SMTP server; dropping it kills the process and deletes the spool.
#[derive(Debug)]
pub struct SmtpServer {
    options: SmtpOptions,
    port: u16,
    certs: TestCertificates,
    spool: PathBuf,
    log: PathBuf,
    server: Option<ServerProcess>,
    /// Never answer DATA (see [`SmtpServer::start_stalling_data`]).
    stall_data: bool,
    _dir: TempDir,
}

impl SmtpServer {
    /// Starts a server configured by `options` on a free port and waits
    /// until it accepts connections. Panics (with the server's output) if it
    /// cannot start, e.g. because aiosmtpd is missing.
    pub fn start(options: SmtpOptions) -> SmtpServer {
        Self::start_as(options, false)
    }

    /// A plain server that takes DATA and never answers (a server hanging
    /// mid-transaction); [`SmtpServer::wait_stalled`] tells when a client got there.
    pub fn start_stalling_data() -> SmtpServer {
        Self::start_as(SmtpOptions::default(), true)
    }

    fn start_as(options: SmtpOptions, stall_data: bool) -> SmtpServer {
        for _ in 0..PORT_ATTEMPTS {
            let mut server = SmtpServer::prepare(options.clone(), free_port());
            server.stall_data = stall_data;
            match server.launch() {
                Ok(()) => return server,
                Err(_) if server.lost_port_race() => continue,
                Err(failure) => server.fail(failure),
            }
        }
        panic!("SMTP server: port taken by other processes {PORT_ATTEMPTS} times in a row");
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The listening port (the same after [`SmtpServer::start_again`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// PEM file of the CA that signed the server certificate (SANs
    /// `localhost`, `127.0.0.1`, `::1`). Present in every mode.
    pub fn ca_pem_path(&self) -> &Path {
        &self.certs.ca_pem
    }

    /// The server's log (aiosmtpd's session log, Python errors).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    fn stall_marker(&self) -> PathBuf {
        self.log.with_file_name("data-stalled")
    }

    /// With `stall_data`: waits until a client has sent DATA (and is left
    /// waiting for the answer); panics after `timeout`.
    pub fn wait_stalled(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.stall_marker().exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no client reached DATA within {timeout:?}");
    }

    /// Whether the server is running (not [`SmtpServer::stop`]ped).
    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// Every message accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.spool)
            .expect("read spool directory")
            .map(|entry| entry.expect("spool entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        // Zero-padded sequence numbers: name order is arrival order.
        paths.sort();
        paths
            .iter()
            .map(|path| ReceivedMail::parse(&fs::read(path).expect("read spool file")))
            .collect()
    }

    /// Waits up to `timeout` until at least `count` messages have arrived and
    /// returns them all; panics with the server log if they do not.
    pub fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let found = process::poll_until(timeout, || {
            let messages = self.messages();
            (messages.len() >= count).then_some(messages)
        });
        found.unwrap_or_else(|| {
            panic!(
                "expected {count} message(s) within {timeout:?}, got {}\n--- SMTP log tail ---\n{}",
                self.messages().len(),
                process::tail(&self.log, 30)
            )
        })
    }

    /// Kills the server; its port refuses connections once this returns.
    /// The spool is kept. Does nothing if already stopped.
    pub fn stop(&mut self) {
        // SIGKILL: the spool is written atomically, nothing to wind down.
        drop(self.server.take());
    }

    /// Starts the stopped server again on the same port, with the same
    /// options and spool (new messages are numbered after the old ones).
    pub fn start_again(&mut self) {
        assert!(
            !self.is_running(),
            "start_again: the SMTP server is running"
        );
        if let Err(failure) = self.launch() {
            self.fail(failure);
        }
    }

    /// Starts the stopped server again on the same port and spool with other
    /// `options` (say, accepting the recipients it refused before).
    pub fn start_again_with(&mut self, options: SmtpOptions) {
        self.options = options;
        self.start_again();
    }

    /// Creates the temporary directory, spool and certificates.
    fn prepare(options: SmtpOptions, port: u16) -> SmtpServer {
        let dir = tempfile::Builder::new()
            .prefix("senim-smtp-")
            .tempdir()
            .expect("create temporary directory");
        let spool = dir.path().join("spool");
        fs::create_dir(&spool).expect("create spool directory");
        SmtpServer {
            options,
            port,
            certs: TestCertificates::generate(dir.path()),
            spool,
            log: dir.path().join("smtp.log"),
            server: None,
            stall_data: false,
            _dir: dir,
        }
    }

    /// Runs the script and waits until its port accepts connections.
    fn launch(&mut self) -> Result<(), StartFailure> {
        let log = process::append_log(&self.log);
        let args = self.script_args();
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        let python = python();
        let server = ServerProcess::start(python.as_ref(), &args, &log, &[self.port])?;
        self.server = Some(server);
        Ok(())
    }

    /// `smtp_server.py` and its arguments.
    fn script_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![SCRIPT.into()];
        let mut flag = |name: &str, value: &OsStr| {
            args.push(name.into());
            args.push(value.to_owned());
        };
        flag("--host", self.host().as_ref());
        flag("--port", self.port.to_string().as_ref());
        flag("--spool", self.spool.as_os_str());
        flag("--mode", self.options.mode.as_arg().as_ref());
        flag("--cert", self.certs.cert_pem.as_os_str());
        flag("--key", self.certs.key_pem.as_os_str());
        if let Some((user, password)) = &self.options.auth {
            flag("--auth-user", user.as_ref());
            flag("--auth-password", password.as_ref());
        }
        for address in &self.options.reject_permanent {
            flag("--reject-permanent", address.as_ref());
        }
        for address in &self.options.reject_temporary {
            flag("--reject-temporary", address.as_ref());
        }
        if self.stall_data {
            flag("--stall-data", self.stall_marker().as_os_str());
        }
        args
    }

    /// True if the last start failed because the port was taken meanwhile.
    fn lost_port_race(&self) -> bool {
        fs::read_to_string(&self.log).is_ok_and(|log| log.contains("Address already in use"))
    }

    /// Panics with everything useful to understand a failed start.
    fn fail(&self, failure: StartFailure) -> ! {
        let missing = matches!(failure, StartFailure::Exited(status) if no_aiosmtpd(status));
        let hint = if missing {
            "aiosmtpd is not installed: run scripts/install-test-deps.sh\n"
        } else {
            ""
        };
        panic!(
            "{hint}SMTP server ({} {SCRIPT}) did not start listening on 127.0.0.1:{} \
             ({failure:?})\n--- log tail ---\n{}",
            python(),
            self.port,
            process::tail(&self.log, 30)
        );
    }
}

/// The Python interpreter that runs the script.
fn python() -> String {
    std::env::var("SENIMTEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the script exited because aiosmtpd is missing.
fn no_aiosmtpd(status: ExitStatus) -> bool {
    status.code() == Some(EXIT_NO_AIOSMTPD)
}
