//! The SQL of the Journal's own rows (`appeals`, `appeal_sources`,
//! `registration_counters`, `appeal_earlier_values`, and the reads of
//! `appeal_events` and `audit_head` outside the chain's own writes in `audit.rs`):
//! the Journal's reads (`get`, `find`, `list`, `history`, …) and the statements the
//! other files call, so they speak in domain terms.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::Row;

use super::{
    Appeal, AppealId, AppealKey, DESTROYED, DISCLOSED, EndedAppeal, Journal, JournalError,
    ListFilter, RegistrationNumber, Reporter, Result, SourceRef, Status, audit, sealed,
};
use crate::db::{Db, Tx};
use crate::execute_in;
use crate::rows_affected_in;
use crate::{on_db, on_tx};

const APPEAL_COLUMNS: &str = "id, registration_number, received_at, registered_at, registration_date, channel, \
     reporter_name, reporter_organisation, reporter_postal_address, reporter_phone, reporter_email, \
     anonymous, no_return_address, subject, substance, category, status, updated_at, sealed_digest, intake_terms";

/// Appends a `ListFilter`'s conditions, the ordering and the limit to a query
/// builder of either backend (`... WHERE 1 = 1` so far).
macro_rules! push_filter {
    ($q:ident, $filter:expr) => {{
        let filter = $filter;
        if let Some(from) = filter.from {
            $q.push(" AND registration_date >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            $q.push(" AND registration_date <= ").push_bind(to);
        }
        if let Some(channel) = filter.channel {
            $q.push(" AND channel = ").push_bind(channel.as_str());
        }
        if let Some(category) = filter.category {
            $q.push(" AND category = ").push_bind(category.as_str());
        }
        if let Some(status) = filter.status {
            $q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                $q.push(" AND 1 = 0");
            } else {
                $q.push(" AND id IN (");
                let mut list = $q.separated(", ");
                for id in ids {
                    list.push_bind(id.0);
                }
                $q.push(")");
            }
        }
        if filter.newest_first {
            $q.push(" ORDER BY registration_year DESC, registration_seq DESC");
        } else {
            $q.push(" ORDER BY registration_year, registration_seq");
        }
        if let Some(limit) = filter.limit {
            $q.push(" LIMIT ").push_bind(i64::from(limit));
            if let Some(offset) = filter.offset {
                $q.push(" OFFSET ").push_bind(i64::from(offset));
            }
        }
    }};
}

/// Binds, next, an appeal's details in the order both the insert and the
/// update of a plain row write them: the reporter's five fields, the two flags,
/// subject, substance, category and status.
macro_rules! bind_details {
    ($q:expr, $appeal:expr) => {{
        let appeal: &Appeal = $appeal;
        let r = &appeal.reporter;
        $q.bind(&r.name)
            .bind(&r.organisation)
            .bind(&r.postal_address)
            .bind(&r.phone)
            .bind(&r.email)
            .bind(appeal.anonymous)
            .bind(appeal.no_return_address)
            .bind(&appeal.subject)
            .bind(&appeal.substance)
            .bind(appeal.category.as_str())
            .bind(appeal.status.as_str())
    }};
}

impl Journal {
    /// Whether `address` is the reporter's e-mail address of appeal `id`: plain,
    /// compared as written (case aside); sealed, by the keyed hash the Journal keeps
    /// of it, so the mailbox can recognise the reporter's replies without reading
    /// the identity.
    pub async fn is_reporter_email_in(
        &self,
        tx: &mut Tx,
        id: AppealId,
        address: Option<&str>,
    ) -> Result<bool> {
        let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(false);
        };
        let (plain, tag): (Option<String>, Option<String>) = on_tx!(tx, conn => sqlx::query_as(
            "SELECT reporter_email, reporter_email_tag FROM appeals WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(conn)
        .await)?
        .ok_or_else(|| JournalError::NotFound(id.to_string()))?;
        Ok(match (plain, tag) {
            (Some(plain), _) => plain.trim().eq_ignore_ascii_case(address),
            (None, Some(tag)) => self.email_tag(address).as_deref() == Some(tag.as_str()),
            (None, None) => false,
        })
    }

    pub async fn get(&self, id: AppealId) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1");
        let row: Option<AppealRow> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        row.ok_or_else(|| JournalError::NotFound(id.to_string()))?
            .try_into()
    }

    pub async fn get_by_number(&self, number: &RegistrationNumber) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE registration_number = $1");
        let row: Option<AppealRow> = on_db!(&self.db, pool => sqlx::query_as(&sql).bind(number.to_string()).fetch_optional(pool).await)?;
        row.ok_or_else(|| JournalError::NotFound(number.to_string()))?
            .try_into()
    }

    /// The appeal an id or registration number names.
    pub async fn find(&self, key: &AppealKey) -> Result<Appeal> {
        match key {
            AppealKey::Id(id) => self.get(*id).await,
            AppealKey::Number(number) => self.get_by_number(number).await,
        }
    }

    /// The appeal an id or registration number names, read inside a transaction.
    pub async fn find_in(&self, tx: &mut Tx, key: &AppealKey) -> Result<Appeal> {
        let row: Option<AppealRow> = match key {
            AppealKey::Id(id) => return self.get_in(tx, *id).await,
            AppealKey::Number(number) => {
                let sql =
                    format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE registration_number = $1");
                on_tx!(tx, conn => sqlx::query_as(&sql).bind(number.to_string()).fetch_optional(conn).await)?
            }
        };
        row.ok_or_else(|| JournalError::NotFound(key_text(key)))?
            .try_into()
    }

    /// Reads an appeal inside a transaction (sees the transaction's own writes).
    pub async fn get_in(&self, tx: &mut Tx, id: AppealId) -> Result<Appeal> {
        let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1");
        let row: Option<AppealRow> =
            on_tx!(tx, conn => sqlx::query_as(&sql).bind(id.0).fetch_optional(conn).await)?;
        row.ok_or_else(|| JournalError::NotFound(id.to_string()))?
            .try_into()
    }

    /// The ids and registration dates of the appeals matching the filter, oldest
    /// first: a cheap scan for background work that reads few of them in full.
    pub async fn list_keys(&self, filter: &ListFilter) -> Result<Vec<(AppealId, NaiveDate)>> {
        let rows: Vec<(i64, NaiveDate)> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new("SELECT id, registration_date FROM appeals WHERE 1 = 1");
            push_filter!(q, filter);
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, date)| (AppealId(id), date))
            .collect())
    }

    /// Appeals matching the filter, oldest registration first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Appeal>> {
        let rows: Vec<AppealRow> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE 1 = 1"));
            push_filter!(q, filter);
            q.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter().map(Appeal::try_from).collect()
    }

    /// The audit events of one appeal, oldest first.
    pub async fn history(&self, id: AppealId) -> Result<Vec<audit::EventRow>> {
        let sql = format!(
            "SELECT {} FROM appeal_events WHERE appeal_id = $1 ORDER BY seq",
            audit::EVENT_COLUMNS
        );
        Ok(on_db!(&self.db, pool => sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_all(pool)
        .await)?)
    }

    /// The `kind` events of the appeals in `ids`, oldest first: one read for a
    /// page that shows, say, which alerts were read.
    pub async fn events_of_kind(
        &self,
        kind: &str,
        ids: &[AppealId],
    ) -> Result<Vec<audit::EventRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<audit::EventRow> = on_db!(&self.db, pool => {
            let mut q = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM appeal_events WHERE kind = ",
                audit::EVENT_COLUMNS
            ));
            q.push_bind(kind).push(" AND appeal_id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(id.0);
            }
            q.push(") ORDER BY seq");
            q.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Every appeal whose case has ended (`Status::ends_the_case`: forwarded,
    /// not considered, decided, replied or closed), oldest first, with when it
    /// ended (its last `status_changed` event; registered so: its registration)
    /// and whether it stands destroyed (its last event, disclosures aside, is
    /// `destroyed`): what the retention schedule (`retention`) works from. No
    /// identity, no text.
    pub async fn ended_appeals(&self) -> Result<Vec<EndedAppeal>> {
        type Row = (
            i64,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<String>,
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT a.id, a.registration_number, a.category, a.registered_at, \
             (SELECT MAX(e.at) FROM appeal_events e WHERE e.appeal_id = a.id AND e.kind = 'status_changed'), \
             (SELECT e.kind FROM appeal_events e WHERE e.appeal_id = a.id AND e.kind <> $1 \
              ORDER BY e.seq DESC LIMIT 1) \
             FROM appeals a WHERE a.status IN ($2, $3, $4, $5, $6) ORDER BY a.id",
        )
        .bind(DISCLOSED)
        .bind(Status::Forwarded.as_str())
        .bind(Status::NotConsidered.as_str())
        .bind(Status::Decided.as_str())
        .bind(Status::Replied.as_str())
        .bind(Status::Closed.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(id, number, category, registered_at, ended_at, last)| {
                let corrupt = |e: String| JournalError::Corrupt(format!("appeal {id}: {e}"));
                Ok(EndedAppeal {
                    id: AppealId(id),
                    registration_number: number.parse().map_err(corrupt)?,
                    category: category.parse().map_err(corrupt)?,
                    ended_at: ended_at.unwrap_or(registered_at),
                    destroyed: last.as_deref() == Some(DESTROYED),
                })
            })
            .collect()
    }

    /// The number of appeals registered per registration date in a range (the
    /// summaries' counts by channel, category and status: `tally`).
    pub async fn count_by_day(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64)>> {
        let rows = on_db!(&self.db, pool => sqlx::query(
            "SELECT registration_date, COUNT(*) AS n FROM appeals \
             WHERE registration_date >= $1 AND registration_date <= $2 \
             GROUP BY registration_date ORDER BY registration_date",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, sqlx::Error>>()))?;
        Ok(rows)
    }
}

/// The statements that lift (`on` false) or restore (`on` true) the database's
/// guard that keeps `appeal_events` append-only; only `key_chain` lifts it, in
/// its own transaction.
fn append_only_guard(backend: &str, on: bool) -> &'static [&'static str] {
    match (backend, on) {
        ("postgres", false) => {
            &["ALTER TABLE appeal_events DISABLE TRIGGER appeal_events_append_only"]
        }
        ("postgres", true) => {
            &["ALTER TABLE appeal_events ENABLE TRIGGER appeal_events_append_only"]
        }
        (_, false) => &["DROP TRIGGER appeal_events_no_update"],
        (_, true) => &[
            "CREATE TRIGGER appeal_events_no_update BEFORE UPDATE ON appeal_events \
             BEGIN SELECT RAISE(ABORT, 'appeal_events is append-only'); END",
        ],
    }
}

/// `appeals.intake_terms` as stored: a JSON list, or NULL for none.
fn terms_column(terms: &[String]) -> Option<String> {
    (!terms.is_empty()).then(|| serde_json::to_string(terms).unwrap_or_default())
}

fn key_text(key: &AppealKey) -> String {
    match key {
        AppealKey::Id(id) => id.to_string(),
        AppealKey::Number(number) => number.to_string(),
    }
}

/// Keeps, before a correction of a plain appeal, the values `before` holds of the
/// fields `corrected` writes (blank ones as blank), as the law's record.
pub(super) async fn keep_earlier_values_in(
    tx: &mut Tx,
    before: &Appeal,
    corrected: &sealed::Confidential,
    now: DateTime<Utc>,
) -> Result<()> {
    let earlier = sealed::Confidential::earlier_of(before, corrected);
    let json = serde_json::to_string(&earlier)
        .map_err(|e| JournalError::Corrupt(format!("cannot serialise earlier values: {e}")))?;
    let seq: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM appeal_earlier_values WHERE appeal_id = $1",
    )
    .bind(before.id.0)
    .fetch_one(conn)
    .await)?;
    execute_in!(
        tx,
        sqlx::query(
            "INSERT INTO appeal_earlier_values (appeal_id, seq, corrected_at, fields, earlier) \
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(before.id.0)
        .bind(seq)
        .bind(now)
        .bind(earlier.written().join(","))
        .bind(&json)
    )?;
    Ok(())
}

/// The earlier values a plain appeal's corrections kept, oldest first.
pub(super) async fn earlier_values_in(
    tx: &mut Tx,
    id: AppealId,
) -> Result<Vec<sealed::Confidential>> {
    let rows: Vec<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT seq, earlier FROM appeal_earlier_values WHERE appeal_id = $1 ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await)?;
    rows.into_iter()
        .map(|(seq, json)| {
            serde_json::from_str(&json).map_err(|e| {
                JournalError::Corrupt(format!("appeal {id} earlier values {seq}: {e}"))
            })
        })
        .collect()
}

/// Deletes a plain appeal's earlier values (destroyed, or sealed into envelopes).
pub(super) async fn delete_earlier_values_in(tx: &mut Tx, id: AppealId) -> Result<()> {
    execute_in!(
        tx,
        sqlx::query("DELETE FROM appeal_earlier_values WHERE appeal_id = $1").bind(id.0)
    )?;
    Ok(())
}

/// Whether an appeal was ever destroyed under the records schedule.
pub(super) async fn was_destroyed_in(tx: &mut Tx, id: AppealId) -> Result<bool> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT seq FROM appeal_events WHERE appeal_id = $1 AND kind = $2 LIMIT 1",
    )
    .bind(id.0)
    .bind(DESTROYED)
    .fetch_optional(conn)
    .await)?;
    Ok(found.is_some())
}

/// The id of the appeal any of `refs` was registered as (one query for all).
pub(super) async fn find_source_in(tx: &mut Tx, refs: &[SourceRef]) -> Result<Option<AppealId>> {
    if refs.is_empty() {
        return Ok(None);
    }
    let id: Option<i64> = on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("SELECT appeal_id FROM appeal_sources WHERE ");
        for (i, r) in refs.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(kind = ").push_bind(&r.kind).push(" AND key = ").push_bind(&r.key).push(")");
        }
        q.push(" LIMIT 1");
        q.build_query_scalar().fetch_optional(conn).await
    })?;
    Ok(id.map(AppealId))
}

/// Records `refs` as references of an appeal (one statement for all); a reference
/// already recorded (for it or, in a race, another appeal) is left as it is.
pub(super) async fn add_sources(tx: &mut Tx, id: AppealId, refs: &[SourceRef]) -> Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    on_tx!(tx, conn => {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO appeal_sources (kind, key, appeal_id) ");
        q.push_values(refs, |mut row, r| {
            row.push_bind(&r.kind).push_bind(&r.key).push_bind(id.0);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(conn).await.map(|_| ())
    })?;
    Ok(())
}

/// An `appeals` row as stored; converted to `Appeal` with its names checked.
#[derive(sqlx::FromRow)]
struct AppealRow {
    id: i64,
    registration_number: String,
    received_at: DateTime<Utc>,
    registered_at: DateTime<Utc>,
    registration_date: NaiveDate,
    channel: String,
    reporter_name: Option<String>,
    reporter_organisation: Option<String>,
    reporter_postal_address: Option<String>,
    reporter_phone: Option<String>,
    reporter_email: Option<String>,
    anonymous: bool,
    no_return_address: bool,
    subject: Option<String>,
    substance: Option<String>,
    category: String,
    status: String,
    updated_at: DateTime<Utc>,
    sealed_digest: Option<String>,
    intake_terms: Option<String>,
}

impl TryFrom<AppealRow> for Appeal {
    type Error = JournalError;

    fn try_from(row: AppealRow) -> Result<Self> {
        let id = row.id;
        let corrupt = |e: String| JournalError::Corrupt(format!("appeal {id}: {e}"));
        Ok(Appeal {
            id: AppealId(row.id),
            registration_number: row.registration_number.parse().map_err(corrupt)?,
            received_at: row.received_at,
            registered_at: row.registered_at,
            registration_date: row.registration_date,
            channel: row.channel.parse().map_err(corrupt)?,
            reporter: Reporter {
                name: row.reporter_name,
                organisation: row.reporter_organisation,
                postal_address: row.reporter_postal_address,
                phone: row.reporter_phone,
                email: row.reporter_email,
            },
            anonymous: row.anonymous,
            no_return_address: row.no_return_address,
            subject: row.subject,
            substance: row.substance,
            category: row.category.parse().map_err(corrupt)?,
            status: row.status.parse().map_err(corrupt)?,
            updated_at: row.updated_at,
            sealed: row.sealed_digest,
            terms: match row.intake_terms.as_deref() {
                None | Some("") => Vec::new(),
                Some(json) => serde_json::from_str(json).map_err(|e| {
                    JournalError::Corrupt(format!("appeal {id}: intake_terms: {e}"))
                })?,
            },
        })
    }
}

/// The next number of `prefix`'s registration year `year`, taken in `tx` (gapless:
/// the counter's row stays locked until the registration commits).
pub(super) async fn next_number(tx: &mut Tx, prefix: &str, year: i32) -> Result<i64> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO registration_counters (prefix, year, last_number) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, year) DO UPDATE SET last_number = registration_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(prefix)
    .bind(i64::from(year))
    .fetch_one(conn)
    .await)?)
}

/// Inserts a new appeal's row (`seq`: its number in the registration year) and
/// returns its id.
pub(super) async fn insert_appeal(
    tx: &mut Tx,
    appeal: &Appeal,
    seq: i64,
    email_tag: Option<&str>,
) -> Result<i64> {
    let terms = terms_column(&appeal.terms);
    Ok(on_tx!(tx, conn => bind_details!(sqlx::query_scalar(
        "INSERT INTO appeals (registration_number, registration_year, registration_seq, received_at, \
         registered_at, registration_date, channel, reporter_name, reporter_organisation, \
         reporter_postal_address, reporter_phone, reporter_email, anonymous, no_return_address, \
         subject, substance, category, status, updated_at, sealed_digest, reporter_email_tag, intake_terms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $5, $19, $20, $21) \
         RETURNING id",
    )
    .bind(appeal.registration_number.to_string())
    .bind(i64::from(appeal.registration_date.year()))
    .bind(seq)
    .bind(appeal.received_at)
    .bind(appeal.registered_at)
    .bind(appeal.registration_date)
    .bind(appeal.channel.as_str()), appeal)
    .bind(&appeal.sealed)
    .bind(email_tag)
    .bind(&terms)
    .fetch_one(conn)
    .await)?)
}

/// The appeal an outside item was registered as, if any.
pub(super) async fn source_appeal(db: &Db, source: &SourceRef) -> Result<Option<AppealId>> {
    let id: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT appeal_id FROM appeal_sources WHERE kind = $1 AND key = $2",
    )
    .bind(&source.kind)
    .bind(&source.key)
    .fetch_optional(pool)
    .await)?;
    Ok(id.map(AppealId))
}

/// Rewrites the keys of every outside reference of kind `kind` as `rekey` says;
/// returns how many changed.
pub(super) async fn rekey_sources_in(
    tx: &mut Tx,
    kind: &str,
    rekey: impl Fn(&str) -> String,
) -> Result<u64> {
    let keys: Vec<String> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT key FROM appeal_sources WHERE kind = $1",
    )
    .bind(kind)
    .fetch_all(conn)
    .await)?;
    let mut n = 0;
    for key in keys {
        let new = rekey(&key);
        if new == key {
            continue;
        }
        n += rows_affected_in!(
            tx,
            sqlx::query("UPDATE appeal_sources SET key = $1 WHERE kind = $2 AND key = $3",)
                .bind(&new)
                .bind(kind)
                .bind(&key)
        )?;
    }
    Ok(n)
}

/// The ids of every appeal, oldest first.
pub(super) async fn ids_in(tx: &mut Tx) -> Result<Vec<AppealId>> {
    let ids: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM appeals ORDER BY id",
    )
    .fetch_all(conn)
    .await)?;
    Ok(ids.into_iter().map(AppealId).collect())
}

/// The chain's switch point as stored (`audit_head.public_from`).
pub(super) async fn public_from(db: &Db) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "SELECT public_from FROM audit_head WHERE id = 1",
    )
    .fetch_one(pool)
    .await)?)
}

/// Writes a plain appeal's row as `appeal` holds it (a change: `amend.rs`).
pub(super) async fn update_plain_in(
    tx: &mut Tx,
    appeal: &Appeal,
    now: DateTime<Utc>,
) -> Result<()> {
    execute_in!(tx, bind_details!(sqlx::query(
        "UPDATE appeals SET reporter_name = $1, reporter_organisation = $2, reporter_postal_address = $3, \
         reporter_phone = $4, reporter_email = $5, anonymous = $6, no_return_address = $7, subject = $8, \
         substance = $9, category = $10, status = $11, updated_at = $12 WHERE id = $13",
    ), appeal)
    .bind(now)
    .bind(appeal.id.0))?;
    Ok(())
}

/// What a sealed appeal's row keeps plain after a write of its details.
pub(super) struct SealedRow<'a> {
    pub anonymous: bool,
    pub no_return_address: bool,
    /// `sealed_digest`: the hash chain of its envelopes.
    pub digest: &'a str,
    /// The keyed hash of the reporter's e-mail address, if one was written.
    pub email_tag: Option<&'a str>,
    /// The words found at intake (`Appeal::terms`).
    pub terms: &'a [String],
}

/// Writes a sealed appeal's row after a new envelope (the e-mail tag kept if
/// none was written).
pub(super) async fn update_sealed_in(
    tx: &mut Tx,
    id: AppealId,
    row: &SealedRow<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let terms = terms_column(row.terms);
    execute_in!(tx, sqlx::query(
        "UPDATE appeals SET anonymous = $1, no_return_address = $2, sealed_digest = $3, \
         reporter_email_tag = COALESCE($4, reporter_email_tag), intake_terms = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(row.anonymous)
    .bind(row.no_return_address)
    .bind(row.digest)
    .bind(row.email_tag)
    .bind(&terms)
    .bind(now)
    .bind(id.0))?;
    Ok(())
}

/// Erases what a sealed appeal's row kept of it (destroyed: its envelopes are gone).
pub(super) async fn erase_sealed_in(tx: &mut Tx, id: AppealId, now: DateTime<Utc>) -> Result<()> {
    execute_in!(tx, sqlx::query(
        "UPDATE appeals SET sealed_digest = NULL, reporter_email_tag = NULL, intake_terms = NULL, \
         updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id.0))?;
    Ok(())
}

/// A plain appeal's row sealed in place: identity and text cleared, the digest of
/// its envelopes, the e-mail tag and the words found kept.
pub(super) async fn seal_row_in(
    tx: &mut Tx,
    id: AppealId,
    digest: &str,
    email_tag: Option<&str>,
    terms: &[String],
) -> Result<()> {
    let terms = terms_column(terms);
    execute_in!(
        tx,
        sqlx::query(
            "UPDATE appeals SET reporter_name = NULL, reporter_organisation = NULL, \
         reporter_postal_address = NULL, reporter_phone = NULL, reporter_email = NULL, \
         subject = NULL, substance = NULL, sealed_digest = $1, reporter_email_tag = $2, \
         intake_terms = $3 WHERE id = $4",
        )
        .bind(digest)
        .bind(email_tag)
        .bind(&terms)
        .bind(id.0)
    )?;
    Ok(())
}

/// A sealed appeal's new `sealed_digest` (its envelopes resealed).
pub(super) async fn set_digest_in(tx: &mut Tx, id: AppealId, digest: Option<&str>) -> Result<()> {
    execute_in!(
        tx,
        sqlx::query("UPDATE appeals SET sealed_digest = $1 WHERE id = $2")
            .bind(digest)
            .bind(id.0)
    )?;
    Ok(())
}

/// Every plain appeal (none of its fields sealed), oldest first.
pub(super) async fn plain_appeals_in(tx: &mut Tx) -> Result<Vec<Appeal>> {
    let sql =
        format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE sealed_digest IS NULL ORDER BY id");
    let rows: Vec<AppealRow> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
    rows.into_iter().map(Appeal::try_from).collect()
}

/// The ids of every sealed appeal, oldest first.
pub(super) async fn sealed_ids_in(tx: &mut Tx) -> Result<Vec<AppealId>> {
    let ids: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM appeals WHERE sealed_digest IS NOT NULL ORDER BY id",
    )
    .fetch_all(conn)
    .await)?;
    Ok(ids.into_iter().map(AppealId).collect())
}

/// Every appeal, oldest first (`verify`).
pub(super) async fn all_appeals_in(tx: &mut Tx) -> Result<Vec<Appeal>> {
    let sql = format!("SELECT {APPEAL_COLUMNS} FROM appeals ORDER BY id");
    let rows: Vec<AppealRow> = on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?;
    rows.into_iter().map(Appeal::try_from).collect()
}

/// Every event of the chain, in order (`verify`).
pub(super) async fn all_events_in(tx: &mut Tx) -> Result<Vec<audit::EventRow>> {
    let sql = format!(
        "SELECT {} FROM appeal_events ORDER BY seq",
        audit::EVENT_COLUMNS
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).fetch_all(conn).await)?)
}

/// Lifts (`on` false) or restores (`on` true) the guard that keeps
/// `appeal_events` append-only (`key_chain` alone lifts it, in its transaction).
pub(super) async fn set_append_only_in(tx: &mut Tx, backend: &str, on: bool) -> Result<()> {
    for sql in append_only_guard(backend, on) {
        execute_in!(&mut *tx, sqlx::query(sql))?;
    }
    Ok(())
}

/// An event's links rewritten (`key_chain`).
pub(super) async fn rehash_event_in(tx: &mut Tx, seq: i64, prev: &str, hash: &str) -> Result<()> {
    execute_in!(
        tx,
        sqlx::query("UPDATE appeal_events SET prev_hash = $1, hash = $2 WHERE seq = $3",)
            .bind(prev)
            .bind(hash)
            .bind(seq)
    )?;
    Ok(())
}

/// The head's hash after `key_chain`, the chain marked keyed.
pub(super) async fn mark_head_keyed_in(tx: &mut Tx, hash: &str) -> Result<()> {
    execute_in!(
        tx,
        sqlx::query("UPDATE audit_head SET hash = $1, keyed = TRUE WHERE id = 1").bind(hash)
    )?;
    Ok(())
}
