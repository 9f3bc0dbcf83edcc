//! An appeal's materials as one package (10.12, 7.8): a ZIP archive (deflate)
//! with the appeal's text, its correspondence, attachments, calls and
//! recordings, an extract of its audit events and `MANIFEST.sha256`, written
//! through `materials` (`materials::write_zip`), with the printable copies
//! and the count of pages of `copies`. The archive is written under a
//! temporary name and takes its own name only once its creation is in the
//! chain: a `document_issued` event of kind `materials_package` naming its
//! SHA-256, its files and its enclosures by kind with their pages (never a
//! name or a text), which the cover letter lists (`Documents::cover_letter`).
//! The caller records the disclosure first, as `senim journal materials` does
//! for a directory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use super::copies::Copies;
use super::{Documents, ISSUED};
use crate::journal::Appeal;
use crate::journal::audit::EventRow;
use crate::materials::Written;
use crate::sealing::Unlocked;
use anyhow::{Context, bail};

/// The kind a package is recorded as, in the `document_issued` event.
pub const MATERIALS_PACKAGE: &str = "materials_package";

crate::text_enum! {
    /// What an enclosure of the package is.
    EnclosureKind {
        /// The appeal: its registration data, the reporter, the text.
        Appeal = "appeal",
        /// A mail of the appeal, as printed from the message.
        Mail = "mail",
        /// A file attached to a mail.
        Attachment = "attachment",
        /// A call's record (its numbers).
        Call = "call",
        /// A call's recording.
        Recording = "recording",
        /// The extract of the appeal's audit events.
        Events = "events",
    }
}

/// One enclosure of a package, as its `document_issued` event lists it: its
/// kind and, where they can be known, its pages on paper (A4) or, for a
/// recording, how long it plays. Never a name or a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Enclosure {
    pub kind: EnclosureKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
}

/// A package written: its files and the archive's SHA-256.
#[derive(Clone, Debug)]
pub struct Package {
    pub path: PathBuf,
    pub files: Vec<Written>,
    pub sha256: String,
    pub size: u64,
    pub enclosures: Vec<Enclosure>,
}

/// A package as the chain recorded it: what a cover letter lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub sha256: String,
    pub at: DateTime<Utc>,
    /// Its files, the printable copies included, the manifest aside.
    pub files: usize,
    pub enclosures: Vec<Enclosure>,
}

/// The last package of an appeal whose event lists its enclosures, from the
/// appeal's history; `None` if none was made (or only before packages counted
/// their pages).
pub fn last_package(history: &[EventRow]) -> Option<Recorded> {
    history
        .iter()
        .rev()
        .filter(|e| e.kind == ISSUED)
        .filter_map(|e| {
            Some((
                e,
                serde_json::from_str::<serde_json::Value>(&e.detail).ok()?,
            ))
        })
        .find(|(_, d)| d["kind"] == MATERIALS_PACKAGE)
        .and_then(|(e, d)| {
            Some(Recorded {
                sha256: d["sha256"].as_str()?.to_owned(),
                at: e.at,
                files: usize::try_from(d["files"].as_u64()?).ok()?,
                enclosures: serde_json::from_value(d.get("enclosures")?.clone()).ok()?,
            })
        })
}

/// The outgoing number of the appeal's last cover letter, from its history.
pub fn last_cover_letter(history: &[EventRow]) -> Option<String> {
    history
        .iter()
        .rev()
        .filter(|e| e.kind == ISSUED)
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).ok())
        .find(|d| d["kind"] == super::DocumentKind::CoverLetter.as_str())
        .and_then(|d| d["number"].as_str().map(str::to_owned))
}

/// What an appeal's materials hold now, by kind and count, to compare with a
/// package's (`Documents::cover_letter` refuses a package the materials have
/// outgrown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    pub mails: usize,
    pub attachments: usize,
    pub calls: usize,
    pub recordings: usize,
}

impl Holdings {
    /// The counts of a package's enclosures.
    pub fn of(enclosures: &[Enclosure]) -> Holdings {
        let n = |kind| enclosures.iter().filter(|e| e.kind == kind).count();
        Holdings {
            mails: n(EnclosureKind::Mail),
            attachments: n(EnclosureKind::Attachment),
            calls: n(EnclosureKind::Call),
            recordings: n(EnclosureKind::Recording),
        }
    }
}

/// The day a package was made, in `tz`.
pub fn made_on(recorded: &Recorded, tz: chrono_tz::Tz) -> NaiveDate {
    recorded.at.with_timezone(&tz).date_naive()
}

impl Documents<'_> {
    /// Writes `appeal`'s materials, opened with `unlocked`, as one ZIP archive
    /// at `path` (a new file, 0600), and records its creation in `actor`'s name.
    pub async fn package(
        &self,
        appeal: Appeal,
        unlocked: &Unlocked,
        actor: &str,
        path: &Path,
    ) -> anyhow::Result<Package> {
        if path.exists() {
            bail!("{} exists: give a new file", path.display());
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("--zip: give a file name")?;
        let part = path.with_file_name(format!(".{name}.part"));
        let id = appeal.id;
        let history = self.journal.history(id).await?;
        let mut copies = Copies::new(
            appeal.registration_number.to_string(),
            last_cover_letter(&history),
            self.tz,
            self.clock.now().trunc_subsecs(0),
        );
        let (files, sha256) = crate::materials::write_zip(
            self.journal,
            self.pbx,
            appeal,
            unlocked,
            &part,
            &mut copies,
        )
        .await?;
        let size = std::fs::metadata(&part)?.len();
        let made = Made {
            sha256: &sha256,
            files: files.len(),
            size,
            enclosures: &copies.enclosures,
            cover_letter: copies.cover_letter.as_deref(),
        };
        let recorded = self.record_package(id, actor, &made).await;
        if let Err(e) = recorded {
            let _ = std::fs::remove_file(&part);
            return Err(anyhow::Error::new(e)
                .context("cannot record the package in the audit log; it was not kept"));
        }
        std::fs::rename(&part, path)
            .with_context(|| format!("cannot name the package {}", path.display()))?;
        Ok(Package {
            path: path.to_owned(),
            files,
            sha256,
            size,
            enclosures: copies.enclosures,
        })
    }

    /// The `document_issued` event of a package, in a transaction of its own.
    async fn record_package(
        &self,
        id: crate::journal::AppealId,
        actor: &str,
        made: &Made<'_>,
    ) -> Result<(), crate::journal::JournalError> {
        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        let mut detail = serde_json::json!({
            "kind": MATERIALS_PACKAGE,
            "sha256": made.sha256,
            "files": made.files,
            "bytes": made.size,
            "enclosures": made.enclosures,
        });
        if let Some(number) = made.cover_letter {
            detail["cover_letter"] = number.into();
        }
        chain
            .record(&mut tx, &appeal, actor, ISSUED, &detail)
            .await?;
        chain.finish(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            registration_number = %appeal.registration_number,
            appeal_id = %appeal.id,
            actor,
            "materials package written"
        );
        Ok(())
    }
}

/// A package as its event records it.
struct Made<'a> {
    sha256: &'a str,
    files: usize,
    size: u64,
    enclosures: &'a [Enclosure],
    cover_letter: Option<&'a str>,
}
