//! The daemon's configuration: one TOML file layered over built-in defaults, with
//! `SENIM_SECTION__KEY` environment overrides. Every key has a default that works
//! for a local run, so `senim serve` with no file starts on SQLite in `./data/`.
//! A wrong key, type or value is one error naming the key and where it came from.
//! Config owns every section; the larger ones have a file of their own
//! (`mailbox`: the `[mailbox]` section), so config imports no channel.

pub mod documents;
pub mod mailbox;
pub mod values;

pub use values::{Address, Days, Hours, Network, Seconds, TimeOfDay, Zone};

use std::net::SocketAddr;
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

/// `[authority]`: who may decide in the Director's place what the law lets a
/// deputy of the head decide: the extension of the reply (APPK Art. 76).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorityConfig {
    /// The logins of the Director's deputies (persons of `senim persons`).
    pub deputies: Vec<String>,
}

impl AuthorityConfig {
    fn check(&self) -> Result<(), String> {
        if let Some(bad) = self
            .deputies
            .iter()
            .find(|l| l.trim().is_empty() || l.trim() != l.as_str())
        {
            return Err(format!(
                "authority.deputies: {bad:?} is not a login (no spaces around it, not empty)"
            ));
        }
        Ok(())
    }
}

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
    fn check(&self) -> Result<(), String> {
        if !(1..=240).contains(&self.idle_minutes) {
            return Err("console.idle_minutes must be 1 to 240".into());
        }
        if !(1..=24).contains(&self.absolute_hours) {
            return Err("console.absolute_hours must be 1 to 24".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Managers allowed to use the manager's API (`Authorization: Bearer <token>`).
    pub managers: Vec<ManagerConfig>,
}

/// A manager of the Journal; `name` goes into the audit log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagerConfig {
    pub name: String,
    /// The token itself, or (better) `token_file`, a file holding it.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port the server listens on: any address with `[server.tls]`,
    /// else a loopback address (plain HTTP behind a reverse proxy on the host).
    pub listen: SocketAddr,
    /// Seconds the server waits for requests in flight at shutdown.
    pub shutdown_grace_seconds: Seconds,
    /// Seconds a connection may take to send a request's headers (also how long
    /// an idle keep-alive connection stays open); then it is closed.
    pub header_read_timeout_seconds: Seconds,
    /// Seconds a request may take to send its body; then it fails (a 4xx naming
    /// the timeout). The console's and the API's bodies must arrive whole within
    /// it (before they take a slot); the PBX's, within it between two chunks.
    pub body_timeout_seconds: Seconds,
    /// Open connections at most; beyond, new ones wait (unaccepted) until one closes.
    pub max_connections: usize,
    /// Open connections from one IP address at most; beyond, new ones from it are
    /// closed at once, so one client cannot take every connection.
    pub max_connections_per_peer: usize,
    /// Requests handled at once at most, in each group of routes (intake; the
    /// console and the API); beyond, they wait their turn.
    pub max_concurrent_requests: usize,
    /// HTTPS on `listen`: the certificate and key, reread on SIGHUP.
    pub tls: Option<TlsConfig>,
    /// The metrics listener (plain HTTP): `GET /metrics` and `GET /readyz` with its
    /// details, kept off `listen`, which faces the PBXes. Empty: no metrics
    /// listener. Off loopback only with `metrics_token`.
    #[serde(deserialize_with = "values::empty_is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token the metrics listener requires (`Authorization: Bearer …`),
    /// inline or (better) in `metrics_token_file`; none: no token asked.
    pub metrics_token: Option<String>,
    pub metrics_token_file: Option<PathBuf>,
}

/// `[server.tls]`: the PEM files the server's certificate and key are read from,
/// at start-up and again on SIGHUP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain (PEM): the server's certificate first, then the
    /// intermediates.
    pub cert_file: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of the first certificate.
    pub key_file: PathBuf,
}

impl TlsConfig {
    /// Reads both files: the chain and a private key that matches its first
    /// certificate. An error names the key (`server.tls.cert_file` or
    /// `server.tls.key_file`) and the file, never the key's content.
    pub fn load(&self) -> Result<rustls::sign::CertifiedKey, String> {
        use rustls::pki_types::pem::{Error as PemError, PemObject};
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        const CERT: &str = "server.tls.cert_file";
        const KEY: &str = "server.tls.key_file";
        let (cert_path, key_path) = (self.cert_file.display(), self.key_file.display());
        let unreadable = |key: &str, path: &dyn std::fmt::Display, e: PemError| match e {
            PemError::Io(e) => format!("{key}: cannot read {path}: {e}"),
            e => format!("{key}: {path} is not valid PEM: {e}"),
        };
        let chain = CertificateDer::pem_file_iter(&self.cert_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| unreadable(CERT, &cert_path, e))?;
        if chain.is_empty() {
            return Err(format!(
                "{CERT}: {cert_path} holds no certificate (-----BEGIN CERTIFICATE-----)"
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key_file).map_err(|e| match e {
            PemError::NoItemsFound => {
                format!("{KEY}: {key_path} holds no private key (-----BEGIN … PRIVATE KEY-----)")
            }
            e => unreadable(KEY, &key_path, e),
        })?;
        let signing_key = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("{KEY}: {key_path} is not a usable private key: {e}"))?;
        let certified = rustls::sign::CertifiedKey::new(chain, signing_key);
        match certified.keys_match() {
            Ok(()) => Ok(certified),
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                Err(format!(
                    "{KEY}: {key_path} is not the key of the first certificate in {CERT} ({cert_path})"
                ))
            }
            Err(e) => Err(format!(
                "{CERT}: the first certificate in {cert_path} cannot be used: {e}"
            )),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace_seconds: Seconds::new(10),
            header_read_timeout_seconds: Seconds::new(10),
            body_timeout_seconds: Seconds::new(30),
            max_connections: 4096,
            max_connections_per_peer: 1024,
            max_concurrent_requests: 64,
            tls: None,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            metrics_token: None,
            metrics_token_file: None,
        }
    }
}

impl ServerConfig {
    fn check(&self) -> Result<(), String> {
        for (key, value, max) in [
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds.get(),
                3600,
            ),
            (
                "body_timeout_seconds",
                self.body_timeout_seconds.get(),
                3600,
            ),
        ] {
            if value == 0 || value > max {
                return Err(format!("server.{key} must be between 1 and {max}"));
            }
        }
        for (key, value) in [
            ("max_connections", self.max_connections),
            ("max_connections_per_peer", self.max_connections_per_peer),
            ("max_concurrent_requests", self.max_concurrent_requests),
        ] {
            // The semaphores behind these take at most this many permits.
            if value == 0 || value > 1_000_000 {
                return Err(format!("server.{key} must be between 1 and 1000000"));
            }
        }
        if self.max_connections_per_peer > self.max_connections {
            return Err(format!(
                "server.max_connections_per_peer ({}) must not exceed server.max_connections ({})",
                self.max_connections_per_peer, self.max_connections
            ));
        }
        match &self.tls {
            Some(tls) => {
                tls.load()?;
            }
            // Tokens and identities must not cross the network in clear.
            None if !self.listen.ip().is_loopback() => {
                return Err(format!(
                    "server.listen: {} is not a loopback address and [server.tls] is not set: \
                     set [server.tls] (cert_file, key_file) to serve HTTPS, or listen on \
                     loopback (127.0.0.1) behind a reverse proxy on the same host",
                    self.listen
                ));
            }
            None => {}
        }
        self.check_metrics()
    }

    /// The metrics listener: off loopback only behind a token, and not on `listen`'s
    /// port.
    fn check_metrics(&self) -> Result<(), String> {
        if self.metrics_token.is_some() && self.metrics_token_file.is_some() {
            return Err("server: give at most one of metrics_token and metrics_token_file".into());
        }
        if let Some(token) = &self.metrics_token
            && token.len() < 16
        {
            return Err("server.metrics_token: the token must be at least 16 characters".into());
        }
        let Some(metrics) = self.metrics_listen else {
            return Ok(());
        };
        let has_token = self.metrics_token.is_some() || self.metrics_token_file.is_some();
        if !metrics.ip().is_loopback() && !has_token {
            return Err(format!(
                "server.metrics_listen: {metrics} is not a loopback address and no \
                 server.metrics_token (or metrics_token_file) is set: the metrics and \
                 readiness details would be open to the network; set a token, or listen \
                 on loopback (127.0.0.1:9464), or set metrics_listen = \"\" to turn the \
                 metrics listener off"
            ));
        }
        let shared_ip = metrics.ip() == self.listen.ip()
            || metrics.ip().is_unspecified()
            || self.listen.ip().is_unspecified();
        if metrics.port() != 0 && metrics.port() == self.listen.port() && shared_ip {
            return Err(format!(
                "server.metrics_listen: {metrics} is server.listen's port ({}): give the \
                 metrics listener a port of its own",
                self.listen
            ));
        }
        Ok(())
    }

    /// The metrics listener's token, read from `metrics_token` or
    /// `metrics_token_file` (trailing newline removed); none if neither is set.
    /// An error names the key, never the token.
    pub fn metrics_token(&self) -> Result<Option<String>, ConfigError> {
        match (&self.metrics_token, &self.metrics_token_file) {
            (None, None) => Ok(None),
            (Some(token), _) => read_secret("server.metrics_token", Some(token), None).map(Some),
            (None, Some(file)) => {
                read_secret("server.metrics_token_file", None, Some(file)).map(Some)
            }
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Directory for the SQLite database and stored files (recordings, raw mail).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/senim.db`.
    /// A PostgreSQL server not on loopback (nor a Unix socket) must be reached with
    /// `sslmode=verify-full` in the URL: TLS, its certificate checked and its name.
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout_seconds: Seconds,
    /// Seconds a write waits for the database's write lock (held by another writer
    /// or process) before it is answered 503, to be retried.
    pub lock_wait_seconds: Seconds,
    /// PostgreSQL: PEM file of the CA that signed the server's certificate, trusted
    /// besides the built-in web PKI roots (for a server with a private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            url: String::new(),
            max_connections: 8,
            connect_timeout_seconds: Seconds::new(5),
            lock_wait_seconds: Seconds::new(5),
            ca_file: None,
        }
    }
}

impl DatabaseConfig {
    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn effective_url(&self) -> String {
        if self.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("senim.db").display())
        } else {
            self.url.clone()
        }
    }

    pub fn settings(&self) -> crate::db::DbSettings {
        crate::db::DbSettings {
            url: self.effective_url(),
            max_connections: self.max_connections,
            connect_timeout: self.connect_timeout_seconds.std(),
            lock_wait: self.lock_wait_seconds.std(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// The `[database]` values serde cannot check. Errors never show the URL, which
    /// may hold a password: only its scheme or host.
    fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if self.lock_wait_seconds.get() == 0 {
            return Err("database.lock_wait_seconds must be at least 1".into());
        }
        let url = self.effective_url();
        if crate::db::is_postgres_url(&url) {
            check_postgres_url(&url)?;
        } else if !url.starts_with("sqlite:") {
            // The scheme alone: the rest may hold a password.
            let scheme = url
                .split_once("://")
                .map(|(scheme, _)| scheme)
                .filter(|s| {
                    s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                })
                .map(|s| format!(" (not `{s}://`)"))
                .unwrap_or_default();
            return Err(format!(
                "database.url must start with sqlite:// or postgres://{scheme}"
            ));
        }
        if let Some(file) = &self.ca_file {
            check_ca_file(file)?;
        }
        Ok(())
    }
}

/// A PostgreSQL server off this machine is reached with `sslmode=verify-full`:
/// identities and texts never cross a network in clear, nor to a server that only
/// holds some certificate of the CA (`verify-ca`) without being the one named.
fn check_postgres_url(url: &str) -> Result<(), String> {
    let endpoint = crate::db::postgres_endpoint(url)
        .map_err(|e| format!("database.url: not a usable PostgreSQL URL: {e}"))?;
    let local = endpoint.unix_socket || is_loopback(&endpoint.host.to_ascii_lowercase());
    if local || endpoint.verifies_full() {
        return Ok(());
    }
    let given = match endpoint.ssl_mode {
        Some(mode) => format!("sslmode={}", ssl_mode_name(mode)),
        None => "no sslmode".to_owned(),
    };
    Err(format!(
        "database.url: the PostgreSQL server `{}` is not on loopback, so the URL must carry \
         sslmode=verify-full (TLS, the server's certificate and host name checked), not {given}; \
         give database.ca_file for a private CA",
        endpoint.host
    ))
}

fn ssl_mode_name(mode: sqlx::postgres::PgSslMode) -> &'static str {
    use sqlx::postgres::PgSslMode;
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// `database.ca_file` exists and holds at least one PEM certificate.
fn check_ca_file(file: &Path) -> Result<(), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("database.ca_file: {} does not exist", file.display())
        }
        _ => format!("database.ca_file: cannot read {}: {e}", file.display()),
    })?;
    let mut certificates = 0;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        certificate.map_err(|e| {
            format!(
                "database.ca_file: {} is not a PEM file of certificates: {e}",
                file.display()
            )
        })?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err(format!(
            "database.ca_file: {} holds no PEM certificate",
            file.display()
        ));
    }
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// IANA time zone of the trust line; Astana time is `Asia/Almaty`.
    pub timezone: Zone,
    /// Working hours of the line (clause 10.4), `HH:MM` local time.
    pub opens: TimeOfDay,
    pub closes: TimeOfDay,
    /// A calendar data file replacing the embedded one (Kurban Ait dates and the
    /// yearly transfers of days off); empty means the embedded file.
    pub file: Option<PathBuf>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            timezone: Zone(chrono_tz::Asia::Almaty),
            opens: TimeOfDay::hm(9, 0),
            closes: TimeOfDay::hm(18, 0),
            file: None,
        }
    }
}

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

/// How long personal data is kept (`[retention]`), in days, as the enterprise's
/// records schedule says; `senim journal purge` destroys what is past its period.
/// An appeal's period runs from when its case ended (`Status::ends_the_case`). 0 is refused: personal data
/// is not kept forever, and "destroy at once" is never what a schedule means.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// An ended appeal classified as corruption: its reporter's identity and text,
    /// and everything its channels keep of it.
    pub corruption_days: Days,
    /// An ended appeal classified as a criminal offence or security threat (6.3).
    pub criminal_offence_days: Days,
    /// An ended appeal classified as not corruption.
    pub not_corruption_days: Days,
    /// An ended appeal never classified.
    pub unclassified_days: Days,
    /// The caller numbers of calls that never became appeals (missed calls), from
    /// the call's start.
    pub missed_call_days: Days,
    /// Machine-made mail tied to no appeal (bounces, auto-replies: a bounced
    /// receipt carries the reporter's address), from its receipt.
    pub automatic_mail_days: Days,
    /// An ended appeal's raw mail (the message as received, its attachments), if
    /// kept for less than the appeal itself; unset: as long as the appeal.
    pub raw_mail_days: Option<Days>,
    /// An ended appeal's call recordings, if kept for less than the appeal itself;
    /// unset: as long as the appeal.
    pub recordings_days: Option<Days>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            corruption_days: Days::new(1826),
            criminal_offence_days: Days::new(1826),
            not_corruption_days: Days::new(1096),
            unclassified_days: Days::new(1096),
            missed_call_days: Days::new(90),
            automatic_mail_days: Days::new(90),
            raw_mail_days: None,
            recordings_days: None,
        }
    }
}

impl RetentionConfig {
    /// How long a closed appeal of `category` is kept.
    pub fn appeal_days(&self, category: crate::journal::Category) -> Days {
        use crate::journal::Category;
        match category {
            Category::Corruption => self.corruption_days,
            Category::CriminalOffence => self.criminal_offence_days,
            Category::NotCorruption => self.not_corruption_days,
            Category::Unclassified => self.unclassified_days,
        }
    }

    /// How long a closed appeal's raw mail is kept: never longer than the appeal.
    pub fn raw_mail_days(&self, category: crate::journal::Category) -> Days {
        let appeal = self.appeal_days(category);
        self.raw_mail_days.map_or(appeal, |days| days.min(appeal))
    }

    /// How long a closed appeal's recordings are kept: never longer than the appeal.
    pub fn recordings_days(&self, category: crate::journal::Category) -> Days {
        let appeal = self.appeal_days(category);
        self.recordings_days.map_or(appeal, |days| days.min(appeal))
    }

    fn check(&self) -> Result<(), String> {
        let keys = [
            ("corruption_days", Some(self.corruption_days)),
            ("criminal_offence_days", Some(self.criminal_offence_days)),
            ("not_corruption_days", Some(self.not_corruption_days)),
            ("unclassified_days", Some(self.unclassified_days)),
            ("missed_call_days", Some(self.missed_call_days)),
            ("automatic_mail_days", Some(self.automatic_mail_days)),
            ("raw_mail_days", self.raw_mail_days),
            ("recordings_days", self.recordings_days),
        ];
        for (key, days) in keys {
            if days.is_some_and(|d| d.get() == 0) {
                return Err(format!(
                    "retention.{key} must be at least 1 (days): personal data is not kept \
                     forever; take the period from the enterprise's records schedule"
                ));
            }
        }
        Ok(())
    }
}

/// The telephone channel (`[pbx]`): which PBXes may post call records, what a
/// call becomes, and the limits on what they send. See `docs/pbx.md`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbxConfig {
    /// The PBXes allowed to post; none means the telephone channel refuses everything.
    pub sources: Vec<PbxSourceConfig>,
    /// Largest call record (JSON, form or CTI event) accepted, in bytes.
    pub max_record_bytes: usize,
    /// Largest recording accepted (uploaded or downloaded), in bytes; more is 413.
    pub max_recording_bytes: usize,
    /// Seconds between attempts to download a recording URL (doubled each time, up
    /// to an hour), and how many attempts before giving up.
    pub recording_retry_seconds: Seconds,
    pub recording_max_attempts: u32,
    /// Seconds one download may take.
    pub recording_timeout_seconds: Seconds,
    /// The trust line's numbers (DIDs); when set, records for other numbers are refused.
    pub trust_line_numbers: Vec<String>,
    /// How far in the future (by Senim's clock) a call's start may be, in seconds;
    /// later is refused with 422.
    pub clock_skew_seconds: Seconds,
    /// How long after its end a call record may arrive, in seconds, and still be
    /// registered at the call's start; later it is a late delivery, registered when
    /// Senim receives it.
    pub late_tolerance_seconds: Seconds,
    /// Hours after a CTI `answer` without a `hangup` when the call is registered
    /// anyway, flagged unfinished.
    pub unanswered_hangup_hours: Hours,
    pub rules: PbxRulesConfig,
}

impl Default for PbxConfig {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            max_record_bytes: 64 * 1024,
            max_recording_bytes: 32 * 1024 * 1024,
            recording_retry_seconds: Seconds::new(30),
            recording_max_attempts: 20,
            recording_timeout_seconds: Seconds::new(120),
            trust_line_numbers: Vec::new(),
            clock_skew_seconds: Seconds::new(300),
            late_tolerance_seconds: Seconds::new(3600),
            unanswered_hangup_hours: Hours::new(4),
            rules: PbxRulesConfig::default(),
        }
    }
}

/// One PBX that posts call records (`[[pbx.sources]]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbxSourceConfig {
    /// Short name, part of every call's key (`<name>:<call id>`) and of the audit log.
    pub name: String,
    /// Bearer token (inline or, better, `token_file`), at least 16 characters.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    /// HMAC-SHA256 key; when set, every request must be signed (`X-Senim-Signature`).
    pub hmac_secret: Option<String>,
    pub hmac_secret_file: Option<PathBuf>,
    /// How far the signed `X-Senim-Timestamp` may be from now, in seconds.
    pub signature_tolerance_seconds: Seconds,
    /// Networks the PBX posts from (CIDR, e.g. `10.0.0.0/8`); empty means any.
    pub allowed_networks: Vec<Network>,
    /// Prefix turning an Asterisk recording file name into a URL to download it from.
    pub recording_base_url: Option<String>,
    /// Time zone of Asterisk's `YYYY-MM-DD HH:MM:SS` CDR times; default: the calendar's.
    pub timezone: Option<Zone>,
}

impl Default for PbxSourceConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            token: None,
            token_file: None,
            hmac_secret: None,
            hmac_secret_file: None,
            signature_tolerance_seconds: Seconds::new(300),
            allowed_networks: Vec::new(),
            recording_base_url: None,
            timezone: None,
        }
    }
}

/// What a call becomes (`[pbx.rules]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbxRulesConfig {
    /// An answered call is registered as a phone appeal (true) or only logged.
    pub register_answered: bool,
    /// A voicemail is registered as an appeal with its recording kept.
    pub register_voicemail: bool,
    /// A missed call (no answer, busy, failed) with no message is registered too.
    pub register_missed: bool,
    /// A no-answer or busy call that carries a recording is a voicemail.
    pub recording_means_voicemail: bool,
    /// Answering extensions (or Asterisk `lastapp` values) that are a voicemail box.
    pub voicemail_extensions: Vec<String>,
    /// The caller's number becomes the appeal's feedback phone (the operator may change it).
    pub caller_number_as_phone: bool,
}

impl Default for PbxRulesConfig {
    fn default() -> Self {
        Self {
            register_answered: true,
            register_voicemail: true,
            register_missed: false,
            recording_means_voicemail: true,
            voicemail_extensions: vec!["voicemail".into(), "VoiceMail".into()],
            caller_number_as_phone: true,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `auto` (text on a terminal, JSON otherwise), `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `senim=debug,info`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            level: "info".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

/// How the outbox's sender reaches the SMTP server.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `tls` (implicit TLS, usually port 465), `starttls` (usually 587) or `none`
    /// (only for a server on loopback).
    pub security: SmtpSecurity,
    /// AUTH user; empty means no AUTH.
    pub username: String,
    /// The password inline, or (better) `password_file`.
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Seconds one SMTP command may take.
    pub timeout_seconds: Seconds,
    /// Connections kept open to the server.
    pub pool_size: u32,
    /// PEM file of a private CA that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// The sender address of every mail (`From` and envelope).
    pub from: Address,
    /// First retry after a transient failure; doubled each attempt up to `retry_max_seconds`.
    pub retry_initial_seconds: Seconds,
    pub retry_max_seconds: Seconds,
    /// How often the sender looks for due mail when not woken by a new one.
    pub poll_seconds: Seconds,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password: None,
            password_file: None,
            timeout_seconds: Seconds::new(30),
            pool_size: 2,
            ca_file: None,
            from: Address(lettre::message::Mailbox::new(
                None,
                lettre::Address::new("senim", "localhost").expect("a valid built-in address"),
            )),
            retry_initial_seconds: Seconds::new(30),
            retry_max_seconds: Seconds::new(3600),
            poll_seconds: Seconds::new(5),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Tls,
    Starttls,
    None,
}

/// Who is told what, and when (clauses 10.6, 10.9, 6.3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The Director General's address(es): corruption alerts and the digest.
    pub director: Vec<Address>,
    /// Deputies, told too when an alert is still undelivered near its deadline.
    pub deputies: Vec<Address>,
    /// The competent state body's address for criminal offences and threats (6.3).
    pub competent_authority: Vec<Address>,
    /// The compliance manager(s): the 09:00 digest of deadlines.
    pub managers: Vec<Address>,
    /// The auditors: the audit chain's signed head, daily (`journal.publish_head_time`).
    pub auditors: Vec<Address>,
    /// Astana time on the day after registration when still-unclassified appeals
    /// go to the Director in one digest.
    pub digest_cutoff: TimeOfDay,
    /// Hours before an alert's deadline (23:59:59 on the day after registration)
    /// at which an undelivered alert also goes to the deputies.
    pub escalate_hours_before: u32,
    /// Whether alerts carry the reporter's identity (a state secret, 10.5).
    pub include_identity: bool,
    /// Whether the managers are told of every new appeal at once, after hours
    /// too (6.3). A threat to security is told to them and the Director whatever
    /// this says.
    pub arrival_notice: bool,
    /// Astana time of the manager's deadline digest on working days.
    pub deadline_digest_time: TimeOfDay,
    /// Seconds between two runs of the scheduler.
    pub interval_seconds: Seconds,
    /// The unit that gets appeals no route below matches (10.9); none by default.
    #[serde(deserialize_with = "values::empty_is_none")]
    pub default_unit: Option<Address>,
    /// Structural units that not-corruption appeals are sent on to (10.9), and
    /// that the manager may send any appeal on to; first match wins.
    pub routes: Vec<RouteConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            director: Vec::new(),
            deputies: Vec::new(),
            competent_authority: Vec::new(),
            managers: Vec::new(),
            auditors: Vec::new(),
            digest_cutoff: TimeOfDay::hm(10, 0),
            escalate_hours_before: 6,
            include_identity: false,
            arrival_notice: true,
            deadline_digest_time: TimeOfDay::hm(9, 0),
            interval_seconds: Seconds::new(30),
            default_unit: None,
            routes: Vec::new(),
        }
    }
}

/// One row of the routing table: a unit, its address, and what it gets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub unit: String,
    pub address: Address,
    /// Categories (`not_corruption`, `corruption`, ...) this unit gets.
    #[serde(default)]
    pub categories: Vec<crate::journal::Category>,
    /// Words in the subject or substance (case-insensitive) that send an appeal here.
    #[serde(default)]
    pub keywords: Vec<String>,
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
        let (opens, closes) = (self.calendar.opens, self.calendar.closes);
        if closes <= opens {
            return Err(format!(
                "calendar.closes ({closes}) must be later than calendar.opens ({opens})"
            ));
        }
        if let Some(file) = &self.calendar.file
            && !file.exists()
        {
            return Err(format!("calendar.file: {} does not exist", file.display()));
        }
        if self.journal.head_publish_seconds.get() == 0 {
            return Err("journal.head_publish_seconds must be at least 1".into());
        }
        let prefix = &self.journal.registration_prefix;
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "journal.registration_prefix: `{prefix}` must be non-empty ASCII letters, digits or `-`"
            ));
        }
        for (i, m) in self.api.managers.iter().enumerate() {
            let key = format!("api.managers[{i}]");
            if m.name.trim().is_empty() {
                return Err(format!("{key}.name must not be empty"));
            }
            if m.token.is_some() == m.token_file.is_some() {
                return Err(format!("{key}: give exactly one of token and token_file"));
            }
        }
        self.database.check()?;
        check_smtp(&self.smtp)?;
        self.check_pbx()?;
        check_alerts(&self.alerts)?;
        self.mailbox.check()?;
        self.retention.check()?;
        self.console.check()?;
        self.authority.check()?;
        self.documents.check()?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| format!("log.level: `{}` is not a valid filter: {e}", self.log.level))?;
        Ok(())
    }

    /// The receipt's sender: `mailbox.ack.from`, else `smtp.from`. One address
    /// for the receipt's `From:` and its Message-ID's domain.
    pub fn receipt_from(&self) -> &Address {
        self.mailbox.ack.from.as_ref().unwrap_or(&self.smtp.from)
    }
}

impl Config {
    /// The `[pbx]` values serde cannot check.
    fn check_pbx(&self) -> Result<(), String> {
        let pbx = &self.pbx;
        let mut names = std::collections::HashSet::new();
        for (i, s) in pbx.sources.iter().enumerate() {
            let key = format!("pbx.sources[{i}]");
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "{key}.name: `{}` must be non-empty ASCII letters, digits, `-` or `_`",
                    s.name
                ));
            }
            if !names.insert(s.name.as_str()) {
                return Err(format!("{key}.name: `{}` is used twice", s.name));
            }
            if s.token.is_some() == s.token_file.is_some() {
                return Err(format!("{key}: give exactly one of token and token_file"));
            }
            if s.hmac_secret.is_some() && s.hmac_secret_file.is_some() {
                return Err(format!(
                    "{key}: give at most one of hmac_secret and hmac_secret_file"
                ));
            }
            if s.signature_tolerance_seconds.get() == 0
                && (s.hmac_secret.is_some() || s.hmac_secret_file.is_some())
            {
                return Err(format!(
                    "{key}.signature_tolerance_seconds must be at least 1"
                ));
            }
            if let Some(url) = &s.recording_base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(format!(
                    "{key}.recording_base_url: `{url}` must start with http:// or https://"
                ));
            }
        }
        if pbx.max_record_bytes < 1024 {
            return Err("pbx.max_record_bytes must be at least 1024".into());
        }
        if pbx.max_recording_bytes == 0 {
            return Err("pbx.max_recording_bytes must be at least 1".into());
        }
        if pbx.recording_retry_seconds.get() == 0 || pbx.recording_timeout_seconds.get() == 0 {
            return Err(
                "pbx.recording_retry_seconds and pbx.recording_timeout_seconds must be at least 1"
                    .into(),
            );
        }
        if pbx.clock_skew_seconds.get() > 86_400 {
            return Err("pbx.clock_skew_seconds must be at most 86400 (a day)".into());
        }
        if !(60..=90 * 86_400).contains(&pbx.late_tolerance_seconds.get()) {
            return Err("pbx.late_tolerance_seconds must be from 60 to 7776000 (90 days)".into());
        }
        if !(1..=168).contains(&pbx.unanswered_hangup_hours.get()) {
            return Err("pbx.unanswered_hangup_hours must be from 1 to 168 (a week)".into());
        }
        Ok(())
    }
}

fn check_smtp(smtp: &SmtpConfig) -> Result<(), String> {
    if smtp.host.trim().is_empty() {
        return Err("smtp.host must not be empty".into());
    }
    if smtp.security == SmtpSecurity::None && !is_loopback(&smtp.host) {
        return Err(format!(
            "smtp.security = \"none\" is only allowed for a server on loopback, not `{}`; use \"tls\" or \"starttls\"",
            smtp.host
        ));
    }
    if smtp.password.is_some() && smtp.password_file.is_some() {
        return Err("smtp: give at most one of password and password_file".into());
    }
    if smtp.username.is_empty() != (smtp.password.is_none() && smtp.password_file.is_none()) {
        return Err("smtp.username and smtp.password (or smtp.password_file) go together".into());
    }
    if let Some(file) = &smtp.ca_file
        && !file.exists()
    {
        return Err(format!("smtp.ca_file: {} does not exist", file.display()));
    }
    if smtp.pool_size == 0 {
        return Err("smtp.pool_size must be at least 1".into());
    }
    if smtp.timeout_seconds.get() == 0
        || smtp.poll_seconds.get() == 0
        || smtp.retry_initial_seconds.get() == 0
    {
        return Err("smtp.timeout_seconds, smtp.poll_seconds and smtp.retry_initial_seconds must be at least 1".into());
    }
    if smtp.retry_max_seconds.get() < smtp.retry_initial_seconds.get() {
        return Err(
            "smtp.retry_max_seconds must not be less than smtp.retry_initial_seconds".into(),
        );
    }
    Ok(())
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

fn check_alerts(alerts: &AlertsConfig) -> Result<(), String> {
    if alerts.escalate_hours_before > 23 {
        return Err("alerts.escalate_hours_before must be between 0 and 23".into());
    }
    if alerts.interval_seconds.get() == 0 {
        return Err("alerts.interval_seconds must be at least 1".into());
    }
    for (i, route) in alerts.routes.iter().enumerate() {
        let key = format!("alerts.routes[{i}]");
        if route.unit.trim().is_empty() {
            return Err(format!("{key}.unit must not be empty"));
        }
        if route.categories.is_empty() && route.keywords.is_empty() {
            return Err(format!("{key}: give categories or keywords (or both)"));
        }
    }
    Ok(())
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
mod tests {
    use super::*;
    use std::io::Write;

    fn load_str(toml: &str) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(toml.as_bytes()).unwrap();
        let source = ConfigSource {
            path: file.path().to_owned(),
            required: true,
        };
        Config::load_with_env(&source, Env::prefixed("SENIM_TEST_NONE_").split("__"))
    }

    #[test]
    fn only_section_key_variables_are_configuration() {
        let names = [
            "SENIM_CONFIG",
            "SENIM_BIN",
            "SENIM_SERVER__LISTEN",
            "senim_database__url",
            "SENIM_NOSUCH__KEY",
            "SENIM_SERVER_LISTEN",
            "SENIMTEST_PYTHON",
            "PATH",
        ];
        let ignored = ignored_among(names.iter().map(|n| n.to_string()));
        assert_eq!(
            ignored,
            ["SENIM_BIN", "SENIM_NOSUCH__KEY", "SENIM_SERVER_LISTEN"]
        );
    }

    #[test]
    fn no_file_gives_working_defaults() {
        let source = ConfigSource {
            path: PathBuf::from("/nonexistent/senim.toml"),
            required: false,
        };
        let config = Config::load_with_env(&source, Env::prefixed("SENIM_TEST_NONE_")).unwrap();
        assert_eq!(config.database.effective_url(), "sqlite://data/senim.db");
        assert_eq!(*config.calendar.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(config.calendar.opens.to_string(), "09:00");
        assert_eq!(config.receipt_from().to_string(), "senim@localhost");
    }

    #[test]
    fn values_are_parsed_once_and_fallbacks_resolved_at_load() {
        let config = load_str(
            "[calendar]\ntimezone = \"Asia/Aqtobe\"\nopens = \"08:30\"\n\n\
             [smtp]\nfrom = \"Senim <trust@example.kz>\"\n\n\
             [alerts]\ndefault_unit = \"\"\ndirector = [\"director@example.kz\"]\n\n\
             [mailbox.ack]\nfrom = \"\"\nlanguages = [\"ru\", \"en\"]\n",
        )
        .unwrap();
        assert_eq!(*config.calendar.timezone, chrono_tz::Asia::Aqtobe);
        assert_eq!(config.calendar.opens, TimeOfDay::hm(8, 30));
        assert!(
            config.alerts.default_unit.is_none(),
            "an empty address is none"
        );
        assert_eq!(config.alerts.director[0].email.domain(), "example.kz");
        assert_eq!(
            config.mailbox.ack.languages,
            [mailbox::Language::Ru, mailbox::Language::En]
        );
        // The receipt's From: is smtp.from's, display name and domain alike.
        assert_eq!(config.receipt_from(), &config.smtp.from);
    }

    #[test]
    fn retention_periods_are_days_never_zero_and_media_never_outlive_the_appeal() {
        use crate::journal::Category;
        let defaults = RetentionConfig::default();
        assert_eq!(defaults.appeal_days(Category::Corruption), Days::new(1826));
        assert_eq!(
            defaults.raw_mail_days(Category::NotCorruption),
            Days::new(1096)
        );
        let config = load_str(
            "[retention]\nnot_corruption_days = 30\nraw_mail_days = 60\nrecordings_days = 7\n",
        )
        .unwrap();
        let r = &config.retention;
        assert_eq!(r.appeal_days(Category::NotCorruption), Days::new(30));
        // Raw mail kept 60 days, but the appeal only 30: it goes with the appeal.
        assert_eq!(r.raw_mail_days(Category::NotCorruption), Days::new(30));
        assert_eq!(r.raw_mail_days(Category::Corruption), Days::new(60));
        assert_eq!(r.recordings_days(Category::CriminalOffence), Days::new(7));
        for key in ["unclassified_days", "missed_call_days", "recordings_days"] {
            let err = load_str(&format!("[retention]\n{key} = 0\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("retention.{key}")), "{err}");
            assert!(err.contains("at least 1"), "{err}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load_str("[server]\nlisten = \"127.0.0.1:9\"\nlistne = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listne"), "{err}");
    }

    #[test]
    fn wrong_type_is_named_with_its_key() {
        let err = load_str("[database]\nmax_connections = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.max_connections"), "{err}");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for listen in ["127.0.0.1:8080", "127.0.0.2:8080", "[::1]:8080"] {
            let config = load_str(&format!("[server]\nlisten = \"{listen}\"\n"));
            assert!(config.is_ok(), "{listen}: {:?}", config.err());
        }
        let err = load_str("[server]\nlisten = \"192.0.2.7:8080\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.listen"), "{err}");
        assert!(err.contains("[server.tls]"), "{err}");
        assert!(err.contains("loopback"), "{err}");
        // With [server.tls] any address will do: what is wrong is then the files.
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate\n").unwrap();
        let err = load_str(&format!(
            "[server]\nlisten = \"0.0.0.0:8443\"\n\n[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            cert.display()
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("server.tls.cert_file"), "{err}");
        assert!(!err.contains("server.listen"), "{err}");
    }

    #[test]
    fn the_metrics_listener_is_on_loopback_unless_it_has_a_token() {
        let config = load_str("").unwrap();
        assert_eq!(
            config.server.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        assert!(config.server.metrics_token().unwrap().is_none());
        let off = load_str("[server]\nmetrics_listen = \"\"\n").unwrap();
        assert_eq!(off.server.metrics_listen, None, "empty turns it off");
        for open in ["0.0.0.0:9464", "[::]:9464", "192.0.2.7:9464"] {
            let err = load_str(&format!("[server]\nmetrics_listen = \"{open}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("server.metrics_listen"), "{open}: {err}");
            assert!(err.contains("metrics_token"), "{open}: {err}");
        }
        let open = load_str(
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token = \"0123456789abcdef\"\n",
        )
        .unwrap();
        assert_eq!(
            open.server.metrics_token().unwrap().as_deref(),
            Some("0123456789abcdef")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("metrics.token");
        std::fs::write(&file, "0123456789abcdef-from-a-file\n").unwrap();
        let open = load_str(&format!(
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nmetrics_token_file = \"{}\"\n",
            file.display()
        ))
        .unwrap();
        assert_eq!(
            open.server.metrics_token().unwrap().as_deref(),
            Some("0123456789abcdef-from-a-file")
        );
        // A token too short is named by its key, never shown.
        let err = load_str("[server]\nmetrics_token = \"s3cr3t\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.metrics_token"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        for (toml, key) in [
            (
                "[calendar]\ntimezone = \"Mars/Olympus\"\n",
                "calendar.timezone",
            ),
            ("[calendar]\nopens = \"9 am\"\n", "calendar.opens"),
            (
                "[calendar]\nopens = \"18:00\"\ncloses = \"09:00\"\n",
                "calendar.closes",
            ),
            (
                "[journal]\nregistration_prefix = \"T L\"\n",
                "journal.registration_prefix",
            ),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
            (
                "[database]\nurl = \"postgres://senim@db.example.kz/senim\"\n",
                "database.url",
            ),
            (
                "[database]\nurl = \"postgres://senim@db.example.kz/senim?sslmode=require\"\n",
                "database.url",
            ),
            (
                "[database]\nurl = \"postgres://senim@10.0.0.5:5432/senim?sslmode=verify-ca\"\n",
                "database.url",
            ),
            (
                "[database]\nca_file = \"/nonexistent/db-ca.pem\"\n",
                "database.ca_file",
            ),
            ("[server]\nlisten = \"nowhere\"\n", "server.listen"),
            ("[server]\nlisten = \"0.0.0.0:8443\"\n", "server.listen"),
            ("[server]\nlisten = \"[::]:8443\"\n", "server.listen"),
            (
                "[server]\nmetrics_listen = \"nowhere\"\n",
                "server.metrics_listen",
            ),
            (
                "[server]\nmetrics_listen = \"0.0.0.0:9464\"\n",
                "server.metrics_listen",
            ),
            (
                "[server]\nlisten = \"127.0.0.1:9464\"\n",
                "server.metrics_listen",
            ),
            (
                "[server]\nmetrics_token = \"0123456789abcdef\"\nmetrics_token_file = \"/t\"\n",
                "metrics_token_file",
            ),
            (
                "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n",
                "server.tls.cert_file",
            ),
            (
                "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\n",
                "server.tls",
            ),
            (
                "[smtp]\nhost = \"mail.example.kz\"\nsecurity = \"none\"\n",
                "smtp.security",
            ),
            (
                "[alerts]\ndirector = [\"not an address\"]\n",
                "alerts.director[0]",
            ),
            (
                "[alerts]\ndigest_cutoff = \"ten\"\n",
                "alerts.digest_cutoff",
            ),
            (
                "[[alerts.routes]]\nunit = \"HR\"\naddress = \"hr@example.kz\"\ncategories = [\"gossip\"]\n",
                "alerts.routes[0].categories",
            ),
            (
                "[[pbx.sources]]\nname = \"a b\"\ntoken = \"0123456789abcdef\"\n",
                "pbx.sources[0].name",
            ),
            ("[[pbx.sources]]\nname = \"a\"\n", "pbx.sources[0]"),
            (
                "[[pbx.sources]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nallowed_networks = [\"10.0.0/8\"]\n",
                "pbx.sources[0].allowed_networks[0]",
            ),
            ("[pbx]\nmax_record_bytes = 10\n", "pbx.max_record_bytes"),
            (
                "[pbx]\nclock_skew_seconds = 90000\n",
                "pbx.clock_skew_seconds",
            ),
            (
                "[pbx]\nlate_tolerance_seconds = 0\n",
                "pbx.late_tolerance_seconds",
            ),
            (
                "[pbx]\nunanswered_hangup_hours = 0\n",
                "pbx.unanswered_hangup_hours",
            ),
            (
                "[server]\nheader_read_timeout_seconds = 0\n",
                "server.header_read_timeout_seconds",
            ),
            (
                "[server]\nmax_concurrent_requests = 0\n",
                "server.max_concurrent_requests",
            ),
            (
                "[server]\nmax_connections = 10\nmax_connections_per_peer = 11\n",
                "server.max_connections_per_peer",
            ),
            (
                "[mailbox.ack]\nlanguages = [\"de\"]\n",
                "mailbox.ack.languages",
            ),
            ("[mailbox.ack]\nfrom = \"trust line\"\n", "mailbox.ack.from"),
            ("[smtp]\nfrom = \"\"\n", "smtp.from"),
            (
                "[[pbx.sources]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\ntimezone = \"Asia/Nowhere\"\n",
                "pbx.sources[0].timezone",
            ),
        ] {
            let err = load_str(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }

    /// The `[database]` table with `url` set to `url`.
    fn database_url(url: &str) -> String {
        format!("[database]\nurl = \"{url}\"\n")
    }

    #[test]
    fn postgres_off_loopback_needs_verify_full_and_the_password_is_not_shown() {
        for url in [
            "postgres://senim:s3cret-pw@db.example.kz/senim",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=disable",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=prefer",
            "postgresql://senim:s3cret-pw@db.example.kz:6432/senim?sslmode=require",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-ca",
            // The last sslmode is the one sqlx applies.
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-full&sslmode=require",
            "postgres://senim:s3cret-pw@[2001:db8::5]/senim",
            "postgres://senim:s3cret-pw@127.0.0.1.example.kz/senim",
            // The `host` and `hostaddr` parameters win over the URL's host.
            "postgres://senim:s3cret-pw@localhost/senim?host=db.example.kz",
            "postgres://senim:s3cret-pw@localhost/senim?hostaddr=192.0.2.7",
        ] {
            let err = load_str(&database_url(url)).unwrap_err().to_string();
            assert!(err.contains("database.url"), "{url}: {err}");
            assert!(err.contains("sslmode=verify-full"), "{url}: {err}");
            assert!(
                !err.contains("s3cret-pw"),
                "{url}: the password shown: {err}"
            );
        }
        let err = load_str(&database_url("mysql://senim:s3cret-pw@db.example.kz/senim"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database.url") && !err.contains("s3cret-pw"),
            "{err}"
        );
    }

    #[test]
    fn postgres_on_loopback_takes_any_sslmode_and_off_it_verify_full() {
        for url in [
            "postgres://senim:pw@localhost/senim",
            "postgres://senim:pw@LocalHost:5433/senim?sslmode=disable",
            "postgres://senim@127.0.0.1/senim?sslmode=prefer",
            "postgres://senim@127.8.9.10:5432/senim?sslmode=require",
            "postgres://senim@[::1]:5432/senim?sslmode=verify-ca",
            "postgres://senim@%2Fvar%2Frun%2Fpostgresql/senim",
            "postgres:///senim?host=/var/run/postgresql",
            "postgres://senim:pw@db.example.kz/senim?sslmode=verify-full",
            "postgres://senim:pw@db.example.kz/senim?ssl-mode=VERIFY-FULL",
            "postgresql://senim@192.0.2.7:6432/senim?sslmode=verify-full",
            "postgres://senim@localhost/senim?host=db.example.kz&sslmode=verify-full",
        ] {
            if let Err(e) = load_str(&database_url(url)) {
                panic!("{url} refused: {e}");
            }
        }
    }

    #[test]
    fn database_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "not a certificate\n").unwrap();
        let err = load_str(&format!(
            "[database]\nca_file = \"{}\"\n",
            not_pem.display()
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("database.ca_file"), "{err}");
    }
}
