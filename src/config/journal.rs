//! `[journal]`: registration numbers, the audit chain's key, the signing key,
//! and the publication of the chain's signed head.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Seconds, TimeOfDay};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Prefix of registration numbers: `TL` gives `TL-2026-000042`.
    pub registration_prefix: String,
    /// A file holding the secret (at least 32 bytes, e.g. `openssl rand -hex 32`)
    /// that keys the audit chain, kept outside the database; none: an unkeyed chain.
    pub chain_key_file: Option<PathBuf>,
    /// A file holding the installation's signing key (Ed25519: 32 bytes as 64 hex
    /// digits, `openssl rand -hex 32`), kept outside the database: it authenticates
    /// what the database's administrator must not make (`authority`); its public
    /// half (`senim journal head-key`) is all an auditor needs.
    pub signing_key_file: Option<PathBuf>,
    /// With a chain key: once a day, at this Astana time, the chain's signed head is
    /// mailed to `alerts.auditors` and appended to `published_heads_file` (if set).
    pub publish_head_time: TimeOfDay,
    /// A file the auditors keep (on another machine's share, say) that the signed
    /// heads are appended to; `senim journal verify --heads` reads it.
    pub published_heads_file: Option<PathBuf>,
    /// How often the daemon appends the chain's signed head to
    /// `published_heads_file` when it moved (and once at shutdown): at most this
    /// many seconds of appeals can be deleted without a published head missing them.
    pub head_publish_seconds: Seconds,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            registration_prefix: "TL".into(),
            chain_key_file: None,
            signing_key_file: None,
            publish_head_time: TimeOfDay::hm(0, 5),
            published_heads_file: None,
            head_publish_seconds: Seconds::new(60),
        }
    }
}

impl JournalConfig {
    /// The `[journal]` values serde cannot check.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.head_publish_seconds.get() == 0 {
            return Err("journal.head_publish_seconds must be at least 1".into());
        }
        let prefix = &self.registration_prefix;
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "journal.registration_prefix: `{prefix}` must be non-empty ASCII letters, digits or `-`"
            ));
        }
        Ok(())
    }
}
