//! The law's arithmetic and authority, as a table: each row an appeal received at
//! a given instant, the acts that follow it (each on the day it is recorded), and
//! the deadlines expected afterwards, every date counted by hand in the row's
//! comment with the clause or article it follows. Then what no row may do: an
//! act dated after today or before the receipt, the reply's extension by anyone
//! but the head (the Director or a deputy named in `[authority]`), a status moved
//! back, anything recorded on a closed appeal.
//!
//! The calendar the counts use (Astana, `senim calendar`): Wednesday 16 December
//! 2026 (Independence Day), Friday 1 January 2027 (New Year), Monday 4 January
//! 2027 (New Year's 2 January fell on a Saturday) and Thursday 7 January 2027
//! (Orthodox Christmas) are days off; working hours 09:00–18:00. A working-day
//! count starts on the working day after its first day (`add_working_days`).
//!
//! The rules counted (`deadlines`, `cases::acts`):
//! - triage: classified, sent on or found "not considered" by the end of the day
//!   after registration, a day off or not (10.6);
//! - a criminal offence or a threat: sent to the competent body the day it is
//!   found (6.3);
//! - the reply: 15 working days from the day of receipt (APPK Art. 76), only with
//!   a return address; extended by the head by at most one month past its due
//!   date, the citizen told within 3 working days of the extension;
//! - the redirection outside competence: 3 working days from the day of receipt
//!   (APPK Art. 76, "со дня его поступления");
//! - an appeal received after 18:00 or on a day off is registered on the next
//!   working day (APPK Art. 64 p.3).
//!
//! A deadline is met (what it asked was done), ended (the case's end made it
//! moot: closed, "not considered", forwarded, redirected), or open; an ended one
//! is never on the board nor in the digest, nor counted as missed by the report.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use senim::app::App;
use senim::cases::acts::Body;
use senim::cases::{Act, ActError};
use senim::clock::{Clock, FixedClock};
use senim::config::{Config, ConfigSource};
use senim::deadlines::{Event, Kind};
use senim::journal::{Appeal, Category, Channel, NewAppeal, Reporter, SourceRef, Status};
use support::database::{Backend, TestDb};
use support::on_both_backends;
use support::scene::new_appeal;
use support::senim::write_config;
use support::time::{astana, date};

/// What is done on an appeal, on the day it is recorded.
#[derive(Clone, Debug)]
enum Step {
    Classify(Category),
    Act(Act),
}

/// What a deadline is expected to be after the row's acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Open,
    Met(NaiveDate),
    /// Ended by the act of that name, on that day.
    Ended(NaiveDate, &'static str),
}

struct Row {
    name: &'static str,
    received: DateTime<Utc>,
    channel: Channel,
    reporter: Reporter,
    substance: &'static str,
    registered_on: NaiveDate,
    steps: Vec<(NaiveDate, Step)>,
    /// (kind, started on, due on, outcome).
    expect: Vec<(Kind, NaiveDate, NaiveDate, Outcome)>,
}

fn named_with_email() -> Reporter {
    Reporter {
        name: Some("Айдар Сапаров".into()),
        email: Some("aidar@example.kz".into()),
        ..Reporter::default()
    }
}

fn named_with_address() -> Reporter {
    Reporter {
        name: Some("Гульнара Ахметова".into()),
        phone: Some("+77015550101".into()),
        postal_address: Some("Астана, ул. Кенесары, 1".into()),
        ..Reporter::default()
    }
}

fn reason(text: &str) -> String {
    text.to_owned()
}

fn rows() -> Vec<Row> {
    use Kind::*;
    use Outcome::*;
    vec![
        // Received Monday 7 December 2026, 10:00: registered that day. Triage due
        // Tuesday 8th (the day after registration, 10.6), met by the
        // classification on the 7th. Reply: 15 working days from the 7th: 8, 9,
        // 10, 11, 14, 15, (16th off), 17, 18, 21, 22, 23, 24, 25, 28, 29 →
        // Tuesday 29 December; sent on the 28th.
        Row {
            name: "working hours",
            received: astana(2026, 12, 7, 10, 0),
            channel: Channel::Email,
            reporter: named_with_email(),
            substance: "Начальник склада требует взятку за подпись",
            registered_on: date(2026, 12, 7),
            steps: vec![
                (date(2026, 12, 7), Step::Classify(Category::Corruption)),
                (
                    date(2026, 12, 28),
                    Step::Act(Act::Deadline(Event::ReplySent {
                        on: date(2026, 12, 28),
                    })),
                ),
            ],
            expect: vec![
                (
                    Reply,
                    date(2026, 12, 7),
                    date(2026, 12, 29),
                    Met(date(2026, 12, 28)),
                ),
                (
                    Triage,
                    date(2026, 12, 7),
                    date(2026, 12, 8),
                    Met(date(2026, 12, 7)),
                ),
            ],
        },
        // The row: a call received Friday 11 December 2026 at 19:30,
        // after hours: registered Monday 14th (APPK Art. 64 p.3). Outside
        // competence, recorded on the 14th: the redirection is due 3 working
        // days from the day of RECEIPT, the 11th: 14, 15, (16th off), 17 →
        // Thursday 17 December (not the 18th, as counted from registration).
        // The reply would be due 15 working days from the 11th: 14, 15, 17, 18,
        // 21, 22, 23, 24, 25, 28, 29, 30, 31, (1 and 4 January off) 5, 6 →
        // 6 January 2027; the redirection on the 17th ends it. Triage due the
        // 15th, met by the finding "outside competence" on the 14th.
        Row {
            name: "Friday after 18:00, outside competence",
            received: astana(2026, 12, 11, 19, 30),
            channel: Channel::Phone,
            reporter: named_with_address(),
            substance: "Жалоба на соседей, не на работников предприятия",
            registered_on: date(2026, 12, 14),
            steps: vec![
                (
                    date(2026, 12, 14),
                    Step::Act(Act::Deadline(Event::OutsideCompetence)),
                ),
                (
                    date(2026, 12, 17),
                    Step::Act(Act::Deadline(Event::Redirected {
                        on: date(2026, 12, 17),
                    })),
                ),
            ],
            expect: vec![
                (
                    Reply,
                    date(2026, 12, 11),
                    date(2027, 1, 6),
                    Ended(date(2026, 12, 17), "redirected"),
                ),
                (
                    Triage,
                    date(2026, 12, 14),
                    date(2026, 12, 15),
                    Met(date(2026, 12, 14)),
                ),
                (
                    Redirect,
                    date(2026, 12, 11),
                    date(2026, 12, 17),
                    Met(date(2026, 12, 17)),
                ),
            ],
        },
        // Received Tuesday 15 December 2026, 17:00, the eve of Independence Day:
        // registered that day. Triage due Wednesday 16th, a holiday (10.6 fixes
        // the day, not a working day). Reply: 17, 18, 21, 22, 23, 24, 25, 28,
        // 29, 30, 31, (1, 4 January off) 5, 6, (7th off) 8, 11 → Monday 11
        // January 2027. Found "not considered" on the 17th (triage met late),
        // then closed on the 18th: the reply is ended by the first, and nothing
        // is left for the closing to end.
        Row {
            name: "eve of a holiday, not considered, then closed",
            received: astana(2026, 12, 15, 17, 0),
            channel: Channel::Email,
            reporter: named_with_email(),
            substance: "Сообщаю без указания фактов",
            registered_on: date(2026, 12, 15),
            steps: vec![
                (
                    date(2026, 12, 17),
                    Step::Act(Act::NotConsidered {
                        reason: reason("no facts of possible corruption (6.3)"),
                    }),
                ),
                (
                    date(2026, 12, 18),
                    Step::Act(Act::Close {
                        reason: reason("not considered"),
                    }),
                ),
            ],
            expect: vec![
                (
                    Reply,
                    date(2026, 12, 15),
                    date(2027, 1, 11),
                    Ended(date(2026, 12, 17), "not_considered"),
                ),
                (
                    Triage,
                    date(2026, 12, 15),
                    date(2026, 12, 16),
                    Met(date(2026, 12, 17)),
                ),
            ],
        },
        // Received Thursday 31 December 2026, 12:00 (a working day): registered
        // in 2026. Triage due Friday 1 January 2027, a holiday. Reply: (1st, 4th
        // off) 5, 6, (7th off) 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26
        // → Tuesday 26 January 2027. The Director extends it on 20 January by
        // one month at most: to 26 February (APPK Art. 76); the citizen must be
        // told within 3 working days of the 20th: 21, 22, 25 → 25 January, and
        // is told on the 22nd.
        Row {
            name: "31 December, extended by the Director",
            received: astana(2026, 12, 31, 12, 0),
            channel: Channel::Email,
            reporter: named_with_email(),
            substance: "Взятка при приёмке работ",
            registered_on: date(2026, 12, 31),
            steps: vec![
                (date(2026, 12, 31), Step::Classify(Category::Corruption)),
                (
                    date(2027, 1, 20),
                    Step::Act(Act::Deadline(Event::ReplyExtended {
                        until: date(2027, 2, 26),
                        reason: reason("the expertise of the documents"),
                        reference: reason("приказ № 14 от 20.01.2027"),
                    })),
                ),
                (
                    date(2027, 1, 22),
                    Step::Act(Act::Deadline(Event::CitizenNotified {
                        on: date(2027, 1, 22),
                    })),
                ),
            ],
            expect: vec![
                (Reply, date(2026, 12, 31), date(2027, 2, 26), Open),
                (
                    Triage,
                    date(2026, 12, 31),
                    date(2027, 1, 1),
                    Met(date(2026, 12, 31)),
                ),
                (
                    ExtensionNotice,
                    date(2027, 1, 20),
                    date(2027, 1, 25),
                    Met(date(2027, 1, 22)),
                ),
            ],
        },
        // Friday night, 11 December 2026 at 23:30, anonymous and with no return
        // address: registered Monday 14th, no reply is owed (nowhere to send it),
        // but its triage is: due Tuesday 15th. Nobody looks until the 17th, when
        // it is found "not considered" (6.3): the triage is met, two days late.
        Row {
            name: "Friday night, anonymous, no address",
            received: astana(2026, 12, 11, 23, 30),
            channel: Channel::Email,
            reporter: Reporter::default(),
            substance: "Анонимно: закупки проводятся нечестно",
            registered_on: date(2026, 12, 14),
            steps: vec![(
                date(2026, 12, 17),
                Step::Act(Act::NotConsidered {
                    reason: reason("anonymous, no offence nor threat (6.3)"),
                }),
            )],
            expect: vec![(
                Triage,
                date(2026, 12, 14),
                date(2026, 12, 15),
                Met(date(2026, 12, 17)),
            )],
        },
        // A threat, anonymous, received Monday 14 December 2026, 10:00: its words
        // start its forwarding to the competent body, due the same day (6.3),
        // and the triage, due the 15th. Both are met by the forwarding on the 14th.
        Row {
            name: "a threat, forwarded the same day",
            received: astana(2026, 12, 14, 10, 0),
            channel: Channel::Email,
            reporter: Reporter::default(),
            substance: "Угрожает взрывом на складе",
            registered_on: date(2026, 12, 14),
            steps: vec![(
                date(2026, 12, 14),
                Step::Act(Act::Forward {
                    to: Body::CompetentBody,
                    on: date(2026, 12, 14),
                    method: "by_hand".into(),
                    reference: "вх. № 77".into(),
                }),
            )],
            expect: vec![
                (
                    Triage,
                    date(2026, 12, 14),
                    date(2026, 12, 15),
                    Met(date(2026, 12, 14)),
                ),
                (
                    ThreatForward,
                    date(2026, 12, 14),
                    date(2026, 12, 14),
                    Met(date(2026, 12, 14)),
                ),
            ],
        },
        // A corruption report received Monday 7 December 2026, 11:00, with an
        // e-mail: the reply due 29 December as in the first row. The Director
        // consents on the 8th (10.6); it is forwarded to the anti-corruption
        // service on the 9th (10.7). The enterprise still owes the citizen its
        // reply (its own investigation may follow): sent on the 10th.
        Row {
            name: "forwarded to the anti-corruption service",
            received: astana(2026, 12, 7, 11, 0),
            channel: Channel::Email,
            reporter: named_with_email(),
            substance: "Директор филиала получил взятку",
            registered_on: date(2026, 12, 7),
            steps: vec![
                (date(2026, 12, 7), Step::Classify(Category::Corruption)),
                (
                    date(2026, 12, 8),
                    Step::Act(Act::Consent {
                        send: true,
                        reason: String::new(),
                    }),
                ),
                (
                    date(2026, 12, 9),
                    Step::Act(Act::Forward {
                        to: Body::AntiCorruptionService,
                        on: date(2026, 12, 9),
                        method: "post".into(),
                        reference: "OUT-2026-0001".into(),
                    }),
                ),
                (
                    date(2026, 12, 10),
                    Step::Act(Act::Deadline(Event::ReplySent {
                        on: date(2026, 12, 10),
                    })),
                ),
            ],
            expect: vec![
                (
                    Reply,
                    date(2026, 12, 7),
                    date(2026, 12, 29),
                    Met(date(2026, 12, 10)),
                ),
                (
                    Triage,
                    date(2026, 12, 7),
                    date(2026, 12, 8),
                    Met(date(2026, 12, 7)),
                ),
            ],
        },
        // A threat with a name and an e-mail, received Monday 14 December
        // 2026, 10:00: its words start its forwarding, due that day (6.3), the
        // triage is due the 15th, and the reply 15 working days from the 14th:
        // 15, (16th off) 17, 18, 21, 22, 23, 24, 25, 28, 29, 30, 31, (1st, 4th
        // off) 5, 6, (7th off) 8 → Friday 8 January 2027. Classified a criminal
        // offence and forwarded to the competent body on the 14th: the
        // enterprise's part ends, and the reply with it.
        Row {
            name: "a threat with an address, forwarded to the competent body",
            received: astana(2026, 12, 14, 10, 0),
            channel: Channel::Email,
            reporter: named_with_email(),
            substance: "Грозят взрывом на складе",
            registered_on: date(2026, 12, 14),
            steps: vec![
                (
                    date(2026, 12, 14),
                    Step::Classify(Category::CriminalOffence),
                ),
                (
                    date(2026, 12, 14),
                    Step::Act(Act::Forward {
                        to: Body::CompetentBody,
                        on: date(2026, 12, 14),
                        method: "by_hand".into(),
                        reference: "вх. № 78".into(),
                    }),
                ),
            ],
            expect: vec![
                (
                    Reply,
                    date(2026, 12, 14),
                    date(2027, 1, 8),
                    Ended(date(2026, 12, 14), "forwarded"),
                ),
                (
                    Triage,
                    date(2026, 12, 14),
                    date(2026, 12, 15),
                    Met(date(2026, 12, 14)),
                ),
                (
                    ThreatForward,
                    date(2026, 12, 14),
                    date(2026, 12, 14),
                    Met(date(2026, 12, 14)),
                ),
            ],
        },
    ]
}

/// Senim assembled on `db` as the daemon assembles it, no task running, the
/// clock in the test's hand; `[authority]` names `deputy`.
fn rig(dir: &Path, db: &TestDb) -> (App, FixedClock) {
    let path = write_config(
        dir,
        support::ports::free_port(),
        &db.url,
        "[authority]\ndeputies = [\"deputy\"]\n",
    );
    let config = Config::load(&ConfigSource::new(Some(&path))).expect("test config");
    let clock = FixedClock::at(astana(2026, 12, 1, 9, 0));
    let app = App::assemble(config, db.db.clone(), Arc::new(clock.clone())).expect("assemble");
    (app, clock)
}

async fn register(
    app: &App,
    clock: &FixedClock,
    key: &str,
    received: DateTime<Utc>,
    channel: Channel,
    reporter: Reporter,
    substance: &str,
) -> Appeal {
    clock.set(received + chrono::Duration::seconds(5));
    app.journal
        .register(NewAppeal {
            channel,
            reporter,
            substance: Some(substance.to_owned()),
            ..new_appeal(SourceRef::new("law", key), received)
        })
        .await
        .expect("register")
        .into_appeal()
}

/// Records `step` on `day`, at noon Astana, as the manager (the Director for
/// her own acts).
async fn record(
    app: &App,
    clock: &FixedClock,
    appeal: &Appeal,
    day: NaiveDate,
    step: &Step,
) -> Result<(), String> {
    use chrono::Datelike;
    clock.set(astana(day.year(), day.month(), day.day(), 12, 0));
    let now = clock.now();
    match step {
        Step::Classify(category) => app
            .case()
            .classify(
                appeal.id,
                *category,
                "triage",
                &support::rules::acting::<senim::rulebook::rule::Classify>("person:manager"),
                now,
                day,
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Step::Act(act) => {
            let actor = if act.who() == [senim::persons::Role::Director] {
                "person:director"
            } else {
                "person:manager"
            };
            app.case()
                .record(
                    appeal.id,
                    act,
                    &support::rules::permitted(act, actor),
                    now,
                    day,
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

async fn the_table_holds(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (app, clock) = rig(dir.path(), &db);
    for (i, row) in rows().into_iter().enumerate() {
        let appeal = register(
            &app,
            &clock,
            &format!("row-{i}"),
            row.received,
            row.channel,
            row.reporter.clone(),
            row.substance,
        )
        .await;
        assert_eq!(
            appeal.registration_date, row.registered_on,
            "{}: registration date",
            row.name
        );
        for (day, step) in &row.steps {
            record(&app, &clock, &appeal, *day, step)
                .await
                .unwrap_or_else(|e| panic!("{}: {step:?} on {day}: {e}", row.name));
        }
        let got: Vec<(Kind, NaiveDate, NaiveDate, Outcome)> = app
            .deadlines
            .of_appeal(appeal.id)
            .await
            .expect("deadlines")
            .into_iter()
            .map(|d| {
                let outcome = match (d.met_on, d.ended_on, d.ended_by.as_deref()) {
                    (Some(met), _, _) => Outcome::Met(met),
                    (None, Some(on), Some(by)) => Outcome::Ended(
                        on,
                        [
                            "redirected",
                            "not_considered",
                            "forwarded",
                            "closed",
                            "reply_sent",
                        ]
                        .into_iter()
                        .find(|name| *name == by)
                        .unwrap_or("?"),
                    ),
                    _ => Outcome::Open,
                };
                (d.kind, d.started_on, d.due_on, outcome)
            })
            .collect();
        assert_eq!(got, row.expect, "{}", row.name);
        // Each ended deadline is an event of the chain naming the act.
        let history = app.journal.history(appeal.id).await.expect("history");
        for (kind, _, _, outcome) in &row.expect {
            if let Outcome::Ended(_, by) = outcome {
                assert!(
                    history.iter().any(|e| e.kind == "deadline_ended"
                        && e.detail.contains(kind.as_str())
                        && e.detail.contains(by)),
                    "{}: no deadline_ended event for {kind} by {by}",
                    row.name
                );
            }
        }
    }
    // Weeks later, nothing ended is overdue: the board (and the 09:00 digest,
    // which is the same list) holds only the 31 December row's extended reply,
    // due 26 February, and nothing overdue.
    clock.set(astana(2027, 2, 1, 9, 0));
    let board = app.deadlines.board(date(2027, 2, 1)).await.expect("board");
    assert!(board.overdue.is_empty(), "overdue: {:?}", board.overdue);
    let report = senim::report::Report::compute(
        &app.report_sources(),
        senim::report::Period::new(date(2026, 12, 1), date(2027, 1, 31)).expect("period"),
        date(2027, 2, 1),
    )
    .await
    .expect("report");
    assert_eq!(
        report.deadlines.all.ended, 3,
        "the three ended replies: redirected, not considered, forwarded to a competent body"
    );
    assert_eq!(
        report.deadlines.all.overdue, 0,
        "an ended deadline is never overdue"
    );
    // Two triages met late: the eve of the holiday (due the 16th, met the
    // 17th) and the anonymous Friday-night appeal (due the 15th, met the 17th).
    assert_eq!(report.deadlines.all.missed(), 2);
}

on_both_backends!(#[tokio::test] the_table_holds => the_law_table_on_sqlite, the_law_table_on_postgres);

/// An appeal for the refusals below: received Monday 7 December 2026 at 10:00,
/// with an e-mail (its reply due 29 December).
async fn one_appeal(app: &App, clock: &FixedClock, key: &str) -> Appeal {
    register(
        app,
        clock,
        key,
        astana(2026, 12, 7, 10, 0),
        Channel::Email,
        named_with_email(),
        "Взятка за допуск к тендеру",
    )
    .await
}

fn invalid(result: Result<Appeal, ActError>) -> String {
    match result {
        Err(ActError::Invalid(text)) => text,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn no_act_is_dated_after_today_nor_before_the_receipt() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (app, clock) = rig(dir.path(), &db);
    let appeal = one_appeal(&app, &clock, "dates").await;
    clock.set(astana(2026, 12, 7, 15, 0));
    let now = clock.now();
    let today = date(2026, 12, 7);
    let sent = |on| Act::Deadline(Event::ReplySent { on });
    let future = invalid(
        app.case()
            .record(
                appeal.id,
                &sent(date(2027, 5, 1)),
                &support::rules::permitted(&sent(date(2027, 5, 1)), "person:m"),
                now,
                today,
            )
            .await,
    );
    assert!(future.contains("after today"), "{future}");
    let before = invalid(
        app.case()
            .record(
                appeal.id,
                &sent(date(2026, 12, 6)),
                &support::rules::permitted(&sent(date(2026, 12, 6)), "person:m"),
                now,
                today,
            )
            .await,
    );
    assert!(
        before.contains("before the appeal was received"),
        "{before}"
    );
    let forward = invalid(
        app.case()
            .record(
                appeal.id,
                &Act::Forward {
                    to: Body::CompetentBody,
                    on: date(2026, 12, 8),
                    method: "post".into(),
                    reference: String::new(),
                },
                &support::rules::permitted_as(senim::rulebook::Action::Forward, "person:m"),
                now,
                today,
            )
            .await,
    );
    assert!(forward.contains("after today"), "{forward}");
    // Nothing of the refused acts was recorded: the status and the reply stand.
    let after = app.journal.get(appeal.id).await.expect("appeal");
    assert_eq!(after.status, Status::Registered);
    let reply = app.deadlines.of_appeal(appeal.id).await.expect("deadlines");
    assert!(reply.iter().all(|d| d.met_on.is_none()));
    // On the day itself, it is recorded.
    app.case()
        .record(
            appeal.id,
            &sent(today),
            &support::rules::permitted(&sent(today), "person:m"),
            now,
            today,
        )
        .await
        .expect("a reply sent today");
}

#[tokio::test]
async fn the_reply_is_extended_by_the_head_or_a_named_deputy_only() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (app, clock) = rig(dir.path(), &db);
    let appeal = one_appeal(&app, &clock, "extension").await;
    let act = Act::Deadline(Event::ReplyExtended {
        until: date(2027, 1, 29),
        reason: "an expertise".into(),
        reference: "приказ № 3 от 10.12.2026".into(),
    });
    let deputies = vec!["deputy".to_owned()];
    use senim::persons::Role;
    // The manager may not; the Director and the deputy named in [authority]
    // may, whatever the deputy's own role.
    assert_eq!(act.who_for("manager", &deputies), [Role::Director]);
    assert_eq!(act.who_for("director", &deputies), [Role::Director]);
    assert!(act.who_for("deputy", &deputies).contains(&Role::Manager));
    assert!(act.who_for("deputy", &deputies).contains(&Role::Auditor));
    // Only the reply's extension is a deputy's: the investigation's stays hers.
    let investigation = Act::Deadline(Event::InvestigationExtended {
        until: date(2027, 1, 29),
        reason: "x".into(),
    });
    assert_eq!(investigation.who_for("deputy", &deputies), [Role::Director]);
    // At most one month past the due date, 29 December 2026: 29 January 2027.
    clock.set(astana(2026, 12, 10, 12, 0));
    let too_far = invalid(
        app.case()
            .record(
                appeal.id,
                &Act::Deadline(Event::ReplyExtended {
                    until: date(2027, 1, 30),
                    reason: "an expertise".into(),
                    reference: "приказ № 3".into(),
                }),
                &support::rules::permitted_as(
                    senim::rulebook::Action::ExtendReply,
                    "person:director",
                ),
                clock.now(),
                date(2026, 12, 10),
            )
            .await,
    );
    assert!(too_far.contains("2027-01-29"), "{too_far}");
    app.case()
        .record(
            appeal.id,
            &act,
            &support::rules::permitted(&act, "person:deputy"),
            clock.now(),
            date(2026, 12, 10),
        )
        .await
        .expect("extended to the month's end");
    let history = app.journal.history(appeal.id).await.expect("history");
    let extension = history
        .iter()
        .find(|e| e.kind == "reply_extended")
        .expect("the extension in the chain");
    assert_eq!(extension.actor, "person:deputy");
    assert!(
        extension.detail.contains("приказ № 3 от 10.12.2026"),
        "the written decision's reference is in the chain: {}",
        extension.detail
    );
}

#[tokio::test]
async fn a_closed_case_stays_closed_and_a_status_never_moves_back() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (app, clock) = rig(dir.path(), &db);
    let appeal = one_appeal(&app, &clock, "closed").await;
    clock.set(astana(2026, 12, 8, 12, 0));
    let (now, today) = (clock.now(), date(2026, 12, 8));
    app.case()
        .record(
            appeal.id,
            &Act::Close {
                reason: "answered by phone".into(),
            },
            &support::rules::permitted_as(senim::rulebook::Action::Close, "person:m"),
            now,
            today,
        )
        .await
        .expect("closed");
    // Every deadline it had is ended by the closing, none left open.
    let deadlines = app.deadlines.of_appeal(appeal.id).await.expect("deadlines");
    assert!(!deadlines.is_empty());
    for d in &deadlines {
        assert_eq!(d.ended_by.as_deref(), Some("closed"), "{d:?}");
        assert!(!d.is_open() && !d.is_missed(date(2027, 6, 1)), "{d:?}");
    }
    // Nothing more is recorded on it, by any act...
    for act in [
        Act::Deadline(Event::ReplySent { on: today }),
        Act::Close {
            reason: "again".into(),
        },
        Act::Consent {
            send: true,
            reason: String::new(),
        },
    ] {
        let refused = invalid(
            app.case()
                .record(
                    appeal.id,
                    &act,
                    &support::rules::permitted(&act, "person:director"),
                    now,
                    today,
                )
                .await,
        );
        assert!(refused.contains("closed"), "{act:?}: {refused}");
    }
    // ...nor by the Journal's own amendment, whatever path asks.
    let back = app
        .journal
        .amend(
            appeal.id,
            senim::journal::Amendment::Status {
                status: Status::Registered,
                reason: None,
            },
            "person:m",
        )
        .await
        .expect_err("a closed appeal is not reopened");
    assert!(back.to_string().contains("only moves forward"), "{back}");
    let classify = app
        .case()
        .classify(
            appeal.id,
            Category::Corruption,
            "late",
            &support::rules::acting::<senim::rulebook::rule::Classify>("person:m"),
            now,
            today,
        )
        .await
        .expect_err("a closed appeal is not classified");
    assert!(classify.to_string().contains("closed"), "{classify}");
}

/// One path on every surface: the API's acts and deadline events, the CLI's
/// `journal status`, and the console (`tests/console_case.rs`) all go through
/// `cases::Case::record` with `Act::who_for`: the reply's extension is refused
/// to a manager and taken from the deputy named in `[authority]`, a closing
/// ends the deadlines, and no surface reopens a closed appeal.
#[tokio::test]
async fn every_surface_takes_the_one_path() {
    use support::senim::{Served, person, run_cli_as};
    let dir = tempfile::tempdir().expect("temporary directory");
    let extra = "[authority]\ndeputies = [\"dana\"]\n";
    // The persons first, the daemon stopped (as an administrator sets up).
    let config = write_config(dir.path(), support::ports::free_port(), "", extra);
    let manager = person(&config, "marat", &["manager"]);
    // The deputy works the line as an operator; the configuration makes her
    // the head's deputy for the reply's extension alone.
    let deputy = person(&config, "dana", &["operator"]);
    let d = support::app::TestApp::spawn(dir.path(), "", extra, astana(2026, 12, 8, 12, 0)).await;
    let appeal = register(
        &d.app,
        &d.clock,
        "surfaces",
        astana(2026, 12, 7, 10, 0),
        Channel::Email,
        named_with_email(),
        "Взятка за допуск",
    )
    .await;
    d.clock.set(astana(2026, 12, 8, 12, 0));
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: serde_json::Value| {
        http.post(d.url(&format!("/v1/appeals/{}{path}", appeal.registration_number)))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let extension = serde_json::json!({
        "event": "reply_extended",
        "until": "2027-01-20",
        "reason": "an expertise",
        "reference": "приказ № 3 от 08.12.2026",
    });
    let r = post("/deadline-events", &manager.token, extension.clone())
        .await
        .expect("post");
    assert_eq!(r.status(), 403, "a manager does not extend the reply");
    let r = post("/deadline-events", &deputy.token, extension)
        .await
        .expect("post");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // An unknown act, or one without what it needs, is refused with a clear
    // error and records nothing; so is a unit that does not exist.
    for (body, expected) in [
        (serde_json::json!({"act": "fly"}), "unknown variant"),
        (serde_json::json!({"act": "route"}), "missing field `unit`"),
        (
            serde_json::json!({"act": "route", "unit": "Nowhere"}),
            "unit: no unit named",
        ),
        (
            serde_json::json!({"act": "close", "reason": " "}),
            "reason: required",
        ),
    ] {
        let r = post("/acts", &manager.token, body.clone())
            .await
            .expect("post");
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
        let text = r.text().await.unwrap_or_default();
        assert!(text.contains(expected), "{body}: {text}");
    }
    let history = d.app.journal.history(appeal.id).await.expect("history");
    assert!(
        !history
            .iter()
            .any(|e| ["routed", "closed"].contains(&e.kind.as_str())),
        "nothing recorded by the refused acts"
    );
    // An act dated tomorrow is refused, naming the field.
    let r = post(
        "/acts",
        &manager.token,
        serde_json::json!({"act": "forward", "to": "competent_body", "on": "2026-12-09", "method": "post"}),
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap_or_default().contains("after today"));
    let r = post(
        "/acts",
        &manager.token,
        serde_json::json!({"act": "close", "reason": "answered by phone"}),
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 200);
    let closed: serde_json::Value = r.json().await.expect("json");
    assert_eq!(closed["status"], "closed", "{closed}");
    let deadlines = closed["deadlines"].as_array().cloned().unwrap_or_default();
    assert!(!deadlines.is_empty());
    assert!(
        deadlines
            .iter()
            .all(|d| d["met_on"].is_null() && d["ended_by"] == "closed"),
        "every deadline ended by the closing: {closed}"
    );
    // The CLI's `journal status` neither reopens it nor sets a status an act
    // sets, and says which act would.
    let number = appeal.registration_number.to_string();
    let out = run_cli_as(
        &d.config,
        &manager,
        &["journal", "status", &number, "under_investigation"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("senim investigation order"),
        "{err}"
    );
    let out = run_cli_as(
        &d.config,
        &manager,
        &["journal", "status", &number, "registered"],
    );
    assert!(!out.status.success());
    let out = run_cli_as(
        &d.config,
        &manager,
        &["journal", "status", &number, "closed", "--reason", "again"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("closed"), "{err}");
    let r = post(
        "/acts",
        &manager.token,
        serde_json::json!({"act": "not_considered", "reason": "late"}),
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 422, "nothing is recorded on a closed appeal");
    let after = d.app.journal.get(appeal.id).await.expect("appeal");
    assert_eq!(after.status, Status::Closed);
    d.stop().await;
}

/// An appeal an earlier version closed by setting its status alone kept its
/// reply deadline open, which the board and the 09:00 digest then showed as
/// OVERDUE for ever. At start-up the scheduler ends such deadlines, each a
/// `deadline_ended` event of the daemon's, and the board is clean.
#[tokio::test]
async fn deadlines_an_earlier_version_left_open_on_a_closed_appeal_end_at_start() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (app, clock) = rig(dir.path(), &db);
    let appeal = one_appeal(&app, &clock, "closed-before").await;
    // As `senim journal status … closed` did before it went through the acts.
    app.journal
        .amend(
            appeal.id,
            senim::journal::Amendment::Status {
                status: Status::Closed,
                reason: Some("closed".into()),
            },
            "person:manager",
        )
        .await
        .expect("closed the old way");
    clock.set(astana(2027, 1, 11, 9, 0));
    let board = app.deadlines.board(date(2027, 1, 11)).await.expect("board");
    assert_eq!(
        board.overdue.len(),
        2,
        "the reply and the triage, left open"
    );
    app.scheduler()
        .backfill_reply_deadlines(clock.now())
        .await
        .expect("start-up");
    let board = app.deadlines.board(date(2027, 1, 11)).await.expect("board");
    assert!(board.overdue.is_empty(), "{:?}", board.overdue);
    let deadlines = app.deadlines.of_appeal(appeal.id).await.expect("deadlines");
    assert!(
        deadlines
            .iter()
            .all(|d| d.ended_by.as_deref() == Some("closed") && !d.is_missed(date(2027, 1, 11))),
        "{deadlines:?}"
    );
    let history = app.journal.history(appeal.id).await.expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|e| e.kind == "deadline_ended" && e.actor == "senim")
            .count(),
        2
    );
    // Run again: nothing more.
    app.scheduler()
        .backfill_reply_deadlines(clock.now())
        .await
        .expect("start-up again");
    let again = app.journal.history(appeal.id).await.expect("history");
    assert_eq!(again.len(), history.len());
    assert!(app.journal.verify().await.expect("verify").is_intact());
}

/// A disabled person can do nothing: their token stops at once (the API and
/// the command line), and a console session they opened before ends at their
/// next request.
#[tokio::test]
async fn a_person_disabled_while_logged_in_can_do_nothing_more() {
    use support::console::{PASSWORD, console_person, http_login, no_redirects};
    use support::senim::{Served, run_cli};
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), support::ports::free_port(), "", "");
    let manager = console_person(&config, dir.path(), "marat", &["manager"]);
    let d = support::app::TestApp::spawn(dir.path(), "", "", astana(2026, 12, 8, 12, 0)).await;
    let (_, cookie) = http_login(&d, "marat", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let journal = async || {
        no_redirects()
            .get(d.url("/console/journal"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .expect("get")
            .status()
    };
    assert_eq!(journal().await, 200);
    let out = run_cli(&d.config, &["persons", "disable", "marat"]);
    crate::support::senim::assert_succeeded(&out);
    assert_eq!(journal().await, 303, "sent to the login page");
    assert_eq!(journal().await, 303, "and the session is gone for good");
    let r = reqwest::Client::new()
        .get(d.url("/v1/appeals/1/deadlines"))
        .bearer_auth(&manager.token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    d.stop().await;
}
