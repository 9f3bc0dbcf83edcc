//! The alert policy from `[alerts]`: who is told, when an alert is due, and where
//! appeals are routed. Addresses are parsed once, here.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

use crate::config::{AlertsConfig, ConfigError, SmtpConfig, time_of_day};
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
    pub cutoff: NaiveTime,
    pub escalate_before: chrono::Duration,
    pub include_identity: bool,
    pub digest_time: NaiveTime,
    pub routes: Vec<Route>,
    pub default_unit: Option<Mailbox>,
}

fn mailboxes(key: &str, list: &[String]) -> Result<Vec<Mailbox>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, a)| mailbox(&format!("{key}[{i}]"), a))
        .collect()
}

fn mailbox(key: &str, address: &str) -> Result<Mailbox, ConfigError> {
    address
        .parse()
        .map_err(|e| ConfigError::new(format!("{key}: `{address}` is not an e-mail address: {e}")))
}

impl Policy {
    pub fn from_config(
        alerts: &AlertsConfig,
        smtp: &SmtpConfig,
        tz: Tz,
    ) -> Result<Policy, ConfigError> {
        let mut routes = Vec::new();
        for (i, r) in alerts.routes.iter().enumerate() {
            let key = format!("alerts.routes[{i}]");
            routes.push(Route {
                unit: r.unit.clone(),
                address: mailbox(&format!("{key}.address"), &r.address)?,
                categories: r
                    .categories
                    .iter()
                    .map(|c| {
                        c.parse()
                            .map_err(|e: String| ConfigError::new(format!("{key}.categories: {e}")))
                    })
                    .collect::<Result<_, _>>()?,
                keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
            });
        }
        Ok(Policy {
            tz,
            from: mailbox("smtp.from", &smtp.from)?,
            director: mailboxes("alerts.director", &alerts.director)?,
            deputies: mailboxes("alerts.deputies", &alerts.deputies)?,
            competent_authority: mailboxes(
                "alerts.competent_authority",
                &alerts.competent_authority,
            )?,
            managers: mailboxes("alerts.managers", &alerts.managers)?,
            cutoff: time_of_day("alerts.digest_cutoff", &alerts.digest_cutoff)?,
            escalate_before: chrono::Duration::hours(i64::from(alerts.escalate_hours_before)),
            include_identity: alerts.include_identity,
            digest_time: time_of_day("alerts.deadline_digest_time", &alerts.deadline_digest_time)?,
            routes,
            default_unit: match alerts.default_unit.as_str() {
                "" => None,
                a => Some(mailbox("alerts.default_unit", a)?),
            },
        })
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
        let text = appeal.text().to_lowercase();
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
