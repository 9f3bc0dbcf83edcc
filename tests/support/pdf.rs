//! Generated documents as the tests read them: a PDF's text (`pdftotext`), a
//! DOCX parsed by Word's rules (`docx-rs`' reader) and its `document.xml`; and
//! for a person to look at, one page rendered to PNG under `target/documents/`
//! with `pdftoppm` (poppler-utils, installed by `scripts/install-test-deps.sh`);
//! copies of the first pages are in `docs/documents/`; `raw_text` reads a
//! PDF's bytes back in the order they were drawn (a table's row one line).

use std::io::Read;

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
    super::senim::assert_succeeded(&out);
    prefix.with_extension("png")
}

/// The PDF's text, as `pdftotext` reads it.
pub fn text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils: scripts/install-test-deps.sh)");
    super::senim::assert_succeeded(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// The DOCX's `word/document.xml`, once the DOCX parses (`docx_rs::read_docx`).
pub fn docx_xml(bytes: &[u8]) -> String {
    docx_rs::read_docx(bytes).expect("the DOCX parses");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX is a ZIP");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// The text of a PDF's pages as `pdftotext` reads it back, in the order it
/// was drawn (`-raw`): a table's row is one line.
pub fn raw_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("read.pdf");
    std::fs::write(&file, pdf).expect("the PDF written");
    let out = std::process::Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils: scripts/install-test-deps.sh)");
    super::senim::assert_succeeded(&out);
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Asserts the text of a document (`what`: "the letter", "the DOCX") says
/// each of `wants`.
pub fn assert_says(what: &str, text: &str, wants: &[&str]) {
    for want in wants {
        assert!(text.contains(want), "{what} says {want:?}: {text}");
    }
}
