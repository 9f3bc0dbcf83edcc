//! The Journal's append-only audit log: every change to an appeal is an event whose
//! hash covers the previous event's hash and the appeal's state after the change,
//! so `senim journal verify` finds any edited or deleted row.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::appeal::{Appeal, AppealId};
use crate::db::Tx;
use crate::on_tx;

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain's head as read (and locked) at the start of a Journal write.
#[derive(Clone, Debug)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// One event as it is stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub appeal_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub detail: String,
    pub state_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Locks the chain's head for this transaction and returns it. Every Journal write
/// calls this first: it serialises writers, so the chain is a single line.
pub async fn lock_head(tx: &mut Tx) -> Result<Head, sqlx::Error> {
    let (seq, hash): (i64, String) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
    )
    .fetch_one(conn)
    .await)?;
    Ok(Head { seq, hash })
}

/// Appends one event after `head` and moves `head` on; `store_head` writes it back
/// before the transaction commits.
pub async fn append(
    tx: &mut Tx,
    head: &mut Head,
    appeal: &Appeal,
    at: DateTime<Utc>,
    actor: &str,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let seq = head.seq + 1;
    let detail = detail.to_string();
    let state_hash = state_hash(appeal);
    let hash = event_hash(
        &head.hash,
        seq,
        appeal.id.0,
        at,
        actor,
        kind,
        &detail,
        &state_hash,
    );
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO appeal_events (seq, appeal_id, at, actor, kind, detail, state_hash, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(appeal.id.0)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(&detail)
    .bind(&state_hash)
    .bind(&head.hash)
    .bind(&hash)
    .execute(conn)
    .await
    .map(|_| ()))?;
    *head = Head { seq, hash };
    Ok(())
}

/// Writes the head moved on by `append` back to the chain's head row.
pub async fn store_head(tx: &mut Tx, head: &Head) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.seq)
        .bind(&head.hash)
        .execute(conn)
        .await
        .map(|_| ()))
}

/// The hash of an appeal's whole state, as the audit log records it.
pub fn state_hash(appeal: &Appeal) -> String {
    #[derive(Serialize)]
    struct Canonical<'a>(&'a Appeal);
    // serde_json writes struct fields in declaration order: stable for one version
    // of the type, and a change of the type is a migration of the chain.
    let bytes = serde_json::to_vec(&Canonical(appeal)).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

#[allow(clippy::too_many_arguments)]
fn event_hash(
    prev_hash: &str,
    seq: i64,
    appeal_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    kind: &str,
    detail: &str,
    state_hash: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        &appeal_id.to_string(),
        &at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        kind,
        detail,
        state_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One thing `verify` found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The event (`seq`) or appeal the finding is about.
    pub what: String,
    pub problem: String,
}

/// The result of checking the whole chain and every appeal against it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub appeals: u64,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks the events in order against each other and the head, then every appeal's
/// current row against the state its last event recorded.
pub fn verify(events: &[EventRow], head: &Head, appeals: &[Appeal]) -> VerifyReport {
    let mut report = VerifyReport {
        events: events.len() as u64,
        appeals: appeals.len() as u64,
        findings: Vec::new(),
    };
    let mut finding =
        |what: String, problem: String| report.findings.push(Finding { what, problem });
    let mut prev = GENESIS.to_owned();
    let mut last_state: BTreeMap<i64, &str> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            finding(
                format!("event {expected_seq}"),
                format!("missing (next stored event is {})", e.seq),
            );
        }
        if e.prev_hash != prev {
            finding(
                format!("event {}", e.seq),
                "does not follow the event before it".into(),
            );
        }
        let hash = event_hash(
            &e.prev_hash,
            e.seq,
            e.appeal_id,
            e.at,
            &e.actor,
            &e.kind,
            &e.detail,
            &e.state_hash,
        );
        if hash != e.hash {
            finding(
                format!("event {}", e.seq),
                "was edited (hash does not match its contents)".into(),
            );
        }
        prev = e.hash.clone();
        last_state.insert(e.appeal_id, &e.state_hash);
    }
    let last_seq = events.last().map_or(0, |e| e.seq);
    if head.seq != last_seq || head.hash != prev {
        finding(
            "chain head".into(),
            format!(
                "says event {} but the log ends at event {last_seq}: events were deleted",
                head.seq
            ),
        );
    }
    for appeal in appeals {
        let what = format!("appeal {} ({})", appeal.registration_number, appeal.id);
        match last_state.get(&appeal.id.0) {
            None => finding(what, "has no event in the audit log".into()),
            Some(recorded) if *recorded != state_hash(appeal) => finding(
                what,
                "was changed outside the Journal (row differs from its last event)".into(),
            ),
            Some(_) => {}
        }
    }
    let known: std::collections::BTreeSet<i64> = appeals.iter().map(|a| a.id.0).collect();
    for id in last_state.keys().filter(|id| !known.contains(id)) {
        finding(
            format!("appeal {}", AppealId(*id)),
            "has events but its row was deleted".into(),
        );
    }
    report
}
