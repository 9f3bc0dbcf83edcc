//! An appeal's materials, opened with a person's key (10.12, 7.8): the appeal
//! with its identity and text, its mail (raw, as `.eml`) and attachments, its
//! calls' numbers and recordings, an extract of its audit events
//! (`events.json`), and a manifest of each file's SHA-256 (`sha256sum -c
//! MANIFEST.sha256` checks them). Written into a `Sink`: a private directory
//! (`write`, `senim journal materials -o`) or one ZIP file (`write_zip`, the
//! package of `documents::package`), each file shown as a `Part` to the
//! caller's `Printer`, which may put a printable copy beside it (the package's
//! does, and counts pages). It owns no table: it asks the Journal, the mailbox
//! and the telephone channel. The caller records the disclosure in the audit
//! chain first.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::journal::{Appeal, Journal};
use crate::mailbox::store as mail;
use crate::pbx::Pbx;
use crate::sealing::Unlocked;

/// The manifest's name, written last.
pub const MANIFEST: &str = "MANIFEST.sha256";

/// One file written: its name, SHA-256 and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// Where the materials' files go, one by one.
pub trait Sink {
    /// Writes one file named `name` (a plain name, no directory).
    fn put(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()>;
}

/// A private directory: each file created 0600.
pub struct DirSink {
    dir: PathBuf,
}

impl DirSink {
    /// `dir`, created 0700 (or an empty one, tightened).
    pub fn create(dir: &Path) -> anyhow::Result<DirSink> {
        crate::private_fs::output_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if std::fs::read_dir(dir)?.next().is_some() {
            bail!("{} is not empty: give a new directory", dir.display());
        }
        Ok(DirSink {
            dir: dir.to_owned(),
        })
    }
}

impl Sink for DirSink {
    fn put(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        let mut file = crate::private_fs::private_file(&path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(())
    }
}

/// A ZIP archive (deflate), each entry 0600.
pub struct ZipSink<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
}

impl<W: Write + Seek> ZipSink<W> {
    pub fn new(writer: W) -> Self {
        ZipSink {
            zip: zip::ZipWriter::new(writer),
        }
    }

    /// Writes the archive's directory; returns the writer.
    pub fn finish(self) -> anyhow::Result<W> {
        self.zip.finish().context("cannot finish the ZIP archive")
    }
}

impl<W: Write + Seek> Sink for ZipSink<W> {
    fn put(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        self.zip
            .start_file(name, options)
            .with_context(|| format!("cannot add {name} to the ZIP archive"))?;
        self.zip.write_all(bytes)?;
        Ok(())
    }
}

/// What a file of the materials holds, as `write_into` meets it: what a
/// `Printer` makes a printable copy of, or counts the pages of.
pub enum Part<'a> {
    /// `appeal.json`: the appeal, opened.
    Appeal(&'a Appeal),
    /// `mail-NN-….eml`: a message as received.
    Mail(&'a [u8]),
    /// An attachment's content.
    Attachment(&'a [u8]),
    /// A message destroyed under the records schedule, or one of its
    /// attachments: an empty file, nothing to print or count.
    Destroyed,
    /// `call-NN.json`: a call's numbers.
    Call(&'a serde_json::Value),
    /// `call-NN-recording.audio`.
    Recording(&'a [u8]),
    /// `events.json`: the extract of the appeal's audit events.
    Events(&'a serde_json::Value),
}

/// What goes with the materials' files: a printable copy (PDF) of a file,
/// written beside it as `<its name without the extension>.pdf` and listed in
/// the manifest; and lines at the manifest's head (`#`, which `sha256sum -c`
/// passes over). The package (`documents::package`) prints and counts pages
/// with one; a directory is written as the materials are (`AsTheyAre`).
pub trait Printer {
    /// The printable copy of `part`, if one is made.
    fn copy(&mut self, part: Part<'_>) -> anyhow::Result<Option<Vec<u8>>>;

    /// The manifest's first lines, without their `#`.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// No copies, no notes: the materials as they are.
pub struct AsTheyAre;

impl Printer for AsTheyAre {
    fn copy(&mut self, _: Part<'_>) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// A sink that remembers what was written, for the manifest.
struct Files<'s, S: Sink> {
    sink: &'s mut S,
    printer: &'s mut (dyn Printer + Send),
    written: Vec<Written>,
}

impl<S: Sink> Files<'_, S> {
    fn put(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.sink.put(name, bytes)?;
        self.written.push(Written {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        });
        Ok(())
    }

    /// `put`, then the printer's copy of `part` beside it.
    fn put_part(&mut self, name: &str, bytes: &[u8], part: Part<'_>) -> anyhow::Result<()> {
        self.put(name, bytes)?;
        if let Some(pdf) = self.printer.copy(part)? {
            let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
            self.put(&format!("{stem}.pdf"), &pdf)?;
        }
        Ok(())
    }
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
    let mut sink = DirSink::create(dir)?;
    write_into(journal, pbx, appeal, unlocked, &mut sink, &mut AsTheyAre).await
}

/// Writes `appeal`'s materials as one ZIP archive into `out` (memory, or a
/// file the caller made private), with `printer`'s copies, the manifest its
/// last entry; returns the files and `out`, the archive finished in it.
pub async fn write_zip<W: Write + Seek + Send>(
    journal: &Journal,
    pbx: &Pbx,
    appeal: Appeal,
    unlocked: &Unlocked,
    out: W,
    printer: &mut (dyn Printer + Send),
) -> anyhow::Result<(Vec<Written>, W)> {
    let mut sink = ZipSink::new(out);
    let written = write_into(journal, pbx, appeal, unlocked, &mut sink, printer).await?;
    Ok((written, sink.finish()?))
}

/// Writes `appeal`'s materials into `sink`, each file followed by `printer`'s
/// copy of it, the manifest last.
pub async fn write_into<S: Sink>(
    journal: &Journal,
    pbx: &Pbx,
    appeal: Appeal,
    unlocked: &Unlocked,
    sink: &mut S,
    printer: &mut (dyn Printer + Send),
) -> anyhow::Result<Vec<Written>> {
    let db = journal.db();
    let appeal = journal.open(appeal, unlocked).await?;
    let mut out = Files {
        sink,
        printer,
        written: Vec::new(),
    };
    out.put_part(
        "appeal.json",
        &serde_json::to_vec_pretty(&appeal)?,
        Part::Appeal(&appeal),
    )?;
    for (n, (pk, disposition)) in mail::messages_of(db, appeal.id)
        .await?
        .into_iter()
        .enumerate()
    {
        let stem = format!("mail-{:02}-{disposition}", n + 1);
        let raw = mail::raw_unlocked(db, pk, unlocked).await?;
        let destroyed = raw.as_ref().is_none_or(Vec::is_empty);
        if let Some(raw) = raw {
            let part = if destroyed {
                Part::Destroyed
            } else {
                Part::Mail(&raw)
            };
            out.put_part(&format!("{stem}.eml"), &raw, part)?;
        }
        for (k, a) in mail::attachment_contents(db, pk, unlocked)
            .await?
            .into_iter()
            .enumerate()
        {
            let name = safe_name(a.filename.as_deref().unwrap_or("attachment"));
            out.put_part(
                &format!("{stem}-attachment-{}-{name}", k + 1),
                &a.content,
                if destroyed {
                    Part::Destroyed
                } else {
                    Part::Attachment(&a.content)
                },
            )?;
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
        out.put_part(
            &format!("{stem}.json"),
            &serde_json::to_vec_pretty(&numbers)?,
            Part::Call(&numbers),
        )?;
        if recorded {
            let mut bytes = Vec::new();
            pbx.open_recording(unlocked, &source, &call_id)
                .await?
                .read_to_end(&mut bytes)
                .context("cannot read the recording")?;
            out.put_part(
                &format!("{stem}-recording.audio"),
                &bytes,
                Part::Recording(&bytes),
            )?;
        }
    }
    // The extract of its audit events: what was done, by whom, when, with each
    // event's hash in the chain (`senim journal verify` checks the chain).
    let events: Vec<serde_json::Value> = journal
        .history(appeal.id)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "kind": e.kind,
                "detail": serde_json::from_str::<serde_json::Value>(&e.detail)
                    .unwrap_or(serde_json::Value::String(e.detail.clone())),
                "hash": e.hash,
            })
        })
        .collect();
    let extract = serde_json::json!({
        "registration_number": appeal.registration_number,
        "events": events,
    });
    out.put_part(
        "events.json",
        &serde_json::to_vec_pretty(&extract)?,
        Part::Events(&extract),
    )?;
    let notes: String = out
        .printer
        .notes()
        .iter()
        .map(|n| format!("# {}\n", n.replace(['\r', '\n'], " ")))
        .collect();
    let manifest: String = notes
        + &out
            .written
            .iter()
            .map(|w| format!("{}  {}\n", w.sha256, w.name))
            .collect::<String>();
    out.sink.put(MANIFEST, manifest.as_bytes())?;
    Ok(out.written)
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
