//! The mailbox's own tables: `mail_messages` (raw bytes and parsed fields),
//! `mail_refs` (every reference a message is known by), `mail_attachments`,
//! `mail_ack_log` and `mail_folders`. Every write runs in the caller's
//! transaction, the one that also registers the appeal.
//!
//! Sealed (once `senim keys init` has made the office key, `Sealer::is_on`): a
//! message's raw bytes are an age envelope (`raw`), its sender, subject, text and
//! notes one sealed JSON envelope (`sealed_fields`, the plain columns NULL), with
//! the office key generation (`generation`; NULL on a plain row); an attachment's
//! content and file name are envelopes too. Content-derived keys (Message-ID, the
//! raw bytes' SHA-256, an attachment's SHA-256, the receipt log's sender) are keyed
//! hashes, decided in one place (`message_key`), so look-ups still match. Reading
//! sealed text back takes a person's `Unlocked` key (`raw_unlocked`, `fields`,
//! `attachment_contents`, `attachment_list`, `attachment_at`); the plain readers
//! refuse a sealed row rather than return its ciphertext. `thread_of` lists an
//! appeal's mail by what is plain (when, what it became, size, sealed or not). `seal_existing_in` seals a plain store in place;
//! `reseal_in` reseals a sealed one to a new generation of the office key.
//!
//! The map: this file holds the messages, their references, attachments and
//! claims, and their readers; `store/destruction.rs` what the records schedule
//! destroys; `store/sealing.rs` sealing in place and resealing.

mod destruction;
mod sealing;

pub use destruction::{Destroy, Destroyed, destroy_automatic_in, destroy_for_appeal_in};
pub use sealing::{any_sealed_in, reseal_in, seal_existing_in};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::intake::{SOURCE_MESSAGE_ID, SOURCE_SHA256};
use super::message::Reading;
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::journal::{AppealId, SourceRef};
use crate::sealing::{SealError, Sealer, Unlocked};
use crate::{on_db, on_tx};

/// What can go wrong in the mailbox's store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the mailbox store failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the mailbox store cannot seal or open: {0}")]
    Sealing(#[from] SealError),
    /// A plain reader met a sealed row: reading it takes a person's key.
    #[error("message {0} is sealed: reading it needs an unlocked key")]
    Sealed(i64),
    #[error("message {0}: its sealed fields cannot be read: {1}")]
    Corrupt(i64, String),
    #[error("sealing is off: there is nothing to seal the mailbox to (run `senim keys init`)")]
    SealingOff,
    /// A sealed value of a message cannot be opened with the key that rotates
    /// the office key, or sealed to the new one.
    #[error("message {0} cannot be resealed to the new office key: {1}")]
    Reseal(i64, SealError),
}

/// The domain of an attachment's SHA-256 among the keyed hashes.
pub const KEY_ATTACHMENT_SHA256: &str = "mail-attachment-sha256";
/// The domain of a sender's hash in the receipt log among the keyed hashes.
pub const KEY_ACK_SENDER: &str = "mail-ack-sender";

/// The key a content-derived value (`kind`: a Message-ID, the hex SHA-256 of the
/// raw bytes or of an attachment, the hex SHA-256 of a sender's address) is stored
/// and looked up by: the value itself while sealing is off, its keyed hash in the
/// domain `kind` once it is on. The one place that decides, for every such key of
/// the mailbox's, and for the references it hands the Journal. A hash is of the
/// plain key as stored before sealing, so a plain store can be rekeyed in place.
pub fn message_key(sealer: &Sealer, kind: &str, value: &str) -> String {
    sealer
        .keyed_hash(kind, value.as_bytes())
        .unwrap_or_else(|| value.to_owned())
}

/// A message's fields that carry identity or text: plain columns on a plain row,
/// one sealed JSON envelope on a sealed one.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageFields {
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    /// What was repaired to read it, if anything.
    pub notes: Option<String>,
}

impl MessageFields {
    fn of(reading: &Reading) -> MessageFields {
        MessageFields {
            from_name: reading.from_name.clone(),
            from_address: reading.from_address.clone(),
            subject: reading.subject.clone(),
            body_text: reading.text.clone(),
            notes: (!reading.notes.is_empty()).then(|| reading.notes.join("; ")),
        }
    }

    fn is_empty(&self) -> bool {
        self == &MessageFields::default()
    }

    /// The sealed envelope of these fields (`None` when sealing is off or there
    /// is nothing to seal).
    fn seal(&self, sealer: &Sealer) -> Result<Option<Vec<u8>>, StoreError> {
        if self.is_empty() {
            return Ok(None);
        }
        let json = serde_json::to_vec(self)
            .map_err(|e| StoreError::Sealing(SealError::Seal(e.to_string())))?;
        Ok(sealer.seal(&json)?.map(|s| s.bytes))
    }
}

/// A row of `mail_messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessagePk(pub i64);

/// What a stored message became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Registered as an appeal.
    Appeal(AppealId),
    /// Added to an earlier appeal as correspondence.
    Correspondence(AppealId),
    /// Machine-made (bounce, auto-reply, list): kept, not registered.
    Automatic,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Appeal(_) => "appeal",
            Disposition::Correspondence(_) => "correspondence",
            Disposition::Automatic => "automatic",
        }
    }

    fn appeal_id(self) -> Option<i64> {
        match self {
            Disposition::Appeal(id) | Disposition::Correspondence(id) => Some(id.0),
            Disposition::Automatic => None,
        }
    }
}

/// Takes the mailbox's lock for this transaction and records its UIDVALIDITY;
/// returns the UIDVALIDITY recorded before, if any. Two Senim processes on one
/// mailbox are serialised here (a row lock on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already serialises writers).
pub async fn lock_folder(
    tx: &mut Tx,
    mailbox: &str,
    uidvalidity: u32,
    now: DateTime<Utc>,
) -> Result<Option<u32>, sqlx::Error> {
    let before: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT uidvalidity FROM mail_folders WHERE mailbox = $1",
    )
    .bind(mailbox)
    .fetch_optional(&mut *conn)
    .await)?;
    execute_in!(
        tx,
        sqlx::query(
            "INSERT INTO mail_folders (mailbox, uidvalidity, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = $2, seen_at = $3",
        )
        .bind(mailbox)
        .bind(i64::from(uidvalidity))
        .bind(now)
    )?;
    Ok(before.and_then(|v| u32::try_from(v).ok()))
}

/// The stored messages a fetched one's references point at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// The same message: stored from this place, or with the same bytes.
    pub same: Option<MessagePk>,
    /// A message stored under the same Message-ID (maybe with other bytes).
    pub same_message_id: Option<MessagePk>,
}

/// Looks up every reference of a message at once; `message_id_kind` names the
/// references that are Message-IDs (the others identify the message itself).
pub async fn lookup(
    tx: &mut Tx,
    refs: &[SourceRef],
    message_id_kind: &str,
) -> Result<Known, sqlx::Error> {
    if refs.is_empty() {
        return Ok(Known::default());
    }
    let rows: Vec<(String, i64)> = on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("SELECT kind, message_pk FROM mail_refs WHERE ");
        for (i, r) in refs.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(kind = ").push_bind(&r.kind).push(" AND key = ").push_bind(&r.key).push(")");
        }
        q.push(" ORDER BY message_pk");
        q.build_query_as().fetch_all(conn).await
    })?;
    let first = |by_message_id: bool| {
        rows.iter()
            .find(|(kind, _)| (kind == message_id_kind) == by_message_id)
            .map(|(_, pk)| MessagePk(*pk))
    };
    Ok(Known {
        same: first(false),
        same_message_id: first(true),
    })
}

/// The appeal a stored message was registered as or added to, if any.
pub async fn appeal_of(tx: &mut Tx, pk: MessagePk) -> Result<Option<AppealId>, sqlx::Error> {
    let id: Option<Option<i64>> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT appeal_id FROM mail_messages WHERE id = $1",
    )
    .bind(pk.0)
    .fetch_optional(conn)
    .await)?;
    Ok(id.flatten().map(AppealId))
}

/// Records further references of a stored message; known ones are left alone.
pub async fn add_refs(tx: &mut Tx, pk: MessagePk, refs: &[SourceRef]) -> Result<(), sqlx::Error> {
    if refs.is_empty() {
        return Ok(());
    }
    on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO mail_refs (kind, key, message_pk) ");
        q.push_values(refs, |mut row, r| {
            row.push_bind(&r.kind).push_bind(&r.key).push_bind(pk.0);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(conn).await.map(|_| ())
    })
}

/// A message about to be stored.
pub struct NewMessage<'a> {
    pub source_key: &'a str,
    pub raw: &'a [u8],
    pub reading: &'a Reading,
    pub received_at: DateTime<Utc>,
    pub disposition: Disposition,
}

/// Stores a message, its attachments and its references (`refs` as the
/// intake keyed them, `message_key`): sealed when `sealer` is on, plain otherwise.
pub async fn insert(
    tx: &mut Tx,
    sealer: &Sealer,
    new: &NewMessage<'_>,
    refs: &[SourceRef],
    now: DateTime<Utc>,
) -> Result<MessagePk, StoreError> {
    let r = new.reading;
    let automatic = r.automatic;
    let fields = MessageFields::of(r);
    let sealed_raw = sealer.seal(new.raw)?;
    let generation = sealed_raw.as_ref().map(|s| s.generation);
    let sealed_fields = match generation {
        Some(_) => fields.seal(sealer)?,
        None => None,
    };
    // Sealed, the plain columns stay NULL.
    let plain = if generation.is_some() {
        MessageFields::default()
    } else {
        fields
    };
    let raw: &[u8] = sealed_raw.as_ref().map_or(new.raw, |s| s.bytes.as_slice());
    let message_id = r
        .message_id
        .as_deref()
        .map(|id| message_key(sealer, SOURCE_MESSAGE_ID, id));
    let sha256 = message_key(sealer, SOURCE_SHA256, &r.sha256);
    let pk: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO mail_messages (source_key, message_id, sha256, received_at, stored_at, size, raw, \
         disposition, automatic_kind, rule, problem, appeal_id, from_name, from_address, subject, body_text, notes, \
         sealed_fields, generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
    )
    .bind(new.source_key)
    .bind(&message_id)
    .bind(&sha256)
    .bind(new.received_at)
    .bind(now)
    .bind(i64::try_from(r.size).unwrap_or(i64::MAX))
    .bind(raw)
    .bind(new.disposition.as_str())
    .bind(automatic.map(|a| a.kind.as_str()))
    .bind(automatic.map(|a| a.rule))
    .bind(r.problem.as_ref().map(|p| p.describe()))
    .bind(new.disposition.appeal_id())
    .bind(&plain.from_name)
    .bind(&plain.from_address)
    .bind(&plain.subject)
    .bind(&plain.body_text)
    .bind(&plain.notes)
    .bind(&sealed_fields)
    .bind(generation)
    .fetch_one(conn)
    .await)?;
    let pk = MessagePk(pk);
    for (position, a) in r.attachments.iter().enumerate() {
        let sha256 = message_key(
            sealer,
            KEY_ATTACHMENT_SHA256,
            &hex::encode(Sha256::digest(&a.content)),
        );
        let content = sealer.seal(&a.content)?;
        let (filename, sealed_filename) = match (&content, &a.filename) {
            (Some(_), Some(name)) => (None, sealer.seal(name.as_bytes())?.map(|s| s.bytes)),
            (_, name) => (name.clone(), None),
        };
        let content: &[u8] = content.as_ref().map_or(&a.content, |s| s.bytes.as_slice());
        execute_in!(tx, sqlx::query(
            "INSERT INTO mail_attachments (message_pk, position, filename, content_type, size, sha256, content, \
             sealed_filename) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(pk.0)
        .bind(position as i64)
        .bind(&filename)
        .bind(&a.content_type)
        .bind(a.content.len() as i64)
        .bind(&sha256)
        .bind(content)
        .bind(&sealed_filename))?;
    }
    add_refs(tx, pk, refs).await?;
    Ok(pk)
}

/// Claims the right to acknowledge the sender whose `sender_hash` (`ack::sender_hash`)
/// is given now: true (and the log updated) unless it was acknowledged after
/// `since`. The log keeps `message_key` of the hash (keyed once sealing is on).
pub async fn claim_ack(
    tx: &mut Tx,
    sealer: &Sealer,
    sender_hash: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
    appeal: AppealId,
) -> Result<bool, sqlx::Error> {
    let sender_hash = message_key(sealer, KEY_ACK_SENDER, sender_hash);
    let claimed: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO mail_ack_log (sender_hash, last_ack_at, appeal_id) VALUES ($1, $2, $3) \
         ON CONFLICT (sender_hash) DO UPDATE SET last_ack_at = $2, appeal_id = $3 \
         WHERE mail_ack_log.last_ack_at <= $4 RETURNING sender_hash",
    )
    .bind(&sender_hash)
    .bind(now)
    .bind(appeal.0)
    .bind(since)
    .fetch_optional(conn)
    .await)?;
    Ok(claimed.is_some())
}

/// Who settles the message at a place on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This process: it moves or flags the message after the commit.
    Mine,
    /// Another live process committed it and settles it; look again after this.
    HeldUntil(DateTime<Utc>),
}

/// Claims the settling of the messages at `source_keys` for `owner` until
/// `until`: each one is this process's unless another owner holds an unexpired
/// claim on it. Runs under `lock_folder`, so the read and the write below cannot
/// interleave with another process's.
pub async fn claim_settling(
    tx: &mut Tx,
    source_keys: &[String],
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Claim>, sqlx::Error> {
    if source_keys.is_empty() {
        return Ok(Vec::new());
    }
    let held: Vec<(String, String, DateTime<Utc>)> = on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT source_key, owner, claimed_until FROM mail_settle_claims WHERE source_key IN (",
        );
        let mut keys = q.separated(", ");
        for key in source_keys {
            keys.push_bind(key);
        }
        q.push(")");
        q.build_query_as().fetch_all(&mut *conn).await
    })?;
    let held: HashMap<String, (String, DateTime<Utc>)> = held
        .into_iter()
        .map(|(key, holder, held_until)| (key, (holder, held_until)))
        .collect();
    let claims: Vec<Claim> = source_keys
        .iter()
        .map(|key| match held.get(key) {
            Some((holder, held_until)) if holder != owner && *held_until > now => {
                Claim::HeldUntil(*held_until)
            }
            _ => Claim::Mine,
        })
        .collect();
    let mine: Vec<&String> = source_keys
        .iter()
        .zip(&claims)
        .filter(|(_, claim)| **claim == Claim::Mine)
        .map(|(key, _)| key)
        .collect();
    if !mine.is_empty() {
        on_tx!(tx, conn => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO mail_settle_claims (source_key, owner, claimed_until) ",
            );
            q.push_values(&mine, |mut row, key| {
                row.push_bind(*key).push_bind(owner).push_bind(until);
            });
            q.push(
                " ON CONFLICT (source_key) DO UPDATE \
                 SET owner = excluded.owner, claimed_until = excluded.claimed_until",
            );
            q.build().execute(conn).await.map(|_| ())
        })?;
    }
    Ok(claims)
}

/// A stored message as the manager's tools and the tests see it. On a sealed
/// row `subject`, `body_text` and `notes` are `None` (see `fields`) and
/// `message_id` and `sha256` are keyed hashes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: i64,
    pub source_key: String,
    pub message_id: Option<String>,
    pub sha256: String,
    pub size: i64,
    pub disposition: String,
    pub automatic_kind: Option<String>,
    pub problem: Option<String>,
    pub appeal_id: Option<i64>,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    /// What was repaired to read it, if anything.
    pub notes: Option<String>,
    /// The office key generation it is sealed to; `None`: stored plain.
    pub generation: Option<i64>,
}

/// Every stored message, oldest first.
pub async fn list(db: &Db) -> Result<Vec<StoredMessage>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, source_key, message_id, sha256, size, disposition, automatic_kind, problem, appeal_id, \
         subject, body_text, notes, generation FROM mail_messages ORDER BY id",
    )
    .fetch_all(pool)
    .await)
}

/// The messages of an appeal (the one it was registered from and its
/// correspondence), oldest first, with what each became.
pub async fn messages_of(
    db: &Db,
    appeal: AppealId,
) -> Result<Vec<(MessagePk, String)>, sqlx::Error> {
    let rows: Vec<(i64, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, disposition FROM mail_messages WHERE appeal_id = $1 ORDER BY id",
    )
    .bind(appeal.0)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(pk, d)| (MessagePk(pk), d)).collect())
}

/// A message of an appeal's thread as the console lists it: nothing read from
/// it, only what is plain by design.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ThreadMessage {
    pub id: i64,
    /// `appeal` (the message that registered it) or `correspondence`.
    pub disposition: String,
    pub received_at: DateTime<Utc>,
    pub size: i64,
    /// The office key generation it is sealed to; `None`: stored plain.
    pub generation: Option<i64>,
    /// Its raw bytes and attachments were destroyed (retention).
    pub destroyed: bool,
}

/// The messages of an appeal with when each arrived, oldest first (the order of
/// `messages_of`).
pub async fn thread_of(db: &Db, appeal: AppealId) -> Result<Vec<ThreadMessage>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, disposition, received_at, size, generation, destroyed_at IS NOT NULL AS destroyed \
         FROM mail_messages WHERE appeal_id = $1 ORDER BY id",
    )
    .bind(appeal.0)
    .fetch_all(pool)
    .await)
}

/// How many attachments the messages of an appeal still hold (those of a
/// destroyed message aside): a count, for a cover letter's list of enclosures.
pub async fn attachment_count_of(db: &Db, appeal: AppealId) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_pk \
         WHERE m.appeal_id = $1 AND m.destroyed_at IS NULL",
    )
    .bind(appeal.0)
    .fetch_one(pool)
    .await)
}

/// An attachment as listed, without its content: its file name opened with
/// `unlocked` where sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    /// Its content was destroyed (retention).
    pub destroyed: bool,
}

/// The attachments of a stored message, in their order, without their content.
pub async fn attachment_list(
    db: &Db,
    pk: MessagePk,
    unlocked: &Unlocked,
) -> Result<Vec<AttachmentInfo>, StoreError> {
    type Row = (Option<String>, String, i64, Option<Vec<u8>>, bool);
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT filename, content_type, size, sealed_filename, length(content) = 0 \
         FROM mail_attachments WHERE message_pk = $1 ORDER BY position",
    )
    .bind(pk.0)
    .fetch_all(pool)
    .await)?;
    rows.into_iter()
        .map(|(filename, content_type, size, sealed_filename, empty)| {
            Ok(AttachmentInfo {
                filename: open_filename(pk, filename, sealed_filename, unlocked)?,
                content_type,
                // An empty attachment that arrived empty is not a destroyed one.
                destroyed: empty && size > 0,
                size,
            })
        })
        .collect()
}

/// The attachment at `index` (0-based, in their order) of a stored message, with
/// its content, opened with `unlocked` where sealed; `None` if there is none.
pub async fn attachment_at(
    db: &Db,
    pk: MessagePk,
    index: i64,
    unlocked: &Unlocked,
) -> Result<Option<Attachment>, StoreError> {
    let row: Option<AttachmentRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT a.filename, a.content_type, a.size, a.content, a.sealed_filename, m.generation \
         FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_pk \
         WHERE a.message_pk = $1 ORDER BY a.position LIMIT 1 OFFSET $2",
    )
    .bind(pk.0)
    .bind(index)
    .fetch_optional(pool)
    .await)?;
    row.map(|row| open_attachment(pk, row, unlocked))
        .transpose()
}

/// The raw bytes of a plain stored message (empty once destroyed). A sealed one
/// is `StoreError::Sealed`: read it with `raw_unlocked`.
pub async fn raw(db: &Db, pk: MessagePk) -> Result<Option<Vec<u8>>, StoreError> {
    match stored_raw(db, pk).await? {
        Some((raw, Some(_))) if !raw.is_empty() => Err(StoreError::Sealed(pk.0)),
        found => Ok(found.map(|(raw, _)| raw)),
    }
}

/// The raw bytes of a stored message, opened with `unlocked` if sealed.
pub async fn raw_unlocked(
    db: &Db,
    pk: MessagePk,
    unlocked: &Unlocked,
) -> Result<Option<Vec<u8>>, StoreError> {
    match stored_raw(db, pk).await? {
        Some((raw, Some(_))) if !raw.is_empty() => Ok(Some(unlocked.open(&raw)?)),
        found => Ok(found.map(|(raw, _)| raw)),
    }
}

async fn stored_raw(db: &Db, pk: MessagePk) -> Result<Option<(Vec<u8>, Option<i64>)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as("SELECT raw, generation FROM mail_messages WHERE id = $1")
        .bind(pk.0)
        .fetch_optional(pool)
        .await)
}

/// The sender, subject, text and notes of a stored message, opened with
/// `unlocked` if sealed; `None` if there is no such message.
pub async fn fields(
    db: &Db,
    pk: MessagePk,
    unlocked: &Unlocked,
) -> Result<Option<MessageFields>, StoreError> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let row: Option<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT from_name, from_address, subject, body_text, notes, sealed_fields FROM mail_messages WHERE id = $1",
    )
    .bind(pk.0)
    .fetch_optional(pool)
    .await)?;
    let Some((from_name, from_address, subject, body_text, notes, sealed)) = row else {
        return Ok(None);
    };
    match sealed {
        Some(sealed) => {
            let json = unlocked.open(&sealed)?;
            serde_json::from_slice(&json)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(pk.0, e.to_string()))
        }
        None => Ok(Some(MessageFields {
            from_name,
            from_address,
            subject,
            body_text,
            notes,
        })),
    }
}

/// Attachments of a stored message: (filename, content type, size). A sealed
/// attachment's file name is `None` here (see `attachment_contents`).
pub async fn attachments(
    db: &Db,
    pk: MessagePk,
) -> Result<Vec<(Option<String>, String, i64)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT filename, content_type, size FROM mail_attachments WHERE message_pk = $1 ORDER BY position",
    )
    .bind(pk.0)
    .fetch_all(pool)
    .await)
}

/// An attachment as read back with a person's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    /// Empty once destroyed.
    pub content: Vec<u8>,
}

/// The attachments of a stored message with their content, opened with
/// `unlocked` where sealed.
pub async fn attachment_contents(
    db: &Db,
    pk: MessagePk,
    unlocked: &Unlocked,
) -> Result<Vec<Attachment>, StoreError> {
    let rows: Vec<AttachmentRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT a.filename, a.content_type, a.size, a.content, a.sealed_filename, m.generation \
         FROM mail_attachments a JOIN mail_messages m ON m.id = a.message_pk \
         WHERE a.message_pk = $1 ORDER BY a.position",
    )
    .bind(pk.0)
    .fetch_all(pool)
    .await)?;
    rows.into_iter()
        .map(|row| open_attachment(pk, row, unlocked))
        .collect()
}

/// An attachment's row: file name, content type, size, content, sealed file
/// name, and its message's generation.
type AttachmentRow = (
    Option<String>,
    String,
    i64,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// An attachment's row, its content and file name opened with `unlocked` where
/// sealed.
fn open_attachment(
    pk: MessagePk,
    (filename, content_type, size, content, sealed_filename, generation): AttachmentRow,
    unlocked: &Unlocked,
) -> Result<Attachment, StoreError> {
    let content = match generation {
        Some(_) if !content.is_empty() => unlocked.open(&content)?,
        _ => content,
    };
    Ok(Attachment {
        filename: open_filename(pk, filename, sealed_filename, unlocked)?,
        content_type,
        size,
        content,
    })
}

/// An attachment's file name: the plain one, or the sealed one opened.
fn open_filename(
    pk: MessagePk,
    plain: Option<String>,
    sealed: Option<Vec<u8>>,
    unlocked: &Unlocked,
) -> Result<Option<String>, StoreError> {
    match sealed {
        Some(sealed) => String::from_utf8(unlocked.open(&sealed)?)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(pk.0, e.to_string())),
        None => Ok(plain),
    }
}

/// How many messages are stored.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM mail_messages")
        .fetch_one(pool)
        .await)
}
