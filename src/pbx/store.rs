//! The telephone channel's own tables: the call log with the answer each call
//! got (`pbx_calls`), recordings (`pbx_recordings`) and Zammad CTI events
//! (`pbx_cti_events`). Writes take the caller's `Tx`, so they commit together
//! with the Journal's registration.

use chrono::{DateTime, Utc};

use super::formats::{CallRecord, CtiEvent};
use crate::db::{Db, Tx};
use crate::{on_db, on_tx, on_write};

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

/// Logs a call; `false` if the call is already logged (a concurrent delivery won).
pub async fn insert_call_in(tx: &mut Tx, e: &CallLogEntry<'_>) -> Result<bool, sqlx::Error> {
    let r = e.record;
    let affected = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO pbx_calls (source, call_id, format, linked_id, caller, called, started_at, answered_at, \
         ended_at, duration_seconds, billable_seconds, disposition, extension, in_working_hours, outcome, \
         appeal_id, received_at, response_status, response_body, caller_raw, late_delivery, unfinished) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
         ON CONFLICT (source, call_id) DO NOTHING",
    )
    .bind(e.source)
    .bind(r.call_id.as_str())
    .bind(r.format.as_str())
    .bind(&r.linked_id)
    .bind(r.caller.as_ref().and_then(|c| c.number()))
    .bind(&r.called)
    .bind(r.times.start())
    .bind(r.times.answer())
    .bind(r.times.end())
    .bind(i64::from(r.duration_seconds))
    .bind(i64::from(r.billable_seconds))
    .bind(r.disposition.as_str())
    .bind(&r.extension)
    .bind(e.in_working_hours)
    .bind(e.outcome)
    .bind(e.appeal_id)
    .bind(e.received_at)
    .bind(i64::from(e.answer.status))
    .bind(&e.answer.body)
    .bind(r.caller.as_ref().map(|c| c.raw()))
    .bind(e.late_delivery)
    .bind(e.unfinished)
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
) -> Result<bool, sqlx::Error> {
    let affected = on_tx!(tx, conn => sqlx::query(
        "UPDATE pbx_calls SET disposition = $1, answered_at = $2, billable_seconds = $3, extension = $4, \
         outcome = 'appeal', appeal_id = $5, response_status = $6, response_body = $7 \
         WHERE source = $8 AND call_id = $9 AND outcome = 'logged'",
    )
    .bind(record.disposition.as_str())
    .bind(record.times.answer())
    .bind(i64::from(record.billable_seconds))
    .bind(&record.extension)
    .bind(appeal_id)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(source)
    .bind(record.call_id.as_str())
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
        sha256: &'a str,
        size: u64,
        at: DateTime<Utc>,
    },
    /// To download, from now on.
    Pending { url: &'a str, at: DateTime<Utc> },
    /// Only a file name on the PBX is known.
    NameOnly { file_name: &'a str },
}

pub async fn insert_recording_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
    row: &RecordingRow<'_>,
) -> Result<(), sqlx::Error> {
    let (url, file_name, state, sha, size, next, stored) = match *row {
        RecordingRow::Stored {
            file_name,
            sha256,
            size,
            at,
        } => (
            None,
            file_name,
            "stored",
            Some(sha256),
            Some(i64::try_from(size).unwrap_or(i64::MAX)),
            None,
            Some(at),
        ),
        RecordingRow::Pending { url, at } => {
            (Some(url), None, "pending", None, None, Some(at), None)
        }
        RecordingRow::NameOnly { file_name } => {
            (None, Some(file_name), "name_only", None, None, None, None)
        }
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO pbx_recordings (source, call_id, url, file_name, state, sha256, size_bytes, next_attempt_at, stored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source, call_id) DO NOTHING",
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
    .execute(conn)
    .await
    .map(|_| ()))
}

/// A recording waiting to be downloaded.
#[derive(sqlx::FromRow)]
pub struct PendingDownload {
    pub source: String,
    pub call_id: String,
    pub url: String,
    pub attempts: i64,
}

pub async fn due_downloads(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PendingDownload>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT source, call_id, url, attempts FROM pbx_recordings \
         WHERE state = 'pending' AND url IS NOT NULL AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await)
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

pub async fn download_stored(
    db: &Db,
    d: &PendingDownload,
    sha256: &str,
    size: u64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_write!(db, conn => sqlx::query(
        "UPDATE pbx_recordings SET state = 'stored', sha256 = $1, size_bytes = $2, stored_at = $3, \
         attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL \
         WHERE source = $4 AND call_id = $5 AND destroyed_at IS NULL",
    )
    .bind(sha256)
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(now)
    .bind(&d.source)
    .bind(&d.call_id)
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

pub async fn cti_events_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
) -> Result<Vec<StoredCtiEvent>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT event, caller, called, cause, answered_by, received_at FROM pbx_cti_events \
         WHERE source = $1 AND call_id = $2 ORDER BY received_at",
    )
    .bind(source)
    .bind(call_id)
    .fetch_all(conn)
    .await)
}

/// Stores an event with its answer; `false` if the same event is already stored.
pub async fn insert_cti_event_in(
    tx: &mut Tx,
    source: &str,
    event: &CtiEvent,
    cause: Option<&str>,
    received_at: DateTime<Utc>,
    response: &str,
) -> Result<bool, sqlx::Error> {
    let affected = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO pbx_cti_events (source, call_id, event, caller, called, cause, answered_by, received_at, response_body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source, call_id, event) DO NOTHING",
    )
    .bind(source)
    .bind(event.call_id.as_str())
    .bind(event.kind.as_str())
    .bind(&event.from)
    .bind(&event.to)
    .bind(cause)
    .bind(&event.answered_by)
    .bind(received_at)
    .bind(response)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(affected == 1)
}

/// Counts of logged calls by outcome and disposition (for summaries; no identities).
pub async fn count_calls(db: &Db) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT outcome, disposition, COUNT(*) FROM pbx_calls GROUP BY outcome, disposition ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await)
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
            "UPDATE pbx_cti_events SET caller = NULL WHERE caller IS NOT NULL AND (source, call_id) IN \
             (SELECT source, call_id FROM pbx_calls WHERE appeal_id = $1)",
        )
        .bind(appeal_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        destroyed.calls = on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL \
             WHERE appeal_id = $1 AND (caller IS NOT NULL OR caller_raw IS NOT NULL)",
        )
        .bind(appeal_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    }
    destroyed.recordings = on_tx!(tx, conn => sqlx::query(
        "UPDATE pbx_recordings SET destroyed_at = $1, file_removed = (sha256 IS NULL), url = NULL, \
         file_name = NULL, last_error = NULL, next_attempt_at = NULL, \
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
         AND (caller IS NOT NULL OR caller_raw IS NOT NULL \
              OR EXISTS (SELECT 1 FROM pbx_cti_events e \
                         WHERE e.source = pbx_calls.source AND e.call_id = pbx_calls.call_id AND e.caller IS NOT NULL) \
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
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL WHERE source = $1 AND call_id = $2",
        )
        .bind(source)
        .bind(call_id)
        .execute(conn)
        .await
        .map(|_| ()))?;
        destroyed.cti_events += on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_cti_events SET caller = NULL WHERE source = $1 AND call_id = $2 AND caller IS NOT NULL",
        )
        .bind(source)
        .bind(call_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        destroyed.recordings += on_tx!(tx, conn => sqlx::query(
            "UPDATE pbx_recordings SET destroyed_at = $1, file_removed = (sha256 IS NULL), url = NULL, \
             file_name = NULL, last_error = NULL, next_attempt_at = NULL, \
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
        "UPDATE pbx_cti_events SET caller = NULL WHERE (source, call_id, event) IN \
         (SELECT source, call_id, event FROM pbx_cti_events e WHERE e.caller IS NOT NULL AND e.received_at < $1 \
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
          AND (caller IS NOT NULL OR caller_raw IS NOT NULL \
               OR EXISTS (SELECT 1 FROM pbx_cti_events e \
                          WHERE e.source = pbx_calls.source AND e.call_id = pbx_calls.call_id AND e.caller IS NOT NULL) \
               OR EXISTS (SELECT 1 FROM pbx_recordings r \
                          WHERE r.source = pbx_calls.source AND r.call_id = pbx_calls.call_id AND r.destroyed_at IS NULL))), \
         (SELECT COUNT(*) FROM pbx_cti_events e WHERE e.caller IS NOT NULL AND ( \
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
