//! `senim journal classify | deadlines | status | act | event`: the case work
//! on a registered appeal (`cases::Case`), and the deadlines it meets or ends.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::app::App;
use crate::cli::{Claimed, disclose, find_appeal, parse_text};
use crate::journal::{Category, Status};
use crate::rulebook::Action;

/// The deadline events the manager records.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EventKind {
    ReplySent,
    ReplyExtended,
    CitizenNotified,
    OutsideCompetence,
    Redirected,
    InvestigationOrdered,
    InvestigationExtended,
    MaterialsRequested,
    MaterialsReceived,
    Decision,
}

/// The acts of `senim journal act`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActKind {
    /// The Director consents to send the report to the anti-corruption service.
    Consent,
    /// The Director refuses to send it (with --reason).
    RefuseConsent,
    /// Sent on to a unit (--unit).
    Route,
    /// Forwarded to a competent body (--to, --method, --reference, --on).
    Forward,
    /// Not considered (6.3), with --reason.
    NotConsidered,
    /// Closed, with --reason.
    Close,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DecisionArg {
    StopConsideration,
    HandToAuthorities,
    Disciplinary,
    OtherMeasures,
}

impl From<DecisionArg> for crate::deadlines::InvestigationDecision {
    fn from(arg: DecisionArg) -> Self {
        use crate::deadlines::InvestigationDecision;
        match arg {
            DecisionArg::StopConsideration => InvestigationDecision::StopConsideration,
            DecisionArg::HandToAuthorities => InvestigationDecision::HandToAuthorities,
            DecisionArg::Disciplinary => InvestigationDecision::Disciplinary,
            DecisionArg::OtherMeasures => InvestigationDecision::OtherMeasures,
        }
    }
}

// The options of `journal act` (its help is the variant's, in
// `JournalCommand`).
#[derive(Args, Debug)]
pub struct ActArgs {
    /// Registration number (TL-2026-000042) or id.
    appeal: String,
    #[arg(value_enum)]
    act: ActKind,
    /// The reason (consent refused, not considered, close; optional for consent).
    #[arg(long)]
    reason: Option<String>,
    /// The unit, for `route` (a unit of `[[alerts.routes]]`, or "default unit").
    #[arg(long)]
    unit: Option<String>,
    /// Where to, for `forward`: anti_corruption_service (after the Director's
    /// consent) or competent_body.
    #[arg(long, value_parser = parse_text::<crate::cases::acts::Body>)]
    to: Option<crate::cases::acts::Body>,
    /// The dispatch's date, for `forward` (default: today, Astana).
    #[arg(long)]
    on: Option<NaiveDate>,
    /// How it was sent, for `forward` (post, courier, by_hand, email).
    #[arg(long)]
    method: Option<String>,
    /// The dispatch's tracking reference or outgoing number, for `forward`.
    #[arg(long)]
    reference: Option<String>,
    /// For `route`: the unit's mail carries the appeal's subject and
    /// substance (once sealing is on: opened with your key, recorded as a
    /// disclosure; never the reporter's identity), so that the unit can act
    /// on it (10.9).
    #[arg(long)]
    with_text: bool,
}

// The options of `journal event`.
#[derive(Args, Debug)]
pub struct EventArgs {
    /// Registration number (TL-2026-000042) or id.
    appeal: String,
    #[arg(value_enum)]
    event: EventKind,
    /// The date it happened (default: today, Astana).
    #[arg(long)]
    on: Option<NaiveDate>,
    /// The new deadline, for extensions.
    #[arg(long)]
    until: Option<NaiveDate>,
    /// The reason, for extensions.
    #[arg(long)]
    reason: Option<String>,
    /// The written decision's reference (number and date), for the reply's
    /// extension (APPK Art. 76).
    #[arg(long)]
    reference: Option<String>,
    /// The decision of 7.11.
    #[arg(long, value_enum)]
    decision: Option<DecisionArg>,
}

/// `journal classify`: the manager's classification, and what follows it.
pub(super) async fn classify(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    category: Category,
    reason: String,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    let actor = claimed.actor(app, Action::Classify).await?;
    let appeal = app
        .case()
        .classify(
            appeal.id,
            category,
            &reason,
            &actor,
            app.clock.now(),
            app.today(),
        )
        .await?;
    writeln!(
        out,
        "{} classified as {}; suggested: {}",
        appeal.registration_number,
        appeal.category,
        crate::triage::suggestion_for(&appeal).describe()
    )?;
    Ok(())
}

/// `journal deadlines`: an appeal's deadlines and the suggested category.
pub(super) async fn deadlines(app: &App, appeal: String) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    writeln!(
        out,
        "{} registered {}, category {}, suggested {}",
        appeal.registration_number,
        appeal.registration_date,
        appeal.category,
        crate::triage::suggestion_for(&appeal).describe()
    )?;
    print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
    Ok(())
}

/// `journal event`: an event that starts or ends a deadline.
pub(super) async fn event(app: &App, claimed: &Claimed, args: EventArgs) -> anyhow::Result<()> {
    let EventArgs {
        appeal,
        event,
        on,
        until,
        reason,
        reference,
        decision,
    } = args;
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    let event = build_event(
        event,
        on.unwrap_or_else(|| app.today()),
        until,
        reason,
        reference,
        decision,
    )?;
    let act = crate::cases::Act::Deadline(event);
    let actor = claimed.actor_for(app, &act).await?;
    app.case()
        .record(appeal.id, &act, &actor, app.clock.now(), app.today())
        .await?;
    print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
    Ok(())
}

/// `journal status`: closed or not considered, the acts that set them.
pub(super) async fn status(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    status: Status,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let reason = reason.unwrap_or_default();
    let act = match status {
        Status::Closed => crate::cases::Act::Close { reason },
        Status::NotConsidered => crate::cases::Act::NotConsidered { reason },
        other => bail!("{}", status_path(other)),
    };
    let appeal = find_appeal(app, &appeal).await?;
    let actor = claimed.actor_for(app, &act).await?;
    let appeal = app
        .case()
        .record(appeal.id, &act, &actor, app.clock.now(), app.today())
        .await?;
    writeln!(
        out,
        "{} (id {}): status {}",
        appeal.registration_number, appeal.id, appeal.status
    )?;
    Ok(())
}

/// `journal act`: an act on an appeal (`cases::Act`).
pub(super) async fn act(app: &App, claimed: &Claimed, args: ActArgs) -> anyhow::Result<()> {
    let ActArgs {
        appeal,
        act,
        reason,
        unit,
        to,
        on,
        method,
        reference,
        with_text,
    } = args;
    let mut out = std::io::stdout().lock();
    use crate::cases::Act;
    let reason = reason.unwrap_or_default();
    if with_text && !matches!(act, ActKind::Route) {
        bail!("--with-text is for route");
    }
    let mut act = match act {
        ActKind::Consent => Act::Consent { send: true, reason },
        ActKind::RefuseConsent => Act::Consent {
            send: false,
            reason,
        },
        ActKind::Route => Act::Route {
            unit: unit.context("--unit is required for route")?,
            text: None,
        },
        ActKind::Forward => Act::Forward {
            to: to.context("--to is required for forward")?,
            on: on.unwrap_or_else(|| app.today()),
            method: method.context("--method is required for forward")?,
            reference: reference.unwrap_or_default(),
        },
        ActKind::NotConsidered => Act::NotConsidered { reason },
        ActKind::Close => Act::Close { reason },
    };
    let appeal = find_appeal(app, &appeal).await?;
    let actor = claimed.actor_for(app, &act).await?;
    // Its text opened with the person's key only once the act is
    // complete and theirs to record: the opening is a disclosure.
    if let Act::Route { text, .. } = &mut act
        && with_text
        && appeal.sealed.is_some()
    {
        let opened = disclose(
            app,
            claimed,
            vec![appeal.clone()],
            "sent on to a unit (10.9)",
        )
        .await?;
        *text = opened.first().map(crate::cases::acts::SentText::of);
    }
    let appeal = app
        .case()
        .record(appeal.id, &act, &actor, app.clock.now(), app.today())
        .await?;
    writeln!(
        out,
        "{} (id {}): {} recorded, status {}",
        appeal.registration_number,
        appeal.id,
        act.name(),
        appeal.status
    )?;
    print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
    Ok(())
}

fn build_event(
    kind: EventKind,
    on: NaiveDate,
    until: Option<NaiveDate>,
    reason: Option<String>,
    reference: Option<String>,
    decision: Option<DecisionArg>,
) -> anyhow::Result<crate::deadlines::Event> {
    use crate::deadlines::Event;
    let until = || until.context("--until is required for an extension");
    let reason = || {
        reason
            .clone()
            .context("--reason is required for an extension")
    };
    Ok(match kind {
        EventKind::ReplySent => Event::ReplySent { on },
        EventKind::ReplyExtended => Event::ReplyExtended {
            until: until()?,
            reason: reason()?,
            reference: reference
                .context("--reference is required: the head's written decision (APPK Art. 76)")?,
        },
        EventKind::CitizenNotified => Event::CitizenNotified { on },
        EventKind::OutsideCompetence => Event::OutsideCompetence,
        EventKind::Redirected => Event::Redirected { on },
        EventKind::InvestigationOrdered => Event::InvestigationOrdered { on },
        EventKind::InvestigationExtended => Event::InvestigationExtended {
            until: until()?,
            reason: reason()?,
        },
        EventKind::MaterialsRequested => Event::MaterialsRequested { on },
        EventKind::MaterialsReceived => Event::MaterialsReceived {
            on,
            requested_on: None,
        },
        EventKind::Decision => Event::Decision {
            on,
            decision: decision.context("--decision is required")?.into(),
        },
    })
}

fn print_deadlines(
    out: &mut impl Write,
    list: &[crate::deadlines::Deadline],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<18} {:<10} {:<10} {:<10} what",
        "deadline", "from", "due", "met"
    )?;
    for d in list {
        writeln!(
            out,
            "{:<18} {:<10} {:<10} {:<10} {}{}",
            d.kind.as_str(),
            d.started_on,
            d.due_on,
            d.met_on.map_or_else(|| "-".to_owned(), |m| m.to_string()),
            d.kind.describe(),
            d.reason
                .as_deref()
                .map_or_else(String::new, |r| format!("; extended: {r}"))
        )?;
    }
    Ok(())
}

/// What sets `status`, for `journal status` to name instead of setting it: the
/// status of an appeal follows from the act recorded on it (`cases::Act`).
fn status_path(status: Status) -> String {
    let how = match status {
        Status::Registered | Status::AwaitingOperatorNotes => {
            "is where an appeal begins; a status never moves back"
        }
        Status::InReview => "follows the manager's classification (`senim journal classify`)",
        Status::Routed => {
            "follows sending the appeal on to a unit (`senim journal act … route --unit U`)"
        }
        Status::Forwarded => {
            "follows a forwarding (`senim journal act … forward`, to the anti-corruption service only \
             after the Director's consent) or a redirection (`senim journal event … redirected`)"
        }
        Status::UnderInvestigation => {
            "follows the Director's order of an internal investigation (`senim investigation order`)"
        }
        Status::Decided => "follows the Director's decision (`senim investigation decide`)",
        Status::Replied => {
            "follows the reply to the citizen (`senim documents reply`, or `senim journal event … reply-sent`)"
        }
        Status::NotConsidered | Status::Closed => "is set by `senim journal status`",
    };
    format!("{status}: this status {how}")
}
