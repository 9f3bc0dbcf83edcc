//! `senim investigation …`: the investigation file (7.3–7.11) at the command
//! line, each entry in the name of the person of `--as`
//! (`investigation::Investigations`); `show` opens the file (once sealed, with
//! their own key or the escrow) and prints it, a reading recorded in the audit
//! chain. The same commands work whether the Journal is sealed or not.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Subcommand;

use super::journal::DecisionArg;
use super::{Claimed, find_appeal};
use crate::app::App;
use crate::investigation::{File, FileEntry, Member, Who};
use crate::rulebook::Action;

#[derive(Subcommand, Debug)]
pub enum InvestigationCommand {
    /// The Director's order setting up the commission (7.5): its number, date
    /// and members. Opens the file, read by the Director, the managers and the
    /// members who work the line (once sealing is on, sealed to them and the
    /// escrow).
    Order {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The order's number.
        #[arg(long)]
        number: String,
        /// The order's date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        /// A member who works the line, by login (repeat for each).
        #[arg(long = "member")]
        members: Vec<String>,
        /// A member from outside Senim: "Name, position" (repeat for each).
        #[arg(long = "outside")]
        outside: Vec<String>,
    },
    /// A change of the commission (the Director): the members as they now are.
    Commission {
        appeal: String,
        #[arg(long)]
        on: Option<NaiveDate>,
        #[arg(long = "member")]
        members: Vec<String>,
        #[arg(long = "outside")]
        outside: Vec<String>,
    },
    /// The extension of the investigation by the Director's written decision (7.5).
    Extend {
        appeal: String,
        /// The new last day.
        #[arg(long)]
        until: NaiveDate,
        /// The written decision's number and date.
        #[arg(long)]
        reference: String,
        #[arg(long)]
        reason: String,
    },
    /// The commission asks for materials (7.8: to be handed over within one
    /// working day).
    Request {
        appeal: String,
        /// Whom it is asked of (a unit, an employee).
        #[arg(long)]
        from: String,
        /// What is asked for.
        #[arg(long)]
        what: String,
        #[arg(long)]
        on: Option<NaiveDate>,
    },
    /// The materials of request N were handed over.
    Received {
        appeal: String,
        /// The request's number in the file (1, 2, …).
        #[arg(long)]
        request: i64,
        #[arg(long)]
        on: Option<NaiveDate>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The commission's reasoned conclusion (7.10), from a UTF-8 file, finding
    /// the report substantiated or not.
    Conclude {
        appeal: String,
        #[arg(long)]
        text_file: PathBuf,
        /// Whether the commission found the report substantiated: yes or no.
        #[arg(long, value_parser = parse_yes_no, action = clap::ArgAction::Set, required = true)]
        substantiated: bool,
        #[arg(long)]
        on: Option<NaiveDate>,
    },
    /// The Director's decision after the conclusion (7.11).
    Decide {
        appeal: String,
        #[arg(long, value_enum)]
        decision: DecisionArg,
        /// What is decided, in words (required for other-measures).
        #[arg(long, default_value = "")]
        text: String,
        #[arg(long)]
        on: Option<NaiveDate>,
    },
    /// Opens the file with the person's own key and prints it (recorded in the
    /// audit chain as a reading).
    Show {
        appeal: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The files the person may read, without opening them.
    List,
}

/// `--substantiated yes|no`.
fn parse_yes_no(value: &str) -> Result<bool, String> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!("{other:?}: yes or no")),
    }
}

/// The members as given: logins, and "Name, position" from outside.
fn members(logins: Vec<String>, outside: Vec<String>) -> Vec<Member> {
    let logins = logins.iter().map(|l| Member::person(l));
    logins
        .chain(outside.iter().map(|o| Member::outside(o)))
        .collect()
}

pub async fn run(
    app: &App,
    claimed: &Claimed,
    command: InvestigationCommand,
) -> anyhow::Result<()> {
    // Anyone who works the line (`Action::Investigations`): the file decides
    // who may do what.
    let person = claimed.person(app, Action::Investigations).await?;
    let who = Who {
        login: &person.login,
        roles: &person.roles,
    };
    let today = app.today();
    let (appeal, entry) = match command {
        InvestigationCommand::List => return list(app, who).await,
        InvestigationCommand::Show { appeal, json } => {
            return show(app, claimed, who, appeal, json).await;
        }
        InvestigationCommand::Order {
            appeal,
            number,
            on,
            members: logins,
            outside,
        } => (
            appeal,
            FileEntry::Ordered {
                number,
                on: on.unwrap_or(today),
                members: members(logins, outside),
            },
        ),
        InvestigationCommand::Commission {
            appeal,
            on,
            members: logins,
            outside,
        } => (
            appeal,
            FileEntry::Commission {
                on: on.unwrap_or(today),
                members: members(logins, outside),
            },
        ),
        InvestigationCommand::Extend {
            appeal,
            until,
            reference,
            reason,
        } => (
            appeal,
            FileEntry::Extended {
                until,
                reference,
                reason,
            },
        ),
        InvestigationCommand::Request {
            appeal,
            from,
            what,
            on,
        } => (
            appeal,
            FileEntry::MaterialsRequested {
                request: 0,
                on: on.unwrap_or(today),
                from,
                what,
            },
        ),
        InvestigationCommand::Received {
            appeal,
            request,
            on,
            note,
        } => (
            appeal,
            FileEntry::MaterialsReceived {
                request,
                on: on.unwrap_or(today),
                note,
            },
        ),
        InvestigationCommand::Conclude {
            appeal,
            text_file,
            substantiated,
            on,
        } => {
            let text = std::fs::read_to_string(&text_file)
                .with_context(|| format!("--text-file: cannot read {}", text_file.display()))?;
            (
                appeal,
                FileEntry::Conclusion {
                    on: on.unwrap_or(today),
                    text,
                    substantiated: Some(substantiated),
                },
            )
        }
        InvestigationCommand::Decide {
            appeal,
            decision,
            text,
            on,
        } => (
            appeal,
            FileEntry::Decided {
                decision: decision.into(),
                on: on.unwrap_or(today),
                text,
            },
        ),
    };
    record(app, who, appeal, entry).await
}

/// Records `entry` in the file of `appeal`, in the name of `who`.
async fn record(app: &App, who: Who<'_>, appeal: String, entry: FileEntry) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    let kind = entry.kind();
    let seq = app
        .investigations()
        .record(appeal.id, entry, who, None)
        .await?;
    writeln!(
        out,
        "{}: investigation file entry {seq} ({kind}) recorded",
        appeal.registration_number
    )?;
    Ok(())
}

/// `investigation list`: the files `who` may read, one line each.
async fn list(app: &App, who: Who<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for f in app.investigations().list(who).await? {
        let last = f.entries.last().map(|(k, d)| format!("{k} {d}"));
        writeln!(
            out,
            "{}  {:<20}  opened {}  {} entries  last: {}{}",
            f.registration_number,
            f.status,
            f.opened_at.format("%Y-%m-%d"),
            f.entries.len(),
            last.unwrap_or_default(),
            if f.member { "  (member)" } else { "" }
        )?;
    }
    Ok(())
}

/// `investigation show`: the file of `appeal` opened by `who`, a reading
/// recorded in the chain.
async fn show(
    app: &App,
    claimed: &Claimed,
    who: Who<'_>,
    appeal: String,
    json: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    // A sealed file opens with the person's key; a plain one (no
    // office key yet) is read by role and membership.
    let unlocked = if app.journal.is_sealed() {
        Some(claimed.keys.unlock_own(app, who.login).await?)
    } else {
        None
    };
    let file = app
        .investigations()
        .open(appeal.id, who, unlocked.as_ref())
        .await?;
    if json {
        serde_json::to_writer_pretty(&mut out, &file)?;
        writeln!(out)?;
    } else {
        print_file(&mut out, &file)?;
    }
    Ok(())
}

/// The file as text: the order, the commission, the requests, then every
/// entry in order.
fn print_file(out: &mut impl Write, file: &File) -> anyhow::Result<()> {
    writeln!(out, "Investigation file of {}", file.registration_number)?;
    if let Some((number, on)) = file.order() {
        writeln!(out, "order:       № {number} of {on}")?;
    }
    for m in file.members() {
        let login = m
            .login
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        writeln!(out, "member:      {}{login}, {}", m.name, m.position)?;
    }
    for (request, answered) in file.requests() {
        if let FileEntry::MaterialsRequested {
            request,
            on,
            from,
            what,
        } = request
        {
            let answered = answered.map_or("not yet".to_owned(), |d| d.to_string());
            writeln!(
                out,
                "request {request}:   {on} from {from}: {what} (received: {answered})"
            )?;
        }
    }
    writeln!(out, "readers:     {}", file.readers.join(", "))?;
    writeln!(out)?;
    for r in &file.entries {
        let entry = serde_json::to_string(&r.entry)?;
        writeln!(
            out,
            "{:>3}  {}  {}  {entry}",
            r.seq,
            r.recorded_at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.actor
        )?;
    }
    Ok(())
}
