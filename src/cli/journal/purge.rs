//! `senim journal purge [--dry-run]`: the records schedule (`[retention]`)
//! destroys what is past its period (`retention::Retention::purge`), and says
//! so with registration numbers and counts, never content.

use std::io::Write;

use crate::app::App;

/// The audit actor of a purge: the records schedule (`[retention]`).
const RETENTION_ACTOR: &str = "retention";

/// `journal purge`: destroys (or, `dry_run`, lists) what is past its period.
pub(super) async fn purge(app: &App, dry_run: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // The records schedule destroys, not a person: whoever runs the timer.
    let report = app.retention().purge(dry_run, RETENTION_ACTOR).await?;
    print_purge(&mut out, &report)?;
    Ok(())
}

/// What a purge destroyed (or would): registration numbers and counts only.
fn print_purge(out: &mut impl Write, report: &crate::retention::Report) -> std::io::Result<()> {
    let (verb, would) = if report.dry_run {
        ("would destroy", "dry run: nothing was changed")
    } else {
        ("destroyed", "")
    };
    for done in &report.appeals {
        let what = if done.whole {
            "identity and text"
        } else {
            "raw mail and recordings"
        };
        let counts = done
            .counts()
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "{:<16} {verb} {what} (closed {}, {}){}{counts}",
            done.appeal.registration_number.to_string(),
            done.appeal.ended_at.date_naive(),
            done.appeal.category,
            if counts.is_empty() { "" } else { "; " },
        )?;
    }
    for number in &report.skipped {
        writeln!(out, "{number:<16} skipped: no longer closed")?;
    }
    let m = &report.missed;
    writeln!(
        out,
        "missed calls: {verb} the numbers of {} call(s), {} CTI event(s), {} recording(s)",
        m.calls, m.cti_events, m.recordings
    )?;
    writeln!(
        out,
        "digests of unclassified appeals: {verb} {}",
        report.digests
    )?;
    writeln!(
        out,
        "automatic mail (bounces, auto-replies): {verb} {}",
        report.automatic_mail
    )?;
    writeln!(
        out,
        "recording files: {} {}",
        if report.dry_run {
            "left to remove by an interrupted purge:"
        } else {
            "removed"
        },
        report.files
    )?;
    let whole = report.appeals.iter().filter(|a| a.whole).count();
    writeln!(
        out,
        "{} appeal(s): {whole} {verb} whole, {} of raw mail and recordings only{}",
        report.appeals.len(),
        report.appeals.len() - whole,
        if would.is_empty() {
            String::new()
        } else {
            format!("; {would}")
        }
    )?;
    if !report.dry_run && !report.is_empty() && !report.checkpointed {
        writeln!(
            out,
            "warning: the SQLite write-ahead log could not be truncated (a reader held it): \
             destroyed data stays in it until the next checkpoint"
        )?;
    }
    Ok(())
}
