//! What the summaries of the line (clause 10.13) and the figures published on
//! the web site (4.7) read of the Journal: counts grouped by date, channel,
//! category and status; each appeal's receipt and registration instants; the
//! events recorded on the appeals of a period. Never an identity, never a text:
//! the events' details name no one (the audit log keeps which fields changed,
//! never their values).

use chrono::{DateTime, NaiveDate, Utc};

use super::appeal::{AppealId, Category, Channel, Status};
use super::{Journal, JournalError, Result, audit};
use crate::on_db;

/// How many appeals registered on one date share a channel, a category, a
/// status and anonymity: one row of `Journal::tally`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub registration_date: NaiveDate,
    pub channel: Channel,
    pub category: Category,
    pub status: Status,
    pub anonymous: bool,
    pub appeals: u64,
}

/// When an appeal was received and registered, and nothing else of it: one row
/// of `Journal::timings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub id: AppealId,
    pub registration_date: NaiveDate,
    pub received_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
}

impl Journal {
    /// The appeals registered from `from` to `to` (both included), counted by
    /// registration date, channel, category, status and anonymity: one
    /// aggregate query.
    pub async fn tally(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Tally>> {
        let rows: Vec<(NaiveDate, String, String, String, bool, i64)> = on_db!(&self.db, pool => sqlx::query_as(
                "SELECT registration_date, channel, category, status, anonymous, COUNT(*) FROM appeals \
                 WHERE registration_date >= $1 AND registration_date <= $2 \
                 GROUP BY registration_date, channel, category, status, anonymous \
                 ORDER BY registration_date, channel, category, status, anonymous",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(date, channel, category, status, anonymous, n)| {
                let corrupt = |e: String| JournalError::Corrupt(format!("appeals of {date}: {e}"));
                Ok(Tally {
                    registration_date: date,
                    channel: channel.parse().map_err(corrupt)?,
                    category: category.parse().map_err(corrupt)?,
                    status: status.parse().map_err(corrupt)?,
                    anonymous,
                    appeals: u64::try_from(n).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The id, registration date, and receipt and registration instants of the
    /// appeals registered from `from` to `to`, oldest first.
    pub async fn timings(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Timing>> {
        let rows: Vec<(i64, NaiveDate, DateTime<Utc>, DateTime<Utc>)> = on_db!(&self.db, pool => sqlx::query_as(
                "SELECT id, registration_date, received_at, registered_at FROM appeals \
                 WHERE registration_date >= $1 AND registration_date <= $2 ORDER BY id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, registration_date, received_at, registered_at)| Timing {
                    id: AppealId(id),
                    registration_date,
                    received_at,
                    registered_at,
                },
            )
            .collect())
    }

    /// The audit events of the kinds in `kinds` (`routed`, `reply_sent`, ...) of
    /// the appeals registered from `from` to `to`, oldest first.
    pub async fn events_of_period(
        &self,
        kinds: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<audit::EventRow>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<audit::EventRow> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM appeal_events WHERE appeal_id IN \
                 (SELECT id FROM appeals WHERE registration_date >= ",
                audit::EVENT_COLUMNS
            ));
            q.push_bind(from)
                .push(" AND registration_date <= ")
                .push_bind(to)
                .push(") AND kind IN (");
            let mut names = q.separated(", ");
            for kind in kinds {
                names.push_bind(*kind);
            }
            q.push(") ORDER BY seq");
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }
}
