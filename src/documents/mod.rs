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
//!   (`cases::acts::require_consent`) and the materials package is made: it
//!   lists the package's enclosures with their pages.
//! - `Documents::reply` and `Documents::extension_notice`: the reply to the
//!   citizen and the notice of its extension (APPK Art. 76), each also the act
//!   it is (`reply_sent`, `citizen_notified`, `cases::Case::record_in`) in the
//!   same transaction; by e-mail a mail threaded to the receipt, else a letter
//!   (`reply`) naming the person, handed out and never kept.
//! - `letter`: its words, in Kazakh and Russian, without any identity of the
//!   reporter (a state secret; the materials travel separately); `docx` and
//!   `pdf` lay them out (the PDF embeds DejaVu Serif, `assets/fonts/`).
//! - `package`: an appeal's materials as one ZIP with a manifest of SHA-256s
//!   (10.12, 7.8), written through `materials` with printable copies and the
//!   count of pages of each enclosure (`copies`, `pages`), its creation in the
//!   chain with that count, which the cover letter lists.

pub mod copies;
pub mod docx;
pub mod letter;
pub mod package;
pub mod pages;
pub mod pdf;
pub mod reply;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::alerts::Alerts;
use crate::cases::{Act, ActError};
use crate::clock::SharedClock;
use crate::config::documents::DocumentsConfig;
use crate::db::{Db, Tx};
use crate::deadlines::{Deadlines, Event};
use crate::execute_in;
use crate::journal::{Appeal, AppealId, ChainLock, Journal, JournalError, Status};
use crate::outbox::{MailKind, Outbox, OutboxError, Prebuilt};
use crate::pbx::Pbx;
use crate::rulebook::{Acting, rule};
use crate::{on_db, on_tx};

/// The chain's name for a document issued on an appeal.
pub const ISSUED: &str = "document_issued";

/// The files' SHA-256 by format, as the `document_issued` event records them.
fn sha256_by_format(files: &[DocumentFile]) -> serde_json::Map<String, serde_json::Value> {
    files
        .iter()
        .map(|f| (f.format.to_string(), f.sha256.clone().into()))
        .collect()
}

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
    /// How the reply reaches the citizen.
    ReplyMethod {
        /// By e-mail to the reporter's address, threaded to the receipt.
        Email = "email",
        /// On paper by post to the reporter's postal address.
        Post = "post",
        /// On paper, handed to the person.
        ByHand = "by_hand",
    }
}

/// The reply to the citizen (APPK Art. 76).
#[derive(Clone, Debug)]
pub struct ReplyInput {
    /// What the reply says: in the mail or the letter only, never in the chain.
    pub text: String,
    pub method: ReplyMethod,
    /// The day it is sent (Astana): the reply deadline is met on it.
    pub on: NaiveDate,
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
    /// The reply's mail could not be enqueued.
    #[error("cannot enqueue the reply: {0}")]
    Mail(String),
    #[error("no document {0} in the outgoing register")]
    NotFound(String),
    /// Laying the document out failed (a broken build, not the input).
    #[error("cannot make the document: {0}")]
    Render(String),
}

impl From<ActError> for DocumentError {
    fn from(e: ActError) -> Self {
        match e {
            ActError::Journal(e) => DocumentError::Journal(e),
            ActError::Invalid(text) => DocumentError::Refused(text),
            ActError::Denied(d) => DocumentError::Refused(d.to_string()),
            ActError::Alerts(e) => DocumentError::Mail(e.to_string()),
        }
    }
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
pub struct RegisterEntry {
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

impl RegisterEntry {
    pub fn file(&self, format: Format) -> Option<&DocumentFile> {
        self.files.iter().find(|f| f.format == format)
    }
}

/// A document just issued: its entry and its files' bytes.
#[derive(Clone, Debug)]
pub struct Issued {
    pub entry: RegisterEntry,
    pub contents: Vec<(DocumentFile, Vec<u8>)>,
}

/// A document's two files as issued: `<stem>.docx` and `<stem>.pdf`, each with
/// its SHA-256 and size.
fn issued_files(stem: &str, docx: Vec<u8>, pdf: Vec<u8>) -> Vec<(DocumentFile, Vec<u8>)> {
    [(Format::Docx, docx), (Format::Pdf, pdf)]
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
        .collect()
}

/// What documents are made with: the Journal (the appeal, its chain), the
/// telephone channel (the materials' recordings), `[documents]`, the clock.
pub struct Documents<'a> {
    pub journal: &'a Journal,
    /// The deadlines and the alerts (with their outbox): the reply and the
    /// extension notice are acts (`cases::Case::record_in`), the e-mail reply
    /// a mail.
    pub deadlines: &'a Deadlines,
    pub alerts: &'a Alerts,
    pub pbx: &'a Pbx,
    pub config: &'a DocumentsConfig,
    pub clock: &'a SharedClock,
    /// The line's time zone: a document's date is Astana's.
    pub tz: chrono_tz::Tz,
}

impl<'a> Documents<'a> {
    /// Opens the issue of a document for appeal `id` in `tx`: the audit chain
    /// locked first (as for every Journal write), the appeal read under the lock
    /// and refused if closed, and the next outgoing number of `today`'s year.
    async fn open_issue(
        &self,
        tx: &mut Tx,
        id: AppealId,
        today: NaiveDate,
    ) -> Result<(ChainLock<'a>, Appeal, String), DocumentError> {
        let chain = self.journal.lock_chain(tx).await?;
        let appeal = self.journal.get_in(tx, id).await?;
        if appeal.status == Status::Closed {
            return Err(DocumentError::Refused(format!(
                "appeal {} is closed",
                appeal.registration_number
            )));
        }
        let number = next_number_in(tx, &self.config.outgoing_prefix, today.year()).await?;
        Ok((chain, appeal, number))
    }

    fn db(&self) -> &Db {
        self.journal.db()
    }

    /// Makes the cover letter of appeal `id` to the anti-corruption service
    /// (10.7) in `actor`'s name: refused without the Director's consent, while
    /// `[documents]` lacks a name it needs, or without a materials package
    /// (`package`) that holds what the appeal's materials hold now: the letter
    /// lists that package's enclosures with their pages, and its event names
    /// the package's SHA-256. The number, the register's row, the files and
    /// the `document_issued` event in one transaction.
    pub async fn cover_letter(
        &self,
        id: AppealId,
        by: &Acting<rule::IssueDocuments>,
    ) -> Result<Issued, DocumentError> {
        let actor = by.actor();
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
                ActError::Invalid(_) | ActError::Denied(_) | ActError::Alerts(_) => {
                    DocumentError::Refused(format!(
                        "appeal {}: the cover letter is made only once the Director has consented \
                     to send the report to the anti-corruption service (10.7)",
                        appeal.registration_number
                    ))
                }
            })?;
        let package = self.package_to_list(&appeal).await?;
        let enclosures = letter::Enclosures {
            items: package.enclosures.clone(),
            files: package.files,
            made_on: package::made_on(&package, self.tz),
        };
        let now = self.clock.now().trunc_subsecs(6);
        let today = now.with_timezone(&self.tz).date_naive();

        let mut tx = self.db().begin().await?;
        let (mut chain, appeal, number) = self.open_issue(&mut tx, id, today).await?;
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
        let contents = issued_files(&stem, docx, pdf);
        let mut entry = RegisterEntry {
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
        let sha256 = sha256_by_format(&entry.files);
        let detail = serde_json::json!({
            "number": entry.number,
            "kind": entry.kind,
            "to": crate::cases::acts::Body::AntiCorruptionService,
            "sha256": sha256,
            "package": package.sha256,
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

    /// Sends the reply to the citizen on `appeal` (as the caller has it: opened
    /// with a person's key when the Journal is sealed) in `actor`'s name. One
    /// transaction, the chain's head locked first: the next outgoing number
    /// (kind `reply`), the register's row, the `document_issued` event (number,
    /// kind, method, the files' SHA-256; never the text), the `reply_sent` act
    /// (`cases::Case::record_in`: the reply deadline met, the status `replied`)
    /// and, by e-mail, the mail to the reporter's address (sealed in the outbox
    /// with the intake key). By post or by hand the letter is made as DOCX and
    /// PDF and returned; it names the person, so it is not kept in
    /// `outgoing_files` (the register lists the entry with no files).
    pub async fn reply(
        &self,
        appeal: &Appeal,
        input: &ReplyInput,
        by: &Acting<rule::IssueDocuments>,
    ) -> Result<Issued, DocumentError> {
        let actor = by.actor();
        let text = input.text.trim();
        if text.is_empty() {
            return Err(DocumentError::Refused("text: the reply has no text".into()));
        }
        let to = match input.method {
            ReplyMethod::Email => Some(reporter_mailbox(appeal)?),
            ReplyMethod::Post => {
                if blank(&appeal.reporter.postal_address) {
                    return Err(DocumentError::Refused(format!(
                        "reporter.postal_address: appeal {} gives no postal address{}; reply by \
                         another method",
                        appeal.registration_number,
                        sealed_hint(appeal)
                    )));
                }
                None
            }
            ReplyMethod::ByHand => None,
        };
        if to.is_none() {
            self.require_letter_config()?;
        }
        let body = reply::Body::Reply {
            text: text.to_owned(),
        };
        let act = Act::Deadline(Event::ReplySent { on: input.on });
        self.to_citizen(
            appeal,
            DocumentKind::Reply,
            input.method,
            body,
            &act,
            to,
            actor,
        )
        .await
    }

    /// The notice to the citizen that the reply is extended to `until` for
    /// `reason` (APPK Art. 76), as DOCX and PDF, in `actor`'s name: recorded as
    /// the `citizen_notified` act, which meets the extension notice's deadline
    /// (refused without an open one: record `reply_extended` first). Addressed
    /// by the opened appeal's name and postal address; not kept in
    /// `outgoing_files`, like the postal reply.
    pub async fn extension_notice(
        &self,
        appeal: &Appeal,
        until: NaiveDate,
        reason: &str,
        by: &Acting<rule::IssueDocuments>,
    ) -> Result<Issued, DocumentError> {
        let actor = by.actor();
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DocumentError::Refused("reason: required".into()));
        }
        self.require_letter_config()?;
        let today = self.clock.now().with_timezone(&self.tz).date_naive();
        let body = reply::Body::Extension {
            until,
            reason: reason.to_owned(),
        };
        let act = Act::Deadline(Event::CitizenNotified { on: today });
        self.to_citizen(
            appeal,
            DocumentKind::ExtensionNotice,
            ReplyMethod::Post,
            body,
            &act,
            None,
            actor,
        )
        .await
    }

    fn require_letter_config(&self) -> Result<(), DocumentError> {
        let missing: Vec<&str> = self
            .config
            .missing_for_cover_letter()
            .into_iter()
            .filter(|k| !k.starts_with("documents.anti_corruption"))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DocumentError::Refused(format!(
                "{}: not set; a letter to the citizen names the enterprise and the Director \
                 from [documents] in the configuration",
                missing.join(", ")
            )))
        }
    }

    /// A document to the citizen and the act it is, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn to_citizen(
        &self,
        appeal: &Appeal,
        kind: DocumentKind,
        method: ReplyMethod,
        body: reply::Body,
        act: &Act,
        mail_to: Option<lettre::message::Mailbox>,
        actor: &str,
    ) -> Result<Issued, DocumentError> {
        let id = appeal.id;
        let case = crate::cases::Case {
            journal: self.journal,
            deadlines: self.deadlines,
            alerts: self.alerts,
        };
        let act_detail = case.detail(act)?;
        let now = self.clock.now().trunc_subsecs(6);
        let today = now.with_timezone(&self.tz).date_naive();

        let mut tx = self.db().begin().await?;
        let (mut chain, stored, number) = self.open_issue(&mut tx, id, today).await?;
        let contents = if mail_to.is_some() {
            Vec::new()
        } else {
            let letter = reply::CitizenLetter {
                number: number.clone(),
                date: today,
                registration_number: stored.registration_number.to_string(),
                registered_on: stored.registration_date,
                to: reply::Addressee {
                    name: appeal.reporter.name.clone(),
                    postal_address: appeal.reporter.postal_address.clone(),
                },
                body: body.clone(),
                config: self.config,
            };
            self.render(&letter.sections(), &letter.title(), &number, kind, now)?
        };
        let mut entry = RegisterEntry {
            id: 0,
            number,
            issued_on: today,
            issued_at: now,
            kind,
            appeal_id: id,
            recipient: "citizen".to_owned(),
            created_by: actor.to_owned(),
            files: Vec::new(),
        };
        // Identity-bearing files are handed out, never kept unsealed.
        entry.id = insert_in(&mut tx, &entry, &[]).await?;
        entry.files = contents.iter().map(|(f, _)| f.clone()).collect();
        let sha256 = sha256_by_format(&entry.files);
        let detail = serde_json::json!({
            "number": entry.number,
            "kind": entry.kind,
            "method": method,
            "to": "citizen",
            "sha256": sha256,
        });
        chain
            .record(&mut tx, &stored, actor, ISSUED, &detail)
            .await?;
        let (stored, mut mails) = case
            .record_in(&mut tx, &mut chain, id, act, &act_detail, actor, now, today)
            .await?;
        if let (Some(to), reply::Body::Reply { text }) = (mail_to, &body) {
            let mail = self
                .reply_mail(&mut tx, &stored, &entry, to, text, now)
                .await?;
            mails |= self
                .alerts
                .outbox()
                .enqueue_prebuilt_in(&mut tx, &mail, now)
                .await
                .map_err(|e| DocumentError::Mail(e.to_string()))?
                .is_some();
        }
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        if mails {
            self.alerts.outbox().wake();
        }
        tracing::info!(
            number = %entry.number,
            kind = %kind,
            method = %method,
            registration_number = %stored.registration_number,
            appeal_id = %stored.id,
            actor,
            "document to the citizen issued"
        );
        Ok(Issued { entry, contents })
    }

    /// The DOCX and PDF of `sections`, named after the number and kind.
    fn render(
        &self,
        sections: &[letter::Section],
        title: &str,
        number: &str,
        kind: DocumentKind,
        now: DateTime<Utc>,
    ) -> Result<Vec<(DocumentFile, Vec<u8>)>, DocumentError> {
        let docx = docx::render(sections, title).map_err(DocumentError::Render)?;
        let pdf = pdf::render(
            sections,
            &pdf::Meta {
                title,
                number,
                issued_at: now,
            },
        )
        .map_err(DocumentError::Render)?;
        let stem =
            crate::materials::safe_name(&format!("{number}-{}", kind.as_str().replace('_', "-")));
        Ok(issued_files(&stem, docx, pdf))
    }

    /// The e-mail reply: subject with the outgoing number, threaded to the
    /// receipt the citizen got (the receipt's own Message-ID: the citizen's
    /// Message-ID is kept only as a keyed hash once sealed).
    async fn reply_mail(
        &self,
        tx: &mut Tx,
        appeal: &Appeal,
        entry: &RegisterEntry,
        to: lettre::message::Mailbox,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Prebuilt, DocumentError> {
        let receipt = Outbox::receipt_message_id_in(tx, appeal.id.0)
            .await
            .map_err(|e| match e {
                OutboxError::Unavailable(e) | OutboxError::Database(e) => DocumentError::from(e),
                other => DocumentError::Mail(other.to_string()),
            })?;
        let from = self.alerts.policy().from.clone();
        let message_id = format!(
            "<senim-reply.{}.{}@{}>",
            entry.number,
            uuid::Uuid::new_v4().simple(),
            from.email.domain()
        );
        let c = self.config;
        let body = format!(
            "Шығ. № {number}, {date_kk}\nИсх. № {number} от {date_ru}\n\n\
             {reg} өтінішіңізге жауап / Ответ на Ваше обращение № {reg}\n\n{text}\n\n\
             {title_kk} / {title_ru}\n{director}\n{enterprise}\n",
            number = entry.number,
            date_kk = letter::date_kk(entry.issued_on),
            date_ru = letter::date_ru(entry.issued_on),
            reg = appeal.registration_number,
            title_kk = c.director_title.kk.trim(),
            title_ru = c.director_title.ru.trim(),
            director = c.director_name.trim(),
            enterprise = c.enterprise_name.ru.trim(),
        );
        let mut builder = lettre::Message::builder()
            .from(from.clone())
            .to(to.clone())
            .subject(format!("Жауап / Ответ № {}", entry.number))
            .date(now.into())
            .message_id(Some(message_id.clone()))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        if let Some(receipt) = receipt {
            builder = builder.in_reply_to(receipt.clone()).references(receipt);
        }
        let message = builder
            .body(body)
            .map_err(|e| DocumentError::Mail(e.to_string()))?;
        Ok(Prebuilt {
            kind: MailKind::Reply,
            dedupe_key: format!("reply:{}:{}", appeal.id, entry.number),
            reference: entry.number.clone(),
            appeal_id: Some(appeal.id.0),
            from,
            to,
            message_id,
            message,
        })
    }

    /// The appeal's last materials package, which its cover letter lists:
    /// refused if none was made, or if the materials hold more (or less) now
    /// than it does (a mail, a call, a recording arrived since).
    async fn package_to_list(&self, appeal: &Appeal) -> Result<package::Recorded, DocumentError> {
        let number = &appeal.registration_number;
        let history = self.journal.history(appeal.id).await?;
        let recorded = package::last_package(&history).ok_or_else(|| {
            DocumentError::Refused(format!(
                "appeal {number}: no materials package yet; the cover letter lists the \
                 package's enclosures with their pages: make it first (senim journal \
                 materials {number} --zip FILE), then the letter"
            ))
        })?;
        let now = self.holdings(appeal.id).await?;
        let then = package::Holdings::of(&recorded.enclosures);
        if now != then {
            return Err(DocumentError::Refused(format!(
                "appeal {number}: its materials changed since the package of {} ({} mail(s), \
                 {} attachment(s), {} call(s), {} recording(s) then; {}, {}, {}, {} now): make \
                 the package again (senim journal materials {number} --zip FILE), then the letter",
                package::made_on(&recorded, self.tz),
                then.mails,
                then.attachments,
                then.calls,
                then.recordings,
                now.mails,
                now.attachments,
                now.calls,
                now.recordings,
            )));
        }
        Ok(recorded)
    }

    /// What the appeal's materials hold now, by kind and count (what a package
    /// of `package` counts: destroyed mail aside).
    async fn holdings(&self, id: AppealId) -> Result<package::Holdings, DocumentError> {
        let db = self.db();
        let mails = crate::mailbox::store::thread_of(db, id)
            .await?
            .iter()
            .filter(|m| !m.destroyed)
            .count();
        let attachments = crate::mailbox::store::attachment_count_of(db, id).await?;
        let calls = crate::pbx::store::calls_of(db, id).await?;
        Ok(package::Holdings {
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
    ) -> Result<Vec<RegisterEntry>, DocumentError> {
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
    pub async fn entry(&self, id: i64) -> Result<RegisterEntry, DocumentError> {
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
    ) -> Result<(RegisterEntry, DocumentFile, Vec<u8>), DocumentError> {
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

/// The reporter's e-mail address, or why there is none to reply to.
fn reporter_mailbox(appeal: &Appeal) -> Result<lettre::message::Mailbox, DocumentError> {
    let address = appeal
        .reporter
        .email
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            DocumentError::Refused(format!(
                "reporter.email: appeal {} gives no e-mail address{}; reply by post or by hand",
                appeal.registration_number,
                sealed_hint(appeal)
            ))
        })?;
    address.parse().map_err(|e| {
        DocumentError::Refused(format!(
            "reporter.email: {address:?} is not an address to reply to: {e}"
        ))
    })
}

/// What to say when a sealed appeal was given unopened.
fn sealed_hint(appeal: &Appeal) -> &'static str {
    if appeal.sealed.is_some() {
        " that can be read: the Journal is sealed, open the appeal with your key"
    } else {
        ""
    }
}

fn blank(field: &Option<String>) -> bool {
    field.as_deref().is_none_or(|f| f.trim().is_empty())
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
    entry: &RegisterEntry,
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
        execute_in!(tx, sqlx::query(
            "INSERT INTO outgoing_files (register_id, format, name, sha256, content) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(file.format.as_str())
        .bind(&file.name)
        .bind(&file.sha256)
        .bind(bytes.as_slice()))?;
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
    fn into_entry(self, files: Vec<DocumentFile>) -> Result<RegisterEntry, DocumentError> {
        Ok(RegisterEntry {
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
