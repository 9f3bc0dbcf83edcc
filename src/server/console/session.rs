//! The console's sessions, kept in the daemon's memory only (a restart logs
//! everyone out, and an opened key never reaches the disk): an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` over HTTPS) carrying a random id and a
//! random key; an idle limit and an absolute one; a CSRF token per session;
//! failed logins counted per login, and a login locked for a while after too
//! many.
//!
//! - The keys a person opened at the login (`Unlocked`) are not kept: what is
//!   kept is their text sealed with ChaCha20-Poly1305 under the cookie's key,
//!   which the daemon never stores (it keeps the id's SHA-256). Each request
//!   opens them into buffers wiped on drop, and the `Unlocked` it rebuilds lives
//!   as long as the request (`LoggedIn::unlocked`): an idle daemon holds nothing
//!   that opens an appeal.
//! - Ended sessions are dropped at once (log-out, a disabled person) and
//!   expired ones by `Sessions::sweep`, which the console runs every
//!   `SWEEP_SECONDS`, not only when their cookie comes back.
//! - The failed-login counters are bounded: a login longer than
//!   `persons::LOGIN_MAX_BYTES` is never counted (the login refuses it first),
//!   they are keyed by the login's SHA-256, at most `MAX_TRACKED` are kept
//!   (the expired, then the oldest, make room), and an attempt is counted
//!   before its password is checked (`Sessions::reserve`), so at most
//!   `MAX_FAILURES` checks of one login run before it is locked, however many
//!   arrive at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::persons::{Person, Role};
use crate::rulebook::Action;
use crate::sealing::Unlocked;

/// The session cookie's name.
pub const COOKIE: &str = "senim_session";

/// Failed logins in a row after which a login is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked login stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;
/// Logins whose failures are counted at most; beyond, the expired and then
/// the oldest counts are forgotten.
pub const MAX_TRACKED: usize = 10_000;
/// How often expired sessions are dropped.
pub const SWEEP_SECONDS: u64 = 15;

/// One person logged in, as one request sees it.
pub struct LoggedIn {
    pub login: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    /// The token every form of this session carries.
    pub csrf: String,
    pub started: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Their own key, and the office key if they read it, if they gave their
    /// passphrase at the login (`office_key` for the Journal's sealed values):
    /// opened for this request from the session's sealed copy, wiped when the
    /// request drops it.
    pub unlocked: Option<Arc<Unlocked>>,
    /// The session's language: the person's own (`persons.language`), else the
    /// one chosen at the login, else `console.language`; the header's switch
    /// changes it.
    pub lang: super::i18n::Lang,
}

impl LoggedIn {
    pub fn actor(&self) -> String {
        format!("person:{}", self.login)
    }

    /// Whether they hold `role`: what a page is laid out for. What they may
    /// do is the rulebook's (`may`).
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the rulebook lets them take `action`: a page offers a link or a
    /// form exactly when its route would let them in.
    pub fn may(&self, action: Action) -> bool {
        action.allows(&self.roles)
    }

    /// The office key, if they unlocked it at the login (a person who is not
    /// a reader of it holds only their own key, which opens an investigation
    /// file they may read and nothing of the Journal).
    pub fn office_key(&self) -> Option<&Arc<Unlocked>> {
        self.unlocked.as_ref().filter(|u| u.reads_the_office_key())
    }
}

/// A session as the daemon keeps it between requests.
struct Stored {
    login: String,
    full_name: String,
    roles: Vec<Role>,
    csrf: String,
    started: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    lang: super::i18n::Lang,
    /// The opened keys' text (`Unlocked::to_secret`) sealed under the cookie's
    /// key, bound to the id's hash.
    keys: Option<Vec<u8>>,
}

impl Stored {
    fn expired(&self, now: DateTime<Utc>, idle: Duration, absolute: Duration) -> bool {
        now - self.last_seen > idle || now - self.started > absolute
    }
}

/// What the cookie carries: the session's id and the key its opened keys are
/// sealed under, 64 hex digits each.
struct CookieValue<'a> {
    id: &'a str,
    key: Zeroizing<[u8; 32]>,
}

impl<'a> CookieValue<'a> {
    fn parse(value: &'a str) -> Option<CookieValue<'a>> {
        if value.len() != 128 || !value.is_ascii() {
            return None;
        }
        let (id, key_hex) = value.split_at(64);
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(key_hex, &mut key[..]).ok()?;
        Some(CookieValue { id, key })
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
    by_id_hash: HashMap<[u8; 32], Stored>,
    failures: HashMap<[u8; 32], Failures>,
}

/// A login's failures in a row, and the last one's time.
#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

impl Failures {
    fn locked_until(&self) -> DateTime<Utc> {
        self.last + Duration::minutes(LOCKOUT_MINUTES)
    }
}

/// Why a login is refused before its password is even checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Locked {
    pub until: DateTime<Utc>,
}

/// A login's attempt, counted as a failure until the login succeeds
/// (`Sessions::start`) or the attempt is given back unchecked
/// (`Sessions::give_back`).
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    login_hash: [u8; 32],
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn random_bytes<const N: usize>() -> Option<Zeroizing<[u8; N]>> {
    let mut bytes = Zeroizing::new([0u8; N]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes[..]).ok()?;
    Some(bytes)
}

/// 256 random bits, hex.
pub fn random_token() -> Option<String> {
    random_bytes::<32>().map(|b| hex::encode(&b[..]))
}

const NONCE: [u8; 12] = [0; 12];

/// Seals `unlocked`'s text under `key` (used for this one session: a fixed
/// nonce is safe), bound to the session's id hash.
fn seal_keys(unlocked: &Unlocked, key: &[u8; 32], id_hash: &[u8; 32]) -> Option<Vec<u8>> {
    let secret = unlocked.to_secret();
    // Room for the tag at once: a buffer that grew would leave a copy behind.
    let mut buffer = Zeroizing::new(Vec::with_capacity(secret.len() + 16));
    buffer.extend_from_slice(&secret);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .encrypt_in_place(Nonce::from_slice(&NONCE), id_hash, &mut *buffer)
        .ok()?;
    Some(std::mem::take(&mut *buffer))
}

/// Opens what `seal_keys` sealed; `None` if the key is not the session's.
fn open_keys(sealed: &[u8], key: &[u8; 32], id_hash: &[u8; 32]) -> Option<Unlocked> {
    let mut buffer = Zeroizing::new(sealed.to_vec());
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt_in_place(Nonce::from_slice(&NONCE), id_hash, &mut *buffer)
        .ok()?;
    Unlocked::from_secret(&buffer).ok()
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

    /// Counts an attempt of `login` before its password is checked; `Err`
    /// while the login is locked (nothing is counted then). The count is kept
    /// until the login succeeds (`start`) or the attempt is given back.
    pub fn reserve(&self, login: &str, now: DateTime<Utc>) -> Result<Attempt, Locked> {
        let login_hash = sha256(login);
        let mut inner = self.inner();
        if !inner.failures.contains_key(&login_hash) && inner.failures.len() >= MAX_TRACKED {
            inner.make_room(now);
        }
        let entry = inner.failures.entry(login_hash).or_insert(Failures {
            count: 0,
            last: now,
        });
        if entry.count >= MAX_FAILURES {
            if now < entry.locked_until() {
                return Err(Locked {
                    until: entry.locked_until(),
                });
            }
            // A lock that ran out starts the count again.
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        Ok(Attempt { login_hash })
    }

    /// Gives back an attempt whose password was never checked (too many
    /// derivations at once, the database unavailable).
    pub fn give_back(&self, attempt: Attempt) {
        let mut inner = self.inner();
        if let Some(entry) = inner.failures.get_mut(&attempt.login_hash) {
            entry.count = entry.count.saturating_sub(1);
            if entry.count == 0 {
                inner.failures.remove(&attempt.login_hash);
            }
        }
    }

    /// Starts a session for `person` (their attempt succeeded: their failures
    /// are forgotten); returns the cookie's value.
    pub fn start(
        &self,
        person: &Person,
        unlocked: Option<Unlocked>,
        lang: super::i18n::Lang,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let id = random_token()?;
        let key = random_bytes::<32>()?;
        let id_hash = sha256(&id);
        let keys = match unlocked {
            Some(unlocked) => Some(seal_keys(&unlocked, &key, &id_hash)?),
            None => None,
        };
        let session = Stored {
            login: person.login.clone(),
            full_name: person.full_name.clone(),
            roles: person.roles.clone(),
            csrf: random_token()?,
            started: now,
            last_seen: now,
            lang,
            keys,
        };
        let mut inner = self.inner();
        inner.failures.remove(&sha256(&person.login));
        inner.by_id_hash.insert(id_hash, session);
        inner.publish();
        Some(format!("{id}{}", hex::encode(&key[..])))
    }

    /// The live session of cookie value `cookie`, its idle clock reset and its
    /// keys opened for this request; an expired one is dropped.
    pub fn touch(&self, cookie: &str, now: DateTime<Utc>) -> Option<Arc<LoggedIn>> {
        let value = CookieValue::parse(cookie)?;
        let id_hash = sha256(value.id);
        let (session, sealed) = {
            let mut inner = self.inner();
            let stored = inner.by_id_hash.get_mut(&id_hash)?;
            if stored.expired(now, self.idle, self.absolute) {
                inner.by_id_hash.remove(&id_hash);
                inner.publish();
                return None;
            }
            stored.last_seen = now;
            let session = LoggedIn {
                login: stored.login.clone(),
                full_name: stored.full_name.clone(),
                roles: stored.roles.clone(),
                csrf: stored.csrf.clone(),
                started: stored.started,
                last_seen: now,
                unlocked: None,
                lang: stored.lang,
            };
            (session, stored.keys.clone())
        };
        let unlocked = match sealed {
            Some(sealed) => Some(Arc::new(open_keys(&sealed, &value.key, &id_hash)?)),
            None => None,
        };
        Some(Arc::new(LoggedIn {
            unlocked,
            ..session
        }))
    }

    /// Sets the language of the live session of cookie value `cookie`; false
    /// if there is none.
    pub fn set_lang(&self, cookie: &str, lang: super::i18n::Lang) -> bool {
        let Some(value) = CookieValue::parse(cookie) else {
            return false;
        };
        match self.inner().by_id_hash.get_mut(&sha256(value.id)) {
            Some(stored) => {
                stored.lang = lang;
                true
            }
            None => false,
        }
    }

    /// Whether the session of cookie value `cookie` is live, without renewing
    /// it (a page's open event stream must not keep its session alive).
    pub fn alive(&self, cookie: &str, now: DateTime<Utc>) -> bool {
        CookieValue::parse(cookie).is_some_and(|value| {
            self.inner()
                .by_id_hash
                .get(&sha256(value.id))
                .is_some_and(|s| !s.expired(now, self.idle, self.absolute))
        })
    }

    /// The login of the session of cookie value `cookie`, if there is one
    /// (neither renewed nor checked for expiry: `touch` does that).
    pub fn login_of(&self, cookie: &str) -> Option<String> {
        let value = CookieValue::parse(cookie)?;
        self.inner()
            .by_id_hash
            .get(&sha256(value.id))
            .map(|s| s.login.clone())
    }

    /// Ends one session, and drops the expired ones.
    pub fn end(&self, cookie: &str, now: DateTime<Utc>) {
        if let Some(value) = CookieValue::parse(cookie) {
            self.inner().by_id_hash.remove(&sha256(value.id));
        }
        self.sweep(now);
    }

    /// Ends every session of `login` ("log out everywhere", a disabled
    /// person); returns how many.
    pub fn end_all(&self, login: &str) -> usize {
        let mut inner = self.inner();
        let before = inner.by_id_hash.len();
        inner.by_id_hash.retain(|_, s| s.login != login);
        inner.publish();
        before - inner.by_id_hash.len()
    }

    /// Drops the expired sessions and failure counts; returns how many
    /// sessions it dropped.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let mut inner = self.inner();
        let before = inner.by_id_hash.len();
        inner
            .by_id_hash
            .retain(|_, s| !s.expired(now, self.idle, self.absolute));
        inner.failures.retain(|_, f| now < f.locked_until());
        inner.publish();
        before - inner.by_id_hash.len()
    }

    /// How many sessions are kept (live or not yet swept).
    pub fn count(&self) -> usize {
        self.inner().by_id_hash.len()
    }

    /// How many logins' failures are counted.
    pub fn tracked_failures(&self) -> usize {
        self.inner().failures.len()
    }
}

impl Inner {
    /// Forgets the failures whose lock (or count) ran out; if none did, the
    /// oldest tenth.
    fn make_room(&mut self, now: DateTime<Utc>) {
        self.failures.retain(|_, f| now < f.locked_until());
        if self.failures.len() >= MAX_TRACKED {
            let mut lasts: Vec<DateTime<Utc>> = self.failures.values().map(|f| f.last).collect();
            lasts.sort_unstable();
            if let Some(cut) = lasts.get(MAX_TRACKED / 10).copied() {
                self.failures.retain(|_, f| f.last > cut);
            }
        }
    }

    /// The sessions' gauge.
    fn publish(&self) {
        metrics::gauge!("senim_console_sessions").set(self.by_id_hash.len() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::super::i18n::Lang;
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
        let id = sessions.start(&person(), None, Lang::En, at(0)).unwrap();
        assert!(sessions.touch(&id, at(14)).is_some());
        assert!(
            sessions.touch(&id, at(28)).is_some(),
            "used within 15 minutes"
        );
        assert!(sessions.touch(&id, at(44)).is_none(), "idle 16 minutes");
        let id = sessions.start(&person(), None, Lang::En, at(0)).unwrap();
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
        for i in 0..5 {
            let _ = sessions.reserve("olga", at(i)).unwrap();
        }
        assert_eq!(
            sessions.reserve("olga", at(5)).unwrap_err(),
            Locked { until: at(19) }
        );
        assert!(sessions.reserve("olga", at(19)).is_ok(), "the lock ran out");
        assert!(sessions.reserve("someone", at(5)).is_ok());
    }

    #[test]
    fn an_attempt_is_counted_before_its_check_and_a_login_forgets_them() {
        let sessions = Sessions::new(15, 8);
        let attempts: Vec<_> = (0..5).map(|_| sessions.reserve("olga", at(0))).collect();
        assert!(attempts.iter().all(Result::is_ok));
        assert!(sessions.reserve("olga", at(0)).is_err(), "the sixth waits");
        for a in attempts.into_iter().flatten() {
            sessions.give_back(a);
        }
        assert_eq!(sessions.tracked_failures(), 0, "given back unchecked");
        let _ = sessions.reserve("olga", at(1)).unwrap();
        sessions.start(&person(), None, Lang::En, at(1)).unwrap();
        assert_eq!(sessions.tracked_failures(), 0, "a login forgets them");
    }

    #[test]
    fn the_failure_counts_are_bounded() {
        let sessions = Sessions::new(15, 8);
        for i in 0..(MAX_TRACKED + 500) {
            let _ = sessions.reserve(&format!("login-{i}"), at(0));
        }
        assert!(sessions.tracked_failures() <= MAX_TRACKED);
        assert!(sessions.reserve("fresh", at(0)).is_ok());
    }

    #[test]
    fn the_sweep_drops_expired_sessions_without_their_cookie() {
        let sessions = Sessions::new(15, 8);
        let old = sessions.start(&person(), None, Lang::En, at(0)).unwrap();
        let new = sessions.start(&person(), None, Lang::En, at(10)).unwrap();
        assert_eq!(sessions.sweep(at(20)), 1);
        assert_eq!(sessions.count(), 1);
        assert!(sessions.touch(&old, at(20)).is_none());
        assert!(sessions.touch(&new, at(20)).is_some());
    }

    #[test]
    fn the_keys_open_only_with_the_cookie_that_carries_their_key() {
        let sessions = Sessions::new(15, 8);
        let keys = Unlocked::without_keys("person:olga");
        let cookie = sessions
            .start(&person(), Some(keys), Lang::En, at(0))
            .unwrap();
        let opened = sessions.touch(&cookie, at(1)).unwrap();
        assert_eq!(opened.unlocked.as_ref().unwrap().actor, "person:olga");
        let mut forged = cookie[..64].to_owned();
        forged.push_str(&"0".repeat(64));
        assert!(
            sessions.touch(&forged, at(1)).is_none(),
            "the id alone opens nothing"
        );
        assert!(sessions.touch(&cookie[..64], at(1)).is_none());
    }

    #[test]
    fn log_out_everywhere_ends_every_session_of_the_person() {
        let sessions = Sessions::new(15, 8);
        let a = sessions.start(&person(), None, Lang::En, at(0)).unwrap();
        let b = sessions.start(&person(), None, Lang::En, at(0)).unwrap();
        assert_eq!(sessions.end_all("olga"), 2);
        assert!(sessions.touch(&a, at(1)).is_none() && sessions.touch(&b, at(1)).is_none());
    }

    #[test]
    fn the_language_of_one_session_changes_and_nothing_else() {
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
