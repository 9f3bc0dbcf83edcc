//! The Journal's contract (clauses 10.6, 10.9), run against real SQLite and real
//! PostgreSQL: gapless numbers per year of registration, exactly one registration
//! per outside item, amendments in a hash-chained audit log that `verify` checks.

use crate::support;

use std::sync::Arc;

use chrono::{DateTime, NaiveTime, Utc};
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::clock::FixedClock;
use senim::journal::{
    Amendment, Category, Channel, Journal, ListFilter, NewAppeal, Registration, Reporter,
    SourceRef, Status,
};
use support::database::{Backend, TestDb};
use support::scene::new_appeal;
use support::time::{astana, date};

fn journal(db: &TestDb, clock: &FixedClock) -> Journal {
    let hours = WorkingHours {
        tz: chrono_tz::Asia::Almaty,
        opens: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
        closes: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00"),
    };
    let calendar = Arc::new(Calendar::new(hours, CalendarData::embedded()));
    Journal::new(db.db.clone(), calendar, Arc::new(clock.clone()), "TL")
}

fn call(id: &str, received_at: DateTime<Utc>) -> NewAppeal {
    NewAppeal {
        channel: Channel::Phone,
        status: Status::AwaitingOperatorNotes,
        ..new_appeal(SourceRef::new("pbx-call", id), received_at)
    }
}

async fn numbers_are_gapless_and_count_per_year_of_registration(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);

    let first = journal
        .register(call("a", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap();
    let second = journal
        .register(call("b", astana(2026, 11, 18, 11, 0)))
        .await
        .unwrap();
    assert!(first.is_new() && second.is_new());
    assert_eq!(
        first.appeal().registration_number.to_string(),
        "TL-2026-000001"
    );
    assert_eq!(
        second.appeal().registration_number.to_string(),
        "TL-2026-000002"
    );
    assert_eq!(first.appeal().registration_date, date(2026, 11, 18));

    // Received on New Year's Eve after hours: registered on the next working day,
    // 5 January 2026 (1-2 Jan holidays, 3-4 Jan weekend), and numbered in 2026.
    let eve = journal
        .register(call("c", astana(2025, 12, 31, 19, 0)))
        .await
        .unwrap();
    assert_eq!(eve.appeal().registration_date, date(2026, 1, 5));
    assert_eq!(
        eve.appeal().registration_number.to_string(),
        "TL-2026-000003"
    );

    // Received on a working day in 2025: its own year's counter starts at 1.
    let old = journal
        .register(call("d", astana(2025, 6, 11, 12, 0)))
        .await
        .unwrap();
    assert_eq!(
        old.appeal().registration_number.to_string(),
        "TL-2025-000001"
    );
    assert_eq!(old.appeal().received_at, astana(2025, 6, 11, 12, 0));
}

async fn the_same_item_is_registered_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);

    let first = journal
        .register(call("call-1", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap();
    let again = journal
        .register(call("call-1", astana(2026, 11, 18, 10, 5)))
        .await
        .unwrap();
    assert!(matches!(again, Registration::Existing(_)));
    assert_eq!(again.appeal().id, first.appeal().id);
    assert_eq!(
        again.appeal().registration_number,
        first.appeal().registration_number
    );

    // Known under another reference (a Message-ID): the same appeal.
    let mut mail = call("uid-7", astana(2026, 11, 18, 10, 0));
    mail.source = SourceRef::new("imap", "INBOX/1/7");
    mail.also_known_as = vec![SourceRef::new("message-id", "<x@example.kz>")];
    let mail = journal.register(mail).await.unwrap();
    let mut copy = call("uid-9", astana(2026, 11, 18, 10, 0));
    copy.source = SourceRef::new("imap", "INBOX/2/9");
    copy.also_known_as = vec![SourceRef::new("message-id", "<x@example.kz>")];
    let copy = journal.register(copy).await.unwrap();
    assert!(!copy.is_new());
    assert_eq!(copy.appeal().id, mail.appeal().id);

    // No number was used up by the duplicates.
    let next = journal
        .register(call("call-2", astana(2026, 11, 18, 11, 0)))
        .await
        .unwrap();
    assert_eq!(
        next.appeal().registration_number.to_string(),
        "TL-2026-000003"
    );
    let found = journal
        .find_source(&SourceRef::new("imap", "INBOX/2/9"))
        .await
        .unwrap();
    assert_eq!(found.map(|a| a.id), Some(mail.appeal().id));
    assert!(journal.verify().await.unwrap().is_intact());
}

async fn reporter_flags_follow_what_was_given(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);

    let anonymous = journal
        .register(call("x", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap()
        .into_appeal();
    assert!(anonymous.anonymous && anonymous.no_return_address);

    let mut named = call("y", astana(2026, 11, 18, 10, 0));
    named.reporter = Reporter {
        name: Some(" Айгүл Сапарова ".into()),
        postal_address: Some("Астана, ул. Кенесары 1".into()),
        ..Reporter::default()
    };
    let named = journal.register(named).await.unwrap().into_appeal();
    assert!(!named.anonymous && !named.no_return_address);
    assert_eq!(named.reporter.name.as_deref(), Some("Айгүл Сапарова"));
}

async fn amendments_are_recorded_and_verified(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);
    let appeal = journal
        .register(call("z", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap()
        .into_appeal();

    clock.advance(chrono::Duration::minutes(20));
    let details = Amendment::Details {
        reporter: Some(Reporter {
            name: Some("Ерлан Нурланов".into()),
            phone: Some("+7 701 000 00 00".into()),
            email: Some("erlan@example.kz".into()),
            ..Reporter::default()
        }),
        subject: Some("Взятка".into()),
        substance: Some("Инспектор требовал деньги за подпись.".into()),
    };
    let amended = journal.amend(appeal.id, details, "manager").await.unwrap();
    assert!(!amended.anonymous && !amended.no_return_address);
    assert_eq!(amended.updated_at, astana(2026, 11, 18, 10, 20));

    let classified = journal
        .amend(
            appeal.id,
            Amendment::Classify {
                category: Category::Corruption,
                reason: "bribe".into(),
            },
            "manager",
        )
        .await
        .unwrap();
    assert_eq!(classified.category, Category::Corruption);
    assert_eq!(
        classified.substance.as_deref(),
        Some("Инспектор требовал деньги за подпись.")
    );

    let history = journal.history(appeal.id).await.unwrap();
    let kinds: Vec<_> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["registered", "details_recorded", "classified"]);
    assert_eq!(history[1].prev_hash, history[0].hash);

    let report = journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!((report.appeals, report.events), (1, 3));

    let missing = journal.amend(
        senim::journal::AppealId(999),
        Amendment::Status {
            status: Status::Closed,
            reason: None,
        },
        "m",
    );
    assert!(matches!(
        missing.await,
        Err(senim::journal::JournalError::NotFound(_))
    ));
}

async fn list_filters_by_date_channel_category_and_status(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 20, 10, 0));
    let journal = journal(&db, &clock);
    journal
        .register(call("1", astana(2026, 11, 16, 10, 0)))
        .await
        .unwrap();
    let mut mail = call("2", astana(2026, 11, 17, 10, 0));
    mail.channel = Channel::Email;
    mail.status = Status::Registered;
    let mail = journal.register(mail).await.unwrap().into_appeal();
    journal
        .register(call("3", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap();
    journal
        .amend(
            mail.id,
            Amendment::Classify {
                category: Category::NotCorruption,
                reason: "complaint".into(),
            },
            "m",
        )
        .await
        .unwrap();

    let numbers = |appeals: Vec<senim::journal::Appeal>| -> Vec<u32> {
        appeals.iter().map(|a| a.registration_number.seq).collect()
    };
    let all = journal.list(&ListFilter::default()).await.unwrap();
    assert_eq!(numbers(all), [1, 2, 3]);
    let range = ListFilter {
        from: Some(date(2026, 11, 17)),
        to: Some(date(2026, 11, 18)),
        ..Default::default()
    };
    assert_eq!(numbers(journal.list(&range).await.unwrap()), [2, 3]);
    let phone = ListFilter {
        channel: Some(Channel::Phone),
        ..Default::default()
    };
    assert_eq!(numbers(journal.list(&phone).await.unwrap()), [1, 3]);
    let category = ListFilter {
        category: Some(Category::NotCorruption),
        ..Default::default()
    };
    assert_eq!(numbers(journal.list(&category).await.unwrap()), [2]);
    let status = ListFilter {
        status: Some(Status::AwaitingOperatorNotes),
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(numbers(journal.list(&status).await.unwrap()), [1]);
    let by_day = journal
        .count_by_day(date(2026, 11, 1), date(2026, 11, 30))
        .await
        .unwrap();
    assert_eq!(
        by_day,
        [
            (date(2026, 11, 16), 1),
            (date(2026, 11, 17), 1),
            (date(2026, 11, 18), 1)
        ]
    );
}

async fn verify_finds_edited_and_deleted_rows(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);
    for id in ["1", "2", "3"] {
        journal
            .register(call(id, astana(2026, 11, 18, 10, 0)))
            .await
            .unwrap();
    }
    assert!(journal.verify().await.unwrap().is_intact());

    // Someone with database access edits an appeal behind the Journal's back.
    exec(
        &db,
        "UPDATE appeals SET category = 'not_corruption' WHERE id = 2",
    )
    .await;
    let report = journal.verify().await.unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(report.findings[0].what.contains("TL-2026-000002"));
    exec(
        &db,
        "UPDATE appeals SET category = 'unclassified' WHERE id = 2",
    )
    .await;
    assert!(journal.verify().await.unwrap().is_intact());

    // The log refuses edits; an attacker who drops the guard is still found out.
    let refused = senim::on_db!(&db.db, pool => sqlx::query("DELETE FROM appeal_events WHERE seq = 3").execute(pool).await.map(|_| ()));
    assert!(refused.is_err(), "the audit log must refuse deletes");
    drop_guards(&db).await;
    exec(
        &db,
        "UPDATE appeal_events SET actor = 'someone else' WHERE seq = 1",
    )
    .await;
    exec(&db, "DELETE FROM appeal_events WHERE seq = 3").await;
    let report = journal.verify().await.unwrap();
    let problems: Vec<_> = report
        .findings
        .iter()
        .map(|f| format!("{}: {}", f.what, f.problem))
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("event 1:") && p.contains("edited")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("deleted")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("TL-2026-000003") && p.contains("no event")),
        "{problems:?}"
    );
}

async fn exec(db: &TestDb, sql: &str) {
    senim::on_db!(&db.db, pool => sqlx::query(sql).execute(pool).await.map(|_| ())).unwrap();
}

async fn drop_guards(db: &TestDb) {
    match db.backend() {
        Backend::Sqlite => {
            exec(db, "DROP TRIGGER appeal_events_no_update").await;
            exec(db, "DROP TRIGGER appeal_events_no_delete").await;
        }
        Backend::Postgres => {
            exec(
                db,
                "DROP TRIGGER appeal_events_append_only ON appeal_events",
            )
            .await
        }
    }
}

async fn registrations_survive_reopening(backend: Backend) {
    let mut db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    journal(&db, &clock)
        .register(call("durable", astana(2026, 11, 18, 10, 0)))
        .await
        .unwrap();
    db.reconnect().await;
    let found = journal(&db, &clock)
        .find_source(&SourceRef::new("pbx-call", "durable"))
        .await
        .unwrap();
    assert_eq!(
        found.map(|a| a.registration_number.to_string()),
        Some("TL-2026-000001".into())
    );
}

async fn concurrent_callers_share_commits_without_gaps_or_doubles(backend: Backend) {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);
    // 200 callers at once through one Journal; every item arrives twice.
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let journal = journal.clone();
            tokio::spawn(async move {
                let r = journal
                    .register(call(
                        &format!("item-{}", i % 100),
                        astana(2026, 11, 18, 10, 0),
                    ))
                    .await;
                (i % 100, r.unwrap())
            })
        })
        .collect();
    let mut by_item = std::collections::BTreeMap::<usize, Vec<Registration>>::new();
    for t in tasks {
        let (item, registration) = t.await.unwrap();
        by_item.entry(item).or_default().push(registration);
    }
    let mut numbers = Vec::new();
    for (item, both) in &by_item {
        assert_eq!(both.len(), 2);
        assert_eq!(
            both.iter().filter(|r| r.is_new()).count(),
            1,
            "item {item} registered once"
        );
        assert_eq!(both[0].appeal().id, both[1].appeal().id);
        numbers.push(both[0].appeal().registration_number.seq);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<u32>>());
    assert!(journal.verify().await.unwrap().is_intact());
}

/// Runs each contract test once per backend.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(super::Backend::Postgres).await })*
        }
    };
}

contract!(
    numbers_are_gapless_and_count_per_year_of_registration,
    the_same_item_is_registered_once,
    reporter_flags_follow_what_was_given,
    amendments_are_recorded_and_verified,
    list_filters_by_date_channel_category_and_status,
    verify_finds_edited_and_deleted_rows,
    registrations_survive_reopening,
    concurrent_callers_share_commits_without_gaps_or_doubles,
);

/// Concurrent writers on PostgreSQL: no gap, no duplicate number, and one
/// registration per item even when every writer races for the same item.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_gapless_unique_numbers_on_postgres() {
    let db = TestDb::postgres().await;
    let clock = FixedClock::at(astana(2026, 11, 18, 10, 0));
    let journal = journal(&db, &clock);
    let writers = 6;
    let per_writer = 40;
    let mut tasks = Vec::new();
    for w in 0..writers {
        // A Journal of its own per writer: separate transactions racing in the database.
        let journal = self::journal(&db, &clock);
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for i in 0..per_writer {
                // Every writer also tries the shared item "race-<i>".
                let own = journal
                    .register(call(&format!("w{w}-{i}"), astana(2026, 11, 18, 10, 0)))
                    .await
                    .unwrap();
                let shared = journal
                    .register(call(&format!("race-{i}"), astana(2026, 11, 18, 10, 0)))
                    .await
                    .unwrap();
                numbers.push((own.appeal().registration_number.seq, true));
                numbers.push((shared.appeal().registration_number.seq, shared.is_new()));
            }
            numbers
        }));
    }
    let mut new_numbers = Vec::new();
    for t in tasks {
        new_numbers.extend(
            t.await
                .unwrap()
                .into_iter()
                .filter(|(_, new)| *new)
                .map(|(n, _)| n),
        );
    }
    new_numbers.sort_unstable();
    let expected: Vec<u32> = (1..=(writers * per_writer + per_writer) as u32).collect();
    assert_eq!(
        new_numbers, expected,
        "numbers must be 1..=N with no gap and no duplicate"
    );
    let report = journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}
