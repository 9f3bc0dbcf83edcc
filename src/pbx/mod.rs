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
//! background downloads), `targets` (where a recording may be downloaded from),
//! `schedule`, `notes` (operator's notes).
//!
//! Sealed at rest once the office key exists (`Pbx::sealer`): callers' and
//! called numbers, extensions, recording URLs and file names, and the
//! recordings themselves; what the daemon reads back itself with the intake
//! key, what only people read to the office key (`store`, `recordings`,
//! `docs/security.md`).

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
pub mod targets;

use std::sync::Arc;

use crate::alerts::Alerts;
use crate::calendar::Calendar;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::journal::Journal;
use crate::sealing::Sealer;
use auth::Source;
pub use error::PbxError;
use recordings::{Downloads, RecordingStore};

/// The channel's state, opened once with the daemon, and what it works with,
/// handed to it by the daemon that assembles it (`app`): the channel never
/// reaches back into the daemon.
pub struct Pbx {
    pub sources: Vec<Source>,
    pub recordings: RecordingStore,
    pub downloads: Downloads,
    /// Where recordings may be downloaded from.
    pub targets: targets::Targets,
    /// The `[pbx]` section, and the data directory the recordings live in.
    pub config: Config,
    pub clock: SharedClock,
    /// Whether a call came in working hours; the line's time zone.
    pub calendar: Arc<Calendar>,
    pub db: Db,
    pub journal: Journal,
    /// The alerts a call's appeal causes.
    pub alerts: Alerts,
    /// What callers' numbers, recording URLs and recordings are sealed with
    /// (once the office key exists; see `store` and `recordings`).
    pub sealer: Sealer,
}

impl Pbx {
    /// The PBXes allowed to post, read (and checked) before anything else opens.
    pub fn load_sources(config: &Config) -> anyhow::Result<Vec<Source>> {
        auth::load_sources(&config.pbx, *config.calendar.timezone)
    }

    /// The channel, given its sources (`load_sources`) and the daemon's parts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sources: Vec<Source>,
        config: Config,
        clock: SharedClock,
        calendar: Arc<Calendar>,
        db: Db,
        journal: Journal,
        alerts: Alerts,
        sealer: Sealer,
    ) -> Pbx {
        let targets = targets::Targets::new(
            sources
                .iter()
                .filter_map(|s| s.recording_base_url.as_deref()),
        );
        Pbx {
            targets,
            sources,
            recordings: RecordingStore::new(
                config.database.data_dir.join("recordings"),
                config.pbx.max_recording_bytes,
            ),
            downloads: Downloads::default(),
            config,
            clock,
            calendar,
            db,
            journal,
            alerts,
            sealer,
        }
    }
}

/// Starts the background work of the channel: recording downloads, and the sweep
/// that registers CTI calls answered but never hung up. Neither takes a stop
/// signal: each commits its work in one transaction, so ending anywhere is safe.
pub fn start(
    channel: Arc<Pbx>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> [(&'static str, tokio::task::JoinHandle<()>); 2] {
    [
        (
            "recording downloader",
            tokio::spawn(recordings::run_downloader(channel.clone(), stop.clone())),
        ),
        (
            "unfinished-call sweep",
            tokio::spawn(cti::run_sweep(channel, stop.clone())),
        ),
    ]
}
