//! What is sent on must be usable by whoever receives it (10.9, 6.3). Once
//! sealing is on, the unit an appeal is sent on to has no key and no Senim
//! access: the routing mail tells it the appeal is sealed, unless the manager
//! who sends it on opens the appeal with her own key and chooses to send its
//! subject and substance (`senim journal act … route --with-text`, or the
//! console's checkbox): a disclosure recorded in the audit chain, naming her
//! and the purpose, with the `routed` event naming the fields sent, never their
//! values. The reporter's identity never goes to a unit (10.14). (The competent
//! body of 6.3 gets the materials package, made with a person's key and recorded
//! as `document_issued`: `tests/documents.rs`.)

use crate::support;

use std::time::Duration;

use senim::journal::{NewAppeal, Reporter, SourceRef};
use support::app::TestApp;
use support::console::config;
use support::scene::new_appeal;
use support::scene::{Keys, chain_key_toml};
use support::senim::{person, write_config};
use support::smtp::{SmtpMode, SmtpOptions, SmtpServer};
use support::time::astana;

const CHAIN_KEY: &str = "5a69788796a5b4c3d2e1f00f1e2d3c4b0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PASSPHRASE: &str = "the manager's key passphrase";
const UNIT: &str = "audit@kazstandard.kz";
const NAME: &str = "Серік Әлиев";
const SUBSTANCE: &str = "Бригадир требует деньги за допуск на объект";

// Multi-threaded: the in-process daemon's sender runs while the test waits
// for the SMTP server's spool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_appeal_reaches_its_unit_with_its_text_only_when_the_manager_sends_it() {
    let smtp = SmtpServer::start(SmtpOptions {
        mode: SmtpMode::StartTlsRequired,
        auth: Some((
            support::console::SMTP_USER.into(),
            support::console::SMTP_PASSWORD.into(),
        )),
        ..SmtpOptions::default()
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let extra = format!(
        "{}\n[[alerts.routes]]\nunit = \"Internal audit\"\naddress = \"{UNIT}\"\n\
         categories = [\"not_corruption\"]\n\n{}",
        config(Some(&smtp)),
        chain_key_toml(dir.path(), CHAIN_KEY)
    );
    // Sealing on, the manager a reader with her own key (daemon stopped).
    let config_path = write_config(dir.path(), support::ports::free_port(), "", &extra);
    let director = person(&config_path, "dana", &["director"]);
    let manager = person(&config_path, "marat", &["manager"]);
    let pass = Keys::init(&config_path, dir.path(), &director).reader(&manager, PASSPHRASE);
    let pass_arg = pass.to_str().expect("path");
    let d = TestApp::spawn(dir.path(), "", &extra, astana(2026, 12, 7, 12, 0)).await;
    let register = async |key: &str| {
        d.app
            .journal
            .register(NewAppeal {
                reporter: Reporter {
                    name: Some(NAME.into()),
                    email: Some("serik@example.kz".into()),
                    ..Reporter::default()
                },
                subject: Some("Допуск на объект".into()),
                substance: Some(SUBSTANCE.into()),
                ..new_appeal(SourceRef::new("test", key), astana(2026, 12, 7, 10, 0))
            })
            .await
            .expect("register")
            .into_appeal()
    };
    let plain = register("without-text").await;
    let with_text = register("with-text").await;
    assert!(
        plain.sealed.is_some() && with_text.sealed.is_some(),
        "sealed at registration"
    );

    // Sent on without its text: the unit is told it is sealed.
    let route = |number: &str, text: bool| {
        let mut args = vec![
            "journal",
            "act",
            number,
            "route",
            "--unit",
            "Internal audit",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        if text {
            args.extend(["--with-text", "--passphrase-file", pass_arg].map(str::to_owned));
        }
        support::senim::command()
            .arg("--config")
            .arg(&d.config)
            .args(["--as", &manager.login])
            .args(&args)
            .env("SENIM_TOKEN", &manager.token)
            .env(senim::clock::START_ENV, "2026-12-07T12:00:00+05:00")
            .output()
            .expect("run senim")
    };
    let n_plain = plain.registration_number.to_string();
    let n_text = with_text.registration_number.to_string();
    let out = route(&n_plain, false);
    crate::support::senim::assert_succeeded(&out);
    let out = route(&n_text, true);
    crate::support::senim::assert_succeeded(&out);
    // The commands ran on the daemon's calendar day, a few seconds on from its
    // pinned clock: move it past them, so the sender finds the mail due.
    d.clock.set(astana(2026, 12, 7, 12, 5));
    let mails = smtp.wait_for_messages(2, Duration::from_secs(60));
    // Each mail to the unit, as its text reads once decoded (lettre encodes
    // the Cyrillic body).
    let to_unit = |number: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == UNIT) && m.data_str().contains(number))
            .and_then(|m| mail_parser::MessageParser::default().parse(&m.data))
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_else(|| panic!("no mail to the unit about {number}"))
    };
    let sealed_mail = to_unit(&n_plain);
    assert!(
        sealed_mail.contains("sealed") && !sealed_mail.contains("Бригадир"),
        "without the manager's choice, no text: {sealed_mail}"
    );
    let decoded = to_unit(&n_text);
    assert!(
        decoded.contains(SUBSTANCE),
        "the unit can act on it: {decoded}"
    );
    assert!(
        !decoded.contains(NAME) && !decoded.contains("serik@example.kz"),
        "never the reporter's identity: {decoded}"
    );
    // The chain: a disclosure by the manager, and the routing naming the
    // fields sent, never their values.
    let history = d.app.journal.history(with_text.id).await.expect("history");
    assert!(
        history
            .iter()
            .any(|e| e.kind == "identity_disclosed" && e.actor == "person:marat"),
        "the opening is recorded"
    );
    let routed = history.iter().find(|e| e.kind == "routed").expect("routed");
    assert!(
        routed.detail.contains("\"sent\"") && !routed.detail.contains("Бригадир"),
        "{}",
        routed.detail
    );
    let history = d.app.journal.history(plain.id).await.expect("history");
    assert!(!history.iter().any(|e| e.kind == "identity_disclosed"));
    d.stop().await;
}
