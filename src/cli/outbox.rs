//! `senim outbox list | retry`: the outbox of e-mail looked at (never a mail's
//! content) and mail put back in line for delivery.

use std::io::Write;

use clap::Subcommand;

use crate::app::App;

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// List mail, newest first (no content is shown).
    List {
        /// Only mail in this state: pending, sending, sent or failed.
        #[arg(long, value_parser = crate::server::parse_mail_state)]
        state: Option<crate::outbox::MailState>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put mail back in line for an attempt now: one mail by id, or every failed one.
    Retry {
        /// The outbox id (see `outbox list`).
        #[arg(required_unless_present = "all_failed")]
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
    },
}

/// Runs `senim outbox …`.
pub async fn run(app: &App, command: OutboxCommand) -> anyhow::Result<std::process::ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        OutboxCommand::List { state, limit, json } => {
            let list = app.outbox.list(state, limit).await?;
            if json {
                for m in &list {
                    writeln!(out, "{}", serde_json::to_string(m)?)?;
                }
            } else {
                writeln!(
                    out,
                    "{:>6}  {:<20} {:<16} {:<28} {:<8} {:>3}  {:<20} last error",
                    "id", "kind", "reference", "recipient", "state", "try", "next attempt / sent"
                )?;
                for m in &list {
                    let when = m
                        .sent_at
                        .unwrap_or(m.next_attempt_at)
                        .format("%Y-%m-%d %H:%M:%SZ");
                    writeln!(
                        out,
                        "{:>6}  {:<20} {:<16} {:<28} {:<8} {:>3}  {:<20} {}",
                        m.id,
                        m.kind,
                        m.reference,
                        m.recipient,
                        m.state.as_str(),
                        m.attempts,
                        when.to_string(),
                        m.last_error.as_deref().unwrap_or("")
                    )?;
                }
                let backlog = app.outbox.backlog().await?;
                writeln!(
                    out,
                    "{} mail(s) shown; undelivered: {}, failed: {}",
                    list.len(),
                    backlog.undelivered,
                    backlog.failed
                )?;
            }
        }
        OutboxCommand::Retry { id, all_failed } => {
            let id = if all_failed { None } else { id };
            let n = app.outbox.retry(id, app.clock.now()).await?;
            writeln!(
                out,
                "{n} mail(s) put back for delivery; the running daemon sends them within smtp.poll_seconds"
            )?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
