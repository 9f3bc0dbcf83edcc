//! The case on an appeal's page: its deadlines, and the forms for what is
//! decided and done on it (`cases::Act`), each shown to whom `Act::who` lets
//! record it. The Director's: consent to send the report to the anti-corruption
//! service (10.6, 10.7), the order of an internal investigation (10.10), its
//! extension (7.5) and the decision (7.11). The manager's: the reply and its
//! extension, redirection, materials (APPK Art. 76, 7.8), sending the appeal on
//! to a unit (10.9), its forwarding to a competent body (10.7, 6.3), the outcome
//! "not considered" (6.3) and closing it. One post route, `act`, records any of them through
//! `cases::Case::record`, as the API and the CLI do.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::{Lang, Msg, local, t};
use super::*;
use crate::app::App;
use crate::cases::{Act, ActError};
use crate::deadlines::{Deadline, Event, InvestigationDecision, Kind};
use crate::journal::audit::EventRow;
use crate::journal::{Appeal, AppealId};
use crate::persons::Role;
use crate::server::problem::Problem;

/// A deadline's kind in the reader's words.
pub(super) fn kind_words(lang: Lang, kind: Kind) -> &'static str {
    t(
        lang,
        match kind {
            Kind::Reply => Msg::DeadlineReply,
            Kind::ExtensionNotice => Msg::DeadlineExtensionNotice,
            Kind::Redirect => Msg::DeadlineRedirect,
            Kind::Investigation => Msg::DeadlineInvestigation,
            Kind::Materials => Msg::DeadlineMaterials,
            Kind::Triage => Msg::DeadlineTriage,
            Kind::ThreatForward => Msg::DeadlineThreatForward,
        },
    )
}

/// The manager's events, as the form's choices: (value, words).
const MANAGER_EVENTS: &[(&str, Msg)] = &[
    ("reply_sent", Msg::EventReplySent),
    ("citizen_notified", Msg::EventCitizenNotified),
    ("outside_competence", Msg::EventOutsideCompetence),
    ("redirected", Msg::EventRedirected),
];

/// How a forwarding is dispatched: (value, words).
const METHODS: &[(&str, Msg)] = &[
    ("post", Msg::MethodPost),
    ("courier", Msg::MethodCourier),
    ("by_hand", Msg::MethodByHand),
    ("email", Msg::MethodEmail),
];

/// The decisions of 7.11: (value, words).
pub(super) const DECISIONS: &[(&str, Msg)] = &[
    ("stop_consideration", Msg::DecisionStop),
    ("hand_to_authorities", Msg::DecisionAuthorities),
    ("disciplinary", Msg::DecisionDisciplinary),
    ("other_measures", Msg::DecisionOther),
];

/// The decision of 7.11, as a labelled select (`#decision`).
pub(super) fn decision_select(lang: super::i18n::Lang) -> Markup {
    html! {
        label for="decision" { (t(lang, Msg::Decision)) }
        select #decision name="decision" required {
            @for (value, words) in DECISIONS { option value=(value) { (t(lang, *words)) } }
        }
    }
}

/// The case part of an appeal's page: its deadlines, the Director's last word
/// on sending the report, then the forms of the acts the person may record.
pub(super) fn case_acts(
    app: &App,
    session: &LoggedIn,
    appeal: &Appeal,
    deadlines: &[Deadline],
    history: &[EventRow],
    reasons: &crate::journal::reasons::Reasons,
) -> Markup {
    let forms = ActForms::new(app, session, appeal);
    let today = forms.today;
    html! {
        (deadline_table(session.lang, today, deadlines))
        (consent_line(app, session, history, reasons))
        @if session.may(Action::Consent) {
            (forms.directors())
        }
        @if may_record(app, session, Action::ExtendReply) {
            (forms.reply_extension())
        }
        @if managers_workplace(session) {
            (forms.case_work(history))
        }
    }
}

/// The appeal's deadlines, overdue ones marked.
fn deadline_table(lang: Lang, today: NaiveDate, deadlines: &[Deadline]) -> Markup {
    html! {
        h2 { (t(lang, Msg::Deadlines)) }
        @if deadlines.is_empty() {
            p.muted { (t(lang, Msg::NoDeadlines)) }
        } @else {
            table #deadlines {
                thead { tr {
                    th { (t(lang, Msg::Kind)) } th { (t(lang, Msg::From)) } th { (t(lang, Msg::Due)) } th { (t(lang, Msg::Met)) }
                } }
                tbody {
                    @for d in deadlines {
                        tr.overdue[d.is_overdue(today)] {
                            td { (kind_words(lang, d.kind)) }
                            td { (d.started_on.format("%d.%m.%Y")) }
                            td {
                                (d.due_on.format("%d.%m.%Y"))
                                @if d.extended { " · " (t(lang, Msg::Extended)) }
                                @if let Some(r) = &d.reason { span.muted { " (" (r) ")" } }
                            }
                            td {
                                @if let Some(m) = d.met_on { (m.format("%d.%m.%Y")) }
                                @if let Some(e) = d.ended_on {
                                    span.muted.ended { (t(lang, Msg::EndedBy)) " · " (e.format("%d.%m.%Y")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The Director's last word on sending the report (10.6, 10.7), if any.
fn consent_line(
    app: &App,
    session: &LoggedIn,
    history: &[EventRow],
    reasons: &crate::journal::reasons::Reasons,
) -> Markup {
    let lang = session.lang;
    let Some(event) = history
        .iter()
        .rev()
        .find(|e| e.kind == crate::cases::acts::CONSENT)
    else {
        return html! {};
    };
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
    let send = detail["send"].as_bool().unwrap_or(false);
    let reason = match reasons.of_detail(&detail) {
        Some(crate::journal::reasons::Reason::Text(text)) => text,
        Some(crate::journal::reasons::Reason::Sealed) => t(lang, Msg::ReasonSealed).to_owned(),
        None => String::new(),
    };
    let tz = *app.config.calendar.timezone;
    html! {
        p.notice #consent-given {
            strong { (t(lang, if send { Msg::ConsentGiven } else { Msg::ConsentRefused })) }
            " · " (local(event.at, tz)) " · " (event.actor)
            @if !reason.is_empty() { " · " (reason) }
        }
    }
}

/// The acts' forms of one appeal's page: each posts to the one `act` route.
struct ActForms<'a> {
    app: &'a App,
    session: &'a LoggedIn,
    appeal: &'a Appeal,
    lang: Lang,
    today: NaiveDate,
    action: String,
}

impl<'a> ActForms<'a> {
    fn new(app: &'a App, session: &'a LoggedIn, appeal: &'a Appeal) -> Self {
        ActForms {
            app,
            session,
            appeal,
            lang: session.lang,
            today: app.today(),
            action: format!("/console/appeals/{}/act", appeal.id),
        }
    }

    /// The form's CSRF token and the act it records.
    fn hidden(&self, act: &str) -> Markup {
        super::hidden_fields(&self.session.csrf, "act", act)
    }

    /// A labelled date field, required.
    fn date(&self, name: &str, id: &str, label: Msg, value: Option<NaiveDate>) -> Markup {
        super::date_field(self.lang, name, id, label, value)
    }

    /// The investigation is recorded in its file (`investigation`), sealed or
    /// not, which records its acts too: the page only links to it.
    fn file_link(&self) -> Markup {
        html! {
            p.card #investigation-file {
                a href={ "/console/investigations/" (self.appeal.id) } { (t(self.lang, Msg::InvOpenFile)) }
            }
        }
    }

    /// The Director's: her consent to send the report, and the investigation's file.
    fn directors(&self) -> Markup {
        let lang = self.lang;
        html! {
            h2 { (t(lang, Msg::DirectorsDecisions)) }
            div.acts {
                form.card #consent method="post" action=(self.action) {
                    h3 { (t(lang, Msg::ConsentHeading)) }
                    (self.hidden("consent"))
                    label for="consent-reason" { (t(lang, Msg::Reason)) }
                    input #consent-reason type="text" name="reason";
                    div.buttons {
                        button type="submit" name="send" value="yes" { (t(lang, Msg::ConsentSend)) }
                        button.secondary type="submit" name="send" value="no" { (t(lang, Msg::ConsentRefuse)) }
                    }
                }
                (self.file_link())
            }
        }
    }

    /// The reply's extension (APPK Art. 76): the Director's, or her deputy's.
    fn reply_extension(&self) -> Markup {
        let lang = self.lang;
        html! {
            div.acts { form.card #reply-extend method="post" action=(self.action) {
                h3 { (t(lang, Msg::ReplyExtendHeading)) }
                (self.hidden("reply_extended"))
                (self.date("until", "reply-extend-until", Msg::Until, None))
                label for="reply-extend-reason" { (t(lang, Msg::ExtensionReason)) }
                input #reply-extend-reason type="text" name="reason" required;
                label for="reply-extend-reference" { (t(lang, Msg::WrittenDecision)) }
                input #reply-extend-reference type="text" name="reference" required;
                button type="submit" { (t(lang, Msg::Extend)) }
            } }
        }
    }

    /// The manager's case work: the events of the deadlines, the forwarding,
    /// "not considered", closing, and sending the appeal on to a unit.
    fn case_work(&self, history: &[EventRow]) -> Markup {
        let (lang, today, action) = (self.lang, self.today, &self.action);
        // The last cover letter's outgoing number, for the dispatch's reference.
        let outgoing = history
            .iter()
            .rev()
            .filter(|e| e.kind == crate::documents::ISSUED)
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).ok())
            .find(|d| d["kind"] == "cover_letter")
            .and_then(|d| d["number"].as_str().map(str::to_owned));
        html! {
            h2 { (t(lang, Msg::CaseWork)) }
            // Shown once: the Director's section holds it when she has one.
            @if !self.session.may(Action::Consent) { (self.file_link()) }
            div.acts {
                form.card #event method="post" action=(action) {
                    h3 { (t(lang, Msg::RecordEvent)) }
                    input type="hidden" name="csrf" value=(self.session.csrf);
                    label for="event-act" { (t(lang, Msg::Event)) }
                    select #event-act name="act" required {
                        @for (value, words) in MANAGER_EVENTS {
                            option value=(value) { (t(lang, *words)) }
                        }
                    }
                    (self.date("on", "event-on", Msg::OnDate, Some(today)))
                    label for="event-until" { (t(lang, Msg::UntilIfExtended)) }
                    input #event-until type="date" name="until";
                    label for="event-reason" { (t(lang, Msg::ReasonIfExtended)) }
                    input #event-reason type="text" name="reason";
                    button type="submit" { (t(lang, Msg::Record)) }
                }
                form.card #forward method="post" action=(action) {
                    h3 { (t(lang, Msg::ForwardHeading)) }
                    (self.hidden("forwarded"))
                    label for="forward-to" { (t(lang, Msg::ForwardTo)) }
                    select #forward-to name="to" required {
                        option value="anti_corruption_service" { (t(lang, Msg::AntiCorruptionService)) }
                        option value="competent_body" { (t(lang, Msg::CompetentBody)) }
                    }
                    (self.date("on", "forward-on", Msg::OnDate, Some(today)))
                    label for="forward-method" { (t(lang, Msg::Method)) }
                    select #forward-method name="method" required {
                        @for (value, words) in METHODS { option value=(value) { (t(lang, *words)) } }
                    }
                    label for="forward-reference" { (t(lang, Msg::TrackingReference)) }
                    input #forward-reference type="text" name="reference" value=[outgoing.as_deref()];
                    button type="submit" { (t(lang, Msg::Record)) }
                }
                form.card #not-considered method="post" action=(action) {
                    h3 { (t(lang, Msg::NotConsideredHeading)) }
                    (self.hidden("not_considered"))
                    label for="not-considered-reason" { (t(lang, Msg::Reason)) }
                    input #not-considered-reason type="text" name="reason" required;
                    button.secondary type="submit" { (t(lang, Msg::Record)) }
                }
                form.card #close method="post" action=(action) {
                    h3 { (t(lang, Msg::CloseHeading)) }
                    (self.hidden("closed"))
                    label for="close-reason" { (t(lang, Msg::Reason)) }
                    input #close-reason type="text" name="reason" required;
                    button.secondary type="submit" { (t(lang, Msg::Close)) }
                }
                (self.route_form())
            }
        }
    }

    /// Sending the appeal on to a unit (10.9), when `[alerts]` names units;
    /// with its text once sealed and the session holds the office key.
    fn route_form(&self) -> Markup {
        let lang = self.lang;
        let units = crate::cases::acts::units(&self.app.alerts);
        if units.is_empty() {
            return html! {};
        }
        html! {
            form.card #route method="post" action=(self.action) {
                h3 { (t(lang, Msg::RouteHeading)) }
                (self.hidden("routed"))
                label for="unit" { (t(lang, Msg::Unit)) }
                select #unit name="unit" required {
                    @for (name, _) in &units { option value=(name) { (name) } }
                }
                @if self.app.sealer.is_on() && self.session.office_key().is_some() {
                    label.check for="route-text" {
                        input #route-text type="checkbox" name="with_text" value="yes";
                        " " (t(lang, Msg::RouteWithText))
                    }
                }
                button type="submit" { (t(lang, Msg::Route)) }
            }
        }
    }
}

/// Whether the case work's forms are laid out on the page: the manager's
/// workplace. The Director, who may record that work too, has her own section
/// (`ActForms::directors`).
fn managers_workplace(session: &LoggedIn) -> bool {
    session.has(Role::Manager) && session.may(Action::SendReply)
}

/// Whether the rulebook lets the person of `session` record an act of
/// `action`: by their roles, or as a deputy named in `[authority]` where a
/// deputy may act (the reply's extension).
fn may_record(app: &App, session: &LoggedIn, action: Action) -> bool {
    let deputies = &app.config.authority.deputies;
    crate::rulebook::check_deputy(&session.roles, &session.login, deputies, action).is_ok()
}

/// Any act's form, as posted.
#[derive(Deserialize)]
pub(super) struct ActForm {
    #[serde(default)]
    act: String,
    on: Option<String>,
    until: Option<String>,
    #[serde(default)]
    reason: String,
    decision: Option<String>,
    send: Option<String>,
    unit: Option<String>,
    with_text: Option<String>,
    to: Option<String>,
    method: Option<String>,
    reference: Option<String>,
}

/// What was posted, as an act; the error names the field.
fn act_of(form: &ActForm, today: NaiveDate) -> Result<Act, String> {
    let date = |value: &Option<String>, field: &str| -> Result<Option<NaiveDate>, String> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{field}: not a date (YYYY-MM-DD)")),
        }
    };
    let on = date(&form.on, "on")?.unwrap_or(today);
    let until = || date(&form.until, "until")?.ok_or_else(|| "until: required".to_owned());
    let reason = form.reason.trim().to_owned();
    Ok(match form.act.as_str() {
        "consent" => Act::Consent {
            send: match form.send.as_deref() {
                Some("yes") => true,
                Some("no") => false,
                _ => return Err("send: yes or no".into()),
            },
            reason,
        },
        "routed" => Act::Route {
            unit: form
                .unit
                .clone()
                .filter(|u| !u.is_empty())
                .ok_or("unit: required")?,
            text: None,
        },
        "reply_sent" => Act::Deadline(Event::ReplySent { on }),
        "reply_extended" => Act::Deadline(Event::ReplyExtended {
            until: until()?,
            reason,
            reference: form.reference.clone().unwrap_or_default(),
        }),
        "citizen_notified" => Act::Deadline(Event::CitizenNotified { on }),
        "outside_competence" => Act::Deadline(Event::OutsideCompetence),
        "redirected" => Act::Deadline(Event::Redirected { on }),
        "investigation_ordered" => Act::Deadline(Event::InvestigationOrdered { on }),
        "investigation_extended" => Act::Deadline(Event::InvestigationExtended {
            until: until()?,
            reason,
        }),
        "materials_requested" => Act::Deadline(Event::MaterialsRequested { on }),
        "materials_received" => Act::Deadline(Event::MaterialsReceived {
            on,
            requested_on: None,
        }),
        "decision" => {
            let value = form.decision.as_deref().unwrap_or_default();
            let decision: InvestigationDecision = serde_json::from_value(serde_json::json!(value))
                .map_err(|_| format!("decision: unknown decision {value:?}"))?;
            Act::Deadline(Event::Decision { decision, on })
        }
        "forwarded" => Act::Forward {
            to: form
                .to
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|_| "to: anti_corruption_service or competent_body".to_owned())?,
            on,
            method: form.method.clone().unwrap_or_default(),
            reference: form.reference.clone().unwrap_or_default(),
        },
        "not_considered" => Act::NotConsidered { reason },
        "closed" => Act::Close { reason },
        other => return Err(format!("act: unknown act {other:?}")),
    })
}

/// Records an act in the person's own name (`cases::Case::record`) if the
/// rulebook lets them (`rulebook::check_deputy`); the page again with what happened.
pub(super) async fn act(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Posted { session, form }: Posted<rule::ReadCases, ActForm>,
) -> Answer {
    let lang = session.lang;
    let act = match act_of(&form, app.today()) {
        Ok(act) => act,
        Err(problem) => {
            let notice = format!("{} {problem}", t(lang, Msg::BadForm));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(super::appeal::refused(&app, &session, id, &notice, status).await);
        }
    };
    let deputies = &app.config.authority.deputies;
    let by = crate::rulebook::check_deputy(&session.roles, &session.login, deputies, act.action())
        .map_err(|_| super::access::forbidden(&session))?
        .by(session.actor());
    // Sent on with its text: a sealed appeal opened with the session's key,
    // recorded as a disclosure (10.9); never the reporter's identity.
    let act = match act {
        Act::Route { unit, text: None }
            if form.with_text.as_deref() == Some("yes") && app.sealer.is_on() =>
        {
            let purpose = "sent on to a unit (10.9)";
            let opened = super::appeal::opened(&app, &session, id, purpose).await?;
            Act::Route {
                unit,
                text: Some(crate::cases::acts::SentText::of(&opened)),
            }
        }
        other => other,
    };
    let (now, today) = (app.clock.now(), app.today());
    let recorded = app.case().record(AppealId(id), &act, &by, now, today).await;
    Ok(match recorded {
        Ok(_) => {
            Redirect::to(&format!("/console/appeals/{id}?done={}", act.name())).into_response()
        }
        Err(ActError::Journal(e)) => Problem::from(e).into_response(),
        Err(e) => super::appeal::refused_with(&app, &session, id, e.into()).await,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(act: &str, fields: &[(&str, &str)]) -> ActForm {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        };
        ActForm {
            act: act.to_owned(),
            on: get("on"),
            until: get("until"),
            reason: get("reason").unwrap_or_default(),
            decision: get("decision"),
            send: get("send"),
            unit: get("unit"),
            with_text: get("with_text"),
            to: get("to"),
            method: get("method"),
            reference: get("reference"),
        }
    }

    #[test]
    fn each_form_becomes_its_act_and_a_bad_one_names_its_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        let on = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap_or_default();
        assert_eq!(
            act_of(&form("investigation_ordered", &[]), today),
            Ok(Act::Deadline(Event::InvestigationOrdered { on: today }))
        );
        assert_eq!(
            act_of(
                &form(
                    "decision",
                    &[("decision", "hand_to_authorities"), ("on", "2026-12-15")]
                ),
                today
            ),
            Ok(Act::Deadline(Event::Decision {
                decision: InvestigationDecision::HandToAuthorities,
                on
            }))
        );
        assert_eq!(
            act_of(&form("consent", &[("send", "yes")]), today),
            Ok(Act::Consent {
                send: true,
                reason: String::new()
            })
        );
        let refused = |act, fields: &[(&str, &str)], field: &str| {
            let e = act_of(&form(act, fields), today).unwrap_err();
            assert!(e.starts_with(field), "{e}");
        };
        refused("consent", &[], "send");
        refused("reply_extended", &[("reason", "x")], "until");
        refused("reply_sent", &[("on", "16.12.2026")], "on");
        refused("decision", &[("decision", "pardon")], "decision");
        refused("routed", &[], "unit");
        refused("drop_table", &[], "act");
    }
}
