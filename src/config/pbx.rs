//! `[pbx]`: which PBXes may post call records (`[[pbx.sources]]`), what a call
//! becomes (`[pbx.rules]`), and the limits on what they send.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Hours, Network, Seconds, Zone};

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

impl PbxConfig {
    /// The `[pbx]` values serde cannot check.
    pub(super) fn check(&self) -> Result<(), String> {
        let pbx = self;
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
