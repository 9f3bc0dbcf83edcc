//! `senim serve | migrate | check-config`: the daemon run (the HTTP server and
//! the intake channels), the database migrated, the configuration checked.

use std::sync::Arc;

use anyhow::Context;

use crate::app::{self, App};
use crate::clock::SharedClock;
use crate::config::{Config, ConfigSource};

/// `senim check-config`, before any runtime or database: the configuration
/// (already loaded) and the calendar it names; the problem found names its key.
pub fn check_config(source: &ConfigSource, config: &Config) -> anyhow::Result<()> {
    app::load_calendar(config)?;
    if let Some(warning) = signing_key_warning(config) {
        eprintln!("senim: warning: {warning}");
    }
    println!("{}: configuration is valid", source.path.display());
    Ok(())
}

/// `senim serve`: opens the App (connected and migrated) and serves until stopped.
pub async fn serve(config: Config, clock: SharedClock) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let app = Arc::new(App::open(config, clock).await?);
    if let Some(warning) = signing_key_warning(&app.config) {
        tracing::warn!("{warning}");
    }
    if !app.journal.is_keyed() {
        tracing::warn!(
            "journal.chain_key_file is not set: the audit chain is not keyed, so whoever holds \
             the database could rewrite it unnoticed (see docs/security.md)"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (server.listen)"))?;
    crate::server::serve(app, listener).await?;
    Ok(())
}

/// `senim migrate`: applies the migrations and exits.
pub async fn migrate(config: Config, clock: SharedClock) -> anyhow::Result<()> {
    let app = App::open(config, clock).await?;
    println!("migrations applied ({})", app.db.backend());
    Ok(())
}

/// The warning of a configuration whose signing key is derived from the chain key.
pub fn signing_key_warning(config: &Config) -> Option<&'static str> {
    (config.journal.chain_key_file.is_some() && config.journal.signing_key_file.is_none()).then_some(
        "the signing key is derived from the chain key: set journal.signing_key_file to separate them \
         (docs/security.md)",
    )
}
