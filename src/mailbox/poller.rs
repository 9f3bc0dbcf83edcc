//! The mailbox loop: connect, then repeatedly take every unsettled message in the
//! folder, make it durable (`intake`), settle it on the server, and wait for more
//! in IDLE (re-issued every `idle_renew_seconds`) or by polling. Any network or
//! server failure drops the connection and reconnects after a backoff that
//! doubles from 1 s to `max_backoff_seconds`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Mailbox;
use super::imap::{Connection, ImapError, Woken};
use super::intake::{self, Claimant, Committed, Ingested, IntakeError};
use super::store::{Claim, Disposition};
use crate::config::mailbox::AfterRegistration;

/// Test-only: abort the process right after the N-th committed batch, before
/// the messages are settled on the server (the crash window of exactly-once).
/// Not `SENIM_…`: that prefix is the configuration's.
#[cfg(feature = "test-hooks")]
pub const CRASH_AFTER_COMMIT_ENV: &str = "TEST_SENIM_CRASH_AFTER_COMMIT";

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

/// Runs until `shutdown` turns true. `instance` names this process in the
/// settling claims (`crate::instance::id`).
pub async fn run(channel: Arc<Mailbox>, instance: String, mut shutdown: watch::Receiver<bool>) {
    let config = &channel.config.mailbox;
    let status = channel.status.clone();
    let setup = config
        .read_password()
        .map_err(anyhow::Error::msg)
        .and_then(|p| Ok((p, super::imap::tls_config(config)?)));
    let (password, tls) = match setup {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the mailbox cannot be used");
            status.failed(channel.clock.now(), e.to_string());
            return;
        }
    };
    let crash_after = crash_after_commits();
    let commits = AtomicU64::new(0);
    let claimant = Claimant {
        owner: instance,
        hold: config.settle_claim(),
    };
    let mailbox = format!(
        "{}@{}/{}",
        config.username,
        config.host.trim(),
        config.folder
    );
    let max_backoff = config.max_backoff_seconds.std();
    let mut backoff = Duration::from_secs(1);
    tracing::info!(folder = %config.folder, "mailbox poller started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let crash = CrashHook {
            after: crash_after,
            commits: &commits,
        };
        let place = Place {
            mailbox: &mailbox,
            claimant: &claimant,
        };
        match session(
            &channel,
            &password,
            tls.clone(),
            &place,
            &mut shutdown,
            &mut backoff,
            &crash,
        )
        .await
        {
            Ok(()) => break,
            Err(e) => {
                if *shutdown.borrow() {
                    break;
                }
                status.failed(channel.clock.now(), e.to_string());
                tracing::warn!(error = %e, retry_in_seconds = backoff.as_secs(), "mailbox failed; reconnecting");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => break,
                }
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
    tracing::info!("mailbox poller stopped");
}

/// Test build only (`test-hooks`): after how many commits the poller aborts.
#[cfg(feature = "test-hooks")]
fn crash_after_commits() -> Option<u64> {
    std::env::var(CRASH_AFTER_COMMIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
}

/// The release binary has no crash point.
#[cfg(not(feature = "test-hooks"))]
fn crash_after_commits() -> Option<u64> {
    None
}

struct CrashHook<'a> {
    after: Option<u64>,
    commits: &'a AtomicU64,
}

impl CrashHook<'_> {
    fn committed(&self) {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if self.after == Some(n) {
            tracing::error!(commits = n, "test hook: aborting between commit and settle");
            std::process::abort();
        }
    }
}

/// The folder being read, and who this process is in the settling claims.
struct Place<'a> {
    mailbox: &'a str,
    claimant: &'a Claimant,
}

/// Messages another process committed and will settle: left alone until its
/// claim runs out. Per connection (UIDs are per UIDVALIDITY).
#[derive(Default)]
struct Deferred(BTreeMap<u32, DateTime<Utc>>);

impl Deferred {
    fn forget_expired(&mut self, now: DateTime<Utc>) {
        self.0.retain(|_, until| *until > now);
    }

    fn contains(&self, uid: u32) -> bool {
        self.0.contains_key(&uid)
    }

    /// How long until the first claim runs out, if any is held.
    fn next_look(&self, now: DateTime<Utc>) -> Option<Duration> {
        let first = self.0.values().min()?;
        Some((*first - now).to_std().unwrap_or_default() + Duration::from_secs(1))
    }
}

/// One connection's life; `Ok` only on shutdown.
async fn session(
    channel: &Mailbox,
    password: &str,
    tls: Arc<rustls::ClientConfig>,
    place: &Place<'_>,
    shutdown: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
    crash: &CrashHook<'_>,
) -> Result<(), PollError> {
    let config = &channel.config.mailbox;
    let mut conn = Connection::open(config, password, tls).await?;
    tracing::info!(
        uidvalidity = conn.uidvalidity,
        idle = conn.capabilities.idle,
        move_ = conn.capabilities.move_,
        "mailbox connected"
    );
    *backoff = Duration::from_secs(1);
    let mut deferred = Deferred::default();
    loop {
        drain(channel, &mut conn, place, &mut deferred, crash).await?;
        let now = channel.clock.now();
        channel.status.reached(now);
        if *shutdown.borrow() {
            conn.logout().await;
            return Ok(());
        }
        // Look again when a claim another process holds runs out, in case it died.
        let at_most = |wait: Duration| deferred.next_look(now).map_or(wait, |d| d.min(wait));
        if config.idle && conn.capabilities.idle {
            let renew = at_most(config.idle_renew_seconds.std());
            match conn.idle(renew, shutdown).await {
                Ok((c, Woken::Changed | Woken::Renew)) => conn = c,
                Ok((c, Woken::Shutdown)) => {
                    c.logout().await;
                    return Ok(());
                }
                Err(_) if *shutdown.borrow() => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        } else {
            tokio::select! {
                () = tokio::time::sleep(at_most(config.poll_interval_seconds.std())) => {}
                _ = shutdown.changed() => {
                    conn.logout().await;
                    return Ok(());
                }
            }
        }
    }
}

/// Takes every unsettled message in the folder, batch by batch (`imap::plan`: by
/// count and bytes, oversized messages by their headers only). The next batch is
/// fetched from the server while the previous one commits, so the IMAP server and
/// the database work at once; a batch is settled only after its own commit.
async fn drain(
    channel: &Mailbox,
    conn: &mut Connection,
    place: &Place<'_>,
    deferred: &mut Deferred,
    crash: &CrashHook<'_>,
) -> Result<(), PollError> {
    let config = &channel.config.mailbox;
    let after = config.after_registration;
    let (mailbox, claimant) = (place.mailbox, place.claimant);
    loop {
        deferred.forget_expired(channel.clock.now());
        let mut pending = conn.pending(after).await?;
        pending.retain(|uid| !deferred.contains(*uid));
        if pending.is_empty() {
            return Ok(());
        }
        let uidvalidity = conn.uidvalidity;
        // Sizes first: a message over the limit is fetched by its header only, and
        // a batch holds at most `batch_max_bytes`.
        let sizes = conn.sizes(&pending).await?;
        let batches = super::imap::plan(
            &sizes,
            config.batch_size as usize,
            config.batch_max_bytes,
            config.max_message_bytes,
        );
        let mut settled_any = false;
        let mut previous: Option<Vec<intake::Prepared>> = None;
        for chunk in &batches {
            let committing = async {
                match &previous {
                    Some(batch) => Some(
                        intake::commit_batch(channel, mailbox, uidvalidity, claimant, batch).await,
                    ),
                    None => None,
                }
            };
            let (fetched, committed) = tokio::join!(conn.fetch(chunk), committing);
            if let Some(committed) = committed {
                previous = None;
                settle(conn, crash, committed?, config, deferred).await?;
                settled_any = true;
            }
            let fetched = fetched?;
            if fetched.is_empty() {
                continue;
            }
            previous = Some(intake::prepare(channel, fetched).await?);
        }
        if let Some(batch) = previous.take() {
            let committed =
                intake::commit_batch(channel, mailbox, uidvalidity, claimant, &batch).await?;
            settle(conn, crash, committed, config, deferred).await?;
            settled_any = true;
        }
        if !settled_any {
            return Ok(());
        }
    }
}

/// After a batch's commit: moves or flags the messages this process claimed;
/// the others are left to the process that holds them.
async fn settle(
    conn: &mut Connection,
    crash: &CrashHook<'_>,
    committed: Vec<Committed>,
    config: &crate::config::mailbox::MailboxConfig,
    deferred: &mut Deferred,
) -> Result<(), PollError> {
    crash.committed();
    let after = config.after_registration;
    let mut mine = Vec::with_capacity(committed.len());
    for c in &committed {
        match c.claim {
            Claim::Mine => mine.push(c.outcome.uid()),
            Claim::HeldUntil(until) => {
                deferred.0.insert(c.outcome.uid(), until);
            }
        }
    }
    conn.settle(&mine, after, &config.processed_folder).await?;
    report(&committed, after);
    Ok(())
}

/// Logs and counts what a committed batch became: UIDs, registration numbers
/// and appeal ids only.
fn report(committed: &[Committed], after: AfterRegistration) {
    for Committed { outcome, claim } in committed {
        match outcome {
            Ingested::Stored {
                uid,
                disposition,
                registration_number,
                registered,
                problem,
            } => {
                metrics::counter!("senim_mailbox_messages_total", "disposition" => disposition.as_str())
                    .increment(1);
                if let Some(registration) = registered {
                    crate::journal::registered(registration);
                }
                match disposition {
                    Disposition::Appeal(id) => {
                        tracing::info!(uid, appeal_id = %id, registration_number = registration_number.as_deref().unwrap_or_default(), unread = problem, "e-mail registered");
                    }
                    Disposition::Correspondence(id) => {
                        tracing::info!(uid, appeal_id = %id, "e-mail added to an appeal as correspondence");
                    }
                    Disposition::Automatic => {
                        tracing::info!(uid, "machine-made e-mail kept, not registered");
                    }
                }
            }
            Ingested::Duplicate { uid } => {
                metrics::counter!("senim_mailbox_messages_total", "disposition" => "duplicate")
                    .increment(1);
                match claim {
                    Claim::Mine => {
                        tracing::info!(uid, after = ?after, "e-mail already stored; settled only")
                    }
                    Claim::HeldUntil(until) => {
                        tracing::info!(uid, %until, "e-mail already stored by another Senim process; left to it")
                    }
                }
            }
        }
    }
}
