//! What the telephone channel stored plain, sealed in place at `senim keys
//! init` (`seal_existing_in`), and what it holds sealed to the office key,
//! resealed at a rotation (`reseal_in`).

use super::{CallColumns, hand_over_cti_numbers_in, intake_key, intake_seal, office_seal};
use crate::db::Tx;
use crate::execute_in;
use crate::on_tx;
use crate::pbx::error::PbxError;
use crate::sealing::keys::Rotation;
use crate::sealing::{SealError, Sealer, Unlocked};

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
        let numbers = [s.caller_sealed, s.called_sealed, s.extension_sealed];
        write_call_in(tx, SEAL_CALL, numbers, s.generation, &c.source, &c.call_id).await?;
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
        let numbers = [
            intake_seal(key, caller.as_deref())?,
            intake_seal(key, called.as_deref())?,
            intake_seal(key, answered_by.as_deref())?,
        ];
        write_event_in(tx, SEAL_EVENT, numbers, [&source, &call_id, &event]).await?;
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
        execute_in!(tx, sqlx::query(
            "UPDATE pbx_recordings SET url = NULL, file_name = NULL, url_sealed = $1, file_name_sealed = $2 \
             WHERE source = $3 AND call_id = $4",
        )
        .bind(url_sealed)
        .bind(office_seal(sealer, file_name.as_deref())?.map(|(_, b)| b))
        .bind(&source)
        .bind(&call_id))?;
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
            let numbers = [reseal(caller)?, reseal(called)?, reseal(extension)?];
            write_call_in(
                tx,
                RESEAL_CALL,
                numbers,
                Some(generation),
                &source,
                &call_id,
            )
            .await?;
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
        let numbers = [reseal(caller)?, reseal(called)?, reseal(answered_by)?];
        write_event_in(tx, RESEAL_EVENT, numbers, [&source, &call_id, &event]).await?;
        done.cti_events += 1;
    }
    let names: Vec<(String, String, Vec<u8>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT source, call_id, file_name_sealed FROM pbx_recordings WHERE file_name_sealed IS NOT NULL",
    )
    .fetch_all(conn)
    .await)?;
    for (source, call_id, name) in names {
        execute_in!(tx, sqlx::query(
            "UPDATE pbx_recordings SET file_name_sealed = $1 WHERE source = $2 AND call_id = $3",
        )
        .bind(reseal(Some(name))?)
        .bind(&source)
        .bind(&call_id))?;
        done.recordings += 1;
    }
    Ok(done)
}

/// How many call log rows `reseal_by_table_in` reads at once.
const RESEAL_BATCH: i64 = 200;

/// A plain call log line sealed in place: its plain numbers cleared.
const SEAL_CALL: &str = "UPDATE pbx_calls SET caller = NULL, caller_raw = NULL, called = NULL, extension = NULL, \
     caller_sealed = $1, called_sealed = $2, extension_sealed = $3, sealed_generation = $4 \
     WHERE source = $5 AND call_id = $6";

/// A sealed call log line resealed.
const RESEAL_CALL: &str = "UPDATE pbx_calls SET caller_sealed = $1, called_sealed = $2, extension_sealed = $3, \
     sealed_generation = $4 WHERE source = $5 AND call_id = $6";

/// A plain CTI event sealed in place with the intake key: its plain numbers cleared.
const SEAL_EVENT: &str = "UPDATE pbx_cti_events SET caller = NULL, called = NULL, answered_by = NULL, \
     caller_sealed = $1, called_sealed = $2, answered_by_sealed = $3, sealed_to = 'intake' \
     WHERE source = $4 AND call_id = $5 AND event = $6";

/// A CTI event sealed to the office key, resealed.
const RESEAL_EVENT: &str = "UPDATE pbx_cti_events SET caller_sealed = $1, called_sealed = $2, \
     answered_by_sealed = $3 WHERE source = $4 AND call_id = $5 AND event = $6";

/// Writes a call log line's sealed numbers (caller, called, extension) and their
/// generation with `sql` (`SEAL_CALL`, `RESEAL_CALL`).
async fn write_call_in(
    tx: &mut Tx,
    sql: &str,
    [caller, called, extension]: [Option<Vec<u8>>; 3],
    generation: Option<i64>,
    source: &str,
    call_id: &str,
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query(sql)
            .bind(caller)
            .bind(called)
            .bind(extension)
            .bind(generation)
            .bind(source)
            .bind(call_id)
    )
}

/// Writes a CTI event's sealed numbers (caller, called, answered by) with `sql`
/// (`SEAL_EVENT`, `RESEAL_EVENT`); `key`: its source, call id and event.
async fn write_event_in(
    tx: &mut Tx,
    sql: &str,
    [caller, called, answered_by]: [Option<Vec<u8>>; 3],
    [source, call_id, event]: [&str; 3],
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query(sql)
            .bind(caller)
            .bind(called)
            .bind(answered_by)
            .bind(source)
            .bind(call_id)
            .bind(event)
    )
}
