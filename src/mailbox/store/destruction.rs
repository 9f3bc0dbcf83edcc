//! What the records schedule destroys of the mailbox: an appeal's mail (its raw
//! bytes, and with the appeal its parsed text and attachments), and automatic
//! mail past its period (`retention`).

use chrono::{DateTime, Utc};

use crate::db::Tx;
use crate::execute_in;
use crate::journal::AppealId;
use crate::on_tx;
use crate::rows_affected_in;

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
    let attachments = rows_affected_in!(tx, sqlx::query(
        "UPDATE mail_attachments SET content = $1, filename = NULL, sealed_filename = NULL \
         WHERE message_pk IN (SELECT id FROM mail_messages WHERE appeal_id = $2 AND destroyed_at IS NULL)",
    )
    .bind(&[] as &[u8])
    .bind(appeal.0))?;
    let raw = rows_affected_in!(tx, sqlx::query(
        "UPDATE mail_messages SET raw = $1, destroyed_at = $2 WHERE appeal_id = $3 AND destroyed_at IS NULL",
    )
    .bind(&[] as &[u8])
    .bind(now)
    .bind(appeal.0))?;
    let mut destroyed = Destroyed {
        messages: raw,
        attachments,
        ack_log: 0,
    };
    if what == Destroy::Whole {
        let parsed = rows_affected_in!(tx, sqlx::query(
            "UPDATE mail_messages SET from_name = NULL, from_address = NULL, subject = NULL, body_text = NULL, \
             sealed_fields = NULL \
             WHERE appeal_id = $1 AND (from_name IS NOT NULL OR from_address IS NOT NULL \
             OR subject IS NOT NULL OR body_text IS NOT NULL OR sealed_fields IS NOT NULL)",
        )
        .bind(appeal.0))?;
        destroyed.messages = destroyed.messages.max(parsed);
        destroyed.ack_log = rows_affected_in!(
            tx,
            sqlx::query("DELETE FROM mail_ack_log WHERE appeal_id = $1").bind(appeal.0)
        )?;
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
        execute_in!(tx, sqlx::query(
            "UPDATE mail_attachments SET content = $1, filename = NULL, sealed_filename = NULL WHERE message_pk = $2",
        )
        .bind(&[] as &[u8])
        .bind(id))?;
        execute_in!(tx, sqlx::query(
            "UPDATE mail_messages SET raw = $1, destroyed_at = $2, from_name = NULL, from_address = NULL, \
             subject = NULL, body_text = NULL, sealed_fields = NULL WHERE id = $3",
        )
        .bind(&[] as &[u8])
        .bind(now)
        .bind(id))?;
    }
    Ok(ids.len() as u64)
}
