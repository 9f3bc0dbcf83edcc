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

use super::store::{COLUMNS, Row, store_seals};
use super::{Deadline, DeadlineError, Deadlines, Result};
use crate::authority::{Authority, PublicKey, Purpose};
use crate::db::Tx;
use crate::journal::AppealId;
use crate::journal::audit::Finding;
use crate::{on_db, on_tx};

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

impl Deadlines {
    /// Every deadline row of appeal `id`, in `tx`, oldest first.
    pub(super) async fn rows_in(&self, tx: &mut Tx, id: i64) -> Result<Vec<Deadline>> {
        let sql = format!("SELECT {COLUMNS} FROM deadlines WHERE appeal_id = $1 ORDER BY id");
        let rows: Vec<Row> =
            on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_all(conn).await)?;
        rows.into_iter().map(Deadline::try_from).collect()
    }

    /// Refuses to write on appeal `id`'s deadlines when they disagree with their
    /// seal: what was changed outside Senim is never signed over.
    pub(super) async fn check_in(&self, tx: &mut Tx, id: i64) -> Result<()> {
        if self.authority.is_none() {
            return Ok(());
        }
        let rows = self.rows_in(tx, id).await?;
        let stored: Option<Seal> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT appeal_id, rows, signature FROM deadline_seals WHERE appeal_id = $1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await)?;
        self.verdict(id, &rows, stored.as_ref())
    }

    /// `Err(Tampered)` if appeal `id`'s deadlines `rows` disagree with its seal.
    fn verdict(&self, id: i64, rows: &[Deadline], stored: Option<&Seal>) -> Result<()> {
        if stored.is_none() && rows.is_empty() {
            return Ok(());
        }
        let rows: Vec<&Deadline> = rows.iter().collect();
        let problems = problems(id, &rows, stored, &self.keys);
        match problems.first() {
            None => Ok(()),
            Some(first) => {
                tracing::error!(
                    appeal = id,
                    findings = problems.len(),
                    "deadlines changed outside Senim"
                );
                Err(DeadlineError::Tampered(format!(
                    "{}: {}",
                    first.what, first.problem
                )))
            }
        }
    }

    /// Signs appeal `id`'s deadlines as they now are, in `tx`.
    pub(super) async fn seal_in(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let Some(authority) = &self.authority else {
            return Ok(());
        };
        let rows = self.rows_in(tx, id).await?;
        store_seals(tx, &[seal(authority, id, &rows)]).await
    }

    /// Signs, as they are, the deadlines of the appeals `appeals` that have no
    /// seal yet: those from before the chain turned public (the upgrade), once,
    /// in the transaction that turns it (`OnRegistered::on_chain_signed_in`).
    pub(super) async fn adopt_in(&self, tx: &mut Tx, appeals: &[AppealId]) -> Result<()> {
        let Some(authority) = &self.authority else {
            return Ok(());
        };
        let sealed: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT appeal_id FROM deadline_seals",
        )
        .fetch_all(conn)
        .await)?;
        let sealed: std::collections::HashSet<i64> = sealed.into_iter().collect();
        let sql = format!("SELECT {COLUMNS} FROM deadlines ORDER BY appeal_id, id");
        let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
        let mut by_appeal: std::collections::HashMap<i64, Vec<Deadline>> =
            std::collections::HashMap::new();
        for row in rows {
            let d = Deadline::try_from(row)?;
            by_appeal.entry(d.appeal_id.0).or_default().push(d);
        }
        let seals: Vec<Seal> = appeals
            .iter()
            .filter(|a| !sealed.contains(&a.0))
            .map(|a| {
                let rows = by_appeal.remove(&a.0).unwrap_or_default();
                seal(authority, a.0, &rows)
            })
            .collect();
        for chunk in seals.chunks(100) {
            store_seals(tx, chunk).await?;
        }
        if !seals.is_empty() {
            tracing::info!(
                appeals = seals.len(),
                "deadlines from before the signing key signed as they are"
            );
        }
        Ok(())
    }

    /// Refuses deadlines read for the board, the digest or an appeal's page
    /// whose appeals' seals disagree with them.
    pub(super) async fn checked(&self, deadlines: Vec<Deadline>) -> Result<Vec<Deadline>> {
        if self.authority.is_none() || deadlines.is_empty() {
            return Ok(deadlines);
        }
        let appeals: std::collections::BTreeSet<i64> =
            deadlines.iter().map(|d| d.appeal_id.0).collect();
        let sql = format!("SELECT {COLUMNS} FROM deadlines WHERE appeal_id = $1 ORDER BY id");
        for id in appeals {
            // All the appeal's rows: its seal lists them all.
            let rows: Vec<Row> =
                on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_all(pool).await)?;
            let rows = rows
                .into_iter()
                .map(Deadline::try_from)
                .collect::<Result<Vec<_>>>()?;
            let stored: Option<Seal> = on_db!(&self.db, pool => sqlx::query_as(
                "SELECT appeal_id, rows, signature FROM deadline_seals WHERE appeal_id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await)?;
            self.verdict(id, &rows, stored.as_ref())?;
        }
        Ok(deadlines)
    }

    /// Every deadline against its appeal's seal, checked with `keys` (the
    /// installation's, or an auditor's): each row edited, added or deleted
    /// outside Senim, and each appeal of `appeals` (the Journal's, once its chain
    /// is public: each has a seal) without its seal. `senim journal verify`.
    pub async fn check(&self, appeals: &[AppealId], keys: &[PublicKey]) -> Result<Vec<Finding>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {COLUMNS} FROM deadlines ORDER BY appeal_id, id");
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        let seals: Vec<Seal> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT appeal_id, rows, signature FROM deadline_seals",
        )
        .fetch_all(pool)
        .await)?;
        let rows = rows
            .into_iter()
            .map(Deadline::try_from)
            .collect::<Result<Vec<_>>>()?;
        let mut ids: std::collections::BTreeSet<i64> = appeals.iter().map(|a| a.0).collect();
        ids.extend(rows.iter().map(|d| d.appeal_id.0));
        ids.extend(seals.iter().map(|s| s.appeal_id));
        let mut findings = Vec::new();
        for id in ids {
            let of: Vec<&Deadline> = rows.iter().filter(|d| d.appeal_id.0 == id).collect();
            let sealed = seals.iter().find(|s| s.appeal_id == id);
            if sealed.is_none() && of.is_empty() {
                findings.push(Finding {
                    what: format!("deadlines of appeal {id}"),
                    problem: "have no signed list: deleted outside Senim".into(),
                });
                continue;
            }
            findings.extend(problems(id, &of, sealed, keys));
        }
        Ok(findings)
    }
}
