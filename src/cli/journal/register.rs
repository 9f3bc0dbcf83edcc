//! `senim journal list | show | record-call | correct`: the register of appeals
//! read (an identity only as a recorded disclosure), and the details an
//! operator or a manager writes into it.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;

use super::FilterArgs;
use crate::app::App;
use crate::cli::{Claimed, disclose, disclose_with_key, find_appeal, parse_text};
use crate::journal::{Appeal, AppealKey};
use crate::pbx::notes::{Correction, OperatorNotes};
use crate::rulebook::Action;

crate::appeal_details! {
    #[arg(long)];
    /// The details of an appeal `journal record-call` and `journal correct` write.
    #[derive(Args, Debug)]
    pub struct DetailArgs {}
}

// The options of `journal record-call` (its help is the variant's, in
// `JournalCommand`).
#[derive(Args, Debug)]
pub struct RecordCallArgs {
    /// Registration number (TL-2026-000042) or id.
    appeal: String,
    #[command(flatten)]
    details: DetailArgs,
    /// A point of the clause-10.5 script the operator said (repeat, or a comma
    /// list); all are required: own_name_and_position, line_scope,
    /// state_secret_warning, disclosure_liability.
    #[arg(long = "said", value_name = "POINT", value_delimiter = ',', value_parser = parse_text::<crate::journal::ScriptPoint>)]
    said: Vec<crate::journal::ScriptPoint>,
}

// The options of `journal correct`.
#[derive(Args, Debug)]
pub struct CorrectArgs {
    /// Registration number (TL-2026-000042) or id.
    appeal: String,
    #[command(flatten)]
    details: DetailArgs,
    /// Why (goes into the audit log; name no value there).
    #[arg(long)]
    reason: String,
}

/// `journal list`: the appeals as a table, or JSON lines (with the identity,
/// a recorded disclosure).
pub(super) async fn list(
    app: &App,
    claimed: &Claimed,
    filter: &FilterArgs,
    json: bool,
    with_identity: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut appeals = app.journal.list(&filter.to_filter()).await?;
    if json {
        if with_identity {
            appeals = disclose(app, claimed, appeals, "list").await?;
        }
        for a in &appeals {
            let shown = if with_identity { a } else { &a.redacted() };
            writeln!(out, "{}", serde_json::to_string(shown)?)?;
        }
    } else {
        writeln!(
            out,
            "{:<16} {:>6}  {:<10} {:<6} {:<16} {:<24} flags",
            "number", "id", "registered", "channel", "category", "status"
        )?;
        for a in &appeals {
            writeln!(
                out,
                "{:<16} {:>6}  {:<10} {:<6} {:<16} {:<24} {}",
                a.registration_number.to_string(),
                a.id,
                a.registration_date,
                a.channel,
                a.category,
                a.status,
                flags(a)
            )?;
        }
        writeln!(out, "{} appeal(s)", appeals.len())?;
    }
    Ok(())
}

/// `journal show`: one appeal and its history; its identity and text only
/// `with_identity`, a recorded disclosure.
pub(super) async fn show(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    with_identity: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    // The reasons of its acts: plain as they are, sealed ones opened
    // only with the key of a person the disclosure names.
    let (appeal, unlocked) = if with_identity {
        let (mut opened, unlocked) = disclose_with_key(app, claimed, vec![appeal], "show").await?;
        let appeal = opened.pop().context("the appeal was not opened")?;
        (appeal, unlocked)
    } else {
        (appeal.redacted(), None)
    };
    let reasons = app.journal.reasons(appeal.id, unlocked.as_ref()).await?;
    writeln!(out, "{}", serde_json::to_string_pretty(&appeal)?)?;
    writeln!(out, "history:")?;
    for e in app.journal.history(appeal.id).await? {
        writeln!(
            out,
            "  #{:<6} {}  {:<18} by {}  {}",
            e.seq,
            e.at.to_rfc3339(),
            e.kind,
            e.actor,
            reasons.shown_text(&e.detail, "(sealed)", "(destroyed)")
        )?;
    }
    Ok(())
}

/// `journal record-call`: the operator's notes on a phone appeal (10.5).
pub(super) async fn record_call(
    app: &App,
    claimed: &Claimed,
    args: RecordCallArgs,
) -> anyhow::Result<()> {
    let RecordCallArgs {
        appeal,
        details,
        said,
    } = args;
    let mut out = std::io::stdout().lock();
    let actor = claimed.actor(app, Action::RecordNotes).await?;
    let key: AppealKey = appeal.parse().map_err(anyhow::Error::msg)?;
    let notes = crate::move_details!(details => OperatorNotes { script: said });
    if notes.is_empty() {
        bail!(
            "give at least one of --name, --organisation, --postal-address, --phone, --email, --subject, --substance"
        );
    }
    let appeal =
        crate::pbx::notes::record_operator_notes(&app.journal, &key, notes, &actor).await?;
    writeln!(
        out,
        "{} (id {}): notes recorded, status {}",
        appeal.registration_number, appeal.id, appeal.status
    )?;
    Ok(())
}

/// `journal correct`: a recorded correction of an appeal's details.
pub(super) async fn correct(app: &App, claimed: &Claimed, args: CorrectArgs) -> anyhow::Result<()> {
    let CorrectArgs {
        appeal,
        details,
        reason,
    } = args;
    let mut out = std::io::stdout().lock();
    let actor = claimed.actor(app, Action::CorrectDetails).await?;
    let key: AppealKey = appeal.parse().map_err(anyhow::Error::msg)?;
    let correction = crate::move_details!(details => Correction { reason });
    let appeal = crate::pbx::notes::correct_details(&app.journal, &key, correction, &actor).await?;
    writeln!(
        out,
        "{} (id {}): correction recorded, status {}",
        appeal.registration_number, appeal.id, appeal.status
    )?;
    Ok(())
}

fn flags(a: &Appeal) -> String {
    let mut f = Vec::new();
    if a.anonymous {
        f.push("anonymous");
    }
    if a.no_return_address {
        f.push("no-return-address");
    }
    f.join(",")
}
