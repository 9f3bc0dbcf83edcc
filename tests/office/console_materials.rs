//! The appeal's case materials on the console (issue 11), against the real
//! daemon reading a real Dovecot mailbox, with a call whose recording the PBX
//! uploaded: once the manager has revealed the appeal in headless Chromium, its
//! page shows the mail thread (subject, text, the attachment's name) and, for
//! the phone appeal, the call's numbers and a player that plays the recording
//! under the console's CSP. Over HTTP with the session's cookie, the raw mail,
//! the attachment and the recording come back byte for byte, each download an
//! `identity_disclosed` event of the appeal; an auditor is refused, an item of
//! another appeal is 404. Sealed, a download is refused without the key given at
//! the login and gives the same bytes with it.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::Value;
use support::browser::{Driver, screenshot};
use support::console::*;
use support::dovecot::Dovecot;
use support::eventually::{Raw, eventually_blocking, ok_if};
use support::scene::{chain_key_toml, sealed_with_reader};
use support::senim::{run_cli, write_config};

const NAME: &str = "Zhanar Kuanyshkyzy";
const ADDRESS: &str = "zhanar.materials@example.kz";
const SUBJECT: &str = "Bribe at the grain warehouse";
/// The mail's text: the markup in it must be shown as text, never as markup.
const PHRASE: &str = "The warehouse chief asked 50 000 tenge to sign the <b>acceptance act</b>.";
const REPLY_TEXT: &str = "He asked again today, in front of the loaders.";
const FILE_NAME: &str = "scan of the \"act\".txt";
const SAFE_NAME: &str = "scan_of_the__act_.txt";
/// What the browser must never run: served as a file to save.
const ATTACHMENT: &str = "<script>alert('act 5519')</script> scan of the acceptance act 5519";
const MESSAGE_ID: &str = "materials-appeal-5519@example.kz";
const CALLER: &str = "+77011234567";

fn appeal_mail() -> Vec<u8> {
    format!(
        "From: {NAME} <{ADDRESS}>\r\nTo: trust@example.kz\r\nSubject: {SUBJECT}\r\n\
         Message-ID: <{MESSAGE_ID}>\r\nDate: Wed, 16 Dec 2026 09:30:00 +0500\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{PHRASE}\r\nPlease look into it.\r\n\
         --b1\r\nContent-Type: text/plain; name=\"scan.txt\"\r\n\
         Content-Disposition: attachment; filename=\"scan of the \\\"act\\\".txt\"\r\n\r\n{ATTACHMENT}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// The reporter's later mail, threaded on the appeal by its Message-ID.
fn follow_up() -> Vec<u8> {
    format!(
        "From: {NAME} <{ADDRESS}>\r\nTo: trust@example.kz\r\nSubject: Re: {SUBJECT}\r\n\
         Message-ID: <materials-follow-up-5519@example.kz>\r\nReferences: <{MESSAGE_ID}>\r\n\
         In-Reply-To: <{MESSAGE_ID}>\r\nDate: Wed, 16 Dec 2026 10:15:00 +0500\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{REPLY_TEXT}\r\n"
    )
    .into_bytes()
}

/// The daemon's configuration file in `dir`: the console's, the mailbox, and
/// `extra`.
fn write(dir: &Path, port: u16, dovecot: &Dovecot, extra: &str) -> PathBuf {
    let extra = format!("{}\n{}\n{extra}", config(None), dovecot.mailbox_toml());
    write_config(dir, port, "", &extra)
}

/// The Journal's appeals (`journal list --json`).
fn appeals(config: &Path) -> Vec<Value> {
    String::from_utf8_lossy(&run_cli(config, &["journal", "list", "--json"]).stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The appeal of `channel` once it is registered: (id, number).
fn wait_appeal(config: &Path, channel: &str) -> (i64, String) {
    let what = format!("a {channel} appeal registered");
    eventually_blocking(Duration::from_secs(60), &what, || {
        let all = appeals(config);
        match all.iter().find(|a| a["channel"] == channel) {
            Some(a) => Ok((
                a["id"].as_i64().expect("an id"),
                a["registration_number"]
                    .as_str()
                    .expect("a number")
                    .to_owned(),
            )),
            None => Err(all),
        }
    })
}

/// The appeal's history as `senim journal show` prints it.
fn history(config: &Path, number: &str) -> String {
    let out = run_cli(config, &["journal", "show", number]);
    crate::support::senim::assert_succeeded(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_history(config: &Path, number: &str, kind: &str) {
    let what = format!("{kind} in {number}'s history");
    eventually_blocking(Duration::from_secs(60), &what, || {
        let history = history(config, number);
        ok_if(history.contains(kind), Raw(history))
    });
}

/// How many disclosures of the appeal were recorded for `purpose`.
fn disclosures(config: &Path, number: &str, purpose: &str) -> usize {
    history(config, number)
        .lines()
        .filter(|l| l.contains("identity_disclosed") && l.contains(&format!("\"{purpose}\"")))
        .count()
}

/// The links of a page that end with `suffix`.
fn links(html: &str, suffix: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.ends_with(suffix))
        .map(str::to_owned)
        .collect()
}

/// Makes the window as tall as the page, for a screenshot of all of it.
async fn fit_to_page(browser: &fantoccini::Client) {
    let sizes = browser
        .execute(
            "return [window.innerHeight, \
             Math.ceil(document.querySelector('main').getBoundingClientRect().bottom + 24)];",
            vec![],
        )
        .await
        .unwrap();
    let (inner, page) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    let (width, height) = browser.get_window_size().await.unwrap();
    let height = height + page.saturating_sub(inner);
    let height = height.saturating_sub(inner.saturating_sub(page));
    browser
        .set_window_size(width as u32, height as u32)
        .await
        .unwrap();
}

fn header<'r>(r: &'r reqwest::Response, name: &str) -> &'r str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reads_the_mail_attachments_and_recording_of_a_revealed_appeal() {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let port = support::ports::free_port();
    let config = write(dir.path(), port, &dovecot, "");
    console_person(&config, dir.path(), "marat", &["manager"]);
    console_person(&config, dir.path(), "aida", &["auditor"]);
    let d = serve(dir.path(), &config, port);

    // The citizen's mail with its attachment, then their later mail; and a call
    // whose recording the PBX uploads.
    dovecot.append("INBOX", &appeal_mail());
    let (mail_appeal, mail_number) = wait_appeal(&config, "email");
    dovecot.append("INBOX", &follow_up());
    wait_history(&config, &mail_number, "correspondence_added");
    let audio = wav();
    recorded_call(&d, "1765863600.31", audio.clone()).await;
    let (call_appeal, call_number) = wait_appeal(&config, "phone");

    // The manager reveals the mail appeal: the thread, oldest first, with the
    // text as text and the attachment's name.
    let driver = Driver::start();
    let desk = driver.browser().await;
    log_in(&desk, &d, "marat", "en").await;
    desk.goto(&d.url(&format!("/console/appeals/{mail_appeal}")))
        .await
        .unwrap();
    let page = desk.source().await.unwrap();
    assert!(
        !page.contains(SUBJECT) && !page.contains("Case materials"),
        "materials before the click: {page}"
    );
    click(&desk, Locator::Css("form[action$='/reveal'] button")).await;
    let page = source_with(&desk, "Case materials").await;
    let first = page.find("warehouse chief").expect("the first mail's text");
    let later = page.find(REPLY_TEXT).expect("the later mail's text");
    assert!(first < later, "oldest first");
    assert!(
        page.contains(SUBJECT) && page.contains(ADDRESS) && page.contains(NAME),
        "{page}"
    );
    assert!(
        page.contains("&lt;b&gt;acceptance act&lt;/b&gt;") && !page.contains("<b>acceptance"),
        "the text is escaped: {page}"
    );
    assert!(
        page.contains("registered the appeal") && page.contains("a later mail"),
        "{page}"
    );
    assert!(page.contains(FILE_NAME), "the attachment's name: {page}");
    assert!(!page.contains("<script>alert"), "{page}");
    let raw = links(&page, "/raw");
    assert_eq!(raw.len(), 2, "a raw link per mail: {raw:?}");
    let attachments = links(&page, "/attachments/1");
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    for link in raw.iter().chain(&attachments) {
        assert!(
            !link.contains('@') && !link.contains("scan"),
            "no identity or file name in {link}"
        );
    }
    fit_to_page(&desk).await;
    screenshot(&desk, "appeal-materials").await;

    // The phone appeal: the call's numbers and a player that loads the
    // recording under the console's CSP.
    desk.goto(&d.url(&format!("/console/appeals/{call_appeal}")))
        .await
        .unwrap();
    click(&desk, Locator::Css("form[action$='/reveal'] button")).await;
    let page = source_with(&desk, "<audio").await;
    let recording = format!("/console/appeals/{call_appeal}/calls/1/recording");
    assert!(
        page.contains(&format!("src=\"{recording}\"")) && page.contains("preload=\"none\""),
        "{page}"
    );
    assert!(
        page.contains(CALLER) && page.contains("+77172000000") && page.contains("<dd>201</dd>"),
        "{page}"
    );
    assert_eq!(
        disclosures(&config, &call_number, "console: recording"),
        0,
        "nothing fetched before the player is played"
    );
    desk.execute(
        "const a = document.querySelector('audio'); a.preload = 'auto'; a.load(); return true;",
        vec![],
    )
    .await
    .unwrap();
    let duration = support::eventually::eventually(
        Duration::from_secs(10),
        "the player to read the recording's length",
        async || {
            let duration = desk
                .execute(
                    "const a = document.querySelector('audio'); \
                     return a.readyState >= 1 ? a.duration : (a.error ? 'error ' + a.error.code : null);",
                    vec![],
                )
                .await
                .unwrap();
            if duration.is_null() { Err(duration) } else { Ok(duration) }
        },
    )
    .await;
    let seconds = duration.as_f64().unwrap_or(-1.0);
    assert!(
        (seconds - 2.5).abs() < 0.05,
        "the player reads the recording: {duration}"
    );
    assert!(
        disclosures(&config, &call_number, "console: recording") >= 1,
        "playing it is recorded"
    );
    fit_to_page(&desk).await;
    screenshot(&desk, "appeal-call-materials").await;
    desk.close().await.unwrap();

    // Over HTTP with the manager's session: each download is the stored bytes,
    // recorded first.
    let (_, session) = http_login(&d, "marat", PASSWORD).await;
    let session = session.expect("the manager's session");
    let r = session_get(&d, &session, &raw[0]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "message/rfc822");
    assert!(
        header(&r, "content-disposition").starts_with(&format!(
            "attachment; filename=\"{mail_number}-mail-1.eml\""
        )),
        "{}",
        header(&r, "content-disposition")
    );
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), appeal_mail().as_slice());
    assert_eq!(disclosures(&config, &mail_number, "console: raw mail"), 1);
    let r = session_get(&d, &session, &raw[1]).await;
    assert!(
        header(&r, "content-disposition").contains(&format!("{mail_number}-mail-2.eml")),
        "{}",
        header(&r, "content-disposition")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), follow_up().as_slice());
    assert_eq!(disclosures(&config, &mail_number, "console: raw mail"), 2);

    let r = session_get(&d, &session, &attachments[0]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/octet-stream");
    assert!(
        header(&r, "content-disposition")
            .starts_with(&format!("attachment; filename=\"{SAFE_NAME}\"")),
        "{}",
        header(&r, "content-disposition")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), ATTACHMENT.as_bytes());
    assert_eq!(disclosures(&config, &mail_number, "console: attachment"), 1);

    let played = disclosures(&config, &call_number, "console: recording");
    let r = session_get(&d, &session, &recording).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "audio/wav");
    assert!(
        header(&r, "content-disposition").starts_with("inline;"),
        "{}",
        header(&r, "content-disposition")
    );
    let csp = header(&r, "content-security-policy").to_owned();
    assert!(csp.contains("media-src 'self'"), "{csp}");
    assert_eq!(r.bytes().await.unwrap().as_ref(), audio.as_slice());
    assert_eq!(
        disclosures(&config, &call_number, "console: recording"),
        played + 1
    );
    let shown = history(&config, &mail_number);
    assert!(
        shown.contains("identity_disclosed") && shown.contains("by person:marat"),
        "{shown}"
    );

    // What another appeal holds, or nothing, is 404, and nothing is recorded.
    let before = (
        history(&config, &mail_number),
        history(&config, &call_number),
    );
    let mail_id = raw[0]
        .split("/mail/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    for path in [
        format!("/console/appeals/{call_appeal}/mail/{mail_id}/raw"),
        format!("/console/appeals/{call_appeal}/mail/{mail_id}/attachments/1"),
        format!("/console/appeals/{mail_appeal}/calls/1/recording"),
        format!("/console/appeals/{mail_appeal}/mail/{mail_id}/attachments/2"),
        format!("/console/appeals/{mail_appeal}/mail/{mail_id}/attachments/0"),
        format!("/console/appeals/{call_appeal}/calls/2/recording"),
        format!("/console/appeals/9999/mail/{mail_id}/raw"),
    ] {
        let r = session_get(&d, &session, &path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let page = r.text().await.unwrap();
        assert!(!page.contains(PHRASE) && !page.contains("RIFF"), "{page}");
    }

    // An auditor's session is refused every download; no session, the login.
    let (_, auditor) = http_login(&d, "aida", PASSWORD).await;
    let auditor = auditor.expect("the auditor's session");
    for path in [&raw[0], &attachments[0], &recording] {
        let r = session_get(&d, &auditor, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Ваша роль") && !page.contains(SUBJECT),
            "{page}"
        );
        let r = session_get(&d, "senim_session=none", path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    }
    assert_eq!(
        (
            history(&config, &mail_number),
            history(&config, &call_number)
        ),
        before,
        "a refused download records nothing"
    );
}

/// The chain key and the Director Dana's passphrase of the sealed tests.
const CHAIN_KEY: &str = "5a69788796a5b4c3d2e1f00f1e2d3c4b0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PASSPHRASE: &str = "the director's key passphrase";

/// A sealed installation in `dir` reading `dovecot`'s mailbox: the chain key,
/// `keys init`, and Dana, the Director, enrolled and a reader; its
/// configuration and port.
fn sealed_with_dana(dir: &tempfile::TempDir, dovecot: &Dovecot) -> (PathBuf, u16) {
    let port = support::ports::free_port();
    let config = write(
        dir.path(),
        port,
        dovecot,
        &chain_key_toml(dir.path(), CHAIN_KEY),
    );
    let director = console_person(&config, dir.path(), "dana", &["director"]);
    sealed_with_reader(&config, dir.path(), &director, PASSPHRASE);
    (config, port)
}

/// Sealed: the mail, its attachment and the recording are refused to a session
/// without the key (the page says to log in with it) and recorded nowhere; with
/// the key given at the login they are the bytes that arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_materials_open_only_with_the_key_given_at_the_login() {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = sealed_with_dana(&dir, &dovecot);
    let d = serve(dir.path(), &config, port);
    dovecot.append("INBOX", &appeal_mail());
    let (mail_appeal, mail_number) = wait_appeal(&config, "email");
    let audio = wav();
    recorded_call(&d, "1765863600.32", audio.clone()).await;
    let (call_appeal, call_number) = wait_appeal(&config, "phone");
    let recording = format!("/console/appeals/{call_appeal}/calls/1/recording");

    // With the key: the page shows the thread, the downloads are the bytes.
    let (_, keyed) = http_login_with_key(&d, "dana", PASSWORD, PASSPHRASE).await;
    let keyed = keyed.expect("a session with the key");
    let r = reveal(&d, &keyed, mail_appeal).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(SUBJECT)
            && page.contains("warehouse chief")
            && page.contains(&FILE_NAME.replace('"', "&quot;")),
        "{page}"
    );
    let raw = links(&page, "/raw");
    let attachments = links(&page, "/attachments/1");
    assert_eq!((raw.len(), attachments.len()), (1, 1), "{page}");
    let r = session_get(&d, &keyed, &raw[0]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), appeal_mail().as_slice());
    let r = session_get(&d, &keyed, &attachments[0]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), ATTACHMENT.as_bytes());
    let r = reveal(&d, &keyed, call_appeal).await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("src=\"{recording}\"")) && page.contains(CALLER),
        "{page}"
    );
    let r = session_get(&d, &keyed, &recording).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), audio.as_slice());
    assert_eq!(disclosures(&config, &mail_number, "console: raw mail"), 1);
    assert_eq!(disclosures(&config, &mail_number, "console: attachment"), 1);
    assert_eq!(disclosures(&config, &call_number, "console: recording"), 1);

    // Without it: each download is refused with the page that says to log in
    // with the key, and nothing is recorded.
    let before = (
        history(&config, &mail_number),
        history(&config, &call_number),
    );
    let (_, keyless) = http_login(&d, "dana", PASSWORD).await;
    let keyless = keyless.expect("a session without the key");
    for path in [&raw[0], &attachments[0], &recording] {
        let r = session_get(&d, &keyless, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("парольной фразой ключа") && !page.contains("RIFF"),
            "{page}"
        );
    }
    assert_eq!(
        (
            history(&config, &mail_number),
            history(&config, &call_number)
        ),
        before,
        "a refused download records nothing"
    );
}

/// Hard-links every file that appears under `root` (recursively, polling every
/// 2 ms) into `into`, until `stop`: what a watcher on the host keeps of a file
/// the daemon writes and then unlinks.
fn watch_and_link(
    root: PathBuf,
    into: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::fs::create_dir_all(&into).unwrap();
    std::thread::spawn(move || {
        let mut seen = std::collections::HashSet::new();
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => dirs.push(path),
                        Ok(t) if t.is_file() && seen.insert(path.clone()) => {
                            let _ = std::fs::hard_link(&path, into.join(format!("{}", seen.len())));
                        }
                        _ => {}
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        seen.len()
    })
}

/// `needle` in `bytes`, or in any entry of `bytes` read as a ZIP archive (a
/// package's entries are deflated).
fn holds(bytes: &[u8], needle: &str) -> bool {
    use std::io::Read;
    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
        return true;
    }
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    (0..zip.len()).any(|i| {
        let mut content = Vec::new();
        zip.by_index(i)
            .is_ok_and(|mut f| f.read_to_end(&mut content).is_ok())
            && content
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
    })
}

/// Sealed, the console's materials package holds the reporter's name and
/// text, and is handed over without a byte of it on disk: a watcher that
/// hard-links every file appearing in the data directory while the package is
/// made keeps nothing that names the reporter or says what they wrote; the
/// download is a whole ZIP with the name inside, its SHA-256 in the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_package_never_touches_the_disk_in_plain() {
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = sealed_with_dana(&dir, &dovecot);
    let d = serve(dir.path(), &config, port);
    dovecot.append("INBOX", &appeal_mail());
    let (id, number) = wait_appeal(&config, "email");
    let (_, keyed) = http_login_with_key(&d, "dana", PASSWORD, PASSPHRASE).await;
    let keyed = keyed.expect("a session with the key");
    let page = reveal(&d, &keyed, id).await.text().await.unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let linked = dir.path().join("linked");
    let watcher = watch_and_link(dir.path().join("data"), linked.clone(), stop.clone());
    let package_path = format!("/console/appeals/{id}/package");
    let r = session_post(&d, &keyed, &package_path, &[("csrf", csrf_of(&page))]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let package = r.bytes().await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let files = watcher.join().unwrap();
    assert!(files > 0, "the watcher saw the data directory");

    assert!(holds(&package, NAME), "the package names the reporter");
    let zip = zip::ZipArchive::new(std::io::Cursor::new(package.as_ref())).unwrap();
    assert!(zip.file_names().any(|n| n == "appeal.json"));
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&package));
    assert!(
        history(&config, &number).contains(&sha),
        "the chain names the package handed over"
    );
    for entry in std::fs::read_dir(&linked).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        for needle in [NAME, "warehouse chief", ADDRESS] {
            assert!(
                !holds(&bytes, needle),
                "a file the watcher kept holds {needle:?}"
            );
        }
    }
}
