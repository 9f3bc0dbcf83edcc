//! `[documents]`: the documents the office sends (`documents`): the outgoing
//! register's prefix, and what the cover letter of 10.7 names: the enterprise,
//! the Director who signs, and the anti-corruption service it is addressed to.
//! Each text that differs by language is given in Kazakh and Russian.

use serde::{Deserialize, Serialize};

/// `[documents]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsConfig {
    /// The prefix of outgoing numbers: `OUT` gives `OUT-2026-0001` (letters of
    /// any alphabet, digits, `-`; `ИСХ` gives `ИСХ-2026-0001`).
    pub outgoing_prefix: String,
    /// The enterprise's name, as its letterhead gives it.
    pub enterprise_name: Bilingual,
    /// The Director's name as she signs (initials and surname).
    pub director_name: String,
    /// The Director's title.
    pub director_title: Bilingual,
    /// The anti-corruption service the cover letter is addressed to (10.7): the
    /// territorial department's name.
    pub anti_corruption_addressee: Bilingual,
    /// Its postal address (one line; `;` breaks it into lines).
    pub anti_corruption_address: String,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        Self {
            outgoing_prefix: "OUT".into(),
            enterprise_name: Bilingual::default(),
            director_name: String::new(),
            director_title: Bilingual::default(),
            anti_corruption_addressee: Bilingual::default(),
            anti_corruption_address: String::new(),
        }
    }
}

/// A text in Kazakh (`kk`) and Russian (`ru`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bilingual {
    pub kk: String,
    pub ru: String,
}

impl DocumentsConfig {
    /// The values serde cannot check; the error names the key.
    pub(super) fn check(&self) -> Result<(), String> {
        let prefix = &self.outgoing_prefix;
        if prefix.is_empty()
            || prefix.chars().count() > 16
            || !prefix.chars().all(|c| c.is_alphanumeric() || c == '-')
        {
            return Err(format!(
                "documents.outgoing_prefix: `{prefix}` must be 1 to 16 letters, digits or `-`"
            ));
        }
        Ok(())
    }

    /// What the cover letter needs and is not set: the keys' names, empty if
    /// all are there. Checked when a letter is made, not at start-up: a line
    /// that sends none needs none of them.
    pub fn missing_for_cover_letter(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut need = |key: &'static str, value: &str| {
            if value.trim().is_empty() {
                missing.push(key);
            }
        };
        need("documents.enterprise_name.kk", &self.enterprise_name.kk);
        need("documents.enterprise_name.ru", &self.enterprise_name.ru);
        need("documents.director_name", &self.director_name);
        need("documents.director_title.kk", &self.director_title.kk);
        need("documents.director_title.ru", &self.director_title.ru);
        need(
            "documents.anti_corruption_addressee.kk",
            &self.anti_corruption_addressee.kk,
        );
        need(
            "documents.anti_corruption_addressee.ru",
            &self.anti_corruption_addressee.ru,
        );
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_checked_and_a_missing_name_is_named() {
        let mut config = DocumentsConfig::default();
        assert!(config.check().is_ok());
        config.outgoing_prefix = "ИСХ".into();
        assert!(config.check().is_ok());
        config.outgoing_prefix = "OUT/1".into();
        let e = config.check().unwrap_err();
        assert!(e.starts_with("documents.outgoing_prefix"), "{e}");
        assert!(
            config
                .missing_for_cover_letter()
                .contains(&"documents.director_name")
        );
    }
}
