//! The case on an appeal's page, in a real browser (headless Chromium) against
//! the real daemon: the manager sends the appeal on to a unit, whose mail
//! reaches the tests' SMTP server; the Director consents to send the report to
//! the anti-corruption service and orders the internal investigation in its
//! file, where the manager records the commission's request for materials and
//! the Director, after the conclusion, the decision. Each act is an
//! event of the audit chain in its author's own name, `journal verify` stays
//! green, the deadline board lists what is overdue, and the Director's acts are
//! refused to a manager.

use crate::support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use support::browser::{Driver, screenshot};
use support::console::*;
use support::eventually::until;
use support::scene::SCRIPT;
use support::senim::{Daemon, run_cli, run_cli_as, write_config};

const UNIT: &str = "audit-unit@kazstandard.kz";

/// Submits the form `#id` by its first button (or the one with `value`).
async fn submit(browser: &Client, form: &str, value: Option<&str>) {
    let css = match value {
        Some(v) => format!("form#{form} button[value='{v}']"),
        None => format!("form#{form} button"),
    };
    click(browser, Locator::Css(&css)).await;
}

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Sets a date field (Chromium's date input takes its keys in the locale's
/// order; the value is what the form posts).
async fn fill_date(browser: &Client, id: &str, yyyy_mm_dd: &str) {
    browser
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![id.into(), yyyy_mm_dd.into()],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_director_decides_in_her_own_name_and_the_manager_works_the_case() {
    let smtp = office_smtp();
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let extra = format!(
        "{}\n[[alerts.routes]]\nunit = \"Internal audit\"\naddress = \"{UNIT}\"\ncategories = [\"not_corruption\"]\n",
        config(Some(&smtp))
    );
    let config = write_config(dir.path(), port, "", &extra);
    let d = Daemon::start_with_env(
        dir.path(),
        config.clone(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    console_person(&config, dir.path(), "marat", &["manager"]);
    console_person(&config, dir.path(), "dana", &["director"]);
    // A call of Monday 30 November, registered that day; the console's clock
    // is at 16 December.
    let number = answered_call_on(&d, "case-1", "2026-11-30").await;
    // The operator's notes give the caller's name and address: the reply is
    // now owed, counted from the day of the call.
    let operator = console_person(&config, dir.path(), "olga", &["operator"]);
    let out = run_cli_as(
        &config,
        &operator,
        &[
            "journal",
            "record-call",
            &number,
            "--name",
            "Серік Әлиев",
            "--postal-address",
            "Астана, Мәңгілік Ел 8",
            "--substance",
            "Бригадир требует деньги за допуск на объект",
            "--said",
            &SCRIPT.join(","),
        ],
    );
    crate::support::senim::assert_succeeded(&out);
    let driver = Driver::start();

    // The manager: the appeal goes on to the internal audit unit. The
    // investigation's acts are not among the case's forms: the page links to
    // its file.
    let desk = driver.browser().await;
    log_in(&desk, &d, "marat", "en").await;
    click(&desk, Locator::LinkText(&number)).await;
    wait_for(&desk, |url| url.contains("/console/appeals/")).await;
    let id: i64 = desk
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("the appeal's page");
    let page = desk.source().await.unwrap();
    assert!(
        page.contains("id=\"event\"") && page.contains("id=\"route\""),
        "the manager's forms: {page}"
    );
    assert!(
        page.contains("Reply to the citizen (APPK Art. 76)"),
        "the reply deadline, started by the operator's notes: {page}"
    );
    assert!(
        !page.contains("id=\"order\"") && !page.contains("id=\"consent\""),
        "a manager has no Director's forms"
    );
    assert!(
        page.contains("id=\"investigation-file\"") && !page.contains("value=\"materials_"),
        "the investigation's file, not plain forms: {page}"
    );
    desk.find(Locator::Css("select#unit"))
        .await
        .unwrap()
        .select_by_value("Internal audit")
        .await
        .unwrap();
    submit(&desk, "route", None).await;
    wait_for(&desk, |url| url.contains("done=routed")).await;
    let mails = smtp.wait_for_messages(1, Duration::from_secs(60));
    assert!(
        mails
            .iter()
            .any(|m| m.rcpt_to.iter().any(|r| r == UNIT) && m.data_str().contains(&number)),
        "the unit's mail"
    );
    let show = || {
        String::from_utf8_lossy(&run_cli(&config, &["journal", "show", &number]).stdout)
            .into_owned()
    };
    assert!(show().contains("\"status\": \"routed\""), "{}", show());
    // Without the Director's consent the report does not go to the
    // anti-corruption service (10.7).
    let forward = [
        ("act", "forwarded"),
        ("to", "anti_corruption_service"),
        ("method", "post"),
        ("reference", "KZ-RR-0042"),
    ];
    let r = post_act(&d, "marat", id, &forward).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("consent"));

    // The Director: consent on the appeal's page, then the order in the
    // investigation's file, which the page links to.
    let director = driver.browser().await;
    log_in(&director, &d, "dana", "en").await;
    director
        .goto(&d.url(&format!("/console/appeals/{id}")))
        .await
        .unwrap();
    fill(&director, "consent-reason", "facts of a bribe are stated").await;
    submit(&director, "consent", Some("yes")).await;
    wait_for(&director, |url| url.contains("done=director_consent")).await;
    // With it, the manager records the dispatch: the appeal is forwarded.
    let r = post_act(&d, "marat", id, &forward).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(show().contains("\"status\": \"forwarded\""), "{}", show());
    click(&director, Locator::Css("#investigation-file a")).await;
    wait_for(&director, |url| url.contains("/console/investigations/")).await;
    fill(&director, "number", "17-П").await;
    fill_date(&director, "order-on", "2026-12-16").await;
    fill(&director, "outside", "Ержан Сапаров, юрист").await;
    submit(&director, "order", None).await;
    wait_for(&director, |url| url.contains("done=ordered")).await;
    assert!(
        show().contains("\"status\": \"under_investigation\""),
        "{}",
        show()
    );
    // The commission asks for materials (7.8: one working day).
    desk.goto(&d.url(&format!("/console/investigations/{id}")))
        .await
        .unwrap();
    fill(&desk, "from", "Бухгалтерия").await;
    fill(&desk, "what", "Акты приёмки за ноябрь").await;
    fill_date(&desk, "request-on", "2026-12-16").await;
    submit(&desk, "request", None).await;
    wait_for(&desk, |url| url.contains("done=materials_requested")).await;

    // Days later (the daemon started again with the clock on Tuesday 22
    // December) the materials are overdue: on the board and in the Journal's
    // "overdue" filter.
    assert!(d.terminate().success());
    let d = Daemon::start_with_env(
        dir.path(),
        config.clone(),
        port,
        &[("TEST_SENIM_CLOCK_START", "2026-12-22T11:00:00+05:00")],
    );
    log_in(&desk, &d, "marat", "en").await;
    desk.goto(&d.url("/console/deadlines")).await.unwrap();
    let page = desk.source().await.unwrap();
    let overdue = page
        .split("id=\"overdue\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_default();
    assert!(
        overdue.contains(&number) && overdue.contains("Materials to the commission"),
        "the board's overdue list: {page}"
    );
    screenshot(&desk, "deadlines").await;
    // The Journal's "overdue" filter: this appeal, not a fresh one (a call of
    // this morning, its triage due tomorrow).
    let fresh = answered_call_on(&d, "case-2", "2026-12-22").await;
    desk.goto(&d.url("/console/journal?overdue=1"))
        .await
        .unwrap();
    let page = desk.source().await.unwrap();
    assert!(page.contains(&number) && !page.contains(&fresh), "{page}");
    desk.goto(&d.url("/console/journal")).await.unwrap();
    assert!(desk.source().await.unwrap().contains(&fresh));

    // The commission's conclusion, then the Director's decision, in the file.
    log_in(&director, &d, "dana", "en").await;
    director
        .goto(&d.url(&format!("/console/investigations/{id}")))
        .await
        .unwrap();
    fill(&director, "conclusion-text", "Факт подтверждён.").await;
    click(
        &director,
        Locator::Css("input[name=substantiated][value=yes]"),
    )
    .await;
    submit(&director, "conclusion", None).await;
    wait_for(&director, |url| url.contains("done=conclusion")).await;
    director
        .find(Locator::Css("select#decision"))
        .await
        .unwrap()
        .select_by_value("hand_to_authorities")
        .await
        .unwrap();
    submit(&director, "decide", None).await;
    wait_for(&director, |url| url.contains("done=decided")).await;
    director
        .goto(&d.url(&format!("/console/appeals/{id}")))
        .await
        .unwrap();
    let page = director.source().await.unwrap();
    assert!(
        page.contains("The Director consented to send the report"),
        "her consent stands on the page: {page}"
    );
    assert!(
        page.contains("Internal investigation (7.5)"),
        "the investigation's deadline: {page}"
    );
    director.set_window_size(1280, 1900).await.unwrap();
    screenshot(&director, "director-decisions").await;

    // Every act is in the chain, in its author's name, and the chain holds.
    let shown = show();
    for (kind, who) in [
        ("materials_requested", "person:marat"),
        ("routed", "person:marat"),
        ("director_consent", "person:dana"),
        ("investigation_ordered", "person:dana"),
        ("decision", "person:dana"),
    ] {
        assert!(
            shown
                .lines()
                .any(|l| l.contains(kind) && l.contains(&format!("by {who}"))),
            "{kind} by {who}: {shown}"
        );
    }
    assert!(shown.contains("hand_to_authorities"), "{shown}");
    assert!(shown.contains("\"status\": \"decided\""), "{shown}");
    assert!(
        shown.contains("KZ-RR-0042"),
        "the dispatch's tracking number: {shown}"
    );
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // Over HTTP: the Director's acts are refused to a manager, and refusing to
    // send the report needs a reason.
    let r = post_act(
        &d,
        "marat",
        id,
        &[("act", "investigation_ordered"), ("on", "2026-12-16")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_act(
        &d,
        "dana",
        id,
        &[("act", "consent"), ("send", "no"), ("reason", " ")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("reason: required"));
    let shown = show();
    assert_eq!(
        shown.matches("director_consent").count(),
        1,
        "the refused acts left nothing: {shown}"
    );
    // The reply went to the citizen: the appeal is replied.
    let r = post_act(
        &d,
        "marat",
        id,
        &[("act", "reply_sent"), ("on", "2026-12-16")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(show().contains("\"status\": \"replied\""), "{}", show());
    // Closed, the case takes no further act.
    let r = post_act(
        &d,
        "marat",
        id,
        &[("act", "closed"), ("reason", "decided and replied")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(show().contains("\"status\": \"closed\""), "{}", show());
    let r = post_act(&d, "marat", id, &[("act", "reply_sent")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("is closed"));

    // A caller who reports a threat: the operator's notes complete the call,
    // and the Director is told at once (6.3), before anyone classifies it.
    let threat = answered_call(&d, "case-3").await;
    let out = run_cli_as(
        &config,
        &operator,
        &[
            "journal",
            "record-call",
            &threat,
            "--substance",
            "Грозят взрывом на складе в понедельник",
            "--said",
            &SCRIPT.join(","),
        ],
    );
    crate::support::senim::assert_succeeded(&out);
    let told = |mails: &[support::smtp::ReceivedMail]| {
        mails.iter().any(|m| {
            m.rcpt_to.iter().any(|r| r == DIRECTOR)
                && m.data_str().contains(&threat)
                && m.data_str().contains("6.3")
        })
    };
    until(
        Duration::from_secs(60),
        "the Director's notice of the threat",
        async || told(&smtp.messages()),
    )
    .await;

    desk.close().await.unwrap();
    director.close().await.unwrap();
}

/// Logs `login` in over HTTP and posts the act form of appeal `id` with the
/// page's CSRF token and `fields`.
async fn post_act(d: &Daemon, login: &str, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let (_, cookie) = http_login(d, login, PASSWORD).await;
    let cookie = cookie.expect("a session");
    let page = page_text(d, &cookie, &format!("/console/appeals/{id}")).await;
    let csrf = csrf_of(&page);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    session_post(d, &cookie, &format!("/console/appeals/{id}/act"), &form).await
}
