//! The accept loop: HTTP/1.1 connections served by hyper with a header-read
//! timeout (so a half-sent request, or an idle keep-alive connection, does not
//! hold a socket), at most `max_connections` open (beyond, new ones wait in the
//! kernel's queue) and at most `max_connections_per_peer` from one IP address
//! (beyond, new ones from it are closed at once). With `[server.tls]` every
//! connection is HTTPS: its TLS handshake runs in the connection's own task,
//! counted against the same limits and bounded by the header-read timeout, so a
//! slow or broken handshake never holds up accepting others (a failed one is
//! logged at debug, with no client data). Each request carries the peer's
//! `ConnectInfo`, which the PBX's address check reads. On shutdown it stops
//! accepting and lets open connections finish their requests.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::tls::Certificates;

/// What one connection may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_peer: usize,
}

impl Limits {
    pub fn from_config(config: &crate::config::ServerConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout_seconds.std(),
            max_connections: config.max_connections,
            max_connections_per_peer: config.max_connections_per_peer,
        }
    }
}

/// Open connections per IP address.
#[derive(Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of a peer, counted until dropped.
struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.peers.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` (HTTPS with `tls`, else plain HTTP) until
/// `shutdown` completes, then waits for the open connections to finish their
/// requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Arc<Certificates>>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Arc::new(Peers::default());
    let mut full_logged = false;
    tokio::pin!(shutdown);
    loop {
        if slots.available_permits() == 0 && !full_logged {
            tracing::warn!(
                max_connections = limits.max_connections,
                "server.max_connections reached: new connections wait"
            );
        }
        full_logged = slots.available_permits() == 0;
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(peer_slot) = peers.enter(peer.ip(), limits.max_connections_per_peer) else {
            tracing::debug!(
                max_connections_per_peer = limits.max_connections_per_peer,
                "server.max_connections_per_peer reached: connection closed"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        // Taken before the handshake, so shutdown waits for it too.
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, router, limits, watcher).await,
                Some(certificates) => {
                    let handshake = certificates.acceptor().accept(stream);
                    match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, peer, router, limits, watcher).await;
                        }
                        // rustls's error: what went wrong, none of the client's bytes.
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(
                            timeout_seconds = limits.header_read_timeout.as_secs(),
                            "TLS handshake not done within server.header_read_timeout_seconds"
                        ),
                    }
                }
            }
            drop(peer_slot);
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves HTTP/1.1 on one connection (a TCP stream, or TLS over one) until it
/// closes, or until shutdown once its request in flight is answered.
async fn serve_connection(
    io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    watcher: Watcher,
) {
    let service = hyper::service::service_fn(move |mut request| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let connection = watcher.watch(builder.serve_connection(TokioIo::new(io), service));
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
