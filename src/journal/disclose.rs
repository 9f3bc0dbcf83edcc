//! What leaves the Journal on request, each read an event of the chain: identity
//! and text opened with a person's key (`open`), the acts' reasons read back, a
//! disclosure, an export without identity, the Director's reading of an alert.

use chrono::SubsecRound;

use super::{
    ALERT_READ, Appeal, AppealId, DISCLOSED, EXPORTED, Journal, Result, audit, reasons, sealed,
};
use crate::rulebook::{Acting, rule};
use crate::sealing::Unlocked;

impl Journal {
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

    /// Records in the audit log that `actor` was shown the identity and text of
    /// each appeal in `ids`, and why (`purpose`: `show`, `list`, `export`,
    /// `materials`), in one transaction: every disclosure is an event of the chain
    /// (10.5, 10.14).
    pub async fn record_disclosure(
        &self,
        ids: &[AppealId],
        by: &Acting<rule::Reveal>,
        purpose: &str,
    ) -> Result<()> {
        let actor = by.actor();
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
}
