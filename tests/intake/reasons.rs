//! The free-text reasons of acts at rest (issue 20): a classification's and a
//! "not considered" reason, posted through the API, are kept out of the audit
//! chain (the event names them by a hash) in the Journal's `appeal_reasons`:
//! once sealing is on, the words are nowhere in the SQLite file, its WAL or a
//! `pg_dump`; a reader with the key reads them back, `journal show` without
//! one says "(sealed)"; an edited stored reason is a `verify` finding; the
//! appeal's destruction under the records schedule deletes them and the chain
//! still verifies.

use crate::support;

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use senim::clock::Clock;
use senim::journal::{AppealId, NewAppeal, Reporter, SourceRef};
use serde_json::{Value, json};
use support::app::TestApp;
use support::scene::new_appeal;
use support::scene::{self, chain_key_toml, manager_toml};
use support::senim::Served;

const MANAGER_TOKEN: &str = "manager-token-0123456789";
const CLOCK: &str = "2026-12-16T11:00:00+05:00";
/// The classification's reason given before sealing was on.
const BEFORE: &str = "взятка за поверку весов";
/// The reasons given once sealing is on.
const CLASSIFIED: &str = "угроза взрыва на элеваторе";
const NOT_CONSIDERED: &str = "анонимно без признаков преступления, Жаксыбеков";

fn config(dir: &Path) -> String {
    format!(
        "\n{}\n{}",
        chain_key_toml(dir, &"k".repeat(40)),
        manager_toml("aigul", MANAGER_TOKEN)
    )
}

async fn post(d: &TestApp, path: &str, body: &Value) -> Value {
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .post(d.url(path))
        .bearer_auth(MANAGER_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn register(d: &TestApp, n: &str) -> AppealId {
    d.app
        .journal
        .register(NewAppeal {
            reporter: Reporter {
                name: Some("Арман Жаксыбеков".into()),
                ..Reporter::default()
            },
            substance: Some("Текст обращения".into()),
            ..new_appeal(SourceRef::new("test", n), d.clock.now())
        })
        .await
        .unwrap()
        .into_appeal()
        .id
}

async fn classify(d: &TestApp, id: AppealId, reason: &str) {
    post(
        d,
        &format!("/v1/appeals/{}/classification", id.0),
        &json!({ "category": "not_corruption", "reason": reason }),
    )
    .await;
}

/// Every place `needle` is at rest: the SQLite file and its WAL, or a pg_dump.
fn found_at_rest(dir: &Path, database_url: &str, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut look = |name: String, bytes: Vec<u8>| {
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            found.push(name);
        }
    };
    if database_url.is_empty() {
        for file in ["senim.db", "senim.db-wal"] {
            let path = dir.join("data").join(file);
            look(file.into(), std::fs::read(&path).unwrap_or_default());
        }
    } else {
        look("pg_dump".into(), support::database::pg_dump(database_url));
    }
    found
}

async fn rows(d: &TestApp, id: AppealId) -> i64 {
    senim::on_db!(&d.app.db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM appeal_reasons WHERE appeal_id = $1",
    )
    .bind(id.0)
    .fetch_one(pool)
    .await)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_are_sealed_read_back_with_the_key_and_destroyed_on_sqlite() {
    reasons_at_rest("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_are_sealed_read_back_with_the_key_and_destroyed_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    reasons_at_rest(&db.url).await;
}

async fn reasons_at_rest(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(CLOCK)
        .unwrap()
        .to_utc();
    let d = TestApp::spawn(dir.path(), database_url, &config(dir.path()), at).await;
    let app = &d.app;

    // Before sealing: the reason is kept apart already, plain, named by a
    // salted hash in the chain.
    let earlier = register(&d, "1").await;
    classify(&d, earlier, BEFORE).await;
    let history = app.journal.history(earlier).await.unwrap();
    assert!(
        history.iter().all(|e| !e.detail.contains("поверку")),
        "the chain keeps no reason's words"
    );
    let plain = app.journal.reasons(earlier, None).await.unwrap();
    let classified = history.iter().find(|e| e.kind == "classified").unwrap();
    let detail: Value = serde_json::from_str(&classified.detail).unwrap();
    assert_eq!(
        plain.of_detail(&detail),
        Some(senim::journal::reasons::Reason::Text(BEFORE.into()))
    );

    // `keys init`, as the CLI does it: the Journal sealed in place.
    let escrow = scene::keys_init(app, "test", async |tx| {
        app.journal
            .seal_existing_in(tx, "person:dana")
            .await
            .unwrap();
    })
    .await;
    let unlocked = scene::office_key(app, escrow).await;

    // After: a classification and a "not considered", through the API.
    let sealed = register(&d, "2").await;
    classify(&d, sealed, CLASSIFIED).await;
    post(
        &d,
        &format!("/v1/appeals/{}/acts", sealed.0),
        &json!({ "act": "not_considered", "reason": NOT_CONSIDERED }),
    )
    .await;
    app.db.checkpoint().await.unwrap();
    for word in ["поверку", "взрыва", "Жаксыбеков"] {
        assert_eq!(
            found_at_rest(dir.path(), database_url, word),
            Vec::<String>::new(),
            "{word} at rest"
        );
    }
    assert!(app.journal.verify().await.unwrap().is_intact());

    // The reader with the key reads them; without it they are "sealed".
    for (id, words) in [
        (earlier, vec![BEFORE]),
        (sealed, vec![CLASSIFIED, NOT_CONSIDERED]),
    ] {
        let opened = app.journal.reasons(id, Some(&unlocked)).await.unwrap();
        let keyless = app.journal.reasons(id, None).await.unwrap();
        let history = app.journal.history(id).await.unwrap();
        let shown: Vec<String> = history
            .iter()
            .map(|e| opened.shown_text(&e.detail, "(sealed)", "(destroyed)"))
            .collect();
        for word in words {
            assert!(shown.iter().any(|s| s.contains(word)), "{word}: {shown:?}");
        }
        let hidden: String = history
            .iter()
            .map(|e| keyless.shown_text(&e.detail, "(sealed)", "(destroyed)"))
            .collect();
        assert!(
            hidden.contains("(sealed)")
                && !hidden.contains("взрыва")
                && !hidden.contains("поверку"),
            "{hidden}"
        );
    }
    let number = app
        .journal
        .get(earlier)
        .await
        .unwrap()
        .registration_number
        .to_string();
    let show = support::senim::run_cli(&d.config, &["journal", "show", &number]);
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.contains("(sealed)") && !show.contains("поверку"),
        "journal show without a key: {show}"
    );

    // The database administrator edits a stored reason: a finding.
    let original: Vec<u8> = senim::on_db!(&app.db, pool => sqlx::query_scalar(
        "SELECT envelope FROM appeal_reasons WHERE appeal_id = $1 AND seq = 1",
    )
    .bind(sealed.0)
    .fetch_one(pool)
    .await)
    .unwrap();
    let set = |bytes: Vec<u8>| async move {
        senim::on_db!(&app.db, pool => sqlx::query(
            "UPDATE appeal_reasons SET envelope = $1 WHERE appeal_id = $2 AND seq = 1",
        )
        .bind(bytes)
        .bind(sealed.0)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap()
    };
    let forged = app
        .sealer
        .seal("классификация по просьбе".as_bytes())
        .unwrap()
        .unwrap();
    set(forged.bytes).await;
    let report = app.journal.verify().await.unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.what.contains("reason 1") && f.problem.contains("edited")),
        "{:?}",
        report.findings
    );
    set(original).await;
    assert!(app.journal.verify().await.unwrap().is_intact());
    // Deleted outside the Journal: a finding too.
    senim::on_db!(&app.db, pool => sqlx::query(
        "DELETE FROM appeal_reasons WHERE appeal_id = $1 AND seq = 2",
    )
    .bind(sealed.0)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    let report = app.journal.verify().await.unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.what.contains("reason 2") && f.problem.contains("deleted")),
        "{:?}",
        report.findings
    );

    // Destroyed under the records schedule (what `journal purge` does of an
    // ended appeal): its reasons go with it, named in the event; the chain
    // verifies.
    let destroyed = support::scene::destroyed_on_schedule(&app.journal, sealed).await;
    assert_eq!(rows(&d, destroyed.id).await, 0);
    let last = app.journal.history(sealed).await.unwrap().pop().unwrap();
    assert!(last.detail.contains("\"reasons\""), "{}", last.detail);
    assert!(app.journal.verify().await.unwrap().is_intact());
    d.stop().await;
}
