//! What the records schedule destroys of the telephone channel: an appeal's
//! callers' numbers and recordings, and the numbers of missed calls past their
//! period (`retention`).

use chrono::{DateTime, Utc};

use crate::db::{Db, Tx};
use crate::rows_affected_in;
use crate::{on_db, on_tx};

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
    let calls: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id FROM pbx_calls WHERE appeal_id = $1",
    )
    .bind(appeal_id)
    .fetch_all(conn)
    .await)?;
    let mut destroyed = Destroyed::default();
    for (source, call_id) in &calls {
        if numbers {
            let (calls, cti_events) = forget_caller_in(tx, source, call_id).await?;
            destroyed.calls += calls;
            destroyed.cti_events += cti_events;
        }
        destroyed.recordings += destroy_recording_in(tx, source, call_id, now).await?;
    }
    Ok(destroyed)
}

/// The calls that never became appeals, started before `$1`, of which something
/// is still to forget: a caller's number, their CTI events' or a recording.
const MISSED_TO_FORGET: &str = "appeal_id IS NULL AND started_at < $1 \
     AND (caller IS NOT NULL OR caller_raw IS NOT NULL OR caller_sealed IS NOT NULL \
          OR EXISTS (SELECT 1 FROM pbx_cti_events e \
                     WHERE e.source = pbx_calls.source AND e.call_id = pbx_calls.call_id \
                     AND (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL)) \
          OR EXISTS (SELECT 1 FROM pbx_recordings r \
                     WHERE r.source = pbx_calls.source AND r.call_id = pbx_calls.call_id AND r.destroyed_at IS NULL))";

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
    let sql = format!(
        "SELECT source, call_id FROM pbx_calls WHERE {MISSED_TO_FORGET} ORDER BY started_at LIMIT $2"
    );
    let keys: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(&sql)
        .bind(before)
        .bind(limit)
        .fetch_all(conn)
        .await)?;
    let mut destroyed = Destroyed {
        calls: keys.len() as u64,
        ..Destroyed::default()
    };
    for (source, call_id) in &keys {
        let (_, cti_events) = forget_caller_in(tx, source, call_id).await?;
        destroyed.cti_events += cti_events;
        destroyed.recordings += destroy_recording_in(tx, source, call_id, now).await?;
    }
    // CTI events of calls that never reached the call log (rung, never hung up).
    destroyed.cti_events += rows_affected_in!(tx, sqlx::query(
        "UPDATE pbx_cti_events SET caller = NULL, caller_sealed = NULL WHERE (source, call_id, event) IN \
         (SELECT source, call_id, event FROM pbx_cti_events e \
          WHERE (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL) AND e.received_at < $1 \
          AND NOT EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id) \
          ORDER BY e.received_at LIMIT $2)",
    )
    .bind(before)
    .bind(limit))?;
    Ok(destroyed)
}

/// Forgets the caller's number of one call, in the call log and in its CTI
/// events: how many lines of each changed.
async fn forget_caller_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
) -> Result<(u64, u64), sqlx::Error> {
    let calls = rows_affected_in!(
        tx,
        sqlx::query(
            "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL, caller_sealed = NULL \
         WHERE source = $1 AND call_id = $2 \
         AND (caller IS NOT NULL OR caller_raw IS NOT NULL OR caller_sealed IS NOT NULL)",
        )
        .bind(source)
        .bind(call_id)
    )?;
    let cti_events = rows_affected_in!(
        tx,
        sqlx::query(
            "UPDATE pbx_cti_events SET caller = NULL, caller_sealed = NULL \
         WHERE source = $1 AND call_id = $2 AND (caller IS NOT NULL OR caller_sealed IS NOT NULL)",
        )
        .bind(source)
        .bind(call_id)
    )?;
    Ok((calls, cti_events))
}

/// Destroys one call's recording, if not destroyed yet: the row says
/// `destroyed_at` (its checksum and size stay, the URL and file name on the PBX
/// go, a pending download is given up); the file goes after the commit.
async fn destroy_recording_in(
    tx: &mut Tx,
    source: &str,
    call_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    rows_affected_in!(tx, sqlx::query(
        "UPDATE pbx_recordings SET destroyed_at = $1, file_removed = (sha256 IS NULL), url = NULL, \
         url_sealed = NULL, file_name = NULL, file_name_sealed = NULL, last_error = NULL, next_attempt_at = NULL, \
         state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END \
         WHERE source = $2 AND call_id = $3 AND destroyed_at IS NULL",
    )
    .bind(now)
    .bind(source)
    .bind(call_id))
}

/// What `forget_missed_callers_in`, run until it finds nothing, would destroy
/// (for a dry run).
pub async fn missed_callers_to_forget(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<Destroyed, sqlx::Error> {
    let sql = format!(
        "SELECT \
         (SELECT COUNT(*) FROM pbx_calls WHERE {MISSED_TO_FORGET}), \
         (SELECT COUNT(*) FROM pbx_cti_events e WHERE (e.caller IS NOT NULL OR e.caller_sealed IS NOT NULL) AND ( \
            EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id \
                    AND c.appeal_id IS NULL AND c.started_at < $1) \
            OR (e.received_at < $1 \
                AND NOT EXISTS (SELECT 1 FROM pbx_calls c WHERE c.source = e.source AND c.call_id = e.call_id)))), \
         (SELECT COUNT(*) FROM pbx_recordings r WHERE r.destroyed_at IS NULL AND EXISTS \
            (SELECT 1 FROM pbx_calls c WHERE c.source = r.source AND c.call_id = r.call_id \
             AND c.appeal_id IS NULL AND c.started_at < $1))"
    );
    let (calls, cti_events, recordings): (i64, i64, i64) = on_db!(db, pool => sqlx::query_as(&sql)
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
