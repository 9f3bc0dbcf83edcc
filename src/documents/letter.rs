//! The cover letter's words (10.7), once, in Kazakh and then in Russian: the
//! blocks both renderers (`docx`, `pdf`) lay out. Pure: it reads nothing and
//! holds no identity of a reporter, only the numbers, the dates, the names the
//! configuration gives (the enterprise, the Director, the service) and what is
//! enclosed, by kind and count.

use chrono::{Datelike, NaiveDate};

use crate::config::documents::DocumentsConfig;
use crate::journal::Channel;

/// One block of a letter, as both renderers know them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// The enterprise's name at the top, centred, with a rule under it.
    Letterhead(String),
    /// Lines at the left under the letterhead: the outgoing number and date.
    Reference(Vec<String>),
    /// The addressee in the right half: its name (bold), then address lines.
    Addressee { name: String, lines: Vec<String> },
    /// What the letter is about, in bold, at the left.
    Heading(String),
    /// A paragraph of text, its first line indented.
    Paragraph(String),
    /// A label before a list ("Enclosed:").
    Label(String),
    /// An item of a list, numbered by the text itself.
    Item(String),
    /// The signatory: title at the left, name at the right, on one line.
    Signature { title: String, name: String },
}

/// One language's text of the letter: it starts on a page of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// `kk` or `ru`.
    pub lang: &'static str,
    pub blocks: Vec<Block>,
}

/// What travels with the letter, by kind and count: never a name or a text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Enclosures {
    /// The e-mails of the appeal (`.eml`).
    pub mails: usize,
    /// The files attached to them.
    pub attachments: usize,
    /// The calls' records (numbers, as JSON).
    pub calls: usize,
    /// The calls' recordings.
    pub recordings: usize,
}

impl Enclosures {
    /// The files in all: these, the appeal and the extract of its events.
    pub fn files(&self) -> usize {
        2 + self.mails + self.attachments + self.calls + self.recordings
    }
}

/// Everything the cover letter says.
#[derive(Clone, Debug)]
pub struct CoverLetter<'c> {
    /// The outgoing number (`OUT-2026-0001`) and its date (Astana).
    pub number: String,
    pub date: NaiveDate,
    /// The appeal's registration number and date in the Journal.
    pub registration_number: String,
    pub registered_on: NaiveDate,
    pub channel: Channel,
    pub enclosures: Enclosures,
    pub config: &'c DocumentsConfig,
}

const MONTHS_KK: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

/// `2026 жылғы 16 желтоқсан`, its parts kept on one line (no-break spaces).
pub fn date_kk(date: NaiveDate) -> String {
    let month = MONTHS_KK[date.month0() as usize];
    format!("{}\u{a0}жылғы {}\u{a0}{month}", date.year(), date.day())
}

/// `16 декабря 2026 г.`, its parts kept on one line (no-break spaces).
pub fn date_ru(date: NaiveDate) -> String {
    let month = MONTHS_RU[date.month0() as usize];
    format!("{}\u{a0}{month} {}\u{a0}г.", date.day(), date.year())
}

/// `1 файл`, `2 файла`, `5 файлов`.
fn files_ru(n: usize) -> String {
    let word = match (n % 10, n % 100) {
        (1, h) if h != 11 => "файл",
        (2..=4, h) if !(12..=14).contains(&h) => "файла",
        _ => "файлов",
    };
    format!("{n} {word}")
}

/// The configured address, one line per `;`.
pub(crate) fn address_lines(address: &str) -> Vec<String> {
    address
        .split(';')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl CoverLetter<'_> {
    /// The letter in Kazakh, then in Russian.
    pub fn sections(&self) -> Vec<Section> {
        vec![self.kazakh(), self.russian()]
    }

    /// The letter's title, for the files' metadata.
    pub fn title(&self) -> String {
        format!(
            "{} · Ілеспе хат / Сопроводительное письмо · {}",
            self.number, self.registration_number
        )
    }

    fn kazakh(&self) -> Section {
        let c = self.config;
        let e = &self.enclosures;
        let through = match self.channel {
            Channel::Phone => "сенім телефоны арқылы",
            Channel::Email => "арнайы электрондық пошта арқылы",
            Channel::Web | Channel::Other => "сенім арналары арқылы",
        };
        let mut blocks = vec![
            Block::Letterhead(c.enterprise_name.kk.clone()),
            Block::Reference(vec![format!("Шығ. № {}", self.number), date_kk(self.date)]),
            Block::Addressee {
                name: c.anti_corruption_addressee.kk.clone(),
                lines: address_lines(&c.anti_corruption_address),
            },
            Block::Heading("Сыбайлас жемқорлық туралы хабарламаны жолдау туралы".into()),
            Block::Paragraph(format!(
                "{through_cap} келіп түскен және азаматтардың \
                 өтініштерін тіркеу журналында {} №\u{a0}{} болып тіркелген сыбайлас жемқорлық \
                 фактілері туралы хабарламаны материалдарымен бірге құзыретіңізге сәйкес \
                 қарау үшін жолдаймыз.",
                date_kk(self.registered_on),
                self.registration_number,
                through_cap = capitalised(through),
            )),
            Block::Paragraph(
                "Сыбайлас жемқорлыққа қарсы іс-қимылға жәрдемдесетін адам туралы мәліметтер \
                 мемлекеттік құпия болып табылады және заңда көзделген тәртіппен ғана беріледі: \
                 олар осы хатқа енгізілмеген, материалдармен бірге бөлек жолданады."
                    .into(),
            ),
            Block::Label("Қосымша:".into()),
        ];
        let mut items = vec!["өтініш (тіркеу деректері мен мәтіні) — 1 файл".to_owned()];
        if e.mails > 0 {
            items.push(format!("электрондық хаттар — {} файл", e.mails));
        }
        if e.attachments > 0 {
            items.push(format!(
                "хаттарға тіркелген құжаттар — {} файл",
                e.attachments
            ));
        }
        if e.calls > 0 {
            items.push(format!("қоңыраулар туралы мәліметтер — {} файл", e.calls));
        }
        if e.recordings > 0 {
            items.push(format!(
                "қоңыраулардың аудиожазбалары — {} файл",
                e.recordings
            ));
        }
        items.push("оқиғалар журналынан үзінді — 1 файл".into());
        blocks.extend(numbered(items));
        blocks.push(Block::Paragraph(format!(
            "Барлығы {} файл бір ZIP-пакетте; әр файлдың SHA-256 хэші MANIFEST.sha256 тізімінде көрсетілген.",
            e.files()
        )));
        blocks.push(Block::Signature {
            title: c.director_title.kk.clone(),
            name: c.director_name.clone(),
        });
        Section { lang: "kk", blocks }
    }

    fn russian(&self) -> Section {
        let c = self.config;
        let e = &self.enclosures;
        let through = match self.channel {
            Channel::Phone => "по телефону доверия",
            Channel::Email => "на специальный адрес электронной почты",
            Channel::Web | Channel::Other => "по каналам доверия",
        };
        let mut blocks = vec![
            Block::Letterhead(c.enterprise_name.ru.clone()),
            Block::Reference(vec![
                format!("Исх. № {}", self.number),
                format!("от {}", date_ru(self.date)),
            ]),
            Block::Addressee {
                name: c.anti_corruption_addressee.ru.clone(),
                lines: address_lines(&c.anti_corruption_address),
            },
            Block::Heading("О направлении сообщения о коррупционном правонарушении".into()),
            Block::Paragraph(format!(
                "Направляем для рассмотрения по компетенции сообщение о фактах коррупции, поступившее {through} и \
                 зарегистрированное в журнале регистрации обращений граждан {} за №\u{a0}{}, \
                 с материалами.",
                date_ru(self.registered_on),
                self.registration_number
            )),
            Block::Paragraph(
                "Сведения о лице, оказывающем содействие в противодействии коррупции, \
                 являются государственной тайной и предоставляются только в порядке, \
                 установленном законом: в настоящее письмо они не включены и направляются \
                 отдельно вместе с материалами."
                    .into(),
            ),
            Block::Label("Приложение:".into()),
        ];
        let mut items = vec!["обращение (регистрационные данные и текст) — 1 файл".to_owned()];
        if e.mails > 0 {
            items.push(format!("электронные письма — {}", files_ru(e.mails)));
        }
        if e.attachments > 0 {
            items.push(format!("вложения к письмам — {}", files_ru(e.attachments)));
        }
        if e.calls > 0 {
            items.push(format!("сведения о звонках — {}", files_ru(e.calls)));
        }
        if e.recordings > 0 {
            items.push(format!("аудиозаписи звонков — {}", files_ru(e.recordings)));
        }
        items.push("выписка из журнала событий — 1 файл".into());
        blocks.extend(numbered(items));
        blocks.push(Block::Paragraph(format!(
            "Всего {} в одном ZIP-пакете; SHA-256 каждого файла указан в перечне MANIFEST.sha256.",
            files_ru(e.files())
        )));
        blocks.push(Block::Signature {
            title: c.director_title.ru.clone(),
            name: c.director_name.clone(),
        });
        Section { lang: "ru", blocks }
    }
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `1. …;` `2. …;` … `n. ….`
fn numbered(items: Vec<String>) -> impl Iterator<Item = Block> {
    let last = items.len();
    items.into_iter().enumerate().map(move |(i, item)| {
        let end = if i + 1 == last { '.' } else { ';' };
        Block::Item(format!("{}. {item}{end}", i + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_counts_read_as_people_write_them() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        assert_eq!(date_kk(d), "2026\u{a0}жылғы 16\u{a0}желтоқсан");
        assert_eq!(date_ru(d), "16\u{a0}декабря 2026\u{a0}г.");
        assert_eq!(files_ru(1), "1 файл");
        assert_eq!(files_ru(3), "3 файла");
        assert_eq!(files_ru(11), "11 файлов");
        assert_eq!(files_ru(22), "22 файла");
        assert_eq!(files_ru(25), "25 файлов");
    }

    #[test]
    fn the_letter_lists_what_is_enclosed_and_names_no_one() {
        let config = DocumentsConfig {
            director_name: "А. Директорова".into(),
            ..DocumentsConfig::default()
        };
        let d = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        let letter = CoverLetter {
            number: "OUT-2026-0001".into(),
            date: d,
            registration_number: "TL-2026-000001".into(),
            registered_on: d,
            channel: Channel::Phone,
            enclosures: Enclosures {
                calls: 1,
                recordings: 1,
                ..Enclosures::default()
            },
            config: &config,
        };
        let sections = letter.sections();
        assert_eq!(sections.len(), 2);
        let text = format!("{sections:?}");
        assert!(text.contains("OUT-2026-0001") && text.contains("TL-2026-000001"));
        assert!(text.contains("аудиожазбалары — 1 файл"), "{text}");
        assert!(text.contains("Всего 4 файла"), "{text}");
        assert!(!text.contains("хаттар —"), "no mail, no line: {text}");
    }
}
