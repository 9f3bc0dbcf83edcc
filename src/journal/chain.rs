//! The audit chain's head held for a run of writes (`ChainLock`): locked, checked
//! as this installation signed it, turned public at the switch point, and signed
//! again once the run is written (`ChainLock::finish`); the published head.

use chrono::SubsecRound;

use super::register::Presealed;
use super::{
    Amendment, Appeal, AppealId, Journal, JournalError, NewAppeal, Registration, Result, audit,
    reasons, store,
};
use crate::authority::{Authority, PublicKey};
use crate::db::Tx;

pub(super) const NEEDS_KEY: &str =
    "the audit chain is keyed: set journal.chain_key_file to its key";
const NEEDS_SIGNER: &str = "the audit chain's head is signed: set journal.signing_key_file \
     (or journal.chain_key_file, from which it was derived) to write to it";
const HEAD_FORGED: &str = "the audit chain's head is not signed by this installation's signing key: \
     it was set outside Senim; nothing is written (run `senim journal verify`)";
const NOT_KEYED: &str = "journal.chain_key_file is set but the audit chain is not keyed: \
     run `senim journal verify`, then `senim journal key-chain`";

impl Journal {
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
            let appeals = store::ids_in(tx).await?;
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

    /// The switch point of the chain (`audit`): the first event hashed with
    /// plain SHA-256, its head signed from then on; none before the switch.
    pub async fn public_from(&self) -> Result<Option<i64>> {
        store::public_from(&self.db).await
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
}

/// The audit chain held for a run of Journal writes in one transaction (a batch
/// of mail, a group commit): its head is locked and read once, and written back
/// once by `finish`, instead of once per write. `finish` must run before the
/// transaction commits, or the next write would not extend the chain.
#[must_use = "finish() writes the chain's head back before the commit"]
pub struct ChainLock<'j> {
    pub(super) journal: &'j Journal,
    pub(super) head: audit::Head,
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
    pub(super) async fn register_presealed(
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
