//! `[alerts]`: who is told what and when (10.6, 10.9, 6.3), and the routing
//! table of units (`[[alerts.routes]]`).

use serde::{Deserialize, Serialize};

use super::values;
use super::{Address, Seconds, TimeOfDay};

/// Who is told what, and when (clauses 10.6, 10.9, 6.3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The Director General's address(es): corruption alerts and the digest.
    pub director: Vec<Address>,
    /// Deputies, told too when an alert is still undelivered near its deadline.
    pub deputies: Vec<Address>,
    /// The competent state body's address for criminal offences and threats (6.3).
    pub competent_authority: Vec<Address>,
    /// The compliance manager(s): the 09:00 digest of deadlines.
    pub managers: Vec<Address>,
    /// The auditors: the audit chain's signed head, daily (`journal.publish_head_time`).
    pub auditors: Vec<Address>,
    /// Astana time on the day after registration when still-unclassified appeals
    /// go to the Director in one digest.
    pub digest_cutoff: TimeOfDay,
    /// Hours before an alert's deadline (23:59:59 on the day after registration)
    /// at which an undelivered alert also goes to the deputies.
    pub escalate_hours_before: u32,
    /// Whether alerts carry the reporter's identity (a state secret, 10.5).
    pub include_identity: bool,
    /// Whether the managers are told of every new appeal at once, after hours
    /// too (6.3). A threat to security is told to them and the Director whatever
    /// this says.
    pub arrival_notice: bool,
    /// Astana time of the manager's deadline digest on working days.
    pub deadline_digest_time: TimeOfDay,
    /// Seconds between two runs of the scheduler.
    pub interval_seconds: Seconds,
    /// The unit that gets appeals no route below matches (10.9); none by default.
    #[serde(deserialize_with = "values::empty_is_none")]
    pub default_unit: Option<Address>,
    /// Structural units that not-corruption appeals are sent on to (10.9), and
    /// that the manager may send any appeal on to; first match wins.
    pub routes: Vec<RouteConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            director: Vec::new(),
            deputies: Vec::new(),
            competent_authority: Vec::new(),
            managers: Vec::new(),
            auditors: Vec::new(),
            digest_cutoff: TimeOfDay::hm(10, 0),
            escalate_hours_before: 6,
            include_identity: false,
            arrival_notice: true,
            deadline_digest_time: TimeOfDay::hm(9, 0),
            interval_seconds: Seconds::new(30),
            default_unit: None,
            routes: Vec::new(),
        }
    }
}

/// One row of the routing table: a unit, its address, and what it gets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub unit: String,
    pub address: Address,
    /// Categories (`not_corruption`, `corruption`, ...) this unit gets.
    #[serde(default)]
    pub categories: Vec<crate::journal::Category>,
    /// Words in the subject or substance (case-insensitive) that send an appeal here.
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl AlertsConfig {
    /// The `[alerts]` values serde cannot check.
    pub(super) fn check(&self) -> Result<(), String> {
        let alerts = self;
        if alerts.escalate_hours_before > 23 {
            return Err("alerts.escalate_hours_before must be between 0 and 23".into());
        }
        if alerts.interval_seconds.get() == 0 {
            return Err("alerts.interval_seconds must be at least 1".into());
        }
        for (i, route) in alerts.routes.iter().enumerate() {
            let key = format!("alerts.routes[{i}]");
            if route.unit.trim().is_empty() {
                return Err(format!("{key}.unit must not be empty"));
            }
            if route.categories.is_empty() && route.keywords.is_empty() {
                return Err(format!("{key}: give categories or keywords (or both)"));
            }
        }
        Ok(())
    }
}
