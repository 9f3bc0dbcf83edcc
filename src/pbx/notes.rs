//! The operator's record of a phone appeal (clause 10.5): who called (name,
//! organisation, postal address for the reply, phone for feedback) and what they
//! said. `PATCH /v1/appeals/{id}` and `senim journal record-call` both call
//! `record_operator_notes`. Fields not given keep their value; an appeal that was
//! awaiting the operator's notes is `registered` once its substance is recorded.

use serde::{Deserialize, Serialize};

use crate::journal::{
    Amendment, Appeal, AppealKey, Channel, Journal, JournalError, ScriptPoint, Status,
};

/// What the operator learned from the caller; absent fields stay as they are.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorNotes {
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub postal_address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub subject: Option<String>,
    pub substance: Option<String>,
    /// The points of the clause-10.5 script the operator said (the console's
    /// checkboxes); recorded in the same transaction.
    #[serde(default)]
    pub script: Vec<ScriptPoint>,
}

impl std::fmt::Debug for OperatorNotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorNotes(<confidential>)")
    }
}

impl OperatorNotes {
    pub fn is_empty(&self) -> bool {
        [
            &self.name,
            &self.organisation,
            &self.postal_address,
            &self.phone,
            &self.email,
            &self.subject,
            &self.substance,
        ]
        .iter()
        .all(|f| f.is_none())
    }
}

/// Records the operator's notes on an appeal in one transaction, in the audit log
/// as `details_recorded` (and `status_changed` when it leaves "awaiting notes").
pub async fn record_operator_notes(
    journal: &Journal,
    key: &AppealKey,
    notes: OperatorNotes,
    actor: &str,
) -> Result<Appeal, JournalError> {
    let mut tx = journal.db().begin().await?;
    let current = journal.find_in(&mut tx, key).await?;
    let id = current.id;
    // The operator completes what they took on the phone, and nothing else: a
    // registered appeal is the manager's, and an e-mail is what the citizen wrote.
    if current.channel != Channel::Phone || current.status != Status::AwaitingOperatorNotes {
        return Err(JournalError::NotAllowed(format!(
            "appeal {} is a {} appeal in status {}: the operator's notes complete only phone appeals awaiting them",
            current.registration_number, current.channel, current.status
        )));
    }
    let touches_reporter = notes.name.is_some()
        || notes.organisation.is_some()
        || notes.postal_address.is_some()
        || notes.phone.is_some()
        || notes.email.is_some();
    let reporter = touches_reporter.then(|| {
        let mut r = current.reporter.clone();
        let set = |field: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *field = value;
            }
        };
        set(&mut r.name, notes.name);
        set(&mut r.organisation, notes.organisation);
        set(&mut r.postal_address, notes.postal_address);
        set(&mut r.phone, notes.phone);
        set(&mut r.email, notes.email);
        r
    });
    // Sealed, the Journal cannot read back what it stored: whether the substance
    // is now recorded is whether the operator gave it.
    let gives_substance = notes
        .substance
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    if !notes.script.is_empty() {
        let mut points = notes.script.clone();
        points.sort_by_key(|p| p.as_str());
        points.dedup();
        journal
            .amend_in(&mut tx, id, Amendment::ScriptConfirmed { points }, actor)
            .await?;
    }
    let mut appeal = journal
        .amend_in(
            &mut tx,
            id,
            Amendment::Details {
                reporter,
                subject: notes.subject,
                substance: notes.substance,
            },
            actor,
        )
        .await?;
    if appeal.status == Status::AwaitingOperatorNotes
        && (appeal.substance.is_some() || gives_substance)
    {
        appeal = journal
            .amend_in(
                &mut tx,
                id,
                Amendment::Status {
                    status: Status::Registered,
                    reason: Some("operator's notes recorded".into()),
                },
                actor,
            )
            .await?;
        // Complete now: the reply deadline (from the call's day) once there is
        // an address, and the notice of a threat the caller reported (6.3).
        journal.completed_in(&mut tx, &appeal).await?;
    }
    tx.commit().await?;
    tracing::info!(registration_number = %appeal.registration_number, appeal_id = %appeal.id, actor, "operator notes recorded");
    Ok(appeal)
}
