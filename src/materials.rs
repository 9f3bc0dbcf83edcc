//! An appeal's materials, opened with a person's key and written to a private
//! directory (10.12, 7.8): the appeal with its identity and text, its mail (raw,
//! as `.eml`) and attachments, its calls' numbers and recordings, and a manifest
//! of each file's SHA-256 (`sha256sum -c MANIFEST.sha256` checks them). It owns no
//! table: it asks the Journal, the mailbox and the telephone channel. The caller
//! records the disclosure in the audit chain first (`senim journal materials`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::journal::{Appeal, Journal};
use crate::mailbox::store as mail;
use crate::pbx::Pbx;
use crate::sealing::Unlocked;

/// One file written: its name in the directory, SHA-256 and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// Writes `appeal`'s materials into `dir` (created 0700, or an empty one), each
/// file 0600, and the manifest last.
pub async fn write(
    journal: &Journal,
    pbx: &Pbx,
    appeal: Appeal,
    unlocked: &Unlocked,
    dir: &Path,
) -> anyhow::Result<Vec<Written>> {
    crate::private_fs::private_dir(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    if std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} is not empty: give a new directory", dir.display());
    }
    let db = journal.db();
    let appeal = journal.open(appeal, unlocked).await?;
    let mut out = Files {
        dir: dir.to_owned(),
        written: Vec::new(),
    };
    out.put("appeal.json", &serde_json::to_vec_pretty(&appeal)?)?;
    for (n, (pk, disposition)) in mail::messages_of(db, appeal.id)
        .await?
        .into_iter()
        .enumerate()
    {
        let stem = format!("mail-{:02}-{disposition}", n + 1);
        if let Some(raw) = mail::raw_unlocked(db, pk, unlocked).await? {
            out.put(&format!("{stem}.eml"), &raw)?;
        }
        for (k, a) in mail::attachment_contents(db, pk, unlocked)
            .await?
            .into_iter()
            .enumerate()
        {
            let name = safe_name(a.filename.as_deref().unwrap_or("attachment"));
            out.put(&format!("{stem}-attachment-{}-{name}", k + 1), &a.content)?;
        }
    }
    for (n, (source, call_id, recorded)) in crate::pbx::store::calls_of(db, appeal.id)
        .await?
        .into_iter()
        .enumerate()
    {
        let stem = format!("call-{:02}", n + 1);
        let numbers = crate::pbx::store::call_numbers(db, unlocked, &source, &call_id).await?;
        let numbers = serde_json::json!({
            "source": source,
            "call_id": call_id,
            "caller": numbers.as_ref().and_then(|n| n.caller.clone()),
            "caller_as_sent": numbers.as_ref().and_then(|n| n.caller_raw.clone()),
            "called": numbers.as_ref().and_then(|n| n.called.clone()),
            "extension": numbers.as_ref().and_then(|n| n.extension.clone()),
        });
        out.put(
            &format!("{stem}.json"),
            &serde_json::to_vec_pretty(&numbers)?,
        )?;
        if recorded {
            let mut bytes = Vec::new();
            pbx.open_recording(unlocked, &source, &call_id)
                .await?
                .read_to_end(&mut bytes)
                .context("cannot read the recording")?;
            out.put(&format!("{stem}-recording.audio"), &bytes)?;
        }
    }
    let manifest: String = out
        .written
        .iter()
        .map(|w| format!("{}  {}\n", w.sha256, w.name))
        .collect();
    let mut file = crate::private_fs::private_file(&dir.join("MANIFEST.sha256"))?;
    file.write_all(manifest.as_bytes())?;
    file.sync_all()?;
    Ok(out.written)
}

struct Files {
    dir: PathBuf,
    written: Vec<Written>,
}

impl Files {
    fn put(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        let mut file = crate::private_fs::private_file(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        self.written.push(Written {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        });
        Ok(())
    }
}

/// A file name from outside (an attachment's), safe in a directory: letters,
/// digits, `.`, `-`, `_` kept, anything else `_`, at most 60 characters, never
/// starting with a dot. The console names its downloads with it too.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn attachment_names_cannot_leave_the_directory() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name("акт проверки.pdf"), "акт_проверки.pdf");
        assert_eq!(safe_name("\u{0}\n"), "attachment");
        assert_eq!(safe_name(&"x".repeat(200)).len(), 60);
    }
}
