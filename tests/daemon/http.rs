//! The HTTP server's limits, through the real binary on loopback: a half-sent
//! request is closed after the header-read timeout, one address cannot take every
//! connection, a full server keeps serving its open connections and takes new ones
//! as others close, unknown routes answer problem+json, and the request log names
//! the route, never a token in the path.

use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use support::eventually::{Raw, eventually, ok_if};
use support::senim::{Daemon, write_config};

/// Starts the daemon with `[server]` keys given as `SENIM_SERVER__…` variables.
fn daemon(dir: &std::path::Path, server: &[(&str, &str)]) -> Daemon {
    let port = support::ports::free_port();
    let config = write_config(dir, port, "", "");
    let env: Vec<(String, String)> = server
        .iter()
        .map(|(k, v)| (format!("SENIM_{}", k.to_uppercase()), (*v).to_owned()))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Daemon::start_with_env(dir, config, port, &env)
}

fn addr(daemon: &Daemon) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], daemon.port))
}

/// A TCP connection to the daemon from `from` (a loopback address).
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(socket.connect(to)).unwrap();
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// Reads until the server closes the connection (a generous guard against a
/// hang, not a measurement); returns what it sent.
fn read_until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "the server did not close the connection: {e}; got {:?}",
            String::from_utf8_lossy(&answer)
        ),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends a whole `GET /healthz` and returns the status line.
fn get_healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: senim\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_until_closed(stream)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), &[("server__header_read_timeout_seconds", "1")]);
    let mut stream = connect_from([127, 0, 0, 1], addr(&daemon));
    stream
        .write_all(b"POST /v1/pbx/cti HTTP/1.1\r\nHost: senim\r\nContent-Ty")
        .unwrap();
    let answer = read_until_closed(&mut stream);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The daemon itself carries on.
    let mut fresh = connect_from([127, 0, 0, 1], addr(&daemon));
    assert_eq!(get_healthz(&mut fresh), "HTTP/1.1 200 OK");
}

/// One address opening many sockets gets only its share; another address (the
/// PBX's) is still served.
#[test]
fn one_address_cannot_take_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(
        dir.path(),
        &[
            ("server__max_connections_per_peer", "3"),
            ("server__header_read_timeout_seconds", "300"),
        ],
    );
    let hog: Vec<TcpStream> = (0..3)
        .map(|_| connect_from([127, 0, 0, 2], addr(&daemon)))
        .collect();
    // The three stay open, idle; a fourth from that address is closed at once.
    let mut fourth = connect_from([127, 0, 0, 2], addr(&daemon));
    assert_eq!(
        read_until_closed(&mut fourth),
        "",
        "closed at once, with nothing sent"
    );
    let mut pbx = connect_from([127, 0, 0, 1], addr(&daemon));
    assert_eq!(get_healthz(&mut pbx), "HTTP/1.1 200 OK");
    drop(hog);
}

/// At `max_connections` the server stops accepting (and says so); the open
/// connections are still served, and a waiting one is served once another closes.
#[tokio::test]
async fn at_the_connection_limit_open_connections_are_served_and_new_ones_wait() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(
        dir.path(),
        &[
            ("server__max_connections", "3"),
            ("server__max_connections_per_peer", "3"),
            ("server__header_read_timeout_seconds", "300"),
        ],
    );
    // A keep-alive client (the PBX, say) holds one connection.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let get = |client: &reqwest::Client| {
        let url = daemon.url("/healthz");
        let client = client.clone();
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    };
    assert_eq!(get(&client).await.unwrap(), 200);
    let to = addr(&daemon);
    let idle: Vec<TcpStream> = tokio::task::spawn_blocking(move || {
        (0..2).map(|_| connect_from([127, 0, 0, 1], to)).collect()
    })
    .await
    .unwrap();
    let what = "the limit reached (server.max_connections reached)";
    eventually(Duration::from_secs(30), what, async || {
        let logs = daemon.logs();
        ok_if(logs.contains("server.max_connections reached"), Raw(logs))
    })
    .await;
    // The keep-alive connection still works.
    assert_eq!(get(&client).await.unwrap(), 200);
    // A new connection waits; it is served once an idle one closes.
    let waiting = tokio::task::spawn_blocking(move || {
        let mut stream = connect_from([127, 0, 0, 1], to);
        get_healthz(&mut stream)
    });
    drop(idle);
    assert_eq!(waiting.await.unwrap(), "HTTP/1.1 200 OK");
}

/// A request whose body stops half-way fails after `body_timeout_seconds`
/// instead of holding the connection and a request slot.
#[test]
fn a_body_that_stops_half_way_fails_after_the_body_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(
        dir.path(),
        port,
        "",
        &support::scene::manager_toml("manager", "manager-token-0123456789"),
    );
    let daemon = Daemon::start_with_env(
        dir.path(),
        config,
        port,
        &[
            ("SENIM_SERVER__BODY_TIMEOUT_SECONDS", "1"),
            ("SENIM_SERVER__HEADER_READ_TIMEOUT_SECONDS", "300"),
        ],
    );
    let mut stream = connect_from([127, 0, 0, 1], addr(&daemon));
    stream
        .write_all(
            b"POST /v1/appeals/1/classification HTTP/1.1\r\nHost: senim\r\n\
              Authorization: Bearer manager-token-0123456789\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"category\"",
        )
        .unwrap();
    let answer = read_until_closed(&mut stream);
    let status = answer.lines().next().unwrap_or_default();
    assert!(status.starts_with("HTTP/1.1 4"), "a client error: {answer}");
}

#[tokio::test]
async fn an_unknown_route_answers_problem_json_404() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), &[]);
    let response = reqwest::get(daemon.url("/v1/no-such-thing")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "not found");
}

/// At debug level the request log names the matched route; the token in a
/// `/v1/pbx/cti/<token>` path never reaches the log.
#[tokio::test]
async fn at_debug_level_a_path_token_is_not_logged() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path(), &[("log__level", "debug")]);
    let token = "tok-5ecret-4f1c9e";
    let response = reqwest::Client::new()
        .post(daemon.url(&format!("/v1/pbx/cti/{token}")))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let log = daemon.log.clone();
    assert!(daemon.terminate().success());
    let logs = std::fs::read_to_string(log).unwrap();
    assert!(
        logs.contains("/v1/pbx/cti/{token}"),
        "the route is logged:\n{logs}"
    );
    assert!(!logs.contains(token), "the token is not:\n{logs}");
}
