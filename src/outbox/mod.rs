//! The outbox: every e-mail Senim sends is first a row here, written in the same
//! transaction as the change that causes it (`enqueue_in`), with its Message-ID
//! fixed then. The sender task (`sender`) delivers it. Owns the table `outbox`.
//!
//! States: `pending` → `sending` (committed before the SMTP transaction starts) →
//! `sent` (committed after the server accepted it), or `failed` (a permanent 5xx;
//! the reason is kept). A crash leaves a row `pending` or `sending`; both are sent
//! again after a restart, so nothing is lost. `sending` is a claim by one Senim
//! process (its instance id) that lasts a while: several processes sharing one
//! database never send a mail at once, and a survivor sends what a dead one left.
//! SMTP cannot make this exactly-once: a crash between the server's `250` and our
//! commit sends the mail again, with the same Message-ID, so the recipient's client
//! can drop the duplicate.
//!
//! Sealed (the `Sealer` is on: `senim keys init` made the office key), a mail's
//! whole message and its recipient are stored sealed with the intake key
//! (`sealing::IntakeKey`, from the chain key: the daemon must read them back to
//! send), `recipient` holding the placeholder `(sealed)` that `outbox list` shows;
//! the sender opens them just before handing the mail to the SMTP server, and an
//! SMTP error's text keeps no trace of the address. Once delivered, a sealed
//! mail's body and recipient are erased (`(erased)`): every kind carries identity
//! or text (a receipt: the reporter's address; alerts, digests, escalations,
//! routing and notices: appeals' numbers, identities or texts), except the
//! auditors' signed head (`audit_head`), which is kept. Kind, reference, state,
//! attempts and times stay: `outbox list`, retries and escalation need no more.
//! `Outbox::seal_existing_in` seals a plain outbox in place.

pub mod mail;
pub mod sender;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use lettre::message::Mailbox;
use serde::Serialize;
use tokio::sync::Notify;

use crate::db::{self, Db, Tx};
use crate::rows_affected_in;
use crate::sealing::{SealError, Sealer};
use crate::{execute_alone, execute_in};
use crate::{on_db, on_tx, on_write};

/// What `outbox list` shows as the recipient of a mail stored sealed.
pub const SEALED_RECIPIENT: &str = "(sealed)";
/// What `outbox list` shows as the recipient of a sealed mail once delivered.
pub const ERASED_RECIPIENT: &str = "(erased)";
/// The one kind whose body and recipient a sealed outbox keeps once delivered: the
/// signed head of the audit chain, which names no one.
const KEPT_ONCE_SENT: MailKind = MailKind::AuditHead;

/// The kinds of mail that are the Director's alerts (10.6).
pub const DIRECTOR_ALERTS: [MailKind; 4] = [
    MailKind::CorruptionAlert,
    MailKind::UrgentAlert,
    MailKind::LateDeliveryAlert,
    MailKind::ThreatNotice,
];

pub use mail::{Mail, MailKind};

/// The SQL condition "due for an attempt at `$1` by the process `$2`", shared by
/// `Outbox::due` (which lists) and `Outbox::mark_sending` (which claims), so that
/// what is listed and what may be claimed cannot drift apart.
macro_rules! due_for {
    () => {
        "((state IN ('pending', 'sending') AND next_attempt_at <= $1) \
          OR (state = 'sending' AND claimed_by = $2))"
    };
}

/// What can go wrong in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the outbox's database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("the outbox's database failed: {0}")]
    Database(#[source] sqlx::Error),
    #[error("cannot build the mail: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("no mail {0} in the outbox")]
    NotFound(i64),
    /// A stored row holds a value this version does not know.
    #[error("the outbox holds a row this version cannot read: {0}")]
    Corrupt(String),
    #[error("the outbox cannot seal or open a mail: {0}")]
    Sealing(#[from] SealError),
    #[error("sealing is off: there is nothing to seal the outbox with (run `senim keys init`)")]
    SealingOff,
}

impl From<sqlx::Error> for OutboxError {
    fn from(e: sqlx::Error) -> Self {
        if db::is_unavailable(&e) {
            OutboxError::Unavailable(e)
        } else {
            OutboxError::Database(e)
        }
    }
}

pub type Result<T, E = OutboxError> = std::result::Result<T, E>;

crate::text_enum! {
    /// Where a mail stands.
    MailState { Pending = "pending", Sending = "sending", Sent = "sent", Failed = "failed" }
}

/// One mail as `senim outbox list` shows it (without its content).
#[derive(Clone, Debug, Serialize)]
pub struct MailRecord {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub appeal_id: Option<i64>,
    pub message_id: String,
    pub recipient: String,
    pub urgent: bool,
    pub state: MailState,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub due_by: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct MailRecordRow {
    id: i64,
    kind: String,
    reference: String,
    appeal_id: Option<i64>,
    message_id: String,
    recipient: String,
    urgent: bool,
    state: String,
    attempts: i64,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    due_by: Option<DateTime<Utc>>,
    escalated_at: Option<DateTime<Utc>>,
}

impl TryFrom<MailRecordRow> for MailRecord {
    type Error = OutboxError;
    fn try_from(r: MailRecordRow) -> Result<Self> {
        let state = r
            .state
            .parse()
            .map_err(|e| OutboxError::Corrupt(format!("mail {}: {e}", r.id)))?;
        Ok(MailRecord {
            id: r.id,
            kind: r.kind,
            reference: r.reference,
            appeal_id: r.appeal_id,
            message_id: r.message_id,
            recipient: r.recipient,
            urgent: r.urgent,
            state,
            attempts: r.attempts,
            created_at: r.created_at,
            next_attempt_at: r.next_attempt_at,
            sent_at: r.sent_at,
            last_error: r.last_error,
            due_by: r.due_by,
            escalated_at: r.escalated_at,
        })
    }
}

const RECORD_COLUMNS: &str = "id, kind, reference, appeal_id, message_id, recipient, urgent, state, attempts, \
     created_at, next_attempt_at, sent_at, last_error, due_by, escalated_at";

/// When the Director was first told of an appeal (`Outbox::director_alerts_of`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertDelivery {
    pub appeal_id: i64,
    /// When the first of its alerts was delivered; `None` while none is.
    pub first_sent_at: Option<DateTime<Utc>>,
    /// The alert's legal deadline (10.6), if it has one.
    pub due_by: Option<DateTime<Utc>>,
}

/// A complete message built by its module, with the Message-ID it carries.
pub struct Prebuilt {
    pub kind: MailKind,
    /// What this mail is, once: enqueueing the same key again does nothing.
    pub dedupe_key: String,
    pub reference: String,
    pub appeal_id: Option<i64>,
    pub from: Mailbox,
    pub to: Mailbox,
    /// The Message-ID in the message, with its angle brackets.
    pub message_id: String,
    pub message: lettre::Message,
}

/// One outbox row about to be inserted.
struct Row<'a> {
    dedupe_key: &'a str,
    kind: MailKind,
    reference: &'a str,
    appeal_id: Option<i64>,
    message_id: &'a str,
    envelope_from: &'a Mailbox,
    recipient: &'a Mailbox,
    bytes: &'a [u8],
    urgent: bool,
    due_by: Option<DateTime<Utc>>,
    escalate_at: Option<DateTime<Utc>>,
}

/// Inserts a row unless its dedupe key is already there; returns its id if new.
/// With the intake key (sealing on), the message and the recipient are sealed.
async fn insert_in(
    tx: &mut Tx,
    sealer: &Sealer,
    row: &Row<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let recipient = row.recipient.email.to_string();
    let (message, recipient, sealed_recipient) = match sealer.intake() {
        Some(key) => (
            key.seal(row.bytes)?,
            SEALED_RECIPIENT.to_owned(),
            Some(key.seal(recipient.as_bytes())?),
        ),
        None => (row.bytes.to_vec(), recipient, None),
    };
    let sealed = sealed_recipient.is_some();
    let id: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO outbox (dedupe_key, kind, reference, appeal_id, message_id, envelope_from, recipient, \
         message, urgent, state, attempts, created_at, next_attempt_at, due_by, escalate_at, sealed, sealed_recipient) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10, $11, $12, $13, $14) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(row.dedupe_key)
    .bind(row.kind.as_str())
    .bind(row.reference)
    .bind(row.appeal_id)
    .bind(row.message_id)
    .bind(row.envelope_from.email.to_string())
    .bind(&recipient)
    .bind(&message)
    .bind(row.urgent)
    .bind(secs(now))
    .bind(row.due_by.map(secs))
    .bind(row.escalate_at.map(secs))
    .bind(sealed)
    .bind(&sealed_recipient)
    .fetch_optional(conn)
    .await)?;
    if let Some(id) = id {
        tracing::info!(outbox_id = id, kind = row.kind.as_str(), reference = %row.reference, "mail enqueued");
    }
    Ok(id)
}

/// A mail ready to be handed to the SMTP server.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Outgoing {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub message_id: String,
    pub envelope_from: String,
    /// The placeholder `(sealed)` while `sealed`, until `Outbox::open` opens it.
    pub recipient: String,
    pub message: Vec<u8>,
    pub attempts: i64,
    /// Stored sealed with the intake key (see `Outbox::open`).
    pub sealed: bool,
    pub sealed_recipient: Option<Vec<u8>>,
}

/// An undelivered alert whose escalation time has come.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Overdue {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub appeal_id: Option<i64>,
    pub due_by: Option<DateTime<Utc>>,
    pub state: String,
    pub last_error: Option<String>,
}

/// The undelivered mail: how many, and since when.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Backlog {
    pub undelivered: i64,
    pub failed: i64,
    pub oldest_undelivered: Option<DateTime<Utc>>,
}

/// Whole seconds: SQLite compares the stored text, so every instant has one form.
fn secs(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// The outbox store, the bell that wakes the sender, and what it seals with.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
    wake: Arc<Notify>,
    sealer: Sealer,
}

impl Outbox {
    /// The outbox of `db`, sealing with `sealer` once it is on.
    pub fn new(db: Db, sealer: Sealer) -> Self {
        Self {
            db,
            wake: Arc::new(Notify::new()),
            sealer,
        }
    }

    /// Tells the sender there is new mail (call after the commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn bell(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Writes `mail` into the outbox inside the caller's transaction. Returns its
    /// id, or `None` if a mail with the same dedupe key is already there.
    pub async fn enqueue_in(
        &self,
        tx: &mut Tx,
        from: &Mailbox,
        mail: &Mail,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let formatted = mail::format(from, mail, now)?;
        let row = Row {
            dedupe_key: &mail.dedupe_key,
            kind: mail.kind,
            reference: &mail.reference,
            appeal_id: mail.appeal_id,
            message_id: &formatted.message_id,
            envelope_from: from,
            recipient: &mail.to,
            bytes: &formatted.bytes,
            urgent: mail.urgent,
            due_by: mail.due_by,
            escalate_at: mail.escalate_at,
        };
        insert_in(tx, &self.sealer, &row, now).await
    }

    /// Writes a mail built elsewhere (a receipt threaded to the citizen's own
    /// message) into the outbox inside the caller's transaction, as it is.
    pub async fn enqueue_prebuilt_in(
        &self,
        tx: &mut Tx,
        mail: &Prebuilt,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let bytes = mail.message.formatted();
        let row = Row {
            dedupe_key: &mail.dedupe_key,
            kind: mail.kind,
            reference: &mail.reference,
            appeal_id: mail.appeal_id,
            message_id: &mail.message_id,
            envelope_from: &mail.from,
            recipient: &mail.to,
            bytes: &bytes,
            urgent: false,
            due_by: None,
            escalate_at: None,
        };
        insert_in(tx, &self.sealer, &row, now).await
    }

    /// Whether a mail with this dedupe key was ever enqueued.
    pub async fn exists(&self, dedupe_key: &str) -> Result<bool> {
        let found: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT id FROM outbox WHERE dedupe_key = $1",
        )
        .bind(dedupe_key)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// Mail due for an attempt at `now`: pending, left `sending` by a process
    /// whose claim ran out, or left `sending` by this process (`owner`) before a
    /// crash; urgent first, then oldest first.
    pub async fn due(&self, now: DateTime<Utc>, owner: &str, limit: i64) -> Result<Vec<Outgoing>> {
        Ok(on_db!(&self.db, pool => sqlx::query_as(concat!(
            "SELECT id, kind, reference, message_id, envelope_from, recipient, message, attempts, \
             sealed, sealed_recipient FROM outbox WHERE ",
            due_for!(),
            " ORDER BY urgent DESC, id LIMIT $3",
        ))
        .bind(secs(now))
        .bind(owner)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }

    /// A due mail as it is handed to the SMTP server: a sealed one opened with
    /// the intake key (its message and recipient). The caller fails the mail if
    /// this fails: it cannot be sent as stored.
    pub fn open(&self, mail: &Outgoing) -> Result<Outgoing> {
        if !mail.sealed {
            return Ok(mail.clone());
        }
        let key = self.sealer.intake().ok_or(OutboxError::SealingOff)?;
        let recipient = mail.sealed_recipient.as_deref().ok_or_else(|| {
            OutboxError::Corrupt(format!("mail {}: no sealed recipient", mail.id))
        })?;
        let recipient = String::from_utf8(key.open(recipient)?).map_err(|_| {
            OutboxError::Corrupt(format!("mail {}: the recipient is not text", mail.id))
        })?;
        Ok(Outgoing {
            recipient,
            message: key.open(&mail.message)?,
            sealed_recipient: None,
            ..mail.clone()
        })
    }

    /// Claims a mail for sending by `owner` until `until` and counts the attempt;
    /// committed before SMTP starts. False if it is no longer due (`due`): sent,
    /// or being sent by another Senim process (several may share one database).
    pub async fn mark_sending(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_write!(&self.db, conn => sqlx::query(concat!(
            "UPDATE outbox SET state = 'sending', claimed_by = $2, next_attempt_at = $4, \
             attempts = attempts + 1 WHERE id = $3 AND ",
            due_for!(),
        ))
        .bind(secs(now))
        .bind(owner)
        .bind(id)
        .bind(secs(until))
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    /// The server accepted it. A sealed mail's body and recipient are erased now
    /// (but an audit head's; see the module).
    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        execute_alone!(&self.db, sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $2, last_error = NULL, \
             message = CASE WHEN sealed AND kind <> $3 THEN $4 ELSE message END, \
             recipient = CASE WHEN sealed AND kind <> $3 THEN $5 ELSE recipient END, \
             sealed_recipient = CASE WHEN sealed AND kind <> $3 THEN NULL ELSE sealed_recipient END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(secs(now))
        .bind(KEPT_ONCE_SENT.as_str())
        .bind(&[] as &[u8])
        .bind(ERASED_RECIPIENT))?;
        Ok(())
    }

    /// A transient failure: try again at `next`.
    pub async fn mark_retry(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<()> {
        execute_alone!(&self.db, sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $2, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(secs(next))
        .bind(error))?;
        Ok(())
    }

    /// A permanent failure: stop, keep why.
    pub async fn mark_failed(&self, id: i64, error: &str) -> Result<()> {
        execute_alone!(
            &self.db,
            sqlx::query("UPDATE outbox SET state = 'failed', last_error = $2 WHERE id = $1",)
                .bind(id)
                .bind(error)
        )?;
        Ok(())
    }

    /// Mail in the outbox, newest first; only those in `state` if given.
    pub async fn list(&self, state: Option<MailState>, limit: i64) -> Result<Vec<MailRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<MailRecordRow> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(state.map(MailState::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MailRecord::try_from).collect()
    }

    /// The alerts to the Director (10.6), newest first: what the console shows
    /// her to mark read.
    pub async fn alerts(&self, limit: i64) -> Result<Vec<MailRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE kind IN ($1, $2, $3, $4) ORDER BY id DESC LIMIT $5"
        );
        let rows: Vec<MailRecordRow> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(DIRECTOR_ALERTS[0].as_str())
            .bind(DIRECTOR_ALERTS[1].as_str())
            .bind(DIRECTOR_ALERTS[2].as_str())
            .bind(DIRECTOR_ALERTS[3].as_str())
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MailRecord::try_from).collect()
    }

    /// Of each appeal in `ids` the Director was alerted of (10.6): when the
    /// first of its alerts was delivered (none yet: `None`) and the alert's
    /// legal deadline. One aggregate read, for the summaries (clause 10.13).
    pub async fn director_alerts_of(&self, ids: &[i64]) -> Result<Vec<AlertDelivery>> {
        let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        let rows: Vec<AlertDelivery> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT appeal_id, MIN(CASE WHEN state = 'sent' THEN sent_at END) AS first_sent_at, \
             MIN(due_by) AS due_by FROM outbox \
             WHERE kind IN ($1, $2, $3) AND appeal_id >= $4 AND appeal_id <= $5 \
             GROUP BY appeal_id ORDER BY appeal_id",
        )
        .bind(DIRECTOR_ALERTS[0].as_str())
        .bind(DIRECTOR_ALERTS[1].as_str())
        .bind(DIRECTOR_ALERTS[2].as_str())
        .bind(*low)
        .bind(*high)
        .fetch_all(pool)
        .await)?;
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        Ok(rows
            .into_iter()
            .filter(|a| wanted.contains(&a.appeal_id))
            .collect())
    }

    pub async fn get(&self, id: i64) -> Result<MailRecord> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM outbox WHERE id = $1");
        let row: Option<MailRecordRow> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(MailRecord::try_from)
            .ok_or(OutboxError::NotFound(id))?
    }

    /// Puts failed (or waiting) mail back in line for an attempt now: one mail, or
    /// every failed one. Returns how many.
    pub async fn retry(&self, id: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
        let n = on_write!(&self.db, conn => sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1 \
             WHERE state IN ('pending', 'failed') AND ($2 IS NULL OR id = $2) AND ($2 IS NOT NULL OR state = 'failed')",
        )
        .bind(secs(now))
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if let Some(id) = id
            && n == 0
        {
            // Tell a missing id from one already sent (or being sent).
            self.get(id).await?;
        }
        self.wake();
        Ok(n)
    }

    /// How much mail is undelivered, and the oldest.
    pub async fn backlog(&self) -> Result<Backlog> {
        let (undelivered, failed, oldest): (i64, i64, Option<DateTime<Utc>>) = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')), \
               (SELECT COUNT(*) FROM outbox WHERE state = 'failed'), \
               (SELECT MIN(created_at) FROM outbox WHERE state IN ('pending', 'sending', 'failed'))",
        )
        .fetch_one(pool)
        .await)?;
        Ok(Backlog {
            undelivered,
            failed,
            oldest_undelivered: oldest,
        })
    }

    /// Undelivered alerts whose escalation time has come and that were not yet escalated.
    pub async fn escalation_due(&self, now: DateTime<Utc>) -> Result<Vec<Overdue>> {
        Ok(on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, kind, reference, appeal_id, due_by, state, last_error FROM outbox \
             WHERE escalate_at IS NOT NULL AND escalated_at IS NULL AND state <> 'sent' \
             AND (escalate_at <= $1 OR state = 'failed') ORDER BY id",
        )
        .bind(secs(now))
        .fetch_all(pool)
        .await)?)
    }

    /// Destroys, in the retention purge's transaction, the stored mail about the
    /// appeal `appeal_id` (alerts with its identity and text, receipts, copies to
    /// the deputies): the message bytes become empty and any error text goes; a
    /// receipt's recipient (the reporter's address) goes too. Mail not yet sent
    /// is not sent any more: it fails, and is not escalated. The rows stay (what
    /// was sent, when, to whom in the enterprise). Returns how many mails; none
    /// once destroyed.
    pub async fn destroy_for_appeal_in(
        tx: &mut Tx,
        appeal_id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(rows_affected_in!(tx, sqlx::query(
            "UPDATE outbox SET message = $1, destroyed_at = $2, last_error = NULL, escalate_at = NULL, \
             recipient = CASE WHEN kind = $3 THEN '' ELSE recipient END, \
             sealed_recipient = CASE WHEN kind = $3 THEN NULL ELSE sealed_recipient END, \
             state = CASE WHEN state IN ('pending', 'sending') THEN 'failed' ELSE state END \
             WHERE appeal_id = $4 AND destroyed_at IS NULL",
        )
        .bind(&[] as &[u8])
        .bind(secs(now))
        .bind(MailKind::Receipt.as_str())
        .bind(appeal_id))?)
    }

    /// Destroys the stored bytes of at most `limit` digests of unclassified
    /// appeals (mail about several appeals, with their identity and text, tied
    /// to none) created before `before` and no longer being sent; returns how
    /// many. The retention purge passes the shortest appeal period: a digest is
    /// older than any appeal in it, so none outlives them.
    pub async fn destroy_digests_in(
        tx: &mut Tx,
        before: DateTime<Utc>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(rows_affected_in!(
            tx,
            sqlx::query(
                "UPDATE outbox SET message = $1, destroyed_at = $2, last_error = NULL WHERE id IN \
             (SELECT id FROM outbox WHERE kind = $3 AND appeal_id IS NULL AND destroyed_at IS NULL \
              AND created_at < $4 AND state IN ('sent', 'failed') ORDER BY id LIMIT $5)",
            )
            .bind(&[] as &[u8])
            .bind(secs(now))
            .bind(MailKind::UnclassifiedDigest.as_str())
            .bind(secs(before))
            .bind(limit)
        )?)
    }

    /// Seals, in `tx` (the one of `senim keys init` that made the office key
    /// `sealer` now seals to), a plain outbox in place: mail not yet delivered
    /// (pending, sending, failed) gets its message and recipient sealed with the
    /// intake key; delivered mail that carries identity or text (every kind but
    /// the audit head) has its body and recipient erased. Returns how many rows
    /// changed; a second run finds none.
    pub async fn seal_existing_in(tx: &mut Tx, sealer: &Sealer) -> Result<u64> {
        let key = sealer.intake().ok_or(OutboxError::SealingOff)?;
        let erased = rows_affected_in!(tx, sqlx::query(
            "UPDATE outbox SET message = $1, recipient = $2, sealed_recipient = NULL, sealed = TRUE \
             WHERE NOT sealed AND state = 'sent' AND kind <> $3",
        )
        .bind(&[] as &[u8])
        .bind(ERASED_RECIPIENT)
        .bind(KEPT_ONCE_SENT.as_str()))?;
        let mut sealed = 0;
        loop {
            let rows: Vec<(i64, String, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
                "SELECT id, recipient, message FROM outbox WHERE NOT sealed AND state <> 'sent' ORDER BY id LIMIT 100",
            )
            .fetch_all(conn)
            .await)?;
            if rows.is_empty() {
                break;
            }
            for (id, recipient, message) in rows {
                // A destroyed body stays empty.
                let message = if message.is_empty() {
                    message
                } else {
                    key.seal(&message)?
                };
                execute_in!(tx, sqlx::query(
                    "UPDATE outbox SET message = $1, recipient = $2, sealed_recipient = $3, sealed = TRUE WHERE id = $4",
                )
                .bind(&message)
                .bind(SEALED_RECIPIENT)
                .bind(key.seal(recipient.as_bytes())?)
                .bind(id))?;
                sealed += 1;
            }
        }
        Ok(erased + sealed)
    }

    /// The Message-ID of the first receipt sent about appeal `appeal_id`, read in
    /// `tx`: what a later mail to the citizen (the e-mail reply) threads to. The
    /// Message-ID is the receipt's own, kept plain when sealed.
    pub async fn receipt_message_id_in(tx: &mut Tx, appeal_id: i64) -> Result<Option<String>> {
        Ok(on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT message_id FROM outbox WHERE appeal_id = $1 AND kind = $2 ORDER BY id LIMIT 1",
        )
        .bind(appeal_id)
        .bind(MailKind::Receipt.as_str())
        .fetch_optional(conn)
        .await)?)
    }

    /// Records that an alert was escalated, in the transaction that enqueues the copies.
    pub async fn mark_escalated_in(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<()> {
        execute_in!(
            tx,
            sqlx::query("UPDATE outbox SET escalated_at = $1 WHERE id = $2")
                .bind(secs(now))
                .bind(id)
        )?;
        Ok(())
    }
}
