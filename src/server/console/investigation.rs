//! The investigation file (7.3–7.11) in the console: `/console/investigations`
//! lists the files the person may read (the Director and the managers all of
//! them, a member of a commission hers), and `/console/investigations/{appeal}`
//! shows one, opened with the key the person unlocked at the login (each
//! opening an `investigation_read` event of the chain), with the forms of what
//! they may record. Every form is one call of `investigation::Investigations`,
//! as the CLI's `senim investigation …` is.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::case::DECISIONS;
use super::i18n::{Msg, local, t};
use super::*;
use crate::app::App;
use crate::cases::ActError;
use crate::deadlines::InvestigationDecision;
use crate::investigation::{EntryKind, File, FileEntry, InvestigationError, Member, Who};
use crate::journal::AppealId;
use crate::server::problem::Problem;

fn who(session: &LoggedIn) -> Who<'_> {
    Who {
        login: &session.login,
        roles: &session.roles,
    }
}

/// The words for an entry's kind.
pub(super) fn kind_words(lang: super::i18n::Lang, kind: EntryKind) -> &'static str {
    t(
        lang,
        match kind {
            EntryKind::Ordered => Msg::InvOrdered,
            EntryKind::Commission => Msg::InvCommission,
            EntryKind::Extended => Msg::InvExtended,
            EntryKind::MaterialsRequested => Msg::EventMaterialsRequested,
            EntryKind::MaterialsReceived => Msg::EventMaterialsReceived,
            EntryKind::Conclusion => Msg::InvConclusion,
            EntryKind::Decided => Msg::Decision,
        },
    )
}

fn decision_words(lang: super::i18n::Lang, decision: InvestigationDecision) -> &'static str {
    let value = serde_json::to_value(decision).unwrap_or_default();
    DECISIONS
        .iter()
        .find(|(v, _)| value == *v)
        .map_or("", |(_, m)| t(lang, *m))
}

/// The files the person may read.
pub(super) async fn list(
    State(app): State<Arc<App>>,
    session: Session<rule::Investigations>,
) -> Response {
    let lang = session.lang;
    let files = match app.investigations().list(who(&session)).await {
        Ok(files) => files,
        Err(e) => return failure(e),
    };
    let body = html! {
        h1 { (t(lang, Msg::Investigations)) }
        p.muted { (t(lang, if app.sealer.is_on() { Msg::InvSealedNote } else { Msg::InvPlainNote })) }
        @if files.is_empty() {
            p.muted #no-files { (t(lang, Msg::InvNone)) }
        } @else {
            table #files {
                thead { tr {
                    th { (t(lang, Msg::Number)) } th { (t(lang, Msg::Status)) }
                    th { (t(lang, Msg::InvOpened)) } th { (t(lang, Msg::InvLast)) }
                } }
                tbody {
                    @for f in &files {
                        tr {
                            td { a href={ "/console/investigations/" (f.appeal_id) } { (f.registration_number) } }
                            td { (f.status) }
                            td { (local(f.opened_at, *app.config.calendar.timezone)) }
                            td {
                                @if let Some((kind, on)) = f.entries.last() {
                                    (kind_words(lang, *kind)) " · " (on.format("%d.%m.%Y"))
                                }
                                @if f.member { " · " (t(lang, Msg::InvMember)) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t(lang, Msg::Investigations), Some(&session), body).into_response()
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// One file: opened with the session's key if it holds one, and the forms.
pub(super) async fn file_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
    session: Session<rule::Investigations>,
) -> Response {
    let notice = done
        .done
        .as_deref()
        .and_then(|d| d.parse::<EntryKind>().ok())
        .map(|k| format!("{} ✓", kind_words(session.lang, k)));
    investigation_page(&app, &session, id, notice.as_deref(), None, StatusCode::OK).await
}

/// The page of file `id`, with a notice or an error.
async fn investigation_page(
    app: &App,
    session: &LoggedIn,
    id: i64,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.lang;
    let files = app.investigations();
    let appeal = match app.journal.get(AppealId(id)).await {
        Ok(a) => a,
        Err(e) => return Problem::from(e).into_response(),
    };
    let exists = match files.exists(appeal.id, who(session)).await {
        Ok(e) => e,
        Err(e) => return failure(e),
    };
    // No file yet: only who may read any file sees that there is none.
    if exists == Some(false) || (exists.is_none() && !session.may(Action::ReadInvestigationFile)) {
        return forbidden(session);
    }
    // A sealed file opens only with a key; without one the forms still
    // record (sealing needs only the file's public key). A plain file (no
    // office key yet) opens for whoever may read it.
    let opened: Result<Option<File>, String> = match exists {
        Some(true) => match files
            .open(appeal.id, who(session), session.unlocked.as_deref())
            .await
        {
            Ok(file) => Ok(Some(file)),
            Err(InvestigationError::Locked(_)) => Ok(None),
            Err(e) => Err(e.to_string()),
        },
        _ => Ok(None),
    };
    let tz = *app.config.calendar.timezone;
    // After the decision (7.11) nothing more is recorded: no form is offered.
    let decided = matches!(&opened, Ok(Some(file))
        if file.entries.iter().any(|r| matches!(r.entry, FileEntry::Decided { .. })));
    let forms = EntryForms {
        session,
        lang,
        today: app.today(),
        action: format!("/console/investigations/{id}"),
    };
    let title = format!("{} · {}", t(lang, Msg::InvFile), appeal.registration_number);
    let body = html! {
        h1 { (t(lang, Msg::InvFile)) " · " a href={ "/console/appeals/" (id) } { (appeal.registration_number) } }
        p.muted { (t(lang, if app.sealer.is_on() { Msg::InvSealedNote } else { Msg::InvPlainNote })) }
        @if let Some(n) = notice { p.notice #done { (n) } }
        @if let Some(e) = error { p.error #error role="alert" { (e) } }
        @match (&exists, &opened) {
            (None, _) => { p.muted #no-file { (t(lang, Msg::InvNotOrdered)) } }
            (Some(_), Err(e)) => { p.error #cannot-open { (e) } }
            (Some(_), Ok(None)) => { p.notice #locked { (t(lang, Msg::InvNeedsKey)) } }
            (Some(_), Ok(Some(file))) => { (file_view(lang, tz, file)) }
        }
        @if decided { p.muted #decided { (t(lang, Msg::InvDecidedNoMore)) } }
        @if !decided { div.acts {
            @if exists.is_none() && session.may(Action::OrderInvestigation) {
                (forms.order())
            }
            @if exists.is_some() {
                (forms.commissions_work())
                (forms.directors())
            }
        } }
    };
    (status, page(lang, &title, Some(session), body)).into_response()
}

/// The entries' forms of one file's page: each posts to the file's route.
struct EntryForms<'a> {
    session: &'a LoggedIn,
    lang: super::i18n::Lang,
    today: NaiveDate,
    action: String,
}

impl EntryForms<'_> {
    /// The form's CSRF token and the entry it records.
    fn hidden(&self, entry: &str) -> Markup {
        super::hidden_fields(&self.session.csrf, "entry", entry)
    }

    /// A labelled date field, required.
    fn date(&self, name: &str, field_id: &str, label: Msg, value: Option<NaiveDate>) -> Markup {
        super::date_field(self.lang, name, field_id, label, value)
    }

    /// The commission's members: logins, and people from outside.
    fn members(&self) -> Markup {
        let lang = self.lang;
        html! {
            label for="members" { (t(lang, Msg::InvMembersLogins)) }
            input #members type="text" name="members" autocomplete="off";
            label for="outside" { (t(lang, Msg::InvMembersOutside)) }
            textarea #outside name="outside" rows="3" {}
        }
    }

    /// The Director's order, with the commission (7.5).
    fn order(&self) -> Markup {
        let lang = self.lang;
        html! {
            form.card #order method="post" action=(self.action) {
                h3 { (t(lang, Msg::OrderHeading)) }
                (self.hidden("ordered"))
                label for="number" { (t(lang, Msg::InvOrderNumber)) }
                input #number type="text" name="number" required;
                (self.date("on", "order-on", Msg::OrderDate, Some(self.today)))
                (self.members())
                button type="submit" { (t(lang, Msg::Order)) }
            }
        }
    }

    /// The commission's work, offered to whoever reads the file (the file's
    /// own check decides): requests for materials, their receipt, the
    /// conclusion.
    fn commissions_work(&self) -> Markup {
        let (lang, today) = (self.lang, self.today);
        html! {
            form.card #request method="post" action=(self.action) {
                h3 { (t(lang, Msg::InvRequestHeading)) }
                (self.hidden("materials_requested"))
                label for="from" { (t(lang, Msg::InvFromWhom)) }
                input #from type="text" name="from" required;
                label for="what" { (t(lang, Msg::InvWhat)) }
                textarea #what name="what" rows="2" required {}
                (self.date("on", "request-on", Msg::OnDate, Some(today)))
                button type="submit" { (t(lang, Msg::Record)) }
            }
            form.card #received method="post" action=(self.action) {
                h3 { (t(lang, Msg::EventMaterialsReceived)) }
                (self.hidden("materials_received"))
                label for="request" { (t(lang, Msg::InvRequestNumber)) }
                input #request type="number" name="request" min="1" required;
                (self.date("on", "received-on", Msg::OnDate, Some(today)))
                label for="note" { (t(lang, Msg::InvNote)) }
                input #note type="text" name="note";
                button type="submit" { (t(lang, Msg::Record)) }
            }
            form.card #conclusion method="post" action=(self.action) {
                h3 { (t(lang, Msg::InvConclusionHeading)) }
                (self.hidden("conclusion"))
                label for="conclusion-text" { (t(lang, Msg::InvConclusion)) }
                textarea #conclusion-text name="text" rows="6" required {}
                fieldset #substantiated {
                    legend { (t(lang, Msg::InvSubstantiatedQuestion)) }
                    label { input type="radio" name="substantiated" value="yes" required; " " (t(lang, Msg::InvSubstantiatedYes)) }
                    label { input type="radio" name="substantiated" value="no" required; " " (t(lang, Msg::InvSubstantiatedNo)) }
                }
                (self.date("on", "conclusion-on", Msg::OnDate, Some(today)))
                button type="submit" { (t(lang, Msg::Record)) }
            }
        }
    }

    /// The Director's: a change of the commission, the extension (7.5), the
    /// decision (7.11).
    fn directors(&self) -> Markup {
        let (lang, today, session) = (self.lang, self.today, self.session);
        html! {
            @if session.may(Action::ChangeCommission) {
                form.card #commission method="post" action=(self.action) {
                    h3 { (t(lang, Msg::InvCommissionHeading)) }
                    (self.hidden("commission"))
                    (self.date("on", "commission-on", Msg::OnDate, Some(today)))
                    (self.members())
                    button type="submit" { (t(lang, Msg::Record)) }
                }
            }
            @if session.may(Action::ExtendInvestigation) {
                form.card #extend method="post" action=(self.action) {
                    h3 { (t(lang, Msg::ExtendHeading)) }
                    (self.hidden("extended"))
                    (self.date("until", "extend-until", Msg::Until, None))
                    label for="reference" { (t(lang, Msg::WrittenDecision)) }
                    input #reference type="text" name="reference" required;
                    label for="extend-reason" { (t(lang, Msg::Reason)) }
                    input #extend-reason type="text" name="reason" required;
                    button type="submit" { (t(lang, Msg::Extend)) }
                }
            }
            @if session.may(Action::Decide) {
                form.card #decide method="post" action=(self.action) {
                    h3 { (t(lang, Msg::DecisionHeading)) }
                    (self.hidden("decided"))
                    (super::case::decision_select(lang))
                    label for="decision-text" { (t(lang, Msg::InvDecisionText)) }
                    textarea #decision-text name="text" rows="3" {}
                    (self.date("on", "decision-on", Msg::OnDate, Some(today)))
                    button type="submit" { (t(lang, Msg::Record)) }
                }
            }
        }
    }
}

/// The opened file: the order, the commission, the requests, the extension,
/// the conclusion, the decision, then every entry in order.
fn file_view(lang: super::i18n::Lang, tz: chrono_tz::Tz, file: &File) -> Markup {
    html! {
        section #file {
            @if let Some((number, on)) = file.order() {
                p #order-line { strong { (t(lang, Msg::InvOrderNumber)) ": " } (number) " · " (on.format("%d.%m.%Y")) }
            }
            h2 { (t(lang, Msg::InvCommission)) }
            ul #members {
                @for m in file.members() {
                    li {
                        (m.name)
                        @if !m.position.is_empty() { ", " (m.position) }
                        @if let Some(l) = &m.login { span.muted { " (" (l) ")" } }
                    }
                }
            }
            h2 { (t(lang, Msg::InvRequests)) }
            table #requests {
                thead { tr {
                    th { "№" } th { (t(lang, Msg::OnDate)) } th { (t(lang, Msg::InvFromWhom)) }
                    th { (t(lang, Msg::InvWhat)) } th { (t(lang, Msg::EventMaterialsReceived)) }
                } }
                tbody {
                    @for (request, answered) in file.requests() {
                        @if let FileEntry::MaterialsRequested { request, on, from, what } = request {
                            tr.overdue[answered.is_none()] {
                                td { (request) } td { (on.format("%d.%m.%Y")) } td { (from) } td { (what) }
                                td { @if let Some(d) = answered { (d.format("%d.%m.%Y")) } @else { "—" } }
                            }
                        }
                    }
                }
            }
            h2 { (t(lang, Msg::InvEntries)) }
            ol #entries {
                @for r in &file.entries {
                    li {
                        strong { (kind_words(lang, r.entry.kind())) }
                        " · " (local(r.recorded_at, tz)) " · " (r.actor)
                        (entry_detail(lang, &r.entry))
                    }
                }
            }
            p.muted #readers { (t(lang, if file.sealed { Msg::InvReaders } else { Msg::InvReadersPlain })) ": " (file.readers.join(", ")) }
        }
    }
}

fn entry_detail(lang: super::i18n::Lang, entry: &FileEntry) -> Markup {
    html! {
        @match entry {
            FileEntry::Ordered { number, on, .. } => { p { "№ " (number) " · " (on.format("%d.%m.%Y")) } }
            FileEntry::Commission { on, members } => {
                p { (on.format("%d.%m.%Y")) " · " (members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")) }
            }
            FileEntry::Extended { until, reference, reason } => {
                p { (t(lang, Msg::Until)) " " (until.format("%d.%m.%Y")) " · " (reference) " · " (reason) }
            }
            FileEntry::MaterialsRequested { request, from, what, .. } => { p { "№ " (request) " · " (from) ": " (what) } }
            FileEntry::MaterialsReceived { request, on, note } => {
                p { "№ " (request) " · " (on.format("%d.%m.%Y")) @if !note.is_empty() { " · " (note) } }
            }
            FileEntry::Conclusion { on, text, substantiated } => {
                p { (on.format("%d.%m.%Y")) @if let Some(found) = substantiated {
                    " · " span.substantiated { (t(lang, if *found { Msg::InvSubstantiatedYes } else { Msg::InvSubstantiatedNo })) }
                } }
                pre.text { (text) }
            }
            FileEntry::Decided { decision, on, text } => {
                p { (decision_words(lang, *decision)) " · " (on.format("%d.%m.%Y")) }
                @if !text.is_empty() { pre.text { (text) } }
            }
        }
    }
}

/// Any entry's form, as posted.
#[derive(Deserialize)]
pub(super) struct EntryForm {
    #[serde(default)]
    entry: String,
    on: Option<String>,
    until: Option<String>,
    #[serde(default)]
    number: String,
    #[serde(default)]
    members: String,
    #[serde(default)]
    outside: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    what: String,
    request: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    text: String,
    decision: Option<String>,
    substantiated: Option<String>,
}

/// The members as typed: logins separated by commas or spaces, and one
/// "Name, position" a line from outside.
fn members_of(form: &EntryForm) -> Vec<Member> {
    let logins = form
        .members
        .split([',', ' ', ';'])
        .filter(|l| !l.trim().is_empty())
        .map(Member::person);
    let outside = form
        .outside
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(Member::outside);
    logins.chain(outside).collect()
}

/// What was posted, as an entry; the error names the field.
fn entry_of(form: &EntryForm, today: NaiveDate) -> Result<FileEntry, String> {
    let on = match form.on.as_deref().filter(|v| !v.is_empty()) {
        None => today,
        Some(v) => v
            .parse()
            .map_err(|_| format!("on: {v:?} is not a date (YYYY-MM-DD)"))?,
    };
    Ok(match form.entry.as_str() {
        "ordered" => FileEntry::Ordered {
            number: form.number.trim().to_owned(),
            on,
            members: members_of(form),
        },
        "commission" => FileEntry::Commission {
            on,
            members: members_of(form),
        },
        "extended" => FileEntry::Extended {
            until: parsed(&form.until).ok_or("until: a date (YYYY-MM-DD) is required")?,
            reference: form.reference.trim().to_owned(),
            reason: form.reason.trim().to_owned(),
        },
        "materials_requested" => FileEntry::MaterialsRequested {
            request: 0,
            on,
            from: form.from.trim().to_owned(),
            what: form.what.trim().to_owned(),
        },
        "materials_received" => FileEntry::MaterialsReceived {
            request: parsed(&form.request).ok_or("request: a number is required")?,
            on,
            note: form.note.trim().to_owned(),
        },
        "conclusion" => FileEntry::Conclusion {
            on,
            text: form.text.trim().to_owned(),
            // Missing, it is refused by the entry's check, after the text.
            substantiated: match form.substantiated.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                None | Some("") => None,
                Some(_) => return Err("substantiated: yes or no".into()),
            },
        },
        "decided" => {
            let value = form.decision.as_deref().unwrap_or_default();
            FileEntry::Decided {
                decision: serde_json::from_value(serde_json::json!(value))
                    .map_err(|_| format!("decision: {value:?} is not a decision of 7.11"))?,
                on,
                text: form.text.trim().to_owned(),
            }
        }
        other => return Err(format!("entry: {other:?} is not an entry of the file")),
    })
}

/// Records a posted entry, then shows the file again.
pub(super) async fn record(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::Investigations, EntryForm>,
) -> Response {
    let lang = session.lang;
    let entry = match entry_of(&form, app.today()) {
        Ok(entry) => entry,
        Err(problem) => {
            let why = format!("{} {problem}", t(lang, Msg::BadForm));
            return investigation_page(
                &app,
                &session,
                id,
                None,
                Some(&why),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let kind = entry.kind();
    let unlocked = session.unlocked.as_deref();
    match app
        .investigations()
        .record(AppealId(id), entry, who(&session), unlocked)
        .await
    {
        Ok(_) => Redirect::to(&format!("/console/investigations/{id}?done={kind}")).into_response(),
        Err(InvestigationError::Forbidden(_)) => forbidden(&session),
        Err(
            e @ (InvestigationError::Journal(_) | InvestigationError::Act(ActError::Journal(_))),
        ) => failure(e),
        // What does not fit the file (the one mapping's 4xx): the page again,
        // saying why.
        Err(e) => match Problem::from(e) {
            problem if problem.status().is_client_error() => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                investigation_page(&app, &session, id, None, Some(problem.detail()), status).await
            }
            problem => problem.into_response(),
        },
    }
}

fn forbidden(session: &LoggedIn) -> Response {
    let lang = session.lang;
    let view = page(
        lang,
        t(lang, Msg::Forbidden),
        Some(session),
        html! { p.error { (t(lang, Msg::InvForbidden)) } },
    );
    (StatusCode::FORBIDDEN, view).into_response()
}

/// The file cannot be read or written now: the problem, as the one mapping
/// (`server::problem`) answers it.
fn failure(e: InvestigationError) -> Response {
    Problem::from(e).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(entry: &str) -> EntryForm {
        EntryForm {
            entry: entry.into(),
            on: Some("2026-12-16".into()),
            until: None,
            number: "12-П".into(),
            members: "aset, dana".into(),
            outside: "Ержан Сапаров, юрист\n\n".into(),
            reference: String::new(),
            reason: String::new(),
            from: String::new(),
            what: String::new(),
            request: None,
            note: String::new(),
            text: String::new(),
            decision: Some("other_measures".into()),
            substantiated: None,
        }
    }

    #[test]
    fn every_decision_has_its_words() {
        for (decision, words) in [
            (InvestigationDecision::StopConsideration, Msg::DecisionStop),
            (
                InvestigationDecision::HandToAuthorities,
                Msg::DecisionAuthorities,
            ),
            (
                InvestigationDecision::Disciplinary,
                Msg::DecisionDisciplinary,
            ),
            (InvestigationDecision::OtherMeasures, Msg::DecisionOther),
        ] {
            let lang = super::super::i18n::Lang::Ru;
            assert_eq!(decision_words(lang, decision), t(lang, words));
        }
    }

    #[test]
    fn a_posted_form_becomes_its_entry_and_a_bad_one_names_its_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        let Ok(FileEntry::Ordered { members, .. }) = entry_of(&form("ordered"), today) else {
            panic!("an order");
        };
        assert_eq!(members.len(), 3);
        assert_eq!(members[2].name, "Ержан Сапаров");
        assert_eq!(members[2].position, "юрист");
        assert!(matches!(
            entry_of(&form("decided"), today),
            Ok(FileEntry::Decided {
                decision: InvestigationDecision::OtherMeasures,
                ..
            })
        ));
        assert_eq!(
            entry_of(&form("materials_received"), today)
                .err()
                .as_deref(),
            Some("request: a number is required")
        );
        assert_eq!(
            entry_of(&form("extended"), today).err().as_deref(),
            Some("until: a date (YYYY-MM-DD) is required")
        );
        let mut maybe = form("conclusion");
        maybe.substantiated = Some("maybe".into());
        assert_eq!(
            entry_of(&maybe, today).err().as_deref(),
            Some("substantiated: yes or no")
        );
        assert!(entry_of(&form("bogus"), today).is_err());
    }
}
