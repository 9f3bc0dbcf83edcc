//! `[smtp]`: how the outbox's sender reaches the SMTP server.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Address, Seconds, is_loopback};

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

impl SmtpConfig {
    /// The `[smtp]` values serde cannot check.
    pub(super) fn check(&self) -> Result<(), String> {
        let smtp = self;
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
            return Err(
                "smtp.username and smtp.password (or smtp.password_file) go together".into(),
            );
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
}
