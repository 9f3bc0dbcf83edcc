//! The console in a real browser (headless Chromium through WebDriver) against
//! the real daemon: each role logs in; an answered call posted by the PBX appears
//! in the operator's open queue by itself (server-sent events); the operator completes the clause-10.5 form with the
//! keyboard alone and the appeal leaves the queue; the auditor sees no identity
//! anywhere in the page's source. And, over plain HTTP: no page is cached or
//! framed, a form without its CSRF token is refused, a login is locked after
//! five failures, "log out everywhere" ends every session.

use crate::support;

use std::time::Duration;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::json;
use support::browser::{Driver, screenshot};
use support::console::*;
use support::scene::{record_notes, sealed_with_reader};
use support::senim::{Daemon, person, run_cli, run_cli_as};

const NAME: [&str; 3] = ["Серікқызы", "Айгүл", "Нұрланқызы"];
const PHONE: &str = "+77019998877";
const SUBSTANCE: &str = "Инспектор потребовал взятку за подпись акта приёмки";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_completes_a_call_with_the_keyboard_and_the_auditor_sees_no_identity() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = office_smtp();
    let (d, config) = start(dir.path(), Some(&smtp));
    console_person(&config, dir.path(), "olga", &["operator"]);
    console_person(&config, dir.path(), "aida", &["auditor"]);
    let manager = console_person(&config, dir.path(), "marat", &["manager"]);
    let driver = Driver::start();

    // The operator logs in (Russian, the default) and sees her queue.
    let operator = driver.browser().await;
    operator.goto(&d.url("/console/login")).await.unwrap();
    screenshot(&operator, "login").await;
    log_in(&operator, &d, "olga", "ru").await;
    assert!(
        operator
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/queue")
    );
    assert!(
        operator
            .source()
            .await
            .unwrap()
            .contains("Ожидающих звонков нет")
    );

    // A call answered and hung up: the PBX posts it, and it appears in the
    // open queue by itself (server-sent events), without a reload.
    let number = answered_call(&d, "1765863600.1").await;
    support::eventually::eventually(
        Duration::from_secs(10),
        "the call in the open queue",
        async || {
            let rows = operator
                .find(Locator::Id("queue-rows"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            support::eventually::ok_if(rows.contains(&number), rows)
        },
    )
    .await;
    assert!(
        operator
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/queue")
    );
    screenshot(&operator, "queue").await;
    click(&operator, Locator::LinkText("Внести запись")).await;

    // The clause-10.5 form, with the keyboard alone: a space ticks each point
    // of the script, the fields are typed, Enter in the last field submits.
    for point in [
        "script_own_name",
        "script_scope",
        "script_secret",
        "script_liability",
    ] {
        let checkbox = operator
            .find(Locator::Css(&format!("input[name={point}]")))
            .await
            .unwrap();
        checkbox.send_keys(" ").await.unwrap();
        assert!(checkbox.is_selected().await.unwrap(), "{point} ticked");
    }
    for (field, text) in [
        ("surname", NAME[0]),
        ("given_name", NAME[1]),
        ("patronymic", NAME[2]),
        ("phone", PHONE),
        ("substance", SUBSTANCE),
    ] {
        operator
            .find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    screenshot(&operator, "operator-form").await;
    operator
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    wait_for(&operator, |url| url.contains("/console/queue")).await;
    let queue = operator.source().await.unwrap();
    assert!(queue.contains("Сохранено"), "{queue}");
    assert!(
        !queue.contains(&number),
        "the appeal left the queue:\n{queue}"
    );
    screenshot(&operator, "queue-after").await;

    // The Journal has it, by the operator, with the script she said.
    let shown = run_cli_as(
        &config,
        &manager,
        &["journal", "show", &number, "--with-identity"],
    );
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        shown.contains(&NAME.join(" ")) && shown.contains(SUBSTANCE) && shown.contains(PHONE),
        "{shown}"
    );
    assert!(
        shown.contains("script_confirmed")
            && shown.contains("state_secret_warning")
            && shown.contains("disclosure_liability")
            && shown.contains("by person:olga"),
        "{shown}"
    );
    assert!(shown.contains("\"status\": \"registered\""), "{shown}");

    // The auditor (in English) sees the Journal, and no identity or text in
    // any byte of the page.
    let auditor = driver.browser().await;
    log_in(&auditor, &d, "aida", "en").await;
    assert!(
        auditor
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/journal")
    );
    let source = auditor.source().await.unwrap();
    assert!(source.contains(&number), "{source}");
    for secret in NAME.iter().chain([&PHONE, &SUBSTANCE, &"7011234567"]) {
        assert!(!source.contains(secret), "{secret} in the auditor's page");
    }
    screenshot(&auditor, "journal").await;
    // The chain, verified for the auditor.
    click(&auditor, Locator::LinkText("Audit")).await;
    let audit = source_with(&auditor, "The Journal is intact").await;
    assert!(audit.contains("The Journal is intact"), "{audit}");
    screenshot(&auditor, "audit").await;
    // The auditor's role does not open the operator's pages.
    auditor.goto(&d.url("/console/queue")).await.unwrap();
    assert!(
        auditor
            .source()
            .await
            .unwrap()
            .contains("Your role does not open this page")
    );

    // The manager opens the appeal from the Journal, reveals the reporter (a
    // recorded click) and classifies it as corruption: the Director's alert
    // reaches the SMTP server.
    let desk = driver.browser().await;
    log_in(&desk, &d, "marat", "en").await;
    click(&desk, Locator::LinkText(&number)).await;
    let page = desk.source().await.unwrap();
    assert!(!page.contains(NAME[1]), "identity before the click");
    assert!(
        page.contains("corruption (взятк)"),
        "the suggestion: {page}"
    );
    screenshot(&desk, "appeal").await;
    click(&desk, Locator::Css("form[action$='/reveal'] button")).await;
    let page = source_with(&desk, SUBSTANCE).await;
    assert!(
        page.contains(&NAME.join(" ")) && page.contains(SUBSTANCE),
        "{page}"
    );
    assert_eq!(
        page.matches("identity_disclosed</td><td>person:marat")
            .count(),
        2,
        "the CLI's read and this one are in the history"
    );
    assert!(
        page.contains("identity_disclosed"),
        "the reveal is in the history: {page}"
    );
    screenshot(&desk, "appeal-revealed").await;
    desk.find(Locator::Css("select#category"))
        .await
        .unwrap()
        .select_by_value("corruption")
        .await
        .unwrap();
    let reason = desk.find(Locator::Id("reason")).await.unwrap();
    reason
        .send_keys("a bribe for signing the act")
        .await
        .unwrap();
    reason.send_keys("\u{E007}").await.unwrap();
    wait_for(&desk, |url| url.contains("done=classified")).await;
    let mails = smtp.wait_for_messages(1, Duration::from_secs(60));
    let alert = mails
        .iter()
        .find(|m| m.rcpt_to.iter().any(|r| r == DIRECTOR))
        .expect("the Director's alert");
    assert!(alert.data_str().contains(&number), "{}", alert.data_str());
    let shown = String::from_utf8_lossy(&run_cli(&config, &["journal", "show", &number]).stdout)
        .into_owned();
    assert!(
        shown.contains("\"category\": \"corruption\"")
            && shown.contains("classified")
            && shown.contains("by person:marat"),
        "{shown}"
    );

    // The manager's outbox lists the alert as sent, without its content.
    click(&desk, Locator::LinkText("Outbox")).await;
    let page = source_with(&desk, "corruption_alert").await;
    assert!(
        page.contains("corruption_alert") && page.contains(&number) && page.contains("sent"),
        "{page}"
    );
    assert!(
        !page.contains(NAME[1]) && !page.contains(SUBSTANCE),
        "{page}"
    );
    screenshot(&desk, "outbox").await;

    // The Director sees the alert as mailed and marks it read: the receipt is
    // an event of the appeal, in her name.
    console_person(&config, dir.path(), "dana", &["director"]);
    let director = driver.browser().await;
    log_in(&director, &d, "dana", "en").await;
    assert!(
        director
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/alerts")
    );
    let page = director.source().await.unwrap();
    assert!(
        page.contains(&number) && page.contains("corruption_alert"),
        "{page}"
    );
    click(&director, Locator::Css("form[action$='/read'] button")).await;
    let page = source_with(&director, "person:dana").await;
    assert!(page.contains("person:dana"), "{page}");
    assert!(!page.contains("Mark as read"), "{page}");
    screenshot(&director, "alerts").await;
    let shown = String::from_utf8_lossy(&run_cli(&config, &["journal", "show", &number]).stdout)
        .into_owned();
    assert!(
        shown.contains("alert_read") && shown.contains("by person:dana"),
        "{shown}"
    );

    operator.close().await.unwrap();
    auditor.close().await.unwrap();
    desk.close().await.unwrap();
    director.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_not_cached_forms_need_their_token_and_logins_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (d, config) = start(dir.path(), None);
    console_person(&config, dir.path(), "olga", &["operator"]);
    let client = no_redirects();

    // Every page: not cached, not framed, no script allowed.
    let login = client.get(d.url("/console/login")).send().await.unwrap();
    let h = login.headers();
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    // Scripts only from the daemon's own files: no inline script can run.
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let cookie = set_cookie(&login, "senim_login").unwrap();
    let cookies = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        cookies.contains("HttpOnly") && cookies.contains("SameSite=Strict"),
        "{cookies}"
    );

    // A login posted without the form's token is refused.
    let r = session_post(
        &d,
        &cookie,
        "/console/login",
        &[("login", "olga"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Logged in, a page with identity is not cached either; a form posted
    // without its token is refused and changes nothing.
    let (status, session) = http_login(&d, "olga", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = session.expect("a session cookie");
    let number = answered_call(&d, "1765863600.2").await;
    let list = run_cli(&config, &["journal", "list", "--json"]);
    let id = String::from_utf8_lossy(&list.stdout)
        .lines()
        .find(|l| l.contains(&number))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["id"].as_i64())
        .unwrap();
    let notes_path = format!("/console/appeals/{id}/notes");
    let form = session_get(&d, &session, &notes_path).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.headers()["cache-control"], "no-store");
    let csrf = csrf_of(&form.text().await.unwrap());
    // With its token but a point of the script not ticked: refused (422), the
    // form given back with what was typed, and nothing recorded.
    let unsaid = session_post(
        &d,
        &session,
        &notes_path,
        &[
            ("csrf", csrf.as_str()),
            ("substance", "typed before the script"),
            ("script_own_name", "said"),
            ("script_scope", "said"),
        ],
    )
    .await;
    assert_eq!(unsaid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unsaid.text().await.unwrap();
    assert!(
        page.contains("typed before the script") && page.contains("role=\"alert\""),
        "{page}"
    );
    let forged = session_post(
        &d,
        &session,
        &notes_path,
        &[
            ("substance", "forged"),
            ("script_own_name", "said"),
            ("script_scope", "said"),
            ("script_secret", "said"),
            ("script_liability", "said"),
        ],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let shown = String::from_utf8_lossy(&run_cli(&config, &["journal", "show", &number]).stdout)
        .into_owned();
    assert!(shown.contains("awaiting_operator_notes"), "{shown}");

    // "Log out everywhere" ends this session and any other.
    let (_, other) = http_login(&d, "olga", PASSWORD).await;
    let other = other.unwrap();
    let html = page_text(&d, &other, "/console/queue").await;
    let csrf = csrf_of(&html);
    let r = session_post(
        &d,
        &other,
        "/console/logout-everywhere",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for cookie in [&session, &other] {
        let r = session_get(&d, cookie, "/console/queue").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "session ended");
        assert_eq!(r.headers()["location"], "/console/login");
    }

    // Five wrong passwords lock the login: the right one is refused then too.
    for _ in 0..5 {
        let (status, _) = http_login(&d, "olga", "not the password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, session) = http_login(&d, "olga", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(session.is_none());
}

/// Sealed, an appeal's reporter is shown only to a reader who gave their key's
/// passphrase at the login: without it the page says to log in with it, a wrong
/// one is refused, and with it the recorded click shows the reporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_appeal_opens_with_the_key_given_at_the_login() {
    const CHAIN_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const PASSPHRASE: &str = "the director's key passphrase";
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = sealed_config(dir.path(), port, CHAIN_KEY);
    let director = console_person(&config, dir.path(), "dana", &["director"]);
    let operator = person(&config, "olga", &["operator"]);
    // The office key, made before the daemon starts; the Director enrols and is
    // added as a reader with the escrow key.
    sealed_with_reader(&config, dir.path(), &director, PASSPHRASE);
    let d = Daemon::start_with_env(
        dir.path(),
        config.clone(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    answered_call(&d, "1765863600.9").await;
    let fields = json!({"name": NAME.join(" "), "substance": SUBSTANCE});
    record_notes(&d, &operator.token, 1, fields).await;

    let reveal = async |session: String| reveal(&d, &session, 1).await;
    // Without the passphrase: the page says to log in with it.
    let (_, session) = http_login(&d, "dana", PASSWORD).await;
    let r = reveal(session.unwrap()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("парольной фразой ключа") && !page.contains(NAME[1]),
        "{page}"
    );
    // A wrong passphrase is a failed login.
    let (status, session) = http_login_with_key(&d, "dana", PASSWORD, "not the passphrase").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(session.is_none());
    // With it, the reporter and the text.
    let (_, session) = http_login_with_key(&d, "dana", PASSWORD, PASSPHRASE).await;
    let r = reveal(session.unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&NAME.join(" ")) && page.contains(SUBSTANCE),
        "{page}"
    );
}
