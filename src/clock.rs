//! The clock: the one place the daemon reads the current time, so tests can pin it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock, truncated to microseconds (what both databases store).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until moved: for tests.
#[derive(Clone, Debug)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(instant)))
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = instant;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A shared clock, as the daemon's parts hold it.
pub type SharedClock = Arc<dyn Clock>;

/// The system's clock moved by a fixed offset: it runs at the real pace from
/// another instant. Only for end-to-end tests of the real binary (see `from_env`).
#[derive(Clone, Copy, Debug)]
pub struct OffsetClock {
    offset: chrono::Duration,
}

impl OffsetClock {
    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        (Utc::now() + self.offset).trunc_subsecs(6)
    }
}

/// Test build only (`test-hooks`): an RFC 3339 instant the daemon's clock starts
/// from. Not `SENIM_…`: that prefix is the configuration's.
#[cfg(feature = "test-hooks")]
pub const START_ENV: &str = "TEST_SENIM_CLOCK_START";

/// The daemon's clock: the system's; in the test build, moved to start at
/// `TEST_SENIM_CLOCK_START` if it is set (by the end-to-end tests, to pin the
/// calendar day their calls fall on).
#[cfg(feature = "test-hooks")]
pub fn from_env() -> Result<SharedClock, String> {
    match std::env::var(START_ENV) {
        Err(_) => Ok(Arc::new(SystemClock)),
        Ok(text) => {
            let start = DateTime::parse_from_rfc3339(text.trim())
                .map_err(|e| format!("{START_ENV}: `{text}` is not an RFC 3339 instant: {e}"))?;
            tracing::warn!(start = %start, "{START_ENV} is set: the clock is moved (tests only)");
            Ok(Arc::new(OffsetClock::starting_at(start.to_utc())))
        }
    }
}

/// The daemon's clock: the system's (the release binary reads no test hook).
#[cfg(not(feature = "test-hooks"))]
pub fn from_env() -> Result<SharedClock, String> {
    Ok(Arc::new(SystemClock))
}
