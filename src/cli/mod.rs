//! The `senim` command line (clap): the options every command takes, who is at
//! it (`Claimed`), the dispatch, and what several commands share (finding an
//! appeal, a disclosure). Each command group has its file: `serve.rs` (`serve`,
//! `migrate`, `check-config`), `calendar.rs`, `journal/` (`journal …`),
//! `outbox.rs`, `persons.rs`, `keys.rs`, `report.rs` (`report [publish]`),
//! `documents.rs`, `investigation.rs`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::app::App;
use crate::clock::SharedClock;
use crate::config::{Config, ConfigSource};
use crate::journal::{Appeal, AppealKey};
use crate::rulebook::{self, Action, rule};

pub mod calendar;
pub mod documents;
pub mod investigation;
pub mod journal;
pub mod keys;
pub mod outbox;
pub mod persons;
pub mod report;
pub mod serve;

pub use serve::signing_key_warning;

#[derive(Parser, Debug)]
#[command(
    name = "senim",
    version,
    about = "Intake daemon of the corruption-reporting trust line"
)]
pub struct Cli {
    /// Configuration file (TOML); keys may be overridden by SENIM_SECTION__KEY variables.
    #[arg(long, global = true, env = "SENIM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Act as this person (`senim persons`): needed to change the Journal or to be
    /// shown an identity; the audit log records `person:<login>`. Their token comes
    /// from `--token-file` or the `SENIM_TOKEN` variable (never the command line).
    #[arg(long = "as", global = true, value_name = "LOGIN")]
    pub as_person: Option<String>,
    /// A file holding the token of the person given by `--as`.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A file holding the passphrase of the key of the person given by `--as`
    /// (to read sealed appeals); without it, the passphrase is asked for.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Open the office key with the escrow key (the Director's safe) instead of a
    /// person's key; the person given by `--as` still acts.
    #[arg(long, global = true, value_name = "FILE")]
    pub escrow_key_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Who is at the command line: `--as LOGIN` and their token, not yet checked.
#[derive(Clone, Debug, Default)]
pub struct Claimed {
    login: Option<String>,
    token: Option<String>,
    /// Where the office key is opened from, to read sealed appeals.
    keys: keys::KeySource,
}

impl Claimed {
    fn from_cli(cli: &Cli) -> anyhow::Result<Claimed> {
        let token = match &cli.token_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("--token-file: cannot read {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            None => std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_owned()),
        };
        Ok(Claimed {
            login: cli.as_person.clone(),
            token,
            keys: keys::KeySource {
                passphrase_file: cli.passphrase_file.clone(),
                escrow_key_file: cli.escrow_key_file.clone(),
            },
        })
    }

    /// The person of `--as`, checked against their token, whom the rulebook
    /// lets take `action`; the error says what is missing.
    pub(crate) async fn person(
        &self,
        app: &App,
        action: Action,
    ) -> anyhow::Result<crate::persons::Person> {
        Ok(self.person_for(app, action, &[]).await?.0)
    }

    /// `person`, where a deputy named in `deputies` (`[authority]`) may take
    /// the action too (`Action::deputy_may`), with the rulebook's permit.
    async fn person_for(
        &self,
        app: &App,
        action: Action,
        deputies: &[String],
    ) -> anyhow::Result<(crate::persons::Person, rulebook::Permit)> {
        let Some(login) = &self.login else {
            let wanted: Vec<&str> = action.roles().iter().map(|r| r.as_str()).collect();
            bail!(
                "this acts in the Journal as a person: give --as LOGIN (a person with the role of {}) \
                 and their token in SENIM_TOKEN or --token-file",
                wanted.join(" or ")
            );
        };
        let token = self.token.as_deref().with_context(|| {
            format!("--as {login}: give the token in SENIM_TOKEN or --token-file")
        })?;
        let person = app
            .persons
            .authenticate(token)
            .await?
            .filter(|p| &p.login == login)
            .with_context(|| {
                format!("--as {login}: the token is not theirs, or they are disabled")
            })?;
        match rulebook::check_deputy(&person.roles, login, deputies, action) {
            Ok(permit) => Ok((person, permit)),
            Err(denied) => bail!("--as {login}: {denied}"),
        }
    }

    /// The audit actor of a person whom the rulebook lets take `action`,
    /// checked against their token; the error says what is missing.
    async fn actor(&self, app: &App, action: Action) -> anyhow::Result<String> {
        Ok(self.person(app, action).await?.actor())
    }

    /// The person given by `--as`, allowed the action of the rule `R`, as the
    /// domain's entry points for it take them (`rulebook::Acting`).
    pub(crate) async fn acting<R: crate::rulebook::Rule>(
        &self,
        app: &App,
    ) -> anyhow::Result<crate::rulebook::Acting<R>> {
        let (person, permit) = self.person_for(app, R::ACTION, &[]).await?;
        Ok(permit.acting(person.actor())?)
    }

    /// The person given by `--as`, allowed to record `act` (`Act::action`: its
    /// roles, or a deputy named in `[authority]` where a deputy may act), as
    /// `cases::Case::record` takes them (`rulebook::Permitted`).
    async fn permitted_for(
        &self,
        app: &App,
        act: &crate::cases::Act,
    ) -> anyhow::Result<crate::rulebook::Permitted> {
        let deputies = &app.config.authority.deputies;
        let (person, permit) = self.person_for(app, act.action(), deputies).await?;
        Ok(permit.by(person.actor()))
    }
}

/// The variable holding the token of the person given by `--as`.
pub const TOKEN_ENV: &str = "SENIM_TOKEN";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon: HTTP server and intake channels.
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Check the configuration and exit: prints the first problem, naming its key.
    CheckConfig,
    /// Show the working-day calendar: a year's days off, or the line's state at an instant.
    Calendar(calendar::CalendarArgs),
    /// Read and check the Journal of appeals.
    #[command(subcommand)]
    Journal(journal::JournalCommand),
    /// Look at and act on the outbox of e-mail.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// The people who work the line: their roles and personal API tokens.
    #[command(subcommand)]
    Persons(persons::PersonsCommand),
    /// The office key that seals identity and text, and who can open it.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The summary of a period (10.13), or with `publish` the figures for the
    /// web site (4.7): counts and times, no identity, no text.
    Report(report::ReportArgs),
    /// The documents the office sends: the cover letter (10.7) and the
    /// outgoing register.
    #[command(subcommand)]
    Documents(documents::DocumentsCommand),
    /// The investigation file (7.3–7.11): the order, the commission, the
    /// materials, the extension, the conclusion, the decision; kept sealed,
    /// read only by the Director, the managers and the commission's members.
    #[command(subcommand)]
    Investigation(investigation::InvestigationCommand),
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T, String> {
    s.parse()
}

/// Runs the command line; the exit code is 0 on success, 1 on a failed check, 2 on error.
pub fn main() -> std::process::ExitCode {
    // Before anything is created: the data directory, the database, exports.
    crate::private_fs::restrict_umask();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("senim: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let source = ConfigSource::new(cli.config.as_deref());
    let config = Config::load(&source)?;
    let ignored = crate::config::ignored_env_vars();
    if matches!(cli.command, Command::CheckConfig | Command::Calendar(_)) {
        for name in &ignored {
            eprintln!("senim: warning: {}", ignored_env_message(name));
        }
    }
    if let Command::CheckConfig = cli.command {
        serve::check_config(&source, &config)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Command::Calendar(args) = &cli.command {
        calendar::run(&config, args)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    crate::telemetry::init_logs(&config.log);
    for name in &ignored {
        tracing::warn!("{}", ignored_env_message(name));
    }
    // A bounded blocking pool (file I/O, DNS): the daemon's threads stay well
    // inside the unit's TasksMax= (systemd/senim.service).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")?;
    let claimed = Claimed::from_cli(&cli)?;
    runtime.block_on(run_async(cli.command, config, claimed))
}

/// Threads for blocking work (tokio's default is 512).
const MAX_BLOCKING_THREADS: usize = 64;

/// The warning about a `SENIM_…` variable that is not configuration.
fn ignored_env_message(name: &str) -> String {
    format!(
        "environment variable {name} is ignored: only SENIM_<SECTION>__<KEY> (e.g. SENIM_SERVER__LISTEN) \
         and SENIM_CONFIG are read"
    )
}

async fn run_async(
    command: Command,
    config: Config,
    claimed: Claimed,
) -> anyhow::Result<std::process::ExitCode> {
    let clock: SharedClock = crate::clock::from_env().map_err(anyhow::Error::msg)?;
    match command {
        Command::Serve => serve::serve(config, clock).await?,
        Command::Migrate => serve::migrate(config, clock).await?,
        Command::Journal(command) => {
            let app = App::open(config, clock).await?;
            return journal::run(&app, &claimed, command).await;
        }
        Command::Outbox(command) => {
            let app = App::open(config, clock).await?;
            return outbox::run(&app, command).await;
        }
        Command::Persons(command) => {
            let app = App::open(config, clock).await?;
            persons::run(&app, command).await?;
        }
        Command::Report(args) => {
            let app = App::open(config, clock).await?;
            report::run(&app, args).await?;
        }
        Command::Keys(command) => {
            let app = App::open(config, clock).await?;
            let source = claimed.keys.clone();
            keys::run(&app, &claimed, &source, command).await?;
        }
        Command::Documents(command) => {
            let app = App::open(config, clock).await?;
            documents::run(&app, &claimed, command).await?;
        }
        Command::Investigation(command) => {
            let app = App::open(config, clock).await?;
            investigation::run(&app, &claimed, command).await?;
        }
        Command::CheckConfig | Command::Calendar(_) => {
            unreachable!("handled before the runtime starts")
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Records that the person at the command line was shown these appeals' identity
/// and returns them opened. Only a manager or the Director is shown identities (an
/// auditor sees the Journal without them; an operator only what they are
/// completing); sealed appeals open only with their key (or the escrow key),
/// which is asked for before anything is recorded.
async fn disclose(
    app: &App,
    claimed: &Claimed,
    appeals: Vec<crate::journal::Appeal>,
    purpose: &str,
) -> anyhow::Result<Vec<crate::journal::Appeal>> {
    Ok(disclose_with_key(app, claimed, appeals, purpose).await?.0)
}

/// `disclose`, and the key it opened them with (`None`: nothing was sealed).
async fn disclose_with_key(
    app: &App,
    claimed: &Claimed,
    appeals: Vec<crate::journal::Appeal>,
    purpose: &str,
) -> anyhow::Result<(
    Vec<crate::journal::Appeal>,
    Option<crate::sealing::Unlocked>,
)> {
    let by = claimed.acting::<rule::Reveal>(app).await?;
    let actor = by.actor();
    let any_sealed = appeals.iter().any(|a| a.sealed.is_some());
    let unlocked = unlock_if_sealed(app, claimed, actor, any_sealed).await?;
    let ids: Vec<_> = appeals.iter().map(|a| a.id).collect();
    app.journal
        .record_disclosure(&ids, &by, purpose)
        .await
        .context("cannot record the disclosure in the audit log; nothing was shown")?;
    let Some(unlocked) = unlocked else {
        return Ok((appeals, None));
    };
    let mut opened = Vec::with_capacity(appeals.len());
    for appeal in appeals {
        opened.push(app.journal.open(appeal, &unlocked).await?);
    }
    Ok((opened, Some(unlocked)))
}

/// The office key opened by the person at the command line (their passphrase, or
/// the escrow key file), if the Journal is sealed (`sealed`: what is to be read
/// holds sealed values).
async fn unlock_if_sealed(
    app: &App,
    claimed: &Claimed,
    actor: &str,
    sealed: bool,
) -> anyhow::Result<Option<crate::sealing::Unlocked>> {
    if !sealed || !app.sealer.is_on() {
        return Ok(None);
    }
    let login = actor.trim_start_matches("person:");
    Ok(Some(claimed.keys.unlock(app, login).await?))
}

pub(crate) async fn find_appeal(app: &App, key: &str) -> anyhow::Result<Appeal> {
    let key: AppealKey = key.parse().map_err(anyhow::Error::msg)?;
    Ok(app.journal.find(&key).await?)
}
