//! Files and directories only the daemon's own user can read: the data directory
//! holds identities, texts, raw mail and recordings (10.5, 10.14), and an export
//! holds identities. The code sets the modes itself, not only the systemd unit
//! (`UMask=0077`, `StateDirectoryMode=0700`), so a run outside systemd is as tight.
//!
//! - `restrict_umask`: every file the process creates from then on (the SQLite
//!   database and its WAL, recordings, raw mail, the instance id) is 0600 and every
//!   directory 0700, whoever creates it (sqlx, the standard library).
//! - `private_dir`: a directory created 0700, or an existing one tightened to 0700.
//! - `private_file`: a new file created 0600 (an existing one is truncated and tightened).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Sets the process's umask to 077: group and others get no access to what it creates.
pub fn restrict_umask() {
    // SAFETY: umask(2) only sets the calling process's file mode creation mask; it
    // cannot fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` (and its parents) 0700, or tightens an existing `dir` to 0700.
/// Returns whether an existing directory had to be tightened (worth a warning).
pub fn private_dir(dir: &Path) -> io::Result<bool> {
    if dir.as_os_str().is_empty() {
        return Ok(false);
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
    Ok(true)
}

/// Appends `line` and a newline to `path` (created 0600 if new) and syncs it.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    use std::io::Write;
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_all()
}

/// Creates (or truncates) `path` as a file only its owner can read and write.
pub fn private_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode on open: tighten it.
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b");
        assert!(!private_dir(&fresh).unwrap());
        assert_eq!(mode(&fresh), 0o700);
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, Permissions::from_mode(0o755)).unwrap();
        assert!(private_dir(&open).unwrap(), "an open directory is reported");
        assert_eq!(mode(&open), 0o700);
        let file = root.path().join("export.csv");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        drop(private_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"");
    }
}
