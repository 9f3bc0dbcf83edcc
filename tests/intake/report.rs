//! The analysis of a period (10.13) and the publication for the web site (4.7):
//! a Journal seeded with a known set of appeals over November and December 2026
//! (channels, categories, a routed one, a not-considered one, replies on time
//! and late, an overdue reply, the Director's alerts, missed calls), and the
//! report's figures checked against a count made by hand below. On SQLite and
//! PostgreSQL; then the command line, and the console's page with its charts.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::StatusCode;
use senim::app::App;
use senim::cases::{Act, Case};
use senim::clock::FixedClock;
use senim::config::{Config, ConfigSource};
use senim::deadlines::Event;
use senim::journal::{Appeal, Category, Channel, NewAppeal, Reporter, SourceRef};
use senim::report::{Period, Report};
use support::database::{Backend, TestDb};
use support::on_both_backends;
use support::scene::new_appeal;
use support::senim::{Served, write_config};
use support::time::{astana_at, date};

const PBX_TOKEN: &str = "asterisk-token-0123456789";
const DIRECTOR: &str = "director@kazstandard.kz";
const AUTHORITY: &str = "duty@anticorruption.gov.kz";
const UNIT: &str = "Human resources";

/// What the seeded appeals hold that no report may show.
const SECRETS: &[&str] = &[
    "Айдар Сапаров",
    "aidar.saparov@example.kz",
    "+77015550101",
    "Гульнара Ахметова",
    "Ерлан Жумабаев",
    "77017770202",
    "marat@example.kz",
    "77019990303",
    "SECRET-TEXT",
    "TL-2026-",
];

/// The configuration: the Director and the competent body are told, one unit
/// to route to, one PBX.
fn config_toml(with_alerts: bool) -> String {
    let alerts = if with_alerts {
        format!("director = [\"{DIRECTOR}\"]\ncompetent_authority = [\"{AUTHORITY}\"]\n")
    } else {
        String::new()
    };
    format!(
        r#"
[alerts]
{alerts}
[[alerts.routes]]
unit = "{UNIT}"
address = "hr@kazstandard.kz"
categories = ["not_corruption"]

[pbx]
late_tolerance_seconds = 2592000

[[pbx.sources]]
name = "office"
token = "{PBX_TOKEN}"
"#
    )
}

/// Senim assembled on `db` (as the daemon assembles it), no task running, the
/// clock in the test's hand; its configuration written in `dir`.
fn rig(dir: &Path, db: &TestDb) -> (App, FixedClock, std::path::PathBuf) {
    let path = write_config(
        dir,
        support::ports::free_port(),
        &db.url,
        &config_toml(true),
    );
    let config = Config::load(&ConfigSource::new(Some(&path))).expect("test config");
    let clock = FixedClock::at(astana_at(2026, 10, 1, 9, 0, 0));
    let app = App::assemble(config, db.db.clone(), Arc::new(clock.clone())).expect("assemble");
    (app, clock, path)
}

/// An Astana wall-clock time.
fn at(m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    astana_at(2026, m, d, h, min, s)
}

struct Seed<'a> {
    app: &'a App,
    clock: &'a FixedClock,
}

impl Seed<'_> {
    /// Registers an appeal received at `received`, `delay` seconds before it
    /// is registered.
    async fn appeal(
        &self,
        key: &str,
        received: DateTime<Utc>,
        delay: i64,
        channel: Channel,
        reporter: Reporter,
    ) -> Appeal {
        self.clock.set(received + chrono::Duration::seconds(delay));
        self.app
            .journal
            .register(NewAppeal {
                channel,
                reporter,
                subject: Some(format!("SECRET-TEXT subject {key}")),
                substance: Some(format!("SECRET-TEXT: взятка, what {key} reports")),
                ..new_appeal(SourceRef::new("test", key), received)
            })
            .await
            .expect("register")
            .into_appeal()
    }

    async fn classify(&self, appeal: &Appeal, category: Category, now: DateTime<Utc>) {
        self.clock.set(now);
        let today = now.with_timezone(&chrono_tz::Asia::Almaty).date_naive();
        self.app
            .case()
            .classify(
                appeal.id,
                category,
                "triaged in the test",
                &support::rules::acting::<senim::rulebook::rule::Classify>("person:manager"),
                now,
                today,
            )
            .await
            .expect("classify");
    }

    async fn act(&self, appeal: &Appeal, act: Act, now: DateTime<Utc>) {
        self.clock.set(now);
        let today = now.with_timezone(&chrono_tz::Asia::Almaty).date_naive();
        let case = Case {
            journal: &self.app.journal,
            deadlines: &self.app.deadlines,
            alerts: &self.app.alerts,
        };
        case.record(
            appeal.id,
            &act,
            &support::rules::permitted(&act, "person:manager"),
            now,
            today,
        )
        .await
        .expect("act");
    }

    /// Marks the alert of `appeal` to `recipient` delivered at `sent`.
    async fn alert_sent(&self, appeal: &Appeal, recipient: &str, sent: DateTime<Utc>) {
        let mail = self
            .app
            .outbox
            .alerts(100)
            .await
            .expect("alerts")
            .into_iter()
            .find(|m| m.appeal_id == Some(appeal.id.0) && m.recipient == recipient)
            .unwrap_or_else(|| panic!("no alert of {} to {recipient}", appeal.id));
        self.app
            .outbox
            .mark_sent(mail.id, sent)
            .await
            .expect("mark sent");
    }

    /// A call the PBX posts once it ended.
    async fn call(&self, id: &str, disposition: &str, start: DateTime<Utc>, seconds: i64) {
        let end = start + chrono::Duration::seconds(seconds);
        self.clock.set(end + chrono::Duration::seconds(5));
        let body = serde_json::json!({
            "call_id": id,
            "caller": "+77019990303",
            "called": "+77172000000",
            "start": start.to_rfc3339(),
            "end": end.to_rfc3339(),
            "disposition": disposition,
        });
        let fields = senim::pbx::formats::Fields::from_json(body.to_string().as_bytes())
            .expect("call fields");
        let record = senim::pbx::formats::from_json(&fields).expect("call record");
        let pbx = &self.app.pbx;
        senim::pbx::intake::accept_call(pbx, &pbx.sources[0], record)
            .await
            .expect("call accepted");
    }
}

fn named(name: &str, email: Option<&str>, phone: Option<&str>) -> Reporter {
    Reporter {
        name: Some(name.into()),
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
        ..Reporter::default()
    }
}

/// The appeals of November and December 2026, and one each side of them, in
/// the order of time. With `alerts_sent`, the Director's alerts are marked
/// delivered at known instants (the rig has no sender of its own).
async fn seed(app: &App, clock: &FixedClock, alerts_sent: bool) {
    let s = Seed { app, clock };
    let reply = |on: NaiveDate| Act::Deadline(Event::ReplySent { on });
    // Outside the period: registered on Friday 30 October; a call on the 31st.
    s.appeal(
        "before",
        at(10, 30, 10, 0, 0),
        7,
        Channel::Email,
        named("Айдар Сапаров", Some("aidar.saparov@example.kz"), None),
    )
    .await;
    s.call("c0", "no_answer", at(10, 31, 11, 0, 0), 20).await;

    // N1: e-mail, corruption, the Director alerted 600 s after registration;
    // the reply on 12 November (in time), below.
    let n1 = s
        .appeal(
            "n1",
            at(11, 2, 10, 0, 0),
            30,
            Channel::Email,
            named(
                "Айдар Сапаров",
                Some("aidar.saparov@example.kz"),
                Some("+77015550101"),
            ),
        )
        .await;
    s.classify(&n1, Category::Corruption, at(11, 2, 10, 5, 0))
        .await;
    if alerts_sent {
        s.alert_sent(&n1, DIRECTOR, at(11, 2, 10, 10, 30)).await;
    }

    // N2: e-mail, not corruption, sent on to the unit; the reply never sent
    // (due 24 November: overdue on 18 December).
    let n2 = s
        .appeal(
            "n2",
            at(11, 3, 11, 0, 0),
            60,
            Channel::Email,
            named("Гульнара Ахметова", Some("g.akhmetova@example.kz"), None),
        )
        .await;
    s.classify(&n2, Category::NotCorruption, at(11, 3, 12, 0, 0))
        .await;
    s.act(
        &n2,
        Act::Route {
            unit: UNIT.into(),
            text: None,
        },
        at(11, 3, 12, 5, 0),
    )
    .await;

    // N3: a call on Wednesday evening (after hours, registered on Thursday),
    // anonymous; N4: a call on Thursday, a name and a phone (no return
    // address), never classified; N3 not considered (6.3).
    let n3 = s
        .appeal(
            "n3",
            at(11, 4, 20, 15, 0),
            10,
            Channel::Phone,
            Reporter::default(),
        )
        .await;
    s.appeal(
        "n4",
        at(11, 5, 9, 30, 0),
        20,
        Channel::Phone,
        named("Ерлан Жумабаев", None, Some("+77017770202")),
    )
    .await;
    s.classify(&n3, Category::NotCorruption, at(11, 5, 10, 0, 0))
        .await;
    s.act(
        &n3,
        Act::NotConsidered {
            reason: "anonymous, no offence".into(),
        },
        at(11, 5, 10, 10, 0),
    )
    .await;

    // N5: the web site, corruption, registered on Friday: the Director alerted
    // on Monday (late: due Saturday 23:59:59); the reply on 10 December
    // (late: due 27 November), below.
    let n5 = s
        .appeal(
            "n5",
            at(11, 6, 14, 0, 0),
            40,
            Channel::Web,
            named("Марат", Some("marat@example.kz"), None),
        )
        .await;
    s.classify(&n5, Category::Corruption, at(11, 6, 14, 30, 0))
        .await;
    if alerts_sent {
        s.alert_sent(&n5, DIRECTOR, at(11, 9, 9, 0, 40)).await;
    }

    // Missed calls: one in working hours, one in the evening.
    s.call("c1", "no_answer", at(11, 10, 11, 0, 0), 40).await;
    s.call("c2", "busy", at(11, 10, 19, 0, 0), 5).await;
    s.act(&n1, reply(date(2026, 11, 12)), at(11, 12, 15, 0, 0))
        .await;

    // D1: e-mail, corruption, alerted after two hours; its reply not yet due.
    let d1 = s
        .appeal(
            "d1",
            at(12, 1, 9, 15, 0),
            50,
            Channel::Email,
            named("Айдар Сапаров", Some("aidar.saparov@example.kz"), None),
        )
        .await;
    s.classify(&d1, Category::Corruption, at(12, 1, 10, 0, 0))
        .await;
    if alerts_sent {
        s.alert_sent(&d1, DIRECTOR, at(12, 1, 11, 15, 50)).await;
    }

    // D2: a call on Saturday (after hours, registered on Monday), anonymous, a
    // threat (6.3): the Director told 900 s after registration, the competent
    // body 1200 s; the dispatch recorded on Monday.
    let d2 = s
        .appeal(
            "d2",
            at(12, 5, 12, 0, 0),
            5,
            Channel::Phone,
            Reporter::default(),
        )
        .await;
    s.classify(&d2, Category::CriminalOffence, at(12, 5, 12, 10, 0))
        .await;
    if alerts_sent {
        s.alert_sent(&d2, DIRECTOR, at(12, 5, 12, 15, 5)).await;
        s.alert_sent(&d2, AUTHORITY, at(12, 5, 12, 20, 5)).await;
    }
    s.act(
        &d2,
        Act::Forward {
            to: senim::cases::acts::Body::CompetentBody,
            on: date(2026, 12, 7),
            method: "post".into(),
            reference: "ИСХ-17".into(),
        },
        at(12, 7, 10, 0, 0),
    )
    .await;

    // D3: e-mail, not classified, its reply not yet due.
    s.appeal(
        "d3",
        at(12, 8, 16, 0, 0),
        90,
        Channel::Email,
        named("Гульнара Ахметова", Some("g.akhmetova@example.kz"), None),
    )
    .await;
    s.act(&n5, reply(date(2026, 12, 10)), at(12, 10, 11, 0, 0))
        .await;

    // A missed call on Saturday 12 December.
    s.call("c3", "no_answer", at(12, 12, 10, 0, 0), 30).await;

    // Outside the period: January 2027.
    s.appeal(
        "after",
        astana_at(2027, 1, 5, 10, 0, 0),
        3,
        Channel::Other,
        Reporter::default(),
    )
    .await;
    s.call("c4", "failed", astana_at(2027, 1, 5, 11, 0, 0), 1)
        .await;

    // The report is made on Friday 18 December.
    clock.set(at(12, 18, 12, 0, 0));
}

fn counts(c: &senim::report::Counts) -> Vec<(&str, u64)> {
    c.iter().collect()
}

/// The figures of November–December 2026, against the count made by hand.
fn check_figures(r: &Report) {
    assert_eq!(
        r.period,
        Period::new(date(2026, 11, 1), date(2026, 12, 31)).unwrap()
    );
    assert_eq!(r.as_of, date(2026, 12, 18));
    // N1 N2 N3 N4 N5 D1 D2 D3.
    assert_eq!(r.appeals, 8);
    // N3, D2.
    assert_eq!(r.anonymous, 2);
    // N3 (Wednesday 20:15), D2 (Saturday).
    assert_eq!(r.after_hours, 2);
    assert_eq!(
        counts(&r.by_channel),
        [("phone", 3), ("email", 4), ("web", 1), ("other", 0)]
    );
    assert_eq!(
        counts(&r.by_category),
        [
            ("unclassified", 2),
            ("corruption", 3),
            ("not_corruption", 2),
            ("criminal_offence", 1)
        ]
    );
    assert_eq!(
        counts(&r.by_status),
        [
            ("registered", 2),
            ("awaiting_operator_notes", 0),
            ("in_review", 1),
            ("routed", 1),
            ("forwarded", 1),
            ("not_considered", 1),
            ("under_investigation", 0),
            ("decided", 0),
            ("replied", 2),
            ("closed", 0)
        ]
    );
    // N2 by the manager's act, N3 by its classification (not corruption goes to
    // its unit at once, 10.9): both are routing events of the chain.
    assert_eq!(counts(&r.by_unit), [(UNIT, 2)]);
    assert_eq!(
        counts(&r.outcomes),
        [
            ("routed", 2),
            ("forwarded", 1),
            ("redirected", 0),
            ("not_considered", 1),
            ("investigation_ordered", 0),
            ("decision", 0),
            ("reply_sent", 2),
            ("closed", 0)
        ]
    );
    // No investigation: every decision and conclusion listed, at 0.
    assert_eq!(
        counts(&r.decisions),
        [
            ("stop_consideration", 0),
            ("hand_to_authorities", 0),
            ("disciplinary", 0),
            ("other_measures", 0)
        ]
    );
    assert_eq!(
        counts(&r.findings),
        [
            ("substantiated", 0),
            ("not_substantiated", 0),
            ("not_stated", 0)
        ]
    );
    // c1, c2, c3 (c0 and c4 are outside); c2 and c3 after hours.
    let c = r.calls;
    assert_eq!(
        (
            c.calls,
            c.answered,
            c.voicemail,
            c.missed,
            c.after_hours,
            c.missed_after_hours
        ),
        (3, 0, 0, 3, 2, 2)
    );
    // Receipt → registration: 5 10 20 30 | 40 50 60 90 s.
    let t = &r.times;
    assert_eq!(
        (
            t.register_seconds.count,
            t.register_seconds.median,
            t.register_seconds.max
        ),
        (8, Some(35), Some(90))
    );
    // Registration → the Director alerted: 600 900 | 7200 241200 s (N5's on
    // Monday, after its deadline).
    let a = &t.director_alert;
    assert_eq!(
        (a.seconds.count, a.seconds.median, a.seconds.max),
        (4, Some(4050), Some(241_200))
    );
    assert_eq!((a.on_time, a.late, a.not_sent), (3, 1, 0));
    // Receipt → reply: N1 10 days, N5 34 days.
    assert_eq!(
        (t.reply_days.count, t.reply_days.median, t.reply_days.max),
        (2, Some(22), Some(34))
    );
    // Reply deadlines of N1 (met), N5 (met late), N2 (overdue), D1 and D3
    // (open); the triage (10.6) of every appeal, by the end of the day after
    // registration: met by the classification of N1 N2 N3 N5 D1 D2, overdue
    // for N4 (due 6 November) and D3 (due 9 December), never classified; D2's
    // forwarding (6.3), due the day it was classified (Saturday 5 December),
    // met on Monday 7th: late. Nothing ended (N3's "not considered" and D2's
    // forwarding had no reply deadline to end: no return address).
    let d = r.deadlines.all;
    assert_eq!(
        (d.met, d.met_late, d.overdue, d.open, d.ended),
        (1 + 6, 1 + 1, 1 + 2, 2, 0)
    );
    assert_eq!(d.missed(), 5);
    assert_eq!(d.total(), 5 + 8 + 1);
    // The trend.
    type Month<'a> = (String, u64, Vec<(&'a str, u64)>, u64);
    let months: Vec<Month> = r
        .months
        .iter()
        .map(|m| {
            (
                m.month.to_string(),
                m.appeals,
                counts(&m.by_channel),
                m.calls.missed,
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            (
                "2026-11".to_owned(),
                5,
                vec![("phone", 2), ("email", 2), ("web", 1), ("other", 0)],
                2
            ),
            (
                "2026-12".to_owned(),
                3,
                vec![("phone", 1), ("email", 2), ("web", 0), ("other", 0)],
                1
            ),
        ]
    );
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

/// The publication of November–December 2026: whole months, `<5` for 3.
fn check_publication(csv: &str) {
    assert_no_secret("the publication", csv);
    assert!(!csv.contains(UNIT), "a unit's name is published:\n{csv}");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("month,figure,value,appeals"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for row in &rows {
        assert_eq!(row.len(), 4, "{row:?}");
        let month = row[0];
        assert!(
            month.len() == 7
                && month.as_bytes()[4] == b'-'
                && month.chars().filter(char::is_ascii_digit).count() == 6,
            "not a month: {row:?}"
        );
        assert!(
            [
                "all",
                "channel",
                "category",
                "outcome",
                "decision",
                "conclusion"
            ]
            .contains(&row[1]),
            "{row:?}"
        );
        let n = row[3];
        assert!(
            n == "<5" || n == "*" || n.parse::<u64>().is_ok_and(|n| n >= 5),
            "a small count is published: {row:?}"
        );
    }
    let cell = |month: &str, figure: &str, value: &str| {
        rows.iter()
            .find(|r| r[0] == month && r[1] == figure && r[2] == value)
            .map(|r| r[3])
            .unwrap_or_else(|| panic!("no {month} {figure} {value} in\n{csv}"))
    };
    // November: 5 appeals; December: 3, suppressed.
    assert_eq!(cell("2026-11", "all", "all"), "5");
    assert_eq!(cell("2026-12", "all", "all"), "<5");
    assert_eq!(cell("2026-12", "channel", "email"), "<5");
    assert_eq!(cell("2026-11", "outcome", "replied"), "<5");
    assert_eq!(cell("2026-12", "category", "criminal_offence"), "<5");
    // The measures taken (4.7): each decision and conclusion, none this time.
    for (figure, value) in [
        ("decision", "disciplinary"),
        ("decision", "hand_to_authorities"),
        ("conclusion", "substantiated"),
        ("conclusion", "not_substantiated"),
    ] {
        assert_eq!(cell("2026-11", figure, value), "<5");
    }
    let months: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        months.into_iter().collect::<Vec<_>>(),
        ["2026-11", "2026-12"]
    );
}

/// The sheet `name` of a workbook, as rows of cells read back as text
/// (`calamine`: the workbook opens in a reader that is not its writer).
fn sheet(xlsx: &[u8], name: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};
    let mut book: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).expect("an XLSX");
    let range = book
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("no sheet {name}: {e}"));
    let formulas = book.worksheet_formula(name).expect("its formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "a formula in {name}"
    );
    range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

/// The workbook of November–December 2026: its figures are the CSV's, value
/// for value, and the trend's months are those counted by hand; `columns`
/// names the trend's columns of the appeals, the e-mails and the missed calls
/// in the workbook's language.
fn check_workbook(xlsx: &[u8], csv: &str, columns: [&str; 3]) {
    assert!(xlsx.starts_with(b"PK"), "not a ZIP");
    let figures = sheet(xlsx, "figures");
    assert_eq!(figures[0][..2], ["figure", "value"]);
    let value = |figure: &str| {
        figures
            .iter()
            .find(|row| row[0] == figure)
            .map(|row| row[1].as_str())
            .unwrap_or_else(|| panic!("no {figure} in the workbook"))
    };
    assert_eq!(value("appeals"), "8");
    assert_eq!(value("unit.Human resources"), "2");
    assert_eq!(value("deadlines.reply.overdue"), "1");
    assert_eq!(value("period.from"), "2026-11-01");
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let (figure, expected) = line.split_once(',').expect("figure,value");
        assert_eq!(value(figure), expected, "{figure}");
        rows += 1;
    }
    assert_eq!(rows, figures.len() - 1, "the same figures as the CSV");
    assert_no_secret("the workbook", &format!("{figures:?}"));

    let months = sheet(xlsx, "months");
    let header = &months[0];
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let [appeals, email, missed] = columns.map(column);
    let trend: Vec<(&str, &str, &str, &str)> = months[1..]
        .iter()
        .map(|m| (&*m[0], &*m[appeals], &*m[email], &*m[missed]))
        .collect();
    assert_eq!(
        trend,
        [("2026-11", "5", "2", "2"), ("2026-12", "3", "2", "1")]
    );
}

/// The report's PDF: its text (`pdftotext`) holds the title and the period,
/// the words of its language and the figures, each row of a table on a line
/// (beside the row of the table to its right, if any), and nothing a report
/// may not show.
fn check_pdf(pdf: &[u8], must: &[&str]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let text = support::pdf::raw_text(pdf);
    assert_no_secret("the PDF", &text);
    let lines: Vec<String> = text.lines().map(|l| format!(" {} ", l.trim())).collect();
    for words in must {
        let words = format!(" {words} ");
        assert!(
            lines.iter().any(|l| l.contains(&words)),
            "no `{words}` in the PDF's text:\n{text}"
        );
    }
    text
}

async fn report_on(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend).await;
    let (app, clock, _config) = rig(dir.path(), &db);
    seed(&app, &clock, true).await;
    let period = Period::new(date(2026, 11, 1), date(2026, 12, 31)).unwrap();
    let report = Report::compute(&app.report_sources(), period, app.today())
        .await
        .expect("report");
    check_figures(&report);

    // The HTML page: self-contained, charts drawn as SVG, no script, no secret.
    let html = senim::report::html::page(&report, senim::report::words::Lang::En);
    assert!(html.contains("<svg"), "{html}");
    assert!(html.contains("<style>"), "the page's CSS is inline");
    assert!(
        !html.contains("<script") && !html.contains(" src="),
        "{html}"
    );
    assert!(!html.contains(" style="), "{html}");
    assert_no_secret("the HTML report", &html);
    if backend == Backend::Sqlite {
        // For a person to look at, beside the console's screenshots.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("report-page.html"), &html).unwrap();
    }
    // The figures as CSV: one table of figure,value rows.
    let mut csv = Vec::new();
    senim::report::csv::figures(&report, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("figure,value\n"), "{csv}");
    for row in [
        "appeals,8",
        "channel.email,4",
        "category.corruption,3",
        "status.not_considered,1",
        "unit.Human resources,2",
        "calls.missed,3",
        "time_to_register.median_seconds,35",
        "time_to_director_alert.max_seconds,241200",
        "time_to_reply.median_days,22",
        "deadlines.reply.overdue,1",
        "month.2026-12.appeals,3",
    ] {
        assert!(csv.lines().any(|l| l == row), "no `{row}` in\n{csv}");
    }
    assert!(csv.lines().all(|l| l.split(',').count() == 2), "{csv}");
    assert_no_secret("the CSV report", &csv);
    // The workbook: the same figures, and the trend.
    let xlsx = senim::report::xlsx::figures(&report, senim::report::words::Lang::En).unwrap();
    check_workbook(
        &xlsx,
        &csv,
        ["Appeals registered", "By channel: e-mail", "Missed calls"],
    );
    assert!(
        sheet(&xlsx, "figures")
            .iter()
            .any(|row| row[..2] == ["time_to_director_alert.median_seconds", "4050"])
    );
    // The PDF, in Kazakh: its letters embedded, the figures in its tables.
    let made = senim::report::pdf::render(
        &report,
        senim::report::words::Lang::Kk,
        at(12, 18, 12, 0, 0),
    )
    .expect("the PDF");
    let text = check_pdf(
        &made,
        &[
            "Сенім желісіне түскен өтініштер: жиынтық",
            "01.11.2026 – 31.12.2026",
            "Тіркелген 01.11.2026 – 31.12.2026. Жасалған күні 18.12.2026.",
            "эл. пошта 4",
            "сыбайлас жемқорлық 3",
            "қаралмайды (6.3) 1",
            "Human resources 2",
            "АТС журналындағы қоңыраулар 3",
            "Түсу → тіркеу 8 35 с 1 мин 30 с",
            "2026-11 5 2 2 1 0 2",
            "2026-12 3 1 2 0 0 1",
            "өтініш берушіге жауап 1 1 1 2",
        ],
    );
    assert!(text.contains("Бет 1 / "), "no page number:\n{text}");
    if backend == Backend::Sqlite {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/documents/report-kk.pdf");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &made).unwrap();
        support::pdf::render_page(&file, "1", "report-kk");
    }
    // JSON.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["by_channel"]["email"], 4);
    assert_eq!(json["months"][1]["month"], "2026-12");
    assert_no_secret("the JSON report", &json.to_string());

    // The publication: whole months.
    let whole = Period::new(date(2026, 11, 15), date(2026, 12, 10))
        .unwrap()
        .whole_months();
    assert_eq!(whole, period);
    let published = Report::compute(&app.report_sources(), whole, app.today())
        .await
        .unwrap();
    let mut csv = Vec::new();
    senim::report::csv::publication(&published.months, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    check_publication(&csv);
    // As a workbook: the same rows, counts as numbers, `<5` as text.
    let xlsx = senim::report::xlsx::publication(&published.months).unwrap();
    let cells: Vec<String> = sheet(&xlsx, "publication")
        .iter()
        .map(|row| row.join(","))
        .collect();
    assert_eq!(cells, csv.lines().collect::<Vec<_>>());

    // A period of its own: December alone.
    let december = Report::compute(
        &app.report_sources(),
        Period::new(date(2026, 12, 1), date(2026, 12, 31)).unwrap(),
        app.today(),
    )
    .await
    .unwrap();
    assert_eq!((december.appeals, december.calls.missed), (3, 1));
    assert_eq!(december.deadlines.all.open, 2);
}

on_both_backends!(#[tokio::test] report_on => the_report_counts_what_a_person_counts_on_sqlite, the_report_counts_what_a_person_counts_on_postgres);

fn stdout_of(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "senim failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `senim report` and `senim report publish` on the seeded Journal, and the
/// errors that name the field.
#[tokio::test]
async fn the_command_line_writes_the_report_and_the_publication() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite().await;
    let (app, clock, config) = rig(dir.path(), &db);
    seed(&app, &clock, true).await;
    let run = |args: &[&str]| {
        support::senim::command()
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("TEST_SENIM_CLOCK_START", "2026-12-18T12:00:00+05:00")
            .output()
            .expect("run senim")
    };
    let period = ["report", "--from", "2026-11-01", "--to", "2026-12-31"];

    let csv = stdout_of(&run(&[&period[..], &["--format", "csv"]].concat()));
    assert!(csv.lines().any(|l| l == "appeals,8"), "{csv}");
    assert!(csv.lines().any(|l| l == "deadlines.all.overdue,3"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&run(
            &[&period[..], &["--format", "json"]].concat()
        )))
        .expect("JSON");
    assert_eq!(json["times"]["reply_days"]["median"], 22);
    let html_file = dir.path().join("report.html");
    stdout_of(&run(&[
        &period[..],
        &["--lang", "kk", "-o", html_file.to_str().unwrap()],
    ]
    .concat()));
    let html = std::fs::read_to_string(&html_file).unwrap();
    assert!(
        html.contains("<svg") && html.contains("lang=\"kk\""),
        "{html}"
    );
    assert!(html.contains("Сенім желісіне"), "the page is in Kazakh");
    assert_no_secret("senim report", &html);

    let published = dir.path().join("published.csv");
    let out = run(&[
        "report",
        "publish",
        "--from",
        "2026-11-15",
        "--to",
        "2026-12-10",
        "-o",
        published.to_str().unwrap(),
    ]);
    stdout_of(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("whole months: 2026-11-01 to 2026-12-31"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_publication(&std::fs::read_to_string(&published).unwrap());

    // The workbook on standard output (not a terminal here).
    let out = run(&[&period[..], &["--format", "xlsx", "--lang", "en"]].concat());
    crate::support::senim::assert_succeeded(&out);
    check_workbook(
        &out.stdout,
        &csv,
        ["Appeals registered", "By channel: e-mail", "Missed calls"],
    );
    // The quarterly report for the Director, in Russian: October counts too
    // (the appeal of 30 October, its reply overdue, and the missed call of the
    // 31st).
    let pdf_file = dir.path().join("q4.pdf");
    stdout_of(&run(&[
        "report",
        "--quarter",
        "2026-Q4",
        "--format",
        "pdf",
        "--lang",
        "ru",
        "-o",
        pdf_file.to_str().unwrap(),
    ]));
    let text = check_pdf(
        &std::fs::read(&pdf_file).unwrap(),
        &[
            "Обращения на линию доверия: сводка",
            "IV квартал 2026 г.",
            "Зарегистрированы 01.10.2026 – 31.12.2026. Составлен 18.12.2026.",
            "эл. почта 5",
            "Звонков в журнале АТС 4",
            "2026-10 1 0 1 0 0 1",
            "2026-11 5 2 2 1 0 2",
            "ответ заявителю 1 1 2 2",
        ],
    );
    assert!(text.contains("Стр. 1 / "), "no page number:\n{text}");
    support::pdf::render_page(&pdf_file, "1", "report-q4-ru");
    // The publication as a workbook.
    let out = run(&[
        "report",
        "publish",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--format",
        "xlsx",
    ]);
    crate::support::senim::assert_succeeded(&out);
    let published_rows = sheet(&out.stdout, "publication");
    assert_eq!(published_rows[0], ["month", "figure", "value", "appeals"]);
    assert!(
        published_rows
            .iter()
            .any(|r| r == &["2026-11", "all", "all", "5"])
    );

    for (args, field) in [
        (
            vec!["report", "--quarter", "2026-Q5", "--format", "pdf"],
            "--quarter",
        ),
        (
            vec!["report", "--quarter", "2026-Q4", "--from", "2026-10-01"],
            "--quarter",
        ),
        (
            vec!["report", "--from", "2026-13-01", "--to", "2026-12-31"],
            "--from",
        ),
        (
            vec!["report", "--from", "2026-12-01", "--to", "2026-11-30"],
            "--to",
        ),
        (
            vec![
                "report",
                "--from",
                "2026-11-01",
                "--to",
                "2026-12-31",
                "--format",
                "docx",
            ],
            "--format",
        ),
        (vec!["report", "--from", "2026-11-01"], "--to"),
        (
            vec![
                "report",
                "publish",
                "--from",
                "yesterday",
                "--to",
                "2026-12-31",
            ],
            "--from",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{args:?}: {err}");
    }
}

/// The figures add up, on the command line: four appeals registered on
/// Tuesday 1 December 2026, each ended by a different act recorded with
/// `senim journal act` / `journal event` under the person's own token, and
/// the report made by `senim report` on 20 January 2027, long after every
/// reply was due. Each status is the outcome that led to it, each decision
/// counts once, and the deadline the closing made moot is ended, never missed.
#[tokio::test]
async fn the_figures_add_up_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::sqlite().await;
    let (app, clock, config) = rig(dir.path(), &db);
    let s = Seed {
        app: &app,
        clock: &clock,
    };
    let received = at(12, 1, 10, 0, 0);
    // C: an e-mail with a return address (a reply deadline: 15 working days
    // from 1 December, 16 and 17 December being holidays: 23 December).
    let c = s
        .appeal(
            "c",
            received,
            5,
            Channel::Email,
            named("Айдар Сапаров", Some("aidar.saparov@example.kz"), None),
        )
        .await;
    // N: anonymous, by phone: no reply deadline.
    let n = s
        .appeal("n", received, 6, Channel::Phone, Reporter::default())
        .await;
    // F: a name and a phone only (no return address): forwarded.
    let f = s
        .appeal(
            "f",
            received,
            7,
            Channel::Phone,
            named("Ерлан Жумабаев", None, Some("+77017770202")),
        )
        .await;
    // D: the same, classified corruption, investigated and decided.
    let d = s
        .appeal(
            "d",
            received,
            8,
            Channel::Phone,
            named("Гульнара Ахметова", None, Some("+77019990303")),
        )
        .await;
    let manager = support::senim::person(&config, "aigul", &["manager"]);
    let director = support::senim::person(&config, "dana", &["director"]);
    let run = |who: Option<&support::senim::Person>, clock: &str, args: &[&str]| {
        let mut command = support::senim::command();
        command.arg("--config").arg(&config);
        if let Some(who) = who {
            command
                .args(["--as", &who.login])
                .env("SENIM_TOKEN", &who.token);
        }
        let out = command
            .args(args)
            .env("TEST_SENIM_CLOCK_START", clock)
            .output()
            .expect("run senim");
        stdout_of(&out)
    };
    let number = |a: &Appeal| a.registration_number.to_string();
    let wednesday = "2026-12-02T11:00:00+05:00";
    let (c, n, f, d) = (number(&c), number(&n), number(&f), number(&d));
    run(
        Some(&manager),
        wednesday,
        &[
            "journal",
            "act",
            &c,
            "close",
            "--reason",
            "settled by phone",
        ],
    );
    run(
        Some(&manager),
        wednesday,
        &[
            "journal",
            "act",
            &n,
            "not-considered",
            "--reason",
            "anonymous, no offence",
        ],
    );
    run(
        Some(&manager),
        wednesday,
        &[
            "journal",
            "act",
            &f,
            "forward",
            "--to",
            "competent_body",
            "--method",
            "post",
            "--reference",
            "ИСХ-3",
            "--on",
            "2026-12-02",
        ],
    );
    run(
        Some(&manager),
        wednesday,
        &[
            "journal",
            "classify",
            &d,
            "--category",
            "corruption",
            "--reason",
            "a bribe",
        ],
    );
    // The investigation, in its file (7.5–7.11): the Director's order, the
    // commission's conclusion (substantiated), her decision.
    run(
        Some(&director),
        wednesday,
        &[
            "investigation",
            "order",
            &d,
            "--number",
            "№ 5",
            "--on",
            "2026-12-02",
            "--member",
            "aigul",
        ],
    );
    let conclusion = dir.path().join("conclusion.txt");
    std::fs::write(&conclusion, "The facts are confirmed.").unwrap();
    run(
        Some(&manager),
        "2026-12-10T11:00:00+05:00",
        &[
            "investigation",
            "conclude",
            &d,
            "--text-file",
            conclusion.to_str().unwrap(),
            "--substantiated",
            "yes",
            "--on",
            "2026-12-10",
        ],
    );
    run(
        Some(&director),
        "2026-12-11T11:00:00+05:00",
        &[
            "investigation",
            "decide",
            &d,
            "--decision",
            "disciplinary",
            "--on",
            "2026-12-11",
        ],
    );

    let later = "2027-01-20T12:00:00+05:00";
    let period = ["report", "--from", "2026-12-01", "--to", "2026-12-31"];
    let csv = run(None, later, &[&period[..], &["--format", "csv"]].concat());
    let figures: std::collections::HashMap<&str, u64> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (figure, value) = l.split_once(',')?;
            Some((figure, value.parse().ok()?))
        })
        .collect();
    let figure = |name: &str| {
        *figures
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in\n{csv}"))
    };
    // By hand: C closed, N not considered, F forwarded, D decided.
    assert_eq!(figure("appeals"), 4);
    for (status, outcome) in [
        ("closed", "closed"),
        ("not_considered", "not_considered"),
        ("forwarded", "forwarded"),
        ("decided", "decision"),
    ] {
        assert_eq!(figure(&format!("status.{status}")), 1, "{status}\n{csv}");
        assert_eq!(figure(&format!("outcome.{outcome}")), 1, "{outcome}\n{csv}");
    }
    assert_eq!(figure("outcome.investigation_ordered"), 1);
    for outcome in ["routed", "redirected", "reply_sent"] {
        assert_eq!(figure(&format!("outcome.{outcome}")), 0, "{outcome}");
    }
    // The statuses add up to the appeals, the decisions to the decided.
    let sum = |prefix: &str| {
        figures
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(sum("status."), figure("appeals"));
    assert_eq!(sum("decision."), figure("outcome.decision"));
    assert_eq!(
        (
            figure("decision.disciplinary"),
            figure("decision.stop_consideration"),
            figure("decision.hand_to_authorities"),
            figure("decision.other_measures")
        ),
        (1, 0, 0, 0)
    );
    // The commission found it substantiated (7.10).
    assert_eq!(sum("conclusion."), 1);
    assert_eq!(figure("conclusion.substantiated"), 1);
    assert_eq!(figure("month.2026-12.decision.disciplinary"), 1);
    // The deadlines on 20 January 2027: C's reply (due 23 December) ended by
    // its closing, and its triage too; N's, F's and D's triage met by the act
    // or the classification on 2 December (due the day after registration);
    // D's investigation (10 working days from 2 December) met on the 11th.
    // Nothing missed.
    assert_eq!(figure("deadlines.reply.ended"), 1);
    assert_eq!(figure("deadlines.reply.overdue"), 0);
    assert_eq!(figure("deadlines.triage.met"), 3);
    assert_eq!(figure("deadlines.triage.ended"), 1);
    assert_eq!(figure("deadlines.investigation.met"), 1);
    assert_eq!(
        (
            figure("deadlines.all.met"),
            figure("deadlines.all.met_late"),
            figure("deadlines.all.overdue"),
            figure("deadlines.all.open"),
            figure("deadlines.all.ended")
        ),
        (4, 0, 0, 0, 2)
    );
    assert_no_secret("the CSV", &csv);

    // The PDF in English shows the ended deadlines and the decisions.
    let pdf_file = dir.path().join("december.pdf");
    run(
        None,
        later,
        &[
            &period[..],
            &[
                "--format",
                "pdf",
                "--lang",
                "en",
                "-o",
                pdf_file.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    let text = check_pdf(
        &std::fs::read(&pdf_file).unwrap(),
        &[
            "disciplinary measures 1",
            "closed 1",
            "reply to the citizen 0 0 0 0 1",
            "all 4 0 0 0 2",
        ],
    );
    assert!(
        text.contains("ended (no") && text.contains("longer owed)"),
        "{text}"
    );
    support::pdf::render_page(&pdf_file, "2", "report-ended-en");
    // The HTML in Russian: the words of the ended deadlines and the conclusions.
    let html = run(None, later, &[&period[..], &["--lang", "ru"]].concat());
    assert!(html.contains("прекращён (более не требуется)"), "{html}");
    assert!(html.contains("Заключения комиссии (7.10)"), "{html}");

    // The publication: the decisions and the conclusions, suppressed.
    let published = run(
        None,
        later,
        &[
            "report",
            "publish",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
        ],
    );
    check_publication_rows(&published, "2026-12");
    assert!(
        published
            .lines()
            .any(|l| l == "2026-12,decision,disciplinary,<5"),
        "{published}"
    );
}

/// The publication's rows of `month` are whole, suppressed, without a unit.
fn check_publication_rows(csv: &str, month: &str) {
    assert_no_secret("the publication", csv);
    assert!(!csv.contains(UNIT), "a unit's name is published:\n{csv}");
    for line in csv.lines().skip(1) {
        let row: Vec<&str> = line.split(',').collect();
        assert_eq!((row.len(), row[0]), (4, month), "{line}");
        assert!(
            row[3] == "<5" || row[3] == "*" || row[3].parse::<u64>().is_ok_and(|n| n >= 5),
            "a small count is published: {line}"
        );
    }
    for figure in ["decision", "conclusion"] {
        assert!(
            csv.lines()
                .any(|l| l.starts_with(&format!("{month},{figure},"))),
            "no {figure} in\n{csv}"
        );
    }
}

/// The console's report page: for the manager, the Director and the auditor,
/// not the operator; its charts are SVG without a `style` anywhere (the CSP);
/// the publication downloads suppressed. Saves `report.png`.
#[tokio::test]
async fn the_console_shows_the_report_with_its_charts() {
    use support::browser::{Driver, screenshot};
    use support::console::console_person;

    let dir = tempfile::tempdir().unwrap();
    let d =
        support::app::TestApp::spawn(dir.path(), "", &config_toml(false), at(10, 1, 9, 0, 0)).await;
    seed(&d.app, &d.clock, false).await;
    console_person(&d.config, dir.path(), "asel", &["auditor"]);
    console_person(&d.config, dir.path(), "olga", &["operator"]);

    // Over HTTP: the operator is refused, the auditor served.
    let (_, operator) = http_login_console(&d, "olga").await;
    let client = reqwest::Client::new();
    let query = "from=2026-11-01&to=2026-12-31";
    let r = get(
        &client,
        d.url(&format!("/console/report?{query}")),
        &operator,
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, auditor) = http_login_console(&d, "asel").await;
    let r = get(
        &client,
        d.url(&format!("/console/report?{query}")),
        &auditor,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("style-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<svg"), "{html}");
    assert!(
        !html.contains(" style=") && !html.contains("<style"),
        "{html}"
    );
    assert_no_secret("the console's report", &html);
    let r = get(
        &client,
        d.url("/console/report?from=2026-11-01&to=yesterday"),
        &auditor,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = get(
        &client,
        d.url("/console/report/publication.csv?from=2026-11-20&to=2026-12-02"),
        &auditor,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("senim-2026-11-01-2026-12-31-publication.csv")
    );
    check_publication(&r.text().await.unwrap());
    assert!(
        html.contains("/console/report/report.pdf?")
            && html.contains("/console/report/figures.xlsx?"),
        "no PDF or XLSX download offered:\n{html}"
    );

    // The PDF and the workbooks: the same readers, attachments of their media
    // types, in the person's language (Russian, the console's default).
    let figures_csv = get(
        &client,
        d.url(&format!("/console/report/figures.csv?{query}")),
        &auditor,
    )
    .await
    .text()
    .await
    .unwrap();
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for (file, media) in [
        ("report.pdf", "application/pdf"),
        ("figures.xlsx", XLSX),
        ("publication.xlsx", XLSX),
    ] {
        let url = d.url(&format!("/console/report/{file}?{query}"));
        let r = get(&client, &url, &operator).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{file}");
        let r = get(&client, &url, &auditor).await;
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        let headers = r.headers().clone();
        assert_eq!(headers["content-type"], media, "{file}");
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"senim-2026-11-01-2026-12-31-{file}\""),
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{file}");
        let bytes = r.bytes().await.unwrap();
        match file {
            "report.pdf" => {
                check_pdf(
                    &bytes,
                    &["Обращения на линию доверия: сводка", "эл. почта 4"],
                );
            }
            "figures.xlsx" => check_workbook(
                &bytes,
                &figures_csv,
                [
                    "Зарегистрировано обращений",
                    "По каналам: эл. почта",
                    "Пропущенные звонки",
                ],
            ),
            _ => {
                let rows = sheet(&bytes, "publication");
                assert!(rows.iter().any(|r| r == &["2026-12", "all", "all", "<5"]));
            }
        }
    }

    // In the browser, in Russian.
    let driver = Driver::start();
    let browser = driver.browser().await;
    log_in_app(&browser, &d, "asel").await;
    browser
        .set_window_size(1280, 2600)
        .await
        .expect("a tall window");
    browser
        .goto(&d.url(&format!("/console/report?{query}")))
        .await
        .unwrap();
    let source = browser.source().await.unwrap();
    assert!(source.contains("Анализ обращений"), "{source}");
    let png = screenshot(&browser, "report").await;
    std::fs::copy(
        &png,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/console/report.png"),
    )
    .expect("copy the screenshot to docs/console");
    browser.close().await.unwrap();
    d.stop().await;
}

/// A GET with a session's cookie.
async fn get(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    cookie: &str,
) -> reqwest::Response {
    client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// Logs in over HTTP to the in-process daemon; the session cookie.
async fn http_login_console(d: &support::app::TestApp, login: &str) -> (StatusCode, String) {
    let client = support::console::no_redirects();
    let form = client.get(d.url("/console/login")).send().await.unwrap();
    let login_cookie = support::console::set_cookie(&form, "senim_login").unwrap();
    let csrf = support::console::csrf_of(&form.text().await.unwrap());
    let r = client
        .post(d.url("/console/login"))
        .header(reqwest::header::COOKIE, login_cookie)
        .form(&[
            ("login", login),
            ("password", support::console::PASSWORD),
            ("passphrase", ""),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let cookie = support::console::set_cookie(&r, "senim_session").expect("a session");
    (status, cookie)
}

/// Logs in through the browser to the in-process daemon, in Russian.
async fn log_in_app(browser: &fantoccini::Client, d: &support::app::TestApp, login: &str) {
    support::console::log_in(browser, d, login, "ru").await;
}
