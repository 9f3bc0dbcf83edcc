//! The rulebook: every action a person can take, and the roles that may take
//! it, in one table (`Action::roles`). The API, the console and the CLI ask it
//! (`check`, `check_deputy`, `check_member`), and only it makes a `Permit`. Two
//! rules beyond the roles are written here too: a deputy named in
//! `[authority]` may extend the reply (`Action::deputy_may`, APPK Art. 76), and
//! a member of an investigation's commission does the commission's work on that
//! file, whatever their role (`Action::commission_may`, 7.8–7.10). Imports
//! nothing of the crate but `text_enum`.
//!
//! Where two surfaces gave the same work different roles, they are two actions
//! here (the operator's queue and the notes the API and the CLI take; the
//! auditor's page and the export the CLI lets a manager make), so that each
//! surface keeps exactly the roles it had.

use std::fmt;
use std::marker::PhantomData;

crate::text_enum! {
    /// What a person may do: the **operator** completes phone appeals awaiting
    /// notes; the **manager** triages, classifies, routes and keeps the
    /// deadlines; the **director** reads, decides and records decisions; the
    /// **auditor** sees the Journal without identity, verifies the chain and
    /// exports aggregates. A person may hold several.
    Role {
        Operator = "operator",
        Manager = "manager",
        Director = "director",
        Auditor = "auditor",
    }
}

/// A surface's type for one action (`Session<rule::Classify>`, the API's
/// `Authorized<rule::Classify>`): one zero-sized type per action, in `rule`.
pub trait Rule {
    const ACTION: Action;
}

/// Writes the table: `Action`, its `roles` (in the order the refusal names
/// them) and one type of `rule` per action.
macro_rules! rulebook {
    ($( $(#[$doc:meta])* $action:ident => [$($role:ident),+] ),+ $(,)?) => {
        /// Every action a person can take.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action { $( $(#[$doc])* $action ),+ }

        impl Action {
            /// Every action, in the table's order.
            pub const ALL: &'static [Action] = &[$(Action::$action),+];

            /// The roles one of which the person taking the action holds, in the
            /// order a refusal names them.
            pub const fn roles(self) -> &'static [Role] {
                match self { $( Action::$action => &[$(Role::$role),+] ),+ }
            }
        }

        /// One zero-sized type per action, named as the action.
        pub mod rule {
            use super::{Action, Rule};
            $(
                $(#[$doc])*
                #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
                pub struct $action;
                impl Rule for $action {
                    const ACTION: Action = Action::$action;
                }
            )+
        }
    };
}

rulebook! {
    // The Journal: appeals and what they say.
    /// The operator's workplace in the console: the queue of calls awaiting
    /// notes, and its form.
    OperatorQueue => [Operator],
    /// The operator's notes on a phone appeal awaiting them (the API's `PATCH`,
    /// `senim journal record-call`).
    RecordNotes => [Operator, Manager],
    /// A recorded correction of the reporter's details or the appeal's text.
    CorrectDetails => [Manager, Director],
    /// The Journal without identity: its list, an appeal's suggested category
    /// and its deadlines.
    ReadJournal => [Manager, Director, Auditor],
    /// The case pages of the console: an appeal's page and the deadlines board.
    ReadCases => [Manager, Director],
    /// An appeal's identity and text opened (a recorded disclosure), its mail,
    /// attachments and recordings, its materials; who may hold the office key
    /// (a reader, 10.14).
    Reveal => [Manager, Director],
    /// The manager's classification.
    Classify => [Manager],
    /// The Journal exported without identity (`senim journal export`).
    Export => [Auditor, Manager, Director],
    /// The auditor's page of the console and its export.
    Audit => [Auditor],
    /// The analysis of a period (10.13) in the console.
    ReadReport => [Manager, Director, Auditor],
    /// The Director's alerts page, and marking an alert read.
    DirectorAlerts => [Director],
    /// The outbox of e-mail, read.
    ReadOutbox => [Manager],
    /// A mail of the outbox put back for retry.
    RetryMail => [Manager],
    /// The documents the office sends (the cover letter, the package, the
    /// letters to the citizen) issued and read.
    IssueDocuments => [Manager, Director],

    // The acts of a case (`cases::Act`).
    /// The Director's consent, or not, to send a corruption report on (10.6, 10.7).
    Consent => [Director],
    /// The order of an internal investigation (7.5).
    OrderInvestigation => [Director],
    /// Its extension, in writing (7.5).
    ExtendInvestigation => [Director],
    /// The reply's extension (APPK Art. 76); a deputy too (`deputy_may`).
    ExtendReply => [Director],
    /// The decision after the investigation (7.11).
    Decide => [Director],
    /// The reply sent to the citizen.
    SendReply => [Manager, Director],
    /// The citizen told of the reply's extension.
    NotifyCitizen => [Manager, Director],
    /// The appeal found outside the enterprise's competence.
    OutsideCompetence => [Manager, Director],
    /// The appeal redirected to who is competent.
    Redirect => [Manager, Director],
    /// Materials asked for (7.8); a member of the commission too (`commission_may`).
    RequestMaterials => [Manager, Director],
    /// Materials received; a member of the commission too (`commission_may`).
    ReceiveMaterials => [Manager, Director],
    /// The appeal sent on to a structural unit (10.9).
    Route => [Manager, Director],
    /// The appeal forwarded to a competent body (10.7, 6.3).
    Forward => [Manager, Director],
    /// "Not considered" (6.3).
    NotConsider => [Manager, Director],
    /// The case closed.
    Close => [Manager, Director],

    // The investigation file (7.3–7.11).
    /// A change of the commission.
    ChangeCommission => [Director],
    /// The commission's reasoned conclusion (7.10); a member too (`commission_may`).
    Conclude => [Manager, Director],
    /// The investigations' pages and commands: anyone who works the line (a
    /// member of a commission may hold any role; the file decides who reads it).
    Investigations => [Director, Manager, Operator, Auditor],
    /// An investigation file read (7.9); a member of its commission too
    /// (`commission_may`).
    ReadInvestigationFile => [Director, Manager],

    // The keys (`senim keys …`).
    /// The office key made (`keys init`).
    InitKeys => [Director, Manager],
    /// A person's own key made (`keys enroll`).
    EnrollKey => [Manager, Director, Operator, Auditor],
    /// A person's own passphrase changed (`keys passphrase`).
    ChangePassphrase => [Manager, Director, Operator, Auditor],
    /// The office key's generations listed (`keys list`).
    ListKeys => [Manager, Director, Auditor],
    /// A reader given the office key (`keys add-reader`).
    AddReader => [Manager, Director],
    /// A reader's office key taken back, by a rotation (`keys remove-reader`).
    RemoveReader => [Manager, Director],
    /// The office key rotated (`keys rotate`).
    RotateKey => [Manager, Director],
    /// Persons' and keys' rows from before signing adopted (`keys authenticate`).
    AdoptRows => [Director],

    // The console itself.
    /// The console's language chosen.
    ChooseLanguage => [Operator, Manager, Director, Auditor],
}

impl Action {
    /// Whether a deputy of the head named in `[authority]` may take the action
    /// in the Director's place, whatever their role: the reply's extension
    /// (APPK Art. 76).
    pub const fn deputy_may(self) -> bool {
        matches!(self, Action::ExtendReply)
    }

    /// Whether a member of an investigation's commission may take the action on
    /// that file, whatever their role: the commission's work (7.8–7.10) and
    /// reading the file (7.9).
    pub const fn commission_may(self) -> bool {
        matches!(
            self,
            Action::RequestMaterials
                | Action::ReceiveMaterials
                | Action::Conclude
                | Action::ReadInvestigationFile
        )
    }

    /// The roles one of which `login` must hold to take the action, `deputies`
    /// being the logins of `[authority] deputies`: any role for a deputy where
    /// a deputy may act (`deputy_may`), else `roles`.
    pub fn roles_for(self, login: &str, deputies: &[String]) -> &'static [Role] {
        if self.deputy_may() && deputies.iter().any(|d| d == login) {
            Role::ALL
        } else {
            self.roles()
        }
    }

    /// Whether one of `held` may take the action.
    pub fn allows(self, held: &[Role]) -> bool {
        self.roles().iter().any(|r| held.contains(r))
    }
}

/// The proof that the rulebook let a person take an action: made only by
/// `check`, `check_deputy` and `check_member`, so what takes one cannot be
/// reached without asking.
#[derive(Debug, PartialEq, Eq)]
pub struct Permit {
    action: Action,
}

impl Permit {
    /// The action it permits.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The permit, as the type of its rule `R`, for the person the audit chain
    /// names `actor`; refused if it permits another action.
    pub fn acting<R: Rule>(self, actor: impl Into<String>) -> Result<Acting<R>, Denied> {
        if self.action == R::ACTION {
            Ok(Acting {
                actor: actor.into(),
                rule: PhantomData,
            })
        } else {
            Err(Denied {
                action: R::ACTION,
                roles: R::ACTION.roles(),
            })
        }
    }
}

/// A person the rulebook let take the action of the rule `R`, named as the
/// audit chain names them (`person:<login>`): what the domain's entry point for
/// that action takes instead of a bare name (`cases::Case::classify`, the
/// documents' `Documents::cover_letter`, `reply`, `extension_notice`,
/// `journal::Journal::record_disclosure`), so no surface reaches it without
/// asking the rulebook. Made only by `acting` and `Permit::acting`.
#[derive(Debug)]
pub struct Acting<R: Rule> {
    actor: String,
    rule: PhantomData<R>,
}

impl<R: Rule> Acting<R> {
    /// What the audit chain records.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// A person the rulebook let take an action known only when the request is read
/// (a case's act: `cases::Act::action`), named as the audit chain names them:
/// what `cases::Case::record` takes, which refuses an act of another action.
/// Made only by `Permit::by`.
#[derive(Debug)]
pub struct Permitted {
    action: Action,
    actor: String,
}

impl Permitted {
    /// The action it permits.
    pub fn action(&self) -> Action {
        self.action
    }

    /// What the audit chain records.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// `Ok` if it permits `action`, else the refusal naming its roles.
    pub fn covers(&self, action: Action) -> Result<(), Denied> {
        if self.action == action {
            Ok(())
        } else {
            Err(Denied {
                action,
                roles: action.roles(),
            })
        }
    }
}

impl Permit {
    /// The permit given to the person the audit chain names `actor`.
    pub fn by(self, actor: impl Into<String>) -> Permitted {
        Permitted {
            action: self.action,
            actor: actor.into(),
        }
    }
}

/// `check` for the rule `R`, the permit given to `actor`.
pub fn acting<R: Rule>(held: &[Role], actor: impl Into<String>) -> Result<Acting<R>, Denied> {
    check_rule::<R>(held)?.acting(actor)
}

/// A refusal: the action, and the roles one of which it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Denied {
    pub action: Action,
    pub roles: &'static [Role],
}

impl fmt::Display for Denied {
    /// "this needs the role of manager or director".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wanted: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        write!(f, "this needs the role of {}", wanted.join(" or "))
    }
}

impl std::error::Error for Denied {}

fn decide(held: &[Role], action: Action, roles: &'static [Role]) -> Result<Permit, Denied> {
    if roles.iter().any(|r| held.contains(r)) {
        Ok(Permit { action })
    } else {
        Err(Denied { action, roles })
    }
}

/// Whether a person holding `held` may take `action`.
pub fn check(held: &[Role], action: Action) -> Result<Permit, Denied> {
    decide(held, action, action.roles())
}

/// `check` for the action of the rule `R`.
pub fn check_rule<R: Rule>(held: &[Role]) -> Result<Permit, Denied> {
    check(held, R::ACTION)
}

/// `check` for the person `login`, a deputy of the head where `deputies`
/// (`[authority] deputies`) names them and a deputy may act.
pub fn check_deputy(
    held: &[Role],
    login: &str,
    deputies: &[String],
    action: Action,
) -> Result<Permit, Denied> {
    decide(held, action, action.roles_for(login, deputies))
}

/// `check` on an investigation file of whose commission the person is a
/// `member` or not: a member does the commission's work (`commission_may`).
pub fn check_member(held: &[Role], member: bool, action: Action) -> Result<Permit, Denied> {
    if member && action.commission_may() {
        return Ok(Permit { action });
    }
    check(held, action)
}

#[cfg(test)]
mod tests {
    //! The table read as a specification.
    use super::Action::*;
    use super::Role::*;
    use super::*;

    fn may(action: Action) -> &'static [Role] {
        action.roles()
    }

    #[test]
    fn only_the_director_decides() {
        for a in [
            Consent,
            OrderInvestigation,
            ExtendInvestigation,
            ExtendReply,
            Decide,
            ChangeCommission,
            DirectorAlerts,
            AdoptRows,
        ] {
            assert_eq!(may(a), &[Director], "{a:?}");
        }
    }

    #[test]
    fn the_case_work_is_the_managers_and_the_director_may_record_it_too() {
        for a in [
            SendReply,
            NotifyCitizen,
            OutsideCompetence,
            Redirect,
            RequestMaterials,
            ReceiveMaterials,
            Route,
            Forward,
            NotConsider,
            Close,
            CorrectDetails,
            IssueDocuments,
            ReadCases,
        ] {
            assert_eq!(may(a), &[Manager, Director], "{a:?}");
        }
        assert_eq!(may(Conclude), &[Manager, Director]);
    }

    #[test]
    fn only_the_managers_classify_and_work_the_outbox() {
        for a in [Classify, ReadOutbox, RetryMail] {
            assert_eq!(may(a), &[Manager], "{a:?}");
        }
    }

    #[test]
    fn identity_is_read_only_by_managers_and_the_director() {
        assert_eq!(may(Reveal), &[Manager, Director]);
        for role in [Operator, Auditor] {
            assert!(check(&[role], Reveal).is_err(), "{role}");
        }
    }

    #[test]
    fn the_auditor_reads_without_identity() {
        for a in [ReadJournal, ReadReport, ListKeys] {
            assert_eq!(may(a), &[Manager, Director, Auditor], "{a:?}");
        }
        assert_eq!(may(Export), &[Auditor, Manager, Director]);
        assert_eq!(may(Audit), &[Auditor]);
    }

    #[test]
    fn the_operator_takes_the_calls_and_a_manager_may_record_their_notes() {
        assert_eq!(may(OperatorQueue), &[Operator]);
        assert_eq!(may(RecordNotes), &[Operator, Manager]);
    }

    #[test]
    fn every_person_keeps_their_own_key_and_the_readers_the_office_key() {
        for a in [EnrollKey, ChangePassphrase] {
            assert_eq!(may(a), &[Manager, Director, Operator, Auditor], "{a:?}");
        }
        assert_eq!(may(InitKeys), &[Director, Manager]);
        for a in [AddReader, RemoveReader, RotateKey] {
            assert_eq!(may(a), &[Manager, Director], "{a:?}");
        }
    }

    #[test]
    fn anyone_reaches_the_investigations_and_the_console_language() {
        assert_eq!(may(Investigations), &[Director, Manager, Operator, Auditor]);
        assert_eq!(may(ChooseLanguage), Role::ALL);
        assert_eq!(may(ReadInvestigationFile), &[Director, Manager]);
    }

    #[test]
    fn a_deputy_extends_the_reply_and_nothing_else() {
        let deputies = vec!["deputy".to_owned()];
        assert!(check_deputy(&[Operator], "deputy", &deputies, ExtendReply).is_ok());
        assert!(check_deputy(&[Operator], "other", &deputies, ExtendReply).is_err());
        for &a in Action::ALL.iter().filter(|a| **a != ExtendReply) {
            assert!(!a.deputy_may(), "{a:?}");
            assert_eq!(a.roles_for("deputy", &deputies), a.roles(), "{a:?}");
        }
    }

    #[test]
    fn a_member_does_the_commissions_work_on_the_file_and_no_more() {
        for a in [
            RequestMaterials,
            ReceiveMaterials,
            Conclude,
            ReadInvestigationFile,
        ] {
            assert!(check_member(&[Operator], true, a).is_ok(), "{a:?}");
            assert!(check_member(&[Operator], false, a).is_err(), "{a:?}");
        }
        for a in [
            OrderInvestigation,
            ChangeCommission,
            ExtendInvestigation,
            Decide,
        ] {
            assert!(check_member(&[Manager], true, a).is_err(), "{a:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_roles_in_the_tables_order() {
        let denied = check(&[Operator], Export).err();
        assert_eq!(
            denied.map(|d| d.to_string()).as_deref(),
            Some("this needs the role of auditor or manager or director")
        );
        assert_eq!(
            check(&[Manager], Classify).map(|p| p.action()),
            Ok(Classify)
        );
        assert_eq!(
            check_rule::<rule::Classify>(&[Director])
                .err()
                .map(|d| d.action),
            Some(Classify)
        );
    }

    #[test]
    fn every_action_needs_a_role() {
        for a in Action::ALL {
            assert!(!a.roles().is_empty(), "{a:?}");
            assert!(check(&[], *a).is_err(), "{a:?}");
        }
    }

    #[test]
    fn the_domain_takes_a_permit_only_for_its_own_action() {
        let by = acting::<rule::Classify>(&[Manager], "person:aigul");
        assert_eq!(
            by.map(|b| b.actor().to_owned()).ok().as_deref(),
            Some("person:aigul")
        );
        assert!(acting::<rule::Classify>(&[Director], "person:dana").is_err());
        let reveal = check(&[Director], Reveal).map(|p| p.acting::<rule::Classify>("person:dana"));
        assert_eq!(
            reveal.map(|a| a.err().map(|d| d.action)),
            Ok(Some(Classify)),
            "a permit to reveal does not classify"
        );
        let close = check(&[Manager], Close).map(|p| p.by("person:aigul"));
        assert_eq!(close.as_ref().map(|p| p.covers(Close)), Ok(Ok(())));
        assert_eq!(
            close.map(|p| p.covers(Consent).map_err(|d| d.roles)),
            Ok(Err(&[Director][..])),
            "a permit to close gives no consent"
        );
    }
}
