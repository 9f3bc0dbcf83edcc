//! Generated PDFs for a person to look at: one page rendered to PNG under
//! `target/documents/` with `pdftoppm` (poppler-utils, installed by
//! `scripts/install-test-deps.sh`); copies of the first pages are in
//! `docs/documents/`; `text` reads a PDF back with `pdftotext`.

use std::path::{Path, PathBuf};

/// Page `page` of `pdf` as `target/documents/<name>.png`.
pub fn render_page(pdf: &Path, page: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/documents");
    std::fs::create_dir_all(&dir).expect("target/documents");
    let prefix = dir.join(name);
    let args = ["-png", "-r", "60", "-f", page, "-l", page, "-singlefile"];
    poppler("pdftoppm", &args, pdf, &prefix);
    prefix.with_extension("png")
}

/// One of poppler-utils' commands on `pdf`, its output to `out`; what it
/// writes on standard output.
fn poppler(command: &str, args: &[&str], pdf: &Path, out: &Path) -> Vec<u8> {
    let run = std::process::Command::new(command)
        .args(args)
        .arg(pdf)
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("{command} (poppler-utils): {e}"));
    assert!(
        run.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    run.stdout
}

/// The text of a PDF's pages as `pdftotext` reads it back, in the order it
/// was drawn (`-raw`): a table's row is one line.
pub fn text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("read.pdf");
    std::fs::write(&file, pdf).expect("the PDF written");
    let text = poppler(
        "pdftotext",
        &["-raw", "-enc", "UTF-8"],
        &file,
        Path::new("-"),
    );
    String::from_utf8(text).expect("UTF-8")
}
