//! Retention: personal data is kept no longer than the enterprise's records
//! schedule says (`[retention]`), then destroyed by `senim journal purge`. This
//! module only decides what is due and orchestrates; each owner destroys what it
//! holds, in its own tables:
//!
//! - the Journal erases an ended appeal's reporter identity, subject and
//!   substance as an amendment (`Amendment::Destroyed`), so the audit chain
//!   records the destruction (the fields, never the values) and still verifies;
//! - the mailbox empties the appeal's raw mail and attachments and clears the
//!   parsed sender, subject and text (`mailbox::store::destroy_for_appeal_in`);
//! - the telephone channel forgets its calls' caller numbers and destroys its
//!   recordings (`pbx::store::destroy_for_appeal_in`; the files go after the
//!   commit, `pbx::recordings::remove_destroyed`), and forgets the numbers of
//!   missed calls past `retention.missed_call_days`;
//! - the outbox empties the stored mail about the appeal (alerts, receipts) and
//!   old digests of unclassified appeals;
//! - the investigation file is erased (`investigation::destroy_for_appeal_in`);
//! - and the mailbox destroys machine-made mail (bounces, auto-replies) past
//!   `retention.automatic_mail_days`.
//!
//! An appeal is due `retention.<category>_days` after its case ended, whatever
//! act ended it: forwarded, found "not considered", decided, replied or closed
//! (`Status::ends_the_case`, `Journal::ended_appeals`, from its last change of
//! status); its raw mail and recordings may be due earlier
//! (`raw_mail_days`, `recordings_days`). Each appeal is destroyed in one
//! transaction of its own, the Journal's chain locked first, then the owners'
//! rows (the lock order of `docs/ARCHITECTURE.md`). What is destroyed is marked
//! so, and nothing is destroyed twice: a second run does nothing, and a run
//! killed anywhere is finished by the next. A dry run does each appeal's work in
//! its transaction and rolls it back: it counts exactly what a purge would
//! destroy, and changes nothing.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};

use crate::clock::SharedClock;
use crate::config::{Days, RetentionConfig};
use crate::db::Db;
use crate::journal::{Amendment, Category, EndedAppeal, Journal, JournalError};
use crate::mailbox::store::{self as mail_store, Destroy};
use crate::outbox::Outbox;
use crate::pbx::recordings::{self, RecordingStore};
use crate::pbx::store as pbx_store;

/// Rows one transaction of the missed-call and digest clean-ups touches at most
/// (a call's CTI events and recording come with it).
const BATCH: i64 = 50;

/// The retention schedule and the owners it asks to destroy.
pub struct Retention {
    pub config: RetentionConfig,
    pub db: Db,
    pub journal: Journal,
    pub recordings: RecordingStore,
    pub clock: SharedClock,
}

/// What a purge destroyed (or, dry, would destroy) of one appeal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppealPurge {
    pub appeal: EndedAppeal,
    /// The whole appeal (its identity and text); otherwise only its raw mail
    /// and recordings, kept for less than the appeal.
    pub whole: bool,
    pub mail: mail_store::Destroyed,
    pub pbx: pbx_store::Destroyed,
    /// Stored mails about it emptied.
    pub outbox: u64,
    /// The investigation file's rows erased (`investigation`).
    pub investigation: u64,
}

impl AppealPurge {
    /// The counts, named, as the audit event records them (zeros left out).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        [
            ("mail_messages", self.mail.messages),
            ("mail_attachments", self.mail.attachments),
            ("mail_ack_log", self.mail.ack_log),
            ("pbx_calls", self.pbx.calls),
            ("pbx_cti_events", self.pbx.cti_events),
            ("pbx_recordings", self.pbx.recordings),
            ("outbox", self.outbox),
            ("investigation_file", self.investigation),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| (name.to_owned(), n))
        .collect()
    }
}

/// What one run of the purge did (or, dry, would do). No identity, no text.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub dry_run: bool,
    pub appeals: Vec<AppealPurge>,
    /// Appeals due that changed under the purge (reopened meanwhile): left alone.
    pub skipped: Vec<String>,
    /// What was forgotten of calls that never became appeals: their caller
    /// numbers (`calls`: the call log's lines), their CTI events' numbers, their
    /// recordings.
    pub missed: pbx_store::Destroyed,
    /// Digests of unclassified appeals emptied.
    pub digests: u64,
    /// Machine-made mail (bounces, auto-replies) destroyed.
    pub automatic_mail: u64,
    /// Recording files removed (or, dry, left to remove by an interrupted purge).
    pub files: u64,
    /// SQLite: the WAL was checkpointed and truncated (false if a reader held it).
    pub checkpointed: bool,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.appeals.is_empty()
            && self.missed == pbx_store::Destroyed::default()
            && self.digests == 0
            && self.automatic_mail == 0
            && self.files == 0
    }
}

/// Whether a period that started at `from` is over at `now`.
fn over(from: DateTime<Utc>, days: Days, now: DateTime<Utc>) -> bool {
    from.checked_add_signed(days.chrono())
        .is_some_and(|end| end <= now)
}

/// When a period of `days` ending `now` started; `None` if before all time.
fn start_of(days: Days, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    now.checked_sub_signed(days.chrono())
}

fn key(category: Category) -> &'static str {
    match category {
        Category::Corruption => "corruption_days",
        Category::CriminalOffence => "criminal_offence_days",
        Category::NotCorruption => "not_corruption_days",
        Category::Unclassified => "unclassified_days",
    }
}

impl Retention {
    /// Destroys everything past its period by the clock (`dry_run`: counts it and
    /// changes nothing). `actor` is who runs it, for the audit log.
    pub async fn purge(&self, dry_run: bool, actor: &str) -> anyhow::Result<Report> {
        let now = self.clock.now().trunc_subsecs(6);
        let mut report = Report {
            dry_run,
            ..Report::default()
        };
        let ended = self
            .journal
            .ended_appeals()
            .await
            .context("cannot list the appeals whose case has ended")?;
        for appeal in ended {
            let category = appeal.category;
            let days = self.config.appeal_days(category);
            if over(appeal.ended_at, days, now) {
                if appeal.destroyed {
                    continue;
                }
                let done = self
                    .destroy_appeal(&appeal, days, now, dry_run, actor)
                    .await
                    .with_context(|| {
                        format!("cannot destroy appeal {}", appeal.registration_number)
                    })?;
                match done {
                    Some(done) => report.appeals.push(done),
                    None => report.skipped.push(appeal.registration_number.to_string()),
                }
                continue;
            }
            let raw_mail = over(appeal.ended_at, self.config.raw_mail_days(category), now);
            let recordings = over(appeal.ended_at, self.config.recordings_days(category), now);
            if raw_mail || recordings {
                let done = self
                    .destroy_media(&appeal, raw_mail, recordings, now, dry_run)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot destroy the raw mail and recordings of appeal {}",
                            appeal.registration_number
                        )
                    })?;
                if let Some(done) = done {
                    report.appeals.push(done);
                }
            }
        }
        report.missed = self.forget_missed_callers(now, dry_run).await?;
        report.digests = self.destroy_digests(now, dry_run).await?;
        report.automatic_mail = self.destroy_automatic_mail(now, dry_run).await?;
        report.files = if dry_run {
            pbx_store::files_to_remove(&self.db, i64::MAX)
                .await
                .context("cannot read the destroyed recordings")?
                .len() as u64
        } else {
            recordings::remove_destroyed(&self.db, &self.recordings).await?
        };
        if !dry_run && !report.is_empty() {
            report.checkpointed = self
                .db
                .checkpoint()
                .await
                .context("cannot checkpoint the database after the purge")?;
        }
        if !dry_run {
            for done in &report.appeals {
                tracing::info!(
                    registration_number = %done.appeal.registration_number,
                    appeal_id = %done.appeal.id,
                    whole = done.whole,
                    destroyed = ?done.counts(),
                    "appeal's personal data destroyed under the records schedule"
                );
            }
            tracing::info!(
                appeals = report.appeals.len(),
                missed_calls = report.missed.calls,
                digests = report.digests,
                automatic_mail = report.automatic_mail,
                files = report.files,
                "retention purge done"
            );
        }
        Ok(report)
    }

    /// One appeal, whole, in one transaction: the owners' rows, then the
    /// Journal's amendment (with their counts), under the chain locked first.
    /// `None` if the Journal refuses it (the appeal was reopened meanwhile).
    async fn destroy_appeal(
        &self,
        appeal: &EndedAppeal,
        days: Days,
        now: DateTime<Utc>,
        dry_run: bool,
        actor: &str,
    ) -> anyhow::Result<Option<AppealPurge>> {
        let mut tx = self.db.begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let id = appeal.id;
        let mail = mail_store::destroy_for_appeal_in(&mut tx, id, Destroy::Whole, now).await?;
        let pbx = pbx_store::destroy_for_appeal_in(&mut tx, id.0, true, now).await?;
        let outbox = Outbox::destroy_for_appeal_in(&mut tx, id.0, now).await?;
        let investigation = crate::investigation::destroy_for_appeal_in(&mut tx, id).await?;
        let done = AppealPurge {
            appeal: appeal.clone(),
            whole: true,
            mail,
            pbx,
            outbox,
            investigation,
        };
        let reason = format!(
            "records schedule: case ended {}, kept {days} day(s) (retention.{})",
            appeal.ended_at.date_naive(),
            key(appeal.category)
        );
        let amendment = Amendment::Destroyed {
            reason,
            elsewhere: done.counts(),
        };
        match chain.amend(&mut tx, id, amendment, actor).await {
            Ok(_) => {}
            Err(JournalError::NotAllowed(_)) => {
                drop(chain);
                tx.rollback().await?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        chain.finish(&mut tx).await?;
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(Some(done))
    }

    /// An appeal's raw mail and recordings, kept for less than the appeal, in one
    /// transaction; `None` if there was nothing (left) to destroy.
    async fn destroy_media(
        &self,
        appeal: &EndedAppeal,
        raw_mail: bool,
        recordings: bool,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> anyhow::Result<Option<AppealPurge>> {
        let mut tx = self.db.begin().await?;
        let mail = if raw_mail {
            mail_store::destroy_for_appeal_in(&mut tx, appeal.id, Destroy::RawOnly, now).await?
        } else {
            mail_store::Destroyed::default()
        };
        let pbx = if recordings {
            pbx_store::destroy_for_appeal_in(&mut tx, appeal.id.0, false, now).await?
        } else {
            pbx_store::Destroyed::default()
        };
        let done = AppealPurge {
            appeal: appeal.clone(),
            whole: false,
            mail,
            pbx,
            outbox: 0,
            investigation: 0,
        };
        let nothing = done.counts().is_empty();
        if dry_run || nothing {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok((!nothing).then_some(done))
    }

    /// The caller numbers of calls that never became appeals, past
    /// `retention.missed_call_days`, a batch per transaction.
    async fn forget_missed_callers(
        &self,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> anyhow::Result<pbx_store::Destroyed> {
        let Some(before) = start_of(self.config.missed_call_days, now) else {
            return Ok(pbx_store::Destroyed::default());
        };
        if dry_run {
            return pbx_store::missed_callers_to_forget(&self.db, before)
                .await
                .context("cannot count the missed calls to forget");
        }
        let mut total = pbx_store::Destroyed::default();
        loop {
            let mut tx = self.db.begin().await?;
            let done = pbx_store::forget_missed_callers_in(&mut tx, before, BATCH, now)
                .await
                .context("cannot forget the numbers of missed calls")?;
            if done == pbx_store::Destroyed::default() {
                tx.rollback().await?;
                return Ok(total);
            }
            tx.commit().await?;
            total.calls += done.calls;
            total.cti_events += done.cti_events;
            total.recordings += done.recordings;
        }
    }

    /// Digests of unclassified appeals older than the shortest appeal period: a
    /// digest is older than every appeal in it, so none outlives them.
    async fn destroy_digests(&self, now: DateTime<Utc>, dry_run: bool) -> anyhow::Result<u64> {
        let c = &self.config;
        let shortest = [
            c.corruption_days,
            c.criminal_offence_days,
            c.not_corruption_days,
            c.unclassified_days,
        ]
        .into_iter()
        .min()
        .unwrap_or(c.unclassified_days);
        let Some(before) = start_of(shortest, now) else {
            return Ok(0);
        };
        self.batches(dry_run, "cannot destroy old digests", |tx, limit| {
            Box::pin(async move { Ok(Outbox::destroy_digests_in(tx, before, limit, now).await?) })
        })
        .await
    }

    /// Machine-made mail past `retention.automatic_mail_days`.
    async fn destroy_automatic_mail(
        &self,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> anyhow::Result<u64> {
        let Some(before) = start_of(self.config.automatic_mail_days, now) else {
            return Ok(0);
        };
        self.batches(dry_run, "cannot destroy old automatic mail", |tx, limit| {
            Box::pin(
                async move { Ok(mail_store::destroy_automatic_in(tx, before, limit, now).await?) },
            )
        })
        .await
    }

    /// Runs `step` (at most `limit` rows destroyed, their number returned) in a
    /// transaction of its own until it finds nothing; dry, once over everything,
    /// rolled back. Returns the total.
    async fn batches<F>(&self, dry_run: bool, what: &'static str, step: F) -> anyhow::Result<u64>
    where
        F: for<'t> Fn(
            &'t mut crate::db::Tx,
            i64,
        ) -> futures_util::future::BoxFuture<'t, anyhow::Result<u64>>,
    {
        let mut total = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let limit = if dry_run { i64::MAX } else { BATCH };
            let n = step(&mut tx, limit).await.context(what)?;
            total += n;
            if dry_run || n == 0 {
                tx.rollback().await?;
                return Ok(total);
            }
            tx.commit().await?;
        }
    }
}
