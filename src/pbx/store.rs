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

use chrono::{DateTime, Utc};

use super::error::PbxError;
use super::formats::{CallRecord, CtiEvent, Disposition};
use crate::db::{Db, Tx};
use crate::sealing::keys::Rotation;
use crate::sealing::{IntakeKey, SealError, Sealer, Unlocked};
use crate::{on_db, on_tx, on_write};

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

pub async fn call_answer(
    db: &Db,
    source: &str,
    call_id: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    let row: Option<(i64, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT response_status, response_body FROM pbx_calls WHERE source = $1 AND call_id = $2",
    )
    .bind(source)
    .bind(call_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(to_answer))
}

pub async fn call_answer_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    let row: Option<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT response_status, response_body FROM pbx_calls WHERE source = $1 AND call_id = $2",
    )
    .bind(source)
    .bind(call_id)
    .fetch_optional(conn)
    .await)?;
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
    let affected = on_tx!(tx, conn => sqlx::query(
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
    .bind(c.generation)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
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
    let affected = on_tx!(tx, conn => sqlx::query(
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
    .bind(c.generation)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
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

/// Where a call's recording stands.
pub enum RecordingRow<'a> {
    /// Uploaded and stored.
    Stored {
        file_name: Option<&'a str>,
        /// Its SHA-256, or its keyed hash when `generation` is set.
        sha256: &'a str,
        size: u64,
        at: DateTime<Utc>,
        /// The office key generation the file is sealed to; `None`: plain.
        generation: Option<i64>,
    },
    /// To download, from now on.
    Pending { url: &'a str, at: DateTime<Utc> },
    /// Only a file name on the PBX is known.
    NameOnly { file_name: &'a str },
}

/// Logs a call's recording; its URL is sealed with the intake key and its file
/// name to the office key when sealing is on.
pub async fn insert_recording_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
    row: &RecordingRow<'_>,
    sealer: &Sealer,
) -> Result<(), PbxError> {
    let (url, file_name, state, sha, size, next, stored, generation) = match *row {
        RecordingRow::Stored {
            file_name,
            sha256,
            size,
            at,
            generation,
        } => (
            None,
            file_name,
            "stored",
            Some(sha256),
            Some(i64::try_from(size).unwrap_or(i64::MAX)),
            None,
            Some(at),
            generation,
        ),
        RecordingRow::Pending { url, at } => {
            (Some(url), None, "pending", None, None, Some(at), None, None)
        }
        RecordingRow::NameOnly { file_name } => (
            None,
            Some(file_name),
            "name_only",
            None,
            None,
            None,
            None,
            None,
        ),
    };
    let (url, url_sealed, file_name, file_name_sealed) = if sealer.is_on() {
        (
            None,
            intake_seal(intake_key(sealer)?, url)?,
            None,
            office_seal(sealer, file_name)?.map(|(_, b)| b),
        )
    } else {
        (url, None, file_name, None)
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO pbx_recordings (source, call_id, url, file_name, state, sha256, size_bytes, next_attempt_at, stored_at, \
         url_sealed, file_name_sealed, file_generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (source, call_id) DO NOTHING",
    )
    .bind(source)
    .bind(call_id)
    .bind(url)
    .bind(file_name)
    .bind(state)
    .bind(sha)
    .bind(size)
    .bind(next)
    .bind(stored)
    .bind(url_sealed)
    .bind(file_name_sealed)
    .bind(generation)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A recording waiting to be downloaded.
pub struct PendingDownload {
    pub source: String,
    pub call_id: String,
    /// Where from; empty if its sealed URL cannot be opened (the intake key
    /// changed): the downloader gives it up.
    pub url: String,
    pub attempts: i64,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    source: String,
    call_id: String,
    url: Option<String>,
    url_sealed: Option<Vec<u8>>,
    attempts: i64,
}

/// The downloads due at `now`, their URLs opened with the intake key where sealed.
pub async fn due_downloads(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
    sealer: &Sealer,
) -> Result<Vec<PendingDownload>, sqlx::Error> {
    let rows: Vec<PendingRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT source, call_id, url, url_sealed, attempts FROM pbx_recordings \
         WHERE state = 'pending' AND (url IS NOT NULL OR url_sealed IS NOT NULL) AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let url = match (r.url, &r.url_sealed) {
                (Some(url), _) => url,
                (None, sealed) => sealer
                    .intake()
                    .and_then(|k| intake_open(k, sealed.as_deref()).ok().flatten())
                    .unwrap_or_default(),
            };
            PendingDownload {
                source: r.source,
                call_id: r.call_id,
                url,
                attempts: r.attempts,
            }
        })
        .collect())
}

/// The earliest time a pending download is due, if any.
pub async fn next_download_at(db: &Db) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let row: Option<(DateTime<Utc>,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT next_attempt_at FROM pbx_recordings WHERE state = 'pending' AND next_attempt_at IS NOT NULL \
         ORDER BY next_attempt_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|r| r.0))
}

/// Records a downloaded recording as stored. A sealed file (`generation`) erases
/// the URL it came from (it may name the caller).
pub async fn download_stored(
    db: &Db,
    d: &PendingDownload,
    sha256: &str,
    size: u64,
    generation: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET state = 'stored', sha256 = $1, size_bytes = $2, stored_at = $3, \
         attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL, file_generation = $6, \
         url = CASE WHEN $7 THEN NULL ELSE url END, url_sealed = NULL \
         WHERE source = $4 AND call_id = $5 AND destroyed_at IS NULL",
    )
    .bind(sha256)
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(now)
    .bind(&d.source)
    .bind(&d.call_id)
    .bind(generation)
    .bind(generation.is_some())
    .execute(conn)
    .await
    .map(|_| ()))
}

/// Records a failed attempt: retried at `next`, or given up when `next` is `None`.
pub async fn download_failed(
    db: &Db,
    d: &PendingDownload,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let state = if next.is_some() { "pending" } else { "failed" };
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3 \
         WHERE source = $4 AND call_id = $5 AND destroyed_at IS NULL",
    )
    .bind(state)
    .bind(next)
    .bind(error)
    .bind(&d.source)
    .bind(&d.call_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// A CTI event as stored.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct StoredCtiEvent {
    pub event: String,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub cause: Option<String>,
    pub answered_by: Option<String>,
    pub received_at: DateTime<Utc>,
}

pub async fn cti_answer(
    db: &Db,
    source: &str,
    call_id: &str,
    event: &str,
) -> Result<Option<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT response_body FROM pbx_cti_events WHERE source = $1 AND call_id = $2 AND event = $3",
    )
    .bind(source)
    .bind(call_id)
    .bind(event)
    .fetch_optional(pool)
    .await)
}

#[derive(sqlx::FromRow)]
struct CtiRow {
    event: String,
    caller: Option<String>,
    called: Option<String>,
    cause: Option<String>,
    answered_by: Option<String>,
    received_at: DateTime<Utc>,
    caller_sealed: Option<Vec<u8>>,
    called_sealed: Option<Vec<u8>>,
    answered_by_sealed: Option<Vec<u8>>,
    sealed_to: Option<String>,
}

/// A call's CTI events, oldest first, their numbers opened with the intake key
/// where sealed with it. Numbers sealed to the office key (the call is final:
/// the daemon needs them no more) read as absent.
pub async fn cti_events_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
    sealer: &Sealer,
) -> Result<Vec<StoredCtiEvent>, PbxError> {
    let rows: Vec<CtiRow> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT event, caller, called, cause, answered_by, received_at, caller_sealed, called_sealed, \
         answered_by_sealed, sealed_to FROM pbx_cti_events \
         WHERE source = $1 AND call_id = $2 ORDER BY received_at",
    )
    .bind(source)
    .bind(call_id)
    .fetch_all(conn)
    .await)?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let (caller, called, answered_by) = match r.sealed_to.as_deref() {
            Some("intake") => {
                let key = intake_key(sealer)?;
                (
                    intake_open(key, r.caller_sealed.as_deref())?,
                    intake_open(key, r.called_sealed.as_deref())?,
                    intake_open(key, r.answered_by_sealed.as_deref())?,
                )
            }
            Some(_) => (None, None, None),
            None => (r.caller, r.called, r.answered_by),
        };
        events.push(StoredCtiEvent {
            event: r.event,
            caller,
            called,
            cause: r.cause,
            answered_by,
            received_at: r.received_at,
        });
    }
    Ok(events)
}

/// Stores an event with its answer, its numbers sealed with the intake key when
/// sealing is on; `false` if the same event is already stored.
pub async fn insert_cti_event_in(
    tx: &mut Tx,
    source: &str,
    event: &CtiEvent,
    cause: Option<&str>,
    received_at: DateTime<Utc>,
    response: &str,
    sealer: &Sealer,
) -> Result<bool, PbxError> {
    let (plain, sealed, sealed_to) = if sealer.is_on() {
        let key = intake_key(sealer)?;
        (
            [None, None, None],
            [
                intake_seal(key, event.from.as_deref())?,
                intake_seal(key, event.to.as_deref())?,
                intake_seal(key, event.answered_by.as_deref())?,
            ],
            Some("intake"),
        )
    } else {
        (
            [
                event.from.as_deref(),
                event.to.as_deref(),
                event.answered_by.as_deref(),
            ],
            [None, None, None],
            None,
        )
    };
    let [caller, called, answered_by] = plain;
    let [caller_sealed, called_sealed, answered_by_sealed] = sealed;
    let affected = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO pbx_cti_events (source, call_id, event, caller, called, cause, answered_by, received_at, response_body, \
         caller_sealed, called_sealed, answered_by_sealed, sealed_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (source, call_id, event) DO NOTHING",
    )
    .bind(source)
    .bind(event.call_id.as_str())
    .bind(event.kind.as_str())
    .bind(caller)
    .bind(called)
    .bind(cause)
    .bind(answered_by)
    .bind(received_at)
    .bind(response)
    .bind(caller_sealed)
    .bind(called_sealed)
    .bind(answered_by_sealed)
    .bind(sealed_to)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(affected == 1)
}

/// Once a CTI call is final (hung up, or registered by the sweep: in the call
/// log, an appeal or only logged, a missed call among them) the daemon needs
/// its events' numbers no more: those sealed with the intake key are sealed to
/// the office key instead, in `tx`, so only a person (a call-back to a missed
/// caller) reads them. Returns how many events it resealed (none when sealing is off).
pub async fn hand_over_cti_numbers_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
    sealer: &Sealer,
) -> Result<u64, PbxError> {
    if !sealer.is_on() {
        return Ok(0);
    }
    let key = intake_key(sealer)?;
    type SealedEvent = (String, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);
    let rows: Vec<SealedEvent> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT event, caller_sealed, called_sealed, answered_by_sealed FROM pbx_cti_events \
         WHERE source = $1 AND call_id = $2 AND sealed_to = 'intake'",
    )
    .bind(source)
    .bind(call_id)
    .fetch_all(conn)
    .await)?;
    let mut resealed = 0;
    for (event, caller, called, answered_by) in rows {
        let reseal = |sealed: Option<Vec<u8>>| -> Result<Option<Vec<u8>>, SealError> {
            let plain = intake_open(key, sealed.as_deref())?;
            Ok(office_seal(sealer, plain.as_deref())?.map(|(_, b)| b))
        };
        let (caller, called, answered_by) =
            (reseal(caller)?, reseal(called)?, reseal(answered_by)?);
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller_sealed = $1, called_sealed = $2, answered_by_sealed = $3, \
             sealed_to = 'office' WHERE source = $4 AND call_id = $5 AND event = $6",
        )
        .bind(caller)
        .bind(called)
        .bind(answered_by)
        .bind(source)
        .bind(call_id)
        .bind(&event)
        .execute(conn)
        .await
        .map(|_| ()))?;
        resealed += 1;
    }
    Ok(resealed)
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

/// What the telephone channel destroyed (`destroy_for_appeal_in`, `forget_missed_callers_in`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Destroyed {
    /// Lines of the call log whose caller number went.
    pub calls: u64,
    /// CTI events whose caller number went.
    pub cti_events: u64,
    /// Recordings destroyed (their files are removed after the commit:
    /// `recordings::remove_destroyed`).
    pub recordings: u64,
}

/// Destroys, in the retention purge's transaction, what the call log keeps of
/// the appeal `appeal`: with `numbers`, the caller numbers of its calls and of
/// their CTI events; always, its recordings: each row says `destroyed_at` (its
/// checksum and size stay, the URL and file name on the PBX go, a pending
/// download is given up), and the file goes after the commit. Does nothing to
/// what is already destroyed.
pub async fn destroy_for_appeal_in(
    tx: &mut Tx,
    appeal_id: i64,
    numbers: bool,
    now: DateTime<Utc>,
) -> Result<Destroyed, sqlx::Error> {
    let mut destroyed = Destroyed::default();
    if numbers {
        destroyed.cti_events = on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller = NULL, caller_sealed = NULL \
             WHERE (caller IS NOT NULL OR caller_sealed IS NOT NULL) AND (source, call_id) IN \
             (SELECT source, call_id FROM pbx_calls WHERE appeal_id = $1)",
        )
        .bind(appeal_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        destroyed.calls = on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL, caller_sealed = NULL \
             WHERE appeal_id = $1 AND (caller IS NOT NULL OR caller_raw IS NOT NULL OR caller_sealed IS NOT NULL)",
        )
        .bind(appeal_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    destroyed.recordings = on_tx!(tx, conn => sqlx::query(
        "UPDATE pbx_recordings SET destroyed_at = $1, file_removed = (sha256 IS NULL), url = NULL, \
         url_sealed = NULL, file_name = NULL, file_name_sealed = NULL, last_error = NULL, next_attempt_at = NULL, \
         state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END \
         WHERE destroyed_at IS NULL AND (source, call_id) IN \
         (SELECT source, call_id FROM pbx_calls WHERE appeal_id = $2)",
    )
    .bind(now)
    .bind(appeal_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(destroyed)
}

/// Forgets, in one transaction, the caller numbers of at most `limit` calls that
/// never became appeals and started before `before`, with their CTI events'
/// numbers and their recordings (a voicemail kept as a logged call), and those
/// of at most `limit` CTI events older than `before` of calls that never reached
/// the call log; the calls stay, counted. Returns what it destroyed (`calls`:
/// the call log's lines): none once all are forgotten.
pub async fn forget_missed_callers_in(
    tx: &mut Tx,
    before: DateTime<Utc>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Destroyed, sqlx::Error> {
    let keys: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id FROM pbx_calls WHERE appeal_id IS NULL AND started_at < $1 \
         AND (caller IS NOT NULL OR caller_raw IS NOT NULL OR caller_sealed IS NOT NULL \
              OR EXISTS (SELECT 1 FROM pbx_cti_events e \
                         WHERE e.source = pbx_calls.source AND e.call_id = pbx_calls.call_id \
                         AND (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL)) \
              OR EXISTS (SELECT 1 FROM pbx_recordings r \
                         WHERE r.source = pbx_calls.source AND r.call_id = pbx_calls.call_id AND r.destroyed_at IS NULL)) \
         ORDER BY started_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await)?;
    let mut destroyed = Destroyed {
        calls: keys.len() as u64,
        ..Destroyed::default()
    };
    for (source, call_id) in &keys {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL, caller_sealed = NULL \
             WHERE source = $1 AND call_id = $2",
        )
        .bind(source)
        .bind(call_id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        destroyed.cti_events += on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller = NULL, caller_sealed = NULL \
             WHERE source = $1 AND call_id = $2 AND (caller IS NOT NULL OR caller_sealed IS NOT NULL)",
        )
        .bind(source)
        .bind(call_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        destroyed.recordings += on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_recordings SET destroyed_at = $1, file_removed = (sha256 IS NULL), url = NULL, \
             url_sealed = NULL, file_name = NULL, file_name_sealed = NULL, last_error = NULL, next_attempt_at = NULL, \
             state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END \
             WHERE source = $2 AND call_id = $3 AND destroyed_at IS NULL",
        )
        .bind(now)
        .bind(source)
        .bind(call_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    // CTI events of calls that never reached the call log (rung, never hung up).
    destroyed.cti_events += on_tx!(tx, conn => sqlx::query(
        "UPDATE pbx_cti_events SET caller = NULL, caller_sealed = NULL WHERE (source, call_id, event) IN \
         (SELECT source, call_id, event FROM pbx_cti_events e \
          WHERE (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL) AND e.received_at < $1 \
          AND NOT EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id) \
          ORDER BY e.received_at LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(destroyed)
}

/// What `forget_missed_callers_in`, run until it finds nothing, would destroy
/// (for a dry run).
pub async fn missed_callers_to_forget(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<Destroyed, sqlx::Error> {
    let (calls, cti_events, recordings): (i64, i64, i64) = on_db!(db, pool => sqlx::query_as(
        "SELECT \
         (SELECT COUNT(*) FROM pbx_calls WHERE appeal_id IS NULL AND started_at < $1 \
          AND (caller IS NOT NULL OR caller_raw IS NOT NULL OR caller_sealed IS NOT NULL \
               OR EXISTS (SELECT 1 FROM pbx_cti_events e \
                          WHERE e.source = pbx_calls.source AND e.call_id = pbx_calls.call_id \
                         AND (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL)) \
               OR EXISTS (SELECT 1 FROM pbx_recordings r \
                          WHERE r.source = pbx_calls.source AND r.call_id = pbx_calls.call_id AND r.destroyed_at IS NULL))), \
         (SELECT COUNT(*) FROM pbx_cti_events e WHERE (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL) AND ( \
            EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id \
                    AND c.appeal_id IS NULL AND c.started_at < $1) \
            OR (e.received_at < $1 \
                AND NOT EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id)))), \
         (SELECT COUNT(*) FROM pbx_recordings r WHERE r.destroyed_at IS NULL AND EXISTS \
            (SELECT 1 FROM pbx_calls c WHERE c.source = r.source AND c.call_id = r.call_id \
             AND c.appeal_id IS NULL AND c.started_at < $1))",
    )
    .bind(before)
    .fetch_one(pool)
    .await)?;
    let n = |v: i64| u64::try_from(v).unwrap_or_default();
    Ok(Destroyed {
        calls: n(calls),
        cti_events: n(cti_events),
        recordings: n(recordings),
    })
}

/// A destroyed recording whose file is still to be removed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FileToRemove {
    pub source: String,
    pub call_id: String,
    pub sha256: String,
}

/// Destroyed recordings whose files are not yet removed, at most `limit`.
pub async fn files_to_remove(db: &Db, limit: i64) -> Result<Vec<FileToRemove>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT source, call_id, sha256 FROM pbx_recordings \
         WHERE destroyed_at IS NOT NULL AND NOT file_removed AND sha256 IS NOT NULL \
         ORDER BY destroyed_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await)
}

/// Whether a recording not destroyed still has this content (the store keeps
/// one file per content): then its file stays.
pub async fn content_still_kept(db: &Db, sha256: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT 1 FROM pbx_recordings WHERE sha256 = $1 AND destroyed_at IS NULL LIMIT 1",
    )
    .bind(sha256)
    .fetch_optional(pool)
    .await)?;
    Ok(found.is_some())
}

/// Records that a destroyed recording's file is gone.
pub async fn file_removed(db: &Db, f: &FileToRemove) -> Result<(), sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET file_removed = TRUE WHERE source = $1 AND call_id = $2",
    )
    .bind(&f.source)
    .bind(&f.call_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// A stored recording's file: its name (SHA-256, or keyed hash when sealed) and
/// the office key generation it is sealed to (`None`: plain). `None` if the
/// call has no stored recording (none, not yet downloaded, or destroyed).
pub async fn stored_recording(
    db: &Db,
    source: &str,
    call_id: &str,
) -> Result<Option<(String, Option<i64>)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT sha256, file_generation FROM pbx_recordings WHERE source = $1 AND call_id = $2 \
         AND state = 'stored' AND destroyed_at IS NULL AND sha256 IS NOT NULL",
    )
    .bind(source)
    .bind(call_id)
    .fetch_optional(pool)
    .await)
}

/// A recording stored as a plain file: `(source, call id, SHA-256)`.
pub async fn plain_recordings(db: &Db) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT source, call_id, sha256 FROM pbx_recordings WHERE state = 'stored' \
         AND file_generation IS NULL AND destroyed_at IS NULL AND sha256 IS NOT NULL \
         ORDER BY source, call_id",
    )
    .fetch_all(pool)
    .await)
}

/// Points a recording's row from its plain file (`plain`) to its sealed one
/// (`sealed`, of `generation`), remembering the plain file to erase
/// (`unsealed_file`); `false` if the row changed meanwhile.
pub async fn switch_to_sealed(
    db: &Db,
    source: &str,
    call_id: &str,
    plain: &str,
    sealed: &str,
    generation: i64,
) -> Result<bool, sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET sha256 = $1, file_generation = $2, unsealed_file = $3 \
         WHERE source = $4 AND call_id = $5 AND sha256 = $3 AND file_generation IS NULL",
    )
    .bind(sealed)
    .bind(generation)
    .bind(plain)
    .bind(source)
    .bind(call_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Plain files replaced by sealed ones and not yet erased: `(source, call id,
/// plain SHA-256)`.
pub async fn unsealed_files(db: &Db) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT source, call_id, unsealed_file FROM pbx_recordings WHERE unsealed_file IS NOT NULL \
         ORDER BY source, call_id",
    )
    .fetch_all(pool)
    .await)
}

/// Records that a replaced plain file is erased.
pub async fn unsealed_file_erased(db: &Db, source: &str, call_id: &str) -> Result<(), sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET unsealed_file = NULL WHERE source = $1 AND call_id = $2",
    )
    .bind(source)
    .bind(call_id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// Sealed recording files of a generation of the office key older than
/// `generation`, not destroyed: their names (`pbx_recordings.sha256`, the keyed
/// hash), each once (calls with the same content share one file).
pub async fn recordings_sealed_before(
    db: &Db,
    generation: i64,
) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT sha256 FROM pbx_recordings WHERE state = 'stored' AND destroyed_at IS NULL \
         AND sha256 IS NOT NULL AND file_generation IS NOT NULL AND file_generation < $1 ORDER BY sha256",
    )
    .bind(generation)
    .fetch_all(pool)
    .await)
}

/// Records that the sealed file `name` is now sealed to `generation` (every row
/// naming it); how many rows.
pub async fn recording_resealed(db: &Db, name: &str, generation: i64) -> Result<u64, sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET file_generation = $1 \
         WHERE sha256 = $2 AND file_generation IS NOT NULL AND file_generation < $1",
    )
    .bind(generation)
    .bind(name)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))
}

/// How many values `seal_existing_in` sealed or erased (or `reseal_in`
/// resealed), by table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SealedExisting {
    pub calls: u64,
    pub cti_events: u64,
    pub recordings: u64,
}

impl SealedExisting {
    pub fn total(&self) -> u64 {
        self.calls + self.cti_events + self.recordings
    }
}

#[derive(sqlx::FromRow)]
struct PlainCall {
    source: String,
    call_id: String,
    caller: Option<String>,
    caller_raw: Option<String>,
    called: Option<String>,
    extension: Option<String>,
}

/// Seals in place, in `tx` (`senim keys init`'s, after `sealer.use_recipients`),
/// what the telephone channel stored plain before sealing was on: the call
/// log's numbers (to the office key), the CTI events' numbers (with the intake
/// key; to the office key for calls that are final, in the call log), pending recordings' URLs
/// (with the intake key; the URLs of recordings no longer pending are erased)
/// and recordings' file names (to the office key). The recording files are
/// sealed after the commit: `recordings::RecordingStore::seal_existing`.
/// Returns how many rows it changed; refused when sealing is off.
pub async fn seal_existing_in(tx: &mut Tx, sealer: &Sealer) -> Result<u64, PbxError> {
    Ok(seal_existing_by_table_in(tx, sealer).await?.total())
}

/// `seal_existing_in`, counted by table.
pub async fn seal_existing_by_table_in(
    tx: &mut Tx,
    sealer: &Sealer,
) -> Result<SealedExisting, PbxError> {
    let key = intake_key(sealer)?;
    let mut done = SealedExisting::default();
    let calls: Vec<PlainCall> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, caller, caller_raw, called, extension FROM pbx_calls \
         WHERE caller IS NOT NULL OR caller_raw IS NOT NULL OR called IS NOT NULL OR extension IS NOT NULL",
    )
    .fetch_all(conn)
    .await)?;
    for c in calls {
        let s = CallColumns::of(
            sealer,
            c.caller.as_deref(),
            c.caller_raw.as_deref(),
            c.called.as_deref(),
            c.extension.as_deref(),
        )?;
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL, called = NULL, extension = NULL, \
             caller_sealed = $1, called_sealed = $2, extension_sealed = $3, sealed_generation = $4 \
             WHERE source = $5 AND call_id = $6",
        )
        .bind(&s.caller_sealed)
        .bind(&s.called_sealed)
        .bind(&s.extension_sealed)
        .bind(s.generation)
        .bind(&c.source)
        .bind(&c.call_id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        done.calls += 1;
    }
    type PlainEvent = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let events: Vec<PlainEvent> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, event, caller, called, answered_by FROM pbx_cti_events \
         WHERE sealed_to IS NULL",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id, event, caller, called, answered_by) in events {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller = NULL, called = NULL, answered_by = NULL, caller_sealed = $1, \
             called_sealed = $2, answered_by_sealed = $3, sealed_to = 'intake' \
             WHERE source = $4 AND call_id = $5 AND event = $6",
        )
        .bind(intake_seal(key, caller.as_deref())?)
        .bind(intake_seal(key, called.as_deref())?)
        .bind(intake_seal(key, answered_by.as_deref())?)
        .bind(&source)
        .bind(&call_id)
        .bind(&event)
        .execute(conn)
        .await
        .map(|_| ()))?;
        done.cti_events += 1;
    }
    let appeals: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT DISTINCT e.source, e.call_id FROM pbx_cti_events e JOIN pbx_calls c \
         ON c.source = e.source AND c.call_id = e.call_id \
         WHERE e.sealed_to = 'intake'",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id) in appeals {
        hand_over_cti_numbers_in(tx, &source, &call_id, sealer).await?;
    }
    type PlainRecording = (String, String, String, Option<String>, Option<String>);
    let recordings: Vec<PlainRecording> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, state, url, file_name FROM pbx_recordings \
         WHERE url IS NOT NULL OR file_name IS NOT NULL",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id, state, url, file_name) in recordings {
        // The downloader reads a URL back until the recording is stored, and
        // a person may retry one that failed; a stored recording's URL goes.
        let url_sealed = match state.as_str() {
            "stored" => None,
            _ => intake_seal(key, url.as_deref())?,
        };
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_recordings SET url = NULL, file_name = NULL, url_sealed = $1, file_name_sealed = $2 \
             WHERE source = $3 AND call_id = $4",
        )
        .bind(url_sealed)
        .bind(office_seal(sealer, file_name.as_deref())?.map(|(_, b)| b))
        .bind(&source)
        .bind(&call_id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        done.recordings += 1;
    }
    Ok(done)
}

/// Reseals, in `tx` (the rotation's: `senim keys rotate`, `remove-reader`), what
/// the telephone channel holds sealed to an older generation of the office key:
/// the call log's numbers (`sealed_generation` follows), the CTI events' numbers
/// sealed to the office key (`sealed_to = 'office'`), and recordings' file
/// names, each opened with `unlocked` and sealed to the rotation's generation
/// (`Rotation::reseal`). What is sealed with the intake key is not under the
/// office key and stays as it is. The recording files are resealed after the
/// commit (`recordings::RecordingStore::reseal`). Returns how many rows it
/// changed; a value that does not open fails the rotation, which then changes
/// nothing.
pub async fn reseal_in(
    tx: &mut Tx,
    rotation: &Rotation,
    unlocked: &Unlocked,
) -> Result<u64, PbxError> {
    Ok(reseal_by_table_in(tx, rotation, unlocked).await?.total())
}

/// `reseal_in`, counted by table.
pub async fn reseal_by_table_in(
    tx: &mut Tx,
    rotation: &Rotation,
    unlocked: &Unlocked,
) -> Result<SealedExisting, PbxError> {
    let generation = rotation.recipients.generation;
    let reseal = |sealed: Option<Vec<u8>>| -> Result<Option<Vec<u8>>, SealError> {
        sealed
            .map(|s| rotation.reseal(unlocked, &s).map(|r| r.bytes))
            .transpose()
    };
    let mut done = SealedExisting::default();
    type SealedCall = (
        String,
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    // The rows sealed to the new generation are no longer selected, so each
    // batch finds the next ones.
    loop {
        let calls: Vec<SealedCall> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT source, call_id, caller_sealed, called_sealed, extension_sealed FROM pbx_calls \
             WHERE sealed_generation IS NOT NULL AND sealed_generation < $1 \
             ORDER BY source, call_id LIMIT $2",
        )
        .bind(generation)
        .bind(RESEAL_BATCH)
        .fetch_all(conn)
        .await)?;
        if calls.is_empty() {
            break;
        }
        for (source, call_id, caller, called, extension) in calls {
            on_tx!(tx, conn => sqlx::query(
                "UPDATE pbx_calls SET caller_sealed = $1, called_sealed = $2, extension_sealed = $3, \
                 sealed_generation = $4 WHERE source = $5 AND call_id = $6",
            )
            .bind(reseal(caller)?)
            .bind(reseal(called)?)
            .bind(reseal(extension)?)
            .bind(generation)
            .bind(&source)
            .bind(&call_id)
            .execute(conn)
            .await
            .map(|_| ()))?;
            done.calls += 1;
        }
    }
    // CTI events and file names keep no generation: every one sealed to the
    // office key is of an older one (the new one is not committed yet), and is
    // resealed once, here.
    type SealedEvent = (
        String,
        String,
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    let events: Vec<SealedEvent> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, event, caller_sealed, called_sealed, answered_by_sealed \
         FROM pbx_cti_events WHERE sealed_to = 'office'",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id, event, caller, called, answered_by) in events {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller_sealed = $1, called_sealed = $2, answered_by_sealed = $3 \
             WHERE source = $4 AND call_id = $5 AND event = $6",
        )
        .bind(reseal(caller)?)
        .bind(reseal(called)?)
        .bind(reseal(answered_by)?)
        .bind(&source)
        .bind(&call_id)
        .bind(&event)
        .execute(conn)
        .await
        .map(|_| ()))?;
        done.cti_events += 1;
    }
    let names: Vec<(String, String, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, file_name_sealed FROM pbx_recordings WHERE file_name_sealed IS NOT NULL",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id, name) in names {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_recordings SET file_name_sealed = $1 WHERE source = $2 AND call_id = $3",
        )
        .bind(reseal(Some(name))?)
        .bind(&source)
        .bind(&call_id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        done.recordings += 1;
    }
    Ok(done)
}

/// How many call log rows `reseal_by_table_in` reads at once.
const RESEAL_BATCH: i64 = 200;
