//! The mailbox ingest benchmark (run by `benches/mailbox-ingest.sh`, ignored in
//! the normal suite): a local Dovecot loaded with 5,000 realistic messages; the
//! time `mbsync` (isync) takes to copy the INBOX to a local Maildir, then the
//! messages/s Senim ingests from the same mailbox (fetch, parse, register,
//! store, MOVE). Prints both.

// Each test binary uses a part of the support.
#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use senim::app::App;
use senim::clock::SystemClock;
use senim::config::{Config, ConfigSource};
use tokio::sync::watch;

use support::database::TestDb;
use support::dovecot::Dovecot;

fn realistic(n: usize) -> Vec<u8> {
    let body = "Здравствуйте! Сообщаю о факте вымогательства взятки сотрудником отдела \
                метрологии при поверке весов. Құрметті басшылық, әкімдікте пара сұрады.\r\n"
        .repeat(8);
    format!(
        "Return-Path: <citizen{n}@example.kz>\r\nReceived: from mx.example.kz by mail.example.kz; Mon, 2 Mar 2026 10:00:00 +0500\r\n\
         From: Citizen {n} <citizen{n}@example.kz>\r\nTo: trust@example.kz\r\nSubject: =?utf-8?B?0JbQsNC70L7QsdCw?= {n}\r\n\
         Message-ID: <bench-{n}@example.kz>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0500\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{body}</p>\r\n--b--\r\n"
    )
    .into_bytes()
}

// The daemon's runtime: multi-threaded, one worker per core.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run benches/mailbox-ingest.sh"]
async fn mailbox_ingest_versus_mbsync() {
    let n: usize = std::env::var("BENCH_MAILBOX_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let dovecot = Dovecot::start();
    let loading = Instant::now();
    for i in 0..n {
        dovecot.append("INBOX", &realistic(i));
    }
    eprintln!(
        "loaded {n} messages in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = dir.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount bench\nHost localhost\nPort {}\nUser {}\nPass {}\nSSLType IMAPS\nCertificateFile {}\n\n\
             IMAPStore remote\nAccount bench\n\nMaildirStore local\nPath {}/\nInbox {}/INBOX\n\n\
             Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSync Pull\nSyncState *\n",
            dovecot.imaps_port(),
            dovecot.user(),
            dovecot.password(),
            dovecot.ca_pem_path().display(),
            maildir.display(),
            maildir.display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let status = std::process::Command::new("mbsync")
        .arg("-c")
        .arg(&rc)
        .arg("-q")
        .arg("bench")
        .status()
        .expect("run mbsync (apt-get install isync)");
    let mbsync = started.elapsed();
    assert!(status.success(), "mbsync failed");
    let copied = std::fs::read_dir(maildir.join("INBOX/cur"))
        .map(|d| d.count())
        .unwrap_or(0)
        + std::fs::read_dir(maildir.join("INBOX/new"))
            .map(|d| d.count())
            .unwrap_or(0);
    assert_eq!(copied, n, "mbsync copied every message");

    let db = TestDb::sqlite().await;
    let path = dir.path().join("senim.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\ndata_dir = \"{}\"\nurl = \"{}\"\n\n[mailbox]\nhost = \"127.0.0.1\"\nport = {}\n\
             ca_file = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\nbatch_size = 200\n",
            dir.path().join("data").display(),
            db.url,
            dovecot.imaps_port(),
            dovecot.ca_pem_path().display(),
            dovecot.user(),
            dovecot.password()
        ),
    )
    .unwrap();
    let config = Config::load(&ConfigSource::new(Some(&path))).unwrap();
    let app = Arc::new(App::open(config, Arc::new(SystemClock)).await.unwrap());
    let (stop, rx) = watch::channel(false);
    let started = Instant::now();
    let instance = senim::instance::id(&dir.path().join("data")).unwrap();
    let task = tokio::spawn(senim::mailbox::poller::run(
        app.mailbox.clone(),
        instance,
        rx,
    ));
    let deadline = started + Duration::from_secs(1800);
    loop {
        let stored = senim::mailbox::store::count(&db.db).await.unwrap();
        if stored >= n as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Senim did not ingest {n} messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Then until the last batch is moved out of the INBOX (doveadm only now, so
    // its processes do not compete with the ingest).
    while dovecot.message_count("INBOX") > 0 {
        assert!(Instant::now() < deadline, "Senim did not move {n} messages");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let senim = started.elapsed();
    let _ = stop.send(true);
    let _ = task.await;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "mbsync: {n} messages copied to a Maildir in {:.2} s ({:.0} messages/s)",
        mbsync.as_secs_f64(),
        rate(mbsync)
    );
    println!(
        "senim:  {n} messages ingested (fetched, parsed, registered, stored, moved) in {:.2} s ({:.0} messages/s), {:.2}x mbsync's time",
        senim.as_secs_f64(),
        rate(senim),
        senim.as_secs_f64() / mbsync.as_secs_f64()
    );
}
