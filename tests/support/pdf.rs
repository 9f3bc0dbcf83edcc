//! Generated PDFs for a person to look at: one page rendered to PNG under
//! `target/documents/` with `pdftoppm` (poppler-utils, installed by
//! `scripts/install-test-deps.sh`); copies of the first pages are in
//! `docs/documents/`.

use std::path::{Path, PathBuf};

/// Page `page` of `pdf` as `target/documents/<name>.png`.
pub fn render_page(pdf: &Path, page: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/documents");
    std::fs::create_dir_all(&dir).expect("target/documents");
    let prefix = dir.join(name);
    let out = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", page, "-l", page, "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    prefix.with_extension("png")
}
