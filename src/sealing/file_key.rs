//! A key of its own for one sealed file that only some people may read (an
//! investigation file, 7.9), not the office key that every reader of the Journal
//! holds. The file's entries are age envelopes to the file key's public half,
//! which anyone recording an entry can use; the file key itself is kept only
//! wrapped (sealed) to each reader's own key and to the escrow, so only they open
//! it (`Unlocked::open_own`).

use super::unlocked::{identity_bytes, open_with, parse_identity, recipient, seal_to};
use super::{Result, SealError, TrustedKey, Unlocked};

/// A file key, opened. Never stored as such.
pub struct FileKey {
    identity: age::x25519::Identity,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(<secret>)")
    }
}

impl FileKey {
    /// A new random key.
    pub fn generate() -> FileKey {
        FileKey {
            identity: age::x25519::Identity::generate(),
        }
    }

    /// Its public half (`age1…`), stored with the file: what entries are sealed to.
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// The key sealed to `reader` (a person's own public key, or the escrow's),
    /// once its row has verified (`TrustedKey`).
    pub fn wrap_to(&self, reader: &TrustedKey) -> Result<Vec<u8>> {
        seal_to(&[reader.recipient()], &identity_bytes(&self.identity))
    }

    /// Opens a wrap of the key with the person's own key (or the escrow).
    pub fn unwrap(unlocked: &Unlocked, wrapped: &[u8]) -> Result<FileKey> {
        let bytes = unlocked.open_own(wrapped).ok_or_else(|| {
            SealError::Open(format!(
                "{} holds no key to this file (their own key opens no wrap of it)",
                unlocked.actor
            ))
        })?;
        Ok(FileKey {
            identity: parse_identity(&bytes)?,
        })
    }

    /// Opens an entry sealed to this key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        open_with(&self.identity, sealed)
            .ok_or_else(|| SealError::Open("not sealed to this file's key".into()))
    }
}

/// Seals `plaintext` to a file's public key (`FileKey::recipient`), without
/// holding the file key.
pub fn seal_to_file(file_recipient: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_to(&[&recipient(file_recipient)?], plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reader_it_is_wrapped_to_opens_the_file() {
        let file = FileKey::generate();
        let sealed = seal_to_file(&file.recipient(), b"conclusion").unwrap_or_default();
        assert_eq!(file.open(&sealed).ok(), Some(b"conclusion".to_vec()));
        let other = FileKey::generate();
        assert!(other.open(&sealed).is_err(), "another file's key opens it");
    }
}
