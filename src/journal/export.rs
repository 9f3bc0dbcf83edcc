//! The Journal exported for auditors as CSV, one row an appeal. Every cell a
//! spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab or CR first) is
//! neutralised with a leading `'`, as OWASP advises: a caller ID such as
//! `=cmd|'/C calc'!A0` must not run on the auditor's machine.
//!
//! `without_identity` is the one export for auditors, `senim journal export`'s
//! and the console's: the appeals recorded in the chain as `exported` first.

use std::io::Write;

use anyhow::Context;

use super::Journal;
use super::appeal::{Appeal, ListFilter};

/// The Journal without identity and text, one row an appeal, for auditors (not
/// for publication: what the web site shows is `senim report publish`, clause
/// 4.7, counts per month with the small ones suppressed): the appeals `filter`
/// selects, each recorded in the audit chain as `exported` by `actor`, then
/// written as CSV to `sink` (nothing is written if the record fails). Returns how
/// many appeals.
pub async fn without_identity(
    journal: &Journal,
    filter: &ListFilter,
    actor: &str,
    sink: impl Write,
) -> anyhow::Result<usize> {
    let appeals = journal.list(filter).await?;
    let ids: Vec<_> = appeals.iter().map(|a| a.id).collect();
    journal
        .record_export(&ids, actor)
        .await
        .context("cannot record the export in the audit log; nothing was exported")?;
    write_csv(sink, &appeals, false)?;
    Ok(appeals.len())
}

/// Writes the appeals as CSV; the reporter's identity only when `with_identity`.
pub fn write_csv(sink: impl Write, appeals: &[Appeal], with_identity: bool) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(sink);
    let mut header = vec![
        "registration_number",
        "registration_date",
        "received_at",
        "channel",
        "category",
        "status",
        "anonymous",
        "no_return_address",
    ];
    if with_identity {
        header.extend([
            "reporter_name",
            "reporter_organisation",
            "reporter_postal_address",
            "reporter_phone",
            "reporter_email",
            "subject",
            "substance",
        ]);
    }
    w.write_record(&header)?;
    for a in appeals {
        let mut row = vec![
            a.registration_number.to_string(),
            a.registration_date.to_string(),
            a.received_at.to_rfc3339(),
            a.channel.to_string(),
            a.category.to_string(),
            a.status.to_string(),
            a.anonymous.to_string(),
            a.no_return_address.to_string(),
        ];
        if with_identity {
            let r = &a.reporter;
            for field in [
                &r.name,
                &r.organisation,
                &r.postal_address,
                &r.phone,
                &r.email,
                &a.subject,
                &a.substance,
            ] {
                row.push(field.clone().unwrap_or_default());
            }
        }
        w.write_record(row.iter().map(|cell| neutralised(cell).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// The cell as a spreadsheet shows it, never as a formula it would run (the
/// report's CSV uses it too).
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::neutralised;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_neutralised() {
        for formula in [
            "=cmd|'/C calc'!A0",
            "+7 701",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"));
        }
        for plain in ["TL-2026-000001", "Айгүл", "2026-11-30", ""] {
            assert_eq!(neutralised(plain), plain);
        }
    }
}
