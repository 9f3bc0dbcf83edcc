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

pub mod appeal;
pub mod audit;
pub mod export;
mod group_commit;
pub mod reasons;
pub mod sealed;
pub mod summary;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use sqlx::Row;

pub use appeal::{
    Amendment, Appeal, AppealId, AppealKey, CORRECTED, Category, Channel, DESTROYED, ListFilter,
    NewAppeal, Registration, RegistrationNumber, Reporter, ScriptPoint, SourceRef, Status,
};
pub use audit::VerifyReport;
pub use summary::{Tally, Timing};

use crate::authority::{Authority, PublicKey};
use crate::calendar::Calendar;
use crate::clock::SharedClock;
use crate::db::{self, Db, Tx};
use crate::sealing::{Sealer, Unlocked};
use crate::{on_db, on_tx};

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

const NEEDS_KEY: &str = "the audit chain is keyed: set journal.chain_key_file to its key";
const NEEDS_SIGNER: &str = "the audit chain's head is signed: set journal.signing_key_file \
     (or journal.chain_key_file, from which it was derived) to write to it";
const NEEDS_PUBLIC_KEY: &str = "the audit chain's head is signed: give its public key \
     (`--public-key`, printed by `senim journal head-key`) or set journal.signing_key_file";
const HEAD_FORGED: &str = "the audit chain's head is not signed by this installation's signing key: \
     it was set outside Senim; nothing is written (run `senim journal verify`)";
const NOT_KEYED: &str = "journal.chain_key_file is set but the audit chain is not keyed: \
     run `senim journal verify`, then `senim journal key-chain`";

/// The statements that lift (`on` false) or restore (`on` true) the database's
/// guard that keeps `appeal_events` append-only; only `key_chain` lifts it, in
/// its own transaction.
fn append_only_guard(backend: &str, on: bool) -> &'static [&'static str] {
    match (backend, on) {
        ("postgres", false) => {
            &["ALTER TABLE appeal_events DISABLE TRIGGER appeal_events_append_only"]
        }
        ("postgres", true) => {
            &["ALTER TABLE appeal_events ENABLE TRIGGER appeal_events_append_only"]
        }
        (_, false) => &["DROP TRIGGER appeal_events_no_update"],
        (_, true) => &[
            "CREATE TRIGGER appeal_events_no_update BEFORE UPDATE ON appeal_events \
             BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END",
        ],
    }
}

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

const APPEAL_COLUMNS: &str = "id, registration_number, received_at, registered_at, registration_date, channel, \
     reporter_name, reporter_organisation, reporter_postal_address, reporter_phone, reporter_email, \
     anonymous, no_return_address, subject, substance, category, status, updated_at, sealed_digest, intake_terms";

/// Appends a `ListFilter`'s conditions, the ordering and the limit to a query
/// builder of either backend (`... WHERE 1 = 1` so far).
macro_rules! push_filter {
    ($q:ident, $filter:expr) => {{
        let filter = $filter;
        if let Some(from) = filter.from {
            $q.push(" AND registration_date >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            $q.push(" AND registration_date <= ").push_bind(to);
        }
        if let Some(channel) = filter.channel {
            $q.push(" AND channel = ").push_bind(channel.as_str());
        }
        if let Some(category) = filter.category {
            $q.push(" AND category = ").push_bind(category.as_str());
        }
        if let Some(status) = filter.status {
            $q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                $q.push(" AND 1 = 0");
            } else {
                $q.push(" AND id IN (");
                let mut list = $q.separated(", ");
                for id in ids {
                    list.push_bind(id.0);
                }
                $q.push(")");
            }
        }
        if filter.newest_first {
            $q.push(" ORDER BY registration_year DESC, registration_seq DESC");
        } else {
            $q.push(" ORDER BY registration_year, registration_seq");
        }
        if let Some(limit) = filter.limit {
            $q.push(" LIMIT ").push_bind(i64::from(limit));
            if let Some(offset) = filter.offset {
                $q.push(" OFFSET ").push_bind(i64::from(offset));
            }
        }
    }};
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

    /// Another process made or rotated the office key: read it in this
    /// transaction before writing, so nothing is sealed to an old key or left plain.
    async fn follow_seal_generation(&self, tx: &mut Tx, generation: i64) -> Result<()> {
        match self.sealer.current_in(tx).await? {
            Some(current) if current.generation == generation => {
                if !self.sealer.has_intake_key() {
                    return Err(JournalError::Sealing(crate::sealing::SealError::Keys(
                        "the Journal is sealed (`senim keys init`) but journal.chain_key_file is not set".into(),
                    )));
                }
                self.sealer.use_recipients(current);
                Ok(())
            }
            _ => Err(JournalError::Corrupt(format!(
                "the chain's head says office key generation {generation}, which sealing_keys does not hold"
            ))),
        }
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

    /// Whether `address` is the reporter's e-mail address of appeal `id`: plain,
    /// compared as written (case aside); sealed, by the keyed hash the Journal keeps
    /// of it, so the mailbox can recognise the reporter's replies without reading
    /// the identity.
    pub async fn is_reporter_email_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        address: Option<&str>,
    ) -> Result<bool> {
        let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(false);
        };
        let (plain, tag): (Option<String>, Option<String>) = on_tx!(tx, conn => sqlx::query_as(
            "SELECT reporter_email, reporter_email_tag FROM appeals WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(conn)
        .await)?
        .ok_or_else(|| JournalError::NotFound(id.to_string()))?;
        Ok(match (plain, tag) {
            (Some(plain), _) => plain.trim().eq_ignore_ascii_case(address),
            (None, Some(tag)) => self.email_tag(address).as_deref() == Some(tag.as_str()),
            (None, None) => false,
        })
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

    /// The switch point of the chain (`audit`): the first event hashed with
    /// plain SHA-256, its head signed from then on; none before the switch.
    pub async fn public_from(&self) -> Result<Option<i64>> {
        Ok(on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT public_from FROM audit_head WHERE id = 1",
        )
        .fetch_one(pool)
        .await)?)
    }

    /// The installation's public signing key (`senim journal head-key`).
    pub fn public_key(&self) -> Option<&PublicKey> {
        self.authority.as_deref().map(Authority::public_key)
    }

    /// An appeal registered before its content (a call, before the operator's
    /// notes) is now complete: the registration's hooks run again in `tx`, so
    /// what they start from the reporter and the text (the reply deadline once
    /// there is an address, the notice of a threat) follows.
    pub async fn completed_in(&self, tx: &mut Tx, appeal: &Appeal) -> Result<()> {
        for follower in &self.followers {
            follower.on_registered_in(tx, appeal).await?;
        }
        Ok(())
    }

    /// Whether a chain key is configured.
    pub fn is_keyed(&self) -> bool {
        self.chain_key.is_some()
    }

    /// Whether the stored chain and the configured keys agree: `Ok` if both are
    /// keyed or both are not, and a signed head is signed by this installation;
    /// otherwise the error says what to do. With a signing key, the head is then
    /// signed by it (the switch made, if it was not: `audit`), so an auditor can
    /// check the chain before the first appeal. The daemon runs this at
    /// start-up, before it takes an appeal.
    pub async fn prepare_chain(&self) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let chain = match self.lock_chain(&mut tx).await {
            Ok(chain) => chain,
            // An office key that does not verify holds sealing (logged), not the
            // daemon: intake refuses each write until it verifies.
            Err(JournalError::Sealing(crate::sealing::SealError::Unverified(_))) => {
                tx.rollback().await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if self.authority.is_none() {
            drop(chain);
            tx.rollback().await?;
            return Ok(());
        }
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        Ok(())
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

    /// Registers an appeal and returns once it is durable. Concurrent calls share
    /// one transaction and one disk flush (group commit, see `group_commit`); the
    /// outcome of each is that of `register_in`.
    pub async fn register(&self, new: NewAppeal) -> Result<Registration> {
        group_commit::submit(self, new).await
    }

    /// Registers one appeal in a transaction of its own.
    async fn register_alone(&self, new: NewAppeal) -> Result<Registration> {
        let mut tx = self.db.begin().await?;
        let registration = self.register_in(&mut tx, new).await?;
        tx.commit().await?;
        registered(&registration);
        Ok(registration)
    }

    /// Registers an appeal inside the caller's transaction. If its source (or any
    /// of its other references) is already registered, returns that registration
    /// and writes nothing. Otherwise the appeal gets the next number of its
    /// registration year; the number is gapless because it is taken in the same
    /// transaction as the insert.
    pub async fn register_in(&self, tx: &mut Tx, new: NewAppeal) -> Result<Registration> {
        let mut chain = self.lock_chain(tx).await?;
        let registration = chain.register(tx, new).await?;
        chain.finish(tx).await?;
        Ok(registration)
    }

    /// Locks the audit chain for a run of writes in `tx` (see `ChainLock`). A
    /// signed head must be this installation's; with a signing key, a chain not
    /// yet public turns public here (its switch point: the next event).
    pub async fn lock_chain(&self, tx: &mut Tx) -> Result<ChainLock<'_>> {
        let stored = audit::lock_head(tx, self.chain_key.clone()).await?;
        let generation = stored.generation;
        let mut keyed = stored.keyed;
        if stored.head.public_from.is_some() {
            self.check_signed(&stored)?;
        } else {
            match (keyed, self.chain_key.is_some()) {
                (true, false) => return Err(JournalError::ChainKey(NEEDS_KEY.into())),
                // An empty chain is keyed from its first event.
                (false, true) if stored.head.seq == 0 => {
                    audit::mark_keyed(tx).await?;
                    keyed = true;
                }
                (false, true) => return Err(JournalError::ChainKey(NOT_KEYED.into())),
                _ => {}
            }
        }
        let mut head = stored.head;
        if head.public_from.is_none() && self.authority.is_some() {
            head.public_from = Some(head.seq + 1);
            let appeals: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
                "SELECT id FROM appeals ORDER BY id",
            )
            .fetch_all(conn)
            .await)?;
            let appeals: Vec<AppealId> = appeals.into_iter().map(AppealId).collect();
            for follower in &self.followers {
                follower.on_chain_signed_in(tx, &appeals).await?;
            }
            tracing::info!(
                from = head.seq + 1,
                "the audit chain is public from this event on: hashed with SHA-256, its head signed"
            );
        }
        if generation > self.sealer.generation() {
            self.follow_seal_generation(tx, generation).await?;
        }
        Ok(ChainLock {
            journal: self,
            head,
            keyed,
        })
    }

    /// Refuses a signed head that is not signed by this installation (a head set
    /// by hand: events appended or deleted outside Senim), or that this process
    /// cannot sign after it.
    fn check_signed(&self, stored: &audit::StoredHead) -> Result<()> {
        if self.authority.is_none() {
            return Err(JournalError::ChainKey(NEEDS_SIGNER.into()));
        }
        let seen = signed_text(&stored.signed_parts(), stored.signature.as_deref());
        let mut last = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_deref() == Some(seen.as_str()) {
            return Ok(());
        }
        if !stored.is_signed_by(&self.head_keys) {
            tracing::error!("{HEAD_FORGED}");
            return Err(JournalError::ChainKey(HEAD_FORGED.into()));
        }
        *last = Some(seen);
        Ok(())
    }

    /// The envelope of a new appeal's identity and text, sealed ahead of its
    /// registration (`None` when sealing is off).
    fn preseal(&self, new: &NewAppeal) -> Result<Option<Presealed>> {
        if !self.sealer.is_on() {
            return Ok(None);
        }
        let reporter = new.reporter.clone().normalised();
        let fields = sealed::Confidential::of(
            Some(&reporter),
            appeal::clean(new.subject.clone()).as_ref(),
            appeal::clean(new.substance.clone()).as_ref(),
        );
        let envelope = sealed::seal(&self.sealer, &fields)?;
        Ok(Some(Presealed { fields, envelope }))
    }

    /// Registers an appeal in a transaction that holds the chain's `head`; its
    /// envelope, if sealed ahead to the current office key, is used as it is.
    async fn register_locked(
        &self,
        tx: &mut Tx,
        head: &mut audit::Head,
        new: NewAppeal,
        presealed: Option<Presealed>,
    ) -> Result<Registration> {
        let mut refs = vec![new.source.clone()];
        refs.extend(new.also_known_as.iter().cloned());
        if let Some(id) = find_source_in(tx, &refs).await? {
            // Remember the references it came with this time (a new UID after a
            // UIDVALIDITY change, say), so the next look-up finds it directly.
            add_sources(tx, id, &refs).await?;
            return Ok(Registration::Existing(self.get_in(tx, id).await?));
        }

        let now = self.clock.now().trunc_subsecs(6);
        let received_at = new.received_at.trunc_subsecs(6);
        let registration_date = self.calendar.registration_date(received_at);
        let year = registration_date.year();
        let seq: i64 = on_tx!(tx, conn => sqlx::query_scalar(
            "INSERT INTO registration_counters (prefix, year, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (prefix, year) DO UPDATE SET last_number = registration_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(&self.prefix)
        .bind(i64::from(year))
        .fetch_one(conn)
        .await)?;
        let number =
            RegistrationNumber::new(&self.prefix, year, u32::try_from(seq).unwrap_or(u32::MAX));

        let reporter = new.reporter.clone().normalised();
        let appeal = Appeal {
            id: AppealId(0),
            registration_number: number,
            received_at,
            registered_at: now,
            registration_date,
            channel: new.channel,
            anonymous: reporter.is_anonymous(),
            no_return_address: reporter.has_no_return_address(),
            reporter,
            subject: appeal::clean(new.subject.clone()),
            substance: appeal::clean(new.substance.clone()),
            category: Category::Unclassified,
            status: new.status,
            updated_at: now,
            sealed: None,
            terms: Vec::new(),
        };
        // Sealed: the row keeps no identity and no text; they go in an envelope
        // only a person's key opens, and the words triage and routing need are
        // found now, while the text is in hand.
        let presealed = match presealed {
            Some(p) if Some(p.envelope.generation) == self.sealer.current_generation() => Some(p),
            _ => self.preseal(&new)?,
        };
        let (appeal, envelope, email_tag) = if let Some(Presealed { fields, envelope }) = presealed
        {
            let email_tag = appeal
                .reporter
                .email
                .as_deref()
                .and_then(|e| self.email_tag(e));
            let stored = Appeal {
                sealed: Some(sealed::next_digest(None, &envelope)),
                terms: self.terms_in(&appeal.text()),
                ..appeal.redacted()
            };
            (stored, Some((fields, envelope)), email_tag)
        } else {
            (appeal, None, None)
        };
        let terms = terms_column(&appeal.terms);
        let r = &appeal.reporter;
        let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
            "INSERT INTO appeals (registration_number, registration_year, registration_seq, received_at, \
             registered_at, registration_date, channel, reporter_name, reporter_organisation, \
             reporter_postal_address, reporter_phone, reporter_email, anonymous, no_return_address, \
             subject, substance, category, status, updated_at, sealed_digest, reporter_email_tag, intake_terms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $5, $19, $20, $21) \
             RETURNING id",
        )
        .bind(appeal.registration_number.to_string())
        .bind(i64::from(year))
        .bind(seq)
        .bind(received_at)
        .bind(now)
        .bind(registration_date)
        .bind(appeal.channel.as_str())
        .bind(&r.name)
        .bind(&r.organisation)
        .bind(&r.postal_address)
        .bind(&r.phone)
        .bind(&r.email)
        .bind(appeal.anonymous)
        .bind(appeal.no_return_address)
        .bind(&appeal.subject)
        .bind(&appeal.substance)
        .bind(appeal.category.as_str())
        .bind(appeal.status.as_str())
        .bind(&appeal.sealed)
        .bind(&email_tag)
        .bind(&terms)
        .fetch_one(conn)
        .await)?;
        // What was inserted, with its id: the same values a read-back would give.
        let appeal = Appeal {
            id: AppealId(id),
            ..appeal
        };
        if let Some((fields, envelope)) = &envelope {
            sealed::insert_envelope(tx, id, fields, envelope, true).await?;
        }
        add_sources(tx, appeal.id, &refs).await?;

        let detail = serde_json::json!({
            "channel": appeal.channel,
            "source": new.source.to_string(),
            "received_at": received_at,
        });
        audit::append(tx, head, &appeal, now, &new.actor, "registered", &detail).await?;
        for follower in &self.followers {
            follower.on_registered_in(tx, &appeal).await?;
        }
        Ok(Registration::New(appeal))
    }

    /// The appeal an outside item was registered as, if any.
    pub async fn find_source(&self, source: &SourceRef) -> Result<Option<Appeal>> {
        let id: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT appeal_id FROM appeal_sources WHERE kind = $1 AND key = $2",
        )
        .bind(&source.kind)
        .bind(&source.key)
        .fetch_optional(pool)
        .await)?;
        match id {
            Some(id) => Ok(Some(self.get(AppealId(id)).await?)),
            None => Ok(None),
        }
    }

    /// Rewrites, in `tx`, the keys of every outside reference of kind `kind` as
    /// `rekey` says (the channel that gave them, when sealing turns its plain keys
    /// into keyed hashes: `mailbox::Mailbox::seal_existing_in`). Returns how many.
    pub async fn rekey_sources_in(
        &self,
        tx: &mut Tx,
        kind: &str,
        rekey: impl Fn(&str) -> String,
    ) -> Result<u64> {
        let keys: Vec<String> = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT key FROM appeal_sources WHERE kind = $1",
        )
        .bind(kind)
        .fetch_all(conn)
        .await)?;
        let mut n = 0;
        for key in keys {
            let new = rekey(&key);
            if new == key {
                continue;
            }
            n += on_tx!(tx, conn => sqlx::query(
                "UPDATE appeal_sources SET key = $1 WHERE kind = $2 AND key = $3",
            )
            .bind(&new)
            .bind(kind)
            .bind(&key)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(n)
    }

    pub async fn get(&self, id: AppealId) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1");
        let row: Option<AppealRow> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        row.ok_or_else(|| JournalError::NotFound(id.to_string()))?
            .try_into()
    }

    pub async fn get_by_number(&self, number: &RegistrationNumber) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE registration_number = $1");
        let row: Option<AppealRow> = on_db!(&self.db, pool => sqlx::query_as(&sql).bind(number.to_string()).fetch_optional(pool).await)?;
        row.ok_or_else(|| JournalError::NotFound(number.to_string()))?
            .try_into()
    }

    /// The appeal an id or registration number names.
    pub async fn find(&self, key: &AppealKey) -> Result<Appeal> {
        match key {
            AppealKey::Id(id) => self.get(*id).await,
            AppealKey::Number(number) => self.get_by_number(number).await,
        }
    }

    /// The appeal an id or registration number names, read inside a transaction.
    pub async fn find_in(&self, tx: &mut Tx, key: &AppealKey) -> Result<Appeal> {
        let row: Option<AppealRow> = match key {
            AppealKey::Id(id) => return self.get_in(tx, *id).await,
            AppealKey::Number(number) => {
                let sql =
                    format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE registration_number = $1");
                on_tx!(tx, conn => sqlx::query_as(&sql).bind(number.to_string()).fetch_optional(conn).await)?
            }
        };
        row.ok_or_else(|| JournalError::NotFound(key_text(key)))?
            .try_into()
    }

    /// Reads an appeal inside a transaction (sees the transaction's own writes).
    pub async fn get_in(&self, tx: &mut Tx, id: AppealId) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1");
        let row: Option<AppealRow> =
            on_tx!(tx, conn => sqlx::query_as(&sql).bind(id.0).fetch_optional(conn).await)?;
        row.ok_or_else(|| JournalError::NotFound(id.to_string()))?
            .try_into()
    }

    /// The ids and registration dates of the appeals matching the filter, oldest
    /// first: a cheap scan for background work that reads few of them in full.
    pub async fn list_keys(&self, filter: &ListFilter) -> Result<Vec<(AppealId, NaiveDate)>> {
        let rows: Vec<(i64, NaiveDate)> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new("SELECT id, registration_date FROM appeals WHERE 1 = 1");
            push_filter!(q, filter);
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, date)| (AppealId(id), date))
            .collect())
    }

    /// Appeals matching the filter, oldest registration first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Appeal>> {
        let rows: Vec<AppealRow> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE 1 = 1"));
            push_filter!(q, filter);
            q.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter().map(Appeal::try_from).collect()
    }

    /// Applies a change to an appeal in its own transaction; see `amend_in`.
    pub async fn amend(&self, id: AppealId, amendment: Amendment, actor: &str) -> Result<Appeal> {
        let mut tx = self.db.begin().await?;
        let appeal = self.amend_in(&mut tx, id, amendment, actor).await?;
        tx.commit().await?;
        tracing::info!(registration_number = %appeal.registration_number, appeal_id = %appeal.id, actor, "appeal amended");
        Ok(appeal)
    }

    /// Applies a change to an appeal and records it in the audit log.
    pub async fn amend_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        amendment: Amendment,
        actor: &str,
    ) -> Result<Appeal> {
        let mut chain = self.lock_chain(tx).await?;
        let appeal = chain.amend(tx, id, amendment, actor).await?;
        chain.finish(tx).await?;
        Ok(appeal)
    }

    /// Applies a change to an appeal in a transaction that holds the chain's `head`.
    async fn amend_locked(
        &self,
        tx: &mut Tx,
        head: &mut audit::Head,
        id: AppealId,
        amendment: Amendment,
        actor: &str,
    ) -> Result<Appeal> {
        let before = self.get_in(tx, id).await?;
        if self.sealer.is_on() {
            match &amendment {
                Amendment::Details {
                    reporter,
                    subject,
                    substance,
                } => {
                    let fields = sealed::Confidential::of(
                        reporter.as_ref(),
                        subject.as_ref(),
                        substance.as_ref(),
                    );
                    return self
                        .amend_sealed_details(tx, head, before, fields, actor, None)
                        .await;
                }
                Amendment::Corrected { fields, reason } => {
                    return self
                        .amend_sealed_details(tx, head, before, fields.clone(), actor, Some(reason))
                        .await;
                }
                Amendment::Destroyed { .. } if before.sealed.is_some() => {
                    return self
                        .destroy_sealed(tx, head, before, &amendment, actor)
                        .await;
                }
                _ => {}
            }
        }
        let mut appeal = before.clone();
        match &amendment {
            Amendment::Details {
                reporter,
                subject,
                substance,
            } => {
                if was_destroyed_in(tx, id).await? {
                    return Err(JournalError::NotAllowed(format!(
                        "appeal {} was destroyed under the records schedule: its details are not recorded again",
                        before.registration_number
                    )));
                }
                if let Some(reporter) = reporter {
                    appeal.reporter = reporter.clone().normalised();
                    appeal.anonymous = appeal.reporter.is_anonymous();
                    appeal.no_return_address = appeal.reporter.has_no_return_address();
                }
                if subject.is_some() {
                    appeal.subject = appeal::clean(subject.clone());
                }
                if substance.is_some() {
                    appeal.substance = appeal::clean(substance.clone());
                }
            }
            Amendment::Corrected { fields, .. } => {
                if was_destroyed_in(tx, id).await? {
                    return Err(JournalError::NotAllowed(format!(
                        "appeal {} was destroyed under the records schedule: its details are not corrected",
                        before.registration_number
                    )));
                }
                let now = self.clock.now().trunc_subsecs(6);
                keep_earlier_values_in(tx, &before, fields, now).await?;
                fields.clone().apply_to(&mut appeal);
                appeal.anonymous = appeal.reporter.is_anonymous();
                appeal.no_return_address = appeal.reporter.has_no_return_address();
            }
            Amendment::Classify { category, .. } => appeal.category = *category,
            Amendment::Status { status, .. } => {
                // The lifecycle only moves forward, and a closed case stays
                // closed: whatever path asks (`cases` records the acts).
                if before.status == Status::Closed || status.stage() < before.status.stage() {
                    return Err(JournalError::NotAllowed(format!(
                        "status: appeal {} is {}; its status only moves forward, never to {status}",
                        before.registration_number, before.status
                    )));
                }
                appeal.status = *status
            }
            Amendment::Correspondence { .. } | Amendment::ScriptConfirmed { .. } => {}
            Amendment::Destroyed { .. } => {
                if !appeal.status.ends_the_case() {
                    return Err(JournalError::NotAllowed(format!(
                        "appeal {} is {}: only an appeal whose case has ended is destroyed",
                        before.registration_number, before.status
                    )));
                }
                // The flags (anonymous, no return address) describe the appeal,
                // not the reporter: they stay, as in `Appeal::redacted`.
                appeal.reporter = Reporter::default();
                appeal.subject = None;
                appeal.substance = None;
                delete_earlier_values_in(tx, id).await?;
            }
        }
        let now = self.clock.now().trunc_subsecs(6);
        let r = &appeal.reporter;
        on_tx!(tx, conn => sqlx::query(
            "UPDATE appeals SET reporter_name = $1, reporter_organisation = $2, reporter_postal_address = $3, \
             reporter_phone = $4, reporter_email = $5, anonymous = $6, no_return_address = $7, subject = $8, \
             substance = $9, category = $10, status = $11, updated_at = $12 WHERE id = $13",
        )
        .bind(&r.name)
        .bind(&r.organisation)
        .bind(&r.postal_address)
        .bind(&r.phone)
        .bind(&r.email)
        .bind(appeal.anonymous)
        .bind(appeal.no_return_address)
        .bind(&appeal.subject)
        .bind(&appeal.substance)
        .bind(appeal.category.as_str())
        .bind(appeal.status.as_str())
        .bind(now)
        .bind(id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
        let appeal = self.get_in(tx, id).await?;
        let mut detail = amendment.audit_detail(&before, &appeal);
        match &amendment {
            // A person's words: kept apart, the chain names them by hash.
            Amendment::Classify { .. } | Amendment::Corrected { .. } => {
                reasons::take_from(tx, &self.sealer, id, &mut detail).await?
            }
            Amendment::Destroyed { .. } => {
                let deleted = reasons::delete_in(tx, id).await?;
                if deleted > 0 {
                    erased_too(&mut detail, "reasons");
                }
            }
            _ => {}
        }
        audit::append(tx, head, &appeal, now, actor, amendment.kind(), &detail).await?;
        Ok(appeal)
    }

    /// Details written to a sealed appeal: a new envelope with the fields given,
    /// the flags and the words found updated from what was given (intake cannot
    /// read the earlier envelopes), an event naming the fields and the envelope.
    async fn amend_sealed_details(
        &self,
        tx: &mut Tx,
        head: &mut audit::Head,
        before: Appeal,
        fields: sealed::Confidential,
        actor: &str,
        correction: Option<&String>,
    ) -> Result<Appeal> {
        if was_destroyed_in(tx, before.id).await? {
            return Err(JournalError::NotAllowed(format!(
                "appeal {} was destroyed under the records schedule: its details are not recorded again",
                before.registration_number
            )));
        }
        let now = self.clock.now().trunc_subsecs(6);
        let envelope = sealed::seal(&self.sealer, &fields)?;
        sealed::insert_envelope(tx, before.id.0, &fields, &envelope, false).await?;
        let digest = sealed::next_digest(before.sealed.as_deref(), &envelope);
        let mut terms = before.terms.clone();
        terms.extend(self.terms_in(&fields.text()));
        terms.sort();
        terms.dedup();
        let terms_json = terms_column(&terms);
        let email_tag = fields.email.as_deref().and_then(|e| self.email_tag(e));
        on_tx!(tx, conn => sqlx::query(
            "UPDATE appeals SET anonymous = $1, no_return_address = $2, sealed_digest = $3, \
             reporter_email_tag = COALESCE($4, reporter_email_tag), intake_terms = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(before.anonymous && !fields.names_reporter())
        .bind(before.no_return_address && !fields.gives_return_address())
        .bind(&digest)
        .bind(&email_tag)
        .bind(&terms_json)
        .bind(now)
        .bind(before.id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
        let appeal = self.get_in(tx, before.id).await?;
        // A correction's earlier values stay in the earlier envelopes, which
        // are kept: each write adds one.
        let (kind, mut detail) = match correction {
            None => (
                "details_recorded",
                serde_json::json!({
                    "changed": fields.written(),
                    "envelope": envelope.digest(),
                }),
            ),
            Some(reason) => (
                CORRECTED,
                serde_json::json!({
                    "corrected": fields.written(),
                    "reason": reason,
                    "envelope": envelope.digest(),
                }),
            ),
        };
        reasons::take_from(tx, &self.sealer, before.id, &mut detail).await?;
        audit::append(tx, head, &appeal, now, actor, kind, &detail).await?;
        Ok(appeal)
    }

    /// A sealed appeal destroyed: its envelopes deleted, the words found erased.
    async fn destroy_sealed(
        &self,
        tx: &mut Tx,
        head: &mut audit::Head,
        before: Appeal,
        amendment: &Amendment,
        actor: &str,
    ) -> Result<Appeal> {
        if !before.status.ends_the_case() {
            return Err(JournalError::NotAllowed(format!(
                "appeal {} is {}: only an appeal whose case has ended is destroyed",
                before.registration_number, before.status
            )));
        }
        let Amendment::Destroyed { reason, elsewhere } = amendment else {
            return Err(JournalError::Corrupt("not a destruction".into()));
        };
        let mut erased = sealed::fields_in(tx, before.id.0).await?;
        sealed::delete_envelopes(tx, before.id.0).await?;
        if reasons::delete_in(tx, before.id).await? > 0 {
            erased.push("reasons".into());
        }
        let now = self.clock.now().trunc_subsecs(6);
        on_tx!(tx, conn => sqlx::query(
            "UPDATE appeals SET sealed_digest = NULL, reporter_email_tag = NULL, intake_terms = NULL, \
             updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(before.id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
        let appeal = self.get_in(tx, before.id).await?;
        let detail =
            serde_json::json!({ "reason": reason, "erased": erased, "elsewhere": elsewhere });
        audit::append(tx, head, &appeal, now, actor, DESTROYED, &detail).await?;
        Ok(appeal)
    }

    /// `appeal` with its identity and text, opened with a person's key (a plain
    /// appeal is returned as it is). The caller records the disclosure.
    pub async fn open(&self, appeal: Appeal, unlocked: &Unlocked) -> Result<Appeal> {
        if appeal.sealed.is_none() {
            return Ok(appeal);
        }
        let envelopes = sealed::envelopes(&self.db, appeal.id.0).await?;
        sealed::open_into(appeal, &envelopes, unlocked)
    }

    /// Appeal `id`'s free-text reasons, for putting back into its events'
    /// details (`reasons::Reasons::shown`): plain ones as they are, sealed
    /// ones opened with `unlocked` (a person's key; without one, `Sealed`).
    /// The caller records the disclosure when it uses a key.
    pub async fn reasons(
        &self,
        id: AppealId,
        unlocked: Option<&Unlocked>,
    ) -> Result<reasons::Reasons> {
        let mut tx = self.db.begin().await?;
        let reasons = reasons::read_in(&mut tx, id, unlocked).await?;
        tx.rollback().await?;
        Ok(reasons)
    }

    /// Seals every plain appeal in place (`senim keys init`), in the caller's
    /// transaction, after the sealer took the new key (`Sealer::use_recipients`):
    /// each gets one envelope of what its row held, its row loses identity and
    /// text, and a `sealed` event records the new state, so `verify` stays green.
    pub async fn seal_existing_in(&self, tx: &mut Tx, actor: &str) -> Result<u64> {
        let Some(generation) = self.sealer.current_generation() else {
            return Err(JournalError::Corrupt("no office key to seal to".into()));
        };
        let mut chain = self.lock_chain(tx).await?;
        let sql =
            format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE sealed_digest IS NULL ORDER BY id");
        let rows: Vec<AppealRow> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
        let now = self.clock.now().trunc_subsecs(6);
        let mut sealed_count = 0;
        for row in rows {
            let plain = Appeal::try_from(row)?;
            if was_destroyed_in(tx, plain.id).await? {
                continue;
            }
            // The earlier values of its corrections first, oldest first, so
            // the record stays; then the current values, every field written
            // when there are earlier ones (a value corrected away stays away).
            let earlier = earlier_values_in(tx, plain.id).await?;
            let fields = if earlier.is_empty() {
                sealed::Confidential::of(
                    Some(&plain.reporter),
                    plain.subject.as_ref(),
                    plain.substance.as_ref(),
                )
            } else {
                sealed::Confidential::every_field_of(&plain)
            };
            let mut digest: Option<String> = None;
            for values in &earlier {
                let envelope = sealed::seal(&self.sealer, values)?;
                sealed::insert_envelope(tx, plain.id.0, values, &envelope, digest.is_none())
                    .await?;
                digest = Some(sealed::next_digest(digest.as_deref(), &envelope));
            }
            delete_earlier_values_in(tx, plain.id).await?;
            let envelope = sealed::seal(&self.sealer, &fields)?;
            sealed::insert_envelope(tx, plain.id.0, &fields, &envelope, digest.is_none()).await?;
            let digest = sealed::next_digest(digest.as_deref(), &envelope);
            let terms = self.terms_in(&plain.text());
            let terms_json = terms_column(&terms);
            let email_tag = plain
                .reporter
                .email
                .as_deref()
                .and_then(|e| self.email_tag(e));
            on_tx!(tx, conn => sqlx::query(
                "UPDATE appeals SET reporter_name = NULL, reporter_organisation = NULL, \
                 reporter_postal_address = NULL, reporter_phone = NULL, reporter_email = NULL, \
                 subject = NULL, substance = NULL, sealed_digest = $1, reporter_email_tag = $2, \
                 intake_terms = $3 WHERE id = $4",
            )
            .bind(&digest)
            .bind(&email_tag)
            .bind(&terms_json)
            .bind(plain.id.0)
            .execute(conn)
            .await
            .map(|_| ()))?;
            let kept = reasons::seal_existing_in(tx, &self.sealer, plain.id).await?;
            let appeal = self.get_in(tx, plain.id).await?;
            let mut detail = serde_json::json!({
                "sealed": fields.written(),
                "envelope": envelope.digest(),
                "generation": generation,
                "earlier": earlier.len(),
            });
            if !kept.is_empty() {
                detail["reasons"] = serde_json::json!(kept);
            }
            audit::append(tx, &mut chain.head, &appeal, now, actor, SEALED, &detail).await?;
            sealed_count += 1;
        }
        audit::store_seal_generation(tx, generation).await?;
        chain.finish(tx).await?;
        Ok(sealed_count)
    }

    /// Reseals every envelope to a new generation of the office key (`senim keys
    /// rotate`, `remove-reader`), in the rotation's transaction: each appeal's
    /// digest changes, so each gets a `resealed` event.
    pub async fn reseal_in(
        &self,
        tx: &mut Tx,
        rotation: &crate::sealing::keys::Rotation,
        unlocked: &Unlocked,
        actor: &str,
    ) -> Result<u64> {
        let mut chain = self.lock_chain(tx).await?;
        let ids: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT id FROM appeals WHERE sealed_digest IS NOT NULL ORDER BY id",
        )
        .fetch_all(conn)
        .await)?;
        let now = self.clock.now().trunc_subsecs(6);
        let generation = rotation.recipients.generation;
        for &id in &ids {
            let mut digest: Option<String> = None;
            for (seq, _, _, bytes) in sealed::envelopes_in(tx, id).await? {
                let resealed = rotation.reseal(unlocked, &bytes)?;
                on_tx!(tx, conn => sqlx::query(
                    "UPDATE appeal_envelopes SET generation = $1, envelope = $2 WHERE appeal_id = $3 AND seq = $4",
                )
                .bind(generation)
                .bind(&resealed.bytes)
                .bind(id)
                .bind(seq)
                .execute(conn)
                .await
                .map(|_| ()))?;
                digest = Some(sealed::next_digest(digest.as_deref(), &resealed));
            }
            on_tx!(tx, conn => sqlx::query("UPDATE appeals SET sealed_digest = $1 WHERE id = $2")
                .bind(&digest)
                .bind(id)
                .execute(conn)
                .await
                .map(|_| ()))?;
            let kept = reasons::reseal_in(tx, rotation, unlocked, AppealId(id)).await?;
            let appeal = self.get_in(tx, AppealId(id)).await?;
            let mut detail = serde_json::json!({ "generation": generation });
            if !kept.is_empty() {
                detail["reasons"] = serde_json::json!(kept);
            }
            audit::append(tx, &mut chain.head, &appeal, now, actor, RESEALED, &detail).await?;
        }
        audit::store_seal_generation(tx, generation).await?;
        chain.finish(tx).await?;
        Ok(ids.len() as u64)
    }

    /// Records in the audit log that `actor` was shown the identity and text of
    /// each appeal in `ids`, and why (`purpose`: `show`, `list`, `export`,
    /// `materials`), in one transaction: every disclosure is an event of the chain
    /// (10.5, 10.14).
    pub async fn record_disclosure(
        &self,
        ids: &[AppealId],
        actor: &str,
        purpose: &str,
    ) -> Result<()> {
        let detail = serde_json::json!({ "purpose": purpose });
        self.record_read(ids, actor, DISCLOSED, &detail).await?;
        tracing::info!(appeals = ids.len(), actor, purpose, "identity disclosed");
        Ok(())
    }

    /// Records in the audit log that `actor` exported each appeal in `ids`
    /// without identity or text (`journal export`): every export is in the chain.
    pub async fn record_export(&self, ids: &[AppealId], actor: &str) -> Result<()> {
        let detail = serde_json::json!({ "identity": false });
        self.record_read(ids, actor, EXPORTED, &detail).await?;
        tracing::info!(
            appeals = ids.len(),
            actor,
            "appeals exported without identity"
        );
        Ok(())
    }

    /// Records that `actor` (the Director) read the alert `mail` (an outbox id)
    /// about appeal `id`: 10.6's notification gets a receipt, not only an SMTP 250.
    pub async fn record_alert_read(&self, id: AppealId, actor: &str, mail: i64) -> Result<()> {
        let detail = serde_json::json!({ "mail": mail });
        self.record_read(&[id], actor, ALERT_READ, &detail).await?;
        tracing::info!(appeal_id = %id, actor, mail, "alert read");
        Ok(())
    }

    /// One `kind` event per appeal in `ids`, in one transaction.
    async fn record_read(
        &self,
        ids: &[AppealId],
        actor: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let mut chain = self.lock_chain(&mut tx).await?;
        let now = self.clock.now().trunc_subsecs(6);
        for &id in ids {
            let appeal = self.get_in(&mut tx, id).await?;
            audit::append(&mut tx, &mut chain.head, &appeal, now, actor, kind, detail).await?;
        }
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every appeal whose case has ended (`Status::ends_the_case`: forwarded,
    /// not considered, decided, replied or closed), oldest first, with when it
    /// ended (its last `status_changed` event; registered so: its registration)
    /// and whether it stands destroyed (its last event, disclosures aside, is
    /// `destroyed`): what the retention schedule (`retention`) works from. No
    /// identity, no text.
    pub async fn ended_appeals(&self) -> Result<Vec<EndedAppeal>> {
        type Row = (
            i64,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<String>,
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT a.id, a.registration_number, a.category, a.registered_at, \
             (SELECT MAX(e.at) FROM appeal_events e WHERE e.appeal_id = a.id AND e.kind = 'status_changed'), \
             (SELECT e.kind FROM appeal_events e WHERE e.appeal_id = a.id AND e.kind <> $1 \
              ORDER BY e.seq DESC LIMIT 1) \
             FROM appeals a WHERE a.status IN ($2, $3, $4, $5, $6) ORDER BY a.id",
        )
        .bind(DISCLOSED)
        .bind(Status::Forwarded.as_str())
        .bind(Status::NotConsidered.as_str())
        .bind(Status::Decided.as_str())
        .bind(Status::Replied.as_str())
        .bind(Status::Closed.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(id, number, category, registered_at, ended_at, last)| {
                let corrupt = |e: String| JournalError::Corrupt(format!("appeal {id}: {e}"));
                Ok(EndedAppeal {
                    id: AppealId(id),
                    registration_number: number.parse().map_err(corrupt)?,
                    category: category.parse().map_err(corrupt)?,
                    ended_at: ended_at.unwrap_or(registered_at),
                    destroyed: last.as_deref() == Some(DESTROYED),
                })
            })
            .collect()
    }

    /// The audit events of one appeal, oldest first.
    pub async fn history(&self, id: AppealId) -> Result<Vec<audit::EventRow>> {
        let sql = format!(
            "SELECT {} FROM appeal_events WHERE appeal_id = $1 ORDER BY seq",
            audit::EVENT_COLUMNS
        );
        Ok(on_db!(&self.db, pool => sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_all(pool)
        .await)?)
    }

    /// The `kind` events of the appeals in `ids`, oldest first: one read for a
    /// page that shows, say, which alerts were read.
    pub async fn events_of_kind(
        &self,
        kind: &str,
        ids: &[AppealId],
    ) -> Result<Vec<audit::EventRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<audit::EventRow> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM appeal_events WHERE kind = ",
                audit::EVENT_COLUMNS
            ));
            q.push_bind(kind).push(" AND appeal_id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.0);
            }
            q.push(") ORDER BY seq");
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Checks the whole audit chain and every appeal against it, with the keys
    /// the installation holds.
    pub async fn verify(&self) -> Result<VerifyReport> {
        Ok(self.verify_reading(None, None).await?.0)
    }

    /// `verify`, with the events it read.
    async fn verify_reading(
        &self,
        auditor: Option<&[PublicKey]>,
        heads: Option<&[audit::SignedHead]>,
    ) -> Result<(VerifyReport, Vec<audit::EventRow>)> {
        // One read transaction, so the chain, the head and the rows agree.
        let mut tx = self.db.begin().await?;
        let (stored, events, appeals) = self.read_chain(&mut tx).await?;
        let envelopes = sealed::all_digests_in(&mut tx).await?;
        let reason_findings = reasons::check(&mut tx, &events).await?;
        tx.rollback().await?;
        // An auditor checks with public keys alone, never the chain key.
        let (key, public_keys) = match auditor {
            Some(keys) => (None, keys),
            None => (self.chain_key.as_deref(), self.head_keys.as_slice()),
        };
        let keyed_before_switch = stored.head.public_from.unwrap_or(i64::MAX) > 1;
        if stored.keyed && keyed_before_switch && key.is_none() && public_keys.is_empty() {
            return Err(JournalError::ChainKey(NEEDS_KEY.into()));
        }
        if stored.head.public_from.is_some() && public_keys.is_empty() {
            return Err(JournalError::ChainKey(NEEDS_PUBLIC_KEY.into()));
        }
        let checker = audit::Checker { key, public_keys };
        let mut report = audit::verify(&events, &stored, checker, &appeals);
        report
            .findings
            .extend(sealed::check_digests(&appeals, &envelopes));
        if let Some(heads) = heads {
            if public_keys.is_empty() {
                return Err(JournalError::ChainKey(
                    "checking published heads needs the signing key's public half: \
                     journal.signing_key_file, journal.chain_key_file or --public-key"
                        .into(),
                ));
            }
            report.findings.extend(audit::check_heads(
                heads,
                &events,
                &stored.head,
                public_keys,
            ));
        }
        report.findings.extend(reason_findings);
        Ok((report, events))
    }

    /// `verify`, and each published head checked against the chain: signed by
    /// this installation's key, passed through by the chain as stored, and not
    /// ahead of the stored head.
    pub async fn verify_with_heads(&self, heads: &[audit::SignedHead]) -> Result<VerifyReport> {
        Ok(self.verify_reading(None, Some(heads)).await?.0)
    }

    /// The auditor's `verify`: with the public keys `keys` alone (no chain key,
    /// no signing key), and the published `heads` if any. Keyed events from
    /// before the switch point are checked by their links only
    /// (`VerifyReport::linked_only`).
    pub async fn verify_public(
        &self,
        keys: &[PublicKey],
        heads: Option<&[audit::SignedHead]>,
    ) -> Result<VerifyReport> {
        Ok(self.verify_reading(Some(keys), heads).await?.0)
    }

    /// The public key published heads and the head are signed with (the
    /// signing key's); `needed_by` says what asked, in the error.
    pub fn head_public_key(&self, needed_by: &str) -> Result<String> {
        self.public_key()
            .map(|k| k.as_hex().to_owned())
            .ok_or_else(|| {
                JournalError::ChainKey(format!(
                    "{needed_by} needs journal.signing_key_file (or journal.chain_key_file, \
                     from which it is derived)"
                ))
            })
    }

    /// The chain's head now, signed for publication (needs the signing key).
    pub async fn signed_head(&self) -> Result<audit::SignedHead> {
        let authority = self.authority.clone().ok_or_else(|| {
            JournalError::ChainKey(
                "publishing the head needs journal.signing_key_file (or journal.chain_key_file)"
                    .into(),
            )
        })?;
        let mut tx = self.db.begin().await?;
        let chain = self.lock_chain(&mut tx).await?;
        let (seq, hash) = (chain.head.seq, chain.head.hash.clone());
        drop(chain);
        tx.rollback().await?;
        let now = self.clock.now().trunc_subsecs(6);
        Ok(audit::SignedHead::sign(&authority, seq, &hash, now))
    }

    /// Keys an unkeyed chain with the configured key, once: the chain must verify
    /// first; then every event's hash is recomputed under the key and the chain
    /// marked keyed, in one transaction; then, with a signing key, the chain
    /// turns public and its head is signed (`prepare_chain`). Returns the number
    /// of events keyed.
    pub async fn key_chain(&self) -> Result<u64> {
        let key = self
            .chain_key
            .clone()
            .ok_or_else(|| JournalError::ChainKey("set journal.chain_key_file first".into()))?;
        let mut tx = self.db.begin().await?;
        let (stored, events, appeals) = self.read_chain(&mut tx).await?;
        if stored.keyed {
            return Err(JournalError::ChainKey(
                "the audit chain is keyed already".into(),
            ));
        }
        if stored.head.public_from.is_some() {
            return Err(JournalError::ChainKey(
                "the audit chain is public (hashed with SHA-256, its head signed): \
                 nothing to key"
                    .into(),
            ));
        }
        let checker = audit::Checker {
            key: None,
            public_keys: &[],
        };
        let report = audit::verify(&events, &stored, checker, &appeals);
        if !report.is_intact() {
            return Err(JournalError::ChainKey(format!(
                "the chain does not verify ({} finding(s)): key it only once `senim journal verify` is clean",
                report.findings.len()
            )));
        }
        let backend = self.db.backend();
        for sql in append_only_guard(backend, false) {
            on_tx!(&mut tx, conn => sqlx::query(sql).execute(conn).await.map(|_| ()))?;
        }
        let mut prev = audit::GENESIS.to_owned();
        for e in &events {
            let hash = e.hash_after(Some(&key), &prev);
            on_tx!(&mut tx, conn => sqlx::query(
                "UPDATE appeal_events SET prev_hash = $1, hash = $2 WHERE seq = $3",
            )
            .bind(&prev)
            .bind(&hash)
            .bind(e.seq)
            .execute(conn)
            .await
            .map(|_| ()))?;
            prev = hash;
        }
        on_tx!(&mut tx, conn => sqlx::query("UPDATE audit_head SET hash = $1, keyed = TRUE WHERE id = 1")
            .bind(&prev)
            .execute(conn)
            .await
            .map(|_| ()))?;
        for sql in append_only_guard(backend, true) {
            on_tx!(&mut tx, conn => sqlx::query(sql).execute(conn).await.map(|_| ()))?;
        }
        tx.commit().await?;
        tracing::info!(events = events.len(), "audit chain keyed");
        // With a signing key, the chain turns public from its next event now.
        self.prepare_chain().await?;
        Ok(events.len() as u64)
    }

    /// The head (locked), whether the chain is keyed, every event and every appeal,
    /// read in `tx` so that they agree.
    async fn read_chain(
        &self,
        tx: &mut Tx,
    ) -> Result<(audit::StoredHead, Vec<audit::EventRow>, Vec<Appeal>)> {
        let stored = audit::lock_head(tx, self.chain_key.clone()).await?;
        let sql = format!(
            "SELECT {} FROM appeal_events ORDER BY seq",
            audit::EVENT_COLUMNS
        );
        let events: Vec<audit::EventRow> =
            on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals ORDER BY id");
        let rows: Vec<AppealRow> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
        let appeals = rows
            .into_iter()
            .map(Appeal::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok((stored, events, appeals))
    }

    /// The number of appeals registered per registration date in a range (the
    /// summaries' counts by channel, category and status: `tally`).
    pub async fn count_by_day(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64)>> {
        let rows = on_db!(&self.db, pool => sqlx::query(
            "SELECT registration_date, COUNT(*) AS n FROM appeals \
             WHERE registration_date >= $1 AND registration_date <= $2 \
             GROUP BY registration_date ORDER BY registration_date",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()))?;
        Ok(rows)
    }
}

/// A new appeal's identity and text sealed before its registration.
#[derive(Clone, Debug)]
pub(crate) struct Presealed {
    fields: sealed::Confidential,
    envelope: crate::sealing::Sealed,
}

/// `appeals.intake_terms` as stored: a JSON list, or NULL for none.
fn terms_column(terms: &[String]) -> Option<String> {
    (!terms.is_empty()).then(|| serde_json::to_string(terms).unwrap_or_default())
}

fn key_text(key: &AppealKey) -> String {
    match key {
        AppealKey::Id(id) => id.to_string(),
        AppealKey::Number(number) => number.to_string(),
    }
}

/// The audit chain held for a run of Journal writes in one transaction (a batch
/// of mail, a group commit): its head is locked and read once, and written back
/// once by `finish`, instead of once per write. `finish` must run before the
/// transaction commits, or the next write would not extend the chain.
#[must_use = "finish() writes the chain's head back before the commit"]
pub struct ChainLock<'j> {
    journal: &'j Journal,
    head: audit::Head,
    /// Whether the events before the switch point are keyed (signed with the head).
    keyed: bool,
}

impl ChainLock<'_> {
    /// `Journal::register_in`, under this lock.
    pub async fn register(&mut self, tx: &mut Tx, new: NewAppeal) -> Result<Registration> {
        self.journal
            .register_locked(tx, &mut self.head, new, None)
            .await
    }

    /// `register`, with the envelope sealed ahead (`Journal::preseal`).
    async fn register_presealed(
        &mut self,
        tx: &mut Tx,
        new: NewAppeal,
        presealed: Option<Presealed>,
    ) -> Result<Registration> {
        self.journal
            .register_locked(tx, &mut self.head, new, presealed)
            .await
    }

    /// `Journal::amend_in`, under this lock.
    pub async fn amend(
        &mut self,
        tx: &mut Tx,
        id: AppealId,
        amendment: Amendment,
        actor: &str,
    ) -> Result<Appeal> {
        self.journal
            .amend_locked(tx, &mut self.head, id, amendment, actor)
            .await
    }

    /// Appends a `kind` event with `detail` to `appeal`'s history without
    /// changing the appeal: what was decided or done on it (a consent, an order,
    /// a deadline event, a routing; `cases`). `detail` is kept in the chain for
    /// good, so it never holds identity or appeal text; its free-text `reason`
    /// is kept apart (`reasons`), the event naming it by its hash.
    pub async fn record(
        &mut self,
        tx: &mut Tx,
        appeal: &Appeal,
        actor: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let now = self.journal.clock.now().trunc_subsecs(6);
        let mut detail = detail.clone();
        reasons::take_from(tx, &self.journal.sealer, appeal.id, &mut detail).await?;
        audit::append(tx, &mut self.head, appeal, now, actor, kind, &detail).await?;
        Ok(())
    }

    /// Writes the chain's head back, signed once for the whole run of writes.
    pub async fn finish(self, tx: &mut Tx) -> Result<()> {
        let signature = self
            .journal
            .authority
            .as_deref()
            .map(|a| audit::sign_head(a, &self.head, self.keyed));
        audit::store_head(tx, &self.head, signature.as_deref()).await?;
        if let Some(signature) = &signature {
            let parts = audit::StoredHead {
                head: self.head.clone(),
                keyed: self.keyed,
                generation: 0,
                signature: None,
            }
            .signed_parts();
            *self
                .journal
                .signed
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(signed_text(&parts, Some(signature)));
        }
        Ok(())
    }
}

/// The public keys what the installation signed may be signed with: the
/// signing key's (`authority`), and the one derived from the chain key if the
/// signing key is another (it signed before `journal.signing_key_file` was set).
pub fn accepted_keys(
    authority: Option<&Authority>,
    chain_key: Option<&audit::ChainKey>,
) -> Vec<PublicKey> {
    let mut keys: Vec<PublicKey> = authority
        .map(|a| a.public_key().clone())
        .into_iter()
        .collect();
    if let (Some(_), Some(key)) = (authority, chain_key)
        && let Ok(derived) = key.derived_authority()
        && !keys.contains(derived.public_key())
    {
        keys.push(derived.public_key().clone());
    }
    keys
}

/// A head's signed parts and signature as one text (`Journal::signed`).
fn signed_text(parts: &[String], signature: Option<&str>) -> String {
    format!("{}\n{}", parts.join("\n"), signature.unwrap_or_default())
}

/// Adds `field` to the fields a `destroyed` event's detail names as erased.
fn erased_too(detail: &mut serde_json::Value, field: &str) {
    if let Some(erased) = detail.get_mut("erased").and_then(|e| e.as_array_mut()) {
        erased.push(field.into());
    } else {
        detail["erased"] = serde_json::json!([field]);
    }
}

/// Logs and counts a registration once its transaction has committed. `register`
/// does this itself; a caller of `register_in` calls it after its own commit.
pub fn registered(registration: &Registration) {
    if let Registration::New(appeal) = registration {
        metrics::counter!("senim_appeals_registered_total", "channel" => appeal.channel.as_str())
            .increment(1);
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            channel = %appeal.channel,
            "appeal registered"
        );
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

/// Keeps, before a correction of a plain appeal, the values `before` holds of the
/// fields `corrected` writes (blank ones as blank), as the law's record.
async fn keep_earlier_values_in(
    tx: &mut Tx,
    before: &Appeal,
    corrected: &sealed::Confidential,
    now: DateTime<Utc>,
) -> Result<()> {
    let earlier = sealed::Confidential::earlier_of(before, corrected);
    let json = serde_json::to_string(&earlier)
        .map_err(|e| JournalError::Corrupt(format!("cannot serialise earlier values: {e}")))?;
    let seq: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM appeal_earlier_values WHERE appeal_id = $1",
    )
    .bind(before.id.0)
    .fetch_one(conn)
    .await)?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO appeal_earlier_values (appeal_id, seq, corrected_at, fields, earlier) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(before.id.0)
    .bind(seq)
    .bind(now)
    .bind(earlier.written().join(","))
    .bind(&json)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The earlier values a plain appeal's corrections kept, oldest first.
async fn earlier_values_in(tx: &mut Tx, id: AppealId) -> Result<Vec<sealed::Confidential>> {
    let rows: Vec<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT seq, earlier FROM appeal_earlier_values WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await)?;
    rows.into_iter()
        .map(|(seq, json)| {
            serde_json::from_str(&json).map_err(|e| {
                JournalError::Corrupt(format!("appeal {id} earlier values {seq}: {e}"))
            })
        })
        .collect()
}

/// Deletes a plain appeal's earlier values (destroyed, or sealed into envelopes).
async fn delete_earlier_values_in(tx: &mut Tx, id: AppealId) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM appeal_earlier_values WHERE appeal_id = $1")
        .bind(id.0)
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether an appeal was ever destroyed under the records schedule.
async fn was_destroyed_in(tx: &mut Tx, id: AppealId) -> Result<bool> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT seq FROM appeal_events WHERE appeal_id = $1 AND kind = $2 LIMIT 1",
    )
    .bind(id.0)
    .bind(DESTROYED)
    .fetch_optional(conn)
    .await)?;
    Ok(found.is_some())
}

/// The id of the appeal any of `refs` was registered as (one query for all).
async fn find_source_in(tx: &mut Tx, refs: &[SourceRef]) -> Result<Option<AppealId>> {
    if refs.is_empty() {
        return Ok(None);
    }
    let id: Option<i64> = on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("SELECT appeal_id FROM appeal_sources WHERE ");
        for (i, r) in refs.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(kind = ").push_bind(&r.kind).push(" AND key = ").push_bind(&r.key).push(")");
        }
        q.push(" LIMIT 1");
        q.build_query_scalar().fetch_optional(conn).await
    })?;
    Ok(id.map(AppealId))
}

/// Records `refs` as references of an appeal (one statement for all); a reference
/// already recorded (for it or, in a race, another appeal) is left as it is.
async fn add_sources(tx: &mut Tx, id: AppealId, refs: &[SourceRef]) -> Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO appeal_sources (kind, key, appeal_id) ");
        q.push_values(refs, |mut row, r| {
            row.push_bind(&r.kind).push_bind(&r.key).push_bind(id.0);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(conn).await.map(|_| ())
    })?;
    Ok(())
}

/// An `appeals` row as stored; converted to `Appeal` with its names checked.
#[derive(sqlx::FromRow)]
struct AppealRow {
    id: i64,
    registration_number: String,
    received_at: DateTime<Utc>,
    registered_at: DateTime<Utc>,
    registration_date: NaiveDate,
    channel: String,
    reporter_name: Option<String>,
    reporter_organisation: Option<String>,
    reporter_postal_address: Option<String>,
    reporter_phone: Option<String>,
    reporter_email: Option<String>,
    anonymous: bool,
    no_return_address: bool,
    subject: Option<String>,
    substance: Option<String>,
    category: String,
    status: String,
    updated_at: DateTime<Utc>,
    sealed_digest: Option<String>,
    intake_terms: Option<String>,
}

impl TryFrom<AppealRow> for Appeal {
    type Error = JournalError;

    fn try_from(row: AppealRow) -> Result<Self> {
        let id = row.id;
        let corrupt = |e: String| JournalError::Corrupt(format!("appeal {id}: {e}"));
        Ok(Appeal {
            id: AppealId(row.id),
            registration_number: row.registration_number.parse().map_err(corrupt)?,
            received_at: row.received_at,
            registered_at: row.registered_at,
            registration_date: row.registration_date,
            channel: row.channel.parse().map_err(corrupt)?,
            reporter: Reporter {
                name: row.reporter_name,
                organisation: row.reporter_organisation,
                postal_address: row.reporter_postal_address,
                phone: row.reporter_phone,
                email: row.reporter_email,
            },
            anonymous: row.anonymous,
            no_return_address: row.no_return_address,
            subject: row.subject,
            substance: row.substance,
            category: row.category.parse().map_err(corrupt)?,
            status: row.status.parse().map_err(corrupt)?,
            updated_at: row.updated_at,
            sealed: row.sealed_digest,
            terms: match row.intake_terms.as_deref() {
                None | Some("") => Vec::new(),
                Some(json) => serde_json::from_str(json).map_err(|e| {
                    JournalError::Corrupt(format!("appeal {id}: intake_terms: {e}"))
                })?,
            },
        })
    }
}
