//! The installation's signing key: an Ed25519 key whose secret lives outside the
//! database (`journal.signing_key_file`, a credential), and whose public half
//! (`PublicKey`) anyone may hold. What the database administrator must not be able
//! to make (a public key Senim seals or wraps to, a person's roles and token, a
//! deadline, the audit chain's head) carries a signature by it, made for one
//! purpose (`Purpose`) over length-prefixed parts, so a signature for one use
//! never passes for another.
//!
//! - `Authority`: the secret, which signs (the daemon and the command line, which
//!   read the same credential).
//! - `PublicKey`: the public half, which verifies; auditors verify with it alone.
//!
//! Imports nothing of the crate: every layer may use it.

use std::path::Path;

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

/// What a signing key file holds: 32 random bytes, hex (`openssl rand -hex 32`).
pub const SEED_HEX_LEN: usize = 64;

/// The one thing a signature is for: its tag is signed with the parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purpose(&'static str);

impl Purpose {
    /// A purpose named by a stable tag (`"senim sealing key v1"`); the tag is part
    /// of what is signed, so changing it invalidates every signature made for it.
    pub const fn new(tag: &'static str) -> Purpose {
        Purpose(tag)
    }

    pub fn tag(&self) -> &'static str {
        self.0
    }

    /// The bytes signed: the tag, then each part, each prefixed by its length.
    fn message(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut message = Vec::with_capacity(
            16 + self.0.len() + parts.iter().map(|p| p.len() + 8).sum::<usize>(),
        );
        for part in std::iter::once(self.0.as_bytes()).chain(parts.iter().copied()) {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part);
        }
        message
    }
}

/// An error reading or using the signing key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthorityError(String);

/// The installation's signing key (secret).
pub struct Authority {
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authority(public {})", self.public.0)
    }
}

impl Authority {
    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8]) -> Result<Authority, AuthorityError> {
        if seed.len() != 32 {
            return Err(AuthorityError(format!(
                "a signing key is 32 bytes ({SEED_HEX_LEN} hex digits, e.g. openssl rand -hex 32), not {}",
                seed.len()
            )));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| AuthorityError(format!("not an Ed25519 seed: {e}")))?;
        let public = PublicKey(hex::encode(pair.public_key().as_ref()));
        Ok(Authority { pair, public })
    }

    /// Reads the key from a file of 64 hex digits (surrounding white space ignored).
    pub fn from_file(path: &Path) -> Result<Authority, AuthorityError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| AuthorityError(format!("cannot read {}: {e}", path.display())))?,
        );
        let seed = Zeroizing::new(hex::decode(text.trim()).map_err(|_| {
            AuthorityError(format!(
                "{}: a signing key file holds {SEED_HEX_LEN} hex digits (openssl rand -hex 32)",
                path.display()
            ))
        })?);
        Authority::from_seed(&seed).map_err(|e| AuthorityError(format!("{}: {e}", path.display())))
    }

    /// A fresh random key (tests, and `senim keys signing-key` if it is ever made).
    pub fn generate() -> Result<(Authority, Zeroizing<String>), AuthorityError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), seed.as_mut())
            .map_err(|_| AuthorityError("no randomness".into()))?;
        let authority = Authority::from_seed(seed.as_ref())?;
        Ok((authority, Zeroizing::new(hex::encode(seed.as_ref()))))
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The signature (hex) of `parts` for `purpose`.
    pub fn sign(&self, purpose: Purpose, parts: &[&[u8]]) -> String {
        hex::encode(self.pair.sign(&purpose.message(parts)).as_ref())
    }
}

/// The public half of the signing key (hex): what verifies, and what auditors hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PublicKey(String);

impl PublicKey {
    /// A public key given as 64 hex digits.
    pub fn parse(text: &str) -> Result<PublicKey, AuthorityError> {
        let text = text.trim().to_ascii_lowercase();
        match hex::decode(&text) {
            Ok(bytes) if bytes.len() == 32 => Ok(PublicKey(text)),
            _ => Err(AuthorityError(
                "a public key is 64 hex digits (`senim journal head-key` prints it)".into(),
            )),
        }
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }

    /// Whether `signature` (hex) is this key's over `parts` for `purpose`.
    pub fn verifies(&self, purpose: Purpose, parts: &[&[u8]], signature: &str) -> bool {
        let (Ok(key), Ok(signature)) = (hex::decode(&self.0), hex::decode(signature)) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, key)
            .verify(&purpose.message(parts), &signature)
            .is_ok()
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Purpose = Purpose::new("senim test v1");
    const OTHER: Purpose = Purpose::new("senim other v1");

    #[test]
    fn a_signature_verifies_only_for_its_parts_and_purpose() -> Result<(), AuthorityError> {
        let (authority, _) = Authority::generate()?;
        let signature = authority.sign(KEY, &[b"a".as_slice(), b"bc"]);
        let public = authority.public_key();
        assert!(public.verifies(KEY, &[b"a".as_slice(), b"bc"], &signature));
        assert!(!public.verifies(KEY, &[b"ab".as_slice(), b"c"], &signature));
        assert!(!public.verifies(OTHER, &[b"a".as_slice(), b"bc"], &signature));
        let (stranger, _) = Authority::generate()?;
        assert!(
            !stranger
                .public_key()
                .verifies(KEY, &[b"a".as_slice(), b"bc"], &signature)
        );
        assert!(!public.verifies(KEY, &[b"a".as_slice(), b"bc"], "not hex"));
        Ok(())
    }

    #[test]
    fn a_key_file_holds_64_hex_digits() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("signing.key");
        let (authority, seed) = Authority::generate()?;
        std::fs::write(&path, format!("{}\n", seed.as_str()))?;
        assert_eq!(
            Authority::from_file(&path)?.public_key(),
            authority.public_key()
        );
        std::fs::write(&path, "abcd")?;
        assert!(Authority::from_file(&path).is_err());
        assert!(PublicKey::parse(authority.public_key().as_hex()).is_ok());
        assert!(PublicKey::parse("00").is_err());
        Ok(())
    }
}
