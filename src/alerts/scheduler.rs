//! The scheduler: every `alerts.interval_seconds` it sends the unclassified
//! digests whose cutoff has passed, escalates undelivered alerts, and on working
//! days from 09:00 Astana sends the manager's deadline digest once; daily from
//! `journal.publish_head_time` it publishes the audit chain's signed head (mail
//! to the auditors, a line in `journal.published_heads_file`). `tick` takes
//! `now`, so tests drive it with a pinned clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, SubsecRound, Utc};
use tokio::sync::watch;

use super::{AlertError, Alerts};
use crate::calendar::Calendar;
use crate::clock::SharedClock;
use crate::deadlines::Deadlines;
use crate::journal::{AppealId, Journal, ListFilter};
use crate::outbox::{Mail, MailKind, Outbox};

/// How far back the start-up back-fill gives appeals their reply deadline.
const REPLY_BACKFILL_DAYS: u64 = 120;
/// The audit actor of what the daemon itself records (no person acted).
const SYSTEM_ACTOR: &str = "senim";

/// The last head in a heads file, if any.
fn last_head(path: &std::path::Path) -> Option<crate::journal::audit::SignedHead> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    serde_json::from_str(line).ok()
}

/// The Astana date of the last head in a heads file, if any.
fn last_head_date(path: &std::path::Path, tz: chrono_tz::Tz) -> Option<chrono::NaiveDate> {
    Some(last_head(path)?.at.with_timezone(&tz).date_naive())
}

/// Appends the chain's signed head to `file` (`journal.published_heads_file`,
/// fsynced) at start, then every `every` (`journal.head_publish_seconds`) when
/// it moved, and once more when `stop` turns true: the newest appeals a database
/// administrator could delete unseen are those of the last `every`. A head
/// that cannot be read signed (set outside Senim) is logged as an error.
pub async fn publish_heads(
    journal: Journal,
    file: std::path::PathBuf,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = last_head(&file).map(|h| (h.seq, h.hash));
    loop {
        let stopping = *stop.borrow();
        match journal.signed_head().await {
            Ok(head) if last.as_ref() != Some(&(head.seq, head.hash.clone())) => {
                let line = serde_json::to_string(&head).unwrap_or_default();
                match crate::private_fs::append_line(&file, &line) {
                    Ok(()) => {
                        tracing::debug!(seq = head.seq, "audit chain head appended");
                        last = Some((head.seq, head.hash));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, file = %file.display(), "cannot append the audit chain's head")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot publish the audit chain's head"),
        }
        if stopping {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Appeals put in an unclassified digest.
    pub digested: usize,
    /// Alerts copied to the deputies.
    pub escalated: usize,
    /// Whether the manager's deadline digest went out.
    pub deadline_digest: bool,
    /// Whether the audit chain's head was published.
    pub head_published: bool,
}

/// When and where the audit chain's head is published.
#[derive(Clone, Debug)]
pub struct HeadPublication {
    pub at: chrono::NaiveTime,
    pub file: Option<std::path::PathBuf>,
}

#[derive(Clone)]
pub struct Scheduler {
    alerts: Alerts,
    deadlines: Deadlines,
    journal: Journal,
    calendar: Arc<Calendar>,
    clock: SharedClock,
    interval: Duration,
    heads: HeadPublication,
}

impl Scheduler {
    pub fn new(
        alerts: Alerts,
        deadlines: Deadlines,
        journal: Journal,
        calendar: Arc<Calendar>,
        clock: SharedClock,
        interval: Duration,
        heads: HeadPublication,
    ) -> Self {
        Self {
            alerts,
            deadlines,
            journal,
            calendar,
            clock,
            interval,
            heads,
        }
    }

    /// Everything due at `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, AlertError> {
        Ok(Tick {
            digested: self.alerts.send_unclassified_digests(now).await?,
            escalated: self.alerts.escalate(now).await?,
            deadline_digest: self.deadline_digest(now).await?,
            head_published: self.publish_head(now).await?,
        })
    }

    /// The audit chain's signed head, once a day from `journal.publish_head_time`:
    /// mailed to each auditor (once, by the outbox's dedupe key) and appended to
    /// the heads file (unless its last line is already today's). Nothing without
    /// a chain key. Returns whether anything was published now.
    pub async fn publish_head(&self, now: DateTime<Utc>) -> Result<bool, AlertError> {
        let policy = self.alerts.policy();
        let local = now.with_timezone(&policy.tz);
        let today = local.date_naive();
        if self.journal.public_key().is_none()
            || local.time() < self.heads.at
            || (policy.auditors.is_empty() && self.heads.file.is_none())
        {
            return Ok(false);
        }
        let (keys, mail_due) = self
            .daily_keys("audit_head", today, &policy.auditors)
            .await?;
        let file_due = match &self.heads.file {
            Some(path) => last_head_date(path, policy.tz) != Some(today),
            None => false,
        };
        if !mail_due && !file_due {
            return Ok(false);
        }
        let head = self.journal.signed_head().await?;
        let line = serde_json::to_string(&head).unwrap_or_default();
        if file_due
            && let Some(path) = &self.heads.file
            && let Err(e) = crate::private_fs::append_line(path, &line)
        {
            tracing::error!(error = %e, file = %path.display(), "cannot append the audit chain's head");
        }
        if mail_due {
            let body = format!(
                "The head of Senim's audit chain on {today}, signed (Ed25519; public key below).\n\
                 Keep this line where the database's administrators cannot change it; \
                 `senim journal verify --heads FILE` checks the chain passes through it.\n\n{line}\n"
            );
            self.enqueue_daily(
                MailKind::AuditHead,
                format!("head {}", head.seq),
                policy.auditors.iter().zip(&keys),
                format!("Senim: audit chain head {today} (event {})", head.seq),
                body,
                now,
            )
            .await?;
        }
        tracing::info!(seq = head.seq, "audit chain head published");
        Ok(true)
    }

    /// Enqueues a once-a-day mail of `kind` (one subject, one body) to each
    /// recipient under its dedupe key from `daily_keys` (a mail already in the
    /// outbox under its key is not enqueued again), in one transaction; then
    /// wakes the sender.
    async fn enqueue_daily(
        &self,
        kind: MailKind,
        reference: String,
        recipients: impl Iterator<Item = (&lettre::message::Mailbox, &String)>,
        subject: String,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<(), AlertError> {
        let from = &self.alerts.policy().from;
        let mut tx = self.journal.db().begin().await?;
        for (to, key) in recipients {
            let mail = Mail {
                kind,
                dedupe_key: key.clone(),
                reference: reference.clone(),
                appeal_id: None,
                to: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
                urgent: false,
                due_by: None,
                escalate_at: None,
            };
            self.alerts
                .outbox()
                .enqueue_in(&mut tx, from, &mail, now)
                .await?;
        }
        tx.commit().await?;
        self.alerts.outbox().wake();
        Ok(())
    }

    /// The outbox's dedupe keys of a once-a-day mail (`<what>:<date>:<address>`),
    /// one per recipient, and whether any of them is not in the outbox yet.
    async fn daily_keys(
        &self,
        what: &str,
        today: chrono::NaiveDate,
        recipients: &[lettre::message::Mailbox],
    ) -> Result<(Vec<String>, bool), AlertError> {
        let keys: Vec<String> = recipients
            .iter()
            .map(|r| format!("{what}:{today}:{}", r.email))
            .collect();
        let mut missing = false;
        for key in &keys {
            missing |= !Outbox::exists(self.alerts.outbox(), key).await?;
        }
        Ok((keys, missing))
    }

    /// The manager's digest: on a working day, at or after `deadline_digest_time`,
    /// once per day and manager. Returns whether it was enqueued now.
    pub async fn deadline_digest(&self, now: DateTime<Utc>) -> Result<bool, AlertError> {
        let now = now.trunc_subsecs(0);
        let policy = self.alerts.policy();
        let local = now.with_timezone(&policy.tz);
        let today = local.date_naive();
        if policy.managers.is_empty()
            || !self.calendar.is_working_day(today)
            || local.time() < policy.digest_time
        {
            return Ok(false);
        }
        let (keys, missing) = self
            .daily_keys("deadline_digest", today, &policy.managers)
            .await?;
        if !missing {
            return Ok(false);
        }
        let digest = self.deadlines.board(today).await?;
        let mut numbers = std::collections::HashMap::new();
        for d in digest
            .overdue
            .iter()
            .chain(&digest.today)
            .chain(&digest.soon)
        {
            if let std::collections::hash_map::Entry::Vacant(e) = numbers.entry(d.appeal_id) {
                let n = match self.journal.get(d.appeal_id).await {
                    Ok(a) => a.registration_number.to_string(),
                    Err(_) => format!("appeal {}", d.appeal_id),
                };
                e.insert(n);
            }
        }
        let body = digest.render(today, |d| {
            numbers
                .get(&d.appeal_id)
                .cloned()
                .unwrap_or_else(|| AppealId::to_string(&d.appeal_id))
        });
        let subject = format!(
            "Мерзімдер / Сроки {today}: мерзімі өткен / просрочено {}, бүгін / сегодня {}, жақында / скоро {}",
            digest.overdue.len(),
            digest.today.len(),
            digest.soon.len()
        );
        self.enqueue_daily(
            MailKind::DeadlineDigest,
            today.to_string(),
            policy.managers.iter().zip(&keys),
            subject,
            body,
            now,
        )
        .await?;
        tracing::info!(date = %today, overdue = digest.overdue.len(), today = digest.today.len(), soon = digest.soon.len(), "deadline digest enqueued");
        Ok(true)
    }

    /// Gives the appeals of the last 120 days that lack their reply deadline
    /// one, and carries the deadline events recorded before they were chain
    /// events into the chain. New appeals and events get theirs in their own
    /// transaction; this is for what an earlier version left, so it runs once,
    /// at start-up.
    pub async fn backfill_reply_deadlines(&self, now: DateTime<Utc>) -> Result<(), AlertError> {
        let today = now.with_timezone(&self.alerts.policy().tz).date_naive();
        let appeals = self
            .journal
            .list(&ListFilter {
                from: Some(today - Days::new(REPLY_BACKFILL_DAYS)),
                ..ListFilter::default()
            })
            .await?;
        self.deadlines.backfill_replies(&appeals).await?;
        // Closed by an earlier version without ending its deadlines (or given a
        // reply deadline by the back-fill above): ended now, never overdue.
        let closed: Vec<_> = self
            .journal
            .list_keys(&ListFilter {
                status: Some(crate::journal::Status::Closed),
                ..ListFilter::default()
            })
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let ended = self
            .deadlines
            .end_for_closed(&self.journal, &closed, today, SYSTEM_ACTOR)
            .await?;
        if ended > 0 {
            tracing::info!(ended, "deadlines of appeals closed earlier ended");
        }
        let carried = self
            .deadlines
            .chain_earlier_events(&self.journal, now)
            .await?;
        if carried > 0 {
            tracing::info!(
                carried,
                "earlier deadline events carried into the audit chain"
            );
        }
        Ok(())
    }

    /// Ticks on the clock until `stop` turns true; back-fills the reply deadlines
    /// on the first tick (again on the next ones until that succeeds).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backfilled = false;
        loop {
            let now = self.clock.now();
            if !backfilled {
                match self.backfill_reply_deadlines(now).await {
                    Ok(()) => backfilled = true,
                    Err(e) => tracing::warn!(error = %e, "back-filling the reply deadlines failed"),
                }
            }
            if let Err(e) = self.tick(now).await {
                tracing::warn!(error = %e, "alert scheduler tick failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
