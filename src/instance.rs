//! This installation's identity: a UUID kept in `<data_dir>/instance-id`, made on
//! first use by `senim serve`. It names the process in the claims that several
//! Senim processes sharing one database take (the mailbox's settling, the
//! outbox's sending), and it survives a restart, so a restarted process picks up
//! its own unfinished work at once.

use std::io;
use std::path::Path;

const FILE: &str = "instance-id";

/// The id stored in `data_dir`, created there (atomically) if missing.
pub fn id(data_dir: &Path) -> io::Result<String> {
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if uuid::Uuid::parse_str(text.trim()).is_ok() => return Ok(text.trim().into()),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} does not hold a UUID; delete it to make a new one",
                    path.display()
                ),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let id = uuid::Uuid::new_v4().to_string();
    let temporary = data_dir.join(format!("{FILE}.{id}.tmp"));
    std::fs::write(&temporary, format!("{id}\n"))?;
    // Two processes starting at once on one directory: the first link wins and
    // both read the winner's id.
    match std::fs::hard_link(&temporary, &path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(e);
        }
    }
    std::fs::remove_file(&temporary)?;
    let text = std::fs::read_to_string(&path)?;
    Ok(text.trim().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = id(&dir.path().join("data")).unwrap();
        assert!(uuid::Uuid::parse_str(&first).is_ok());
        assert_eq!(id(&dir.path().join("data")).unwrap(), first);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(id(other.path()).unwrap(), first);
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "not a uuid").unwrap();
        let err = id(dir.path()).unwrap_err().to_string();
        assert!(err.contains("instance-id"), "{err}");
    }
}
