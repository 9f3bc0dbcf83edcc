//! `senim journal …`: the subcommands (clap) and their dispatch, one function
//! each: the register (`register.rs`), the case work (`case.rs`), the
//! disclosures (`disclose.rs`: materials, export), the chain (`chain.rs`:
//! verify, heads, keys) and the purge (`purge.rs`).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use crate::app::App;
use crate::cli::{Claimed, parse_text};
use crate::journal::{Category, Channel, ListFilter, Status};

pub mod case;
pub mod chain;
pub mod disclose;
pub mod purge;
pub mod register;

pub use case::{ActArgs, ActKind, DecisionArg, EventArgs, EventKind};
pub use register::{CorrectArgs, RecordCallArgs};

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
    RecordCall(RecordCallArgs),
    /// Record a correction of an appeal's details (a manager or the Director): the
    /// reporter's, the subject, the substance. The earlier values stay; the audit
    /// log names the fields and the reason. Same as POST /v1/appeals/{id}/corrections.
    Correct(CorrectArgs),
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
    Act(ActArgs),
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
    Event(EventArgs),
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

/// Runs `senim journal …`; the exit code is 1 when `verify` finds the Journal
/// not intact.
pub async fn run(
    app: &App,
    claimed: &Claimed,
    command: JournalCommand,
) -> anyhow::Result<std::process::ExitCode> {
    match command {
        JournalCommand::List {
            filter,
            json,
            with_identity,
        } => register::list(app, claimed, &filter, json, with_identity).await?,
        JournalCommand::Show {
            appeal,
            with_identity,
        } => register::show(app, claimed, appeal, with_identity).await?,
        JournalCommand::Materials {
            appeal,
            output,
            zip,
        } => disclose::materials(app, claimed, appeal, output, zip).await?,
        JournalCommand::Export {
            format: ExportFormat::Csv,
            filter,
            with_identity,
            without_identity: _,
            output,
        } => disclose::export(app, claimed, &filter, with_identity, output).await?,
        JournalCommand::Classify {
            appeal,
            category,
            reason,
        } => case::classify(app, claimed, appeal, category, reason).await?,
        JournalCommand::Deadlines { appeal } => case::deadlines(app, appeal).await?,
        JournalCommand::Event(args) => case::event(app, claimed, args).await?,
        JournalCommand::RecordCall(args) => register::record_call(app, claimed, args).await?,
        JournalCommand::Correct(args) => register::correct(app, claimed, args).await?,
        JournalCommand::Status {
            appeal,
            status,
            reason,
        } => case::status(app, claimed, appeal, status, reason).await?,
        JournalCommand::Act(args) => case::act(app, claimed, args).await?,
        JournalCommand::Purge { dry_run } => purge::purge(app, dry_run).await?,
        JournalCommand::KeyChain => chain::key_chain(app).await?,
        JournalCommand::HeadKey => chain::head_key(app)?,
        JournalCommand::PublishHead { append } => chain::publish_head(app, append).await?,
        JournalCommand::Verify { heads, public_keys } => {
            return chain::verify(app, heads, public_keys).await;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
