//! `senim report`: the summary of a period (clause 10.13), of `--from` to
//! `--to` or of a `--quarter`, as a self-contained HTML page, a PDF for the
//! Director, a workbook (XLSX), `figure,value` CSV or JSON; `senim report
//! publish`: the figures for the web site (4.7), whole months, counts below 5
//! suppressed, as CSV or XLSX. Counts and times only, so no `--as`: nothing
//! here names a person or shows a text.

use std::io::{IsTerminal, Write};
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
    #[arg(long, required_unless_present = "quarter")]
    pub from: Option<NaiveDate>,
    /// Last registration date (YYYY-MM-DD, Astana), included.
    #[arg(long, required_unless_present = "quarter")]
    pub to: Option<NaiveDate>,
    /// A calendar quarter instead of --from and --to: 2026-Q4 is 1 October to
    /// 31 December 2026.
    #[arg(long, value_name = "YYYY-QN", value_parser = parse_quarter, conflicts_with_all = ["from", "to"])]
    pub quarter: Option<Period>,
    /// html: a self-contained page (inline CSS, SVG charts, no script); pdf:
    /// the report for the Director (tables, the trend as a chart, page
    /// numbers); xlsx: a workbook of the figures and the month-by-month trend;
    /// csv: one table of figure,value rows; json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The language of the page, the PDF and the workbook: kk, ru or en
    /// (default: `console.language`).
    #[arg(long, value_parser = super::parse_text::<Lang>)]
    pub lang: Option<Lang>,
    /// Write to this file (created 0600) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The figures for the web site (4.7): per month, the appeals in all, by
    /// channel, category and outcome, by the Director's decision (7.11) and by
    /// the commission's conclusion (7.10), as CSV or XLSX; the period stretched
    /// to whole months; every count below 5 shown as `<5`; no text, no unit, no
    /// date finer than a month.
    Publish {
        /// A date in the first month (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// A date in the last month (YYYY-MM-DD).
        #[arg(long)]
        to: NaiveDate,
        /// csv, or xlsx: a workbook of one sheet with the same rows.
        #[arg(long, value_enum, default_value_t = PublicationFormat::Csv)]
        format: PublicationFormat,
        /// Write to this file (created 0600) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Pdf,
    Xlsx,
    Csv,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PublicationFormat {
    Csv,
    Xlsx,
}

/// `--quarter`'s value, checked (clap names the flag in its error).
fn parse_quarter(value: &str) -> Result<Period, String> {
    Period::quarter(value).map_err(|e| e.to_string())
}

/// Where the output goes: the file (0600), or standard output; a binary file
/// (`binary`: PDF, XLSX) is not written to a terminal.
fn sink(output: Option<&PathBuf>, binary: bool) -> anyhow::Result<Box<dyn Write>> {
    Ok(match output {
        Some(path) => {
            Box::new(crate::private_fs::private_file(path).context("--output: cannot create it")?)
        }
        None if binary && std::io::stdout().is_terminal() => {
            anyhow::bail!(
                "--output: required for this --format (a binary file is not written to a terminal)"
            )
        }
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
        Some(ReportCommand::Publish {
            from,
            to,
            format,
            output,
        }) => {
            let asked = period(Some(from), Some(to))?;
            let whole = asked.whole_months();
            if whole != asked {
                eprintln!(
                    "senim: the publication counts whole months: {} to {}",
                    whole.from, whole.to
                );
            }
            let report = Report::compute(&app.report_sources(), whole, app.today()).await?;
            let mut out = sink(output.as_ref(), format == PublicationFormat::Xlsx)?;
            match format {
                PublicationFormat::Csv => {
                    crate::report::csv::publication(&report.months, &mut out)?
                }
                PublicationFormat::Xlsx => {
                    out.write_all(&crate::report::xlsx::publication(&report.months)?)?
                }
            }
            out.flush()?;
            tracing::info!(from = %whole.from, to = %whole.to, "report: the publication written");
        }
        None => {
            let period = match args.quarter {
                Some(quarter) => quarter,
                None => period(args.from, args.to)?,
            };
            let report = Report::compute(&app.report_sources(), period, app.today()).await?;
            let lang = args.lang.unwrap_or(app.config.console.language);
            let binary = matches!(args.format, ReportFormat::Pdf | ReportFormat::Xlsx);
            let mut out = sink(args.output.as_ref(), binary)?;
            match args.format {
                ReportFormat::Html => {
                    out.write_all(crate::report::html::page(&report, lang).as_bytes())?
                }
                ReportFormat::Pdf => {
                    let pdf = crate::report::pdf::render(&report, lang, app.clock.now())
                        .map_err(|e| anyhow::anyhow!("cannot make the PDF: {e}"))?;
                    out.write_all(&pdf)?
                }
                ReportFormat::Xlsx => {
                    out.write_all(&crate::report::xlsx::figures(&report, lang)?)?
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
