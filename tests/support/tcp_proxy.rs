//! A TCP proxy on loopback that a test can cut and restore: the way to take a real
//! database "down" for one daemon without stopping the server other tests share.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct TcpProxy {
    port: u16,
    upstream: SocketAddr,
    running: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let mut proxy = TcpProxy {
            port,
            upstream,
            running: Arc::new(AtomicBool::new(false)),
            connections: Arc::default(),
            acceptor: None,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection and refuses new ones, as a server that went down.
    pub fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same port.
    pub fn start_again(&mut self) {
        let listener =
            TcpListener::bind(("127.0.0.1", self.port)).expect("rebind the proxy's port");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        self.running.store(true, Ordering::SeqCst);
        let (running, connections, upstream) = (
            self.running.clone(),
            self.connections.clone(),
            self.upstream,
        );
        self.acceptor = Some(thread::spawn(move || {
            for client in listener.incoming() {
                if !running.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))
                else {
                    continue;
                };
                let mut open = connections.lock().unwrap_or_else(|e| e.into_inner());
                for stream in [&client, &server] {
                    if let Ok(clone) = stream.try_clone() {
                        open.push(clone);
                    }
                }
                pipe(&client, &server);
                pipe(&server, &client);
            }
        }));
    }
}

/// Copies bytes from `from` to `to` on a thread of its own until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}
