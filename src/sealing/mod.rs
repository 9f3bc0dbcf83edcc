//! Sealing at rest (10.5, 10.14): what identifies a reporter or says what they
//! reported is stored sealed, and Senim cannot open what it has stored without a
//! person's key.
//!
//! - **Envelopes** (`Sealer::seal`, `Unlocked::open`): each sealed value is an age
//!   file (X25519; a fresh random file key per envelope, wrapped to the office
//!   key's public half). The daemon holds only the public key: it can seal, never
//!   open. The escrow key opens the office key (each generation's identity is kept
//!   sealed to it), so one wrap per envelope serves both.
//! - **Keys** (`keys.rs`, the tables `sealing_keys`, `person_keys`, `key_grants`):
//!   the office key's generations, each person's own key (an age identity
//!   encrypted with their passphrase, scrypt), and the grants of the office key to
//!   persons (the office identity encrypted to the person's key). The escrow
//!   identity is printed once, at `senim keys init`, for the Director's safe.
//! - **The intake key** (`IntakeKey`): what the daemon itself must read back (a mail
//!   waiting to be sent, a caller's number until the call is hung up) is sealed with
//!   a key derived from the chain key (`journal.chain_key_file`), a credential that
//!   is not in the database. XChaCha20-Poly1305 (RustCrypto), a random nonce each.
//! - **Keyed hashes** (`Sealer::keyed_hash`): content-derived keys kept for
//!   deduplication (a Message-ID, a raw mail's SHA-256, a sender's address) are
//!   HMAC-SHA256 under a key derived from the chain key, so a guess cannot be
//!   confirmed from the database.
//!
//! - **File keys** (`file_key.rs`, `FileKey`): a file only some people may read
//!   (an investigation file, 7.9) has a key of its own, wrapped to each reader's
//!   own key and to the escrow; the office key does not open it.
//!
//! - **Signed keys** (`signed.rs`): every public key sealed or wrapped to is in a
//!   row signed by the installation's key (`crate::authority`); the daemon seals
//!   only to a generation whose row verifies, and never falls back to plain text:
//!   with no verified generation it refuses to seal (`SealError::Unverified`,
//!   which intake answers "retry later"), and holding one it does not move to an
//!   unverified or older one.
//!
//! Sealing is on once `senim keys init` has created the office key; before that the
//! daemon stores plain values, as before (and `keys init` seals them in place).

pub mod file_key;
pub mod keys;
pub mod signed;
mod unlocked;

use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::authority::Authority;
use crate::db::{Db, Tx};

pub use file_key::{FileKey, seal_to_file};

/// How much of the thread's stack `wipe_stack` overwrites below its caller:
/// more than the deepest an unlock or an age decryption goes.
const STACK_WIPED: usize = 256 * 1024;

/// Overwrites the stack below the caller's frame with zeros. The X25519
/// arithmetic an age decryption runs (and the parsing of an identity) copies
/// the secret scalar into its own frames, which nothing wipes when they
/// return: a caller that used a private key calls this after, from a frame no
/// deeper than the one that called the decryption, and no copy is left on
/// that thread's stack (the console wipes after every step of every request,
/// the unlock after its derivation).
#[inline(never)]
pub fn wipe_stack() {
    use zeroize::Zeroize;
    let mut below = [0u8; STACK_WIPED];
    below.zeroize();
    std::hint::black_box(&below);
}
pub use keys::{Keys, TrustedKey};
pub use unlocked::Unlocked;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealing keys' database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot seal: {0}")]
    Seal(String),
    #[error("cannot open a sealed value: {0}")]
    Open(String),
    #[error("{0}")]
    Keys(String),
    #[error("wrong passphrase or key for `{0}`")]
    Unlock(String),
    /// A key row whose signature does not verify: nothing is sealed or wrapped
    /// to it (logged where it was found).
    #[error("{0}")]
    Unverified(String),
    #[error(transparent)]
    Busy(#[from] crate::derivation::Busy),
}

pub type Result<T, E = SealError> = std::result::Result<T, E>;

/// The public half of the office key of one generation, and the escrow key: what
/// every envelope is sealed to.
#[derive(Clone)]
pub struct Recipients {
    pub generation: i64,
    pub office: age::x25519::Recipient,
    pub escrow: age::x25519::Recipient,
}

/// The daemon's secret for what it must read back itself, derived from the chain
/// key (`journal.chain_key_file`); see the module's map.
#[derive(Clone)]
pub struct IntakeKey {
    seal: [u8; 32],
    hash: [u8; 32],
}

impl std::fmt::Debug for IntakeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeKey(<secret>)")
    }
}

impl IntakeKey {
    /// Derives the intake keys from a secret of at least 32 bytes (the chain key).
    pub fn derive(secret: &[u8]) -> IntakeKey {
        IntakeKey {
            seal: hmac(secret, b"senim/intake-seal/v1"),
            hash: hmac(secret, b"senim/keyed-hash/v1"),
        }
    }

    /// Seals `plaintext` for the daemon itself: nonce (24 bytes) then ciphertext.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; 24];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| SealError::Seal("no randomness".into()))?;
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .map_err(|_| SealError::Seal("the intake cipher failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Opens what `seal` sealed.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 24 {
            return Err(SealError::Open("too short for the intake key".into()));
        }
        let (nonce, body) = sealed.split_at(24);
        XChaCha20Poly1305::new((&self.seal).into())
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| SealError::Open("not sealed with this intake key".into()))
    }

    /// HMAC-SHA256 of `value` under the keyed-hash key, in `domain` (hex).
    pub fn keyed_hash(&self, domain: &str, value: &[u8]) -> String {
        let mut mac = hmac_with(&self.hash);
        mac.update(&(domain.len() as u64).to_be_bytes());
        mac.update(domain.as_bytes());
        mac.update(value);
        hex::encode(mac.finalize().into_bytes())
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_with(key: &[u8]) -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn hmac(key: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = hmac_with(key);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// What the daemon seals to: nothing yet (no office key: values stay plain), a
/// verified generation, or nothing it may use (the office key exists but its row
/// does not verify: sealing is refused, never plain).
#[derive(Clone, Default)]
enum Held {
    #[default]
    Off,
    On(Arc<Recipients>),
    Refused,
}

/// What the daemon seals with: the office's public keys (once `senim keys init` has
/// made them) and the intake key. Cheap to clone; `refresh` picks up a rotation.
#[derive(Clone)]
pub struct Sealer {
    keys: Option<Keys>,
    held: Arc<RwLock<Held>>,
    intake: Option<IntakeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("on", &self.is_on()).finish()
    }
}

impl Sealer {
    /// A sealer that seals nothing: values are stored plain (no office key yet).
    pub fn off() -> Sealer {
        Sealer {
            keys: None,
            held: Arc::default(),
            intake: None,
        }
    }

    /// The sealer of `db`'s office key, which `refresh` reads (the daemon does at
    /// start-up and then every half minute, so a rotation reaches it) and checks
    /// against `authority`'s signature.
    pub fn new(db: &Db, intake: Option<IntakeKey>, authority: Option<Arc<Authority>>) -> Sealer {
        Sealer {
            keys: Some(Keys::new(db.clone(), authority)),
            held: Arc::default(),
            intake,
        }
    }

    /// Rereads the current office key generation. Sealing needs the intake key too
    /// (from `journal.chain_key_file`): an office key without it is an error, not
    /// a silent fall back to plain text. A generation whose row does not verify is
    /// not used (logged loudly): the sealer keeps the verified one it holds, or,
    /// holding none, refuses to seal; it never moves to an older generation, nor
    /// back to plain.
    pub async fn refresh(&self) -> Result<()> {
        let Some(keys) = &self.keys else {
            return Ok(());
        };
        let current = match keys.current().await {
            Ok(current) => current,
            Err(SealError::Unverified(_)) => {
                self.hold(|held| match held {
                    Held::Off => Held::Refused,
                    other => other,
                });
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if current.is_some() && self.intake.is_none() {
            return Err(SealError::Keys(
                "the Journal is sealed (`senim keys init` was run) but journal.chain_key_file is not set: \
                 the daemon needs it for keyed hashes and for what it reads back itself"
                    .into(),
            ));
        }
        self.hold(|held| match (held, current) {
            (Held::On(now), Some(new)) if new.generation < now.generation => {
                tracing::error!(
                    table = "sealing_keys",
                    generation = new.generation,
                    held = now.generation,
                    "the newest office key generation is older than the one the daemon seals to: \
                     rows were deleted outside Senim; sealing stays on the newer one"
                );
                Held::On(now)
            }
            (_, Some(new)) => Held::On(Arc::new(new)),
            (Held::Off, None) => Held::Off,
            (held, None) => {
                tracing::error!(
                    table = "sealing_keys",
                    "the office key's rows are gone: deleted outside Senim; nothing is stored plain"
                );
                held
            }
        });
        Ok(())
    }

    /// The current generation in `tx` (another process's rotation), refused if
    /// its row does not verify.
    pub async fn current_in(&self, tx: &mut Tx) -> Result<Option<Recipients>> {
        match &self.keys {
            Some(keys) => keys.current_in(tx).await,
            None => Ok(None),
        }
    }

    fn hold(&self, change: impl FnOnce(Held) -> Held) {
        if let Ok(mut slot) = self.held.write() {
            let held = std::mem::take(&mut *slot);
            *slot = change(held);
        }
    }

    /// Seals to `recipients` from now on (a new generation inside its own
    /// transaction, verified or just made: `senim keys init` and `rotate`).
    pub fn use_recipients(&self, recipients: Recipients) {
        self.hold(|_| Held::On(Arc::new(recipients)));
    }

    /// The office key generation sealed to; 0 when sealing is off or refused.
    pub fn generation(&self) -> i64 {
        self.current_generation().unwrap_or(0)
    }

    /// The office key generation sealed to, if sealing is on with a verified key.
    pub fn current_generation(&self) -> Option<i64> {
        self.current().map(|r| r.generation)
    }

    /// Whether the daemon has its intake key (a chain key is configured).
    pub fn has_intake_key(&self) -> bool {
        self.intake.is_some()
    }

    /// Whether values are sealed (an office key exists; if its row does not
    /// verify, sealing is refused rather than off).
    pub fn is_on(&self) -> bool {
        self.held
            .read()
            .map(|h| !matches!(*h, Held::Off))
            .unwrap_or(true)
    }

    fn current(&self) -> Option<Arc<Recipients>> {
        self.held.read().ok().and_then(|h| match &*h {
            Held::On(r) => Some(r.clone()),
            _ => None,
        })
    }

    /// What to seal to: `None` when sealing is off; an error when the office
    /// key exists but no generation verifies.
    fn sealing_to(&self) -> Result<Option<Arc<Recipients>>> {
        match self.held.read().map(|h| h.clone()) {
            Ok(Held::Off) => Ok(None),
            Ok(Held::On(r)) => Ok(Some(r)),
            Ok(Held::Refused) | Err(_) => Err(SealError::Unverified(
                "the office key's row is not signed by this installation's key: nothing is sealed \
                 until it verifies (see the log; `senim journal verify`)"
                    .into(),
            )),
        }
    }

    /// Seals `plaintext` to the office key; `None` when sealing is off.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Option<Sealed>> {
        let Some(recipients) = self.sealing_to()? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(plaintext.len() + 256);
        let mut writer = seal_to(&recipients, &mut out)?;
        writer
            .write_all(plaintext)
            .and_then(|_| writer.finish().map(|_| ()))
            .map_err(|e| SealError::Seal(e.to_string()))?;
        Ok(Some(Sealed {
            generation: recipients.generation,
            bytes: out,
        }))
    }

    /// Seals what `input` yields into `output` as it goes (recordings, large
    /// attachments); the generation sealed to, or `None` (nothing written) when
    /// sealing is off.
    pub fn seal_stream(&self, mut input: impl Read, output: impl Write) -> Result<Option<i64>> {
        let Some(recipients) = self.sealing_to()? else {
            return Ok(None);
        };
        let mut writer = seal_to(&recipients, output)?;
        std::io::copy(&mut input, &mut writer)
            .and_then(|_| writer.finish().map(|_| ()))
            .map_err(|e| SealError::Seal(e.to_string()))?;
        Ok(Some(recipients.generation))
    }

    /// The intake key, when sealing is on.
    pub fn intake(&self) -> Option<&IntakeKey> {
        self.intake.as_ref().filter(|_| self.is_on())
    }

    /// The keyed hash of `value` in `domain` when sealing is on; `None` otherwise
    /// (the caller keeps its plain key).
    pub fn keyed_hash(&self, domain: &str, value: &[u8]) -> Option<String> {
        self.intake().map(|k| k.keyed_hash(domain, value))
    }
}

fn seal_to<W: Write>(recipients: &Recipients, output: W) -> Result<age::stream::StreamWriter<W>> {
    age::Encryptor::with_recipients(std::iter::once(&recipients.office as &dyn age::Recipient))
        .map_err(|e| SealError::Seal(e.to_string()))?
        .wrap_output(output)
        .map_err(|e| SealError::Seal(e.to_string()))
}

/// A sealed value and the office key generation it is sealed to.
#[derive(Clone)]
pub struct Sealed {
    pub generation: i64,
    pub bytes: Vec<u8>,
}

impl Sealed {
    /// The SHA-256 of the sealed bytes (hex): what the audit log records of it.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealed(gen {}, {} bytes)",
            self.generation,
            self.bytes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intake_key_opens_what_it_sealed_and_nothing_else() {
        let key = IntakeKey::derive(&[7u8; 32]);
        let sealed = key.seal(b"+77011234567").expect("seal");
        assert!(!sealed.windows(12).any(|w| w == b"+77011234567"));
        assert_eq!(key.open(&sealed).expect("open"), b"+77011234567");
        let other = IntakeKey::derive(&[8u8; 32]);
        assert!(other.open(&sealed).is_err());
        assert!(key.open(&sealed[..10]).is_err());
    }

    #[test]
    fn keyed_hashes_depend_on_key_and_domain() {
        let key = IntakeKey::derive(&[7u8; 32]);
        let a = key.keyed_hash("message-id", b"<x@y>");
        assert_eq!(a, key.keyed_hash("message-id", b"<x@y>"));
        assert_ne!(a, key.keyed_hash("sha256", b"<x@y>"));
        assert_ne!(
            a,
            IntakeKey::derive(&[8u8; 32]).keyed_hash("message-id", b"<x@y>")
        );
        assert_ne!(a, hex::encode(Sha256::digest(b"<x@y>")));
    }
}
