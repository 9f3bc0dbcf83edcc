//! The sender task: takes due mail from the outbox and hands it to the SMTP server
//! with lettre (implicit TLS, STARTTLS, or plain on loopback; AUTH; timeouts; a
//! pool). A transient failure (4xx, connection or TLS trouble, timeout) is retried
//! with exponential backoff; a permanent one (5xx) stops the mail and keeps why.
//!
//! On shutdown the mail in hand gets a short while to finish; a transaction still
//! open after it is dropped and the mail handed back (`pending`, due now), so the
//! next start of any Senim process sends it at once instead of waiting for this
//! process's claim to run out.

use std::time::Duration;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::watch;

use super::{Outbox, Outgoing};
use crate::clock::SharedClock;
use crate::config::{SmtpConfig, SmtpSecurity};

/// How long to wait after the n-th failed attempt.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// `initial * 2^(attempts-1)`, at most `max`.
    pub fn after(&self, attempts: i64) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.initial
            .checked_mul(1u32 << exp)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// What one pass over the due mail did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Delivers the outbox over SMTP.
pub struct Sender {
    outbox: Outbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    clock: SharedClock,
    /// This process in the outbox's sending claims (`crate::instance`).
    owner: String,
    /// How long a sending claim lasts: well over one SMTP transaction.
    claim: chrono::Duration,
    backoff: Backoff,
    poll: Duration,
}

impl Sender {
    /// Builds the SMTP transport from `[smtp]`; nothing is connected yet. `owner`
    /// names this process in the sending claims (`crate::instance::id`).
    pub fn new(
        outbox: Outbox,
        config: &SmtpConfig,
        clock: SharedClock,
        owner: String,
    ) -> anyhow::Result<Sender> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout_seconds.std()))
            .pool_config(PoolConfig::new().max_size(config.pool_size));
        if config.security != SmtpSecurity::None {
            let mut tls = TlsParameters::builder(config.host.clone());
            if let Some(ca) = &config.ca_file {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("smtp.ca_file: cannot read {}", ca.display()))?;
                let cert = Certificate::from_pem(&pem).with_context(|| {
                    format!("smtp.ca_file: {} is not a PEM certificate", ca.display())
                })?;
                tls = tls.add_root_certificate(cert);
            }
            let tls = tls.build().context("smtp: cannot set up TLS")?;
            builder = builder.tls(match config.security {
                SmtpSecurity::Tls => Tls::Wrapper(tls),
                _ => Tls::Required(tls),
            });
        }
        let password = crate::config::read_password(
            "smtp.password",
            config.password.as_deref(),
            config.password_file.as_deref(),
        )?;
        if let Some(password) = password
            && !config.username.is_empty()
        {
            builder = builder.credentials(Credentials::new(config.username.clone(), password));
        }
        // Each SMTP command has `timeout_seconds`; a transaction is a handful of them.
        let claim = i64::try_from(config.timeout_seconds.get().saturating_mul(10).max(60))
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::hours(1));
        Ok(Sender {
            outbox,
            transport: builder.build(),
            clock,
            owner,
            claim,
            backoff: Backoff {
                initial: config.retry_initial_seconds.std(),
                max: config.retry_max_seconds.std(),
            },
            poll: config.poll_seconds.std(),
        })
    }

    /// One pass: every mail due at the clock's `now`, one after the other.
    pub async fn deliver_due(&self) -> anyhow::Result<Pass> {
        self.pass(&Cutoff::never()).await
    }

    async fn pass(&self, cutoff: &Cutoff) -> anyhow::Result<Pass> {
        let mut pass = Pass::default();
        loop {
            let now = self.clock.now();
            let due = self.outbox.due(now, &self.owner, 50).await?;
            if due.is_empty() {
                return Ok(pass);
            }
            for mail in due {
                if cutoff.stopping() {
                    // Shutting down: what is left stays due for the next start.
                    return Ok(pass);
                }
                match self.deliver(&mail, cutoff).await? {
                    Outcome::Interrupted => return Ok(pass),
                    Outcome::Sent => pass.sent += 1,
                    Outcome::Retry { server_reached } => {
                        pass.retried += 1;
                        if !server_reached {
                            // The server is unreachable: the rest waits for the next pass
                            // rather than each mail waiting out its own timeout.
                            return Ok(pass);
                        }
                    }
                    Outcome::Failed => pass.failed += 1,
                    Outcome::Skipped => {}
                }
            }
            if pass.retried > 0 {
                // What is left waits for its next attempt time.
                return Ok(pass);
            }
        }
    }

    async fn deliver(&self, stored: &Outgoing, cutoff: &Cutoff) -> anyhow::Result<Outcome> {
        // A sealed mail is opened only here, in memory, for the SMTP transaction.
        let mail = match self.outbox.open(stored) {
            Ok(mail) => mail,
            Err(e) => {
                self.outbox.mark_failed(stored.id, &e.to_string()).await?;
                tracing::error!(outbox_id = stored.id, reference = %stored.reference, "mail failed: it cannot be opened (see senim outbox list)");
                return Ok(Outcome::Failed);
            }
        };
        let mail = &mail;
        let envelope = envelope(mail);
        let envelope = match envelope {
            Ok(e) => e,
            Err(e) => {
                let reason = scrub(mail, format!("bad address: {e}"));
                self.outbox.mark_failed(mail.id, &reason).await?;
                tracing::error!(outbox_id = mail.id, reference = %mail.reference, "mail failed: bad address (see senim outbox list)");
                return Ok(Outcome::Failed);
            }
        };
        // Committed before the SMTP transaction: a crash from here on resends.
        let now = self.clock.now();
        if !self
            .outbox
            .mark_sending(mail.id, &self.owner, now, now + self.claim)
            .await?
        {
            tracing::debug!(outbox_id = mail.id, "mail taken by another Senim process");
            return Ok(Outcome::Skipped);
        }
        let result = tokio::select! {
            result = self.transport.send_raw(&envelope, &mail.message) => result,
            () = cutoff.reached() => {
                // The transaction is dropped unfinished: hand the mail back, due now.
                // (If the server had taken it, the recipient gets it twice, with one
                // Message-ID; never none.)
                let now = self.clock.now();
                self.outbox
                    .mark_retry(mail.id, now, "interrupted: Senim shut down during the SMTP transaction")
                    .await?;
                tracing::warn!(outbox_id = mail.id, kind = %mail.kind, reference = %mail.reference, "mail delivery interrupted by shutdown; it is sent at the next start");
                return Ok(Outcome::Interrupted);
            }
        };
        let now = self.clock.now();
        match result {
            Ok(response) => {
                self.outbox.mark_sent(mail.id, now).await?;
                metrics::counter!("senim_mail_sent_total", "kind" => mail.kind.clone())
                    .increment(1);
                tracing::info!(
                    outbox_id = mail.id,
                    kind = %mail.kind,
                    reference = %mail.reference,
                    code = %response.code(),
                    "mail delivered"
                );
                Ok(Outcome::Sent)
            }
            Err(e) if e.is_permanent() => {
                let reason = scrub(mail, describe(&e));
                self.outbox.mark_failed(mail.id, &reason).await?;
                metrics::counter!("senim_mail_failed_total", "kind" => mail.kind.clone())
                    .increment(1);
                // The server's text often quotes the recipient: it stays in the outbox
                // row (`senim outbox list`), the log gets the code only.
                tracing::error!(outbox_id = mail.id, kind = %mail.kind, reference = %mail.reference, code = %log_code(&e), "mail refused permanently");
                Ok(Outcome::Failed)
            }
            Err(e) => {
                let reason = scrub(mail, describe(&e));
                let wait = self.backoff.after(mail.attempts + 1);
                let next =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                self.outbox.mark_retry(mail.id, next, &reason).await?;
                metrics::counter!("senim_mail_retries_total", "kind" => mail.kind.clone())
                    .increment(1);
                tracing::warn!(
                    outbox_id = mail.id,
                    kind = %mail.kind,
                    reference = %mail.reference,
                    attempt = mail.attempts + 1,
                    next_attempt_at = %next,
                    code = %log_code(&e),
                    "mail delivery failed, will retry"
                );
                Ok(Outcome::Retry {
                    server_reached: e.is_response(),
                })
            }
        }
    }

    /// Delivers until `stop` turns true: after every wake-up of the outbox's bell
    /// and at least every `smtp.poll_seconds`. Once `stop` turns true, a mail
    /// being sent has `finish` to complete, then is handed back (see the module).
    pub async fn run(self, mut stop: watch::Receiver<bool>, finish: Duration) {
        let bell = self.outbox.bell();
        let cutoff = Cutoff {
            stop: Some(stop.clone()),
            finish,
        };
        loop {
            if let Err(e) = self.pass(&cutoff).await {
                tracing::warn!(error = %e, "outbox pass failed");
            }
            tokio::select! {
                _ = bell.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// The backoff in force.
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }
}

/// When a mail being sent must be given up: `finish` after `stop` turns true.
struct Cutoff {
    stop: Option<watch::Receiver<bool>>,
    finish: Duration,
}

impl Cutoff {
    fn never() -> Self {
        Cutoff {
            stop: None,
            finish: Duration::ZERO,
        }
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    async fn reached(&self) {
        let Some(stop) = &self.stop else {
            return std::future::pending().await;
        };
        let mut stop = stop.clone();
        if stop.wait_for(|stopping| *stopping).await.is_err() {
            // The sender of the signal is gone: no shutdown will come this way.
            return std::future::pending().await;
        }
        tokio::time::sleep(self.finish).await;
    }
}

enum Outcome {
    Sent,
    /// Shutdown came during the SMTP transaction: handed back, due now.
    Interrupted,
    /// A transient failure; `server_reached` tells a 4xx answer from a
    /// connection, TLS or timeout failure.
    Retry {
        server_reached: bool,
    },
    Failed,
    /// Another Senim process is sending it.
    Skipped,
}

fn envelope(mail: &Outgoing) -> Result<Envelope, String> {
    let from: Address = mail.envelope_from.parse().map_err(|e| format!("{e}"))?;
    let to: Address = mail.recipient.parse().map_err(|e| format!("{e}"))?;
    Envelope::new(Some(from), vec![to]).map_err(|e| e.to_string())
}

/// The SMTP error as one line, with the server's code when there is one.
/// What the logs say of a failure: the SMTP status code, or the kind of failure,
/// never the server's text (which may quote an address).
fn log_code(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => code.to_string(),
        None if e.is_timeout() => "timeout".into(),
        None if e.is_tls() => "tls".into(),
        None => "connection".into(),
    }
}

/// An error's text as stored with a mail: a sealed mail's recipient, which the
/// server's text often quotes, is replaced by the placeholder the row shows.
fn scrub(mail: &Outgoing, text: String) -> String {
    if !mail.sealed || mail.recipient.is_empty() {
        return text;
    }
    let lower = text.to_lowercase();
    let needle = mail.recipient.to_lowercase();
    if !lower.contains(&needle) || lower.len() != text.len() {
        return text.replace(&mail.recipient, super::SEALED_RECIPIENT);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(&text[rest..at]);
        out.push_str(super::SEALED_RECIPIENT);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string().replace(['\r', '\n'], " ");
    match e.status() {
        Some(code) => format!("{code}: {text}"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(sealed: bool) -> Outgoing {
        Outgoing {
            id: 1,
            kind: "receipt".into(),
            reference: "TL-2026-000001".into(),
            message_id: "<m@example.kz>".into(),
            envelope_from: "senim@example.kz".into(),
            recipient: "Citizen@Example.kz".into(),
            message: Vec::new(),
            attempts: 0,
            sealed,
            sealed_recipient: None,
        }
    }

    #[test]
    fn a_sealed_mails_error_text_keeps_no_recipient() {
        let text = "550 5.1.1 <citizen@example.kz>: user unknown; Citizen@Example.kz".to_owned();
        assert_eq!(
            scrub(&outgoing(true), text.clone()),
            "550 5.1.1 <(sealed)>: user unknown; (sealed)"
        );
        assert_eq!(scrub(&outgoing(false), text.clone()), text);
    }
}
