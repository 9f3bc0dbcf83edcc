//! The report's tests: periods, counts, and the names read from the chain.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a test date")
}

#[test]
fn a_period_is_checked_naming_the_field() {
    let p = Period::parse("2026-11-01", "2026-12-31").expect("a period");
    assert_eq!((p.from, p.to), (d("2026-11-01"), d("2026-12-31")));
    let err = Period::parse("2026-13-01", "2026-12-31")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("from: `2026-13-01` is not a date"), "{err}");
    let err = Period::parse("2026-11-01", "").unwrap_err().to_string();
    assert!(err.starts_with("to: required"), "{err}");
    let err = Period::parse("2026-11-02", "2026-11-01")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("to: 2026-11-01 is before from"), "{err}");
    let err = Period::parse("2000-01-01", "2026-01-01")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("to: a report covers at most 10 years"),
        "{err}"
    );
}

#[test]
fn a_quarter_is_its_three_months() {
    let q4 = Period::quarter("2026-Q4").expect("a quarter");
    assert_eq!((q4.from, q4.to), (d("2026-10-01"), d("2026-12-31")));
    assert_eq!(q4.as_quarter(), Some((2026, 4)));
    let q1 = Period::quarter(" 2028-q1 ").expect("a quarter");
    assert_eq!((q1.from, q1.to), (d("2028-01-01"), d("2028-03-31")));
    assert_eq!(q1.as_quarter(), Some((2028, 1)));
    for bad in [
        "2026-Q5", "2026-Q0", "2026Q4", "2026-Q", "Q4-2026", "26-Q4", "2026-Q44", "",
    ] {
        let err = Period::quarter(bad).expect_err(bad).to_string();
        assert!(err.contains("quarter"), "{bad}: {err}");
    }
    let not = Period::new(d("2026-10-01"), d("2026-12-30")).expect("a period");
    assert_eq!(not.as_quarter(), None);
    let not = Period::new(d("2026-11-01"), d("2027-01-31")).expect("a period");
    assert_eq!(not.as_quarter(), None);
}

#[test]
fn months_cut_to_the_period_and_whole_months() {
    let p = Period::new(d("2026-11-15"), d("2027-01-10")).expect("a period");
    let months: Vec<(String, NaiveDate, NaiveDate)> = p
        .months()
        .into_iter()
        .map(|(m, part)| (m.to_string(), part.from, part.to))
        .collect();
    assert_eq!(
        months,
        vec![
            ("2026-11".into(), d("2026-11-15"), d("2026-11-30")),
            ("2026-12".into(), d("2026-12-01"), d("2026-12-31")),
            ("2027-01".into(), d("2027-01-01"), d("2027-01-10")),
        ]
    );
    let whole = p.whole_months();
    assert_eq!((whole.from, whole.to), (d("2026-11-01"), d("2027-01-31")));
    let feb = Period::new(d("2028-02-10"), d("2028-02-11")).expect("a period");
    assert_eq!(feb.whole_months().to, d("2028-02-29"));
}

#[test]
fn a_period_starts_at_astana_midnight() {
    let p = Period::new(d("2026-11-01"), d("2026-11-30")).expect("a period");
    let (start, end) = p.instants(chrono_tz::Asia::Almaty);
    assert_eq!(start.to_rfc3339(), "2026-10-31T19:00:00+00:00");
    assert_eq!(end.to_rfc3339(), "2026-11-30T19:00:00+00:00");
}

#[test]
fn medians_and_maxima() {
    assert_eq!(Stats::of(vec![]), Stats::default());
    assert_eq!(
        Stats::of(vec![30, 5, 90]),
        Stats {
            count: 3,
            median: Some(30),
            max: Some(90)
        }
    );
    assert_eq!(Stats::of(vec![40, 30, 10, 90]).median, Some(35));
}

#[test]
fn deadlines_are_met_late_overdue_open_or_ended() {
    let deadline = |due: &str, met: Option<&str>, ended: Option<&str>| crate::deadlines::Deadline {
        id: 0,
        appeal_id: crate::journal::AppealId(1),
        kind: Kind::Reply,
        started_on: d("2026-11-01"),
        due_on: d(due),
        extended: false,
        reason: None,
        met_on: met.map(d),
        ended_on: ended.map(d),
        ended_by: ended.map(|_| "closed".to_owned()),
    };
    let mut c = DeadlineCounts::default();
    let today = d("2026-12-18");
    c.add(&deadline("2026-11-23", Some("2026-11-12"), None), today);
    c.add(&deadline("2026-11-23", Some("2026-11-23"), None), today);
    c.add(&deadline("2026-11-27", Some("2026-12-10"), None), today);
    c.add(&deadline("2026-11-24", None, None), today);
    c.add(&deadline("2026-12-18", None, None), today);
    // Ended by the case's end before its day: never missed, even long after.
    c.add(&deadline("2026-11-20", None, Some("2026-11-19")), today);
    assert_eq!(
        c,
        DeadlineCounts {
            met: 2,
            met_late: 1,
            overdue: 1,
            open: 1,
            ended: 1,
        }
    );
    assert_eq!(c.missed(), 2);
    // Every deadline is counted once, the ended one too.
    assert_eq!(c.total(), 6);
}

#[test]
fn the_outcome_events_are_the_names_the_chain_writes() {
    use crate::cases::acts;
    use crate::deadlines::{Event, InvestigationDecision};
    let on = d("2026-11-12");
    for name in [
        acts::ROUTED,
        acts::FORWARDED,
        acts::NOT_CONSIDERED,
        acts::CLOSED,
        Event::Redirected { on }.name(),
        Event::InvestigationOrdered { on }.name(),
        Event::ReplySent { on }.name(),
        Event::Decision {
            decision: InvestigationDecision::Disciplinary,
            on,
        }
        .name(),
    ] {
        assert!(OUTCOME_EVENTS.contains(&name), "{name}");
    }
    assert_eq!(ROUTED, acts::ROUTED);
    assert_eq!(REPLY_SENT, Event::ReplySent { on }.name());
}

#[test]
fn the_names_read_are_the_names_the_chain_writes() {
    use crate::deadlines::InvestigationDecision;
    use crate::investigation::EntryKind;
    for (decision, name) in [
        InvestigationDecision::StopConsideration,
        InvestigationDecision::HandToAuthorities,
        InvestigationDecision::Disciplinary,
        InvestigationDecision::OtherMeasures,
    ]
    .into_iter()
    .zip(DECISIONS)
    {
        assert_eq!(serde_json::to_value(decision).ok(), Some(name.into()));
    }
    assert_eq!(INVESTIGATION_ENTRY, crate::investigation::ENTRY);
    assert_eq!(EntryKind::Ordered.as_str(), "ordered");
    assert_eq!(EntryKind::Conclusion.as_str(), "conclusion");
    assert_eq!(EntryKind::Decided.as_str(), "decided");
    let status = crate::journal::Amendment::Status {
        status: Status::Closed,
        reason: Some("closed".into()),
    };
    assert_eq!(status.kind(), STATUS_CHANGED);
    let detail = serde_json::to_value(&status).expect("a detail");
    assert_eq!(
        (detail["status"].as_str(), detail["reason"].as_str()),
        (Some("closed"), Some("closed"))
    );
}

#[test]
fn each_act_that_sets_a_status_is_the_outcome_of_that_status() {
    use crate::cases::Act;
    use crate::cases::acts::Body;
    use crate::deadlines::{Event, InvestigationDecision};
    let on = d("2026-11-12");
    let acts = [
        Act::Route {
            unit: "HR".into(),
            text: None,
        },
        Act::Forward {
            to: Body::CompetentBody,
            on,
            method: "post".into(),
            reference: "1".into(),
        },
        Act::Deadline(Event::Redirected { on }),
        Act::NotConsidered { reason: "r".into() },
        Act::Deadline(Event::InvestigationOrdered { on }),
        Act::Deadline(Event::Decision {
            decision: InvestigationDecision::Disciplinary,
            on,
        }),
        Act::Deadline(Event::ReplySent { on }),
        Act::Close { reason: "r".into() },
    ];
    let mut reached = BTreeSet::new();
    for act in &acts {
        let status = act.moves_to().expect("the act sets a status");
        // `Case::record` gives the act's name as the change's reason.
        assert_eq!(
            outcome_of_status(status, Some(act.name())),
            Some(act.name()),
            "{act:?}"
        );
        reached.insert(act.name());
    }
    assert_eq!(reached, OUTCOME_EVENTS.into_iter().collect());
    for status in [
        Status::Registered,
        Status::AwaitingOperatorNotes,
        Status::InReview,
    ] {
        assert_eq!(outcome_of_status(status, None), None);
    }
}

fn event(
    seq: i64,
    appeal: i64,
    kind: &str,
    detail: serde_json::Value,
) -> crate::journal::audit::EventRow {
    crate::journal::audit::EventRow {
        seq,
        appeal_id: appeal,
        at: DateTime::<Utc>::UNIX_EPOCH,
        actor: "person:test".into(),
        kind: kind.into(),
        detail: detail.to_string(),
        state_hash: String::new(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// The events of the nine appeals of `the_outcomes_add_up_with_the_statuses`.
fn nine_appeals() -> Vec<crate::journal::audit::EventRow> {
    use serde_json::json;
    let status = |s: &str, reason: &str| json!({ "kind": "status", "status": s, "reason": reason });
    let entry = |kind: &str, extra: serde_json::Value| {
        let mut detail = json!({ "seq": 1, "entry": kind, "sha256": "00" });
        if let (Some(d), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            d.extend(extra.clone());
        }
        detail
    };
    let rows = [
        // 1: closed through the act.
        (1, "closed", json!({ "reason": "done" })),
        (1, STATUS_CHANGED, status("closed", "closed")),
        // 2: closed by `journal status` before it went through the acts:
        // no `closed` event, the reason the manager's own words.
        (2, STATUS_CHANGED, status("closed", "duplicate")),
        // 3: not considered (6.3).
        (3, "not_considered", json!({ "reason": "anonymous" })),
        (
            3,
            STATUS_CHANGED,
            status("not_considered", "not_considered"),
        ),
        // 4: redirected outside competence: its status is "forwarded".
        (
            4,
            "redirected",
            json!({ "event": "redirected", "on": "2026-11-05" }),
        ),
        (4, STATUS_CHANGED, status("forwarded", "redirected")),
        // 5: forwarded to a competent body, then closed.
        (
            5,
            "forwarded",
            json!({ "to": "competent_body", "on": "2026-11-05" }),
        ),
        (5, STATUS_CHANGED, status("forwarded", "forwarded")),
        (5, "closed", json!({ "reason": "sent" })),
        (5, STATUS_CHANGED, status("closed", "closed")),
        // 6: investigated in the file: substantiated, disciplinary.
        (6, INVESTIGATION_ENTRY, entry("ordered", json!({}))),
        (
            6,
            "investigation_ordered",
            json!({ "event": "investigation_ordered", "on": "2026-11-06" }),
        ),
        (
            6,
            STATUS_CHANGED,
            status("under_investigation", "investigation_ordered"),
        ),
        (
            6,
            INVESTIGATION_ENTRY,
            entry("conclusion", json!({ "substantiated": true })),
        ),
        (6, INVESTIGATION_ENTRY, entry("decided", json!({}))),
        (
            6,
            "decision",
            json!({ "event": "decision", "decision": "disciplinary", "on": "2026-11-20" }),
        ),
        (6, STATUS_CHANGED, status("decided", "decision")),
        // 7: not substantiated; the decision: stop; then the reply.
        (
            7,
            INVESTIGATION_ENTRY,
            entry("conclusion", json!({ "substantiated": false })),
        ),
        (
            7,
            "decision",
            json!({ "event": "decision", "decision": "stop_consideration", "on": "2026-11-20" }),
        ),
        (7, STATUS_CHANGED, status("decided", "decision")),
        (
            7,
            "reply_sent",
            json!({ "event": "reply_sent", "on": "2026-11-23" }),
        ),
        (7, STATUS_CHANGED, status("replied", "reply_sent")),
        // 8: a conclusion that does not say, a first decision recorded
        // again as another: its last counts, once.
        (8, INVESTIGATION_ENTRY, entry("conclusion", json!({}))),
        (
            8,
            "decision",
            json!({ "event": "decision", "decision": "stop_consideration", "on": "2026-11-20" }),
        ),
        (
            8,
            "decision",
            json!({ "event": "decision", "decision": "other_measures", "on": "2026-11-21" }),
        ),
        (8, STATUS_CHANGED, status("decided", "decision")),
        // 9: sent to a unit by its classification and again by the
        // manager (once), and to another unit.
        (
            9,
            "routed",
            json!({ "unit": "HR", "on_classification": true }),
        ),
        (9, STATUS_CHANGED, status("routed", "routed")),
        (9, "routed", json!({ "unit": "HR" })),
        (9, "routed", json!({ "unit": "Procurement" })),
    ];
    rows.into_iter()
        .enumerate()
        .map(|(i, (id, kind, detail))| event(i as i64 + 1, id, kind, detail))
        .collect()
}

/// Hand-made events of nine appeals, as the chain writes them, and what a
/// person counts of them: every status is in the outcome that leads to
/// it, each appeal counted once per figure.
#[test]
fn the_outcomes_add_up_with_the_statuses() {
    let events = nine_appeals();
    let done = Done::of(&events);
    let all = |_| true;
    let outcomes = done.outcomes(&all);
    assert_eq!(
        outcomes.iter().collect::<Vec<_>>(),
        [
            ("routed", 1),
            ("forwarded", 1),
            ("redirected", 1),
            ("not_considered", 1),
            ("investigation_ordered", 1),
            ("decision", 3),
            ("reply_sent", 1),
            ("closed", 3),
        ]
    );
    // Each appeal's status today, and the outcome it must be counted in.
    let statuses = [
        (1, Status::Closed),
        (2, Status::Closed),
        (3, Status::NotConsidered),
        (4, Status::Forwarded),
        (5, Status::Closed),
        (6, Status::Decided),
        (7, Status::Replied),
        (8, Status::Decided),
        (9, Status::Routed),
    ];
    for (id, s) in statuses {
        let outcome = match (id, s) {
            (4, _) => "redirected",
            _ => outcome_of_status(s, None).expect("an outcome"),
        };
        assert!(
            done.outcomes[outcome].contains(&id),
            "appeal {id}: {s} but not {outcome}"
        );
    }
    let closed = statuses
        .iter()
        .filter(|(_, s)| *s == Status::Closed)
        .count() as u64;
    assert_eq!(outcomes.get("closed"), closed);
    assert_eq!(
        done.decisions(&all).iter().collect::<Vec<_>>(),
        [
            ("stop_consideration", 1),
            ("hand_to_authorities", 0),
            ("disciplinary", 1),
            ("other_measures", 1),
        ]
    );
    assert_eq!(done.decisions(&all).total(), outcomes.get("decision"));
    assert_eq!(
        done.findings(&all).iter().collect::<Vec<_>>(),
        [
            ("substantiated", 1),
            ("not_substantiated", 1),
            ("not_stated", 1)
        ]
    );
    let units: Vec<(&str, usize)> = done
        .units
        .iter()
        .map(|(u, ids)| (u.as_str(), ids.len()))
        .collect();
    assert_eq!(units, [("HR", 1), ("Procurement", 1)]);
    assert_eq!(done.replied_on.get(&7), Some(&d("2026-11-23")));
    // A part of the appeals: the month's.
    let some = |id: i64| id >= 6;
    assert_eq!(done.decisions(&some).total(), 3);
    assert_eq!(done.findings(&some).get("substantiated"), 1);
    assert_eq!(done.outcomes(&some).get("closed"), 0);
}
