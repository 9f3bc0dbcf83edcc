//! What is decided and done on an appeal after it is registered, each in the
//! name of the person who did it and each an event of the audit chain, with the
//! deadlines it starts or ends (`deadlines`) and the mail it causes (`alerts`)
//! in the same transaction:
//!
//! | act | who | clause |
//! |---|---|---|
//! | consent, or not, to send a corruption report with its materials to the anti-corruption service | the Director | 10.6, 10.7 |
//! | the order of an internal investigation, its extension, the decision after it | the Director | 10.10, 7.5, 7.11 |
//! | the extension of the reply, with the written decision's reference | the Director, or a deputy named in `[authority]` | APPK Art. 76 |
//! | the reply sent and the citizen told of its extension, outside competence and redirected, materials asked and received | a manager (or the Director) | APPK Art. 76, 7.8 |
//! | sending the appeal on to a structural unit | a manager (or the Director) | 10.9 |
//! | forwarding to a competent body, "not considered", closing | a manager (or the Director) | 10.7, 6.3 |
//!
//! Who may do which act is the rulebook's (`Act::action`, `crate::rulebook`; a
//! deputy of `[authority]` for the reply's extension: `Act::who_for`); the API,
//! the CLI and the console each ask it with their own means of knowing the
//! person, then call `record`. `record` holds the rest of the law
//! for every surface alike: the lifecycle only moves forward and nothing is
//! recorded on a closed appeal; an act is dated neither after today nor before
//! the appeal was received; and the deadlines the act meets or makes moot
//! (`Act::ends`) are met or ended in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::alerts::{AlertError, Alerts};
use crate::db::Tx;
use crate::deadlines::{DeadlineError, Deadlines, Event, Kind};
use crate::journal::{Amendment, Appeal, AppealId, ChainLock, Journal, JournalError, Status};
use crate::rulebook::Permitted;
use crate::rulebook::{Action, Role};

/// The chain's name for the Director's consent (10.6, 10.7).
pub const CONSENT: &str = "director_consent";
/// The chain's name for a routing to a unit (10.9).
pub const ROUTED: &str = "routed";
/// The chain's name for a forwarding to a competent body (10.7, 6.3).
pub const FORWARDED: &str = "forwarded";
/// The chain's name for the outcome "not considered" (6.3).
pub const NOT_CONSIDERED: &str = "not_considered";
/// The chain's name for closing the case.
pub const CLOSED: &str = "closed";

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
    /// `alerts.default_unit`, named "default unit"). Once sealing is on, the
    /// unit's mail carries the appeal's subject and substance only when the
    /// person sending it on opened them with their key and chose to send them
    /// (`text`, a recorded disclosure: 10.9); never the reporter's identity.
    Route {
        unit: String,
        text: Option<SentText>,
    },
    /// Sent, on paper or otherwise, to a competent body: the anti-corruption
    /// service once the Director has consented (10.7), or the competent state
    /// body of 6.3; with the dispatch's date, method and tracking reference.
    Forward {
        to: Body,
        on: NaiveDate,
        method: String,
        reference: String,
    },
    /// Not considered (6.3): anonymous without a criminal offence or a threat,
    /// or stating no facts of possible corruption; with the reason.
    NotConsidered { reason: String },
    /// The case is closed, with the reason.
    Close { reason: String },
}

/// The appeal's subject and substance as the person sending it on to a unit
/// opened them, for the unit's mail (10.9); never the reporter's identity. Kept
/// out of the chain (which records that they were sent) and out of any log.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SentText {
    pub subject: Option<String>,
    pub substance: Option<String>,
}

impl std::fmt::Debug for SentText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SentText(<confidential>)")
    }
}

impl SentText {
    /// What `appeal` says, opened (`Journal::open`).
    pub fn of(appeal: &Appeal) -> SentText {
        SentText {
            subject: appeal.subject.clone(),
            substance: appeal.substance.clone(),
        }
    }
}

crate::text_enum! {
    /// Where an appeal is forwarded.
    Body {
        /// The anti-corruption service (10.6, 10.7): only with the Director's consent.
        AntiCorruptionService = "anti_corruption_service",
        /// The competent state body of 6.3 (a criminal offence, a threat to
        /// state or public security), or the one competent for an appeal outside
        /// the enterprise's competence.
        CompetentBody = "competent_body",
    }
}

impl Act {
    /// The rulebook's action the act is (`crate::rulebook`: who may take it).
    pub fn action(&self) -> Action {
        match self {
            Act::Consent { .. } => Action::Consent,
            Act::Deadline(event) => match event {
                Event::ReplySent { .. } => Action::SendReply,
                Event::ReplyExtended { .. } => Action::ExtendReply,
                Event::CitizenNotified { .. } => Action::NotifyCitizen,
                Event::OutsideCompetence => Action::OutsideCompetence,
                Event::Redirected { .. } => Action::Redirect,
                Event::InvestigationOrdered { .. } => Action::OrderInvestigation,
                Event::InvestigationExtended { .. } => Action::ExtendInvestigation,
                Event::MaterialsRequested { .. } => Action::RequestMaterials,
                Event::MaterialsReceived { .. } => Action::ReceiveMaterials,
                Event::Decision { .. } => Action::Decide,
            },
            Act::Route { .. } => Action::Route,
            Act::Forward { .. } => Action::Forward,
            Act::NotConsidered { .. } => Action::NotConsider,
            Act::Close { .. } => Action::Close,
        }
    }

    /// The roles one of which the person recording the act must hold (the
    /// rulebook's).
    pub fn who(&self) -> &'static [Role] {
        self.action().roles()
    }

    /// Whether a deputy of the head may record the act in the Director's place:
    /// the reply's extension (APPK Art. 76; `Action::deputy_may`).
    pub fn deputy_may(&self) -> bool {
        self.action().deputy_may()
    }

    /// The roles one of which the person `login` must hold to record the act,
    /// `deputies` being the logins of `[authority] deputies`: any role for a
    /// deputy where a deputy may act (`deputy_may`), else `who`.
    pub fn who_for(&self, login: &str, deputies: &[String]) -> &'static [Role] {
        self.action().roles_for(login, deputies)
    }

    /// The dates on which the act says something happened (a reply sent, a
    /// dispatch, an order): none may be after the day it is recorded, nor before
    /// the day the appeal was received.
    pub fn happened_on(&self) -> Vec<NaiveDate> {
        match self {
            Act::Deadline(
                Event::ReplySent { on }
                | Event::CitizenNotified { on }
                | Event::Redirected { on }
                | Event::InvestigationOrdered { on }
                | Event::MaterialsRequested { on }
                | Event::Decision { on, .. },
            )
            | Act::Forward { on, .. } => vec![*on],
            Act::Deadline(Event::MaterialsReceived { on, requested_on }) => {
                std::iter::once(*on).chain(*requested_on).collect()
            }
            Act::Deadline(
                Event::ReplyExtended { .. }
                | Event::InvestigationExtended { .. }
                | Event::OutsideCompetence,
            )
            | Act::Consent { .. }
            | Act::Route { .. }
            | Act::NotConsidered { .. }
            | Act::Close { .. } => Vec::new(),
        }
    }

    /// What the act does to the appeal's other deadlines: those it meets (the
    /// triage is met by any outcome of it; a forwarding meets the threat's
    /// forwarding, and to a competent body the redirection), and those it makes
    /// moot, ended with the act's name (`Deadlines::end_in`): a forwarding to a
    /// competent body ends the reply, one to the anti-corruption service does
    /// not (the enterprise's own investigation and reply may follow, 10.7).
    pub fn ends(&self) -> (&'static [Kind], &'static [Kind]) {
        use Kind::*;
        match self {
            Act::Close { .. } => (
                &[],
                &[
                    Triage,
                    ThreatForward,
                    Reply,
                    ExtensionNotice,
                    Redirect,
                    Investigation,
                    Materials,
                ],
            ),
            Act::NotConsidered { .. } => (&[Triage], &[Reply, ExtensionNotice, Redirect]),
            // To a competent body (outside competence, 6.3): the enterprise's
            // part ends. To the anti-corruption service (10.7), its own work on
            // the report (an investigation, the reply) may go on.
            Act::Forward {
                to: Body::CompetentBody,
                ..
            } => (
                &[Triage, Redirect, ThreatForward],
                &[Reply, ExtensionNotice],
            ),
            Act::Forward { .. } => (&[Triage, ThreatForward], &[]),
            Act::Deadline(Event::Redirected { .. }) => (&[Triage], &[Reply, ExtensionNotice]),
            Act::Deadline(Event::OutsideCompetence) | Act::Route { .. } => (&[Triage], &[]),
            Act::Deadline(Event::ReplySent { .. }) => (&[], &[ExtensionNotice]),
            Act::Consent { .. } | Act::Deadline(_) => (&[], &[]),
        }
    }

    /// The status the act moves the appeal to, if any (`Case::record` moves it
    /// only ever further along, `Status::stage`, or to another status of the
    /// same stage: routed, then forwarded).
    pub fn moves_to(&self) -> Option<Status> {
        match self {
            Act::Route { .. } => Some(Status::Routed),
            Act::Forward { .. } | Act::Deadline(Event::Redirected { .. }) => {
                Some(Status::Forwarded)
            }
            Act::NotConsidered { .. } => Some(Status::NotConsidered),
            Act::Deadline(Event::InvestigationOrdered { .. }) => Some(Status::UnderInvestigation),
            Act::Deadline(Event::Decision { .. }) => Some(Status::Decided),
            Act::Deadline(Event::ReplySent { .. }) => Some(Status::Replied),
            Act::Close { .. } => Some(Status::Closed),
            Act::Consent { .. } | Act::Deadline(_) => None,
        }
    }

    /// Whether the act is one the investigation file records (`investigation`):
    /// the order, the extension, a request for materials and its receipt, the
    /// decision. Only the file records them, sealed or not, with its rules.
    pub fn belongs_to_the_investigation_file(&self) -> bool {
        matches!(
            self,
            Act::Deadline(
                Event::InvestigationOrdered { .. }
                    | Event::InvestigationExtended { .. }
                    | Event::MaterialsRequested { .. }
                    | Event::MaterialsReceived { .. }
                    | Event::Decision { .. }
            )
        )
    }

    /// The act's name in the audit chain.
    pub fn name(&self) -> &'static str {
        match self {
            Act::Consent { .. } => CONSENT,
            Act::Deadline(event) => event.name(),
            Act::Route { .. } => ROUTED,
            Act::Forward { .. } => FORWARDED,
            Act::NotConsidered { .. } => NOT_CONSIDERED,
            Act::Close { .. } => CLOSED,
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
    /// The permit given is for another action than the act's.
    #[error(transparent)]
    Denied(#[from] crate::rulebook::Denied),
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
            DeadlineError::Tampered(_) => ActError::Journal(JournalError::Corrupt(e.to_string())),
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
    /// Records `act` on appeal `id` in the name of the person the rulebook
    /// permitted it (`by`, a permit for `act.action()`, else refused): the
    /// chain's event, the deadlines and the routing mail, in one transaction;
    /// `now` and `today` (Astana) date it. Returns the appeal.
    pub async fn record(
        &self,
        id: AppealId,
        act: &Act,
        by: &Permitted,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Appeal, ActError> {
        by.covers(act.action())?;
        let actor = by.actor();
        let detail = self.detail(act)?;
        if act.belongs_to_the_investigation_file() {
            return Err(ActError::Invalid(format!(
                "{}: the investigation is recorded in its file \
                 (`senim investigation …`, the console's Investigations page), which records this act too",
                act.name()
            )));
        }
        if let Act::Forward {
            to: Body::AntiCorruptionService,
            ..
        } = act
        {
            require_consent(self.journal, id).await?;
        }
        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let (appeal, mails) = self
            .record_in(&mut tx, &mut chain, id, act, &detail, actor, now, today)
            .await?;
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

    /// Records `act` inside the caller's transaction, whose chain is already
    /// locked (`chain`): the chain's event with `detail` (`Case::detail`), the
    /// status it moves to, the deadlines and the routing mail. What `record`
    /// and the documents that are acts (`documents::Documents::reply`, the
    /// extension notice) share. Returns the appeal and whether mail was
    /// enqueued (wake the outbox after the commit).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_in(
        &self,
        tx: &mut Tx,
        chain: &mut ChainLock<'_>,
        id: AppealId,
        act: &Act,
        detail: &serde_json::Value,
        actor: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<(Appeal, bool), ActError> {
        let mut appeal = self.journal.get_in(tx, id).await?;
        if appeal.status == Status::Closed {
            return Err(ActError::Invalid(format!(
                "appeal {} is closed: nothing more is recorded on it",
                appeal.registration_number
            )));
        }
        if matches!(act, Act::Close { .. }) && appeal.status == Status::UnderInvestigation {
            return Err(ActError::Invalid(
                "status: an internal investigation is under way; it ends with the Director's decision (7.11)"
                    .into(),
            ));
        }
        self.check_dates(act, &appeal, today)?;
        chain.record(tx, &appeal, actor, act.name(), detail).await?;
        let further = |s: &Status| {
            s.stage() > appeal.status.stage()
                || (s.stage() == appeal.status.stage() && *s != appeal.status)
        };
        if let Some(status) = act.moves_to().filter(further) {
            appeal = chain
                .amend(
                    tx,
                    id,
                    Amendment::Status {
                        status,
                        reason: Some(act.name().to_owned()),
                    },
                    actor,
                )
                .await?;
        }
        let mut mails = false;
        match act {
            Act::Consent { .. }
            | Act::Forward { .. }
            | Act::NotConsidered { .. }
            | Act::Close { .. } => {}
            Act::Deadline(event) => {
                self.deadlines
                    .record_in(tx, &appeal, event, actor, now, today)
                    .await?
            }
            Act::Route { unit, text } => {
                let to = self.unit(unit)?;
                let mut shown = appeal.clone();
                if let Some(text) = text {
                    shown.subject = text.subject.clone();
                    shown.substance = text.substance.clone();
                }
                mails = self.alerts.route_in(tx, &shown, unit, to, now).await?;
            }
        }
        let on = act.happened_on().first().copied().unwrap_or(today);
        let (meets, ends) = act.ends();
        for kind in meets {
            self.deadlines.meet_in(tx, id, *kind, on).await?;
        }
        if !ends.is_empty() {
            self.deadlines
                .end_in(tx, chain, &appeal, ends, act.name(), on, actor)
                .await?;
        }
        Ok((appeal, mails))
    }

    /// Refuses an act dated after `today` (an act is recorded once it has
    /// happened) or before the day the appeal was received, and an extension to
    /// a day already past.
    fn check_dates(&self, act: &Act, appeal: &Appeal, today: NaiveDate) -> Result<(), ActError> {
        let received = self.deadlines.received_on(appeal);
        for on in act.happened_on() {
            if on > today {
                return Err(ActError::Invalid(format!(
                    "on: {on} is after today ({today}); an act is recorded once it has happened"
                )));
            }
            if on < received {
                return Err(ActError::Invalid(format!(
                    "on: {on} is before the appeal was received ({received})"
                )));
            }
        }
        if let Act::Deadline(
            Event::ReplyExtended { until, .. } | Event::InvestigationExtended { until, .. },
        ) = act
            && *until < today
        {
            return Err(ActError::Invalid(format!(
                "until: {until} is already past (today is {today})"
            )));
        }
        Ok(())
    }

    /// What the chain keeps of the act: never identity or appeal text.
    pub fn detail(&self, act: &Act) -> Result<serde_json::Value, ActError> {
        Ok(match act {
            Act::Consent { send, reason } => {
                let reason = if *send {
                    reason.trim()
                } else {
                    required(reason, "reason")?
                };
                json!({ "send": send, "reason": reason })
            }
            Act::Deadline(event) => {
                serde_json::to_value(event).map_err(|e| ActError::Invalid(format!("event: {e}")))?
            }
            Act::Route { unit, text } => {
                self.unit(unit)?;
                match text {
                    // Which fields went to the unit, never their values.
                    Some(_) => json!({ "unit": unit, "sent": ["subject", "substance"] }),
                    None => json!({ "unit": unit }),
                }
            }
            Act::Forward {
                to,
                on,
                method,
                reference,
            } => {
                let method = required(method, "method")?;
                json!({ "to": to, "on": on, "method": method, "reference": reference.trim() })
            }
            Act::NotConsidered { reason } | Act::Close { reason } => {
                json!({ "reason": required(reason, "reason")? })
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

/// Refuses unless the Director's last word on appeal `id` is to send the report
/// to the anti-corruption service (10.7): what a forwarding to it and its cover
/// letter (`documents`) need.
pub async fn require_consent(journal: &Journal, id: AppealId) -> Result<(), ActError> {
    let consents = journal.events_of_kind(CONSENT, &[id]).await?;
    let given = consents.last().is_some_and(|e| {
        serde_json::from_str::<serde_json::Value>(&e.detail)
            .is_ok_and(|d| d["send"] == serde_json::Value::Bool(true))
    });
    if given {
        Ok(())
    } else {
        Err(ActError::Invalid(
            "to: the report goes to the anti-corruption service only with the Director's consent (10.7)"
                .into(),
        ))
    }
}

/// `text` trimmed, or an error naming `field`.
fn required<'t>(text: &'t str, field: &str) -> Result<&'t str, ActError> {
    let text = text.trim();
    if text.is_empty() {
        Err(ActError::Invalid(format!("{field}: required")))
    } else {
        Ok(text)
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
    use crate::deadlines::InvestigationDecision;

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
                decision: InvestigationDecision::Disciplinary,
                on,
            }),
        ] {
            assert_eq!(act.who(), &[Role::Director], "{act:?}");
        }
        for act in [
            Act::Deadline(Event::ReplySent { on }),
            Act::Deadline(Event::MaterialsRequested { on }),
            Act::Route {
                unit: "HR".into(),
                text: None,
            },
        ] {
            assert!(act.who().contains(&Role::Manager), "{act:?}");
            assert!(act.who().contains(&Role::Director), "{act:?}");
        }
    }
}
