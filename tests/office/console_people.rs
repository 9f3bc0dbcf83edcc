//! The console's people and what they take away, against the real daemon: a
//! person's language, kept for them (`senim persons add --language`, `senim
//! persons language`, the header's switch) and taken by every login, in a real
//! browser (headless Chromium); the auditor's export of the Journal without
//! identity, the same CSV as `senim journal export`, recorded in the chain in her
//! name; the manager's "Try again now" on a mail the SMTP server refused. And the
//! language column on both backends.

use crate::support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;
use support::browser::{Driver, screenshot};
use support::console::*;
use support::database::{Backend, TestDb};
use support::eventually::{Raw, eventually, ok_if};
use support::scene::record_notes;
use support::senim::{person, run_cli, run_cli_as};
use support::smtp::{SmtpOptions, SmtpServer};

const NAME: [&str; 3] = ["Серікқызы", "Айгүл", "Нұрланқызы"];
const PHONE: &str = "+77019998877";
const SUBSTANCE: &str = "Инспектор потребовал взятку за подпись акта приёмки";
/// The caller's number `answered_call` posts, as the Journal keeps it.
const CALLER: &str = "7011234567";

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `senim persons list`'s line for `login`.
fn listed(config: &std::path::Path, login: &str) -> String {
    let out = run_cli(config, &["persons", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .find(|l| l.split_whitespace().next() == Some(login))
        .unwrap_or_default()
        .to_owned()
}

/// Clicks the header's button for `lang` and waits for the page in it.
async fn switch_to(browser: &Client, lang: &str, says: &str) -> String {
    browser
        .find(Locator::Css(&format!(
            "form.languages button[value={lang}]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let source = source_with(browser, says).await;
    assert!(
        source.contains(&format!("<html lang=\"{lang}\"")) && source.contains(says),
        "{source}"
    );
    source
}

/// A person with language kk logs in (the login page in English) and works in
/// Kazakh; switching to Russian in the header is kept for her, so a new login
/// opens in Russian; `default` gives the choice back to the login page. Unknown
/// languages are refused clearly, on the command line and in the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_language_follows_them_from_login_to_login() {
    let dir = tempfile::tempdir().unwrap();
    let (d, config) = start(dir.path(), None);
    console_person(&config, dir.path(), "aida", &["auditor"]);
    answered_call(&d, "1765863600.11").await;

    // On the command line: a language at `add` and with `language`; an unknown
    // one is refused, naming the ones there are, and changes nothing.
    let out = run_cli(
        &config,
        &[
            "persons",
            "add",
            "timur",
            "--name",
            "Timur",
            "--role",
            "manager",
            "--language",
            "en",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        listed(&config, "timur").contains(" en "),
        "{}",
        listed(&config, "timur")
    );
    let out = run_cli(
        &config,
        &[
            "persons",
            "add",
            "bolat",
            "--name",
            "Bolat",
            "--role",
            "manager",
            "--language",
            "de",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown language `de`") && stderr(&out).contains("kk, ru, en"),
        "{}",
        stderr(&out)
    );
    assert!(listed(&config, "bolat").is_empty());
    let out = run_cli(&config, &["persons", "language", "aida", "de"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown language `de`") && stderr(&out).contains("default"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&config, &["persons", "language", "nobody", "kk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no person `nobody`"),
        "{}",
        stderr(&out)
    );
    assert!(
        listed(&config, "aida").contains(" default "),
        "{}",
        listed(&config, "aida")
    );
    let out = run_cli(&config, &["persons", "language", "aida", "kk"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        listed(&config, "aida").contains(" kk "),
        "{}",
        listed(&config, "aida")
    );

    // She logs in on the English login page, and works in Kazakh.
    let driver = Driver::start();
    let browser = driver.browser().await;
    log_in(&browser, &d, "aida", "en").await;
    let source = browser.source().await.unwrap();
    assert!(
        source.contains("<html lang=\"kk\"") && source.contains("Шығу"),
        "{source}"
    );
    assert!(!source.contains("Log out"), "{source}");
    screenshot(&browser, "language-kk").await;

    // The header's switch: Russian, kept for her.
    switch_to(&browser, "ru", "Выйти").await;
    assert!(
        listed(&config, "aida").contains(" ru "),
        "{}",
        listed(&config, "aida")
    );
    // A new login (the login page in English again) opens in Russian.
    let again = driver.browser().await;
    log_in(&again, &d, "aida", "en").await;
    let source = again.source().await.unwrap();
    assert!(
        source.contains("<html lang=\"ru\"") && source.contains("Выйти"),
        "{source}"
    );
    again.close().await.unwrap();

    // In English, the auditor's page with the export form.
    switch_to(&browser, "en", "Log out").await;
    click(&browser, Locator::LinkText("Audit")).await;
    let audit = source_with(&browser, "Export the Journal (no identity)").await;
    assert!(
        audit.contains("action=\"/console/audit/export\"") && audit.contains("Download CSV"),
        "{audit}"
    );
    screenshot(&browser, "audit").await;
    browser.close().await.unwrap();

    // `default`: the login page's choice again.
    let out = run_cli(&config, &["persons", "language", "aida", "default"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let english = driver.browser().await;
    log_in(&english, &d, "aida", "en").await;
    assert!(
        english
            .source()
            .await
            .unwrap()
            .contains("<html lang=\"en\"")
    );
    english.close().await.unwrap();

    // In the console, a language that is not one is refused and kept nowhere;
    // a switch without the form's token changes nothing.
    let (_, session) = http_login(&d, "aida", PASSWORD).await;
    let session = session.unwrap();
    let page = page_text(&d, &session, "/console/journal").await;
    assert!(
        page.contains("<html lang=\"ru\""),
        "console.language: {page}"
    );
    let csrf = csrf_of(&page);
    let r = session_post(
        &d,
        &session,
        "/console/language",
        &[("csrf", csrf.as_str()), ("lang", "de")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("Неизвестный язык"), "{page}");
    let r = session_post(&d, &session, "/console/language", &[("lang", "kk")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        listed(&config, "aida").contains(" default "),
        "{}",
        listed(&config, "aida")
    );
    // With it: the session and the person both.
    let r = session_post(
        &d,
        &session,
        "/console/language",
        &[("csrf", csrf.as_str()), ("lang", "kk")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console");
    let page = page_text(&d, &session, "/console/journal").await;
    assert!(page.contains("<html lang=\"kk\""), "{page}");
    assert!(
        listed(&config, "aida").contains(" kk "),
        "{}",
        listed(&config, "aida")
    );
}

/// The history lines of `number` that record an export by `login`.
fn exports_by(config: &std::path::Path, number: &str, login: &str) -> usize {
    let out = run_cli(config, &["journal", "show", number]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| l.contains(" exported ") && l.contains(&format!("by person:{login}")))
        .count()
}

/// The auditor downloads the Journal as CSV from her page: the same bytes as
/// `senim journal export`, the registration number and no identity or text, the
/// export recorded in the chain in her name; dates that are not dates are
/// refused, and a form without its token exports nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditor_exports_the_journal_without_identity_and_the_chain_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let (d, config) = start(dir.path(), None);
    let auditor = console_person(&config, dir.path(), "aida", &["auditor"]);
    console_person(&config, dir.path(), "marat", &["manager"]);
    let operator = person(&config, "olga", &["operator"]);
    let number = answered_call(&d, "1765863600.21").await;
    let fields = json!({"name": NAME.join(" "), "phone": PHONE, "substance": SUBSTANCE});
    record_notes(&d, &operator.token, 1, fields).await;

    let (_, session) = http_login(&d, "aida", PASSWORD).await;
    let session = session.unwrap();
    let page = page_text(&d, &session, "/console/audit").await;
    assert!(page.contains("action=\"/console/audit/export\""), "{page}");
    let csrf = csrf_of(&page);
    let export = |form: Vec<(&'static str, String)>| {
        let (d, session) = (&d, &session);
        async move { session_post(d, session, "/console/audit/export", &form).await }
    };

    // Without the form's token: refused, nothing exported or recorded.
    let r = export(vec![]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("content-disposition").is_none());
    // Dates that are not dates, or the wrong way round: the page again, saying so.
    for (from, to) in [
        ("2026-13-01", ""),
        ("16.12.2026", ""),
        ("2026-12-31", "2026-12-01"),
    ] {
        let r = export(vec![
            ("csrf", csrf.clone()),
            ("from", from.into()),
            ("to", to.into()),
        ])
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{from}–{to}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("ГГГГ-ММ-ДД") && page.contains("role=\"alert\""),
            "{page}"
        );
    }
    assert_eq!(exports_by(&config, &number, "aida"), 0);
    // Another role does not export.
    let (_, manager) = http_login(&d, "marat", PASSWORD).await;
    let r = session_post(
        &d,
        &manager.unwrap(),
        "/console/audit/export",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // December's appeals: the CSV, as an attachment named by today's date.
    let r = export(vec![
        ("csrf", csrf.clone()),
        ("from", "2026-12-01".into()),
        ("to", "2026-12-31".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"journal-2026-12-16.csv\""
    );
    assert_eq!(h["cache-control"], "no-store");
    let csv = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with("registration_number,"), "{text}");
    assert!(text.contains(&number), "{text}");
    for secret in NAME.iter().chain([&PHONE, &SUBSTANCE, &CALLER]) {
        assert!(
            !csv.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the export: {text}"
        );
    }
    // Who worked it: nobody yet; the operator's notes are not an act on the
    // case, and (below) an export is a read, not work.
    assert!(
        text.lines()
            .next()
            .unwrap_or_default()
            .contains(",worked_by,")
            && !text.contains("olga")
            && !text.contains("aida"),
        "{text}"
    );
    // In the chain, in her name; the chain still verifies.
    assert_eq!(exports_by(&config, &number, "aida"), 1);
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", stdout(&verify));

    // The command line's export of the same days: the same bytes, recorded too.
    let cli = run_cli_as(
        &config,
        &auditor,
        &[
            "journal",
            "export",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
        ],
    );
    assert!(cli.status.success(), "{}", stderr(&cli));
    assert_eq!(String::from_utf8_lossy(&cli.stdout), text);
    assert_eq!(exports_by(&config, &number, "aida"), 2);

    // Days without appeals: the header only, and nothing recorded.
    let r = export(vec![
        ("csrf", csrf.clone()),
        ("from", "2020-01-01".into()),
        ("to", "2020-12-31".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let empty = r.text().await.unwrap();
    assert_eq!(empty.lines().count(), 1, "{empty}");
    assert!(!empty.contains(&number));
    assert_eq!(exports_by(&config, &number, "aida"), 2);
}

/// The outbox row of mail `id` (`senim outbox list --json`).
fn outbox_row(config: &std::path::Path, id: i64) -> serde_json::Value {
    let out = run_cli(config, &["outbox", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|row| row["id"] == id)
        .unwrap_or_else(|| panic!("no mail {id} in the outbox"))
}

/// The Director's alert is refused by the SMTP server (550): the manager sees it
/// failed in the outbox, "Try again now" (with the form's token; without it,
/// nothing) puts it back in line, and once the server takes it, it is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mail_is_tried_again_from_the_outbox_and_delivered() {
    let options = office_smtp_options();
    let mut smtp = SmtpServer::start(SmtpOptions {
        reject_permanent: vec![DIRECTOR.into()],
        ..options.clone()
    });
    let dir = tempfile::tempdir().unwrap();
    let (d, config) = start(dir.path(), Some(&smtp));
    let manager = console_person(&config, dir.path(), "marat", &["manager"]);
    let number = answered_call(&d, "1765863600.31").await;
    let out = run_cli_as(
        &config,
        &manager,
        &[
            "journal",
            "classify",
            &number,
            "--category",
            "corruption",
            "--reason",
            "a bribe for signing the act",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // The alert fails (a permanent refusal), and the outbox shows it so, with
    // the server's answer and the button.
    let (_, session) = http_login(&d, "marat", PASSWORD).await;
    let session = session.unwrap();
    let outbox = |query: &'static str| {
        let (d, session) = (&d, &session);
        async move { page_text(d, session, &format!("/console/outbox{query}")).await }
    };
    let page = eventually(
        Duration::from_secs(60),
        "a failed mail with a retry",
        async || {
            let page = outbox("?state=failed").await;
            ok_if(page.contains("/retry\""), Raw(page.clone())).map(|()| page)
        },
    )
    .await;
    let id: i64 = page
        .split("action=\"/console/outbox/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no failed mail with a retry: {page}"));
    assert!(
        page.contains("corruption_alert") && page.contains(&number) && page.contains("550"),
        "{page}"
    );
    let failed = outbox_row(&config, id);
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    let csrf = csrf_of(&page);
    let retry_path = format!("/console/outbox/{id}/retry");

    // Without the form's token: refused, and the mail stays failed.
    let r = session_post(&d, &session, &retry_path, &[("csrf", "not the token")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(outbox_row(&config, id)["state"], "failed");

    // The server is down for now: the retry puts the mail back in line, where
    // it waits (pending) instead of failing again.
    smtp.stop();
    let r = session_post(&d, &session, &retry_path, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/outbox?retried=1");
    let page = outbox("?retried=1").await;
    assert!(page.contains("Возвращено в очередь: 1"), "{page}");
    let back = outbox_row(&config, id);
    assert!(
        back["state"] == "pending" || back["state"] == "sending",
        "put back in line: {back}"
    );
    // `Outbox::retry` keeps the count of attempts (it does not reset it).
    assert!(back["attempts"].as_i64().unwrap() >= 1, "{back}");
    let none_failed = outbox("?state=failed").await;
    assert!(none_failed.contains("Писем нет."), "{none_failed}");

    // The server takes it now: delivered, and the outbox says so.
    smtp.start_again_with(options);
    let mails = smtp.wait_for_messages(1, Duration::from_secs(60));
    assert!(
        mails
            .iter()
            .any(|m| m.rcpt_to.iter().any(|r| r == DIRECTOR) && m.data_str().contains(&number)),
        "{mails:?}"
    );
    support::eventually::eventually(Duration::from_secs(10), "the alert sent", async || {
        let sent = outbox_row(&config, id);
        support::eventually::ok_if(sent["state"] == "sent", sent)
    })
    .await;
    let page = outbox("?state=sent").await;
    assert!(
        page.contains("corruption_alert") && page.contains(&number) && !page.contains("/retry\""),
        "{page}"
    );
}

/// The language column on SQLite and PostgreSQL: given at `add`, changed, set
/// back to the default, and read back with the person (at the login too).
#[tokio::test]
async fn a_persons_language_is_kept_on_both_backends() {
    use senim::persons::{Language, PersonError, Persons, Role};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend).await;
        let clock = senim::clock::FixedClock::at(chrono::Utc::now());
        let persons = Persons::new(db.db.clone(), std::sync::Arc::new(clock), None);
        let (added, _) = persons
            .add("aida", "Aida", &[Role::Auditor], Some(Language::Kk))
            .await
            .unwrap();
        assert_eq!(added.language, Some(Language::Kk));
        persons
            .add("timur", "Timur", &[Role::Manager], None)
            .await
            .unwrap();
        persons.set_password("aida", PASSWORD).await.unwrap();
        let at_login = persons
            .check_password("aida", secrecy::SecretString::from(PASSWORD))
            .await
            .unwrap();
        assert_eq!(
            at_login.unwrap().language,
            Some(Language::Kk),
            "{backend:?}"
        );
        persons
            .set_language("aida", Some(Language::Ru))
            .await
            .unwrap();
        let languages = |list: Vec<senim::persons::Person>| {
            list.into_iter()
                .map(|p| (p.login, p.language))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            languages(persons.list().await.unwrap()),
            vec![
                ("aida".to_owned(), Some(Language::Ru)),
                ("timur".to_owned(), None)
            ],
            "{backend:?}"
        );
        persons.set_language("aida", None).await.unwrap();
        assert_eq!(persons.list().await.unwrap()[0].language, None);
        assert!(matches!(
            persons.set_language("nobody", Some(Language::En)).await,
            Err(PersonError::NotFound(_))
        ));
        // The password is untouched by the language, and the other updates
        // (one helper) still find their row.
        assert!(
            persons
                .check_password("aida", secrecy::SecretString::from(PASSWORD))
                .await
                .unwrap()
                .is_some()
        );
        persons.disable("timur").await.unwrap();
        assert!(persons.list().await.unwrap()[1].disabled_at.is_some());
        assert!(matches!(
            persons.disable("nobody").await,
            Err(PersonError::NotFound(_))
        ));
        // A reset gives a new token and leaves a disabled person disabled.
        let token = persons.reset("timur").await.unwrap();
        assert_eq!(persons.authenticate(&token).await.unwrap(), None);
        assert!(persons.list().await.unwrap()[1].disabled_at.is_some());
    }
}
