//! The documents an office sends (issue 12 §2), against the daemon assembled in
//! the test's process and the real `senim` binary: the cover letter of 10.7 is
//! refused until the Director has consented, then takes gapless outgoing
//! numbers per year (`OUT-2026-0001`, `0002`, then `OUT-2027-0001`), in Kazakh
//! and Russian, as a DOCX whose `word/document.xml` holds the numbers and both
//! languages and a PDF whose text (`pdftotext`) holds them too, Kazakh letters
//! included, and neither names the caller. The letter waits for the
//! materials package, one ZIP whose manifest matches its files, with printable
//! copies and the count of pages of each enclosure: the letter lists them
//! (`pdftotext` reads the pages, the attachments' and the recording's length),
//! and is refused once the materials outgrew the package. Each is a
//! `document_issued` event in the appeal's chain (the package's holding the
//! count, never a name), and `journal verify` stays green. On the console, the
//! manager's button makes the letter and offers its files as attachments. The
//! register is gapless on PostgreSQL too, under concurrent letters.

use crate::support;

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
use support::console::{
    PASSWORD, console_person, csrf_of, download_disposition, http_login, no_redirects, session_get,
    session_post,
};
use support::eventually::{eventually, until};
use support::scene::{CALLER, post_answered_call};
use support::senim::output_text as text;
use support::senim::{Person, Served, command, person, run_cli};
use support::time::astana;

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
    let body = post_answered_call(d, call_id, "2026-12-16").await;
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
            &support::rules::permitted(&act, "person:dana"),
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

fn assert_letter(docx: &[u8], pdf: &Path, outgoing: &str, registration: &str) {
    let xml = support::pdf::docx_xml(docx);
    for want in [
        outgoing,
        registration,
        "Сыбайлас жемқорлық туралы хабарламаны жолдау туралы",
        "О направлении сообщения о коррупционном правонарушении",
        "Жаһанова",
    ] {
        assert!(xml.contains(want), "the DOCX says {want:?}");
    }
    let text = support::pdf::text(pdf);
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

/// White space folded (pdftotext breaks lines, no-break spaces included).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `senim journal materials <appeal> --zip <file>` as `who`.
fn package(config: &Path, who: &Person, appeal: &str, file: &Path) -> Output {
    cli(
        config,
        who,
        None,
        &[
            "journal",
            "materials",
            appeal,
            "--zip",
            file.to_str().unwrap(),
        ],
    )
}

/// `package`, which must succeed.
fn packaged(config: &Path, who: &Person, appeal: &str, file: &Path) -> Output {
    let made = package(config, who, appeal, file);
    assert!(made.status.success(), "{}", text(&made));
    made
}

/// The appeal's materials package, made in the test's process.
async fn package_in(d: &TestApp, appeal: &Appeal, file: &Path) {
    let unlocked = senim::sealing::Unlocked::without_keys("person:marat");
    d.app
        .documents()
        .package(
            d.app.journal.get(appeal.id).await.unwrap(),
            &unlocked,
            "person:marat",
            file,
        )
        .await
        .unwrap();
}

/// Checks each file of a package against its manifest; the names listed, and
/// the manifest.
fn check_manifest(bytes: &[u8]) -> (Vec<String>, String) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut manifest = String::new();
    zip.by_name("MANIFEST.sha256")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let mut listed = Vec::new();
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let (hash, name) = line.split_once("  ").unwrap();
        let mut content = Vec::new();
        zip.by_name(name)
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(sha256(&content), hash, "{name}");
        listed.push(name.to_owned());
    }
    assert_eq!(zip.len(), listed.len() + 1, "the files and the manifest");
    (listed, manifest)
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
    let refused = |who: &Person| {
        let out = cli(
            &config,
            who,
            None,
            &["documents", "cover-letter", &n1, "-o", o.to_str().unwrap()],
        );
        assert!(!out.status.success());
        text(&out)
    };
    let said = refused(&marat);
    assert!(
        said.contains("only once the Director has consented"),
        "{said}"
    );
    consent(&d, &first, false).await;
    let said = refused(&marat);
    assert!(said.contains("consented"), "{said}");
    // An auditor makes none.
    consent(&d, &first, true).await;
    let said = refused(&aigerim);
    assert!(said.contains("role of manager or director"), "{said}");
    // Nor before the materials package, whose pages it lists.
    let said = refused(&marat);
    assert!(
        said.contains("no materials package yet")
            && said.contains(&format!("senim journal materials {n1} --zip")),
        "{said}"
    );

    // The materials package: one ZIP, 0600, its manifest matching its files,
    // the printable copies beside the appeal, the call and the events.
    let zip_path = out("package.zip");
    let made = packaged(&config, &marat, &n1, &zip_path);
    assert_eq!(mode(&zip_path), 0o600);
    let bytes = std::fs::read(&zip_path).unwrap();
    let package_sha = sha256(&bytes);
    assert!(text(&made).contains(&package_sha), "{}", text(&made));
    let (listed, manifest) = check_manifest(&bytes);
    assert_eq!(
        listed,
        [
            "appeal.json",
            "appeal.pdf",
            "call-01.json",
            "call-01.pdf",
            "events.json",
            "events.pdf"
        ]
    );
    assert!(
        manifest.starts_with(&format!("# Senim: materials package of appeal {n1}\n"))
            && !manifest.contains("cover letter"),
        "no letter yet: {manifest}"
    );
    let again = package(&config, &marat, &n1, &zip_path);
    assert!(
        text(&again).contains("exists"),
        "never over a file: {}",
        text(&again)
    );
    packaged(&config, &marat, &n2, &out("package-2.zip"));

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

    // Made again after the letters, the package names the last one.
    let later = out("package-later.zip");
    packaged(&config, &marat, &n1, &later);
    let bytes = std::fs::read(&later).unwrap();
    let (_, manifest) = check_manifest(&bytes);
    assert!(
        manifest.contains("# cover letter: OUT-2027-0001\n"),
        "{manifest}"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let mut events = String::new();
    zip.by_name("events.json")
        .unwrap()
        .read_to_string(&mut events)
        .unwrap();
    assert!(events.contains("document_issued") && events.contains("OUT-2026-0001"));

    // The letter's PDF lists the package's enclosures with their pages.
    let pdf_text = flat(&support::pdf::text(&pdf));
    for want in [
        "обращение (регистрационные данные и текст) — на 1 л.",
        "сведения о звонках (1) — на 1 л.",
        "выписка из журнала событий — на 1 л.",
        "Всего на 3 л.; в электронном виде — 6 файлов в одном ZIP-пакете",
        "қоңыраулар туралы мәліметтер (1) — 1 парақта",
        "Барлығы 3 парақта",
    ] {
        assert!(
            pdf_text.contains(want),
            "the letter says {want:?}: {pdf_text}"
        );
    }

    // Each is in the chain, and the chain holds.
    let show = text(&run_cli(&config, &["journal", "show", &n1]));
    let issued: Vec<&str> = show
        .lines()
        .filter(|l| l.contains("document_issued"))
        .collect();
    assert_eq!(issued.len(), 4, "two packages and two letters: {show}");
    assert!(
        issued[0].contains("materials_package")
            && issued[0].contains(&package_sha)
            && issued[0].contains(r#""enclosures":[{"kind":"appeal","pages":1},{"kind":"call","pages":1},{"kind":"events","pages":1}]"#),
        "the package and its count of pages: {show}"
    );
    assert!(
        issued[1].contains("OUT-2026-0001")
            && issued[1].contains(&pdf_sha)
            && issued[1].contains(&format!(r#""package":"{package_sha}""#)),
        "the letter names the package it lists: {show}"
    );
    assert!(issued[1].contains("by person:marat"), "{show}");
    assert!(issued[2].contains("OUT-2027-0001"), "{show}");
    assert!(
        issued[3].contains("materials_package")
            && issued[3].contains(r#""cover_letter":"OUT-2027-0001""#),
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
    // What a crash left half made while a package was written: removed at
    // the start.
    let packages = dir.path().join("data/console-packages");
    std::fs::create_dir_all(&packages).unwrap();
    std::fs::write(packages.join(".crashed-materials.zip.part"), "PK half").unwrap();
    let d = TestApp::spawn(dir.path(), "", &config(), now()).await;
    console_person(&d.config, dir.path(), "marat", &["manager"]);
    console_person(&d.config, dir.path(), "aigerim", &["auditor"]);
    let appeal = call(&d, "console-doc-1").await;
    let (_, cookie) = http_login(&d, "marat", PASSWORD).await;
    let cookie = cookie.expect("a session");
    let client = no_redirects();
    let get = async |path: String| session_get(&d, &cookie, &path).await;
    let page_path = format!("/console/appeals/{}", appeal.id);
    let page = get(page_path.clone()).await.text().await.unwrap();
    assert!(
        !page.contains("id=\"cover-letter\""),
        "no button before consent"
    );
    assert!(
        page.contains("Сопроводительное письмо формируется после согласия Директора"),
        "the page says what the letter waits for: {page}"
    );
    let cover_letter_path = format!("/console/appeals/{}/cover-letter", appeal.id);
    let post =
        async |csrf: String| session_post(&d, &cookie, &cover_letter_path, &[("csrf", csrf)]).await;
    let r = post(csrf_of(&page)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("only once the Director has consented")
    );

    consent(&d, &appeal, true).await;
    let page = get(page_path.clone()).await.text().await.unwrap();
    assert!(
        !page.contains("id=\"cover-letter\"") && page.contains("id=\"needs-package\""),
        "the letter waits for the package: {page}"
    );
    let r = post(csrf_of(&page)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("no materials package yet"));
    // The package is made on the page too, and handed over, never kept.
    let page = get(page_path.clone()).await.text().await.unwrap();
    assert!(page.contains("id=\"package\""), "{page}");
    let package_path = format!("/console/appeals/{}/package", appeal.id);
    let r = session_post(&d, &cookie, &package_path, &[("csrf", csrf_of(&page))]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = download_disposition(&r, "application/zip");
    assert!(
        disposition.contains(&format!("{}-materials.zip", appeal.registration_number)),
        "{disposition}"
    );
    let (names, _) = check_manifest(&r.bytes().await.unwrap());
    assert!(names.iter().any(|n| n == "events.json"), "{names:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("data/console-packages"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "a package is not kept: {left:?}");
    let page = get(page_path.clone()).await.text().await.unwrap();
    assert!(page.contains("id=\"cover-letter\""), "{page}");
    let r = post("forged".into()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF checked");
    let r = post(csrf_of(&page)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = get(page_path).await.text().await.unwrap();
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
        let r = get(path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let disposition = download_disposition(&r, media);
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
    let r = get(format!("/console/documents/{}/exe", entry.id)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get("/console/documents/999999/pdf".into()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Not without a session, nor for the auditor.
    let r = client
        .get(d.url(&format!("/console/documents/{}/pdf", entry.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, auditor) = http_login(&d, "aigerim", PASSWORD).await;
    let pdf_path = format!("/console/documents/{}/pdf", entry.id);
    let r = session_get(&d, &auditor.unwrap(), &pdf_path).await;
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
        package_in(&d, &appeal, &dir.path().join(format!("package-{n}.zip"))).await;
        appeals.push(appeal);
    }
    // Four letters at once: four numbers, none twice, none skipped.
    let documents = d.app.documents();
    let marat = support::rules::acting::<senim::rulebook::rule::IssueDocuments>("person:marat");
    let issued = futures_util::future::join_all(
        appeals.iter().map(|a| documents.cover_letter(a.id, &marat)),
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
        .cover_letter(
            appeals[0].id,
            &support::rules::acting::<senim::rulebook::rule::IssueDocuments>("person:marat"),
        )
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

const MAIL_SUBJECT: &str = "Пара на складе";
const SCAN_NAME: &str = "akt-proverki.pdf";

/// A PDF of three pages, as an office scans one: the letters' own writer.
fn three_pages() -> Vec<u8> {
    use senim::documents::letter::{Block, Section};
    let page = |lang| Section {
        lang,
        blocks: vec![Block::Paragraph("Акт проверки склада.".into())],
    };
    senim::documents::pdf::render(
        &[page("kk"), page("ru"), page("ru")],
        &senim::documents::pdf::Meta {
            title: "scan",
            number: "scan",
            issued_at: now(),
        },
    )
    .unwrap()
}

/// The citizen's mail: its text, a PDF of three pages, a photo, a document
/// whose pages cannot be counted.
fn mail_with_attachments() -> Vec<u8> {
    let b64 = |bytes: &[u8]| {
        base64(bytes)
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let part = |kind: &str, name: &str, bytes: &[u8]| {
        format!(
            "--b1\r\nContent-Type: {kind}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{}\r\n",
            b64(bytes)
        )
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    format!(
        "From: Асқар Ахметов <asqar.docs@example.kz>\r\nTo: trust@example.kz\r\n\
         Subject: =?utf-8?B?{}?=\r\nMessage-ID: <docs-appeal-1@example.kz>\r\n\
         Date: Wed, 16 Dec 2026 09:30:00 +0500\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nЗаведующий складом требует деньги.\r\n\
         {}{}{}--b1--\r\n",
        base64(MAIL_SUBJECT.as_bytes()),
        part("application/pdf", SCAN_NAME, &three_pages()),
        part("image/png", "photo.png", &png),
        part(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "notes.docx",
            b"PK\x03\x04 not counted"
        ),
    )
    .into_bytes()
}

/// Base64 (RFC 4648), as a mail carries attachments.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The registration number of the appeal of `channel`, once registered.
async fn appeal_of(d: &TestApp, channel: senim::journal::Channel) -> String {
    let what = format!("a {channel} appeal registered");
    eventually(std::time::Duration::from_secs(60), &what, async || {
        let all = d.app.journal.list(&Default::default()).await.unwrap();
        all.iter()
            .find(|a| a.channel == channel)
            .map(|a| a.registration_number.to_string())
            .ok_or("none yet")
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cover_letter_lists_the_pages_of_the_mail_its_attachments_and_the_recording() {
    let dovecot = support::dovecot::Dovecot::start();
    dovecot.append("INBOX", &mail_with_attachments());
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{}\n{}", config(), dovecot.mailbox_toml());
    let d = TestApp::spawn(dir.path(), "", &extra, now()).await;
    let config = d.config.clone();
    let marat = person(&config, "marat", &["manager"]);
    let mail_number = appeal_of(&d, senim::journal::Channel::Email).await;
    let mail_appeal = d
        .app
        .journal
        .find(&mail_number.parse().unwrap())
        .await
        .unwrap();
    consent(&d, &mail_appeal, true).await;

    // The package: the mail printed, the attachments counted, by kind only.
    let first = dir.path().join("mail-package.zip");
    let made = packaged(&config, &marat, &mail_number, &first);
    assert!(
        text(&made).contains("attachment 3 p., attachment 1 p., attachment (pages not known)"),
        "{}",
        text(&made)
    );
    let (listed, _) = check_manifest(&std::fs::read(&first).unwrap());
    assert!(
        listed.contains(&"mail-01-appeal.pdf".to_owned()),
        "the mail's printable copy: {listed:?}"
    );
    let show = text(&run_cli(&config, &["journal", "show", &mail_number]));
    let event = show
        .lines()
        .find(|l| l.contains("document_issued") && l.contains("materials_package"))
        .expect("the package's event");
    assert!(
        event.contains(r#"{"kind":"attachment","pages":3},{"kind":"attachment","pages":1},{"kind":"attachment"}"#),
        "{event}"
    );
    for secret in [SCAN_NAME, "photo.png", "Ахметов", "asqar.docs", "склад"] {
        assert!(
            !event.contains(secret),
            "no name nor text in the chain: {event}"
        );
    }

    // A later mail of the citizen's: the package no longer holds the
    // materials, and the letter says so.
    dovecot.append(
        "INBOX",
        "From: asqar.docs@example.kz\r\nTo: trust@example.kz\r\nSubject: Re\r\n\
          Message-ID: <docs-appeal-2@example.kz>\r\nIn-Reply-To: <docs-appeal-1@example.kz>\r\n\
          References: <docs-appeal-1@example.kz>\r\nDate: Wed, 16 Dec 2026 10:15:00 +0500\r\n\
          Content-Type: text/plain; charset=utf-8\r\n\r\nЕщё одно письмо.\r\n"
            .as_bytes(),
    );
    until(
        std::time::Duration::from_secs(60),
        "the second mail in the appeal's thread",
        async || {
            let thread = senim::mailbox::store::thread_of(d.app.journal.db(), mail_appeal.id)
                .await
                .unwrap();
            thread.len() == 2
        },
    )
    .await;
    let letters = dir.path().join("letters");
    let letter = |number: &str| {
        cli(
            &config,
            &marat,
            None,
            &[
                "documents",
                "cover-letter",
                number,
                "-o",
                letters.to_str().unwrap(),
            ],
        )
    };
    let refused = letter(&mail_number);
    assert!(
        !refused.status.success()
            && text(&refused).contains("its materials changed since the package"),
        "{}",
        text(&refused)
    );
    let second = dir.path().join("mail-package-2.zip");
    packaged(&config, &marat, &mail_number, &second);
    // The mail's printable copy, for a person to look at.
    let copy = dir.path().join("mail-01-appeal.pdf");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&second).unwrap()).unwrap();
    let mut bytes = Vec::new();
    zip.by_name("mail-01-appeal.pdf")
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(&copy, bytes).unwrap();
    assert!(
        flat(&support::pdf::text(&copy)).contains("Заведующий складом требует деньги."),
        "the copy prints the mail's text"
    );
    support::pdf::render_page(&copy, "1", "package-mail-copy");
    let made = letter(&mail_number);
    assert!(made.status.success(), "{}", text(&made));
    let pdf = letters.join("OUT-2026-0001-cover-letter.pdf");
    let said = flat(&support::pdf::text(&pdf));
    support::pdf::assert_says(
        "the letter",
        &said,
        &[
            "электронные письма (2) — на 2 л.",
            "вложения к письмам (3) — на 4 л. и ещё 1 файл без подсчёта листов",
            "хаттарға тіркелген құжаттар (3) — 4 парақта және парақ саны анықталмаған тағы 1 файл",
            "электрондық хаттар (2) — 2 парақта",
        ],
    );
    let docx = std::fs::read(letters.join("OUT-2026-0001-cover-letter.docx")).unwrap();
    assert!(
        support::pdf::docx_xml(&docx).contains("на 4\u{a0}л. и ещё 1 файл без подсчёта листов"),
        "the DOCX lists them too"
    );
    assert!(!said.contains(SCAN_NAME) && !said.contains("Ахметов"));
    for (page, name) in [
        ("1", "cover-letter-enclosures"),
        ("2", "cover-letter-enclosures-ru"),
    ] {
        let png = support::pdf::render_page(&pdf, page, name);
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    }

    // A call whose recording the PBX uploaded: its length in the letter.
    let call_number =
        support::console::recorded_call(&d, "docs-recorded", support::console::wav()).await;
    let call_appeal = d
        .app
        .journal
        .find(&call_number.parse().unwrap())
        .await
        .unwrap();
    consent(&d, &call_appeal, true).await;
    packaged(
        &config,
        &marat,
        &call_number,
        &dir.path().join("call-package.zip"),
    );
    let made = letter(&call_number);
    assert!(made.status.success(), "{}", text(&made));
    let said = flat(&support::pdf::text(
        &letters.join("OUT-2026-0002-cover-letter.pdf"),
    ));
    support::pdf::assert_says(
        "the letter",
        &said,
        &[
            "аудиозаписи звонков (1) — 1 аудиофайл, 3 с",
            "қоңыраулардың аудиожазбалары (1) — 1 аудиофайл, 3 с",
            ", 1 аудиофайл; в электронном виде",
        ],
    );
    let verify = run_cli(&config, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    d.stop().await;
}
