//! Waiting on state instead of sleeping: `eventually` polls until what a test
//! waits for holds, and on time-out panics with what it last saw.

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How soon `eventually` looks again at first, and at the most: from 10 ms,
/// doubling up to 100 ms.
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(100);

/// Polls `probe` until it gives `Ok(value)`, returning the value; panics after
/// `limit` naming `what` and the last `Err` it gave (what was last seen).
pub async fn eventually<T, E: Debug>(
    limit: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let mut wait = Wait::new(limit, what);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) => tokio::time::sleep(wait.after(seen)).await,
        }
    }
}

/// `eventually` for a condition: until `done` holds.
pub async fn until(limit: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    eventually(limit, what, async || ok_if(done().await, "not yet")).await;
}

/// `eventually` without a runtime (blocking the thread between looks).
pub fn eventually_blocking<T, E: Debug>(
    limit: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, E>,
) -> T {
    let mut wait = Wait::new(limit, what);
    let mut answer = probe();
    while let Err(seen) = answer {
        std::thread::sleep(wait.after(seen));
        answer = probe();
    }
    answer.unwrap_or_else(|_| unreachable!("the loop ends on Ok"))
}

/// A wait's deadline and its next pause.
struct Wait<'a> {
    limit: Duration,
    what: &'a str,
    deadline: Instant,
    poll: Duration,
}

impl<'a> Wait<'a> {
    fn new(limit: Duration, what: &'a str) -> Self {
        let deadline = Instant::now() + limit;
        Wait {
            limit,
            what,
            deadline,
            poll: FIRST_POLL,
        }
    }

    /// How long to pause after seeing `seen`; panics past the deadline.
    fn after(&mut self, seen: impl Debug) -> Duration {
        let (limit, what) = (self.limit, self.what);
        assert!(
            Instant::now() < self.deadline,
            "timed out after {limit:?} waiting for {what}; last seen: {seen:?}"
        );
        let pause = self.poll;
        self.poll = (self.poll * 2).min(MAX_POLL);
        pause
    }
}

/// `eventually_blocking` for a condition.
pub fn until_blocking(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    eventually_blocking(limit, what, || ok_if(done(), "not yet"));
}

/// `Ok` when `done`, else what was seen instead: a probe's answer for a
/// condition, e.g. `ok_if(count >= 2, count)`.
pub fn ok_if<T>(done: bool, seen: T) -> Result<(), T> {
    if done { Ok(()) } else { Err(seen) }
}

/// Text shown as it is (not escaped) when a wait times out: logs, a page.
pub struct Raw(pub String);

impl Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\n{}", self.0)
    }
}
