//! The `senim` command line: `serve`, `migrate`, `check-config`, `calendar`,
//! `journal list | show | materials | export | verify | classify | deadlines |
//! status | event | purge`, `outbox list | retry`, `persons …`, `keys …`
//! (`cli/keys.rs`), `report [publish]` (`cli/report.rs`) and `documents
//! cover-letter | list`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{self, App};
use crate::calendar::Calendar;
use crate::clock::SharedClock;
use crate::config::{Config, ConfigSource};
use crate::journal::{Appeal, AppealKey, Category, Channel, ListFilter, Status};
use crate::persons::Role;

pub mod investigation;
pub mod keys;
pub mod report;

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

    /// The person of `--as`, checked against their token, holding one of
    /// `roles`; the error says what is missing.
    pub(crate) async fn person(
        &self,
        app: &App,
        roles: &[crate::persons::Role],
    ) -> anyhow::Result<crate::persons::Person> {
        let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let Some(login) = &self.login else {
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
        if !roles.iter().any(|r| person.has(*r)) {
            bail!(
                "--as {login}: this needs the role of {}",
                wanted.join(" or ")
            );
        }
        Ok(person)
    }

    /// The audit actor of a person holding one of `roles`, checked against their
    /// token; the error says what is missing.
    async fn actor(&self, app: &App, roles: &[crate::persons::Role]) -> anyhow::Result<String> {
        Ok(self.person(app, roles).await?.actor())
    }

    /// The audit actor of a person who may record `act` (`Act::who_for`: its
    /// roles, or a deputy named in `[authority]` where a deputy may act).
    async fn actor_for(&self, app: &App, act: &crate::cases::Act) -> anyhow::Result<String> {
        let login = self.login.as_deref().unwrap_or_default();
        self.actor(app, act.who_for(login, &app.config.authority.deputies))
            .await
    }
}

/// The audit actor of a purge: the records schedule (`[retention]`).
const RETENTION_ACTOR: &str = "retention";

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
    Calendar(CalendarArgs),
    /// Read and check the Journal of appeals.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Look at and act on the outbox of e-mail.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The people who work the line: their roles and personal API tokens.
    #[command(subcommand)]
    Persons(PersonsCommand),
    /// The office key that seals identity and text, and who can open it.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The summary of a period (10.13), or with `publish` the figures for the
    /// web site (4.7): counts and times, no identity, no text.
    Report(report::ReportArgs),
    /// The documents the office sends: the cover letter (10.7) and the
    /// outgoing register.
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// The investigation file (7.3–7.11): the order, the commission, the
    /// materials, the extension, the conclusion, the decision; kept sealed,
    /// read only by the Director, the managers and the commission's members.
    #[command(subcommand)]
    Investigation(investigation::InvestigationCommand),
}

#[derive(Subcommand, Debug)]
pub enum DocumentsCommand {
    /// Make the cover letter of an appeal to the anti-corruption service (10.7),
    /// once the Director has consented: the next outgoing number, DOCX and PDF
    /// in Kazakh and Russian, written 0600 into DIR; recorded in the outgoing
    /// register and the audit log. A manager or the Director (`--as`).
    CoverLetter {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The directory to write the two files into (created 0700 if new).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Send the reply to the citizen (APPK Art. 76): the next outgoing number,
    /// the `reply_sent` act (the reply deadline met, the status `replied`). By
    /// e-mail it is mailed to the reporter's address, threaded to the receipt;
    /// by post or by hand the letter (DOCX and PDF, Kazakh and Russian, with
    /// the person's name and address) is written 0600 into DIR and not kept.
    /// The sealed appeal is opened with the person's key. A manager or the
    /// Director (`--as`).
    Reply {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// email, post or by-hand.
        #[arg(long)]
        method: ReplyMethodArg,
        /// The file holding the reply's text (UTF-8).
        #[arg(long)]
        text_file: PathBuf,
        /// The day it is sent (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        /// The directory to write the letter into (post, by hand).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Make the notice that the reply is extended (APPK Art. 76) as DOCX and
    /// PDF into DIR: records `citizen_notified` (the extension notice's
    /// deadline met; `reply_extended` must be recorded first).
    ExtensionNotice {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The day the reply is extended to.
        #[arg(long)]
        until: NaiveDate,
        /// Why it is extended.
        #[arg(long)]
        reason: String,
        /// The directory to write the notice into (created 0700 if new).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// List the outgoing register, oldest first: number, date, kind, appeal,
    /// recipient, who made it, and each file's SHA-256.
    List {
        /// Only the documents of this appeal (registration number or id).
        #[arg(long)]
        appeal: Option<String>,
        /// Only the documents of this year.
        #[arg(long)]
        year: Option<i32>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PersonsCommand {
    /// Add a person; prints their API token, this once.
    Add {
        /// Login: a-z, 0-9, `.`, `-`, `_` (the audit log records `person:<login>`).
        login: String,
        /// Their full name.
        #[arg(long)]
        name: String,
        /// operator, manager, director or auditor; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_text::<crate::persons::Role>)]
        roles: Vec<crate::persons::Role>,
        /// Their console language: kk, ru or en (without it: the login page's
        /// choice, else `console.language`).
        #[arg(long, value_parser = parse_text::<crate::persons::Language>)]
        language: Option<crate::persons::Language>,
    },
    /// List the persons, with their roles (never their tokens).
    List,
    /// Disable a person: their token stops working at once.
    Disable { login: String },
    /// Enable a disabled person again: their token and console login work again.
    Enable { login: String },
    /// Give a person a new token (the old one stops working); a disabled person
    /// stays disabled.
    Reset { login: String },
    /// Set a person's console password (Argon2id); asked twice on the terminal,
    /// or read from `--password-file`. At least 12 characters.
    Password {
        login: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a person's console language: kk, ru or en; `default` leaves it to
    /// the login page's choice, else `console.language`.
    Language {
        login: String,
        #[arg(value_name = "kk|ru|en|default", value_parser = parse_language_choice)]
        language: LanguageChoice,
    },
}

/// A person's language as `persons language` takes it: one, or `default` (none).
#[derive(Clone, Copy, Debug)]
pub struct LanguageChoice(Option<crate::persons::Language>);

fn parse_language_choice(s: &str) -> Result<LanguageChoice, String> {
    if s == "default" {
        return Ok(LanguageChoice(None));
    }
    s.parse()
        .map(|l| LanguageChoice(Some(l)))
        .map_err(|_| format!("unknown language `{s}` (expected one of: kk, ru, en, default)"))
}

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

/// The deadline events the manager records.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EventKind {
    ReplySent,
    ReplyExtended,
    CitizenNotified,
    OutsideCompetence,
    Redirected,
    InvestigationOrdered,
    InvestigationExtended,
    MaterialsRequested,
    MaterialsReceived,
    Decision,
}

/// The acts of `senim journal act`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActKind {
    /// The Director consents to send the report to the anti-corruption service.
    Consent,
    /// The Director refuses to send it (with --reason).
    RefuseConsent,
    /// Sent on to a unit (--unit).
    Route,
    /// Forwarded to a competent body (--to, --method, --reference, --on).
    Forward,
    /// Not considered (6.3), with --reason.
    NotConsidered,
    /// Closed, with --reason.
    Close,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DecisionArg {
    StopConsideration,
    HandToAuthorities,
    Disciplinary,
    OtherMeasures,
}

impl From<DecisionArg> for crate::deadlines::InvestigationDecision {
    fn from(arg: DecisionArg) -> Self {
        use crate::deadlines::InvestigationDecision;
        match arg {
            DecisionArg::StopConsideration => InvestigationDecision::StopConsideration,
            DecisionArg::HandToAuthorities => InvestigationDecision::HandToAuthorities,
            DecisionArg::Disciplinary => InvestigationDecision::Disciplinary,
            DecisionArg::OtherMeasures => InvestigationDecision::OtherMeasures,
        }
    }
}

#[derive(Args, Debug)]
pub struct CalendarArgs {
    /// The year whose days off and worked weekend days to list (default: this year).
    pub year: Option<i32>,
    /// An instant (RFC 3339, e.g. 2026-03-20T17:59:00+05:00): is the line open, when
    /// does it next open, and on which date is an appeal received then registered.
    #[arg(long, conflicts_with = "year")]
    pub at: Option<DateTime<FixedOffset>>,
}

#[derive(Subcommand, Debug)]
pub enum JournalCommand {
    /// List appeals, oldest first.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// With `--json`: include the reporter's identity and the appeal's text.
        /// Each appeal so shown is recorded in the audit log as a disclosure.
        #[arg(long, requires = "json")]
        with_identity: bool,
    },
    /// Show one appeal in full, with its history. The identity and the text are
    /// shown only with `--with-identity`, and that is recorded in the audit log.
    Show {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        #[arg(long)]
        with_identity: bool,
    },
    /// Write an appeal's materials into a new directory (0700, files 0600), or
    /// as one ZIP package (`--zip`, 0600): the appeal with identity and text, its
    /// mail as .eml and attachments, its calls' numbers and recordings, an
    /// extract of its audit events (events.json), and MANIFEST.sha256. Recorded
    /// in the audit log; a package also as `document_issued` with its SHA-256.
    Materials {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// The directory to create (or an empty one).
        #[arg(long, short, required_unless_present = "zip", conflicts_with = "zip")]
        output: Option<PathBuf>,
        /// The ZIP file to create (a new file).
        #[arg(long, value_name = "FILE")]
        zip: Option<PathBuf>,
    },
    /// Export appeals for auditors.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        #[command(flatten)]
        filter: FilterArgs,
        /// Include the reporter's identity and the appeal's text; each appeal so
        /// exported is recorded in the audit log as a disclosure. Without it, one
        /// row per appeal still: for auditors, not for publication (the web
        /// site's figures are `senim report publish`, clause 4.7).
        #[arg(long)]
        with_identity: bool,
        /// The default, kept for scripts written before `--with-identity`.
        #[arg(long, hide = true, conflicts_with = "with_identity")]
        without_identity: bool,
        /// Write to this file (created 0600) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check the audit chain and every appeal against it; exits 1 if anything was edited or deleted.
    Verify {
        /// A file of published heads (`journal.published_heads_file`, or
        /// `publish-head --append`), one JSON line each: the chain must pass through
        /// every one of them, and its head must not be behind the newest.
        #[arg(long)]
        heads: Option<PathBuf>,
        /// The auditor's check: with this public key (`senim journal head-key`;
        /// repeat it for a key used before) and no secret at all, neither the chain
        /// key nor the signing key (the first is the installation's current key, which
        /// the signed rows are checked with). Keyed events from before the chain turned
        /// public are then checked by their links only.
        #[arg(long = "public-key", value_name = "HEX")]
        public_keys: Vec<String>,
    },
    /// Key an existing, verified audit chain with `journal.chain_key_file`, once.
    KeyChain,
    /// Print the chain's head, signed, as one JSON line for the auditors to keep;
    /// `--append FILE` also appends it to FILE (created 0600).
    PublishHead {
        #[arg(long)]
        append: Option<PathBuf>,
    },
    /// Print the public key the chain's head and published heads are signed with
    /// (for auditors: `journal verify --public-key`); needs journal.signing_key_file
    /// (or the chain key it is derived from).
    HeadKey,
    /// Record the operator's notes on a phone appeal (clause 10.5): who called and what
    /// they said, with every point of the script said (`--said`). Options not given
    /// keep their value. Same as PATCH /v1/appeals/{id}.
    RecordCall {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        organisation: Option<String>,
        /// Postal address for the reply.
        #[arg(long)]
        postal_address: Option<String>,
        /// Phone number for feedback.
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        /// What the caller reported.
        #[arg(long)]
        substance: Option<String>,
        /// A point of the clause-10.5 script the operator said (repeat, or a comma
        /// list); all are required: own_name_and_position, line_scope,
        /// state_secret_warning, disclosure_liability.
        #[arg(long = "said", value_name = "POINT", value_delimiter = ',', value_parser = parse_text::<crate::journal::ScriptPoint>)]
        said: Vec<crate::journal::ScriptPoint>,
    },
    /// Record a correction of an appeal's details (a manager or the Director): the
    /// reporter's, the subject, the substance. The earlier values stay; the audit
    /// log names the fields and the reason. Same as POST /v1/appeals/{id}/corrections.
    Correct {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        organisation: Option<String>,
        /// Postal address for the reply.
        #[arg(long)]
        postal_address: Option<String>,
        /// Phone number for feedback.
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        substance: Option<String>,
        /// Why (goes into the audit log; name no value there).
        #[arg(long)]
        reason: String,
    },
    /// Classify an appeal (and send what follows: the Director's alert, 6.3, routing).
    Classify {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// corruption, not_corruption or criminal_offence.
        #[arg(long, value_parser = parse_text::<Category>)]
        category: Category,
        /// Why (goes into the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Show an appeal's deadlines and the suggested category.
    Deadlines {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
    },
    /// Close an appeal (`closed`) or find it not considered (`not_considered`,
    /// 6.3), with the reason: the same acts as `journal act close` and `journal
    /// act not-considered`, ending the deadlines they make moot. Every other
    /// status follows from the act that sets it (the command says which).
    Status {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        /// closed or not_considered.
        #[arg(value_parser = parse_text::<Status>)]
        status: Status,
        /// Why (goes into the audit log; required).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record an act on an appeal (`cases::Act`): the Director's consent to send
    /// a corruption report to the anti-corruption service or her refusal (10.6,
    /// 10.7), sending it on to a unit (10.9), forwarding it to a competent body
    /// (10.7, 6.3), "not considered" (6.3), closing it. Recorded in the audit log,
    /// with the deadlines it meets or ends.
    Act {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        #[arg(value_enum)]
        act: ActKind,
        /// The reason (consent refused, not considered, close; optional for consent).
        #[arg(long)]
        reason: Option<String>,
        /// The unit, for `route` (a unit of `[[alerts.routes]]`, or "default unit").
        #[arg(long)]
        unit: Option<String>,
        /// Where to, for `forward`: anti_corruption_service (after the Director's
        /// consent) or competent_body.
        #[arg(long, value_parser = parse_text::<crate::cases::acts::Body>)]
        to: Option<crate::cases::acts::Body>,
        /// The dispatch's date, for `forward` (default: today, Astana).
        #[arg(long)]
        on: Option<NaiveDate>,
        /// How it was sent, for `forward` (post, courier, by_hand, email).
        #[arg(long)]
        method: Option<String>,
        /// The dispatch's tracking reference or outgoing number, for `forward`.
        #[arg(long)]
        reference: Option<String>,
        /// For `route`: the unit's mail carries the appeal's subject and
        /// substance (once sealing is on: opened with your key, recorded as a
        /// disclosure; never the reporter's identity), so that the unit can act
        /// on it (10.9).
        #[arg(long)]
        with_text: bool,
    },
    /// Destroy the personal data past its retention period (`[retention]`): the
    /// identity and text of appeals whose case has ended, their raw mail, recordings, caller
    /// numbers and stored mail, and the numbers of old missed calls. Prints
    /// registration numbers and counts, never content.
    Purge {
        /// Print what would be destroyed, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record an event that starts or ends a deadline. The investigation's
    /// (investigation-ordered, investigation-extended, materials-requested,
    /// materials-received, decision) are refused here: `senim investigation …`
    /// records them in the investigation file, with its rules (7.3–7.11).
    Event {
        /// Registration number (TL-2026-000042) or id.
        appeal: String,
        #[arg(value_enum)]
        event: EventKind,
        /// The date it happened (default: today, Astana).
        #[arg(long)]
        on: Option<NaiveDate>,
        /// The new deadline, for extensions.
        #[arg(long)]
        until: Option<NaiveDate>,
        /// The reason, for extensions.
        #[arg(long)]
        reason: Option<String>,
        /// The written decision's reference (number and date), for the reply's
        /// extension (APPK Art. 76).
        #[arg(long)]
        reference: Option<String>,
        /// The decision of 7.11.
        #[arg(long, value_enum)]
        decision: Option<DecisionArg>,
    },
}

#[derive(Args, Debug, Default)]
pub struct FilterArgs {
    /// First registration date (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last registration date (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    #[arg(long, value_parser = parse_text::<Channel>)]
    pub channel: Option<Channel>,
    #[arg(long, value_parser = parse_text::<Category>)]
    pub category: Option<Category>,
    #[arg(long, value_parser = parse_text::<Status>)]
    pub status: Option<Status>,
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Csv,
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T, String> {
    s.parse()
}

impl FilterArgs {
    fn to_filter(&self) -> ListFilter {
        ListFilter {
            from: self.from,
            to: self.to,
            channel: self.channel,
            category: self.category,
            status: self.status,
            limit: self.limit,
            ..ListFilter::default()
        }
    }
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
        app::load_calendar(&config)?;
        if let Some(warning) = signing_key_warning(&config) {
            eprintln!("senim: warning: {warning}");
        }
        println!("{}: configuration is valid", source.path.display());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Command::Calendar(args) = &cli.command {
        let calendar = app::load_calendar(&config)?;
        print_calendar(
            &calendar,
            args,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        )?;
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
        Command::Serve => {
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
        }
        Command::Migrate => {
            let app = App::open(config, clock).await?;
            println!("migrations applied ({})", app.db.backend());
        }
        Command::Journal(command) => {
            let app = App::open(config, clock).await?;
            return journal_command(&app, &claimed, command).await;
        }
        Command::Outbox(command) => {
            let app = App::open(config, clock).await?;
            return outbox_command(&app, command).await;
        }
        Command::Persons(command) => {
            let app = App::open(config, clock).await?;
            persons_command(&app, command).await?;
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
            documents_command(&app, &claimed, command).await?;
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

fn print_calendar(
    calendar: &Calendar,
    args: &CalendarArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let hours = calendar.hours();
    let mut out = std::io::stdout().lock();
    if let Some(at) = args.at {
        let at = at.with_timezone(&Utc);
        let local = |t: DateTime<Utc>| {
            t.with_timezone(&hours.tz)
                .format("%Y-%m-%d %H:%M %Z (%:z)")
                .to_string()
        };
        writeln!(out, "at:                {}", local(at))?;
        let date = at.with_timezone(&hours.tz).date_naive();
        writeln!(
            out,
            "day:               {} ({})",
            date.format("%A"),
            calendar.day(date)
        )?;
        match calendar.closes_at(at) {
            Some(closes) => writeln!(out, "line:              OPEN, closes {}", local(closes))?,
            None => writeln!(out, "line:              CLOSED")?,
        }
        writeln!(
            out,
            "next opening:      {}",
            local(calendar.next_opening(at))
        )?;
        writeln!(out, "registration date: {}", calendar.registration_date(at))?;
        return Ok(());
    }
    let year = args
        .year
        .unwrap_or_else(|| now.with_timezone(&hours.tz).year());
    writeln!(
        out,
        "Non-working weekdays and worked weekend days of {year} ({}, open {}–{} on working days):",
        hours.tz,
        hours.opens.format("%H:%M"),
        hours.closes.format("%H:%M")
    )?;
    for (date, kind) in calendar.year(year) {
        writeln!(out, "{}  {}  {kind}", date, date.format("%a"))?;
    }
    for (_, date) in calendar.estimated_years(year..=year) {
        writeln!(
            out,
            "Kurban Ait (first day) {year}: {date} {}, ESTIMATED (counted with this estimate \
             until the official date is in the calendar data)",
            date.format("%a")
        )?;
    }
    if !calendar.missing_years(year..=year).is_empty() {
        writeln!(
            out,
            "WARNING: no Kurban Ait date for {year} in the calendar data"
        )?;
    }
    Ok(())
}

async fn journal_command(
    app: &App,
    claimed: &Claimed,
    command: JournalCommand,
) -> anyhow::Result<std::process::ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        JournalCommand::List {
            filter,
            json,
            with_identity,
        } => {
            let mut appeals = app.journal.list(&filter.to_filter()).await?;
            if json {
                if with_identity {
                    appeals = disclose(app, claimed, appeals, "list").await?;
                }
                for a in &appeals {
                    let shown = if with_identity { a } else { &a.redacted() };
                    writeln!(out, "{}", serde_json::to_string(shown)?)?;
                }
            } else {
                writeln!(
                    out,
                    "{:<16} {:>6}  {:<10} {:<6} {:<16} {:<24} flags",
                    "number", "id", "registered", "channel", "category", "status"
                )?;
                for a in &appeals {
                    writeln!(
                        out,
                        "{:<16} {:>6}  {:<10} {:<6} {:<16} {:<24} {}",
                        a.registration_number.to_string(),
                        a.id,
                        a.registration_date,
                        a.channel,
                        a.category,
                        a.status,
                        flags(a)
                    )?;
                }
                writeln!(out, "{} appeal(s)", appeals.len())?;
            }
        }
        JournalCommand::Show {
            appeal,
            with_identity,
        } => {
            let appeal = find_appeal(app, &appeal).await?;
            // The reasons of its acts: plain as they are, sealed ones opened
            // only with the key of a person the disclosure names.
            let (appeal, unlocked) = if with_identity {
                let (mut opened, unlocked) =
                    disclose_with_key(app, claimed, vec![appeal], "show").await?;
                let appeal = opened.pop().context("the appeal was not opened")?;
                (appeal, unlocked)
            } else {
                (appeal.redacted(), None)
            };
            let reasons = app.journal.reasons(appeal.id, unlocked.as_ref()).await?;
            writeln!(out, "{}", serde_json::to_string_pretty(&appeal)?)?;
            writeln!(out, "history:")?;
            for e in app.journal.history(appeal.id).await? {
                writeln!(
                    out,
                    "  #{:<6} {}  {:<18} by {}  {}",
                    e.seq,
                    e.at.to_rfc3339(),
                    e.kind,
                    e.actor,
                    reasons.shown_text(&e.detail, "(sealed)", "(destroyed)")
                )?;
            }
        }
        JournalCommand::Materials {
            appeal,
            output,
            zip,
        } => {
            let appeal = find_appeal(app, &appeal).await?;
            let actor = claimed.actor(app, &[Role::Manager, Role::Director]).await?;
            let unlocked = match unlock_if_sealed(app, claimed, &actor, true).await? {
                Some(unlocked) => unlocked,
                None => crate::sealing::Unlocked::without_keys(&actor),
            };
            let purpose = if zip.is_some() {
                "materials_package"
            } else {
                "materials"
            };
            app.journal
                .record_disclosure(&[appeal.id], &actor, purpose)
                .await
                .context("cannot record the disclosure in the audit log; nothing was written")?;
            if let Some(file) = zip {
                let package = app
                    .documents()
                    .package(appeal, &unlocked, &actor, &file)
                    .await?;
                for w in &package.files {
                    writeln!(out, "{}  {:>9} bytes  {}", &w.sha256[..16], w.size, w.name)?;
                }
                let enclosures: Vec<String> = package
                    .enclosures
                    .iter()
                    .map(|e| match (e.pages, e.seconds) {
                        (Some(pages), _) => format!("{} {pages} p.", e.kind),
                        (None, Some(seconds)) => format!("{} {seconds} s", e.kind),
                        (None, None) => format!("{} (pages not known)", e.kind),
                    })
                    .collect();
                writeln!(out, "enclosures: {}", enclosures.join(", "))?;
                writeln!(
                    out,
                    "{} file(s) and MANIFEST.sha256 in {} ({} bytes, SHA-256 {})",
                    package.files.len(),
                    file.display(),
                    package.size,
                    package.sha256
                )?;
            } else if let Some(output) = output {
                let written =
                    crate::materials::write(&app.journal, &app.pbx, appeal, &unlocked, &output)
                        .await?;
                for w in &written {
                    writeln!(out, "{}  {:>9} bytes  {}", &w.sha256[..16], w.size, w.name)?;
                }
                writeln!(
                    out,
                    "{} file(s) written to {}, with MANIFEST.sha256",
                    written.len(),
                    output.display()
                )?;
            }
        }
        JournalCommand::Export {
            format: ExportFormat::Csv,
            filter,
            with_identity,
            without_identity: _,
            output,
        } => {
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    crate::private_fs::private_file(path).context("--output: cannot create it")?,
                ),
                None => Box::new(std::io::stdout()),
            };
            if with_identity {
                let appeals = app.journal.list(&filter.to_filter()).await?;
                let appeals = disclose(app, claimed, appeals, "export").await?;
                crate::journal::export::write_csv(&app.journal, sink, &appeals, true).await?;
            } else {
                // Without identity too, an export is a read in the chain, by a
                // person: the auditor, a manager or the Director. The console's
                // auditor exports through the same function.
                let actor = claimed
                    .actor(app, &[Role::Auditor, Role::Manager, Role::Director])
                    .await?;
                crate::journal::export::without_identity(
                    &app.journal,
                    &filter.to_filter(),
                    &actor,
                    sink,
                )
                .await?;
            }
        }
        JournalCommand::Classify {
            appeal,
            category,
            reason,
        } => {
            let appeal = find_appeal(app, &appeal).await?;
            let actor = claimed.actor(app, &[Role::Manager]).await?;
            let appeal = app
                .case()
                .classify(
                    appeal.id,
                    category,
                    &reason,
                    &actor,
                    app.clock.now(),
                    app.today(),
                )
                .await?;
            writeln!(
                out,
                "{} classified as {}; suggested: {}",
                appeal.registration_number,
                appeal.category,
                crate::triage::suggestion_for(&appeal).describe()
            )?;
        }
        JournalCommand::Deadlines { appeal } => {
            let appeal = find_appeal(app, &appeal).await?;
            writeln!(
                out,
                "{} registered {}, category {}, suggested {}",
                appeal.registration_number,
                appeal.registration_date,
                appeal.category,
                crate::triage::suggestion_for(&appeal).describe()
            )?;
            print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
        }
        JournalCommand::Event {
            appeal,
            event,
            on,
            until,
            reason,
            reference,
            decision,
        } => {
            let appeal = find_appeal(app, &appeal).await?;
            let event = build_event(
                event,
                on.unwrap_or_else(|| app.today()),
                until,
                reason,
                reference,
                decision,
            )?;
            let act = crate::cases::Act::Deadline(event);
            let actor = claimed.actor_for(app, &act).await?;
            app.case()
                .record(appeal.id, &act, &actor, app.clock.now(), app.today())
                .await?;
            print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
        }
        JournalCommand::RecordCall {
            appeal,
            name,
            organisation,
            postal_address,
            phone,
            email,
            subject,
            substance,
            said,
        } => {
            let actor = claimed.actor(app, &[Role::Operator, Role::Manager]).await?;
            let key: AppealKey = appeal.parse().map_err(anyhow::Error::msg)?;
            let notes = crate::pbx::notes::OperatorNotes {
                name,
                organisation,
                postal_address,
                phone,
                email,
                subject,
                substance,
                script: said,
            };
            if notes.is_empty() {
                bail!(
                    "give at least one of --name, --organisation, --postal-address, --phone, --email, --subject, --substance"
                );
            }
            let appeal =
                crate::pbx::notes::record_operator_notes(&app.journal, &key, notes, &actor).await?;
            writeln!(
                out,
                "{} (id {}): notes recorded, status {}",
                appeal.registration_number, appeal.id, appeal.status
            )?;
        }
        JournalCommand::Correct {
            appeal,
            name,
            organisation,
            postal_address,
            phone,
            email,
            subject,
            substance,
            reason,
        } => {
            let actor = claimed.actor(app, &[Role::Manager, Role::Director]).await?;
            let key: AppealKey = appeal.parse().map_err(anyhow::Error::msg)?;
            let correction = crate::pbx::notes::Correction {
                name,
                organisation,
                postal_address,
                phone,
                email,
                subject,
                substance,
                reason,
            };
            let appeal =
                crate::pbx::notes::correct_details(&app.journal, &key, correction, &actor).await?;
            writeln!(
                out,
                "{} (id {}): correction recorded, status {}",
                appeal.registration_number, appeal.id, appeal.status
            )?;
        }
        JournalCommand::Status {
            appeal,
            status,
            reason,
        } => {
            let reason = reason.unwrap_or_default();
            let act = match status {
                Status::Closed => crate::cases::Act::Close { reason },
                Status::NotConsidered => crate::cases::Act::NotConsidered { reason },
                other => bail!("{}", status_path(other)),
            };
            let appeal = find_appeal(app, &appeal).await?;
            let actor = claimed.actor_for(app, &act).await?;
            let appeal = app
                .case()
                .record(appeal.id, &act, &actor, app.clock.now(), app.today())
                .await?;
            writeln!(
                out,
                "{} (id {}): status {}",
                appeal.registration_number, appeal.id, appeal.status
            )?;
        }
        JournalCommand::Act {
            appeal,
            act,
            reason,
            unit,
            to,
            on,
            method,
            reference,
            with_text,
        } => {
            use crate::cases::Act;
            let reason = reason.unwrap_or_default();
            if with_text && !matches!(act, ActKind::Route) {
                bail!("--with-text is for route");
            }
            let mut act = match act {
                ActKind::Consent => Act::Consent { send: true, reason },
                ActKind::RefuseConsent => Act::Consent {
                    send: false,
                    reason,
                },
                ActKind::Route => Act::Route {
                    unit: unit.context("--unit is required for route")?,
                    text: None,
                },
                ActKind::Forward => Act::Forward {
                    to: to.context("--to is required for forward")?,
                    on: on.unwrap_or_else(|| app.today()),
                    method: method.context("--method is required for forward")?,
                    reference: reference.unwrap_or_default(),
                },
                ActKind::NotConsidered => Act::NotConsidered { reason },
                ActKind::Close => Act::Close { reason },
            };
            let appeal = find_appeal(app, &appeal).await?;
            let actor = claimed.actor_for(app, &act).await?;
            // Its text opened with the person's key only once the act is
            // complete and theirs to record: the opening is a disclosure.
            if let Act::Route { text, .. } = &mut act
                && with_text
                && appeal.sealed.is_some()
            {
                let opened = disclose(
                    app,
                    claimed,
                    vec![appeal.clone()],
                    "sent on to a unit (10.9)",
                )
                .await?;
                *text = opened.first().map(crate::cases::acts::SentText::of);
            }
            let appeal = app
                .case()
                .record(appeal.id, &act, &actor, app.clock.now(), app.today())
                .await?;
            writeln!(
                out,
                "{} (id {}): {} recorded, status {}",
                appeal.registration_number,
                appeal.id,
                act.name(),
                appeal.status
            )?;
            print_deadlines(&mut out, &app.deadlines.of_appeal(appeal.id).await?)?;
        }
        JournalCommand::Purge { dry_run } => {
            // The records schedule destroys, not a person: whoever runs the timer.
            let report = app.retention().purge(dry_run, RETENTION_ACTOR).await?;
            print_purge(&mut out, &report)?;
        }
        JournalCommand::KeyChain => {
            let events = app.journal.key_chain().await?;
            writeln!(out, "audit chain keyed: {events} event(s)")?;
        }
        JournalCommand::HeadKey => {
            writeln!(out, "{}", app.journal.head_public_key("the head key")?)?;
        }
        JournalCommand::PublishHead { append } => {
            let head = serde_json::to_string(&app.journal.signed_head().await?)?;
            if let Some(path) = append {
                crate::private_fs::append_line(&path, &head)
                    .with_context(|| format!("cannot append to {}", path.display()))?;
            }
            writeln!(out, "{head}")?;
        }
        JournalCommand::Verify { heads, public_keys } => {
            let (report, deadlines) = verify_chain(app, heads.as_deref(), &public_keys).await?;
            // The investigation files' sealed entries against the hashes the
            // chain holds of them.
            let files = app.investigations().verify().await?;
            // The rows that say whom Senim seals to and what a person may do.
            let rows = signed_rows_findings(app, public_keys.first().map(String::as_str)).await?;
            if report.linked_only > 0 {
                writeln!(
                    out,
                    "{} event(s) from before the chain turned public checked by their links only \
                     (their contents need the chain key)",
                    report.linked_only
                )?;
            }
            if report.is_intact() && files.is_empty() && deadlines.is_empty() && rows.is_empty() {
                writeln!(
                    out,
                    "journal intact: {} appeal(s), {} event(s), chain verified",
                    report.appeals, report.events
                )?;
            } else {
                for f in report.findings.iter().chain(&deadlines) {
                    writeln!(out, "TAMPERED: {}: {}", f.what, f.problem)?;
                }
                for f in files.iter().chain(&rows) {
                    writeln!(out, "TAMPERED: {f}")?;
                }
                writeln!(
                    out,
                    "journal NOT intact: {} finding(s)",
                    report.findings.len() + deadlines.len() + files.len() + rows.len()
                )?;
                return Ok(std::process::ExitCode::from(1));
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `journal verify`'s check of the chain, its head and the deadlines: with the
/// installation's keys, or, given `public_keys`, as an auditor with those alone;
/// and the published heads in `heads`, if given.
async fn verify_chain(
    app: &App,
    heads: Option<&std::path::Path>,
    public_keys: &[String],
) -> anyhow::Result<(
    crate::journal::VerifyReport,
    Vec<crate::journal::audit::Finding>,
)> {
    let heads = heads.map(read_heads).transpose()?;
    if public_keys.is_empty() {
        let report = match &heads {
            None => app.journal.verify().await?,
            Some(heads) => app.journal.verify_with_heads(heads).await?,
        };
        let deadlines = deadline_findings(app, app.journal.signing_keys()).await?;
        return Ok((report, deadlines));
    }
    let keys = public_keys
        .iter()
        .map(|k| crate::authority::PublicKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .context("--public-key")?;
    let report = app.journal.verify_public(&keys, heads.as_deref()).await?;
    Ok((report, deadline_findings(app, &keys).await?))
}

/// Every appeal's deadlines against their signed list, once the chain is public
/// (before, they are not signed, and the chain's head says so).
async fn deadline_findings(
    app: &App,
    keys: &[crate::authority::PublicKey],
) -> anyhow::Result<Vec<crate::journal::audit::Finding>> {
    if app.journal.public_from().await?.is_none() {
        return Ok(Vec::new());
    }
    let appeals: Vec<_> = app
        .journal
        .list_keys(&ListFilter::default())
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    Ok(app.deadlines.check(&appeals, keys).await?)
}

/// The published heads in a file, one JSON line each.
fn read_heads(path: &std::path::Path) -> anyhow::Result<Vec<crate::journal::audit::SignedHead>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not a published head", path.display(), i + 1))
        })
        .collect()
}

/// The warning of a configuration whose signing key is derived from the chain key.
pub fn signing_key_warning(config: &Config) -> Option<&'static str> {
    (config.journal.chain_key_file.is_some() && config.journal.signing_key_file.is_none()).then_some(
        "the signing key is derived from the chain key: set journal.signing_key_file to separate them \
         (docs/security.md)",
    )
}

/// `journal verify`'s findings on the signed rows (the sealing keys, persons),
/// checked with `--public-key` or the configured signing key's public half;
/// none without either (nothing is signed then).
async fn signed_rows_findings(app: &App, public_key: Option<&str>) -> anyhow::Result<Vec<String>> {
    let public = match public_key {
        Some(hex) => Some(crate::authority::PublicKey::parse(hex).context("--public-key")?),
        None => app.authority.as_ref().map(|a| a.public_key().clone()),
    };
    let Some(public) = public else {
        return Ok(Vec::new());
    };
    let mut findings = app.keys().verify_rows(&public).await?;
    findings.extend(app.persons.verify_rows(&public).await?);
    Ok(findings)
}

/// How the reply is sent, as the command line spells it.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ReplyMethodArg {
    Email,
    Post,
    ByHand,
}

impl From<ReplyMethodArg> for crate::documents::ReplyMethod {
    fn from(m: ReplyMethodArg) -> Self {
        match m {
            ReplyMethodArg::Email => crate::documents::ReplyMethod::Email,
            ReplyMethodArg::Post => crate::documents::ReplyMethod::Post,
            ReplyMethodArg::ByHand => crate::documents::ReplyMethod::ByHand,
        }
    }
}

/// Writes a letter to the citizen's files into `output`, one line each.
fn write_letters(
    out: &mut impl Write,
    output: &std::path::Path,
    issued: &crate::documents::Issued,
) -> anyhow::Result<()> {
    for (file, bytes) in &issued.contents {
        let path = output.join(&file.name);
        write_new_private(&path, bytes).with_context(|| {
            format!(
                "{} is recorded; its letter names the person and is not kept elsewhere: \
                 this was its only copy",
                issued.entry.number
            )
        })?;
        writeln!(
            out,
            "{}  {:>9} bytes  {}",
            file.sha256,
            file.size,
            path.display()
        )?;
    }
    Ok(())
}

async fn documents_command(
    app: &App,
    claimed: &Claimed,
    command: DocumentsCommand,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let documents = app.documents();
    match command {
        DocumentsCommand::CoverLetter { appeal, output } => {
            let appeal = find_appeal(app, &appeal).await?;
            let actor = claimed.actor(app, crate::documents::ISSUERS).await?;
            crate::private_fs::output_dir(&output)
                .with_context(|| format!("--output: cannot create {}", output.display()))?;
            let issued = documents.cover_letter(appeal.id, &actor).await?;
            for (file, bytes) in &issued.contents {
                let path = output.join(&file.name);
                write_new_private(&path, bytes).with_context(|| {
                    format!(
                        "{} is recorded in the outgoing register, with its files (the console's \
                         appeal page offers them)",
                        issued.entry.number
                    )
                })?;
                writeln!(
                    out,
                    "{}  {:>9} bytes  {}",
                    file.sha256,
                    file.size,
                    path.display()
                )?;
            }
            writeln!(
                out,
                "{} of {}: cover letter to {}, recorded in the outgoing register (id {})",
                issued.entry.number,
                issued.entry.issued_on,
                issued.entry.recipient,
                issued.entry.id
            )?;
        }
        DocumentsCommand::Reply {
            appeal,
            method,
            text_file,
            on,
            output,
        } => {
            let method = crate::documents::ReplyMethod::from(method);
            let text = std::fs::read_to_string(&text_file)
                .with_context(|| format!("--text-file: cannot read {}", text_file.display()))?;
            if method != crate::documents::ReplyMethod::Email && output.is_none() {
                anyhow::bail!("--output: required to write the letter of a reply by {method}");
            }
            let appeal = find_appeal(app, &appeal).await?;
            let mut opened = disclose(app, claimed, vec![appeal], "reply").await?;
            let appeal = opened.pop().context("appeal: not found")?;
            let actor = claimed.actor(app, crate::documents::ISSUERS).await?;
            if let Some(output) = &output {
                crate::private_fs::output_dir(output)
                    .with_context(|| format!("--output: cannot create {}", output.display()))?;
            }
            let input = crate::documents::ReplyInput {
                text,
                method,
                on: on.unwrap_or_else(|| app.today()),
            };
            let issued = documents.reply(&appeal, &input, &actor).await?;
            if let Some(output) = &output {
                write_letters(&mut out, output, &issued)?;
            }
            writeln!(
                out,
                "{} of {}: reply by {method} to appeal {}, recorded in the outgoing register (id {}); \
                 the appeal is replied",
                issued.entry.number,
                issued.entry.issued_on,
                appeal.registration_number,
                issued.entry.id
            )?;
        }
        DocumentsCommand::ExtensionNotice {
            appeal,
            until,
            reason,
            output,
        } => {
            let appeal = find_appeal(app, &appeal).await?;
            let mut opened = disclose(app, claimed, vec![appeal], "extension_notice").await?;
            let appeal = opened.pop().context("appeal: not found")?;
            let actor = claimed.actor(app, crate::documents::ISSUERS).await?;
            crate::private_fs::output_dir(&output)
                .with_context(|| format!("--output: cannot create {}", output.display()))?;
            let issued = documents
                .extension_notice(&appeal, until, &reason, &actor)
                .await?;
            write_letters(&mut out, &output, &issued)?;
            writeln!(
                out,
                "{} of {}: extension notice to {} for appeal {}, recorded in the outgoing register (id {})",
                issued.entry.number,
                issued.entry.issued_on,
                until,
                appeal.registration_number,
                issued.entry.id
            )?;
        }
        DocumentsCommand::List { appeal, year, json } => {
            let appeal = match appeal {
                Some(key) => Some(find_appeal(app, &key).await?.id),
                None => None,
            };
            let entries = documents.list(appeal, year).await?;
            if !json {
                writeln!(
                    out,
                    "{:<16} {:<10} {:<16} {:>6}  {:<20} {:<40} files",
                    "number", "date", "kind", "appeal", "by", "recipient"
                )?;
            }
            for e in &entries {
                if json {
                    writeln!(out, "{}", serde_json::to_string(e)?)?;
                    continue;
                }
                let files: Vec<String> = e
                    .files
                    .iter()
                    .map(|f| format!("{} {}", f.format, &f.sha256[..16.min(f.sha256.len())]))
                    .collect();
                writeln!(
                    out,
                    "{:<16} {:<10} {:<16} {:>6}  {:<20} {:<40} {}",
                    e.number,
                    e.issued_on,
                    e.kind,
                    e.appeal_id,
                    e.created_by,
                    e.recipient,
                    files.join(", ")
                )?;
            }
            if !json {
                writeln!(out, "{} document(s)", entries.len())?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file `path`, 0600; never over an existing file,
/// never through a symbolic link (`private_fs::private_file`).
fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = crate::private_fs::private_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

async fn persons_command(app: &App, command: PersonsCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        PersonsCommand::Add {
            login,
            name,
            roles,
            language,
        } => {
            let (person, token) = app.persons.add(&login, &name, &roles, language).await?;
            let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
            writeln!(out, "added {} ({})", person.login, roles.join(", "))?;
            writeln!(
                out,
                "token (shown once; give it to them in person): {token}"
            )?;
        }
        PersonsCommand::List => {
            for p in app.persons.list().await? {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
                let state = if p.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                let language = p.language.map_or("default", |l| l.as_str());
                writeln!(
                    out,
                    "{:<20} {:<9} {:<28} {:<8} {}",
                    p.login,
                    state,
                    roles.join(","),
                    language,
                    p.full_name
                )?;
            }
            for row in app.persons.unadopted(true).await? {
                writeln!(
                    out,
                    "{row}: NOT SIGNED by this installation's key, refused (`senim journal verify`)"
                )?;
            }
        }
        PersonsCommand::Disable { login } => {
            app.persons.disable(&login).await?;
            writeln!(out, "disabled {login}")?;
        }
        PersonsCommand::Enable { login } => {
            app.persons.enable(&login).await?;
            writeln!(out, "enabled {login}")?;
        }
        PersonsCommand::Reset { login } => {
            let token = app.persons.reset(&login).await?;
            writeln!(out, "new token for {login} (shown once): {token}")?;
        }
        PersonsCommand::Password {
            login,
            password_file,
        } => {
            let password = keys::secret_once_or_twice(password_file.as_ref(), &login)?;
            use age::secrecy::ExposeSecret;
            app.persons
                .set_password(&login, password.expose_secret())
                .await?;
            writeln!(out, "console password of {login} set")?;
        }
        PersonsCommand::Language {
            login,
            language: LanguageChoice(language),
        } => {
            app.persons.set_language(&login, language).await?;
            match language {
                Some(l) => writeln!(out, "console language of {login}: {l}")?,
                None => writeln!(
                    out,
                    "console language of {login}: the default (the login page's choice, else console.language)"
                )?,
            }
        }
    }
    Ok(())
}

/// What a purge destroyed (or would): registration numbers and counts only.
fn print_purge(out: &mut impl Write, report: &crate::retention::Report) -> std::io::Result<()> {
    let (verb, would) = if report.dry_run {
        ("would destroy", "dry run: nothing was changed")
    } else {
        ("destroyed", "")
    };
    for done in &report.appeals {
        let what = if done.whole {
            "identity and text"
        } else {
            "raw mail and recordings"
        };
        let counts = done
            .counts()
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "{:<16} {verb} {what} (closed {}, {}){}{counts}",
            done.appeal.registration_number.to_string(),
            done.appeal.ended_at.date_naive(),
            done.appeal.category,
            if counts.is_empty() { "" } else { "; " },
        )?;
    }
    for number in &report.skipped {
        writeln!(out, "{number:<16} skipped: no longer closed")?;
    }
    let m = &report.missed;
    writeln!(
        out,
        "missed calls: {verb} the numbers of {} call(s), {} CTI event(s), {} recording(s)",
        m.calls, m.cti_events, m.recordings
    )?;
    writeln!(
        out,
        "digests of unclassified appeals: {verb} {}",
        report.digests
    )?;
    writeln!(
        out,
        "automatic mail (bounces, auto-replies): {verb} {}",
        report.automatic_mail
    )?;
    writeln!(
        out,
        "recording files: {} {}",
        if report.dry_run {
            "left to remove by an interrupted purge:"
        } else {
            "removed"
        },
        report.files
    )?;
    let whole = report.appeals.iter().filter(|a| a.whole).count();
    writeln!(
        out,
        "{} appeal(s): {whole} {verb} whole, {} of raw mail and recordings only{}",
        report.appeals.len(),
        report.appeals.len() - whole,
        if would.is_empty() {
            String::new()
        } else {
            format!("; {would}")
        }
    )?;
    if !report.dry_run && !report.is_empty() && !report.checkpointed {
        writeln!(
            out,
            "warning: the SQLite write-ahead log could not be truncated (a reader held it): \
             destroyed data stays in it until the next checkpoint"
        )?;
    }
    Ok(())
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
    let actor = claimed.actor(app, &[Role::Manager, Role::Director]).await?;
    let any_sealed = appeals.iter().any(|a| a.sealed.is_some());
    let unlocked = unlock_if_sealed(app, claimed, &actor, any_sealed).await?;
    let ids: Vec<_> = appeals.iter().map(|a| a.id).collect();
    app.journal
        .record_disclosure(&ids, &actor, purpose)
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

fn build_event(
    kind: EventKind,
    on: NaiveDate,
    until: Option<NaiveDate>,
    reason: Option<String>,
    reference: Option<String>,
    decision: Option<DecisionArg>,
) -> anyhow::Result<crate::deadlines::Event> {
    use crate::deadlines::Event;
    let until = || until.context("--until is required for an extension");
    let reason = || {
        reason
            .clone()
            .context("--reason is required for an extension")
    };
    Ok(match kind {
        EventKind::ReplySent => Event::ReplySent { on },
        EventKind::ReplyExtended => Event::ReplyExtended {
            until: until()?,
            reason: reason()?,
            reference: reference
                .context("--reference is required: the head's written decision (APPK Art. 76)")?,
        },
        EventKind::CitizenNotified => Event::CitizenNotified { on },
        EventKind::OutsideCompetence => Event::OutsideCompetence,
        EventKind::Redirected => Event::Redirected { on },
        EventKind::InvestigationOrdered => Event::InvestigationOrdered { on },
        EventKind::InvestigationExtended => Event::InvestigationExtended {
            until: until()?,
            reason: reason()?,
        },
        EventKind::MaterialsRequested => Event::MaterialsRequested { on },
        EventKind::MaterialsReceived => Event::MaterialsReceived {
            on,
            requested_on: None,
        },
        EventKind::Decision => Event::Decision {
            on,
            decision: decision.context("--decision is required")?.into(),
        },
    })
}

fn print_deadlines(
    out: &mut impl Write,
    list: &[crate::deadlines::Deadline],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<18} {:<10} {:<10} {:<10} what",
        "deadline", "from", "due", "met"
    )?;
    for d in list {
        writeln!(
            out,
            "{:<18} {:<10} {:<10} {:<10} {}{}",
            d.kind.as_str(),
            d.started_on,
            d.due_on,
            d.met_on.map_or_else(|| "-".to_owned(), |m| m.to_string()),
            d.kind.describe(),
            d.reason
                .as_deref()
                .map_or_else(String::new, |r| format!("; extended: {r}"))
        )?;
    }
    Ok(())
}

async fn outbox_command(
    app: &App,
    command: OutboxCommand,
) -> anyhow::Result<std::process::ExitCode> {
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

pub(crate) async fn find_appeal(app: &App, key: &str) -> anyhow::Result<Appeal> {
    let key: AppealKey = key.parse().map_err(anyhow::Error::msg)?;
    Ok(app.journal.find(&key).await?)
}

fn flags(a: &Appeal) -> String {
    let mut f = Vec::new();
    if a.anonymous {
        f.push("anonymous");
    }
    if a.no_return_address {
        f.push("no-return-address");
    }
    f.join(",")
}

/// What sets `status`, for `journal status` to name instead of setting it: the
/// status of an appeal follows from the act recorded on it (`cases::Act`).
fn status_path(status: Status) -> String {
    let how = match status {
        Status::Registered | Status::AwaitingOperatorNotes => {
            "is where an appeal begins; a status never moves back"
        }
        Status::InReview => "follows the manager's classification (`senim journal classify`)",
        Status::Routed => {
            "follows sending the appeal on to a unit (`senim journal act … route --unit U`)"
        }
        Status::Forwarded => {
            "follows a forwarding (`senim journal act … forward`, to the anti-corruption service only \
             after the Director's consent) or a redirection (`senim journal event … redirected`)"
        }
        Status::UnderInvestigation => {
            "follows the Director's order of an internal investigation (`senim investigation order`)"
        }
        Status::Decided => "follows the Director's decision (`senim investigation decide`)",
        Status::Replied => {
            "follows the reply to the citizen (`senim documents reply`, or `senim journal event … reply-sent`)"
        }
        Status::NotConsidered | Status::Closed => "is set by `senim journal status`",
    };
    format!("{status}: this status {how}")
}
