//! `senim report`: the summary of a period (clause 10.13) as a self-contained
//! HTML page, `figure,value` CSV or JSON; `senim report publish`: the figures
//! for the web site (4.7), whole months, counts below 5 suppressed. Counts and
//! times only, so no `--as`: nothing here names a person or shows a text.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use crate::app::App;
use crate::report::words::Lang;
use crate::report::{Period, Report};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// First registration date (YYYY-MM-DD, Astana).
    #[arg(long, required = true)]
    pub from: Option<NaiveDate>,
    /// Last registration date (YYYY-MM-DD, Astana), included.
    #[arg(long, required = true)]
    pub to: Option<NaiveDate>,
    /// html: a self-contained page (inline CSS, SVG charts, no script); csv: one
    /// table of figure,value rows; json. (PDF and XLSX: not yet.)
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The page's language: kk, ru or en (default: `console.language`).
    #[arg(long, value_parser = super::parse_text::<Lang>)]
    pub lang: Option<Lang>,
    /// Write to this file (created 0600) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The figures for the web site (4.7): per month, the appeals in all, by
    /// channel, category and outcome, as CSV; the period stretched to whole
    /// months; every count below 5 shown as `<5`; no text, no unit, no date
    /// finer than a month.
    Publish {
        /// A date in the first month (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// A date in the last month (YYYY-MM-DD).
        #[arg(long)]
        to: NaiveDate,
        /// Write to this file (created 0600) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Csv,
    Json,
}

/// Where the output goes: the file (0600), or standard output.
fn sink(output: Option<&PathBuf>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match output {
        Some(path) => Box::new(
            crate::private_fs::private_file(path)
                .with_context(|| format!("--output: cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    })
}

/// The period of `--from` and `--to`, checked (the error names the field).
fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> anyhow::Result<Period> {
    let from = from.context("--from: required (a date, YYYY-MM-DD)")?;
    let to = to.context("--to: required (a date, YYYY-MM-DD)")?;
    Period::new(from, to).map_err(|e| anyhow::anyhow!("--{e}"))
}

pub async fn run(app: &App, args: ReportArgs) -> anyhow::Result<()> {
    match args.command {
        Some(ReportCommand::Publish { from, to, output }) => {
            let asked = period(Some(from), Some(to))?;
            let whole = asked.whole_months();
            if whole != asked {
                eprintln!(
                    "senim: the publication counts whole months: {} to {}",
                    whole.from, whole.to
                );
            }
            let report = Report::compute(&app.report_sources(), whole, app.today()).await?;
            let mut out = sink(output.as_ref())?;
            crate::report::csv::publication(&report.months, &mut out)?;
            out.flush()?;
            tracing::info!(from = %whole.from, to = %whole.to, "report: the publication written");
        }
        None => {
            let period = period(args.from, args.to)?;
            let report = Report::compute(&app.report_sources(), period, app.today()).await?;
            let lang = args.lang.unwrap_or(app.config.console.language);
            let mut out = sink(args.output.as_ref())?;
            match args.format {
                ReportFormat::Html => {
                    out.write_all(crate::report::html::page(&report, lang).as_bytes())?
                }
                ReportFormat::Csv => crate::report::csv::figures(&report, &mut out)?,
                ReportFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}
