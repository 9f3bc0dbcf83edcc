//! The mailbox's own tables: `mail_messages` (raw bytes and parsed fields),
//! `mail_refs` (every reference a message is known by), `mail_attachments`,
//! `mail_ack_log` and `mail_folders`. Every write runs in the caller's
//! transaction, the one that also registers the appeal.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::message::Reading;
use crate::db::{Db, Tx};
use crate::journal::{AppealId, SourceRef};
use crate::{on_db, on_tx};

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
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO mail_folders (mailbox, uidvalidity, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = $2, seen_at = $3",
    )
    .bind(mailbox)
    .bind(i64::from(uidvalidity))
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ()))?;
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

/// Stores a message, its attachments and its references.
pub async fn insert(
    tx: &mut Tx,
    new: &NewMessage<'_>,
    refs: &[SourceRef],
    now: DateTime<Utc>,
) -> Result<MessagePk, sqlx::Error> {
    let r = new.reading;
    let automatic = r.automatic;
    let pk: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO mail_messages (source_key, message_id, sha256, received_at, stored_at, size, raw, \
         disposition, automatic_kind, rule, problem, appeal_id, from_name, from_address, subject, body_text, notes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(new.source_key)
    .bind(&r.message_id)
    .bind(&r.sha256)
    .bind(new.received_at)
    .bind(now)
    .bind(i64::try_from(r.size).unwrap_or(i64::MAX))
    .bind(new.raw)
    .bind(new.disposition.as_str())
    .bind(automatic.map(|a| a.kind.as_str()))
    .bind(automatic.map(|a| a.rule))
    .bind(r.problem.as_ref().map(|p| p.describe()))
    .bind(new.disposition.appeal_id())
    .bind(&r.from_name)
    .bind(&r.from_address)
    .bind(&r.subject)
    .bind(&r.text)
    .bind((!r.notes.is_empty()).then(|| r.notes.join("; ")))
    .fetch_one(conn)
    .await)?;
    let pk = MessagePk(pk);
    for (position, a) in r.attachments.iter().enumerate() {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO mail_attachments (message_pk, position, filename, content_type, size, sha256, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(pk.0)
        .bind(position as i64)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.content.len() as i64)
        .bind(hex::encode(Sha256::digest(&a.content)))
        .bind(&a.content)
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    add_refs(tx, pk, refs).await?;
    Ok(pk)
}

/// Claims the right to acknowledge `sender_hash` now: true (and the log updated)
/// unless it was acknowledged after `since`.
pub async fn claim_ack(
    tx: &mut Tx,
    sender_hash: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
    appeal: AppealId,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO mail_ack_log (sender_hash, last_ack_at, appeal_id) VALUES ($1, $2, $3) \
         ON CONFLICT (sender_hash) DO UPDATE SET last_ack_at = $2, appeal_id = $3 \
         WHERE mail_ack_log.last_ack_at <= $4 RETURNING sender_hash",
    )
    .bind(sender_hash)
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

/// A stored message as the manager's tools and the tests see it.
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
}

/// Every stored message, oldest first.
pub async fn list(db: &Db) -> Result<Vec<StoredMessage>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, source_key, message_id, sha256, size, disposition, automatic_kind, problem, appeal_id, \
         subject, body_text, notes FROM mail_messages ORDER BY id",
    )
    .fetch_all(pool)
    .await)
}

/// The raw bytes of a stored message.
pub async fn raw(db: &Db, pk: MessagePk) -> Result<Option<Vec<u8>>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT raw FROM mail_messages WHERE id = $1")
        .bind(pk.0)
        .fetch_optional(pool)
        .await)
}

/// Attachments of a stored message: (filename, content type, size).
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

/// How many messages are stored.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM mail_messages")
        .fetch_one(pool)
        .await)
}

/// What the mailbox destroyed of an appeal (`destroy_for_appeal_in`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Destroyed {
    /// Messages whose raw bytes (and, with the appeal, parsed text) went.
    pub messages: u64,
    /// Attachments whose content went.
    pub attachments: u64,
    /// Lines of the receipt log (a hash of the sender's address) removed.
    pub ack_log: u64,
}

/// How much of an appeal's mail to destroy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destroy {
    /// The messages as received and their attachments (`retention.raw_mail_days`).
    RawOnly,
    /// Everything, with the appeal: also the parsed sender, subject and text, and
    /// the receipt log's line.
    Whole,
}

/// Destroys, in the retention purge's transaction, what the mailbox keeps of the
/// appeal `appeal` (its own messages and the correspondence added to it): the raw
/// bytes become empty, the attachments' content and file names go; with `Whole`
/// the parsed sender, subject and text too, and the receipt log's line. Rows,
/// sizes and checksums stay. Does nothing to what is already destroyed, so a
/// second run counts nothing.
pub async fn destroy_for_appeal_in(
    tx: &mut Tx,
    appeal: AppealId,
    what: Destroy,
    now: DateTime<Utc>,
) -> Result<Destroyed, sqlx::Error> {
    let attachments = on_tx!(tx, conn => sqlx::query(
        "UPDATE mail_attachments SET content = $1, filename = NULL \
         WHERE message_pk IN (SELECT id FROM mail_messages WHERE appeal_id = $2 AND destroyed_at IS NULL)",
    )
    .bind(&[] as &[u8])
    .bind(appeal.0)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let raw = on_tx!(tx, conn => sqlx::query(
        "UPDATE mail_messages SET raw = $1, destroyed_at = $2 WHERE appeal_id = $3 AND destroyed_at IS NULL",
    )
    .bind(&[] as &[u8])
    .bind(now)
    .bind(appeal.0)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    let mut destroyed = Destroyed {
        messages: raw,
        attachments,
        ack_log: 0,
    };
    if what == Destroy::Whole {
        let parsed = on_tx!(tx, conn => sqlx::query(
            "UPDATE mail_messages SET from_name = NULL, from_address = NULL, subject = NULL, body_text = NULL \
             WHERE appeal_id = $1 AND (from_name IS NOT NULL OR from_address IS NOT NULL \
             OR subject IS NOT NULL OR body_text IS NOT NULL)",
        )
        .bind(appeal.0)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        destroyed.messages = destroyed.messages.max(parsed);
        destroyed.ack_log = on_tx!(tx, conn => sqlx::query("DELETE FROM mail_ack_log WHERE appeal_id = $1")
            .bind(appeal.0)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(destroyed)
}

/// Destroys, in one transaction, at most `limit` machine-made messages (bounces,
/// auto-replies, lists: tied to no appeal, but a bounce of a receipt carries the
/// reporter's address and the receipt) received before `before`: raw bytes,
/// attachments and parsed fields, as for an appeal. Returns how many; none once
/// all are destroyed.
pub async fn destroy_automatic_in(
    tx: &mut Tx,
    before: DateTime<Utc>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM mail_messages WHERE disposition = 'automatic' AND destroyed_at IS NULL \
         AND received_at < $1 ORDER BY id LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await)?;
    for id in &ids {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE mail_attachments SET content = $1, filename = NULL WHERE message_pk = $2",
        )
        .bind(&[] as &[u8])
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        on_tx!(tx, conn => sqlx::query(
            "UPDATE mail_messages SET raw = $1, destroyed_at = $2, from_name = NULL, from_address = NULL, \
             subject = NULL, body_text = NULL WHERE id = $3",
        )
        .bind(&[] as &[u8])
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    Ok(ids.len() as u64)
}
