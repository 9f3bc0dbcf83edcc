//! The investigation file (7.3–7.11): what the Director ordered and the
//! commission did, readable only by the Director, the managers and the
//! commission's members (7.9), with the same rules whether the Journal is
//! sealed or not. Owns the tables `investigation_files`,
//! `investigation_members`, `investigation_grants` and `investigation_entries`
//! (`store.rs`).
//!
//! - **Entries** (`Entry`): the order (its number and date, the commission's
//!   members), a change of the commission, the extension with the reference of
//!   the Director's written decision (7.5), each request for materials (from
//!   whom, what; 7.8: one working day each) and its receipt, the commission's
//!   reasoned conclusion (7.10), the decision (7.11). Who records which is
//!   `Entry::who` (the order, the commission, the extension and the decision are
//!   the Director's).
//! - **In the chain, in one transaction**: each entry is an `investigation_entry`
//!   event of the appeal's audit chain giving its number, kind and the SHA-256 of
//!   its bytes at rest (never its content; a conclusion's also whether the
//!   report was found substantiated, 10.13); an entry that is also an act of
//!   `cases` (the order, the extension, a request, a receipt, the decision) is
//!   recorded as that act too (`Case::record_in`: the deadlines and the status
//!   follow). Opening the file is an `investigation_read` event naming the
//!   person; a change of who holds the file's key an `investigation_access`.
//! - **Sealing**: each file has a key of its own (`sealing::FileKey`); its entries
//!   are sealed to it; the key is kept only wrapped to the escrow and to the own
//!   key of each person who may read it, so the office key, which every reader
//!   of the Journal holds, does not open it. A reader who enrolled after the
//!   order gets the key the next time someone who holds it opens the file.
//! - **Without sealing** (no office key yet) the file is kept plain (its
//!   `recipient` is empty, its entries' bytes are the entry's JSON), read by the
//!   same people by role and membership; `senim keys init` seals it in place
//!   (`Investigations::seal_existing_in`: a key made and wrapped, each entry
//!   sealed, an `investigation_sealed` event giving each entry's new SHA-256).

mod store;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cases::{Act, ActError, Case};
use crate::clock::SharedClock;
use crate::db::{Db, Tx};
use crate::deadlines::{Event, InvestigationDecision};
use crate::journal::{Appeal, AppealId, ChainLock, Journal, JournalError, Status};
use crate::persons::{Person, Persons, Role};
use crate::sealing::{FileKey, Keys, SealError, TrustedKey, Unlocked, seal_to_file};

/// The chain's name for an entry of the file.
pub const ENTRY: &str = "investigation_entry";
/// The chain's name for a reading of the file.
pub const READ: &str = "investigation_read";
/// The chain's name for a change of who holds the file's key.
pub const ACCESS: &str = "investigation_access";
/// The chain's name for a plain file sealed in place (`senim keys init`): each
/// entry's new SHA-256.
pub const SEALED: &str = "investigation_sealed";

/// The `recipient` of a file kept plain (no office key yet).
const PLAIN: &str = "";

/// The longest text an entry's field takes (a conclusion, a decision's text).
const MAX_TEXT: usize = 50_000;
/// The longest short field (a number, a name, a reference).
const MAX_FIELD: usize = 500;

crate::text_enum! {
    /// What an entry is (stored plain beside the sealed entry).
    EntryKind {
        Ordered = "ordered",
        Commission = "commission",
        Extended = "extended",
        MaterialsRequested = "materials_requested",
        MaterialsReceived = "materials_received",
        Conclusion = "conclusion",
        Decided = "decided",
    }
}

/// A member of the commission: a person who works the line (`login`, who then
/// reads the file and records in it) or someone from outside, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    pub name: String,
    #[serde(default)]
    pub position: String,
}

impl Member {
    /// A member who works the line, by login (the name is taken from the
    /// persons list when the entry is recorded).
    pub fn person(login: &str) -> Member {
        Member {
            login: Some(login.trim().to_owned()),
            name: String::new(),
            position: String::new(),
        }
    }

    /// A member from outside, as written: "Name, position".
    pub fn outside(text: &str) -> Member {
        let (name, position) = text.split_once(',').unwrap_or((text, ""));
        Member {
            login: None,
            name: name.trim().to_owned(),
            position: position.trim().to_owned(),
        }
    }
}

/// One entry of the file, as sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// The Director's order setting up the commission (7.5: ten working days
    /// from it).
    Ordered {
        number: String,
        on: NaiveDate,
        members: Vec<Member>,
    },
    /// The commission, changed by the Director.
    Commission { on: NaiveDate, members: Vec<Member> },
    /// The investigation extended to `until` by the Director's written decision
    /// (`reference`: its number and date), for `reason`.
    Extended {
        until: NaiveDate,
        reference: String,
        reason: String,
    },
    /// The commission asked `from` (a unit, an employee) for `what` (7.8: one
    /// working day). Numbered 1, 2, … in the file (`request`).
    MaterialsRequested {
        request: i64,
        on: NaiveDate,
        from: String,
        what: String,
    },
    /// Request `request` was answered on `on`.
    MaterialsReceived {
        request: i64,
        on: NaiveDate,
        #[serde(default)]
        note: String,
    },
    /// The commission's reasoned conclusion (7.10), finding the report
    /// substantiated or not (required; counted by the report, 10.13).
    Conclusion {
        on: NaiveDate,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        substantiated: Option<bool>,
    },
    /// The Director's decision after the conclusion (7.11), with its text
    /// (required for "other measures").
    Decided {
        decision: InvestigationDecision,
        on: NaiveDate,
        #[serde(default)]
        text: String,
    },
}

/// Only the Director orders, names the commission, extends and decides.
const DIRECTOR: &[Role] = &[Role::Director];
/// The commission's work: the Director, the managers and the members.
const COMMISSION_WORK: &[Role] = &[Role::Director, Role::Manager];

impl Entry {
    pub fn kind(&self) -> EntryKind {
        match self {
            Entry::Ordered { .. } => EntryKind::Ordered,
            Entry::Commission { .. } => EntryKind::Commission,
            Entry::Extended { .. } => EntryKind::Extended,
            Entry::MaterialsRequested { .. } => EntryKind::MaterialsRequested,
            Entry::MaterialsReceived { .. } => EntryKind::MaterialsReceived,
            Entry::Conclusion { .. } => EntryKind::Conclusion,
            Entry::Decided { .. } => EntryKind::Decided,
        }
    }

    /// The roles that may record it; a member of the commission may record
    /// what `COMMISSION_WORK` may (`Investigations::record` checks both).
    pub fn who(&self) -> &'static [Role] {
        match self {
            Entry::Ordered { .. }
            | Entry::Commission { .. }
            | Entry::Extended { .. }
            | Entry::Decided { .. } => DIRECTOR,
            Entry::MaterialsRequested { .. }
            | Entry::MaterialsReceived { .. }
            | Entry::Conclusion { .. } => COMMISSION_WORK,
        }
    }

    /// The entry's date (plain in the table, as the chain's act gives it).
    fn dated(&self) -> NaiveDate {
        match self {
            Entry::Ordered { on, .. }
            | Entry::Commission { on, .. }
            | Entry::MaterialsRequested { on, .. }
            | Entry::MaterialsReceived { on, .. }
            | Entry::Conclusion { on, .. }
            | Entry::Decided { on, .. } => *on,
            Entry::Extended { until, .. } => *until,
        }
    }

    fn request(&self) -> Option<i64> {
        match self {
            Entry::MaterialsRequested { request, .. }
            | Entry::MaterialsReceived { request, .. } => Some(*request),
            _ => None,
        }
    }

    fn members(&self) -> Option<&[Member]> {
        match self {
            Entry::Ordered { members, .. } | Entry::Commission { members, .. } => Some(members),
            _ => None,
        }
    }

    /// Checks the fields alone, the dates between the day the appeal was
    /// received and today (Astana); the error names the field.
    fn check(&self, today: NaiveDate, received: NaiveDate) -> Result<(), InvestigationError> {
        let day = |on: &NaiveDate, field: &str| {
            if *on > today {
                Err(invalid(format!("{field}: {on} is in the future")))
            } else if *on < received {
                Err(invalid(format!(
                    "{field}: {on} is before the appeal was received ({received})"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Entry::Ordered {
                number,
                on,
                members,
            } => {
                field(number, "number", MAX_FIELD)?;
                day(on, "on")?;
                check_members(members)
            }
            Entry::Commission { on, members } => {
                day(on, "on")?;
                check_members(members)
            }
            Entry::Extended {
                until,
                reference,
                reason,
            } => {
                if *until <= today {
                    return Err(invalid(format!("until: {until} is not after today")));
                }
                field(reference, "reference", MAX_FIELD)?;
                field(reason, "reason", MAX_TEXT)
            }
            Entry::MaterialsRequested { on, from, what, .. } => {
                day(on, "on")?;
                field(from, "from", MAX_FIELD)?;
                field(what, "what", MAX_TEXT)
            }
            Entry::MaterialsReceived { on, note, .. } => {
                day(on, "on")?;
                too_long(note, "note", MAX_TEXT)
            }
            Entry::Conclusion {
                on,
                text,
                substantiated,
            } => {
                day(on, "on")?;
                field(text, "text", MAX_TEXT)?;
                if substantiated.is_none() {
                    return Err(invalid(
                        "substantiated: required (yes or no: whether the commission found the report substantiated)"
                            .into(),
                    ));
                }
                Ok(())
            }
            Entry::Decided { decision, on, text } => {
                day(on, "on")?;
                if *decision == InvestigationDecision::OtherMeasures {
                    field(text, "text", MAX_TEXT)
                } else {
                    too_long(text, "text", MAX_TEXT)
                }
            }
        }
    }

    /// The act of `cases` the entry is, if any: what moves the deadlines and
    /// the status.
    fn act(&self, requested_on: Option<NaiveDate>) -> Option<Act> {
        Some(Act::Deadline(match self {
            Entry::Ordered { on, .. } => Event::InvestigationOrdered { on: *on },
            Entry::Extended {
                until, reference, ..
            } => Event::InvestigationExtended {
                until: *until,
                reason: format!("written decision {reference}"),
            },
            Entry::MaterialsRequested { on, .. } => Event::MaterialsRequested { on: *on },
            Entry::MaterialsReceived { on, .. } => Event::MaterialsReceived {
                on: *on,
                requested_on,
            },
            Entry::Decided { decision, on, .. } => Event::Decision {
                decision: *decision,
                on: *on,
            },
            Entry::Commission { .. } | Entry::Conclusion { .. } => return None,
        }))
    }
}

fn invalid(text: String) -> InvestigationError {
    InvestigationError::Invalid(text)
}

fn too_long(text: &str, name: &str, max: usize) -> Result<(), InvestigationError> {
    if text.chars().count() > max {
        Err(invalid(format!("{name}: longer than {max} characters")))
    } else {
        Ok(())
    }
}

fn field(text: &str, name: &str, max: usize) -> Result<(), InvestigationError> {
    if text.trim().is_empty() {
        return Err(invalid(format!("{name}: required")));
    }
    too_long(text, name, max)
}

fn check_members(members: &[Member]) -> Result<(), InvestigationError> {
    if members.is_empty() {
        return Err(invalid(
            "members: the commission needs at least one member".into(),
        ));
    }
    for m in members {
        field(&m.name, "members: name", MAX_FIELD)?;
        too_long(&m.position, "members: position", MAX_FIELD)?;
    }
    Ok(())
}

/// What can go wrong with the file.
#[derive(Debug, thiserror::Error)]
pub enum InvestigationError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error("{0}")]
    Sealing(#[from] crate::sealing::SealError),
    /// The person may not do this; the text says who may.
    #[error("{0}")]
    Forbidden(String),
    /// The file is sealed and was not opened with a key.
    #[error("{0}")]
    Locked(String),
    /// There is no file on this appeal.
    #[error("{0}")]
    NotFound(String),
    /// The entry does not fit the file or lacks what it needs; the text names it.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for InvestigationError {
    fn from(e: sqlx::Error) -> Self {
        InvestigationError::Journal(e.into())
    }
}

/// Who is asking: a person who works the line.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub login: &'a str,
    pub roles: &'a [Role],
}

impl Who<'_> {
    fn actor(&self) -> String {
        format!("person:{}", self.login)
    }

    fn has_any(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    /// Whether they may read the file whose members are `members` (7.9).
    fn may_read(&self, members: &[String]) -> bool {
        self.has_any(COMMISSION_WORK) || members.iter().any(|m| m == self.login)
    }
}

/// A recorded entry, opened.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub seq: i64,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub entry: Entry,
}

/// A file, opened by one person.
#[derive(Clone, Debug, Serialize)]
pub struct File {
    pub appeal_id: AppealId,
    pub registration_number: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    /// Whether it is sealed (once the office key exists).
    pub sealed: bool,
    /// Who holds the file's key (`person:<login>`, `escrow`); for a file not
    /// yet sealed, who may read it.
    pub readers: Vec<String>,
    pub entries: Vec<Recorded>,
}

impl File {
    /// The order: its number and date.
    pub fn order(&self) -> Option<(&str, NaiveDate)> {
        self.entries.iter().find_map(|r| match &r.entry {
            Entry::Ordered { number, on, .. } => Some((number.as_str(), *on)),
            _ => None,
        })
    }

    /// The commission as it stands (the last order or change).
    pub fn members(&self) -> &[Member] {
        self.entries
            .iter()
            .rev()
            .find_map(|r| r.entry.members())
            .unwrap_or(&[])
    }

    /// Each request for materials with the date it was answered, if it was.
    pub fn requests(&self) -> Vec<(&Entry, Option<NaiveDate>)> {
        self.entries
            .iter()
            .filter(|r| r.entry.kind() == EntryKind::MaterialsRequested)
            .map(|r| {
                let answered = self.entries.iter().find_map(|a| match a.entry {
                    Entry::MaterialsReceived { request, on, .. }
                        if Some(request) == r.entry.request() =>
                    {
                        Some(on)
                    }
                    _ => None,
                });
                (&r.entry, answered)
            })
            .collect()
    }
}

/// A file as the list shows it, without opening it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub appeal_id: AppealId,
    pub registration_number: String,
    pub status: Status,
    pub opened_at: DateTime<Utc>,
    /// The kinds of its entries, in order, with their dates.
    pub entries: Vec<(EntryKind, NaiveDate)>,
    /// Whether the person asking is a member of the commission.
    pub member: bool,
}

/// Persons, the escrow's public key, persons' own public keys by login (each
/// verified, or the refusal of its row).
type People = (Vec<Person>, Option<TrustedKey>, PersonKeys);

type PersonKeys = std::collections::BTreeMap<String, Result<TrustedKey, crate::sealing::SealError>>;

/// What the file is worked with.
pub struct Investigations<'a> {
    pub journal: &'a Journal,
    pub case: Case<'a>,
    pub persons: &'a Persons,
    /// The sealing keys: the escrow's and persons' public keys, verified.
    pub keys: Keys,
    pub db: &'a Db,
    pub clock: &'a SharedClock,
    pub tz: chrono_tz::Tz,
}

impl Investigations<'_> {
    fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.tz).date_naive()
    }

    /// What is read before a transaction: who works the line, the public
    /// halves of their own keys by login, and the escrow's (once the office
    /// key exists).
    async fn people(&self) -> Result<People, InvestigationError> {
        let persons = self
            .persons
            .list()
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let escrow = self.keys.current().await?.map(|r| r.escrow_key());
        Ok((persons, escrow, self.keys.recipients().await?))
    }

    /// Records `entry` on appeal `id` as `who`, with the act it is, in one
    /// transaction. `unlocked` (the person's key, if they opened it) lets a
    /// change of the commission hand the file's key to the new members at once.
    /// Returns the entry's number in the file.
    pub async fn record(
        &self,
        id: AppealId,
        entry: Entry,
        who: Who<'_>,
        unlocked: Option<&Unlocked>,
    ) -> Result<i64, InvestigationError> {
        let now = self.clock.now();
        let today = self.today();
        let actor = who.actor();
        let (persons, escrow, recipients) = self.people().await?;
        // An order recorded as a plain act before sealing is not recorded twice.
        let ordered_before = match &entry {
            Entry::Ordered { on, .. } => !self
                .journal
                .events_of_kind(Event::InvestigationOrdered { on: *on }.name(), &[id])
                .await?
                .is_empty(),
            _ => false,
        };
        let entry = resolve_members(entry, &persons)?;

        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        if appeal.status == Status::Closed {
            return Err(invalid(format!(
                "appeal {} is closed",
                appeal.registration_number
            )));
        }
        let received = appeal.received_at.with_timezone(&self.tz).date_naive();
        entry.check(today, received)?;
        let file = store::file_in(&mut tx, id).await?;
        let members = store::members_in(&mut tx, id).await?;
        let is_member = members.iter().any(|m| m == who.login);
        let allowed = who.has_any(entry.who())
            || (is_member && entry.who() == COMMISSION_WORK && file.is_some());
        if !allowed {
            return Err(InvestigationError::Forbidden(format!(
                "{}: recorded only by {}",
                entry.kind(),
                if entry.who() == DIRECTOR {
                    "the Director"
                } else {
                    "the Director, a manager or a member of the commission"
                }
            )));
        }
        let plain = store::plain_in(&mut tx, id).await?;
        let count = |kind: EntryKind| plain.iter().filter(|(k, ..)| k == kind.as_str()).count();
        let mut requested_on = None;
        let entry = match (entry, &file) {
            (Entry::Ordered { .. }, Some(_)) => {
                return Err(invalid(format!(
                    "an investigation of {} is ordered already: record a change of the commission instead",
                    appeal.registration_number
                )));
            }
            (e @ Entry::Ordered { .. }, None) => e,
            (_, None) => {
                return Err(InvestigationError::NotFound(format!(
                    "no investigation of {} is ordered",
                    appeal.registration_number
                )));
            }
            (_, Some(_)) if count(EntryKind::Decided) > 0 => {
                return Err(invalid(format!(
                    "the investigation of {} is decided",
                    appeal.registration_number
                )));
            }
            (Entry::Decided { .. }, Some(_)) if count(EntryKind::Conclusion) == 0 => {
                return Err(invalid(
                    "decision: the commission's reasoned conclusion comes first (7.10, 7.11)"
                        .into(),
                ));
            }
            (Entry::MaterialsRequested { on, from, what, .. }, Some(_)) => {
                Entry::MaterialsRequested {
                    request: count(EntryKind::MaterialsRequested) as i64 + 1,
                    on,
                    from,
                    what,
                }
            }
            (Entry::MaterialsReceived { request, on, note }, Some(_)) => {
                let asked = plain.iter().find(|(k, _, r)| {
                    k == EntryKind::MaterialsRequested.as_str() && *r == Some(request)
                });
                let Some((_, asked_on, _)) = asked else {
                    return Err(invalid(format!("request: there is no request {request}")));
                };
                if plain.iter().any(|(k, _, r)| {
                    k == EntryKind::MaterialsReceived.as_str() && *r == Some(request)
                }) {
                    return Err(invalid(format!(
                        "request: request {request} was answered already"
                    )));
                }
                if on < *asked_on {
                    return Err(invalid(format!(
                        "on: {on} is before the request ({asked_on})"
                    )));
                }
                requested_on = Some(*asked_on);
                Entry::MaterialsReceived { request, on, note }
            }
            (e, Some(_)) => e,
        };

        // Sealed to a key of its own once the office key exists; plain before
        // (`senim keys init` seals it then).
        let (recipient, key) = match (&file, &escrow) {
            (Some(f), Some(_)) if f.recipient == PLAIN => {
                return Err(invalid(
                    "the investigation file is still plain while the office key exists: `senim keys init` seals it"
                        .into(),
                ));
            }
            (Some(f), _) => (f.recipient.clone(), None),
            (None, Some(_)) => {
                let key = FileKey::generate();
                store::insert_file(&mut tx, id, &key.recipient(), now, &actor).await?;
                (key.recipient(), Some(key))
            }
            (None, None) => {
                store::insert_file(&mut tx, id, PLAIN, now, &actor).await?;
                (PLAIN.to_owned(), None)
            }
        };
        if let Some(members) = entry.members() {
            let logins: Vec<String> = members.iter().filter_map(|m| m.login.clone()).collect();
            store::set_members(&mut tx, id, &logins).await?;
        }
        let bytes = serde_json::to_vec(&entry).map_err(|e| invalid(format!("entry: {e}")))?;
        let stored = if recipient == PLAIN {
            bytes
        } else {
            seal_to_file(&recipient, &bytes)?
        };
        let seq = store::append(
            &mut tx,
            id,
            entry.kind(),
            entry.dated(),
            entry.request(),
            now,
            &actor,
            &stored,
        )
        .await?;
        let mut detail = json!({ "seq": seq, "entry": entry.kind(), "sha256": sha256(&stored) });
        // Whether the report was found substantiated is not confidential: the
        // report counts it (10.13).
        if let Entry::Conclusion {
            substantiated: Some(found),
            ..
        } = &entry
        {
            detail["substantiated"] = json!(found);
        }
        chain
            .record(&mut tx, &appeal, &actor, ENTRY, &detail)
            .await?;
        // The file's key for who may read it now: at the order, the key just
        // made; at a change of the commission, the Director's if she opened it.
        let opened = match (key, unlocked, &file) {
            (Some(key), ..) => Some(key),
            (None, Some(unlocked), Some(_)) if entry.members().is_some() => {
                self.file_key_in(&mut tx, id, unlocked).await.ok()
            }
            _ => None,
        };
        if let Some(key) = &opened {
            let members = store::members_in(&mut tx, id).await?;
            let readers = eligible(&persons, &members, &recipients, escrow.as_ref())?;
            sync_grants_in(&mut tx, &mut chain, &appeal, key, &readers, &actor, now).await?;
        }
        let mut mails = false;
        if let Some(act) = entry.act(requested_on).filter(|_| !ordered_before) {
            let detail = self.case.detail(&act)?;
            let (_, m) = self
                .case
                .record_in(&mut tx, &mut chain, id, &act, &detail, &actor, now, today)
                .await?;
            mails = m;
        }
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        if mails {
            self.case.alerts.outbox().wake();
        }
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            entry = %entry.kind(),
            seq,
            actor,
            "investigation entry recorded"
        );
        Ok(seq)
    }

    /// The file's key, opened with `unlocked` from its wrap to that person
    /// (or to the escrow).
    async fn file_key_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        unlocked: &Unlocked,
    ) -> Result<FileKey, InvestigationError> {
        let grants = store::grants_in(tx, id).await?;
        let reader = &unlocked.actor;
        let wrapped = grants
            .iter()
            .find(|(r, _)| r == reader)
            .map(|(_, w)| w)
            .ok_or_else(|| {
                InvestigationError::Forbidden(format!(
                    "{reader} holds no key to this file yet: someone who holds it opens the file to hand it on (their own key must exist: `senim keys enroll`)"
                ))
            })?;
        Ok(FileKey::unwrap(unlocked, wrapped)?)
    }

    /// Opens the file of appeal `id` as `who`, with their key if it is sealed:
    /// an `investigation_read` event names them (and the key, `null` for a
    /// plain file); readers who may read a sealed file and have enrolled since
    /// get the key (an `investigation_access` event). A sealed file without
    /// `unlocked` is `Locked`.
    pub async fn open(
        &self,
        id: AppealId,
        who: Who<'_>,
        unlocked: Option<&Unlocked>,
    ) -> Result<File, InvestigationError> {
        let now = self.clock.now();
        let actor = who.actor();
        let (persons, escrow, recipients) = self.people().await?;
        // Each entry's first hash: of the plain JSON for one sealed in place,
        // which the opened bytes must then match.
        let first: std::collections::BTreeMap<i64, String> = self
            .journal
            .events_of_kind(ENTRY, &[id])
            .await?
            .iter()
            .filter_map(|e| {
                let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
                Some((d["seq"].as_i64()?, d["sha256"].as_str()?.to_owned()))
            })
            .collect();

        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        let file = store::file_in(&mut tx, id).await?.ok_or_else(|| {
            InvestigationError::NotFound(format!(
                "no investigation of {} is ordered",
                appeal.registration_number
            ))
        })?;
        let members = store::members_in(&mut tx, id).await?;
        if !who.may_read(&members) {
            return Err(InvestigationError::Forbidden(
                "the investigation file is read only by the Director, the managers and the commission's members (7.9)".into(),
            ));
        }
        let key = match (file.recipient == PLAIN, unlocked) {
            (true, _) => None,
            (false, Some(unlocked)) => Some(self.file_key_in(&mut tx, id, unlocked).await?),
            (false, None) => {
                return Err(InvestigationError::Locked(
                    "the investigation file is sealed: open it with your own key (or the escrow)"
                        .into(),
                ));
            }
        };
        let mut entries = Vec::new();
        for row in store::entries_in(&mut tx, id).await? {
            let bytes = match &key {
                Some(key) => {
                    let opened = key.open(&row.sealed)?;
                    let recorded = first.get(&row.seq);
                    let sealed_in_place = recorded.is_some_and(|h| *h != sha256(&row.sealed));
                    if sealed_in_place && recorded != Some(&sha256(&opened)) {
                        return Err(JournalError::Corrupt(format!(
                            "investigation entry {}: sealed in place, it differs from what was recorded",
                            row.seq
                        ))
                        .into());
                    }
                    opened
                }
                None => row.sealed,
            };
            let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| {
                JournalError::Corrupt(format!("investigation entry {}: {e}", row.seq))
            })?;
            entries.push(Recorded {
                seq: row.seq,
                recorded_at: row.recorded_at,
                actor: row.actor,
                entry,
            });
        }
        if let Some(key) = &key {
            let readers = eligible(&persons, &members, &recipients, escrow.as_ref())?;
            sync_grants_in(&mut tx, &mut chain, &appeal, key, &readers, &actor, now).await?;
        }
        // The person reads; the key they opened it with (theirs, or the
        // escrow) is named beside them.
        chain
            .record(
                &mut tx,
                &appeal,
                &actor,
                READ,
                &json!({ "key": unlocked.filter(|_| key.is_some()).map(|u| &u.actor) }),
            )
            .await?;
        let readers = if key.is_some() {
            store::grants_in(&mut tx, id)
                .await?
                .into_iter()
                .map(|(r, _)| r)
                .collect()
        } else {
            // A plain file is read by role and membership (7.9).
            persons
                .iter()
                .filter(|p| may_hold(p, &members))
                .map(Person::actor)
                .collect()
        };
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            actor,
            "investigation file opened"
        );
        Ok(File {
            appeal_id: id,
            registration_number: appeal.registration_number.to_string(),
            opened_at: file.opened_at,
            opened_by: file.opened_by,
            sealed: key.is_some(),
            readers,
            entries,
        })
    }

    /// Whether appeal `id` has a file, and whether `who` may read it.
    pub async fn exists(
        &self,
        id: AppealId,
        who: Who<'_>,
    ) -> Result<Option<bool>, InvestigationError> {
        // Read without a write transaction: a page view takes no write lock.
        let file = store::file(self.db, id).await?;
        let members = store::members(self.db, id).await?;
        Ok(file.map(|_| who.may_read(&members)))
    }

    /// The files `who` may read, without opening them.
    pub async fn list(&self, who: Who<'_>) -> Result<Vec<Listed>, InvestigationError> {
        let files = store::files(self.db).await?;
        let members = store::all_members(self.db).await?;
        let kinds = store::all_kinds(self.db).await?;
        let mut listed = Vec::new();
        for file in files {
            let of: Vec<String> = members
                .iter()
                .filter(|(a, _)| *a == file.appeal_id)
                .map(|(_, l)| l.clone())
                .collect();
            if !who.may_read(&of) {
                continue;
            }
            let appeal = self.journal.get(AppealId(file.appeal_id)).await?;
            listed.push(Listed {
                appeal_id: appeal.id,
                registration_number: appeal.registration_number.to_string(),
                status: appeal.status,
                opened_at: file.opened_at,
                entries: kinds
                    .iter()
                    .filter(|(a, ..)| *a == file.appeal_id)
                    .filter_map(|(_, k, d)| k.parse().ok().map(|k| (k, *d)))
                    .collect(),
                member: of.iter().any(|l| l == who.login),
            });
        }
        Ok(listed)
    }

    /// Checks each entry's bytes at rest against the last SHA-256 the chain
    /// holds of it: its `investigation_entry` event's, or, for a file sealed in
    /// place, its `investigation_sealed` event's; returns what does not match.
    pub async fn verify(&self) -> Result<Vec<String>, InvestigationError> {
        let rows = store::all_sealed(self.db).await?;
        let ids: Vec<AppealId> = rows
            .iter()
            .map(|(a, ..)| AppealId(*a))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut events = self.journal.events_of_kind(ENTRY, &ids).await?;
        events.extend(self.journal.events_of_kind(SEALED, &ids).await?);
        events.sort_by_key(|e| e.seq);
        let mut hashes = std::collections::BTreeMap::new();
        for e in &events {
            let Ok(d) = serde_json::from_str::<serde_json::Value>(&e.detail) else {
                continue;
            };
            let listed = if e.kind == SEALED {
                d["entries"].as_array().cloned().unwrap_or_default()
            } else {
                vec![d]
            };
            for x in listed {
                if let (Some(seq), Some(hash)) = (x["seq"].as_i64(), x["sha256"].as_str()) {
                    hashes.insert((e.appeal_id, seq), hash.to_owned());
                }
            }
        }
        let mut findings = Vec::new();
        for (appeal, seq, stored) in &rows {
            match hashes.get(&(*appeal, *seq)) {
                Some(hash) if *hash == sha256(stored) => {}
                Some(_) => findings.push(format!(
                    "investigation file of appeal {appeal}: entry {seq} differs from the chain's SHA-256"
                )),
                None => findings.push(format!(
                    "investigation file of appeal {appeal}: entry {seq} is not in the chain"
                )),
            }
        }
        Ok(findings)
    }

    /// Seals every plain file in place (`senim keys init`, in its transaction,
    /// once the office key is in it): each gets a key of its own, wrapped to the
    /// escrow and to each reader with a key (an `investigation_access` event),
    /// each entry's bytes are replaced by their sealing, and an
    /// `investigation_sealed` event gives each entry's new SHA-256 (the first,
    /// of the plain bytes, stays in its `investigation_entry` event). Returns
    /// the number of files sealed.
    pub async fn seal_existing_in(
        &self,
        tx: &mut Tx,
        actor: &str,
    ) -> Result<u64, InvestigationError> {
        let plain = store::plain_files_in(tx).await?;
        if plain.is_empty() {
            return Ok(0);
        }
        let escrow = self
            .keys
            .current_in(tx)
            .await?
            .map(|r| r.escrow_key())
            .ok_or_else(|| invalid("no office key to seal the investigation files to".into()))?;
        let persons = self
            .persons
            .list()
            .await
            .map_err(|e| invalid(e.to_string()))?;
        let recipients = self.keys.recipients().await?;
        let now = self.clock.now();
        let mut chain = self.journal.lock_chain(tx).await?;
        let mut count = 0;
        for id in plain {
            let appeal = self.journal.get_in(tx, id).await?;
            let key = FileKey::generate();
            store::set_recipient(tx, id, &key.recipient()).await?;
            let mut hashes = Vec::new();
            for row in store::entries_in(tx, id).await? {
                let sealed = seal_to_file(&key.recipient(), &row.sealed)?;
                store::replace_bytes(tx, id, row.seq, &sealed).await?;
                hashes.push(json!({ "seq": row.seq, "sha256": sha256(&sealed) }));
            }
            chain
                .record(tx, &appeal, actor, SEALED, &json!({ "entries": hashes }))
                .await?;
            let members = store::members_in(tx, id).await?;
            let readers = eligible(&persons, &members, &recipients, Some(&escrow))?;
            sync_grants_in(tx, &mut chain, &appeal, &key, &readers, actor, now).await?;
            count += 1;
        }
        chain.finish(tx).await?;
        Ok(count)
    }
}

/// Drops the wraps of every file's key to `login` (the reader removed from the
/// keys, in the rotation's transaction).
pub async fn revoke_in(tx: &mut Tx, login: &str) -> Result<u64, sqlx::Error> {
    store::delete_grants_of(tx, &format!("person:{login}")).await
}

/// Erases appeal `id`'s file (retention, in the appeal's destruction).
pub async fn destroy_for_appeal_in(tx: &mut Tx, id: AppealId) -> Result<u64, sqlx::Error> {
    store::destroy_in(tx, id).await
}

/// A member given by login gets the person's name where none is given; a
/// login that names no active person is refused.
fn resolve_members(entry: Entry, persons: &[Person]) -> Result<Entry, InvestigationError> {
    let resolve = |members: Vec<Member>| -> Result<Vec<Member>, InvestigationError> {
        members
            .into_iter()
            .map(|mut m| {
                if let Some(login) = &m.login {
                    let person = persons
                        .iter()
                        .find(|p| p.login == *login && p.disabled_at.is_none())
                        .ok_or_else(|| {
                            invalid(format!(
                                "members: no active person with the login {login:?}"
                            ))
                        })?;
                    if m.name.trim().is_empty() {
                        m.name = person.full_name.clone();
                    }
                }
                Ok(m)
            })
            .collect()
    };
    Ok(match entry {
        Entry::Ordered {
            number,
            on,
            members,
        } => Entry::Ordered {
            number,
            on,
            members: resolve(members)?,
        },
        Entry::Commission { on, members } => Entry::Commission {
            on,
            members: resolve(members)?,
        },
        other => other,
    })
}

/// Whether `p` may read the file whose members who work the line are
/// `members`: an active Director, manager or member (7.9).
fn may_hold(p: &Person, members: &[String]) -> bool {
    p.disabled_at.is_none()
        && (p.roles.iter().any(|r| COMMISSION_WORK.contains(r)) || members.contains(&p.login))
}

/// Who may hold the file's key: the escrow, and each active Director, manager
/// and member who has a key of their own; (reader, public key). A person who may
/// hold it but whose key's row does not verify fails it all, naming them: the
/// file's key is never wrapped to a planted key, nor is the file silently kept
/// from a reader.
fn eligible(
    persons: &[Person],
    members: &[String],
    recipients: &PersonKeys,
    escrow: Option<&TrustedKey>,
) -> Result<Vec<(String, TrustedKey)>, InvestigationError> {
    let mut readers: Vec<(String, TrustedKey)> = escrow
        .map(|e| ("escrow".to_owned(), e.clone()))
        .into_iter()
        .collect();
    for p in persons.iter().filter(|p| may_hold(p, members)) {
        match recipients.get(&p.login) {
            None => {}
            Some(Ok(public)) => readers.push((p.actor(), public.clone())),
            Some(Err(_)) => {
                return Err(SealError::Unverified(format!(
                    "the key of `{}` is not signed by this installation's key (edited or planted \
                     outside Senim): the file's key is wrapped to nobody until it is enrolled anew",
                    p.login
                ))
                .into());
            }
        }
    }
    Ok(readers)
}

/// Makes the file's key held by exactly `readers`: wraps it to those who lack
/// it, drops it from those who may no longer read; records the change.
async fn sync_grants_in(
    tx: &mut Tx,
    chain: &mut ChainLock<'_>,
    appeal: &Appeal,
    key: &FileKey,
    readers: &[(String, TrustedKey)],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), InvestigationError> {
    let held: Vec<String> = store::grants_in(tx, appeal.id)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let mut granted = Vec::new();
    for (reader, public) in readers {
        if !held.contains(reader) {
            store::insert_grant(tx, appeal.id, reader, &key.wrap_to(public)?, now, actor).await?;
            granted.push(reader.clone());
        }
    }
    let mut revoked = Vec::new();
    for reader in held {
        if !readers.iter().any(|(r, _)| *r == reader) {
            store::delete_grant(tx, appeal.id, &reader).await?;
            revoked.push(reader);
        }
    }
    if !granted.is_empty() || !revoked.is_empty() {
        chain
            .record(
                tx,
                appeal,
                actor,
                ACCESS,
                &json!({ "granted": granted, "revoked": revoked }),
            )
            .await?;
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn an_entry_names_the_field_it_lacks() {
        let today = date(2026, 12, 16);
        let registered = date(2026, 12, 1);
        let cases = [
            (
                Entry::Ordered {
                    number: " ".into(),
                    on: today,
                    members: vec![],
                },
                "number: required",
            ),
            (
                Entry::Ordered {
                    number: "12-П".into(),
                    on: today,
                    members: vec![],
                },
                "members: the commission needs at least one member",
            ),
            (
                Entry::Conclusion {
                    on: date(2026, 12, 17),
                    text: "x".into(),
                    substantiated: Some(true),
                },
                "on: 2026-12-17 is in the future",
            ),
            (
                Entry::Conclusion {
                    on: today,
                    text: "x".into(),
                    substantiated: None,
                },
                "substantiated: required (yes or no: whether the commission found the report substantiated)",
            ),
            (
                Entry::MaterialsRequested {
                    request: 0,
                    on: date(2026, 11, 30),
                    from: "HR".into(),
                    what: "x".into(),
                },
                "on: 2026-11-30 is before the appeal was received (2026-12-01)",
            ),
            (
                Entry::Decided {
                    decision: InvestigationDecision::OtherMeasures,
                    on: today,
                    text: String::new(),
                },
                "text: required",
            ),
            (
                Entry::Extended {
                    until: today,
                    reference: "№ 7".into(),
                    reason: "x".into(),
                },
                "until: 2026-12-16 is not after today",
            ),
        ];
        for (entry, expected) in cases {
            let error = entry.check(today, registered).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some(expected), "{entry:?}");
        }
        let fine = Entry::Decided {
            decision: InvestigationDecision::Disciplinary,
            on: today,
            text: String::new(),
        };
        assert!(fine.check(today, registered).is_ok());
    }

    #[test]
    fn the_director_orders_and_decides_the_commission_works() {
        let on = date(2026, 12, 16);
        let director_only = [
            Entry::Ordered {
                number: "1".into(),
                on,
                members: vec![],
            },
            Entry::Commission {
                on,
                members: vec![],
            },
            Entry::Decided {
                decision: InvestigationDecision::StopConsideration,
                on,
                text: String::new(),
            },
        ];
        for e in director_only {
            assert_eq!(e.who(), DIRECTOR, "{e:?}");
        }
        let work = Entry::Conclusion {
            on,
            text: "x".into(),
            substantiated: Some(false),
        };
        assert!(work.who().contains(&Role::Manager));
        let member = Who {
            login: "aset",
            roles: &[Role::Operator],
        };
        assert!(member.may_read(&["aset".to_owned()]));
        assert!(!member.may_read(&["other".to_owned()]));
        let auditor = Who {
            login: "aigul",
            roles: &[Role::Auditor],
        };
        assert!(
            !auditor.may_read(&[]),
            "an auditor does not read the file (7.9)"
        );
    }
}
