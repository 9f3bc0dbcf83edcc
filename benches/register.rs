//! Registers 10,000 appeals in a fresh SQLite Journal with durable commits (WAL,
//! synchronous=FULL: each registration is on disk when it returns) and prints the
//! rate, sequentially and with concurrent writers, plain and sealed (identity and
//! text in age envelopes to the office and escrow keys, as after `senim keys init`,
//! the chain's head signed at every transaction by the installation's signing key).
//!
//! Run: `cargo bench --bench register` (SENIM_BENCH_APPEALS to change the count).

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::clock::SystemClock;
use senim::db::{Db, DbSettings};
use senim::journal::{Channel, Journal, NewAppeal, Reporter, SourceRef, Status};
use senim::sealing::{IntakeKey, Keys, Sealer};

fn appeal(i: usize) -> NewAppeal {
    NewAppeal {
        received_at: Utc::now(),
        channel: Channel::Phone,
        reporter: Reporter {
            name: Some(format!("Reporter {i}")),
            ..Reporter::default()
        },
        subject: Some("Subject".into()),
        substance: Some("An inspector asked for money to sign the act.".into()),
        status: Status::AwaitingOperatorNotes,
        source: SourceRef::new("bench", i.to_string()),
        also_known_as: vec![],
        actor: "bench".into(),
    }
}

async fn journal(dir: &std::path::Path, name: &str, sealed: bool) -> Journal {
    let settings = DbSettings {
        url: format!("sqlite://{}", dir.join(name).display()),
        max_connections: 8,
        connect_timeout: std::time::Duration::from_secs(10),
        lock_wait: std::time::Duration::from_secs(30),
        ca_file: None,
    };
    let db = Db::connect(&settings).await.expect("open SQLite");
    db.migrate().await.expect("migrate");
    let calendar = Arc::new(Calendar::new(
        WorkingHours::default(),
        CalendarData::embedded(),
    ));
    let journal = Journal::new(db.clone(), calendar, Arc::new(SystemClock), "TL");
    if !sealed {
        return journal;
    }
    let authority = Some(Arc::new(
        senim::authority::Authority::generate()
            .expect("a signing key")
            .0,
    ));
    let mut tx = db.begin().await.expect("begin");
    Keys::new(db.clone(), authority.clone())
        .init_in(&mut tx, "bench", Utc::now())
        .await
        .expect("office key");
    tx.commit().await.expect("commit");
    let sealer = Sealer::new(&db, Some(IntakeKey::derive(&[7u8; 32])), authority);
    sealer.refresh().await.expect("office key");
    // As the daemon after `keys init`: the head signed once per transaction.
    let (authority, _) = senim::authority::Authority::generate().expect("signing key");
    journal
        .sealed_with(sealer)
        .signed_by(Some(Arc::new(authority)))
}

async fn run(journal: Journal, total: usize, writers: usize) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let journal = journal.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(writers) {
                journal.register(appeal(i)).await.expect("register");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::var("SENIM_BENCH_APPEALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir_in(".").expect("temporary directory on the working disk");
    for sealed in [false, true] {
        let kind = if sealed { "sealed" } else { "plain" };
        for writers in [1, 16] {
            let journal = journal(dir.path(), &format!("bench-{kind}-{writers}.db"), sealed).await;
            let rate = run(journal.clone(), total, writers).await;
            assert!(journal.verify().await.expect("verify").is_intact());
            assert_eq!(journal.is_sealed(), sealed);
            println!(
                "register/sqlite-durable/{kind}: {total} appeals, {writers:>2} writer(s): {rate:>8.0} appeals/s"
            );
        }
    }
}
