//! Amendments: a change of an appeal's details, category or status, a correction
//! (the earlier values kept), destruction under the records schedule; each an
//! event of the chain, the acts' free-text reasons kept apart (`reasons`).

use chrono::SubsecRound;

use super::{
    Amendment, Appeal, AppealId, CORRECTED, DESTROYED, Journal, JournalError, Reporter, Result,
    Status, appeal, audit, reasons, sealed, store,
};
use crate::db::Tx;

impl Journal {
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

    /// Applies a change to an appeal in a transaction that holds the chain's `head`.
    pub(super) async fn amend_locked(
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
        let appeal = self.changed_plain(tx, &before, &amendment).await?;
        let now = self.clock.now().trunc_subsecs(6);
        store::update_plain_in(tx, &appeal, now).await?;
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

    /// The appeal as a change leaves it, in a plain Journal (the earlier values of
    /// a correction kept, a destruction's erased); not yet written.
    async fn changed_plain(
        &self,
        tx: &mut Tx,
        before: &Appeal,
        amendment: &Amendment,
    ) -> Result<Appeal> {
        let id = before.id;
        let mut appeal = before.clone();
        match amendment {
            Amendment::Details {
                reporter,
                subject,
                substance,
            } => {
                refuse_if_destroyed(tx, before, "recorded again").await?;
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
                refuse_if_destroyed(tx, before, "corrected").await?;
                let now = self.clock.now().trunc_subsecs(6);
                store::keep_earlier_values_in(tx, before, fields, now).await?;
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
                refuse_unless_ended(before)?;
                // The flags (anonymous, no return address) describe the appeal,
                // not the reporter: they stay, as in `Appeal::redacted`.
                appeal.reporter = Reporter::default();
                appeal.subject = None;
                appeal.substance = None;
                store::delete_earlier_values_in(tx, id).await?;
            }
        }
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
        refuse_if_destroyed(tx, &before, "recorded again").await?;
        let now = self.clock.now().trunc_subsecs(6);
        let envelope = sealed::seal(&self.sealer, &fields)?;
        sealed::insert_envelope(tx, before.id.0, &fields, &envelope, false).await?;
        let digest = sealed::next_digest(before.sealed.as_deref(), &envelope);
        let mut terms = before.terms.clone();
        terms.extend(self.terms_in(&fields.text()));
        terms.sort();
        terms.dedup();
        let email_tag = fields.email.as_deref().and_then(|e| self.email_tag(e));
        let anonymous = before.anonymous && !fields.names_reporter();
        let no_return_address = before.no_return_address && !fields.gives_return_address();
        let row = store::SealedRow {
            anonymous,
            no_return_address,
            digest: &digest,
            email_tag: email_tag.as_deref(),
            terms: &terms,
        };
        store::update_sealed_in(tx, before.id, &row, now).await?;
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
        refuse_unless_ended(&before)?;
        let Amendment::Destroyed { reason, elsewhere } = amendment else {
            return Err(JournalError::Corrupt("not a destruction".into()));
        };
        let mut erased = sealed::fields_in(tx, before.id.0).await?;
        sealed::delete_envelopes(tx, before.id.0).await?;
        if reasons::delete_in(tx, before.id).await? > 0 {
            erased.push("reasons".into());
        }
        let now = self.clock.now().trunc_subsecs(6);
        store::erase_sealed_in(tx, before.id, now).await?;
        let appeal = self.get_in(tx, before.id).await?;
        let detail =
            serde_json::json!({ "reason": reason, "erased": erased, "elsewhere": elsewhere });
        audit::append(tx, head, &appeal, now, actor, DESTROYED, &detail).await?;
        Ok(appeal)
    }
}

/// Adds `field` to the fields a `destroyed` event's detail names as erased.
fn erased_too(detail: &mut serde_json::Value, field: &str) {
    if let Some(erased) = detail.get_mut("erased").and_then(|e| e.as_array_mut()) {
        erased.push(field.into());
    } else {
        detail["erased"] = serde_json::json!([field]);
    }
}

/// Refuses to write the details of an appeal destroyed under the records
/// schedule (`what`: "recorded again", "corrected").
async fn refuse_if_destroyed(tx: &mut Tx, before: &Appeal, what: &str) -> Result<()> {
    if store::was_destroyed_in(tx, before.id).await? {
        return Err(JournalError::NotAllowed(format!(
            "appeal {} was destroyed under the records schedule: its details are not {what}",
            before.registration_number
        )));
    }
    Ok(())
}

/// Refuses to destroy an appeal whose case has not ended.
fn refuse_unless_ended(before: &Appeal) -> Result<()> {
    if !before.status.ends_the_case() {
        return Err(JournalError::NotAllowed(format!(
            "appeal {} is {}: only an appeal whose case has ended is destroyed",
            before.registration_number, before.status
        )));
    }
    Ok(())
}
