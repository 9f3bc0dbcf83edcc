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

use chrono::{DateTime, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::clock::SharedClock;
pub use crate::config::mailbox::Language;
use crate::db::Db;
use crate::{on_db, on_write};

crate::text_enum! {
    /// What a person may do.
    Role {
        Operator = "operator",
        Manager = "manager",
        Director = "director",
        Auditor = "auditor",
    }
}

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
}

#[derive(sqlx::FromRow)]
struct Row {
    login: String,
    full_name: String,
    roles: String,
    disabled_at: Option<DateTime<Utc>>,
    language: Option<String>,
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

const COLUMNS: &str = "login, full_name, roles, disabled_at, language";

/// The value a one-row update (`Persons::update`) sets, as its column's type.
enum Value {
    Text(Option<String>),
    At(DateTime<Utc>),
}

impl Persons {
    pub fn new(db: Db, clock: SharedClock) -> Persons {
        Persons { db, clock }
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
        let inserted = on_write!(&self.db, conn => sqlx::query(
            "INSERT INTO persons (login, full_name, roles, token_hash, created_at, language) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING",
        )
        .bind(login)
        .bind(full_name.trim())
        .bind(&text)
        .bind(hash(&token))
        .bind(now)
        .bind(language.map(Language::as_str))
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
        self.update(login, "password_hash = $1", Value::Text(Some(phc)))
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
        let sql = format!("SELECT {COLUMNS}, password_hash FROM persons WHERE login = $1");
        let row: Option<(Row, Option<String>)> = on_db!(&self.db, pool => sqlx::query(&sql)
            .bind(login)
            .fetch_optional(pool)
            .await
            .and_then(|r| r.map(|r| {
                use sqlx::{FromRow, Row as _};
                Ok((Row::from_row(&r)?, r.try_get::<Option<String>, _>("password_hash")?))
            }).transpose()))?;
        // A hash of a password nobody has, so an unknown login costs the same.
        const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2VuaW1kZWNveXNhbHQ$gNs4rXbrUHyy5mj2Z4Ip9aVLH9pY7rgbB5VTG5h0lF8";
        let (person, phc) = match row {
            Some((row, Some(phc))) => (Some(row), phc),
            _ => (None, DECOY.to_owned()),
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
            Some(row) if matches => {
                let person = Person::try_from(row)?;
                Ok(person.disabled_at.is_none().then_some(person))
            }
            _ => Ok(None),
        }
    }

    pub async fn list(&self) -> Result<Vec<Person>, PersonError> {
        let sql = format!("SELECT {COLUMNS} FROM persons ORDER BY login");
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(Person::try_from).collect()
    }

    /// Disables a person: their token stops working at once.
    pub async fn disable(&self, login: &str) -> Result<(), PersonError> {
        let now = self.clock.now().trunc_subsecs(6);
        self.update(
            login,
            "disabled_at = COALESCE(disabled_at, $1)",
            Value::At(now),
        )
        .await?;
        tracing::info!(login, "person disabled");
        Ok(())
    }

    /// Gives a person a new token (the old one stops working). A disabled
    /// person stays disabled: their new token works no more than the old.
    pub async fn reset(&self, login: &str) -> Result<String, PersonError> {
        let token = new_token()?;
        self.update(login, "token_hash = $1", Value::Text(Some(hash(&token))))
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
        self.update(login, "language = $1", Value::Text(text))
            .await?;
        tracing::info!(
            login,
            language = language.map_or("default", Language::as_str),
            "console language set"
        );
        Ok(())
    }

    /// The one update of one person's row: `set` (an SQL `SET` list whose one
    /// parameter is `$1`) with `value`; `NotFound` if no person has `login`.
    async fn update(&self, login: &str, set: &str, value: Value) -> Result<(), PersonError> {
        let sql = format!("UPDATE persons SET {set} WHERE login = $2");
        let changed = on_write!(&self.db, conn => {
            let query = sqlx::query(&sql);
            let query = match &value {
                Value::Text(text) => query.bind(text.clone()),
                Value::At(at) => query.bind(*at),
            };
            query.bind(login).execute(conn).await.map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(PersonError::NotFound(login.to_owned()));
        }
        Ok(())
    }

    /// Whether `login` is a person not disabled: what a console session asks
    /// on every request, so that a person disabled while logged in can do
    /// nothing more.
    pub async fn is_active(&self, login: &str) -> Result<bool, PersonError> {
        let found: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT 1 FROM persons WHERE login = $1 AND disabled_at IS NULL",
        )
        .bind(login)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// The enabled person whose token this is, if any.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Person>, PersonError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let sql =
            format!("SELECT {COLUMNS} FROM persons WHERE token_hash = $1 AND disabled_at IS NULL");
        let row: Option<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(hash(token))
            .fetch_optional(pool)
            .await)?;
        row.map(Person::try_from).transpose()
    }
}
