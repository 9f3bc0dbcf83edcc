//! What an appeal is: the domain types of the Journal (clauses 10.6, 10.9, 6.3).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The Journal's own id of an appeal (database key; not shown to citizens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppealId(pub i64);

impl fmt::Display for AppealId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A registration number such as `TL-2026-000042`: prefix, year of registration and
/// a gapless per-year sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegistrationNumber {
    pub prefix: String,
    pub year: i32,
    pub seq: u32,
}

impl RegistrationNumber {
    pub fn new(prefix: &str, year: i32, seq: u32) -> Self {
        Self {
            prefix: prefix.to_owned(),
            year,
            seq,
        }
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.prefix, self.year, self.seq)
    }
}

impl FromStr for RegistrationNumber {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a registration number like TL-2026-000042");
        let mut parts = s.rsplitn(3, '-');
        let seq = parts.next().ok_or_else(bad)?;
        let year = parts.next().ok_or_else(bad)?;
        let prefix = parts.next().filter(|p| !p.is_empty()).ok_or_else(bad)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            year: year.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl TryFrom<String> for RegistrationNumber {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RegistrationNumber> for String {
    fn from(n: RegistrationNumber) -> String {
        n.to_string()
    }
}

crate::text_enum! {
    /// How the appeal reached the enterprise (clause 10.1).
    Channel { Phone = "phone", Email = "email", Web = "web", Other = "other" }
}

crate::text_enum! {
    /// The manager's classification (clauses 10.6, 10.9, 6.3).
    Category {
        Unclassified = "unclassified",
        Corruption = "corruption",
        NotCorruption = "not_corruption",
        /// A criminal offence being prepared or committed, or a threat to state or
        /// public security (6.3): forwarded at once, even when anonymous.
        CriminalOffence = "criminal_offence",
    }
}

crate::text_enum! {
    /// Where the appeal stands in its handling.
    Status {
        /// Registered and waiting for triage.
        Registered = "registered",
        /// A phone call registered from the PBX; the operator has yet to enter what
        /// the caller said (clause 10.5).
        AwaitingOperatorNotes = "awaiting_operator_notes",
        /// Classified: in triage, being worked on.
        InReview = "in_review",
        /// Sent on to a structural unit of the enterprise (10.9).
        Routed = "routed",
        /// Sent to the competent body: the anti-corruption service with the
        /// Director's consent (10.7), or outside the enterprise's competence (6.3).
        Forwarded = "forwarded",
        /// Not considered (6.3): anonymous without a criminal offence or threat,
        /// or stating no facts; with the reason.
        NotConsidered = "not_considered",
        /// An internal investigation is ordered (10.10).
        UnderInvestigation = "under_investigation",
        /// The Director decided on the commission's conclusion (7.11).
        Decided = "decided",
        /// The reply went to the citizen (10.8).
        Replied = "replied",
        Closed = "closed",
    }
}

impl Status {
    /// How far along its life an appeal with this status is: a status set by
    /// what happens to an appeal (`cases`) only ever moves it further.
    pub fn stage(self) -> u8 {
        match self {
            Status::Registered | Status::AwaitingOperatorNotes => 0,
            Status::InReview => 1,
            Status::Routed | Status::Forwarded | Status::NotConsidered => 2,
            Status::UnderInvestigation => 3,
            Status::Decided => 4,
            Status::Replied => 5,
            Status::Closed => 6,
        }
    }

    /// Whether the case ends with this status: forwarded to a competent body,
    /// found "not considered", decided, replied or closed. The records schedule
    /// counts from the last such change (`Journal::ended_appeals`); an appeal
    /// that moves on again (a forwarded report then investigated) is no longer
    /// ended.
    pub fn ends_the_case(self) -> bool {
        matches!(
            self,
            Status::Forwarded
                | Status::NotConsidered
                | Status::Decided
                | Status::Replied
                | Status::Closed
        )
    }
}

crate::text_enum! {
    /// What the operator tells every caller before taking the appeal (clause
    /// 10.5), each point ticked as said and kept in the Journal.
    ScriptPoint {
        /// Their own name and position.
        OwnNameAndPosition = "own_name_and_position",
        /// That the line takes only reports of corruption by the enterprise's
        /// employees.
        LineScope = "line_scope",
        /// That information about a person who helps fight corruption is a state
        /// secret.
        StateSecretWarning = "state_secret_warning",
        /// That it is handed over only as the law provides, and that disclosing
        /// it carries liability.
        DisclosureLiability = "disclosure_liability",
    }
}

impl ScriptPoint {
    /// The points of the script not among `said`, in the script's order.
    pub fn missing_from(said: &[ScriptPoint]) -> Vec<ScriptPoint> {
        Self::ALL
            .iter()
            .copied()
            .filter(|p| !said.contains(p))
            .collect()
    }
}

/// The reporter as they gave themselves; any field may be missing (clause 10.5).
/// This is a state secret: it never goes to logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub postal_address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl fmt::Debug for Reporter {
    /// Redacted, so that a stray `{:?}` cannot leak an identity into a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reporter(<confidential>)")
    }
}

impl Reporter {
    /// Anonymous: neither a name nor an organisation is given (clauses 6.3, 10.9).
    pub fn is_anonymous(&self) -> bool {
        blank(&self.name) && blank(&self.organisation)
    }

    /// No address for the reply: neither a postal nor an e-mail address (10.9).
    pub fn has_no_return_address(&self) -> bool {
        blank(&self.postal_address) && blank(&self.email)
    }

    /// The same reporter with blank fields as `None` and the rest trimmed.
    pub fn normalised(self) -> Self {
        Self {
            name: clean(self.name),
            organisation: clean(self.organisation),
            postal_address: clean(self.postal_address),
            phone: clean(self.phone),
            email: clean(self.email),
        }
    }
}

fn blank(field: &Option<String>) -> bool {
    field.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// Trims a free-text field; blank becomes `None`.
pub fn clean(field: Option<String>) -> Option<String> {
    field.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// What identifies an appeal's item outside Senim, e.g. `pbx-call` +
/// `asterisk:1700000000.42`, or `imap` + `INBOX/1700000000/57`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    pub kind: String,
    pub key: String,
}

impl SourceRef {
    pub fn new(kind: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.key)
    }
}

/// An appeal about to be registered.
#[derive(Clone, Debug)]
pub struct NewAppeal {
    pub received_at: DateTime<Utc>,
    pub channel: Channel,
    pub reporter: Reporter,
    pub subject: Option<String>,
    pub substance: Option<String>,
    pub status: Status,
    /// The outside item this appeal is; registering it again returns the first
    /// registration.
    pub source: SourceRef,
    /// Further references to the same item (a Message-ID, a hash of the raw bytes):
    /// if any of them is already registered, so is this appeal.
    pub also_known_as: Vec<SourceRef>,
    /// Who registers it, for the audit log (`pbx`, `mailbox`, `cli:<user>`, ...).
    pub actor: String,
}

/// An appeal named by id (`42`) or registration number (`TL-2026-000042`), as the
/// CLI and the HTTP API accept it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppealKey {
    Id(AppealId),
    Number(RegistrationNumber),
}

impl FromStr for AppealKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(id) = s.parse::<i64>() {
            return Ok(AppealKey::Id(AppealId(id)));
        }
        s.parse()
            .map(AppealKey::Number)
            .map_err(|_| format!("`{s}` is neither an appeal id nor a registration number"))
    }
}

/// An appeal as registered in the Journal.
#[derive(Clone, Debug, Serialize)]
pub struct Appeal {
    pub id: AppealId,
    pub registration_number: RegistrationNumber,
    pub received_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub registration_date: NaiveDate,
    pub channel: Channel,
    pub reporter: Reporter,
    pub anonymous: bool,
    pub no_return_address: bool,
    pub subject: Option<String>,
    pub substance: Option<String>,
    pub category: Category,
    pub status: Status,
    pub updated_at: DateTime<Utc>,
    /// Sealed (10.5, 10.14): the digest of the appeal's envelopes, which hold its
    /// identity and text; the fields above are then empty, until a person's key
    /// opens them (`Journal::open`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// Of a sealed appeal: the triage lexicon's words and the routing keywords
    /// found in its text at intake, what triage and routing work from afterwards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

impl Appeal {
    /// The appeal without what 10.5 and 10.14 keep confidential: the reporter's
    /// identity and what they wrote. The flags (anonymous, no return address) stay.
    pub fn redacted(&self) -> Appeal {
        Appeal {
            reporter: Reporter::default(),
            subject: None,
            substance: None,
            ..self.clone()
        }
    }

    /// The names of the confidential fields that differ between `self` and `other`
    /// (`reporter.name`, `subject`, ...): what the audit log records of a change to
    /// them, never the values.
    pub fn changed_fields(&self, other: &Appeal) -> Vec<&'static str> {
        let (a, b) = (&self.reporter, &other.reporter);
        [
            ("reporter.name", a.name != b.name),
            ("reporter.organisation", a.organisation != b.organisation),
            (
                "reporter.postal_address",
                a.postal_address != b.postal_address,
            ),
            ("reporter.phone", a.phone != b.phone),
            ("reporter.email", a.email != b.email),
            ("subject", self.subject != other.subject),
            ("substance", self.substance != other.substance),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// What triage suggests from and routing matches on: the text, or, of a sealed
    /// appeal, the words found in it at intake.
    pub fn triage_text(&self) -> String {
        let text = self.text();
        if text.is_empty() && !self.terms.is_empty() {
            return self.terms.join(" ");
        }
        text
    }

    /// What the appeal says: its subject and substance, one per line (either may
    /// be missing).
    pub fn text(&self) -> String {
        join_text(self.subject.as_deref(), self.substance.as_deref())
    }
}

/// A subject and a substance, one per line (either may be missing).
pub fn join_text(subject: Option<&str>, substance: Option<&str>) -> String {
    [subject, substance]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The outcome of registering: a new entry, or the one the same item already has.
#[derive(Clone, Debug)]
pub enum Registration {
    New(Appeal),
    Existing(Appeal),
}

impl Registration {
    pub fn appeal(&self) -> &Appeal {
        match self {
            Registration::New(a) | Registration::Existing(a) => a,
        }
    }

    pub fn into_appeal(self) -> Appeal {
        match self {
            Registration::New(a) | Registration::Existing(a) => a,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Registration::New(_))
    }
}

/// The audit event of a recorded correction of an appeal's details.
pub const CORRECTED: &str = "details_corrected";

/// The audit event of an appeal's destruction under the records schedule.
pub const DESTROYED: &str = "destroyed";

/// A change to a registered appeal; each one becomes an event in the audit log.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Amendment {
    /// The operator's or manager's record of who the reporter is and what they said.
    Details {
        reporter: Option<Reporter>,
        subject: Option<String>,
        substance: Option<String>,
    },
    Classify {
        category: Category,
        reason: String,
    },
    Status {
        status: Status,
        reason: Option<String>,
    },
    /// A further message about the appeal, kept by its channel (a reply to the
    /// mailbox's receipt, say); `reference` names it there, without its content.
    Correspondence {
        channel: Channel,
        reference: String,
        /// It came from an address other than the reporter's: registration numbers
        /// are guessable, so anyone can write "about" an appeal. Left out of the
        /// audit detail when false (as before the flag existed).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unverified_sender: bool,
    },
    /// A recorded correction of the reporter's details or the appeal's subject
    /// and substance (a manager's or the Director's, with the reason): the fields
    /// written replace theirs, and the earlier values stay as the law's record
    /// (plain: `appeal_earlier_values`; sealed: the earlier envelopes). The audit
    /// log names the fields and the reason, never a value.
    Corrected {
        fields: super::sealed::Confidential,
        reason: String,
    },
    /// The operator said these points of the clause-10.5 script to the caller.
    ScriptConfirmed {
        points: Vec<ScriptPoint>,
    },
    /// The records schedule's period of a closed appeal ran out (`senim journal
    /// purge`): the reporter's identity, the subject and the substance are erased.
    /// The audit log names the fields erased, never their values, and `elsewhere`
    /// counts what the channels destroyed of the appeal in the same transaction
    /// (`mail_messages`, `recordings`, ...).
    Destroyed {
        reason: String,
        #[serde(default)]
        elsewhere: std::collections::BTreeMap<String, u64>,
    },
}

impl Amendment {
    /// What the audit log records of the amendment that turned `before` into
    /// `after`: for details, the names of the fields that changed, never their
    /// values (the log is append-only; an identity written there could never be
    /// erased); for the others, the amendment itself.
    pub fn audit_detail(&self, before: &Appeal, after: &Appeal) -> serde_json::Value {
        match self {
            Amendment::Details { .. } => {
                serde_json::json!({ "changed": before.changed_fields(after) })
            }
            Amendment::Corrected { fields, reason } => serde_json::json!({
                "corrected": fields.written(),
                "reason": reason,
            }),
            Amendment::Destroyed { reason, elsewhere } => serde_json::json!({
                "reason": reason,
                "erased": before.changed_fields(after),
                "elsewhere": elsewhere,
            }),
            other => serde_json::to_value(other).unwrap_or_default(),
        }
    }

    /// The event kind written to the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Amendment::Details { .. } => "details_recorded",
            Amendment::Classify { .. } => "classified",
            Amendment::Status { .. } => "status_changed",
            Amendment::Correspondence { .. } => "correspondence_added",
            Amendment::Corrected { .. } => CORRECTED,
            Amendment::ScriptConfirmed { .. } => "script_confirmed",
            Amendment::Destroyed { .. } => DESTROYED,
        }
    }
}

/// Which appeals `Journal::list` returns.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub channel: Option<Channel>,
    pub category: Option<Category>,
    pub status: Option<Status>,
    pub limit: Option<u32>,
    /// How many of the matching appeals to skip first (paging; with `limit`).
    pub offset: Option<u32>,
    /// Newest registration first (the console's Journal page).
    pub newest_first: bool,
    /// Only these appeals (the console's "overdue" filter, whose appeals
    /// `deadlines` knows); `Some` of none matches nothing.
    pub ids: Option<Vec<AppealId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_number_round_trips() {
        let n = RegistrationNumber::new("TL", 2026, 42);
        assert_eq!(n.to_string(), "TL-2026-000042");
        assert_eq!("TL-2026-000042".parse::<RegistrationNumber>(), Ok(n));
        assert_eq!(
            "KZ-TL-2026-000007"
                .parse::<RegistrationNumber>()
                .map(|n| n.prefix),
            Ok("KZ-TL".to_owned())
        );
        assert!("2026-000042".parse::<RegistrationNumber>().is_err());
        assert!("TL-20x6-000042".parse::<RegistrationNumber>().is_err());
    }

    #[test]
    fn an_appeal_is_named_by_id_or_registration_number() {
        assert_eq!("42".parse::<AppealKey>(), Ok(AppealKey::Id(AppealId(42))));
        assert_eq!(
            "TL-2026-000042".parse::<AppealKey>(),
            Ok(AppealKey::Number(RegistrationNumber::new("TL", 2026, 42)))
        );
        let err = "-2026-1".parse::<AppealKey>().unwrap_err();
        assert!(
            err.contains("neither an appeal id nor a registration number"),
            "{err}"
        );
    }

    #[test]
    fn anonymity_and_return_address_follow_the_fields_given() {
        let nobody = Reporter::default();
        assert!(nobody.is_anonymous() && nobody.has_no_return_address());
        let named = Reporter {
            name: Some("Айгүл".into()),
            ..Reporter::default()
        };
        assert!(!named.is_anonymous() && named.has_no_return_address());
        let blank_name = Reporter {
            name: Some("  ".into()),
            email: Some("a@b.kz".into()),
            ..Default::default()
        };
        assert!(blank_name.is_anonymous() && !blank_name.has_no_return_address());
    }

    #[test]
    fn reporter_debug_is_redacted() {
        let r = Reporter {
            name: Some("Secret Name".into()),
            ..Reporter::default()
        };
        assert!(!format!("{r:?}").contains("Secret"));
    }
}
