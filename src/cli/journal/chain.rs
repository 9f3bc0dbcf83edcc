//! `senim journal verify | key-chain | publish-head | head-key`: the audit
//! chain checked (with the installation's keys, or an auditor's public key
//! alone, and the published heads), keyed, and its head published.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::app::App;
use crate::journal::ListFilter;

/// `journal key-chain`: keys an existing, verified chain, once.
pub(super) async fn key_chain(app: &App) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let events = app.journal.key_chain().await?;
    writeln!(out, "audit chain keyed: {events} event(s)")?;
    Ok(())
}

/// `journal head-key`: the public key the head is signed with.
pub(super) fn head_key(app: &App) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", app.journal.head_public_key("the head key")?)?;
    Ok(())
}

/// `journal publish-head`: the signed head as one JSON line, also appended to
/// `append` if given.
pub(super) async fn publish_head(app: &App, append: Option<PathBuf>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let head = serde_json::to_string(&app.journal.signed_head().await?)?;
    if let Some(path) = append {
        crate::private_fs::append_line(&path, &head)
            .with_context(|| format!("cannot append to {}", path.display()))?;
    }
    writeln!(out, "{head}")?;
    Ok(())
}

/// `journal verify`: the chain, every appeal, the deadlines, the investigation
/// files and the signed rows; the exit code is 1 if anything was edited or
/// deleted.
pub(super) async fn verify(
    app: &App,
    heads: Option<PathBuf>,
    public_keys: Vec<String>,
) -> anyhow::Result<std::process::ExitCode> {
    let mut out = std::io::stdout().lock();
    let (report, deadlines) = verify_chain(app, heads.as_deref(), &public_keys).await?;
    // The investigation files' sealed entries against the hashes the
    // chain holds of them.
    let files = app.investigations().verify().await?;
    // The rows that say whom Senim seals to and what a person may do.
    let rows = signed_rows_findings(app, public_keys.first().map(String::as_str)).await?;
    if report.linked_only > 0 {
        writeln!(
            out,
            "{} event(s) from before the chain turned public checked by their links only \
             (their contents need the chain key)",
            report.linked_only
        )?;
    }
    if report.is_intact() && files.is_empty() && deadlines.is_empty() && rows.is_empty() {
        writeln!(
            out,
            "journal intact: {} appeal(s), {} event(s), chain verified",
            report.appeals, report.events
        )?;
    } else {
        for f in report.findings.iter().chain(&deadlines) {
            writeln!(out, "TAMPERED: {}: {}", f.what, f.problem)?;
        }
        for f in files.iter().chain(&rows) {
            writeln!(out, "TAMPERED: {f}")?;
        }
        writeln!(
            out,
            "journal NOT intact: {} finding(s)",
            report.findings.len() + deadlines.len() + files.len() + rows.len()
        )?;
        return Ok(std::process::ExitCode::from(1));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `journal verify`'s check of the chain, its head and the deadlines: with the
/// installation's keys, or, given `public_keys`, as an auditor with those alone;
/// and the published heads in `heads`, if given.
async fn verify_chain(
    app: &App,
    heads: Option<&std::path::Path>,
    public_keys: &[String],
) -> anyhow::Result<(
    crate::journal::VerifyReport,
    Vec<crate::journal::audit::Finding>,
)> {
    let heads = heads.map(read_heads).transpose()?;
    if public_keys.is_empty() {
        let report = match &heads {
            None => app.journal.verify().await?,
            Some(heads) => app.journal.verify_with_heads(heads).await?,
        };
        let deadlines = deadline_findings(app, app.journal.signing_keys()).await?;
        return Ok((report, deadlines));
    }
    let keys = public_keys
        .iter()
        .map(|k| crate::authority::PublicKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .context("--public-key")?;
    let report = app.journal.verify_public(&keys, heads.as_deref()).await?;
    Ok((report, deadline_findings(app, &keys).await?))
}

/// Every appeal's deadlines against their signed list, once the chain is public
/// (before, they are not signed, and the chain's head says so).
async fn deadline_findings(
    app: &App,
    keys: &[crate::authority::PublicKey],
) -> anyhow::Result<Vec<crate::journal::audit::Finding>> {
    if app.journal.public_from().await?.is_none() {
        return Ok(Vec::new());
    }
    let appeals: Vec<_> = app
        .journal
        .list_keys(&ListFilter::default())
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    Ok(app.deadlines.check(&appeals, keys).await?)
}

/// The published heads in a file, one JSON line each.
fn read_heads(path: &std::path::Path) -> anyhow::Result<Vec<crate::journal::audit::SignedHead>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not a published head", path.display(), i + 1))
        })
        .collect()
}

/// `journal verify`'s findings on the signed rows (the sealing keys, persons),
/// checked with `--public-key` or the configured signing key's public half;
/// none without either (nothing is signed then).
async fn signed_rows_findings(app: &App, public_key: Option<&str>) -> anyhow::Result<Vec<String>> {
    let public = match public_key {
        Some(hex) => Some(crate::authority::PublicKey::parse(hex).context("--public-key")?),
        None => app.authority.as_ref().map(|a| a.public_key().clone()),
    };
    let Some(public) = public else {
        return Ok(Vec::new());
    };
    let mut findings = app.keys().verify_rows(&public).await?;
    findings.extend(app.persons.verify_rows(&public).await?);
    Ok(findings)
}
