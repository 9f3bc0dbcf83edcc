//! Throw-away TLS certificates for test servers, made with the `openssl` CLI.
//!
//! A private CA signs a server certificate for `localhost`, `127.0.0.1` and
//! `::1`. Clients trust [`TestCertificates::ca_pem`]; rustls (webpki) accepts
//! this chain, which it would not for a bare self-signed CA certificate used as
//! the server's own certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Extensions of the server certificate: what rustls checks.
const SERVER_EXTENSIONS: &str = "\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
";

/// Paths of the PEM files written by [`TestCertificates::generate`].
#[derive(Debug, Clone)]
pub struct TestCertificates {
    /// CA certificate (PEM): what clients must trust.
    pub ca_pem: PathBuf,
    /// Server certificate (PEM), signed by the CA.
    pub cert_pem: PathBuf,
    /// Server private key (PEM, unencrypted).
    pub key_pem: PathBuf,
}

impl TestCertificates {
    /// Writes a fresh CA and a server certificate signed by it into `dir`.
    pub fn generate(dir: &Path) -> TestCertificates {
        let path = |name: &str| dir.join(name);
        let (ca_key, ca_pem) = (path("ca.key"), path("ca.pem"));
        let (key_pem, csr, cert_pem) = (path("server.key"), path("server.csr"), path("server.pem"));
        let extensions = path("server.ext");
        std::fs::write(&extensions, SERVER_EXTENSIONS).expect("write server.ext");

        openssl(
            &format!("req -x509 -days 7 {NEW_EC_KEY} -subj /CN=senim-test-ca {CA_EXTENSIONS}"),
            &[("-keyout", &ca_key), ("-out", &ca_pem)],
        );
        openssl(
            &format!("req {NEW_EC_KEY} -subj /CN=localhost"),
            &[("-keyout", &key_pem), ("-out", &csr)],
        );
        openssl(
            "x509 -req -days 7 -set_serial 2",
            &[
                ("-in", &csr),
                ("-CA", &ca_pem),
                ("-CAkey", &ca_key),
                ("-extfile", &extensions),
                ("-out", &cert_pem),
            ],
        );
        TestCertificates {
            ca_pem,
            cert_pem,
            key_pem,
        }
    }
}

/// `openssl req` arguments for a new unencrypted P-256 key.
const NEW_EC_KEY: &str = "-new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1";

/// `openssl req -addext` arguments for the CA certificate.
const CA_EXTENSIONS: &str =
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";

/// Runs `openssl` with the whitespace-separated `fixed` arguments followed by
/// `flag path` pairs, panicking with its output if it fails.
fn openssl(fixed: &str, paths: &[(&str, &Path)]) {
    let mut command = Command::new("openssl");
    command.args(fixed.split_whitespace());
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}): run scripts/install-test-deps.sh"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
