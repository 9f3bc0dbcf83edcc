//! The SQL of the deadlines' rows (`deadlines`, `deadline_events`,
//! `deadline_seals`): a row as stored, a deadline inserted, extended, met or
//! ended, the seals written.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Deadline, DeadlineError, Kind, Result, seal};
use crate::db::Tx;
use crate::execute_in;
use crate::journal::AppealId;
use crate::on_tx;
use crate::rows_affected_in;

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) appeal_id: i64,
    pub(super) kind: String,
    pub(super) started_on: NaiveDate,
    pub(super) due_on: NaiveDate,
    pub(super) extended: bool,
    pub(super) reason: Option<String>,
    pub(super) met_on: Option<NaiveDate>,
    pub(super) ended_on: Option<NaiveDate>,
    pub(super) ended_by: Option<String>,
}

impl TryFrom<Row> for Deadline {
    type Error = DeadlineError;
    fn try_from(r: Row) -> Result<Self, DeadlineError> {
        Ok(Deadline {
            id: r.id,
            appeal_id: AppealId(r.appeal_id),
            kind: r.kind.parse().map_err(DeadlineError::Corrupt)?,
            started_on: r.started_on,
            due_on: r.due_on,
            extended: r.extended,
            reason: r.reason,
            met_on: r.met_on,
            ended_on: r.ended_on,
            ended_by: r.ended_by,
        })
    }
}

pub(super) const COLUMNS: &str =
    "id, appeal_id, kind, started_on, due_on, extended, reason, met_on, ended_on, ended_by";

/// The condition of an open deadline.
pub(super) const OPEN: &str = "met_on IS NULL AND ended_on IS NULL";

/// Moves an open deadline of `kind` later, to `until`, with the reason; false if
/// there is no open one ending before `until`.
pub(super) async fn extend(
    tx: &mut Tx,
    id: i64,
    kind: Kind,
    until: NaiveDate,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let n = rows_affected_in!(tx, sqlx::query(
        "UPDATE deadlines SET due_on = $1, extended = TRUE, reason = $2 \
         WHERE appeal_id = $3 AND kind = $4 AND met_on IS NULL AND ended_on IS NULL AND due_on < $1",
    )
    .bind(until)
    .bind(reason)
    .bind(id)
    .bind(kind.as_str()))?;
    Ok(n > 0)
}

pub(super) async fn insert(
    tx: &mut Tx,
    id: i64,
    kind: Kind,
    started: NaiveDate,
    due: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    insert_all(tx, id, &[(kind, started, due)], now).await
}

/// Inserts the deadlines `owed` (kind, started, due) of appeal `id` in one
/// statement; each kept if already there (`deadlines_once`).
pub(super) async fn insert_all(
    tx: &mut Tx,
    id: i64,
    owed: &[(Kind, NaiveDate, NaiveDate)],
    now: DateTime<Utc>,
) -> Result<()> {
    if owed.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..owed.len())
        .map(|i| {
            let n = 3 + i * 3;
            format!("($1, ${n}, ${}, ${}, FALSE, $2)", n + 1, n + 2)
        })
        .collect();
    // $1 the appeal, $2 the time, then each row's kind, start and due date.
    let sql = format!(
        "INSERT INTO deadlines (appeal_id, kind, started_on, due_on, extended, created_at) \
         VALUES {} ON CONFLICT DO NOTHING",
        values.join(", ")
    );
    on_tx!(tx, conn => {
        let mut query = sqlx::query(&sql).bind(id).bind(now);
        for (kind, started, due) in owed {
            query = query.bind(kind.as_str()).bind(*started).bind(*due);
        }
        query.execute(conn).await.map(|_| ())
    })?;
    Ok(())
}

/// Marks the open deadline of `kind` started on `started` met (the oldest open
/// one if `started` is `None`, or if none open was started that day).
pub(super) async fn close_started(
    tx: &mut Tx,
    id: i64,
    kind: Kind,
    started: Option<NaiveDate>,
    on: NaiveDate,
) -> Result<()> {
    if let Some(started) = started {
        let n = rows_affected_in!(
            tx,
            sqlx::query(
                "UPDATE deadlines SET met_on = $1 WHERE id = (SELECT id FROM deadlines \
             WHERE appeal_id = $2 AND kind = $3 AND started_on = $4 AND met_on IS NULL \
             AND ended_on IS NULL ORDER BY id LIMIT 1)",
            )
            .bind(on)
            .bind(id)
            .bind(kind.as_str())
            .bind(started)
        )?;
        if n > 0 {
            return Ok(());
        }
    }
    close(tx, id, kind, on, true).await
}

/// Marks the oldest open deadline of `kind` met; `required` makes "none open" an error.
pub(super) async fn close(
    tx: &mut Tx,
    id: i64,
    kind: Kind,
    on: NaiveDate,
    required: bool,
) -> Result<()> {
    let open: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM deadlines WHERE appeal_id = $1 AND kind = $2 AND met_on IS NULL \
         AND ended_on IS NULL ORDER BY id LIMIT 1",
    )
    .bind(id)
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await)?;
    match open {
        Some(deadline) => {
            execute_in!(
                tx,
                sqlx::query("UPDATE deadlines SET met_on = $1 WHERE id = $2")
                    .bind(on)
                    .bind(deadline)
            )?;
            Ok(())
        }
        None if required => Err(DeadlineError::Invalid(format!(
            "no open deadline: {}",
            kind.describe()
        ))),
        None => Ok(()),
    }
}

/// Writes the seals `seals` (each replacing its appeal's) in one statement.
pub(super) async fn store_seals(tx: &mut Tx, seals: &[seal::Seal]) -> Result<()> {
    if seals.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..seals.len())
        .map(|i| format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3))
        .collect();
    let sql = format!(
        "INSERT INTO deadline_seals (appeal_id, rows, signature) VALUES {} \
         ON CONFLICT (appeal_id) DO UPDATE SET rows = excluded.rows, signature = excluded.signature",
        values.join(", ")
    );
    on_tx!(tx, conn => {
        let mut query = sqlx::query(&sql);
        for s in seals {
            query = query.bind(s.appeal_id).bind(&s.rows).bind(&s.signature);
        }
        query.execute(conn).await.map(|_| ())
    })?;
    Ok(())
}
