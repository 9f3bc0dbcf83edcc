//! The daemon's configuration: one TOML file layered over built-in defaults, with
//! `SENIM_SECTION__KEY` environment overrides. Every key has a default that works
//! for a local run, so `senim serve` with no file starts on SQLite in `./data/`.
//! A wrong key, type or value is one error naming the key and where it came from.
//! Config owns every section, each in a file of its own (`server.rs`:
//! `[server]` and `[server.tls]`, `database.rs`, `calendar.rs`, `journal.rs`,
//! `api.rs`, `log.rs`, `smtp.rs`, `alerts.rs`, `pbx.rs`, `mailbox.rs`,
//! `retention.rs`, `console.rs`, `documents.rs`, `authority.rs`), so config
//! imports no channel; this file loads them (figment), checks what spans
//! sections, and reads secrets.

mod alerts;
mod api;
mod authority;
mod calendar;
mod console;
mod database;
pub mod documents;
mod journal;
mod log;
pub mod mailbox;
mod pbx;
mod retention;
mod server;
mod smtp;
pub mod values;

pub use alerts::{AlertsConfig, RouteConfig};
pub use api::{ApiConfig, ManagerConfig};
pub use authority::AuthorityConfig;
pub use calendar::CalendarConfig;
pub use console::ConsoleConfig;
pub use database::DatabaseConfig;
pub use journal::JournalConfig;
pub use log::{LogConfig, LogFormat};
pub use pbx::{PbxConfig, PbxRulesConfig, PbxSourceConfig};
pub use retention::RetentionConfig;
pub use server::{ServerConfig, TlsConfig};
pub use smtp::{SmtpConfig, SmtpSecurity};
pub use values::{Address, Days, Hours, Network, Seconds, TimeOfDay, Zone};

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The default location of the configuration file.
pub const DEFAULT_PATH: &str = "config/senim.toml";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub calendar: CalendarConfig,
    pub journal: JournalConfig,
    pub api: ApiConfig,
    pub log: LogConfig,
    pub smtp: SmtpConfig,
    pub alerts: AlertsConfig,
    pub pbx: PbxConfig,
    pub mailbox: mailbox::MailboxConfig,
    pub retention: RetentionConfig,
    pub console: ConsoleConfig,
    pub documents: documents::DocumentsConfig,
    pub authority: AuthorityConfig,
}

/// A configuration that cannot be used; the message names the key and the source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Where a configuration comes from.
#[derive(Clone, Debug)]
pub struct ConfigSource {
    pub path: PathBuf,
    /// Whether the file must exist (true when the user named it).
    pub required: bool,
}

impl ConfigSource {
    pub fn new(path: Option<&Path>) -> Self {
        match path {
            Some(p) => Self {
                path: p.to_owned(),
                required: true,
            },
            None => Self {
                path: PathBuf::from(DEFAULT_PATH),
                required: false,
            },
        }
    }
}

impl Config {
    /// Loads defaults, then the file, then the `SENIM_<SECTION>__<KEY>` variables,
    /// and checks values. Other `SENIM_…` variables are not configuration (see
    /// `ignored_env_vars`).
    ///
    /// Under systemd, secret files may come as credentials (`LoadCredential=`): a
    /// relative secret-file path (`chain_key_file = "chain.key"`) is then read from
    /// `$CREDENTIALS_DIRECTORY`, where systemd puts them readable by the service
    /// alone (see `resolve_credentials`).
    pub fn load(source: &ConfigSource) -> Result<Config, ConfigError> {
        let credentials = std::env::var_os(CREDENTIALS_ENV).map(PathBuf::from);
        let mut config = Self::load_with_env(source, config_env(ENV_PREFIX))?;
        if let Some(dir) = credentials {
            config.resolve_credentials(&dir);
        }
        config
            .check_files()
            .map_err(|e| ConfigError(format!("{}: {e}", source.path.display())))?;
        Ok(config)
    }

    /// Every secret-file key, named, for `resolve_credentials` and `check_files`.
    fn secret_files(&mut self) -> Vec<(String, &mut Option<PathBuf>)> {
        let mut files = vec![
            (
                "smtp.password_file".to_owned(),
                &mut self.smtp.password_file,
            ),
            (
                "mailbox.password_file".to_owned(),
                &mut self.mailbox.password_file,
            ),
            (
                "journal.chain_key_file".to_owned(),
                &mut self.journal.chain_key_file,
            ),
            (
                "journal.signing_key_file".to_owned(),
                &mut self.journal.signing_key_file,
            ),
            (
                "server.metrics_token_file".to_owned(),
                &mut self.server.metrics_token_file,
            ),
        ];
        for (i, m) in self.api.managers.iter_mut().enumerate() {
            files.push((format!("api.managers[{i}].token_file"), &mut m.token_file));
        }
        for (i, s) in self.pbx.sources.iter_mut().enumerate() {
            files.push((format!("pbx.sources[{i}].token_file"), &mut s.token_file));
            files.push((
                format!("pbx.sources[{i}].hmac_secret_file"),
                &mut s.hmac_secret_file,
            ));
        }
        files
    }

    /// Makes each relative secret-file path a file in systemd's credentials
    /// directory (`$CREDENTIALS_DIRECTORY`); absolute paths are left alone.
    pub fn resolve_credentials(&mut self, dir: &Path) {
        for (_, file) in self.secret_files() {
            if let Some(file) = file
                && file.is_relative()
            {
                *file = dir.join(&*file);
            }
        }
    }

    /// The secret files named exist (once credentials are resolved).
    fn check_files(&mut self) -> Result<(), String> {
        for (key, file) in self.secret_files() {
            if let Some(file) = file
                && !file.exists()
            {
                return Err(format!(
                    "{key}: {} does not exist (under systemd's LoadCredential=, a relative \
                     path is read from ${CREDENTIALS_ENV})",
                    file.display()
                ));
            }
        }
        Ok(())
    }

    fn load_with_env(source: &ConfigSource, env: Env) -> Result<Config, ConfigError> {
        let path = &source.path;
        if source.required && !path.exists() {
            return Err(ConfigError(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if path.exists() {
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError(describe(e, path)))?;
        config
            .check()
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        Ok(config)
    }

    /// Checks the values serde cannot: names the key of the first bad one.
    fn check(&self) -> Result<(), String> {
        self.server.check()?;
        self.calendar.check()?;
        self.journal.check()?;
        self.api.check()?;
        self.database.check()?;
        self.smtp.check()?;
        self.pbx.check()?;
        self.alerts.check()?;
        self.mailbox.check()?;
        self.retention.check()?;
        self.console.check()?;
        self.authority.check()?;
        self.documents.check()?;
        self.log.check()
    }

    /// The receipt's sender: `mailbox.ack.from`, else `smtp.from`. One address
    /// for the receipt's `From:` and its Message-ID's domain.
    pub fn receipt_from(&self) -> &Address {
        self.mailbox.ack.from.as_ref().unwrap_or(&self.smtp.from)
    }
}

/// Whether a host name is the loopback interface.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads a password given inline or in a file (trailing newline removed), of any length.
pub fn read_password(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<String>, ConfigError> {
    match (inline, file) {
        (Some(s), _) => Ok(Some(s.to_owned())),
        (None, Some(path)) => Ok(Some(
            std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("{key}: cannot read {}: {e}", path.display())))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        )),
        (None, None) => Ok(None),
    }
}

/// Reads a secret given inline or in a file (trailing newline removed); `key` names
/// the configuration key in errors.
pub fn read_secret(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
) -> Result<String, ConfigError> {
    let secret = match (inline, file) {
        (Some(s), _) => s.to_owned(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{key}: cannot read {}: {e}", path.display())))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, None) => return Err(ConfigError(format!("{key}: no secret given"))),
    };
    if secret.len() < 16 {
        return Err(ConfigError(format!(
            "{key}: the secret must be at least 16 characters"
        )));
    }
    Ok(secret)
}

/// Where systemd puts the service's credentials (`LoadCredential=`).
pub const CREDENTIALS_ENV: &str = "CREDENTIALS_DIRECTORY";

/// The prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "SENIM_";

/// The variable naming the configuration file (read by the command line).
pub const CONFIG_FILE_ENV: &str = "SENIM_CONFIG";

/// The sections of the configuration (`server`, `database`, ...).
fn sections() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Whether `name` (without the prefix) has the shape of a configuration key:
/// `<SECTION>__<KEY>` with a known section.
fn is_config_key(name: &str, sections: &[String]) -> bool {
    match name.split_once("__") {
        Some((section, key)) => {
            !key.is_empty() && sections.iter().any(|s| s.eq_ignore_ascii_case(section))
        }
        None => false,
    }
}

/// The environment provider: only `<prefix><SECTION>__<KEY>` variables.
fn config_env(prefix: &str) -> Env {
    let sections = sections();
    Env::prefixed(prefix)
        .filter(move |name| is_config_key(name.as_str(), &sections))
        .split("__")
}

/// `SENIM_…` variables in the environment that are neither configuration keys
/// (`SENIM_<SECTION>__<KEY>`) nor `SENIM_CONFIG`: ignored, and worth a warning
/// (a wrapper script's `SENIM_BIN`, or a key with one underscore too few).
pub fn ignored_env_vars() -> Vec<String> {
    ignored_among(std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned()))
}

fn ignored_among(names: impl Iterator<Item = String>) -> Vec<String> {
    let sections = sections();
    let mut ignored: Vec<String> = names
        .filter(|name| {
            name.get(..ENV_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
        })
        .filter(|name| !name.eq_ignore_ascii_case(CONFIG_FILE_ENV))
        .filter(|name| !name.eq_ignore_ascii_case("SENIM_TOKEN"))
        .filter(|name| !is_config_key(&name[ENV_PREFIX.len()..], &sections))
        .collect();
    ignored.sort();
    ignored
}

/// A key as the file spells it: `alerts.director[0]`, not figment's `alerts.director.0`.
fn key_name(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    key
}

/// Turns figment's error into one line naming the key and the file or variable.
fn describe(error: figment::Error, path: &Path) -> String {
    let mut lines = Vec::new();
    for e in error {
        let env_key = e.path.join("__");
        let key = key_name(&e.path);
        let origin = match &e.metadata {
            Some(m) if m.name.contains("environment") => {
                format!("environment variable SENIM_{}", env_key.to_uppercase())
            }
            _ => path.display().to_string(),
        };
        let key = if key.is_empty() {
            String::new()
        } else {
            format!("key `{key}`: ")
        };
        lines.push(format!("{origin}: {key}{}", e.kind));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
