//! `Unlocked`: the office key's identities opened by one person (or the escrow),
//! and that person's own key, which alone read what is sealed; carried between a
//! console session's requests only as text sealed under the cookie's key
//! (`to_secret`/`from_secret`). And age's envelopes written and opened
//! (`seal_to`, `open_with`, `open_secret`), for `keys` and `file_key`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::iter;

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{Result, SealError};

/// The office key's identities, opened by one person (or the escrow): what reads
/// sealed values. Never stored; dropped with the command or the session.
pub struct Unlocked {
    /// `person:<login>` or `escrow`: who opened it, for the audit log.
    pub actor: String,
    pub(super) identities: BTreeMap<i64, age::x25519::Identity>,
    pub(super) escrow: Option<Box<age::x25519::Identity>>,
    /// The person's own key, which opens what is sealed to them alone (a file
    /// key of `FileKey`), office reader or not.
    pub(super) own: Option<Box<age::x25519::Identity>>,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unlocked({}, <secret>)", self.actor)
    }
}

impl Unlocked {
    /// No key at all, for reading what was stored before sealing: any sealed
    /// value it meets fails to open.
    pub fn without_keys(actor: &str) -> Unlocked {
        Unlocked {
            actor: actor.to_owned(),
            identities: BTreeMap::new(),
            escrow: None,
            own: None,
        }
    }

    /// Opens a sealed value.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(sealed.len());
        self.open_stream(sealed)?
            .read_to_end(&mut out)
            .map_err(|e| SealError::Open(e.to_string()))?;
        Ok(out)
    }

    /// Opens a sealed stream (a recording, an attachment) as it is read.
    pub fn open_stream<R: Read>(&self, sealed: R) -> Result<impl Read + use<R>> {
        let decryptor = age::Decryptor::new(sealed).map_err(|e| SealError::Open(e.to_string()))?;
        let identities: Vec<&dyn age::Identity> = self
            .identities
            .values()
            .map(|i| i as &dyn age::Identity)
            .chain(self.escrow.iter().map(|i| &**i as &dyn age::Identity))
            .collect();
        decryptor
            .decrypt(identities.into_iter())
            .map_err(|e| SealError::Open(e.to_string()))
    }

    /// The office key generations this holds the identity of, oldest first.
    pub fn generations(&self) -> Vec<i64> {
        self.identities.keys().copied().collect()
    }

    /// A copy holding only the office identities of `generations` (those it
    /// holds), and not the escrow's: what reads what those generations sealed and
    /// nothing else. For work that needs its own copy of the key (a recording
    /// resealed on a blocking thread), and for tests that check that an old
    /// generation's identity alone no longer opens what a rotation resealed.
    /// Never stored, like any `Unlocked`.
    pub fn restricted_to(&self, generations: &[i64]) -> Unlocked {
        Unlocked {
            actor: self.actor.clone(),
            identities: self
                .identities
                .iter()
                .filter(|(g, _)| generations.contains(g))
                .map(|(g, i)| (*g, i.clone()))
                .collect(),
            escrow: None,
            own: None,
        }
    }

    /// Whether this holds an office identity (the person is a reader of the
    /// office key, or it is the escrow).
    pub fn reads_the_office_key(&self) -> bool {
        !self.identities.is_empty()
    }

    /// Opens what was sealed to this person's own key or to the escrow (a
    /// `FileKey`'s wrap), never with the office key.
    pub fn open_own(&self, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.own
            .iter()
            .chain(self.escrow.iter())
            .find_map(|identity| open_secret(&**identity, sealed).ok())
    }

    /// Everything this holds, as text (`actor`, then a line per identity: `own`,
    /// `escrow` or the generation, and the `AGE-SECRET-KEY-1…`), in a buffer
    /// wiped when dropped: what a console session keeps sealed under its
    /// cookie's key (`Unlocked::from_secret` reads it back).
    pub fn to_secret(&self) -> Zeroizing<Vec<u8>> {
        let lines: Vec<(String, SecretString)> = self
            .own
            .iter()
            .map(|i| ("own".to_owned(), &**i))
            .chain(self.escrow.iter().map(|i| ("escrow".to_owned(), &**i)))
            .chain(self.identities.iter().map(|(g, i)| (g.to_string(), i)))
            .map(|(k, i)| (k, i.to_string()))
            .collect();
        let size = self.actor.len()
            + 1
            + lines
                .iter()
                .map(|(k, i)| k.len() + 1 + i.expose_secret().len() + 1)
                .sum::<usize>();
        // Room for all of it at once: a buffer that grew would leave a copy behind.
        let mut out = Zeroizing::new(Vec::with_capacity(size));
        out.extend_from_slice(self.actor.as_bytes());
        out.push(b'\n');
        for (k, i) in &lines {
            out.extend_from_slice(k.as_bytes());
            out.push(b' ');
            out.extend_from_slice(i.expose_secret().as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// What `to_secret` wrote, opened again.
    pub fn from_secret(text: &[u8]) -> Result<Unlocked> {
        let bad = || SealError::Keys("a session's key is not what Senim wrote".into());
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        let mut lines = text.lines();
        let actor = lines.next().ok_or_else(bad)?.to_owned();
        let mut unlocked = Unlocked::without_keys(&actor);
        for line in lines {
            let (kind, key) = line.split_once(' ').ok_or_else(bad)?;
            let identity = || key.parse::<age::x25519::Identity>().map_err(|_| bad());
            match kind {
                "own" => unlocked.own = Some(Box::new(identity()?)),
                "escrow" => unlocked.escrow = Some(Box::new(identity()?)),
                generation => {
                    let generation = generation.parse().map_err(|_| bad())?;
                    unlocked.identities.insert(generation, identity()?);
                }
            }
        }
        Ok(unlocked)
    }

    /// The current generation's office identity.
    pub(super) fn current(&self) -> Result<(i64, &age::x25519::Identity)> {
        self.identities
            .last_key_value()
            .map(|(g, i)| (*g, i))
            .ok_or_else(|| SealError::Keys("no office key is unlocked".into()))
    }
}

pub(super) fn seal_to(recipients: &[&dyn age::Recipient], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = age::Encryptor::with_recipients(recipients.iter().copied())
        .map_err(|e| SealError::Seal(e.to_string()))?
        .wrap_output(&mut out)
        .map_err(|e| SealError::Seal(e.to_string()))?;
    w.write_all(plaintext)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| SealError::Seal(e.to_string()))?;
    Ok(out)
}

pub(super) fn open_with(identity: &dyn age::Identity, sealed: &[u8]) -> Option<Vec<u8>> {
    open_secret(identity, sealed)
        .ok()
        .map(|mut bytes| std::mem::take(&mut *bytes))
}

/// Opens `sealed` into a buffer wiped when dropped, made large enough at once
/// (the plain text is shorter than the sealed), so no copy of it is left behind
/// by a buffer that grew: what holds a key.
pub(super) fn open_secret(
    identity: &dyn age::Identity,
    sealed: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, age::DecryptError> {
    let mut out = Zeroizing::new(Vec::with_capacity(sealed.len()));
    age::Decryptor::new_buffered(sealed)?
        .decrypt(iter::once(identity))?
        .read_to_end(&mut out)?;
    Ok(out)
}

pub(super) fn parse_identity(bytes: &[u8]) -> Result<age::x25519::Identity> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| SealError::Keys("a stored identity is not an age X25519 key".into()))
}

pub(super) fn identity_bytes(identity: &age::x25519::Identity) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(identity.to_string().expose_secret().as_bytes().to_vec())
}

pub(super) fn recipient(text: &str) -> Result<age::x25519::Recipient> {
    text.parse()
        .map_err(|e| SealError::Keys(format!("a stored public key is not an age X25519 key: {e}")))
}
