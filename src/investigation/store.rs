//! The investigation file's tables: `investigation_files`,
//! `investigation_members`, `investigation_grants`, `investigation_entries`.
//! Only `investigation` calls these. A plain file (no office key yet) has an
//! empty `recipient`, and its entries' `sealed` column holds the entry's JSON.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use super::EntryKind;
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::journal::AppealId;
use crate::rows_affected_in;
use crate::{on_db, on_tx};

/// A file as stored: the file key's public half.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct FileRow {
    pub appeal_id: i64,
    pub recipient: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
}

/// An entry as stored, sealed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct EntryRow {
    pub seq: i64,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub sealed: Vec<u8>,
}

const FILE: &str = "SELECT appeal_id, recipient, opened_at, opened_by FROM investigation_files WHERE appeal_id = $1";
const MEMBERS: &str = "SELECT login FROM investigation_members WHERE appeal_id = $1 ORDER BY login";

pub(super) async fn file_in(tx: &mut Tx, id: AppealId) -> Result<Option<FileRow>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_as::<_, FileRow>(FILE)
        .bind(id.0)
        .fetch_optional(conn)
        .await)
}

/// `file_in`, read outside a transaction.
pub(super) async fn file(db: &Db, id: AppealId) -> Result<Option<FileRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, FileRow>(FILE)
        .bind(id.0)
        .fetch_optional(pool)
        .await)
}

pub(super) async fn files(db: &Db) -> Result<Vec<FileRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, FileRow>(
        "SELECT appeal_id, recipient, opened_at, opened_by FROM investigation_files ORDER BY appeal_id",
    )
    .fetch_all(pool)
    .await)
}

pub(super) async fn insert_file(
    tx: &mut Tx,
    id: AppealId,
    recipient: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), sqlx::Error> {
    execute_in!(tx, sqlx::query(
        "INSERT INTO investigation_files (appeal_id, recipient, opened_at, opened_by) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.0)
    .bind(recipient)
    .bind(at.trunc_subsecs(6))
    .bind(by))
}

/// The members who work the line, by login.
pub(super) async fn members_in(tx: &mut Tx, id: AppealId) -> Result<Vec<String>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_scalar(MEMBERS).bind(id.0).fetch_all(conn).await)
}

/// `members_in`, read outside a transaction.
pub(super) async fn members(db: &Db, id: AppealId) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar(MEMBERS).bind(id.0).fetch_all(pool).await)
}

/// Every (appeal, login) of the members: who may open which file.
pub(super) async fn all_members(db: &Db) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT appeal_id, login FROM investigation_members ORDER BY appeal_id, login",
    )
    .fetch_all(pool)
    .await)
}

pub(super) async fn set_members(
    tx: &mut Tx,
    id: AppealId,
    logins: &[String],
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query("DELETE FROM investigation_members WHERE appeal_id = $1").bind(id.0)
    )?;
    for login in logins {
        execute_in!(tx, sqlx::query(
            "INSERT INTO investigation_members (appeal_id, login) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(login))?;
    }
    Ok(())
}

/// The readers the file key is wrapped to, with the wrap.
pub(super) async fn grants_in(
    tx: &mut Tx,
    id: AppealId,
) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT reader, wrapped FROM investigation_grants WHERE appeal_id = $1 ORDER BY reader",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await)
}

pub(super) async fn insert_grant(
    tx: &mut Tx,
    id: AppealId,
    reader: &str,
    wrapped: &[u8],
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), sqlx::Error> {
    execute_in!(tx, sqlx::query(
        "INSERT INTO investigation_grants (appeal_id, reader, wrapped, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (appeal_id, reader) DO UPDATE SET \
         wrapped = excluded.wrapped, granted_at = excluded.granted_at, granted_by = excluded.granted_by",
    )
    .bind(id.0)
    .bind(reader)
    .bind(wrapped)
    .bind(at.trunc_subsecs(6))
    .bind(by))
}

pub(super) async fn delete_grant(
    tx: &mut Tx,
    id: AppealId,
    reader: &str,
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query("DELETE FROM investigation_grants WHERE appeal_id = $1 AND reader = $2")
            .bind(id.0)
            .bind(reader)
    )
}

/// Drops every file's wrap to `reader` (a reader removed from the keys).
pub(super) async fn delete_grants_of(tx: &mut Tx, reader: &str) -> Result<u64, sqlx::Error> {
    rows_affected_in!(
        tx,
        sqlx::query("DELETE FROM investigation_grants WHERE reader = $1").bind(reader)
    )
}

pub(super) async fn entries_in(tx: &mut Tx, id: AppealId) -> Result<Vec<EntryRow>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_as::<_, EntryRow>(
        "SELECT seq, recorded_at, actor, sealed FROM investigation_entries \
         WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await)
}

/// The entries' kinds, dates and requests, in order, without their sealed
/// content.
pub(super) async fn plain_in(
    tx: &mut Tx,
    id: AppealId,
) -> Result<Vec<(String, NaiveDate, Option<i64>)>, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT kind, dated, request FROM investigation_entries WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await)
}

/// Every file's entries' kinds, without their content: what the list shows.
pub(super) async fn all_kinds(db: &Db) -> Result<Vec<(i64, String, NaiveDate)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT appeal_id, kind, dated FROM investigation_entries ORDER BY appeal_id, seq",
    )
    .fetch_all(pool)
    .await)
}

/// Every entry's sealed bytes, by appeal and number: what `verify` hashes.
pub(super) async fn all_sealed(db: &Db) -> Result<Vec<(i64, i64, Vec<u8>)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT appeal_id, seq, sealed FROM investigation_entries ORDER BY appeal_id, seq",
    )
    .fetch_all(pool)
    .await)
}

/// The appeals whose file is kept plain (an empty `recipient`).
pub(super) async fn plain_files_in(tx: &mut Tx) -> Result<Vec<AppealId>, sqlx::Error> {
    let ids: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT appeal_id FROM investigation_files WHERE recipient = '' ORDER BY appeal_id",
    )
    .fetch_all(conn)
    .await)?;
    Ok(ids.into_iter().map(AppealId).collect())
}

/// The file's key, now that it has one (sealing in place).
pub(super) async fn set_recipient(
    tx: &mut Tx,
    id: AppealId,
    recipient: &str,
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query("UPDATE investigation_files SET recipient = $1 WHERE appeal_id = $2")
            .bind(recipient)
            .bind(id.0)
    )
}

/// An entry's bytes replaced by their sealing (SQLite's secure_delete
/// overwrites the plain ones).
pub(super) async fn replace_bytes(
    tx: &mut Tx,
    id: AppealId,
    seq: i64,
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    execute_in!(
        tx,
        sqlx::query(
            "UPDATE investigation_entries SET sealed = $1 WHERE appeal_id = $2 AND seq = $3",
        )
        .bind(sealed)
        .bind(id.0)
        .bind(seq)
    )
}

/// Appends an entry with the next number; returns it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn append(
    tx: &mut Tx,
    id: AppealId,
    kind: EntryKind,
    dated: NaiveDate,
    request: Option<i64>,
    at: DateTime<Utc>,
    actor: &str,
    sealed: &[u8],
) -> Result<i64, sqlx::Error> {
    let last: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT MAX(seq) FROM investigation_entries WHERE appeal_id = $1",
    )
    .bind(id.0)
    .fetch_one(conn)
    .await)?;
    let seq = last.unwrap_or(0) + 1;
    execute_in!(tx, sqlx::query(
        "INSERT INTO investigation_entries (appeal_id, seq, kind, dated, request, recorded_at, actor, sealed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.0)
    .bind(seq)
    .bind(kind.as_str())
    .bind(dated)
    .bind(request)
    .bind(at.trunc_subsecs(6))
    .bind(actor)
    .bind(sealed))?;
    Ok(seq)
}

/// Erases an appeal's file (retention): entries, grants, members, the file.
pub(super) async fn destroy_in(tx: &mut Tx, id: AppealId) -> Result<u64, sqlx::Error> {
    let mut n = 0;
    for table in [
        "investigation_entries",
        "investigation_grants",
        "investigation_members",
        "investigation_files",
    ] {
        let sql = format!("DELETE FROM {table} WHERE appeal_id = $1");
        n += rows_affected_in!(tx, sqlx::query(&sql).bind(id.0))?;
    }
    Ok(n)
}
