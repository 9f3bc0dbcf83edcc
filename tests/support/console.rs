//! The console's tests' common ground: a daemon with a PBX source (and, given an
//! SMTP server, the Director's alerts), persons with console passwords, an
//! answered call, logging in through the browser or over plain HTTP.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;

use super::eventually::{Raw, eventually};
use super::scene::{chain_key_toml, pbx_toml, post_answered_call};
use super::senim::{Daemon, Person, Served, command, person, run_cli, write_config};
use super::smtp::SmtpServer;

pub use super::scene::PBX_TOKEN;

/// How long the browser is given to show what a test waits for.
const WAIT: Duration = Duration::from_secs(5);
pub const CLOCK: &str = "2026-12-16T11:00:00+05:00";
pub const PASSWORD: &str = "a long console password";
pub const DIRECTOR: &str = "director@kazstandard.kz";
pub const SMTP_USER: &str = "senim";
pub const SMTP_PASSWORD: &str = "correct horse battery";

/// The daemon's configuration; with `smtp`, mail goes to that server and the
/// Director's alerts to `DIRECTOR`.
pub fn config(smtp: Option<&SmtpServer>) -> String {
    let mail = smtp.map_or(String::new(), |smtp| {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nusername = \"{SMTP_USER}\"\n\
             password = \"{SMTP_PASSWORD}\"\nca_file = \"{}\"\nfrom = \"senim@kazstandard.kz\"\n\
             retry_initial_seconds = 1\nretry_max_seconds = 1\npoll_seconds = 1\n\n\
             [alerts]\ndirector = [\"{DIRECTOR}\"]\n",
            smtp.port(),
            smtp.ca_pem_path().display()
        )
    });
    format!("\n{mail}\n{}", pbx_toml())
}

/// The configuration file of a console whose appeals are sealed with
/// `chain_key`, the daemon on `port`.
pub fn sealed_config(dir: &Path, port: u16, chain_key: &str) -> std::path::PathBuf {
    let extra = format!("{}\n{}", config(None), chain_key_toml(dir, chain_key));
    write_config(dir, port, "", &extra)
}

/// The options of the office's mail server as `config(Some(..))` expects it:
/// STARTTLS required, the console's SMTP login.
pub fn office_smtp_options() -> super::smtp::SmtpOptions {
    super::smtp::SmtpOptions {
        mode: super::smtp::SmtpMode::StartTlsRequired,
        auth: Some((SMTP_USER.into(), SMTP_PASSWORD.into())),
        ..super::smtp::SmtpOptions::default()
    }
}

/// The office's mail server, started (`office_smtp_options`).
pub fn office_smtp() -> SmtpServer {
    SmtpServer::start(office_smtp_options())
}

/// A person with a console password.
pub fn console_person(config: &Path, dir: &Path, login: &str, roles: &[&str]) -> Person {
    let p = person(config, login, roles);
    let file = dir.join(format!("{login}.password"));
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let out = run_cli(
        config,
        &[
            "persons",
            "password",
            login,
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    super::senim::assert_succeeded(&out);
    p
}

/// `senim --as <person> <args>` on the tests' day (`CLOCK`, the daemon's), with
/// the passphrase file if given.
pub fn cli(config: &Path, person: &Person, passphrase: Option<&Path>, args: &[&str]) -> Output {
    let mut c = command();
    c.arg("--config")
        .arg(config)
        .args(["--as", &person.login])
        .env("SENIM_TOKEN", &person.token)
        .env("TEST_SENIM_CLOCK_START", CLOCK);
    if let Some(file) = passphrase {
        c.arg("--passphrase-file").arg(file);
    }
    c.args(args).output().expect("run senim")
}

/// The daemon of the configuration `config` (in `dir`, on `port`), its clock
/// started at `CLOCK`.
pub fn serve(dir: &Path, config: &Path, port: u16) -> Daemon {
    Daemon::start_with_env(
        dir,
        config.to_owned(),
        port,
        &[("TEST_SENIM_CLOCK_START", CLOCK)],
    )
}

pub fn start(dir: &Path, smtp: Option<&SmtpServer>) -> (Daemon, std::path::PathBuf) {
    let port = super::ports::free_port();
    let config = write_config(dir, port, "", &config(smtp));
    let d = serve(dir, &config, port);
    (d, config)
}

pub async fn answered_call(d: &Daemon, call_id: &str) -> String {
    answered_call_on(d, call_id, "2026-12-16").await
}

/// An answered call posted by the PBX, made at 10:40 Astana on `day`
/// (YYYY-MM-DD, within the PBX's late tolerance of the daemon's clock).
pub async fn answered_call_on(d: &Daemon, call_id: &str, day: &str) -> String {
    let body = post_answered_call(d, call_id, day).await;
    body["registration_number"].as_str().unwrap().to_owned()
}

pub async fn log_in(browser: &Client, d: &impl Served, login: &str, lang: &str) {
    browser
        .goto(&d.url(&format!("/console/login?lang={lang}")))
        .await
        .unwrap();
    browser
        .find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    let password = browser.find(Locator::Id("password")).await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    // Enter submits the form.
    password.send_keys("\u{E007}").await.unwrap();
    wait_for(browser, |url| !url.contains("/console/login")).await;
}

/// The page's source once it holds `text` (after a form's post, say).
pub async fn source_with(browser: &Client, text: &str) -> String {
    eventually(WAIT, &format!("a page holding {text:?}"), async || {
        let source = browser.source().await.unwrap();
        if source.contains(text) {
            Ok(source)
        } else {
            Err(Raw(source))
        }
    })
    .await
}

/// Waits until the browser's address satisfies `done`.
pub async fn wait_for(browser: &Client, done: impl Fn(&str) -> bool) {
    eventually(WAIT, "the browser to move on", async || {
        let url = browser.current_url().await.unwrap().to_string();
        if done(&url) { Ok(()) } else { Err(url) }
    })
    .await;
}

/// The session cookie of a `Set-Cookie` answer.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in over plain HTTP as the browser would: the form's token and cookie,
/// then the post. Returns the session cookie (`senim_session=…`) and the status.
pub async fn http_login(
    d: &impl Served,
    login: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    http_login_with_key(d, login, password, "").await
}

/// `http_login`, giving the key's passphrase too.
pub async fn http_login_with_key(
    d: &impl Served,
    login: &str,
    password: &str,
    passphrase: &str,
) -> (StatusCode, Option<String>) {
    let client = no_redirects();
    let form = client.get(d.url("/console/login")).send().await.unwrap();
    let login_cookie = set_cookie(&form, "senim_login").unwrap();
    let html = form.text().await.unwrap();
    let csrf = csrf_of(&html);
    let r = client
        .post(d.url("/console/login"))
        .header(reqwest::header::COOKIE, login_cookie)
        .form(&[
            ("login", login),
            ("password", password),
            ("passphrase", passphrase),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), set_cookie(&r, "senim_session"))
}

/// A page (or download) of the console, with the session's cookie.
pub async fn session_get(d: &impl Served, session: &str, path: &str) -> reqwest::Response {
    no_redirects()
        .get(d.url(path))
        .header(reqwest::header::COOKIE, session)
        .send()
        .await
        .unwrap()
}

/// A console form posted with the session's cookie, redirects not followed.
pub async fn session_post<F: serde::Serialize + ?Sized>(
    d: &impl Served,
    session: &str,
    path: &str,
    form: &F,
) -> reqwest::Response {
    no_redirects()
        .post(d.url(path))
        .header(reqwest::header::COOKIE, session)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The revealed appeal's page over HTTP, as the click posts it.
pub async fn reveal(d: &impl Served, session: &str, id: i64) -> reqwest::Response {
    let page = session_get(d, session, &format!("/console/appeals/{id}"))
        .await
        .text()
        .await
        .unwrap();
    no_redirects()
        .post(d.url(&format!("/console/appeals/{id}/reveal")))
        .header(reqwest::header::COOKIE, session)
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap()
}

/// A download's `Content-Disposition`, once its `Content-Type` is asserted to
/// be `media`.
pub fn download_disposition(r: &reqwest::Response, media: &str) -> String {
    assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], media);
    r.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .expect("a visible Content-Disposition")
        .to_owned()
}

/// The CSRF token of a page's forms.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// Two and a half seconds of a 440 Hz tone: 8 kHz, 8-bit mono PCM in a WAV file.
pub fn wav() -> Vec<u8> {
    let samples: Vec<u8> = (0..20_000)
        .map(|i| {
            let phase = f64::from(i) * 2.0 * std::f64::consts::PI * 440.0 / 8000.0;
            (128.0 + 60.0 * phase.sin()) as u8
        })
        .collect();
    let len = samples.len() as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes()); // samples a second
    out.extend_from_slice(&8000u32.to_le_bytes()); // bytes a second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits a sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

/// A call from +77011234567 answered at the office, its recording uploaded
/// with the record; its appeal's registration number.
pub async fn recorded_call(d: &impl Served, call_id: &str, audio: Vec<u8>) -> String {
    const CALLER: &str = "+77011234567";
    let record = json!({
        "call_id": call_id,
        "caller": CALLER,
        "called": "+77172000000",
        "extension": "201",
        "start": "2026-12-16T10:40:00+05:00",
        "answer": "2026-12-16T10:40:09+05:00",
        "end": "2026-12-16T10:52:00+05:00",
        "disposition": "answered",
    });
    let form = super::pbx::upload(&record, &format!("in-{CALLER}.wav"), audio);
    let body = super::pbx::post_upload(d, PBX_TOKEN, form).await;
    assert_eq!(body["recording"], "stored", "{body}");
    body["registration_number"].as_str().unwrap().to_owned()
}

/// Clicks what `locator` finds on the browser's page.
pub async fn click(browser: &Client, locator: Locator<'_>) {
    browser
        .find(locator)
        .await
        .expect("the element to click")
        .click()
        .await
        .expect("a click");
}

/// The text of a console page (or download), with the session's cookie.
pub async fn page_text(d: &impl Served, session: &str, path: &str) -> String {
    session_get(d, session, path)
        .await
        .text()
        .await
        .expect("the page's text")
}
