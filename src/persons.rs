//! The people who work the trust line, each acting as themselves (10.14): a login,
//! a full name, roles, and a personal API token. Owns the `persons` table.
//!
//! - Roles (`Role`): the **operator** completes phone appeals awaiting notes; the
//!   **manager** triages, classifies, routes and keeps the deadlines; the
//!   **director** reads, decides and records decisions; the **auditor** sees the
//!   Journal without identity, verifies the chain and exports aggregates. A person
//!   may hold several.
//! - Tokens: 256 random bits, shown once (`senim persons add`, `reset`) and stored
//!   only as their SHA-256 (a fast hash is right for a random secret of that size;
//!   there is nothing to guess). A disabled person's token no longer works.
//! - The audit log names the person (`person:<login>`).
//! - Language: the console's language of the person (`kk`, `ru`, `en`), or none
//!   (the login page's choice, else `console.language`).
//! - Signed rows: what decides what a person may do (login, roles, token hash,
//!   password hash, disabled) is signed by the installation's key
//!   (`crate::authority`), which the database's administrator does not hold; a
//!   row that does not verify is as if the person did not exist (logged, naming
//!   the login), a finding of `journal verify` (`Persons::verify_rows`), and
//!   never signed anew by an ordinary change. Rows from before signing are
//!   adopted deliberately (`senim keys authenticate`: `unadopted`, `adopt`).
//!   Without any signing key (no `journal.signing_key_file`, no chain key) rows
//!   are neither signed nor checked.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::authority::{Authority, PublicKey, Purpose};
use crate::execute_in;
use crate::rows_affected_in;

use crate::clock::SharedClock;
pub use crate::config::mailbox::Language;
use crate::db::Db;
use crate::{on_db, on_tx, on_write};

/// What a person may do: the roles are the rulebook's.
pub use crate::rulebook::Role;

/// The prefix of every personal token, so a leaked one is recognisable (and a
/// secret scanner can find it).
pub const TOKEN_PREFIX: &str = "snm_";

/// A person as stored (never their token).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The console's language they chose; `None`: the login page's, else
    /// `console.language`.
    pub language: Option<Language>,
}

impl Person {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The actor the audit log records.
    pub fn actor(&self) -> String {
        format!("person:{}", self.login)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    #[error("the persons' database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("no person `{0}`")]
    NotFound(String),
    #[error("a person `{0}` exists already")]
    Exists(String),
    #[error(transparent)]
    Busy(#[from] crate::derivation::Busy),
}

/// The people of the trust line.
#[derive(Clone)]
pub struct Persons {
    db: Db,
    clock: SharedClock,
    authority: Option<Arc<Authority>>,
}

/// What a person's row's signature is for.
pub const PERSON: Purpose = Purpose::new("senim person v1");

#[derive(Clone, sqlx::FromRow)]
struct Row {
    login: String,
    full_name: String,
    roles: String,
    disabled_at: Option<DateTime<Utc>>,
    language: Option<String>,
    token_hash: String,
    password_hash: Option<String>,
    signature: Option<String>,
}

impl Row {
    /// What the signature covers: what decides what the person may do (not
    /// their name or language).
    fn parts(&self) -> [Vec<u8>; 5] {
        [
            self.login.as_bytes().to_vec(),
            self.roles.as_bytes().to_vec(),
            self.token_hash.as_bytes().to_vec(),
            self.password_hash
                .as_deref()
                .map_or_else(Vec::new, |p| format!("set:{p}").into_bytes()),
            vec![u8::from(self.disabled_at.is_some())],
        ]
    }

    fn sign(&self, authority: &Authority) -> String {
        let parts = self.parts();
        authority.sign(PERSON, &parts.each_ref().map(Vec::as_slice))
    }

    fn verifies(&self, public: &PublicKey) -> bool {
        let parts = self.parts();
        self.signature.as_deref().is_some_and(|signature| {
            public.verifies(PERSON, &parts.each_ref().map(Vec::as_slice), signature)
        })
    }
}

/// A person's row that does not verify, as `senim keys authenticate` shows it
/// before signing exactly what it showed.
#[derive(Clone)]
pub struct Unadopted(Row);

impl Unadopted {
    /// Whether it carries a signature that does not verify (not merely none).
    pub fn is_signed(&self) -> bool {
        self.0.signature.is_some()
    }
}

impl std::fmt::Display for Unadopted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        write!(
            f,
            "persons {}: roles {}, {}, token hash {}…, {}",
            r.login,
            r.roles,
            if r.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            },
            r.token_hash.get(..12).unwrap_or(&r.token_hash),
            if r.password_hash.is_some() {
                "console password set"
            } else {
                "no console password"
            }
        )
    }
}

impl TryFrom<Row> for Person {
    type Error = PersonError;
    fn try_from(r: Row) -> Result<Person, PersonError> {
        Ok(Person {
            roles: parse_roles(&r.roles)?,
            language: r
                .language
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(PersonError::Invalid)?,
            login: r.login,
            full_name: r.full_name,
            disabled_at: r.disabled_at,
        })
    }
}

fn parse_roles(text: &str) -> Result<Vec<Role>, PersonError> {
    let mut roles = text
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| r.parse().map_err(PersonError::Invalid))
        .collect::<Result<Vec<Role>, _>>()?;
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    Ok(roles)
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token: `snm_` and 256 random bits in hex.
fn new_token() -> Result<String, PersonError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PersonError::Invalid("the system's random source failed".into()))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The longest login, in bytes (the console refuses a longer one before it
/// stores or checks anything).
pub const LOGIN_MAX_BYTES: usize = 64;

fn check_login(login: &str) -> Result<(), PersonError> {
    let ok = !login.is_empty()
        && login.len() <= LOGIN_MAX_BYTES
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(PersonError::Invalid(format!(
            "login `{login}`: 1 to 64 of a-z, 0-9, `.`, `-`, `_`"
        )))
    }
}

const COLUMNS: &str =
    "login, full_name, roles, disabled_at, language, token_hash, password_hash, signature";

/// Why a person's row is refused: it does not verify.
fn refusal(login: &str) -> PersonError {
    PersonError::Invalid(format!(
        "the row of `{login}` is not signed by this installation's key (edited or planted outside \
         Senim, or from before signing: `senim keys authenticate`): it is refused, not signed anew"
    ))
}

impl Persons {
    pub fn new(db: Db, clock: SharedClock, authority: Option<Arc<Authority>>) -> Persons {
        Persons {
            db,
            clock,
            authority,
        }
    }

    /// Whether `row` may be used: it verifies, or no signing key is configured.
    /// A row that does not is logged, naming the login.
    fn authentic(&self, row: &Row) -> bool {
        let Some(authority) = &self.authority else {
            return true;
        };
        let ok = row.verifies(authority.public_key());
        if !ok {
            tracing::error!(
                table = "persons",
                login = row.login,
                "a person's row is not signed by this installation's key: edited or planted outside \
                 Senim (or from before signing: `senim keys authenticate`); refused as if they did not exist"
            );
        }
        ok
    }

    /// The row of `login`, as stored (signature unchecked).
    async fn row(&self, login: &str) -> Result<Option<Row>, PersonError> {
        let sql = format!("SELECT {COLUMNS} FROM persons WHERE login = $1");
        Ok(on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(login)
            .fetch_optional(pool)
            .await)?)
    }

    /// Adds a person (with their console language, if given); returns them with
    /// their token, shown this once.
    pub async fn add(
        &self,
        login: &str,
        full_name: &str,
        roles: &[Role],
        language: Option<Language>,
    ) -> Result<(Person, String), PersonError> {
        check_login(login)?;
        if full_name.trim().is_empty() {
            return Err(PersonError::Invalid(
                "the full name must not be empty".into(),
            ));
        }
        if roles.is_empty() {
            return Err(PersonError::Invalid(
                "give at least one role: operator, manager, director, auditor".into(),
            ));
        }
        let roles = parse_roles(
            &roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )?;
        let token = new_token()?;
        let now = self.clock.now().trunc_subsecs(6);
        let text = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let row = Row {
            login: login.to_owned(),
            full_name: full_name.trim().to_owned(),
            roles: text.clone(),
            disabled_at: None,
            language: language.map(|l| l.as_str().to_owned()),
            token_hash: hash(&token),
            password_hash: None,
            signature: None,
        };
        let signature = self.authority.as_deref().map(|a| row.sign(a));
        let inserted = on_write!(&self.db, conn => sqlx::query(
            "INSERT INTO persons (login, full_name, roles, token_hash, created_at, language, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (login) DO NOTHING",
        )
        .bind(login)
        .bind(&row.full_name)
        .bind(&text)
        .bind(&row.token_hash)
        .bind(now)
        .bind(&row.language)
        .bind(&signature)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Err(PersonError::Exists(login.to_owned()));
        }
        tracing::info!(login, roles = %text, "person added");
        let person = Person {
            login: login.to_owned(),
            full_name: full_name.trim().to_owned(),
            roles,
            disabled_at: None,
            language,
        };
        Ok((person, token))
    }

    /// Sets a person's console password, stored as an Argon2id hash (PHC string,
    /// a random salt each). At least 12 characters.
    pub async fn set_password(&self, login: &str, password: &str) -> Result<(), PersonError> {
        use argon2::PasswordHasher;
        if password.chars().count() < 12 {
            return Err(PersonError::Invalid(
                "a password has at least 12 characters".into(),
            ));
        }
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .map_err(|_| PersonError::Invalid("the system's random source failed".into()))?;
        let salt = argon2::password_hash::SaltString::encode_b64(&salt)
            .map_err(|e| PersonError::Invalid(e.to_string()))?;
        let phc = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| PersonError::Invalid(e.to_string()))?
            .to_string();
        self.change(login, |row| row.password_hash = Some(phc))
            .await?;
        tracing::info!(login, "console password set");
        Ok(())
    }

    /// The active person whose console password this is; `None` for an unknown
    /// login, a wrong password, no password set or a disabled person (the
    /// Argon2id check runs in every case, so the time says nothing). The check
    /// runs off the async runtime, bounded (`derivation::run`); `Busy` when too
    /// many are asked at once.
    pub async fn check_password(
        &self,
        login: &str,
        password: SecretString,
    ) -> Result<Option<Person>, PersonError> {
        use argon2::PasswordVerifier;
        let row = self.row(login).await?;
        // A hash of a password nobody has, so an unknown login costs the same.
        const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2VuaW1kZWNveXNhbHQ$gNs4rXbrUHyy5mj2Z4Ip9aVLH9pY7rgbB5VTG5h0lF8";
        let (person, phc) = match row.as_ref().and_then(|r| r.password_hash.clone()) {
            Some(phc) => (row, phc),
            None => (None, DECOY.to_owned()),
        };
        let matches = crate::derivation::run(move || {
            argon2::PasswordHash::new(&phc)
                .map(|parsed| {
                    argon2::Argon2::default()
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .map_err(PersonError::Busy)?;
        match person {
            Some(row) if matches && self.authentic(&row) => {
                let person = Person::try_from(row)?;
                Ok(person.disabled_at.is_none().then_some(person))
            }
            _ => Ok(None),
        }
    }

    pub async fn list(&self) -> Result<Vec<Person>, PersonError> {
        let sql = format!("SELECT {COLUMNS} FROM persons ORDER BY login");
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter()
            .filter(|row| self.authentic(row))
            .map(Person::try_from)
            .collect()
    }

    /// Disables a person: their token stops working at once.
    pub async fn disable(&self, login: &str) -> Result<(), PersonError> {
        let now = self.clock.now().trunc_subsecs(6);
        self.change(login, |row| {
            row.disabled_at.get_or_insert(now);
        })
        .await?;
        tracing::info!(login, "person disabled");
        Ok(())
    }

    /// Enables a disabled person again: their token and console login work
    /// again (the only way back; `reset` never does it).
    pub async fn enable(&self, login: &str) -> Result<(), PersonError> {
        self.change(login, |row| {
            row.disabled_at = None;
        })
        .await?;
        tracing::info!(login, "person enabled");
        Ok(())
    }

    /// Gives a person a new token (the old one stops working). A disabled
    /// person stays disabled: their new token works no more than the old.
    pub async fn reset(&self, login: &str) -> Result<String, PersonError> {
        let token = new_token()?;
        let token_hash = hash(&token);
        self.change(login, |row| {
            row.token_hash = token_hash;
        })
        .await?;
        tracing::info!(login, "person's token reset");
        Ok(token)
    }

    /// Sets a person's console language; `None` leaves it to the login page's
    /// choice, else `console.language`. The console's switch and `senim persons
    /// language` both call this.
    pub async fn set_language(
        &self,
        login: &str,
        language: Option<Language>,
    ) -> Result<(), PersonError> {
        let text = language.map(|l| l.as_str().to_owned());
        self.update(login, "language = $1", text).await?;
        tracing::info!(
            login,
            language = language.map_or("default", Language::as_str),
            "console language set"
        );
        Ok(())
    }

    /// An update of one person's row that the signature does not cover: `set`
    /// (an SQL `SET` list whose one parameter is `$1`) with `value`; `NotFound`
    /// if no person has `login`.
    async fn update(
        &self,
        login: &str,
        set: &str,
        value: Option<String>,
    ) -> Result<(), PersonError> {
        let sql = format!("UPDATE persons SET {set} WHERE login = $2");
        let changed = on_write!(&self.db, conn => sqlx::query(&sql)
            .bind(value.clone())
            .bind(login)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(PersonError::NotFound(login.to_owned()));
        }
        Ok(())
    }

    /// A change of what the signature covers, in one transaction: the row is
    /// read, refused unless it verifies (a row edited outside Senim is never
    /// signed anew by an ordinary change), changed by `change`, signed and
    /// written back.
    async fn change(&self, login: &str, change: impl FnOnce(&mut Row)) -> Result<(), PersonError> {
        let mut tx = self.db.begin().await?;
        let sql = format!("SELECT {COLUMNS} FROM persons WHERE login = $1");
        let row: Option<Row> = on_tx!(&mut tx, conn => sqlx::query_as(&sql)
            .bind(login)
            .fetch_optional(conn)
            .await)?;
        let mut row = row.ok_or_else(|| PersonError::NotFound(login.to_owned()))?;
        if !self.authentic(&row) {
            return Err(refusal(login));
        }
        change(&mut row);
        let signature = self.authority.as_deref().map(|a| row.sign(a));
        execute_in!(&mut tx, sqlx::query(
            "UPDATE persons SET token_hash = $1, password_hash = $2, disabled_at = $3, signature = $4 \
             WHERE login = $5",
        )
        .bind(&row.token_hash)
        .bind(&row.password_hash)
        .bind(row.disabled_at)
        .bind(&signature)
        .bind(login))?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `login` is a person not disabled: what a console session asks
    /// on every request, so that a person disabled while logged in can do
    /// nothing more.
    pub async fn is_active(&self, login: &str) -> Result<bool, PersonError> {
        Ok(self
            .row(login)
            .await?
            .is_some_and(|row| row.disabled_at.is_none() && self.authentic(&row)))
    }

    /// The enabled person whose token this is, if any.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Person>, PersonError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        self.enabled_by_token(token)
            .await?
            .filter(|row| self.authentic(row))
            .map(Person::try_from)
            .transpose()
    }

    /// The enabled person whose token this is, their row verifying or unsigned
    /// (never signed otherwise): who may run `senim keys authenticate`, which
    /// adopts the rows from before signing, their own among them.
    pub async fn authenticate_unadopted(&self, token: &str) -> Result<Option<Person>, PersonError> {
        self.enabled_by_token(token)
            .await?
            .filter(|row| row.signature.is_none() || self.authentic(row))
            .map(Person::try_from)
            .transpose()
    }

    /// The row of the enabled person whose token this is (signature unchecked).
    async fn enabled_by_token(&self, token: &str) -> Result<Option<Row>, PersonError> {
        let sql =
            format!("SELECT {COLUMNS} FROM persons WHERE token_hash = $1 AND disabled_at IS NULL");
        Ok(on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(hash(token))
            .fetch_optional(pool)
            .await)?)
    }

    async fn all_rows(&self) -> Result<Vec<Row>, PersonError> {
        let sql = format!("SELECT {COLUMNS} FROM persons ORDER BY login");
        Ok(on_db!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// `journal verify`'s findings: each row not signed by `public` (the
    /// installation's public key: an auditor needs nothing secret).
    pub async fn verify_rows(&self, public: &PublicKey) -> Result<Vec<String>, PersonError> {
        Ok(self
            .all_rows()
            .await?
            .into_iter()
            .filter(|row| !row.verifies(public))
            .map(|row| {
                format!(
                    "persons login {}: not signed by this installation's key: edited or planted \
                     outside Senim{}",
                    row.login,
                    if row.signature.is_none() {
                        " (or from before signing: `senim keys authenticate`)"
                    } else {
                        ""
                    }
                )
            })
            .collect())
    }

    /// The rows that do not verify: unsigned ones, and, with
    /// `with_bad_signatures`, those whose signature fails too. Empty without a
    /// signing key.
    pub async fn unadopted(
        &self,
        with_bad_signatures: bool,
    ) -> Result<Vec<Unadopted>, PersonError> {
        let Some(authority) = &self.authority else {
            return Ok(Vec::new());
        };
        Ok(self
            .all_rows()
            .await?
            .into_iter()
            .filter(|row| {
                !row.verifies(authority.public_key())
                    && (with_bad_signatures || row.signature.is_none())
            })
            .map(Unadopted)
            .collect())
    }

    /// Signs exactly the rows shown (a row changed since no longer matches its
    /// signature); the number signed.
    pub async fn adopt(&self, rows: &[Unadopted]) -> Result<u64, PersonError> {
        let Some(authority) = &self.authority else {
            return Ok(0);
        };
        let mut tx = self.db.begin().await?;
        let mut count = 0;
        for Unadopted(row) in rows {
            count += rows_affected_in!(
                &mut tx,
                sqlx::query("UPDATE persons SET signature = $1 WHERE login = $2",)
                    .bind(row.sign(authority))
                    .bind(&row.login)
            )?;
        }
        tx.commit().await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            login: "marat".into(),
            full_name: "Marat".into(),
            roles: "manager".into(),
            disabled_at: None,
            language: None,
            token_hash: hash("snm_marat"),
            password_hash: None,
            signature: None,
        }
    }

    #[test]
    fn a_persons_signature_covers_what_they_may_do_and_nothing_passes_for_another()
    -> Result<(), crate::authority::AuthorityError> {
        let (authority, _) = Authority::generate()?;
        let public = authority.public_key();
        let mut signed = row();
        assert!(!signed.verifies(public), "an unsigned row verifies");
        signed.signature = Some(signed.sign(&authority));
        assert!(signed.verifies(public));
        // Name and language are not what decides what a person may do.
        let renamed = Row {
            full_name: "Someone".into(),
            language: Some("kk".into()),
            ..signed.clone()
        };
        assert!(renamed.verifies(public));
        for edited in [
            Row {
                roles: "director,manager".into(),
                ..signed.clone()
            },
            Row {
                token_hash: hash("snm_attacker"),
                ..signed.clone()
            },
            Row {
                password_hash: Some("$argon2id$attacker".into()),
                ..signed.clone()
            },
            Row {
                disabled_at: Some(DateTime::<Utc>::UNIX_EPOCH),
                ..signed.clone()
            },
            Row {
                login: "dana".into(),
                ..signed.clone()
            },
        ] {
            assert!(!edited.verifies(public));
        }
        let (stranger, _) = Authority::generate()?;
        assert!(!signed.verifies(stranger.public_key()));
        Ok(())
    }
}
