//! The keys that open what is sealed, and who holds them. Owns the tables
//! `sealing_keys` (the office key's generations), `person_keys` (each person's own
//! key, encrypted with their passphrase) and `key_grants` (the office key, encrypted
//! to a person's key).
//!
//! - A generation holds the office's public key, the escrow's public key, the
//!   office identity sealed to the escrow (so the escrow can open everything and
//!   grant readers anew), and the previous generation's office identity sealed to
//!   this one (so what was sealed before a rotation stays readable by who can read
//!   now, and by no one else).
//! - Unlocking (`Keys::unlock`) opens the person's key with their passphrase, then
//!   their grant of the current office key, then the generations before it.
//! - Removing a reader deletes their grants and rotates: the new office identity is
//!   granted to the readers who remain.
//! - Every row here carries the installation's signature (`signed.rs`): a
//!   generation is sealed to, and a person's key wrapped to, only once its row
//!   verifies; a row that does not is refused loudly, naming it
//!   (`SealError::Unverified`), and is a finding of `journal verify`
//!   (`Keys::verify_rows`). Rows from before signing are adopted deliberately
//!   (`Keys::unadopted`, `Keys::adopt`: `senim keys authenticate`).

use std::collections::BTreeMap;
use std::io::Write;
use std::iter;
use std::sync::Arc;

use age::secrecy::{ExposeSecret, SecretString};
use chrono::{DateTime, SubsecRound, Utc};

use super::signed::{GenerationRow, GrantRow, PersonKeyRow, Signed};
pub use super::unlocked::Unlocked;
use super::unlocked::{identity_bytes, open_secret, parse_identity, recipient, seal_to};
use super::{Recipients, Result, SealError, Sealed};
use crate::authority::{Authority, PublicKey};
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::rows_affected_in;
use crate::{on_db, on_tx};

/// The scrypt work factor (`N = 2^17`: 128 MiB and about half a second) a
/// person's key is protected with, and the most an unlock accepts: a key
/// asking for more is refused before any work, so no stored key can make the
/// daemon take more memory than that per derivation (`derivation::AT_ONCE` at
/// once).
pub const MAX_WORK_FACTOR: u8 = 17;

/// The most `senim keys passphrase` accepts to open a key it protects again at
/// `MAX_WORK_FACTOR` (keys made before the cap, calibrated to about a second:
/// up to 1 GiB); only on the command line, never in the daemon.
pub const REPROTECT_MAX_WORK_FACTOR: u8 = 20;

/// The office key's generations, persons' keys and grants, with the
/// installation's signing key that signs and checks their rows.
#[derive(Clone)]
pub struct Keys {
    db: Db,
    authority: Option<Arc<Authority>>,
}

/// A public key Senim may wrap to: a person's own key whose row verifies, or the
/// escrow of a generation that does. Made only here.
#[derive(Clone)]
pub struct TrustedKey(age::x25519::Recipient);

impl TrustedKey {
    pub(super) fn recipient(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl std::fmt::Display for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Recipients {
    /// The escrow's public key, from a verified generation.
    pub fn escrow_key(&self) -> TrustedKey {
        TrustedKey(self.escrow.clone())
    }
}

/// A row from before signing (or signed by another key), as `senim keys
/// authenticate` shows it before signing exactly what it showed.
#[derive(Clone)]
pub enum Unadopted {
    Generation(GenerationRow),
    PersonKey(PersonKeyRow),
    Grant(GrantRow),
}

impl Unadopted {
    /// Whether it carries a signature that does not verify (not merely none).
    pub fn is_signed(&self) -> bool {
        match self {
            Unadopted::Generation(r) => r.signature.is_some(),
            Unadopted::PersonKey(r) => r.signature.is_some(),
            Unadopted::Grant(r) => r.signature.is_some(),
        }
    }

    /// `journal verify`'s finding for the row, if it does not verify.
    pub fn finding(&self, public: &PublicKey) -> Option<String> {
        match self {
            Unadopted::Generation(r) => r.finding(public),
            Unadopted::PersonKey(r) => r.finding(public),
            Unadopted::Grant(r) => r.finding(public),
        }
    }
}

impl std::fmt::Display for Unadopted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unadopted::Generation(r) => write!(
                f,
                "sealing_keys generation {}: office key {}, escrow key {}",
                r.generation, r.office_recipient, r.escrow_recipient
            ),
            Unadopted::PersonKey(r) => {
                write!(f, "person_keys {}: public key {}", r.login, r.recipient)
            }
            Unadopted::Grant(r) => write!(
                f,
                "key_grants: generation {} granted to {}",
                r.generation, r.login
            ),
        }
    }
}

/// The loud refusal of a row that does not verify: logged (the table and its
/// key, never a secret) and returned.
fn unverified<R: Signed>(row: &R) -> SealError {
    tracing::error!(
        table = R::TABLE,
        row = row.key(),
        "a sealing key row is not signed by this installation's key: edited or planted \
         outside Senim; nothing is sealed or wrapped to it"
    );
    SealError::Unverified(format!(
        "{} {} is not signed by this installation's key (edited or planted outside Senim, or \
         from before signing: `senim keys authenticate`): nothing is sealed or wrapped to it",
        R::TABLE,
        row.key()
    ))
}

/// What `senim keys init` made: the first generation, and the escrow identity to
/// print once (it is stored nowhere).
pub struct Initialised {
    pub generation: i64,
    pub escrow_identity: SecretString,
    pub escrow_recipient: String,
}

/// A person's key as stored.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PersonKey {
    pub login: String,
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    /// The office key generations granted to them.
    pub granted: Vec<i64>,
}

/// The escrow identity as the Director's safe keeps it (`AGE-SECRET-KEY-1…`).
pub fn parse_escrow(text: &str) -> Result<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| {
            SealError::Keys("the escrow key file holds no AGE-SECRET-KEY-1… line".into())
        })
}

impl Keys {
    pub fn new(db: Db, authority: Option<Arc<Authority>>) -> Keys {
        Keys { db, authority }
    }

    /// The signing key, which every row written here needs.
    fn authority(&self) -> Result<&Authority> {
        self.authority.as_deref().ok_or_else(|| {
            SealError::Keys(
                "the sealing keys are signed by the installation's key: set journal.signing_key_file \
                 (or journal.chain_key_file, which sealing needs anyway)"
                    .into(),
            )
        })
    }

    /// The public key rows are checked with.
    fn public(&self) -> Result<&PublicKey> {
        Ok(self.authority()?.public_key())
    }

    /// `row` if its signature verifies; the loud refusal otherwise.
    fn verified<R: Signed>(&self, row: R) -> Result<R> {
        if row.verifies(self.public()?) {
            Ok(row)
        } else {
            Err(unverified(&row))
        }
    }

    async fn generations(&self) -> Result<Vec<GenerationRow>> {
        Ok(on_db!(&self.db, pool => sqlx::query_as::<_, GenerationRow>(
            "SELECT generation, office_recipient, escrow_recipient, escrowed_identity, previous_identity, \
             signature FROM sealing_keys ORDER BY generation",
        )
        .fetch_all(pool)
        .await)?)
    }

    /// The current generation's public keys, if `keys init` was run; refused
    /// (`SealError::Unverified`, logged) if its row does not verify.
    pub async fn current(&self) -> Result<Option<Recipients>> {
        let Some(row) = self.generations().await?.pop() else {
            return Ok(None);
        };
        self.recipients_of(row).map(Some)
    }

    fn recipients_of(&self, row: GenerationRow) -> Result<Recipients> {
        let row = self.verified(row)?;
        Ok(Recipients {
            generation: row.generation,
            office: recipient(&row.office_recipient)?,
            escrow: recipient(&row.escrow_recipient)?,
        })
    }

    /// Creates the first generation of the office key and the escrow key, in `tx`
    /// (the caller seals the existing Journal in the same transaction). Refused if a
    /// generation exists.
    pub async fn init_in(
        &self,
        tx: &mut Tx,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Initialised> {
        self.authority()?;
        let exists: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT COUNT(*) FROM sealing_keys")
            .fetch_one(conn)
            .await)?;
        if exists > 0 {
            return Err(SealError::Keys(
                "the office key exists already: `senim keys rotate` makes a new one".into(),
            ));
        }
        let office = age::x25519::Identity::generate();
        let escrow = age::x25519::Identity::generate();
        let escrowed = seal_to(&[&escrow.to_public()], &identity_bytes(&office))?;
        self.insert_generation(
            tx,
            GenerationRow {
                generation: 1,
                office_recipient: office.to_public().to_string(),
                escrow_recipient: escrow.to_public().to_string(),
                escrowed_identity: escrowed,
                previous_identity: None,
                signature: None,
            },
            actor,
            now,
        )
        .await?;
        Ok(Initialised {
            generation: 1,
            escrow_recipient: escrow.to_public().to_string(),
            escrow_identity: escrow.to_string(),
        })
    }

    /// The current generation's public keys in `tx` (a new generation before it
    /// is committed, in `init`'s transaction; another process's rotation),
    /// refused if its row does not verify.
    pub async fn current_in(&self, tx: &mut Tx) -> Result<Option<Recipients>> {
        let row: Option<GenerationRow> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT generation, office_recipient, escrow_recipient, escrowed_identity, previous_identity, \
             signature FROM sealing_keys ORDER BY generation DESC LIMIT 1",
        )
        .fetch_optional(conn)
        .await)?;
        row.map(|row| self.recipients_of(row)).transpose()
    }

    /// `login`'s own key in `tx`, refused unless its row verifies; `None` if
    /// they have none.
    async fn person_key_in(&self, tx: &mut Tx, login: &str) -> Result<Option<TrustedKey>> {
        let row: Option<PersonKeyRow> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT login, recipient, identity, signature FROM person_keys WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(conn)
        .await)?;
        row.map(|row| Ok(TrustedKey(recipient(&self.verified(row)?.recipient)?)))
            .transpose()
    }

    /// Writes a person's key row, signed.
    async fn write_person_key(
        &self,
        tx: &mut Tx,
        mut row: PersonKeyRow,
        now: DateTime<Utc>,
    ) -> Result<()> {
        row.signature = Some(row.sign(self.authority()?));
        execute_in!(
            tx,
            sqlx::query(
                "INSERT INTO person_keys (login, recipient, identity, created_at, signature) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (login) DO UPDATE SET recipient = excluded.recipient, \
             identity = excluded.identity, signature = excluded.signature",
            )
            .bind(&row.login)
            .bind(&row.recipient)
            .bind(&row.identity)
            .bind(now.trunc_subsecs(6))
            .bind(&row.signature)
        )?;
        Ok(())
    }

    /// Writes a grant row, signed.
    async fn write_grant(
        &self,
        tx: &mut Tx,
        mut row: GrantRow,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        row.signature = Some(row.sign(self.authority()?));
        execute_in!(tx, sqlx::query(
            "INSERT INTO key_grants (generation, login, office_identity, granted_at, granted_by, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (generation, login) DO UPDATE SET office_identity = excluded.office_identity, \
             granted_at = excluded.granted_at, granted_by = excluded.granted_by, \
             signature = excluded.signature",
        )
        .bind(row.generation)
        .bind(&row.login)
        .bind(&row.office_identity)
        .bind(now.trunc_subsecs(6))
        .bind(actor)
        .bind(&row.signature))?;
        Ok(())
    }

    /// Writes a generation row, signed.
    async fn insert_generation(
        &self,
        tx: &mut Tx,
        mut row: GenerationRow,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        row.signature = Some(row.sign(self.authority()?));
        execute_in!(tx, sqlx::query(
            "INSERT INTO sealing_keys (generation, office_recipient, escrow_recipient, escrowed_identity, \
             previous_identity, created_at, created_by, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.generation)
        .bind(&row.office_recipient)
        .bind(&row.escrow_recipient)
        .bind(&row.escrowed_identity)
        .bind(&row.previous_identity)
        .bind(now.trunc_subsecs(6))
        .bind(actor)
        .bind(&row.signature))?;
        Ok(())
    }

    /// Creates a person's own key, encrypted with their passphrase. With `replace`,
    /// an existing key is replaced and the grants made to it are dropped (a
    /// reader then has to be granted again).
    pub async fn enroll(
        &self,
        login: &str,
        passphrase: SecretString,
        replace: bool,
        now: DateTime<Utc>,
    ) -> Result<String> {
        check_passphrase(&passphrase)?;
        self.authority()?;
        let identity = age::x25519::Identity::generate();
        let public = identity.to_public().to_string();
        let protected = protect(&identity, passphrase)?;
        let mut tx = self.db.begin().await?;
        let exists: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM person_keys WHERE login = $1",
        )
        .bind(login)
        .fetch_one(conn)
        .await)?;
        if exists > 0 && !replace {
            return Err(SealError::Keys(format!(
                "`{login}` has a key already (`senim keys passphrase` changes its passphrase; \
                 `enroll --replace` makes a new one and drops its grants)"
            )));
        }
        execute_in!(
            &mut tx,
            sqlx::query("DELETE FROM key_grants WHERE login = $1").bind(login)
        )?;
        execute_in!(
            &mut tx,
            sqlx::query("DELETE FROM person_keys WHERE login = $1").bind(login)
        )?;
        self.write_person_key(
            &mut tx,
            PersonKeyRow {
                login: login.to_owned(),
                recipient: public.clone(),
                identity: protected,
                signature: None,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(public)
    }

    /// Changes the passphrase of a person's key (the key itself, and its grants,
    /// stay). The row must verify, and its public key be the one the old
    /// passphrase opens: a planted row is refused, never signed anew.
    pub async fn change_passphrase(
        &self,
        login: &str,
        old: SecretString,
        new: SecretString,
    ) -> Result<()> {
        check_passphrase(&new)?;
        let identity = self
            .person_identity(login, old, REPROTECT_MAX_WORK_FACTOR)
            .await?;
        let out = protect(&identity, new)?;
        let mut tx = self.db.begin().await?;
        let stored = self.person_key_in(&mut tx, login).await?;
        if stored.map(|k| k.to_string()) != Some(identity.to_public().to_string()) {
            return Err(SealError::Keys(format!(
                "`{login}`'s stored public key is not the one their passphrase opens: \
                 `senim keys enroll --replace --as {login}` makes a new key"
            )));
        }
        let mut row = PersonKeyRow {
            login: login.to_owned(),
            recipient: identity.to_public().to_string(),
            identity: out,
            signature: None,
        };
        row.signature = Some(row.sign(self.authority()?));
        execute_in!(
            &mut tx,
            sqlx::query("UPDATE person_keys SET identity = $1, signature = $2 WHERE login = $3",)
                .bind(&row.identity)
                .bind(&row.signature)
                .bind(login)
        )?;
        tx.commit().await?;
        Ok(())
    }

    /// `login`'s own key, opened with their passphrase off the async runtime
    /// (`derivation::run`); a key protected with a work factor above
    /// `max_work_factor` is refused before any work. Boxed: only a pointer to
    /// it moves through the async code (a moved value leaves its bytes behind).
    async fn person_identity(
        &self,
        login: &str,
        passphrase: SecretString,
        max_work_factor: u8,
    ) -> Result<Box<age::x25519::Identity>> {
        let protected: Option<Vec<u8>> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT identity FROM person_keys WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(pool)
        .await)?;
        let protected = protected.ok_or_else(|| {
            SealError::Keys(format!(
                "`{login}` has no key: `senim keys enroll --as {login}` makes one"
            ))
        })?;
        // The derivation hands back the key's text in a buffer wiped on drop
        // (a pointer crosses threads, never the key), parsed here into the heap.
        let opened = crate::derivation::run(move || {
            let opened = {
                let mut scrypt = age::scrypt::Identity::new(passphrase);
                scrypt.set_max_work_factor(max_work_factor);
                open_secret(&scrypt, &protected)
            };
            super::wipe_stack();
            opened
        })
        .await?;
        match opened {
            Ok(text) => Ok(Box::new(parse_identity(&text)?)),
            Err(age::DecryptError::ExcessiveWork { required, .. }) => {
                Err(SealError::Keys(format!(
                    "`{login}`'s key asks for an scrypt work factor of 2^{required}, above the \
                 2^{max_work_factor} Senim accepts: `senim keys passphrase --as {login}` \
                 protects it again within the limit (or `keys enroll --replace` makes a new one)"
                )))
            }
            Err(_) => Err(SealError::Unlock(login.to_owned())),
        }
    }

    /// Opens the office key as `login`, with their passphrase; refused unless
    /// they are a reader of its current generation.
    pub async fn unlock(&self, login: &str, passphrase: SecretString) -> Result<Unlocked> {
        let unlocked = self.unlock_own(login, passphrase).await?;
        let generations = self.generations().await?;
        let current = generations
            .last()
            .ok_or_else(|| SealError::Keys("there is no office key: `senim keys init`".into()))?;
        if !unlocked.identities.contains_key(&current.generation) {
            return Err(SealError::Keys(format!(
                "`{login}` is not a reader of the current office key: `senim keys add-reader {login}`"
            )));
        }
        Ok(unlocked)
    }

    /// Opens `login`'s own key with their passphrase, and the office key's
    /// generations granted to them, if any: a person who is not a reader of
    /// the office key (a commission member) still opens what is sealed to them
    /// (`Unlocked::open_own`).
    pub async fn unlock_own(&self, login: &str, passphrase: SecretString) -> Result<Unlocked> {
        let own = self
            .person_identity(login, passphrase, MAX_WORK_FACTOR)
            .await?;
        let grants: Vec<(i64, Vec<u8>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT generation, office_identity FROM key_grants WHERE login = $1 ORDER BY generation",
        )
        .bind(login)
        .fetch_all(pool)
        .await)?;
        let generations = self.generations().await?;
        let mut identities = BTreeMap::new();
        for (generation, sealed) in grants {
            if let Ok(bytes) = open_secret(&*own, &sealed) {
                identities.insert(generation, parse_identity(&bytes)?);
            }
        }
        if generations
            .last()
            .is_some_and(|current| identities.contains_key(&current.generation))
        {
            open_previous(&generations, &mut identities)?;
        } else {
            identities.clear();
        }
        Ok(Unlocked {
            actor: format!("person:{login}"),
            identities,
            escrow: None,
            own: Some(own),
        })
    }

    /// Opens the office key with the escrow identity (the Director's safe).
    pub async fn unlock_escrow(&self, escrow: age::x25519::Identity) -> Result<Unlocked> {
        let generations = self.generations().await?;
        if generations.is_empty() {
            return Err(SealError::Keys(
                "there is no office key: `senim keys init`".into(),
            ));
        }
        let mut identities = BTreeMap::new();
        for g in &generations {
            let bytes = open_secret(&escrow, &g.escrowed_identity)
                .map_err(|_| SealError::Unlock("escrow".into()))?;
            identities.insert(g.generation, parse_identity(&bytes)?);
        }
        Ok(Unlocked {
            actor: "escrow".into(),
            identities,
            escrow: Some(Box::new(escrow)),
            own: None,
        })
    }

    /// Grants the current office key to `login`'s key.
    pub async fn grant(&self, unlocked: &Unlocked, login: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        let generation = self.grant_in(&mut tx, unlocked, login, now).await?;
        tx.commit().await?;
        Ok(generation)
    }

    async fn grant_in(
        &self,
        tx: &mut Tx,
        unlocked: &Unlocked,
        login: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (generation, office) = unlocked.current()?;
        let current = self.current_in(tx).await?;
        if current.as_ref().map(|c| c.generation) != Some(generation) {
            return Err(SealError::Keys(
                "the office key was rotated meanwhile: unlock again".into(),
            ));
        }
        let public = self.person_key_in(tx, login).await?.ok_or_else(|| {
            SealError::Keys(format!(
                "`{login}` has no key yet: they run `senim keys enroll --as {login}` first"
            ))
        })?;
        let sealed = seal_to(&[public.recipient()], &identity_bytes(office))?;
        self.write_grant(
            tx,
            GrantRow {
                generation,
                login: login.to_owned(),
                office_identity: sealed,
                signature: None,
            },
            &unlocked.actor,
            now,
        )
        .await?;
        Ok(generation)
    }

    /// Makes a new generation of the office key in `tx`: its identity is granted to
    /// every reader of the current one that `keep` keeps (not the one removed, not
    /// a disabled person), the current identity is sealed to the new one, and the
    /// old grants are dropped. Each reader's grant and key must verify: a row that
    /// does not fails the rotation, naming the login (a planted reader is never
    /// wrapped to, nor silently skipped). The caller reseals the values it owns in
    /// the same transaction (`Rotation::reseal`).
    pub async fn rotate_in(
        &self,
        tx: &mut Tx,
        unlocked: &Unlocked,
        keep: &dyn Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) -> Result<Rotation> {
        let (generation, old) = unlocked.current()?;
        let current = self
            .current_in(tx)
            .await?
            .ok_or_else(|| SealError::Keys("there is no office key: `senim keys init`".into()))?;
        if current.generation != generation {
            return Err(SealError::Keys(
                "the office key was rotated meanwhile: unlock again".into(),
            ));
        }
        let grants: Vec<GrantRow> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT generation, login, office_identity, signature FROM key_grants \
             WHERE generation = $1 ORDER BY login",
        )
        .bind(generation)
        .fetch_all(conn)
        .await)?;
        let mut readers = Vec::new();
        let mut dropped = Vec::new();
        for grant in grants {
            let grant = self.verified(grant)?;
            if !keep(&grant.login) {
                dropped.push(grant.login);
                continue;
            }
            let Some(public) = self.person_key_in(tx, &grant.login).await? else {
                continue;
            };
            readers.push((grant.login, public));
        }
        let office = age::x25519::Identity::generate();
        let next = generation + 1;
        let escrowed = seal_to(&[&current.escrow], &identity_bytes(&office))?;
        let previous = seal_to(&[&office.to_public()], &identity_bytes(old))?;
        self.insert_generation(
            tx,
            GenerationRow {
                generation: next,
                office_recipient: office.to_public().to_string(),
                escrow_recipient: current.escrow.to_string(),
                escrowed_identity: escrowed,
                previous_identity: Some(previous),
                signature: None,
            },
            &unlocked.actor,
            now,
        )
        .await?;
        execute_in!(tx, sqlx::query("DELETE FROM key_grants"))?;
        let mut kept = Vec::new();
        for (login, public) in readers {
            let sealed = seal_to(&[public.recipient()], &identity_bytes(&office))?;
            self.write_grant(
                tx,
                GrantRow {
                    generation: next,
                    login: login.clone(),
                    office_identity: sealed,
                    signature: None,
                },
                &unlocked.actor,
                now,
            )
            .await?;
            kept.push(login);
        }
        let recipients = Recipients {
            generation: next,
            office: office.to_public(),
            escrow: current.escrow,
        };
        Ok(Rotation {
            recipients,
            readers: kept,
            dropped,
        })
    }

    /// Persons' own public keys by login, each as Senim may wrap to it, or the
    /// refusal of a row that does not verify (wrapping to that login fails,
    /// naming it).
    pub async fn recipients(&self) -> Result<BTreeMap<String, Result<TrustedKey>>> {
        let rows: Vec<PersonKeyRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT login, recipient, identity, signature FROM person_keys ORDER BY login",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let login = row.login.clone();
                let key = self
                    .verified(row)
                    .and_then(|row| Ok(TrustedKey(recipient(&row.recipient)?)));
                (login, key)
            })
            .collect())
    }

    /// Persons' keys and the generations granted to each.
    pub async fn list(&self) -> Result<Vec<PersonKey>> {
        let rows: Vec<(String, String, DateTime<Utc>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT login, recipient, created_at FROM person_keys ORDER BY login",
        )
        .fetch_all(pool)
        .await)?;
        let grants: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT login, generation FROM key_grants ORDER BY generation",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(login, recipient, created_at)| PersonKey {
                granted: grants
                    .iter()
                    .filter(|(l, _)| *l == login)
                    .map(|(_, g)| *g)
                    .collect(),
                login,
                recipient,
                created_at,
            })
            .collect())
    }

    /// Every row of the three tables, as stored.
    async fn all_rows(&self) -> Result<Vec<Unadopted>> {
        let generations = self.generations().await?;
        let keys: Vec<PersonKeyRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT login, recipient, identity, signature FROM person_keys ORDER BY login",
        )
        .fetch_all(pool)
        .await)?;
        let grants: Vec<GrantRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT generation, login, office_identity, signature FROM key_grants \
             ORDER BY generation, login",
        )
        .fetch_all(pool)
        .await)?;
        Ok(generations
            .into_iter()
            .map(Unadopted::Generation)
            .chain(keys.into_iter().map(Unadopted::PersonKey))
            .chain(grants.into_iter().map(Unadopted::Grant))
            .collect())
    }

    /// `journal verify`'s findings: each row not signed by `public` (the
    /// installation's public key: an auditor needs nothing secret).
    pub async fn verify_rows(&self, public: &PublicKey) -> Result<Vec<String>> {
        Ok(self
            .all_rows()
            .await?
            .iter()
            .filter_map(|row| row.finding(public))
            .collect())
    }

    /// The rows that do not verify: unsigned ones (from before signing), and,
    /// with `with_bad_signatures`, those whose signature fails too (signed by
    /// another key, or edited). What `senim keys authenticate` shows.
    pub async fn unadopted(&self, with_bad_signatures: bool) -> Result<Vec<Unadopted>> {
        let public = self.public()?.clone();
        Ok(self
            .all_rows()
            .await?
            .into_iter()
            .filter(|row| {
                row.finding(&public).is_some() && (with_bad_signatures || !row.is_signed())
            })
            .collect())
    }

    /// Signs exactly the rows shown (a row changed since no longer matches
    /// its signature), in `tx`; the number signed.
    pub async fn adopt_in(&self, tx: &mut Tx, rows: &[Unadopted]) -> Result<u64> {
        let authority = self.authority()?;
        let mut count = 0;
        for row in rows {
            let changed =
                match row {
                    Unadopted::Generation(r) => rows_affected_in!(tx, sqlx::query(
                    "UPDATE sealing_keys SET signature = $1 WHERE generation = $2",
                )
                .bind(r.sign(authority))
                .bind(r.generation))?,
                    Unadopted::PersonKey(r) => rows_affected_in!(
                        tx,
                        sqlx::query("UPDATE person_keys SET signature = $1 WHERE login = $2",)
                            .bind(r.sign(authority))
                            .bind(&r.login)
                    )?,
                    Unadopted::Grant(r) => rows_affected_in!(tx, sqlx::query(
                    "UPDATE key_grants SET signature = $1 WHERE generation = $2 AND login = $3",
                )
                .bind(r.sign(authority))
                .bind(r.generation)
                .bind(&r.login))?,
                };
            count += changed;
        }
        Ok(count)
    }
}

/// A new generation of the office key, not yet committed: what the owners of
/// sealed values reseal to in the rotation's transaction.
pub struct Rotation {
    pub recipients: Recipients,
    /// The readers granted the new generation.
    pub readers: Vec<String>,
    /// The readers of the old generation not granted the new one (removed,
    /// disabled, no longer a reader).
    pub dropped: Vec<String>,
}

impl Rotation {
    /// Opens `sealed` with the old key and seals it to the new generation.
    pub fn reseal(&self, unlocked: &Unlocked, sealed: &[u8]) -> Result<Sealed> {
        let plain = unlocked.open(sealed)?;
        Ok(Sealed {
            generation: self.recipients.generation,
            bytes: seal_to(&[&self.recipients.office], &plain)?,
        })
    }
}

/// Fills in the generations before the newest one unlocked, each from the one
/// after it.
fn open_previous(
    generations: &[GenerationRow],
    identities: &mut BTreeMap<i64, age::x25519::Identity>,
) -> Result<()> {
    for g in generations.iter().rev() {
        let Some(previous) = &g.previous_identity else {
            continue;
        };
        if identities.contains_key(&(g.generation - 1)) {
            continue;
        }
        let Some(this) = identities.get(&g.generation) else {
            continue;
        };
        if let Ok(bytes) = open_secret(this, previous) {
            identities.insert(g.generation - 1, parse_identity(&bytes)?);
        }
    }
    Ok(())
}

/// A person's key protected with their passphrase, at `MAX_WORK_FACTOR`.
fn protect(identity: &age::x25519::Identity, passphrase: SecretString) -> Result<Vec<u8>> {
    let mut scrypt = age::scrypt::Recipient::new(passphrase);
    scrypt.set_work_factor(MAX_WORK_FACTOR);
    let mut out = Vec::new();
    let mut w = age::Encryptor::with_recipients(iter::once(&scrypt as &dyn age::Recipient))
        .and_then(|e| e.wrap_output(&mut out).map_err(Into::into))
        .map_err(|e| SealError::Seal(e.to_string()))?;
    w.write_all(&identity_bytes(identity))
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| SealError::Seal(e.to_string()))?;
    Ok(out)
}

/// A passphrase must be worth the name: 12 characters at least.
fn check_passphrase(passphrase: &SecretString) -> Result<()> {
    if passphrase.expose_secret().chars().count() < 12 {
        return Err(SealError::Keys(
            "a passphrase has at least 12 characters".into(),
        ));
    }
    Ok(())
}
