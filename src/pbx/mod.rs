//! The telephone channel (clauses 10.1-10.5, 10.9): the PBX posts a record of
//! every call, in Senim's JSON form, as an Asterisk CDR or as Zammad Generic CTI
//! events; an answered call or a voicemail becomes a phone appeal in the Journal,
//! a missed call is logged and counted. The PBX asks `/v1/schedule/now` whether
//! the line is open. The operator completes a phone appeal with
//! `PATCH /v1/appeals/{id}`. See `docs/pbx.md`. Nothing here knows HTTP: the
//! routes are the server's (`src/server/pbx.rs`, `src/server/schedule.rs`), and
//! every refusal is a `PbxError` naming the field and what is wrong with it.
//!
//! Modules: `formats` (the three input shapes to one `CallRecord`), `numbers`
//! (callers' numbers to E.164), `auth` (tokens, signatures, networks), `error`
//! (what is refused and why), `receipt`
//! (when a call counts as received), `rules` (what a call becomes), `intake`
//! (exactly-once recording), `cti` (CTI events to calls, and the sweep of calls
//! never hung up), `store` (this module's tables), `recordings` (files and
//! background downloads), `schedule`, `notes` (operator's notes).

pub mod auth;
pub mod cti;
pub mod error;
pub mod formats;
pub mod intake;
pub mod notes;
pub mod numbers;
pub mod receipt;
pub mod recordings;
pub mod rules;
pub mod schedule;
pub mod store;

use std::sync::Arc;

use crate::app::App;
use crate::config::Config;
use auth::Source;
pub use error::PbxError;
use recordings::{Downloads, RecordingStore};

/// The channel's state, opened once with the daemon.
pub struct Pbx {
    pub sources: Vec<Source>,
    pub recordings: RecordingStore,
    pub downloads: Downloads,
}

impl Pbx {
    pub fn open(config: &Config, default_tz: chrono_tz::Tz) -> anyhow::Result<Pbx> {
        Ok(Pbx {
            sources: auth::load_sources(&config.pbx, default_tz)?,
            recordings: RecordingStore::new(
                config.database.data_dir.join("recordings"),
                config.pbx.max_recording_bytes,
            ),
            downloads: Downloads::default(),
        })
    }
}

/// Starts the background work of the channel: recording downloads, and the sweep
/// that registers CTI calls answered but never hung up. Neither takes a stop
/// signal: each commits its work in one transaction, so ending anywhere is safe.
pub fn start(app: Arc<App>) {
    tokio::spawn(recordings::run_downloader(app.clone()));
    tokio::spawn(cti::run_sweep(app));
}
