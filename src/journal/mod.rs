//! The Journal of citizens' appeals (clauses 10.6 and 10.9): registration with
//! gapless numbers, exactly once per outside item, every change in a hash-chained
//! audit log. Owns the tables `appeals`, `appeal_sources`, `registration_counters`,
//! `appeal_events`, `audit_head`, `appeal_envelopes` and `appeal_earlier_values`
//! (what a correction replaced, in a plain Journal: `Amendment::Corrected`).
//!
//! Every write runs in one transaction that first locks the audit chain's head
//! (`audit::lock_head`), so writers are serialised on both backends: the number
//! counter, the source uniqueness check and the chain cannot race. Other modules
//! that must change their own tables in the same transaction (the mailbox's
//! message store, the outbox) call the `*_in` variants with their own `Tx`, after
//! any reads and before their own writes; a run of writes in one transaction (a
//! batch of mail, a group commit) holds the chain once through a `ChainLock`.
//!
//! The map: this file holds the types (`Journal` and how it is built,
//! `JournalError`, `OnRegistered`, `EndedAppeal`); `appeal.rs` the appeal and its
//! changes; `chain.rs` the chain's head locked, checked and signed (`ChainLock`);
//! `register.rs` registration, numbers and outside references; `amend.rs`
//! amendments, corrections and destruction; `disclose.rs` reads of identity and
//! text, disclosures and exports; `sealed.rs` the envelopes and sealing in place;
//! `verify.rs` the whole chain checked, and keyed once; `store.rs` the SQL of the
//! appeals' own rows, so the other files speak in domain terms; `audit.rs` the
//! hash chain; `reasons.rs` the acts' free-text reasons; `group_commit.rs`;
//! `export.rs`; `summary.rs`.

mod amend;
pub mod appeal;
pub mod audit;
mod chain;
mod disclose;
pub mod export;
mod group_commit;
pub mod reasons;
mod register;
pub mod sealed;
mod store;
pub mod summary;
mod verify;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

pub use appeal::{
    Amendment, Appeal, AppealId, AppealKey, CORRECTED, Category, Channel, DESTROYED, ListFilter,
    NewAppeal, Registration, RegistrationNumber, Reporter, ScriptPoint, SourceRef, Status,
};
pub use audit::VerifyReport;
pub use chain::{ChainLock, accepted_keys};
pub use register::registered;
pub use summary::{Tally, Timing};

use crate::authority::{Authority, PublicKey};
use crate::calendar::Calendar;
use crate::clock::SharedClock;
use crate::db::{self, Db, Tx};
use crate::sealing::Sealer;

/// What can go wrong in the Journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database cannot be reached or is busy: retry later.
    #[error("the Journal's database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("the Journal's database failed: {0}")]
    Database(#[source] sqlx::Error),
    #[error("no appeal {0} in the Journal")]
    NotFound(String),
    /// The change is not one this appeal, in its state, takes.
    #[error("{0}")]
    NotAllowed(String),
    /// The audit chain and the configured chain key do not agree.
    #[error("{0}")]
    ChainKey(String),
    /// Sealing or opening a sealed value failed (no key, a wrong key).
    #[error(transparent)]
    Sealing(#[from] crate::sealing::SealError),
    /// A stored row holds a value this version does not know.
    #[error("the Journal holds a row this version cannot read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for JournalError {
    fn from(e: sqlx::Error) -> Self {
        if db::is_unavailable(&e) {
            JournalError::Unavailable(e)
        } else {
            JournalError::Database(e)
        }
    }
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// What finds, in a text at intake, the words a sealed appeal keeps plain for
/// triage and routing (`Journal::finding_terms_with`).
pub type TermsFinder = Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;

/// The audit event of a disclosure: someone was shown an appeal's identity and text.
pub const DISCLOSED: &str = "identity_disclosed";

/// The audit event of the Director's reading of an alert (the console).
pub const ALERT_READ: &str = "alert_read";

/// The audit event of an export without identity (`journal export`).
pub const EXPORTED: &str = "exported";

/// The audit event of an appeal sealed in place (`senim keys init`).
pub const SEALED: &str = "sealed";

/// The audit event of an appeal's envelopes resealed to a new office key.
pub const RESEALED: &str = "resealed";

/// The Journal: registration, look-up, amendment and verification of appeals.
#[derive(Clone)]
pub struct Journal {
    db: Db,
    calendar: Arc<Calendar>,
    clock: SharedClock,
    prefix: String,
    /// The group-commit writer's queue, started on the first `register`.
    queue: Arc<OnceLock<group_commit::Queue>>,
    /// What a new registration starts, in its transaction (see `OnRegistered`).
    followers: Vec<Arc<dyn OnRegistered>>,
    /// The key the audit chain is hashed under, if configured.
    chain_key: Option<Arc<audit::ChainKey>>,
    /// The installation's signing key: it signs the head at every write.
    authority: Option<Arc<Authority>>,
    /// The public keys a stored head may be signed with: the signing key's,
    /// and the one derived from the chain key if the signing key is another
    /// (it signed before `journal.signing_key_file` was set).
    head_keys: Vec<PublicKey>,
    /// The last head this process signed or found signed (`audit::StoredHead`'s
    /// parts and signature): checked once, not at every write.
    signed: Arc<std::sync::Mutex<Option<String>>>,
    /// What identity and text are sealed with (off until `senim keys init`).
    sealer: Sealer,
    /// The words of the triage lexicon and routing keywords found in a text,
    /// kept plain with a sealed appeal (`Appeal::terms`).
    terms: Option<TermsFinder>,
}

/// What else a new registration starts, written by the module that owns it (the
/// reply deadline: `deadlines`; the notices of 6.3: `alerts`) in the
/// registration's own transaction, after the appeal is inserted and before the
/// commit: an appeal never exists without it, whichever path registered it
/// (group commit, a mail batch, a PBX record). A phone appeal registered before
/// the operator's notes runs the hooks again when the notes complete it
/// (`Journal::completed_in`), so each hook is idempotent. The Journal knows only
/// this trait, so the modules below it do not depend on the ones above.
pub trait OnRegistered: Send + Sync {
    fn on_registered_in<'a>(
        &'a self,
        tx: &'a mut Tx,
        appeal: &'a Appeal,
    ) -> futures_util::future::BoxFuture<'a, Result<()>>;

    /// The chain turns public in `tx` (`audit`'s switch point, once): what the
    /// follower signs from now on, it adopts as it is now (the deadlines from
    /// before the upgrade).
    fn on_chain_signed_in<'a>(
        &'a self,
        _tx: &'a mut Tx,
        _appeals: &'a [AppealId],
    ) -> futures_util::future::BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

impl Journal {
    pub fn new(
        db: Db,
        calendar: Arc<Calendar>,
        clock: SharedClock,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            db,
            calendar,
            clock,
            prefix: prefix.into(),
            queue: Arc::default(),
            followers: Vec::new(),
            chain_key: None,
            authority: None,
            head_keys: Vec::new(),
            signed: Arc::default(),
            sealer: Sealer::off(),
            terms: None,
        }
    }

    /// The Journal that keeps, with a sealed appeal, the words `find` finds in its
    /// text (the triage lexicon's, the routing keywords).
    pub fn finding_terms_with(mut self, find: TermsFinder) -> Self {
        self.terms = Some(find);
        self
    }

    /// Whether identity and text are sealed from now on.
    pub fn is_sealed(&self) -> bool {
        self.sealer.is_on()
    }

    fn terms_in(&self, text: &str) -> Vec<String> {
        let mut found = self.terms.as_ref().map(|f| f(text)).unwrap_or_default();
        found.sort();
        found.dedup();
        found
    }

    /// The Journal that seals identity and text with `sealer` (once it is on).
    pub fn sealed_with(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    /// The keyed hash of a reporter's e-mail address (sealed Journal only).
    fn email_tag(&self, address: &str) -> Option<String> {
        self.sealer
            .keyed_hash("reporter-email", address.trim().to_lowercase().as_bytes())
    }

    /// The Journal whose audit chain is keyed with `key` (`journal.chain_key_file`).
    pub fn keyed_with(mut self, key: Option<audit::ChainKey>) -> Self {
        self.chain_key = key.map(Arc::new);
        self.head_keys = self.head_keys();
        self
    }

    /// The Journal whose head `authority` signs at every write (from the first
    /// write on, its new events are hashed with plain SHA-256: `audit`).
    pub fn signed_by(mut self, authority: Option<Arc<Authority>>) -> Self {
        self.authority = authority;
        self.head_keys = self.head_keys();
        self
    }

    /// The public keys a stored head may be signed with (`accepted_keys`).
    fn head_keys(&self) -> Vec<PublicKey> {
        accepted_keys(self.authority.as_deref(), self.chain_key.as_deref())
    }

    /// The public keys what this installation signed may be signed with.
    pub fn signing_keys(&self) -> &[PublicKey] {
        &self.head_keys
    }

    /// The installation's public signing key (`senim journal head-key`).
    pub fn public_key(&self) -> Option<&PublicKey> {
        self.authority.as_deref().map(Authority::public_key)
    }

    /// Whether a chain key is configured.
    pub fn is_keyed(&self) -> bool {
        self.chain_key.is_some()
    }

    /// The Journal that also runs `follower` in every new registration's
    /// transaction. Set up before the first registration.
    pub fn followed_by(mut self, follower: Arc<dyn OnRegistered>) -> Self {
        self.followers.push(follower);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// An appeal whose case has ended, as the retention schedule sees it
/// (`Journal::ended_appeals`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedAppeal {
    pub id: AppealId,
    pub registration_number: RegistrationNumber,
    pub category: Category,
    /// The last change of its status, to the one that ended it.
    pub ended_at: DateTime<Utc>,
    /// Destroyed, and nothing recorded of it since.
    pub destroyed: bool,
}
