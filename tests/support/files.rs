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
