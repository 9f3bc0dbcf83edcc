//! The operator's notes and their recorded correction (issue 19; clause 10.5):
//! every path that records the notes (the API's PATCH, `senim journal
//! record-call`, the console's form) is refused without every point of the
//! script, naming the missing ones; a phone is kept in E.164 and one that is not
//! a number is refused naming `phone`, as is an e-mail address a reply cannot
//! reach (`email`), the console giving back everything typed; a manager or the
//! Director corrects the details with a reason, the earlier values staying as
//! the law's record (plain, then sealed by `keys init`, then sealed at the
//! write), the audit event naming the fields and never a value, and an address
//! given by the correction starting the reply deadline. The API and the console
//! against the daemon in the test's process, on SQLite and PostgreSQL; the CLI
//! through the real binary.

use crate::support;

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::StatusCode;
use senim::deadlines::Kind;
use senim::journal::sealed::{Confidential, envelopes};
use senim::journal::{Amendment, AppealId, Status};
use senim::sealing::Unlocked;
use serde_json::{Value, json};
use support::app::TestApp;
use support::console::{
    PASSWORD, console_person, csrf_of, http_login, page_text, reveal, session_post,
};
use support::database::{Backend, TestDb};
use support::on_both_backends;
use support::scene::{self, SCRIPT, chain_key_toml, pbx_toml, post_answered_call};
use support::senim::output_text as text;
use support::senim::{Person, Served, person, run_cli_as, write_config};
use support::time::astana;

const CHAIN_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// The name as the operator mistyped it, and as corrected.
const TYPO: &str = "Серік Әлиевв Typo";
const FIXED: &str = "Серік Әлиев Fixed";
/// The second correction, once sealed.
const FIXED_AGAIN: &str = "Серік Әлиұлы Again";
const EMAIL: &str = "serik.reporter@example.kz";
const SUBSTANCE: &str = "Бригадир требует деньги за допуск на объект";

fn now() -> DateTime<Utc> {
    astana(2026, 12, 16, 11, 0)
}

fn config(dir: &Path) -> String {
    format!("\n{}\n{}", chain_key_toml(dir, CHAIN_KEY), pbx_toml())
}

/// An answered call, awaiting the operator's notes; its appeal's id.
async fn answered_call(d: &impl Served, call_id: &str) -> i64 {
    let body = post_answered_call(d, call_id, "2026-12-16").await;
    body["appeal_id"].as_i64().unwrap()
}

async fn send(
    d: &impl Served,
    method: reqwest::Method,
    path: &str,
    who: &Person,
    body: Value,
) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .request(method, d.url(path))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn patch(d: &impl Served, who: &Person, id: i64, body: Value) -> (StatusCode, Value) {
    send(
        d,
        reqwest::Method::PATCH,
        &format!("/v1/appeals/{id}"),
        who,
        body,
    )
    .await
}

async fn correct(d: &impl Served, who: &Person, id: i64, body: Value) -> (StatusCode, Value) {
    let path = format!("/v1/appeals/{id}/corrections");
    send(d, reqwest::Method::POST, &path, who, body).await
}

async fn count(d: &TestApp, sql: &str) -> i64 {
    senim::on_db!(&d.app.db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
        .unwrap()
}

/// The `details_corrected` events of appeal `id`: (actor, detail).
async fn corrections(d: &TestApp, id: i64) -> Vec<(String, Value)> {
    d.app
        .journal
        .history(AppealId(id))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "details_corrected")
        .map(|e| (e.actor, serde_json::from_str(&e.detail).unwrap()))
        .collect()
}

/// Every byte the database holds: the SQLite files, or PostgreSQL's dump.
fn stored_bytes(dir: &Path, db: Option<&TestDb>) -> Vec<u8> {
    match db {
        None => {
            let mut all = Vec::new();
            for entry in support::files::files_under(&dir.join("data")) {
                all.extend(std::fs::read(entry).unwrap_or_default());
            }
            all
        }
        Some(db) => support::database::pg_dump(&db.url),
    }
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

/// `senim keys init` in the test's process: the office key made, the Journal's
/// plain appeals sealed in place in the same transaction; the escrow's key.
async fn keys_init(d: &TestApp) -> Unlocked {
    let app = &d.app;
    let escrow = scene::keys_init(app, "person:dana", async |tx| {
        let sealed = app
            .journal
            .seal_existing_in(tx, "person:dana")
            .await
            .unwrap();
        assert!(sealed >= 1);
    })
    .await;
    app.db.checkpoint().await.unwrap();
    scene::office_key(app, escrow).await
}

/// Each envelope of appeal `id`, opened on its own: what each write wrote.
async fn each_envelope(d: &TestApp, id: i64, unlocked: &Unlocked) -> Vec<Confidential> {
    envelopes(&d.app.db, id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, bytes)| serde_json::from_slice(&unlocked.open(&bytes).unwrap()).unwrap())
        .collect()
}

async fn notes_and_corrections(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let test_db = support::database::daemon_db(backend).await;
    let url = support::database::daemon_url(&test_db);
    let d = TestApp::spawn(dir.path(), url, &config(dir.path()), now()).await;
    let config = d.config.clone();
    let operator = person(&config, "olga", &["operator"]);
    let manager = person(&config, "marat", &["manager"]);
    let director = person(&config, "dana", &["director"]);
    let auditor = person(&config, "aida", &["auditor"]);
    let id = answered_call(&d, "notes-1").await;
    // A call awaiting the operator's notes is not corrected: they are recorded.
    let (status, problem) =
        correct(&d, &manager, id, json!({"name": TYPO, "reason": "early"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // Without the script: refused, every point named; one point short: that
    // point named, the others not.
    let (status, problem) = patch(&d, &operator, id, json!({"substance": SUBSTANCE})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "script", "{problem}");
    for point in SCRIPT {
        assert!(
            problem["detail"].as_str().unwrap().contains(point),
            "{problem}"
        );
    }
    let (status, problem) = patch(
        &d,
        &operator,
        id,
        json!({"substance": SUBSTANCE, "script": &SCRIPT[..3]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("disclosure_liability") && !detail.contains("line_scope"),
        "{problem}"
    );
    // A phone that is not a number, an address a reply cannot reach: refused
    // naming the field, the value not echoed.
    for (field, bad) in [
        ("phone", "abc"),
        ("email", "not-an-email"),
        ("email", "a@localhost"),
    ] {
        let (status, problem) = patch(
            &d,
            &operator,
            id,
            json!({"substance": SUBSTANCE, field: bad, "script": SCRIPT}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
        assert!(
            !problem["detail"].as_str().unwrap().contains(bad),
            "{problem}"
        );
    }
    // Nothing of it was recorded.
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.status, Status::AwaitingOperatorNotes);
    assert!(appeal.reporter.name.is_none() && appeal.substance.is_none());

    // Complete, with a typo in the name and no address: the phone in E.164.
    let (status, answer) = patch(
        &d,
        &operator,
        id,
        json!({"name": TYPO, "phone": "8 701 999 88 77", "substance": SUBSTANCE, "script": SCRIPT}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "registered");
    assert_eq!(answer["no_return_address"], true);
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.reporter.phone.as_deref(), Some("+77019998877"));
    let reply = |d: &TestApp| {
        let d = d.app.deadlines.clone();
        async move {
            d.of_appeal(AppealId(id))
                .await
                .unwrap()
                .into_iter()
                .find(|dl| dl.kind == Kind::Reply)
        }
    };
    assert!(reply(&d).await.is_none(), "no address, no reply owed");
    // The notes are final for the operator: a correction is the manager's.
    let (status, _) = patch(&d, &operator, id, json!({"name": FIXED, "script": SCRIPT})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Who may correct: not the operator, not the auditor.
    let fix = json!({"name": FIXED, "email": EMAIL, "reason": "the name was misspelt; the caller gave an e-mail"});
    for who in [&operator, &auditor] {
        let (status, _) = correct(&d, who, id, fix.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", who.login);
    }
    // Without a reason, with a bad e-mail, naming nothing: refused, naming why.
    let (status, problem) = correct(&d, &manager, id, json!({"name": FIXED, "reason": "  "})).await;
    assert_eq!(
        (status, &problem["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason"))
    );
    let (status, problem) = correct(
        &d,
        &manager,
        id,
        json!({"email": "serik@", "reason": "an address"}),
    )
    .await;
    assert_eq!(
        (status, &problem["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("email"))
    );
    let (status, problem) = correct(&d, &manager, id, json!({"reason": "nothing"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("nothing to correct"),
        "{problem}"
    );
    assert!(
        corrections(&d, id).await.is_empty(),
        "nothing refused is recorded"
    );

    // The manager's correction: the new values, the earlier one kept plain (the
    // Journal is not sealed yet), the audit event naming fields and reason.
    let (status, answer) = correct(&d, &manager, id, fix.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["reporter"]["name"],
        Value::Null,
        "answered without identity"
    );
    assert_eq!(answer["no_return_address"], false);
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.reporter.name.as_deref(), Some(FIXED));
    assert_eq!(appeal.reporter.email.as_deref(), Some(EMAIL));
    assert_eq!(
        appeal.reporter.phone.as_deref(),
        Some("+77019998877"),
        "untouched"
    );
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM appeal_earlier_values").await,
        1
    );
    assert!(
        holds(&stored_bytes(dir.path(), test_db.as_ref()), TYPO),
        "the earlier value stays"
    );
    let events = corrections(&d, id).await;
    assert_eq!(events.len(), 1);
    let (actor, detail) = &events[0];
    assert_eq!(actor, "person:marat");
    assert_eq!(
        detail["corrected"],
        json!(["reporter.name", "reporter.email"])
    );
    // The reason is kept out of the chain (issue 20), read back beside it.
    assert!(detail["reason"]["kept_reason"].is_i64(), "{detail}");
    let reasons = d.app.journal.reasons(AppealId(id), None).await.unwrap();
    assert_eq!(
        reasons.of_detail(detail),
        Some(senim::journal::reasons::Reason::Text(
            fix["reason"].as_str().unwrap().to_owned()
        ))
    );
    let text = detail.to_string();
    for value in [TYPO, FIXED, EMAIL] {
        assert!(
            !text.contains(value),
            "the audit names fields, never values: {text}"
        );
    }
    // An address where there was none: the reply is owed, from the call's day.
    let owed = reply(&d).await.expect("the reply deadline started");
    assert_eq!(
        owed.started_on,
        NaiveDate::from_ymd_opt(2026, 12, 16).unwrap()
    );
    assert!(d.app.journal.verify().await.unwrap().is_intact());
    // A correction may clear a field: the phone the caller withdrew.
    let clear = json!({"phone": " ", "reason": "the caller withdrew the number"});
    let (status, answer) = correct(&d, &manager, id, clear).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.reporter.phone, None);
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM appeal_earlier_values").await,
        2
    );

    // Sealing on: the earlier values go into envelopes before the current
    // ones, nothing of them stays plain, and what was cleared stays cleared.
    let unlocked = keys_init(&d).await;
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM appeal_earlier_values").await,
        0
    );
    let opened = each_envelope(&d, id, &unlocked).await;
    assert_eq!(opened.len(), 3, "the earlier values, then the current");
    assert_eq!(opened[0].name.as_deref(), Some(TYPO));
    assert_eq!(opened[0].email.as_deref(), Some(""), "there was none");
    assert_eq!(opened[1].phone.as_deref(), Some("+77019998877"));
    assert_eq!(opened[2].name.as_deref(), Some(FIXED));
    let sealed = d.app.journal.get(AppealId(id)).await.unwrap();
    let open = d.app.journal.open(sealed, &unlocked).await.unwrap();
    assert_eq!(
        open.reporter.phone, None,
        "the cleared phone is not revived"
    );
    assert_eq!(open.reporter.name.as_deref(), Some(FIXED));

    // The Director corrects the sealed appeal: a new envelope, the earlier ones
    // kept; nothing plain.
    let again = json!({"name": FIXED_AGAIN, "reason": "the caller's patronymic"});
    let (status, answer) = correct(&d, &director, id, again).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let opened = each_envelope(&d, id, &unlocked).await;
    assert_eq!(opened.len(), 4);
    assert_eq!(
        opened[2].name.as_deref(),
        Some(FIXED),
        "the earlier envelope stays"
    );
    assert_eq!(opened[3].written(), vec!["reporter.name"]);
    let sealed = d.app.journal.get(AppealId(id)).await.unwrap();
    let open = d.app.journal.open(sealed, &unlocked).await.unwrap();
    assert_eq!(open.reporter.name.as_deref(), Some(FIXED_AGAIN));
    assert_eq!(open.reporter.email.as_deref(), Some(EMAIL));
    assert_eq!(open.reporter.phone, None);
    let events = corrections(&d, id).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].1["corrected"], json!(["reporter.phone"]));
    assert_eq!(events[2].0, "person:dana");
    assert_eq!(events[2].1["corrected"], json!(["reporter.name"]));
    assert!(events[2].1["envelope"].is_string());
    let bytes = stored_bytes(dir.path(), test_db.as_ref());
    for secret in [TYPO, FIXED, FIXED_AGAIN, EMAIL, SUBSTANCE] {
        assert!(!holds(&bytes, secret), "{secret} is stored plain");
    }
    assert!(d.app.journal.verify().await.unwrap().is_intact());
    let logs = support::app::logs();
    for secret in [TYPO, FIXED, FIXED_AGAIN, EMAIL] {
        assert!(!logs.contains(secret), "{secret} logged");
    }
    d.stop().await;
}

on_both_backends!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] notes_and_corrections => notes_need_the_whole_script_and_a_correction_keeps_the_earlier_values_on_sqlite, notes_need_the_whole_script_and_a_correction_keeps_the_earlier_values_on_postgres);

/// The CLI, through the real binary: `record-call` without `--said` (or with a
/// point short) refused naming the points, a bad phone naming `phone`; then
/// `journal correct`, refused without a reason or to the operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_records_notes_with_the_script_and_corrections_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write_config(dir.path(), port, "", &config(dir.path()));
    let operator = person(&config, "olga", &["operator"]);
    let manager = person(&config, "marat", &["manager"]);
    let d = support::console::serve(dir.path(), &config, port);
    let id = answered_call(&d, "cli-1").await.to_string();
    let record = |extra: &[&str]| {
        let mut args = vec!["journal", "record-call", id.as_str(), "--name", TYPO];
        args.extend(extra);
        run_cli_as(&config, &operator, &args)
    };
    let out = record(&["--substance", SUBSTANCE]);
    assert!(!out.status.success());
    for point in SCRIPT {
        assert!(text(&out).contains(point), "{}", text(&out));
    }
    let out = record(&[
        "--substance",
        SUBSTANCE,
        "--said",
        "own_name_and_position,line_scope",
        "--said",
        "state_secret_warning",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("disclosure_liability") && !text(&out).contains("line_scope,"),
        "{}",
        text(&out)
    );
    let all = SCRIPT.join(",");
    let out = record(&["--substance", SUBSTANCE, "--phone", "abc", "--said", &all]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("phone:") && !text(&out).contains("abc"),
        "{}",
        text(&out)
    );
    let out = record(&[
        "--substance",
        SUBSTANCE,
        "--phone",
        "87019998877",
        "--said",
        &all,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("status registered"), "{}", text(&out));

    // The correction: the operator may not; without a reason, refused.
    let correct = |who: &Person, reason: &str| {
        run_cli_as(
            &config,
            who,
            &[
                "journal", "correct", &id, "--name", FIXED, "--reason", reason,
            ],
        )
    };
    let out = correct(&operator, "a typo");
    assert!(!out.status.success());
    assert!(text(&out).contains("manager"), "{}", text(&out));
    let out = correct(&manager, " ");
    assert!(!out.status.success());
    assert!(text(&out).contains("reason:"), "{}", text(&out));
    let out = correct(&manager, "the name was misspelt");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("correction recorded"), "{}", text(&out));
    let shown = text(&run_cli_as(
        &config,
        &manager,
        &["journal", "show", &id, "--with-identity"],
    ));
    assert!(shown.contains(FIXED), "{shown}");
    assert!(
        shown.contains("details_corrected") && shown.contains("reporter.name"),
        "{shown}"
    );
    assert!(
        shown.contains("+77019998877"),
        "the phone in E.164: {shown}"
    );
    assert!(d.terminate().success());
}

/// The console: the operator's form refused for a bad e-mail gives back all
/// that was typed, the error beside the field; the manager's correction form
/// on the revealed page holds the current values, refuses a bad phone or a
/// missing reason the same way, and records the correction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_keeps_what_was_typed_and_the_manager_corrects_from_the_revealed_page() {
    let dir = tempfile::tempdir().unwrap();
    let d = TestApp::spawn(dir.path(), "", &config(dir.path()), now()).await;
    let config = d.config.clone();
    console_person(&config, dir.path(), "olga", &["operator"]);
    console_person(&config, dir.path(), "marat", &["manager"]);
    let id = answered_call(&d, "console-1").await;

    let (_, session) = http_login(&d, "olga", PASSWORD).await;
    let session = session.unwrap();
    let notes_path = format!("/console/appeals/{id}/notes");
    let page = page_text(&d, &session, &notes_path).await;
    assert!(
        page.contains("name=\"script_liability\""),
        "the new point: {page}"
    );
    let csrf = csrf_of(&page);
    let typed = [
        ("csrf", csrf.as_str()),
        ("surname", "Әлиев"),
        ("given_name", "Серік"),
        ("organisation", "ТОО Typed Organisation"),
        ("postal_address", "Астана, Typed street 8"),
        ("phone", "8 701 999 88 77"),
        ("email", "typed-not-an-email"),
        ("substance", SUBSTANCE),
        ("script_own_name", "said"),
        ("script_scope", "said"),
        ("script_secret", "said"),
        ("script_liability", "said"),
    ];
    // What was typed, the e-mail made valid, without the field `left_out`.
    let with_valid_email = |left_out: &str| -> Vec<(&'static str, &str)> {
        typed
            .iter()
            .copied()
            .filter(|(k, _)| *k != left_out)
            .map(|(k, v)| {
                if k == "email" {
                    (k, "serik@example.kz")
                } else {
                    (k, v)
                }
            })
            .collect()
    };
    let post = |fields: Vec<(&'static str, &str)>| {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let (d, session, notes_path) = (&d, &session, &notes_path);
        async move { session_post(d, session, notes_path, &fields).await }
    };
    let r = post(typed.to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    for (name, value) in &typed[1..8] {
        assert!(page.contains(value), "{name} given back: {page}");
    }
    assert!(page.contains("id=\"email-error\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(!page.contains("id=\"phone-error\""), "{page}");
    // The last point not ticked: refused, nothing lost either.
    let r = post(with_valid_email("script_liability")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("ТОО Typed Organisation"), "{page}");
    let marked: Vec<&str> = page
        .split("<input type=\"checkbox\" name=\"")
        .skip(1)
        .filter(|tag| tag.split('>').next().unwrap().contains("aria-invalid"))
        .map(|tag| tag.split('"').next().unwrap())
        .collect();
    assert_eq!(
        marked,
        ["script_liability"],
        "the point not said is marked: {page}"
    );
    let r = post(with_valid_email("")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.reporter.phone.as_deref(), Some("+77019998877"));

    // The manager reveals the appeal: the correction form holds the values.
    let (_, session) = http_login(&d, "marat", PASSWORD).await;
    let session = session.unwrap();
    let page = page_text(&d, &session, &format!("/console/appeals/{id}")).await;
    let csrf = csrf_of(&page);
    let revealed = reveal(&d, &session, id).await.text().await.unwrap();
    assert!(
        revealed.contains("action=\"/console/appeals/")
            && revealed.contains("/correct\"")
            && revealed.contains("id=\"correct-name\"")
            && revealed.contains("value=\"Әлиев Серік\""),
        "{revealed}"
    );
    // The subject is not posted: it is not corrected.
    let correction = |phone: &'static str, reason: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Әлиев Серік Fixed".to_owned()),
            ("organisation", "ТОО Typed Organisation".to_owned()),
            ("postal_address", "Астана, Typed street 8".to_owned()),
            ("phone", phone.to_owned()),
            ("email", "serik@example.kz".to_owned()),
            ("substance", SUBSTANCE.to_owned()),
            ("reason", reason.to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let (d, session) = (&d, &session);
        async move {
            session_post(
                d,
                session,
                &format!("/console/appeals/{id}/correct"),
                &fields,
            )
            .await
        }
    };
    let r = send(correction("phone-typed-wrong", "the name")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("phone-typed-wrong")
            && page.contains("Әлиев Серік Fixed")
            && page.contains("id=\"correct-phone-error\""),
        "{page}"
    );
    let r = send(correction("+77019998877", "")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Әлиев Серік Fixed") && page.contains("id=\"correct-reason-error\""),
        "{page}"
    );
    assert!(corrections(&d, id).await.is_empty());
    let r = send(correction("+77019998877", "the name was misspelt")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("done=corrected")
    );
    let appeal = d.app.journal.get(AppealId(id)).await.unwrap();
    assert_eq!(appeal.reporter.name.as_deref(), Some("Әлиев Серік Fixed"));
    let events = corrections(&d, id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "person:marat");
    assert_eq!(
        events[0].1["corrected"],
        json!(["reporter.name"]),
        "only what changed"
    );
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM appeal_earlier_values").await,
        1
    );

    // Destroyed under the records schedule: the earlier values go with the rest.
    let journal = &d.app.journal;
    journal
        .amend(
            AppealId(id),
            Amendment::Status {
                status: Status::Closed,
                reason: None,
            },
            "person:marat",
        )
        .await
        .unwrap();
    scene::destroyed_on_schedule(journal, AppealId(id)).await;
    assert_eq!(
        count(&d, "SELECT COUNT(*) FROM appeal_earlier_values").await,
        0
    );
    d.stop().await;
}
