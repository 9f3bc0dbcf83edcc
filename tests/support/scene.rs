//! Scenes: what a test sets up before it acts, written once. An answered call
//! as the PBX posts it, the sealing set-up (the office key made, persons
//! enrolled and added as its readers) through the CLI or in the test's process,
//! and the tables a configuration adds to what `senim::write_config` writes.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use senim::app::App;
use senim::db::Tx;
use senim::journal::{Channel, NewAppeal, Reporter, SourceRef, Status};
use senim::sealing::Unlocked;
use serde_json::{Value, json};

use super::senim::{Person, Served, command, output_text as text};

/// The PBX source's token of the scenes' configurations (`[[pbx.sources]]`
/// named `office`).
pub const PBX_TOKEN: &str = "asterisk-token-0123456789";
/// The caller of the scenes' calls.
pub const CALLER: &str = "+77011234567";

/// An `[[api.managers]]` table: the manager `name` with the API `token`.
pub fn manager_toml(name: &str, token: &str) -> String {
    format!("[[api.managers]]\nname = \"{name}\"\ntoken = \"{token}\"\n")
}

/// The `[pbx]` tables of a daemon taking calls from `office` with `PBX_TOKEN`,
/// late by up to 30 days.
pub fn pbx_toml() -> String {
    format!(
        "[pbx]\nlate_tolerance_seconds = 2592000\n\n\
         [[pbx.sources]]\nname = \"office\"\ntoken = \"{PBX_TOKEN}\"\n"
    )
}

/// A chain key (`key`, 64 hex digits) written to `dir/chain.key`, and the
/// `[journal]` table naming it.
pub fn chain_key_toml(dir: &Path, key: &str) -> String {
    let file = dir.join("chain.key");
    std::fs::write(&file, format!("{key}\n")).expect("write the chain key");
    format!("[journal]\nchain_key_file = \"{}\"\n", file.display())
}

/// Adds `keys` (TOML lines) to the table `[table]` of the configuration
/// `senim::write_config` wrote at `config` (TOML allows a table once).
pub fn add_keys(config: &Path, table: &str, keys: &str) {
    let text = std::fs::read_to_string(config).expect("read config");
    let header = format!("[{table}]\n");
    assert!(
        text.contains(&header),
        "no [{table}] in {}",
        config.display()
    );
    let text = text.replacen(&header, &format!("{header}{keys}\n"), 1);
    std::fs::write(config, text).expect("write config");
}

/// A call answered at the office, as the PBX posts it: from `CALLER`, ringing
/// at 10:40 Astana on `day` (YYYY-MM-DD), answered 9 s later, ended at 10:52.
pub fn answered_call_record(call_id: &str, day: &str) -> Value {
    json!({
        "call_id": call_id,
        "caller": CALLER,
        "start": format!("{day}T10:40:00+05:00"),
        "answer": format!("{day}T10:40:09+05:00"),
        "end": format!("{day}T10:52:00+05:00"),
        "disposition": "answered",
    })
}

/// The PBX posts `record` with `PBX_TOKEN`; its answer.
pub async fn post_call(d: &impl Served, record: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(d.url("/v1/pbx/calls"))
        .bearer_auth(PBX_TOKEN)
        .json(record)
        .send()
        .await
        .expect("post the call")
}

/// `answered_call_record` posted and registered (201); the PBX's answer
/// (`appeal_id`, `registration_number`…).
pub async fn post_answered_call(d: &impl Served, call_id: &str, day: &str) -> Value {
    let r = post_call(d, &answered_call_record(call_id, day)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.expect("the PBX's answer")
}

/// The sealing set-up through the CLI, as an installation does it: the office
/// key made by the Director (`keys init`, its escrow key in `dir/escrow.key`),
/// then persons enrolled with a passphrase of their own and added as readers.
pub struct Keys {
    config: PathBuf,
    dir: PathBuf,
    director: Person,
    env: Vec<(String, String)>,
}

impl Keys {
    /// `keys init` by `director` on the installation of `config` (in `dir`).
    pub fn init(config: &Path, dir: &Path, director: &Person) -> Keys {
        Keys::init_with_env(config, dir, director, &[])
    }

    /// `init`, each command run with `env` (the test clock, say).
    pub fn init_with_env(
        config: &Path,
        dir: &Path,
        director: &Person,
        env: &[(&str, &str)],
    ) -> Keys {
        let keys = Keys {
            config: config.to_owned(),
            dir: dir.to_owned(),
            director: director.clone(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let escrow = keys.escrow();
        keys.succeeds(
            director,
            &[
                "keys",
                "init",
                "--escrow-out",
                &escrow.display().to_string(),
            ],
        );
        keys
    }

    /// The escrow key's file (`dir/escrow.key`).
    pub fn escrow(&self) -> PathBuf {
        self.dir.join("escrow.key")
    }

    /// `who` enrolled with `passphrase` (written to `dir/LOGIN.pass`); the file.
    pub fn enroll(&self, who: &Person, passphrase: &str) -> PathBuf {
        let file = self.dir.join(format!("{}.pass", who.login));
        std::fs::write(&file, format!("{passphrase}\n")).expect("write the passphrase");
        self.succeeds(
            who,
            &[
                "keys",
                "enroll",
                "--passphrase-file",
                &file.display().to_string(),
            ],
        );
        file
    }

    /// `keys add-reader LOGIN` by the Director with the escrow key.
    pub fn add_reader(&self, login: &str) -> Output {
        let escrow = self.escrow().display().to_string();
        let director = self.director.clone();
        self.run(
            &director,
            &["keys", "add-reader", login, "--escrow-key-file", &escrow],
        )
    }

    /// `who` enrolled with `passphrase` and added as a reader; the passphrase's
    /// file.
    pub fn reader(&self, who: &Person, passphrase: &str) -> PathBuf {
        let file = self.enroll(who, passphrase);
        let out = self.add_reader(&who.login);
        assert!(out.status.success(), "{}", text(&out));
        file
    }

    /// `senim --as WHO ARGS` on this installation.
    pub fn run(&self, who: &Person, args: &[&str]) -> Output {
        command()
            .arg("--config")
            .arg(&self.config)
            .args(["--as", &who.login])
            .args(args)
            .env("SENIM_TOKEN", &who.token)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run senim")
    }

    fn succeeds(&self, who: &Person, args: &[&str]) {
        let out = self.run(who, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
}

/// The office key made and `reader` (the Director, with a console password)
/// enrolled with `passphrase` and added as its reader: what the daemon started
/// next works sealed.
pub fn sealed_with_reader(config: &Path, dir: &Path, reader: &Person, passphrase: &str) {
    Keys::init(config, dir, reader).reader(reader, passphrase);
}

/// `senim keys init` in the test's process, as the CLI runs it: the office key
/// made by `actor` in one transaction, the sealer given its recipients, then
/// `seal` (what the test seals in place in the same transaction), the commit,
/// and the sealer refreshed and on. The escrow's identity, as the Director's
/// safe keeps it.
pub async fn keys_init(
    app: &App,
    actor: &str,
    seal: impl AsyncFnOnce(&mut Tx),
) -> age::x25519::Identity {
    use age::secrecy::ExposeSecret;
    let keys = app.keys();
    let mut tx = app.db.begin().await.expect("begin");
    let made = keys
        .init_in(&mut tx, actor, app.clock.now())
        .await
        .expect("init the office key");
    let recipients = keys
        .current_in(&mut tx)
        .await
        .expect("the new generation")
        .expect("one");
    app.sealer.use_recipients(recipients);
    seal(&mut tx).await;
    tx.commit().await.expect("commit");
    app.sealer.refresh().await.expect("refresh the sealer");
    assert!(app.sealer.is_on(), "sealing is on");
    senim::sealing::keys::parse_escrow(made.escrow_identity.expose_secret())
        .expect("the escrow identity")
}

/// The office key, opened with the escrow's identity.
pub async fn office_key(app: &App, escrow: age::x25519::Identity) -> Unlocked {
    app.keys()
        .unlock_escrow(escrow)
        .await
        .expect("unlock with the escrow")
}

/// An appeal as a test registers it straight in the Journal: `source`,
/// received at `at` by e-mail, anonymous, without subject or substance,
/// registered, by `test`. A test writes what differs:
/// `NewAppeal { substance: Some(..), ..new_appeal(source, at) }`.
pub fn new_appeal(source: SourceRef, at: DateTime<Utc>) -> NewAppeal {
    NewAppeal {
        received_at: at,
        channel: Channel::Email,
        reporter: Reporter::default(),
        subject: None,
        substance: None,
        status: Status::Registered,
        source,
        also_known_as: vec![],
        actor: "test".into(),
    }
}

/// Every point of the operator's script (clause 10.5), as the notes name them.
pub const SCRIPT: [&str; 4] = [
    "own_name_and_position",
    "line_scope",
    "state_secret_warning",
    "disclosure_liability",
];

/// The operator's notes on appeal `id` through the API (`PATCH
/// /v1/appeals/ID` with `token`), every point of the script said: `fields`
/// and the script; accepted (200), the appeal as answered.
pub async fn record_notes(d: &impl Served, token: &str, id: i64, mut fields: Value) -> Value {
    fields["script"] = json!(SCRIPT);
    let r = reqwest::Client::new()
        .patch(d.url(&format!("/v1/appeals/{id}")))
        .bearer_auth(token)
        .json(&fields)
        .send()
        .await
        .expect("send the notes");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("the appeal")
}

/// Every appeal in the Journal, oldest first.
pub async fn appeals(app: &App) -> Vec<senim::journal::Appeal> {
    app.journal
        .list(&senim::journal::ListFilter::default())
        .await
        .expect("list the Journal")
}

/// Appeal `id` destroyed under the records schedule, as the retention job
/// does it; the appeal as it is left.
pub async fn destroyed_on_schedule(
    journal: &senim::journal::Journal,
    id: senim::journal::AppealId,
) -> senim::journal::Appeal {
    journal
        .amend(
            id,
            senim::journal::Amendment::Destroyed {
                reason: "records schedule".into(),
                elsewhere: Default::default(),
            },
            "retention",
        )
        .await
        .expect("destroyed")
}

/// The events of `kind` in an appeal's history, in order.
pub fn events_of<'a>(
    history: &'a [senim::journal::audit::EventRow],
    kind: &str,
) -> Vec<&'a senim::journal::audit::EventRow> {
    history.iter().filter(|e| e.kind == kind).collect()
}
