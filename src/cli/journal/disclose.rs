//! `senim journal materials | export`: an appeal's materials (a directory or
//! one ZIP package) and the export for auditors, each recorded in the chain.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::FilterArgs;
use crate::app::App;
use crate::cli::{Claimed, disclose, find_appeal, unlock_if_sealed};
use crate::rulebook::{Action, rule};

/// `journal materials`: into the new directory `output`, or the package `zip`.
pub(super) async fn materials(
    app: &App,
    claimed: &Claimed,
    appeal: String,
    output: Option<PathBuf>,
    zip: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let appeal = find_appeal(app, &appeal).await?;
    let by = claimed.acting::<rule::Reveal>(app).await?;
    let actor = by.actor();
    let unlocked = match unlock_if_sealed(app, claimed, actor, true).await? {
        Some(unlocked) => unlocked,
        None => crate::sealing::Unlocked::without_keys(actor),
    };
    let purpose = if zip.is_some() {
        "materials_package"
    } else {
        "materials"
    };
    app.journal
        .record_disclosure(&[appeal.id], &by, purpose)
        .await
        .context("cannot record the disclosure in the audit log; nothing was written")?;
    if let Some(file) = zip {
        let package = app
            .documents()
            .package(appeal, &unlocked, actor, &file)
            .await?;
        for w in &package.files {
            writeln!(out, "{}  {:>9} bytes  {}", &w.sha256[..16], w.size, w.name)?;
        }
        let enclosures: Vec<String> = package
            .enclosures
            .iter()
            .map(|e| match (e.pages, e.seconds) {
                (Some(pages), _) => format!("{} {pages} p.", e.kind),
                (None, Some(seconds)) => format!("{} {seconds} s", e.kind),
                (None, None) => format!("{} (pages not known)", e.kind),
            })
            .collect();
        writeln!(out, "enclosures: {}", enclosures.join(", "))?;
        writeln!(
            out,
            "{} file(s) and MANIFEST.sha256 in {} ({} bytes, SHA-256 {})",
            package.files.len(),
            file.display(),
            package.size,
            package.sha256
        )?;
    } else if let Some(output) = output {
        let written =
            crate::materials::write(&app.journal, &app.pbx, appeal, &unlocked, &output).await?;
        for w in &written {
            writeln!(out, "{}  {:>9} bytes  {}", &w.sha256[..16], w.size, w.name)?;
        }
        writeln!(
            out,
            "{} file(s) written to {}, with MANIFEST.sha256",
            written.len(),
            output.display()
        )?;
    }
    Ok(())
}

/// `journal export`: CSV, one row an appeal, to `output` or standard output.
pub(super) async fn export(
    app: &App,
    claimed: &Claimed,
    filter: &FilterArgs,
    with_identity: bool,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = match &output {
        Some(path) => {
            Box::new(crate::private_fs::private_file(path).context("--output: cannot create it")?)
        }
        None => Box::new(std::io::stdout()),
    };
    if with_identity {
        let appeals = app.journal.list(&filter.to_filter()).await?;
        let appeals = disclose(app, claimed, appeals, "export").await?;
        crate::journal::export::write_csv(&app.journal, sink, &appeals, true).await?;
    } else {
        // Without identity too, an export is a read in the chain, by a
        // person: the auditor, a manager or the Director. The console's
        // auditor exports through the same function.
        let actor = claimed.actor(app, Action::Export).await?;
        crate::journal::export::without_identity(&app.journal, &filter.to_filter(), &actor, sink)
            .await?;
    }
    Ok(())
}
