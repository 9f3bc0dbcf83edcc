//! The package's printable copies and its count of pages (10.7: the cover
//! letter lists the enclosures with their pages). A `materials::Printer`: as
//! the materials are written, the appeal, each mail, each call's record and the
//! extract of the audit events are laid out as PDF by the letters' own writer
//! (`pdf`), headings in Kazakh and Russian, so that the package holds them as
//! they are printed and the count of their pages is the real one; an
//! attachment's pages are counted where they can be (`pages`), a recording's
//! length read. What it keeps of each (`Enclosure`) is a kind and a number,
//! never a name or a text: that list goes into the chain, outside the seal.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::letter::{Block, Section};
use super::package::{Enclosure, EnclosureKind};
use super::{pages, pdf};
use crate::journal::{Appeal, Channel};
use crate::materials::{Part, Printer};

/// Prints and counts an appeal's materials as the package is written.
pub struct Copies {
    /// The appeal's registration number: each copy's footer.
    pub registration_number: String,
    /// The appeal's last cover letter's outgoing number, named in the manifest.
    pub cover_letter: Option<String>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    /// What the package holds, in its order.
    pub enclosures: Vec<Enclosure>,
}

impl Copies {
    pub fn new(
        registration_number: String,
        cover_letter: Option<String>,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Copies {
        Copies {
            registration_number,
            cover_letter,
            tz,
            now,
            enclosures: Vec::new(),
        }
    }

    /// `blocks` as a PDF of their own, counted as one enclosure of `kind`.
    fn print(&mut self, kind: EnclosureKind, blocks: Vec<Block>) -> anyhow::Result<Vec<u8>> {
        let title = format!("{} · {kind}", self.registration_number);
        let (bytes, count) = pdf::render_counted(
            &[Section { lang: "ru", blocks }],
            &pdf::Meta {
                title: &title,
                number: &self.registration_number,
                issued_at: self.now,
            },
        )
        .map_err(anyhow::Error::msg)?;
        self.enclosures.push(Enclosure {
            kind,
            pages: u32::try_from(count).ok(),
            seconds: None,
        });
        Ok(bytes)
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%d.%m.%Y %H:%M:%S")
            .to_string()
    }

    fn appeal(&self, a: &Appeal) -> Vec<Block> {
        let channel = match a.channel {
            Channel::Phone => "сенім телефоны / телефон доверия",
            Channel::Email => "электрондық пошта / электронная почта",
            Channel::Web => "веб-сайт",
            Channel::Other => "басқа / иной",
        };
        let mut blocks = vec![
            Block::Heading(format!(
                "Өтініш / Обращение №\u{a0}{}",
                a.registration_number
            )),
            field(
                "Тіркелген күні / Дата регистрации",
                &a.registration_date.format("%d.%m.%Y").to_string(),
            ),
            field("Келіп түсті / Поступило", &self.local(a.received_at)),
            field("Арна / Канал", channel),
            field("Санаты / Категория", a.category.as_str()),
        ];
        let r = &a.reporter;
        for (label, value) in [
            ("Аты-жөні / Ф. И. О.", &r.name),
            ("Ұйым / Организация", &r.organisation),
            ("Пошталық мекенжай / Почтовый адрес", &r.postal_address),
            ("Телефон", &r.phone),
            ("E-mail", &r.email),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                blocks.push(field(label, value));
            }
        }
        if a.anonymous {
            blocks.push(Block::Plain("Анонимді / Анонимное".into()));
        }
        if let Some(subject) = &a.subject {
            blocks.push(Block::Plain(String::new()));
            blocks.push(field("Тақырыбы / Тема", subject));
        }
        blocks.push(Block::Plain(String::new()));
        blocks.extend(lines(a.substance.as_deref().unwrap_or("—")));
        blocks
    }

    fn mail(&self, raw: &[u8]) -> Vec<Block> {
        let m = crate::mailbox::message::read(raw, u64::MAX);
        let from = match (&m.from_name, &m.from_address) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => "—".into(),
        };
        let mut blocks = vec![
            Block::Heading("Электрондық хат / Электронное письмо".into()),
            field("Кімнен / От", &from),
        ];
        if let Some(date) = m.date {
            blocks.push(field("Күні / Дата", &self.local(date)));
        }
        if let Some(subject) = &m.subject {
            blocks.push(field("Тақырыбы / Тема", subject));
        }
        if !m.attachments.is_empty() {
            blocks.push(field(
                "Тіркемелер / Вложения",
                &m.attachments.len().to_string(),
            ));
        }
        blocks.push(Block::Plain(String::new()));
        blocks.extend(lines(m.text.as_deref().unwrap_or("—")));
        blocks
    }

    fn call(&self, numbers: &Value) -> Vec<Block> {
        let mut blocks = vec![Block::Heading(
            "Қоңырау туралы мәліметтер / Сведения о звонке".into(),
        )];
        for (label, key) in [
            ("Дереккөз / Источник", "source"),
            ("Қоңырау ID / ID звонка", "call_id"),
            ("Қоңырау шалушы / Звонивший", "caller"),
            ("АТС жіберген түрі / Как передала АТС", "caller_as_sent"),
            ("Шалынған нөмір / Набранный номер", "called"),
            ("Ішкі нөмір / Добавочный", "extension"),
        ] {
            if let Some(value) = numbers[key].as_str() {
                blocks.push(field(label, value));
            }
        }
        blocks
    }

    fn events(&self, extract: &Value) -> Vec<Block> {
        let mut blocks = vec![
            Block::Heading("Оқиғалар журналынан үзінді / Выписка из журнала событий".into()),
            field("Өтініш / Обращение", &self.registration_number),
        ];
        for e in extract["events"].as_array().into_iter().flatten() {
            let at = e["at"]
                .as_str()
                .and_then(|at| at.parse::<DateTime<Utc>>().ok())
                .map_or_else(String::new, |at| self.local(at));
            blocks.push(Block::Plain(String::new()));
            blocks.push(Block::Plain(format!(
                "№\u{a0}{} · {at} · {} · {}",
                e["seq"],
                e["actor"].as_str().unwrap_or_default(),
                e["kind"].as_str().unwrap_or_default(),
            )));
            let detail = flat(&e["detail"]);
            if !detail.is_empty() {
                blocks.push(Block::Plain(detail));
            }
            blocks.push(Block::Plain(format!(
                "hash {}",
                e["hash"].as_str().unwrap_or_default()
            )));
        }
        blocks
    }
}

impl Printer for Copies {
    fn copy(&mut self, part: Part<'_>) -> anyhow::Result<Option<Vec<u8>>> {
        let counted = |kind, pages| Enclosure {
            kind,
            pages,
            seconds: None,
        };
        Ok(match part {
            Part::Appeal(a) => Some(self.print(EnclosureKind::Appeal, self.appeal(a))?),
            Part::Destroyed => None,
            Part::Mail(raw) => Some(self.print(EnclosureKind::Mail, self.mail(raw))?),
            Part::Attachment(bytes) => {
                let found = counted(EnclosureKind::Attachment, pages::pages_of(bytes));
                self.enclosures.push(found);
                None
            }
            Part::Call(numbers) => Some(self.print(EnclosureKind::Call, self.call(numbers))?),
            Part::Recording(bytes) => {
                self.enclosures.push(Enclosure {
                    seconds: pages::wav_seconds(bytes),
                    ..counted(EnclosureKind::Recording, None)
                });
                None
            }
            Part::Events(extract) => Some(self.print(EnclosureKind::Events, self.events(extract))?),
        })
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "Senim: materials package of appeal {}",
            self.registration_number
        )];
        if let Some(number) = &self.cover_letter {
            notes.push(format!("cover letter: {number}"));
        }
        notes
    }
}

/// `label: value` on a line of its own.
fn field(label: &str, value: &str) -> Block {
    Block::Plain(format!(
        "{label}: {}",
        value.split_whitespace().collect::<Vec<_>>().join(" ")
    ))
}

/// A text as it was written, line by line (tabs as spaces, no control
/// characters).
fn lines(text: &str) -> impl Iterator<Item = Block> + '_ {
    text.lines().map(|l| {
        Block::Plain(
            l.chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .filter(|c| !c.is_control())
                .collect(),
        )
    })
}

/// A detail of the chain as words: `key: value, key: (…)`.
fn flat(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) | Value::Array(_) => format!("{k}: ({})", flat(v)),
                _ => format!("{k}: {}", flat(v)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(flat).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_is_counted_by_kind_and_nothing_else() {
        let mut copies = Copies::new(
            "TL-2026-000001".into(),
            Some("OUT-2026-0001".into()),
            chrono_tz::Asia::Almaty,
            DateTime::<Utc>::default(),
        );
        let raw = b"From: A <a@example.kz>\r\nSubject: s\r\n\r\nline one\r\nline two\r\n";
        assert!(copies.copy(Part::Mail(raw)).unwrap().is_some());
        assert!(copies.copy(Part::Destroyed).unwrap().is_none());
        assert!(
            copies
                .copy(Part::Attachment(b"GIF89a.."))
                .unwrap()
                .is_none()
        );
        assert!(copies.copy(Part::Attachment(b"a docx")).unwrap().is_none());
        assert!(copies.copy(Part::Recording(b"ID3 mp3")).unwrap().is_none());
        let extract = serde_json::json!({"events": [{"seq": 1, "at": "2026-12-16T06:00:00Z",
            "actor": "pbx:office", "kind": "registered", "detail": {"a": {"b": "c"}}, "hash": "ab"}]});
        assert!(copies.copy(Part::Events(&extract)).unwrap().is_some());
        let kinds: Vec<(EnclosureKind, Option<u32>)> = copies
            .enclosures
            .iter()
            .map(|e| (e.kind, e.pages))
            .collect();
        assert_eq!(
            kinds,
            [
                (EnclosureKind::Mail, Some(1)),
                (EnclosureKind::Attachment, Some(1)),
                (EnclosureKind::Attachment, None),
                (EnclosureKind::Recording, None),
                (EnclosureKind::Events, Some(1)),
            ]
        );
        assert_eq!(
            copies.notes(),
            [
                "Senim: materials package of appeal TL-2026-000001",
                "cover letter: OUT-2026-0001"
            ]
        );
        assert_eq!(flat(&extract["events"][0]["detail"]), "a: (b: c)");
    }
}
