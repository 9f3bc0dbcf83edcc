//! `senim persons …`: the people who work the line (`persons::Persons`):
//! added, listed, disabled and enabled, their token, console password and
//! language.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::{keys, parse_text};
use crate::app::App;

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

/// Runs `senim persons …`.
pub async fn run(app: &App, command: PersonsCommand) -> anyhow::Result<()> {
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
