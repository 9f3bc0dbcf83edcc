//! The deadlines' signatures (`deadline_seals`): one per appeal, by the
//! installation's signing key (`crate::authority`), over the list of the appeal's
//! deadline rows, each by its id, kind and the SHA-256 of its whole content
//! (start, due, extension, met, ended). So a database administrator can neither
//! edit a row (move `due_on`, set `met_on`), nor delete one, nor add one, without
//! `senim journal verify` naming it; and every write of an appeal's deadlines
//! checks the seal first and signs the result, so an edit made outside Senim is
//! refused loudly, never adopted. The board, the digest and an appeal's page check
//! the appeals they show. Deadlines from before the signing key are adopted as
//! they are when the chain turns public (`journal::OnRegistered::on_chain_signed_in`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Deadline;
use crate::authority::{Authority, PublicKey, Purpose};
use crate::journal::audit::Finding;

/// What a seal's signature is for.
pub const DEADLINES: Purpose = Purpose::new("senim deadlines v1");

/// One row as its appeal's seal lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Listed {
    id: i64,
    kind: String,
    sha256: String,
}

/// An appeal's seal as stored: the listed rows (JSON) and the signature.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Seal {
    pub appeal_id: i64,
    pub rows: String,
    pub signature: String,
}

/// The SHA-256 of a row's whole content, each field length-prefixed.
fn row_hash(d: &Deadline) -> String {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let parts = [
        d.id.to_string(),
        d.appeal_id.0.to_string(),
        d.kind.as_str().to_owned(),
        d.started_on.to_string(),
        d.due_on.to_string(),
        d.extended.to_string(),
        d.reason.clone().unwrap_or_default(),
        date(d.met_on),
        date(d.ended_on),
        d.ended_by.clone().unwrap_or_default(),
    ];
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The seal of appeal `appeal_id`'s deadlines `rows`, signed by `authority`.
pub fn seal(authority: &Authority, appeal_id: i64, rows: &[Deadline]) -> Seal {
    let mut listed: Vec<Listed> = rows
        .iter()
        .map(|d| Listed {
            id: d.id,
            kind: d.kind.as_str().to_owned(),
            sha256: row_hash(d),
        })
        .collect();
    listed.sort_by_key(|l| l.id);
    let rows = serde_json::to_string(&listed).unwrap_or_default();
    let id = appeal_id.to_be_bytes();
    let signature = authority.sign(DEADLINES, &[&id, rows.as_bytes()]);
    Seal {
        appeal_id,
        rows,
        signature,
    }
}

/// What is wrong with appeal `appeal_id`'s deadlines `rows` against its seal,
/// checked with `keys` (the signing key's public half; an auditor's).
pub fn problems(
    appeal_id: i64,
    rows: &[&Deadline],
    seal: Option<&Seal>,
    keys: &[PublicKey],
) -> Vec<Finding> {
    let row_name = |id: i64, kind: &str| format!("deadline {id} ({kind}, appeal {appeal_id})");
    let Some(seal) = seal else {
        return rows
            .iter()
            .map(|d| Finding {
                what: row_name(d.id, d.kind.as_str()),
                problem: "is not signed: added outside Senim, or its appeal's signed list of \
                          deadlines deleted"
                    .into(),
            })
            .collect();
    };
    // The appeal's id is signed: a seal of one appeal never passes for another's.
    let id = appeal_id.to_be_bytes();
    let message: [&[u8]; 2] = [&id, seal.rows.as_bytes()];
    let listed: Option<Vec<Listed>> = serde_json::from_str(&seal.rows).ok();
    let (true, Some(listed)) = (
        keys.iter()
            .any(|k| k.verifies(DEADLINES, &message, &seal.signature)),
        listed,
    ) else {
        return vec![Finding {
            what: format!("deadlines of appeal {appeal_id}"),
            problem: "their signed list does not verify: changed outside Senim".into(),
        }];
    };
    let mut findings = Vec::new();
    for d in rows {
        match listed.iter().find(|l| l.id == d.id) {
            None => findings.push(Finding {
                what: row_name(d.id, d.kind.as_str()),
                problem: "was added outside Senim (its appeal's signed list does not have it)"
                    .into(),
            }),
            Some(l) if l.sha256 != row_hash(d) || l.kind != d.kind.as_str() => {
                findings.push(Finding {
                    what: row_name(d.id, d.kind.as_str()),
                    problem: format!(
                        "was edited outside Senim (due {}, met {}, ended {} now: not what was signed)",
                        d.due_on,
                        d.met_on.map_or_else(|| "-".into(), |m| m.to_string()),
                        d.ended_on.map_or_else(|| "-".into(), |m| m.to_string()),
                    ),
                })
            }
            Some(_) => {}
        }
    }
    for l in &listed {
        if !rows.iter().any(|d| d.id == l.id) {
            findings.push(Finding {
                what: row_name(l.id, &l.kind),
                problem: "was deleted outside Senim".into(),
            });
        }
    }
    findings
}
