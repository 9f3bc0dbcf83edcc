//! A plain store sealed in place at `senim keys init` (`seal_existing_in`), and a
//! sealed one resealed to a new generation of the office key (`reseal_in`).

use super::{KEY_ACK_SENDER, KEY_ATTACHMENT_SHA256, MessageFields, StoreError, message_key};
use crate::db::Tx;
use crate::execute_in;
use crate::mailbox::intake::{SOURCE_MESSAGE_ID, SOURCE_SHA256};
use crate::on_tx;
use crate::sealing::keys::Rotation;
use crate::sealing::{Sealer, Unlocked};

/// Whether any stored message is sealed already (then the store's keys are keyed
/// hashes: `seal_existing_in` ran, or sealing was on from the first message).
pub async fn any_sealed_in(tx: &mut Tx) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM mail_messages WHERE generation IS NOT NULL LIMIT 1",
    )
    .fetch_optional(conn)
    .await)?;
    Ok(found.is_some())
}

/// A plain row of `mail_messages` about to be sealed.
#[derive(sqlx::FromRow)]
struct PlainRow {
    id: i64,
    message_id: Option<String>,
    sha256: String,
    raw: Vec<u8>,
    from_name: Option<String>,
    from_address: Option<String>,
    subject: Option<String>,
    body_text: Option<String>,
    notes: Option<String>,
}

/// How many plain messages `seal_existing_in` reads at once.
const SEAL_BATCH: i64 = 50;

/// Seals, in `tx` (the one of `senim keys init` that made the office key `sealer`
/// now seals to), every plain message in place: its raw bytes, its fields (into
/// `sealed_fields`, the plain columns emptied) and its attachments' content and
/// file names; and rewrites the plain keys as keyed hashes (`message_key`):
/// `mail_messages.message_id` and `sha256`, its `mail_refs` by Message-ID and
/// SHA-256, `mail_attachments.sha256` and, the first time the store is sealed,
/// `mail_ack_log.sender_hash`. Destroyed bytes stay empty. Returns how many
/// messages it sealed; a second run finds none. The Journal's own references to
/// the mail are rekeyed by `Mailbox::seal_existing_in`, which calls this.
pub async fn seal_existing_in(tx: &mut Tx, sealer: &Sealer) -> Result<u64, StoreError> {
    if !sealer.is_on() || sealer.intake().is_none() {
        return Err(StoreError::SealingOff);
    }
    let first_time = !any_sealed_in(tx).await?;
    let mut sealed = 0u64;
    loop {
        let rows: Vec<PlainRow> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT id, message_id, sha256, raw, from_name, from_address, subject, body_text, notes \
             FROM mail_messages WHERE generation IS NULL ORDER BY id LIMIT $1",
        )
        .bind(SEAL_BATCH)
        .fetch_all(conn)
        .await)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            seal_message_in(tx, sealer, row).await?;
            sealed += 1;
        }
    }
    if first_time {
        let senders: Vec<String> = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT sender_hash FROM mail_ack_log",
        )
        .fetch_all(conn)
        .await)?;
        for plain in senders {
            execute_in!(
                tx,
                sqlx::query("UPDATE mail_ack_log SET sender_hash = $1 WHERE sender_hash = $2")
                    .bind(message_key(sealer, KEY_ACK_SENDER, &plain))
                    .bind(&plain)
            )?;
        }
    }
    Ok(sealed)
}

async fn seal_message_in(tx: &mut Tx, sealer: &Sealer, row: PlainRow) -> Result<(), StoreError> {
    let fields = MessageFields {
        from_name: row.from_name,
        from_address: row.from_address,
        subject: row.subject,
        body_text: row.body_text,
        notes: row.notes,
    };
    let (raw, generation) = if row.raw.is_empty() {
        // Destroyed: nothing to seal; the generation marks the row as done.
        let generation = sealer
            .seal(b"")?
            .map(|s| s.generation)
            .ok_or(StoreError::SealingOff)?;
        (Vec::new(), generation)
    } else {
        let s = sealer.seal(&row.raw)?.ok_or(StoreError::SealingOff)?;
        (s.bytes, s.generation)
    };
    let sealed_fields = fields.seal(sealer)?;
    execute_in!(tx, sqlx::query(
        "UPDATE mail_messages SET raw = $1, sealed_fields = $2, generation = $3, message_id = $4, sha256 = $5, \
         from_name = NULL, from_address = NULL, subject = NULL, body_text = NULL, notes = NULL WHERE id = $6",
    )
    .bind(&raw)
    .bind(&sealed_fields)
    .bind(generation)
    .bind(row.message_id.as_deref().map(|id| message_key(sealer, SOURCE_MESSAGE_ID, id)))
    .bind(message_key(sealer, SOURCE_SHA256, &row.sha256))
    .bind(row.id))?;
    let refs: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT kind, key FROM mail_refs WHERE message_pk = $1 AND kind IN ($2, $3)",
    )
    .bind(row.id)
    .bind(SOURCE_MESSAGE_ID)
    .bind(SOURCE_SHA256)
    .fetch_all(conn)
    .await)?;
    for (kind, key) in refs {
        execute_in!(
            tx,
            sqlx::query("UPDATE mail_refs SET key = $1 WHERE kind = $2 AND key = $3")
                .bind(message_key(sealer, &kind, &key))
                .bind(&kind)
                .bind(&key)
        )?;
    }
    let attachments: Vec<(i64, Option<String>, String, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, filename, sha256, content FROM mail_attachments WHERE message_pk = $1",
    )
    .bind(row.id)
    .fetch_all(conn)
    .await)?;
    for (id, filename, sha256, content) in attachments {
        let content = if content.is_empty() {
            content
        } else {
            sealer.seal(&content)?.ok_or(StoreError::SealingOff)?.bytes
        };
        let sealed_filename = match filename {
            Some(name) => sealer.seal(name.as_bytes())?.map(|s| s.bytes),
            None => None,
        };
        execute_in!(tx, sqlx::query(
            "UPDATE mail_attachments SET content = $1, sealed_filename = $2, filename = NULL, sha256 = $3 WHERE id = $4",
        )
        .bind(&content)
        .bind(&sealed_filename)
        .bind(message_key(sealer, KEY_ATTACHMENT_SHA256, &sha256))
        .bind(id))?;
    }
    Ok(())
}

/// Reseals, in `tx` (the rotation's: `senim keys rotate`, `remove-reader`), every
/// message sealed to a generation of the office key older than the rotation's:
/// its raw bytes, its sealed fields, and its attachments' content and file
/// names are opened with `unlocked` and sealed to the new generation
/// (`Rotation::reseal`), and its `generation` follows. Destroyed bytes stay
/// empty; keyed hashes stay as they are (they are under the chain key, not the
/// office key). Returns how many messages it resealed; a message that does not
/// open fails the whole rotation, which then changes nothing.
pub async fn reseal_in(
    tx: &mut Tx,
    rotation: &Rotation,
    unlocked: &Unlocked,
) -> Result<u64, StoreError> {
    let generation = rotation.recipients.generation;
    let mut resealed = 0u64;
    loop {
        let rows: Vec<(i64, Vec<u8>, Option<Vec<u8>>)> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT id, raw, sealed_fields FROM mail_messages \
             WHERE generation IS NOT NULL AND generation < $1 ORDER BY id LIMIT $2",
        )
        .bind(generation)
        .bind(SEAL_BATCH)
        .fetch_all(conn)
        .await)?;
        if rows.is_empty() {
            break;
        }
        for (id, raw, sealed_fields) in rows {
            let reseal = |sealed: &[u8]| {
                rotation
                    .reseal(unlocked, sealed)
                    .map(|s| s.bytes)
                    .map_err(|e| StoreError::Reseal(id, e))
            };
            let raw = if raw.is_empty() { raw } else { reseal(&raw)? };
            let sealed_fields = sealed_fields.as_deref().map(reseal).transpose()?;
            execute_in!(tx, sqlx::query(
                "UPDATE mail_messages SET raw = $1, sealed_fields = $2, generation = $3 WHERE id = $4",
            )
            .bind(&raw)
            .bind(&sealed_fields)
            .bind(generation)
            .bind(id))?;
            let attachments: Vec<(i64, Vec<u8>, Option<Vec<u8>>)> = on_tx!(tx, conn => sqlx::query_as(
                "SELECT id, content, sealed_filename FROM mail_attachments WHERE message_pk = $1",
            )
            .bind(id)
            .fetch_all(conn)
            .await)?;
            for (attachment, content, sealed_filename) in attachments {
                let content = if content.is_empty() {
                    content
                } else {
                    reseal(&content)?
                };
                let sealed_filename = sealed_filename.as_deref().map(reseal).transpose()?;
                execute_in!(tx, sqlx::query(
                    "UPDATE mail_attachments SET content = $1, sealed_filename = $2 WHERE id = $3",
                )
                .bind(&content)
                .bind(&sealed_filename)
                .bind(attachment))?;
            }
            resealed += 1;
        }
    }
    Ok(resealed)
}
