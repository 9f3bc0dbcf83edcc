//! The e-mail channel with sealing on (issue 10), against a real Dovecot and a
//! real SMTP server: a citizen's mail is registered and acknowledged as before,
//! but nothing of who wrote or what they wrote is left in plain bytes in the
//! database or anywhere under the data directory; replies and redeliveries are
//! still recognised (by keyed hashes); and a person holding the key (here the
//! escrow) opens the stored mail back to the bytes that arrived. A store filled
//! while sealing was off is sealed in place by `seal_existing_in`, and works on.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use senim::app::App;
use senim::clock::SystemClock;
use senim::config::{Config, ConfigSource};
use senim::journal::AppealId;
use senim::mailbox::store::{self, MessagePk, StoreError};
use senim::outbox::{MailKind, MailState, Outbox};
use senim::sealing::Unlocked;
use tokio::sync::watch;

use support::dovecot::Dovecot;
use support::eventually::{self, eventually};
use support::ports::free_port;
use support::scene::{self, chain_key_toml};
use support::senim::write_config;
use support::smtp::{SmtpOptions, SmtpServer};

const NAME: &str = "Zhanar Kuanyshkyzy-Sealtest";
const ADDRESS: &str = "zhanar.sealtest@example.kz";
const PHRASE: &str = "the deputy akim took a bribe of 7731 tenge";
const ATTACHMENT: &str = "ATTACHMENT-CONTENT-scan-of-the-receipt-5519";
const FILENAME: &str = "receipt-scan-5519.txt";
const MESSAGE_ID: &str = "sealed-appeal-8841@example.kz";

/// A 32-byte chain key (the intake key and the keyed hashes derive from it).
const CHAIN_KEY: &str = "sealed-mail-test-chain-key-0123456789abcdef";

/// The citizen's appeal, with an attachment, as it reaches the mailbox.
fn appeal_mail() -> Vec<u8> {
    format!(
        "From: {NAME} <{ADDRESS}>\r\nTo: trust@example.kz\r\nSubject: Bribe at the akimat\r\n\
         Message-ID: <{MESSAGE_ID}>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0500\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{PHRASE}. Please look into it.\r\n\
         --b1\r\nContent-Type: text/plain; name=\"{FILENAME}\"\r\n\
         Content-Disposition: attachment; filename=\"{FILENAME}\"\r\n\r\n{ATTACHMENT}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// The reporter's follow-up: threaded on their appeal by References only (no
/// registration number), so it is found by the appeal mail's Message-ID.
fn follow_up() -> Vec<u8> {
    format!(
        "From: {NAME} <{ADDRESS}>\r\nTo: trust@example.kz\r\nSubject: One more thing\r\n\
         Message-ID: <sealed-follow-up-8841@example.kz>\r\nReferences: <{MESSAGE_ID}>\r\n\
         In-Reply-To: <{MESSAGE_ID}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         He also asked for more next month.\r\n"
    )
    .into_bytes()
}

/// What must never be found in plain bytes once sealing is on.
fn secrets() -> Vec<(&'static str, String)> {
    vec![
        ("the sender's name", NAME.to_owned()),
        ("the sender's address", ADDRESS.to_owned()),
        ("a phrase of the text", PHRASE.to_owned()),
        ("the attachment's content", ATTACHMENT.to_owned()),
        ("the attachment's file name", FILENAME.to_owned()),
        ("the Message-ID", MESSAGE_ID.to_owned()),
    ]
}

/// The daemon's mailbox intake in this process, its data under `dir/data` (SQLite
/// there), with a chain key and a receipt sender on `smtp`.
struct Intake {
    app: Arc<App>,
    instance: String,
    stop: Option<watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn open_app(
    dir: &Path,
    database_url: &str,
    dovecot: &Dovecot,
    smtp: &SmtpServer,
) -> (Arc<App>, PathBuf) {
    let data_dir = dir.join("data");
    let extra = format!(
        "{}\n{}\n[mailbox.ack]\nlanguages = [\"ru\"]\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"senim@example.kz\"\n",
        chain_key_toml(dir, CHAIN_KEY),
        dovecot.mailbox_toml(),
        smtp.port(),
    );
    let path = write_config(dir, free_port(), database_url, &extra);
    let config = Config::load(&ConfigSource::new(Some(&path))).expect("config");
    let app = App::open(config, Arc::new(SystemClock))
        .await
        .expect("open app");
    (Arc::new(app), data_dir)
}

/// Makes the office key (as `senim keys init` will) and turns sealing on; returns
/// the escrow identity, as the Director's safe would keep it.
async fn init_keys(app: &App) -> age::x25519::Identity {
    scene::keys_init(app, "test", async |_| {}).await
}

impl Intake {
    fn start(app: Arc<App>, data_dir: &Path) -> Intake {
        let instance = senim::instance::id(data_dir).expect("instance id");
        let mut intake = Intake {
            app,
            instance,
            stop: None,
            task: None,
        };
        intake.resume();
        intake
    }

    fn resume(&mut self) {
        let (stop, rx) = watch::channel(false);
        self.task = Some(tokio::spawn(senim::mailbox::poller::run(
            self.app.mailbox.clone(),
            self.instance.clone(),
            rx,
        )));
        self.stop = Some(stop);
    }

    async fn pause(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }

    async fn appeals(&self) -> Vec<senim::journal::Appeal> {
        support::scene::appeals(&self.app).await
    }

    async fn stored(&self) -> Vec<store::StoredMessage> {
        store::list(&self.app.db).await.expect("list stored mail")
    }

    /// Sends what the outbox holds, as the daemon's sender would.
    async fn deliver(&self) -> usize {
        self.app
            .sender(self.instance.clone())
            .expect("the sender")
            .deliver_due()
            .await
            .expect("deliver")
            .sent
    }

    /// The appeal's `correspondence_added` events' details.
    async fn correspondence(&self, id: AppealId) -> Vec<String> {
        self.app
            .journal
            .history(id)
            .await
            .expect("history")
            .into_iter()
            .filter(|e| e.kind == "correspondence_added")
            .map(|e| e.detail)
            .collect()
    }
}

async fn wait_settled(intake: &Intake, dovecot: &Dovecot, stored: usize) {
    eventually(Duration::from_secs(60), "the mail stored", async || {
        let count = intake.stored().await.len();
        eventually::ok_if(count >= stored, format!("{count} stored"))
    })
    .await;
    eventually(Duration::from_secs(60), "an empty INBOX", async || {
        let count = dovecot.message_count("INBOX");
        eventually::ok_if(count == 0, format!("{count} in the INBOX"))
    })
    .await;
}

/// Waits until the INBOX is empty and `Senim/Registered` holds the three mails.
async fn wait_duplicate_settled(dovecot: &Dovecot) {
    eventually(
        Duration::from_secs(60),
        "the duplicate settled",
        async || {
            let counts = (
                dovecot.message_count("INBOX"),
                dovecot.message_count("Senim/Registered"),
            );
            eventually::ok_if(
                counts == (0, 3),
                format!("(INBOX, Senim/Registered): {counts:?}"),
            )
        },
    )
    .await;
}

/// The SHA-256 (hex) of bytes, as the plain store would have kept it.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every file under `dir`, recursively.
/// Each secret found in plain bytes in a file under `dir`: (what, file).
fn plain_secrets_under(dir: &Path, secrets: &[(&'static str, String)]) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for file in support::files::files_under(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for (what, secret) in secrets {
            if bytes
                .windows(secret.len())
                .any(|w| w.eq_ignore_ascii_case(secret.as_bytes()))
            {
                found.push((what.to_string(), file.clone()));
            }
        }
    }
    found
}

/// The Journal seals the appeal's identity and text itself: no `appeals` row holds
/// them plain. Then the WAL is checkpointed, so what the files hold is what the
/// tables hold now.
async fn assert_journal_sealed_and_checkpoint(app: &App) {
    let senim::db::Db::Sqlite(sqlite) = &app.db else {
        panic!("the test runs on SQLite");
    };
    let plain: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appeals WHERE reporter_name IS NOT NULL OR reporter_email IS NOT NULL \
         OR subject IS NOT NULL OR substance IS NOT NULL OR sealed_digest IS NULL",
    )
    .fetch_one(&sqlite.pool)
    .await
    .expect("count plain appeals");
    assert_eq!(plain, 0, "the Journal holds plain appeals");
    assert!(
        app.db.checkpoint().await.expect("checkpoint"),
        "checkpointed"
    );
}

/// Every value the mailbox's and the outbox's tables (and the Journal's references
/// and audit details) hold, as bytes, read through SQL: a plain value in the live
/// rows is found before any checkpoint, on either backend.
async fn mail_and_outbox_values(app: &App) -> Vec<Vec<u8>> {
    use sqlx::Row;
    let mut values = Vec::new();
    for (table, columns) in [
        (
            "mail_messages",
            "source_key, message_id, sha256, raw, from_name, from_address, subject, body_text, notes, sealed_fields",
        ),
        ("mail_refs", "kind, key"),
        (
            "mail_attachments",
            "filename, sha256, content, sealed_filename",
        ),
        ("mail_ack_log", "sender_hash"),
        (
            "outbox",
            "dedupe_key, reference, message_id, recipient, message, last_error, sealed_recipient",
        ),
        ("appeal_sources", "kind, key"),
        ("appeal_events", "detail"),
    ] {
        for column in columns.split(", ") {
            let sql = format!("SELECT {column} FROM {table}");
            let found: Vec<Vec<u8>> = senim::on_db!(&app.db, pool => {
                sqlx::query(&sql).fetch_all(pool).await.map(|rows| {
                    rows.iter()
                        .filter_map(|row| match row.try_get::<Option<Vec<u8>>, _>(0) {
                            Ok(bytes) => bytes,
                            Err(_) => row
                                .try_get::<Option<String>, _>(0)
                                .ok()
                                .flatten()
                                .map(String::into_bytes),
                        })
                        .collect()
                })
            })
            .unwrap_or_else(|e| panic!("read {table}.{column}: {e}"));
            values.extend(found);
        }
    }
    assert!(!values.is_empty(), "the tables were read");
    values
}

fn holds(values: &[Vec<u8>], secret: &str) -> bool {
    values.iter().any(|v| {
        v.windows(secret.len())
            .any(|w| w.eq_ignore_ascii_case(secret.as_bytes()))
    })
}

/// The stored message with this (plain) Message-ID, found by its keyed hash.
async fn by_message_id(intake: &Intake, id: &str) -> store::StoredMessage {
    let key = store::message_key(
        &intake.app.sealer,
        senim::mailbox::intake::SOURCE_MESSAGE_ID,
        id,
    );
    intake
        .stored()
        .await
        .into_iter()
        .find(|m| m.message_id.as_deref() == Some(key.as_str()))
        .unwrap_or_else(|| panic!("a message stored under the keyed hash of {id}"))
}

/// What a person with the key reads back of the appeal's mail.
async fn assert_opens_back(intake: &Intake, unlocked: &Unlocked) {
    let db = &intake.app.db;
    let stored = by_message_id(intake, MESSAGE_ID).await;
    let pk = MessagePk(stored.id);
    assert!(stored.generation.is_some(), "stored sealed");
    assert_eq!(stored.subject, None, "no plain subject");
    assert_eq!(stored.body_text, None, "no plain text");
    assert!(
        matches!(store::raw(db, pk).await, Err(StoreError::Sealed(_))),
        "the plain reader refuses a sealed message rather than return ciphertext"
    );
    let raw = store::raw_unlocked(db, pk, unlocked)
        .await
        .expect("open the raw mail")
        .expect("stored");
    assert_eq!(raw, appeal_mail(), "the raw mail opens back to its bytes");
    let fields = store::fields(db, pk, unlocked)
        .await
        .expect("open the fields")
        .expect("stored");
    assert_eq!(fields.from_name.as_deref(), Some(NAME));
    assert_eq!(fields.from_address.as_deref(), Some(ADDRESS));
    assert_eq!(fields.subject.as_deref(), Some("Bribe at the akimat"));
    assert!(fields.body_text.unwrap_or_default().contains(PHRASE));
    let attachments = store::attachment_contents(db, pk, unlocked)
        .await
        .expect("open the attachments");
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0].filename.as_deref(), Some(FILENAME));
    assert!(
        String::from_utf8_lossy(&attachments[0].content).contains(ATTACHMENT),
        "the attachment opens back"
    );
    // Without the key, the attachment's name is not shown (and never ciphertext).
    let listed = store::attachments(db, pk).await.expect("attachments");
    assert_eq!(listed[0].0, None);
}

/// Issue 10: with sealing on, a citizen's mail is registered and acknowledged,
/// replies and duplicates are recognised, nothing of it is left in plain bytes
/// under the data directory, and the escrow key opens it back.
#[tokio::test]
async fn sealed_mail_is_registered_acknowledged_threaded_and_unreadable_on_disk() {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, data_dir) = open_app(dir.path(), "", &dovecot, &smtp).await;
    let escrow = init_keys(&app).await;
    dovecot.append("INBOX", &appeal_mail());
    let mut intake = Intake::start(app.clone(), &data_dir);
    wait_settled(&intake, &dovecot, 1).await;

    // (a) Registered, as today, and the receipt queued: sealed while it waits.
    let appeals = intake.appeals().await;
    assert_eq!(appeals.len(), 1, "one appeal");
    let appeal = &appeals[0];
    let queued = app.outbox.list(None, 10).await.expect("outbox");
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].kind, MailKind::Receipt.as_str());
    assert_eq!(queued[0].recipient, senim::outbox::SEALED_RECIPIENT);
    let values = mail_and_outbox_values(&app).await;
    for (what, secret) in secrets() {
        assert!(
            !holds(&values, &secret),
            "{what} is stored plain in the mailbox's, the outbox's or the Journal's references"
        );
    }
    assert_eq!(intake.deliver().await, 1, "the receipt is sent");
    let received = smtp.wait_for_messages(1, Duration::from_secs(30));
    assert_eq!(received[0].rcpt_to, [ADDRESS]);
    let text = received[0].data_str();
    assert!(
        text.contains(&format!("In-Reply-To: <{MESSAGE_ID}>")),
        "{text}"
    );
    assert!(
        text.contains(&appeal.registration_number.to_string()),
        "{text}"
    );
    // Delivered: its body and recipient are erased.
    let sent = app.outbox.get(queued[0].id).await.expect("the receipt");
    assert_eq!(sent.state, MailState::Sent);
    assert_eq!(sent.recipient, senim::outbox::ERASED_RECIPIENT);

    // (c) The reporter's follow-up (by Message-ID only) is verified correspondence;
    // the same mail delivered again is a duplicate.
    dovecot.append("INBOX", &follow_up());
    wait_settled(&intake, &dovecot, 2).await;
    dovecot.append("INBOX", &appeal_mail());
    wait_duplicate_settled(&dovecot).await;
    let stored = intake.stored().await;
    assert_eq!(stored.len(), 2, "the duplicate is not stored again");
    assert_eq!(intake.appeals().await.len(), 1, "nor registered again");
    let reply = by_message_id(&intake, "sealed-follow-up-8841@example.kz").await;
    assert_eq!(reply.disposition, "correspondence");
    assert_eq!(reply.appeal_id, Some(appeal.id.0));
    let added = intake.correspondence(appeal.id).await;
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        !added[0].contains("unverified_sender"),
        "verified: the reporter's own address: {added:?}"
    );
    // The audit chain (append-only) names it by the keyed hash, never the plain one.
    let plain = sha256_hex(&follow_up());
    assert!(!added[0].contains(&plain), "{added:?}");
    assert!(added[0].contains(&reply.sha256), "{added:?}");
    assert_ne!(reply.sha256, plain);
    assert!(app.journal.verify().await.expect("verify").is_intact());
    // No second receipt (the reply is no appeal), nothing left to send.
    assert_eq!(intake.deliver().await, 0);
    intake.pause().await;

    // (b) Nothing plain in the mailbox's and outbox's rows, nor in any file under
    // the data directory (the SQLite database, its WAL, the rest).
    let values = mail_and_outbox_values(&app).await;
    for (what, secret) in secrets() {
        assert!(!holds(&values, &secret), "{what} is stored plain");
    }
    assert_journal_sealed_and_checkpoint(&app).await;
    assert!(
        data_dir.join("senim.db").exists(),
        "the database is under the data directory"
    );
    let found = plain_secrets_under(&data_dir, &secrets());
    assert!(found.is_empty(), "plain bytes on disk: {found:?}");

    // (d) The escrow (the Director's safe) opens it back.
    let unlocked = app
        .keys()
        .unlock_escrow(escrow)
        .await
        .expect("unlock with the escrow");
    assert_opens_back(&intake, &unlocked).await;

    // Retention destroys sealed mail as it does plain: nothing is left to open.
    let mut tx = app.db.begin().await.expect("begin");
    let destroyed =
        store::destroy_for_appeal_in(&mut tx, appeal.id, store::Destroy::Whole, app.clock.now())
            .await
            .expect("destroy");
    tx.commit().await.expect("commit");
    assert_eq!(
        (destroyed.messages, destroyed.attachments, destroyed.ack_log),
        (2, 1, 1)
    );
    let pk = MessagePk(by_message_id(&intake, MESSAGE_ID).await.id);
    assert_eq!(
        store::raw_unlocked(&app.db, pk, &unlocked)
            .await
            .expect("read"),
        Some(Vec::new())
    );
    assert_eq!(
        store::fields(&app.db, pk, &unlocked).await.expect("read"),
        Some(store::MessageFields::default())
    );
    let attachments = store::attachment_contents(&app.db, pk, &unlocked)
        .await
        .expect("read");
    assert!(attachments[0].content.is_empty() && attachments[0].filename.is_none());
}

/// `senim keys init` on a store filled while sealing was off: `seal_existing_in`
/// (the mailbox's, with the Journal's references, and the outbox's) seals it in
/// place; the old mail opens back with the key, and a reply and a redelivery of
/// it are still recognised, by the keyed hashes the plain keys became.
#[tokio::test]
async fn a_plain_store_is_sealed_in_place_and_still_recognises_its_mail() {
    seal_in_place("").await;
}

#[tokio::test]
async fn a_plain_store_is_sealed_in_place_and_still_recognises_its_mail_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    seal_in_place(&db.url).await;
}

async fn seal_in_place(database_url: &str) {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, data_dir) = open_app(dir.path(), database_url, &dovecot, &smtp).await;
    dovecot.append("INBOX", &appeal_mail());
    let mut intake = Intake::start(app.clone(), &data_dir);
    wait_settled(&intake, &dovecot, 1).await;
    intake.pause().await;
    // Stored plain, as before sealing; the receipt waits unsent.
    let before = intake.stored().await;
    assert_eq!(before[0].generation, None);
    assert_eq!(before[0].message_id.as_deref(), Some(MESSAGE_ID));
    assert_eq!(
        app.outbox.list(None, 10).await.expect("outbox")[0].recipient,
        ADDRESS
    );

    // As `senim keys init` does: the office key, then the store sealed in place,
    // in one transaction.
    let escrow = scene::keys_init(&app, "test", async |tx| {
        let sealed = app
            .mailbox
            .seal_existing_in(tx, &app.sealer)
            .await
            .expect("seal the mailbox");
        assert_eq!(sealed, 1);
        assert_eq!(
            Outbox::seal_existing_in(tx, &app.sealer)
                .await
                .expect("seal the outbox"),
            1
        );
    })
    .await;
    // A second run has nothing left to do.
    let mut tx = app.db.begin().await.expect("begin");
    assert_eq!(
        app.mailbox
            .seal_existing_in(&mut tx, &app.sealer)
            .await
            .expect("again"),
        0
    );
    assert_eq!(
        Outbox::seal_existing_in(&mut tx, &app.sealer)
            .await
            .expect("again"),
        0
    );
    tx.commit().await.expect("commit");
    let values = mail_and_outbox_values(&app).await;
    for (what, secret) in secrets() {
        assert!(!holds(&values, &secret), "{what} is still stored plain");
    }
    let unlocked = scene::office_key(&app, escrow).await;
    assert_opens_back(&intake, &unlocked).await;

    // The receipt, sealed in place, is still sent to the reporter, then erased.
    let queued = app.outbox.list(None, 10).await.expect("outbox");
    assert_eq!(queued[0].recipient, senim::outbox::SEALED_RECIPIENT);
    assert_eq!(intake.deliver().await, 1);
    let received = smtp.wait_for_messages(1, Duration::from_secs(30));
    assert_eq!(received[0].rcpt_to, [ADDRESS]);
    assert_eq!(
        app.outbox.get(queued[0].id).await.expect("get").recipient,
        senim::outbox::ERASED_RECIPIENT
    );

    // The reply (by Message-ID) and a redelivery of the old mail are recognised.
    intake.resume();
    dovecot.append("INBOX", &follow_up());
    wait_settled(&intake, &dovecot, 2).await;
    dovecot.append("INBOX", &appeal_mail());
    wait_duplicate_settled(&dovecot).await;
    intake.pause().await;
    assert_eq!(
        intake.stored().await.len(),
        2,
        "the redelivery is a duplicate"
    );
    let appeals = intake.appeals().await;
    assert_eq!(appeals.len(), 1);
    let reply = by_message_id(&intake, "sealed-follow-up-8841@example.kz").await;
    assert_eq!(reply.disposition, "correspondence");
    assert_eq!(reply.appeal_id, Some(appeals[0].id.0));
    assert!(reply.generation.is_some(), "new mail is stored sealed");
    let added = intake.correspondence(appeals[0].id).await;
    assert!(
        added.len() == 1 && !added[0].contains("unverified_sender"),
        "{added:?}"
    );
}

/// Every value of the mailbox's tables sealed to the office key: raw bytes,
/// sealed fields, attachments' content and file names (destroyed ones are empty).
async fn office_sealed_mail(app: &App) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for sql in [
        "SELECT raw FROM mail_messages WHERE generation IS NOT NULL",
        "SELECT sealed_fields FROM mail_messages WHERE sealed_fields IS NOT NULL",
        "SELECT a.content FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_pk \
         WHERE m.generation IS NOT NULL",
        "SELECT sealed_filename FROM mail_attachments WHERE sealed_filename IS NOT NULL",
    ] {
        let found: Vec<Vec<u8>> = senim::on_db!(&app.db, pool => sqlx::query_scalar(sql)
            .fetch_all(pool)
            .await)
        .expect("read the sealed mail");
        values.extend(found.into_iter().filter(|v| !v.is_empty()));
    }
    values
}

/// `senim keys rotate` (and `remove-reader`) reseals the stored mail too: every
/// message and attachment is on the new generation, opens with the key to the
/// bytes that arrived, and no longer opens with the old generation's office
/// identity alone (what a removed reader could have kept); the keyed hashes
/// stay, so the mail is still found by them.
#[tokio::test]
async fn a_rotation_reseals_the_stored_mail() {
    rotation_reseals_mail("").await;
}

#[tokio::test]
async fn a_rotation_reseals_the_stored_mail_on_postgres() {
    let db = support::database::TestDb::postgres().await;
    rotation_reseals_mail(&db.url).await;
}

async fn rotation_reseals_mail(database_url: &str) {
    let dovecot = Dovecot::start();
    let smtp = SmtpServer::start(SmtpOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, data_dir) = open_app(dir.path(), database_url, &dovecot, &smtp).await;
    let escrow = init_keys(&app).await;
    dovecot.append("INBOX", &appeal_mail());
    let mut intake = Intake::start(app.clone(), &data_dir);
    wait_settled(&intake, &dovecot, 1).await;
    intake.pause().await;
    let keyed = by_message_id(&intake, MESSAGE_ID).await;
    let keys = app.keys();
    let unlocked = keys
        .unlock_escrow(escrow.clone())
        .await
        .expect("unlock with the escrow");
    let old = unlocked.restricted_to(&[1]);
    assert_opens_back(&intake, &old).await;
    let before = office_sealed_mail(&app).await;
    assert_eq!(before.len(), 4, "raw, fields, attachment, its name");

    let rotated = senim::cli::keys::rotate(&app, &unlocked, None, "test")
        .await
        .expect("rotate");
    assert_eq!((rotated.generation, rotated.mail), (2, 1), "{rotated:?}");
    assert_eq!(rotated.appeals, 1, "{rotated:?}");

    let stored = intake.stored().await;
    assert!(
        stored.iter().all(|m| m.generation == Some(2)),
        "every message is on the new generation"
    );
    let after = office_sealed_mail(&app).await;
    assert_eq!(after.len(), before.len());
    let again = keys.unlock_escrow(escrow).await.expect("unlock again");
    let new = again.restricted_to(&[2]);
    for v in &after {
        assert!(!before.contains(v), "a value was not resealed");
        assert!(
            old.open(v).is_err(),
            "a value opens with the old generation"
        );
        new.open(v).expect("the new generation opens it");
    }
    // The same message, found by the same keyed hashes, opens back with the
    // new generation alone and with the escrow.
    let found = by_message_id(&intake, MESSAGE_ID).await;
    assert_eq!(
        (found.id, &found.sha256, &found.message_id),
        (keyed.id, &keyed.sha256, &keyed.message_id)
    );
    assert_opens_back(&intake, &new).await;
    assert_opens_back(&intake, &again).await;
    let pk = MessagePk(found.id);
    assert!(store::raw_unlocked(&app.db, pk, &old).await.is_err());
    assert!(store::fields(&app.db, pk, &old).await.is_err());
    assert!(store::attachment_contents(&app.db, pk, &old).await.is_err());
    assert!(app.journal.verify().await.expect("verify").is_intact());

    // Nothing plain appeared on the way.
    let values = mail_and_outbox_values(&app).await;
    for (what, secret) in secrets() {
        assert!(!holds(&values, &secret), "{what} is stored plain");
    }
}
