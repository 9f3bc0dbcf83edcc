//! A private PostgreSQL server with TLS, for the tests of Senim's encrypted
//! database connection.
//!
//! Each [`TlsPostgres`] runs `initdb` in a temporary directory and starts its own
//! `postgres` on a free port of 127.0.0.1 (and the same port of 127.0.0.2, a
//! loopback address its certificate does not name), with `ssl = on` and a
//! throw-away CA and server certificate for `localhost`, `127.0.0.1` and `::1`
//! ([`TestCertificates`]). Clients log in as [`USER`] with [`PASSWORD`]
//! (SCRAM-SHA-256), with or without TLS: the tests, not the server, decide what
//! the connection must be, and `pg_stat_ssl` tells what it was. Unix sockets are
//! off. It never touches the system-wide cluster.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the cluster
//! belongs to and the server runs as [`SERVER_USER`] (created by
//! `scripts/install-test-deps.sh`); otherwise as the current user. The server
//! binaries are the newest under `/usr/lib/postgresql/<version>/bin`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use super::ports::free_port;
use super::process::{self, START_TIMEOUT, ServerProcess, StartFailure};
use super::tls::TestCertificates;

/// The non-root user the cluster belongs to when the tests run as root.
pub const SERVER_USER: &str = "senimtest";

/// The cluster's superuser, as clients log in.
pub const USER: &str = "senim";

/// Its password (SCRAM-SHA-256 over TCP).
pub const PASSWORD: &str = "pg-tls-test-password";

/// The database clients connect to (made by `initdb`).
pub const DATABASE: &str = "postgres";

/// A loopback address the server also listens on, which its certificate does not
/// name: a client that checks host names must refuse it.
pub const UNNAMED_LOOPBACK: &str = "127.0.0.2";

/// Where Debian installs the server binaries, one directory per major version.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// How many times to pick a new port when another process took ours.
const PORT_ATTEMPTS: usize = 3;

/// The account that owns the cluster and runs the server.
#[derive(Debug, Clone, Copy)]
struct Account {
    uid: u32,
    gid: u32,
    /// Whether the tests run as root (and commands switch to this account).
    switch: bool,
}

impl Account {
    /// [`SERVER_USER`] when running as root, else the current user.
    fn for_current_process() -> Account {
        let me = fs::metadata("/proc/self").expect("stat /proc/self");
        if me.uid() != 0 {
            return Account {
                uid: me.uid(),
                gid: me.gid(),
                switch: false,
            };
        }
        Account {
            uid: id("-u").parse().expect("numeric uid"),
            gid: id("-g").parse().expect("numeric gid"),
            switch: true,
        }
    }

    /// `program` to be run as this account.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        if self.switch {
            // Supplementary groups are dropped too (std does, from root).
            command.uid(self.uid).gid(self.gid);
        }
        command
    }

    /// Gives `path` to this account, with `mode`.
    fn own(&self, path: &Path, mode: u32) {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    }
}

/// `id FLAG senimtest`, trimmed.
fn id(flag: &str) -> String {
    super::process::id(&[flag], Some(SERVER_USER))
}

/// The `bin` directory of the newest PostgreSQL installed.
fn server_bin() -> PathBuf {
    let entries = fs::read_dir(POSTGRES_LIB).unwrap_or_else(|e| {
        panic!("no PostgreSQL under {POSTGRES_LIB} ({e}): run scripts/install-test-deps.sh")
    });
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| {
            panic!("no {POSTGRES_LIB}/<version>/bin/postgres: run scripts/install-test-deps.sh")
        })
}

/// A running private PostgreSQL with TLS; dropping it stops the server (a fast
/// shutdown, then its whole process group) and deletes the cluster.
#[derive(Debug)]
pub struct TlsPostgres {
    port: u16,
    bin: PathBuf,
    account: Account,
    certs: TestCertificates,
    data: PathBuf,
    log: PathBuf,
    server: Option<ServerProcess>,
    dir: TempDir,
}

impl TlsPostgres {
    /// Makes a cluster and starts its server, waiting until it accepts
    /// connections. Panics with the server's log if it cannot start.
    pub fn start() -> TlsPostgres {
        let dir = tempfile::tempdir().expect("temporary directory");
        // The server's account must get through to its own directory below.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o711))
            .expect("chmod the temporary directory");
        let account = Account::for_current_process();
        let bin = server_bin();

        let certs_dir = dir.path().join("certs");
        fs::create_dir(&certs_dir).expect("create certs directory");
        let certs = TestCertificates::generate(&certs_dir);

        // Everything the server reads or writes, owned by its account.
        let cluster = dir.path().join("cluster");
        fs::create_dir(&cluster).expect("create cluster directory");
        account.own(&cluster, 0o700);
        let (server_cert, server_key) = (cluster.join("server.pem"), cluster.join("server.key"));
        fs::copy(&certs.cert_pem, &server_cert).expect("copy the server certificate");
        fs::copy(&certs.key_pem, &server_key).expect("copy the server key");
        account.own(&server_cert, 0o644);
        // PostgreSQL refuses a key that its owner's group or others may read.
        account.own(&server_key, 0o600);

        let data = cluster.join("data");
        init_cluster(&bin, account, &cluster, &data);
        write_hba(&data, account);

        let mut postgres = TlsPostgres {
            port: 0,
            bin,
            account,
            certs,
            data,
            log: dir.path().join("postgres.log"),
            server: None,
            dir,
        };
        for _ in 0..PORT_ATTEMPTS {
            postgres.port = free_port();
            match postgres.launch(&server_cert, &server_key) {
                Ok(server) => {
                    postgres.server = Some(server);
                    postgres.wait_until_ready();
                    return postgres;
                }
                Err(_) if postgres.lost_port_race() => continue,
                Err(failure) => panic!(
                    "PostgreSQL did not start ({failure:?}):\n{}",
                    process::tail(&postgres.log, 40)
                ),
            }
        }
        panic!("PostgreSQL: ports taken by other processes {PORT_ATTEMPTS} times in a row");
    }

    /// The server's port (on 127.0.0.1 and [`UNNAMED_LOOPBACK`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// PEM file of the CA that signed the server's certificate: what a client
    /// that verifies it must trust.
    pub fn ca_pem(&self) -> &Path {
        &self.certs.ca_pem
    }

    /// A URL of the test database on `host` (`localhost`, `127.0.0.1`, ...),
    /// with the password and `sslmode=<ssl_mode>`.
    pub fn url(&self, host: &str, ssl_mode: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@{host}:{}/{DATABASE}?sslmode={ssl_mode}",
            self.port
        )
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts `postgres` on `self.port`, returning once the port accepts connections.
    fn launch(&self, cert: &Path, key: &Path) -> Result<ServerProcess, StartFailure> {
        // A fresh log per attempt: `lost_port_race` reads this attempt's only.
        let _ = fs::remove_file(&self.log);
        let log = process::append_log(&self.log);
        let setting = |name: &str, value: &dyn std::fmt::Display| format!("{name}={value}");
        let settings = [
            setting("listen_addresses", &format!("127.0.0.1,{UNNAMED_LOOPBACK}")),
            setting("port", &self.port),
            setting("unix_socket_directories", &""),
            setting("ssl", &"on"),
            setting("ssl_cert_file", &cert.display()),
            setting("ssl_key_file", &key.display()),
            setting("max_connections", &40),
            setting("fsync", &"off"),
            setting("full_page_writes", &"off"),
            setting("log_connections", &"on"),
        ];
        let postgres = self.bin.join("postgres");
        let mut args: Vec<String> = Vec::new();
        // `setpriv` execs the server as its account: the process group (and its
        // lifeline) stay the harness's.
        let program = if self.account.switch {
            args.extend(
                [
                    "--reuid",
                    &self.account.uid.to_string(),
                    "--regid",
                    &self.account.gid.to_string(),
                    "--clear-groups",
                    "--",
                ]
                .map(str::to_owned),
            );
            args.push(postgres.display().to_string());
            PathBuf::from("setpriv")
        } else {
            postgres
        };
        args.push("-D".into());
        args.push(self.data.display().to_string());
        for s in settings {
            args.push("-c".into());
            args.push(s);
        }
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        ServerProcess::start(program.as_os_str(), &args, &log, &[self.port])
    }

    /// Whether the last start failed because the port was taken meanwhile.
    fn lost_port_race(&self) -> bool {
        let log = self.log();
        log.contains("could not bind") || log.contains("Address already in use")
    }

    /// Waits until the server answers as ready (`pg_isready`): its port is open
    /// a moment before it has finished starting up.
    fn wait_until_ready(&self) {
        let ready = process::poll_until(START_TIMEOUT, || {
            let status = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", USER, "-d", DATABASE, "-t", "5"])
                .output()
                .expect("run pg_isready");
            status.status.success().then_some(())
        });
        assert!(
            ready.is_some(),
            "PostgreSQL did not become ready within {START_TIMEOUT:?}:\n{}",
            process::tail(&self.log, 40)
        );
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        // A fast shutdown: sessions ended, shared memory given back. Then the
        // process group goes, whatever is left of it.
        let _ = self
            .account
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "fast", "-w", "-t", "30"])
            .current_dir(self.dir.path())
            .output();
        server.terminate();
    }
}

/// `initdb` of a cluster in `data`, its superuser [`USER`] with [`PASSWORD`].
fn init_cluster(bin: &Path, account: Account, cluster: &Path, data: &Path) {
    let pwfile = cluster.join("pwfile");
    fs::write(&pwfile, format!("{PASSWORD}\n")).expect("write the password file");
    account.own(&pwfile, 0o600);
    let output = account
        .command(&bin.join("initdb"))
        .arg("-D")
        .arg(data)
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["-U", USER, "-E", "UTF8", "--locale=C", "--no-sync"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .current_dir(cluster)
        .output()
        .unwrap_or_else(|e| panic!("cannot run initdb ({e}): run scripts/install-test-deps.sh"));
    assert_ok("initdb", &output);
    let _ = fs::remove_file(&pwfile);
}

/// Clients from loopback log in with the password, over TLS or not.
fn write_hba(data: &Path, account: Account) {
    let hba = data.join("pg_hba.conf");
    fs::write(
        &hba,
        "# Senim's TLS tests (generated): password logins from loopback.\n\
         local all all trust\n\
         host all all 127.0.0.0/8 scram-sha-256\n\
         host all all ::1/128 scram-sha-256\n",
    )
    .expect("write pg_hba.conf");
    account.own(&hba, 0o600);
}

fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
