//! The free-text reasons of acts, kept out of the audit chain (issue 20): a
//! classification's, a consent's or refusal's, "not considered", closing, an
//! extension's, a correction's ("взятка за поверку"). They describe the
//! substance, so they are treated as the text is:
//!
//! - the chain's event keeps a reference and a hash in place of the text
//!   (`{"kept_reason": seq, "sha256": …}`, `Kept`), never the words;
//! - the words are in `appeal_reasons`: plain before sealing (the hash then
//!   salted with random bytes kept beside them, so the hash left in the chain
//!   confirms no guess once the row is sealed or destroyed), sealed to the
//!   office key once `senim keys init` has made it (the hash then of the sealed
//!   bytes); `seal_existing_in` (keys init) and `reseal_in` (a rotation) write
//!   the new hashes into the appeal's `sealed` / `resealed` event;
//! - retention deletes them with the appeal (`delete_in`; the `destroyed` event
//!   names `reasons` among the fields erased);
//! - `check` (`journal verify`) holds each stored reason to its latest hash in
//!   the chain: an edited, added or deleted reason is a finding;
//! - readers get them back with `Reasons::text`: plain as they are, sealed only
//!   with a person's unlocked key.
//!
//! Events from before this table keep their reasons in their detail as text
//! (the chain is append-only).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit::{EventRow, Finding};
use super::{AppealId, JournalError, Result};
use crate::db::Tx;
use crate::execute_in;
use crate::on_tx;
use crate::rows_affected_in;
use crate::sealing::{Sealer, Unlocked};

/// The domain of a plain reason's salted hash.
const DOMAIN: &[u8] = b"senim reason v1\0";

/// What an event keeps of a reason: which one, and the hash of its row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub kept_reason: i64,
    pub sha256: String,
}

/// One stored reason.
#[derive(Clone, sqlx::FromRow)]
struct Row {
    appeal_id: i64,
    seq: i64,
    salt: Option<Vec<u8>>,
    plain: Option<String>,
    envelope: Option<Vec<u8>>,
}

impl Row {
    /// The hash the chain keeps of it.
    fn digest(&self) -> String {
        match (&self.envelope, &self.plain) {
            (Some(envelope), _) => hex::encode(Sha256::digest(envelope)),
            (None, plain) => salted(
                self.salt.as_deref().unwrap_or_default(),
                plain.as_deref().unwrap_or_default(),
            ),
        }
    }
}

fn salted(salt: &[u8], text: &str) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(salt);
    h.update(b"\0");
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

fn salt() -> Result<Vec<u8>> {
    use ring::rand::SecureRandom;
    let mut salt = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| JournalError::Corrupt("no randomness for a reason's salt".into()))?;
    Ok(salt)
}

/// Keeps `text` as appeal `id`'s next reason, in `tx`: sealed when `sealer` is
/// on, plain (salted) otherwise; what the event keeps of it.
pub async fn keep_in(tx: &mut Tx, sealer: &Sealer, id: AppealId, text: &str) -> Result<Kept> {
    let seq: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM appeal_reasons WHERE appeal_id = $1",
    )
    .bind(id.0)
    .fetch_one(conn)
    .await)?;
    let mut row = Row {
        appeal_id: id.0,
        seq,
        salt: None,
        plain: None,
        envelope: None,
    };
    let generation = match sealer.seal(text.as_bytes())? {
        Some(sealed) => {
            row.envelope = Some(sealed.bytes);
            Some(sealed.generation)
        }
        None => {
            row.salt = Some(salt()?);
            row.plain = Some(text.to_owned());
            None
        }
    };
    execute_in!(
        tx,
        sqlx::query(
            "INSERT INTO appeal_reasons (appeal_id, seq, salt, plain, generation, envelope) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.appeal_id)
        .bind(row.seq)
        .bind(&row.salt)
        .bind(&row.plain)
        .bind(generation)
        .bind(&row.envelope)
    )?;
    Ok(Kept {
        kept_reason: seq,
        sha256: row.digest(),
    })
}

/// Replaces a free-text `reason` at the top of `detail` (a non-empty string)
/// by what the chain keeps of it, the text kept in `appeal_reasons`.
pub async fn take_from(
    tx: &mut Tx,
    sealer: &Sealer,
    id: AppealId,
    detail: &mut serde_json::Value,
) -> Result<()> {
    let Some(text) = detail
        .get("reason")
        .and_then(|r| r.as_str())
        .filter(|r| !r.trim().is_empty())
        .map(str::to_owned)
    else {
        return Ok(());
    };
    let kept = keep_in(tx, sealer, id, &text).await?;
    detail["reason"] = serde_json::to_value(kept)
        .map_err(|e| JournalError::Corrupt(format!("cannot write a reason's reference: {e}")))?;
    Ok(())
}

async fn rows_of(tx: &mut Tx, id: i64) -> Result<Vec<Row>> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT appeal_id, seq, salt, plain, envelope FROM appeal_reasons WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(conn)
    .await)?)
}

/// Seals appeal `id`'s plain reasons in place (`senim keys init`); what the
/// appeal's `sealed` event keeps of each (all of its reasons).
pub async fn seal_existing_in(tx: &mut Tx, sealer: &Sealer, id: AppealId) -> Result<Vec<Kept>> {
    let mut kept = Vec::new();
    for mut row in rows_of(tx, id.0).await? {
        if row.envelope.is_none() {
            let text = row.plain.take().unwrap_or_default();
            let sealed = sealer.seal(text.as_bytes())?.ok_or_else(|| {
                JournalError::Corrupt("sealing was switched off while reasons were sealed".into())
            })?;
            row.salt = None;
            row.envelope = Some(sealed.bytes);
            store_sealed(tx, &row, sealed.generation).await?;
        }
        kept.push(Kept {
            kept_reason: row.seq,
            sha256: row.digest(),
        });
    }
    Ok(kept)
}

/// Reseals appeal `id`'s sealed reasons to `rotation`'s generation; what the
/// appeal's `resealed` event keeps of each.
pub async fn reseal_in(
    tx: &mut Tx,
    rotation: &crate::sealing::keys::Rotation,
    unlocked: &Unlocked,
    id: AppealId,
) -> Result<Vec<Kept>> {
    let mut kept = Vec::new();
    for mut row in rows_of(tx, id.0).await? {
        if let Some(envelope) = &row.envelope {
            let resealed = rotation.reseal(unlocked, envelope)?;
            row.envelope = Some(resealed.bytes);
            store_sealed(tx, &row, resealed.generation).await?;
        }
        kept.push(Kept {
            kept_reason: row.seq,
            sha256: row.digest(),
        });
    }
    Ok(kept)
}

async fn store_sealed(tx: &mut Tx, row: &Row, generation: i64) -> Result<()> {
    execute_in!(
        tx,
        sqlx::query(
            "UPDATE appeal_reasons SET salt = NULL, plain = NULL, generation = $1, envelope = $2 \
         WHERE appeal_id = $3 AND seq = $4",
        )
        .bind(generation)
        .bind(&row.envelope)
        .bind(row.appeal_id)
        .bind(row.seq)
    )?;
    Ok(())
}

/// Deletes appeal `id`'s reasons (destruction under the records schedule);
/// how many.
pub async fn delete_in(tx: &mut Tx, id: AppealId) -> Result<u64> {
    Ok(rows_affected_in!(
        tx,
        sqlx::query("DELETE FROM appeal_reasons WHERE appeal_id = $1").bind(id.0)
    )?)
}

/// An appeal's reasons as a reader gets them back.
#[derive(Clone, Debug, Default)]
pub struct Reasons(BTreeMap<i64, Reason>);

/// One reason, for a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Its words: plain, or opened with the reader's key.
    Text(String),
    /// Sealed, and the reader holds no key that opens it.
    Sealed,
}

impl Reasons {
    /// What an event's `reason` says: the words of an event from before
    /// reasons were kept apart, the kept reason's words or `Sealed`; `None` if
    /// the event has no reason, or its reason was destroyed.
    pub fn of_detail(&self, detail: &serde_json::Value) -> Option<Reason> {
        match detail.get("reason")? {
            serde_json::Value::String(s) => Some(Reason::Text(s.clone())),
            other => {
                let kept: Kept = serde_json::from_value(other.clone()).ok()?;
                self.0.get(&kept.kept_reason).cloned()
            }
        }
    }

    /// `detail` with its kept reason's words put back; `sealed` or
    /// `destroyed` (the reader's words) in their place when they cannot be.
    pub fn shown(
        &self,
        detail: &serde_json::Value,
        sealed: &str,
        destroyed: &str,
    ) -> serde_json::Value {
        let mut shown = detail.clone();
        if detail.get("reason").is_some_and(|r| r.is_object()) {
            shown["reason"] = match self.of_detail(detail) {
                Some(Reason::Text(s)) => s.into(),
                Some(Reason::Sealed) => sealed.into(),
                None => destroyed.into(),
            };
        }
        shown
    }

    /// `shown`, of an event's detail as stored (JSON text), as text.
    pub fn shown_text(&self, detail: &str, sealed: &str, destroyed: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(detail) {
            Ok(d) if d.get("reason").is_some_and(|r| r.is_object()) => {
                self.shown(&d, sealed, destroyed).to_string()
            }
            _ => detail.to_owned(),
        }
    }
}

/// Appeal `id`'s reasons, opened with `unlocked` where sealed.
pub async fn read_in(tx: &mut Tx, id: AppealId, unlocked: Option<&Unlocked>) -> Result<Reasons> {
    let mut reasons = BTreeMap::new();
    for row in rows_of(tx, id.0).await? {
        let reason = match (&row.envelope, row.plain) {
            (Some(envelope), _) => match unlocked.map(|u| u.open(envelope)) {
                Some(Ok(bytes)) => Reason::Text(String::from_utf8_lossy(&bytes).into_owned()),
                _ => Reason::Sealed,
            },
            (None, plain) => Reason::Text(plain.unwrap_or_default()),
        };
        reasons.insert(row.seq, reason);
    }
    Ok(Reasons(reasons))
}

/// Every `Kept` in `detail`, at any depth.
fn kept_in(detail: &serde_json::Value, out: &mut Vec<Kept>) {
    match detail {
        serde_json::Value::Object(map) => {
            if let Ok(kept) = serde_json::from_value::<Kept>(detail.clone()) {
                out.push(kept);
                return;
            }
            map.values().for_each(|v| kept_in(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| kept_in(v, out)),
        _ => {}
    }
}

/// The stored reasons against the chain (`journal verify`): each stored one
/// must hash to the latest hash an event of its appeal keeps of it; each one
/// the chain keeps must be stored, unless its appeal was destroyed since.
pub async fn check(tx: &mut Tx, events: &[EventRow]) -> Result<Vec<Finding>> {
    let mut expected: BTreeMap<(i64, i64), String> = BTreeMap::new();
    for e in events {
        let Ok(detail) = serde_json::from_str::<serde_json::Value>(&e.detail) else {
            continue;
        };
        if e.kind == super::DESTROYED {
            expected.retain(|(appeal, _), _| *appeal != e.appeal_id);
            continue;
        }
        let mut kept = Vec::new();
        kept_in(&detail, &mut kept);
        for k in kept {
            expected.insert((e.appeal_id, k.kept_reason), k.sha256);
        }
    }
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT appeal_id, seq, salt, plain, envelope FROM appeal_reasons ORDER BY appeal_id, seq",
    )
    .fetch_all(conn)
    .await)?;
    let mut findings = Vec::new();
    let finding = |appeal: i64, seq: i64, problem: &str| Finding {
        what: format!("appeal {appeal}, reason {seq}"),
        problem: problem.into(),
    };
    for row in &rows {
        match expected.remove(&(row.appeal_id, row.seq)) {
            Some(hash) if hash == row.digest() => {}
            Some(_) => findings.push(finding(
                row.appeal_id,
                row.seq,
                "its stored reason is not the one the audit chain names (edited)",
            )),
            None => findings.push(finding(
                row.appeal_id,
                row.seq,
                "a stored reason no event of the audit chain names (added outside the Journal)",
            )),
        }
    }
    for (appeal, seq) in expected.into_keys() {
        findings.push(finding(
            appeal,
            seq,
            "a reason the audit chain names is not stored (deleted outside the Journal)",
        ));
    }
    Ok(findings)
}
