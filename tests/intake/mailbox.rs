//! The e-mail channel against a real Dovecot on loopback with TLS: every message
//! registered exactly once, through idling, bursts, restarts, UIDVALIDITY resets,
//! a missing MOVE, `kill -9` and two Senim processes; and what each kind of
//! message becomes.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use senim::app::App;
use senim::clock::SystemClock;
use senim::config::{Config, ConfigSource};
use senim::db::Db;
use senim::journal::{Channel, ListFilter};
use senim::mailbox::store;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use support::database::TestDb;
use support::dovecot::{Dovecot, DovecotOptions};
use support::eventually::{eventually, ok_if, until};
use support::ports::free_port;
use support::senim::{Daemon, metrics, write_config};

const PROCESSED: &str = "Senim/Registered";

/// The `[mailbox]` section for `dovecot`, over IMAPS, plus `extra` keys.
fn mailbox_toml(dovecot: &Dovecot, extra: &str) -> String {
    format!("{}{extra}\n", dovecot.mailbox_toml())
}

/// The mailbox poller running in this process on its own App.
struct Intake {
    app: Arc<App>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start_intake(dovecot: &Dovecot, database_url: &str, extra: &str) -> Intake {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_config(
        dir.path(),
        free_port(),
        database_url,
        &mailbox_toml(dovecot, extra),
    );
    let config = Config::load(&ConfigSource::new(Some(&path))).expect("config");
    let app = Arc::new(
        App::open(config, Arc::new(SystemClock))
            .await
            .expect("open app"),
    );
    let (stop, rx) = watch::channel(false);
    let instance = senim::instance::id(&dir.path().join("data")).expect("instance id");
    let task = tokio::spawn(senim::mailbox::poller::run(
        app.mailbox.clone(),
        instance,
        rx,
    ));
    Intake {
        app,
        stop,
        task,
        _dir: dir,
    }
}

impl Intake {
    /// Every appeal in the Journal, oldest first.
    async fn appeals(&self) -> Vec<senim::journal::Appeal> {
        support::scene::appeals(&self.app).await
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}

async fn stored(db: &Db) -> Vec<store::StoredMessage> {
    store::list(db).await.expect("list stored messages")
}

async fn wait_stored(db: &Db, n: usize, limit: Duration) {
    eventually(limit, &format!("{n} stored messages"), async || {
        let count = stored(db).await.len();
        ok_if(count >= n, format!("{count} stored"))
    })
    .await;
}

async fn email_appeals(app: &App) -> usize {
    app.journal
        .list(&ListFilter {
            channel: Some(Channel::Email),
            ..ListFilter::default()
        })
        .await
        .expect("list appeals")
        .len()
}

fn mail(n: usize) -> Vec<u8> {
    format!(
        "From: =?utf-8?B?{}?= <citizen{n}@example.kz>\r\nTo: trust@example.kz\r\n\
         Subject: Appeal {n}\r\nMessage-ID: <appeal-{n}@example.kz>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0500\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Әкімдікте пара сұрады. Взятка в акимате, случай {n}.\r\n",
        base64("Әлия Нұрланқызы")
    )
    .into_bytes()
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn wait_inbox_empty(dovecot: &Dovecot, limit: Duration) {
    eventually(limit, "an empty INBOX", async || {
        let count = dovecot.message_count("INBOX");
        ok_if(count == 0, format!("{count} in the INBOX"))
    })
    .await;
}

#[tokio::test]
async fn new_mail_while_idle_is_registered_once_and_moved_unread() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    let intake = start_intake(&dovecot, &db.url, "").await;
    until(Duration::from_secs(30), "the first poll", async || {
        intake.app.mailbox.status.snapshot().last_reached.is_some()
    })
    .await;
    // Now idling: the new mail must wake it well before the (20 min) renewal.
    dovecot.append("INBOX", &mail(1));
    dovecot.append("INBOX", &mail(2));
    wait_stored(&db.db, 2, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    assert_eq!(dovecot.message_count(PROCESSED), 2);
    for uid in dovecot.list_uids(PROCESSED) {
        assert!(
            !dovecot.flags(PROCESSED, uid).iter().any(|f| f == "\\Seen"),
            "fetched with BODY.PEEK[]: not marked read"
        );
    }
    let appeals = intake.appeals().await;
    assert_eq!(appeals.len(), 2);
    let first = &appeals[0];
    assert_eq!(first.channel, Channel::Email);
    assert_eq!(first.reporter.email.as_deref(), Some("citizen1@example.kz"));
    assert_eq!(first.reporter.name.as_deref(), Some("Әлия Нұрланқызы"));
    assert!(
        first
            .substance
            .as_deref()
            .unwrap_or_default()
            .contains("Әкімдікте")
    );
    let health = intake.app.mailbox.status.snapshot();
    assert!(health.enabled && health.last_error.is_none(), "{health:?}");
    intake.stop().await;
}

fn cp1251_mail() -> Vec<u8> {
    let mut raw = b"From: ivanov@example.kz\r\nSubject: =?windows-1251?B?z/Du8uXx8g==?=\r\n\
        Message-ID: <cp1251@example.kz>\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0]); // Взятка
    raw.extend_from_slice(b"\r\n");
    raw
}

fn koi8_mail() -> Vec<u8> {
    let mut raw = b"From: petrov@example.kz\r\nSubject: koi8\r\nMessage-ID: <koi8@example.kz>\r\n\
        Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&[0xf7, 0xda, 0xd1, 0xd4, 0xcb, 0xc1]); // Взятка
    raw.extend_from_slice(b"\r\n");
    raw
}

const HTML_MAIL: &str = "From: html@example.kz\r\nSubject: html\r\nMessage-ID: <html@example.kz>\r\n\
    Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
    <html><body><p>=D2=9A=D0=B0=D0=BB=D0=B0 <b>=D3=99=D0=BA=D1=96=D0=BC=D0=B4=D1=96=D0=B3=D1=96</b></p></body></html>\r\n";

const ATTACHMENT_MAIL: &str = "From: files@example.kz\r\nSubject: scan\r\nMessage-ID: <att@example.kz>\r\n\
    MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
    Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
    See the scan.\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the scan.</p>\r\n--b2--\r\n\
    --b1\r\nContent-Type: application/pdf; name=\"=?utf-8?B?0LDQutGCLnBkZg==?=\"\r\n\
    Content-Disposition: attachment; filename=\"=?utf-8?B?0LDQutGCLnBkZg==?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
    JVBERi0xLjQK\r\n--b1--\r\n";

#[tokio::test]
async fn charsets_html_attachments_malformed_and_oversized_are_all_registered() {
    charsets_html_attachments_malformed_and_oversized(TestDb::sqlite().await).await;
}

/// The same on PostgreSQL: raw mail and attachments in BYTEA, text in every charset.
#[tokio::test]
async fn charsets_html_attachments_malformed_and_oversized_are_all_registered_on_postgres() {
    charsets_html_attachments_malformed_and_oversized(TestDb::postgres().await).await;
}

async fn charsets_html_attachments_malformed_and_oversized(db: TestDb) {
    let dovecot = Dovecot::start();
    dovecot.append("INBOX", &cp1251_mail());
    dovecot.append("INBOX", &koi8_mail());
    dovecot.append("INBOX", HTML_MAIL.as_bytes());
    dovecot.append("INBOX", ATTACHMENT_MAIL.as_bytes());
    dovecot.append("INBOX", b"this is not\r\nan e-mail at all\r\n");
    let big = format!(
        "From: big@example.kz\r\nSubject: big\r\nMessage-ID: <big@example.kz>\r\n\r\n{}\r\n",
        "x".repeat(8000)
    );
    dovecot.append("INBOX", big.as_bytes());
    let intake = start_intake(&dovecot, &db.url, "max_message_bytes = 4096").await;
    wait_stored(&db.db, 6, Duration::from_secs(60)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    let messages = stored(&db.db).await;
    assert!(messages.iter().all(|m| m.disposition == "appeal"));
    assert_eq!(email_appeals(&intake.app).await, 6);
    let by_id = |id: &str| {
        messages
            .iter()
            .find(|m| m.message_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} stored"))
    };
    assert_eq!(
        by_id("cp1251@example.kz").subject.as_deref(),
        Some("Протест")
    );
    assert_eq!(
        by_id("cp1251@example.kz").body_text.as_deref(),
        Some("Взятка")
    );
    assert_eq!(
        by_id("koi8@example.kz").body_text.as_deref(),
        Some("Взятка")
    );
    let html = by_id("html@example.kz")
        .body_text
        .clone()
        .unwrap_or_default();
    assert!(
        html.contains("Қала") && html.contains("әкімдігі") && !html.contains('<'),
        "{html}"
    );
    let att = by_id("att@example.kz");
    let attachments = store::attachments(&db.db, store::MessagePk(att.id))
        .await
        .unwrap();
    assert_eq!(
        attachments,
        vec![(Some("акт.pdf".to_owned()), "application/pdf".to_owned(), 9)]
    );
    let big = by_id("big@example.kz");
    assert!(
        big.problem
            .as_deref()
            .unwrap_or_default()
            .starts_with("oversized")
    );
    // Over the limit by the server's RFC822.SIZE: only the header was fetched
    // (and kept); the size is the whole message's; the message itself stays on
    // the server, settled like any other.
    let raw = store::raw(&db.db, store::MessagePk(big.id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        raw.starts_with(b"From: big@example.kz") && raw.ends_with(b"\r\n\r\n"),
        "the header only: {}",
        String::from_utf8_lossy(&raw)
    );
    assert!(big.size > 8000, "the whole message's size: {}", big.size);
    assert!(
        big.notes
            .as_deref()
            .unwrap_or_default()
            .contains("only the header was fetched"),
        "{big:?}"
    );
    assert_eq!(
        dovecot.message_count(PROCESSED),
        6,
        "every message, the big one too, is settled on the server"
    );
    let bad = messages
        .iter()
        .find(|m| m.message_id.is_none())
        .expect("malformed stored");
    assert!(
        bad.problem
            .as_deref()
            .unwrap_or_default()
            .starts_with("unparseable")
    );
    let raw = store::raw(&db.db, store::MessagePk(bad.id))
        .await
        .unwrap()
        .unwrap();
    assert!(raw.starts_with(b"this is not"));
    intake.stop().await;
}

/// A delivery report as an mbox file holds it (the shape of CPython's test
/// corpus `msg_25.txt`): the `From ` separator line first.
const MBOX_REPORT_BOUNCE: &str = "From MAILER-DAEMON Fri Apr 06 16:46:09 2001\n\
    Received: from localhost by mail.example.com; Fri, 6 Apr 2001 16:46:09 +0000\n\
    Date: Fri, 6 Apr 2001 16:46:09 +0000\n\
    From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\n\
    To: someone@example.kz\n\
    Subject: Mail delivery failed: returning message to sender\n\
    Message-Id: <bounce-25@mail.example.com>\n\
    MIME-Version: 1.0\n\
    Content-Type: multipart/report; report-type=delivery-status; boundary=\"b25\"\n\n\
    --b25\nContent-Type: text/plain\n\nThis message was created automatically.\n\
    --b25\nContent-Type: message/delivery-status\n\nAction: failed\nStatus: 5.1.1\n--b25--\n";

/// The same without a report part (the shape of `msg_43.txt`): a plain-text
/// bounce known by its sender.
const MBOX_PLAIN_BOUNCE: &str = "From MAILER-DAEMON Tue Sep 18 10:12:14 2001\n\
    Date: Tue, 18 Sep 2001 10:12:14 +0200\n\
    From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n\
    To: someone@example.kz\n\
    Subject: Returned mail: User unknown\n\
    Message-Id: <bounce-43@mx.example.org>\n\n\
       ----- The following addresses had permanent fatal errors -----\n\
    <nobody@example.org>\n";

/// An old Russian client's mail: raw windows-1251 bytes in From and Subject (no
/// RFC 2047), the body declaring `charset=windows-1251`.
fn raw_cp1251_header_mail() -> Vec<u8> {
    let mut raw = b"From: ".to_vec();
    raw.extend_from_slice(&[0xc8, 0xe2, 0xe0, 0xed, 0xee, 0xe2]); // Иванов
    raw.extend_from_slice(b" <ivanov@example.kz>\r\nSubject: ");
    raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0]); // Взятка
    raw.extend_from_slice(
        b"\r\nMessage-ID: <raw1251@example.kz>\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n",
    );
    raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0, 0x0d, 0x0a]);
    raw
}

/// Real mail that went wrong in a corpus run: mbox-separated bounces are read as
/// bounces (kept, not registered), and raw 8-bit header bytes are decoded with the
/// body's charset, not turned into U+FFFD; both repairs are noted.
#[tokio::test]
async fn mbox_separated_bounces_and_raw_cp1251_headers_are_read() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    dovecot.append("INBOX", MBOX_REPORT_BOUNCE.as_bytes());
    dovecot.append("INBOX", MBOX_PLAIN_BOUNCE.as_bytes());
    dovecot.append("INBOX", &raw_cp1251_header_mail());
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 3, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    let messages = stored(&db.db).await;
    for id in ["bounce-25@mail.example.com", "bounce-43@mx.example.org"] {
        let m = messages
            .iter()
            .find(|m| m.message_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} read: {messages:#?}"));
        assert_eq!(m.disposition, "automatic", "{m:#?}");
        assert_eq!(m.automatic_kind.as_deref(), Some("bounce"), "{m:#?}");
        assert_eq!(m.problem, None, "{m:#?}");
        assert!(
            m.notes.as_deref().unwrap_or_default().contains("mbox"),
            "{m:#?}"
        );
    }
    let m = messages
        .iter()
        .find(|m| m.message_id.as_deref() == Some("raw1251@example.kz"))
        .expect("the windows-1251 mail stored");
    assert_eq!(m.disposition, "appeal");
    assert_eq!(m.subject.as_deref(), Some("Взятка"));
    assert_eq!(m.body_text.as_deref(), Some("Взятка"));
    assert!(
        m.notes
            .as_deref()
            .unwrap_or_default()
            .contains("windows-1251"),
        "{m:#?}"
    );
    let appeals = intake.appeals().await;
    assert_eq!(appeals.len(), 1, "the bounces are not appeals");
    assert_eq!(appeals[0].reporter.name.as_deref(), Some("Иванов"));
    intake.stop().await;
}

/// An old client's letter whose 8-bit body is windows-1251 and declares no
/// charset anywhere (issue 19): the body is read with the guessed charset, as
/// the header is, not turned into U+FFFD, and the guess is noted; the raw bytes
/// are kept as received.
#[tokio::test]
async fn a_cp1251_body_without_a_charset_is_read_with_a_guessed_charset() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    let mut raw = b"From: old-client@example.kz\r\nSubject: report\r\n\
        Message-ID: <nocharset@example.kz>\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        .to_vec();
    // "Взятка в отделе снабжения" in windows-1251.
    raw.extend_from_slice(&[
        0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0, 0x20, 0xe2, 0x20, 0xee, 0xf2, 0xe4, 0xe5, 0xeb, 0xe5,
        0x20, 0xf1, 0xed, 0xe0, 0xe1, 0xe6, 0xe5, 0xed, 0xe8, 0xff, 0x0d, 0x0a,
    ]);
    dovecot.append("INBOX", &raw);
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 1, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    let messages = stored(&db.db).await;
    let m = messages
        .iter()
        .find(|m| m.message_id.as_deref() == Some("nocharset@example.kz"))
        .expect("the mail stored");
    assert_eq!(m.disposition, "appeal", "{m:#?}");
    assert_eq!(
        m.body_text.as_deref(),
        Some("Взятка в отделе снабжения"),
        "{m:#?}"
    );
    assert!(
        m.notes.as_deref().unwrap_or_default().contains(
            "raw 8-bit bytes in the body decoded as windows-1251 (guessed; the body declares no charset)"
        ),
        "{m:#?}"
    );
    assert_eq!(
        m.sha256,
        hex::encode(Sha256::digest(&raw)),
        "the raw bytes as received"
    );
    assert_eq!(intake.appeals().await.len(), 1);
    intake.stop().await;
}

#[tokio::test]
async fn bounces_auto_replies_and_lists_are_kept_and_replies_become_correspondence() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    dovecot.append("INBOX", &mail(1));
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 1, Duration::from_secs(30)).await;
    let appeal = intake.appeals().await[0].clone();
    let number = appeal.registration_number.to_string();

    let bounce = "From: MAILER-DAEMON@mx.example.kz\r\nReturn-Path: <>\r\nSubject: Undelivered\r\n\
        Message-ID: <bounce@mx>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n\
        --x\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--x--\r\n";
    let ooo = "From: someone@example.kz\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\
        Message-ID: <ooo@example.kz>\r\n\r\nI am away.\r\n";
    let list = "From: news@example.kz\r\nSubject: digest\r\nList-Id: <news.example.kz>\r\n\
        Precedence: bulk\r\nMessage-ID: <list@example.kz>\r\n\r\nNews.\r\n";
    let reply = format!(
        "From: citizen1@example.kz\r\nSubject: Re: Appeal registered No. {number}\r\n\
         Message-ID: <reply@example.kz>\r\nIn-Reply-To: <senim-ack.{number}.abc@senim.invalid>\r\n\r\nMore details.\r\n"
    );
    let follow_up = "From: citizen1@example.kz\r\nSubject: Re: Appeal 1\r\nMessage-ID: <follow@example.kz>\r\n\
        References: <appeal-1@example.kz>\r\n\r\nEven more.\r\n";
    for raw in [bounce, ooo, list, &reply, follow_up] {
        dovecot.append("INBOX", raw.as_bytes());
    }
    wait_stored(&db.db, 6, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    assert_eq!(
        email_appeals(&intake.app).await,
        1,
        "no appeal for any of them"
    );
    let messages = stored(&db.db).await;
    let kind = |id: &str| {
        let m = messages
            .iter()
            .find(|m| m.message_id.as_deref() == Some(id))
            .expect("stored");
        (m.disposition.clone(), m.automatic_kind.clone(), m.appeal_id)
    };
    assert_eq!(
        kind("bounce@mx"),
        ("automatic".into(), Some("bounce".into()), None)
    );
    assert_eq!(
        kind("ooo@example.kz"),
        ("automatic".into(), Some("auto_reply".into()), None)
    );
    assert_eq!(
        kind("list@example.kz"),
        ("automatic".into(), Some("list".into()), None)
    );
    assert_eq!(
        kind("reply@example.kz"),
        ("correspondence".into(), None, Some(appeal.id.0))
    );
    assert_eq!(
        kind("follow@example.kz"),
        ("correspondence".into(), None, Some(appeal.id.0))
    );
    // Both are in the appeal's audit history (by reference, not content), and the
    // chain still verifies.
    let history = intake.app.journal.history(appeal.id).await.unwrap();
    let added = support::scene::events_of(&history, "correspondence_added");
    assert_eq!(added.len(), 2, "{history:?}");
    assert!(
        added
            .iter()
            .all(|e| e.actor == "mailbox" && !e.detail.contains("More details"))
    );
    assert!(intake.app.journal.verify().await.unwrap().is_intact());
    intake.stop().await;
}

/// Registration numbers are guessable: mail naming one from an address other than
/// the reporter's is kept as correspondence marked "unverified sender" in the audit
/// history, and the managers are told (by number, never the sender or the text).
/// The reporter's own follow-up is correspondence as before, unmarked.
#[tokio::test]
async fn mail_about_an_appeal_from_another_address_is_unverified_and_the_manager_is_told() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    dovecot.append("INBOX", &mail(1));
    let intake = start_intake(
        &dovecot,
        &db.url,
        "\n[alerts]\nmanagers = [\"compliance@kazstandard.kz\"]\n",
    )
    .await;
    wait_stored(&db.db, 1, Duration::from_secs(30)).await;
    let appeal = intake.appeals().await[0].clone();
    let number = appeal.registration_number.to_string();
    let stranger = format!(
        "From: stranger@evil.example\r\nSubject: About {number}: what became of it?\r\n\
         Message-ID: <stranger@evil.example>\r\n\r\nWho reported this?\r\n"
    );
    let own = format!(
        "From: CITIZEN1@example.kz\r\nSubject: Re: {number}\r\nMessage-ID: <own@example.kz>\r\n\r\nOne more detail.\r\n"
    );
    dovecot.append("INBOX", stranger.as_bytes());
    dovecot.append("INBOX", own.as_bytes());
    wait_stored(&db.db, 3, Duration::from_secs(30)).await;
    assert_eq!(
        email_appeals(&intake.app).await,
        1,
        "both are correspondence"
    );
    let history = intake.app.journal.history(appeal.id).await.unwrap();
    let added: Vec<&str> = history
        .iter()
        .filter(|e| e.kind == "correspondence_added")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(added.len(), 2, "{history:?}");
    assert_eq!(
        added
            .iter()
            .filter(|d| d.contains(r#""unverified_sender":true"#))
            .count(),
        1,
        "{added:?}"
    );
    let notices: Vec<_> = intake
        .app
        .outbox
        .list(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == senim::outbox::MailKind::UnverifiedCorrespondence.as_str())
        .collect();
    assert_eq!(notices.len(), 1, "one notice, for the stranger's mail");
    assert_eq!(notices[0].recipient, "compliance@kazstandard.kz");
    assert_eq!(notices[0].reference, number);
    assert!(intake.app.journal.verify().await.unwrap().is_intact());
    intake.stop().await;
}

/// A reply fetched in the same batch as its original is correspondence, as it
/// is when the original came in an earlier poll: the outcome does not depend on
/// how the messages were batched.
#[tokio::test]
async fn a_reply_in_the_same_batch_as_its_original_is_correspondence() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    let reply = "From: citizen1@example.kz\r\nSubject: Re: Appeal 1\r\nMessage-ID: <reply-1@example.kz>\r\n\
         In-Reply-To: <appeal-1@example.kz>\r\nReferences: <appeal-1@example.kz>\r\n\r\nMore details.\r\n";
    for raw in [mail(1), reply.as_bytes().to_vec(), mail(2)] {
        dovecot.append("INBOX", &raw);
    }
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 3, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    let messages = stored(&db.db).await;
    let of = |id: &str| {
        let m = messages
            .iter()
            .find(|m| m.message_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} stored"));
        (m.disposition.clone(), m.appeal_id)
    };
    let (disposition, appeal) = of("appeal-1@example.kz");
    assert_eq!(disposition, "appeal");
    assert_eq!(
        of("reply-1@example.kz"),
        ("correspondence".to_owned(), appeal)
    );
    assert_eq!(email_appeals(&intake.app).await, 2);
    intake.stop().await;
}

#[tokio::test]
async fn without_move_it_copies_deletes_and_expunges() {
    let dovecot = Dovecot::start_with(DovecotOptions {
        move_capability: false,
        idle: false,
        ..DovecotOptions::default()
    });
    for n in 0..5 {
        dovecot.append("INBOX", &mail(n));
    }
    let db = TestDb::sqlite().await;
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 5, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    assert_eq!(dovecot.message_count(PROCESSED), 5);
    // Polling (no IDLE): a later message is still taken.
    dovecot.append("INBOX", &mail(6));
    wait_stored(&db.db, 6, Duration::from_secs(30)).await;
    assert_eq!(email_appeals(&intake.app).await, 6);
    intake.stop().await;
}

#[tokio::test]
async fn uidvalidity_reset_and_copies_back_register_nothing_twice() {
    let dovecot = Dovecot::start();
    for n in 0..3 {
        dovecot.append("INBOX", &mail(n));
    }
    let db = TestDb::sqlite().await;
    // Flag mode leaves them in the INBOX, as a crash before the MOVE would.
    let intake = start_intake(&dovecot, &db.url, "after_registration = \"flag\"").await;
    wait_stored(&db.db, 3, Duration::from_secs(30)).await;
    intake.stop().await;
    assert_eq!(dovecot.message_count("INBOX"), 3);
    dovecot.reset_uidvalidity("INBOX");
    // A registered message copied back into the INBOX, and a new one.
    dovecot.append("INBOX", &mail(0));
    dovecot.append("INBOX", &mail(9));
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    assert_eq!(email_appeals(&intake.app).await, 4);
    assert_eq!(stored(&db.db).await.len(), 4);
    assert_eq!(dovecot.message_count(PROCESSED), 5);
    intake.stop().await;
}

#[tokio::test]
async fn a_burst_with_the_server_restarted_mid_fetch_is_registered_exactly_once() {
    const N: usize = 2000;
    let mut dovecot = Dovecot::start();
    for n in 0..N {
        dovecot.append("INBOX", &mail(n));
    }
    let db = TestDb::sqlite().await;
    let intake = start_intake(&dovecot, &db.url, "batch_size = 50").await;
    wait_stored(&db.db, 200, Duration::from_secs(120)).await;
    dovecot.restart();
    wait_stored(&db.db, N, Duration::from_secs(300)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(60)).await;
    assert_eq!(email_appeals(&intake.app).await, N);
    assert_eq!(stored(&db.db).await.len(), N);
    assert_eq!(dovecot.message_count(PROCESSED), N);
    // Registered batch by batch under one audit-chain lock each: the chain holds.
    assert!(intake.app.journal.verify().await.unwrap().is_intact());
    let health = intake.app.mailbox.status.snapshot();
    assert!(
        health.last_error.is_some(),
        "the restart was noticed: {health:?}"
    );
    intake.stop().await;
}

#[tokio::test]
async fn two_senims_on_one_mailbox_register_nothing_twice_on_postgres() {
    let dovecot = Dovecot::start();
    for n in 0..300 {
        dovecot.append("INBOX", &mail(n));
    }
    let db = TestDb::postgres().await;
    let a = start_intake(&dovecot, &db.url, "batch_size = 20").await;
    let b = start_intake(&dovecot, &db.url, "batch_size = 20").await;
    wait_inbox_empty(&dovecot, Duration::from_secs(180)).await;
    // Both stopped first: a late MOVE of a message the other had already moved
    // (a server may copy what another session just expunged) would show below.
    let journal = a.app.journal.clone();
    a.stop().await;
    b.stop().await;
    let appeals = journal
        .list(&ListFilter {
            channel: Some(Channel::Email),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(appeals.len(), 300);
    assert!(journal.verify().await.unwrap().is_intact());
    assert_eq!(stored(&db.db).await.len(), 300);
    assert_eq!(dovecot.message_count(PROCESSED), 300, "each moved once");
}

#[tokio::test]
async fn kill_9_of_the_daemon_during_a_burst_then_restart_registers_exactly_once() {
    const N: usize = 400;
    let dovecot = Dovecot::start();
    for n in 0..N {
        dovecot.append("INBOX", &mail(n));
    }
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), "", &mailbox_toml(&dovecot, "batch_size = 10"));
    let url = format!("sqlite://{}", dir.path().join("data/senim.db").display());
    let db = support::database::connect(&url).await;
    wait_stored(&db, 50, Duration::from_secs(120)).await;
    let (config, port) = (daemon.config.clone(), daemon.port);
    daemon.kill9();
    assert!(dovecot.message_count("INBOX") > 0, "killed while in flight");
    let daemon = Daemon::start_with_config(dir.path(), config, port);
    wait_inbox_empty(&dovecot, Duration::from_secs(180)).await;
    let messages = stored(&db).await;
    assert_eq!(messages.len(), N);
    let mut ids: Vec<_> = messages
        .iter()
        .filter_map(|m| m.message_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "each message stored once");
    assert_eq!(dovecot.message_count(PROCESSED), N);
    let ready = reqwest::get(daemon.metrics_url("/readyz")).await.unwrap();
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(body["mailbox"]["last_reached"].is_string(), "{body}");
    daemon.terminate();
}

/// With no `mailbox.ack.from`, the receipt is sent from `smtp.from`, and its
/// Message-ID names that address's domain too (not a made-up one).
#[tokio::test]
async fn a_receipt_without_its_own_sender_is_from_smtp_from_in_both_headers() {
    let dovecot = Dovecot::start();
    let smtp = support::smtp::SmtpServer::start(support::smtp::SmtpOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"senim@kazstandard.kz\"\npoll_seconds = 1\n",
        mailbox_toml(&dovecot, ""),
        smtp.port()
    );
    let daemon = Daemon::start(dir.path(), "", &extra);
    dovecot.append("INBOX", &mail(1));
    let received = smtp.wait_for_messages(1, Duration::from_secs(60));
    let parsed = mail_parser::MessageParser::default()
        .parse(&received[0].data)
        .expect("a parsable receipt");
    let from = parsed
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address());
    assert_eq!(from, Some("senim@kazstandard.kz"));
    let id = parsed.message_id().unwrap_or_default();
    assert!(id.ends_with("@kazstandard.kz"), "Message-ID {id}");
    daemon.terminate();
}

/// The receipt (issue 5): the real daemon reads the mailbox and the citizen gets a
/// receipt over real SMTP, threaded to their message and marked auto-replied; a
/// second message from the same sender within the period, and an out-of-office
/// reply, get none.
#[tokio::test]
async fn the_sender_gets_one_threaded_receipt_through_the_outbox() {
    let dovecot = Dovecot::start();
    let smtp = support::smtp::SmtpServer::start(support::smtp::SmtpOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}\n[mailbox.ack]\nlanguages = [\"kk\", \"ru\"]\nfrom = \"Senim <trust@example.kz>\"\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"senim@example.kz\"\npoll_seconds = 1\n",
        mailbox_toml(&dovecot, ""),
        smtp.port()
    );
    let db = TestDb::sqlite().await;
    let daemon = Daemon::start(dir.path(), &db.url, &extra);
    dovecot.append("INBOX", &mail(1));
    let received = smtp.wait_for_messages(1, Duration::from_secs(60));
    assert_eq!(received[0].rcpt_to, ["citizen1@example.kz"]);
    let text = String::from_utf8_lossy(&received[0].data).into_owned();
    assert!(
        text.contains("In-Reply-To: <appeal-1@example.kz>"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(
        text.contains("TL-"),
        "the receipt names the registration number: {text}"
    );
    // The reply deadline was stored with the registration (no read or sweep
    // made it), and the receipt promises that very date.
    let due: Vec<chrono::NaiveDate> =
        sqlx::query_scalar("SELECT due_on FROM deadlines WHERE kind = 'reply'")
            .fetch_all(&sqlx::SqlitePool::connect(&db.url).await.unwrap())
            .await
            .unwrap();
    assert_eq!(due.len(), 1, "one reply deadline");
    let body = mail_parser::MessageParser::default()
        .parse(&received[0].data)
        .and_then(|m| m.body_text(0).map(|b| b.into_owned()))
        .unwrap_or_default();
    assert!(
        body.contains(&format!("до {}", due[0].format("%d.%m.%Y"))),
        "the receipt names the stored deadline {}: {body}",
        due[0]
    );

    // The same sender again, and an out-of-office reply: registered or kept, no receipt.
    let again = String::from_utf8(mail(1))
        .unwrap()
        .replace("appeal-1@", "appeal-1b@");
    dovecot.append("INBOX", again.as_bytes());
    dovecot.append(
        "INBOX",
        b"From: away@example.kz\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\
          Message-ID: <ooo2@example.kz>\r\n\r\nAway.\r\n",
    );
    wait_inbox_empty(&dovecot, Duration::from_secs(60)).await;
    // Whatever was queued (wrongly or not) has been sent.
    support::senim::wait_outbox_settled(&daemon.config, Duration::from_secs(60));
    assert_eq!(
        smtp.messages().len(),
        1,
        "one receipt per sender per period, none to auto-replies"
    );
    assert!(
        !daemon.logs().contains("citizen1@example.kz"),
        "no address in the logs"
    );
    // Two appeals registered (the out-of-office reply is none), each counted once.
    let metrics = metrics(&daemon).await;
    assert!(
        metrics.contains("senim_appeals_registered_total{channel=\"email\"} 2"),
        "{metrics}"
    );
}

/// SIGTERM while the receipt's SMTP transaction hangs: the daemon stops within its
/// grace and hands the mail back (`pending`, due at once), so the next start of
/// any Senim process (here another instance, on a working server) sends it without
/// waiting for the first one's claim to run out.
#[tokio::test]
async fn sigterm_during_an_smtp_transaction_leaves_the_mail_due_for_the_next_start() {
    let dovecot = Dovecot::start();
    let stalling = support::smtp::SmtpServer::start_stalling_data();
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp_toml = |port: u16| {
        format!(
            "{}\n[mailbox.ack]\nfrom = \"Senim <trust@example.kz>\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
             from = \"senim@example.kz\"\npoll_seconds = 1\ntimeout_seconds = 120\n",
            mailbox_toml(&dovecot, "")
        )
    };
    let daemon = Daemon::start(dir.path(), &db.url, &smtp_toml(stalling.port()));
    dovecot.append("INBOX", &mail(1));
    stalling.wait_stalled(Duration::from_secs(60));
    let config = daemon.config.clone();
    assert!(daemon.terminate().success());

    let output = support::senim::run_cli(&config, &["outbox", "list", "--json"]);
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["state"], "pending", "{rows:?}");
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(rows[0]["next_attempt_at"].clone()).unwrap();
    assert!(due <= chrono::Utc::now(), "due at once: {rows:?}");

    // Another instance (its own data directory) on a working server sends it.
    let smtp = support::smtp::SmtpServer::start(support::smtp::SmtpOptions::default());
    let other = tempfile::tempdir().unwrap();
    let _daemon = Daemon::start(other.path(), &db.url, &smtp_toml(smtp.port()));
    let received = smtp.wait_for_messages(1, Duration::from_secs(30));
    assert_eq!(received[0].rcpt_to, ["citizen1@example.kz"]);
}

/// Two different messages under one Message-ID (a redelivery with other headers, or
/// a mailer reusing ids): one appeal, and both messages kept with their bytes.
#[tokio::test]
async fn a_second_message_under_a_known_message_id_is_kept_as_correspondence() {
    let dovecot = Dovecot::start();
    let db = TestDb::sqlite().await;
    dovecot.append("INBOX", &mail(7));
    let second = String::from_utf8(mail(7))
        .unwrap()
        .replace("случай 7", "случай 7, дополнение");
    dovecot.append("INBOX", second.as_bytes());
    let intake = start_intake(&dovecot, &db.url, "").await;
    wait_stored(&db.db, 2, Duration::from_secs(30)).await;
    wait_inbox_empty(&dovecot, Duration::from_secs(30)).await;
    assert_eq!(
        email_appeals(&intake.app).await,
        1,
        "one appeal for one Message-ID"
    );
    let messages = stored(&db.db).await;
    let dispositions: Vec<_> = messages.iter().map(|m| m.disposition.clone()).collect();
    assert_eq!(dispositions, ["appeal", "correspondence"]);
    assert_eq!(
        messages[0].appeal_id, messages[1].appeal_id,
        "attached to the same appeal"
    );
    intake.stop().await;
}
