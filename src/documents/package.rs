//! An appeal's materials as one package (10.12, 7.8): a ZIP archive (deflate)
//! with the appeal's text, its correspondence, attachments, calls and
//! recordings, an extract of its audit events and `MANIFEST.sha256`, written
//! through `materials` (`materials::write_zip`). The archive is written under a
//! temporary name and takes its own name only once its creation is in the
//! chain: a `document_issued` event of kind `materials_package` naming its
//! SHA-256 and its files. The caller records the disclosure first, as `senim
//! journal materials` does for a directory.

use std::path::{Path, PathBuf};

use super::{Documents, ISSUED};
use crate::journal::Appeal;
use crate::materials::Written;
use crate::sealing::Unlocked;
use anyhow::{Context, bail};

/// The kind a package is recorded as, in the `document_issued` event.
pub const MATERIALS_PACKAGE: &str = "materials_package";

/// A package written: its files and the archive's SHA-256.
#[derive(Clone, Debug)]
pub struct Package {
    pub path: PathBuf,
    pub files: Vec<Written>,
    pub sha256: String,
    pub size: u64,
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
        let (files, sha256) =
            crate::materials::write_zip(self.journal, self.pbx, appeal, unlocked, &part).await?;
        let size = std::fs::metadata(&part)?.len();
        let recorded = self
            .record_package(id, actor, &sha256, files.len(), size)
            .await;
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
        })
    }

    /// The `document_issued` event of a package, in a transaction of its own.
    async fn record_package(
        &self,
        id: crate::journal::AppealId,
        actor: &str,
        sha256: &str,
        files: usize,
        size: u64,
    ) -> Result<(), crate::journal::JournalError> {
        let mut tx = self.journal.db().begin().await?;
        let mut chain = self.journal.lock_chain(&mut tx).await?;
        let appeal = self.journal.get_in(&mut tx, id).await?;
        let detail = serde_json::json!({
            "kind": MATERIALS_PACKAGE,
            "sha256": sha256,
            "files": files,
            "bytes": size,
        });
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
