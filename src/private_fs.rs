//! Files and directories only the daemon's own user can read: the data directory
//! holds identities, texts, raw mail and recordings (10.5, 10.14), and an export
//! holds identities. The code sets the modes itself, not only the systemd unit
//! (`UMask=0077`, `StateDirectoryMode=0700`), so a run outside systemd is as tight.
//!
//! - `restrict_umask`: every file the process creates from then on (the SQLite
//!   database and its WAL, recordings, raw mail, the instance id) is 0600 and every
//!   directory 0700, whoever creates it (sqlx, the standard library).
//! - `private_dir`: a directory created 0700, or an existing one tightened to 0700.
//! - `private_file`: a new file created 0600, never over an existing path and
//!   never through a symbolic link (`O_CREAT | O_EXCL`, which fails on an
//!   existing name, a dangling or a live link alike): every file the CLI writes
//!   where a person said (`-o`, `--output`, `--escrow-out`, `--zip`) and the
//!   daemon's temporary files. An existing path is refused naming it, and left
//!   as it was.
//! - `output_dir`: a directory given for output, `private_dir`'s, but never a
//!   symbolic link.
//! - `link_new`: gives a finished file a name that must not exist yet (a hard
//!   link, which never replaces an existing name as `rename` would).

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

/// Creates `path` as a new file only its owner can read and write (0600),
/// opened for reading and writing. Refused, naming the path, if anything is
/// there already: a file (never truncated), a directory, a symbolic link
/// (never followed, wherever it points).
pub fn private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| named(path, e))
}

/// A new private file (`private_file`) that is removed again when dropped,
/// unless `keep` was called: a file made before the work whose result it
/// will hold (so a taken name is refused before the work), and gone if the
/// work fails.
pub struct Pending<'p> {
    path: &'p Path,
    file: Option<File>,
}

impl<'p> Pending<'p> {
    pub fn create(path: &'p Path) -> io::Result<Pending<'p>> {
        Ok(Pending {
            path,
            file: Some(private_file(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        self.path
    }

    /// The file, kept.
    pub fn keep(mut self) -> io::Result<File> {
        self.file
            .take()
            .ok_or_else(|| io::Error::other("a pending file is kept once"))
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// `private_dir` for a directory a person gave for output: refused if `dir`
/// is a symbolic link (the files would land where it points).
pub fn output_dir(dir: &Path) -> io::Result<bool> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is a symbolic link: give a directory of its own",
                dir.display()
            ),
        ));
    }
    private_dir(dir)
}

/// Gives the file at `from` the new name `to` as well (then the caller removes
/// `from`); refused, naming `to`, if anything is there: unlike `rename`, an
/// existing file or link is never replaced.
pub fn link_new(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to).map_err(|e| named(to, e))
}

/// An error of creating `path`, naming it; an existing one said so plainly.
fn named(path: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::AlreadyExists {
        io::Error::new(
            e.kind(),
            format!(
                "{} exists (a file, a directory or a symbolic link): give a new name; \
                 nothing was written over it",
                path.display()
            ),
        )
    } else {
        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }
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
        drop(private_file(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn an_existing_file_or_a_symbolic_link_is_refused_and_left_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let existing = root.path().join("existing.csv");
        std::fs::write(&existing, "kept").unwrap();
        let elsewhere = root.path().join("elsewhere");
        std::fs::write(&elsewhere, "not yours").unwrap();
        let link = root.path().join("link.csv");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let dangling = root.path().join("dangling.csv");
        std::os::unix::fs::symlink(root.path().join("nowhere"), &dangling).unwrap();
        for path in [&existing, &link, &dangling] {
            let e = private_file(path).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{}", path.display());
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        assert_eq!(std::fs::read(&existing).unwrap(), b"kept");
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"not yours");
        assert!(!root.path().join("nowhere").exists());
        let e = link_new(&elsewhere, &existing).unwrap_err();
        assert!(e.to_string().contains("existing.csv"), "{e}");
        assert_eq!(std::fs::read(&existing).unwrap(), b"kept");
        let dir_link = root.path().join("dir-link");
        std::os::unix::fs::symlink(root.path(), &dir_link).unwrap();
        assert!(output_dir(&dir_link).is_err());
    }
}
