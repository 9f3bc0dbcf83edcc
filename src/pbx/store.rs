//! The telephone channel's own tables: the call log with the answer each call
//! got (`pbx_calls`), recordings (`pbx_recordings`) and Zammad CTI events
//! (`pbx_cti_events`). Writes take the caller's `Tx`, so they commit together
//! with the Journal's registration.
//!
//! Sealed at rest once the office key exists (`Sealer::is_on`; the plain columns
//! then stay NULL, see `docs/security.md`, "The telephone channel"):
//! - the call log's caller (`{"caller", "caller_raw"}`), called number and
//!   extension are sealed to the office key (`caller_sealed`, `called_sealed`,
//!   `extension_sealed`): the daemon never reads them back, a person does (a
//!   missed call's number, for a call-back: `call_numbers`);
//! - a CTI event's caller, called number and `answered_by` are sealed with the
//!   intake key (`sealed_to = 'intake'`): the daemon reads them back to make the
//!   call at its hangup, or in the unfinished-call sweep; once the call is an
//!   appeal they are resealed to the office key (`hand_over_cti_numbers_in`);
//! - a recording's URL is sealed with the intake key (the downloader reads it)
//!   and erased once the recording is stored; its file name is sealed to the
//!   office key; the stored file is sealed to the office key and named by a
//!   keyed hash (`recordings`).
//!
//! The answers stored for retries (`response_body`) hold no identity (ids,
//! disposition, outcome, registration number), and stay plain.
//! `seal_existing_in` seals, in `senim keys init`'s transaction, what was stored
//! plain before; `reseal_in` reseals, in a rotation's transaction, what is sealed
//! to the office key to its new generation (the files after the commit:
//! `recordings::RecordingStore::reseal`).
//!
//! The map: this file holds the call log (`pbx_calls`) and the sealing helpers;
//! `store/cti.rs` the CTI events; `store/recordings.rs` the recordings' rows
//! and downloads; `store/destruction.rs` what the records schedule destroys;
//! `store/sealing.rs` sealing in place and resealing at a rotation.

mod cti;
mod destruction;
mod recordings;
mod sealing;

pub use cti::{
    StoredCtiEvent, cti_answer, cti_events_in, hand_over_cti_numbers_in, insert_cti_event_in,
};
pub use destruction::{
    Destroyed, destroy_for_appeal_in, forget_missed_callers_in, missed_callers_to_forget,
};
pub use recordings::{
    FileToRemove, PendingDownload, RecordingRow, content_still_kept, download_failed,
    download_stored, due_downloads, file_removed, files_to_remove, insert_recording_in,
    next_download_at, plain_recordings, recording_resealed, recordings_sealed_before,
    stored_recording, switch_to_sealed, unsealed_file_erased, unsealed_files,
};
pub use sealing::{
    SealedExisting, reseal_by_table_in, reseal_in, seal_existing_by_table_in, seal_existing_in,
};

use chrono::{DateTime, Utc};

use super::error::PbxError;
use super::formats::{CallRecord, Disposition};
use crate::db::{Db, Tx};
use crate::rows_affected_in;
use crate::sealing::{IntakeKey, SealError, Sealer, Unlocked};
use crate::{on_db, on_tx};

/// Seals `value` to the office key; `None` for no value. Sealing must be on.
fn office_seal(sealer: &Sealer, value: Option<&str>) -> Result<Option<(i64, Vec<u8>)>, SealError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match sealer.seal(value.as_bytes())? {
        Some(sealed) => Ok(Some((sealed.generation, sealed.bytes))),
        None => Err(SealError::Seal(
            "sealing was turned off while a value was being sealed".into(),
        )),
    }
}

/// Seals `value` with the intake key; `None` for no value.
fn intake_seal(key: &IntakeKey, value: Option<&str>) -> Result<Option<Vec<u8>>, SealError> {
    value.map(|v| key.seal(v.as_bytes())).transpose()
}

/// Opens what `intake_seal` sealed.
fn intake_open(key: &IntakeKey, sealed: Option<&[u8]>) -> Result<Option<String>, SealError> {
    sealed
        .map(|s| {
            String::from_utf8(key.open(s)?)
                .map_err(|_| SealError::Open("a sealed value is not UTF-8".into()))
        })
        .transpose()
}

/// The intake key, which sealing needs (the chain key).
fn intake_key(sealer: &Sealer) -> Result<&IntakeKey, SealError> {
    sealer.intake().ok_or_else(|| {
        SealError::Keys(
            "the telephone channel's sealed values need the intake key (journal.chain_key_file) \
             and the office key (`senim keys init`)"
                .into(),
        )
    })
}

/// A call's numbers as the call log stores them: plain (sealing off), or each
/// sealed to the office key (the plain ones then `None`).
#[derive(Default)]
struct CallColumns {
    caller: Option<String>,
    caller_raw: Option<String>,
    called: Option<String>,
    extension: Option<String>,
    caller_sealed: Option<Vec<u8>>,
    called_sealed: Option<Vec<u8>>,
    extension_sealed: Option<Vec<u8>>,
    generation: Option<i64>,
}

impl CallColumns {
    fn of(
        sealer: &Sealer,
        caller: Option<&str>,
        caller_raw: Option<&str>,
        called: Option<&str>,
        extension: Option<&str>,
    ) -> Result<CallColumns, SealError> {
        if !sealer.is_on() {
            return Ok(CallColumns {
                caller: caller.map(str::to_owned),
                caller_raw: caller_raw.map(str::to_owned),
                called: called.map(str::to_owned),
                extension: extension.map(str::to_owned),
                ..CallColumns::default()
            });
        }
        let who = (caller.is_some() || caller_raw.is_some())
            .then(|| serde_json::json!({ "caller": caller, "caller_raw": caller_raw }).to_string());
        let caller = office_seal(sealer, who.as_deref())?;
        let called = office_seal(sealer, called)?;
        let extension = office_seal(sealer, extension)?;
        let generation = [&caller, &called, &extension]
            .iter()
            .find_map(|s| s.as_ref().map(|(g, _)| *g));
        Ok(CallColumns {
            caller_sealed: caller.map(|(_, b)| b),
            called_sealed: called.map(|(_, b)| b),
            extension_sealed: extension.map(|(_, b)| b),
            generation,
            ..CallColumns::default()
        })
    }
}

/// Who called and whom, as the call log keeps it for a person (a missed call's
/// number, for a call-back).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallNumbers {
    /// The number to call back (E.164 where decided).
    pub caller: Option<String>,
    /// The caller as the PBX sent it.
    pub caller_raw: Option<String>,
    pub called: Option<String>,
    pub extension: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CallNumbersRow {
    caller: Option<String>,
    caller_raw: Option<String>,
    called: Option<String>,
    extension: Option<String>,
    caller_sealed: Option<Vec<u8>>,
    called_sealed: Option<Vec<u8>>,
    extension_sealed: Option<Vec<u8>>,
}

/// The calls an appeal was registered from, with whether a recording of each is
/// stored: (source, call id, recorded).
pub async fn calls_of(
    db: &Db,
    appeal: crate::journal::AppealId,
) -> Result<Vec<(String, String, bool)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT c.source, c.call_id, EXISTS (SELECT 1 FROM pbx_recordings r WHERE r.source = c.source \
         AND r.call_id = c.call_id AND r.state = 'stored') FROM pbx_calls c WHERE c.appeal_id = $1 \
         ORDER BY c.started_at",
    )
    .bind(appeal.0)
    .fetch_all(pool)
    .await)
}

/// A call's numbers from the call log, opened with `unlocked` where sealed;
/// `None` if the call is not logged.
pub async fn call_numbers(
    db: &Db,
    unlocked: &Unlocked,
    source: &str,
    call_id: &str,
) -> Result<Option<CallNumbers>, PbxError> {
    let row: Option<CallNumbersRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT caller, caller_raw, called, extension, caller_sealed, called_sealed, extension_sealed \
         FROM pbx_calls WHERE source = $1 AND call_id = $2",
    )
    .bind(source)
    .bind(call_id)
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let open = |sealed: Option<&Vec<u8>>| -> Result<Option<String>, SealError> {
        sealed
            .map(|s| {
                String::from_utf8(unlocked.open(s)?)
                    .map_err(|_| SealError::Open("a sealed number is not UTF-8".into()))
            })
            .transpose()
    };
    let mut numbers = CallNumbers {
        caller: row.caller,
        caller_raw: row.caller_raw,
        called: row.called.or(open(row.called_sealed.as_ref())?),
        extension: row.extension.or(open(row.extension_sealed.as_ref())?),
    };
    if let Some(who) = open(row.caller_sealed.as_ref())? {
        #[derive(serde::Deserialize)]
        struct Who {
            caller: Option<String>,
            caller_raw: Option<String>,
        }
        let who: Who = serde_json::from_str(&who)
            .map_err(|_| SealError::Open("a sealed caller is not the call log's JSON".into()))?;
        numbers.caller = who.caller;
        numbers.caller_raw = who.caller_raw;
    }
    Ok(Some(numbers))
}

/// The HTTP answer given to a delivery, stored to be given again to a retry.
#[derive(Clone, Debug)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

/// The query of the answer stored for a delivery, on a pool or in a transaction.
macro_rules! stored_answer {
    ($source:expr, $call_id:expr) => {
        sqlx::query_as::<_, (i64, String)>(
            "SELECT response_status, response_body FROM pbx_calls WHERE source = $1 AND call_id = $2",
        )
        .bind($source)
        .bind($call_id)
    };
}

pub async fn call_answer(
    db: &Db,
    source: &str,
    call_id: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    let row = on_db!(db, pool => stored_answer!(source, call_id).fetch_optional(pool).await)?;
    Ok(row.map(to_answer))
}

pub async fn call_answer_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    let row = on_tx!(tx, conn => stored_answer!(source, call_id).fetch_optional(conn).await)?;
    Ok(row.map(to_answer))
}

fn to_answer((status, body): (i64, String)) -> StoredAnswer {
    StoredAnswer {
        status: u16::try_from(status).unwrap_or(200),
        body,
    }
}

/// One line of the call log.
pub struct CallLogEntry<'a> {
    pub source: &'a str,
    pub record: &'a CallRecord,
    pub late_delivery: bool,
    pub unfinished: bool,
    pub in_working_hours: bool,
    pub outcome: &'a str,
    pub appeal_id: Option<i64>,
    pub received_at: DateTime<Utc>,
    pub answer: &'a StoredAnswer,
}

/// Logs a call (its numbers sealed to the office key when sealing is on);
/// `false` if the call is already logged (a concurrent delivery won).
pub async fn insert_call_in(
    tx: &mut Tx,
    e: &CallLogEntry<'_>,
    sealer: &Sealer,
) -> Result<bool, PbxError> {
    let r = e.record;
    let c = CallColumns::of(
        sealer,
        r.caller.as_ref().and_then(|c| c.number()),
        r.caller.as_ref().map(|c| c.raw()),
        r.called.as_deref(),
        r.extension.as_deref(),
    )?;
    let affected = rows_affected_in!(tx, sqlx::query(
        "INSERT INTO pbx_calls (source, call_id, format, linked_id, caller, called, started_at, answered_at, \
         ended_at, duration_seconds, billable_seconds, disposition, extension, in_working_hours, outcome, \
         appeal_id, received_at, response_status, response_body, caller_raw, late_delivery, unfinished, \
         caller_sealed, called_sealed, extension_sealed, sealed_generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
         $23, $24, $25, $26) \
         ON CONFLICT (source, call_id) DO NOTHING",
    )
    .bind(e.source)
    .bind(r.call_id.as_str())
    .bind(r.format.as_str())
    .bind(&r.linked_id)
    .bind(&c.caller)
    .bind(&c.called)
    .bind(r.times.start())
    .bind(r.times.answer())
    .bind(r.times.end())
    .bind(i64::from(r.duration_seconds))
    .bind(i64::from(r.billable_seconds))
    .bind(r.disposition.as_str())
    .bind(&c.extension)
    .bind(e.in_working_hours)
    .bind(e.outcome)
    .bind(e.appeal_id)
    .bind(e.received_at)
    .bind(i64::from(e.answer.status))
    .bind(&e.answer.body)
    .bind(&c.caller_raw)
    .bind(e.late_delivery)
    .bind(e.unfinished)
    .bind(&c.caller_sealed)
    .bind(&c.called_sealed)
    .bind(&c.extension_sealed)
    .bind(c.generation))?;
    Ok(affected == 1)
}

/// Turns a logged (not registered) call into an appeal once a late event shows it
/// was answered; `false` if it is no longer only logged (a concurrent event won).
pub async fn upgrade_call_in(
    tx: &mut Tx,
    source: &str,
    record: &CallRecord,
    appeal_id: i64,
    answer: &StoredAnswer,
    sealer: &Sealer,
) -> Result<bool, PbxError> {
    let c = CallColumns::of(sealer, None, None, None, record.extension.as_deref())?;
    let affected = rows_affected_in!(tx, sqlx::query(
        "UPDATE pbx_calls SET disposition = $1, answered_at = $2, billable_seconds = $3, extension = $4, \
         outcome = 'appeal', appeal_id = $5, response_status = $6, response_body = $7, \
         extension_sealed = $10, sealed_generation = COALESCE($11, sealed_generation) \
         WHERE source = $8 AND call_id = $9 AND outcome = 'logged'",
    )
    .bind(record.disposition.as_str())
    .bind(record.times.answer())
    .bind(i64::from(record.billable_seconds))
    .bind(&c.extension)
    .bind(appeal_id)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(source)
    .bind(record.call_id.as_str())
    .bind(&c.extension_sealed)
    .bind(c.generation))?;
    Ok(affected == 1)
}

/// CTI calls answered at or before `before` that have neither a hangup nor a
/// line in the call log: `(source, call id)`, oldest answer first.
pub async fn unfinished_cti_calls(
    db: &Db,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT a.source, a.call_id FROM pbx_cti_events a \
         WHERE a.event = 'answer' AND a.received_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM pbx_cti_events h \
             WHERE h.source = a.source AND h.call_id = a.call_id AND h.event = 'hangup') \
         AND NOT EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = a.source AND c.call_id = a.call_id) \
         ORDER BY a.received_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// Counts of logged calls by outcome and disposition (for summaries; no identities).
pub async fn count_calls(db: &Db) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT outcome, disposition, COUNT(*) FROM pbx_calls GROUP BY outcome, disposition ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await)
}

/// The calls of the log that started in a span of time, counted (the summaries
/// of clause 10.13): no number, no recording, no appeal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallSummary {
    /// Every call logged.
    pub calls: u64,
    pub answered: u64,
    /// Answered by the voicemail box, or a missed call with a message.
    pub voicemail: u64,
    /// No answer, busy or failed, without a message (`Disposition::is_missed`).
    pub missed: u64,
    /// Calls that came outside working hours (the calendar at the call's start).
    pub after_hours: u64,
    /// Missed calls that came outside working hours.
    pub missed_after_hours: u64,
}

impl CallSummary {
    /// The two summaries added together.
    pub fn plus(self, other: CallSummary) -> CallSummary {
        CallSummary {
            calls: self.calls + other.calls,
            answered: self.answered + other.answered,
            voicemail: self.voicemail + other.voicemail,
            missed: self.missed + other.missed,
            after_hours: self.after_hours + other.after_hours,
            missed_after_hours: self.missed_after_hours + other.missed_after_hours,
        }
    }
}

/// The calls that started at or after `from` and before `until`, counted by
/// how they ended and whether in working hours: one aggregate query.
pub async fn call_summary(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<CallSummary, sqlx::Error> {
    let rows: Vec<(String, bool, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT disposition, in_working_hours, COUNT(*) FROM pbx_calls \
         WHERE started_at >= $1 AND started_at < $2 GROUP BY disposition, in_working_hours",
    )
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await)?;
    let mut summary = CallSummary::default();
    for (disposition, in_working_hours, n) in rows {
        let disposition: Disposition = disposition.parse().map_err(|e: String| {
            sqlx::Error::Decode(format!("pbx_calls.disposition: {e}").into())
        })?;
        let n = u64::try_from(n).unwrap_or_default();
        summary.calls += n;
        match disposition {
            Disposition::Answered => summary.answered += n,
            Disposition::Voicemail => summary.voicemail += n,
            d if d.is_missed() => summary.missed += n,
            _ => {}
        }
        if !in_working_hours {
            summary.after_hours += n;
            if disposition.is_missed() {
                summary.missed_after_hours += n;
            }
        }
    }
    Ok(summary)
}
