//! The documents an office sends (issue 12 §2), against the daemon assembled in
//! the test's process and the real `senim` binary: the cover letter of 10.7 is
//! refused until the Director has consented, then takes gapless outgoing
//! numbers per year (`OUT-2026-0001`, `0002`, then `OUT-2027-0001`), in Kazakh
//! and Russian, as a DOCX whose `word/document.xml` holds the numbers and both
//! languages and a PDF whose text (`pdftotext`) holds them too, Kazakh letters
//! included, and neither names the caller. The materials package is one ZIP
//! whose manifest matches its files. Each is a `document_issued` event in the
//! appeal's chain, and `journal verify` stays green. On the console, the
//! manager's button makes the letter and offers its files as attachments. The
//! register is gapless on PostgreSQL too, under concurrent letters.

mod support;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use senim::cases::Act;
use senim::journal::{Appeal, AppealKey};
use sha2::{Digest, Sha256};
use support::app::TestApp;
use support::console::{PASSWORD, PBX_TOKEN, console_person, csrf_of, http_login, no_redirects};
use support::senim::{Person, Served, command, person, run_cli};
use support::time::astana;

const CALLER: &str = "+77011234567";

/// `[documents]` as an office fills it in: Kazakh and Russian names.
const DOCUMENTS: &str = r#"
[documents]
enterprise_name = { kk = "«Қазақстан стандарттау және метрология институты» РМК", ru = "РГП «Казахстанский институт стандартизации и метрологии»" }
director_name = "Ж. С. Жаһанова"
director_title = { kk = "Бас директор", ru = "Генеральный директор" }
anti_corruption_addressee = { kk = "Қазақстан Республикасы Сыбайлас жемқорлыққа қарсы іс-қимыл агенттігінің Астана қаласы бойынша департаменті", ru = "Департамент Агентства Республики Казахстан по противодействию коррупции по городу Астане" }
anti_corruption_address = "010000, Астана қ.; Мәңгілік Ел даңғылы, 8"
"#;

fn config() -> String {
    format!("{}\n{DOCUMENTS}", support::console::config(None))
}

fn now() -> DateTime<Utc> {
    astana(2026, 12, 16, 11, 0)
}

/// An answered call on the trust line: its appeal.
async fn call(d: &TestApp, call_id: &str) -> Appeal {
    let r = reqwest::Client::new()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(PBX_TOKEN)
        .json(&serde_json::json!({
            "call_id": call_id,
            "caller": CALLER,
            "start": "2026-12-16T10:40:00+05:00",
            "answer": "2026-12-16T10:40:09+05:00",
            "end": "2026-12-16T10:52:00+05:00",
            "disposition": "answered",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: serde_json::Value = r.json().await.unwrap();
    let number = body["registration_number"].as_str().unwrap();
    let key: AppealKey = number.parse().unwrap();
    d.app.journal.find(&key).await.unwrap()
}

/// The Director's word on sending the report (10.6, 10.7), in her name.
async fn consent(d: &TestApp, appeal: &Appeal, send: bool) {
    let act = Act::Consent {
        send,
        reason: if send { "" } else { "no facts" }.into(),
    };
    d.app
        .case()
        .record(
            appeal.id,
            &act,
            "person:dana",
            d.app.clock.now(),
            d.app.today(),
        )
        .await
        .unwrap();
}

/// `senim --as <person> <args>`, its clock at `clock` (RFC 3339), else at the
/// daemon's.
fn cli(config: &Path, who: &Person, clock: Option<&str>, args: &[&str]) -> Output {
    let mut c = command();
    c.arg("--config")
        .arg(config)
        .args(["--as", &who.login])
        .args(args)
        .env("SENIM_TOKEN", &who.token);
    c.env(
        "TEST_SENIM_CLOCK_START",
        clock.unwrap_or("2026-12-16T11:00:00+05:00"),
    );
    c.output().expect("run senim")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The one file in `dir` ending in `suffix`.
fn file_in(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {suffix} in {}: {found:?}",
        dir.display()
    );
    found[0].clone()
}

/// The DOCX's `word/document.xml`.
fn docx_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX is a ZIP");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// The PDF's text, as `pdftotext` reads it.
fn pdf_text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils: scripts/install-test-deps.sh)");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn assert_letter(docx: &[u8], pdf: &Path, outgoing: &str, registration: &str) {
    let xml = docx_xml(docx);
    for want in [
        outgoing,
        registration,
        "Сыбайлас жемқорлық туралы хабарламаны жолдау туралы",
        "О направлении сообщения о коррупционном правонарушении",
        "Жаһанова",
    ] {
        assert!(xml.contains(want), "the DOCX says {want:?}");
    }
    let text = pdf_text(pdf);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        outgoing,
        registration,
        "Шығ. №",
        "Исх. №",
        "мемлекеттік құпия",
        "государственной тайной",
        "Генеральный директор",
    ] {
        assert!(flat.contains(want), "the PDF says {want:?}: {text}");
    }
    for letter in ["ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "һ", "і"] {
        assert!(text.contains(letter), "the PDF holds {letter}: {text}");
    }
    for secret in [CALLER, "7011234567"] {
        assert!(
            !xml.contains(secret) && !text.contains(secret),
            "no identity"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_letters_take_gapless_numbers_per_year_only_with_the_directors_consent() {
    let dir = tempfile::tempdir().unwrap();
    let d = TestApp::spawn(dir.path(), "", &config(), now()).await;
    let config = d.config.clone();
    let marat = person(&config, "marat", &["manager"]);
    let aigerim = person(&config, "aigerim", &["auditor"]);
    let first = call(&d, "doc-1").await;
    let second = call(&d, "doc-2").await;
    let (n1, n2) = (
        first.registration_number.to_string(),
        second.registration_number.to_string(),
    );
    let out = |name: &str| dir.path().join(name);

    // Without the Director's consent, no letter; nor after she refused.
    let o = out("refused");
    let refused = cli(
        &config,
        &marat,
        None,
        &["documents", "cover-letter", &n1, "-o", o.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("only once the Director has consented"),
        "{}",
        text(&refused)
    );
    consent(&d, &first, false).await;
    let refused = cli(
        &config,
        &marat,
        None,
        &["documents", "cover-letter", &n1, "-o", o.to_str().unwrap()],
    );
    assert!(text(&refused).contains("consented"), "{}", text(&refused));
    // An auditor makes none.
    consent(&d, &first, true).await;
    let refused = cli(
        &config,
        &aigerim,
        None,
        &["documents", "cover-letter", &n1, "-o", o.to_str().unwrap()],
    );
    assert!(
        text(&refused).contains("role of manager or director"),
        "{}",
        text(&refused)
    );

    // With it: OUT-2026-0001, then 0002 for the second appeal.
    let o1 = out("letter-1");
    let made = cli(
        &config,
        &marat,
        None,
        &["documents", "cover-letter", &n1, "-o", o1.to_str().unwrap()],
    );
    assert!(made.status.success(), "{}", text(&made));
    assert!(text(&made).contains("OUT-2026-0001"), "{}", text(&made));
    consent(&d, &second, true).await;
    let o2 = out("letter-2");
    let made = cli(
        &config,
        &marat,
        None,
        &["documents", "cover-letter", &n2, "-o", o2.to_str().unwrap()],
    );
    assert!(text(&made).contains("OUT-2026-0002"), "{}", text(&made));
    // A new year starts again at 0001.
    let o3 = out("letter-3");
    let made = cli(
        &config,
        &marat,
        Some("2027-01-12T10:00:00+05:00"),
        &["documents", "cover-letter", &n1, "-o", o3.to_str().unwrap()],
    );
    assert!(text(&made).contains("OUT-2027-0001"), "{}", text(&made));

    // The files: 0600, the DOCX and the PDF say the numbers in both languages.
    let docx = file_in(&o1, ".docx");
    let pdf = file_in(&o1, ".pdf");
    assert_eq!(mode(&docx), 0o600);
    assert_eq!(mode(&pdf), 0o600);
    assert_letter(&std::fs::read(&docx).unwrap(), &pdf, "OUT-2026-0001", &n1);
    for (page, name) in [("1", "cover-letter"), ("2", "cover-letter-ru")] {
        let png = support::pdf::render_page(&pdf, page, name);
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    }

    // The register lists the three, with the files' SHA-256 as written.
    let list = cli(&config, &marat, None, &["documents", "list", "--json"]);
    let entries: Vec<serde_json::Value> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let numbers: Vec<&str> = entries
        .iter()
        .map(|e| e["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["OUT-2026-0001", "OUT-2026-0002", "OUT-2027-0001"]);
    assert_eq!(entries[0]["issued_on"], "2026-12-16");
    assert_eq!(entries[0]["kind"], "cover_letter");
    assert_eq!(entries[0]["created_by"], "person:marat");
    let pdf_sha = sha256(&std::fs::read(&pdf).unwrap());
    assert!(
        entries[0]["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["format"] == "pdf" && f["sha256"] == pdf_sha.as_str()),
        "{entries:?}"
    );
    let year = cli(
        &config,
        &marat,
        None,
        &["documents", "list", "--year", "2027"],
    );
    assert!(text(&year).contains("1 document(s)"), "{}", text(&year));

    // The materials package: one ZIP, 0600, its manifest matching its files.
    let zip_path = out("package.zip");
    let made = cli(
        &config,
        &marat,
        None,
        &[
            "journal",
            "materials",
            &n1,
            "--zip",
            zip_path.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    assert_eq!(mode(&zip_path), 0o600);
    let bytes = std::fs::read(&zip_path).unwrap();
    let package_sha = sha256(&bytes);
    assert!(text(&made).contains(&package_sha), "{}", text(&made));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let mut manifest = String::new();
    zip.by_name("MANIFEST.sha256")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let mut listed = Vec::new();
    for line in manifest.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        let mut content = Vec::new();
        zip.by_name(name)
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(sha256(&content), hash, "{name}");
        listed.push(name.to_owned());
    }
    assert_eq!(listed, ["appeal.json", "call-01.json", "events.json"]);
    assert_eq!(zip.len(), 4, "the files and the manifest");
    let mut events = String::new();
    zip.by_name("events.json")
        .unwrap()
        .read_to_string(&mut events)
        .unwrap();
    assert!(events.contains("document_issued") && events.contains("OUT-2026-0001"));
    let again = cli(
        &config,
        &marat,
        None,
        &[
            "journal",
            "materials",
            &n1,
            "--zip",
            zip_path.to_str().unwrap(),
        ],
    );
    assert!(
        text(&again).contains("exists"),
        "never over a file: {}",
        text(&again)
    );

    // Each is in the chain, and the chain holds.
    let show = text(&run_cli(&config, &["journal", "show", &n1]));
    let issued: Vec<&str> = show
        .lines()
        .filter(|l| l.contains("document_issued"))
        .collect();
    assert_eq!(issued.len(), 3, "two letters and the package: {show}");
    assert!(
        issued[0].contains("OUT-2026-0001") && issued[0].contains(&pdf_sha),
        "{show}"
    );
    assert!(issued[0].contains("by person:marat"), "{show}");
    assert!(issued[1].contains("OUT-2027-0001"), "{show}");
    assert!(
        issued[2].contains("materials_package") && issued[2].contains(&package_sha),
        "{show}"
    );
    assert!(show.contains("\"purpose\":\"materials_package\""), "{show}");
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_makes_the_cover_letter_on_the_appeals_page_and_downloads_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = TestApp::spawn(dir.path(), "", &config(), now()).await;
    console_person(&d.config, dir.path(), "marat", &["manager"]);
    console_person(&d.config, dir.path(), "aigerim", &["auditor"]);
    let appeal = call(&d, "console-doc-1").await;
    let (_, cookie) = http_login(&d, "marat", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let client = no_redirects();
    let get = |path: String| {
        client
            .get(d.url(&path))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
    };
    let page_path = format!("/console/appeals/{}", appeal.id);
    let page = get(page_path.clone()).await.unwrap().text().await.unwrap();
    assert!(
        !page.contains("id=\"cover-letter\""),
        "no button before consent"
    );
    assert!(
        page.contains("Сопроводительное письмо формируется после согласия Директора"),
        "the page says what the letter waits for: {page}"
    );
    let post = |csrf: String| {
        client
            .post(d.url(&format!("/console/appeals/{}/cover-letter", appeal.id)))
            .header(reqwest::header::COOKIE, &cookie)
            .form(&[("csrf", csrf)])
            .send()
    };
    let r = post(csrf_of(&page)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("only once the Director has consented")
    );

    consent(&d, &appeal, true).await;
    let page = get(page_path.clone()).await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"cover-letter\""), "{page}");
    let r = post("forged".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF checked");
    let r = post(csrf_of(&page)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = get(page_path).await.unwrap().text().await.unwrap();
    assert!(page.contains("OUT-2026-0001"), "{page}");
    assert!(
        page.contains(
            "id=\"forward-reference\" type=\"text\" name=\"reference\" value=\"OUT-2026-0001\""
        ),
        "the dispatch's reference is the outgoing number: {page}"
    );
    let entry = &d.app.documents().list(Some(appeal.id), None).await.unwrap()[0];
    for (format, media) in [
        ("pdf", "application/pdf"),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ] {
        let path = format!("/console/documents/{}/{format}", entry.id);
        assert!(page.contains(&path), "the page offers {path}");
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], media);
        let disposition = r.headers()[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment;")
                && disposition.contains("OUT-2026-0001-cover-letter"),
            "{disposition}"
        );
        let bytes = r.bytes().await.unwrap();
        let kept = entry
            .files
            .iter()
            .find(|f| f.format.as_str() == format)
            .unwrap();
        assert_eq!(sha256(&bytes), kept.sha256, "the bytes as issued");
    }
    let r = get(format!("/console/documents/{}/exe", entry.id))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get("/console/documents/999999/pdf".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Not without a session, nor for the auditor.
    let r = client
        .get(d.url(&format!("/console/documents/{}/pdf", entry.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, auditor) = http_login(&d, "aigerim", PASSWORD).await;
    let r = client
        .get(d.url(&format!("/console/documents/{}/pdf", entry.id)))
        .header(reqwest::header::COOKIE, auditor.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let report = d.app.journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outgoing_register_is_gapless_per_year_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let d = TestApp::spawn(dir.path(), &db.url, &config(), now()).await;
    let mut appeals = Vec::new();
    for n in 0..4 {
        let appeal = call(&d, &format!("pg-doc-{n}")).await;
        consent(&d, &appeal, true).await;
        appeals.push(appeal);
    }
    // Four letters at once: four numbers, none twice, none skipped.
    let documents = d.app.documents();
    let issued = futures_util::future::join_all(
        appeals
            .iter()
            .map(|a| documents.cover_letter(a.id, "person:marat")),
    )
    .await;
    let mut numbers: Vec<String> = issued
        .into_iter()
        .map(|i| i.unwrap().entry.number)
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        [
            "OUT-2026-0001",
            "OUT-2026-0002",
            "OUT-2026-0003",
            "OUT-2026-0004"
        ]
    );
    d.clock.set(astana(2027, 1, 12, 10, 0));
    let next = documents
        .cover_letter(appeals[0].id, "person:marat")
        .await
        .unwrap();
    assert_eq!(next.entry.number, "OUT-2027-0001");
    assert_eq!(next.entry.issued_on.to_string(), "2027-01-12");
    assert_eq!(documents.list(None, Some(2026)).await.unwrap().len(), 4);
    let (entry, file, bytes) = documents
        .file(next.entry.id, senim::documents::Format::Pdf)
        .await
        .unwrap();
    assert_eq!(entry.number, "OUT-2027-0001");
    assert_eq!(sha256(&bytes), file.sha256);
    let report = d.app.journal.verify().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    d.stop().await;
}
