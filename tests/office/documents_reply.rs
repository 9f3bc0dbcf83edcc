//! The reply to the citizen and the extension notice (issue 12 §2, APPK Art.
//! 76), against the daemon assembled in the test's process, its mail to the
//! tests' SMTP server, and the real `senim` binary: an e-mail reply reaches the
//! reporter with its outgoing number in the subject, the reply deadline is met
//! and the appeal `replied`, the chain verifies and never holds the reply's
//! text; a postal reply's PDF says the number in Kazakh and Russian; the
//! extension notice meets the extension notice's deadline. On the console, the
//! postal reply comes back as PDF and DOCX in one ZIP (or either alone), and
//! the extension notice is made on the revealed appeal's page (in a real
//! browser for its screenshot) while its deadline is open, recording
//! `citizen_notified`.

use crate::support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use senim::cases::Act;
use senim::deadlines::{Event, Kind};
use senim::documents::{ReplyInput, ReplyMethod};
use senim::journal::{Appeal, NewAppeal, Reporter, SourceRef, Status};
use support::app::TestApp;
use support::browser::{Driver, screenshot};
use support::console::{
    PASSWORD, click, console_person, csrf_of, download_disposition, http_login, log_in,
    office_smtp, page_text, session_post, source_with,
};
use support::eventually::eventually;
use support::scene::new_appeal;
use support::senim::output_text as text;
use support::senim::{Person, Served, command, person};
use support::time::astana;

const CITIZEN: &str = "asqar@example.kz";
const SECRET_TEXT: &str =
    "Тексеру нәтижесінде фактілер расталмады. Проверка фактов не подтвердила.";

const DOCUMENTS: &str = r#"
[documents]
enterprise_name = { kk = "«Қазақстан стандарттау және метрология институты» РМК", ru = "РГП «Казахстанский институт стандартизации и метрологии»" }
director_name = "Ж. С. Жаһанова"
director_title = { kk = "Бас директор", ru = "Генеральный директор" }
"#;

fn now() -> DateTime<Utc> {
    astana(2026, 12, 16, 11, 0)
}

async fn register(d: &TestApp, key: &str) -> Appeal {
    d.app
        .journal
        .register(NewAppeal {
            reporter: Reporter {
                name: Some("Асқар Ахметов".into()),
                postal_address: Some("010000, Астана қ.; Абай даңғылы, 1".into()),
                email: Some(CITIZEN.into()),
                ..Reporter::default()
            },
            subject: Some("Пара".into()),
            substance: Some("Бастық пара алды.".into()),
            ..new_appeal(SourceRef::new("test", key), now())
        })
        .await
        .expect("register")
        .into_appeal()
}

fn cli(config: &Path, who: &Person, args: &[&str]) -> Output {
    let mut c = command();
    c.arg("--config")
        .arg(config)
        .args(["--as", &who.login])
        .args(args)
        .env("SENIM_TOKEN", &who.token)
        .env("TEST_SENIM_CLOCK_START", "2026-12-16T11:00:00+05:00");
    c.output().expect("run senim")
}

/// The manager extends the reply to 30 January 2027 for `reason`.
async fn extend_reply(d: &TestApp, appeal: &Appeal, reason: &str) {
    let until = chrono::NaiveDate::from_ymd_opt(2027, 1, 30).unwrap();
    d.app
        .case()
        .record(
            appeal.id,
            &Act::Deadline(Event::ReplyExtended {
                until,
                reason: reason.into(),
                reference: "приказ № 7 от 30.11.2026".into(),
            }),
            &support::rules::permitted_as(senim::rulebook::Action::ExtendReply, "person:marat"),
            d.app.clock.now(),
            d.app.today(),
        )
        .await
        .unwrap();
}

async fn met(d: &TestApp, appeal: &Appeal, kind: Kind) -> bool {
    d.app
        .deadlines
        .of_appeal(appeal.id)
        .await
        .unwrap()
        .iter()
        .any(|dl| dl.kind == kind && dl.met_on.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_reaches_the_citizen_and_closes_the_deadline_without_its_text_in_the_chain() {
    let smtp = office_smtp();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}\n{DOCUMENTS}", support::console::config(Some(&smtp)));
    let d = TestApp::spawn(dir.path(), "", &extra, now()).await;
    let config = d.config.clone();
    let marat = person(&config, "marat", &["manager"]);

    // By e-mail: the mail, the deadline, the status.
    let appeal = register(&d, "reply-1").await;
    let documents = d.app.documents();
    let empty = ReplyInput {
        text: "  ".into(),
        method: ReplyMethod::Email,
        on: d.app.today(),
    };
    let refused = documents
        .reply(
            &appeal,
            &empty,
            &support::rules::acting::<senim::rulebook::rule::IssueDocuments>("person:marat"),
        )
        .await;
    assert!(
        refused.is_err_and(|e| e.to_string().starts_with("text:")),
        "an empty reply is refused naming the field"
    );
    // A sealed appeal given unopened has no address to read.
    let mut unopened = appeal.clone();
    unopened.reporter = Reporter::default();
    unopened.sealed = Some("digest".into());
    let refused = documents
        .reply(
            &unopened,
            &ReplyInput {
                text: SECRET_TEXT.into(),
                method: ReplyMethod::Email,
                on: d.app.today(),
            },
            &support::rules::acting::<senim::rulebook::rule::IssueDocuments>("person:marat"),
        )
        .await;
    assert!(
        refused.is_err_and(|e| e.to_string().starts_with("reporter.email:")
            && e.to_string().contains("open the appeal with your key")),
        "refused naming the field"
    );
    // The receipt the citizen got, which the reply is threaded to.
    let receipt = senim::outbox::Prebuilt {
        kind: senim::outbox::MailKind::Receipt,
        dedupe_key: "receipt:test".into(),
        reference: appeal.registration_number.to_string(),
        appeal_id: Some(appeal.id.0),
        from: "line@kazstandard.kz".parse().unwrap(),
        to: CITIZEN.parse().unwrap(),
        message_id: "<senim-ack.test@kazstandard.kz>".into(),
        message: lettre::Message::builder()
            .from("line@kazstandard.kz".parse().unwrap())
            .to(CITIZEN.parse().unwrap())
            .subject("receipt")
            .message_id(Some("<senim-ack.test@kazstandard.kz>".into()))
            .body(String::from("received"))
            .unwrap(),
    };
    let mut tx = d.app.journal.db().begin().await.unwrap();
    d.app
        .outbox
        .enqueue_prebuilt_in(&mut tx, &receipt, d.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let input = ReplyInput {
        text: SECRET_TEXT.into(),
        method: ReplyMethod::Email,
        on: d.app.today(),
    };
    let issued = documents
        .reply(
            &appeal,
            &input,
            &support::rules::acting::<senim::rulebook::rule::IssueDocuments>("person:marat"),
        )
        .await
        .unwrap();
    let number = issued.entry.number.clone();
    assert_eq!(number, "OUT-2026-0001");
    assert!(issued.contents.is_empty(), "an e-mail reply has no files");
    let what = format!("a reply reaching {CITIZEN}");
    let reply = eventually(Duration::from_secs(30), &what, async || {
        let all = smtp.messages();
        let recipients: Vec<_> = all.iter().map(|m| m.rcpt_to.clone()).collect();
        all.into_iter()
            .find(|m| {
                m.rcpt_to.iter().any(|r| r.contains(CITIZEN))
                    && m.data_str().contains("senim-reply.")
            })
            .ok_or(recipients)
    })
    .await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&reply.data)
        .unwrap();
    assert_eq!(
        parsed.subject(),
        Some(format!("Жауап / Ответ № {number}").as_str())
    );
    let raw = reply.data_str();
    assert!(
        raw.contains("In-Reply-To: <senim-ack.test@kazstandard.kz>"),
        "threaded to the receipt: {raw}"
    );
    assert!(
        parsed.body_text(0).unwrap().contains("Проверка фактов"),
        "the mail holds the text"
    );
    assert!(
        met(&d, &appeal, Kind::Reply).await,
        "the reply deadline is met"
    );
    let stored = d.app.journal.get(appeal.id).await.unwrap();
    assert_eq!(stored.status, Status::Replied);

    // The chain verifies, lists the document and the act, never the text.
    let verify = cli(&config, &marat, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    let events = d.app.journal.history(appeal.id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"document_issued") && kinds.contains(&"reply_sent"),
        "{kinds:?}"
    );
    let show = cli(
        &config,
        &marat,
        &["journal", "show", &appeal.registration_number.to_string()],
    );
    assert!(show.status.success(), "{}", text(&show));
    assert!(text(&show).contains(&number), "{}", text(&show));
    assert!(!text(&show).contains("Проверка фактов"), "{}", text(&show));
    assert!(events.iter().all(|e| !e.detail.contains("Проверка")));

    // The auditors' export has the reply's outgoing number and date, and who
    // worked the appeal; a reply recorded without a letter has its date alone.
    let other = register(&d, "reply-without-letter").await;
    d.app
        .case()
        .record(
            other.id,
            &Act::Deadline(Event::ReplySent { on: d.app.today() }),
            &support::rules::permitted(
                &Act::Deadline(Event::ReplySent { on: d.app.today() }),
                "person:marat",
            ),
            d.app.clock.now(),
            d.app.today(),
        )
        .await
        .unwrap();
    let export = cli(&config, &marat, &["journal", "export", "--format", "csv"]);
    assert!(export.status.success(), "{}", text(&export));
    let mut rows = csv::Reader::from_reader(export.stdout.as_slice());
    let header = rows.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let cell = |number: &str, column: &str| -> String {
        let at = header.iter().position(|h| h == column).expect(column);
        let row = records
            .iter()
            .find(|r| r.get(0) == Some(number))
            .unwrap_or_else(|| panic!("no row {number}: {records:?}"));
        row.get(at).unwrap_or_default().to_owned()
    };
    let first = appeal.registration_number.to_string();
    assert_eq!(cell(&first, "reply_number"), number);
    assert_eq!(cell(&first, "reply_date"), "2026-12-16");
    assert_eq!(cell(&first, "worked_by"), "marat");
    assert_eq!(cell(&first, "decision"), "");
    let second = other.registration_number.to_string();
    assert_eq!(cell(&second, "reply_number"), "");
    assert_eq!(cell(&second, "reply_date"), "2026-12-16");
    assert_eq!(cell(&second, "worked_by"), "marat");
    let exported = String::from_utf8_lossy(&export.stdout);
    for secret in ["Асқар", CITIZEN, "Бастық", SECRET_TEXT] {
        assert!(!exported.contains(secret), "{exported}");
    }

    // By post, at the command line: the letter's PDF, not kept in the register.
    let second = register(&d, "reply-2").await;
    let text_file = dir.path().join("reply.txt");
    std::fs::write(&text_file, SECRET_TEXT).unwrap();
    let out = dir.path().join("letters");
    let made = cli(
        &config,
        &marat,
        &[
            "documents",
            "reply",
            &second.registration_number.to_string(),
            "--method",
            "post",
            "--text-file",
            text_file.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    assert!(text(&made).contains("OUT-2026-0002"), "{}", text(&made));
    let pdf = out.join("OUT-2026-0002-reply.pdf");
    let pdftext = support::pdf::text(&pdf);
    for words in [
        "OUT-2026-0002",
        "Өтінішке жауап",
        "Ответ на обращение",
        "Ахметов",
        "Жаһанова",
    ] {
        assert!(pdftext.contains(words), "{words} in {pdftext}");
    }
    support::pdf::render_page(&pdf, "1", "reply");
    assert!(met(&d, &second, Kind::Reply).await);
    let entries = documents.list(Some(second.id), None).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].files.is_empty(), "the named letter is not kept");

    // The extension notice meets the extension notice's deadline.
    let third = register(&d, "reply-3").await;
    extend_reply(&d, &third, "a site inspection").await;
    assert!(!met(&d, &third, Kind::ExtensionNotice).await);
    let out = dir.path().join("notice");
    let made = cli(
        &config,
        &marat,
        &[
            "documents",
            "extension-notice",
            &third.registration_number.to_string(),
            "--until",
            "2027-01-30",
            "--reason",
            "жергілікті тексеру / выездная проверка",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    assert!(met(&d, &third, Kind::ExtensionNotice).await);
    support::pdf::render_page(
        &out.join("OUT-2026-0003-extension-notice.pdf"),
        "1",
        "extension-notice",
    );
    let pdftext = support::pdf::text(&out.join("OUT-2026-0003-extension-notice.pdf"));
    assert!(pdftext.contains("продлён до"), "{pdftext}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_replies_by_post_on_the_revealed_appeals_page() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}\n{DOCUMENTS}", support::console::config(None));
    let d = TestApp::spawn(dir.path(), "", &extra, now()).await;
    console_person(&d.config, dir.path(), "marat", &["manager"]);
    let appeal = register(&d, "console-reply").await;
    let (_, cookie) = http_login(&d, "marat", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let page_path = format!("/console/appeals/{}", appeal.id);
    let page = page_text(&d, &cookie, &page_path).await;
    assert!(!page.contains("id=\"reply\""), "no form before the reveal");
    let revealed = session_post(
        &d,
        &cookie,
        &format!("{page_path}/reveal"),
        &[("csrf", csrf_of(&page))],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(revealed.contains("id=\"reply\""), "{revealed}");
    let reply_path = format!("{page_path}/reply");
    let post = async |method: &'static str, format: &'static str| {
        let reply = [
            ("csrf", csrf_of(&revealed)),
            ("text", SECRET_TEXT.to_owned()),
            ("method", method.to_owned()),
            ("format", format.to_owned()),
        ];
        session_post(&d, &cookie, &reply_path, &reply).await
    };
    let r = post("pigeon", "zip").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("method:"));
    let r = post("post", "odt").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("format:"));
    assert!(!met(&d, &appeal, Kind::Reply).await, "nothing sent yet");
    // Both formats in one answer: the letter is kept nowhere else.
    let r = post("post", "zip").await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = download_disposition(&r, "application/zip");
    assert!(
        disposition.contains("OUT-2026-0001-reply.zip"),
        "{disposition}"
    );
    let (pdf_bytes, docx_bytes) = unzip_letter(&r.bytes().await.unwrap(), "OUT-2026-0001-reply");
    let pdf = dir.path().join("reply.pdf");
    std::fs::write(&pdf, pdf_bytes).unwrap();
    let pdftext = support::pdf::text(&pdf);
    assert!(
        pdftext.contains("OUT-2026-0001") && pdftext.contains("Ахметов"),
        "{pdftext}"
    );
    let xml = support::pdf::docx_xml(&docx_bytes);
    support::pdf::assert_says(
        "the DOCX",
        &xml,
        &[
            "OUT-2026-0001",
            "Ахметов",
            "Өтінішке жауап",
            "Ответ на обращение",
        ],
    );
    assert!(met(&d, &appeal, Kind::Reply).await);
    assert_eq!(
        d.app.journal.get(appeal.id).await.unwrap().status,
        Status::Replied
    );
    let report = d.app.journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    d.stop().await;
}

/// The revealed appeal's page, as the manager's session gets it.
async fn reveal(d: &TestApp, cookie: &str, page_path: &str) -> String {
    let page = page_text(&d, cookie, page_path).await;
    let reveal_path = format!("{page_path}/reveal");
    let revealed = session_post(d, cookie, &reveal_path, &[("csrf", csrf_of(&page))]).await;
    revealed.text().await.unwrap()
}

/// A letter's PDF and DOCX from the console's ZIP, named `stem`.
fn unzip_letter(bytes: &[u8], stem: &str) -> (Vec<u8>, Vec<u8>) {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    assert_eq!(zip.len(), 2, "the PDF and the DOCX");
    let mut read = |name: String| {
        let mut out = Vec::new();
        zip.by_name(&name)
            .unwrap_or_else(|_| panic!("{name} in the ZIP"))
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    (read(format!("{stem}.pdf")), read(format!("{stem}.docx")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_makes_the_extension_notice_on_the_revealed_appeals_page() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}\n{DOCUMENTS}", support::console::config(None));
    let d = TestApp::spawn(dir.path(), "", &extra, now()).await;
    console_person(&d.config, dir.path(), "marat", &["manager"]);
    console_person(&d.config, dir.path(), "aigerim", &["auditor"]);
    let appeal = register(&d, "console-notice").await;
    let page_path = format!("/console/appeals/{}", appeal.id);
    let (_, cookie) = http_login(&d, "marat", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let revealed = reveal(&d, &cookie, &page_path).await;
    assert!(
        revealed.contains("id=\"reply\"") && !revealed.contains("id=\"extension-notice\""),
        "no notice is owed before the reply is extended"
    );
    extend_reply(&d, &appeal, "выездная проверка").await;
    let revealed = reveal(&d, &cookie, &page_path).await;
    assert!(
        revealed.contains(
            "id=\"notice-until\" type=\"date\" name=\"until\" required value=\"2027-01-30\""
        ) && revealed.contains("value=\"выездная проверка\""),
        "the form, filled from the extended deadline: {revealed}"
    );

    // The form as a person sees it, in a real browser.
    let driver = Driver::start();
    let browser = driver.browser().await;
    log_in(&browser, &d, "marat", "ru").await;
    browser.goto(&d.url(&page_path)).await.unwrap();
    click(
        &browser,
        fantoccini::Locator::Css("form[action$='/reveal'] button"),
    )
    .await;
    let shown = source_with(&browser, "id=\"extension-notice\"").await;
    assert!(
        shown.contains("Уведомление о продлении срока ответа"),
        "{shown}"
    );
    click(&browser, fantoccini::Locator::Id("extension-notice")).await;
    screenshot(&browser, "appeal-extension-notice").await;
    browser.close().await.unwrap();

    let notice_path = format!("{page_path}/extension-notice");
    let post = async |cookie: String, csrf: String, until: &'static str, format: &'static str| {
        let notice = [
            ("csrf", csrf),
            ("until", until.to_owned()),
            ("reason", "выездная проверка".to_owned()),
            ("format", format.to_owned()),
        ];
        session_post(&d, &cookie, &notice_path, &notice).await
    };
    // The same role checks as the reply: not the auditor, not without the token.
    let (_, auditor) = http_login(&d, "aigerim", PASSWORD).await;
    let r = post(auditor.unwrap(), csrf_of(&revealed), "2027-01-30", "docx").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(cookie.clone(), "forged".into(), "2027-01-30", "docx").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF checked");
    let r = post(cookie.clone(), csrf_of(&revealed), "30.01.2027", "docx").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("until:"));
    assert!(!met(&d, &appeal, Kind::ExtensionNotice).await);

    let r = post(cookie.clone(), csrf_of(&revealed), "2027-01-30", "docx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[reqwest::header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let xml = support::pdf::docx_xml(&r.bytes().await.unwrap());
    support::pdf::assert_says(
        "the DOCX",
        &xml,
        &[
            "OUT-2026-0001",
            "Ахметов",
            "продлён до",
            "30\u{a0}января 2027",
            "выездная проверка",
        ],
    );
    assert!(met(&d, &appeal, Kind::ExtensionNotice).await);
    let history = d.app.journal.history(appeal.id).await.unwrap();
    let notified = support::scene::events_of(&history, "citizen_notified");
    assert_eq!(notified.len(), 1, "{history:?}");
    assert_eq!(notified[0].actor, "person:marat");
    assert!(
        history
            .iter()
            .any(|e| e.kind == "identity_disclosed" && e.detail.contains("extension_notice"))
    );
    assert!(
        history.iter().all(|e| !e.detail.contains("Ахметов")),
        "no identity in the chain"
    );
    let entries = d.app.documents().list(Some(appeal.id), None).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].files.is_empty(), "the named letter is not kept");
    // Owed no more: the form is gone.
    let revealed = reveal(&d, &cookie, &page_path).await;
    assert!(!revealed.contains("id=\"extension-notice\""), "{revealed}");
    let report = d.app.journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    d.stop().await;
}
