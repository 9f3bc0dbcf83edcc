//! The check of an entry against the investigation file as it stands and the
//! person recording it, before anything is written: who may (the rulebook, a
//! member of the commission doing its work), the order first and once, nothing
//! after the decision, the conclusion before it, a receipt of a request made
//! and not yet answered. Pure: reads nothing, so it is tested without a
//! database (`investigation/tests.rs`).

use chrono::NaiveDate;

use super::{EntryKind, FileEntry, InvestigationError, Who, invalid};
use crate::rulebook::{self, Permit, Role};

/// What the check reads of the appeal and its file (in the write's
/// transaction).
#[derive(Clone, Copy, Debug)]
pub(super) struct FileState<'a> {
    /// The appeal's registration number, for the refusals' text.
    pub registration_number: &'a str,
    /// Whether the appeal is closed.
    pub closed: bool,
    /// The day the appeal was received, and today (Astana).
    pub received: NaiveDate,
    pub today: NaiveDate,
    /// Whether the investigation is ordered (its file exists).
    pub ordered: bool,
    /// The logins of the commission's members.
    pub members: &'a [String],
    /// Its entries as kept plain: kind, date and request number.
    pub entries: &'a [(String, NaiveDate, Option<i64>)],
}

impl FileState<'_> {
    fn count(&self, kind: EntryKind) -> usize {
        self.entries
            .iter()
            .filter(|(k, ..)| k == kind.as_str())
            .count()
    }
}

/// An entry the check let through: a request numbered in the file, a receipt
/// with the day its request was made; and the rulebook's permit.
#[derive(Debug)]
pub(super) struct Admitted {
    pub entry: FileEntry,
    pub requested_on: Option<NaiveDate>,
    pub permit: Permit,
}

/// Checks `entry`, recorded by `who`, against `file`; the refusal names what
/// is wrong.
pub(super) fn admit(
    entry: FileEntry,
    file: &FileState<'_>,
    who: Who<'_>,
) -> Result<Admitted, InvestigationError> {
    let number = file.registration_number;
    if file.closed {
        return Err(invalid(format!("appeal {number} is closed")));
    }
    entry.check(file.today, file.received)?;
    let permit = permit(&entry, file, who)?;
    let mut requested_on = None;
    let entry = match (entry, file.ordered) {
        (FileEntry::Ordered { .. }, true) => {
            return Err(invalid(format!(
                "an investigation of {number} is ordered already: record a change of the commission instead"
            )));
        }
        (e @ FileEntry::Ordered { .. }, false) => e,
        (_, false) => {
            return Err(InvestigationError::NotFound(format!(
                "no investigation of {number} is ordered"
            )));
        }
        (_, true) if file.count(EntryKind::Decided) > 0 => {
            return Err(invalid(format!("the investigation of {number} is decided")));
        }
        (FileEntry::Decided { .. }, true) if file.count(EntryKind::Conclusion) == 0 => {
            return Err(invalid(
                "decision: the commission's reasoned conclusion comes first (7.10, 7.11)".into(),
            ));
        }
        (FileEntry::MaterialsRequested { on, from, what, .. }, true) => {
            FileEntry::MaterialsRequested {
                request: file.count(EntryKind::MaterialsRequested) as i64 + 1,
                on,
                from,
                what,
            }
        }
        (FileEntry::MaterialsReceived { request, on, note }, true) => {
            requested_on = Some(answerable(file, request, on)?);
            FileEntry::MaterialsReceived { request, on, note }
        }
        (e, true) => e,
    };
    Ok(Admitted {
        entry,
        requested_on,
        permit,
    })
}

/// The rulebook's permit for the entry: by role, or as a member of the
/// commission of a file that exists, for the commission's work.
fn permit(
    entry: &FileEntry,
    file: &FileState<'_>,
    who: Who<'_>,
) -> Result<Permit, InvestigationError> {
    let member = file.ordered && file.members.iter().any(|m| m == who.login);
    let action = entry.action();
    rulebook::check_member(who.roles, member, action).map_err(|_| {
        InvestigationError::Forbidden(format!(
            "{}: recorded only by {}",
            entry.kind(),
            if action.roles() == [Role::Director] {
                "the Director"
            } else {
                "the Director, a manager or a member of the commission"
            }
        ))
    })
}

/// The day request `request` was made, if it was and is not answered yet, and
/// `on` is not before it.
fn answerable(
    file: &FileState<'_>,
    request: i64,
    on: NaiveDate,
) -> Result<NaiveDate, InvestigationError> {
    let asked = file
        .entries
        .iter()
        .find(|(k, _, r)| k == EntryKind::MaterialsRequested.as_str() && *r == Some(request));
    let Some((_, asked_on, _)) = asked else {
        return Err(invalid(format!("request: there is no request {request}")));
    };
    if file
        .entries
        .iter()
        .any(|(k, _, r)| k == EntryKind::MaterialsReceived.as_str() && *r == Some(request))
    {
        return Err(invalid(format!(
            "request: request {request} was answered already"
        )));
    }
    if on < *asked_on {
        return Err(invalid(format!(
            "on: {on} is before the request ({asked_on})"
        )));
    }
    Ok(*asked_on)
}
