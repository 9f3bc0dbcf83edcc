//! The e-mail channel (clauses 10.1, 10.3, 10.15): Senim reads the dedicated
//! mailbox over IMAP and registers every message in the Journal exactly once.
//!
//! - its section of the configuration is `config::mailbox`.
//! - `imap`: connection, TLS, login, the commands used, IDLE.
//! - `poller`: the loop: fetch, register, settle; reconnect with backoff.
//! - `intake`: the exactly-once transaction of a batch.
//! - `message`: what a raw message says; `rules`: which ones machines sent.
//! - `store`: the module's tables; `ack`: the receipt to the sender.
//!
//! Once sealing is on (`sealer`), what a message says and who sent it is stored
//! sealed, and the keys it is found by are keyed hashes (see `store`); the receipt
//! is built from the plaintext in hand, before it is sealed.
//!
//! See `docs/mailbox.md` for the design and its failure cases.

pub mod ack;
pub mod imap;
pub mod intake;
pub mod message;
pub mod poller;
pub mod rules;
pub mod store;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::deadlines::Deadlines;
use crate::journal::Journal;
use crate::outbox::Outbox;
use crate::sealing::Sealer;

/// The channel and what it works with, handed to it by the daemon that assembles
/// it (`app`): the channel never reaches back into the daemon.
pub struct Mailbox {
    /// The `[mailbox]` section, and the keys of others the receipt uses
    /// (`journal.registration_prefix`, `smtp.from`).
    pub config: Config,
    pub clock: SharedClock,
    pub db: Db,
    pub journal: Journal,
    /// Where the receipts go.
    pub outbox: Outbox,
    /// The reply deadline the receipt promises.
    pub deadlines: Deadlines,
    /// The channel's health, for `/readyz`.
    pub status: Arc<MailboxStatus>,
    /// What the store seals with, once the office key exists.
    pub sealer: Sealer,
}

impl Mailbox {
    /// Seals the mailbox's plain store in place, in `tx` (`store::seal_existing_in`),
    /// and, the first time, has the Journal rekey the references the mailbox gave
    /// it (Message-ID, SHA-256) with the same keyed hashes (`store::message_key`),
    /// so replies and redeliveries of old mail are still recognised. For
    /// `senim keys init`, after `sealer.use_recipients`. Returns how many messages.
    pub async fn seal_existing_in(
        &self,
        tx: &mut crate::db::Tx,
        sealer: &Sealer,
    ) -> Result<u64, intake::IntakeError> {
        let first_time = !store::any_sealed_in(tx).await?;
        let sealed = store::seal_existing_in(tx, sealer).await?;
        if first_time {
            for kind in [intake::SOURCE_MESSAGE_ID, intake::SOURCE_SHA256] {
                self.journal
                    .rekey_sources_in(tx, kind, |key| store::message_key(sealer, kind, key))
                    .await?;
            }
        }
        Ok(sealed)
    }
}

/// What `/readyz` says about the mailbox.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Health {
    pub enabled: bool,
    /// When the server last answered a full poll.
    pub last_reached: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The mailbox's health, shared by the poller and the health server.
#[derive(Debug, Default)]
pub struct MailboxStatus(Mutex<Health>);

impl MailboxStatus {
    pub fn new(enabled: bool) -> Self {
        Self(Mutex::new(Health {
            enabled,
            ..Health::default()
        }))
    }

    pub fn reached(&self, at: DateTime<Utc>) {
        if let Ok(mut h) = self.0.lock() {
            h.last_reached = Some(at);
        }
        metrics::gauge!("senim_mailbox_last_reached_timestamp_seconds").set(at.timestamp() as f64);
    }

    pub fn failed(&self, at: DateTime<Utc>, error: String) {
        if let Ok(mut h) = self.0.lock() {
            h.last_error = Some(error);
            h.last_error_at = Some(at);
        }
        metrics::counter!("senim_mailbox_errors_total").increment(1);
        metrics::gauge!("senim_mailbox_last_error_timestamp_seconds").set(at.timestamp() as f64);
    }

    pub fn snapshot(&self) -> Health {
        self.0.lock().map(|h| h.clone()).unwrap_or_default()
    }
}
