//! The Director's alert, the outbox and the deadlines (clauses 10.6, 10.9, 6.3,
//! 7.5, 7.8; APPK Art. 76), against real SQLite and PostgreSQL and a real SMTP
//! server (aiosmtpd) with STARTTLS and AUTH, on a pinned clock.

use crate::support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use senim::alerts::Alerts;
use senim::alerts::scheduler::Scheduler;
use senim::app::App;
use senim::calendar::{Calendar, CalendarData, WorkingHours};
use senim::cases;
use senim::clock::{Clock, FixedClock, SharedClock};
use senim::config::{
    Address, AlertsConfig, Config, RouteConfig, Seconds, SmtpConfig, SmtpSecurity,
};
use senim::deadlines::{Deadlines, Event, Kind};
use senim::journal::{Appeal, Category, Channel, Journal, NewAppeal, Reporter, SourceRef, Status};
use senim::outbox::sender::Sender;
use senim::outbox::{Mail, MailKind, MailState, Outbox};
use serde_json::Value;
use support::console::{DIRECTOR, SMTP_PASSWORD, SMTP_USER};
use support::database::{Backend, TestDb};
use support::on_both_backends;
use support::scene::new_appeal;
use support::smtp::{ReceivedMail, SmtpMode, SmtpOptions, SmtpServer};
use support::time::{astana, date};

const DEPUTY: &str = "deputy@kazstandard.kz";
const AUTHORITY: &str = "duty@anticorruption.gov.kz";
const MANAGER: &str = "compliance@kazstandard.kz";
const UNIT: &str = "hr@kazstandard.kz";

/// Registers a test appeal (by `test`, keyed `key`) in `journal`.
async fn register_in(
    journal: &Journal,
    key: &str,
    received_at: DateTime<Utc>,
    channel: Channel,
    reporter: Reporter,
    subject: Option<&str>,
    substance: &str,
) -> Appeal {
    journal
        .register(NewAppeal {
            channel,
            reporter,
            subject: subject.map(str::to_owned),
            substance: Some(substance.into()),
            ..new_appeal(SourceRef::new("test", key), received_at)
        })
        .await
        .expect("register")
        .into_appeal()
}

fn calendar() -> Arc<Calendar> {
    let hours = WorkingHours {
        tz: chrono_tz::Asia::Almaty,
        opens: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
        closes: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00"),
    };
    Arc::new(Calendar::new(hours, CalendarData::embedded()))
}

fn smtp_server(reject_permanent: &[&str]) -> SmtpServer {
    SmtpServer::start(SmtpOptions {
        mode: SmtpMode::StartTlsRequired,
        auth: Some((SMTP_USER.into(), SMTP_PASSWORD.into())),
        reject_permanent: reject_permanent.iter().map(|s| (*s).to_owned()).collect(),
        reject_temporary: vec![],
    })
}

/// The instance id of the rig's sender (`senim::instance`).
const RIG_INSTANCE: &str = "rig";

fn smtp_config(smtp: &SmtpServer) -> SmtpConfig {
    SmtpConfig {
        host: smtp.host().into(),
        port: smtp.port(),
        security: SmtpSecurity::Starttls,
        username: SMTP_USER.into(),
        password: Some(SMTP_PASSWORD.into()),
        ca_file: Some(smtp.ca_pem_path().to_owned()),
        from: "senim@kazstandard.kz".parse().expect("address"),
        timeout_seconds: Seconds::new(10),
        retry_initial_seconds: Seconds::new(60),
        retry_max_seconds: Seconds::new(1800),
        ..SmtpConfig::default()
    }
}

/// The alert policy the tests share. Without the managers' notice of every new
/// appeal, so that each test counts the mails it is about; the notice has its
/// own test (`a_new_appeal_is_told_at_once_and_a_threat_to_the_director_too`).
fn alerts_config() -> AlertsConfig {
    AlertsConfig {
        arrival_notice: false,
        director: vec![address(DIRECTOR)],
        deputies: vec![address(DEPUTY)],
        competent_authority: vec![address(AUTHORITY)],
        managers: vec![address(MANAGER)],
        routes: vec![RouteConfig {
            unit: "Human resources".into(),
            address: address(UNIT),
            categories: vec![Category::NotCorruption],
            keywords: vec![],
        }],
        ..AlertsConfig::default()
    }
}

fn address(text: &str) -> Address {
    text.parse().expect("a test address")
}

/// Without the manager's 09:00 digest, so that only alerts are counted.
fn no_manager_digest() -> AlertsConfig {
    AlertsConfig {
        managers: vec![],
        ..alerts_config()
    }
}

/// Senim's parts, assembled by `App::assemble` on a pinned clock, with its
/// background tasks driven by the test (`scheduler.tick`, `sender.deliver_due`).
struct Rig {
    db: TestDb,
    clock: FixedClock,
    journal: Journal,
    outbox: Outbox,
    alerts: Alerts,
    deadlines: Deadlines,
    scheduler: Scheduler,
    sender: Sender,
}

impl Rig {
    /// A deadline event recorded as the API and the CLI do (`cases::Case`);
    /// the appeal's deadlines after it.
    async fn act(
        &self,
        appeal: &Appeal,
        event: Event,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<senim::deadlines::Deadline>, cases::ActError> {
        let case = cases::Case {
            journal: &self.journal,
            deadlines: &self.deadlines,
            alerts: &self.alerts,
        };
        let act = cases::Act::Deadline(event);
        if act.belongs_to_the_investigation_file() {
            // The investigation's acts are recorded only by its file
            // (`investigation::Investigations::record`), in its transaction,
            // through `record_in`: the same here, for their deadlines alone.
            let detail = case.detail(&act)?;
            let mut tx = self.journal.db().begin().await.unwrap();
            let mut chain = self.journal.lock_chain(&mut tx).await?;
            case.record_in(
                &mut tx,
                &mut chain,
                appeal.id,
                &act,
                &detail,
                "manager:test",
                now,
                today,
            )
            .await?;
            chain.finish(&mut tx).await?;
            tx.commit().await.unwrap();
        } else {
            case.record(
                appeal.id,
                &act,
                &support::rules::permitted(&act, "manager:test"),
                now,
                today,
            )
            .await?;
        }
        Ok(self.deadlines.of_appeal(appeal.id).await.unwrap())
    }
}

async fn rig(
    backend: Backend,
    smtp: &SmtpServer,
    alerts_cfg: AlertsConfig,
    start: DateTime<Utc>,
) -> Rig {
    let db = TestDb::new(backend).await;
    let clock = FixedClock::at(start);
    let config = Config {
        smtp: smtp_config(smtp),
        alerts: alerts_cfg,
        ..Config::default()
    };
    let app = App::assemble(config, db.db.clone(), Arc::new(clock.clone())).expect("assemble");
    Rig {
        clock,
        journal: app.journal.clone(),
        outbox: app.outbox.clone(),
        alerts: app.alerts.clone(),
        deadlines: app.deadlines.clone(),
        scheduler: app.scheduler(),
        sender: app.sender(RIG_INSTANCE.into()).expect("sender"),
        db,
    }
}

impl Rig {
    async fn register(
        &self,
        key: &str,
        received_at: DateTime<Utc>,
        substance: &str,
        reporter: Reporter,
    ) -> Appeal {
        self.clock.set(received_at);
        register_in(
            &self.journal,
            key,
            received_at,
            Channel::Email,
            reporter,
            Some("Өтініш / Обращение"),
            substance,
        )
        .await
    }

    async fn classify(&self, appeal: &Appeal, category: Category) -> Appeal {
        let case = cases::Case {
            journal: &self.journal,
            deadlines: &self.deadlines,
            alerts: &self.alerts,
        };
        let now = self.clock.now();
        let today = now.with_timezone(&chrono_tz::Asia::Almaty).date_naive();
        case.classify(
            appeal.id,
            category,
            "triaged in the test",
            &support::rules::acting::<senim::rulebook::rule::Classify>("manager:test"),
            now,
            today,
        )
        .await
        .expect("classify")
    }
}

fn named_reporter() -> Reporter {
    Reporter {
        name: Some("Айгүл\r\nBcc: spy@evil.example Сейітқызы".into()),
        organisation: None,
        postal_address: Some("Астана, Мәңгілік Ел 11".into()),
        phone: Some("+7 701 000 00 00".into()),
        email: Some("aigul@example.kz".into()),
    }
}

/// Parses a received message with Python's `email` package: headers decoded
/// (RFC 2047), body decoded (transfer encoding).
fn parse(mail: &ReceivedMail) -> Value {
    let script = "import sys, json, email\nfrom email import policy\n\
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)\n\
        print(json.dumps({'headers': [[k, str(v)] for k, v in m.items()], 'body': m.get_content()}))\n";
    let mut child =
        Command::new(std::env::var("SENIMTEST_PYTHON").unwrap_or_else(|_| "python3".into()))
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run python3");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&mail.data)
            .expect("write");
    }
    let out = child.wait_with_output().expect("python3 output");
    serde_json::from_slice(&out.stdout).expect("parsed mail JSON")
}

fn header(parsed: &Value, name: &str) -> Option<String> {
    parsed["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str().map(str::to_owned))
}

fn to(mails: &[ReceivedMail], rcpt: &str) -> Vec<ReceivedMail> {
    mails
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == rcpt))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------

async fn corruption_alert_reaches_the_director(backend: Backend) {
    let smtp = smtp_server(&[]);
    // Friday 27 November 2026, 11:00 Astana.
    let rig = rig(backend, &smtp, alerts_config(), astana(2026, 11, 27, 11, 0)).await;
    let appeal = rig
        .register(
            "fri",
            astana(2026, 11, 27, 11, 0),
            "Начальник отдела требовал взятку за сертификат",
            named_reporter(),
        )
        .await;
    assert_eq!(appeal.registration_date, date(2026, 11, 27));
    rig.clock.set(astana(2026, 11, 27, 14, 0));
    rig.classify(&appeal, Category::Corruption).await;

    let queued = rig.outbox.list(None, 10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    let alert = &queued[0];
    assert_eq!(alert.state, MailState::Pending);
    assert_eq!(alert.recipient, DIRECTOR);
    // Due by 23:59:59 Astana on Saturday, the day after registration.
    assert_eq!(
        alert.due_by,
        Some(astana(2026, 11, 28, 23, 59) + chrono::Duration::seconds(59))
    );

    let pass = rig.sender.deliver_due().await.unwrap();
    assert_eq!(pass.sent, 1);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, vec![DIRECTOR.to_owned()]);
    assert_eq!(mail.auth_user.as_deref(), Some(SMTP_USER));
    let parsed = parse(mail);
    let subject = header(&parsed, "Subject").unwrap();
    assert!(
        subject.contains("Сообщение о коррупции") && subject.contains("Сыбайлас жемқорлық"),
        "{subject}"
    );
    assert!(subject.contains(&appeal.registration_number.to_string()));
    assert_eq!(header(&parsed, "Message-ID").unwrap(), alert.message_id);
    let body = parsed["body"].as_str().unwrap();
    assert!(body.contains("требовал взятку"), "{body}");
    assert!(body.contains("2026-11-27"));
    assert!(body.contains("Channel:             email"));
    assert!(
        body.contains("Suggested category:  corruption (взятк)"),
        "{body}"
    );
    // Identity is off by default (10.5).
    assert!(
        !body.contains("Айгүл") && !body.contains("aigul@"),
        "{body}"
    );
    assert!(header(&parsed, "Bcc").is_none());

    let sent = rig.outbox.get(alert.id).await.unwrap();
    assert_eq!(sent.state, MailState::Sent);
    assert_eq!(sent.attempts, 1);
    // Nothing else to send; a later digest skips the appeal already alerted.
    rig.clock.set(astana(2026, 11, 28, 10, 0));
    let tick = rig.scheduler.tick(rig.clock.now()).await.unwrap();
    assert_eq!(tick.digested, 0);
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 0);
    assert_eq!(smtp.messages().len(), 1);
}

on_both_backends!(#[tokio::test] corruption_alert_reaches_the_director => corruption_alert_reaches_the_director_sqlite, corruption_alert_reaches_the_director_postgres);

#[tokio::test]
async fn identity_goes_in_only_when_configured_and_headers_are_not_injected() {
    let smtp = smtp_server(&[]);
    let cfg = AlertsConfig {
        include_identity: true,
        ..alerts_config()
    };
    let rig = rig(Backend::Sqlite, &smtp, cfg, astana(2026, 11, 25, 10, 0)).await;
    let appeal = rig
        .register(
            "id",
            astana(2026, 11, 25, 10, 0),
            "Откат при закупке",
            named_reporter(),
        )
        .await;
    rig.classify(&appeal, Category::Corruption).await;
    // A mail with a hostile subject, straight into the outbox.
    let mut tx = rig.db.db.begin().await.unwrap();
    let hostile = Mail {
        kind: MailKind::Routing,
        dedupe_key: "hostile".into(),
        reference: "x".into(),
        appeal_id: None,
        to: UNIT.parse().unwrap(),
        subject: "Сәлем\r\nBcc: spy@evil.example\r\n\r\nфальшивое тело".into(),
        body: "тело\r\n.\r\nMAIL FROM:<x@y>".into(),
        urgent: false,
        due_by: None,
        escalate_at: None,
    };
    rig.outbox
        .enqueue_in(
            &mut tx,
            &"senim@kazstandard.kz".parse().unwrap(),
            &hostile,
            rig.clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 2);
    let mails = smtp.wait_for_messages(2, Duration::from_secs(10));
    let director = parse(&to(&mails, DIRECTOR)[0]);
    let body = director["body"].as_str().unwrap();
    assert!(
        body.contains("STATE SECRET")
            && body.contains("Сейітқызы")
            && body.contains("aigul@example.kz"),
        "{body}"
    );
    let unit = &to(&mails, UNIT)[0];
    assert_eq!(unit.rcpt_to, vec![UNIT.to_owned()], "no injected recipient");
    let parsed = parse(unit);
    assert!(header(&parsed, "Bcc").is_none(), "{parsed}");
    let subject = header(&parsed, "Subject").unwrap();
    assert!(subject.starts_with("Сәлем"), "{subject}");
    assert!(parsed["body"].as_str().unwrap().contains("MAIL FROM:<x@y>"));
}

async fn unclassified_digest_at_the_cutoff(
    backend: Backend,
    received: DateTime<Utc>,
    expected_reg: NaiveDate,
) {
    let smtp = smtp_server(&[]);
    let rig = rig(backend, &smtp, alerts_config(), received).await;
    let a = rig
        .register("a", received, "Жалоба на очередь", Reporter::default())
        .await;
    let b = rig
        .register(
            "b",
            received + chrono::Duration::minutes(5),
            "The inspector asked for a kickback",
            Reporter::default(),
        )
        .await;
    assert_eq!(a.registration_date, expected_reg);
    let next = expected_reg.succ_opt().unwrap();
    let cutoff = chrono_tz::Asia::Almaty
        .from_local_datetime(&next.and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .to_utc();
    // 09:59 on the next day (whatever day it is): nothing yet.
    rig.clock.set(cutoff - chrono::Duration::minutes(1));
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        0
    );
    assert!(rig.outbox.list(None, 10).await.unwrap().is_empty());
    // 10:00: one digest with both.
    rig.clock.set(cutoff);
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        2
    );
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        0,
        "once"
    );
    let queued = rig.outbox.list(None, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let due = chrono_tz::Asia::Almaty
        .from_local_datetime(&next.and_hms_opt(23, 59, 59).unwrap())
        .single()
        .unwrap()
        .to_utc();
    assert_eq!(queued[0].due_by, Some(due));
    rig.sender.deliver_due().await.unwrap();
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    let parsed = parse(&mails[0]);
    let body = parsed["body"].as_str().unwrap();
    assert!(
        body.contains(&a.registration_number.to_string())
            && body.contains(&b.registration_number.to_string())
    );
    assert!(
        body.contains("Suggested category:  corruption (kickback)"),
        "{body}"
    );
    assert!(
        header(&parsed, "Subject")
            .unwrap()
            .contains(&format!("{expected_reg}: 2"))
    );
}

#[tokio::test]
async fn digest_for_an_appeal_registered_on_a_friday_goes_out_on_saturday() {
    unclassified_digest_at_the_cutoff(
        Backend::Sqlite,
        astana(2026, 11, 27, 16, 0),
        date(2026, 11, 27),
    )
    .await;
}

#[tokio::test]
async fn digest_for_an_appeal_registered_before_a_holiday_goes_out_on_the_holiday() {
    // 15 December 2026 (Tuesday); 16 December is Independence Day.
    unclassified_digest_at_the_cutoff(
        Backend::Postgres,
        astana(2026, 12, 15, 12, 0),
        date(2026, 12, 15),
    )
    .await;
}

#[tokio::test]
async fn digest_for_an_appeal_registered_on_31_december_goes_out_on_1_january() {
    let cal = calendar();
    let received = astana(2026, 12, 31, 11, 0);
    let reg = cal.registration_date(received);
    unclassified_digest_at_the_cutoff(Backend::Sqlite, received, reg).await;
    if reg == date(2026, 12, 31) {
        // The digest day is 1 January 2027, a public holiday.
        assert!(!cal.is_working_day(date(2027, 1, 1)));
    }
}

/// A day with more unclassified appeals than one digest names (200) goes to the
/// Director as several digests, each marked in a short transaction of its own, so
/// the sweep never holds the write lock for long; together they name every
/// appeal once, and the next tick sends nothing more.
#[tokio::test]
async fn a_day_of_450_unclassified_appeals_goes_out_in_digests_of_at_most_200() {
    let smtp = smtp_server(&[]);
    let received = astana(2026, 11, 25, 10, 0);
    let rig = rig(Backend::Sqlite, &smtp, no_manager_digest(), received).await;
    let mut numbers = Vec::new();
    for i in 0..450 {
        let a = rig
            .register(
                &format!("bulk-{i}"),
                received,
                "Жалоба",
                Reporter::default(),
            )
            .await;
        numbers.push(a.registration_number.to_string());
    }
    // Before the cutoff, a tick finds nothing to do.
    rig.clock.set(astana(2026, 11, 26, 9, 59));
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        0
    );
    rig.clock.set(astana(2026, 11, 26, 10, 0));
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        450
    );
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        0,
        "once"
    );
    let queued = rig.outbox.list(None, 100).await.unwrap();
    assert_eq!(queued.len(), 3, "450 appeals: digests of 200, 200 and 50");
    rig.sender.deliver_due().await.unwrap();
    let mails = smtp.wait_for_messages(3, Duration::from_secs(20));
    let all: String = mails
        .iter()
        .map(|m| parse(m)["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    for n in &numbers {
        assert_eq!(all.matches(n.as_str()).count(), 1, "{n} named once");
    }
}

async fn server_down_for_hours_then_back(backend: Backend) {
    let mut smtp = smtp_server(&[]);
    let rig = rig(
        backend,
        &smtp,
        no_manager_digest(),
        astana(2026, 11, 27, 15, 0),
    )
    .await;
    let appeal = rig
        .register(
            "down",
            astana(2026, 11, 27, 15, 0),
            "Вымогательство при приёмке",
            Reporter::default(),
        )
        .await;
    smtp.stop();
    rig.classify(&appeal, Category::Corruption).await;
    let pass = rig.sender.deliver_due().await.unwrap();
    assert_eq!(pass.retried, 1);
    let entry = &rig.outbox.list(None, 1).await.unwrap()[0];
    assert_eq!(entry.state, MailState::Pending);
    assert!(entry.last_error.is_some());
    // Hours go by with the server down: retries back off, nothing escalates
    // before 18:00 Saturday (6 hours before 23:59:59).
    let mut escalated = 0;
    let mut attempts_before_escalation = 0;
    for hour in 1..=27 {
        rig.clock
            .set(astana(2026, 11, 27, 15, 0) + chrono::Duration::hours(hour));
        rig.sender.deliver_due().await.unwrap();
        escalated += rig.scheduler.tick(rig.clock.now()).await.unwrap().escalated;
        if escalated == 0 {
            attempts_before_escalation = rig.outbox.get(entry.id).await.unwrap().attempts;
        }
        let now = rig.clock.now();
        if now < astana(2026, 11, 28, 18, 0) - chrono::Duration::seconds(1) {
            assert_eq!(escalated, 0, "escalated too early at {now}");
        }
    }
    assert_eq!(escalated, 1, "escalated once");
    assert!(
        attempts_before_escalation >= 5,
        "kept retrying: {attempts_before_escalation}"
    );
    // Back up: the Director's alert and the deputy's copy go out, once each.
    smtp.start_again();
    rig.clock.advance(chrono::Duration::hours(2));
    let pass = rig.sender.deliver_due().await.unwrap();
    assert_eq!(pass.sent, 2, "{pass:?}");
    rig.clock.advance(chrono::Duration::hours(2));
    assert_eq!(rig.sender.deliver_due().await.unwrap(), Default::default());
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().escalated,
        0
    );
    // `deliver_due` returned: the server has spooled everything it was sent.
    let mails = smtp.messages();
    assert_eq!(to(&mails, DIRECTOR).len(), 1);
    assert_eq!(to(&mails, DEPUTY).len(), 1);
    assert_eq!(mails.len(), 2);
    let deputy = parse(&to(&mails, DEPUTY)[0]);
    assert_eq!(
        header(&deputy, "X-Priority").as_deref(),
        Some("1 (Highest)")
    );
    assert!(
        deputy["body"]
            .as_str()
            .unwrap()
            .contains(&appeal.registration_number.to_string())
    );
}

on_both_backends!(#[tokio::test] server_down_for_hours_then_back => server_down_for_hours_then_back_sqlite, server_down_for_hours_then_back_postgres);

#[tokio::test]
async fn a_permanent_rejection_stops_records_why_and_escalates() {
    let smtp = smtp_server(&[DIRECTOR]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        no_manager_digest(),
        astana(2026, 11, 25, 10, 0),
    )
    .await;
    let appeal = rig
        .register(
            "perm",
            astana(2026, 11, 25, 10, 0),
            "bribe",
            Reporter::default(),
        )
        .await;
    rig.classify(&appeal, Category::Corruption).await;
    let pass = rig.sender.deliver_due().await.unwrap();
    assert_eq!(pass.failed, 1);
    let entry = &rig.outbox.list(Some(MailState::Failed), 10).await.unwrap()[0];
    assert!(
        entry.last_error.as_deref().unwrap().contains("550"),
        "{entry:?}"
    );
    // Not retried on its own.
    rig.clock.advance(chrono::Duration::hours(3));
    assert_eq!(rig.sender.deliver_due().await.unwrap(), Default::default());
    // The deputies are told at once.
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().escalated,
        1
    );
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 1);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails[0].rcpt_to, vec![DEPUTY.to_owned()]);
    let body = parse(&mails[0])["body"].as_str().unwrap().to_owned();
    assert!(body.contains("550"), "{body}");
    // An administrator's retry puts it back in line.
    assert_eq!(
        rig.outbox
            .retry(Some(entry.id), rig.clock.now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        rig.outbox.get(entry.id).await.unwrap().state,
        MailState::Pending
    );
}

#[tokio::test]
async fn a_criminal_offence_goes_at_once_to_the_director_and_the_competent_body_marked_urgent() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Postgres,
        &smtp,
        alerts_config(),
        astana(2026, 11, 28, 3, 0),
    )
    .await;
    // Anonymous, at night on a Saturday.
    let appeal = rig
        .register(
            "threat",
            astana(2026, 11, 28, 3, 0),
            "Грозят взрывом на складе",
            Reporter::default(),
        )
        .await;
    rig.classify(&appeal, Category::CriminalOffence).await;
    // The threat was told at its registration already, to the Director and the
    // manager (6.3 at once); the classification tells the Director and the
    // competent body.
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 4);
    let mails = smtp.wait_for_messages(4, Duration::from_secs(10));
    assert_eq!(to(&mails, DIRECTOR).len(), 2);
    assert_eq!(to(&mails, MANAGER).len(), 1);
    for rcpt in [DIRECTOR, AUTHORITY] {
        let parsed = parse(to(&mails, rcpt).last().expect("a mail"));
        assert_eq!(
            header(&parsed, "X-Priority").as_deref(),
            Some("1 (Highest)")
        );
        assert_eq!(header(&parsed, "Importance").as_deref(), Some("high"));
        assert!(header(&parsed, "Subject").unwrap().contains("СРОЧНО"));
        assert!(parsed["body"].as_str().unwrap().contains("6.3"));
    }
    // Not routed to a unit: it went to the competent body.
    assert!(to(&mails, UNIT).is_empty());
}

#[tokio::test]
async fn not_corruption_and_anonymous_appeals_go_to_the_unit_without_identity() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 25, 10, 0),
    )
    .await;
    let appeal = rig
        .register(
            "hr",
            astana(2026, 11, 25, 10, 0),
            "Задерживают зарплату",
            named_reporter(),
        )
        .await;
    rig.classify(&appeal, Category::NotCorruption).await;
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 1);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails[0].rcpt_to, vec![UNIT.to_owned()]);
    let body = parse(&mails[0])["body"].as_str().unwrap().to_owned();
    assert!(body.contains("Human resources") && body.contains("Задерживают зарплату"));
    assert!(
        !body.contains("Айгүл") && !body.contains("aigul@") && !body.contains("+7 701"),
        "{body}"
    );
    // The routing is in the chain, and the appeal is routed.
    let history = rig.journal.history(appeal.id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.kind == "routed" && e.detail.contains("Human resources")),
        "{history:?}"
    );
    assert_eq!(
        rig.journal.get(appeal.id).await.unwrap().status,
        Status::Routed
    );
    assert!(rig.journal.verify().await.unwrap().is_intact());
    // Not corruption: the Director's digest leaves it out.
    rig.clock.set(astana(2026, 11, 26, 10, 0));
    assert_eq!(
        rig.scheduler.tick(rig.clock.now()).await.unwrap().digested,
        0
    );
}

/// An anonymous corruption report reaches the Director, but no unit by itself
/// (6.4, 10.14): only when the manager sends it there, as her act in the chain.
#[tokio::test]
async fn an_anonymous_corruption_report_goes_to_a_unit_only_when_the_manager_sends_it() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 25, 10, 0),
    )
    .await;
    let appeal = rig
        .register(
            "anon",
            astana(2026, 11, 25, 10, 0),
            "Начальник склада берёт откаты",
            Reporter::default(),
        )
        .await;
    assert!(appeal.anonymous);
    rig.classify(&appeal, Category::Corruption).await;
    rig.sender.deliver_due().await.unwrap();
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(to(&mails, DIRECTOR).len(), 1);
    assert!(to(&mails, UNIT).is_empty(), "no unit by itself");
    let units = senim::cases::acts::units(&rig.alerts);
    let (unit, _) = units.first().expect("a unit in the routing table");
    let case = cases::Case {
        journal: &rig.journal,
        deadlines: &rig.deadlines,
        alerts: &rig.alerts,
    };
    let routed = case
        .record(
            appeal.id,
            &cases::Act::Route {
                unit: unit.clone(),
                text: None,
            },
            &support::rules::permitted_as(senim::rulebook::Action::Route, "person:marat"),
            rig.clock.now(),
            date(2026, 11, 25),
        )
        .await
        .unwrap();
    assert_eq!(routed.status, Status::Routed);
    rig.sender.deliver_due().await.unwrap();
    let mails = smtp.wait_for_messages(2, Duration::from_secs(10));
    assert_eq!(to(&mails, UNIT).len(), 1);
    let history = rig.journal.history(appeal.id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.kind == "routed" && e.actor == "person:marat")
    );
}

/// 6.3 at once: a new appeal is told to the managers the moment it is
/// registered, on Friday night too; one whose words suggest a threat (a bomb)
/// is told to the managers and the Director, urgent, before anyone classifies
/// it, anonymous included. No notice carries the reporter or the text. With
/// `arrival_notice` off, only the threat is told.
#[tokio::test]
async fn a_new_appeal_is_told_at_once_and_a_threat_to_the_director_too() {
    for arrival_notice in [true, false] {
        let smtp = smtp_server(&[]);
        let config = AlertsConfig {
            arrival_notice,
            ..alerts_config()
        };
        let rig = rig(Backend::Sqlite, &smtp, config, astana(2026, 11, 27, 22, 0)).await;
        let policy = rig.alerts.policy().clone();
        let journal = Journal::new(
            rig.db.db.clone(),
            calendar(),
            Arc::new(rig.clock.clone()),
            "TL",
        )
        .followed_by(Arc::new(senim::alerts::arrival::Arrival::new(
            policy,
            rig.outbox.clone(),
        )));
        let plain = register_in(
            &journal,
            "plain",
            astana(2026, 11, 27, 22, 0),
            Channel::Email,
            named_reporter(),
            Some("Өтініш"),
            "Прораб просит деньги за допуск на объект",
        )
        .await;
        let threat = register_in(
            &journal,
            "threat",
            astana(2026, 11, 27, 22, 5),
            Channel::Email,
            Reporter::default(),
            None,
            "В цехе №3 заложили бомбу, взрыв назначен на понедельник",
        )
        .await;
        assert!(threat.anonymous);
        let sent = rig.sender.deliver_due().await.unwrap().sent;
        let expected = if arrival_notice { 3 } else { 2 };
        assert_eq!(sent, expected, "arrival_notice = {arrival_notice}");
        let mails = smtp.wait_for_messages(expected, Duration::from_secs(10));
        let to_manager = to(&mails, MANAGER);
        let to_director = to(&mails, DIRECTOR);
        assert_eq!(to_director.len(), 1, "the threat, to the Director");
        let director_mail = parse(&to_director[0]);
        assert!(
            director_mail["body"]
                .as_str()
                .unwrap()
                .contains(&threat.registration_number.to_string())
                && director_mail["body"].as_str().unwrap().contains("6.3")
                && director_mail["body"]
                    .as_str()
                    .unwrap()
                    .contains("anonymous"),
            "{director_mail}"
        );
        let manager_numbers: Vec<String> = to_manager
            .iter()
            .map(|m| parse(m)["body"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            manager_numbers
                .iter()
                .any(|b| b.contains(&plain.registration_number.to_string())),
            arrival_notice
        );
        assert!(
            manager_numbers.iter().any(
                |b| b.contains(&threat.registration_number.to_string()) && b.contains("URGENT")
            )
        );
        for mail in &mails {
            let text = parse(mail).to_string();
            assert!(text.contains("TL-2026-"), "decoded: {text}");
            for secret in ["Айгүл", "aigul@", "+7 701", "бомбу", "Прораб", "деньги"]
            {
                assert!(!text.contains(secret), "{secret} in a notice: {text}");
            }
        }
    }
}

/// Deadline events an earlier version kept in `deadline_events` alone are
/// carried into the audit chain once, under their own names and actors, with
/// their original time; the chain stays intact, a second run carries nothing,
/// and events recorded now (already in the chain) are not carried twice. On
/// both backends.
#[tokio::test]
async fn earlier_deadline_events_are_carried_into_the_chain_once() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let smtp = smtp_server(&[]);
        let rig = rig(
            backend,
            &smtp,
            no_manager_digest(),
            astana(2026, 11, 27, 10, 0),
        )
        .await;
        let appeal = rig
            .register(
                "old",
                astana(2026, 11, 27, 10, 0),
                "Взятка",
                named_reporter(),
            )
            .await;
        // As an earlier version wrote it: a row of its own, no chain event.
        let at = astana(2026, 11, 27, 11, 0);
        senim::on_db!(&rig.db.db, pool => sqlx::query(
            "INSERT INTO deadline_events (appeal_id, at, actor, event) VALUES ($1, $2, $3, $4)",
        )
        .bind(appeal.id.0)
        .bind(at)
        .bind("manager:aigul")
        .bind(r#"{"event":"materials_requested","on":"2026-11-27"}"#)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        // And one recorded now, through the chain.
        rig.act(
            &appeal,
            Event::MaterialsReceived {
                on: date(2026, 11, 27),
                requested_on: None,
            },
            rig.clock.now(),
            date(2026, 11, 27),
        )
        .await
        .unwrap_err(); // no materials were asked in the deadlines table
        rig.act(
            &appeal,
            Event::ReplySent {
                on: date(2026, 11, 27),
            },
            rig.clock.now(),
            date(2026, 11, 27),
        )
        .await
        .unwrap();
        let now = rig.clock.now();
        assert_eq!(
            rig.deadlines
                .chain_earlier_events(&rig.journal, now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            rig.deadlines
                .chain_earlier_events(&rig.journal, now)
                .await
                .unwrap(),
            0
        );
        let history = rig.journal.history(appeal.id).await.unwrap();
        let carried = support::scene::events_of(&history, "materials_requested");
        assert_eq!(carried.len(), 1, "{history:?}");
        assert_eq!(carried[0].actor, "manager:aigul");
        assert!(
            carried[0].detail.contains("recorded_at"),
            "{}",
            carried[0].detail
        );
        assert_eq!(
            history.iter().filter(|e| e.kind == "reply_sent").count(),
            1,
            "not carried twice"
        );
        assert!(rig.journal.verify().await.unwrap().is_intact());
    }
}

#[tokio::test]
async fn deadlines_follow_the_working_day_calendar_and_the_digest_comes_at_nine() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 27, 10, 0),
    )
    .await;
    let appeal = rig
        .register(
            "dl",
            astana(2026, 11, 27, 10, 0),
            "Взятка",
            named_reporter(),
        )
        .await;
    let cal = calendar();
    let now = rig.clock.now();
    // The manager records each event below on Friday 27 November.
    let record = async |event: Event| rig.act(&appeal, event, now, date(2026, 11, 27)).await;
    // Reply: 15 working days from Friday 27 November, skipping Independence Day,
    // written with the registration.
    let list = rig.deadlines.of_appeal(appeal.id).await.unwrap();
    assert_eq!(list[0].kind, Kind::Reply);
    assert_eq!(list[0].due_on, cal.add_working_days(date(2026, 11, 27), 15));
    assert_eq!(
        list[0].due_on,
        date(2026, 12, 21),
        "16 December is a holiday"
    );
    // Materials asked on Friday: due Monday (7.8).
    let list = record(Event::MaterialsRequested {
        on: date(2026, 11, 27),
    })
    .await
    .unwrap();
    let materials = list.iter().find(|d| d.kind == Kind::Materials).unwrap();
    assert_eq!(materials.due_on, date(2026, 11, 30));
    // Investigation ordered on 10 December, recorded that day (an act is never
    // dated after the day it is recorded): 10 working days (7.5), over the holiday.
    let list = rig
        .act(
            &appeal,
            Event::InvestigationOrdered {
                on: date(2026, 12, 10),
            },
            now,
            date(2026, 12, 10),
        )
        .await
        .unwrap();
    let inv = list.iter().find(|d| d.kind == Kind::Investigation).unwrap();
    assert_eq!(inv.due_on, cal.add_working_days(date(2026, 12, 10), 10));
    // An extension by more than one month past the due date (21 December) is
    // refused, and so is one without the head's written decision; within it,
    // the notice is due in 3 working days (APPK Art. 76).
    let err = record(Event::ReplyExtended {
        until: date(2027, 1, 22),
        reason: "expertise".into(),
        reference: "приказ № 12 от 30.11.2026".into(),
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("one month"), "{err}");
    let err = record(Event::ReplyExtended {
        until: date(2027, 1, 20),
        reason: "expertise".into(),
        reference: " ".into(),
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("reference"), "{err}");
    let list = record(Event::ReplyExtended {
        until: date(2027, 1, 20),
        reason: "expertise".into(),
        reference: "приказ № 12 от 30.11.2026".into(),
    })
    .await
    .unwrap();
    let notice = list
        .iter()
        .find(|d| d.kind == Kind::ExtensionNotice)
        .unwrap();
    assert_eq!(notice.due_on, date(2026, 12, 2));
    assert_eq!(
        list.iter()
            .find(|d| d.kind == Kind::Reply)
            .map(|d| d.due_on),
        Some(date(2027, 1, 20))
    );
    // The Director extends the investigation (7.5): only its own deadline moves.
    let list = record(Event::InvestigationExtended {
        until: date(2027, 1, 15),
        reason: "the Director's written order".into(),
    })
    .await
    .unwrap();
    let due = |kind: Kind| list.iter().find(|d| d.kind == kind).map(|d| d.due_on);
    assert_eq!(due(Kind::Investigation), Some(date(2027, 1, 15)));
    assert_eq!(due(Kind::Reply), Some(date(2027, 1, 20)));
    // An "extension" to an earlier date is refused.
    let earlier = record(Event::InvestigationExtended {
        until: date(2026, 12, 1),
        reason: "x".into(),
    })
    .await;
    assert!(earlier.is_err());

    // Saturday 09:00: no digest. Monday 08:59: none. Monday 09:00: one.
    rig.clock.set(astana(2026, 11, 28, 9, 0));
    assert!(
        !rig.scheduler
            .deadline_digest(rig.clock.now())
            .await
            .unwrap()
    );
    rig.clock.set(astana(2026, 11, 30, 8, 59));
    assert!(
        !rig.scheduler
            .deadline_digest(rig.clock.now())
            .await
            .unwrap()
    );
    rig.clock.set(astana(2026, 11, 30, 9, 0));
    assert!(
        rig.scheduler
            .deadline_digest(rig.clock.now())
            .await
            .unwrap()
    );
    assert!(
        !rig.scheduler
            .deadline_digest(rig.clock.now())
            .await
            .unwrap(),
        "once a day"
    );
    rig.sender.deliver_due().await.unwrap();
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    let digest = to(&mails, MANAGER);
    assert_eq!(digest.len(), 1);
    let body = parse(&digest[0])["body"].as_str().unwrap().to_owned();
    // Materials due today (Monday); the extension notice within three working days.
    assert!(body.contains("Due today: 1"), "{body}");
    assert!(body.contains("materials to the commission"), "{body}");
    assert!(body.contains("Due within three working days: 1"), "{body}");
    assert!(body.contains(&appeal.registration_number.to_string()));
    // Materials received: the deadline is met.
    rig.act(
        &appeal,
        Event::MaterialsReceived {
            on: date(2026, 11, 30),
            requested_on: None,
        },
        rig.clock.now(),
        date(2026, 11, 30),
    )
    .await
    .unwrap();
    rig.clock.set(astana(2026, 12, 1, 9, 30));
    assert!(
        rig.scheduler
            .deadline_digest(rig.clock.now())
            .await
            .unwrap()
    );
}

/// A rig at 10:00 on 25 November 2026 with one corruption alert queued; its outbox id.
async fn one_alert_queued(backend: Backend, smtp: &SmtpServer, source: &str) -> (Rig, i64) {
    let at = astana(2026, 11, 25, 10, 0);
    let rig = rig(backend, smtp, no_manager_digest(), at).await;
    let appeal = rig.register(source, at, "bribe", Reporter::default()).await;
    rig.classify(&appeal, Category::Corruption).await;
    let id = rig.outbox.list(None, 1).await.unwrap()[0].id;
    (rig, id)
}

#[tokio::test]
async fn a_mail_left_sending_by_a_crash_is_sent_again_once() {
    let smtp = smtp_server(&[]);
    let (rig, id) = one_alert_queued(Backend::Postgres, &smtp, "crash").await;
    // The process died after marking it `sending`, before (or after) the server's 250.
    let now = rig.clock.now();
    let claimed =
        rig.outbox
            .mark_sending(id, RIG_INSTANCE, now, now + chrono::Duration::minutes(10));
    assert!(claimed.await.unwrap());
    let message_id = rig.outbox.get(id).await.unwrap().message_id;
    // Restarted (the same instance id): sent again at once, once.
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 1);
    assert_eq!(rig.sender.deliver_due().await.unwrap().sent, 0);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&parse(&mails[0]), "Message-ID"), Some(message_id));
    assert_eq!(rig.outbox.get(id).await.unwrap().attempts, 2);
}

#[tokio::test]
async fn two_senders_on_one_database_send_each_mail_once() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Postgres,
        &smtp,
        no_manager_digest(),
        astana(2026, 11, 25, 10, 0),
    )
    .await;
    for n in 0..10 {
        let appeal = rig
            .register(
                &format!("two-senders-{n}"),
                astana(2026, 11, 25, 10, 0),
                "bribe",
                Reporter::default(),
            )
            .await;
        rig.classify(&appeal, Category::Corruption).await;
    }
    // A second Senim process on the same database, with its own instance id.
    let shared: SharedClock = Arc::new(rig.clock.clone());
    let other = Sender::new(
        rig.outbox.clone(),
        &smtp_config(&smtp),
        shared,
        "other".into(),
    )
    .expect("sender");
    let (mine, theirs) = tokio::join!(rig.sender.deliver_due(), other.deliver_due());
    let (mine, theirs) = (mine.unwrap(), theirs.unwrap());
    assert_eq!(mine.sent + theirs.sent, 10, "{mine:?} {theirs:?}");
    // Both passes returned: the server has spooled everything they sent.
    let mails = smtp.messages();
    assert_eq!(mails.len(), 10, "each alert sent once");
    let mut ids: Vec<_> = mails
        .iter()
        .filter_map(|m| header(&parse(m), "Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
}

#[tokio::test]
async fn a_mail_left_sending_by_a_dead_process_is_sent_when_its_claim_runs_out() {
    let smtp = smtp_server(&[]);
    let (rig, id) = one_alert_queued(Backend::Sqlite, &smtp, "dead-sender").await;
    // Another process claimed it for 10 minutes and died.
    let now = rig.clock.now();
    let until = now + chrono::Duration::minutes(10);
    assert!(
        rig.outbox
            .mark_sending(id, "dead", now, until)
            .await
            .unwrap()
    );
    assert!(
        !rig.outbox
            .mark_sending(id, RIG_INSTANCE, now, until)
            .await
            .unwrap()
    );
    assert_eq!(
        rig.sender.deliver_due().await.unwrap().sent,
        0,
        "its claim holds"
    );
    rig.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(
        rig.sender.deliver_due().await.unwrap().sent,
        1,
        "then it is sent"
    );
    assert_eq!(smtp.wait_for_messages(1, Duration::from_secs(10)).len(), 1);
}

const TOKEN: &str = "manager-token-0123456789";

#[tokio::test]
async fn senim_killed_with_mail_in_the_outbox_delivers_it_once_after_restart() {
    let mut smtp = smtp_server(&[]);
    smtp.stop();
    let db = TestDb::sqlite().await;
    let clock = FixedClock::at(Utc::now());
    let journal = Journal::new(db.db.clone(), calendar(), Arc::new(clock.clone()), "TL");
    let appeal = register_in(
        &journal,
        "kill9",
        Utc::now(),
        Channel::Phone,
        Reporter::default(),
        None,
        "Требуют откат за подпись акта",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}",
        support::scene::manager_toml("aigul", TOKEN),
        support::console::config(Some(&smtp))
    );
    let daemon = support::senim::Daemon::start(dir.path(), &db.url, &extra);
    let http = reqwest::Client::new();
    let response = http
        .post(daemon.url(&format!(
            "/v1/appeals/{}/classification",
            appeal.registration_number
        )))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"category": "corruption", "reason": "a kickback is asked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    // The sender tries and fails while the server is down.
    let outbox = Outbox::new(db.db.clone(), senim::sealing::Sealer::off());
    support::eventually::eventually(
        Duration::from_secs(10),
        "the sender to try while the server is down",
        async || {
            let list = outbox.list(None, 5).await.unwrap();
            let tried = list.len() == 1 && list[0].attempts >= 1;
            support::eventually::ok_if(tried, support::eventually::Raw(daemon.logs()))
        },
    )
    .await;
    let ready: Value = http
        .get(daemon.metrics_url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["outbox"]["undelivered"], 1, "{ready}");
    let config = daemon.config.clone();
    let port = daemon.port;
    let logs = daemon.logs();
    daemon.kill9();
    assert!(!logs.contains("откат"), "content must not be logged");

    smtp.start_again();
    let daemon = support::senim::Daemon::start_with_config(dir.path(), config, port);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(30));
    support::senim::wait_outbox_settled(&daemon.config, Duration::from_secs(60));
    assert_eq!(smtp.messages().len(), 1, "delivered exactly once");
    assert_eq!(mails[0].rcpt_to, vec![DIRECTOR.to_owned()]);
    // A new client: the old one's pooled connection died with the killed process.
    let http = reqwest::Client::new();
    let ready: Value = http
        .get(daemon.metrics_url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["outbox"]["undelivered"], 0, "{ready}");
    let metrics = support::senim::metrics(&daemon).await;
    assert!(metrics.contains("senim_outbox_undelivered 0"), "{metrics}");
    // `senim outbox list` shows it sent.
    let out = support::senim::run_cli(&daemon.config, &["outbox", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("corruption_alert") && text.contains("sent"),
        "{text}"
    );
    assert!(daemon.terminate().success());
}

#[tokio::test]
async fn the_cli_classifies_records_deadline_events_and_retries_mail() {
    let db = TestDb::sqlite().await;
    let clock = FixedClock::at(Utc::now());
    let deadlines = Deadlines::new(db.db.clone(), calendar());
    let journal = Journal::new(db.db.clone(), calendar(), Arc::new(clock.clone()), "TL")
        .followed_by(Arc::new(deadlines));
    let appeal = register_in(
        &journal,
        "cli",
        Utc::now(),
        Channel::Email,
        named_reporter(),
        None,
        "Очередь в приёмной",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = support::senim::write_config(
        dir.path(),
        support::ports::free_port(),
        &db.url,
        &format!(
            "[alerts]\ndirector = [\"{DIRECTOR}\"]\n\n[[alerts.routes]]\nunit = \"Office\"\naddress = \"{UNIT}\"\ncategories = [\"not_corruption\"]\n"
        ),
    );
    let number = appeal.registration_number.to_string();
    let manager = support::senim::person(&config, "aigul", &["manager"]);
    let run = |args: &[&str]| {
        let out = support::senim::run_cli_as(&config, &manager, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = run(&[
        "journal",
        "classify",
        &number,
        "--category",
        "not_corruption",
        "--reason",
        "queue",
    ]);
    assert!(
        ok && text.contains("classified as not_corruption"),
        "{text}"
    );
    let (ok, text) = run(&[
        "journal",
        "classify",
        &number,
        "--category",
        "corruption",
        "--reason",
        "",
    ]);
    assert!(!ok && text.contains("reason"), "{text}");
    let (ok, text) = run(&["outbox", "list"]);
    assert!(
        ok && text.contains("routing") && text.contains(UNIT) && text.contains("pending"),
        "{text}"
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Almaty)
        .date_naive();
    // The investigation's acts go through its file (`senim investigation`),
    // never as plain events.
    let (ok, text) = run(&[
        "journal",
        "event",
        &number,
        "materials-requested",
        "--on",
        "2026-11-27",
    ]);
    assert!(
        !ok && text.contains("materials_requested: the investigation is recorded in its file"),
        "{text}"
    );
    // An act is recorded once it has happened: never dated after today.
    let tomorrow = (today + chrono::Days::new(1)).to_string();
    let (ok, text) = run(&["journal", "event", &number, "reply-sent", "--on", &tomorrow]);
    assert!(!ok && text.contains("after today"), "{text}");
    let (ok, text) = run(&[
        "journal",
        "event",
        &number,
        "reply-extended",
        "--until",
        "2026-12-31",
    ]);
    assert!(!ok && text.contains("--reason"), "{text}");
    let (ok, text) = run(&["journal", "deadlines", &number]);
    assert!(
        ok && text.contains("reply") && !text.contains("materials"),
        "{text}"
    );
    let (ok, text) = run(&["outbox", "retry", "999"]);
    assert!(!ok && text.contains("no mail 999"), "{text}");
    let (ok, text) = run(&["outbox", "retry", "--all-failed"]);
    assert!(ok && text.contains("0 mail(s)"), "{text}");
}

#[tokio::test]
async fn implicit_tls_with_auth_delivers_too() {
    let smtp = SmtpServer::start(SmtpOptions {
        mode: SmtpMode::ImplicitTls,
        auth: Some((SMTP_USER.into(), SMTP_PASSWORD.into())),
        ..SmtpOptions::default()
    });
    let db = TestDb::sqlite().await;
    let clock = FixedClock::at(astana(2026, 11, 25, 10, 0));
    let cfg = SmtpConfig {
        security: SmtpSecurity::Tls,
        ..smtp_config(&smtp)
    };
    let outbox = Outbox::new(db.db.clone(), senim::sealing::Sealer::off());
    let sender = Sender::new(
        outbox.clone(),
        &cfg,
        Arc::new(clock.clone()),
        RIG_INSTANCE.into(),
    )
    .unwrap();
    let mut tx = db.db.begin().await.unwrap();
    let mail = Mail {
        kind: MailKind::DeadlineDigest,
        dedupe_key: "tls".into(),
        reference: "2026-11-25".into(),
        appeal_id: None,
        to: MANAGER.parse().unwrap(),
        subject: "Мерзімдер / Сроки".into(),
        body: "—".into(),
        urgent: false,
        due_by: None,
        escalate_at: None,
    };
    outbox
        .enqueue_in(
            &mut tx,
            &"senim@kazstandard.kz".parse().unwrap(),
            &mail,
            clock.now(),
        )
        .await
        .unwrap();
    // The same key again is a no-op.
    assert_eq!(
        outbox
            .enqueue_in(
                &mut tx,
                &"senim@kazstandard.kz".parse().unwrap(),
                &mail,
                clock.now()
            )
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
    assert_eq!(sender.deliver_due().await.unwrap().sent, 1);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails[0].auth_user.as_deref(), Some(SMTP_USER));
}

#[tokio::test]
async fn the_manager_api_classifies_and_records_deadline_events() {
    let db = TestDb::sqlite().await;
    let clock = FixedClock::at(Utc::now());
    let deadlines = Deadlines::new(db.db.clone(), calendar());
    let journal = Journal::new(db.db.clone(), calendar(), Arc::new(clock.clone()), "TL")
        .followed_by(Arc::new(deadlines));
    let appeal = register_in(
        &journal,
        "api",
        Utc::now(),
        Channel::Web,
        named_reporter(),
        None,
        "Конфликт интересов в тендерной комиссии",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[api.managers]]\nname = \"aigul\"\ntoken = \"{TOKEN}\"\n\n[alerts]\ndirector = [\"{DIRECTOR}\"]\n"
    );
    let daemon = support::senim::Daemon::start(dir.path(), &db.url, &extra);
    let http = reqwest::Client::new();
    let url = |p: &str| daemon.url(&format!("/v1/appeals/{}{p}", appeal.id));
    let r = http.get(url("/suggestion")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r: Value = http
        .get(url("/suggestion"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["suggestion"]["category"], "corruption", "{r}");
    assert_eq!(r["final"], false);
    let r = http
        .post(url("/classification"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"category": "gossip", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["field"], "category", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("gossip"),
        "{problem}"
    );
    // No reason, and a body that is not JSON: refused, naming what is wrong.
    let r = http
        .post(url("/classification"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"category": "corruption", "reason": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["field"], "reason", "{problem}");
    let r = http
        .post(url("/classification"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // None of them changed the appeal or queued a mail.
    let unchanged: Value = http
        .get(url("/suggestion"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["category"], "unclassified", "{unchanged}");
    let outbox: Value = http
        .get(daemon.url("/v1/outbox"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["mail"].as_array().map(Vec::len), Some(0), "{outbox}");
    let r = http
        .post(daemon.url("/v1/appeals/TL-2026-999999/classification"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"category": "corruption", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .post(url("/classification"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"category": "corruption", "reason": "conflict of interest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["category"], "corruption");
    assert!(
        !body.to_string().contains("Айгүл"),
        "no identity in answers"
    );
    // The investigation is the Director's to order (10.10), in her own name,
    // and only in its file (`senim investigation order`, 7.5): a manager's
    // token is refused, and so is the Director's here, naming the file.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Almaty)
        .date_naive()
        .to_string();
    let order = serde_json::json!({"event": "investigation_ordered", "on": today});
    let r = http
        .post(url("/deadline-events"))
        .bearer_auth(TOKEN)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let director = support::senim::person(&daemon.config, "dana", &["director"]);
    let r = http
        .post(url("/deadline-events"))
        .bearer_auth(&director.token)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("investigation_ordered: the investigation is recorded in its file"),
        "{body}"
    );
    let r = http
        .post(url("/deadline-events"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"event": "materials_received", "on": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the file's act, not a plain event");
    let r: Value = http
        .get(daemon.url("/v1/outbox"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["mail"][0]["kind"], "corruption_alert", "{r}");
    // The refused events left nothing in the audit chain.
    let history = journal.history(appeal.id).await.unwrap();
    let kinds: Vec<(&str, &str)> = history
        .iter()
        .map(|e| (e.kind.as_str(), e.actor.as_str()))
        .collect();
    assert!(
        !kinds
            .iter()
            .any(|(k, _)| *k == "investigation_ordered" || *k == "materials_received"),
        "{kinds:?}"
    );
    assert!(journal.verify().await.unwrap().is_intact());
    assert!(daemon.terminate().success());
}

/// APPK Art. 76 counts the reply "со дня поступления": an e-mail received on
/// Friday at 19:00, after hours, is registered on Monday, but its reply is due
/// 15 working days from Friday, and its extension at most one month past that.
#[tokio::test]
async fn the_reply_is_counted_from_the_day_of_receipt_not_of_registration() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 27, 19, 0),
    )
    .await;
    let appeal = rig
        .register(
            "late",
            astana(2026, 11, 27, 19, 0),
            "Взятка",
            named_reporter(),
        )
        .await;
    assert_eq!(
        appeal.registration_date,
        date(2026, 11, 30),
        "registered Monday"
    );
    let list = rig.deadlines.of_appeal(appeal.id).await.unwrap();
    assert_eq!(list[0].kind, Kind::Reply);
    assert_eq!(list[0].started_on, date(2026, 11, 27));
    assert_eq!(
        list[0].due_on,
        calendar().add_working_days(date(2026, 11, 27), 15)
    );
    assert_eq!(list[0].due_on, date(2026, 12, 21), "not 22 December");
    let now = rig.clock.now();
    let too_late = rig
        .act(
            &appeal,
            Event::ReplyExtended {
                until: date(2027, 1, 22),
                reason: "expertise".into(),
                reference: "приказ № 12".into(),
            },
            now,
            date(2026, 11, 30),
        )
        .await;
    assert!(
        too_late.is_err_and(|e| e.to_string().contains("2027-01-21")),
        "one month past the reply's due date, 21 December (APPK Art. 76)"
    );
}

/// Reads write nothing: an appeal registered before the reply deadline was
/// written with the registration has none until the scheduler's back-fill, not
/// after the CLI or the manager API shows its deadlines.
#[tokio::test]
async fn reads_create_no_deadline_and_the_backfill_gives_older_appeals_theirs() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 27, 10, 0),
    )
    .await;
    // Registered as an older version did: by a Journal that starts no deadline.
    let older = Journal::new(
        rig.db.db.clone(),
        calendar(),
        Arc::new(rig.clock.clone()),
        "TL",
    );
    let appeal = register_in(
        &older,
        "older",
        astana(2026, 11, 27, 10, 0),
        Channel::Email,
        named_reporter(),
        None,
        "Взятка",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        support::senim::write_config(dir.path(), support::ports::free_port(), &rig.db.url, "");
    let number = appeal.registration_number.to_string();
    let out = support::senim::run_cli(&config, &["journal", "deadlines", &number]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("reply"), "{text}");
    assert!(rig.deadlines.of_appeal(appeal.id).await.unwrap().is_empty());

    rig.scheduler
        .backfill_reply_deadlines(rig.clock.now())
        .await
        .unwrap();
    let list = rig.deadlines.of_appeal(appeal.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].kind, Kind::Reply);
    assert_eq!(list[0].due_on, date(2026, 12, 21));
    // Again: nothing doubled.
    rig.scheduler
        .backfill_reply_deadlines(rig.clock.now())
        .await
        .unwrap();
    assert_eq!(rig.deadlines.of_appeal(appeal.id).await.unwrap().len(), 1);
}

/// A state the outbox does not know is an error, never read as `pending`.
#[tokio::test]
async fn an_unknown_mail_state_is_an_error_not_pending() {
    let smtp = smtp_server(&[]);
    let rig = rig(
        Backend::Sqlite,
        &smtp,
        alerts_config(),
        astana(2026, 11, 27, 10, 0),
    )
    .await;
    let appeal = rig
        .register(
            "state",
            astana(2026, 11, 27, 10, 0),
            "Взятка",
            named_reporter(),
        )
        .await;
    rig.classify(&appeal, Category::Corruption).await;
    let id = rig.outbox.list(None, 10).await.unwrap()[0].id;
    // The table's CHECK refuses it; a damaged or hand-edited database may not.
    let pool = sqlite_pool(&rig.db.url).await;
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("PRAGMA ignore_check_constraints = ON")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET state = 'lost' WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let err = rig.outbox.get(id).await.unwrap_err();
    assert!(err.to_string().contains("`lost`"), "{err}");
    let err = rig.outbox.list(None, 10).await.unwrap_err();
    assert!(err.to_string().contains("`lost`"), "{err}");
}

async fn sqlite_pool(url: &str) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(url).await.unwrap()
}

/// With a chain key, the audit chain's head is published once a day from
/// `journal.publish_head_time`: mailed to each auditor and appended to the
/// auditors' heads file, signed; `verify --heads` on that file passes.
#[tokio::test]
async fn the_signed_head_goes_to_the_auditors_once_a_day() {
    let smtp = smtp_server(&[]);
    let db = TestDb::sqlite().await;
    let key_file = db.dir.path().join("chain.key");
    std::fs::write(&key_file, "a".repeat(64)).unwrap();
    let heads_file = db.dir.path().join("heads.jsonl");
    let clock = FixedClock::at(astana(2026, 11, 27, 0, 1));
    let mut config = Config {
        smtp: smtp_config(&smtp),
        alerts: AlertsConfig {
            auditors: vec![address("auditor@kazstandard.kz")],
            ..no_manager_digest()
        },
        ..Config::default()
    };
    config.journal.chain_key_file = Some(key_file);
    config.journal.published_heads_file = Some(heads_file.clone());
    let app = App::assemble(config, db.db.clone(), Arc::new(clock.clone())).expect("assemble");
    register_in(
        &app.journal,
        "head-1",
        astana(2026, 11, 26, 15, 0),
        Channel::Email,
        Reporter::default(),
        None,
        "text",
    )
    .await;
    let scheduler = app.scheduler();
    assert!(
        !scheduler.tick(clock.now()).await.unwrap().head_published,
        "before 00:05"
    );
    clock.set(astana(2026, 11, 27, 0, 5));
    assert!(scheduler.tick(clock.now()).await.unwrap().head_published);
    clock.set(astana(2026, 11, 27, 13, 0));
    assert!(
        !scheduler.tick(clock.now()).await.unwrap().head_published,
        "once a day"
    );
    app.sender(RIG_INSTANCE.into())
        .unwrap()
        .deliver_due()
        .await
        .unwrap();
    let mails = to(&smtp.messages(), "auditor@kazstandard.kz");
    assert_eq!(mails.len(), 1);
    let lines = std::fs::read_to_string(&heads_file).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let head: senim::journal::audit::SignedHead = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(head.seq, 1);
    assert!(
        parse(&mails[0])["body"]
            .as_str()
            .unwrap()
            .contains(lines.trim())
    );
    let report = app.journal.verify_with_heads(&[head]).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    // The next day, the next head.
    clock.set(astana(2026, 11, 28, 0, 6));
    assert!(scheduler.tick(clock.now()).await.unwrap().head_published);
    assert_eq!(
        std::fs::read_to_string(&heads_file)
            .unwrap()
            .lines()
            .count(),
        2
    );
}
