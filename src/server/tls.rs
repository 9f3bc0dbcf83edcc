//! HTTPS on the main listener (`[server.tls]`): rustls with the `ring` provider,
//! TLS 1.2 and 1.3, ALPN `http/1.1` (the accept loop serves HTTP/1.1 only).
//!
//! - `Certificates`: the rustls configuration that new handshakes take
//!   (`acceptor`, called by `listener` for each connection), built from what
//!   `config::TlsConfig::load` reads and checks (the chain, and a key matching
//!   its first certificate) — the same check as at configuration load.
//! - `Certificates::reload`: rereads the same files. New handshakes use the new
//!   certificate; open connections keep the one they were made with, and are not
//!   dropped. On an error the old certificate stays in use (like nginx).
//! - `reload_on_hangup`: the SIGHUP task, one of `serve_until`'s background tasks
//!   (`systemctl reload senim`); without `[server.tls]` it says there is nothing
//!   to reload.

use std::sync::{Arc, PoisonError, RwLock};

use tokio::signal::unix::Signal;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// The server's certificate and key, replaced whole on reload.
pub struct Certificates {
    files: TlsConfig,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl Certificates {
    /// Reads the files of `[server.tls]`; the error names the key.
    pub fn load(files: &TlsConfig) -> Result<Self, String> {
        Ok(Self {
            files: files.clone(),
            current: RwLock::new(Arc::new(server_config(files)?)),
        })
    }

    /// What the next handshake uses: the certificate loaded last.
    pub fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        TlsAcceptor::from(current.clone())
    }

    /// Rereads the files; on an error the certificate in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = Arc::new(server_config(&self.files)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }
}

/// A fresh rustls configuration (so no session of the old certificate is
/// resumed) with the certificate and key in `files`.
fn server_config(files: &TlsConfig) -> Result<rustls::ServerConfig, String> {
    let certified = files.load()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("server.tls: cannot set up TLS: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Rereads the certificate on each SIGHUP until `stop`. `hangups` is installed
/// by the caller before the server answers, so an early SIGHUP cannot take its
/// default action (ending the process).
pub async fn reload_on_hangup(
    mut hangups: Signal,
    certificates: Option<Arc<Certificates>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            received = hangups.recv() => {
                if received.is_none() {
                    return;
                }
            }
        }
        let Some(certificates) = certificates.clone() else {
            tracing::info!("SIGHUP: nothing to reload ([server.tls] is not set)");
            continue;
        };
        // File reads: off the async workers.
        match tokio::task::spawn_blocking(move || certificates.reload()).await {
            Ok(Ok(())) => tracing::info!(
                "SIGHUP: the certificate and key of [server.tls] were reloaded; new connections use them"
            ),
            Ok(Err(e)) => tracing::error!(
                error = %e,
                "SIGHUP: the certificate was not reloaded; the one loaded before stays in use"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "SIGHUP: the certificate reload failed; the one loaded before stays in use"
            ),
        }
    }
}
