//! The console's sessions, kept in the daemon's memory only (a restart logs
//! everyone out, and an opened office key never reaches the disk): a random id in
//! an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over HTTPS), looked up by its
//! SHA-256; an idle limit and an absolute one; a CSRF token per session; failed
//! logins counted per login, and a login locked for a while after too many.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::persons::{Person, Role};
use crate::sealing::Unlocked;

/// The session cookie's name.
pub const COOKIE: &str = "senim_session";

/// Failed logins in a row after which a login is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked login stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// One person logged in.
pub struct Session {
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    /// The token every form of this session carries.
    pub csrf: String,
    pub started: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Their own key, and the office key if they read it, if they gave their
    /// passphrase at the login (`office_key` for the Journal's sealed values).
    pub unlocked: Option<Arc<Unlocked>>,
    /// The session's language: the person's own (`persons.language`), else the
    /// one chosen at the login, else `console.language`; the header's switch
    /// changes it.
    pub lang: super::i18n::Lang,
}

impl Session {
    pub fn actor(&self) -> String {
        format!("person:{}", self.login)
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The office key, if they unlocked it at the login (a person who is not
    /// a reader of it holds only their own key, which opens an investigation
    /// file they may read and nothing of the Journal).
    pub fn office_key(&self) -> Option<&Arc<Unlocked>> {
        self.unlocked.as_ref().filter(|u| u.reads_the_office_key())
    }

    /// This session, last seen at `last_seen`, in `lang`.
    fn renewed(&self, last_seen: DateTime<Utc>, lang: super::i18n::Lang) -> Session {
        Session {
            login: self.login.clone(),
            full_name: self.full_name.clone(),
            roles: self.roles.clone(),
            csrf: self.csrf.clone(),
            started: self.started,
            last_seen,
            unlocked: self.unlocked.clone(),
            lang,
        }
    }
}

/// The sessions and the failed-login counters.
pub struct Sessions {
    idle: Duration,
    absolute: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id_hash: HashMap<String, Arc<Session>>,
    failures: HashMap<String, (u32, DateTime<Utc>)>,
}

/// Why a login is refused before its password is even checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Locked {
    pub until: DateTime<Utc>,
}

fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// 256 random bits, hex.
pub fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).ok()?;
    Some(hex::encode(bytes))
}

impl Sessions {
    pub fn new(idle_minutes: u32, absolute_hours: u32) -> Sessions {
        Sessions {
            idle: Duration::minutes(i64::from(idle_minutes)),
            absolute: Duration::hours(i64::from(absolute_hours)),
            inner: Mutex::default(),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err` while `login` is locked after too many failures.
    pub fn check_locked(&self, login: &str, now: DateTime<Utc>) -> Result<(), Locked> {
        match self.inner().failures.get(login) {
            Some((n, last)) if *n >= MAX_FAILURES => {
                let until = *last + Duration::minutes(LOCKOUT_MINUTES);
                if now < until {
                    Err(Locked { until })
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed login; returns whether the login is now locked.
    pub fn failed(&self, login: &str, now: DateTime<Utc>) -> bool {
        let mut inner = self.inner();
        let entry = inner.failures.entry(login.to_owned()).or_insert((0, now));
        // A lock that ran out starts the count again.
        if entry.0 >= MAX_FAILURES && now >= entry.1 + Duration::minutes(LOCKOUT_MINUTES) {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
        entry.0 >= MAX_FAILURES
    }

    /// Starts a session for `person`; returns its id (for the cookie).
    pub fn start(
        &self,
        person: &Person,
        unlocked: Option<Unlocked>,
        lang: super::i18n::Lang,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let id = random_token()?;
        let session = Session {
            login: person.login.clone(),
            full_name: person.full_name.clone(),
            roles: person.roles.clone(),
            csrf: random_token()?,
            started: now,
            last_seen: now,
            unlocked: unlocked.map(Arc::new),
            lang,
        };
        let mut inner = self.inner();
        inner.failures.remove(&person.login);
        inner.by_id_hash.insert(id_hash(&id), Arc::new(session));
        Some(id)
    }

    /// The live session of cookie value `id`, its idle clock reset; an expired
    /// one is dropped.
    pub fn touch(&self, id: &str, now: DateTime<Utc>) -> Option<Arc<Session>> {
        let key = id_hash(id);
        let mut inner = self.inner();
        let session = inner.by_id_hash.get(&key)?.clone();
        if now - session.last_seen > self.idle || now - session.started > self.absolute {
            inner.by_id_hash.remove(&key);
            return None;
        }
        let renewed = Arc::new(session.renewed(now, session.lang));
        inner.by_id_hash.insert(key, renewed.clone());
        Some(renewed)
    }

    /// Sets the language of the live session of cookie value `id`; false if
    /// there is none.
    pub fn set_lang(&self, id: &str, lang: super::i18n::Lang) -> bool {
        let key = id_hash(id);
        let mut inner = self.inner();
        let Some(session) = inner.by_id_hash.get(&key).cloned() else {
            return false;
        };
        let changed = Arc::new(session.renewed(session.last_seen, lang));
        inner.by_id_hash.insert(key, changed);
        true
    }

    /// Whether the session of cookie value `id` is live, without renewing it (a
    /// page's open event stream must not keep its session alive).
    pub fn alive(&self, id: &str, now: DateTime<Utc>) -> bool {
        self.inner()
            .by_id_hash
            .get(&id_hash(id))
            .is_some_and(|s| now - s.last_seen <= self.idle && now - s.started <= self.absolute)
    }

    /// The login of the session of cookie value `id`, if there is one (neither
    /// renewed nor checked for expiry: `touch` does that).
    pub fn login_of(&self, id: &str) -> Option<String> {
        self.inner()
            .by_id_hash
            .get(&id_hash(id))
            .map(|s| s.login.clone())
    }

    /// Ends one session.
    pub fn end(&self, id: &str) {
        self.inner().by_id_hash.remove(&id_hash(id));
    }

    /// Ends every session of `login` ("log out everywhere"); returns how many.
    pub fn end_all(&self, login: &str) -> usize {
        let mut inner = self.inner();
        let before = inner.by_id_hash.len();
        inner.by_id_hash.retain(|_, s| s.login != login);
        before - inner.by_id_hash.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            login: "olga".into(),
            full_name: "Olga".into(),
            roles: vec![Role::Operator],
            disabled_at: None,
            language: None,
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap_or_default()
            + Duration::minutes(minutes)
    }

    #[test]
    fn a_session_ends_when_idle_and_at_its_absolute_limit() {
        let sessions = Sessions::new(15, 8);
        let id = sessions
            .start(&person(), None, super::super::i18n::Lang::En, at(0))
            .unwrap();
        assert!(sessions.touch(&id, at(14)).is_some());
        assert!(
            sessions.touch(&id, at(28)).is_some(),
            "used within 15 minutes"
        );
        assert!(sessions.touch(&id, at(44)).is_none(), "idle 16 minutes");
        let id = sessions
            .start(&person(), None, super::super::i18n::Lang::En, at(0))
            .unwrap();
        for m in (10..480).step_by(10) {
            assert!(sessions.touch(&id, at(m)).is_some());
        }
        assert!(
            sessions.touch(&id, at(481)).is_none(),
            "8 hours after the login"
        );
        assert!(sessions.touch("not a session", at(0)).is_none());
    }

    #[test]
    fn five_failures_lock_a_login_for_a_while() {
        let sessions = Sessions::new(15, 8);
        for i in 0..4 {
            assert!(!sessions.failed("olga", at(i)));
            assert!(sessions.check_locked("olga", at(i)).is_ok());
        }
        assert!(sessions.failed("olga", at(4)));
        assert_eq!(
            sessions.check_locked("olga", at(5)),
            Err(Locked { until: at(19) })
        );
        assert!(sessions.check_locked("olga", at(19)).is_ok());
        assert!(sessions.check_locked("someone", at(5)).is_ok());
    }

    #[test]
    fn log_out_everywhere_ends_every_session_of_the_person() {
        let sessions = Sessions::new(15, 8);
        let a = sessions
            .start(&person(), None, super::super::i18n::Lang::En, at(0))
            .unwrap();
        let b = sessions
            .start(&person(), None, super::super::i18n::Lang::En, at(0))
            .unwrap();
        assert_eq!(sessions.end_all("olga"), 2);
        assert!(sessions.touch(&a, at(1)).is_none() && sessions.touch(&b, at(1)).is_none());
    }

    #[test]
    fn the_language_of_one_session_changes_and_nothing_else() {
        use super::super::i18n::Lang;
        let sessions = Sessions::new(15, 8);
        let a = sessions.start(&person(), None, Lang::Kk, at(0)).unwrap();
        let b = sessions.start(&person(), None, Lang::Kk, at(0)).unwrap();
        let before = sessions.touch(&a, at(1)).unwrap();
        assert!(sessions.set_lang(&a, Lang::Ru));
        let after = sessions.touch(&a, at(2)).unwrap();
        assert_eq!(after.lang, Lang::Ru);
        assert_eq!(
            (&after.csrf, after.started, &after.login),
            (&before.csrf, before.started, &before.login)
        );
        assert_eq!(sessions.touch(&b, at(2)).unwrap().lang, Lang::Kk);
        assert!(!sessions.set_lang("not a session", Lang::En));
    }
}
