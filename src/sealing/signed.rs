//! The installation's signatures on the rows that say whom Senim seals or wraps
//! to (`sealing_keys`, `person_keys`, `key_grants`): what each row's signature
//! covers, for a purpose of its own, so a signature made for one row never passes
//! for another (another generation, another login, another table). The signing
//! key (`crate::authority`) is outside the database: its administrator can copy a
//! row, never make one.

use sha2::{Digest, Sha256};

use crate::authority::{Authority, PublicKey, Purpose};

/// An office key generation: its number, the office's and the escrow's public
/// keys, and the identities it keeps sealed.
pub const GENERATION: Purpose = Purpose::new("senim office key v1");
/// A person's own key: their login, its public half, its protected identity.
pub const PERSON_KEY: Purpose = Purpose::new("senim person key v1");
/// A grant of a generation of the office key to a person.
pub const GRANT: Purpose = Purpose::new("senim key grant v1");

/// A row that carries the installation's signature.
pub trait Signed {
    const PURPOSE: Purpose;
    /// The table, for findings and logs.
    const TABLE: &'static str;
    /// What is signed, in order.
    fn parts(&self) -> Vec<Vec<u8>>;
    /// The stored signature, if any.
    fn signature(&self) -> Option<&str>;
    /// The row's key as a finding names it (`generation 2`, `login marat`).
    fn key(&self) -> String;

    fn sign(&self, authority: &Authority) -> String {
        let parts = self.parts();
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        authority.sign(Self::PURPOSE, &parts)
    }

    fn verifies(&self, public: &PublicKey) -> bool {
        let parts = self.parts();
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        self.signature()
            .is_some_and(|s| public.verifies(Self::PURPOSE, &parts, s))
    }

    /// `verify`'s finding for this row, if its signature does not verify.
    fn finding(&self, public: &PublicKey) -> Option<String> {
        (!self.verifies(public)).then(|| {
            format!(
                "{} {}: not signed by this installation's key: edited or planted outside Senim{}",
                Self::TABLE,
                self.key(),
                if self.signature().is_none() {
                    " (or from before signing: `senim keys authenticate`)"
                } else {
                    ""
                }
            )
        })
    }
}

/// SHA-256 of stored bytes: what a signature covers of a sealed blob.
pub fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// An office key generation as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct GenerationRow {
    pub generation: i64,
    pub office_recipient: String,
    pub escrow_recipient: String,
    pub escrowed_identity: Vec<u8>,
    pub previous_identity: Option<Vec<u8>>,
    pub signature: Option<String>,
}

impl Signed for GenerationRow {
    const PURPOSE: Purpose = GENERATION;
    const TABLE: &'static str = "sealing_keys";
    fn parts(&self) -> Vec<Vec<u8>> {
        vec![
            self.generation.to_be_bytes().to_vec(),
            self.office_recipient.as_bytes().to_vec(),
            self.escrow_recipient.as_bytes().to_vec(),
            digest(&self.escrowed_identity),
            self.previous_identity
                .as_deref()
                .map(digest)
                .unwrap_or_default(),
        ]
    }
    fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }
    fn key(&self) -> String {
        format!("generation {}", self.generation)
    }
}

/// A person's own key as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct PersonKeyRow {
    pub login: String,
    pub recipient: String,
    pub identity: Vec<u8>,
    pub signature: Option<String>,
}

impl Signed for PersonKeyRow {
    const PURPOSE: Purpose = PERSON_KEY;
    const TABLE: &'static str = "person_keys";
    fn parts(&self) -> Vec<Vec<u8>> {
        vec![
            self.login.as_bytes().to_vec(),
            self.recipient.as_bytes().to_vec(),
            digest(&self.identity),
        ]
    }
    fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }
    fn key(&self) -> String {
        format!("login {}", self.login)
    }
}

/// A grant of the office key to a person as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub generation: i64,
    pub login: String,
    pub office_identity: Vec<u8>,
    pub signature: Option<String>,
}

impl Signed for GrantRow {
    const PURPOSE: Purpose = GRANT;
    const TABLE: &'static str = "key_grants";
    fn parts(&self) -> Vec<Vec<u8>> {
        vec![
            self.generation.to_be_bytes().to_vec(),
            self.login.as_bytes().to_vec(),
            digest(&self.office_identity),
        ]
    }
    fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }
    fn key(&self) -> String {
        format!("generation {} login {}", self.generation, self.login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(n: i64, office: &str) -> GenerationRow {
        GenerationRow {
            generation: n,
            office_recipient: office.into(),
            escrow_recipient: "age1escrow".into(),
            escrowed_identity: b"sealed".to_vec(),
            previous_identity: None,
            signature: None,
        }
    }

    #[test]
    fn a_generations_signature_does_not_pass_for_another_generation_or_key()
    -> Result<(), crate::authority::AuthorityError> {
        let (authority, _) = Authority::generate()?;
        let public = authority.public_key();
        let mut row = generation(1, "age1office");
        row.signature = Some(row.sign(&authority));
        assert!(row.verifies(public));
        assert_eq!(row.finding(public), None);
        for other in [
            GenerationRow {
                generation: 2,
                ..row.clone()
            },
            GenerationRow {
                office_recipient: "age1attacker".into(),
                ..row.clone()
            },
            GenerationRow {
                escrow_recipient: "age1attacker".into(),
                ..row.clone()
            },
            GenerationRow {
                previous_identity: Some(b"x".to_vec()),
                ..row.clone()
            },
        ] {
            assert!(!other.verifies(public));
            assert!(
                other
                    .finding(public)
                    .is_some_and(|f| f.contains("sealing_keys"))
            );
        }
        let (stranger, _) = Authority::generate()?;
        assert!(!row.verifies(stranger.public_key()));
        Ok(())
    }

    #[test]
    fn a_person_keys_signature_does_not_pass_for_another_login_or_a_grant()
    -> Result<(), crate::authority::AuthorityError> {
        let (authority, _) = Authority::generate()?;
        let public = authority.public_key();
        let mut key = PersonKeyRow {
            login: "marat".into(),
            recipient: "age1marat".into(),
            identity: b"protected".to_vec(),
            signature: None,
        };
        assert!(!key.verifies(public), "an unsigned row verifies");
        key.signature = Some(key.sign(&authority));
        assert!(key.verifies(public));
        let planted = PersonKeyRow {
            recipient: "age1attacker".into(),
            ..key.clone()
        };
        assert!(!planted.verifies(public));
        let moved = PersonKeyRow {
            login: "dana".into(),
            ..key.clone()
        };
        assert!(!moved.verifies(public));
        let mut grant = GrantRow {
            generation: 1,
            login: "marat".into(),
            office_identity: b"protected".to_vec(),
            signature: key.signature.clone(),
        };
        assert!(
            !grant.verifies(public),
            "a key's signature passes for a grant"
        );
        grant.signature = Some(grant.sign(&authority));
        assert!(grant.verifies(public));
        let later = GrantRow {
            generation: 2,
            ..grant.clone()
        };
        assert!(!later.verifies(public));
        Ok(())
    }
}
