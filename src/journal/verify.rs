//! The whole chain checked (`verify`: every event, every appeal against it, the
//! envelopes' digests, the reasons, the published heads), by the installation or
//! by an auditor with public keys alone; and an unkeyed chain keyed once it
//! verifies (`key_chain`).

use super::chain::NEEDS_KEY;
use super::{Appeal, Journal, JournalError, Result, VerifyReport, audit, reasons, sealed, store};
use crate::authority::PublicKey;
use crate::db::Tx;

const NEEDS_PUBLIC_KEY: &str = "the audit chain's head is signed: give its public key \
     (`--public-key`, printed by `senim journal head-key`) or set journal.signing_key_file";

impl Journal {
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
        store::set_append_only_in(&mut tx, backend, false).await?;
        let mut prev = audit::GENESIS.to_owned();
        for e in &events {
            let hash = e.hash_after(Some(&key), &prev);
            store::rehash_event_in(&mut tx, e.seq, &prev, &hash).await?;
            prev = hash;
        }
        store::mark_head_keyed_in(&mut tx, &prev).await?;
        store::set_append_only_in(&mut tx, backend, true).await?;
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
        let events = store::all_events_in(tx).await?;
        let appeals = store::all_appeals_in(tx).await?;
        Ok((stored, events, appeals))
    }
}
