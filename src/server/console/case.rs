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

use axum::extract::{Extension, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::{Lang, Msg, local, t};
use super::session::{Session, Sessions};
use super::*;
use crate::app::App;
use crate::cases::{Act, ActError};
use crate::deadlines::{Deadline, Event, InvestigationDecision, Kind};
use crate::journal::audit::EventRow;
use crate::journal::{Appeal, AppealId};

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

/// The case section of an appeal's page: deadlines, then the forms the person's
/// roles allow.
pub(super) fn section(
    app: &App,
    session: &Session,
    appeal: &Appeal,
    deadlines: &[Deadline],
    history: &[EventRow],
    reasons: &crate::journal::reasons::Reasons,
) -> Markup {
    let lang = session.lang;
    let today = app.today();
    let action = format!("/console/appeals/{}/act", appeal.id);
    let hidden = |act: &str| {
        html! {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="act" value=(act);
        }
    };
    let date = |name: &str, id: &str, label: Msg, value: Option<NaiveDate>| {
        html! {
            label for=(id) { (t(lang, label)) }
            input id=(id) type="date" name=(name) value=[value] required;
        }
    };
    let units = crate::cases::acts::units(&app.alerts);
    let tz = *app.config.calendar.timezone;
    // The Director's last word on sending the report (10.6, 10.7), if any.
    let consent = history
        .iter()
        .rev()
        .find(|e| e.kind == crate::cases::acts::CONSENT)
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let send = detail["send"].as_bool().unwrap_or(false);
            let reason = match reasons.of_detail(&detail) {
                Some(crate::journal::reasons::Reason::Text(text)) => text,
                Some(crate::journal::reasons::Reason::Sealed) => {
                    t(session.lang, Msg::ReasonSealed).to_owned()
                }
                None => String::new(),
            };
            (e, send, reason)
        });
    // The last cover letter's outgoing number, for the dispatch's reference.
    let outgoing = history
        .iter()
        .rev()
        .filter(|e| e.kind == crate::documents::ISSUED)
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).ok())
        .find(|d| d["kind"] == "cover_letter")
        .and_then(|d| d["number"].as_str().map(str::to_owned));
    // The investigation is recorded in its file (`investigation`), sealed or
    // not, which records its acts too: the page only links to it.
    let file_link = html! {
        p.card #investigation-file {
            a href={ "/console/investigations/" (appeal.id) } { (t(lang, Msg::InvOpenFile)) }
        }
    };
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
        @if let Some((event, send, reason)) = &consent {
            p.notice #consent-given {
                strong { (t(lang, if *send { Msg::ConsentGiven } else { Msg::ConsentRefused })) }
                " · " (local(event.at, tz)) " · " (event.actor)
                @if !reason.is_empty() { " · " (reason) }
            }
        }
        @if session.has(Role::Director) {
            h2 { (t(lang, Msg::DirectorsDecisions)) }
            div.acts {
                form.card #consent method="post" action=(action) {
                    h3 { (t(lang, Msg::ConsentHeading)) }
                    (hidden("consent"))
                    label for="consent-reason" { (t(lang, Msg::Reason)) }
                    input #consent-reason type="text" name="reason";
                    div.buttons {
                        button type="submit" name="send" value="yes" { (t(lang, Msg::ConsentSend)) }
                        button.secondary type="submit" name="send" value="no" { (t(lang, Msg::ConsentRefuse)) }
                    }
                }
                (file_link.clone())
            }
        }
        @if act_allowed(app, session, &Act::Deadline(Event::ReplyExtended {
            until: today,
            reason: String::new(),
            reference: String::new(),
        })) {
            div.acts { form.card #reply-extend method="post" action=(action) {
                h3 { (t(lang, Msg::ReplyExtendHeading)) }
                (hidden("reply_extended"))
                (date("until", "reply-extend-until", Msg::Until, None))
                label for="reply-extend-reason" { (t(lang, Msg::ExtensionReason)) }
                input #reply-extend-reason type="text" name="reason" required;
                label for="reply-extend-reference" { (t(lang, Msg::WrittenDecision)) }
                input #reply-extend-reference type="text" name="reference" required;
                button type="submit" { (t(lang, Msg::Extend)) }
            } }
        }
        @if session.has(Role::Manager) {
            h2 { (t(lang, Msg::CaseWork)) }
            @if !session.has(Role::Director) { (file_link) }
            div.acts {
                form.card #event method="post" action=(action) {
                    h3 { (t(lang, Msg::RecordEvent)) }
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="event-act" { (t(lang, Msg::Event)) }
                    select #event-act name="act" required {
                        @for (value, words) in MANAGER_EVENTS {
                            option value=(value) { (t(lang, *words)) }
                        }
                    }
                    (date("on", "event-on", Msg::OnDate, Some(today)))
                    label for="event-until" { (t(lang, Msg::UntilIfExtended)) }
                    input #event-until type="date" name="until";
                    label for="event-reason" { (t(lang, Msg::ReasonIfExtended)) }
                    input #event-reason type="text" name="reason";
                    button type="submit" { (t(lang, Msg::Record)) }
                }
                form.card #forward method="post" action=(action) {
                    h3 { (t(lang, Msg::ForwardHeading)) }
                    (hidden("forwarded"))
                    label for="forward-to" { (t(lang, Msg::ForwardTo)) }
                    select #forward-to name="to" required {
                        option value="anti_corruption_service" { (t(lang, Msg::AntiCorruptionService)) }
                        option value="competent_body" { (t(lang, Msg::CompetentBody)) }
                    }
                    (date("on", "forward-on", Msg::OnDate, Some(today)))
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
                    (hidden("not_considered"))
                    label for="not-considered-reason" { (t(lang, Msg::Reason)) }
                    input #not-considered-reason type="text" name="reason" required;
                    button.secondary type="submit" { (t(lang, Msg::Record)) }
                }
                form.card #close method="post" action=(action) {
                    h3 { (t(lang, Msg::CloseHeading)) }
                    (hidden("closed"))
                    label for="close-reason" { (t(lang, Msg::Reason)) }
                    input #close-reason type="text" name="reason" required;
                    button.secondary type="submit" { (t(lang, Msg::Close)) }
                }
                @if !units.is_empty() {
                    form.card #route method="post" action=(action) {
                        h3 { (t(lang, Msg::RouteHeading)) }
                        (hidden("routed"))
                        label for="unit" { (t(lang, Msg::Unit)) }
                        select #unit name="unit" required {
                            @for (name, _) in &units { option value=(name) { (name) } }
                        }
                        @if app.sealer.is_on() && session.office_key().is_some() {
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
    }
}

/// Whether the person of `session` may record `act` (`Act::who_for`).
fn act_allowed(app: &App, session: &Session, act: &Act) -> bool {
    act.who_for(&session.login, &app.config.authority.deputies)
        .iter()
        .any(|r| session.has(*r))
}

/// Any act's form, as posted.
#[derive(Deserialize)]
pub(super) struct ActForm {
    csrf: Option<String>,
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

/// Records an act in the person's own name (`cases::Case::record`) if their
/// roles allow it (`Act::who`); the page again with what happened.
pub(super) async fn act(
    State(app): State<Arc<App>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ActForm>,
) -> Response {
    let session = or_refuse!(require_post(
        &app,
        &sessions,
        &headers,
        super::appeal::READERS,
        form.csrf.as_deref()
    ));
    let lang = session.lang;
    let act = match act_of(&form, app.today()) {
        Ok(act) => act,
        Err(problem) => {
            let notice = format!("{} {problem}", t(lang, Msg::BadForm));
            return super::appeal::refused(
                &app,
                &session,
                id,
                &notice,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let who = act.who_for(&session.login, &app.config.authority.deputies);
    let session = or_refuse!(require(&app, &sessions, &headers, who));
    // Sent on with its text: a sealed appeal opened with the session's key,
    // recorded as a disclosure (10.9); never the reporter's identity.
    let act = match act {
        Act::Route { unit, text: None }
            if form.with_text.as_deref() == Some("yes") && app.sealer.is_on() =>
        {
            let opened =
                match super::appeal::opened(&app, &session, id, "sent on to a unit (10.9)").await {
                    Ok(opened) => opened,
                    Err(refusal) => return refusal,
                };
            Act::Route {
                unit,
                text: Some(crate::cases::acts::SentText::of(&opened)),
            }
        }
        other => other,
    };
    match app
        .case()
        .record(
            AppealId(id),
            &act,
            &session.actor(),
            app.clock.now(),
            app.today(),
        )
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/console/appeals/{id}?done={}", act.name())).into_response()
        }
        Err(ActError::Invalid(problem)) => {
            super::appeal::refused(
                &app,
                &session,
                id,
                &problem,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ActError::Journal(e)) => crate::server::problem::Problem::from(e).into_response(),
        Err(ActError::Alerts(e)) => {
            tracing::error!(error = %e, "console: cannot route an appeal");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
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
            csrf: None,
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
