//! The exactly-once step: a batch of fetched messages becomes durable in one
//! transaction (the Journal's registration first, then the raw bytes, parsed
//! fields, attachments and references), and only after the commit are they
//! settled on the server. A message already stored under any of its references
//! (mailbox + UIDVALIDITY + UID, Message-ID, SHA-256 of the raw bytes) is not
//! stored again, only settled.
//!
//! Settling is claimed in the same transaction: the process that commits a
//! message moves it; another one that finds it already stored leaves it alone
//! while that claim holds, so two processes never both copy it to the processed
//! folder (a server may copy a message another session has just expunged).
//!
//! Sealed (`Mailbox::sealer` on), the Message-ID and SHA-256 references, in the
//! store and handed to the Journal, and the reference the audit chain records of
//! correspondence, are keyed hashes (`store::message_key`); every look-up computes
//! the same ones, so deduplication and threading work as before.

use chrono::{DateTime, Utc};

use super::Mailbox;
use super::ack;
use super::imap::Fetched;
use super::message::{self, Reading};
use super::store::{self, Claim, Disposition, NewMessage, StoreError, message_key};
use crate::journal::{
    AppealId, ChainLock, Channel, JournalError, NewAppeal, Registration, Reporter, SourceRef,
    Status,
};
use crate::sealing::Sealer;

pub const SOURCE_IMAP: &str = "imap";
pub const SOURCE_MESSAGE_ID: &str = "email-message-id";
pub const SOURCE_SHA256: &str = "email-sha256";

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the message parser failed: {0}")]
    Parser(String),
    #[error("cannot build the receipt: {0}")]
    Receipt(String),
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
}

impl From<sqlx::Error> for IntakeError {
    fn from(e: sqlx::Error) -> Self {
        IntakeError::Store(StoreError::Database(e))
    }
}

/// What happened to one message.
#[derive(Clone, Debug)]
pub enum Ingested {
    Stored {
        uid: u32,
        disposition: Disposition,
        registration_number: Option<String>,
        /// The Journal registration it made, if new: counted once committed.
        registered: Option<Box<Registration>>,
        problem: bool,
    },
    /// Already stored under one of its references: only settled.
    Duplicate { uid: u32 },
}

impl Ingested {
    pub fn uid(&self) -> u32 {
        match self {
            Ingested::Stored { uid, .. } | Ingested::Duplicate { uid } => *uid,
        }
    }
}

/// One message of a committed batch: what it became and who settles it.
#[derive(Clone, Debug)]
pub struct Committed {
    pub outcome: Ingested,
    pub claim: Claim,
}

/// The process committing a batch, as the settling claims name it.
#[derive(Clone, Debug)]
pub struct Claimant {
    /// This installation's id (see `crate::instance`).
    pub owner: String,
    /// How long another process leaves a message this one committed alone.
    pub hold: chrono::Duration,
}

/// One fetched message with what was read from it and the appeal it answers.
pub struct Prepared {
    pub fetched: Fetched,
    pub reading: Reading,
    /// The earlier appeal this message refers to, if any.
    pub reply_to: Option<AppealId>,
}

/// Reads a batch of messages and finds the appeals they reply to (outside any
/// transaction).
pub async fn prepare(
    channel: &Mailbox,
    fetched: Vec<Fetched>,
) -> Result<Vec<Prepared>, IntakeError> {
    let max = channel.config.mailbox.max_message_bytes;
    let read = tokio::task::spawn_blocking(move || {
        fetched
            .into_iter()
            .map(|f| {
                let reading = message::read_part(&f.raw, f.size, max);
                (f, reading)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| IntakeError::Parser(e.to_string()))?;
    let mut prepared = Vec::with_capacity(read.len());
    for (fetched, reading) in read {
        let reply_to = reply_to(channel, &reading).await?;
        prepared.push(Prepared {
            fetched,
            reading,
            reply_to,
        });
    }
    Ok(prepared)
}

/// The earlier appeal a (human) message refers to: by the registration number in
/// a receipt's Message-ID or the subject, or by the Message-ID of an appeal's mail.
async fn reply_to(channel: &Mailbox, reading: &Reading) -> Result<Option<AppealId>, IntakeError> {
    if reading.automatic.is_some() {
        return Ok(None);
    }
    for number in message::numbers_referred_to(reading, &channel.config.journal.registration_prefix)
    {
        match channel.journal.get_by_number(&number).await {
            Ok(appeal) => return Ok(Some(appeal.id)),
            Err(JournalError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for id in &reading.references {
        let source = SourceRef::new(
            SOURCE_MESSAGE_ID,
            message_key(&channel.sealer, SOURCE_MESSAGE_ID, id),
        );
        if let Some(appeal) = channel.journal.find_source(&source).await? {
            return Ok(Some(appeal.id));
        }
    }
    Ok(None)
}

/// Stores and registers a batch in one transaction and commits it. The caller
/// settles the UIDs it claimed on the server only after this returns.
pub async fn commit_batch(
    channel: &Mailbox,
    mailbox: &str,
    uidvalidity: u32,
    claimant: &Claimant,
    batch: &[Prepared],
) -> Result<Vec<Committed>, IntakeError> {
    let now = channel.clock.now();
    let mut tx = channel.db.begin().await?;
    let before = store::lock_folder(&mut tx, mailbox, uidvalidity, now).await?;
    if let Some(before) = before.filter(|b| *b != uidvalidity) {
        tracing::warn!(
            before,
            uidvalidity,
            "the folder's UIDVALIDITY changed: messages are matched by Message-ID and content"
        );
    }
    // The audit chain once per batch, not once per message.
    let mut chain = channel.journal.lock_chain(&mut tx).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for prepared in batch {
        let outcome = ingest_one(
            channel,
            &mut tx,
            &mut chain,
            mailbox,
            uidvalidity,
            prepared,
            now,
        );
        outcomes.push(outcome.await?);
    }
    chain.finish(&mut tx).await?;
    let places: Vec<String> = outcomes
        .iter()
        .map(|o| source_key(mailbox, uidvalidity, o.uid()))
        .collect();
    let until = now + claimant.hold;
    let claims = store::claim_settling(&mut tx, &places, &claimant.owner, now, until).await?;
    tx.commit().await?;
    // Receipts were queued with the registrations: let the sender go.
    channel.outbox.wake();
    Ok(outcomes
        .into_iter()
        .zip(claims)
        .map(|(outcome, claim)| Committed { outcome, claim })
        .collect())
}

/// Where a message is on the server: mailbox + UIDVALIDITY + UID.
fn source_key(mailbox: &str, uidvalidity: u32, uid: u32) -> String {
    format!("{mailbox}/{uidvalidity}/{uid}")
}

/// Where the message is (plain: a place on the server says nothing of its
/// content) and the references it is known by, keyed as `message_key` says.
fn refs_of(
    sealer: &Sealer,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    reading: &Reading,
) -> (String, Vec<SourceRef>) {
    let key = source_key(mailbox, uidvalidity, uid);
    let mut refs = vec![SourceRef::new(SOURCE_IMAP, &key)];
    if let Some(id) = &reading.message_id {
        refs.push(SourceRef::new(
            SOURCE_MESSAGE_ID,
            message_key(sealer, SOURCE_MESSAGE_ID, id),
        ));
    }
    refs.push(SourceRef::new(
        SOURCE_SHA256,
        message_key(sealer, SOURCE_SHA256, &reading.sha256),
    ));
    (key, refs)
}

async fn ingest_one(
    channel: &Mailbox,
    tx: &mut crate::db::Tx,
    chain: &mut ChainLock<'_>,
    mailbox: &str,
    uidvalidity: u32,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<Ingested, IntakeError> {
    let Prepared {
        fetched,
        reading,
        reply_to,
    } = prepared;
    let uid = fetched.uid;
    let sealer = &channel.sealer;
    let (source_key, refs) = refs_of(sealer, mailbox, uidvalidity, uid, reading);
    let known = store::lookup(tx, &refs, SOURCE_MESSAGE_ID).await?;
    // The same message: seen at this place before, or the same bytes elsewhere.
    if let Some(pk) = known.same {
        store::add_refs(tx, pk, &refs).await?;
        return Ok(Ingested::Duplicate { uid });
    }
    // Other bytes under a Message-ID already registered: a redelivery with other
    // headers, or another message reusing the id. Never a second appeal, never
    // dropped: kept, with its bytes, as correspondence of the first one's appeal.
    let same_id_appeal = match known.same_message_id {
        Some(pk) => store::appeal_of(tx, pk).await?,
        None => None,
    };
    // The original may have been stored by this very transaction (the same or
    // the previous batch) after `prepare` looked: look again, inside it.
    let reply_to = match reply_to {
        Some(appeal) => Some(*appeal),
        None if reading.automatic.is_none() => replied_in_store(tx, sealer, reading).await?,
        None => None,
    };
    let received_at = fetched.internal_date.or(reading.date).unwrap_or(now);
    let mut registration_number = None;
    let mut registered = None;
    let disposition = if reading.automatic.is_some() {
        Disposition::Automatic
    } else if let Some(appeal) = reply_to.or(same_id_appeal) {
        Disposition::Correspondence(appeal)
    } else {
        let registration = chain
            .register(tx, appeal_from(reading, received_at, &refs))
            .await?;
        let appeal = registration.appeal();
        registration_number = Some(appeal.registration_number.to_string());
        let id = appeal.id;
        if registration.is_new() {
            registered = Some(Box::new(registration));
        }
        Disposition::Appeal(id)
    };
    let new = NewMessage {
        source_key: &source_key,
        raw: &fetched.raw,
        reading,
        received_at,
        disposition,
    };
    store::insert(tx, sealer, &new, &refs, now).await?;
    if let Disposition::Correspondence(appeal) = disposition {
        let unverified_sender = !channel
            .journal
            .is_reporter_email_in(tx, appeal, reading.from_address.as_deref())
            .await?;
        // In the appeal's audit history, by reference only (the text stays here);
        // sealed, by its keyed hash: the chain is append-only.
        let sha256 = message_key(sealer, SOURCE_SHA256, &reading.sha256);
        let amendment = crate::journal::Amendment::Correspondence {
            channel: Channel::Email,
            reference: format!("{SOURCE_SHA256}:{sha256}"),
            unverified_sender,
        };
        let appeal = chain.amend(tx, appeal, amendment, "mailbox").await?;
        if unverified_sender {
            tell_managers_of_unverified(channel, tx, &appeal, &sha256, now).await?;
        }
    }
    if let Some(registration) = &registered {
        acknowledge(channel, tx, registration.appeal(), reading, now).await?;
    }
    Ok(Ingested::Stored {
        uid,
        disposition,
        registration_number,
        registered,
        problem: reading.problem.is_some(),
    })
}

/// Whether a message's sender is the appeal's reporter (addresses compared without
/// case); an appeal without a reporter's address has no verified sender.
/// Tells the managers, in the message's transaction, that mail about an appeal
/// came from an address other than the reporter's: it is kept as correspondence
/// marked "unverified sender", and nobody should answer it with the case's details
/// before knowing who wrote. The notice names the appeal, never the sender or text.
async fn tell_managers_of_unverified(
    channel: &Mailbox,
    tx: &mut crate::db::Tx,
    appeal: &crate::journal::Appeal,
    sha256: &str,
    now: DateTime<Utc>,
) -> Result<(), IntakeError> {
    let number = appeal.registration_number.to_string();
    tracing::warn!(registration_number = %number, appeal_id = %appeal.id, "correspondence from an unverified sender");
    let from = &channel.config.smtp.from.0;
    for manager in &channel.config.alerts.managers {
        let mail = crate::outbox::Mail {
            kind: crate::outbox::MailKind::UnverifiedCorrespondence,
            dedupe_key: format!("unverified:{sha256}:{}", manager.email),
            reference: number.clone(),
            appeal_id: Some(appeal.id.0),
            to: manager.0.clone(),
            subject: format!("Белгісіз жіберуші / Неподтверждённый отправитель: {number}"),
            body: format!(
                "Өтініш {number} туралы хат өтініш берушінің мекенжайынан емес, басқа мекенжайдан келді.\n\
                 Письмо об обращении {number} пришло не с адреса заявителя.\n\
                 Mail about appeal {number} came from an address other than the reporter's.\n\n\
                 It is attached to the appeal as correspondence marked \"unverified sender\". \
                 Registration numbers can be guessed: do not reply with anything about the case \
                 before you know who wrote.\n"
            ),
            urgent: false,
            due_by: None,
            escalate_at: None,
        };
        channel.outbox.enqueue_in(tx, from, &mail, now).await?;
    }
    Ok(())
}

/// The appeal of a stored message that `reading` replies to (In-Reply-To,
/// References), as this transaction sees the store.
async fn replied_in_store(
    tx: &mut crate::db::Tx,
    sealer: &Sealer,
    reading: &Reading,
) -> Result<Option<AppealId>, IntakeError> {
    if reading.references.is_empty() {
        return Ok(None);
    }
    let refs: Vec<SourceRef> = reading
        .references
        .iter()
        .map(|id| {
            SourceRef::new(
                SOURCE_MESSAGE_ID,
                message_key(sealer, SOURCE_MESSAGE_ID, id),
            )
        })
        .collect();
    match store::lookup(tx, &refs, SOURCE_MESSAGE_ID)
        .await?
        .same_message_id
    {
        Some(pk) => Ok(store::appeal_of(tx, pk).await?),
        None => Ok(None),
    }
}

/// The Journal entry of a message: the sender as reporter, subject and text.
fn appeal_from(reading: &Reading, received_at: DateTime<Utc>, refs: &[SourceRef]) -> NewAppeal {
    let substance = match &reading.problem {
        None => reading.text.clone(),
        Some(problem) => Some(format!(
            "[e-mail registered unread: {}; the raw message is kept]\n{}",
            problem.describe(),
            reading.text.clone().unwrap_or_default()
        )),
    };
    NewAppeal {
        received_at,
        channel: Channel::Email,
        reporter: Reporter {
            name: reading.from_name.clone(),
            email: reading.from_address.clone(),
            ..Reporter::default()
        },
        subject: reading.subject.clone(),
        substance,
        status: Status::Registered,
        source: refs[0].clone(),
        also_known_as: refs[1..].to_vec(),
        actor: "mailbox".into(),
    }
}

/// Decides on and queues the receipt of a newly registered appeal.
async fn acknowledge(
    channel: &Mailbox,
    tx: &mut crate::db::Tx,
    appeal: &crate::journal::Appeal,
    reading: &Reading,
    now: DateTime<Utc>,
) -> Result<(), IntakeError> {
    let config = &channel.config.mailbox.ack;
    if !config.enabled {
        return Ok(());
    }
    let Ok(to) = ack::eligible(reading) else {
        return Ok(());
    };
    let period = config.per_sender_period_hours.chrono();
    let sender = ack::sender_hash(&to);
    if !store::claim_ack(tx, &channel.sealer, &sender, now, now - period, appeal.id).await? {
        tracing::info!(registration_number = %appeal.registration_number, "receipt skipped: sender acknowledged within the period");
        return Ok(());
    }
    let deadline = channel.deadlines.reply_due(appeal);
    // One address for the From: header and for the Message-ID's domain.
    let from = channel.config.receipt_from().0.clone();
    let receipt = ack::receipt(
        appeal,
        deadline,
        reading,
        to,
        &config.languages,
        from.email.domain(),
    );
    let message = receipt
        .to_message(from.clone())
        .map_err(|e| IntakeError::Receipt(e.to_string()))?;
    let mail = crate::outbox::Prebuilt {
        kind: crate::outbox::MailKind::Receipt,
        dedupe_key: format!("receipt:{}", appeal.id),
        reference: appeal.registration_number.to_string(),
        appeal_id: Some(appeal.id.0),
        from,
        to: receipt.to.clone(),
        message_id: format!("<{}>", receipt.message_id),
        message,
    };
    // In this same transaction: the receipt exists if and only if the appeal does.
    channel.outbox.enqueue_prebuilt_in(tx, &mail, now).await?;
    Ok(())
}
