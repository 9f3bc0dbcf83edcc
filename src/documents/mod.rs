//! The documents an office sends (issue 12 §2), and the register they are
//! numbered in. Owns the tables `outgoing_counters`, `outgoing_register` and
//! `outgoing_files`.
//!
//! - here: the outgoing register. Each document gets the next gapless number of
//!   its prefix (`documents.outgoing_prefix`) and year (Astana), `OUT-2026-0001`,
//!   taken in the transaction that records it, as the Journal's registration
//!   numbers are: number, date, kind, appeal, recipient (a body, never a
//!   person), who made it, and its files with their SHA-256, kept as issued.
//!   Each is a `document_issued` event in the appeal's audit chain, in the same
//!   transaction (the chain's head locked first, then these rows).
//! - `Documents::cover_letter`: the cover letter of 10.7 to the anti-corruption
//!   service, only once the Director's last word on the appeal is to send it
//!   (`cases::acts::require_consent`).
//! - `letter`: its words, in Kazakh and Russian, without any identity of the
//!   reporter (a state secret; the materials travel separately); `docx` and
//!   `pdf` lay them out (the PDF embeds DejaVu Serif, `assets/fonts/`).
//! - `package`: an appeal's materials as one ZIP with a manifest of SHA-256s
//!   (10.12, 7.8), written through `materials`, its creation in the chain.

pub mod docx;
pub mod letter;
pub mod package;
pub mod pdf;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::cases::ActError;
use crate::clock::SharedClock;
use crate::config::documents::DocumentsConfig;
use crate::db::{Db, Tx};
use crate::journal::{AppealId, Journal, JournalError, Status};
use crate::pbx::Pbx;
use crate::{on_db, on_tx};

/// The chain's name for a document issued on an appeal.
pub const ISSUED: &str = "document_issued";

crate::text_enum! {
    /// What a registered document is.
    DocumentKind {
        /// The cover letter to the anti-corruption service (10.7).
        CoverLetter = "cover_letter",
        /// The reply to the citizen (APPK Art. 76).
        Reply = "reply",
        /// The notice of the reply's extension.
        ExtensionNotice = "extension_notice",
    }
}

crate::text_enum! {
    /// The file formats a document is kept in.
    Format {
        /// Word, to edit before it is printed.
        Docx = "docx",
        /// PDF, as it is printed.
        Pdf = "pdf",
    }
}

impl Format {
    /// The media type of a file of this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
        }
    }
}

/// What can go wrong making or reading a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The document is not made: the text says why (no consent, a key of
    /// `[documents]` not set, a closed appeal).
    #[error("{0}")]
    Refused(String),
    #[error("no document {0} in the outgoing register")]
    NotFound(String),
    /// Laying the document out failed (a broken build, not the input).
    #[error("cannot make the document: {0}")]
    Render(String),
}

impl From<sqlx::Error> for DocumentError {
    fn from(e: sqlx::Error) -> Self {
        DocumentError::Journal(e.into())
    }
}

/// One file of a registered document, as issued.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocumentFile {
    pub format: Format,
    pub name: String,
    pub sha256: String,
    pub size: i64,
}

/// An entry of the outgoing register.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The row's id: what the console's downloads are addressed by.
    pub id: i64,
    /// The outgoing number, `OUT-2026-0001`.
    pub number: String,
    /// Its date (Astana) and instant.
    pub issued_on: NaiveDate,
    pub issued_at: DateTime<Utc>,
    pub kind: DocumentKind,
    pub appeal_id: AppealId,
    /// The body it is addressed to.
    pub recipient: String,
    /// Who made it (`person:<login>`).
    pub created_by: String,
    pub files: Vec<DocumentFile>,
}

impl Entry {
    pub fn file(&self, format: Format) -> Option<&DocumentFile> {
        self.files.iter().find(|f| f.format == format)
    }
}

/// A document just issued: its entry and its files' bytes.
#[derive(Clone, Debug)]
pub struct Issued {
    pub entry: Entry,
    pub contents: Vec<(DocumentFile, Vec<u8>)>,
}

/// What documents are made with: the Journal (the appeal, its chain), the
/// telephone channel (the materials' recordings), `[documents]`, the clock.
pub struct Documents<'a> {
    pub journal: &'a Journal,
    pub pbx: &'a Pbx,
    pub config: &'a DocumentsConfig,
    pub clock: &'a SharedClock,
    /// The line's time zone: a document's date is Astana's.
    pub tz: chrono_tz::Tz,
}

/// The roles that make and read documents: the manager, the Director.
pub const ISSUERS: &[crate::persons::Role] = &[
    crate::persons::Role::Manager,
    crate::persons::Role::Director,
];

impl Documents<'_> {
    fn db(&self) -> &Db {
        self.journal.db()
    }

    /// Makes the cover letter of appeal `id` to the anti-corruption service
    /// (10.7) in `actor`'s name: refused without the Director's consent, or
    /// while `[documents]` lacks a name it needs. The number, the register's
    /// row, the files and the `document_issued` event in one transaction.
    pub async fn cover_letter(&self, id: AppealId, actor: &str) -> Result<Issued, DocumentError> {
        let missing = self.config.missing_for_cover_letter();
        if !missing.is_empty() {
            return Err(DocumentError::Refused(format!(
                "{}: not set; the cover letter names the enterprise, the Director and the \
                 anti-corruption service from [documents] in the configuration",
                missing.join(", ")
            )));
        }
        let appeal = self.journal.get(id).await?;
        crate::cases::acts::require_consent(self.journal, id)
            .await
            .map_err(|e| match e {
                ActError::Journal(e) => DocumentError::Journal(e),
                ActError::Invalid(_) | ActError::Alerts(_) => DocumentError::Refused(format!(
                    "appeal {}: the cover letter is made only once the Director has consented \
                     to send the report to the anti-corruption service (10.7)",
                    appeal.registration_number
                )),
            })?;
        let enclosures = self.enclosures(id).await?;
        let now = self.clock.now().trunc_subsecs(6);
        let today = now.with_timezone(&self.tz).date_naive();

        let mut tx = self.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        if appeal.status == Status::Closed {
            return Err(DocumentError::Refused(format!(
                "appeal {} is closed",
                appeal.registration_number
            )));
        }
        let number = next_number_in(&mut tx, &self.config.outgoing_prefix, today.year()).await?;
        let letter = letter::CoverLetter {
            number: number.clone(),
            date: today,
            registration_number: appeal.registration_number.to_string(),
            registered_on: appeal.registration_date,
            channel: appeal.channel,
            enclosures,
            config: self.config,
        };
        let sections = letter.sections();
        let title = letter.title();
        let docx = docx::render(&sections, &title).map_err(DocumentError::Render)?;
        let pdf = pdf::render(
            &sections,
            &pdf::Meta {
                title: &title,
                number: &number,
                issued_at: now,
            },
        )
        .map_err(DocumentError::Render)?;
        let stem = crate::materials::safe_name(&format!("{number}-cover-letter"));
        let contents: Vec<(DocumentFile, Vec<u8>)> = [(Format::Docx, docx), (Format::Pdf, pdf)]
            .into_iter()
            .map(|(format, bytes)| {
                let file = DocumentFile {
                    format,
                    name: format!("{stem}.{format}"),
                    sha256: hex::encode(Sha256::digest(&bytes)),
                    size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                };
                (file, bytes)
            })
            .collect();
        let mut entry = Entry {
            id: 0,
            number,
            issued_on: today,
            issued_at: now,
            kind: DocumentKind::CoverLetter,
            appeal_id: id,
            recipient: self.config.anti_corruption_addressee.ru.trim().to_owned(),
            created_by: actor.to_owned(),
            files: contents.iter().map(|(f, _)| f.clone()).collect(),
        };
        entry.id = insert_in(&mut tx, &entry, &contents).await?;
        let sha256: serde_json::Map<String, serde_json::Value> = entry
            .files
            .iter()
            .map(|f| (f.format.to_string(), f.sha256.clone().into()))
            .collect();
        let detail = serde_json::json!({
            "number": entry.number,
            "kind": entry.kind,
            "to": crate::cases::acts::Body::AntiCorruptionService,
            "sha256": sha256,
        });
        chain
            .record(&mut tx, &appeal, actor, ISSUED, &detail)
            .await?;
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            number = %entry.number,
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            actor,
            "cover letter issued"
        );
        Ok(Issued { entry, contents })
    }

    /// What the appeal's materials hold, by kind and count (what the package
    /// of `package` writes).
    async fn enclosures(&self, id: AppealId) -> Result<letter::Enclosures, DocumentError> {
        let db = self.db();
        let mails = crate::mailbox::store::thread_of(db, id)
            .await?
            .iter()
            .filter(|m| !m.destroyed)
            .count();
        let attachments = crate::mailbox::store::attachment_count_of(db, id).await?;
        let calls = crate::pbx::store::calls_of(db, id).await?;
        Ok(letter::Enclosures {
            mails,
            attachments: usize::try_from(attachments).unwrap_or_default(),
            calls: calls.len(),
            recordings: calls.iter().filter(|(_, _, recorded)| *recorded).count(),
        })
    }

    /// The register's entries, oldest first: of one appeal, or of one year, or all.
    pub async fn list(
        &self,
        appeal: Option<AppealId>,
        year: Option<i32>,
    ) -> Result<Vec<Entry>, DocumentError> {
        let rows: Vec<EntryRow> = on_db!(self.db(), pool => {
            let mut q = sqlx::QueryBuilder::new(format!("SELECT {ENTRY_COLUMNS} FROM outgoing_register WHERE 1 = 1"));
            if let Some(appeal) = appeal {
                q.push(" AND appeal_id = ").push_bind(appeal.0);
            }
            if let Some(year) = year {
                q.push(" AND year = ").push_bind(i64::from(year));
            }
            q.push(" ORDER BY id");
            q.build_query_as().fetch_all(pool).await
        })?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let files = self.files_of(row.id).await?;
            entries.push(row.into_entry(files)?);
        }
        Ok(entries)
    }

    /// The entry of register row `id`.
    pub async fn entry(&self, id: i64) -> Result<Entry, DocumentError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM outgoing_register WHERE id = $1");
        let row: Option<EntryRow> =
            on_db!(self.db(), pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        let row = row.ok_or_else(|| DocumentError::NotFound(id.to_string()))?;
        let files = self.files_of(row.id).await?;
        row.into_entry(files)
    }

    /// The entry of register row `id` and its file in `format`, as issued.
    pub async fn file(
        &self,
        id: i64,
        format: Format,
    ) -> Result<(Entry, DocumentFile, Vec<u8>), DocumentError> {
        let entry = self.entry(id).await?;
        let file = entry
            .file(format)
            .cloned()
            .ok_or_else(|| DocumentError::NotFound(format!("{id} as {format}")))?;
        let content: Vec<u8> = on_db!(self.db(), pool => sqlx::query_scalar(
            "SELECT content FROM outgoing_files WHERE register_id = $1 AND format = $2",
        )
        .bind(id)
        .bind(format.as_str())
        .fetch_one(pool)
        .await)?;
        Ok((entry, file, content))
    }

    async fn files_of(&self, id: i64) -> Result<Vec<DocumentFile>, DocumentError> {
        let rows: Vec<(String, String, String, i64)> = on_db!(self.db(), pool => sqlx::query_as(
            "SELECT format, name, sha256, CAST(length(content) AS BIGINT) FROM outgoing_files \
             WHERE register_id = $1 ORDER BY format",
        )
        .bind(id)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(format, name, sha256, size)| {
                Ok(DocumentFile {
                    format: format.parse().map_err(corrupt(id))?,
                    name,
                    sha256,
                    size,
                })
            })
            .collect()
    }
}

fn corrupt(id: i64) -> impl Fn(String) -> DocumentError {
    move |e| {
        DocumentError::Journal(JournalError::Corrupt(format!(
            "outgoing document {id}: {e}"
        )))
    }
}

/// `OUT-2026-0001`.
pub fn outgoing_number(prefix: &str, year: i32, seq: i64) -> String {
    format!("{prefix}-{year}-{seq:04}")
}

/// The next outgoing number of `prefix` and `year`, taken in `tx`: gapless,
/// because the row that uses it is inserted in the same transaction.
async fn next_number_in(tx: &mut Tx, prefix: &str, year: i32) -> Result<String, DocumentError> {
    let seq: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO outgoing_counters (prefix, year, last_number) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, year) DO UPDATE SET last_number = outgoing_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(prefix)
    .bind(i64::from(year))
    .fetch_one(conn)
    .await)?;
    Ok(outgoing_number(prefix, year, seq))
}

/// The register's row and its files; returns the row's id.
async fn insert_in(
    tx: &mut Tx,
    entry: &Entry,
    contents: &[(DocumentFile, Vec<u8>)],
) -> Result<i64, DocumentError> {
    let (prefix, year, seq) = split_number(&entry.number).ok_or_else(|| {
        DocumentError::Render(format!("{} is not an outgoing number", entry.number))
    })?;
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO outgoing_register (number, prefix, year, seq, issued_on, issued_at, kind, \
         appeal_id, recipient, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&entry.number)
    .bind(prefix)
    .bind(year)
    .bind(seq)
    .bind(entry.issued_on)
    .bind(entry.issued_at)
    .bind(entry.kind.as_str())
    .bind(entry.appeal_id.0)
    .bind(&entry.recipient)
    .bind(&entry.created_by)
    .fetch_one(conn)
    .await)?;
    for (file, bytes) in contents {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO outgoing_files (register_id, format, name, sha256, content) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(file.format.as_str())
        .bind(&file.name)
        .bind(&file.sha256)
        .bind(bytes.as_slice())
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    Ok(id)
}

/// `OUT-2026-0001` → (`OUT`, 2026, 1); the prefix may hold `-`.
fn split_number(number: &str) -> Option<(&str, i64, i64)> {
    let mut parts = number.rsplitn(3, '-');
    let seq = parts.next()?.parse().ok()?;
    let year = parts.next()?.parse().ok()?;
    let prefix = parts.next().filter(|p| !p.is_empty())?;
    Some((prefix, year, seq))
}

const ENTRY_COLUMNS: &str =
    "id, number, issued_on, issued_at, kind, appeal_id, recipient, created_by";

/// An `outgoing_register` row as stored.
#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    number: String,
    issued_on: NaiveDate,
    issued_at: DateTime<Utc>,
    kind: String,
    appeal_id: i64,
    recipient: String,
    created_by: String,
}

impl EntryRow {
    fn into_entry(self, files: Vec<DocumentFile>) -> Result<Entry, DocumentError> {
        Ok(Entry {
            id: self.id,
            kind: self.kind.parse().map_err(corrupt(self.id))?,
            number: self.number,
            issued_on: self.issued_on,
            issued_at: self.issued_at,
            appeal_id: AppealId(self.appeal_id),
            recipient: self.recipient,
            created_by: self.created_by,
            files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_numbers_read_back() {
        assert_eq!(outgoing_number("OUT", 2026, 1), "OUT-2026-0001");
        assert_eq!(outgoing_number("ИСХ", 2027, 12345), "ИСХ-2027-12345");
        assert_eq!(split_number("OUT-2026-0001"), Some(("OUT", 2026, 1)));
        assert_eq!(split_number("A-B-2026-0042"), Some(("A-B", 2026, 42)));
        assert_eq!(split_number("2026-0042"), None);
    }
}
