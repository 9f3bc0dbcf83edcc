//! `[console]`: the browser workplace's default language and session lengths.

use serde::{Deserialize, Serialize};

use super::mailbox;

/// `[console]`: the browser workplace served by the daemon under `/console`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// The console's language for whoever has not chosen one: `kk`, `ru`, `en`.
    pub language: mailbox::Language,
    /// Minutes without a request after which a session ends (1 to 240).
    pub idle_minutes: u32,
    /// Hours after the login at which a session ends, used or not (1 to 24).
    pub absolute_hours: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            language: mailbox::Language::Ru,
            idle_minutes: 15,
            absolute_hours: 8,
        }
    }
}

impl ConsoleConfig {
    pub(super) fn check(&self) -> Result<(), String> {
        if !(1..=240).contains(&self.idle_minutes) {
            return Err("console.idle_minutes must be 1 to 240".into());
        }
        if !(1..=24).contains(&self.absolute_hours) {
            return Err("console.absolute_hours must be 1 to 24".into());
        }
        Ok(())
    }
}
