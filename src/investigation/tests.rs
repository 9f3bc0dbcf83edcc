//! The investigation file's unit tests: the entries' fields, who records
//! which, and the check of an entry against the file (no database).

use super::check::{FileState, admit};
use super::*;
use crate::deadlines::InvestigationDecision;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

#[test]
fn an_entry_names_the_field_it_lacks() {
    let today = date(2026, 12, 16);
    let registered = date(2026, 12, 1);
    let cases = [
        (
            FileEntry::Ordered {
                number: " ".into(),
                on: today,
                members: vec![],
            },
            "number: required",
        ),
        (
            FileEntry::Ordered {
                number: "12-П".into(),
                on: today,
                members: vec![],
            },
            "members: the commission needs at least one member",
        ),
        (
            FileEntry::Conclusion {
                on: date(2026, 12, 17),
                text: "x".into(),
                substantiated: Some(true),
            },
            "on: 2026-12-17 is in the future",
        ),
        (
            FileEntry::Conclusion {
                on: today,
                text: "x".into(),
                substantiated: None,
            },
            "substantiated: required (yes or no: whether the commission found the report substantiated)",
        ),
        (
            FileEntry::MaterialsRequested {
                request: 0,
                on: date(2026, 11, 30),
                from: "HR".into(),
                what: "x".into(),
            },
            "on: 2026-11-30 is before the appeal was received (2026-12-01)",
        ),
        (
            FileEntry::Decided {
                decision: InvestigationDecision::OtherMeasures,
                on: today,
                text: String::new(),
            },
            "text: required",
        ),
        (
            FileEntry::Extended {
                until: today,
                reference: "№ 7".into(),
                reason: "x".into(),
            },
            "until: 2026-12-16 is not after today",
        ),
    ];
    for (entry, expected) in cases {
        let error = entry.check(today, registered).err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some(expected), "{entry:?}");
    }
    let fine = FileEntry::Decided {
        decision: InvestigationDecision::Disciplinary,
        on: today,
        text: String::new(),
    };
    assert!(fine.check(today, registered).is_ok());
}

#[test]
fn the_director_orders_and_decides_the_commission_works() {
    let on = date(2026, 12, 16);
    let director_only = [
        FileEntry::Ordered {
            number: "1".into(),
            on,
            members: vec![],
        },
        FileEntry::Commission {
            on,
            members: vec![],
        },
        FileEntry::Decided {
            decision: InvestigationDecision::StopConsideration,
            on,
            text: String::new(),
        },
    ];
    for e in director_only {
        assert_eq!(e.who(), &[Role::Director], "{e:?}");
    }
    let work = FileEntry::Conclusion {
        on,
        text: "x".into(),
        substantiated: Some(false),
    };
    assert!(work.who().contains(&Role::Manager));
    let member = Who {
        login: "aset",
        roles: &[Role::Operator],
    };
    assert!(member.may_read(&["aset".to_owned()]));
    assert!(!member.may_read(&["other".to_owned()]));
    let auditor = Who {
        login: "aigul",
        roles: &[Role::Auditor],
    };
    assert!(
        !auditor.may_read(&[]),
        "an auditor does not read the file (7.9)"
    );
}

fn conclusion(on: NaiveDate) -> FileEntry {
    FileEntry::Conclusion {
        on,
        text: "the facts are confirmed".into(),
        substantiated: Some(true),
    }
}

fn state<'a>(
    ordered: bool,
    members: &'a [String],
    entries: &'a [(String, NaiveDate, Option<i64>)],
) -> FileState<'a> {
    FileState {
        registration_number: "ТЛ-2026-0001",
        closed: false,
        received: date(2026, 12, 1),
        today: date(2026, 12, 16),
        ordered,
        members,
        entries,
    }
}

fn refusal(entry: FileEntry, file: &FileState<'_>, who: Who<'_>) -> Option<String> {
    admit(entry, file, who).err().map(|e| e.to_string())
}

const DIRECTOR: Who<'static> = Who {
    login: "dana",
    roles: &[Role::Director],
};

#[test]
fn a_member_does_the_commissions_work_only_once_the_file_exists() {
    let on = date(2026, 12, 10);
    let members = ["aset".to_owned()];
    let member = Who {
        login: "aset",
        roles: &[Role::Operator],
    };
    let ordered = [("ordered".to_owned(), on, None)];
    assert!(admit(conclusion(on), &state(true, &members, &ordered), member).is_ok());
    assert_eq!(
        refusal(
            FileEntry::Commission {
                on,
                members: vec![Member::outside("Aset Nurlanov, HR")],
            },
            &state(true, &members, &ordered),
            member
        )
        .as_deref(),
        Some("commission: recorded only by the Director")
    );
    assert_eq!(
        refusal(conclusion(on), &state(false, &members, &[]), member).as_deref(),
        Some("conclusion: recorded only by the Director, a manager or a member of the commission"),
        "no file, no member"
    );
    let stranger = Who {
        login: "other",
        roles: &[Role::Auditor],
    };
    assert_eq!(
        refusal(conclusion(on), &state(true, &members, &ordered), stranger).as_deref(),
        Some("conclusion: recorded only by the Director, a manager or a member of the commission")
    );
}

#[test]
fn the_file_runs_from_the_order_through_the_conclusion_to_the_decision() {
    let on = date(2026, 12, 10);
    let decided = FileEntry::Decided {
        decision: InvestigationDecision::Disciplinary,
        on,
        text: String::new(),
    };
    let order = FileEntry::Ordered {
        number: "12-П".into(),
        on,
        members: vec![Member::outside("Ержан Сапаров, юрист")],
    };
    assert_eq!(
        refusal(conclusion(on), &state(false, &[], &[]), DIRECTOR).as_deref(),
        Some("no investigation of ТЛ-2026-0001 is ordered")
    );
    assert!(admit(order.clone(), &state(false, &[], &[]), DIRECTOR).is_ok());
    let ordered = [("ordered".to_owned(), on, None)];
    assert_eq!(
        refusal(order, &state(true, &[], &ordered), DIRECTOR).as_deref(),
        Some(
            "an investigation of ТЛ-2026-0001 is ordered already: record a change of the commission instead"
        )
    );
    assert_eq!(
        refusal(decided.clone(), &state(true, &[], &ordered), DIRECTOR).as_deref(),
        Some("decision: the commission's reasoned conclusion comes first (7.10, 7.11)")
    );
    let concluded = [
        ("ordered".to_owned(), on, None),
        ("conclusion".to_owned(), on, None),
    ];
    assert!(admit(decided.clone(), &state(true, &[], &concluded), DIRECTOR).is_ok());
    let done = [
        ("ordered".to_owned(), on, None),
        ("conclusion".to_owned(), on, None),
        ("decided".to_owned(), on, None),
    ];
    assert_eq!(
        refusal(conclusion(on), &state(true, &[], &done), DIRECTOR).as_deref(),
        Some("the investigation of ТЛ-2026-0001 is decided")
    );
    let closed = FileState {
        closed: true,
        ..state(true, &[], &ordered)
    };
    assert_eq!(
        refusal(decided, &closed, DIRECTOR).as_deref(),
        Some("appeal ТЛ-2026-0001 is closed")
    );
}

#[test]
fn requests_are_numbered_and_each_answered_once_not_before_it_was_made() {
    let asked_on = date(2026, 12, 10);
    let entries = [
        ("ordered".to_owned(), asked_on, None),
        ("materials_requested".to_owned(), asked_on, Some(1)),
        ("materials_requested".to_owned(), asked_on, Some(2)),
        ("materials_received".to_owned(), asked_on, Some(1)),
    ];
    let file = state(true, &[], &entries);
    let request = FileEntry::MaterialsRequested {
        request: 0,
        on: asked_on,
        from: "HR".into(),
        what: "the orders of 2026".into(),
    };
    let admitted = admit(request, &file, DIRECTOR)
        .ok()
        .map(|a| a.entry.request());
    assert_eq!(admitted, Some(Some(3)));
    let receipt = |request: i64, on: NaiveDate| FileEntry::MaterialsReceived {
        request,
        on,
        note: String::new(),
    };
    let answered = admit(receipt(2, asked_on), &file, DIRECTOR).ok();
    assert_eq!(answered.and_then(|a| a.requested_on), Some(asked_on));
    assert_eq!(
        refusal(receipt(1, asked_on), &file, DIRECTOR).as_deref(),
        Some("request: request 1 was answered already")
    );
    assert_eq!(
        refusal(receipt(9, asked_on), &file, DIRECTOR).as_deref(),
        Some("request: there is no request 9")
    );
    assert_eq!(
        refusal(receipt(2, date(2026, 12, 9)), &file, DIRECTOR).as_deref(),
        Some("on: 2026-12-09 is before the request (2026-12-10)")
    );
}
