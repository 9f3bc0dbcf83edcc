//! What a fetched message says: the sender, subject, text (HTML-only mail turned
//! into text), attachments, threading headers and whether a machine sent it.
//! mail-parser decodes the charsets (UTF-8, windows-1251, KOI8-R, ...),
//! quoted-printable and base64, and nested multiparts. A message too large or
//! without a readable header is not parsed; its raw bytes are kept all the same,
//! with the reason.

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::rules::{self, Automatic};
use crate::journal::RegistrationNumber;

/// Why a message was registered without being (fully) read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Larger than `mailbox.max_message_bytes`: only the header was read.
    Oversized { size: u64, limit: u64 },
    /// No RFC 5322 header could be read.
    Unparseable,
}

impl Problem {
    pub fn describe(&self) -> String {
        match self {
            Problem::Oversized { size, limit } => format!(
                "oversized: {size} bytes, over the limit of {limit} (mailbox.max_message_bytes); only the header was read"
            ),
            Problem::Unparseable => "unparseable: no RFC 5322 header could be read".into(),
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
    pub problem: Option<Problem>,
}

/// Reads a raw message. Never fails: what cannot be read is noted in `problem`.
pub fn read(raw: &[u8], max_bytes: u64) -> Reading {
    let size = raw.len() as u64;
    let sha256 = hex::encode(Sha256::digest(raw));
    let oversized = size > max_bytes;
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
            problem: Some(if oversized {
                Problem::Oversized {
                    size,
                    limit: max_bytes,
                }
            } else {
                Problem::Unparseable
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
        let text = message.body_text(0).map(|t| t.trim().to_owned());
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
        problem: oversized.then_some(Problem::Oversized {
            size,
            limit: max_bytes,
        }),
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
        assert_eq!(r.problem, Some(Problem::Unparseable));
        assert_eq!(r.sha256.len(), 64);

        let r = read(
            b"From: a@b.kz\r\nSubject: big\r\n\r\n0123456789012345678901234567890123456789",
            40,
        );
        assert!(matches!(r.problem, Some(Problem::Oversized { .. })));
        assert_eq!(r.subject.as_deref(), Some("big"));
        assert!(r.text.is_none());
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
