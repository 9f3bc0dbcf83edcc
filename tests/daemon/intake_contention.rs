//! Intake under contention: the database saying "busy" never stops intake.
//!
//! - A write cancelled while it starts (a PBX that hung up, a timeout) leaves no
//!   pooled connection inside a transaction.
//! - Another process holding SQLite's write lock longer than
//!   `database.lock_wait_seconds` makes intake answer 503 with `Retry-After`
//!   while it holds it; once it lets go, intake registers again by itself, with
//!   no restart, and every call is registered exactly once.

use crate::support;

use std::str::FromStr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, SqliteConnection};
use support::process::poll_until;
use support::senim::Daemon;

const TOKEN: &str = "contention-token-0123456789";

fn sqlite(dir: &std::path::Path, lock_wait: Duration) -> senim::db::DbSettings {
    senim::db::DbSettings {
        url: format!("sqlite://{}", dir.join("senim.db").display()),
        max_connections: 2,
        connect_timeout: Duration::from_secs(10),
        lock_wait,
        ca_file: None,
    }
}

/// Cancels `Db::begin` at many different points (after one, two or three polls,
/// the database answering in between); afterwards every pooled connection must still
/// start, write and commit. sqlx's own `begin`, cancelled between its `BEGIN` and
/// its check of the connection, returned the connection to the pool inside a
/// transaction: every later write on it failed ("begin_with at non-zero
/// transaction depth") and the others waited for the lock it still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cancelled_while_it_starts_leaves_no_connection_in_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = senim::db::Db::connect(&sqlite(dir.path(), Duration::from_secs(2)))
        .await
        .expect("open SQLite");
    senim::on_db!(&db, pool => sqlx::query("CREATE TABLE t (x INTEGER)").execute(pool).await.map(|_| ()))
        .expect("create table");
    for i in 0..120u64 {
        // Poll the start of a write one to four times, letting the database
        // answer in between (a pause of a few microseconds or milliseconds),
        // then drop it: a caller cancelled mid-way.
        let mut begin = std::pin::pin!(db.begin());
        for _ in 0..=(i % 4) {
            if futures_util::poll!(begin.as_mut()).is_ready() {
                break;
            }
            if i % 2 == 0 {
                std::thread::sleep(Duration::from_micros(50 * (i % 7)));
            } else {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    for x in 0..20 {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("begin {x}: {e}"));
        senim::on_tx!(&mut tx, conn => sqlx::query("INSERT INTO t VALUES ($1)").bind(x).execute(conn).await.map(|_| ()))
            .unwrap_or_else(|e| panic!("insert {x}: {e}"));
        tx.commit()
            .await
            .unwrap_or_else(|e| panic!("commit {x}: {e}"));
    }
    let n: i64 = senim::on_db!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(pool).await)
        .expect("count");
    assert_eq!(n, 20);
}

fn call(id: &str) -> Value {
    json!({
        "call_id": id,
        "caller": "+77011234567",
        "called": "+77172000000",
        "start": "2026-11-18T10:00:00+05:00",
        "end": "2026-11-18T10:05:00+05:00",
        "disposition": "answered",
    })
}

async fn post(
    client: &reqwest::Client,
    d: &Daemon,
    id: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(TOKEN)
        .json(&call(id))
        .send()
        .await
}

/// Holds SQLite's write lock from this (second) process, as another program
/// would: a connection of its own with `BEGIN IMMEDIATE`.
async fn hold_write_lock(db_file: &std::path::Path) -> SqliteConnection {
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", db_file.display()))
            .expect("options");
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    conn.execute("BEGIN IMMEDIATE")
        .await
        .expect("take the write lock");
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_answers_503_while_another_process_holds_the_lock_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let extra = format!("[[pbx.sources]]\nname = \"office\"\ntoken = \"{TOKEN}\"\n");
    let config = support::senim::write_config(dir.path(), port, "", &extra);
    support::scene::add_keys(&config, "database", "lock_wait_seconds = 1");
    let d = Daemon::start_with_config(dir.path(), config, port);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(
        post(&client, &d, "before").await.unwrap().status(),
        StatusCode::CREATED
    );

    let lock = hold_write_lock(&dir.path().join("data/senim.db")).await;
    // PBXes that give up early hang up while their write waits (each one a
    // cancelled request inside the daemon)...
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let hung_up: Vec<_> = (0..12)
        .map(|i| {
            let (c, d_url) = (impatient.clone(), d.url("/v1/pbx/calls"));
            tokio::spawn(async move {
                let _ = c
                    .post(d_url)
                    .bearer_auth(TOKEN)
                    .json(&call(&format!("hung-up-{i}")))
                    .send()
                    .await;
            })
        })
        .collect();
    // ...and patient ones are told to come back later, every one of them.
    let mut waiting = Vec::new();
    for i in 0..6 {
        let (c, url) = (client.clone(), d.url("/v1/pbx/calls"));
        waiting.push(tokio::spawn(async move {
            c.post(url)
                .bearer_auth(TOKEN)
                .json(&call(&format!("held-{i}")))
                .send()
                .await
        }));
    }
    for w in waiting {
        let r = w.await.unwrap().expect("an answer while the lock is held");
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            r.headers().contains_key("retry-after"),
            "503 without Retry-After"
        );
        let problem: Value = r.json().await.expect("problem+json");
        assert_eq!(problem["status"], 503);
    }
    for h in hung_up {
        h.await.unwrap();
    }
    // The other process lets go: intake registers again, without a restart.
    drop(lock);
    let registered = poll_until(Duration::from_secs(30), || {
        let r = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(post(&client, &d, "after"))
        });
        r.ok().filter(|r| r.status() == StatusCode::CREATED)
    });
    assert!(
        registered.is_some(),
        "intake did not recover after the lock was released"
    );
    // Every call retried after the outage is registered, each exactly once.
    for id in (0..6)
        .map(|i| format!("held-{i}"))
        .chain((0..12).map(|i| format!("hung-up-{i}")))
    {
        let r = post(&client, &d, &id).await.expect("retry");
        assert_eq!(r.status(), StatusCode::CREATED, "{id}");
    }
    for i in 0..20 {
        let r = post(&client, &d, &format!("later-{i}"))
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let out = support::senim::run_cli(&d.config, &["journal", "list", "--json"]);
    let listed = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(
        listed,
        1 + 1 + 6 + 12 + 20,
        "each call registered exactly once"
    );
    let logs = d.logs();
    assert!(
        !logs.contains("non-zero transaction depth"),
        "a pooled connection was left in a transaction"
    );
    d.terminate();
}
