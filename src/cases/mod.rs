//! Case work: what the manager does with a registered appeal. Classifying
//! (corruption, not corruption, or a criminal offence / threat to security, 6.3,
//! with a reason) writes the Journal's amendment and the alerts it causes in one
//! transaction, then wakes the sender. The words behind the suggested category
//! are `triage`'s; the alerts are `alerts`'.
//!
//! `acts`: what is decided and done afterwards (the Director's consent, order
//! and decision; the manager's deadline events and routing), each a chain event.

pub mod acts;

pub use acts::{Act, ActError, Case};

use chrono::{DateTime, NaiveDate, Utc};

use crate::alerts::AlertError;
use crate::deadlines::{DeadlineError, Kind};
use crate::journal::{Amendment, Appeal, AppealId, Category, JournalError, Status};

/// What can go wrong when classifying.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Alerts(#[from] AlertError),
    #[error("category must be corruption, not_corruption or criminal_offence")]
    Unclassified,
    #[error("a reason for the classification is required")]
    NoReason,
    #[error("the appeal is closed: nothing more is recorded on it")]
    Closed,
    #[error("{0}")]
    Deadlines(String),
}

impl From<DeadlineError> for ClassifyError {
    fn from(e: DeadlineError) -> Self {
        match e {
            DeadlineError::Journal(e) => ClassifyError::Journal(e),
            other => ClassifyError::Deadlines(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for ClassifyError {
    fn from(e: sqlx::Error) -> Self {
        ClassifyError::Journal(e.into())
    }
}

impl Case<'_> {
    /// Classifies an appeal and enqueues what follows (alert, urgent alert,
    /// routing), all in one transaction; wakes the sender after the commit. The
    /// classification meets the triage deadline (10.6); a criminal offence or a
    /// threat (6.3) starts its forwarding, due `today`, and a classification
    /// that finds none ends one the words had started.
    pub async fn classify(
        &self,
        id: AppealId,
        category: Category,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Appeal, ClassifyError> {
        classify(self, id, category, reason, actor, now, today).await
    }
}

async fn classify(
    case: &Case<'_>,
    id: AppealId,
    category: Category,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Appeal, ClassifyError> {
    let (journal, alerts) = (case.journal, case.alerts);
    if category == Category::Unclassified {
        return Err(ClassifyError::Unclassified);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ClassifyError::NoReason);
    }
    let mut tx = journal.db().begin().await?;
    if journal.get_in(&mut tx, id).await?.status == Status::Closed {
        return Err(ClassifyError::Closed);
    }
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
    // Classified, a registered appeal is in triage (one still awaiting the
    // operator's notes stays in her queue).
    let appeal = if appeal.status == Status::Registered {
        journal
            .amend_in(
                &mut tx,
                id,
                Amendment::Status {
                    status: Status::InReview,
                    reason: Some("classified".into()),
                },
                actor,
            )
            .await?
    } else {
        appeal
    };
    let (enqueued, routed) = alerts.on_classified_in(&mut tx, &appeal).await?;
    case.deadlines
        .meet_in(&mut tx, id, Kind::Triage, today)
        .await?;
    // What follows in the chain (a threat's forwarding ended, a routing) is
    // written under one lock of it.
    let mut chain = journal.lock_chain(&mut tx).await?;
    if category == Category::CriminalOffence {
        case.deadlines
            .start_threat_forward_in(&mut tx, &appeal, today, now)
            .await?;
    } else {
        case.deadlines
            .end_in(
                &mut tx,
                &mut chain,
                &appeal,
                &[Kind::ThreatForward],
                "classified",
                today,
                actor,
            )
            .await?;
    }
    // A routing the classification caused is in the chain as the manager's,
    // as one she makes herself (`Act::Route`).
    let appeal = match routed {
        Some(unit) => {
            let detail = serde_json::json!({ "unit": unit, "on_classification": true });
            chain
                .record(&mut tx, &appeal, actor, acts::ROUTED, &detail)
                .await?;
            // One still awaiting the operator's notes stays in her queue.
            if appeal.status == Status::AwaitingOperatorNotes {
                appeal
            } else {
                chain
                    .amend(
                        &mut tx,
                        id,
                        Amendment::Status {
                            status: Status::Routed,
                            reason: Some(acts::ROUTED.into()),
                        },
                        actor,
                    )
                    .await?
            }
        }
        None => appeal,
    };
    chain.finish(&mut tx).await?;
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
