//! HTTPS in the daemon, through the real binary on loopback: with `[server.tls]`
//! it answers a client that trusts the test CA, and plain HTTP gets nothing;
//! SIGHUP rereads the certificate and key (new connections get the new
//! certificate, an open connection is kept, a broken file leaves the old
//! certificate serving); a handshake never started holds only its own slot and
//! is closed at the header-read timeout; without `[server.tls]` it listens on
//! loopback only, and SIGHUP does not end it.

use crate::support;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::eventually::{Raw, eventually_blocking, ok_if};
use support::senim::{Daemon, http_get_status, run_cli, write_config};
use support::tls::TestCertificates;

/// Two certificates for localhost and 127.0.0.1, each signed by a CA of its
/// own, and the two files the daemon reads (`[server.tls]`), holding the first.
struct Certificates {
    first: TestCertificates,
    second: TestCertificates,
    cert_file: PathBuf,
    key_file: PathBuf,
}

impl Certificates {
    fn generate(dir: &Path) -> Self {
        let make = |name: &str| {
            let sub = dir.join(name);
            std::fs::create_dir(&sub).unwrap();
            TestCertificates::generate(&sub)
        };
        let (first, second) = (make("first"), make("second"));
        let certificates = Certificates {
            cert_file: dir.join("server-cert.pem"),
            key_file: dir.join("server-key.pem"),
            first,
            second,
        };
        certificates.install(&certificates.first);
        certificates
    }

    /// Puts `which`'s certificate and key where the daemon reads them.
    fn install(&self, which: &TestCertificates) {
        std::fs::copy(&which.cert_pem, &self.cert_file).unwrap();
        std::fs::copy(&which.key_pem, &self.key_file).unwrap();
    }

    /// The `[server.tls]` section naming the two files.
    fn section(&self) -> String {
        format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            self.cert_file.display(),
            self.key_file.display()
        )
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A client that trusts the CA in `ca_pem` alone (not the system's roots).
/// A fresh client opens a fresh connection (and resumes no TLS session).
fn client_trusting(ca_pem: &Path) -> reqwest::Client {
    client_trusting_from(ca_pem, [127, 0, 0, 1])
}

/// `client_trusting`, connecting from the loopback address `from`.
fn client_trusting_from(ca_pem: &Path, from: [u8; 4]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_pem).unwrap()).unwrap();
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap()
}

/// `GET https://127.0.0.1:<port>/healthz`: its status, or why it failed.
fn healthz(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    port: u16,
) -> Result<u16, String> {
    runtime.block_on(async {
        let url = format!("https://127.0.0.1:{port}/healthz");
        match client.get(url).send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => {
                // The whole chain: the certificate's error is in a source.
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message = format!("{message}: {cause}");
                    source = cause.source();
                }
                Err(message)
            }
        }
    })
}

/// Starts the daemon with `[server.tls]`, its own log at debug, and `[server]`
/// keys as `SENIM_SERVER__…` variables, and waits until it answers over HTTPS a
/// client trusting the first CA.
fn start_https(
    dir: &Path,
    certificates: &Certificates,
    runtime: &tokio::runtime::Runtime,
    server: &[(&str, &str)],
) -> Daemon {
    let port = support::ports::free_port();
    let config = write_config(dir, port, "", &certificates.section());
    let mut env: Vec<(String, String)> =
        vec![("SENIM_LOG__LEVEL".into(), "info,senim=debug".into())];
    env.extend(server.iter().map(|(k, v)| {
        (
            format!("SENIM_SERVER__{}", k.to_uppercase()),
            (*v).to_owned(),
        )
    }));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ca = certificates.first.ca_pem.clone();
    // From an address of its own: the probe's last connection may still count
    // against its peer's limit for a moment after it is dropped, and the tests
    // limit 127.0.0.1 and 127.0.0.2 to one connection each.
    Daemon::start_until(dir, config, port, &env, "/healthz over HTTPS", || {
        healthz(runtime, &client_trusting_from(&ca, [127, 0, 0, 9]), port) == Ok(200)
    })
}

/// Idle connections stay open a minute, so the kept connection of the reload
/// tests outlives the reload.
const KEEP_IDLE: &[(&str, &str)] = &[("header_read_timeout_seconds", "60")];

/// Polls a fresh connection until `ca_pem`'s certificate is served, with a
/// deadline; the daemon must stay up meanwhile.
fn wait_until_served_by(daemon: &mut Daemon, runtime: &tokio::runtime::Runtime, ca_pem: &Path) {
    eventually_blocking(
        Duration::from_secs(30),
        "the new certificate served",
        || {
            let answer = healthz(runtime, &client_trusting(ca_pem), daemon.port);
            assert!(daemon.is_running(), "senim exited:\n{}", daemon.logs());
            ok_if(
                answer == Ok(200),
                Raw(format!("{answer:?}:\n{}", daemon.logs())),
            )
        },
    );
}

/// Waits (with a deadline) until the daemon has logged `text`.
fn wait_for_log(daemon: &Daemon, text: &str) {
    eventually_blocking(Duration::from_secs(30), &format!("`{text}` logged"), || {
        let logs = daemon.logs();
        ok_if(logs.contains(text), Raw(logs))
    });
}

/// A TCP connection to `port` from `from` (a loopback address), which sends nothing.
fn connect_from(from: [u8; 4], port: u16) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let stream = runtime()
        .block_on(socket.connect(SocketAddr::from(([127, 0, 0, 1], port))))
        .unwrap();
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

#[test]
fn a_silent_handshake_holds_its_peer_slot_alone_and_is_closed_at_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let runtime = runtime();
    let limits = [
        ("header_read_timeout_seconds", "1"),
        ("max_connections_per_peer", "1"),
    ];
    let daemon = start_https(dir.path(), &certificates, &runtime, &limits);
    let from_second = |address: [u8; 4]| {
        let client = client_trusting_from(&certificates.first.ca_pem, address);
        healthz(&runtime, &client, daemon.port)
    };

    // 127.0.0.2 opens a connection and never starts its handshake.
    let mut silent = connect_from([127, 0, 0, 2], daemon.port);
    // It counts against the limits: a second one from 127.0.0.2 is closed.
    let second = from_second([127, 0, 0, 2]);
    assert!(second.is_err(), "over the per-peer limit: {second:?}");
    // And it holds nobody else up: 127.0.0.1 is served meanwhile.
    assert_eq!(from_second([127, 0, 0, 1]), Ok(200));

    // The server closes it once the header-read timeout is over (a generous
    // guard against a hang, not a measurement).
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut sent = Vec::new();
    match silent.read_to_end(&mut sent) {
        Ok(_) => assert!(sent.is_empty(), "{sent:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    wait_for_log(&daemon, "TLS handshake not done within");
    // Its slot is given back: 127.0.0.2 is served again.
    eventually_blocking(Duration::from_secs(30), "127.0.0.2 served again", || {
        let answer = from_second([127, 0, 0, 2]);
        ok_if(answer == Ok(200), answer)
    });
}

#[test]
fn https_answers_a_client_trusting_the_ca_and_plain_http_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let runtime = runtime();
    let daemon = start_https(dir.path(), &certificates, &runtime, KEEP_IDLE);

    let trusting = client_trusting(&certificates.first.ca_pem);
    assert_eq!(healthz(&runtime, &trusting, daemon.port), Ok(200));
    // The certificate is checked: a client trusting another CA is refused.
    let other = healthz(
        &runtime,
        &client_trusting(&certificates.second.ca_pem),
        daemon.port,
    );
    let error = other.expect_err("a client trusting another CA was answered");
    assert!(error.to_lowercase().contains("certificate"), "{error}");

    // Plain HTTP on the HTTPS port: no HTTP answer, the connection is closed.
    let addr = format!("127.0.0.1:{}", daemon.port);
    assert_ne!(
        http_get_status(&addr, "/v1/pbx/cti/plain-http-token"),
        Some(200)
    );
    // The failed handshake harms nothing: HTTPS still answers.
    assert_eq!(healthz(&runtime, &trusting, daemon.port), Ok(200));
    // It is logged at debug, without what the client sent.
    wait_for_log(&daemon, "TLS handshake failed");
    assert!(
        !daemon.logs().contains("plain-http-token"),
        "{}",
        daemon.logs()
    );
    assert!(
        daemon.logs().contains("\"https\":true"),
        "{}",
        daemon.logs()
    );
}

#[test]
fn sighup_serves_new_connections_with_the_new_certificate_and_keeps_open_ones() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let runtime = runtime();
    let mut daemon = start_https(dir.path(), &certificates, &runtime, KEEP_IDLE);
    // A keep-alive connection opened with the first certificate.
    let kept = client_trusting(&certificates.first.ca_pem);
    assert_eq!(healthz(&runtime, &kept, daemon.port), Ok(200));

    certificates.install(&certificates.second);
    daemon.signal("HUP");
    wait_until_served_by(&mut daemon, &runtime, &certificates.second.ca_pem);

    // A new connection no longer gets the first certificate.
    let first = healthz(
        &runtime,
        &client_trusting(&certificates.first.ca_pem),
        daemon.port,
    );
    assert!(
        first.is_err(),
        "the first certificate is still served: {first:?}"
    );
    // The open connection was not dropped: a new one, which this client would
    // open if it had been, would be refused (the second certificate).
    assert_eq!(healthz(&runtime, &kept, daemon.port), Ok(200));
    assert!(daemon.is_running());
    assert!(daemon.logs().contains("were reloaded"), "{}", daemon.logs());
}

#[test]
fn a_broken_certificate_file_on_sighup_leaves_the_old_certificate_serving() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let runtime = runtime();
    let mut daemon = start_https(dir.path(), &certificates, &runtime, KEEP_IDLE);

    std::fs::write(
        &certificates.cert_file,
        "-----BEGIN CERTIFICATE-----\nbroken\n",
    )
    .unwrap();
    daemon.signal("HUP");
    // Wait for the reload's verdict in the log (JSON lines).
    wait_for_log(&daemon, "was not reloaded");
    let logs = daemon.logs();
    let failure = logs
        .lines()
        .find(|l| l.contains("was not reloaded"))
        .unwrap_or_default();
    assert!(failure.contains("\"ERROR\""), "{failure}");
    assert!(failure.contains("server.tls.cert_file"), "{failure}");

    // The old certificate still serves new connections.
    let first = client_trusting(&certificates.first.ca_pem);
    assert_eq!(healthz(&runtime, &first, daemon.port), Ok(200));
    assert!(daemon.is_running());

    // And the next SIGHUP, with good files, still reloads.
    certificates.install(&certificates.second);
    daemon.signal("HUP");
    wait_until_served_by(&mut daemon, &runtime, &certificates.second.ca_pem);
}

/// Runs `senim check-config` on `[server]` with `listen` and then `extra`.
fn check_config(dir: &Path, listen: &str, extra: &str) -> std::process::Output {
    let path = dir.join("check.toml");
    let text = format!(
        "[server]\nlisten = \"{listen}\"\n\n[database]\ndata_dir = \"{}\"\n\n{extra}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    run_cli(&path, &["check-config"])
}

#[test]
fn beyond_loopback_the_configuration_wants_tls() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = Certificates::generate(dir.path());
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    // Plain HTTP: on loopback only.
    let out = check_config(dir.path(), "127.0.0.1:8080", "");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = check_config(dir.path(), "0.0.0.0:8443", "");
    assert!(
        !out.status.success(),
        "plain HTTP on every address was accepted"
    );
    assert!(stderr(&out).contains("server.listen"), "{}", stderr(&out));
    assert!(stderr(&out).contains("[server.tls]"), "{}", stderr(&out));

    // HTTPS: any address.
    let out = check_config(dir.path(), "0.0.0.0:8443", &certificates.section());
    assert!(out.status.success(), "{}", stderr(&out));

    // The files are checked, and the error names the key.
    let mismatched = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        certificates.first.cert_pem.display(),
        certificates.second.key_pem.display()
    );
    let out = check_config(dir.path(), "0.0.0.0:8443", &mismatched);
    assert!(
        !out.status.success(),
        "a key of another certificate was accepted"
    );
    assert!(
        stderr(&out).contains("server.tls.key_file"),
        "{}",
        stderr(&out)
    );
    let swapped = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        certificates.first.key_pem.display(),
        certificates.first.cert_pem.display()
    );
    let out = check_config(dir.path(), "0.0.0.0:8443", &swapped);
    assert!(
        !out.status.success(),
        "a key given as the certificate was accepted"
    );
    assert!(
        stderr(&out).contains("server.tls.cert_file"),
        "{}",
        stderr(&out)
    );
    // Never the key itself in the message.
    let key = std::fs::read_to_string(&certificates.first.key_pem).unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!stderr(&out).contains(body), "{}", stderr(&out));
}

#[test]
fn sighup_without_tls_leaves_the_daemon_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(dir.path(), "", "");
    daemon.signal("HUP");
    wait_for_log(&daemon, "nothing to reload");
    assert!(daemon.is_running(), "senim exited:\n{}", daemon.logs());
    let addr = format!("127.0.0.1:{}", daemon.port);
    assert_eq!(http_get_status(&addr, "/healthz"), Some(200));
}
