//! How many pages a file from outside takes on paper, or how long a recording
//! plays, for the package's list of enclosures (`package`). The files come from
//! the public (a citizen's attachments, a PBX's recordings): each reader here
//! is bounded, never panics on what it is given, and says `None` when it cannot
//! tell rather than guess.
//!
//! - a PDF: the page tree's `/Count`, found from the last `/Root` of the file
//!   (its trailer or cross-reference stream), the objects read plain or from
//!   the object streams (`/Type /ObjStm`, deflated) that PDF 1.5 packs them in;
//! - an image (PNG, JPEG, GIF, BMP, WebP, TIFF): one page;
//! - a WAV recording (RIFF): its length from the format's byte rate and the
//!   data's size.

use std::collections::HashMap;
use std::io::Read;

/// The most an object stream is inflated to: past it, the rest is not read.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;
/// A page count past this is not believed.
const MAX_PAGES: u32 = 100_000;

/// The pages of an attachment where they can be known: a PDF's, an image's
/// one; `None` for anything else.
pub fn pages_of(bytes: &[u8]) -> Option<u32> {
    if is_image(bytes) {
        Some(1)
    } else {
        pdf_pages(bytes)
    }
}

/// Whether `bytes` start as one of the usual image formats.
pub fn is_image(bytes: &[u8]) -> bool {
    const MAGIC: [&[u8]; 7] = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF87a",
        b"GIF89a",
        b"II*\0",
        b"MM\0*",
        b"BM",
    ];
    MAGIC.iter().any(|m| bytes.starts_with(m))
        || (bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP")
}

/// A PDF's page count: the `/Count` of the page tree its catalog names.
pub fn pdf_pages(bytes: &[u8]) -> Option<u32> {
    let head = &bytes[..bytes.len().min(1024)];
    find(head, b"%PDF-")?;
    let objects = Objects::read(bytes);
    let root = last_reference(bytes, b"/Root")?;
    let catalog = objects.get(root)?;
    let pages = reference_after(catalog, b"/Pages")?;
    let tree = objects.get(pages)?;
    let count = match reference_after(tree, b"/Count") {
        Some(r) => integer_at(objects.get(r)?)?,
        None => integer_at(value_after(tree, b"/Count")?)?,
    };
    (1..=MAX_PAGES).contains(&count).then_some(count)
}

/// A WAV recording's length in whole seconds (rounded), from its `fmt ` byte
/// rate and its `data` chunk's size.
pub fn wav_seconds(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 12 || !bytes.starts_with(b"RIFF") || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let mut byte_rate = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?);
        let body = at + 8;
        match id {
            b"fmt " if body + 12 <= bytes.len() => {
                byte_rate = Some(u32::from_le_bytes(
                    bytes[body + 8..body + 12].try_into().ok()?,
                ));
            }
            b"data" => {
                let rate = byte_rate.filter(|r| *r > 0)?;
                // A streamed WAV may say 0 or all ones: then the file's rest.
                let rest = (bytes.len() - body) as u64;
                let size = match u64::from(size) {
                    0 | 0xffff_ffff => rest,
                    s => s.min(rest),
                };
                let seconds = (size + u64::from(rate) / 2) / u64::from(rate);
                return u32::try_from(seconds).ok();
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        at = body.checked_add(usize::try_from(size).ok()?)?;
        at += at % 2;
    }
    None
}

/// Object number and generation.
type ObjRef = (u32, u16);

/// A PDF's objects, by reference: the text of each object's body, plain or
/// from an object stream. A later definition (an incremental update) wins.
struct Objects<'a> {
    plain: HashMap<ObjRef, &'a [u8]>,
    packed: HashMap<u32, Vec<u8>>,
}

impl<'a> Objects<'a> {
    fn read(bytes: &'a [u8]) -> Objects<'a> {
        let mut plain = HashMap::new();
        let mut at = 0;
        while let Some(found) = find(&bytes[at..], b" obj") {
            let end = at + found;
            if let Some((reference, _)) = reference_before(bytes, end) {
                let body = end + 4;
                let stop = find(&bytes[body..], b"endobj").map_or(bytes.len(), |e| body + e);
                plain.insert(reference, &bytes[body..stop]);
            }
            at = end + 4;
        }
        let mut packed = HashMap::new();
        for body in plain.values() {
            if find(body, b"/ObjStm").is_some() {
                unpack(body, &mut packed);
            }
        }
        Objects { plain, packed }
    }

    fn get(&self, reference: ObjRef) -> Option<&[u8]> {
        self.plain
            .get(&reference)
            .copied()
            .or_else(|| self.packed.get(&reference.0).map(Vec::as_slice))
    }
}

/// The objects of an object stream (deflated, `/N` objects, the first at
/// `/First`) into `out`, by number.
fn unpack(body: &[u8], out: &mut HashMap<u32, Vec<u8>>) {
    let Some(data) = stream_of(body) else { return };
    if find(body, b"/FlateDecode").is_none() || find(body, b"/DecodeParms").is_some() {
        return;
    }
    let mut inflated = Vec::new();
    let mut reader = flate2::read::ZlibDecoder::new(data).take(MAX_INFLATED);
    if reader.read_to_end(&mut inflated).is_err() {
        return;
    }
    let (Some(n), Some(first)) = (
        value_after(body, b"/N").and_then(integer_at),
        value_after(body, b"/First").and_then(integer_at),
    ) else {
        return;
    };
    let first = first as usize;
    let header = &inflated[..first.min(inflated.len())];
    let numbers: Vec<u32> = header
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .filter_map(|t| std::str::from_utf8(t).ok()?.parse().ok())
        .collect();
    let pairs: Vec<(u32, usize)> = numbers
        .chunks_exact(2)
        .take(n as usize)
        .map(|p| (p[0], first + p[1] as usize))
        .collect();
    for (i, (number, start)) in pairs.iter().enumerate() {
        let end = pairs.get(i + 1).map_or(inflated.len(), |(_, e)| *e);
        if *start <= end && end <= inflated.len() {
            out.insert(*number, inflated[*start..end].to_vec());
        }
    }
}

/// A stream's raw data: between `stream` and `endstream`, its `/Length` if
/// it is given directly.
fn stream_of(body: &[u8]) -> Option<&[u8]> {
    let start = find(body, b"stream")? + b"stream".len();
    let start = match body.get(start..start + 2) {
        Some(b"\r\n") => start + 2,
        _ if matches!(body.get(start), Some(b'\n' | b'\r')) => start + 1,
        _ => start,
    };
    let dict = &body[..start];
    let end = match value_after(dict, b"/Length").and_then(integer_at) {
        Some(len) if reference_after(dict, b"/Length").is_none() => {
            start.checked_add(len as usize)?
        }
        _ => start + find(&body[start..], b"endstream")?,
    };
    body.get(start..end)
}

/// The `N G R` that follows the last `key` in `bytes`.
fn last_reference(bytes: &[u8], key: &[u8]) -> Option<ObjRef> {
    let mut at = bytes.len();
    while let Some(found) = rfind(&bytes[..at], key) {
        if let Some(r) = reference_after(&bytes[found..], key) {
            return Some(r);
        }
        at = found;
    }
    None
}

/// The `N G R` right after `key` (the key's first occurrence as a whole name).
fn reference_after(dict: &[u8], key: &[u8]) -> Option<ObjRef> {
    let value = value_after(dict, key)?;
    let mut tokens = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    let number = std::str::from_utf8(tokens.next()?).ok()?.parse().ok()?;
    let generation = std::str::from_utf8(tokens.next()?).ok()?.parse().ok()?;
    let r = tokens.next()?;
    (r == b"R" || r.starts_with(b"R/") || r.starts_with(b"R>")).then_some((number, generation))
}

/// What follows `key` as a whole name (not `/Pages` for `/Page`).
fn value_after<'b>(dict: &'b [u8], key: &[u8]) -> Option<&'b [u8]> {
    let mut at = 0;
    while let Some(found) = find(&dict[at..], key) {
        let end = at + found + key.len();
        match dict.get(end) {
            Some(c) if c.is_ascii_alphanumeric() => at = end,
            _ => return Some(&dict[end..]),
        }
    }
    None
}

/// The unsigned integer at the start of `text` (white space skipped).
fn integer_at(text: &[u8]) -> Option<u32> {
    let text = &text[text.iter().position(|b| !b.is_ascii_whitespace())?..];
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&text[..digits]).ok()?.parse().ok()
}

/// The `N G` before `end` (where ` obj` starts), and where it starts.
fn reference_before(bytes: &[u8], end: usize) -> Option<(ObjRef, usize)> {
    let mut tokens = Vec::new();
    let mut at = end;
    for _ in 0..2 {
        while at > 0 && bytes[at - 1].is_ascii_whitespace() {
            at -= 1;
        }
        let stop = at;
        while at > 0 && bytes[at - 1].is_ascii_digit() {
            at -= 1;
        }
        if at == stop || stop - at > 10 {
            return None;
        }
        tokens.push(std::str::from_utf8(&bytes[at..stop]).ok()?);
    }
    let generation = tokens[0].parse().ok()?;
    let number = tokens[1].parse().ok()?;
    Some(((number, generation), at))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A PDF of `pages` pages, its objects plain.
    fn plain_pdf(pages: u32) -> Vec<u8> {
        let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 10 + i)).collect();
        let mut out = format!(
            "%PDF-1.4\n1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n\
             2 0 obj\n<</Type /Pages /Kids [{}] /Count {pages}>>\nendobj\n",
            kids.join(" ")
        );
        for i in 0..pages {
            out.push_str(&format!(
                "{} 0 obj\n<</Type /Page /Parent 2 0 R>>\nendobj\n",
                10 + i
            ));
        }
        out.push_str("trailer\n<</Size 20 /Root 1 0 R>>\n%%EOF\n");
        out.into_bytes()
    }

    #[test]
    fn a_plain_pdf_counts_its_page_tree() {
        assert_eq!(pdf_pages(&plain_pdf(3)), Some(3));
        assert_eq!(pages_of(&plain_pdf(1)), Some(1));
        // The catalog lost: not a guess, unknown.
        let broken = String::from_utf8(plain_pdf(2))
            .unwrap()
            .replace("/Root 1 0 R", "");
        assert_eq!(pdf_pages(broken.as_bytes()), None);
        assert_eq!(pdf_pages(b"not a pdf /Root 1 0 R"), None);
        assert_eq!(pdf_pages(b""), None);
    }

    #[test]
    fn an_incremental_update_is_read_as_its_last_trailer_says() {
        let mut pdf = plain_pdf(2);
        pdf.extend_from_slice(
            b"3 0 obj\n<</Type /Pages /Kids [10 0 R] /Count 1>>\nendobj\n\
              4 0 obj\n<</Type /Catalog /Pages 3 0 R>>\nendobj\n\
              trailer\n<</Size 20 /Root 4 0 R /Prev 9>>\n%%EOF\n",
        );
        assert_eq!(pdf_pages(&pdf), Some(1));
    }

    #[test]
    fn objects_packed_in_an_object_stream_are_read() {
        // The catalog and the page tree inside a deflated /ObjStm, the root
        // named by a cross-reference stream's dictionary (PDF 1.5).
        let objects = "<</Type /Catalog /Pages 2 0 R>> <</Type /Pages /Kids [] /Count 7>>";
        let header = "1 0 2 32 ";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(format!("{header}{objects}").as_bytes())
            .unwrap();
        let data = z.finish().unwrap();
        let mut pdf = b"%PDF-1.5\n5 0 obj\n<</Type /ObjStm /N 2 /First ".to_vec();
        pdf.extend_from_slice(
            format!(
                "{} /Filter /FlateDecode /Length {}>>\nstream\n",
                header.len(),
                data.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(
            b"\nendstream\nendobj\n6 0 obj\n<</Type /XRef /Root 1 0 R /Size 7>>\nstream\nendstream\nendobj\n",
        );
        assert_eq!(pdf_pages(&pdf), Some(7));
        // Its stream cut short: unknown, no panic.
        let cut = &pdf[..pdf.len() / 2];
        assert_eq!(pdf_pages(cut), None);
    }

    #[test]
    fn our_own_letters_are_counted() {
        use crate::documents::letter::{Block, Section};
        let section = |lang| Section {
            lang,
            blocks: vec![Block::Paragraph("Мәтін ".repeat(600))],
        };
        let meta = crate::documents::pdf::Meta {
            title: "t",
            number: "OUT-2026-0001",
            issued_at: chrono::DateTime::<chrono::Utc>::default(),
        };
        let (bytes, pages) =
            crate::documents::pdf::render_counted(&[section("kk"), section("ru")], &meta)
                .expect("rendered");
        assert!(pages >= 2, "{pages}");
        assert_eq!(pdf_pages(&bytes), u32::try_from(pages).ok());
    }

    #[test]
    fn images_are_one_page_and_other_files_unknown() {
        assert_eq!(pages_of(b"\x89PNG\r\n\x1a\n...."), Some(1));
        assert_eq!(pages_of(b"\xff\xd8\xff\xe0...."), Some(1));
        assert_eq!(pages_of(b"RIFF\0\0\0\0WEBPVP8 "), Some(1));
        assert_eq!(pages_of(b"PK\x03\x04 a docx"), None);
        assert_eq!(pages_of(b"plain text"), None);
    }

    #[test]
    fn a_wav_says_how_long_it_plays() {
        let wav = |seconds: u32, rate: u32| {
            let len = seconds * rate;
            let mut out = b"RIFF".to_vec();
            out.extend_from_slice(&(36 + len).to_le_bytes());
            out.extend_from_slice(b"WAVEfmt ");
            out.extend_from_slice(&16u32.to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&rate.to_le_bytes());
            out.extend_from_slice(&rate.to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&8u16.to_le_bytes());
            out.extend_from_slice(b"data");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend(std::iter::repeat_n(128u8, len as usize));
            out
        };
        assert_eq!(wav_seconds(&wav(750, 8)), Some(750));
        assert_eq!(wav_seconds(&wav(3, 8000)), Some(3));
        assert_eq!(wav_seconds(b"ID3\x04 an mp3"), None);
        assert_eq!(wav_seconds(&wav(3, 8000)[..30]), None);
    }
}
