//! The report as CSV: `figures`, one table of `figure,value` rows (for the
//! line's own use, `figures::rows`), and `publication`, what the enterprise
//! publishes on its web site (4.7, `publication::rows`).
//!
//! Every cell a spreadsheet would take for a formula is neutralised as the
//! Journal's export does it (`journal::export::neutralised`): a unit's name is
//! the only text that is not Senim's own.

use std::io::Write;

use super::words::Lang;
use super::{MonthFigures, Report, figures, publication};
use crate::journal::export::neutralised;

/// The report as `figure,value` rows: the period, the counts, the times (in
/// seconds, the reply in days), the deadlines and the months.
pub fn figures(report: &Report, sink: impl Write) -> anyhow::Result<()> {
    let mut w = ::csv::Writer::from_writer(sink);
    w.write_record(["figure", "value"])?;
    // The language names nothing the CSV writes.
    for row in figures::rows(report, Lang::En) {
        let value = row.value.to_string();
        w.write_record([&*neutralised(&row.figure), &*neutralised(&value)])?;
    }
    w.flush()?;
    Ok(())
}

/// The publication (4.7) of whole months (`Period::whole_months`), as
/// `month,figure,value,appeals` rows.
pub fn publication(months: &[MonthFigures], sink: impl Write) -> anyhow::Result<()> {
    let mut w = ::csv::Writer::from_writer(sink);
    w.write_record(publication::HEADER)?;
    for row in publication::rows(months) {
        let appeals = row.appeals.to_string();
        w.write_record([&*row.month, row.figure, &*row.value, &*appeals])?;
    }
    w.flush()?;
    Ok(())
}
