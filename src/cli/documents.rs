//! `senim documents cover-letter | reply | extension-notice | list`: the
//! documents the office sends (`documents::Documents`), written 0600 into a
//! directory of the person's choosing, and the outgoing register.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};

use super::{Claimed, disclose, find_appeal};
use crate::app::App;
use crate::rulebook::rule;

#[derive(Subcommand, Debug)]
pub enum DocumentsCommand {
    /// Make the cover letter of an appeal to the anti-corruption service (10.7),
    /// once the Director has consented: the next outgoing number, DOCX and PDF
    /// in Kazakh and Russian, written 0600 into DIR; recorded in the outgoing
    /// register and the audit log. A manager or the Director (`--as`).
    CoverLetter {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The directory to write the two files into (created 0700 if new).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Send the reply to the citizen (APPK Art. 76): the next outgoing number,
    /// the `reply_sent` act (the reply deadline met, the status `replied`). By
    /// e-mail it is mailed to the reporter's address, threaded to the receipt;
    /// by post or by hand the letter (DOCX and PDF, Kazakh and Russian, with
    /// the person's name and address) is written 0600 into DIR and not kept.
    /// The sealed appeal is opened with the person's key. A manager or the
    /// Director (`--as`).
    Reply {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// email, post or by-hand.
        #[arg(long)]
        method: ReplyMethodArg,
        /// The file holding the reply's text (UTF-8).
        #[arg(long)]
        text_file: PathBuf,
        /// The day it is sent (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        /// The directory to write the letter into (post, by hand).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Make the notice that the reply is extended (APPK Art. 76) as DOCX and
    /// PDF into DIR: records `citizen_notified` (the extension notice's
    /// deadline met; `reply_extended` must be recorded first).
    ExtensionNotice {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The day the reply is extended to.
        #[arg(long)]
        until: NaiveDate,
        /// Why it is extended.
        #[arg(long)]
        reason: String,
        /// The directory to write the notice into (created 0700 if new).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// List the outgoing register, oldest first: number, date, kind, appeal,
    /// recipient, who made it, and each file's SHA-256.
    List {
        /// Only the documents of this appeal (registration number or id).
        #[arg(long)]
        appeal: Option<String>,
        /// Only the documents of this year.
        #[arg(long)]
        year: Option<i32>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// How the reply is sent, as the command line spells it.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ReplyMethodArg {
    Email,
    Post,
    ByHand,
}

impl From<ReplyMethodArg> for crate::documents::ReplyMethod {
    fn from(m: ReplyMethodArg) -> Self {
        match m {
            ReplyMethodArg::Email => crate::documents::ReplyMethod::Email,
            ReplyMethodArg::Post => crate::documents::ReplyMethod::Post,
            ReplyMethodArg::ByHand => crate::documents::ReplyMethod::ByHand,
        }
    }
}

/// Runs `senim documents …`.
pub async fn run(app: &App, claimed: &Claimed, command: DocumentsCommand) -> anyhow::Result<()> {
    match command {
        DocumentsCommand::CoverLetter { appeal, output } => {
            cover_letter(app, claimed, appeal, output).await
        }
        DocumentsCommand::Reply {
            appeal,
            method,
            text_file,
            on,
            output,
        } => reply(app, claimed, appeal, method, text_file, on, output).await,
        DocumentsCommand::ExtensionNotice {
            appeal,
            until,
            reason,
            output,
        } => extension_notice(app, claimed, appeal, until, reason, output).await,
        DocumentsCommand::List { appeal, year, json } => list(app, appeal, year, json).await,
    }
}

/// `documents cover-letter`: the cover letter of 10.7 into `output`.
async fn cover_letter(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    output: PathBuf,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let documents = app.documents();
    let appeal = find_appeal(app, &appeal).await?;
    let by = claimed.acting::<rule::IssueDocuments>(app).await?;
    crate::private_fs::output_dir(&output)
        .with_context(|| format!("--output: cannot create {}", output.display()))?;
    let issued = documents.cover_letter(appeal.id, &by).await?;
    write_files(
        &mut out,
        &output,
        &issued,
        "is recorded in the outgoing register, with its files (the console's \
         appeal page offers them)",
    )?;
    writeln!(
        out,
        "{} of {}: cover letter to {}, recorded in the outgoing register (id {})",
        issued.entry.number, issued.entry.issued_on, issued.entry.recipient, issued.entry.id
    )?;
    Ok(())
}

/// `documents reply`: the reply to the citizen, mailed or written into `output`.
async fn reply(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    method: ReplyMethodArg,
    text_file: PathBuf,
    on: Option<NaiveDate>,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let documents = app.documents();
    let method = crate::documents::ReplyMethod::from(method);
    let text = std::fs::read_to_string(&text_file)
        .with_context(|| format!("--text-file: cannot read {}", text_file.display()))?;
    if method != crate::documents::ReplyMethod::Email && output.is_none() {
        anyhow::bail!("--output: required to write the letter of a reply by {method}");
    }
    let appeal = find_appeal(app, &appeal).await?;
    let mut opened = disclose(app, claimed, vec![appeal], "reply").await?;
    let appeal = opened.pop().context("appeal: not found")?;
    let by = claimed.acting::<rule::IssueDocuments>(app).await?;
    if let Some(output) = &output {
        crate::private_fs::output_dir(output)
            .with_context(|| format!("--output: cannot create {}", output.display()))?;
    }
    let input = crate::documents::ReplyInput {
        text,
        method,
        on: on.unwrap_or_else(|| app.today()),
    };
    let issued = documents.reply(&appeal, &input, &by).await?;
    if let Some(output) = &output {
        write_letters(&mut out, output, &issued)?;
    }
    writeln!(
        out,
        "{} of {}: reply by {method} to appeal {}, recorded in the outgoing register (id {}); \
         the appeal is replied",
        issued.entry.number, issued.entry.issued_on, appeal.registration_number, issued.entry.id
    )?;
    Ok(())
}

/// `documents extension-notice`: the notice of the reply's extension into `output`.
async fn extension_notice(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    until: NaiveDate,
    reason: String,
    output: PathBuf,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let documents = app.documents();
    let appeal = find_appeal(app, &appeal).await?;
    let mut opened = disclose(app, claimed, vec![appeal], "extension_notice").await?;
    let appeal = opened.pop().context("appeal: not found")?;
    let by = claimed.acting::<rule::IssueDocuments>(app).await?;
    crate::private_fs::output_dir(&output)
        .with_context(|| format!("--output: cannot create {}", output.display()))?;
    let issued = documents
        .extension_notice(&appeal, until, &reason, &by)
        .await?;
    write_letters(&mut out, &output, &issued)?;
    writeln!(
        out,
        "{} of {}: extension notice to {} for appeal {}, recorded in the outgoing register (id {})",
        issued.entry.number,
        issued.entry.issued_on,
        until,
        appeal.registration_number,
        issued.entry.id
    )?;
    Ok(())
}

/// `documents list`: the outgoing register, a table or JSON lines.
async fn list(
    app: &App,
    appeal: Option<String>,
    year: Option<i32>,
    json: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let documents = app.documents();
    let appeal = match appeal {
        Some(key) => Some(find_appeal(app, &key).await?.id),
        None => None,
    };
    let entries = documents.list(appeal, year).await?;
    if !json {
        writeln!(
            out,
            "{:<16} {:<10} {:<16} {:>6}  {:<20} {:<40} files",
            "number", "date", "kind", "appeal", "by", "recipient"
        )?;
    }
    for e in &entries {
        if json {
            writeln!(out, "{}", serde_json::to_string(e)?)?;
            continue;
        }
        let files: Vec<String> = e
            .files
            .iter()
            .map(|f| format!("{} {}", f.format, &f.sha256[..16.min(f.sha256.len())]))
            .collect();
        writeln!(
            out,
            "{:<16} {:<10} {:<16} {:>6}  {:<20} {:<40} {}",
            e.number,
            e.issued_on,
            e.kind,
            e.appeal_id,
            e.created_by,
            e.recipient,
            files.join(", ")
        )?;
    }
    if !json {
        writeln!(out, "{} document(s)", entries.len())?;
    }
    Ok(())
}

/// Writes a letter to the citizen's files into `output`, one line each.
fn write_letters(
    out: &mut impl Write,
    output: &std::path::Path,
    issued: &crate::documents::Issued,
) -> anyhow::Result<()> {
    write_files(
        out,
        output,
        issued,
        "is recorded; its letter names the person and is not kept elsewhere: \
         this was its only copy",
    )
}

/// Writes the files of `issued` into `output`, one line each; a failure names
/// the document's number followed by `kept`: where it is kept, if anywhere.
fn write_files(
    out: &mut impl Write,
    output: &std::path::Path,
    issued: &crate::documents::Issued,
    kept: &str,
) -> anyhow::Result<()> {
    for (file, bytes) in &issued.contents {
        let path = output.join(&file.name);
        write_new_private(&path, bytes)
            .with_context(|| format!("{} {kept}", issued.entry.number))?;
        writeln!(
            out,
            "{}  {:>9} bytes  {}",
            file.sha256,
            file.size,
            path.display()
        )?;
    }
    Ok(())
}

/// Writes `bytes` to a new file `path`, 0600; never over an existing file,
/// never through a symbolic link (`private_fs::private_file`).
fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = crate::private_fs::private_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
