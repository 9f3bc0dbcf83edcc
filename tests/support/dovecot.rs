//! A private Dovecot IMAP server for integration tests.
//!
//! Each [`Dovecot`] runs its own `dovecot -F -c <tempdir>/dovecot.conf`: own
//! base_dir, state_dir, log file, passwd-file, Maildir storage and TLS
//! certificates, listening on 127.0.0.1 only, on two free ports (IMAP with
//! STARTTLS, and IMAPS). It never touches the system-wide Dovecot.
//!
//! Mailboxes are inspected and filled with `doveadm -c <config>`, which talks
//! to the running server's auth socket: those helpers need the server up.
//!
//! Mail processes never run as root (Dovecot refuses that): when the tests run
//! as root, mail belongs to the system user [`MAIL_USER`] that
//! `scripts/install-test-deps.sh` creates; otherwise the whole server runs as
//! the current user, without chroot.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use super::ports::{self, free_port};
use super::process::{self, ServerProcess, StartFailure, id};
use super::tls::TestCertificates;

/// System user owning the test mail when the tests run as root.
pub const MAIL_USER: &str = "senimtest";

/// What Dovecot 2.3 advertises after login by default; trimmed to switch
/// extensions off (`imap_capability` replaces the whole list).
const DEFAULT_CAPABILITIES: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
    SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
    CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC \
    ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY \
    PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY";

/// How many times to pick new ports when another process took ours.
const PORT_ATTEMPTS: usize = 3;

/// How [`Dovecot::start_with`] configures the server.
#[derive(Debug, Clone)]
pub struct DovecotOptions {
    /// Advertise the MOVE extension (RFC 6851). When false, CAPABILITY lacks
    /// MOVE (the command itself still works, as on servers that hide it).
    pub move_capability: bool,
    /// Advertise IDLE (RFC 2177). When false, CAPABILITY lacks IDLE.
    pub idle: bool,
    /// IMAP login name.
    pub user: String,
    /// IMAP password (PLAIN and LOGIN mechanisms, or the LOGIN command).
    pub password: String,
}

impl Default for DovecotOptions {
    fn default() -> Self {
        DovecotOptions {
            move_capability: true,
            idle: true,
            user: "senim".to_owned(),
            password: "senim-test-password".to_owned(),
        }
    }
}

impl DovecotOptions {
    /// The `imap_capability` value, or `None` to keep Dovecot's default.
    fn capability_setting(&self) -> Option<String> {
        if self.move_capability && self.idle {
            return None;
        }
        let hidden = |cap: &&str| {
            (*cap == "MOVE" && !self.move_capability) || (*cap == "IDLE" && !self.idle)
        };
        let kept: Vec<&str> = DEFAULT_CAPABILITIES
            .split_whitespace()
            .filter(|cap| !hidden(cap))
            .collect();
        Some(kept.join(" "))
    }
}

/// The non-root account that owns the mail and runs the mail processes.
#[derive(Debug, Clone)]
struct MailAccount {
    name: String,
    group: String,
    uid: u32,
    gid: u32,
    /// Whether the server runs as root (and drops to this account for mail).
    as_root: bool,
}

impl MailAccount {
    /// [`MAIL_USER`] when running as root, else the current user.
    fn for_current_process() -> MailAccount {
        let as_root = fs::metadata("/proc/self").expect("stat /proc/self").uid() == 0;
        let name = if as_root {
            MAIL_USER.to_owned()
        } else {
            id(&["-un"], None)
        };
        MailAccount {
            group: id(&["-gn"], Some(&name)),
            uid: id(&["-u"], Some(&name)).parse().expect("numeric uid"),
            gid: id(&["-g"], Some(&name)).parse().expect("numeric gid"),
            name,
            as_root,
        }
    }
}

/// Files of one instance, all inside its temporary directory.
#[derive(Debug)]
struct Layout {
    config: PathBuf,
    passwd: PathBuf,
    base_dir: PathBuf,
    state_dir: PathBuf,
    homes: PathBuf,
    log: PathBuf,
    stderr: PathBuf,
}

impl Layout {
    fn new(root: &Path) -> Layout {
        Layout {
            config: root.join("dovecot.conf"),
            passwd: root.join("passwd"),
            base_dir: root.join("run"),
            state_dir: root.join("state"),
            homes: root.join("home"),
            log: root.join("dovecot.log"),
            stderr: root.join("dovecot.stderr"),
        }
    }
}

/// A running (or stopped) private Dovecot; dropping it kills the server (its
/// whole process group) and deletes its files.
#[derive(Debug)]
pub struct Dovecot {
    options: DovecotOptions,
    imap_port: u16,
    imaps_port: u16,
    certs: TestCertificates,
    layout: Layout,
    server: Option<ServerProcess>,
    _dir: TempDir,
}

impl Dovecot {
    /// Starts a server with [`DovecotOptions::default`].
    pub fn start() -> Dovecot {
        Dovecot::start_with(DovecotOptions::default())
    }

    /// Starts a server configured by `options`, waiting until both ports
    /// accept connections. Panics with the Dovecot log tail if it cannot start.
    pub fn start_with(options: DovecotOptions) -> Dovecot {
        for _ in 0..PORT_ATTEMPTS {
            let (imap_port, imaps_port) = two_free_ports();
            let mut dovecot = Dovecot::prepare(options.clone(), imap_port, imaps_port);
            match dovecot.launch() {
                Ok(()) => return dovecot,
                Err(_) if dovecot.lost_port_race() => continue,
                Err(failure) => dovecot.fail(failure),
            }
        }
        panic!("Dovecot: ports taken by other processes {PORT_ATTEMPTS} times in a row");
    }

    /// Always `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// IMAP port (plain connection, STARTTLS offered).
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// IMAPS port (implicit TLS).
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// Login name.
    pub fn user(&self) -> &str {
        &self.options.user
    }

    /// Password.
    pub fn password(&self) -> &str {
        &self.options.password
    }

    /// PEM file of the CA that signed the server certificate (SANs
    /// `localhost`, `127.0.0.1`, `::1`): what a client must trust.
    pub fn ca_pem_path(&self) -> &Path {
        &self.certs.ca_pem
    }

    /// Dovecot's log file (`log_path`).
    pub fn log_path(&self) -> &Path {
        &self.layout.log
    }

    /// Whether the server is running (not [`Dovecot::stop`]ped).
    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// The daemon's `[mailbox]` section for this server: IMAPS with its CA,
    /// polled every second.
    pub fn mailbox_toml(&self) -> String {
        format!(
            "[mailbox]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\n\
             username = \"{}\"\npassword = \"{}\"\npoll_interval_seconds = 1\ntimeout_seconds = 20\n\
             max_backoff_seconds = 2\n",
            self.imaps_port(),
            self.ca_pem_path().display(),
            self.user(),
            self.password(),
        )
    }

    /// Delivers the raw RFC 5322 message `raw` into `mailbox` (`doveadm save`).
    pub fn append(&self, mailbox: &str, raw: &[u8]) {
        self.doveadm_user(&["save"], &["-m", mailbox], Some(raw));
    }

    /// Creates and subscribes to `mailbox` (`/` separates levels).
    pub fn create_mailbox(&self, mailbox: &str) {
        self.doveadm_user(&["mailbox", "create"], &["-s", mailbox], None);
    }

    /// UIDs of the messages in `mailbox`, ascending.
    pub fn list_uids(&self, mailbox: &str) -> Vec<u32> {
        let rows = self.doveadm_rows(&["search"], &["mailbox", mailbox, "ALL"]);
        let mut uids: Vec<u32> = rows.iter().map(|row| parse_field(row, "uid")).collect();
        uids.sort_unstable();
        uids
    }

    /// Flags of message `uid` in `mailbox`, e.g. `["\\Seen"]`.
    pub fn flags(&self, mailbox: &str, uid: u32) -> Vec<String> {
        let uid = uid.to_string();
        let rows = self.doveadm_rows(&["fetch"], &["flags", "mailbox", mailbox, "uid", &uid]);
        let row = rows
            .first()
            .unwrap_or_else(|| panic!("no UID {uid} in {mailbox}"));
        row["flags"].split_whitespace().map(str::to_owned).collect()
    }

    /// Current UIDVALIDITY of `mailbox`.
    pub fn uidvalidity(&self, mailbox: &str) -> u32 {
        self.mailbox_status(mailbox, "uidvalidity")
    }

    /// UIDNEXT of `mailbox`.
    pub fn uid_next(&self, mailbox: &str) -> u32 {
        self.mailbox_status(mailbox, "uidnext")
    }

    /// Number of messages in `mailbox`.
    pub fn message_count(&self, mailbox: &str) -> usize {
        self.mailbox_status(mailbox, "messages") as usize
    }

    /// Gives `mailbox` a new UIDVALIDITY (messages and UIDs stay) and returns
    /// it, as a server does after rebuilding its indexes: clients must forget
    /// what they know of the mailbox's UIDs.
    pub fn reset_uidvalidity(&self, mailbox: &str) -> u32 {
        let new = self.uidvalidity(mailbox).wrapping_add(1).max(1);
        let value = new.to_string();
        let args = ["--uid-validity", &value, mailbox];
        self.doveadm_user(&["mailbox", "update"], &args, None);
        assert_eq!(
            self.uidvalidity(mailbox),
            new,
            "UIDVALIDITY of {mailbox} unchanged"
        );
        new
    }

    /// Stops the server and starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(failure) = self.launch() {
            self.fail(failure);
        }
    }

    /// Stops the server gracefully and waits until its ports refuse
    /// connections. Data stays for [`Dovecot::restart`]. Does nothing if
    /// already stopped.
    ///
    /// SIGTERM goes to the whole process group: every Dovecot process shuts
    /// down cleanly on it within milliseconds, whereas the master alone takes
    /// a second to wind its children down.
    pub fn stop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        server.terminate();
        let ports = [self.imap_port, self.imaps_port];
        let closed = process::poll_until(process::STOP_TIMEOUT, || {
            (!ports.iter().any(|&port| ports::accepts_connections(port))).then_some(())
        });
        assert!(
            closed.is_some(),
            "Dovecot stopped but ports {ports:?} still accept"
        );
    }

    /// Creates the temporary directory and everything the config refers to.
    fn prepare(options: DovecotOptions, imap_port: u16, imaps_port: u16) -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("senim-dovecot-")
            .tempdir()
            .expect("create temporary directory");
        // Dovecot's unprivileged auth and login processes must reach files here.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod temporary directory");
        let layout = Layout::new(dir.path());
        let certs = TestCertificates::generate(dir.path());
        let account = MailAccount::for_current_process();
        write_passwd(&layout.passwd, &options);
        make_home(&layout.homes.join(&options.user), &account);
        for path in [&layout.base_dir, &layout.state_dir] {
            fs::create_dir(path).expect("create Dovecot directory");
        }
        let config = render_config(&layout, &certs, &account, &options, [imap_port, imaps_port]);
        fs::write(&layout.config, config).expect("write dovecot.conf");
        Dovecot {
            options,
            imap_port,
            imaps_port,
            certs,
            layout,
            server: None,
            _dir: dir,
        }
    }

    /// Runs `dovecot -F -c CONFIG` and waits until it listens.
    fn launch(&mut self) -> Result<(), StartFailure> {
        let output = process::append_log(&self.layout.stderr);
        let args = [
            OsStr::new("-F"),
            OsStr::new("-c"),
            self.layout.config.as_os_str(),
        ];
        let ports = [self.imap_port, self.imaps_port];
        let server = ServerProcess::start(OsStr::new("dovecot"), &args, &output, &ports)?;
        self.server = Some(server);
        Ok(())
    }

    /// True if the last start failed because a port was taken meanwhile.
    fn lost_port_race(&self) -> bool {
        let taken = |path: &Path| {
            fs::read_to_string(path).is_ok_and(|text| text.contains("Address already in use"))
        };
        taken(&self.layout.log) || taken(&self.layout.stderr)
    }

    /// Panics with everything useful to understand a failed start.
    fn fail(&self, failure: StartFailure) -> ! {
        panic!(
            "Dovecot did not start listening on 127.0.0.1:{} and :{} ({failure:?}); \
             is it installed (scripts/install-test-deps.sh)?\n\
             config: {}\n--- log tail ---\n{}\n--- stderr ---\n{}",
            self.imap_port,
            self.imaps_port,
            self.layout.config.display(),
            process::tail(&self.layout.log, 30),
            process::tail(&self.layout.stderr, 30),
        );
    }

    /// One `doveadm mailbox status` field of `mailbox`.
    fn mailbox_status(&self, mailbox: &str, field: &str) -> u32 {
        let rows = self.doveadm_rows(&["mailbox", "status"], &[field, mailbox]);
        let row = rows
            .first()
            .unwrap_or_else(|| panic!("no mailbox {mailbox}"));
        parse_field(row, field)
    }

    /// Runs a doveadm mail command in tab format and returns its rows, each
    /// keyed by the header line's column names.
    fn doveadm_rows(&self, command: &[&str], args: &[&str]) -> Vec<HashMap<String, String>> {
        let output = self.doveadm_user(command, args, None);
        let mut lines = output.lines().filter(|line| !line.is_empty());
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        lines
            .map(|line| {
                let values = line.split('\t').map(str::to_owned);
                header
                    .iter()
                    .map(|name| (*name).to_owned())
                    .zip(values)
                    .collect()
            })
            .collect()
    }

    /// `doveadm -f tab COMMAND... -u USER ARGS...` with `input` on stdin.
    fn doveadm_user(&self, command: &[&str], args: &[&str], input: Option<&[u8]>) -> String {
        let mut full = vec!["-f", "tab"];
        full.extend_from_slice(command);
        full.extend_from_slice(&["-u", self.user()]);
        full.extend_from_slice(args);
        self.doveadm(&full, input)
    }

    /// Runs `doveadm -c CONFIG ARGS...` with `input` on stdin; panics with
    /// its stderr if it fails.
    fn doveadm(&self, args: &[&str], input: Option<&[u8]>) -> String {
        assert!(
            self.is_running(),
            "doveadm needs the test Dovecot running: {args:?}"
        );
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(&self.layout.config)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run doveadm ({e}): run scripts/install-test-deps.sh")
            });
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(input).expect("write to doveadm");
        }
        let output = child.wait_with_output().expect("wait for doveadm");
        assert!(
            output.status.success(),
            "doveadm {} failed ({}):\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 from doveadm")
    }
}

/// Parses column `name` of a doveadm row as a number.
fn parse_field(row: &HashMap<String, String>, name: &str) -> u32 {
    let value = row
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in doveadm output {row:?}"));
    value
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("doveadm {name}: {value:?}"))
}

/// Two distinct free ports.
fn two_free_ports() -> (u16, u16) {
    let first = free_port();
    let second = std::iter::repeat_with(free_port)
        .find(|&port| port != first)
        .expect("a second free port");
    (first, second)
}

/// Writes the passwd-file with the single test account.
fn write_passwd(path: &Path, options: &DovecotOptions) {
    for field in [&options.user, &options.password] {
        assert!(
            !field.contains([':', '\n']),
            "user/password must not contain ':' or newlines"
        );
    }
    let line = format!("{}:{{PLAIN}}{}\n", options.user, options.password);
    fs::write(path, line).expect("write passwd-file");
    // Read by Dovecot's auth process, which runs as the `dovecot` user.
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).expect("chmod passwd-file");
}

/// Creates the user's home (the Maildir goes inside), owned by `account`.
fn make_home(home: &Path, account: &MailAccount) {
    fs::create_dir_all(home).expect("create mail home");
    fs::set_permissions(home, fs::Permissions::from_mode(0o700)).expect("chmod mail home");
    std::os::unix::fs::chown(home, Some(account.uid), Some(account.gid)).expect("chown mail home");
}

/// The complete `dovecot.conf` of one instance.
fn render_config(
    layout: &Layout,
    certs: &TestCertificates,
    account: &MailAccount,
    options: &DovecotOptions,
    [imap_port, imaps_port]: [u16; 2],
) -> String {
    let capability = options
        .capability_setting()
        .map(|caps| format!("imap_capability = {caps}\n"))
        .unwrap_or_default();
    // Without root, everything runs as the current user and nothing chroots.
    let (service_users, chroot) = if account.as_root {
        (String::new(), "")
    } else {
        let users = format!(
            "default_internal_user = {name}\ndefault_internal_group = {group}\n\
             default_login_user = {name}\nservice anvil {{\n  chroot =\n}}\n",
            name = account.name,
            group = account.group,
        );
        (users, "  chroot =\n")
    };
    format!(
        r#"# Private Dovecot for Senim's integration tests (generated).
protocols = imap
listen = 127.0.0.1
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = senim-test-{imap_port}
log_path = {log}
auth_verbose = yes
{service_users}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}

auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={homes}/%u
}}
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
{capability}protocol imap {{
  mail_max_userip_connections = 100
}}

service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"#,
        base_dir = layout.base_dir.display(),
        state_dir = layout.state_dir.display(),
        log = layout.log.display(),
        cert = certs.cert_pem.display(),
        key = certs.key_pem.display(),
        passwd = layout.passwd.display(),
        uid = account.uid,
        gid = account.gid,
        homes = layout.homes.display(),
    )
}
