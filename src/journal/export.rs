//! The Journal exported for auditors as CSV, one row an appeal. Every cell a
//! spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab or CR first) is
//! neutralised with a leading `'`, as OWASP advises: a caller ID such as
//! `=cmd|'/C calc'!A0` must not run on the auditor's machine.
//!
//! `without_identity` is the one export for auditors, `senim journal export`'s
//! and the console's: the appeals recorded in the chain as `exported` first.
//!
//! Beside the appeal's own columns, what a paper register has, read from the
//! appeal's events in the audit chain (the Journal's own): who worked it
//! (`worked_by`: the logins of the persons who recorded an act on it, in the
//! order they first did, never the operator's notes nor the reporter), the
//! reply's outgoing number (`document_issued` of kind `reply`) and date (the
//! `reply_sent` act's, also when the reply was recorded without a letter), and
//! the Director's decision of 7.11 (its code word, as the chain names it, and
//! its date).

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;

use super::Journal;
use super::appeal::{Appeal, AppealId, ListFilter};
use super::audit::{EVENT_COLUMNS, EventRow};
use crate::on_db;

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
    write_csv(journal, sink, &appeals, false).await?;
    Ok(appeals.len())
}

/// Writes the appeals as CSV, with what the chain says of each (`Register`);
/// the reporter's identity and the text only when `with_identity`.
pub async fn write_csv(
    journal: &Journal,
    sink: impl Write,
    appeals: &[Appeal],
    with_identity: bool,
) -> anyhow::Result<()> {
    let ids: Vec<AppealId> = appeals.iter().map(|a| a.id).collect();
    let registers = registers(journal, &ids)
        .await
        .context("cannot read the appeals' events from the audit chain")?;
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
        "worked_by",
        "reply_number",
        "reply_date",
        "decision",
        "decision_date",
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
        let register = registers.get(&a.id.0).cloned().unwrap_or_default();
        row.extend([
            register.worked_by.join("; "),
            register.reply_number.unwrap_or_default(),
            register.reply_date.unwrap_or_default(),
            register.decision.unwrap_or_default(),
            register.decision_date.unwrap_or_default(),
        ]);
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

/// What a paper register has of one appeal, read from its events in the chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register {
    /// The logins (or manager names) of the persons who recorded an act on
    /// it, in the order they first did.
    pub worked_by: Vec<String>,
    /// The reply's outgoing number, `OUT-2026-0001`.
    pub reply_number: Option<String>,
    /// The date the reply was sent (`YYYY-MM-DD`).
    pub reply_date: Option<String>,
    /// The Director's decision of 7.11, its code word (`disciplinary`, …).
    pub decision: Option<String>,
    pub decision_date: Option<String>,
}

/// The events that are acts on the appeal, whose authors worked it: its
/// classification, the acts of `cases` (routing, the Director's consent,
/// forwarding, "not considered", closing, and each deadline's event), the
/// documents issued and the investigation file's entries. Not the operator's
/// notes (`details_recorded`, `script_confirmed` and the status they move),
/// not the channels' own, not reads (disclosures, exports, alerts read,
/// openings of the file), not the keys' housekeeping.
const ACTS: &[&str] = &[
    "classified",
    "routed",
    "director_consent",
    "forwarded",
    "not_considered",
    "closed",
    "reply_sent",
    "reply_extended",
    "citizen_notified",
    "outside_competence",
    "redirected",
    "investigation_ordered",
    "investigation_extended",
    "materials_requested",
    "materials_received",
    "decision",
    "document_issued",
    "investigation_entry",
];

/// The actor prefixes of persons (`person:<login>`) and of managers' tokens
/// (`manager:<name>`); other actors are the channels or the daemon.
const PERSONS: &[&str] = &["person:", "manager:"];

impl Register {
    /// The register's columns from one appeal's events, oldest first.
    pub fn of(events: &[EventRow]) -> Register {
        let mut register = Register::default();
        for event in events {
            if !ACTS.contains(&event.kind.as_str()) {
                continue;
            }
            if let Some(login) = PERSONS
                .iter()
                .find_map(|prefix| event.actor.strip_prefix(prefix))
                && !register.worked_by.iter().any(|known| known == login)
            {
                register.worked_by.push(login.to_owned());
            }
            let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
            let text = |key: &str| detail[key].as_str().map(str::to_owned);
            match event.kind.as_str() {
                "document_issued" if detail["kind"] == "reply" => {
                    register.reply_number = text("number");
                }
                "reply_sent" => register.reply_date = text("on"),
                "decision" => {
                    register.decision = text("decision");
                    register.decision_date = text("on");
                }
                _ => {}
            }
        }
        register
    }
}

/// The register of each appeal in `ids` (by id), read from the chain in
/// slices, so that an export of the whole Journal stays within the
/// databases' limits on bound parameters.
async fn registers(journal: &Journal, ids: &[AppealId]) -> anyhow::Result<HashMap<i64, Register>> {
    let mut events: HashMap<i64, Vec<EventRow>> = HashMap::new();
    for slice in ids.chunks(500) {
        let rows: Vec<EventRow> = on_db!(journal.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {EVENT_COLUMNS} FROM appeal_events WHERE appeal_id IN ("
            ));
            let mut list = q.separated(", ");
            for id in slice {
                list.push_bind(id.0);
            }
            q.push(") ORDER BY seq");
            q.build_query_as().fetch_all(pool).await
        })?;
        for row in rows {
            events.entry(row.appeal_id).or_default().push(row);
        }
    }
    Ok(events
        .into_iter()
        .map(|(id, events)| (id, Register::of(&events)))
        .collect())
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
    use super::{EventRow, Register, neutralised};

    fn event(actor: &str, kind: &str, detail: &str) -> EventRow {
        EventRow {
            seq: 0,
            appeal_id: 1,
            at: chrono::DateTime::UNIX_EPOCH,
            actor: actor.into(),
            kind: kind.into(),
            detail: detail.into(),
            state_hash: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_register_is_read_from_the_acts_in_the_chain() {
        let events = [
            event("pbx", "registered", "{}"),
            event("person:olga", "details_recorded", r#"{"fields":["name"]}"#),
            event("person:olga", "script_confirmed", "{}"),
            event(
                "person:olga",
                "status_changed",
                r#"{"status":"registered"}"#,
            ),
            event(
                "person:aigul",
                "identity_disclosed",
                r#"{"purpose":"show"}"#,
            ),
            event("person:marat", "classified", r#"{"category":"corruption"}"#),
            event("manager:night", "routed", r#"{"unit":"Закупки"}"#),
            event("person:audit", "exported", r#"{"identity":false}"#),
            event(
                "person:dana",
                "decision",
                r#"{"event":"decision","decision":"disciplinary","on":"2026-12-18"}"#,
            ),
            event(
                "person:marat",
                "document_issued",
                r#"{"number":"OUT-2026-0007","kind":"reply","method":"post","to":"citizen"}"#,
            ),
            event(
                "person:marat",
                "reply_sent",
                r#"{"event":"reply_sent","on":"2026-12-21"}"#,
            ),
            event(
                "person:marat",
                "document_issued",
                r#"{"number":"OUT-2026-0009","kind":"cover_letter"}"#,
            ),
        ];
        assert_eq!(
            Register::of(&events),
            Register {
                worked_by: vec!["marat".into(), "night".into(), "dana".into()],
                reply_number: Some("OUT-2026-0007".into()),
                reply_date: Some("2026-12-21".into()),
                decision: Some("disciplinary".into()),
                decision_date: Some("2026-12-18".into()),
            }
        );
        // A reply recorded without a letter: its date, no number.
        let without_letter = [event(
            "person:marat",
            "reply_sent",
            r#"{"event":"reply_sent","on":"2026-12-21"}"#,
        )];
        let register = Register::of(&without_letter);
        assert_eq!(register.reply_number, None);
        assert_eq!(register.reply_date.as_deref(), Some("2026-12-21"));
        // The operator's notes alone: nobody worked it yet.
        assert_eq!(Register::of(&events[..5]), Register::default());
    }

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
