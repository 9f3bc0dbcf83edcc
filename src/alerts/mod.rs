//! The alert policy at work (clauses 10.6, 10.9, 6.3): what a classification
//! sends, the digest of appeals still unclassified at the cutoff, and the
//! escalation to the deputies of an alert not delivered in time. Owns the table
//! `alert_marks` (which appeal had which alert). Every decision takes `now` as an
//! argument; `scheduler` runs them on the clock.

pub mod arrival;
pub mod content;
pub mod policy;
pub mod scheduler;

use chrono::{DateTime, Days, NaiveDate, SubsecRound, Utc};
use lettre::message::Mailbox;

use crate::clock::SharedClock;
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::journal::{Appeal, AppealId, Category, Journal, ListFilter};
use crate::on_db;
use crate::outbox::{Mail, MailKind, Outbox, OutboxError};

pub use policy::Policy;

/// What can go wrong while alerting.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Deadlines(#[from] crate::deadlines::DeadlineError),
}

impl From<sqlx::Error> for AlertError {
    fn from(e: sqlx::Error) -> Self {
        AlertError::Outbox(e.into())
    }
}

const MARK_DIRECTOR: &str = "director";
const MARK_DIGEST: &str = "unclassified_digest";
/// The most appeals one digest names; more unclassified appeals of one day make
/// several digests, each marked in a transaction of its own.
const DIGEST_CHUNK: usize = 200;

/// The alerts: policy, outbox and Journal together.
#[derive(Clone)]
pub struct Alerts {
    policy: Policy,
    outbox: Outbox,
    journal: Journal,
    db: Db,
    clock: SharedClock,
}

impl Alerts {
    pub fn new(policy: Policy, outbox: Outbox, journal: Journal, clock: SharedClock) -> Self {
        let db = journal.db().clone();
        Self {
            policy,
            outbox,
            journal,
            db,
            clock,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    async fn enqueue(
        &self,
        tx: &mut Tx,
        mail: &Mail,
        now: DateTime<Utc>,
    ) -> Result<bool, AlertError> {
        Ok(self
            .outbox
            .enqueue_in(tx, &self.policy.from, mail, now)
            .await?
            .is_some())
    }

    /// Enqueues, inside the registration's transaction, the Director's alert about a
    /// call whose record the PBX delivered late (started at `call_started`): sent at
    /// once, not left for the next day's digest, which then leaves it out.
    pub async fn on_late_delivery_in(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
        call_started: DateTime<Utc>,
    ) -> Result<usize, AlertError> {
        let now = self.clock.now().trunc_subsecs(0);
        let p = &self.policy;
        let due_by = p.alert_due_by(appeal.registration_date);
        let mut count = 0;
        for to in &p.director {
            let mail = Mail {
                kind: MailKind::LateDeliveryAlert,
                dedupe_key: format!("late_delivery_alert:{}:{}", appeal.id, to.email),
                reference: appeal.registration_number.to_string(),
                appeal_id: Some(appeal.id.0),
                to: to.clone(),
                subject: content::late_delivery_subject(appeal),
                body: content::late_delivery_body(
                    appeal,
                    call_started,
                    p.include_identity,
                    due_by,
                    p.tz,
                ),
                urgent: false,
                due_by: Some(due_by),
                escalate_at: Some(p.escalate_at(due_by, now)),
            };
            count += usize::from(self.enqueue(tx, &mail, now).await?);
        }
        if count > 0 {
            mark_in(tx, appeal.id, MARK_DIGEST, now).await?;
        }
        Ok(count)
    }

    /// Enqueues, inside the classification's transaction, what a classification
    /// sends: a corruption alert to the Director; an urgent alert to the Director
    /// and the competent body (6.3); routing to a unit for not-corruption
    /// appeals, anonymous or not (10.9). Returns how many mails, and the unit
    /// the appeal was sent on to, if any (the caller records the routing).
    pub async fn on_classified_in(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
    ) -> Result<(usize, Option<String>), AlertError> {
        let now = self.clock.now().trunc_subsecs(0);
        let p = &self.policy;
        let tz = p.tz;
        let due_by = p.alert_due_by(appeal.registration_date);
        let number = appeal.registration_number.to_string();
        let mut count = 0;
        match appeal.category {
            Category::Corruption => {
                if p.director.is_empty() {
                    tracing::error!(registration_number = %number, "no alerts.director configured: the corruption alert cannot be sent");
                }
                for to in &p.director {
                    let mail = Mail {
                        kind: MailKind::CorruptionAlert,
                        dedupe_key: format!("corruption_alert:{}:{}", appeal.id, to.email),
                        reference: number.clone(),
                        appeal_id: Some(appeal.id.0),
                        to: to.clone(),
                        subject: content::corruption_subject(appeal),
                        body: content::corruption_body(appeal, p.include_identity, due_by, tz),
                        urgent: false,
                        due_by: Some(due_by),
                        escalate_at: Some(p.escalate_at(due_by, now)),
                    };
                    count += usize::from(self.enqueue(tx, &mail, now).await?);
                }
                mark_in(tx, appeal.id, MARK_DIRECTOR, now).await?;
            }
            Category::CriminalOffence => {
                let recipients: Vec<(&Mailbox, bool)> = p
                    .director
                    .iter()
                    .map(|m| (m, true))
                    .chain(p.competent_authority.iter().map(|m| (m, false)))
                    .collect();
                if p.competent_authority.is_empty() {
                    tracing::error!(registration_number = %number, "no alerts.competent_authority configured: clause 6.3 requires forwarding at once");
                }
                for (to, director) in recipients {
                    let mail = Mail {
                        kind: MailKind::UrgentAlert,
                        dedupe_key: format!("urgent_alert:{}:{}", appeal.id, to.email),
                        reference: number.clone(),
                        appeal_id: Some(appeal.id.0),
                        to: to.clone(),
                        subject: content::urgent_subject(appeal),
                        // The competent body gets what the law hands over; the
                        // identity follows the same switch as the Director's alert.
                        body: content::urgent_body(appeal, p.include_identity, tz),
                        urgent: true,
                        due_by: Some(due_by),
                        escalate_at: director.then(|| p.escalate_at(due_by, now)),
                    };
                    count += usize::from(self.enqueue(tx, &mail, now).await?);
                }
                mark_in(tx, appeal.id, MARK_DIRECTOR, now).await?;
            }
            Category::NotCorruption | Category::Unclassified => {}
        }
        // Appeals about something other than corruption go on to their unit at
        // once (10.9), anonymous or not. A corruption report, anonymous or
        // without an address included, goes to a unit only when the manager
        // decides (`cases::Act::Route`): 6.4 and 10.14 keep it from spreading.
        let mut routed = None;
        if appeal.category == Category::NotCorruption {
            match p.route(appeal) {
                Some((unit, to)) => {
                    count += usize::from(self.route_in(tx, appeal, &unit, to, now).await?);
                    routed = Some(unit);
                }
                None => {
                    tracing::warn!(registration_number = %number, "no unit in alerts.routes for this appeal; not routed")
                }
            }
        }
        Ok((count, routed))
    }

    /// Sends `appeal` on to `unit` at `to` (10.9): the routing mail, in `tx`;
    /// false if it was sent there already.
    pub async fn route_in(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
        unit: &str,
        to: Mailbox,
        now: DateTime<Utc>,
    ) -> Result<bool, AlertError> {
        let mail = Mail {
            kind: MailKind::Routing,
            // Sent again with its text (a sealed appeal opened by the person
            // sending it on) after a first mail without it.
            dedupe_key: format!(
                "routing:{}:{}:{}{}",
                appeal.id,
                appeal.category,
                to.email,
                if appeal.sealed.is_some() && !appeal.text().is_empty() {
                    ":text"
                } else {
                    ""
                }
            ),
            reference: appeal.registration_number.to_string(),
            appeal_id: Some(appeal.id.0),
            to,
            subject: content::routing_subject(appeal),
            body: content::routing_body(appeal, unit, self.policy.tz),
            urgent: false,
            due_by: None,
            escalate_at: None,
        };
        self.enqueue(tx, &mail, now).await
    }

    /// The digest at the cutoff: for every registration date whose cutoff has
    /// passed (looking back two weeks), the appeals still unclassified and not yet
    /// in a digest go to the Director in one mail. Returns how many appeals.
    pub async fn send_unclassified_digests(&self, now: DateTime<Utc>) -> Result<usize, AlertError> {
        let now = now.trunc_subsecs(0);
        let p = &self.policy;
        let today = now.with_timezone(&p.tz).date_naive();
        // Only dates whose digest time has passed; none before 10:00 on the day after.
        let Some(to) = (0..=3)
            .map(|back| today - Days::new(back))
            .find(|d| p.digest_at(*d) <= now)
        else {
            return Ok(0);
        };
        let filter = ListFilter {
            from: Some(today - Days::new(14)),
            to: Some(to),
            category: Some(Category::Unclassified),
            ..ListFilter::default()
        };
        // Every tick looks at ids and dates only; the appeals themselves are read
        // just for the digest that names them, a chunk at a time.
        let candidates = self.journal.list_keys(&filter).await?;
        let Some(lowest) = candidates.iter().map(|(id, _)| *id).min() else {
            return Ok(0);
        };
        let marked = self.marked_since(lowest).await?;
        let mut by_date: std::collections::BTreeMap<NaiveDate, Vec<AppealId>> = Default::default();
        for (id, date) in candidates {
            if !marked.contains(&id) {
                by_date.entry(date).or_default().push(id);
            }
        }
        let mut total = 0;
        for (date, ids) in by_date {
            // One digest per `DIGEST_CHUNK` appeals, each marked in its own short
            // transaction: intake never waits behind a long one.
            for chunk in ids.chunks(DIGEST_CHUNK) {
                let mut appeals = Vec::with_capacity(chunk.len());
                for id in chunk {
                    appeals.push(self.journal.get(*id).await?);
                }
                self.send_digest(date, &appeals, now).await?;
                total += appeals.len();
            }
        }
        if total > 0 {
            self.outbox.wake();
        }
        Ok(total)
    }

    /// Marks `appeals` (registered on `date`) as digested and queues their digest
    /// to the Director, in one transaction.
    async fn send_digest(
        &self,
        date: NaiveDate,
        appeals: &[Appeal],
        now: DateTime<Utc>,
    ) -> Result<(), AlertError> {
        let p = &self.policy;
        let due_by = p.alert_due_by(date);
        let first = appeals.first().map_or(0, |a| a.id.0);
        let mut tx = self.db.begin().await?;
        for appeal in appeals {
            mark_in(&mut tx, appeal.id, MARK_DIGEST, now).await?;
        }
        for to in &p.director {
            let mail = Mail {
                kind: MailKind::UnclassifiedDigest,
                dedupe_key: format!("unclassified_digest:{date}:{first}:{}", to.email),
                reference: format!("{date}"),
                appeal_id: None,
                to: to.clone(),
                subject: content::digest_subject(date, appeals.len()),
                body: content::digest_body(date, appeals, p.include_identity, due_by, p.tz),
                urgent: false,
                due_by: Some(due_by),
                escalate_at: Some(p.escalate_at(due_by, now)),
            };
            self.enqueue(&mut tx, &mail, now).await?;
        }
        tx.commit().await?;
        tracing::info!(registration_date = %date, appeals = appeals.len(), numbers = ?appeals.iter().map(|a| a.registration_number.to_string()).collect::<Vec<_>>(), "unclassified appeals in the Director's digest");
        Ok(())
    }

    /// Copies to the deputies every Director's alert not delivered by its
    /// escalation time (or refused for good); logs and counts each. Returns how many alerts.
    pub async fn escalate(&self, now: DateTime<Utc>) -> Result<usize, AlertError> {
        let now = now.trunc_subsecs(0);
        let p = &self.policy;
        let overdue = self.outbox.escalation_due(now).await?;
        for alert in &overdue {
            let original = match alert.appeal_id {
                Some(id) => match self.journal.get(AppealId(id)).await {
                    Ok(appeal) => {
                        content::appeal_block(&appeal, p.include_identity, alert.due_by, p.tz)
                    }
                    Err(e) => format!("(the appeal cannot be read: {e})"),
                },
                None => format!(
                    "Appeals of {} still unclassified: see the Journal.",
                    alert.reference
                ),
            };
            let mut tx = self.db.begin().await?;
            Outbox::mark_escalated_in(&mut tx, alert.id, now).await?;
            for to in &p.deputies {
                let mail = Mail {
                    kind: MailKind::Escalation,
                    dedupe_key: format!("escalation:{}:{}", alert.id, to.email),
                    reference: alert.reference.clone(),
                    appeal_id: alert.appeal_id,
                    to: to.clone(),
                    subject: content::escalation_subject(&alert.reference),
                    body: content::escalation_body(
                        &alert.kind,
                        &alert.reference,
                        alert.due_by,
                        &alert.state,
                        alert.last_error.as_deref(),
                        &original,
                        p.tz,
                    ),
                    urgent: true,
                    due_by: alert.due_by,
                    escalate_at: None,
                };
                self.enqueue(&mut tx, &mail, now).await?;
            }
            tx.commit().await?;
            metrics::counter!("senim_alerts_escalated_total", "kind" => alert.kind.clone())
                .increment(1);
            tracing::error!(
                outbox_id = alert.id,
                kind = %alert.kind,
                reference = %alert.reference,
                state = %alert.state,
                deputies = p.deputies.len(),
                "ALERT NOT DELIVERED to the Director in time: escalated to the deputies"
            );
        }
        if !overdue.is_empty() {
            self.outbox.wake();
        }
        Ok(overdue.len())
    }

    /// Appeals from `lowest` on that were already digested or alerted.
    async fn marked_since(
        &self,
        lowest: AppealId,
    ) -> Result<std::collections::HashSet<AppealId>, AlertError> {
        let ids: Vec<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT appeal_id FROM alert_marks WHERE appeal_id >= $1 AND kind IN ($2, $3)",
        )
        .bind(lowest.0)
        .bind(MARK_DIGEST)
        .bind(MARK_DIRECTOR)
        .fetch_all(pool)
        .await)?;
        Ok(ids.into_iter().map(AppealId).collect())
    }
}

async fn mark_in(
    tx: &mut Tx,
    id: AppealId,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<(), AlertError> {
    execute_in!(tx, sqlx::query(
        "INSERT INTO alert_marks (appeal_id, kind, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(id.0)
    .bind(kind)
    .bind(now))?;
    Ok(())
}
