//! The Zammad CTI events as stored (`pbx_cti_events`): each once, its numbers
//! sealed with the intake key, handed over to the office key once the call is
//! an appeal (`hand_over_cti_numbers_in`).

use chrono::{DateTime, Utc};

use super::{intake_key, intake_open, intake_seal, office_seal};
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::pbx::error::PbxError;
use crate::pbx::formats::CtiEvent;
use crate::rows_affected_in;
use crate::sealing::{SealError, Sealer};
use crate::{on_db, on_tx};

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
    let affected = rows_affected_in!(tx, sqlx::query(
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
    .bind(sealed_to))?;
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
        execute_in!(tx, sqlx::query(
            "UPDATE pbx_cti_events SET caller_sealed = $1, called_sealed = $2, answered_by_sealed = $3, \
             sealed_to = 'office' WHERE source = $4 AND call_id = $5 AND event = $6",
        )
        .bind(caller)
        .bind(called)
        .bind(answered_by)
        .bind(source)
        .bind(call_id)
        .bind(&event))?;
        resealed += 1;
    }
    Ok(resealed)
}
