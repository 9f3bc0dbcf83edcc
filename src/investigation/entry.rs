//! What an entry of the investigation file is (`FileEntry`, its `EntryKind`,
//! the commission's `Member`s), the rulebook's action it is, the act of
//! `cases` it makes, and its fields checked alone.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::InvestigationError;
use crate::cases::Act;
use crate::deadlines::{Event, InvestigationDecision};
use crate::rulebook::{Action, Role};

/// The longest text an entry's field takes (a conclusion, a decision's text).
pub(super) const MAX_TEXT: usize = 50_000;
/// The longest short field (a number, a name, a reference).
pub(super) const MAX_FIELD: usize = 500;

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
pub enum FileEntry {
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

impl FileEntry {
    pub fn kind(&self) -> EntryKind {
        match self {
            FileEntry::Ordered { .. } => EntryKind::Ordered,
            FileEntry::Commission { .. } => EntryKind::Commission,
            FileEntry::Extended { .. } => EntryKind::Extended,
            FileEntry::MaterialsRequested { .. } => EntryKind::MaterialsRequested,
            FileEntry::MaterialsReceived { .. } => EntryKind::MaterialsReceived,
            FileEntry::Conclusion { .. } => EntryKind::Conclusion,
            FileEntry::Decided { .. } => EntryKind::Decided,
        }
    }

    /// The rulebook's action the entry is: the order, the commission, the
    /// extension and the decision are the Director's; the commission's work
    /// also a member's (`Action::commission_may`).
    pub fn action(&self) -> Action {
        match self {
            FileEntry::Ordered { .. } => Action::OrderInvestigation,
            FileEntry::Commission { .. } => Action::ChangeCommission,
            FileEntry::Extended { .. } => Action::ExtendInvestigation,
            FileEntry::MaterialsRequested { .. } => Action::RequestMaterials,
            FileEntry::MaterialsReceived { .. } => Action::ReceiveMaterials,
            FileEntry::Conclusion { .. } => Action::Conclude,
            FileEntry::Decided { .. } => Action::Decide,
        }
    }

    /// The roles that may record it (the rulebook's).
    pub fn who(&self) -> &'static [Role] {
        self.action().roles()
    }

    /// The entry's date (plain in the table, as the chain's act gives it).
    pub(super) fn dated(&self) -> NaiveDate {
        match self {
            FileEntry::Ordered { on, .. }
            | FileEntry::Commission { on, .. }
            | FileEntry::MaterialsRequested { on, .. }
            | FileEntry::MaterialsReceived { on, .. }
            | FileEntry::Conclusion { on, .. }
            | FileEntry::Decided { on, .. } => *on,
            FileEntry::Extended { until, .. } => *until,
        }
    }

    pub(super) fn request(&self) -> Option<i64> {
        match self {
            FileEntry::MaterialsRequested { request, .. }
            | FileEntry::MaterialsReceived { request, .. } => Some(*request),
            _ => None,
        }
    }

    pub(super) fn members(&self) -> Option<&[Member]> {
        match self {
            FileEntry::Ordered { members, .. } | FileEntry::Commission { members, .. } => {
                Some(members)
            }
            _ => None,
        }
    }

    /// Checks the fields alone, the dates between the day the appeal was
    /// received and today (Astana); the error names the field.
    pub(super) fn check(
        &self,
        today: NaiveDate,
        received: NaiveDate,
    ) -> Result<(), InvestigationError> {
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
            FileEntry::Ordered {
                number,
                on,
                members,
            } => {
                field(number, "number", MAX_FIELD)?;
                day(on, "on")?;
                check_members(members)
            }
            FileEntry::Commission { on, members } => {
                day(on, "on")?;
                check_members(members)
            }
            FileEntry::Extended {
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
            FileEntry::MaterialsRequested { on, from, what, .. } => {
                day(on, "on")?;
                field(from, "from", MAX_FIELD)?;
                field(what, "what", MAX_TEXT)
            }
            FileEntry::MaterialsReceived { on, note, .. } => {
                day(on, "on")?;
                too_long(note, "note", MAX_TEXT)
            }
            FileEntry::Conclusion {
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
            FileEntry::Decided { decision, on, text } => {
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
    pub(super) fn act(&self, requested_on: Option<NaiveDate>) -> Option<Act> {
        Some(Act::Deadline(match self {
            FileEntry::Ordered { on, .. } => Event::InvestigationOrdered { on: *on },
            FileEntry::Extended {
                until, reference, ..
            } => Event::InvestigationExtended {
                until: *until,
                reason: format!("written decision {reference}"),
            },
            FileEntry::MaterialsRequested { on, .. } => Event::MaterialsRequested { on: *on },
            FileEntry::MaterialsReceived { on, .. } => Event::MaterialsReceived {
                on: *on,
                requested_on,
            },
            FileEntry::Decided { decision, on, .. } => Event::Decision {
                decision: *decision,
                on: *on,
            },
            FileEntry::Commission { .. } | FileEntry::Conclusion { .. } => return None,
        }))
    }
}

pub(super) fn invalid(text: String) -> InvestigationError {
    InvestigationError::Invalid(text)
}

pub(super) fn too_long(text: &str, name: &str, max: usize) -> Result<(), InvestigationError> {
    if text.chars().count() > max {
        Err(invalid(format!("{name}: longer than {max} characters")))
    } else {
        Ok(())
    }
}

pub(super) fn field(text: &str, name: &str, max: usize) -> Result<(), InvestigationError> {
    if text.trim().is_empty() {
        return Err(invalid(format!("{name}: required")));
    }
    too_long(text, name, max)
}

pub(super) fn check_members(members: &[Member]) -> Result<(), InvestigationError> {
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
