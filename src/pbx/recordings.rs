//! Recordings of calls, stored under the data directory by content hash
//! (`recordings/<sha256[0..2]>/<sha256>`), with their size and checksum in
//! `pbx_recordings`. A recording URL is downloaded in the background and
//! retried with a growing delay; it never holds up a call's registration.
//! Downloads run a few at a time, so one slow PBX does not hold up the others,
//! and each goes only where `targets` allows: to the addresses checked when the
//! name was resolved, following redirects only within the URL's origin.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::Pbx;
use super::store;

/// Where recordings are kept, and how large one may be.
#[derive(Clone, Debug)]
pub struct RecordingStore {
    dir: PathBuf,
    pub max_bytes: usize,
}

/// A recording on disk.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
}

impl RecordingStore {
    pub fn new(dir: PathBuf, max_bytes: usize) -> Self {
        Self { dir, max_bytes }
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Writes the bytes durably (temporary file, fsync, rename, fsync of the
    /// directory). The same content is stored once.
    pub async fn store(&self, bytes: &[u8]) -> std::io::Result<StoredFile> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256);
        let stored = StoredFile {
            sha256,
            size: bytes.len() as u64,
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
        match store::due_downloads(&channel.db, now, 16).await {
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
    let result = match client_for(channel, &d.url).await {
        Ok((url, client)) => fetch(&client, url, store.max_bytes).await,
        Err(e) => Err(e),
    };
    let outcome = match result {
        Ok(bytes) => match store.store(&bytes).await {
            Ok(file) => {
                let r = store::download_stored(
                    &channel.db,
                    d,
                    &file.sha256,
                    file.size,
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
    let mut builder = reqwest::Client::builder()
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

async fn fetch(client: &reqwest::Client, url: reqwest::Url, max: usize) -> Result<Vec<u8>, Fetch> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| Fetch::Retry(format!("request failed: {e}")))?;
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
        .map_err(|e| Fetch::Retry(format!("download interrupted: {e}")))?
    {
        if bytes.len() + chunk.len() > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
