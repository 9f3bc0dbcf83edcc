//! What a fetched message says: the sender, subject, text (HTML-only mail turned
//! into text), attachments, threading headers and whether a machine sent it.
//! mail-parser decodes the charsets (UTF-8, windows-1251, KOI8-R, ...),
//! quoted-printable and base64, and nested multiparts. A message too large or
//! without a readable header is not parsed; its raw bytes are kept all the same,
//! with the reason.
//!
//! Two repairs before parsing, each noted in `Reading::notes`: an mbox `From `
//! separator line at the top is skipped, and a header with raw 8-bit bytes that
//! are not UTF-8 (old Russian mail clients) is decoded with the charset the
//! message declares, else windows-1251 or KOI8-R, whichever fits the letters.
//! And one after: a text body that declares no charset and is not UTF-8 (a
//! cp1251 letter from an old client, which the parser would turn into U+FFFD)
//! is decoded with the same guess, and noted the same way.

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::rules::{self, Automatic};
use crate::journal::RegistrationNumber;

/// Why a message was registered without being (fully) read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailDefect {
    /// Larger than `mailbox.max_message_bytes`: only the header was read.
    Oversized { size: u64, limit: u64 },
    /// No RFC 5322 header could be read.
    Unparseable,
}

impl MailDefect {
    pub fn describe(&self) -> String {
        match self {
            MailDefect::Oversized { size, limit } => format!(
                "oversized: {size} bytes, over the limit of {limit} (mailbox.max_message_bytes); only the header was read"
            ),
            MailDefect::Unparseable => "unparseable: no RFC 5322 header could be read".into(),
        }
    }
}

/// An attachment as received, decoded from its transfer encoding.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Everything Senim reads from one raw message.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    /// Without the angle brackets.
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes, hex.
    pub sha256: String,
    pub size: u64,
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// Message-IDs from In-Reply-To and References, without angle brackets.
    pub references: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub automatic: Option<Automatic>,
    pub problem: Option<MailDefect>,
    /// What was repaired to read it (an mbox separator skipped, a header charset
    /// guessed); kept with the message.
    pub notes: Vec<String>,
}

/// Reads a raw message. Never fails: what cannot be read is noted in `problem`.
pub fn read(raw: &[u8], max_bytes: u64) -> Reading {
    read_part(raw, raw.len() as u64, max_bytes)
}

/// Reads what was fetched of a message of `size` bytes: all of it, or (over
/// `max_bytes`) only its header, which is then all that is kept.
pub fn read_part(raw: &[u8], size: u64, max_bytes: u64) -> Reading {
    let sha256 = hex::encode(Sha256::digest(raw));
    let oversized = size > max_bytes;
    let mut notes = Vec::new();
    if (raw.len() as u64) < size {
        notes.push(format!(
            "only the header was fetched ({} of {size} bytes); the whole message stays on the mail server",
            raw.len()
        ));
    }
    let raw = match skip_mbox_separator(raw) {
        Some(rest) => {
            notes.push("an mbox `From ` separator line before the header was skipped".to_owned());
            rest
        }
        None => raw,
    };
    let repaired = header_in_utf8(raw);
    let raw: &[u8] = match &repaired {
        Some((bytes, note)) => {
            notes.push(note.clone());
            bytes
        }
        None => raw,
    };
    let parser = MessageParser::default();
    let parsed = if oversized {
        parser.parse_headers(raw)
    } else {
        parser.parse(raw)
    };
    let readable = starts_with_header_field(raw);
    let Some(message) = parsed.filter(|m| readable && !m.headers().is_empty()) else {
        return Reading {
            sha256,
            size,
            notes,
            problem: Some(if oversized {
                MailDefect::Oversized {
                    size,
                    limit: max_bytes,
                }
            } else {
                MailDefect::Unparseable
            }),
            ..Reading::default()
        };
    };

    let from = message.from().and_then(|a| a.first());
    let from_name = from.and_then(|a| a.name()).map(str::to_owned);
    let from_address = from
        .and_then(|a| a.address())
        .map(|a| a.trim().to_owned())
        .filter(|a| a.contains('@'));
    let mut references = Vec::new();
    for header in [message.in_reply_to(), message.references()] {
        for id in header.as_text_list().unwrap_or_default() {
            let id = id.trim_matches(|c| c == '<' || c == '>').to_owned();
            if !id.is_empty() && !references.contains(&id) {
                references.push(id);
            }
        }
    }
    let automatic = rules::classify(message.headers_raw(), from_address.as_deref());
    let (text, attachments) = if oversized {
        (None, Vec::new())
    } else {
        let text = match body_without_charset(&message, raw) {
            Some((text, note)) => {
                notes.push(note);
                Some(text.trim().to_owned())
            }
            None => message.body_text(0).map(|t| t.trim().to_owned()),
        };
        let attachments = message
            .attachments()
            .map(|part| Attachment {
                filename: part.attachment_name().map(str::to_owned),
                content_type: part
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into())
                    .to_ascii_lowercase(),
                content: part.contents().to_vec(),
            })
            .collect();
        (text, attachments)
    };
    Reading {
        message_id: message
            .message_id()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty()),
        sha256,
        size,
        from_name: from_name.filter(|n| !n.trim().is_empty()),
        from_address,
        subject: message.subject().map(str::to_owned),
        text: text.filter(|t| !t.is_empty()),
        date: message
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        references,
        attachments,
        automatic,
        problem: oversized.then_some(MailDefect::Oversized {
            size,
            limit: max_bytes,
        }),
        notes,
    }
}

/// The message after an mbox `From ` separator line (`From MAILER-DAEMON Fri Apr
/// 06 16:46:09 2001`), if it starts with one. A header field is `Name:`, so a
/// first line `From ` followed by no colon before the space is the separator.
fn skip_mbox_separator(raw: &[u8]) -> Option<&[u8]> {
    if !raw.starts_with(b"From ") {
        return None;
    }
    let end = raw.iter().position(|b| *b == b'\n')?;
    Some(&raw[end + 1..])
}

/// The header's end: the offset of the blank line that ends it (or the end).
fn header_end(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => raw.len(),
    }
}

/// If the header holds raw 8-bit bytes that are not UTF-8, the message with its
/// header decoded to UTF-8 (which the parser reads as RFC 6532 allows), and a note
/// of the charset used: the one the message declares (`charset=`), else
/// windows-1251 or KOI8-R, whichever puts more of the letters in lower case.
fn header_in_utf8(raw: &[u8]) -> Option<(Vec<u8>, String)> {
    let end = header_end(raw);
    let header = &raw[..end];
    if header.is_ascii() || std::str::from_utf8(header).is_ok() {
        return None;
    }
    let declared = declared_charset(raw)
        .and_then(|name| {
            Some((
                mail_parser::decoders::charsets::map::charset_decoder(name.as_bytes())?,
                name,
            ))
        })
        .filter(|(_, name)| !is_unicode(name));
    let (decode, note) = match declared {
        Some((decode, name)) => (
            decode,
            format!(
                "raw 8-bit bytes in the header decoded as {name}, the charset the message declares"
            ),
        ),
        None => {
            let (decode, name) = guess_cyrillic(header);
            (
                decode,
                format!(
                    "raw 8-bit bytes in the header decoded as {name} (guessed; the message declares no usable charset)"
                ),
            )
        }
    };
    let mut repaired = decode(header).into_bytes();
    repaired.extend_from_slice(&raw[end..]);
    Some((repaired, note))
}

/// The message's text when its text part declares no charset and its bytes
/// (after the transfer encoding) are not UTF-8, decoded as windows-1251 or
/// KOI8-R, whichever fits the letters (HTML turned into text), with a note
/// like the header repair's. `None` when the parser's own reading stands.
fn body_without_charset(
    message: &mail_parser::Message<'_>,
    raw: &[u8],
) -> Option<(String, String)> {
    let part = message.text_part(0)?;
    let html = match &part.body {
        mail_parser::PartType::Text(_) => false,
        mail_parser::PartType::Html(_) => true,
        _ => return None,
    };
    if part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some()
    {
        return None;
    }
    let start = usize::try_from(part.raw_body_offset()).ok()?;
    let end = usize::try_from(part.raw_end_offset()).ok()?;
    let encoded = raw.get(start..end.min(raw.len()))?;
    let encoding = part
        .content_transfer_encoding()
        .map(|e| e.trim().to_ascii_lowercase());
    let bytes = match encoding.as_deref() {
        Some("base64") => mail_parser::decoders::base64::base64_decode(encoded)?,
        Some("quoted-printable") => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(encoded)?
        }
        _ => encoded.to_vec(),
    };
    if std::str::from_utf8(&bytes).is_ok() {
        return None;
    }
    let (decode, name) = guess_cyrillic(&bytes);
    let text = decode(&bytes);
    let text = if html {
        mail_parser::decoders::html::html_to_text(&text)
    } else {
        text
    };
    Some((
        text,
        format!(
            "raw 8-bit bytes in the body decoded as {name} (guessed; the body declares no charset)"
        ),
    ))
}

fn is_unicode(charset: &str) -> bool {
    let c = charset.to_ascii_lowercase();
    c.starts_with("utf") || c == "us-ascii" || c == "ascii"
}

/// The first `charset=` parameter in the message (the top part's, or the first
/// body part's), as written.
fn declared_charset(raw: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"charset=";
    let at = raw
        .windows(KEY.len())
        .position(|w| w.eq_ignore_ascii_case(KEY))?;
    let value = &raw[at + KEY.len()..];
    let value = value.strip_prefix(b"\"").unwrap_or(value);
    let len = value
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')))
        .unwrap_or(value.len());
    let name = std::str::from_utf8(&value[..len]).ok()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// windows-1251 or KOI8-R for Cyrillic bytes: in windows-1251 the lower-case
/// letters are 0xE0..=0xFF, in KOI8-R they are 0xC0..=0xDF, and running text is
/// mostly lower case.
fn guess_cyrillic(bytes: &[u8]) -> (mail_parser::decoders::charsets::DecoderFnc, &'static str) {
    let high = bytes.iter().filter(|b| **b >= 0xE0).count();
    let middle = bytes.iter().filter(|b| (0xC0..0xE0).contains(*b)).count();
    let decoder =
        |name: &str| mail_parser::decoders::charsets::map::charset_decoder(name.as_bytes());
    match (high >= middle, decoder("windows-1251"), decoder("koi8-r")) {
        (true, Some(cp1251), _) => (cp1251, "windows-1251"),
        (false, _, Some(koi8)) => (koi8, "KOI8-R"),
        (_, Some(cp1251), _) => (cp1251, "windows-1251"),
        _ => (
            |b: &[u8]| String::from_utf8_lossy(b).into_owned(),
            "UTF-8 with replacement characters",
        ),
    }
}

/// Whether the first line is an RFC 5322 header field (`Name: value`).
fn starts_with_header_field(raw: &[u8]) -> bool {
    let line = raw.split(|b| *b == b'\n').next().unwrap_or_default();
    match line.iter().position(|b| *b == b':') {
        Some(colon) if colon > 0 => line[..colon].iter().all(|b| b.is_ascii_graphic()),
        _ => false,
    }
}

/// The Message-ID prefix of Senim's acknowledgements; the registration number
/// follows it, so a reply to a receipt names its appeal.
pub const ACK_ID_PREFIX: &str = "senim-ack.";

/// Registration numbers with `prefix` that a message points at: from the
/// Message-IDs of Senim's receipts in its references, then from its subject.
pub fn numbers_referred_to(reading: &Reading, prefix: &str) -> Vec<RegistrationNumber> {
    let mut numbers = Vec::new();
    for id in &reading.references {
        if let Some(rest) = id.strip_prefix(ACK_ID_PREFIX)
            && let Some(number) = rest.split('.').next()
            && let Ok(number) = number.parse::<RegistrationNumber>()
            && number.prefix == prefix
        {
            numbers.push(number);
        }
    }
    if let Some(subject) = &reading.subject {
        for token in subject.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if let Ok(number) = token.parse::<RegistrationNumber>()
                && number.prefix == prefix
                && token.rsplit('-').next().is_some_and(|seq| seq.len() == 6)
            {
                numbers.push(number);
            }
        }
    }
    numbers.dedup();
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_windows_1251_and_koi8_r() {
        let mut raw = b"From: =?windows-1251?B?yOLg7e7i?= <ivanov@example.kz>\r\nSubject: test\r\nMessage-ID: <a@b>\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0]); // "Взятка"
        let r = read(&raw, 1 << 20);
        assert_eq!(r.text.as_deref(), Some("Взятка"));
        assert_eq!(r.from_name.as_deref(), Some("Иванов"));
        assert_eq!(r.message_id.as_deref(), Some("a@b"));

        let mut raw = b"From: a@b.kz\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0xf7, 0xda, 0xd1, 0xd4, 0xcb, 0xc1]); // "Взятка"
        assert_eq!(read(&raw, 1 << 20).text.as_deref(), Some("Взятка"));
    }

    #[test]
    fn html_only_becomes_text_and_garbage_is_noted() {
        let raw = b"From: a@b.kz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\xd2\x9a\xd0\xb0\xd0\xbb\xd0\xb0 <b>bribe</b></p>";
        let r = read(raw, 1 << 20);
        let text = r.text.unwrap_or_default();
        assert!(
            text.contains("Қала") && text.contains("bribe") && !text.contains('<'),
            "{text}"
        );

        let r = read(b"\x00\x01\x02 not a message", 1 << 20);
        assert_eq!(r.problem, Some(MailDefect::Unparseable));
        assert_eq!(r.sha256.len(), 64);

        let r = read(
            b"From: a@b.kz\r\nSubject: big\r\n\r\n0123456789012345678901234567890123456789",
            40,
        );
        assert!(matches!(r.problem, Some(MailDefect::Oversized { .. })));
        assert_eq!(r.subject.as_deref(), Some("big"));
        assert!(r.text.is_none());
    }

    #[test]
    fn raw_8_bit_headers_are_decoded_with_the_declared_or_a_guessed_charset() {
        // "Иванов" / "Взятка" in windows-1251, no RFC 2047 encoding.
        let mut raw = b"From: ".to_vec();
        raw.extend_from_slice(&[0xc8, 0xe2, 0xe0, 0xed, 0xee, 0xe2]);
        raw.extend_from_slice(b" <ivanov@example.kz>\r\nSubject: ");
        raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0]);
        raw.extend_from_slice(b"\r\nContent-Type: text/plain; charset=\"windows-1251\"\r\n\r\n");
        raw.extend_from_slice(&[0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0]);
        let r = read(&raw, 1 << 20);
        assert_eq!(r.from_name.as_deref(), Some("Иванов"));
        assert_eq!(r.subject.as_deref(), Some("Взятка"));
        assert_eq!(r.text.as_deref(), Some("Взятка"));
        assert!(r.notes[0].contains("windows-1251"), "{:?}", r.notes);

        // No charset anywhere: KOI8-R "взятка" is told from windows-1251.
        let mut raw = b"From: a@b.kz\r\nSubject: ".to_vec();
        raw.extend_from_slice(&[0xd7, 0xda, 0xd1, 0xd4, 0xcb, 0xc1]);
        raw.extend_from_slice(b"\r\n\r\ntext");
        let r = read(&raw, 1 << 20);
        assert_eq!(r.subject.as_deref(), Some("взятка"));
        assert!(r.notes[0].contains("KOI8-R (guessed"), "{:?}", r.notes);
    }

    #[test]
    fn a_body_without_a_charset_is_decoded_with_a_guessed_charset() {
        // "Взятка в отделе" in windows-1251, 8-bit, no charset anywhere.
        let cp1251: &[u8] = &[
            0xc2, 0xe7, 0xff, 0xf2, 0xea, 0xe0, 0x20, 0xe2, 0x20, 0xee, 0xf2, 0xe4, 0xe5, 0xeb,
            0xe5,
        ];
        let mut raw = b"From: a@b.kz\r\nSubject: old client\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
        raw.extend_from_slice(cp1251);
        raw.extend_from_slice(b"\r\n");
        let r = read(&raw, 1 << 20);
        assert_eq!(r.text.as_deref(), Some("Взятка в отделе"));
        assert_eq!(
            r.notes,
            vec![
                "raw 8-bit bytes in the body decoded as windows-1251 (guessed; the body declares no charset)"
                    .to_owned()
            ]
        );

        // No Content-Type at all; and quoted-printable in a multipart.
        let mut raw = b"From: a@b.kz\r\n\r\n".to_vec();
        raw.extend_from_slice(cp1251);
        assert_eq!(read(&raw, 1 << 20).text.as_deref(), Some("Взятка в отделе"));
        let raw = b"From: a@b.kz\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C2=E7=FF=F2=EA=E0\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n";
        let r = read(raw, 1 << 20);
        assert_eq!(r.text.as_deref(), Some("Взятка"));
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(r.attachments[0].content, vec![0, 1, 2]);

        // Only then: UTF-8 without a charset, and a declared charset, stand.
        let r = read("From: a@b.kz\r\n\r\nВзятка".as_bytes(), 1 << 20);
        assert_eq!(r.text.as_deref(), Some("Взятка"));
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        let mut raw = b"From: a@b.kz\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0xf7, 0xda, 0xd1, 0xd4, 0xcb, 0xc1]);
        let r = read(&raw, 1 << 20);
        assert_eq!(r.text.as_deref(), Some("Взятка"));
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn an_mbox_separator_line_is_skipped() {
        let raw = b"From MAILER-DAEMON Fri Apr 06 16:46:09 2001\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@example.com>\nSubject: Returned mail\n\nThe message could not be delivered.\n";
        let r = read(raw, 1 << 20);
        assert_eq!(r.problem, None);
        assert_eq!(r.subject.as_deref(), Some("Returned mail"));
        assert!(r.automatic.is_some());
        assert_eq!(
            r.sha256,
            hex::encode(Sha256::digest(raw)),
            "of the bytes as received"
        );
        assert!(r.notes[0].contains("mbox"), "{:?}", r.notes);
    }

    #[test]
    fn finds_the_appeal_a_reply_refers_to() {
        let r = Reading {
            references: vec!["senim-ack.TL-2026-000042.ab12@senim.invalid".into()],
            subject: Some("Re: обращение № TL-2026-000007 и XX-2026-000001".into()),
            ..Reading::default()
        };
        let numbers: Vec<String> = numbers_referred_to(&r, "TL")
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(numbers, vec!["TL-2026-000042", "TL-2026-000007"]);
    }
}
