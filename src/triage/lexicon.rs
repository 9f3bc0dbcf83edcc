//! The keyword lexicon behind the suggested category, in Kazakh, Russian and
//! English. Each entry is a word stem or phrase matched at the start of a word,
//! case-insensitively. A suggestion is shown to the manager, never applied.

use serde::Serialize;

use crate::journal::Category;

/// Stems that point to a criminal offence or a threat to state or public
/// security (clause 6.3).
const CRIMINAL: &[&str] = &[
    // ru
    "теракт",
    "террор",
    "взрыв",
    "бомб",
    "заложник",
    "убийств",
    "оружи",
    // kk
    "лаңкест",
    "жарылыс",
    "кепілге",
    "кісі өлтір",
    "қару",
    // en
    "terror",
    "bomb",
    "explosive",
    "hostage",
    "murder",
    "weapon",
];

/// Stems that point to corruption.
const CORRUPTION: &[&str] = &[
    // ru
    "взятк",
    "взяточ",
    "откат",
    "вымогат",
    "конфликт интересов",
    "коррупц",
    "злоупотреблен",
    "хищени",
    "растрат",
    "кумовств",
    "подкуп",
    "мзд",
    // kk
    "пара ",
    "пара,",
    "пара.",
    "парақор",
    "пара бер",
    "пара ал",
    "сыбайлас жемқор",
    "жемқор",
    "мүдделер қақтығыс",
    "бопсала",
    "қызмет бабын теріс",
    "ұрла",
    "жымқыр",
    // en
    "bribe",
    "bribery",
    "kickback",
    "extort",
    "conflict of interest",
    "corrupt",
    "embezzl",
    "abuse of office",
    "nepotism",
    "favouritism",
    "favoritism",
];

/// A suggested category and the words that led to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// `None`: nothing in the text points anywhere.
    pub category: Option<Category>,
    pub matched: Vec<String>,
}

impl Suggestion {
    /// `corruption (взятк, kickback)`, or `none`.
    pub fn describe(&self) -> String {
        match self.category {
            Some(c) => format!("{c} ({})", self.matched.join(", ")),
            None => "none".to_owned(),
        }
    }
}

/// Suggests a category from the subject and substance of an appeal.
pub fn suggest(text: &str) -> Suggestion {
    let text = format!("{} ", text.to_lowercase());
    let criminal = matches(&text, CRIMINAL);
    if !criminal.is_empty() {
        return Suggestion {
            category: Some(Category::CriminalOffence),
            matched: criminal,
        };
    }
    let corruption = matches(&text, CORRUPTION);
    Suggestion {
        category: (!corruption.is_empty()).then_some(Category::Corruption),
        matched: corruption,
    }
}

/// The lexicon's words found in `text`, both lists: what a sealed appeal keeps
/// plain for triage (`Appeal::terms`).
pub fn words_in(text: &str) -> Vec<String> {
    let text = format!("{} ", text.to_lowercase());
    let mut found = matches(&text, CRIMINAL);
    found.extend(matches(&text, CORRUPTION));
    found
}

/// Whether `text` (lower-case) contains `word` at the start of a word.
pub fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

fn matches(text: &str, lexicon: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = lexicon
        .iter()
        .filter(|w| contains_word(text, w))
        .map(|w| w.trim_end_matches([' ', ',', '.']).to_owned())
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_in_three_languages() {
        for text in [
            "Начальник требовал взятку за справку",
            "Маманнан пара сұрады",
            "The inspector asked for a kickback",
            "Вымогательство при приёмке",
            "A clear conflict of interest in the tender",
        ] {
            assert_eq!(suggest(text).category, Some(Category::Corruption), "{text}");
        }
    }

    #[test]
    fn a_threat_outranks_corruption() {
        let s = suggest("Угрожает взрывом и требует взятку");
        assert_eq!(s.category, Some(Category::CriminalOffence));
    }

    #[test]
    fn words_must_start_at_a_word_boundary() {
        assert_eq!(suggest("Аппарат не работает").category, None);
        assert_eq!(suggest("Please fix the lamp").category, None);
        assert!(suggest("").matched.is_empty());
    }
}
