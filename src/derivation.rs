//! The slow key derivations — Argon2id for a console password (`persons`), scrypt
//! for a person's key (`sealing`) — run off the async runtime, on tokio's
//! blocking threads, at most `AT_ONCE` at a time in the whole process: a flood
//! of logins can neither stall the runtime (the PBX's requests, the health
//! check) nor take more memory than `AT_ONCE` derivations need (scrypt's is
//! capped by `sealing::keys::MAX_WORK_FACTOR`). At most `WAITING` more wait
//! their turn; beyond, a derivation is refused at once (`Busy`: the console
//! answers "busy, try again").

use std::sync::LazyLock;

use tokio::sync::Semaphore;

/// Derivations running at once.
pub const AT_ONCE: usize = 2;
/// Derivations waiting for their turn; beyond, `Busy`.
pub const WAITING: usize = 16;

/// Too many derivations asked at once: try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many key derivations at once: try again")]
pub struct Busy;

static RUNNING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(AT_ONCE));
static QUEUE: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(AT_ONCE + WAITING));

/// Runs `work` on a blocking thread when its turn comes; `Busy` if too many are
/// waiting already. If the caller goes away, the work still finishes (a thread
/// cannot be stopped) and its permit is given back then.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let queued = QUEUE.try_acquire().map_err(|_| Busy)?;
    let running = RUNNING.acquire().await.map_err(|_| Busy)?;
    let done = tokio::task::spawn_blocking(move || {
        let out = work();
        drop(running);
        drop(queued);
        out
    });
    done.await.map_err(|_| Busy)
}
