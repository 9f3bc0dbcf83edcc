//! The recordings' rows (`pbx_recordings`): where each stands, the downloads
//! due and their outcome, the files of destroyed recordings to remove, and the
//! files sealed or resealed after the commit (`pbx::recordings`).

use chrono::{DateTime, Utc};

use super::{intake_key, intake_open, intake_seal, office_seal};
use crate::db::{Db, Tx};
use crate::pbx::error::PbxError;
use crate::sealing::Sealer;
use crate::{execute_alone, execute_in};
use crate::{on_db, on_write};

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
    execute_in!(tx, sqlx::query(
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
    .bind(generation))?;
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
    execute_alone!(db, sqlx::query(
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
    .bind(generation.is_some()))
}

/// Records a failed attempt: retried at `next`, or given up when `next` is `None`.
pub async fn download_failed(
    db: &Db,
    d: &PendingDownload,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let state = if next.is_some() { "pending" } else { "failed" };
    execute_alone!(db, sqlx::query(
        "UPDATE pbx_recordings SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3 \
         WHERE source = $4 AND call_id = $5 AND destroyed_at IS NULL",
    )
    .bind(state)
    .bind(next)
    .bind(error)
    .bind(&d.source)
    .bind(&d.call_id))
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
    execute_alone!(
        db,
        sqlx::query(
            "UPDATE pbx_recordings SET file_removed = TRUE WHERE source = $1 AND call_id = $2",
        )
        .bind(&f.source)
        .bind(&f.call_id)
    )
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
    execute_alone!(
        db,
        sqlx::query(
            "UPDATE pbx_recordings SET unsealed_file = NULL WHERE source = $1 AND call_id = $2",
        )
        .bind(source)
        .bind(call_id)
    )
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
