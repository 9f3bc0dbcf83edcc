//! Recordings of calls, stored under the data directory by content hash
//! (`recordings/<sha256[0..2]>/<sha256>`), with their size and checksum in
//! `pbx_recordings`. A recording URL is downloaded in the background and
//! retried with a growing delay; it never holds up a call's registration.
//! Downloads run a few at a time, so one slow PBX does not hold up the others,
//! and each goes only where `targets` allows: to the addresses checked when the
//! name was resolved, following redirects only within the URL's origin.
//!
//! Sealed (once the office key exists, `Sealer::is_on`): a recording is written
//! as an age stream to the office and escrow keys (`Sealer::seal_stream`; temp
//! file 0600, fsync, rename, as a plain one), and named, in the file system and
//! in `pbx_recordings.sha256`, by the keyed hash of its SHA-256
//! (`Sealer::keyed_hash`, domain `pbx-recording`), so a guessed recording
//! cannot be confirmed; `pbx_recordings.file_generation` says it is sealed.
//! A person with the key reads it back (`Pbx::open_recording`,
//! `RecordingStore::open`); `RecordingStore::seal_existing` seals the files
//! stored plain before (`senim keys init`, after its commit), and
//! `RecordingStore::reseal` reseals sealed ones to a new generation of the
//! office key (`senim keys rotate`, after the rotation's commit).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::Pbx;
use super::store;
use crate::db::Db;
use crate::sealing::{SealError, Sealer, Unlocked};

/// The keyed hash's domain of a sealed recording's name.
const KEYED_NAME: &str = "pbx-recording";

/// Why a recording cannot be read or sealed.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("the call has no stored recording")]
    NotFound,
    #[error("the recording file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the plain recording {0} does not hold the content its row names; left as it is")]
    Mismatch(String),
    #[error("the sealed recording {0} does not hold the content its name says; left as it is")]
    SealedMismatch(String),
}

/// What `RecordingStore::reseal` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResealedFiles {
    /// Files resealed to the new generation.
    pub resealed: u64,
    /// Files that could not be (missing, not opening with the key, or not
    /// holding the content their name says): left as they are, each logged.
    pub left: u64,
}

/// Where recordings are kept, and how large one may be.
#[derive(Clone, Debug)]
pub struct RecordingStore {
    dir: PathBuf,
    pub max_bytes: usize,
}

/// A recording on disk.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// Its name: the content's SHA-256, or, sealed, the keyed hash of it.
    pub sha256: String,
    /// The plain content's size.
    pub size: u64,
    /// The office key generation it is sealed to; `None`: a plain file.
    pub generation: Option<i64>,
}

impl RecordingStore {
    pub fn new(dir: PathBuf, max_bytes: usize) -> Self {
        Self { dir, max_bytes }
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Writes the bytes durably (temporary file, fsync, rename, fsync of the
    /// directory), sealed when `sealer` is on. The same content is stored once.
    pub async fn store(&self, bytes: &[u8], sealer: &Sealer) -> std::io::Result<StoredFile> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(name) = sealer.keyed_hash(KEYED_NAME, sha256.as_bytes()) {
            let path = self.path_of(&name);
            let (sealer, plain) = (sealer.clone(), bytes.to_vec());
            let generation = tokio::task::spawn_blocking(move || {
                write_sealed(&path, plain.as_slice(), &sha256, &sealer)
            })
            .await
            .map_err(std::io::Error::other)?
            .map_err(|e| match e {
                RecordingError::Io(e) => e,
                other => std::io::Error::other(other.to_string()),
            })?;
            return Ok(StoredFile {
                sha256: name,
                size: bytes.len() as u64,
                generation: Some(generation),
            });
        }
        let path = self.path_of(&sha256);
        let stored = StoredFile {
            sha256,
            size: bytes.len() as u64,
            generation: None,
        };
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(stored);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            stored.sha256,
            uuid::Uuid::new_v4().simple()
        ));
        let mut file = tokio::fs::File::create(&tmp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await?;
        tokio::fs::File::open(dir).await?.sync_all().await?;
        Ok(stored)
    }
}

impl RecordingStore {
    /// Reads a stored recording: a sealed one (`generation` set) opened with
    /// `unlocked` as it is read, a plain one as it is. `name` is
    /// `pbx_recordings.sha256` (`store::stored_recording`).
    pub fn open(
        &self,
        unlocked: &Unlocked,
        name: &str,
        generation: Option<i64>,
    ) -> Result<Box<dyn Read + Send>, RecordingError> {
        let file = std::fs::File::open(self.path_of(name))?;
        if generation.is_none() {
            return Ok(Box::new(file));
        }
        Ok(Box::new(
            unlocked.open_stream(std::io::BufReader::new(file))?,
        ))
    }

    /// Seals the recordings stored plain before sealing was on (run by `senim
    /// keys init` after its commit; again after a crash). Each file is sealed
    /// beside the plain one (checked against its SHA-256 as it is read), then
    /// its row switched to the sealed file, then the plain file erased, each
    /// step durable before the next: a crash anywhere leaves either the plain
    /// file in use or the sealed one in use and the plain one to erase, which
    /// the next run (or `remove_destroyed`) erases. A plain file that is missing
    /// or does not hold its row's content is left as it is (logged) and the
    /// others sealed. Returns how many it sealed.
    pub async fn seal_existing(&self, db: &Db, sealer: &Sealer) -> Result<u64, RecordingError> {
        self.erase_unsealed(db).await?;
        let mut sealed = 0;
        for (source, call_id, plain) in store::plain_recordings(db).await? {
            let Some(name) = sealer.keyed_hash(KEYED_NAME, plain.as_bytes()) else {
                return Err(SealError::Keys(
                    "sealing is off: `senim keys init` makes the office key".into(),
                )
                .into());
            };
            let (from, to, expected) = (self.path_of(&plain), self.path_of(&name), plain.clone());
            let task_sealer = sealer.clone();
            let written = tokio::task::spawn_blocking(move || {
                let file = std::fs::File::open(&from)?;
                write_sealed(&to, std::io::BufReader::new(file), &expected, &task_sealer)
            })
            .await
            .map_err(std::io::Error::other)?;
            let generation = match written {
                Ok(generation) => generation,
                // A plain file lost or changed: the others are sealed all the
                // same; this one stays as it is, and is named in the log.
                Err(e @ (RecordingError::Io(_) | RecordingError::Mismatch(_))) => {
                    tracing::warn!(source = %source, call_id = %call_id, error = %e,
                        "pbx: a plain recording cannot be sealed; left as it is");
                    continue;
                }
                Err(e) => return Err(e),
            };
            if store::switch_to_sealed(db, &source, &call_id, &plain, &name, generation).await? {
                sealed += 1;
            }
        }
        self.erase_unsealed(db).await?;
        Ok(sealed)
    }

    /// Reseals the recording files sealed to a generation of the office key
    /// older than the one `sealer` seals to now (run by `senim keys rotate` and
    /// `remove-reader` after the rotation's commit, with the `unlocked` key that
    /// rotated; again after a crash, with a key that opens the older
    /// generations). Each file is opened with `unlocked` as it is read and
    /// sealed to a temporary file beside it (checked against its name, the keyed
    /// hash of the content's SHA-256, and synced), which is then renamed over
    /// it, so the file's name always holds one whole recording, of the old
    /// generation or of the new; the old file's blocks are then overwritten with
    /// zeros and the rows naming it switched to the new generation. A crash
    /// anywhere leaves a file that opens (the rows' generation only says it is
    /// sealed) and at worst a row still naming the old generation, which the
    /// next run reseals. A file that is missing, does not open or does not hold
    /// its content is left as it is (logged, counted in `left`).
    pub async fn reseal(
        &self,
        db: &Db,
        sealer: &Sealer,
        unlocked: &Unlocked,
    ) -> Result<ResealedFiles, RecordingError> {
        let generation = sealer.current_generation().ok_or_else(|| {
            SealError::Keys("sealing is off: there is no office key to reseal to".into())
        })?;
        // The key moves to a blocking thread: a copy of its office identities.
        let key = Arc::new(unlocked.restricted_to(&unlocked.generations()));
        let mut done = ResealedFiles::default();
        for name in store::recordings_sealed_before(db, generation).await? {
            let (path, task_name, task_key, task_sealer) = (
                self.path_of(&name),
                name.clone(),
                key.clone(),
                sealer.clone(),
            );
            let written = tokio::task::spawn_blocking(move || {
                reseal_file(&path, &task_name, &task_key, &task_sealer)
            })
            .await
            .map_err(std::io::Error::other)?;
            match written {
                Ok(g) if g == generation => {
                    store::recording_resealed(db, &name, generation).await?;
                    done.resealed += 1;
                }
                Ok(g) => {
                    return Err(SealError::Keys(format!(
                        "the office key changed while recordings were resealed (generation {g}, \
                         not {generation}): run the rotation again"
                    ))
                    .into());
                }
                Err(
                    e @ (RecordingError::Io(_)
                    | RecordingError::SealedMismatch(_)
                    | RecordingError::Seal(SealError::Open(_))),
                ) => {
                    tracing::warn!(file = %name, error = %e,
                        "pbx: a sealed recording cannot be resealed; left as it is");
                    done.left += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Erases the plain files that sealed ones replaced, unless a recording
    /// not yet sealed still has the same content.
    async fn erase_unsealed(&self, db: &Db) -> Result<(), RecordingError> {
        for (source, call_id, plain) in store::unsealed_files(db).await? {
            if !store::content_still_kept(db, &plain).await? {
                erase(&self.path_of(&plain)).await?;
            }
            store::unsealed_file_erased(db, &source, &call_id).await?;
        }
        Ok(())
    }
}

/// Reads what it wraps, computing its SHA-256.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Seals what `input` yields to `path` durably (a temporary file 0600, fsync,
/// rename, fsync of the directory), if its SHA-256 is `sha256`; the office key
/// generation it is sealed to. Blocking.
fn write_sealed(
    path: &Path,
    input: impl Read,
    sha256: &str,
    sealer: &Sealer,
) -> Result<i64, RecordingError> {
    write_sealed_if(path, input, sealer, |hash| {
        if hash == sha256 {
            Ok(())
        } else {
            Err(RecordingError::Mismatch(sha256.to_owned()))
        }
    })
}

/// `write_sealed`, if `check` accepts the SHA-256 (hex) of what `input` yielded;
/// nothing is written over `path` otherwise. Blocking.
fn write_sealed_if(
    path: &Path,
    input: impl Read,
    sealer: &Sealer,
    check: impl FnOnce(&str) -> Result<(), RecordingError>,
) -> Result<i64, RecordingError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".sealing.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::io::BufWriter::new(crate::private_fs::private_file(&tmp)?);
        let mut input = Hashing {
            inner: input,
            hash: Sha256::new(),
        };
        let generation = sealer.seal_stream(&mut input, &mut file)?.ok_or_else(|| {
            SealError::Seal("sealing was turned off while a recording was being sealed".into())
        })?;
        check(&hex::encode(input.hash.finalize()))?;
        file.flush()?;
        file.get_ref().sync_all()?;
        Ok(generation)
    })();
    let generation = match result {
        Ok(g) => g,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(generation)
}

/// Reseals the sealed file at `path`, named `name`: opened with `unlocked`,
/// sealed by `sealer` to a temporary file, checked against `name`, renamed over
/// the old one; then the old file's blocks are overwritten with zeros. The
/// generation it is now sealed to. Blocking.
fn reseal_file(
    path: &Path,
    name: &str,
    unlocked: &Unlocked,
    sealer: &Sealer,
) -> Result<i64, RecordingError> {
    let mut old = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let opened = unlocked.open_stream(std::io::BufReader::new(old.try_clone()?))?;
    let generation = write_sealed_if(path, opened, sealer, |sha256| {
        if sealer.keyed_hash(KEYED_NAME, sha256.as_bytes()).as_deref() == Some(name) {
            Ok(())
        } else {
            Err(RecordingError::SealedMismatch(name.to_owned()))
        }
    })?;
    // The name holds the new file now; `old` is the replaced one, unlinked.
    zero_fill(&mut old)?;
    Ok(generation)
}

/// Overwrites an open file's content with zeros and syncs it. Blocking.
fn zero_fill(file: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(0))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

/// Removes the files of destroyed recordings (`store::destroy_for_appeal_in`,
/// `store::forget_missed_callers_in`): the row said `destroyed_at` in the
/// purge's committed transaction first; each file is overwritten with zeros,
/// synced and unlinked, its directory synced, and only then is the row marked
/// `file_removed`. A purge killed anywhere in between finds the row again on its
/// next run; a file already gone is no error. A file whose content another
/// recording not destroyed still has (the store keeps one file per content)
/// stays. Returns how many files were removed.
pub async fn remove_destroyed(db: &crate::db::Db, files: &RecordingStore) -> anyhow::Result<u64> {
    use anyhow::Context;
    // Plain files a crashed reseal left behind (`RecordingStore::seal_existing`).
    files
        .erase_unsealed(db)
        .await
        .context("cannot erase the plain files of sealed recordings")?;
    let mut removed = 0;
    loop {
        let due = store::files_to_remove(db, 200)
            .await
            .context("cannot read the destroyed recordings")?;
        if due.is_empty() {
            return Ok(removed);
        }
        for f in &due {
            if !store::content_still_kept(db, &f.sha256)
                .await
                .context("cannot read the recordings")?
            {
                let path = files.path_of(&f.sha256);
                if erase(&path)
                    .await
                    .with_context(|| format!("cannot remove the recording {}", path.display()))?
                {
                    removed += 1;
                }
            }
            store::file_removed(db, f)
                .await
                .context("cannot record a recording's file as removed")?;
        }
    }
}

/// Overwrites a file with zeros, syncs it, unlinks it and syncs its directory;
/// `false` if there was no file. (On a journaling, copy-on-write or flash file
/// system the old blocks may survive the overwrite: keep the data directory on
/// an encrypted volume; see the README.)
async fn erase(path: &Path) -> std::io::Result<bool> {
    let mut file = match tokio::fs::OpenOptions::new().write(true).open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let len = file.metadata().await?.len();
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        file.write_all(&zeros[..n]).await?;
        left -= n as u64;
    }
    file.sync_all().await?;
    drop(file);
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(true)
}

/// The background downloader's doorbell: rung when a new URL is pending.
#[derive(Default)]
pub struct Downloads {
    pub wake: Notify,
}

/// Downloads pending recordings until `stop` turns true (a download in hand is
/// finished or, cut short, stays pending for the next start).
pub async fn run_downloader(channel: Arc<Pbx>, mut stop: tokio::sync::watch::Receiver<bool>) {
    use futures_util::StreamExt;
    while !*stop.borrow() {
        let now = channel.clock.now();
        match store::due_downloads(&channel.db, now, 16, &channel.sealer).await {
            Ok(due) => {
                futures_util::stream::iter(&due)
                    .for_each_concurrent(DOWNLOADS_AT_ONCE, |d| download_one(&channel, d))
                    .await;
                if !due.is_empty() {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read pending recordings"),
        }
        let wait = match store::next_download_at(&channel.db).await {
            Ok(Some(at)) => (at - channel.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(100), Duration::from_secs(60)),
            _ => Duration::from_secs(60),
        };
        tokio::select! {
            () = channel.downloads.wake.notified() => {},
            () = tokio::time::sleep(wait) => {},
            _ = stop.changed() => {},
        }
    }
}

/// Downloads at the same time at most: a slow PBX holds up one of them.
const DOWNLOADS_AT_ONCE: usize = 4;

/// Redirects followed at most, each within the URL's origin.
const MAX_REDIRECTS: usize = 3;

async fn download_one(channel: &Pbx, d: &store::PendingDownload) {
    let store = &channel.recordings;
    if d.url.is_empty() {
        // Its sealed URL cannot be opened with this intake key.
        if let Err(e) = retry_later(
            channel,
            d,
            "the sealed recording URL cannot be opened",
            false,
        )
        .await
        {
            tracing::warn!(error = %e, source = %d.source, call_id = %d.call_id, "cannot record the download's outcome");
        }
        return;
    }
    let result = match client_for(channel, &d.url).await {
        Ok((url, client)) => fetch(&client, url, store.max_bytes).await,
        Err(e) => Err(e),
    };
    let outcome = match result {
        Ok(bytes) => match store.store(&bytes, &channel.sealer).await {
            Ok(file) => {
                let r = store::download_stored(
                    &channel.db,
                    d,
                    &file.sha256,
                    file.size,
                    file.generation,
                    channel.clock.now(),
                )
                .await;
                if r.is_ok() {
                    metrics::counter!("senim_pbx_recording_downloads_total", "result" => "stored")
                        .increment(1);
                    tracing::info!(source = %d.source, call_id = %d.call_id, sha256 = %file.sha256, size = file.size, "recording stored");
                }
                r
            }
            Err(e) => retry_later(channel, d, &format!("cannot store: {e}"), true).await,
        },
        Err(Fetch::Retry(e)) => retry_later(channel, d, &e, true).await,
        Err(Fetch::Permanent(e)) => retry_later(channel, d, &e, false).await,
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, source = %d.source, call_id = %d.call_id, "cannot record the download's outcome");
    }
}

async fn retry_later(
    channel: &Pbx,
    d: &store::PendingDownload,
    error: &str,
    retry: bool,
) -> Result<(), sqlx::Error> {
    let attempts = d.attempts + 1;
    let settings = &channel.config.pbx;
    let give_up = !retry || attempts >= i64::from(settings.recording_max_attempts);
    let next = (!give_up).then(|| {
        let factor = 1u64 << attempts.clamp(0, 7);
        let delay = settings
            .recording_retry_seconds
            .get()
            .saturating_mul(factor)
            .min(3600);
        channel.clock.now() + chrono::Duration::seconds(i64::try_from(delay).unwrap_or(3600))
    });
    let result = if give_up { "failed" } else { "retry" };
    metrics::counter!("senim_pbx_recording_downloads_total", "result" => result).increment(1);
    tracing::warn!(source = %d.source, call_id = %d.call_id, attempts, error, gave_up = give_up, "recording download failed");
    store::download_failed(&channel.db, d, error, next).await
}

enum Fetch {
    Retry(String),
    Permanent(String),
}

/// A client for one download: it connects only to the addresses `targets`
/// checked, and follows redirects only within the URL's origin.
async fn client_for(channel: &Pbx, url: &str) -> Result<(reqwest::Url, reqwest::Client), Fetch> {
    use super::targets::Refused;
    let (url, addrs) = channel.targets.resolve(url).await.map_err(|r| match r {
        Refused::Unresolved(_) => Fetch::Retry(r.to_string()),
        _ => Fetch::Permanent(format!("the recording URL {r}")),
    })?;
    let origin = url.clone();
    let mut builder = downloader()
        .timeout(channel.config.pbx.recording_timeout_seconds.std())
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if super::targets::same_origin(&origin, attempt.url()) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }));
    if let Some(host) = url.host_str() {
        builder = builder.resolve_to_addrs(host, &addrs);
    }
    let client = builder
        .build()
        .map_err(|e| Fetch::Retry(format!("cannot build the downloader: {e}")))?;
    Ok((url, client))
}

/// Every HTTP client Senim makes starts here: without a proxy, whatever the
/// environment says (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`): a proxy would
/// connect elsewhere than to the addresses `targets` checked and pinned.
pub fn downloader() -> reqwest::ClientBuilder {
    reqwest::Client::builder().no_proxy()
}

async fn fetch(client: &reqwest::Client, url: reqwest::Url, max: usize) -> Result<Vec<u8>, Fetch> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| Fetch::Retry(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_redirection() {
        // A redirect the policy stopped: off the URL's origin.
        return Err(Fetch::Permanent(format!(
            "the PBX redirected ({status}) off the recording URL's origin; not followed"
        )));
    }
    if !status.is_success() {
        let msg = format!("the PBX answered {status}");
        return Err(
            if status.is_client_error() && status.as_u16() != 404 && status.as_u16() != 429 {
                Fetch::Permanent(msg)
            } else {
                Fetch::Retry(msg)
            },
        );
    }
    let too_large = || Fetch::Permanent(format!("larger than pbx.max_recording_bytes ({max})"));
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Fetch::Retry(format!("download interrupted: {}", e.without_url())))?
    {
        if bytes.len() + chunk.len() > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Pbx {
    /// A call's stored recording, for a person holding the office key
    /// (`unlocked`): sealed files are opened as they are read.
    pub async fn open_recording(
        &self,
        unlocked: &Unlocked,
        source: &str,
        call_id: &str,
    ) -> Result<Box<dyn Read + Send>, RecordingError> {
        let (name, generation) = store::stored_recording(&self.db, source, call_id)
            .await?
            .ok_or(RecordingError::NotFound)?;
        self.recordings.open(unlocked, &name, generation)
    }
}
