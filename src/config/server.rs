//! `[server]` and `[server.tls]`: where the daemon listens, its connection
//! limits and timeouts, HTTPS's files (read and checked at load by
//! `TlsConfig::load`, which `server::tls` calls again on each reload), and the
//! metrics listener.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::values::{self, Seconds};
use super::{ConfigError, read_secret};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port the server listens on: any address with `[server.tls]`,
    /// else a loopback address (plain HTTP behind a reverse proxy on the host).
    pub listen: SocketAddr,
    /// Seconds the server waits for requests in flight at shutdown.
    pub shutdown_grace_seconds: Seconds,
    /// Seconds a connection may take to send a request's headers (also how long
    /// an idle keep-alive connection stays open); then it is closed.
    pub header_read_timeout_seconds: Seconds,
    /// Seconds a request may take to send its body; then it fails (a 4xx naming
    /// the timeout). The console's and the API's bodies must arrive whole within
    /// it (before they take a slot); the PBX's, within it between two chunks.
    pub body_timeout_seconds: Seconds,
    /// Open connections at most; beyond, new ones wait (unaccepted) until one closes.
    pub max_connections: usize,
    /// Open connections from one IP address at most; beyond, new ones from it are
    /// closed at once, so one client cannot take every connection.
    pub max_connections_per_peer: usize,
    /// Requests handled at once at most, in each group of routes (intake; the
    /// console and the API); beyond, they wait their turn.
    pub max_concurrent_requests: usize,
    /// HTTPS on `listen`: the certificate and key, reread on SIGHUP.
    pub tls: Option<TlsConfig>,
    /// The metrics listener (plain HTTP): `GET /metrics` and `GET /readyz` with its
    /// details, kept off `listen`, which faces the PBXes. Empty: no metrics
    /// listener. Off loopback only with `metrics_token`.
    #[serde(deserialize_with = "values::empty_is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token the metrics listener requires (`Authorization: Bearer …`),
    /// inline or (better) in `metrics_token_file`; none: no token asked.
    pub metrics_token: Option<String>,
    pub metrics_token_file: Option<PathBuf>,
}

/// `[server.tls]`: the PEM files the server's certificate and key are read from,
/// at start-up and again on SIGHUP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain (PEM): the server's certificate first, then the
    /// intermediates.
    pub cert_file: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of the first certificate.
    pub key_file: PathBuf,
}

impl TlsConfig {
    /// Reads both files: the chain and a private key that matches its first
    /// certificate. An error names the key (`server.tls.cert_file` or
    /// `server.tls.key_file`) and the file, never the key's content.
    pub fn load(&self) -> Result<rustls::sign::CertifiedKey, String> {
        use rustls::pki_types::pem::{Error as PemError, PemObject};
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        const CERT: &str = "server.tls.cert_file";
        const KEY: &str = "server.tls.key_file";
        let (cert_path, key_path) = (self.cert_file.display(), self.key_file.display());
        let unreadable = |key: &str, path: &dyn std::fmt::Display, e: PemError| match e {
            PemError::Io(e) => format!("{key}: cannot read {path}: {e}"),
            e => format!("{key}: {path} is not valid PEM: {e}"),
        };
        let chain = CertificateDer::pem_file_iter(&self.cert_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| unreadable(CERT, &cert_path, e))?;
        if chain.is_empty() {
            return Err(format!(
                "{CERT}: {cert_path} holds no certificate (-----BEGIN CERTIFICATE-----)"
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key_file).map_err(|e| match e {
            PemError::NoItemsFound => {
                format!("{KEY}: {key_path} holds no private key (-----BEGIN … PRIVATE KEY-----)")
            }
            e => unreadable(KEY, &key_path, e),
        })?;
        let signing_key = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("{KEY}: {key_path} is not a usable private key: {e}"))?;
        let certified = rustls::sign::CertifiedKey::new(chain, signing_key);
        match certified.keys_match() {
            Ok(()) => Ok(certified),
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                Err(format!(
                    "{KEY}: {key_path} is not the key of the first certificate in {CERT} ({cert_path})"
                ))
            }
            Err(e) => Err(format!(
                "{CERT}: the first certificate in {cert_path} cannot be used: {e}"
            )),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace_seconds: Seconds::new(10),
            header_read_timeout_seconds: Seconds::new(10),
            body_timeout_seconds: Seconds::new(30),
            max_connections: 4096,
            max_connections_per_peer: 1024,
            max_concurrent_requests: 64,
            tls: None,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            metrics_token: None,
            metrics_token_file: None,
        }
    }
}

impl ServerConfig {
    pub(super) fn check(&self) -> Result<(), String> {
        for (key, value, max) in [
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds.get(),
                3600,
            ),
            (
                "body_timeout_seconds",
                self.body_timeout_seconds.get(),
                3600,
            ),
        ] {
            if value == 0 || value > max {
                return Err(format!("server.{key} must be between 1 and {max}"));
            }
        }
        for (key, value) in [
            ("max_connections", self.max_connections),
            ("max_connections_per_peer", self.max_connections_per_peer),
            ("max_concurrent_requests", self.max_concurrent_requests),
        ] {
            // The semaphores behind these take at most this many permits.
            if value == 0 || value > 1_000_000 {
                return Err(format!("server.{key} must be between 1 and 1000000"));
            }
        }
        if self.max_connections_per_peer > self.max_connections {
            return Err(format!(
                "server.max_connections_per_peer ({}) must not exceed server.max_connections ({})",
                self.max_connections_per_peer, self.max_connections
            ));
        }
        match &self.tls {
            Some(tls) => {
                tls.load()?;
            }
            // Tokens and identities must not cross the network in clear.
            None if !self.listen.ip().is_loopback() => {
                return Err(format!(
                    "server.listen: {} is not a loopback address and [server.tls] is not set: \
                     set [server.tls] (cert_file, key_file) to serve HTTPS, or listen on \
                     loopback (127.0.0.1) behind a reverse proxy on the same host",
                    self.listen
                ));
            }
            None => {}
        }
        self.check_metrics()
    }

    /// The metrics listener: off loopback only behind a token, and not on `listen`'s
    /// port.
    fn check_metrics(&self) -> Result<(), String> {
        if self.metrics_token.is_some() && self.metrics_token_file.is_some() {
            return Err("server: give at most one of metrics_token and metrics_token_file".into());
        }
        if let Some(token) = &self.metrics_token
            && token.len() < 16
        {
            return Err("server.metrics_token: the token must be at least 16 characters".into());
        }
        let Some(metrics) = self.metrics_listen else {
            return Ok(());
        };
        let has_token = self.metrics_token.is_some() || self.metrics_token_file.is_some();
        if !metrics.ip().is_loopback() && !has_token {
            return Err(format!(
                "server.metrics_listen: {metrics} is not a loopback address and no \
                 server.metrics_token (or metrics_token_file) is set: the metrics and \
                 readiness details would be open to the network; set a token, or listen \
                 on loopback (127.0.0.1:9464), or set metrics_listen = \"\" to turn the \
                 metrics listener off"
            ));
        }
        let shared_ip = metrics.ip() == self.listen.ip()
            || metrics.ip().is_unspecified()
            || self.listen.ip().is_unspecified();
        if metrics.port() != 0 && metrics.port() == self.listen.port() && shared_ip {
            return Err(format!(
                "server.metrics_listen: {metrics} is server.listen's port ({}): give the \
                 metrics listener a port of its own",
                self.listen
            ));
        }
        Ok(())
    }

    /// The metrics listener's token, read from `metrics_token` or
    /// `metrics_token_file` (trailing newline removed); none if neither is set.
    /// An error names the key, never the token.
    pub fn metrics_token(&self) -> Result<Option<String>, ConfigError> {
        match (&self.metrics_token, &self.metrics_token_file) {
            (None, None) => Ok(None),
            (Some(token), _) => read_secret("server.metrics_token", Some(token), None).map(Some),
            (None, Some(file)) => {
                read_secret("server.metrics_token_file", None, Some(file)).map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_str;
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        for listen in ["127.0.0.1:8080", "127.0.0.2:8080", "[::1]:8080"] {
            let config = load_str(&format!("[server]\nlisten = \"{listen}\"\n"));
            assert!(config.is_ok(), "{listen}: {:?}", config.err());
        }
        let err = load_str("[server]\nlisten = \"192.0.2.7:8080\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.listen"), "{err}");
        assert!(err.contains("[server.tls]"), "{err}");
        assert!(err.contains("loopback"), "{err}");
        // With [server.tls] any address will do: what is wrong is then the files.
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate\n").unwrap();
        let err = load_str(&format!(
            "[server]\nlisten = \"0.0.0.0:8443\"\n\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            cert.display()
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("server.tls.cert_file"), "{err}");
        assert!(!err.contains("server.listen"), "{err}");
    }

    #[test]
    fn the_metrics_listener_is_on_loopback_unless_it_has_a_token() {
        let config = load_str("").unwrap();
        assert_eq!(
            config.server.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        assert!(config.server.metrics_token().unwrap().is_none());
        let off = load_str("[server]\nmetrics_listen = \"\"\n").unwrap();
        assert_eq!(off.server.metrics_listen, None, "empty turns it off");
        for open in ["0.0.0.0:9464", "[::]:9464", "192.0.2.7:9464"] {
            let err = load_str(&format!("[server]\nmetrics_listen = \"{open}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("server.metrics_listen"), "{open}: {err}");
            assert!(err.contains("metrics_token"), "{open}: {err}");
        }
        let open = load_str(
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token = \"0123456789abcdef\"\n",
        )
        .unwrap();
        assert_eq!(
            open.server.metrics_token().unwrap().as_deref(),
            Some("0123456789abcdef")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("metrics.token");
        std::fs::write(&file, "0123456789abcdef-from-a-file\n").unwrap();
        let open = load_str(&format!(
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token_file = \"{}\"\n",
            file.display()
        ))
        .unwrap();
        assert_eq!(
            open.server.metrics_token().unwrap().as_deref(),
            Some("0123456789abcdef-from-a-file")
        );
        // A token too short is named by its key, never shown.
        let err = load_str("[server]\nmetrics_token = \"s3cr3t\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.metrics_token"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
