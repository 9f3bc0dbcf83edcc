//! Triage: the category Senim suggests for an appeal from its text, by a keyword
//! lexicon (`lexicon.rs`). Pure: it reads no table and writes nothing; the
//! manager's classification itself is `cases::classify`.

pub mod lexicon;

use crate::journal::Appeal;

pub use lexicon::{Suggestion, suggest};

/// The suggestion for an appeal, from its subject and substance (of a sealed
/// appeal, from the words found in them at intake).
pub fn suggestion_for(appeal: &Appeal) -> Suggestion {
    suggest(&appeal.triage_text())
}
