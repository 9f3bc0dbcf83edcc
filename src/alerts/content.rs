//! What the mails say. Subjects are bilingual (Kazakh / Russian) and carry only the
//! registration number or a date; the reporter's identity is in the body of a
//! Director's alert only when `alerts.include_identity` is on (10.5), never in a
//! mail to a unit (10.9).

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::journal::{Appeal, Category};
use crate::triage::suggestion_for;

/// Local time for the body of a mail.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S (Astana)")
        .to_string()
}

pub fn corruption_subject(appeal: &Appeal) -> String {
    format!(
        "Сыбайлас жемқорлық туралы хабарлама / Сообщение о коррупции: {}",
        appeal.registration_number
    )
}

pub fn urgent_subject(appeal: &Appeal) -> String {
    format!(
        "ШҰҒЫЛ / СРОЧНО (6.3): қылмыс немесе қауіпсіздікке қатер / преступление или угроза безопасности: {}",
        appeal.registration_number
    )
}

pub fn digest_subject(date: NaiveDate, count: usize) -> String {
    format!("Жіктелмеген өтініштер / Неклассифицированные обращения за {date}: {count}")
}

pub fn routing_subject(appeal: &Appeal) -> String {
    format!(
        "Өтінішті жіберу / Направление обращения: {}",
        appeal.registration_number
    )
}

pub fn arrival_subject(appeal: &Appeal) -> String {
    format!(
        "Жаңа өтініш / Новое обращение: {}",
        appeal.registration_number
    )
}

pub fn threat_subject(appeal: &Appeal) -> String {
    format!(
        "ШҰҒЫЛ / СРОЧНО (6.3): жаңа өтініште қылмыс немесе қатер белгілері / признаки преступления или угрозы в новом обращении: {}",
        appeal.registration_number
    )
}

/// The notice of a new appeal (6.3): never its identity or text; with the
/// suggestion, and what 6.3 asks of a threat.
pub fn arrival_body(appeal: &Appeal, threat: bool, tz: Tz) -> String {
    let mut s = String::new();
    if threat {
        s.push_str(
            "URGENT (clause 6.3). The words of a new appeal suggest a criminal offence being \
             prepared or committed, or a threat to state or public security. Such an appeal \
             is forwarded at once to the competent state body, anonymous or not: classify it \
             and record the forwarding on the console (\"Forwarded to a competent body\").\n\n",
        );
    } else {
        s.push_str("A new appeal was registered on the trust line (clause 6.3: at once, after hours too).\n\n");
    }
    if threat && appeal.anonymous {
        s.push_str("It is anonymous: clause 6.3 still requires forwarding it now.\n\n");
    }
    s.push_str(&summary(appeal, None, tz));
    s.push_str("Reporter and text:   not in this mail (clauses 10.5, 10.14); read them in Senim\n");
    s
}

pub fn escalation_subject(reference: &str) -> String {
    format!("ЖЕТКІЗІЛМЕДІ / НЕ ДОСТАВЛЕНО Директору: {reference}")
}

/// One appeal as an alert shows it.
pub fn appeal_block(
    appeal: &Appeal,
    include_identity: bool,
    due_by: Option<DateTime<Utc>>,
    tz: Tz,
) -> String {
    let mut s = summary(appeal, due_by, tz);
    identity_and_text(&mut s, appeal, include_identity);
    s
}

/// What every mail about an appeal says of it: number, dates, channel,
/// category, the suggestion and the flags; no identity, no text.
fn summary(appeal: &Appeal, due_by: Option<DateTime<Utc>>, tz: Tz) -> String {
    let mut s = String::new();
    let suggestion = suggestion_for(appeal);
    let _ = writeln!(s, "Registration number: {}", appeal.registration_number);
    let _ = writeln!(
        s,
        "Registration date:   {} ({})",
        appeal.registration_date,
        appeal.registration_date.format("%A")
    );
    let _ = writeln!(s, "Received at:         {}", local(appeal.received_at, tz));
    let _ = writeln!(s, "Channel:             {}", appeal.channel);
    let _ = writeln!(s, "Category:            {}", category_text(appeal.category));
    let _ = writeln!(
        s,
        "Suggested category:  {} (a suggestion, not a classification)",
        suggestion.describe()
    );
    if let Some(due) = due_by {
        let _ = writeln!(
            s,
            "Director to be told by: {} (clause 10.6)",
            local(due, tz)
        );
    }
    let mut flags = Vec::new();
    if appeal.anonymous {
        flags.push("anonymous");
    }
    if appeal.no_return_address {
        flags.push("no return address");
    }
    if !flags.is_empty() {
        let _ = writeln!(s, "Flags:               {}", flags.join(", "));
    }
    s
}

/// The reporter (only with `include_identity`) and the text, after the summary.
fn identity_and_text(s: &mut String, appeal: &Appeal, include_identity: bool) {
    if include_identity {
        let r = &appeal.reporter;
        let _ = writeln!(s, "Reporter (STATE SECRET, clause 10.5):");
        for (label, value) in [
            ("name", &r.name),
            ("organisation", &r.organisation),
            ("postal address", &r.postal_address),
            ("phone", &r.phone),
            ("e-mail", &r.email),
        ] {
            if let Some(v) = value {
                let _ = writeln!(s, "  {label}: {v}");
            }
        }
    } else {
        let _ = writeln!(
            s,
            "Reporter:            withheld (clause 10.5); see the Journal"
        );
    }
    if appeal.sealed.is_some() && appeal.text().is_empty() {
        let _ = writeln!(
            s,
            "Substance:           sealed (clauses 10.5, 10.14); read it in Senim with your key"
        );
        return;
    }
    if let Some(subject) = &appeal.subject {
        let _ = writeln!(s, "Subject:             {subject}");
    }
    let _ = writeln!(s, "Substance:");
    let _ = writeln!(
        s,
        "{}",
        appeal.substance.as_deref().unwrap_or("(not yet recorded)")
    );
}

fn category_text(category: Category) -> &'static str {
    match category {
        Category::Unclassified => "unclassified (not yet triaged)",
        Category::Corruption => "corruption",
        Category::NotCorruption => "not corruption",
        Category::CriminalOffence => "criminal offence or threat to state or public security (6.3)",
    }
}

pub fn corruption_body(
    appeal: &Appeal,
    include_identity: bool,
    due_by: DateTime<Utc>,
    tz: Tz,
) -> String {
    format!(
        "An appeal to the trust line was classified as reporting corruption (clause 10.6).\n\
         The Director decides whether to send it to the anti-corruption service.\n\n{}",
        appeal_block(appeal, include_identity, Some(due_by), tz)
    )
}

pub fn urgent_body(appeal: &Appeal, include_identity: bool, tz: Tz) -> String {
    format!(
        "URGENT. An appeal reports a criminal offence being prepared or committed, or a threat \
         to state or public security. Clause 6.3: it is forwarded at once to the competent \
         state body, anonymous or not.\n\n{}",
        appeal_block(appeal, include_identity, None, tz)
    )
}

pub fn late_delivery_subject(appeal: &Appeal) -> String {
    format!(
        "Кешіккен қоңырау / Запоздавший звонок {}",
        appeal.registration_number
    )
}

pub fn late_delivery_body(
    appeal: &Appeal,
    call_started: DateTime<Utc>,
    include_identity: bool,
    due_by: DateTime<Utc>,
    tz: Tz,
) -> String {
    format!(
        "A call to the trust line at {} reached Senim only at {}: the telephone exchange \
         delivered its record late. It is registered as received now, and you are told at \
         once instead of in the next digest; clause 10.6 requires the Director to be told \
         of corruption reports by {}.\n\n{}",
        local(call_started, tz),
        local(appeal.received_at, tz),
        local(due_by, tz),
        appeal_block(appeal, include_identity, None, tz)
    )
}

pub fn digest_body(
    date: NaiveDate,
    appeals: &[Appeal],
    include_identity: bool,
    due_by: DateTime<Utc>,
    tz: Tz,
) -> String {
    let mut s = format!(
        "{} appeal(s) registered on {date} are still unclassified at the cutoff. Clause 10.6 \
         requires the Director to be told of corruption reports by {}; so that the deadline \
         holds, here they are as registered.\n",
        appeals.len(),
        local(due_by, tz)
    );
    for appeal in appeals {
        s.push_str("\n----------------------------------------\n");
        s.push_str(&appeal_block(appeal, include_identity, None, tz));
    }
    s
}

pub fn routing_body(appeal: &Appeal, unit: &str, tz: Tz) -> String {
    format!(
        "This appeal reached the trust line and is sent on to {unit} (clause 10.9). \
         The reporter's identity is not included.\n\n{}",
        appeal_block(appeal, false, None, tz)
    )
}

pub fn escalation_body(
    kind: &str,
    reference: &str,
    due_by: Option<DateTime<Utc>>,
    state: &str,
    last_error: Option<&str>,
    original: &str,
    tz: Tz,
) -> String {
    format!(
        "An alert to the Director ({kind}, {reference}) is not delivered (state: {state}; last error: {}).\n\
         It is due by {}. You receive it as a deputy.\n\n{original}",
        last_error.unwrap_or("none"),
        due_by.map_or_else(|| "-".to_owned(), |d| local(d, tz)),
    )
}
