//! The assembled daemon: configuration, clock, calendar, database and Journal,
//! opened once and shared by the server and the CLI.
//!
//! `App::open` connects to the configured database and migrates it;
//! `App::assemble` builds everything else from a configuration, a database and
//! a clock. The tests assemble the same daemon on their own database and a
//! pinned clock (`tests/support/app.rs`).

use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;

use crate::alerts::{Alerts, Policy};
use crate::calendar::{Calendar, CalendarData, WorkingHours};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::deadlines::Deadlines;
use crate::journal::Journal;
use crate::mailbox::{Mailbox, MailboxStatus};
use crate::outbox::Outbox;
use crate::pbx::Pbx;
use crate::sealing::Sealer;
use crate::tokens::ManagerToken;

pub struct App {
    pub config: Config,
    pub clock: SharedClock,
    pub calendar: Arc<Calendar>,
    pub db: Db,
    pub journal: Journal,
    /// Managers of the manager's API, with their tokens read (`[[api.managers]]`,
    /// the configuration's managers; persons are the way forward).
    pub managers: Vec<ManagerToken>,
    /// The people who work the line, with their roles and tokens.
    pub persons: crate::persons::Persons,
    /// Every e-mail Senim sends, before and after it is sent.
    pub outbox: Outbox,
    /// Who is told what, and when (10.6, 10.9, 6.3).
    pub alerts: Alerts,
    /// The deadlines that follow an appeal.
    pub deadlines: Deadlines,
    /// The telephone channel: PBX sources, recordings store, downloader.
    pub pbx: Arc<Pbx>,
    /// The e-mail channel, with its health for `/readyz`.
    pub mailbox: Arc<Mailbox>,
    /// What seals identity and text at rest (the office's public keys, once
    /// `senim keys init` made them, and the intake key from the chain key).
    pub sealer: Sealer,
    /// The installation's signing key (`journal.signing_key_file`), if configured:
    /// what authenticates the rows the database's administrator must not make.
    pub authority: Option<Arc<crate::authority::Authority>>,
}

impl App {
    /// Connects to the configured database, applies migrations and assembles the daemon.
    pub async fn open(config: Config, clock: SharedClock) -> anyhow::Result<App> {
        let data_dir = &config.database.data_dir;
        let tightened = crate::private_fs::private_dir(data_dir)
            .with_context(|| format!("database.data_dir: cannot create {}", data_dir.display()))?;
        if tightened {
            tracing::warn!(data_dir = %data_dir.display(), "the data directory was open to other users: now 0700");
        }
        let url = config.database.effective_url();
        let db = Db::connect(&config.database.settings())
            .await
            .with_context(|| {
                format!(
                    "cannot open the database (database.url = {})",
                    redact_url(&url)
                )
            })?;
        db.migrate()
            .await
            .context("cannot apply the database migrations")?;
        let app = Self::assemble(config, db, clock)?;
        app.sealer.refresh().await?;
        Ok(app)
    }

    /// Builds the daemon on a migrated database: the one assembly of every part,
    /// used by `open` and by the tests. Reads the secrets the configuration names.
    pub fn assemble(config: Config, db: Db, clock: SharedClock) -> anyhow::Result<App> {
        let calendar = Arc::new(load_calendar(&config)?);
        let managers = load_managers(&config)?;
        let pbx_sources = Pbx::load_sources(&config)?;
        let chain_key = load_chain_key(&config)?;
        let authority = load_authority(&config, chain_key.as_ref())?.map(Arc::new);
        let signing_keys = crate::journal::accepted_keys(authority.as_deref(), chain_key.as_ref());
        let deadlines =
            Deadlines::new(db.clone(), calendar.clone()).signed_by(authority.clone(), signing_keys);
        let sealer = Sealer::new(
            &db,
            chain_key.as_ref().map(|k| k.intake_key()),
            authority.clone(),
        );
        let policy = Policy::from_config(&config.alerts, &config.smtp, *config.calendar.timezone);
        let outbox = Outbox::new(db.clone(), sealer.clone());
        let journal = Journal::new(
            db.clone(),
            calendar.clone(),
            clock.clone(),
            &config.journal.registration_prefix,
        )
        .keyed_with(chain_key)
        .signed_by(authority.clone())
        .sealed_with(sealer.clone())
        .finding_terms_with(terms_finder(&config))
        .followed_by(Arc::new(deadlines.clone()))
        .followed_by(Arc::new(crate::alerts::arrival::Arrival::new(
            policy.clone(),
            outbox.clone(),
        )));
        let alerts = Alerts::new(policy, outbox.clone(), journal.clone(), clock.clone());
        let pbx = Arc::new(Pbx::new(
            pbx_sources,
            config.clone(),
            clock.clone(),
            calendar.clone(),
            db.clone(),
            journal.clone(),
            alerts.clone(),
            sealer.clone(),
        ));
        let mailbox = Arc::new(Mailbox {
            config: config.clone(),
            clock: clock.clone(),
            db: db.clone(),
            journal: journal.clone(),
            outbox: outbox.clone(),
            deadlines: deadlines.clone(),
            status: Arc::new(MailboxStatus::new(config.mailbox.enabled())),
            sealer: sealer.clone(),
        });
        let persons = crate::persons::Persons::new(db.clone(), clock.clone(), authority.clone());
        Ok(App {
            authority,
            persons,
            mailbox,
            config,
            clock,
            calendar,
            db,
            journal,
            managers,
            outbox,
            alerts,
            deadlines,
            pbx,
            sealer,
        })
    }

    /// The background scheduler of alerts and digests.
    pub fn scheduler(&self) -> crate::alerts::scheduler::Scheduler {
        crate::alerts::scheduler::Scheduler::new(
            self.alerts.clone(),
            self.deadlines.clone(),
            self.journal.clone(),
            self.calendar.clone(),
            self.clock.clone(),
            self.config.alerts.interval_seconds.std(),
            crate::alerts::scheduler::HeadPublication {
                at: *self.config.journal.publish_head_time,
                file: self.config.journal.published_heads_file.clone(),
            },
        )
    }

    /// The retention schedule and the owners it asks to destroy (`senim journal purge`).
    pub fn retention(&self) -> crate::retention::Retention {
        crate::retention::Retention {
            config: self.config.retention.clone(),
            db: self.db.clone(),
            journal: self.journal.clone(),
            recordings: self.pbx.recordings.clone(),
            clock: self.clock.clone(),
        }
    }

    /// The outbox's sender, as instance `instance` of the daemon.
    pub fn sender(&self, instance: String) -> anyhow::Result<crate::outbox::sender::Sender> {
        crate::outbox::sender::Sender::new(
            self.outbox.clone(),
            &self.config.smtp,
            self.clock.clone(),
            instance,
        )
    }

    /// What acts on an appeal are recorded with (`cases::Case`).
    pub fn case(&self) -> crate::cases::Case<'_> {
        crate::cases::Case {
            journal: &self.journal,
            deadlines: &self.deadlines,
            alerts: &self.alerts,
        }
    }

    /// What the report of a period is made from (`report::Report::compute`).
    pub fn report_sources(&self) -> crate::report::Sources<'_> {
        crate::report::Sources {
            journal: &self.journal,
            deadlines: &self.deadlines,
            outbox: &self.outbox,
            db: &self.db,
            calendar: &self.calendar,
            units: crate::cases::acts::units(&self.alerts)
                .into_iter()
                .map(|(unit, _)| unit)
                .collect(),
        }
    }

    /// What documents are made with (`documents::Documents`): the cover letter,
    /// the register, the materials package.
    pub fn documents(&self) -> crate::documents::Documents<'_> {
        crate::documents::Documents {
            journal: &self.journal,
            deadlines: &self.deadlines,
            alerts: &self.alerts,
            pbx: &self.pbx,
            config: &self.config.documents,
            clock: &self.clock,
            tz: self.calendar.hours().tz,
        }
    }

    /// The office key's generations, persons' keys and grants, signed and checked
    /// with the installation's key.
    pub fn keys(&self) -> crate::sealing::Keys {
        crate::sealing::Keys::new(self.db.clone(), self.authority.clone())
    }

    /// What the investigation file (7.3–7.11) is worked with.
    pub fn investigations(&self) -> crate::investigation::Investigations<'_> {
        crate::investigation::Investigations {
            journal: &self.journal,
            case: self.case(),
            persons: &self.persons,
            keys: self.keys(),
            db: &self.db,
            clock: &self.clock,
            tz: self.calendar.hours().tz,
        }
    }

    /// Today's date in the trust line's time zone.
    pub fn today(&self) -> NaiveDate {
        self.clock
            .now()
            .with_timezone(&self.calendar.hours().tz)
            .date_naive()
    }
}

/// The calendar: built-in Kazakhstan rules, the configured hours, and the data file
/// (the embedded one unless `calendar.file` names another).
pub fn load_calendar(config: &Config) -> anyhow::Result<Calendar> {
    let data = match &config.calendar.file {
        Some(path) => CalendarData::from_file(path)
            .with_context(|| format!("calendar.file: cannot use {}", path.display()))?,
        None => CalendarData::embedded(),
    };
    let hours = WorkingHours {
        tz: *config.calendar.timezone,
        opens: *config.calendar.opens,
        closes: *config.calendar.closes,
    };
    Ok(Calendar::new(hours, data))
}

/// The words a sealed appeal keeps plain for triage and routing: the triage
/// lexicon's and the routes' keywords found in its text at intake.
fn terms_finder(config: &Config) -> crate::journal::TermsFinder {
    let keywords: Vec<String> = config
        .alerts
        .routes
        .iter()
        .flat_map(|r| r.keywords.iter().map(|k| k.to_lowercase()))
        .collect();
    Arc::new(move |text: &str| {
        let mut found = crate::triage::lexicon::words_in(text);
        let lower = text.to_lowercase();
        found.extend(
            keywords
                .iter()
                .filter(|k| crate::triage::lexicon::contains_word(&lower, k))
                .cloned(),
        );
        found
    })
}

/// The audit chain's key, if `journal.chain_key_file` names one.
fn load_chain_key(config: &Config) -> anyhow::Result<Option<crate::journal::audit::ChainKey>> {
    config
        .journal
        .chain_key_file
        .as_deref()
        .map(|path| {
            crate::journal::audit::ChainKey::from_file(path)
                .map_err(|e| anyhow::anyhow!("journal.chain_key_file: {e}"))
        })
        .transpose()
}

/// The installation's signing key: `journal.signing_key_file`'s, else one derived
/// from the chain key (the published heads' key before the two were separated;
/// `check-config` says to separate them), else none.
pub fn load_authority(
    config: &Config,
    chain_key: Option<&crate::journal::audit::ChainKey>,
) -> anyhow::Result<Option<crate::authority::Authority>> {
    if let Some(path) = config.journal.signing_key_file.as_deref() {
        return crate::authority::Authority::from_file(path)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("journal.signing_key_file: {e}"));
    }
    chain_key
        .map(|key| {
            key.derived_authority()
                .map_err(|e| anyhow::anyhow!("journal.chain_key_file: {e}"))
        })
        .transpose()
}

fn load_managers(config: &Config) -> anyhow::Result<Vec<ManagerToken>> {
    let mut managers = Vec::new();
    for (i, m) in config.api.managers.iter().enumerate() {
        let key = format!("api.managers[{i}]");
        let token = crate::config::read_secret(&key, m.token.as_deref(), m.token_file.as_deref())?;
        managers.push(ManagerToken {
            name: m.name.clone(),
            token,
        });
    }
    Ok(managers)
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme && url[scheme + 3..at].contains(':') => {
            let user = url[scheme + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
