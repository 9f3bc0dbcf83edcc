//! The Journal's sealed values (10.5, 10.14): an appeal's identity and text as
//! envelopes (`appeal_envelopes`), one per write, each an age file to the office and
//! escrow keys (`sealing`). The `appeals` row keeps only what may be plain (number,
//! instants, channel, category, status, flags) and `sealed_digest`, a hash chain of
//! its envelopes that the audit state covers.
//!
//! - A write seals only what it was given (`Confidential`): intake cannot read what
//!   is stored, so it never merges; a reader opens the envelopes in order and later
//!   fields override earlier ones.
//! - The audit log records the names of the fields written and the envelope's
//!   SHA-256, never a value.
//! - A plain Journal is sealed in place at `senim keys init` (`seal_existing_in`),
//!   and every envelope resealed at a rotation (`reseal_in`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use chrono::SubsecRound;

use super::appeal::{self, Appeal, Reporter};
use super::audit::{self, Finding};
use super::{Journal, JournalError, RESEALED, Result, SEALED, reasons, store};
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::rows_affected_in;
use crate::sealing::{Sealed, Sealer, Unlocked};
use crate::{on_db, on_tx};

/// Declares a struct holding the seven details of an appeal a person writes
/// (`None`: not given), each with the attributes `$field`, then `$extra`: the one
/// list of them for an envelope (`Confidential`), the operator's notes, a
/// correction, the CLI's options and the console's form.
#[macro_export]
macro_rules! appeal_details {
    ($(#[$field:meta])* ; $(#[$meta:meta])* $vis:vis struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $(#[$field])*
            pub name: Option<String>,
            $(#[$field])*
            pub organisation: Option<String>,
            /// Postal address for the reply.
            $(#[$field])*
            pub postal_address: Option<String>,
            /// Phone number for feedback.
            $(#[$field])*
            pub phone: Option<String>,
            $(#[$field])*
            pub email: Option<String>,
            $(#[$field])*
            pub subject: Option<String>,
            /// What the caller reported.
            $(#[$field])*
            pub substance: Option<String>,
            $($extra)*
        }
    };
}

/// Moves the seven details (`appeal_details!`) of `$from` into a `$to`, with the
/// fields `$extra` of its own.
#[macro_export]
macro_rules! move_details {
    ($from:expr => $to:ident { $($extra:tt)* }) => {{
        let d = $from;
        $to {
            name: d.name,
            organisation: d.organisation,
            postal_address: d.postal_address,
            phone: d.phone,
            email: d.email,
            subject: d.subject,
            substance: d.substance,
            $($extra)*
        }
    }};
}

/// A `$to` whose seven details (`appeal_details!`) are `$f` of the same detail
/// of `$a` and of `$b` (each by reference), with the fields `$extra` of its own.
#[macro_export]
macro_rules! zip_details {
    ($a:expr, $b:expr, $f:expr => $to:ident { $($extra:tt)* }) => {{
        let (a, b, f) = (&$a, &$b, $f);
        $to {
            name: f(&a.name, &b.name),
            organisation: f(&a.organisation, &b.organisation),
            postal_address: f(&a.postal_address, &b.postal_address),
            phone: f(&a.phone, &b.phone),
            email: f(&a.email, &b.email),
            subject: f(&a.subject, &b.subject),
            substance: f(&a.substance, &b.substance),
            $($extra)*
        }
    }};
}

crate::appeal_details! {
    #[serde(default, skip_serializing_if = "Option::is_none")];
    /// What one envelope holds: the confidential fields written at once. `None`: not
    /// written by this envelope (an earlier one's value stands).
    #[derive(Clone, Default, Serialize, Deserialize)]
    pub struct Confidential {}
}

impl std::fmt::Debug for Confidential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Confidential({:?})", self.written())
    }
}

impl Confidential {
    /// The fields of a reporter and a text, as written (blank ones too: a blank
    /// field written clears it).
    pub fn of(
        reporter: Option<&Reporter>,
        subject: Option<&String>,
        substance: Option<&String>,
    ) -> Confidential {
        let r = reporter.cloned().unwrap_or_default();
        Confidential {
            name: r.name,
            organisation: r.organisation,
            postal_address: r.postal_address,
            phone: r.phone,
            email: r.email,
            subject: subject.cloned(),
            substance: substance.cloned(),
        }
    }

    /// Every field of `appeal`, a missing one written blank: the last envelope of
    /// an appeal whose earlier ones hold values since corrected away, so none of
    /// them comes back when the envelopes are opened in order.
    pub fn every_field_of(appeal: &Appeal) -> Confidential {
        let r = &appeal.reporter;
        let v = |f: &Option<String>| Some(f.clone().unwrap_or_default());
        Confidential {
            name: v(&r.name),
            organisation: v(&r.organisation),
            postal_address: v(&r.postal_address),
            phone: v(&r.phone),
            email: v(&r.email),
            subject: v(&appeal.subject),
            substance: v(&appeal.substance),
        }
    }

    /// The values `appeal` holds of the fields `written` writes (blank where it
    /// holds none): what a correction replaces, kept as the law's record.
    pub fn earlier_of(appeal: &Appeal, written: &Confidential) -> Confidential {
        let was = |w: &Option<String>, v: &Option<String>| {
            w.as_ref().map(|_| v.clone().unwrap_or_default())
        };
        crate::zip_details!(written, Confidential::every_field_of(appeal), was => Confidential {})
    }

    /// The names of the fields written, as the audit log names them.
    pub fn written(&self) -> Vec<&'static str> {
        [
            ("reporter.name", &self.name),
            ("reporter.organisation", &self.organisation),
            ("reporter.postal_address", &self.postal_address),
            ("reporter.phone", &self.phone),
            ("reporter.email", &self.email),
            ("subject", &self.subject),
            ("substance", &self.substance),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.is_some().then_some(name))
        .collect()
    }

    /// Whether it names the reporter (a name or an organisation, not blank).
    pub fn names_reporter(&self) -> bool {
        given(&self.name) || given(&self.organisation)
    }

    /// Whether it gives an address for the reply (postal or e-mail, not blank).
    pub fn gives_return_address(&self) -> bool {
        given(&self.postal_address) || given(&self.email)
    }

    /// The text written (subject and substance), for the words found at intake.
    pub fn text(&self) -> String {
        appeal::join_text(self.subject.as_deref(), self.substance.as_deref())
    }

    /// Writes the fields this envelope holds into `appeal` (cleaned, as the plain
    /// Journal stores them).
    pub fn apply_to(self, appeal: &mut Appeal) {
        let set = |field: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *field = appeal::clean(value);
            }
        };
        let r = &mut appeal.reporter;
        set(&mut r.name, self.name);
        set(&mut r.organisation, self.organisation);
        set(&mut r.postal_address, self.postal_address);
        set(&mut r.phone, self.phone);
        set(&mut r.email, self.email);
        set(&mut appeal.subject, self.subject);
        set(&mut appeal.substance, self.substance);
    }
}

fn given(field: &Option<String>) -> bool {
    field.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// The next link of an appeal's envelope chain: SHA-256 of the previous digest and
/// the new envelope's.
pub fn next_digest(previous: Option<&str>, envelope: &Sealed) -> String {
    chain_digest(previous, &envelope.digest())
}

fn chain_digest(previous: Option<&str>, envelope_digest: &str) -> String {
    let mut h = Sha256::new();
    h.update(previous.unwrap_or("").as_bytes());
    h.update(b":");
    h.update(envelope_digest.as_bytes());
    hex::encode(h.finalize())
}

/// Seals `fields` (the sealer must be on).
pub fn seal(sealer: &Sealer, fields: &Confidential) -> Result<Sealed> {
    let json = serde_json::to_vec(fields)
        .map_err(|e| JournalError::Corrupt(format!("cannot serialise sealed fields: {e}")))?;
    sealer
        .seal(&json)?
        .ok_or_else(|| JournalError::Corrupt("sealing was switched off during a write".into()))
}

/// Stores `envelope` as appeal `id`'s next one (`first`: a new appeal's, which
/// has none before it).
pub async fn insert_envelope(
    tx: &mut Tx,
    id: i64,
    fields: &Confidential,
    envelope: &Sealed,
    first: bool,
) -> Result<()> {
    let seq: i64 = if first {
        1
    } else {
        on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM appeal_envelopes WHERE appeal_id = $1",
        )
        .bind(id)
        .fetch_one(conn)
        .await)?
    };
    execute_in!(tx, sqlx::query(
        "INSERT INTO appeal_envelopes (appeal_id, seq, generation, fields, envelope) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(seq)
    .bind(envelope.generation)
    .bind(fields.written().join(","))
    .bind(&envelope.bytes))?;
    Ok(())
}

/// Appeal `id`'s envelopes in order: (seq, generation, fields written, bytes).
pub async fn envelopes_in(tx: &mut Tx, id: i64) -> Result<Vec<(i64, i64, String, Vec<u8>)>> {
    Ok(on_tx!(tx, conn => sqlx::query_as(
        "SELECT seq, generation, fields, envelope FROM appeal_envelopes WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(conn)
    .await)?)
}

/// Appeal `id`'s envelopes in order, read outside a transaction.
pub async fn envelopes(db: &Db, id: i64) -> Result<Vec<(i64, i64, String, Vec<u8>)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT seq, generation, fields, envelope FROM appeal_envelopes WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await)?)
}

/// The names of the fields appeal `id`'s envelopes hold, each once.
pub async fn fields_in(tx: &mut Tx, id: i64) -> Result<Vec<String>> {
    let mut names: Vec<String> = envelopes_in(tx, id)
        .await?
        .into_iter()
        .flat_map(|(_, _, fields, _)| {
            fields
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Deletes appeal `id`'s envelopes (destruction under the records schedule).
pub async fn delete_envelopes(tx: &mut Tx, id: i64) -> Result<u64> {
    Ok(rows_affected_in!(
        tx,
        sqlx::query("DELETE FROM appeal_envelopes WHERE appeal_id = $1").bind(id)
    )?)
}

/// `appeal` with its identity and text opened from `envelopes` (in order).
pub fn open_into(
    mut appeal: Appeal,
    envelopes: &[(i64, i64, String, Vec<u8>)],
    unlocked: &Unlocked,
) -> Result<Appeal> {
    for (seq, _, _, bytes) in envelopes {
        let plain = unlocked.open(bytes)?;
        let fields: Confidential = serde_json::from_slice(&plain).map_err(|e| {
            JournalError::Corrupt(format!("appeal {} envelope {seq}: {e}", appeal.id))
        })?;
        fields.apply_to(&mut appeal);
    }
    Ok(appeal)
}

/// Every appeal's envelope chain digest, computed from the envelopes as stored
/// (what `verify` checks each `sealed_digest` against).
pub async fn all_digests_in(tx: &mut Tx) -> Result<BTreeMap<i64, String>> {
    let rows: Vec<(i64, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT appeal_id, envelope FROM appeal_envelopes ORDER BY appeal_id, seq",
    )
    .fetch_all(conn)
    .await)?;
    let mut digests: BTreeMap<i64, String> = BTreeMap::new();
    for (id, bytes) in rows {
        let next = chain_digest(
            digests.get(&id).map(String::as_str),
            &hex::encode(Sha256::digest(&bytes)),
        );
        digests.insert(id, next);
    }
    Ok(digests)
}

/// The appeals whose envelopes, as stored, are not those their audited state
/// names: replaced, reordered, deleted or added outside the Journal.
pub fn check_digests(appeals: &[Appeal], stored: &BTreeMap<i64, String>) -> Vec<Finding> {
    appeals
        .iter()
        .filter(|a| a.sealed.as_ref() != stored.get(&a.id.0))
        .map(|a| Finding {
            what: format!("appeal {} ({})", a.registration_number, a.id),
            problem: "its sealed values are not those its audit state names (envelopes replaced or deleted)"
                .into(),
        })
        .collect()
}

/// An envelope resealed to generation `generation` of the office key.
async fn reseal_envelope_in(
    tx: &mut Tx,
    id: i64,
    seq: i64,
    generation: i64,
    resealed: &Sealed,
) -> Result<()> {
    execute_in!(tx, sqlx::query(
        "UPDATE appeal_envelopes SET generation = $1, envelope = $2 WHERE appeal_id = $3 AND seq = $4",
    )
    .bind(generation)
    .bind(&resealed.bytes)
    .bind(id)
    .bind(seq))?;
    Ok(())
}

impl Journal {
    /// Seals every plain appeal in place (`senim keys init`), in the caller's
    /// transaction, after the sealer took the new key (`Sealer::use_recipients`):
    /// each gets one envelope of what its row held, its row loses identity and
    /// text, and a `sealed` event records the new state, so `verify` stays green.
    pub async fn seal_existing_in(&self, tx: &mut Tx, actor: &str) -> Result<u64> {
        let Some(generation) = self.sealer.current_generation() else {
            return Err(JournalError::Corrupt("no office key to seal to".into()));
        };
        let mut chain = self.lock_chain(tx).await?;
        let plains = store::plain_appeals_in(tx).await?;
        let now = self.clock.now().trunc_subsecs(6);
        let mut sealed_count = 0;
        for plain in plains {
            if store::was_destroyed_in(tx, plain.id).await? {
                continue;
            }
            // The earlier values of its corrections first, oldest first, so
            // the record stays; then the current values, every field written
            // when there are earlier ones (a value corrected away stays away).
            let earlier = store::earlier_values_in(tx, plain.id).await?;
            let fields = if earlier.is_empty() {
                Confidential::of(
                    Some(&plain.reporter),
                    plain.subject.as_ref(),
                    plain.substance.as_ref(),
                )
            } else {
                Confidential::every_field_of(&plain)
            };
            let mut digest: Option<String> = None;
            for values in &earlier {
                let envelope = seal(&self.sealer, values)?;
                insert_envelope(tx, plain.id.0, values, &envelope, digest.is_none()).await?;
                digest = Some(next_digest(digest.as_deref(), &envelope));
            }
            store::delete_earlier_values_in(tx, plain.id).await?;
            let envelope = seal(&self.sealer, &fields)?;
            insert_envelope(tx, plain.id.0, &fields, &envelope, digest.is_none()).await?;
            let digest = next_digest(digest.as_deref(), &envelope);
            let terms = self.terms_in(&plain.text());
            let email_tag = plain
                .reporter
                .email
                .as_deref()
                .and_then(|e| self.email_tag(e));
            store::seal_row_in(tx, plain.id, &digest, email_tag.as_deref(), &terms).await?;
            let kept = reasons::seal_existing_in(tx, &self.sealer, plain.id).await?;
            let appeal = self.get_in(tx, plain.id).await?;
            let mut detail = serde_json::json!({
                "sealed": fields.written(),
                "envelope": envelope.digest(),
                "generation": generation,
                "earlier": earlier.len(),
            });
            if !kept.is_empty() {
                detail["reasons"] = serde_json::json!(kept);
            }
            audit::append(tx, &mut chain.head, &appeal, now, actor, SEALED, &detail).await?;
            sealed_count += 1;
        }
        audit::store_seal_generation(tx, generation).await?;
        chain.finish(tx).await?;
        Ok(sealed_count)
    }

    /// Reseals every envelope to a new generation of the office key (`senim keys
    /// rotate`, `remove-reader`), in the rotation's transaction: each appeal's
    /// digest changes, so each gets a `resealed` event.
    pub async fn reseal_in(
        &self,
        tx: &mut Tx,
        rotation: &crate::sealing::keys::Rotation,
        unlocked: &Unlocked,
        actor: &str,
    ) -> Result<u64> {
        let mut chain = self.lock_chain(tx).await?;
        let ids = store::sealed_ids_in(tx).await?;
        let now = self.clock.now().trunc_subsecs(6);
        let generation = rotation.recipients.generation;
        for &id in &ids {
            let mut digest: Option<String> = None;
            for (seq, _, _, bytes) in envelopes_in(tx, id.0).await? {
                let resealed = rotation.reseal(unlocked, &bytes)?;
                reseal_envelope_in(tx, id.0, seq, generation, &resealed).await?;
                digest = Some(next_digest(digest.as_deref(), &resealed));
            }
            store::set_digest_in(tx, id, digest.as_deref()).await?;
            let kept = reasons::reseal_in(tx, rotation, unlocked, id).await?;
            let appeal = self.get_in(tx, id).await?;
            let mut detail = serde_json::json!({ "generation": generation });
            if !kept.is_empty() {
                detail["reasons"] = serde_json::json!(kept);
            }
            audit::append(tx, &mut chain.head, &appeal, now, actor, RESEALED, &detail).await?;
        }
        audit::store_seal_generation(tx, generation).await?;
        chain.finish(tx).await?;
        Ok(ids.len() as u64)
    }
}
