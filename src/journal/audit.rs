//! The Journal's append-only audit log: every change to an appeal is an event whose
//! hash covers the previous event's hash and the appeal's state after the change,
//! so `senim journal verify` finds any edited or deleted row.
//!
//! Keyed: with `journal.chain_key_file`, a secret kept outside the database, each
//! event's hash is an HMAC-SHA256 under that key (`ChainKey`), so whoever holds
//! only the database (its administrator, a backup) cannot recompute the chain
//! after rewriting it. `audit_head.keyed` records that the chain is keyed; a keyed
//! chain cannot be written or checked without the key, and with a key configured
//! an unkeyed chain is a finding. `senim journal key-chain` keys an existing chain
//! once, after verifying it.
//!
//! Published heads: `SignedHead` is the chain's head (sequence number and hash)
//! with an Ed25519 signature by a key derived from the chain key; auditors keep
//! the heads outside the database (`senim journal publish-head`), and
//! `verify --heads` checks that the chain still passes through each of them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::appeal::{Appeal, AppealId};
use crate::db::Tx;
use crate::on_tx;

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The secret that keys the chain (`journal.chain_key_file`): never in the database.
#[derive(Clone)]
pub struct ChainKey(Vec<u8>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<secret>)")
    }
}

/// What a chain key file must hold at least: 32 bytes (e.g. `openssl rand -hex 32`).
pub const CHAIN_KEY_MIN_BYTES: usize = 32;

impl ChainKey {
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<ChainKey, String> {
        let secret = secret.into();
        if secret.len() < CHAIN_KEY_MIN_BYTES {
            return Err(format!(
                "the chain key must be at least {CHAIN_KEY_MIN_BYTES} bytes (e.g. openssl rand -hex 32)"
            ));
        }
        Ok(ChainKey(secret))
    }

    /// Reads the key from a file (trailing newline removed).
    pub fn from_file(path: &Path) -> Result<ChainKey, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let end = bytes
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        ChainKey::new(&bytes[..end]).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn mac(&self, parts: &[&str]) -> String {
        // HMAC takes a key of any length; `new` checked the length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The intake key (sealing's keyed hashes and what the daemon reads back
    /// itself), derived from the chain key.
    pub fn intake_key(&self) -> crate::sealing::IntakeKey {
        crate::sealing::IntakeKey::derive(&self.0)
    }

    /// The installation's signing key where `journal.signing_key_file` is not set:
    /// derived from the chain key (the key that signed published heads before the
    /// two were separated, so those heads still verify).
    pub fn derived_authority(&self) -> Result<crate::authority::Authority, String> {
        let seed =
            hex::decode(self.mac(&["senim head signing key v1"])).map_err(|e| e.to_string())?;
        crate::authority::Authority::from_seed(&seed).map_err(|e| e.to_string())
    }

    /// The Ed25519 key that signs published heads, derived from the chain key.
    fn head_signer(&self) -> Result<ring::signature::Ed25519KeyPair, String> {
        let seed =
            hex::decode(self.mac(&["senim head signing key v1"])).map_err(|e| e.to_string())?;
        ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|e| e.to_string())
    }

    /// The public key auditors check published heads with (hex).
    pub fn head_public_key(&self) -> Result<String, String> {
        use ring::signature::KeyPair;
        Ok(hex::encode(self.head_signer()?.public_key().as_ref()))
    }
}

/// The chain's head as read (and locked) at the start of a Journal write, with
/// the key its events are hashed under (none for an unkeyed chain).
#[derive(Clone, Debug)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub key: Option<Arc<ChainKey>>,
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

/// How an event row is read: `SELECT {EVENT_COLUMNS} FROM appeal_events …`.
pub const EVENT_COLUMNS: &str =
    "seq, appeal_id, at, actor, kind, detail, state_hash, prev_hash, hash";

impl EventRow {
    /// The event's hash were it to follow `prev_hash`, under `key` (none: SHA-256):
    /// what `verify` checks it against and what `key-chain` writes.
    pub fn hash_after(&self, key: Option<&ChainKey>, prev_hash: &str) -> String {
        event_hash(
            key,
            prev_hash,
            self.seq,
            self.appeal_id,
            self.at,
            &self.actor,
            &self.kind,
            &self.detail,
            &self.state_hash,
        )
    }
}

/// Locks the chain's head for this transaction and returns it. Every Journal write
/// calls this first: it serialises writers, so the chain is a single line.
/// Also returns whether the stored chain is keyed (`key` is the configured key)
/// and the office key generation the Journal seals to (0: none).
pub async fn lock_head(
    tx: &mut Tx,
    key: Option<Arc<ChainKey>>,
) -> Result<(Head, bool, i64), sqlx::Error> {
    let (seq, hash, keyed, generation): (i64, String, bool, i64) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash, keyed, seal_generation",
    )
    .fetch_one(conn)
    .await)?;
    Ok((Head { seq, hash, key }, keyed, generation))
}

/// Marks an empty chain keyed: its first event will be hashed under the key.
pub async fn mark_keyed(tx: &mut Tx) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => sqlx::query("UPDATE audit_head SET keyed = TRUE WHERE id = 1 AND seq = 0")
        .execute(conn)
        .await
        .map(|_| ()))
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
        head.key.as_deref(),
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
    head.seq = seq;
    head.hash = hash;
    Ok(())
}

/// Records the office key generation the Journal now seals to (`keys init`,
/// `keys rotate`), in the chain's head row.
pub async fn store_seal_generation(tx: &mut Tx, generation: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => sqlx::query("UPDATE audit_head SET seal_generation = $1 WHERE id = 1")
        .bind(generation)
        .execute(conn)
        .await
        .map(|_| ()))
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

/// An event's hash: SHA-256, or HMAC-SHA256 under the chain key, of its fields
/// (each length-prefixed). Public, so a test can play the forger who knows the
/// algorithm but not the key.
#[allow(clippy::too_many_arguments)]
pub fn event_hash(
    key: Option<&ChainKey>,
    prev_hash: &str,
    seq: i64,
    appeal_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    kind: &str,
    detail: &str,
    state_hash: &str,
) -> String {
    let parts = [
        prev_hash,
        &seq.to_string(),
        &appeal_id.to_string(),
        &at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        kind,
        detail,
        state_hash,
    ];
    if let Some(key) = key {
        return key.mac(&parts);
    }
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The chain's head as published for auditors: kept outside the database, it
/// pins the chain up to `seq` (a rewrite of any event up to it changes `hash`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The Ed25519 public key of the signer (hex): `senim journal head-key`.
    pub public_key: String,
    /// Ed25519 over `SignedHead::message` (hex).
    pub signature: String,
}

impl SignedHead {
    fn message(seq: i64, hash: &str, at: DateTime<Utc>) -> String {
        format!(
            "senim journal head v1\n{seq}\n{hash}\n{}",
            at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// Signs the head `seq`/`hash` as of `at`.
    pub fn sign(
        key: &ChainKey,
        seq: i64,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Result<SignedHead, String> {
        use ring::signature::KeyPair;
        let signer = key.head_signer()?;
        let signature = signer.sign(Self::message(seq, hash, at).as_bytes());
        Ok(SignedHead {
            seq,
            hash: hash.to_owned(),
            at,
            public_key: hex::encode(signer.public_key().as_ref()),
            signature: hex::encode(signature.as_ref()),
        })
    }

    /// Whether the signature is `public_key`'s over this head.
    pub fn signed_by(&self, public_key: &str) -> bool {
        let (Ok(key), Ok(signature)) = (hex::decode(public_key), hex::decode(&self.signature))
        else {
            return false;
        };
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
            .verify(
                Self::message(self.seq, &self.hash, self.at).as_bytes(),
                &signature,
            )
            .is_ok()
    }
}

/// Checks published heads against the stored events: each must be signed by
/// `public_key` and name an event whose hash it gives.
pub fn check_heads(heads: &[SignedHead], events: &[EventRow], public_key: &str) -> Vec<Finding> {
    let by_seq: BTreeMap<i64, &str> = events.iter().map(|e| (e.seq, e.hash.as_str())).collect();
    let mut findings = Vec::new();
    for h in heads {
        let what = format!(
            "published head {} of {}",
            h.seq,
            h.at.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        if !h.signed_by(public_key) {
            findings.push(Finding {
                what,
                problem: "is not signed by this chain's key (forged, or another installation's)"
                    .into(),
            });
            continue;
        }
        match by_seq.get(&h.seq) {
            None if h.seq == 0 => {}
            None => findings.push(Finding {
                what,
                problem: "names an event the log no longer has: events were deleted".into(),
            }),
            Some(hash) if *hash != h.hash => findings.push(Finding {
                what,
                problem: "does not match the log: the chain was rewritten up to it".into(),
            }),
            Some(_) => {}
        }
    }
    findings
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
/// `keyed` is what the database says of the chain; `head.key` the configured key.
pub fn verify(events: &[EventRow], head: &Head, keyed: bool, appeals: &[Appeal]) -> VerifyReport {
    let mut report = VerifyReport {
        events: events.len() as u64,
        appeals: appeals.len() as u64,
        findings: Vec::new(),
    };
    let mut finding =
        |what: String, problem: String| report.findings.push(Finding { what, problem });
    if head.key.is_some() && !keyed {
        finding(
            "chain".into(),
            "is not keyed though journal.chain_key_file is set: it was rewritten without the key, \
             or `senim journal key-chain` was never run"
                .into(),
        );
    }
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
        if e.hash_after(head.key.as_deref().filter(|_| keyed), &e.prev_hash) != e.hash {
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
