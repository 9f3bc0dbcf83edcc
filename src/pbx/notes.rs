//! The operator's record of a phone appeal (clause 10.5): who called (name,
//! organisation, postal address for the reply, phone for feedback) and what they
//! said, and the recorded correction of it afterwards (issue 19).
//!
//! - `record_operator_notes`: `PATCH /v1/appeals/{id}`, `senim journal
//!   record-call` and the console's form. Every point of the 10.5 script must be
//!   confirmed as said (`script`, refused naming the missing points); fields not
//!   given keep their value; an appeal awaiting the notes is `registered` once its
//!   substance is recorded.
//! - `correct_details`: `POST /v1/appeals/{id}/corrections`, `senim journal
//!   correct` and the revealed appeal's form; a manager's or the Director's (the
//!   surface checks the role), with a reason; the earlier values stay
//!   (`Amendment::Corrected`).
//! - Both check a phone (normalised to E.164, as the PBX's numbers are:
//!   `numbers::e164`) and an e-mail address (one a reply can go to), refused
//!   naming the field, never echoing the value.

use serde::{Deserialize, Serialize};

use super::error::PbxError;
use crate::journal::sealed::Confidential;
use crate::journal::{
    Amendment, Appeal, AppealKey, Channel, Journal, JournalError, ScriptPoint, Status,
};

crate::appeal_details! {
    ;
    /// What the operator learned from the caller; absent fields stay as they are.
    #[derive(Clone, Default, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    pub struct OperatorNotes {
        /// The points of the clause-10.5 script the operator said: all of them, or
        /// the notes are refused. Recorded in the same transaction.
        #[serde(default)]
        pub script: Vec<ScriptPoint>,
    }
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

/// The script's points `said` leaves out, refused naming them (clause 10.5).
pub fn check_script(said: &[ScriptPoint]) -> Result<(), PbxError> {
    let missing = ScriptPoint::missing_from(said);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.as_str()).collect();
    Err(PbxError::refused(
        "script",
        format!(
            "script: the operator has not confirmed saying {} (clause 10.5: every point is said to the caller before the notes are recorded)",
            names.join(", ")
        ),
    ))
}

/// A reporter's phone for feedback in E.164 (`+77012345678`), as the PBX's
/// numbers are; blank stays blank (no phone). Refused naming `phone`.
pub fn checked_phone(phone: &str) -> Result<String, PbxError> {
    let phone = phone.trim();
    if phone.is_empty() {
        return Ok(String::new());
    }
    super::numbers::e164(phone).ok_or_else(|| {
        PbxError::refused(
            "phone",
            "phone: not a phone number; write it as +7 701 234 56 78, 8 701 234 56 78 or +<country code> <number>",
        )
    })
}

/// A reporter's e-mail address a reply can go to: one address, with a domain
/// that has a dot (`name@example.kz`); blank stays blank. Refused naming `email`.
pub fn checked_email(email: &str) -> Result<String, PbxError> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(String::new());
    }
    let refused = || {
        PbxError::refused(
            "email",
            "email: not an address a reply can go to; write it as name@example.kz",
        )
    };
    let address: lettre::Address = email.parse().map_err(|_| refused())?;
    let domain = address.domain();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(refused());
    }
    Ok(address.to_string())
}

/// `field` with its phone and e-mail checked (`None` stays `None`).
fn checked(
    value: Option<String>,
    check: fn(&str) -> Result<String, PbxError>,
) -> Result<Option<String>, PbxError> {
    value.map(|v| check(&v)).transpose()
}

/// Records the operator's notes on an appeal in one transaction, in the audit log
/// as `script_confirmed`, `details_recorded` (and `status_changed` when it leaves
/// "awaiting notes"). Refused (422, naming the field) without every point of the
/// script, or with a phone or an e-mail address that cannot be used.
pub async fn record_operator_notes(
    journal: &Journal,
    key: &AppealKey,
    mut notes: OperatorNotes,
    actor: &str,
) -> Result<Appeal, PbxError> {
    check_script(&notes.script)?;
    notes.phone = checked(notes.phone, checked_phone)?;
    notes.email = checked(notes.email, checked_email)?;
    let mut tx = journal.db().begin().await?;
    let current = journal.find_in(&mut tx, key).await?;
    let id = current.id;
    // The operator completes what they took on the phone, and nothing else: a
    // registered appeal is the manager's (a correction), and an e-mail is what
    // the citizen wrote.
    if current.channel != Channel::Phone || current.status != Status::AwaitingOperatorNotes {
        return Err(JournalError::NotAllowed(format!(
            "appeal {} is a {} appeal in status {}: the operator's notes complete only phone appeals awaiting them; a manager records a correction",
            current.registration_number, current.channel, current.status
        ))
        .into());
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
    let mut points = notes.script.clone();
    points.sort_by_key(|p| p.as_str());
    points.dedup();
    journal
        .amend_in(&mut tx, id, Amendment::ScriptConfirmed { points }, actor)
        .await?;
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

crate::appeal_details! {
    ;
    /// A correction of an appeal's recorded details: the fields given replace
    /// theirs (blank clears one), `reason` says why. Never logged or echoed.
    #[derive(Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Correction {
        #[serde(default)]
        pub reason: String,
    }
}

impl std::fmt::Debug for Correction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Correction(<confidential>)")
    }
}

/// The fields a correction may name, as the API and the CLI spell them.
pub const CORRECTABLE: &str =
    "name, organisation, postal_address, phone, email, subject, substance";

/// Records a correction of an appeal's details in one transaction: the
/// `details_corrected` event (who, when, the reason, the fields' names), the
/// earlier values kept, and, when it gives a return address the appeal lacked,
/// the reply deadline started as the notes start it (`Journal::completed_in`).
/// Who may correct is the surface's check (a manager or the Director).
pub async fn correct_details(
    journal: &Journal,
    key: &AppealKey,
    correction: Correction,
    actor: &str,
) -> Result<Appeal, PbxError> {
    let reason = correction.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(PbxError::refused(
            "reason",
            "reason: required: say why the details are corrected (recorded in the audit log; name no value there)",
        ));
    }
    let fields = Confidential {
        name: correction.name.map(|v| v.trim().to_owned()),
        organisation: correction.organisation.map(|v| v.trim().to_owned()),
        postal_address: correction.postal_address.map(|v| v.trim().to_owned()),
        phone: checked(correction.phone, checked_phone)?,
        email: checked(correction.email, checked_email)?,
        subject: correction.subject.map(|v| v.trim().to_owned()),
        substance: correction.substance.map(|v| v.trim().to_owned()),
    };
    if fields.written().is_empty() {
        return Err(PbxError::InvalidField {
            field: "fields".into(),
            detail: format!("nothing to correct: give at least one of {CORRECTABLE}"),
        });
    }
    let mut tx = journal.db().begin().await?;
    let current = journal.find_in(&mut tx, key).await?;
    if current.status == Status::AwaitingOperatorNotes {
        return Err(JournalError::NotAllowed(format!(
            "appeal {} awaits the operator's notes: record them (PATCH /v1/appeals/{{id}}, `senim journal record-call`) rather than a correction",
            current.registration_number
        ))
        .into());
    }
    let appeal = journal
        .amend_in(
            &mut tx,
            current.id,
            Amendment::Corrected { fields, reason },
            actor,
        )
        .await?;
    // An address for the reply where there was none: the reply is owed from
    // now on, counted as the notes count it (from the day of receipt), unless
    // the case already ended.
    let ended = matches!(
        appeal.status,
        Status::Closed | Status::Replied | Status::NotConsidered | Status::Forwarded
    );
    if current.no_return_address && !appeal.no_return_address && !ended {
        journal.completed_in(&mut tx, &appeal).await?;
    }
    tx.commit().await?;
    tracing::info!(registration_number = %appeal.registration_number, appeal_id = %appeal.id, actor, "details corrected");
    Ok(appeal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_of_the_script_is_required_and_the_missing_ones_named() {
        assert!(check_script(ScriptPoint::ALL).is_ok());
        let err =
            check_script(&[ScriptPoint::OwnNameAndPosition, ScriptPoint::LineScope]).unwrap_err();
        assert_eq!(err.field(), Some("script"));
        let text = err.to_string();
        assert!(
            text.contains("state_secret_warning") && text.contains("disclosure_liability"),
            "{text}"
        );
        assert!(!text.contains("line_scope"), "{text}");
    }

    #[test]
    fn phones_are_normalised_and_nonsense_refused_naming_the_field() {
        assert_eq!(checked_phone("8 701 234 56 78").unwrap(), "+77012345678");
        assert_eq!(checked_phone(" ").unwrap(), "");
        for bad in ["abc", "12", "+7 701 ab"] {
            let err = checked_phone(bad).unwrap_err();
            assert_eq!(err.field(), Some("phone"), "{bad}");
            assert!(!err.to_string().contains(bad), "the value is not echoed");
        }
    }

    #[test]
    fn an_email_must_be_one_a_reply_can_reach() {
        assert_eq!(
            checked_email(" aigul@example.kz ").unwrap(),
            "aigul@example.kz"
        );
        for bad in [
            "not-an-email",
            "a@localhost",
            "a@b.",
            "a b@example.kz",
            "@example.kz",
        ] {
            let err = checked_email(bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad}");
        }
    }
}
