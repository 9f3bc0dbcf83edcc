//! The report as an XLSX workbook (`rust_xlsxwriter`): `figures`, a sheet of
//! the figures (`figure`, `value` and what it is in the reader's language:
//! `figures::rows`) and a sheet of the month-by-month trend; `publication`,
//! what the enterprise publishes on its web site (4.7, `publication::rows`).
//!
//! Counts and times are numbers; every text is written as a string cell, never
//! a formula, so a unit's name that starts with `=`, `+`, `-` or `@` stays the
//! text it is.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::figures::{self, Value};
use super::words::{Lang, W, name, w};
use super::{MonthFigures, Report, publication};

/// The sheets' names: the same in every language, as the CSV's figures are.
pub const FIGURES_SHEET: &str = "figures";
pub const MONTHS_SHEET: &str = "months";
pub const PUBLICATION_SHEET: &str = "publication";

/// The report's figures and its trend, as a workbook in `lang`.
pub fn figures(report: &Report, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let t = |word| w(lang, word);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(FIGURES_SHEET)?;
    header(sheet, &["figure", "value", t(W::Figure)])?;
    for (row, figure) in (1..).zip(figures::rows(report, lang)) {
        sheet.write_string(row, 0, figure.figure)?;
        value(sheet, row, 1, &figure.value)?;
        sheet.write_string(row, 2, figure.label)?;
    }
    sheet.set_column_width(0, 44)?;
    sheet.set_column_width(1, 12)?;
    sheet.set_column_width(2, 70)?;

    let sheet = book.add_worksheet();
    sheet.set_name(MONTHS_SHEET)?;
    months(sheet, lang, &report.months)?;
    book.save_to_buffer()
}

/// The trend: a row a month, its part of the period, the appeals in all, by
/// channel, category and status, and the calls (the month's decisions and
/// conclusions are rows of the `figures` sheet: `month.2026-11.decision.…`).
fn months(sheet: &mut Worksheet, lang: Lang, months: &[MonthFigures]) -> Result<(), XlsxError> {
    let t = |word| w(lang, word);
    let Some(first) = months.first() else {
        return header(sheet, &[t(W::Month)]);
    };
    let mut columns: Vec<String> = [W::Month, W::From, W::To, W::Appeals]
        .into_iter()
        .map(|word| t(word).to_owned())
        .collect();
    for (heading, counts) in [
        (W::ByChannel, &first.by_channel),
        (W::ByCategory, &first.by_category),
        (W::ByStatus, &first.by_status),
    ] {
        columns.extend(
            counts
                .iter()
                .map(|(stored, _)| format!("{}: {}", t(heading), name(lang, stored))),
        );
    }
    columns.push(t(W::CallsLogged).to_owned());
    columns.push(t(W::MissedCallsShort).to_owned());
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    header(sheet, &names)?;
    for (row, m) in (1..).zip(months) {
        sheet.write_string(row, 0, m.month.to_string())?;
        sheet.write_string(row, 1, m.period.from.to_string())?;
        sheet.write_string(row, 2, m.period.to.to_string())?;
        let counts = std::iter::once(m.appeals)
            .chain(m.by_channel.iter().map(|(_, n)| n))
            .chain(m.by_category.iter().map(|(_, n)| n))
            .chain(m.by_status.iter().map(|(_, n)| n))
            .chain([m.calls.calls, m.calls.missed]);
        for (col, n) in (3..).zip(counts) {
            value(sheet, row, col, &Value::Count(n))?;
        }
    }
    sheet.set_column_width(1, 11)?;
    sheet.set_column_width(2, 11)?;
    sheet.set_freeze_panes(1, 1)?;
    Ok(())
}

/// The publication of whole months, as a workbook of one sheet.
pub fn publication(months: &[MonthFigures]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(PUBLICATION_SHEET)?;
    header(sheet, &publication::HEADER)?;
    for (row, r) in (1..).zip(publication::rows(months)) {
        sheet.write_string(row, 0, r.month)?;
        sheet.write_string(row, 1, r.figure)?;
        sheet.write_string(row, 2, r.value)?;
        value(sheet, row, 3, &r.appeals)?;
    }
    sheet.set_column_width(2, 24)?;
    book.save_to_buffer()
}

/// The first row: the columns' names in bold, wrapped, and kept in sight.
fn header(sheet: &mut Worksheet, names: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_text_wrap();
    for (col, name) in (0..).zip(names) {
        sheet.write_string_with_format(0, col, *name, &bold)?;
        if col > 0 {
            sheet.set_column_width(col, 14)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A value in its cell: a number as a number, a text as a string (never a
/// formula), nothing for no value.
fn value(sheet: &mut Worksheet, row: u32, col: u16, value: &Value) -> Result<(), XlsxError> {
    match value {
        Value::Count(n) => sheet.write_number(row, col, *n as f64).map(drop),
        Value::Number(n) => sheet.write_number(row, col, *n as f64).map(drop),
        Value::Empty => Ok(()),
        Value::Text(text) => sheet.write_string(row, col, text).map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    #[test]
    fn a_text_that_looks_like_a_formula_stays_a_text() {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let texts = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)"];
        for (row, text) in (0..).zip(texts) {
            value(sheet, row, 0, &Value::Text(text.to_owned())).expect("written");
        }
        value(sheet, 0, 1, &Value::Count(7)).expect("written");
        value(sheet, 1, 1, &Value::Empty).expect("written");
        let bytes = book.save_to_buffer().expect("saved");
        let mut read: Xlsx<_> =
            open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
        let range = read.worksheet_range("Sheet1").expect("the sheet");
        for (row, text) in (0..).zip(texts) {
            assert_eq!(
                range.get_value((row, 0)),
                Some(&Data::String(text.to_owned()))
            );
        }
        assert_eq!(range.get_value((0, 1)), Some(&Data::Float(7.0)));
        assert!(matches!(range.get_value((1, 1)), None | Some(Data::Empty)));
        let formulas = read.worksheet_formula("Sheet1").expect("the sheet");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "a formula was written"
        );
    }
}
