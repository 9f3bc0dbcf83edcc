//! `senim keys …`: the office key that seals identity and text, and who can open
//! it (`sealing`). Each command acts as a person (`--as`, with their token); the
//! ones that open the office key take that person's passphrase
//! (`--passphrase-file`, or asked on the terminal) or the escrow key
//! (`--escrow-key-file`).

use std::io::Write;
use std::path::PathBuf;

use age::secrecy::SecretString;
use anyhow::{Context, bail};
use clap::Subcommand;

use super::Claimed;
use crate::app::App;
use crate::rulebook::Action;
use crate::sealing::Unlocked;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create the office key and the escrow key, and seal the Journal in place.
    /// Prints the escrow key once, for the Director's safe (or writes it, 0600,
    /// to `--escrow-out`). Needs journal.chain_key_file.
    Init {
        #[arg(long, value_name = "FILE")]
        escrow_out: Option<PathBuf>,
    },
    /// Create your own key (`--as LOGIN`), protected by a passphrase of yours.
    Enroll {
        /// Replace an existing key (its grants are dropped: be added again).
        #[arg(long)]
        replace: bool,
    },
    /// Change the passphrase of your key (`--as LOGIN`); the new one is read from
    /// `--new-passphrase-file` or asked for.
    Passphrase {
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Let a manager or the Director read sealed appeals: grants them the office
    /// key (they must have enrolled). You open the office key to do it.
    AddReader { login: String },
    /// Take a reader's access away: a new office key is made and granted to the
    /// readers who remain, and everything sealed (appeals, mail and attachments,
    /// callers' numbers, recordings) is resealed to it.
    RemoveReader { login: String },
    /// Make a new office key, grant it to the readers and reseal everything
    /// sealed (appeals, mail and attachments, callers' numbers, recordings).
    Rotate,
    /// The persons' keys and the office key generations granted to each.
    List,
    /// Adopt the rows from before signing (an upgrade, or a signing key just
    /// configured): persons, the office key's generations, persons' keys and
    /// grants not yet signed are shown, then signed with the installation's key
    /// (journal.signing_key_file, else derived from journal.chain_key_file).
    /// Check each row shown: a row planted in the database would be adopted
    /// too. Only the Director (`--as`), whose own row may be unsigned.
    Authenticate {
        /// Sign what is shown without asking.
        #[arg(long)]
        yes: bool,
        /// Also rows whose signature does not verify (signed with another key,
        /// or edited outside Senim): only once each is known to be right.
        #[arg(long)]
        include_invalid: bool,
    },
}

/// Where the office key is opened from: the person's passphrase or the escrow.
#[derive(Clone, Debug, Default)]
pub struct KeySource {
    pub passphrase_file: Option<PathBuf>,
    pub escrow_key_file: Option<PathBuf>,
}

impl KeySource {
    /// The passphrase of `login`: from the file, else asked on the terminal.
    pub fn passphrase(&self, login: &str) -> anyhow::Result<SecretString> {
        read_secret(
            self.passphrase_file.as_ref(),
            &format!("Passphrase of {login}: "),
        )
    }

    /// Opens the office key: with the escrow key file if given, else as `login`.
    pub async fn unlock(&self, app: &App, login: &str) -> anyhow::Result<Unlocked> {
        let keys = app.keys();
        if let Some(path) = &self.escrow_key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--escrow-key-file: cannot read {}", path.display()))?;
            let escrow = crate::sealing::keys::parse_escrow(&text)?;
            return Ok(keys.unlock_escrow(escrow).await?);
        }
        Ok(keys.unlock(login, self.passphrase(login)?).await?)
    }

    /// Opens `login`'s own key (and the office key's generations granted to
    /// them, if any), or the escrow: what opens a file sealed to its readers
    /// (an investigation file), office reader or not.
    pub async fn unlock_own(&self, app: &App, login: &str) -> anyhow::Result<Unlocked> {
        if self.escrow_key_file.is_some() {
            return self.unlock(app, login).await;
        }
        let keys = app.keys();
        Ok(keys.unlock_own(login, self.passphrase(login)?).await?)
    }
}

/// A secret from a file (its first line), or asked on the terminal.
fn read_secret(file: Option<&PathBuf>, prompt: &str) -> anyhow::Result<SecretString> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => rpassword::prompt_password(prompt).context(
            "cannot ask for the passphrase (no terminal): give it in a file with --passphrase-file",
        )?,
    };
    Ok(SecretString::from(text))
}

/// The login of the person at the command line, checked against their token and
/// allowed `action` by the rulebook.
async fn person(app: &App, claimed: &Claimed, action: Action) -> anyhow::Result<String> {
    let actor = claimed.actor(app, action).await?;
    Ok(actor.trim_start_matches("person:").to_owned())
}

/// Whether `person` may hold the office key: a reader, one the rulebook lets
/// reveal an appeal (managers and the Director, 10.14).
fn is_reader(person: &crate::persons::Person) -> bool {
    Action::Reveal.allows(&person.roles)
}

pub async fn run(
    app: &App,
    claimed: &Claimed,
    source: &KeySource,
    command: KeysCommand,
) -> anyhow::Result<()> {
    match command {
        KeysCommand::Init { escrow_out } => init(app, claimed, escrow_out).await,
        KeysCommand::Enroll { replace } => enroll(app, claimed, source, replace).await,
        KeysCommand::Passphrase {
            new_passphrase_file,
        } => passphrase(app, claimed, source, new_passphrase_file).await,
        KeysCommand::AddReader { login } => add_reader(app, claimed, source, login).await,
        KeysCommand::RemoveReader { login } => remove_reader(app, claimed, source, login).await,
        KeysCommand::Rotate => rotate_key(app, claimed, source).await,
        KeysCommand::Authenticate {
            yes,
            include_invalid,
        } => {
            let mut out = std::io::stdout().lock();
            authenticate(app, claimed, yes, include_invalid, &mut out).await
        }
        KeysCommand::List => list(app, claimed).await,
    }
}

/// `keys init`: the office key and the escrow key made, and everything held sealed
/// in place, in one transaction.
async fn init(app: &App, claimed: &Claimed, escrow_out: Option<PathBuf>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let keys = app.keys();
    let now = app.clock.now();
    let login = person(app, claimed, Action::InitKeys).await?;
    if !app.journal.is_keyed() {
        bail!(
            "sealing needs journal.chain_key_file (the keyed hashes and what the daemon reads \
             back itself are derived from it): set it, run `senim journal key-chain`, then init"
        );
    }
    refuse_while_serving(app)?;
    // The escrow's file first: a path that exists is refused before any
    // key is made, never found after the only copy of the escrow key.
    // (Removed again if the init fails.)
    let escrow_file = escrow_out
        .as_deref()
        .map(crate::private_fs::Pending::create)
        .transpose()
        .context("--escrow-out: cannot create it")?;
    let actor = format!("person:{login}");
    let mut tx = app.db.begin().await?;
    let made = keys.init_in(&mut tx, &actor, now).await?;
    let current = keys
        .current_in(&mut tx)
        .await?
        .context("the new office key is not in its own transaction")?;
    app.sealer.use_recipients(current);
    // Every owner seals what it holds, in the one transaction: all of it is
    // sealed, or nothing is.
    let sealed = app.journal.seal_existing_in(&mut tx, &actor).await?;
    let mail = app.mailbox.seal_existing_in(&mut tx, &app.sealer).await?;
    let outbox = crate::outbox::Outbox::seal_existing_in(&mut tx, &app.sealer).await?;
    let calls = crate::pbx::store::seal_existing_in(&mut tx, &app.sealer).await?;
    let files = app
        .investigations()
        .seal_existing_in(&mut tx, &actor)
        .await?;
    tx.commit().await?;
    // Recording files after the commit: each is sealed, switched, then the
    // plain one removed, so a crash leaves one or the other (run again).
    let recordings = app
        .pbx
        .recordings
        .seal_existing(&app.db, &app.sealer)
        .await?;
    // The plain pages the sealing overwrote leave SQLite's write-ahead log.
    if !app.db.checkpoint().await? {
        writeln!(
            out,
            "warning: the SQLite write-ahead log could not be truncated (a reader held it): \
             plain pages stay in it until the next checkpoint"
        )?;
    }
    tracing::info!(
        actor,
        sealed,
        mail,
        outbox,
        calls,
        recordings,
        files,
        "office key created; everything held is sealed"
    );
    use age::secrecy::ExposeSecret;
    let escrow = made.escrow_identity.expose_secret();
    match escrow_file {
        Some(pending) => {
            let path = pending.path().to_owned();
            let mut file = pending.keep()?;
            writeln!(file, "# Senim escrow key: keep it in the Director's safe")?;
            writeln!(file, "# public key: {}", made.escrow_recipient)?;
            writeln!(file, "{escrow}")?;
            writeln!(out, "escrow key written to {} (0600)", path.display())?;
        }
        None => {
            writeln!(
                out,
                "escrow key (shown once; print it for the Director's safe):\n{escrow}"
            )?;
        }
    }
    writeln!(
        out,
        "office key generation {} created; {sealed} appeal(s) sealed in place, \
         {mail} mail(s), {outbox} outgoing mail(s), {calls} call record(s), {recordings} recording(s), \
         {files} investigation file(s)",
        made.generation
    )?;
    writeln!(
        out,
        "next: each reader runs `senim keys enroll --as LOGIN`, then `senim keys add-reader LOGIN` \
         (with --escrow-key-file for the first one)"
    )?;
    Ok(())
}

/// `keys enroll`: the person's own key, protected by their passphrase.
async fn enroll(
    app: &App,
    claimed: &Claimed,
    source: &KeySource,
    replace: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let keys = app.keys();
    let now = app.clock.now();
    let login = person(app, claimed, Action::EnrollKey).await?;
    let passphrase = match &source.passphrase_file {
        Some(_) => source.passphrase(&login)?,
        None => new_passphrase_twice(&login)?,
    };
    let public = keys.enroll(&login, passphrase, replace, now).await?;
    writeln!(out, "key of {login} created; public key {public}")?;
    Ok(())
}

/// `keys passphrase`: a new passphrase for the person's key.
async fn passphrase(
    app: &App,
    claimed: &Claimed,
    source: &KeySource,
    new_passphrase_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let keys = app.keys();
    let login = person(app, claimed, Action::ChangePassphrase).await?;
    let old = source.passphrase(&login)?;
    let new = match &new_passphrase_file {
        Some(path) => read_secret(Some(path), "")?,
        None => new_passphrase_twice(&login)?,
    };
    keys.change_passphrase(&login, old, new).await?;
    writeln!(out, "passphrase of {login} changed")?;
    Ok(())
}

/// `keys add-reader`: the office key granted to `reader`.
async fn add_reader(
    app: &App,
    claimed: &Claimed,
    source: &KeySource,
    reader: String,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let keys = app.keys();
    let now = app.clock.now();
    let login = person(app, claimed, Action::AddReader).await?;
    check_reader(app, &reader).await?;
    let unlocked = source.unlock(app, &login).await?;
    let generation = keys.grant(&unlocked, &reader, now).await?;
    tracing::info!(reader, by = unlocked.actor, generation, "reader added");
    writeln!(
        out,
        "{reader} can read sealed appeals (office key generation {generation})"
    )?;
    Ok(())
}

/// `keys remove-reader`: a new office key, granted to the readers who remain.
async fn remove_reader(
    app: &App,
    claimed: &Claimed,
    source: &KeySource,
    reader: String,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let login = person(app, claimed, Action::RemoveReader).await?;
    if reader == login && source.escrow_key_file.is_none() {
        bail!(
            "you cannot remove yourself with your own key: another reader, or the escrow key, does"
        );
    }
    let unlocked = source.unlock(app, &login).await?;
    let rotated = rotate(app, &unlocked, Some(&reader), &login).await?;
    tracing::info!(
        reader,
        by = unlocked.actor,
        generation = rotated.generation,
        "reader removed"
    );
    writeln!(out, "{reader} removed")?;
    describe(&mut out, &rotated)?;
    Ok(())
}

/// `keys rotate`: a new office key, granted to the readers, everything resealed.
async fn rotate_key(app: &App, claimed: &Claimed, source: &KeySource) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let login = person(app, claimed, Action::RotateKey).await?;
    let unlocked = source.unlock(app, &login).await?;
    let rotated = rotate(app, &unlocked, None, &login).await?;
    describe(&mut out, &rotated)?;
    Ok(())
}

/// `keys list`: the persons' keys and the generations granted to each.
async fn list(app: &App, claimed: &Claimed) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let keys = app.keys();
    person(app, claimed, Action::ListKeys).await?;
    match keys.current().await? {
        Some(c) => writeln!(out, "office key generation {}", c.generation)?,
        None => writeln!(
            out,
            "no office key: the Journal is not sealed (`senim keys init`)"
        )?,
    }
    for k in keys.list().await? {
        let granted: Vec<String> = k.granted.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "{:<20} enrolled {}  reader of generation(s): {}",
            k.login,
            k.created_at.format("%Y-%m-%d"),
            if granted.is_empty() {
                "none".to_owned()
            } else {
                granted.join(",")
            }
        )?;
    }
    Ok(())
}
/// `keys authenticate`: shows the rows that do not verify, then signs exactly
/// those, once the Director has seen them.
async fn authenticate(
    app: &App,
    claimed: &Claimed,
    yes: bool,
    include_invalid: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let authority = app.authority.as_deref().context(
        "there is no signing key: set journal.signing_key_file (openssl rand -hex 32) or \
         journal.chain_key_file",
    )?;
    let login = claimed
        .login
        .as_deref()
        .context("give --as LOGIN (the Director) and their token in SENIM_TOKEN or --token-file")?;
    let token = claimed
        .token
        .as_deref()
        .with_context(|| format!("--as {login}: give the token in SENIM_TOKEN or --token-file"))?;
    let director = app
        .persons
        .authenticate_unadopted(token)
        .await?
        .filter(|p| p.login == login && Action::AdoptRows.allows(&p.roles))
        .with_context(|| {
            format!("--as {login}: not the Director's token, or their row does not verify")
        })?;
    let persons = app.persons.unadopted(include_invalid).await?;
    let keys = app.keys();
    let rows = keys.unadopted(include_invalid).await?;
    let public = authority.public_key();
    if persons.is_empty() && rows.is_empty() {
        writeln!(
            out,
            "nothing to sign: every row is signed by this installation's key ({public})"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "rows to sign with this installation's key ({public}); check each one, a row planted in the \
         database would be adopted too:"
    )?;
    let bad = " (its signature does not verify: signed by another key, or edited)";
    for row in &persons {
        writeln!(out, "  {row}{}", if row.is_signed() { bad } else { "" })?;
    }
    for row in &rows {
        writeln!(out, "  {row}{}", if row.is_signed() { bad } else { "" })?;
    }
    let total = persons.len() + rows.len();
    if !yes {
        write!(out, "sign these {total} row(s)? type yes: ")?;
        out.flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            bail!("nothing signed");
        }
    }
    let mut tx = app.db.begin().await?;
    let signed_keys = keys.adopt_in(&mut tx, &rows).await?;
    tx.commit().await?;
    let signed_persons = app.persons.adopt(&persons).await?;
    tracing::warn!(
        actor = director.actor(),
        persons = signed_persons,
        keys = signed_keys,
        "rows from before signing adopted: signed by this installation's key"
    );
    writeln!(
        out,
        "signed {signed_persons} person row(s) and {signed_keys} key row(s)"
    )?;
    Ok(())
}

/// What a rotation did (`rotate`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// The new office key generation.
    pub generation: i64,
    /// The readers of the old generation not granted the new one (the one
    /// removed, a disabled person, one no longer a manager or the Director).
    pub dropped: Vec<String>,
    /// Appeals whose envelopes were resealed.
    pub appeals: u64,
    /// Stored mails (with their attachments) resealed.
    pub mail: u64,
    /// The telephone channel's rows resealed (calls' numbers, CTI events,
    /// recordings' file names).
    pub calls: u64,
    /// Recording files resealed, after the commit.
    pub recordings: u64,
    /// Recording files that could not be resealed (each logged): still sealed
    /// to an older generation.
    pub recordings_left: u64,
}

/// A new generation of the office key, without `without`, and everything sealed
/// to the office key resealed to it: in one transaction the appeals' envelopes
/// (`Journal::reseal_in`), the mail and attachments (`mailbox::store::reseal_in`)
/// and the telephone channel's numbers and file names (`pbx::store::reseal_in`);
/// after the commit, the recording files (`RecordingStore::reseal`, which a
/// crash leaves re-runnable), once the files of destroyed recordings an
/// interrupted purge left are removed (not resealed). `unlocked` opens the
/// current generation; `login` is the person rotating, for the audit log.
pub async fn rotate(
    app: &App,
    unlocked: &Unlocked,
    without: Option<&str>,
    login: &str,
) -> anyhow::Result<Rotated> {
    let keys = app.keys();
    let actor = format!("person:{login}");
    // Granted anew: the active managers and Director (their rows verifying),
    // never the one removed nor a disabled holder.
    let readers: std::collections::BTreeSet<String> = app
        .persons
        .list()
        .await?
        .into_iter()
        .filter(|p| p.disabled_at.is_none() && is_reader(p))
        .map(|p| p.login)
        .filter(|l| Some(l.as_str()) != without)
        .collect();
    let mut tx = app.db.begin().await?;
    let rotation = keys
        .rotate_in(
            &mut tx,
            unlocked,
            &|login| readers.contains(login),
            app.clock.now(),
        )
        .await?;
    app.sealer.use_recipients(rotation.recipients.clone());
    let appeals = app
        .journal
        .reseal_in(&mut tx, &rotation, unlocked, &actor)
        .await?;
    let mail = crate::mailbox::store::reseal_in(&mut tx, &rotation, unlocked)
        .await
        .context("cannot reseal the stored mail")?;
    let calls = crate::pbx::store::reseal_in(&mut tx, &rotation, unlocked)
        .await
        .context("cannot reseal the telephone channel's numbers and file names")?;
    // A reader removed holds no investigation file's key any more.
    if let Some(login) = without {
        crate::investigation::revoke_in(&mut tx, login).await?;
    }
    tx.commit().await?;
    // The files after the commit, as `keys init` seals them: each resealed
    // beside the old one, then switched; a crash leaves one or the other, both
    // open with the key (rotate again to finish).
    crate::pbx::recordings::remove_destroyed(&app.db, &app.pbx.recordings)
        .await
        .context(
            "the office key is rotated, but the files of destroyed recordings could not be removed \
             before the recordings were resealed (rotate again)",
        )?;
    let files = app
        .pbx
        .recordings
        .reseal(&app.db, &app.sealer, unlocked)
        .await
        .context(
            "the office key is rotated, but the recording files could not all be resealed \
             (rotate again)",
        )?;
    let _ = app.db.checkpoint().await;
    let rotated = Rotated {
        generation: rotation.recipients.generation,
        dropped: rotation.dropped.clone(),
        appeals,
        mail,
        calls,
        recordings: files.resealed,
        recordings_left: files.left,
    };
    tracing::info!(
        actor,
        generation = rotated.generation,
        appeals,
        mail,
        calls,
        recordings = files.resealed,
        recordings_left = files.left,
        "office key rotated; everything sealed is resealed to it"
    );
    Ok(rotated)
}

/// What `rotate` resealed, for the person at the command line.
fn describe(out: &mut impl Write, rotated: &Rotated) -> anyhow::Result<()> {
    writeln!(
        out,
        "office key generation {}; resealed {} appeal(s), {} mail(s) with their attachments, \
         {} call record(s) and file name(s), {} recording(s)",
        rotated.generation, rotated.appeals, rotated.mail, rotated.calls, rotated.recordings
    )?;
    if !rotated.dropped.is_empty() {
        writeln!(
            out,
            "not granted the new office key (removed, disabled, or no longer a manager or the Director): {}",
            rotated.dropped.join(", ")
        )?;
    }
    if rotated.recordings_left > 0 {
        writeln!(
            out,
            "warning: {} recording file(s) could not be resealed (missing or not opening; see the log): \
             they stay sealed to an older generation",
            rotated.recordings_left
        )?;
    }
    Ok(())
}

/// `keys init` runs with the daemon stopped, as a migration would: a daemon
/// running through it would learn of the office key only at its next refresh, and
/// could store plain values meanwhile. Something answering on `server.listen`
/// stops it (a daemon on another host, sharing PostgreSQL, must be stopped too).
fn refuse_while_serving(app: &App) -> anyhow::Result<()> {
    let mut addr = app.config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).is_ok() {
        bail!(
            "something answers on server.listen ({addr}): stop the daemon (systemctl stop senim) \
             and every other Senim process on this database, then run `senim keys init` again"
        );
    }
    Ok(())
}

/// A reader must be an active manager or Director.
async fn check_reader(app: &App, login: &str) -> anyhow::Result<()> {
    let person = app
        .persons
        .list()
        .await?
        .into_iter()
        .find(|p| p.login == login)
        .with_context(|| format!("no person `{login}`"))?;
    if person.disabled_at.is_some() {
        bail!("`{login}` is disabled");
    }
    if !is_reader(&person) {
        bail!(
            "`{login}` is neither a manager nor the Director: only they read sealed appeals (10.14)"
        );
    }
    Ok(())
}

/// A new secret of `login`: the first line of `file`, or typed twice.
pub fn secret_once_or_twice(file: Option<&PathBuf>, login: &str) -> anyhow::Result<SecretString> {
    match file {
        Some(path) => read_secret(Some(path), ""),
        None => new_passphrase_twice(login),
    }
}

fn new_passphrase_twice(login: &str) -> anyhow::Result<SecretString> {
    use age::secrecy::ExposeSecret;
    let first = read_secret(
        None,
        &format!("New passphrase of {login} (12 characters or more): "),
    )?;
    let second = read_secret(None, "Again: ")?;
    if first.expose_secret() != second.expose_secret() {
        bail!("the two passphrases differ");
    }
    Ok(first)
}
