//! An appeal's materials as one package (10.12, 7.8): a ZIP archive (deflate)
//! with the appeal's text, its correspondence, attachments, calls and
//! recordings, an extract of its audit events and `MANIFEST.sha256`, written
//! through `materials` (`materials::write_zip`), with the printable copies
//! and the count of pages of `copies`. Its creation is in the chain before
//! anyone has it: a `document_issued` event of kind `materials_package` naming
//! its SHA-256, its files and its enclosures by kind with their pages (never a
//! name or a text), which the cover letter lists (`Documents::cover_letter`).
//! Two ways out:
//! - `Documents::package_in_memory` (the console's download): written into
//!   memory, hashed, recorded, handed over; not a byte of it on disk, where a
//!   hard link taken while it was written would have kept it;
//! - `Documents::package` (`senim journal materials --zip FILE`): written
//!   under a private temporary name beside `FILE` (0600, random, never over an
//!   existing path), hashed, recorded, then given its name (`private_fs::
//!   link_new`: never over a file that appeared meanwhile).
//!
//! The caller records the disclosure first, as `senim journal materials` does
//! for a directory.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use super::copies::Copies;
use super::{Documents, ISSUED};
use crate::journal::Appeal;
use crate::journal::audit::EventRow;
use crate::materials::Written;
use crate::sealing::Unlocked;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

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

/// A package written: where (`None`: in memory), its files and the
/// archive's SHA-256.
#[derive(Clone, Debug)]
pub struct Package {
    pub path: Option<PathBuf>,
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
        if path.symlink_metadata().is_ok() {
            bail!(
                "{} exists (a file, a directory or a symbolic link): give a new file",
                path.display()
            );
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("--zip: give a file name")?;
        let part = path.with_file_name(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
        let file = crate::private_fs::private_file(&part)?;
        let made = async {
            let (mut package, _) = self
                .write_and_record(appeal, unlocked, actor, file, |file| {
                    file.sync_all()?;
                    file.rewind()?;
                    Ok(())
                })
                .await?;
            crate::private_fs::link_new(&part, path).with_context(|| {
                format!(
                    "the package is recorded (SHA-256 {}) but cannot take its name",
                    package.sha256
                )
            })?;
            package.path = Some(path.to_owned());
            anyhow::Ok(package)
        }
        .await;
        // Half an archive, an unrecorded one, or the temporary name of one
        // named: removed.
        let _ = std::fs::remove_file(&part);
        made
    }

    /// `package`, in memory (the console's download): the archive's bytes,
    /// recorded as `package` records it; nothing is written to disk.
    pub async fn package_in_memory(
        &self,
        appeal: Appeal,
        unlocked: &Unlocked,
        actor: &str,
    ) -> anyhow::Result<(Package, Vec<u8>)> {
        let (package, out) = self
            .write_and_record(
                appeal,
                unlocked,
                actor,
                std::io::Cursor::new(Vec::new()),
                |out| {
                    out.rewind()?;
                    Ok(())
                },
            )
            .await?;
        Ok((package, out.into_inner()))
    }

    /// Writes the archive into `out`, `ready` makes it readable from its
    /// start, then hashes it and records it; `out` is returned for handing
    /// over only once it is in the chain.
    async fn write_and_record<W: Read + Write + Seek + Send>(
        &self,
        appeal: Appeal,
        unlocked: &Unlocked,
        actor: &str,
        out: W,
        ready: impl FnOnce(&mut W) -> std::io::Result<()>,
    ) -> anyhow::Result<(Package, W)> {
        let id = appeal.id;
        let history = self.journal.history(id).await?;
        let mut copies = Copies::new(
            appeal.registration_number.to_string(),
            last_cover_letter(&history),
            self.tz,
            self.clock.now().trunc_subsecs(0),
        );
        let (files, mut out) =
            crate::materials::write_zip(self.journal, self.pbx, appeal, unlocked, out, &mut copies)
                .await?;
        ready(&mut out)?;
        let mut hasher = Sha256::new();
        let size =
            std::io::copy(&mut out, &mut hasher).context("cannot read the ZIP archive back")?;
        out.rewind()?;
        let sha256 = hex::encode(hasher.finalize());
        let made = Made {
            sha256: &sha256,
            files: files.len(),
            size,
            enclosures: &copies.enclosures,
            cover_letter: copies.cover_letter.as_deref(),
        };
        self.record_package(id, actor, &made).await.map_err(|e| {
            anyhow::Error::new(e)
                .context("cannot record the package in the audit log; it was not kept")
        })?;
        let package = Package {
            path: None,
            files,
            sha256,
            size,
            enclosures: copies.enclosures,
        };
        Ok((package, out))
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
