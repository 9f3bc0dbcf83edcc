//! The files under a directory, for the tests that search every byte at rest.

use std::path::{Path, PathBuf};

/// Every file under `dir`, at any depth (`dir` and its subdirectories must be
/// readable: a search of nothing would find no secret and prove nothing).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The first file under `dir` whose bytes hold `secret`. Read by a child
/// process (grep): a file of a SQLite database opened and closed by this process
/// would drop the locks an in-process daemon holds on it (POSIX locks are per
/// process), and the next write by another process could corrupt it.
pub fn grep_first(dir: &Path, secret: &str) -> Option<PathBuf> {
    let output = std::process::Command::new("grep")
        .args(["-r", "-l", "-a", "-F", "--", secret])
        .arg(dir)
        .output()
        .expect("run grep");
    // grep: 0 found, 1 not found, 2 trouble.
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "grep failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(PathBuf::from)
}
