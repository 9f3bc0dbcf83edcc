//! The `[mailbox]` section of the configuration: where the dedicated mailbox is,
//! how Senim logs in, what it does with a message once registered, and the
//! acknowledgement it sends. The mailbox is off unless `host` is set.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Hours, Seconds};

/// RFC 2177 lets a server drop an IDLE after 29 minutes; Senim re-issues it well
/// before that.
pub const IDLE_LIMIT_SECONDS: u64 = 29 * 60;

crate::text_enum! {
    /// A language of the receipt (`mailbox.ack.languages`).
    Language {
        Kk = "kk",
        Ru = "ru",
        En = "en",
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxConfig {
    /// The IMAP server; empty leaves the e-mail channel off.
    pub host: String,
    /// 0 means the usual port of `security`: 993 for `tls`, 143 for `starttls`.
    pub port: u16,
    pub security: Security,
    /// A PEM file of CA certificates trusted besides the system roots (a private server).
    pub ca_file: Option<PathBuf>,
    pub username: String,
    /// The password itself, or (better) `password_file`, a file holding it.
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub auth: AuthMethod,
    /// The folder Senim reads.
    pub folder: String,
    /// What happens to a message once it is durable in Senim: `move` it to
    /// `processed_folder`, or `flag` it in place.
    pub after_registration: AfterRegistration,
    pub processed_folder: String,
    /// Seconds between polls when the server has no IDLE (or `idle = false`).
    pub poll_interval_seconds: Seconds,
    /// Use IDLE where the server offers it.
    pub idle: bool,
    /// Seconds after which an IDLE is re-issued; must stay under 29 minutes.
    pub idle_renew_seconds: Seconds,
    /// A message larger than this is registered unparsed, its raw bytes kept.
    pub max_message_bytes: u64,
    /// Messages fetched and committed together.
    pub batch_size: u32,
    /// Bytes fetched in one batch at most (by the server's RFC822.SIZE); a single
    /// message over it is fetched alone. At most two batches are in memory (one
    /// committing, the next being fetched).
    pub batch_max_bytes: u64,
    /// Seconds allowed for connecting, TLS and each command.
    pub timeout_seconds: Seconds,
    /// Longest wait between reconnection attempts (the backoff doubles from 1 s).
    pub max_backoff_seconds: Seconds,
    /// Several Senim processes on one mailbox: how long the others leave a message
    /// that one of them committed for it to move; after that (it died) they move it.
    pub settle_claim_seconds: Seconds,
    pub ack: AckConfig,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 0,
            security: Security::Tls,
            ca_file: None,
            username: String::new(),
            password: None,
            password_file: None,
            auth: AuthMethod::Login,
            folder: "INBOX".into(),
            after_registration: AfterRegistration::Move,
            processed_folder: "Senim/Registered".into(),
            poll_interval_seconds: Seconds::new(60),
            idle: true,
            idle_renew_seconds: Seconds::new(20 * 60),
            max_message_bytes: 25 * 1024 * 1024,
            batch_size: 100,
            batch_max_bytes: 32 * 1024 * 1024,
            timeout_seconds: Seconds::new(60),
            max_backoff_seconds: Seconds::new(300),
            settle_claim_seconds: Seconds::new(120),
            ack: AckConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS, port 993).
    Tls,
    /// Plain IMAP upgraded with STARTTLS before login (port 143).
    Starttls,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The IMAP LOGIN command.
    Login,
    /// AUTHENTICATE PLAIN (RFC 4616).
    Plain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AfterRegistration {
    /// MOVE to `processed_folder` (COPY + \Deleted + UID EXPUNGE where MOVE is missing).
    Move,
    /// Leave in place, flagged `\Seen` and `$SenimRegistered`.
    Flag,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AckConfig {
    /// Send the sender a receipt with the registration number and the deadline.
    pub enabled: bool,
    /// Languages of the receipt, in order: `kk`, `ru`, `en`.
    pub languages: Vec<Language>,
    /// At most one receipt per sender address in this many hours.
    pub per_sender_period_hours: Hours,
    /// The receipt's From: the dedicated mailbox's address; `smtp.from` when
    /// unset (see `Config::receipt_from`).
    #[serde(deserialize_with = "crate::config::values::empty_is_none")]
    pub from: Option<crate::config::Address>,
}

impl Default for AckConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            languages: vec![Language::Kk, Language::Ru],
            per_sender_period_hours: Hours::new(24),
            from: None,
        }
    }
}

impl MailboxConfig {
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    pub fn effective_port(&self) -> u16 {
        match (self.port, self.security) {
            (0, Security::Tls) => 993,
            (0, Security::Starttls) => 143,
            (port, _) => port,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout_seconds.std()
    }

    pub fn settle_claim(&self) -> chrono::Duration {
        self.settle_claim_seconds.chrono()
    }

    /// The password, read from the config or its file.
    pub fn read_password(&self) -> Result<String, String> {
        match (&self.password, &self.password_file) {
            (Some(p), None) => Ok(p.clone()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                .map_err(|e| format!("mailbox.password_file: cannot read {}: {e}", path.display())),
            _ => Err("mailbox: give exactly one of password and password_file".into()),
        }
    }

    /// Checks the values serde cannot; names the key of the first bad one.
    pub fn check(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        if self.username.trim().is_empty() {
            return Err("mailbox.username must be set when mailbox.host is".into());
        }
        if self.password.is_some() == self.password_file.is_some() {
            return Err("mailbox: give exactly one of password and password_file".into());
        }
        if let Some(path) = &self.ca_file
            && !path.exists()
        {
            return Err(format!(
                "mailbox.ca_file: {} does not exist",
                path.display()
            ));
        }
        if self.folder.trim().is_empty() {
            return Err("mailbox.folder must not be empty".into());
        }
        if self.after_registration == AfterRegistration::Move
            && (self.processed_folder.trim().is_empty() || self.processed_folder == self.folder)
        {
            return Err(
                "mailbox.processed_folder must be set, and differ from mailbox.folder, when after_registration = \"move\""
                    .into(),
            );
        }
        if self.poll_interval_seconds.get() == 0 {
            return Err("mailbox.poll_interval_seconds must be at least 1".into());
        }
        if self.idle_renew_seconds.get() == 0 || self.idle_renew_seconds.get() >= IDLE_LIMIT_SECONDS
        {
            return Err(format!(
                "mailbox.idle_renew_seconds must be between 1 and {} (RFC 2177's 29 minutes)",
                IDLE_LIMIT_SECONDS - 1
            ));
        }
        if self.max_message_bytes < 1024 {
            return Err("mailbox.max_message_bytes must be at least 1024".into());
        }
        if self.batch_size == 0 || self.batch_size > 1000 {
            return Err("mailbox.batch_size must be between 1 and 1000".into());
        }
        if self.batch_max_bytes < 1024 {
            return Err("mailbox.batch_max_bytes must be at least 1024".into());
        }
        if self.timeout_seconds.get() == 0 {
            return Err("mailbox.timeout_seconds must be at least 1".into());
        }
        if self.max_backoff_seconds.get() == 0 {
            return Err("mailbox.max_backoff_seconds must be at least 1".into());
        }
        if self.settle_claim_seconds.get() == 0 {
            return Err("mailbox.settle_claim_seconds must be at least 1".into());
        }
        if self.ack.enabled && self.ack.languages.is_empty() {
            return Err("mailbox.ack.languages must name at least one of kk, ru, en".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> MailboxConfig {
        MailboxConfig {
            host: "imap.example.kz".into(),
            username: "trust".into(),
            password: Some("secret".into()),
            ..MailboxConfig::default()
        }
    }

    #[test]
    fn off_by_default_and_bad_values_name_their_key() {
        assert!(!MailboxConfig::default().enabled());
        assert_eq!(MailboxConfig::default().check(), Ok(()));
        assert_eq!(enabled().check(), Ok(()));
        assert_eq!(enabled().effective_port(), 993);
        for (config, key) in [
            (
                MailboxConfig {
                    idle_renew_seconds: Seconds::new(29 * 60),
                    ..enabled()
                },
                "mailbox.idle_renew_seconds",
            ),
            (
                MailboxConfig {
                    processed_folder: "INBOX".into(),
                    ..enabled()
                },
                "mailbox.processed_folder",
            ),
            (
                MailboxConfig {
                    password: None,
                    ..enabled()
                },
                "password_file",
            ),
            (
                MailboxConfig {
                    username: String::new(),
                    ..enabled()
                },
                "mailbox.username",
            ),
            (
                MailboxConfig {
                    batch_size: 0,
                    ..enabled()
                },
                "mailbox.batch_size",
            ),
            (
                MailboxConfig {
                    settle_claim_seconds: Seconds::new(0),
                    ..enabled()
                },
                "mailbox.settle_claim_seconds",
            ),
            (
                MailboxConfig {
                    ack: AckConfig {
                        languages: Vec::new(),
                        ..AckConfig::default()
                    },
                    ..enabled()
                },
                "mailbox.ack.languages",
            ),
        ] {
            let err = config.check().unwrap_err();
            assert!(err.contains(key), "{key}: {err}");
        }
    }
}
