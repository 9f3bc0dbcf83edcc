//! The PBX's side of a scene: the records it posts, its upload of a record
//! with the recording, and the tiny HTTP server it serves recordings from.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::senim::Served;

/// A call record as the PBX posts it: from `caller` to the office's number,
/// at extension 201, from `start` to `end` (RFC 3339), with `disposition`.
pub fn call_record(id: &str, caller: &str, disposition: &str, start: &str, end: &str) -> Value {
    json!({
        "call_id": id,
        "caller": caller,
        "called": "+77172000000",
        "start": start,
        "end": end,
        "disposition": disposition,
        "extension": "201",
    })
}

/// The multipart upload of `record` with its recording (`bytes`, named
/// `file_name`).
pub fn upload(
    record: &Value,
    file_name: &str,
    bytes: impl Into<std::borrow::Cow<'static, [u8]>>,
) -> Form {
    Form::new()
        .part(
            "record",
            Part::text(record.to_string())
                .mime_str("application/json")
                .expect("a MIME type"),
        )
        .part(
            "recording",
            Part::bytes(bytes).file_name(file_name.to_owned()),
        )
}

/// A tiny HTTP server on loopback answering the `n`th request (from 0) with
/// `respond(n)`; its port and the count of requests.
pub fn http_server(respond: impl Fn(usize) -> Vec<u8> + Send + 'static) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(&respond(n));
        }
    });
    (port, hits)
}

/// A tiny HTTP server on loopback serving one recording (`body`, as
/// `audio/wav`); the first `failures` requests get 503.
pub fn recording_server(body: &'static [u8], failures: usize) -> (u16, Arc<AtomicUsize>) {
    http_server(move |n| {
        if n < failures {
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_vec()
        } else {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        }
    })
}

/// The PBX posts `form` (an `upload`) with `token`; registered (201), its answer.
pub async fn post_upload(d: &impl Served, token: &str, form: Form) -> Value {
    let r = reqwest::Client::new()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("post the upload");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    r.json().await.expect("the PBX's answer")
}

/// A client as the PBX's: it gives up after 30 seconds.
pub fn pbx_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `body` posted as JSON to `path` with the source's `token`: the status and
/// the JSON answered (null if none).
pub async fn post_json(
    d: &impl Served,
    path: &str,
    token: &str,
    body: &Value,
) -> (reqwest::StatusCode, Value) {
    let r = pbx_client()
        .post(d.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("post");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}
