//! The alert policy from `[alerts]`: who is told, when an alert is due, and where
//! appeals are routed. The configuration has parsed every value already.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

use crate::config::{Address, AlertsConfig, SmtpConfig};
use crate::deadlines::Deadlines;
use crate::journal::{Appeal, Category};
use crate::triage::lexicon::contains_word;

/// One structural unit of the routing table (10.9).
#[derive(Clone, Debug)]
pub struct Route {
    pub unit: String,
    pub address: Mailbox,
    pub categories: Vec<Category>,
    /// Lower-case.
    pub keywords: Vec<String>,
}

/// The checked `[alerts]` section.
#[derive(Clone, Debug)]
pub struct Policy {
    pub tz: Tz,
    pub from: Mailbox,
    pub director: Vec<Mailbox>,
    pub deputies: Vec<Mailbox>,
    pub competent_authority: Vec<Mailbox>,
    pub managers: Vec<Mailbox>,
    pub auditors: Vec<Mailbox>,
    pub cutoff: NaiveTime,
    pub escalate_before: chrono::Duration,
    pub include_identity: bool,
    pub arrival_notice: bool,
    pub digest_time: NaiveTime,
    pub routes: Vec<Route>,
    pub default_unit: Option<Mailbox>,
}

fn mailboxes(list: &[Address]) -> Vec<Mailbox> {
    list.iter().map(|a| a.0.clone()).collect()
}

impl Policy {
    pub fn from_config(alerts: &AlertsConfig, smtp: &SmtpConfig, tz: Tz) -> Policy {
        let routes = alerts
            .routes
            .iter()
            .map(|r| Route {
                unit: r.unit.clone(),
                address: r.address.0.clone(),
                categories: r.categories.clone(),
                keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
            })
            .collect();
        Policy {
            tz,
            from: smtp.from.0.clone(),
            director: mailboxes(&alerts.director),
            deputies: mailboxes(&alerts.deputies),
            competent_authority: mailboxes(&alerts.competent_authority),
            managers: mailboxes(&alerts.managers),
            auditors: mailboxes(&alerts.auditors),
            cutoff: *alerts.digest_cutoff,
            escalate_before: chrono::Duration::hours(i64::from(alerts.escalate_hours_before)),
            include_identity: alerts.include_identity,
            arrival_notice: alerts.arrival_notice,
            digest_time: *alerts.deadline_digest_time,
            routes,
            default_unit: alerts.default_unit.as_ref().map(|a| a.0.clone()),
        }
    }

    /// A local wall-clock time as an instant (the earlier one if ambiguous; Astana
    /// has no daylight saving, so that never happens there).
    pub fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map_or_else(|| local.and_utc(), |t| t.to_utc())
    }

    /// When the Director's alert about an appeal registered on
    /// `registration_date` is due: the rule is `deadlines`' (clause 10.6).
    pub fn alert_due_by(&self, registration_date: NaiveDate) -> DateTime<Utc> {
        Deadlines::director_alert_due(registration_date, self.tz)
    }

    /// When still-unclassified appeals of `registration_date` go in the digest.
    pub fn digest_at(&self, registration_date: NaiveDate) -> DateTime<Utc> {
        self.instant(registration_date + Days::new(1), self.cutoff)
    }

    /// When an alert still undelivered goes to the deputies: `escalate_hours_before`
    /// its deadline, but never sooner than ten minutes after it was enqueued, so
    /// the sender has its chance.
    pub fn escalate_at(&self, due_by: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        (due_by - self.escalate_before).max(now + chrono::Duration::minutes(10))
    }

    /// The unit an appeal is sent on to: the first route naming its category or a
    /// keyword of its text, else the default unit.
    pub fn route(&self, appeal: &Appeal) -> Option<(String, Mailbox)> {
        let text = appeal.triage_text().to_lowercase();
        self.routes
            .iter()
            .find(|r| {
                r.categories.contains(&appeal.category)
                    || r.keywords.iter().any(|k| contains_word(&text, k))
            })
            .map(|r| (r.unit.clone(), r.address.clone()))
            .or_else(|| {
                self.default_unit
                    .clone()
                    .map(|a| ("default unit".to_owned(), a))
            })
    }
}
