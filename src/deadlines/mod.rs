//! The deadlines that follow an appeal, counted in working days of the Astana
//! calendar, and the events that start and end them. Owns the tables `deadlines`
//! and `deadline_events`.
//!
//! | deadline | length | source |
//! |---|---|---|
//! | triage: classified, sent on or found "not considered" | by the end of the day after registration (the day the Director must be told) | clause 10.6 |
//! | a criminal offence or a threat sent to the competent body | the same day it is found (at registration by the words, or at classification) | clause 6.3 |
//! | reply to the citizen | 15 working days from the day of receipt; extended by the head (the Director or a deputy named in `[authority]`) by at most one month, with the written decision's reference | APPK Art. 76 (clause 10.8) |
//! | notice of the extension to the citizen | 3 working days from the extension | APPK Art. 76 |
//! | redirection outside competence | 3 working days from the day of receipt | APPK Art. 76 |
//! | internal investigation | 10 working days from the order, extensible by the Director | clause 7.5 |
//! | materials asked by the commission | 1 working day from the request | clause 7.8 |
//!
//! A deadline is open until it is met (`met_on`: what it asked for was done) or
//! ended (`ended_on`, `ended_by`: the case's end made it moot: the appeal closed,
//! found "not considered", forwarded or redirected; `Deadlines::end_in`, each an
//! `deadline_ended` event of the chain). An ended deadline is never overdue, never
//! on the board or in the digest, never counted as missed.
//!
//! With the installation's signing key, each appeal's deadlines are signed as a
//! whole at every write (`seal`), checked before each write and by the board, the
//! digest, an appeal's page and `senim journal verify` (`Deadlines::check`).

pub mod digest;
pub mod seal;
mod store;

use std::sync::Arc;

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::authority::{Authority, PublicKey};
use crate::calendar::Calendar;
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::journal::{Appeal, AppealId, ChainLock, Journal, JournalError, OnRegistered};
use crate::{on_db, on_tx};
use store::{COLUMNS, OPEN, Row, close, close_started, extend, insert, insert_all};

/// Working days for the reply (APPK Art. 76).
pub const REPLY_WORKING_DAYS: u32 = 15;
/// The longest extension of the reply: one month past its due date (APPK Art. 76).
pub const REPLY_MAX_EXTENSION_MONTHS: u32 = 1;
/// Working days to tell the citizen of an extension.
pub const EXTENSION_NOTICE_WORKING_DAYS: u32 = 3;
/// Working days to redirect an appeal outside the enterprise's competence, from
/// the day of receipt (APPK Art. 76).
pub const REDIRECT_WORKING_DAYS: u32 = 3;
/// Working days of an internal investigation (7.5).
pub const INVESTIGATION_WORKING_DAYS: u32 = 10;
/// Working days to hand the commission the materials it asked for (7.8).
pub const MATERIALS_WORKING_DAYS: u32 = 1;

/// The last second of a day, when the Director's alert is due (10.6).
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 59) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

crate::text_enum! {
    /// Which deadline.
    Kind {
        Reply = "reply",
        ExtensionNotice = "extension_notice",
        Redirect = "redirect",
        Investigation = "investigation",
        Materials = "materials",
        Triage = "triage",
        ThreatForward = "threat_forward",
    }
}

/// The chain's name for a deadline the case's end made moot.
pub const ENDED: &str = "deadline_ended";

impl Kind {
    /// What the deadline is, with its legal source.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Reply => "reply to the citizen (APPK Art. 76, 15 working days)",
            Kind::ExtensionNotice => "tell the citizen of the extension (3 working days)",
            Kind::Redirect => "redirect outside competence (3 working days)",
            Kind::Investigation => "internal investigation (clause 7.5, 10 working days)",
            Kind::Materials => "materials to the commission (clause 7.8, 1 working day)",
            Kind::Triage => {
                "classify, send on or find not considered (clause 10.6, the day after registration)"
            }
            Kind::ThreatForward => {
                "send the criminal offence or threat to the competent body (clause 6.3, the same day)"
            }
        }
    }
}

/// The decision after the commission's conclusion (7.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestigationDecision {
    StopConsideration,
    HandToAuthorities,
    Disciplinary,
    OtherMeasures,
}

/// What the manager records; each starts or ends a deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The reply went to the citizen: ends the reply deadline.
    ReplySent { on: NaiveDate },
    /// The head (the Director, or a deputy named in `[authority]`) extended the
    /// reply to `until` (at most one month past its due date) by the written
    /// decision `reference`: the citizen must be told within 3 working days
    /// (APPK Art. 76).
    ReplyExtended {
        until: NaiveDate,
        reason: String,
        #[serde(default)]
        reference: String,
    },
    /// The citizen was told of the extension.
    CitizenNotified { on: NaiveDate },
    /// The appeal is outside the enterprise's competence: redirect within 3 working days.
    OutsideCompetence,
    /// It was redirected: ends the redirect and reply deadlines.
    Redirected { on: NaiveDate },
    /// The Director ordered an internal investigation (7.5).
    InvestigationOrdered { on: NaiveDate },
    /// The Director extended it, in writing, to `until`.
    InvestigationExtended { until: NaiveDate, reason: String },
    /// The commission asked for materials (7.8).
    MaterialsRequested { on: NaiveDate },
    /// The materials asked for were handed over: ends the request made on
    /// `requested_on`, or the oldest one still open.
    MaterialsReceived {
        on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requested_on: Option<NaiveDate>,
    },
    /// The decision of 7.11: ends the investigation.
    Decision {
        decision: InvestigationDecision,
        on: NaiveDate,
    },
}

/// A deadline as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Deadline {
    pub id: i64,
    pub appeal_id: AppealId,
    pub kind: Kind,
    pub started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub extended: bool,
    pub reason: Option<String>,
    pub met_on: Option<NaiveDate>,
    /// The day the case's end made it moot, and the act that did (`closed`,
    /// `not_considered`, `forwarded`, `redirected`, `reply_sent`, `classified`).
    pub ended_on: Option<NaiveDate>,
    pub ended_by: Option<String>,
}

impl Deadline {
    /// Neither met nor ended.
    pub fn is_open(&self) -> bool {
        self.met_on.is_none() && self.ended_on.is_none()
    }

    /// Open and past its due date on `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.due_on < today
    }

    /// Missed as of `today`: met late, or still open past its due date. An
    /// ended deadline is never missed.
    pub fn is_missed(&self, today: NaiveDate) -> bool {
        match self.met_on {
            Some(met) => met > self.due_on,
            None => self.is_overdue(today),
        }
    }
}

/// What can go wrong with deadlines.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{0}")]
    Invalid(String),
    #[error("the deadlines table holds a row this version cannot read: {0}")]
    Corrupt(String),
    /// A deadline was edited, added or deleted outside Senim (its appeal's seal
    /// does not agree): nothing is written on it, and it is not shown as it is.
    #[error("deadlines changed outside Senim: {0}; run `senim journal verify`")]
    Tampered(String),
}

impl From<sqlx::Error> for DeadlineError {
    fn from(e: sqlx::Error) -> Self {
        DeadlineError::Journal(e.into())
    }
}

pub type Result<T, E = DeadlineError> = std::result::Result<T, E>;

/// The deadlines store and the rules that compute them.
#[derive(Clone)]
pub struct Deadlines {
    db: Db,
    calendar: Arc<Calendar>,
    /// The installation's signing key, which signs each appeal's deadlines.
    authority: Option<Arc<Authority>>,
    /// The public keys a seal may be signed with (`Journal::accepted_keys`).
    keys: Vec<PublicKey>,
}

impl Deadlines {
    pub fn new(db: Db, calendar: Arc<Calendar>) -> Self {
        Self {
            db,
            calendar,
            authority: None,
            keys: Vec::new(),
        }
    }

    /// The deadlines signed by `authority` (their seals checked with `keys`).
    pub fn signed_by(mut self, authority: Option<Arc<Authority>>, keys: Vec<PublicKey>) -> Self {
        self.authority = authority;
        self.keys = keys;
        self
    }

    /// The day an appeal was received, in Astana: the reply is counted from it,
    /// "со дня поступления" (APPK Art. 76), not from the (possibly later)
    /// registration date of an appeal received after hours.
    pub fn received_on(&self, appeal: &Appeal) -> NaiveDate {
        appeal
            .received_at
            .with_timezone(&self.calendar.hours().tz)
            .date_naive()
    }

    /// The reply deadline of an appeal: 15 working days from the day it was
    /// received.
    pub fn reply_due(&self, appeal: &Appeal) -> NaiveDate {
        self.calendar
            .add_working_days(self.received_on(appeal), REPLY_WORKING_DAYS)
    }

    /// Clause 10.6: the Director is told of an appeal by 23:59:59 Astana (`tz`)
    /// on the day after the day of registration, whatever weekday or holiday
    /// that is.
    pub fn director_alert_due(registration_date: NaiveDate, tz: Tz) -> DateTime<Utc> {
        let local = (registration_date + Days::new(1)).and_time(END_OF_DAY);
        tz.from_local_datetime(&local)
            .earliest()
            .map_or_else(|| local.and_utc(), |t| t.to_utc())
    }

    /// Gives appeals registered before the reply deadline was written with the
    /// registration their reply deadline, a chunk of them per short transaction
    /// (so that months of appeals never hold the write lock for long). Appeals
    /// that have one are left as they are.
    pub async fn backfill_replies(&self, appeals: &[Appeal]) -> Result<()> {
        const CHUNK: usize = 200;
        for chunk in appeals.chunks(CHUNK) {
            let mut tx = self.db.begin().await?;
            for appeal in chunk {
                self.start_reply_in(&mut tx, appeal).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Starts what a newly registered appeal owes, in `tx`: the triage (every
    /// appeal, anonymous or not, 10.6), the reply (only with a return address:
    /// there is nowhere to reply otherwise) and, when its words suggest a criminal
    /// offence or a threat, its forwarding the same day (6.3). Run again when the
    /// operator's notes complete a call (`Journal::completed_in`): what exists is
    /// kept.
    async fn start_in(&self, tx: &mut Tx, appeal: &Appeal) -> Result<()> {
        let registered = appeal.registration_date;
        let mut owed = Vec::with_capacity(3);
        if !appeal.no_return_address {
            owed.push((
                Kind::Reply,
                self.received_on(appeal),
                self.reply_due(appeal),
            ));
        }
        if appeal.status.stage() == 0 {
            owed.push((Kind::Triage, registered, registered + Days::new(1)));
        }
        if crate::triage::suggestion_for(appeal).category
            == Some(crate::journal::Category::CriminalOffence)
        {
            owed.push((Kind::ThreatForward, registered, registered));
        }
        self.check_in(tx, appeal.id.0).await?;
        // One statement for all: a registration's transaction stays short.
        insert_all(
            tx,
            appeal.id.0,
            &owed,
            appeal.registered_at.trunc_subsecs(0),
        )
        .await?;
        self.seal_in(tx, appeal.id.0).await
    }

    /// Starts the forwarding of a criminal offence or a threat to the competent
    /// body, due the day it is found (6.3); one per appeal.
    pub async fn start_threat_forward_in(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
        found_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.check_in(tx, appeal.id.0).await?;
        insert(
            tx,
            appeal.id.0,
            Kind::ThreatForward,
            found_on,
            found_on,
            now.trunc_subsecs(0),
        )
        .await?;
        self.seal_in(tx, appeal.id.0).await
    }

    /// Starts the reply deadline of an appeal in `tx` (appeals without a return
    /// address get none: there is nowhere to reply).
    async fn start_reply_in(&self, tx: &mut Tx, appeal: &Appeal) -> Result<()> {
        if appeal.no_return_address {
            return Ok(());
        }
        self.check_in(tx, appeal.id.0).await?;
        insert(
            tx,
            appeal.id.0,
            Kind::Reply,
            self.received_on(appeal),
            self.reply_due(appeal),
            appeal.registered_at.trunc_subsecs(0),
        )
        .await?;
        self.seal_in(tx, appeal.id.0).await
    }

    /// Every deadline of an appeal, oldest first; refused if they disagree with
    /// their seal.
    pub async fn of_appeal(&self, id: AppealId) -> Result<Vec<Deadline>> {
        let sql = format!("SELECT {COLUMNS} FROM deadlines WHERE appeal_id = $1 ORDER BY id");
        let rows: Vec<Row> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id.0).fetch_all(pool).await)?;
        let rows = rows
            .into_iter()
            .map(Deadline::try_from)
            .collect::<Result<Vec<_>>>()?;
        self.checked(rows).await
    }

    /// Every deadline of the appeals in `ids`, by appeal then oldest first: one
    /// read for a summary of a period's appeals (clause 10.13).
    pub async fn of_appeals(&self, ids: &[AppealId]) -> Result<Vec<Deadline>> {
        let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM deadlines WHERE appeal_id >= $1 AND appeal_id <= $2 \
             ORDER BY appeal_id, id"
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(low.0)
            .bind(high.0)
            .fetch_all(pool)
            .await)?;
        let wanted: std::collections::HashSet<AppealId> = ids.iter().copied().collect();
        rows.into_iter()
            .filter(|r| wanted.contains(&AppealId(r.appeal_id)))
            .map(Deadline::try_from)
            .collect()
    }

    /// Open deadlines due on or before `until`.
    pub async fn open_until(&self, until: NaiveDate) -> Result<Vec<Deadline>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM deadlines WHERE {OPEN} AND due_on <= $1 ORDER BY due_on, id"
        );
        let rows: Vec<Row> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(until).fetch_all(pool).await)?;
        rows.into_iter().map(Deadline::try_from).collect()
    }

    /// The open deadlines overdue, due `today` and due within three working
    /// days: the manager's digest and the console's deadline board.
    /// Refused if a deadline it would show disagrees with its appeal's seal.
    pub async fn board(&self, today: NaiveDate) -> Result<digest::Digest> {
        let open = self
            .open_until(digest::horizon(&self.calendar, today))
            .await?;
        let open = self.checked(open).await?;
        Ok(digest::Digest::build(&self.calendar, today, open))
    }

    /// Carries the deadline events recorded before they were events of the
    /// audit chain (in `deadline_events` alone) into the chain, oldest first, at
    /// most `CHUNK` per transaction, each under its own name, by its own actor,
    /// with its original time in the detail (`recorded_at`). Safe to run from
    /// several processes: the rows are read under the chain's lock. Returns how
    /// many were carried; `now` marks them.
    pub async fn chain_earlier_events(&self, journal: &Journal, now: DateTime<Utc>) -> Result<u64> {
        const CHUNK: i64 = 200;
        type Row = (i64, i64, DateTime<Utc>, String, String);
        let mut carried = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let mut chain = journal.lock_chain(&mut tx).await?;
            let rows: Vec<Row> = on_tx!(&mut tx, conn => sqlx::query_as(
                "SELECT id, appeal_id, at, actor, event FROM deadline_events \
                 WHERE chained_at IS NULL ORDER BY id LIMIT $1",
            )
            .bind(CHUNK)
            .fetch_all(conn)
            .await)?;
            if rows.is_empty() {
                return Ok(carried);
            }
            for (id, appeal_id, at, actor, event) in rows {
                match journal.get_in(&mut tx, AppealId(appeal_id)).await {
                    Ok(appeal) => {
                        let parsed: Option<Event> = serde_json::from_str(&event).ok();
                        let kind = parsed.as_ref().map_or("deadline_event", Event::name);
                        let mut detail: serde_json::Value =
                            serde_json::from_str(&event).unwrap_or_default();
                        if let Some(map) = detail.as_object_mut() {
                            map.insert("recorded_at".into(), serde_json::json!(at));
                        }
                        chain
                            .record(&mut tx, &appeal, &actor, kind, &detail)
                            .await?;
                    }
                    // An appeal no longer there has no chain to carry it into.
                    Err(JournalError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                execute_in!(
                    &mut tx,
                    sqlx::query("UPDATE deadline_events SET chained_at = $1 WHERE id = $2",)
                        .bind(now)
                        .bind(id)
                )?;
                carried += 1;
            }
            chain.finish(&mut tx).await?;
            tx.commit().await?;
        }
    }

    /// Applies an event to an appeal's deadlines in `tx` and keeps it in
    /// `deadline_events`. `today` is the Astana date of the record. The caller
    /// (`cases::record`) has written the event to the audit chain in the same
    /// transaction.
    pub async fn record_in(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
        event: &Event,
        actor: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<()> {
        let now = now.trunc_subsecs(0);
        let id = appeal.id.0;
        self.check_in(tx, id).await?;
        match event {
            Event::ReplySent { on } => close(tx, id, Kind::Reply, *on, true).await?,
            Event::ReplyExtended {
                until,
                reason,
                reference,
            } => {
                let reason = non_empty(reason, "reason")?;
                non_empty(reference, "reference")?;
                let max = self
                    .reply_due(appeal)
                    .checked_add_months(Months::new(REPLY_MAX_EXTENSION_MONTHS))
                    .ok_or_else(|| DeadlineError::Invalid("date out of range".into()))?;
                if *until > max {
                    return Err(DeadlineError::Invalid(format!(
                        "until: the reply may be extended by at most one month past its due date, to {max} (APPK Art. 76)"
                    )));
                }
                if !extend(tx, id, Kind::Reply, *until, reason).await? {
                    return Err(DeadlineError::Invalid(
                        "until: there is no open reply deadline earlier than this date".into(),
                    ));
                }
                insert(
                    tx,
                    id,
                    Kind::ExtensionNotice,
                    today,
                    self.calendar
                        .add_working_days(today, EXTENSION_NOTICE_WORKING_DAYS),
                    now,
                )
                .await?;
            }
            Event::CitizenNotified { on } => {
                close(tx, id, Kind::ExtensionNotice, *on, true).await?
            }
            Event::OutsideCompetence => {
                // Three working days from the day of receipt, as the reply
                // ("со дня его поступления", APPK Art. 76).
                let received = self.received_on(appeal);
                let due = self
                    .calendar
                    .add_working_days(received, REDIRECT_WORKING_DAYS);
                insert(tx, id, Kind::Redirect, received, due, now).await?;
            }
            // The reply it makes moot is ended by the act (`cases`).
            Event::Redirected { on } => close(tx, id, Kind::Redirect, *on, true).await?,
            Event::InvestigationOrdered { on } => {
                let due = self
                    .calendar
                    .add_working_days(*on, INVESTIGATION_WORKING_DAYS);
                insert(tx, id, Kind::Investigation, *on, due, now).await?;
            }
            Event::InvestigationExtended { until, reason } => {
                let reason = non_empty(reason, "reason")?;
                if !extend(tx, id, Kind::Investigation, *until, reason).await? {
                    return Err(DeadlineError::Invalid(
                        "until: there is no open investigation ending before this date".into(),
                    ));
                }
            }
            Event::MaterialsRequested { on } => {
                let due = self.calendar.add_working_days(*on, MATERIALS_WORKING_DAYS);
                insert(tx, id, Kind::Materials, *on, due, now).await?;
            }
            Event::MaterialsReceived { on, requested_on } => {
                close_started(tx, id, Kind::Materials, *requested_on, *on).await?
            }
            Event::Decision { on, .. } => close(tx, id, Kind::Investigation, *on, true).await?,
        }
        let text = serde_json::to_string(event).unwrap_or_default();
        execute_in!(tx, sqlx::query(
            "INSERT INTO deadline_events (appeal_id, at, actor, event, chained_at) VALUES ($1, $2, $3, $4, $2)",
        )
        .bind(id)
        .bind(now)
        .bind(actor)
        .bind(&text))?;
        self.seal_in(tx, id).await
    }
}

/// The reply deadline is written with the registration, in its transaction.
impl OnRegistered for Deadlines {
    fn on_registered_in<'a>(
        &'a self,
        tx: &'a mut Tx,
        appeal: &'a Appeal,
    ) -> BoxFuture<'a, crate::journal::Result<()>> {
        Box::pin(async move { self.start_in(tx, appeal).await.map_err(into_journal) })
    }

    /// The deadlines from before the chain turned public are signed as they are.
    fn on_chain_signed_in<'a>(
        &'a self,
        tx: &'a mut Tx,
        appeals: &'a [AppealId],
    ) -> BoxFuture<'a, crate::journal::Result<()>> {
        Box::pin(async move { self.adopt_in(tx, appeals).await.map_err(into_journal) })
    }
}

/// A deadline error as the Journal's hooks report it.
fn into_journal(e: DeadlineError) -> JournalError {
    match e {
        DeadlineError::Journal(e) => e,
        DeadlineError::Tampered(m) => JournalError::NotAllowed(format!(
            "deadlines changed outside Senim: {m}; run `senim journal verify`"
        )),
        other => JournalError::Corrupt(other.to_string()),
    }
}

impl Event {
    /// The event's name, as the API, the CLI and the audit chain write it.
    pub fn name(&self) -> &'static str {
        match self {
            Event::ReplySent { .. } => "reply_sent",
            Event::ReplyExtended { .. } => "reply_extended",
            Event::CitizenNotified { .. } => "citizen_notified",
            Event::OutsideCompetence => "outside_competence",
            Event::Redirected { .. } => "redirected",
            Event::InvestigationOrdered { .. } => "investigation_ordered",
            Event::InvestigationExtended { .. } => "investigation_extended",
            Event::MaterialsRequested { .. } => "materials_requested",
            Event::MaterialsReceived { .. } => "materials_received",
            Event::Decision { .. } => "decision",
        }
    }
}

fn non_empty<'a>(s: &'a str, field: &str) -> Result<&'a str> {
    let s = s.trim();
    if s.is_empty() {
        Err(DeadlineError::Invalid(format!("{field}: required")))
    } else {
        Ok(s)
    }
}

impl Deadlines {
    /// Marks the open deadline of `kind` of appeal `id` met on `on`, if there is
    /// one: what an act does besides its own event (a classification meets the
    /// triage, a forwarding the threat's).
    pub async fn meet_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        kind: Kind,
        on: NaiveDate,
    ) -> Result<()> {
        self.check_in(tx, id.0).await?;
        close(tx, id.0, kind, on, false).await?;
        self.seal_in(tx, id.0).await
    }

    /// Ends the open deadlines of those of `closed` that are still closed: an
    /// earlier version closed appeals without ending their deadlines, which the
    /// board and the digest then showed as overdue forever. Each is a
    /// `deadline_ended` event by `actor`, on `today`, by `closed`; a chunk of
    /// appeals per transaction, read again under the chain's lock (safe from
    /// several processes, and to run again). Returns how many ended.
    pub async fn end_for_closed(
        &self,
        journal: &Journal,
        closed: &[AppealId],
        today: NaiveDate,
        actor: &str,
    ) -> Result<usize> {
        const CHUNK: usize = 50;
        // The appeals with a deadline still open: few, whatever the history.
        let open: Vec<i64> = on_db!(&self.db, pool => sqlx::query_scalar(&format!(
            "SELECT DISTINCT appeal_id FROM deadlines WHERE {OPEN}"
        ))
        .fetch_all(pool)
        .await)?;
        let open: std::collections::HashSet<i64> = open.into_iter().collect();
        let with_open: Vec<AppealId> = closed
            .iter()
            .copied()
            .filter(|id| open.contains(&id.0))
            .collect();
        let mut ended = 0;
        for chunk in with_open.chunks(CHUNK) {
            let mut tx = self.db.begin().await?;
            let mut chain = journal.lock_chain(&mut tx).await?;
            for id in chunk {
                let appeal = journal.get_in(&mut tx, *id).await?;
                if appeal.status == crate::journal::Status::Closed {
                    ended += self
                        .end_in(
                            &mut tx,
                            &mut chain,
                            &appeal,
                            Kind::ALL,
                            "closed",
                            today,
                            actor,
                        )
                        .await?;
                }
            }
            chain.finish(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(ended)
    }

    /// Ends the open deadlines of `kinds` of `appeal` on `on`: the act `by` (the
    /// appeal closed, found "not considered", forwarded, redirected...) made them
    /// moot. Each is a `deadline_ended` event of the chain, by `actor`, naming
    /// the deadline and the act. Returns how many ended.
    #[allow(clippy::too_many_arguments)]
    pub async fn end_in(
        &self,
        tx: &mut Tx,
        chain: &mut ChainLock<'_>,
        appeal: &Appeal,
        kinds: &[Kind],
        by: &str,
        on: NaiveDate,
        actor: &str,
    ) -> Result<usize> {
        self.check_in(tx, appeal.id.0).await?;
        let sql =
            format!("SELECT {COLUMNS} FROM deadlines WHERE appeal_id = $1 AND {OPEN} ORDER BY id");
        let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(&sql)
            .bind(appeal.id.0)
            .fetch_all(conn)
            .await)?;
        let mut ended = 0;
        for row in rows {
            let deadline = Deadline::try_from(row)?;
            if !kinds.contains(&deadline.kind) {
                continue;
            }
            execute_in!(
                tx,
                sqlx::query("UPDATE deadlines SET ended_on = $1, ended_by = $2 WHERE id = $3",)
                    .bind(on)
                    .bind(by)
                    .bind(deadline.id)
            )?;
            let detail = serde_json::json!({
                "deadline": deadline.kind,
                "started_on": deadline.started_on,
                "due_on": deadline.due_on,
                "by": by,
                "on": on,
            });
            chain.record(tx, appeal, actor, ENDED, &detail).await?;
            ended += 1;
        }
        if ended > 0 {
            self.seal_in(tx, appeal.id.0).await?;
        }
        Ok(ended)
    }
}
