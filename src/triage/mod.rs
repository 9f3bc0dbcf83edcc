//! Triage: the manager's classification of an appeal (corruption, not corruption,
//! or a criminal offence / threat to security, 6.3), with a reason, and the
//! category Senim suggests from the text. Classifying writes the Journal's
//! amendment and the alerts it causes in one transaction.

pub mod lexicon;

use crate::alerts::AlertError;
use crate::alerts::Alerts;
use crate::journal::{Amendment, Appeal, AppealId, Category, Journal, JournalError};

pub use lexicon::{Suggestion, suggest};

/// What can go wrong when classifying.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Alerts(#[from] AlertError),
    #[error("category must be corruption, not_corruption or criminal_offence")]
    Unclassified,
    #[error("a reason for the classification is required")]
    NoReason,
}

impl From<sqlx::Error> for TriageError {
    fn from(e: sqlx::Error) -> Self {
        TriageError::Journal(e.into())
    }
}

/// The suggestion for an appeal, from its subject and substance.
pub fn suggestion_for(appeal: &Appeal) -> Suggestion {
    suggest(&appeal.text())
}

/// Classifies an appeal and enqueues what follows (alert, urgent alert, routing),
/// all in one transaction; wakes the sender after the commit.
pub async fn classify(
    journal: &Journal,
    alerts: &Alerts,
    id: AppealId,
    category: Category,
    reason: &str,
    actor: &str,
) -> Result<Appeal, TriageError> {
    if category == Category::Unclassified {
        return Err(TriageError::Unclassified);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(TriageError::NoReason);
    }
    let mut tx = journal.db().begin().await?;
    let appeal = journal
        .amend_in(
            &mut tx,
            id,
            Amendment::Classify {
                category,
                reason: reason.to_owned(),
            },
            actor,
        )
        .await?;
    let enqueued = alerts.on_classified_in(&mut tx, &appeal).await?;
    tx.commit().await?;
    alerts.outbox().wake();
    metrics::counter!("senim_appeals_classified_total", "category" => category.as_str())
        .increment(1);
    tracing::info!(
        registration_number = %appeal.registration_number,
        appeal_id = %appeal.id,
        category = %category,
        mails = enqueued,
        actor,
        "appeal classified"
    );
    Ok(appeal)
}
