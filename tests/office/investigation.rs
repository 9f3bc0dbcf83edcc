//! The investigation file (7.3–7.11), end to end through the real binary and
//! daemon: the Director orders the investigation with its number and
//! commission, a manager asks for materials, a member of the commission who is
//! not a reader of the office key records their receipt and the reasoned
//! conclusion, the Director extends the investigation by her written decision
//! and decides. Each entry is in the audit chain in its author's name with the
//! act it is (deadlines, status), `journal verify` covers every step and finds
//! an entry changed at rest; nothing of the file is stored plain; it opens only
//! for the Director, the managers, the members and the escrow, on the console as
//! at the command line, each opening recorded. Without the office key the file
//! keeps the same rules, kept plain and read by role and membership, and
//! `senim keys init` seals it in place. The plain deadline events cannot go
//! around the file, sealed or not (API, `journal event`, the console's act
//! form).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::Value;
use support::browser::{Driver, screenshot};
use support::console::*;
use support::scene::Keys;
use support::senim::{Daemon, Person, run_cli, write_config};

const CHAIN_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f05a69788796a5b4c3d2e1f00f1e2d3c4b";
const ORDER: &str = "ПР-17/ВР";
const FROM: &str = "Бухгалтерия, Сейткали Н.";
const WHAT: &str = "Акты приёмки работ на объекте за ноябрь";
const CONCLUSION: &str =
    "Комиссия анықтады: бригадир объектіге жіберу үшін ақша талап еткен. Факт подтверждён.";
const DECISION: &str = "Выговор бригадиру участка № 3";
const OUTSIDE: &str = "Ержан Сапаров, юрист";

fn ok(out: Output) -> String {
    crate::support::senim::assert_succeeded(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted, but: {why}");
    assert!(stderr.contains(why), "{stderr}");
}

fn passphrase(dir: &Path, login: &str) -> PathBuf {
    let file = dir.join(format!("{login}.pass"));
    std::fs::write(&file, format!("the key passphrase of {login}\n")).unwrap();
    file
}

/// Every byte under `dir` (the database, its WAL).
fn bytes_at_rest(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in support::files::files_under(dir) {
        all.extend(std::fs::read(entry).unwrap_or_default());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The appeal's audit events, from `journal show`'s history: (kind, actor,
/// detail).
fn events(config: &Path, number: &str) -> Vec<(String, String, Value)> {
    let shown =
        String::from_utf8_lossy(&run_cli(config, &["journal", "show", number]).stdout).into_owned();
    shown
        .split_once("history:")
        .map(|(_, h)| h)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            // "  #12     2026-12-16T…  kind  by actor  {detail}"
            let mut words = line.split_whitespace();
            let (_seq, _at, kind, _by, actor) = (
                words.next()?,
                words.next()?,
                words.next()?,
                words.next()?,
                words.next()?,
            );
            let detail = line.split_once(&format!("by {actor}"))?.1.trim();
            Some((
                kind.to_owned(),
                actor.to_owned(),
                serde_json::from_str(detail).unwrap_or(Value::Null),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_investigation_file_is_sealed_to_the_director_the_managers_and_the_commission() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = sealed_config(dir.path(), port, CHAIN_KEY);
    let dana = console_person(&config, dir.path(), "dana", &["director"]);
    let marat = console_person(&config, dir.path(), "marat", &["manager"]);
    let aset = console_person(&config, dir.path(), "aset", &["operator"]);
    let olga = console_person(&config, dir.path(), "olga", &["operator"]);
    let aigul = console_person(&config, dir.path(), "aigul", &["auditor"]);
    let keys = Keys::init_with_env(
        &config,
        dir.path(),
        &dana,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    let escrow = keys.escrow();
    let escrow_arg = escrow.to_str().unwrap();
    // Everyone has a key of their own; the Director and the manager read the
    // office key; Aset, a member of the commission, does not.
    for p in [&dana, &marat, &aset, &olga, &aigul] {
        keys.enroll(p, &format!("the key passphrase of {}", p.login));
    }
    for login in ["dana", "marat"] {
        ok(keys.add_reader(login));
    }
    let d = Daemon::start_with_env(
        dir.path(),
        config.clone(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    let number = answered_call(&d, "investigation-1").await;
    let n = number.as_str();

    // The order: only the Director's; its members must be persons who exist.
    refused(
        cli(
            &config,
            &marat,
            None,
            &[
                "investigation",
                "order",
                n,
                "--number",
                ORDER,
                "--member",
                "aset",
            ],
        ),
        "ordered: recorded only by the Director",
    );
    refused(
        cli(
            &config,
            &dana,
            None,
            &[
                "investigation",
                "order",
                n,
                "--number",
                ORDER,
                "--member",
                "nobody",
            ],
        ),
        "members: no active person with the login \"nobody\"",
    );
    // The Director orders it on the console's form (no key needed to record).
    let (_, director) = http_login(&d, "dana", PASSWORD).await;
    let director = director.expect("a session");
    let id: i64 =
        serde_json::from_slice::<Value>(&run_cli(&config, &["journal", "list", "--json"]).stdout)
            .ok()
            .and_then(|a| a["id"].as_i64())
            .expect("the appeal's id");
    let file_path = format!("/console/investigations/{id}");
    let form_page = page_text(&d, &director, &file_path).await;
    assert!(form_page.contains("id=\"order\""), "{form_page}");
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let csrf = csrf_of(&form_page);
        let (d, director, file_path) = (&d, &director, &file_path);
        async move {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            session_post(d, director, file_path, &form).await
        }
    };
    let r = post(vec![
        ("entry", "ordered"),
        ("number", ORDER),
        ("on", "2026-12-16"),
        ("members", "aset"),
        ("outside", OUTSIDE),
    ])
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    // A conclusion without its text, or without its finding, is refused,
    // naming the field.
    let r = post(vec![("entry", "conclusion"), ("text", "  ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("text: required"));
    let r = post(vec![("entry", "conclusion"), ("text", CONCLUSION)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("substantiated: required"));

    // The plain acts are refused: the file is the one way in.
    the_plain_path_is_refused(&d, &config, &dana, &marat, id, n).await;

    // The commission's work: a manager asks, the member records the receipt.
    ok(cli(
        &config,
        &marat,
        None,
        &[
            "investigation",
            "request",
            n,
            "--from",
            FROM,
            "--what",
            WHAT,
            "--on",
            "2026-12-16",
        ],
    ));
    refused(
        cli(
            &config,
            &olga,
            None,
            &["investigation", "request", n, "--from", "x", "--what", "y"],
        ),
        "recorded only by the Director, a manager or a member of the commission",
    );
    refused(
        cli(
            &config,
            &aset,
            None,
            &["investigation", "received", n, "--request", "2"],
        ),
        "request: there is no request 2",
    );
    ok(cli(
        &config,
        &aset,
        None,
        &[
            "investigation",
            "received",
            n,
            "--request",
            "1",
            "--on",
            "2026-12-16",
        ],
    ));
    refused(
        cli(
            &config,
            &aset,
            None,
            &["investigation", "received", n, "--request", "1"],
        ),
        "request: request 1 was answered already",
    );
    refused(
        cli(
            &config,
            &dana,
            None,
            &["investigation", "decide", n, "--decision", "disciplinary"],
        ),
        "the commission's reasoned conclusion comes first",
    );
    let conclusion = dir.path().join("conclusion.txt");
    std::fs::write(&conclusion, CONCLUSION).unwrap();
    ok(cli(
        &config,
        &aset,
        None,
        &[
            "investigation",
            "conclude",
            n,
            "--text-file",
            conclusion.to_str().unwrap(),
            "--substantiated",
            "yes",
        ],
    ));
    ok(cli(
        &config,
        &dana,
        None,
        &[
            "investigation",
            "extend",
            n,
            "--until",
            "2027-01-12",
            "--reference",
            "№ 31 от 16.12.2026",
            "--reason",
            "ожидается ответ прокуратуры",
        ],
    ));
    refused(
        cli(
            &config,
            &dana,
            None,
            &["investigation", "decide", n, "--decision", "other-measures"],
        ),
        "text: required",
    );
    ok(cli(
        &config,
        &dana,
        None,
        &[
            "investigation",
            "decide",
            n,
            "--decision",
            "disciplinary",
            "--text",
            DECISION,
        ],
    ));
    refused(
        cli(
            &config,
            &marat,
            None,
            &["investigation", "request", n, "--from", "x", "--what", "y"],
        ),
        "is decided",
    );

    // The auditors' export has the register's columns: who worked the appeal
    // (the persons who recorded its acts and entries, not the operator's
    // notes), the Director's decision (7.11) with its date; no identity, no
    // text of the file.
    let csv = ok(cli(
        &config,
        &aigul,
        None,
        &["journal", "export", "--format", "csv"],
    ));
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let cell = |name: &str| {
        let at = header.iter().position(|h| *h == name);
        at.and_then(|at| row.get(at).copied())
            .unwrap_or_else(|| panic!("no column {name}: {csv}"))
    };
    assert_eq!(cell("registration_number"), n, "{csv}");
    assert_eq!(cell("worked_by"), "dana; marat; aset", "{csv}");
    assert_eq!(cell("decision"), "disciplinary", "{csv}");
    assert_eq!(cell("decision_date"), "2026-12-16", "{csv}");
    assert_eq!(cell("reply_number"), "", "{csv}");
    for secret in [CONCLUSION, DECISION, WHAT, FROM, ORDER, "olga"] {
        assert!(!csv.contains(secret), "the export shows {secret:?}: {csv}");
    }

    // The chain: each entry in its author's name, with the acts it is.
    let chain = events(&config, n);
    let kinds: Vec<(&str, &str)> = chain
        .iter()
        .filter(|(k, ..)| k != "investigation_entry" && k != "investigation_access")
        .filter(|(k, ..)| {
            k.starts_with("investigation") || k.starts_with("materials") || k == "decision"
        })
        .map(|(k, a, _)| (k.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("investigation_ordered", "person:dana"),
            ("materials_requested", "person:marat"),
            ("materials_received", "person:aset"),
            ("investigation_extended", "person:dana"),
            ("decision", "person:dana"),
        ]
    );
    let entries: Vec<&str> = chain
        .iter()
        .filter(|(k, ..)| k == "investigation_entry")
        .map(|(_, _, d)| d["entry"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        entries,
        [
            "ordered",
            "materials_requested",
            "materials_received",
            "conclusion",
            "extended",
            "decided"
        ]
    );
    let found: Vec<&Value> = chain
        .iter()
        .filter(|(k, _, d)| k == "investigation_entry" && d["entry"] == "conclusion")
        .map(|(.., d)| &d["substantiated"])
        .collect();
    assert_eq!(found, [&Value::Bool(true)], "the report counts it (10.13)");
    let extended = chain
        .iter()
        .find(|(k, ..)| k == "investigation_extended")
        .map(|(.., d)| d["reason"].as_str().unwrap_or_default().to_owned());
    // The extension's reason (the written decision's reference) is kept out of
    // the chain, sealed (issue 20): `journal show` without a key says so.
    assert_eq!(extended.as_deref(), Some("(sealed)"));
    let shown =
        String::from_utf8_lossy(&run_cli(&config, &["journal", "show", n]).stdout).into_owned();
    assert!(shown.contains("\"status\": \"decided\""), "{shown}");
    for secret in [CONCLUSION, DECISION, WHAT, FROM, ORDER] {
        assert!(!shown.contains(secret), "the chain shows {secret:?}");
    }
    let verified = ok(run_cli(&config, &["journal", "verify"]));
    assert!(verified.contains("journal intact"), "{verified}");

    // Nothing of the file is stored plain.
    let at_rest = bytes_at_rest(&dir.path().join("data"));
    for secret in [CONCLUSION, DECISION, WHAT, FROM, ORDER, "Ержан Сапаров"] {
        assert!(!contains(&at_rest, secret), "{secret:?} is stored plain");
    }

    // It opens for a member (not a reader of the office key), the Director,
    // a manager and the escrow; never for an auditor or another operator.
    let aset_pass = dir.path().join("aset.pass");
    let file: Value = serde_json::from_str(&ok(cli(
        &config,
        &aset,
        Some(&aset_pass),
        &["investigation", "show", n, "--json"],
    )))
    .unwrap();
    let texts: Vec<String> = file["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains(CONCLUSION)), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains(ORDER) && t.contains("Ержан Сапаров")),
        "{texts:?}"
    );
    let readers = file["readers"].to_string();
    for reader in ["escrow", "person:aset", "person:dana", "person:marat"] {
        assert!(readers.contains(reader), "{readers}");
    }
    assert!(
        !readers.contains("aigul") && !readers.contains("olga"),
        "{readers}"
    );
    let text = ok(cli(
        &config,
        &marat,
        Some(&dir.path().join("marat.pass")),
        &["investigation", "show", n],
    ));
    assert!(
        text.contains(&format!("order:       № {ORDER} of 2026-12-16"))
            && text.contains(&format!(
                "request 1:   2026-12-16 from {FROM}: {WHAT} (received: 2026-12-16)"
            )),
        "{text}"
    );
    let by_escrow = ok(cli(
        &config,
        &dana,
        None,
        &["--escrow-key-file", escrow_arg, "investigation", "show", n],
    ));
    assert!(by_escrow.contains(DECISION), "{by_escrow}");
    for (p, login) in [(&aigul, "aigul"), (&olga, "olga")] {
        refused(
            cli(
                &config,
                p,
                Some(&dir.path().join(format!("{login}.pass"))),
                &["investigation", "show", n],
            ),
            "read only by the Director, the managers and the commission's members",
        );
    }
    let reads: Vec<(String, Value)> = events(&config, n)
        .into_iter()
        .filter(|(k, ..)| k == "investigation_read")
        .map(|(_, a, d)| (a, d["key"].clone()))
        .collect();
    assert_eq!(
        reads,
        [
            ("person:aset".to_owned(), Value::from("person:aset")),
            ("person:marat".to_owned(), Value::from("person:marat")),
            ("person:dana".to_owned(), Value::from("escrow")),
        ]
    );

    // On the console: the member's list and the file, opened with the key given
    // at the login; the auditor is refused.
    let (_, member) = http_login_with_key(&d, "aset", PASSWORD, "the key passphrase of aset").await;
    let member = member.expect("a session");
    assert_eq!(file["appeal_id"].as_i64(), Some(id));
    let get = async |cookie: String, path: String| session_get(&d, &cookie, &path).await;
    let list = get(member.clone(), "/console/investigations".into()).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert!(list.text().await.unwrap().contains(n));
    let page = get(member.clone(), format!("/console/investigations/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(CONCLUSION) && page.contains(ORDER), "{page}");
    let (_, auditor) = http_login(&d, "aigul", PASSWORD).await;
    let r = get(
        auditor.expect("a session"),
        format!("/console/investigations/{id}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The Director's page in the browser, as she sees it.
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser
        .goto(&d.url("/console/login?lang=ru"))
        .await
        .unwrap();
    for (field, value) in [
        ("login", "dana"),
        ("password", PASSWORD),
        ("passphrase", "the key passphrase of dana"),
    ] {
        browser
            .find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(&browser, Locator::Css("form button[type=submit]")).await;
    wait_for(&browser, |url| !url.contains("/console/login")).await;
    browser
        .goto(&d.url(&format!("/console/investigations/{id}")))
        .await
        .unwrap();
    let shown = browser
        .find(Locator::Id("file"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains(DECISION) && shown.contains("Сапаров"),
        "{shown}"
    );
    screenshot(&browser, "investigation").await;
    browser.close().await.unwrap();

    // An entry changed at rest is found by `journal verify`.
    drop(d);
    let db = support::database::connect_raw(&format!(
        "sqlite://{}",
        dir.path().join("data/senim.db").display()
    ))
    .await;
    senim::on_db!(&db, pool => sqlx::query(
        "UPDATE investigation_entries SET sealed = sealed || X'00' WHERE seq = 4",
    )
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    db.close().await;
    let out = run_cli(&config, &["journal", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "TAMPERED: investigation file of appeal {id}: entry 4 differs"
        )),
        "{text}"
    );
}

/// The plain deadline events of the investigation are refused on every
/// surface, naming the file: the API (even to the Director's token), `journal
/// event` and the console's act form.
async fn the_plain_path_is_refused(
    d: &Daemon,
    config: &Path,
    dana: &Person,
    marat: &Person,
    id: i64,
    number: &str,
) {
    const NAMES_THE_FILE: &str = "the investigation is recorded in its file";
    for (person, event) in [
        (dana, "investigation-ordered"),
        (marat, "materials-requested"),
        (dana, "decision"),
    ] {
        let mut args = vec!["journal", "event", number, event];
        if event == "decision" {
            args.extend(["--decision", "disciplinary"]);
        }
        refused(cli(config, person, None, &args), NAMES_THE_FILE);
    }
    let http = reqwest::Client::new();
    for event in [
        serde_json::json!({"event": "investigation_ordered", "on": "2026-12-16"}),
        serde_json::json!({"event": "decision", "decision": "disciplinary", "on": "2026-12-16"}),
    ] {
        let r = http
            .post(d.url(&format!("/v1/appeals/{id}/deadline-events")))
            .bearer_auth(&dana.token)
            .json(&event)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{event}");
        let body = r.text().await.unwrap();
        assert!(body.contains(NAMES_THE_FILE), "{body}");
    }
    let (_, cookie) = http_login(d, "dana", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let page = page_text(d, &cookie, &format!("/console/appeals/{id}")).await;
    assert!(
        page.contains("id=\"investigation-file\"")
            && !page.contains("value=\"investigation_ordered\"")
            && !page.contains("value=\"materials_requested\""),
        "the appeal's page links to the file, without plain forms: {page}"
    );
    let csrf = csrf_of(&page);
    let act = [
        ("act", "investigation_ordered"),
        ("on", "2026-12-16"),
        ("csrf", csrf.as_str()),
    ];
    let r = session_post(&d, &cookie, &format!("/console/appeals/{id}/act"), &act).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(NAMES_THE_FILE));
}

/// A chain key, so that `keys init` may follow; the people of the file.
fn unsealed_journal(dir: &Path) -> (PathBuf, u16) {
    let key_file = dir.join("chain.key");
    std::fs::write(&key_file, format!("{CHAIN_KEY}\n")).unwrap();
    let port = support::ports::free_port();
    let config = write_config(
        dir,
        port,
        "",
        &format!(
            "{}\n[journal]\nchain_key_file = \"{}\"\n",
            config(None),
            key_file.display()
        ),
    );
    (config, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sealing_the_file_keeps_its_rules_and_keys_init_seals_it_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = unsealed_journal(dir.path());
    let dana = console_person(&config, dir.path(), "dana", &["director"]);
    let marat = console_person(&config, dir.path(), "marat", &["manager"]);
    let aset = console_person(&config, dir.path(), "aset", &["operator"]);
    let olga = console_person(&config, dir.path(), "olga", &["operator"]);
    let aigul = console_person(&config, dir.path(), "aigul", &["auditor"]);
    let d = Daemon::start_with_env(
        dir.path(),
        config.clone(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    );
    let number = answered_call(&d, "investigation-2").await;
    let n = number.as_str();
    let id: i64 =
        serde_json::from_slice::<Value>(&run_cli(&config, &["journal", "list", "--json"]).stdout)
            .ok()
            .and_then(|a| a["id"].as_i64())
            .expect("the appeal's id");

    // The order is the Director's, with its number and commission, as when
    // sealed; no key is needed.
    let order = |p: &Person, number: &str| {
        cli(
            &config,
            p,
            None,
            &[
                "investigation",
                "order",
                n,
                "--number",
                number,
                "--on",
                "2026-12-16",
                "--member",
                "aset",
                "--outside",
                OUTSIDE,
            ],
        )
    };
    refused(
        order(&marat, ORDER),
        "ordered: recorded only by the Director",
    );
    refused(order(&dana, " "), "number: required");
    ok(order(&dana, ORDER));
    refused(
        order(&dana, ORDER),
        "is ordered already: record a change of the commission instead",
    );
    the_plain_path_is_refused(&d, &config, &dana, &marat, id, n).await;

    // The commission's work: a manager who is not a member asks, the member
    // records the receipt; another operator may not.
    ok(cli(
        &config,
        &marat,
        None,
        &[
            "investigation",
            "request",
            n,
            "--from",
            FROM,
            "--what",
            WHAT,
        ],
    ));
    refused(
        cli(
            &config,
            &olga,
            None,
            &["investigation", "received", n, "--request", "1"],
        ),
        "recorded only by the Director, a manager or a member of the commission",
    );
    ok(cli(
        &config,
        &aset,
        None,
        &["investigation", "received", n, "--request", "1"],
    ));
    // The decision waits for the conclusion (7.10, 7.11), which says whether
    // the report was found substantiated.
    refused(
        cli(
            &config,
            &dana,
            None,
            &["investigation", "decide", n, "--decision", "disciplinary"],
        ),
        "decision: the commission's reasoned conclusion comes first (7.10, 7.11)",
    );
    let conclusion = dir.path().join("conclusion.txt");
    std::fs::write(&conclusion, CONCLUSION).unwrap();
    let conclude = |found: Option<&str>| {
        let mut args = vec![
            "investigation",
            "conclude",
            n,
            "--text-file",
            conclusion.to_str().unwrap(),
        ];
        if let Some(found) = found {
            args.extend(["--substantiated", found]);
        }
        cli(&config, &aset, None, &args)
    };
    refused(conclude(None), "--substantiated");
    refused(conclude(Some("maybe")), "yes or no");
    ok(conclude(Some("no")));
    ok(cli(
        &config,
        &dana,
        None,
        &[
            "investigation",
            "decide",
            n,
            "--decision",
            "stop-consideration",
        ],
    ));
    refused(
        cli(
            &config,
            &marat,
            None,
            &["investigation", "request", n, "--from", "x", "--what", "y"],
        ),
        "is decided",
    );

    // The chain holds the same as when sealed: each entry with its hash, the
    // acts, the conclusion's finding; the status is decided.
    let chain = events(&config, n);
    let entries: Vec<&str> = chain
        .iter()
        .filter(|(k, ..)| k == "investigation_entry")
        .map(|(_, _, d)| d["entry"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        entries,
        [
            "ordered",
            "materials_requested",
            "materials_received",
            "conclusion",
            "decided"
        ]
    );
    let acts: Vec<(&str, &str)> = chain
        .iter()
        .filter(|(k, ..)| {
            [
                "investigation_ordered",
                "materials_requested",
                "materials_received",
                "decision",
            ]
            .contains(&k.as_str())
        })
        .map(|(k, a, _)| (k.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        acts,
        [
            ("investigation_ordered", "person:dana"),
            ("materials_requested", "person:marat"),
            ("materials_received", "person:aset"),
            ("decision", "person:dana"),
        ]
    );
    let found: Vec<&Value> = chain
        .iter()
        .filter(|(k, _, d)| k == "investigation_entry" && d["entry"] == "conclusion")
        .map(|(.., d)| &d["substantiated"])
        .collect();
    assert_eq!(found, [&Value::Bool(false)]);
    let shown =
        String::from_utf8_lossy(&run_cli(&config, &["journal", "show", n]).stdout).into_owned();
    assert!(shown.contains("\"status\": \"decided\""), "{shown}");
    for secret in [CONCLUSION, WHAT, FROM, ORDER] {
        assert!(!shown.contains(secret), "the chain shows {secret:?}");
    }

    // Read by role and membership, without a key; each reading recorded.
    let file: Value = serde_json::from_str(&ok(cli(
        &config,
        &aset,
        None,
        &["investigation", "show", n, "--json"],
    )))
    .unwrap();
    assert!(file.to_string().contains(CONCLUSION), "{file}");
    assert_eq!(file["sealed"], Value::Bool(false));
    let readers = file["readers"].to_string();
    for reader in ["person:aset", "person:dana", "person:marat"] {
        assert!(readers.contains(reader), "{readers}");
    }
    assert!(
        !readers.contains("aigul") && !readers.contains("olga"),
        "{readers}"
    );
    for p in [&aigul, &olga] {
        refused(
            cli(&config, p, None, &["investigation", "show", n]),
            "read only by the Director, the managers and the commission's members",
        );
    }
    let (_, member) = http_login(&d, "aset", PASSWORD).await;
    let member = member.expect("a session");
    let page = session_get(&d, &member, &format!("/console/investigations/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(CONCLUSION)
            && page.contains(ORDER)
            && page.contains("Необоснованно")
            && page.contains("Кто может читать материалы"),
        "{page}"
    );
    // Decided (7.11): the page says nothing more is recorded, and offers no form.
    assert!(
        page.contains("id=\"decided\"") && !page.contains("id=\"request\""),
        "{page}"
    );
    let reads: Vec<(String, Value)> = events(&config, n)
        .into_iter()
        .filter(|(k, ..)| k == "investigation_read")
        .map(|(_, a, d)| (a, d["key"].clone()))
        .collect();
    assert_eq!(
        reads,
        [
            ("person:aset".to_owned(), Value::Null),
            ("person:aset".to_owned(), Value::Null),
        ]
    );
    let verified = ok(run_cli(&config, &["journal", "verify"]));
    assert!(verified.contains("journal intact"), "{verified}");
    assert!(
        contains(&bytes_at_rest(&dir.path().join("data")), CONCLUSION),
        "kept plain before sealing"
    );

    // `keys init` seals the file in place with the rest: the plain bytes are
    // gone, the chain gives each entry's new hash, `journal verify` holds, and
    // the escrow opens it.
    assert!(d.terminate().success());
    let escrow = dir.path().join("escrow.key");
    let escrow_arg = escrow.to_str().unwrap();
    let out = ok(cli(
        &config,
        &dana,
        None,
        &["keys", "init", "--escrow-out", escrow_arg],
    ));
    assert!(out.contains("1 investigation file(s)"), "{out}");
    let at_rest = bytes_at_rest(&dir.path().join("data"));
    for secret in [CONCLUSION, WHAT, FROM, ORDER, "Ержан Сапаров"] {
        assert!(!contains(&at_rest, secret), "{secret:?} is stored plain");
    }
    let verified = ok(run_cli(&config, &["journal", "verify"]));
    assert!(verified.contains("journal intact"), "{verified}");
    let chain = events(&config, n);
    let sealed: Vec<&Value> = chain
        .iter()
        .filter(|(k, a, _)| k == "investigation_sealed" && a == "person:dana")
        .map(|(.., d)| d)
        .collect();
    assert_eq!(sealed.len(), 1, "{chain:?}");
    assert_eq!(sealed[0]["entries"].as_array().map(Vec::len), Some(5));
    assert!(
        chain.iter().any(|(k, _, d)| k == "investigation_access"
            && d["granted"] == serde_json::json!(["escrow"])),
        "{chain:?}"
    );
    let by_escrow = ok(cli(
        &config,
        &dana,
        None,
        &["--escrow-key-file", escrow_arg, "investigation", "show", n],
    ));
    assert!(by_escrow.contains(CONCLUSION), "{by_escrow}");
    // Sealed now, it opens only with a key.
    refused(
        cli(
            &config,
            &aset,
            Some(&passphrase(dir.path(), "aset")),
            &["investigation", "show", n],
        ),
        "",
    );
    // And an entry changed at rest after the sealing is still found.
    let db = support::database::connect_raw(&format!(
        "sqlite://{}",
        dir.path().join("data/senim.db").display()
    ))
    .await;
    senim::on_db!(&db, pool => sqlx::query(
        "UPDATE investigation_entries SET sealed = sealed || X'00' WHERE seq = 4",
    )
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    db.close().await;
    let out = run_cli(&config, &["journal", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "TAMPERED: investigation file of appeal {id}: entry 4 differs"
        )),
        "{text}"
    );
}
