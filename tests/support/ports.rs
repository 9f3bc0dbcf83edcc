//! Loopback port helpers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The only address test servers listen on.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// Binds port 0, reads the port the kernel picked and closes the socket. Another
/// process may grab the port before the caller binds it; servers started by the
/// harness retry with fresh ports when that happens.
///
/// A port is handed out once per test binary: tests running side by side (each
/// daemon now takes two, the main and the metrics listener) never get the same one
/// from here, even if the kernel offers it again after its socket closed.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let listener = TcpListener::bind((LOOPBACK, 0)).expect("bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("local_addr of 127.0.0.1:0")
            .port();
        if handed_out.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// True if something accepts TCP connections on 127.0.0.1:`port` right now.
pub fn accepts_connections(port: u16) -> bool {
    let addr = SocketAddr::from((LOOPBACK, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}
