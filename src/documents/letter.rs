//! The cover letter's words (10.7), once, in Kazakh and then in Russian: the
//! blocks both renderers (`docx`, `pdf`) lay out. Pure: it reads nothing and
//! holds no identity of a reporter, only the numbers, the dates, the names the
//! configuration gives (the enterprise, the Director, the service) and what is
//! enclosed, by kind and count.

use chrono::{Datelike, NaiveDate};

use super::package::{Enclosure, EnclosureKind};
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
    /// A line of text as it was written (a mail's, say): at the left, wrapped
    /// at the margin, neither indented nor justified; empty, a blank line.
    Plain(String),
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

/// What travels with the letter: the materials package it lists, by kind
/// with the pages on paper (`package::Enclosure`); never a name or a text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enclosures {
    /// The package's enclosures, in its order.
    pub items: Vec<Enclosure>,
    /// The package's files in all (the printable copies too, the manifest aside).
    pub files: usize,
    /// The day the package was made (Astana).
    pub made_on: NaiveDate,
}

/// What the enclosures of one kind come to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    files: usize,
    /// The pages of those whose pages are known.
    pages: u32,
    /// How many have no known page count.
    uncounted: usize,
    /// The length of the recordings whose length is known, and how many.
    seconds: u32,
    timed: usize,
}

impl Enclosures {
    fn tally(&self, kind: Option<EnclosureKind>) -> Tally {
        let mut t = Tally::default();
        for e in self
            .items
            .iter()
            .filter(|e| kind.is_none_or(|k| e.kind == k))
        {
            t.files += 1;
            match (e.kind, e.pages, e.seconds) {
                (EnclosureKind::Recording, _, Some(s)) => {
                    t.seconds = t.seconds.saturating_add(s);
                    t.timed += 1;
                }
                (EnclosureKind::Recording, _, None) => {}
                (_, Some(p), _) => t.pages = t.pages.saturating_add(p),
                (_, None, _) => t.uncounted += 1,
            }
        }
        t
    }
}

/// The kinds in the order the letter lists them, with their words (kk, ru);
/// those listed with how many there are.
const KINDS: [(EnclosureKind, &str, &str, bool); 6] = [
    (
        EnclosureKind::Appeal,
        "өтініш (тіркеу деректері мен мәтіні)",
        "обращение (регистрационные данные и текст)",
        false,
    ),
    (
        EnclosureKind::Mail,
        "электрондық хаттар",
        "электронные письма",
        true,
    ),
    (
        EnclosureKind::Attachment,
        "хаттарға тіркелген құжаттар",
        "вложения к письмам",
        true,
    ),
    (
        EnclosureKind::Call,
        "қоңыраулар туралы мәліметтер",
        "сведения о звонках",
        true,
    ),
    (
        EnclosureKind::Recording,
        "қоңыраулардың аудиожазбалары",
        "аудиозаписи звонков",
        true,
    ),
    (
        EnclosureKind::Events,
        "оқиғалар журналынан үзінді",
        "выписка из журнала событий",
        false,
    ),
];

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

/// `n` and the word for it in Russian: `[one, few, many]` (`1 файл`,
/// `2 файла`, `5 файлов`).
fn count_ru(n: usize, words: [&str; 3]) -> String {
    let word = match (n % 10, n % 100) {
        (1, h) if h != 11 => words[0],
        (2..=4, h) if !(12..=14).contains(&h) => words[1],
        _ => words[2],
    };
    format!("{n} {word}")
}

fn files_ru(n: usize) -> String {
    count_ru(n, ["файл", "файла", "файлов"])
}

fn audio_ru(n: usize) -> String {
    count_ru(n, ["аудиофайл", "аудиофайла", "аудиофайлов"])
}

/// `12 мин 30 с`; `1 ч 5 мин 0 с` (`сағ` in Kazakh).
fn duration(seconds: u32, hours: &str) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}\u{a0}с"),
        (0, _) => format!("{m}\u{a0}мин {s}\u{a0}с"),
        _ => format!("{h}\u{a0}{hours} {m}\u{a0}мин {s}\u{a0}с"),
    }
}

/// What the enclosures of a kind come to, in Russian: `на 7 л.`, the files
/// whose pages could not be counted, or the recordings and their length.
fn measure_ru(kind: EnclosureKind, t: Tally) -> String {
    if kind == EnclosureKind::Recording {
        return if t.timed == t.files {
            format!("{}, {}", audio_ru(t.files), duration(t.seconds, "ч"))
        } else {
            audio_ru(t.files)
        };
    }
    match (t.uncounted, t.files - t.uncounted) {
        (0, _) => format!("на {}\u{a0}л.", t.pages),
        (u, 0) => format!("{}, число листов не определено", files_ru(u)),
        (u, _) => format!(
            "на {}\u{a0}л. и ещё {} без подсчёта листов",
            t.pages,
            files_ru(u)
        ),
    }
}

/// `measure_ru` in Kazakh: `7 парақта`.
fn measure_kk(kind: EnclosureKind, t: Tally) -> String {
    if kind == EnclosureKind::Recording {
        return if t.timed == t.files {
            format!("{} аудиофайл, {}", t.files, duration(t.seconds, "сағ"))
        } else {
            format!("{} аудиофайл", t.files)
        };
    }
    match (t.uncounted, t.files - t.uncounted) {
        (0, _) => format!("{}\u{a0}парақта", t.pages),
        (u, 0) => format!("{u} файл, парақ саны анықталмаған"),
        (u, _) => format!(
            "{}\u{a0}парақта және парақ саны анықталмаған тағы {u} файл",
            t.pages
        ),
    }
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

    /// The list's items in Kazakh or Russian: each kind the package holds,
    /// in `KINDS`' order, with how many there are and what they come to.
    fn items(&self, ru: bool) -> Vec<String> {
        KINDS
            .iter()
            .filter_map(|(kind, kk_words, ru_words, counted)| {
                let t = self.enclosures.tally(Some(*kind));
                if t.files == 0 {
                    return None;
                }
                let words = if ru { ru_words } else { kk_words };
                let how_many = if *counted {
                    format!(" ({})", t.files)
                } else {
                    String::new()
                };
                let measure = if ru {
                    measure_ru(*kind, t)
                } else {
                    measure_kk(*kind, t)
                };
                Some(format!("{words}{how_many} — {measure}"))
            })
            .collect()
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
        blocks.extend(numbered(self.items(false)));
        let all = e.tally(None);
        let audio = e.tally(Some(EnclosureKind::Recording)).files;
        let mut total = format!("Барлығы {}\u{a0}парақта", all.pages);
        if all.uncounted > 0 {
            total += &format!(", парақ саны анықталмаған тағы {} файл", all.uncounted);
        }
        if audio > 0 {
            total += &format!(" және {audio} аудиофайл");
        }
        blocks.push(Block::Paragraph(format!(
            "{total}; электрондық түрде — бір ZIP-пакетте {} файл (пакеттің күні: {}), әр файлдың \
             SHA-256 хэші MANIFEST.sha256 тізімінде көрсетілген.",
            e.files,
            date_kk(e.made_on)
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
        blocks.extend(numbered(self.items(true)));
        let all = e.tally(None);
        let audio = e.tally(Some(EnclosureKind::Recording)).files;
        let mut total = format!("Всего на {}\u{a0}л.", all.pages);
        if all.uncounted > 0 {
            total += &format!(" и ещё {} без подсчёта листов", files_ru(all.uncounted));
        }
        if audio > 0 {
            total += &format!(", {}", audio_ru(audio));
        }
        blocks.push(Block::Paragraph(format!(
            "{total}; в электронном виде — {} в одном ZIP-пакете от {}, SHA-256 каждого файла \
             указан в перечне MANIFEST.sha256.",
            files_ru(e.files),
            date_ru(e.made_on)
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
        let end = match (i + 1 == last, item.ends_with('.')) {
            (false, _) => ";",
            (true, false) => ".",
            // `на 1 л.` ends the list already.
            (true, true) => "",
        };
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
                items: vec![
                    item(EnclosureKind::Appeal, Some(2), None),
                    item(EnclosureKind::Mail, Some(1), None),
                    item(EnclosureKind::Attachment, Some(3), None),
                    item(EnclosureKind::Attachment, Some(1), None),
                    item(EnclosureKind::Attachment, None, None),
                    item(EnclosureKind::Recording, None, Some(750)),
                    item(EnclosureKind::Events, Some(1), None),
                ],
                files: 12,
                made_on: d,
            },
            config: &config,
        };
        let sections = letter.sections();
        assert_eq!(sections.len(), 2);
        let text = format!("{sections:?}").replace("\\u{a0}", " ");
        assert!(text.contains("OUT-2026-0001") && text.contains("TL-2026-000001"));
        for want in [
            "1. өтініш (тіркеу деректері мен мәтіні) — 2 парақта;",
            "электрондық хаттар (1) — 1 парақта;",
            "хаттарға тіркелген құжаттар (3) — 4 парақта және парақ саны анықталмаған тағы 1 файл;",
            "аудиожазбалары (1) — 1 аудиофайл, 12 мин 30 с;",
            "1. обращение (регистрационные данные и текст) — на 2 л.;",
            "вложения к письмам (3) — на 4 л. и ещё 1 файл без подсчёта листов;",
            "аудиозаписи звонков (1) — 1 аудиофайл, 12 мин 30 с;",
            "5. выписка из журнала событий — на 1 л.\")",
            "Всего на 8 л. и ещё 1 файл без подсчёта листов, 1 аудиофайл; в электронном виде — 12 файлов",
            "Барлығы 8 парақта, парақ саны анықталмаған тағы 1 файл және 1 аудиофайл;",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        assert!(!text.contains("звонках"), "no call, no line: {text}");
    }

    fn item(kind: EnclosureKind, pages: Option<u32>, seconds: Option<u32>) -> Enclosure {
        Enclosure {
            kind,
            pages,
            seconds,
        }
    }

    #[test]
    fn lengths_and_unknown_pages_read_as_people_write_them() {
        let t = |files, pages, uncounted| Tally {
            files,
            pages,
            uncounted,
            ..Tally::default()
        };
        assert_eq!(measure_ru(EnclosureKind::Mail, t(2, 3, 0)), "на 3\u{a0}л.");
        assert_eq!(
            measure_ru(EnclosureKind::Attachment, t(2, 0, 2)),
            "2 файла, число листов не определено"
        );
        assert_eq!(
            measure_kk(EnclosureKind::Attachment, t(5, 0, 5)),
            "5 файл, парақ саны анықталмаған"
        );
        let audio = Tally {
            files: 2,
            timed: 1,
            seconds: 5,
            ..Tally::default()
        };
        assert_eq!(measure_ru(EnclosureKind::Recording, audio), "2 аудиофайла");
        assert_eq!(duration(3725, "ч"), "1\u{a0}ч 2\u{a0}мин 5\u{a0}с");
        assert_eq!(duration(3, "ч"), "3\u{a0}с");
    }
}
