//! The letters to the citizen (APPK Art. 76): the reply, and the notice that
//! the reply is extended. Their words in Kazakh, then Russian, as `letter`'s
//! blocks. Unlike the cover letter they are addressed to the person who
//! wrote: their name and postal address come from the opened appeal, so these
//! files are handed out and never kept unsealed (`Documents::reply`).

use chrono::NaiveDate;

use super::letter::{Block, Section, address_lines, date_kk, date_ru};
use crate::config::documents::DocumentsConfig;

/// To whom a letter to the citizen goes: their name and postal address as the
/// opened appeal gives them (either may be missing).
#[derive(Clone, Debug, Default)]
pub struct Addressee {
    pub name: Option<String>,
    pub postal_address: Option<String>,
}

/// What a letter to the citizen is.
#[derive(Clone, Debug)]
pub enum Body {
    /// The reply: its text, as the manager wrote it.
    Reply { text: String },
    /// The reply is extended to `until`, for `reason`.
    Extension { until: NaiveDate, reason: String },
}

/// Everything a letter to the citizen says.
#[derive(Clone, Debug)]
pub struct CitizenLetter<'c> {
    pub number: String,
    pub date: NaiveDate,
    pub registration_number: String,
    pub registered_on: NaiveDate,
    pub to: Addressee,
    pub body: Body,
    pub config: &'c DocumentsConfig,
}

impl CitizenLetter<'_> {
    /// The letter in Kazakh, then in Russian.
    pub fn sections(&self) -> Vec<Section> {
        vec![self.section("kk"), self.section("ru")]
    }

    /// The letter's title, for the files' metadata (no identity).
    pub fn title(&self) -> String {
        let what = match self.body {
            Body::Reply { .. } => "Жауап / Ответ",
            Body::Extension { .. } => "Мерзімді ұзарту туралы хабарлама / Уведомление о продлении",
        };
        format!("{} · {what} · {}", self.number, self.registration_number)
    }

    fn section(&self, lang: &'static str) -> Section {
        let c = self.config;
        let kk = lang == "kk";
        let (enterprise, reference, title) = if kk {
            (
                c.enterprise_name.kk.clone(),
                vec![format!("Шығ. № {}", self.number), date_kk(self.date)],
                c.director_title.kk.clone(),
            )
        } else {
            (
                c.enterprise_name.ru.clone(),
                vec![
                    format!("Исх. № {}", self.number),
                    format!("от {}", date_ru(self.date)),
                ],
                c.director_title.ru.clone(),
            )
        };
        let name = self
            .to
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if kk {
                    "Өтініш иесіне"
                } else {
                    "Заявителю"
                }
                .to_owned()
            });
        let lines = self
            .to
            .postal_address
            .as_deref()
            .map(address_lines)
            .unwrap_or_default();
        let reg = &self.registration_number;
        let mut blocks = vec![
            Block::Letterhead(enterprise),
            Block::Reference(reference),
            Block::Addressee { name, lines },
        ];
        match &self.body {
            Body::Reply { text } => {
                blocks.push(Block::Heading(
                    if kk {
                        "Өтінішке жауап"
                    } else {
                        "Ответ на обращение"
                    }
                    .into(),
                ));
                blocks.push(Block::Paragraph(if kk {
                    format!(
                        "{} №\u{a0}{reg} болып тіркелген өтінішіңізді қарап, мынаны хабарлаймыз.",
                        date_kk(self.registered_on)
                    )
                } else {
                    format!(
                        "Рассмотрев Ваше обращение, зарегистрированное {} за №\u{a0}{reg}, сообщаем следующее.",
                        date_ru(self.registered_on)
                    )
                }));
                blocks.extend(paragraphs(text));
            }
            Body::Extension { until, reason } => {
                blocks.push(Block::Heading(
                    if kk {
                        "Өтінішті қарау мерзімін ұзарту туралы"
                    } else {
                        "О продлении срока рассмотрения обращения"
                    }
                    .into(),
                ));
                blocks.push(Block::Paragraph(if kk {
                    format!(
                        "{} №\u{a0}{reg} болып тіркелген өтінішіңізді қарау мерзімі \
                         Қазақстан Республикасы Әкімшілік рәсімдік-процестік кодексінің \
                         76-бабына сәйкес {} дейін ұзартылғанын хабарлаймыз. Себебі: {}",
                        date_kk(self.registered_on),
                        date_kk(*until),
                        reason.trim()
                    )
                } else {
                    format!(
                        "Сообщаем, что срок рассмотрения Вашего обращения, зарегистрированного {} \
                         за №\u{a0}{reg}, в соответствии со статьёй 76 Административного \
                         процедурно-процессуального кодекса Республики Казахстан продлён до {}. \
                         Причина: {}",
                        date_ru(self.registered_on),
                        date_ru(*until),
                        reason.trim()
                    )
                }));
            }
        }
        blocks.push(Block::Signature {
            title,
            name: c.director_name.clone(),
        });
        Section { lang, blocks }
    }
}

/// The reply's text, a paragraph per blank-line-separated block.
fn paragraphs(text: &str) -> impl Iterator<Item = Block> + '_ {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(Block::Paragraph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_carries_the_numbers_the_text_and_the_addressee() {
        let config = DocumentsConfig {
            director_name: "А. Директорова".into(),
            ..DocumentsConfig::default()
        };
        let d = NaiveDate::from_ymd_opt(2026, 12, 16).unwrap_or_default();
        let letter = CitizenLetter {
            number: "OUT-2026-0002".into(),
            date: d,
            registration_number: "TL-2026-000001".into(),
            registered_on: d,
            to: Addressee {
                name: Some("Асқар Ахметов".into()),
                postal_address: Some("Астана; Абай к-сі, 1".into()),
            },
            body: Body::Reply {
                text: "Бірінші.\n\nВторой абзац.".into(),
            },
            config: &config,
        };
        let sections = letter.sections();
        let text = format!("{sections:?}");
        assert!(text.contains("OUT-2026-0002") && text.contains("TL-2026-000001"));
        assert!(text.contains("Асқар Ахметов") && text.contains("Абай к-сі, 1"));
        assert!(text.contains("Второй абзац.") && text.contains("Өтінішке жауап"));
        assert!(!letter.title().contains("Ахметов"));
    }
}
