//! What is decided and done on an appeal after it is registered, each in the
//! name of the person who did it and each an event of the audit chain, with the
//! deadlines it starts or ends (`deadlines`) and the mail it causes (`alerts`)
//! in the same transaction:
//!
//! | act | who | clause |
//! |---|---|---|
//! | consent, or not, to send a corruption report with its materials to the anti-corruption service | the Director | 10.6, 10.7 |
//! | the order of an internal investigation, its extension, the decision after it | the Director | 10.10, 7.5, 7.11 |
//! | the reply sent, its extension and the citizen told of it, outside competence and redirected, materials asked and received | a manager (or the Director) | APPK Art. 76, 7.8 |
//! | sending the appeal on to a structural unit | a manager (or the Director) | 10.9 |
//!
//! Who may do which act is `Act::who`; the API, the CLI and the console each
//! check it with their own means of knowing the person, then call `record`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::alerts::{AlertError, Alerts};
use crate::deadlines::{DeadlineError, Deadlines, Event};
use crate::journal::{Appeal, AppealId, Journal, JournalError};
use crate::persons::Role;

/// The chain's name for the Director's consent (10.6, 10.7).
pub const CONSENT: &str = "director_consent";
/// The chain's name for a routing to a unit (10.9).
pub const ROUTED: &str = "routed";

/// One act on an appeal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// The Director's decision on a corruption report (10.6): send it, with its
    /// materials and a cover letter, to the anti-corruption service (10.7), or
    /// not, with the reason.
    Consent { send: bool, reason: String },
    /// An event of the appeal's deadlines (`deadlines::Event`).
    Deadline(Event),
    /// Sent on to the structural unit of that name in `[[alerts.routes]]` (or
    /// `alerts.default_unit`, named "default unit").
    Route { unit: String },
}

/// Only the Director decides on the report and on the investigation.
const DIRECTOR: &[Role] = &[Role::Director];
/// The case work the manager records; the Director may record it too.
const CASE_WORK: &[Role] = &[Role::Manager, Role::Director];

impl Act {
    /// The roles one of which the person recording the act must hold.
    pub fn who(&self) -> &'static [Role] {
        match self {
            Act::Consent { .. }
            | Act::Deadline(
                Event::InvestigationOrdered { .. }
                | Event::InvestigationExtended { .. }
                | Event::Decision { .. },
            ) => DIRECTOR,
            Act::Deadline(_) | Act::Route { .. } => CASE_WORK,
        }
    }

    /// The act's name in the audit chain.
    pub fn name(&self) -> &'static str {
        match self {
            Act::Consent { .. } => CONSENT,
            Act::Deadline(event) => event.name(),
            Act::Route { .. } => ROUTED,
        }
    }
}

/// What can go wrong recording an act.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Alerts(#[from] AlertError),
    /// The act does not fit the appeal or lacks what it needs; the text names it.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for ActError {
    fn from(e: sqlx::Error) -> Self {
        ActError::Journal(e.into())
    }
}

impl From<DeadlineError> for ActError {
    fn from(e: DeadlineError) -> Self {
        match e {
            DeadlineError::Journal(e) => ActError::Journal(e),
            DeadlineError::Invalid(text) => ActError::Invalid(text),
            DeadlineError::Corrupt(text) => ActError::Journal(JournalError::Corrupt(text)),
        }
    }
}

/// What the Journal, the deadlines and the alerts are asked to do an act with.
pub struct Case<'a> {
    pub journal: &'a Journal,
    pub deadlines: &'a Deadlines,
    pub alerts: &'a Alerts,
}

impl Case<'_> {
    /// Records `act` on appeal `id` in `actor`'s name (the caller has checked
    /// `act.who()`): the chain's event, the deadlines and the routing mail, in
    /// one transaction; `now` and `today` (Astana) date it. Returns the appeal.
    pub async fn record(
        &self,
        id: AppealId,
        act: &Act,
        actor: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Appeal, ActError> {
        let detail = self.detail(act)?;
        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        chain
            .record(&mut tx, &appeal, actor, act.name(), &detail)
            .await?;
        let mut mails = false;
        match act {
            Act::Consent { .. } => {}
            Act::Deadline(event) => {
                self.deadlines
                    .record_in(&mut tx, &appeal, event, actor, now, today)
                    .await?
            }
            Act::Route { unit } => {
                let to = self.unit(unit)?;
                mails = self
                    .alerts
                    .route_in(&mut tx, &appeal, unit, to, now)
                    .await?;
            }
        }
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        if mails {
            self.alerts.outbox().wake();
        }
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            act = act.name(),
            actor,
            "act recorded"
        );
        Ok(appeal)
    }

    /// What the chain keeps of the act: never identity or appeal text.
    fn detail(&self, act: &Act) -> Result<serde_json::Value, ActError> {
        Ok(match act {
            Act::Consent { send, reason } => {
                let reason = reason.trim();
                if !send && reason.is_empty() {
                    return Err(ActError::Invalid(
                        "reason: required when the report is not sent".into(),
                    ));
                }
                json!({ "send": send, "reason": reason })
            }
            Act::Deadline(event) => {
                serde_json::to_value(event).map_err(|e| ActError::Invalid(format!("event: {e}")))?
            }
            Act::Route { unit } => {
                self.unit(unit)?;
                json!({ "unit": unit })
            }
        })
    }

    /// The address of the unit named `unit`.
    fn unit(&self, unit: &str) -> Result<lettre::message::Mailbox, ActError> {
        units(self.alerts)
            .into_iter()
            .find(|(name, _)| name == unit)
            .map(|(_, to)| to)
            .ok_or_else(|| {
                ActError::Invalid(format!(
                    "unit: no unit named {unit:?} in alerts.routes or alerts.default_unit"
                ))
            })
    }
}

/// The units an appeal may be sent on to: each route's unit, then the default
/// unit, named "default unit".
pub fn units(alerts: &Alerts) -> Vec<(String, lettre::message::Mailbox)> {
    let policy = alerts.policy();
    let mut units: Vec<(String, lettre::message::Mailbox)> = Vec::new();
    for route in &policy.routes {
        if !units.iter().any(|(name, _)| *name == route.unit) {
            units.push((route.unit.clone(), route.address.clone()));
        }
    }
    if let Some(to) = &policy.default_unit {
        units.push(("default unit".to_owned(), to.clone()));
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadlines::Decision;

    #[test]
    fn only_the_director_decides_on_the_report_and_the_investigation() {
        let on = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        for act in [
            Act::Consent {
                send: true,
                reason: String::new(),
            },
            Act::Deadline(Event::InvestigationOrdered { on }),
            Act::Deadline(Event::InvestigationExtended {
                until: on,
                reason: "x".into(),
            }),
            Act::Deadline(Event::Decision {
                decision: Decision::Disciplinary,
                on,
            }),
        ] {
            assert_eq!(act.who(), &[Role::Director], "{act:?}");
        }
        for act in [
            Act::Deadline(Event::ReplySent { on }),
            Act::Deadline(Event::MaterialsRequested { on }),
            Act::Route { unit: "HR".into() },
        ] {
            assert!(act.who().contains(&Role::Manager), "{act:?}");
            assert!(act.who().contains(&Role::Director), "{act:?}");
        }
    }
}
