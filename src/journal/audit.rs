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
//! Public from a switch point: once the installation has a signing key
//! (`crate::authority::Authority`: `journal.signing_key_file`, else derived from
//! the chain key), the first write hashes every new event with plain SHA-256 and
//! records the first such event (`audit_head.public_from`); from then on every
//! write signs the head (`audit_head.head_signature`: `HEAD` over the sequence
//! number, the hash, the switch point and whether the events before it are
//! keyed). So anyone with the public key checks the chain (`verify` with
//! `Checker::Auditor`), and nobody without the signing key can move the head:
//! events appended with recomputed hashes, or a head set by hand, do not verify.
//! Events before the switch point stay HMACs: checked with the chain key, or
//! else by their links only (`VerifyReport::linked_only`), pinned by the heads.
//!
//! Published heads: `SignedHead` is the chain's head (sequence number and hash)
//! signed by the same key (`PUBLISHED_HEAD`; the heads published before, in the
//! format `senim journal head v1`, still verify); they leave the database every
//! `journal.head_publish_seconds` (`journal.published_heads_file`) and daily to
//! the auditors, and `verify --heads` checks that the chain still passes through
//! each of them and that its head is not behind the newest (a truncation).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::appeal::{Appeal, AppealId};
use crate::authority::{Authority, PublicKey, Purpose};
use crate::db::Tx;
use crate::execute_in;
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
}

/// What the head's signature is for (`audit_head.head_signature`).
pub const HEAD: Purpose = Purpose::new("senim audit head v1");

/// What a published head's signature is for (`SignedHead`).
pub const PUBLISHED_HEAD: Purpose = Purpose::new("senim journal head v2");

/// The chain's head as read (and locked) at the start of a Journal write, with
/// the key its events before the switch point are hashed under (none for an
/// unkeyed chain) and the switch point (`public_from`: the first event hashed
/// with plain SHA-256; none before the switch).
#[derive(Clone, Debug)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub key: Option<Arc<ChainKey>>,
    pub public_from: Option<i64>,
}

impl Head {
    /// Whether event `seq` is hashed with plain SHA-256 (after the switch point).
    pub fn is_public(&self, seq: i64) -> bool {
        self.public_from.is_some_and(|from| seq >= from)
    }
}

/// The head row as stored: the head, whether the events before the switch point
/// are keyed, the office key generation, and the head's signature.
#[derive(Clone, Debug)]
pub struct StoredHead {
    pub head: Head,
    pub keyed: bool,
    pub generation: i64,
    pub signature: Option<String>,
}

impl StoredHead {
    /// What the head's signature covers (`HEAD`).
    pub fn signed_parts(&self) -> [String; 4] {
        head_parts(&self.head, self.keyed)
    }

    /// Whether the head is signed by one of `keys`.
    pub fn is_signed_by(&self, keys: &[PublicKey]) -> bool {
        let Some(signature) = &self.signature else {
            return false;
        };
        let parts = self.signed_parts();
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        keys.iter().any(|k| k.verifies(HEAD, &parts, signature))
    }
}

/// The parts `HEAD` signs: the sequence number, the hash, the switch point, and
/// whether the events before it are keyed.
fn head_parts(head: &Head, keyed: bool) -> [String; 4] {
    [
        head.seq.to_string(),
        head.hash.clone(),
        head.public_from.map_or_else(String::new, |p| p.to_string()),
        if keyed { "keyed" } else { "unkeyed" }.to_owned(),
    ]
}

/// The head's signature by `authority`.
pub fn sign_head(authority: &Authority, head: &Head, keyed: bool) -> String {
    let parts = head_parts(head, keyed);
    let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    authority.sign(HEAD, &parts)
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
/// Also says whether the stored chain is keyed (`key` is the configured key),
/// the office key generation the Journal seals to (0: none) and the signature.
pub async fn lock_head(tx: &mut Tx, key: Option<Arc<ChainKey>>) -> Result<StoredHead, sqlx::Error> {
    type HeadRow = (i64, String, bool, i64, Option<i64>, Option<String>);
    let (seq, hash, keyed, generation, public_from, signature): HeadRow = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq WHERE id = 1 \
         RETURNING seq, hash, keyed, seal_generation, public_from, head_signature",
    )
    .fetch_one(conn)
    .await)?;
    Ok(StoredHead {
        head: Head {
            seq,
            hash,
            key,
            public_from,
        },
        keyed,
        generation,
        signature,
    })
}

/// Marks an empty chain keyed: its first event will be hashed under the key.
pub async fn mark_keyed(tx: &mut Tx) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query("UPDATE audit_head SET keyed = TRUE WHERE id = 1 AND seq = 0")
    )
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
        head.key.as_deref().filter(|_| !head.is_public(seq)),
        &head.hash,
        seq,
        appeal.id.0,
        at,
        actor,
        kind,
        &detail,
        &state_hash,
    );
    execute_in!(tx, sqlx::query(
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
    .bind(&hash))?;
    head.seq = seq;
    head.hash = hash;
    Ok(())
}

/// Records the office key generation the Journal now seals to (`keys init`,
/// `keys rotate`), in the chain's head row.
pub async fn store_seal_generation(tx: &mut Tx, generation: i64) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query("UPDATE audit_head SET seal_generation = $1 WHERE id = 1").bind(generation)
    )
}

/// Writes the head moved on by `append` back to the chain's head row, with its
/// switch point and its signature (none without a signing key).
pub async fn store_head(
    tx: &mut Tx,
    head: &Head,
    signature: Option<&str>,
) -> Result<(), sqlx::Error> {
    execute_in!(tx, sqlx::query(
        "UPDATE audit_head SET seq = $1, hash = $2, public_from = $3, head_signature = $4 WHERE id = 1",
    )
        .bind(head.seq)
        .bind(&head.hash)
        .bind(head.public_from)
        .bind(signature))
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
    /// Ed25519 over `PUBLISHED_HEAD` and the head (hex); a head published before
    /// the signing key was the installation's: over `SignedHead::legacy_message`.
    pub signature: String,
}

impl SignedHead {
    fn parts(seq: i64, hash: &str, at: DateTime<Utc>) -> [String; 3] {
        [
            seq.to_string(),
            hash.to_owned(),
            at.to_rfc3339_opts(SecondsFormat::Micros, true),
        ]
    }

    /// What heads were signed as before `PUBLISHED_HEAD` ("senim journal head v1").
    fn legacy_message(&self) -> String {
        format!(
            "senim journal head v1\n{}\n{}\n{}",
            self.seq,
            self.hash,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// Signs the head `seq`/`hash` as of `at`.
    pub fn sign(authority: &Authority, seq: i64, hash: &str, at: DateTime<Utc>) -> SignedHead {
        let parts = Self::parts(seq, hash, at);
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        SignedHead {
            seq,
            hash: hash.to_owned(),
            at,
            public_key: authority.public_key().as_hex().to_owned(),
            signature: authority.sign(PUBLISHED_HEAD, &parts),
        }
    }

    /// Whether the signature is `public_key`'s over this head.
    pub fn signed_by(&self, public_key: &PublicKey) -> bool {
        let parts = Self::parts(self.seq, &self.hash, self.at);
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        if public_key.verifies(PUBLISHED_HEAD, &parts, &self.signature) {
            return true;
        }
        // The published heads' format before the installation's signing key.
        let (Ok(key), Ok(signature)) = (
            hex::decode(public_key.as_hex()),
            hex::decode(&self.signature),
        ) else {
            return false;
        };
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
            .verify(self.legacy_message().as_bytes(), &signature)
            .is_ok()
    }
}

/// Checks published heads against the stored events and head: each must be
/// signed by one of `keys` and name an event whose hash it gives, and the stored
/// head must not be behind the newest of them (events deleted, the head set back).
pub fn check_heads(
    heads: &[SignedHead],
    events: &[EventRow],
    stored: &Head,
    keys: &[PublicKey],
) -> Vec<Finding> {
    let by_seq: BTreeMap<i64, &str> = events.iter().map(|e| (e.seq, e.hash.as_str())).collect();
    let mut findings = Vec::new();
    let mut newest: Option<&SignedHead> = None;
    for h in heads {
        let what = published(h);
        if !keys.iter().any(|k| h.signed_by(k)) {
            findings.push(Finding {
                what,
                problem: "is not signed by this chain's key (forged, or another installation's)"
                    .into(),
            });
            continue;
        }
        if newest.is_none_or(|n| h.seq > n.seq) {
            newest = Some(h);
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
    if let Some(newest) = newest.filter(|n| n.seq > stored.seq) {
        findings.push(Finding {
            what: "chain head".into(),
            problem: format!(
                "is at event {} but the newest published head ({}) is at event {}: \
                 events were deleted and the head set back",
                stored.seq,
                published(newest),
                newest.seq
            ),
        });
    }
    findings
}

/// How a finding names a published head.
fn published(h: &SignedHead) -> String {
    format!(
        "published head {} of {}",
        h.seq,
        h.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
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
    /// Events from before the switch point, keyed, checked without the chain
    /// key: by their links to the events around them and the signed heads that
    /// pin them, not by their contents.
    pub linked_only: u64,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What the chain is checked with.
#[derive(Clone, Copy, Debug)]
pub struct Checker<'a> {
    /// The chain key, if the checker holds it: the keyed events before the
    /// switch point are recomputed with it (without it, checked by link only).
    pub key: Option<&'a ChainKey>,
    /// The public keys a head may be signed with; none: the installation has no
    /// signing key, and its head is not signed.
    pub public_keys: &'a [PublicKey],
}

/// Checks the events in order against each other and the head, the head's
/// signature, then every appeal's current row against the state its last event
/// recorded.
pub fn verify(
    events: &[EventRow],
    stored: &StoredHead,
    checker: Checker<'_>,
    appeals: &[Appeal],
) -> VerifyReport {
    let head = &stored.head;
    let keyed = stored.keyed;
    let mut report = VerifyReport {
        events: events.len() as u64,
        appeals: appeals.len() as u64,
        linked_only: 0,
        findings: Vec::new(),
    };
    let mut findings = Vec::new();
    let mut finding = |what: String, problem: String| findings.push(Finding { what, problem });
    if checker.key.is_some() && !keyed && head.public_from.is_none() {
        finding(
            "chain".into(),
            "is not keyed though journal.chain_key_file is set: it was rewritten without the key, \
             or `senim journal key-chain` was never run"
                .into(),
        );
    }
    if !checker.public_keys.is_empty() {
        if head.public_from.is_none() {
            finding(
                "chain head".into(),
                "is not signed: the chain was never written since the signing key was configured \
                 (start the daemon once), or its signature was removed outside Senim"
                    .into(),
            );
        } else if !stored.is_signed_by(checker.public_keys) {
            finding(
                "chain head".into(),
                "is not signed by the signing key: it was set outside Senim (events appended \
                 or deleted by hand)"
                    .into(),
            );
        }
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
        // After the switch point, and in an unkeyed chain: plain SHA-256.
        let recomputed = if head.is_public(e.seq) || !keyed {
            Some(e.hash_after(None, &e.prev_hash))
        } else {
            checker.key.map(|key| e.hash_after(Some(key), &e.prev_hash))
        };
        match recomputed {
            Some(hash) if hash != e.hash => finding(
                format!("event {}", e.seq),
                "was edited (hash does not match its contents)".into(),
            ),
            Some(_) => {}
            None => report.linked_only += 1,
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
    report.findings = findings;
    report
}
