//! The console against the host's reader and the flood (issue 20, items 2, 5
//! and 6), through the real binary: the office key leaves the daemon's memory
//! when a reader's session ends (logged out, or expired and swept without its
//! cookie); a flood of failed logins with huge names takes no memory; a burst
//! of wrong passwords checks no more than the lockout allows; a key asking for
//! an absurd scrypt work factor is refused before any work; a person disabled
//! while logged in can neither reveal nor classify, and a reset does not
//! enable them again.

use crate::support;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::SecretString;
use support::console::{
    PASSWORD, PBX_TOKEN, console_person, csrf_of, http_login, http_login_with_key, no_redirects,
    reveal, serve, session_get, session_post, set_cookie,
};
use support::scene::{chain_key_toml, pbx_toml, post_answered_call, sealed_with_reader};
use support::senim::{Daemon, run_cli, write_config};

const CHAIN_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PASSPHRASE: &str = "the director's key passphrase";
const CALLER: &str = "+77011234567";

fn config_text(dir: &Path, console: &str) -> String {
    format!(
        "{}\n[console]\nlanguage = \"en\"\n{console}\n\n{}",
        chain_key_toml(dir, CHAIN_KEY),
        pbx_toml()
    )
}

fn start(dir: &Path, console: &str) -> (PathBuf, u16) {
    let port = support::ports::free_port();
    (
        write_config(dir, port, "", &config_text(dir, console)),
        port,
    )
}

/// The console served with the manager `marat` (a console password); its
/// configuration and daemon.
fn serving_marat(dir: &Path) -> (PathBuf, Daemon) {
    let (config, port) = start(dir, "");
    console_person(&config, dir, "marat", &["manager"]);
    let d = serve(dir, &config, port);
    (config, d)
}

fn succeeds(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dana`, a director with a console password and a key that reads the office
/// key (made by `keys init`).
fn sealed_with_a_reader(dir: &Path, config: &Path) {
    let director = console_person(config, dir, "dana", &["director"]);
    sealed_with_reader(config, dir, &director, PASSPHRASE);
}

/// The office key's secret in every form the test can know: its
/// `AGE-SECRET-KEY-1…` text (upper and lower case) and its 32 raw bytes; and
/// the same of the person's own key.
async fn secrets_of_dana(config: &Path) -> Vec<(String, Vec<u8>)> {
    use senim::config::{Config, ConfigSource};
    let config = Config::load(&ConfigSource::new(Some(config))).unwrap();
    let db = senim::db::Db::connect(&config.database.settings())
        .await
        .unwrap();
    let chain_key = config
        .journal
        .chain_key_file
        .as_deref()
        .map(|f| senim::journal::audit::ChainKey::from_file(f).unwrap());
    let authority = senim::app::load_authority(&config, chain_key.as_ref())
        .unwrap()
        .map(std::sync::Arc::new);
    let unlocked = senim::sealing::Keys::new(db.clone(), authority)
        .unlock("dana", SecretString::from(PASSPHRASE))
        .await
        .unwrap();
    let text = String::from_utf8(unlocked.to_secret().to_vec()).unwrap();
    db.close().await;
    let mut needles = Vec::new();
    for line in text.lines().skip(1) {
        let (kind, key) = line.split_once(' ').unwrap();
        needles.push((format!("{kind}: text"), key.as_bytes().to_vec()));
        needles.push((
            format!("{kind}: text, lower case"),
            key.to_lowercase().into_bytes(),
        ));
        needles.push((format!("{kind}: raw bytes"), bech32_data(key)));
    }
    assert!(needles.len() >= 6, "the office key and dana's own: {text}");
    needles
}

/// The data of a Bech32 string (without its checksum), 5 bits a character.
fn bech32_data(text: &str) -> Vec<u8> {
    const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = text.to_lowercase();
    let (_, data) = lower.rsplit_once('1').unwrap();
    let data = &data[..data.len() - 6];
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in data.chars() {
        acc = (acc << 5) | CHARSET.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    assert_eq!(out.len(), 32);
    out
}

/// Which of `needles` the process's readable memory holds.
fn found_in_memory(pid: u32, needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let longest = needles.iter().map(|(_, n)| n.len()).max().unwrap_or(1);
    let mut found = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !fields[1].starts_with('r') || fields.get(5).is_some_and(|p| p.starts_with("[v")) {
            continue;
        }
        let (start, end) = fields[0].split_once('-').unwrap();
        let (start, end) = (
            u64::from_str_radix(start, 16).unwrap(),
            u64::from_str_radix(end, 16).unwrap(),
        );
        let mut at = start;
        while at < end {
            let want = ((end - at) as usize).min(chunk.len());
            if mem.seek(SeekFrom::Start(at)).is_err() {
                break;
            }
            let Ok(n) = mem.read(&mut chunk[..want]) else {
                break;
            };
            if n == 0 {
                break;
            }
            for (name, needle) in needles {
                if !found.contains(name) && contains(&chunk[..n], needle) {
                    found.push(name.clone());
                }
            }
            // Overlap, so a needle across two chunks is found.
            at += (n.saturating_sub(longest - 1)).max(1) as u64;
            if n < want {
                break;
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let first = needle[0];
    let mut i = 0;
    while let Some(p) = haystack[i..].iter().position(|b| *b == first) {
        let at = i + p;
        if haystack.len() - at < needle.len() {
            return false;
        }
        if &haystack[at..at + needle.len()] == needle {
            return true;
        }
        i = at + 1;
    }
    false
}

async fn metric(d: &Daemon, name: &str) -> Option<f64> {
    let text = reqwest::get(d.metrics_url("/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Waits (at most three minutes) until the daemon keeps no session.
async fn until_no_session(d: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while metric(d, "senim_console_sessions").await != Some(0.0) {
        assert!(Instant::now() < deadline, "the sessions were never dropped");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn answered_call(d: &Daemon, call_id: &str) -> i64 {
    post_answered_call(d, call_id, "2026-12-16").await["appeal_id"]
        .as_i64()
        .unwrap()
}

/// Reveals the appeal and checks the page shows the sealed number.
async fn reveal_number(d: &Daemon, session: &str, id: i64) {
    let r = reveal(d, session, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains(CALLER), "revealed");
}

/// A reader logs in with her passphrase, reveals a sealed appeal and logs
/// out: no form of the office key (nor of her own, nor her passphrase or
/// password) is left in the daemon's memory. She logs in again, reveals it, and leaves the session idle: once
/// it has expired the sweep drops it (its cookie never comes back), and again
/// nothing of the key is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_key_leaves_the_daemons_memory_at_logout_and_at_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = start(dir.path(), "idle_minutes = 1");
    sealed_with_a_reader(dir.path(), &config);
    let mut needles = secrets_of_dana(&config).await;
    // The passphrase and the password too, as Senim decodes them (the form's
    // encoded bytes pass through the HTTP library's buffers, which it cannot
    // wipe: docs/security.md).
    for (name, secret) in [("the passphrase", PASSPHRASE), ("the password", PASSWORD)] {
        needles.push((name.to_owned(), secret.as_bytes().to_vec()));
    }
    let d = serve(dir.path(), &config, port);
    let pid = d.pid().unwrap();
    let id = answered_call(&d, "1765863600.41").await;
    let control = vec![("the PBX's token".to_owned(), PBX_TOKEN.as_bytes().to_vec())];
    assert_eq!(
        found_in_memory(pid, &control),
        ["the PBX's token"],
        "the scan reads the daemon's memory"
    );

    let (status, session) = http_login_with_key(&d, "dana", PASSWORD, PASSPHRASE).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = session.unwrap();
    reveal_number(&d, &session, id).await;
    let html = session_get(&d, &session, &format!("/console/appeals/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let r = session_post(
        &d,
        &session,
        "/console/logout",
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    until_no_session(&d).await;
    assert_eq!(
        found_in_memory(pid, &needles),
        Vec::<String>::new(),
        "after the log-out"
    );

    let (_, session) = http_login_with_key(&d, "dana", PASSWORD, PASSPHRASE).await;
    reveal_number(&d, &session.unwrap(), id).await;
    until_no_session(&d).await;
    assert_eq!(
        found_in_memory(pid, &needles),
        Vec::<String>::new(),
        "after the expiry"
    );
    d.terminate();
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The login form's token and its cookie, as a browser gets them.
async fn login_form(d: &Daemon) -> (String, String) {
    let r = no_redirects()
        .get(d.url("/console/login"))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&r, "senim_login").unwrap();
    (cookie, csrf_of(&r.text().await.unwrap()))
}

async fn try_login(d: &Daemon, form: &(String, String), login: &str, password: &str) -> StatusCode {
    no_redirects()
        .post(d.url("/console/login"))
        .header(reqwest::header::COOKIE, &form.0)
        .form(&[("login", login), ("password", password), ("csrf", &form.1)])
        .send()
        .await
        .unwrap()
        .status()
}

/// 300 failed logins with 1 MB login names, then 3,000 with names just
/// over the longest a person may have, 16 at a time: the daemon's resident
/// memory grows by less than 50 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failed_logins_with_huge_names_takes_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = start(dir.path(), "");
    let d = serve(dir.path(), &config, port);
    let pid = d.pid().unwrap();
    let form = login_form(&d).await;
    assert_eq!(try_login(&d, &form, "nobody", "wrong").await, 401);
    let before = rss_kib(pid, "VmRSS:");
    let huge = "x".repeat(1 << 20);
    for round in 0..(300 / 16 + 1) {
        let tries = (0..16).map(|i| {
            let name = format!("{round}-{i}-{huge}");
            let (d, form) = (&d, &form);
            async move {
                no_redirects()
                    .post(d.url("/console/login"))
                    .header(reqwest::header::COOKIE, &form.0)
                    .form(&[
                        ("login", name.as_str()),
                        ("password", "wrong"),
                        ("csrf", &form.1),
                    ])
                    .send()
                    .await
                    .map(|r| r.status())
            }
        });
        // Refused, or the connection closed on the body it would not read.
        for status in futures_util::future::join_all(tries)
            .await
            .into_iter()
            .flatten()
        {
            assert!(status.is_client_error(), "{status}");
        }
    }
    for round in 0..(3000 / 16 + 1) {
        let tries = (0..16).map(|i| {
            let name = format!("{round:04}-{i:02}-{}", "y".repeat(60));
            let (d, form) = (&d, &form);
            async move { try_login(d, form, &name, "wrong").await }
        });
        for status in futures_util::future::join_all(tries).await {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    let after = rss_kib(pid, "VmRSS:");
    assert!(
        after < before + 50 * 1024,
        "RSS grew from {before} kB to {after} kB"
    );
    d.terminate();
}

/// 60 wrong passwords for one login at once: at most 5 are checked (the
/// others are refused as locked before any check), and the login is locked:
/// the right password is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_simultaneous_wrong_passwords_check_at_most_five_and_lock_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let (_, d) = serving_marat(dir.path());
    let mut forms = Vec::new();
    for _ in 0..61 {
        forms.push(login_form(&d).await);
    }
    let tries = forms[..60]
        .iter()
        .map(|form| try_login(&d, form, "marat", "a wrong password here"));
    let answers = futures_util::future::join_all(tries).await;
    let checked = answers.iter().filter(|s| **s == 401).count();
    let locked = answers.iter().filter(|s| **s == 429).count();
    assert!(checked <= 5, "{checked} passwords checked: {answers:?}");
    assert_eq!(checked + locked, 60, "{answers:?}");
    assert!(
        metric(&d, "senim_console_password_checks_total")
            .await
            .unwrap_or(0.0)
            <= 5.0
    );
    assert_eq!(try_login(&d, &forms[60], "marat", PASSWORD).await, 429);
    d.terminate();
}

/// The database administrator edits a person's key to ask for scrypt at
/// 2^19 (512 MiB): the login with the passphrase is refused with the page
/// that says so, before any derivation (the daemon's peak memory stays far
/// below), and the password alone still logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_key_with_a_huge_work_factor_is_refused_at_unlock_without_eating_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = start(dir.path(), "");
    sealed_with_a_reader(dir.path(), &config);
    let db = dir.path().join("data").join("senim.db");
    let sqlite = |sql: &str| {
        let out = std::process::Command::new("sqlite3")
            .arg(&db)
            .arg(sql)
            .output()
            .unwrap();
        crate::support::senim::assert_succeeded(&out);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let protected = hex::decode(sqlite(
        "SELECT hex(identity) FROM person_keys WHERE login = 'dana'",
    ))
    .unwrap();
    let text = String::from_utf8_lossy(&protected).into_owned();
    let stanza = text
        .lines()
        .find(|l| l.starts_with("-> scrypt "))
        .unwrap()
        .to_owned();
    let (head, _) = stanza.rsplit_once(' ').unwrap();
    let costly = text.replacen(&stanza, &format!("{head} 19"), 1);
    sqlite(&format!(
        "UPDATE person_keys SET identity = X'{}' WHERE login = 'dana'",
        hex::encode(costly.as_bytes())
    ));
    let d = serve(dir.path(), &config, port);
    let pid = d.pid().unwrap();
    let (cookie, csrf) = login_form(&d).await;
    let r = no_redirects()
        .post(d.url("/console/login"))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[
            ("login", "dana"),
            ("password", PASSWORD),
            ("passphrase", PASSPHRASE),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("more work than the server accepts"), "{html}");
    let peak = rss_kib(pid, "VmHWM:");
    assert!(peak < 300 * 1024, "the daemon's peak memory: {peak} kB");
    let (status, session) = http_login(&d, "dana", PASSWORD).await;
    assert_eq!((status, session.is_some()), (StatusCode::SEE_OTHER, true));
    d.terminate();
}

/// A manager logged in is disabled (`senim persons disable`): her next reveal
/// and her next classification are sent to the login page, and nothing is
/// recorded in her name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_managers_session_can_neither_reveal_nor_classify() {
    let dir = tempfile::tempdir().unwrap();
    let (config, d) = serving_marat(dir.path());
    let id = answered_call(&d, "1765863600.42").await;
    let (_, session) = http_login(&d, "marat", PASSWORD).await;
    let session = session.unwrap();
    let html = session_get(&d, &session, &format!("/console/appeals/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    let history = || succeeds(run_cli(&config, &["journal", "show", &id.to_string()]));
    let before = history();
    succeeds(run_cli(&config, &["persons", "disable", "marat"]));
    let reveal = session_post(
        &d,
        &session,
        &format!("/console/appeals/{id}/reveal"),
        &[("csrf", &csrf)],
    )
    .await;
    let classify = session_post(
        &d,
        &session,
        &format!("/console/appeals/{id}/classify"),
        &[
            ("csrf", csrf.as_str()),
            ("category", "corruption"),
            ("reason", "a bribe for the inspection"),
        ],
    )
    .await;
    for r in [reveal, classify] {
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[reqwest::header::LOCATION], "/console/login");
    }
    let after = history();
    assert_eq!(after, before, "nothing recorded");
    assert!(!after.contains("person:marat"), "{after}");
    d.terminate();
}

/// `senim persons reset` of a disabled person gives a new token and leaves
/// her disabled: neither token opens the API; `persons enable` is the way back,
/// and then the new token works and the old one still does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resetting_a_disabled_persons_token_leaves_her_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = start(dir.path(), "");
    let manager = console_person(&config, dir.path(), "aliya", &["manager"]);
    succeeds(run_cli(&config, &["persons", "disable", "aliya"]));
    let out = succeeds(run_cli(&config, &["persons", "reset", "aliya"]));
    let token = out
        .split_whitespace()
        .find(|w| w.starts_with("snm_"))
        .unwrap()
        .to_owned();
    let list = succeeds(run_cli(&config, &["persons", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("aliya") && l.contains("disabled")),
        "{list}"
    );
    let d = serve(dir.path(), &config, port);
    let outbox = async |token: &str| {
        reqwest::Client::new()
            .get(d.url("/v1/outbox"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    for token in [&manager.token, &token] {
        assert_eq!(outbox(token).await, StatusCode::UNAUTHORIZED);
    }
    succeeds(run_cli(&config, &["persons", "enable", "aliya"]));
    for (token, status) in [
        (&manager.token, StatusCode::UNAUTHORIZED),
        (&token, StatusCode::OK),
    ] {
        assert_eq!(outbox(token).await, status);
    }
    d.terminate();
}
