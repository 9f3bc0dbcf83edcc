//! `[database]`: SQLite in the data directory or PostgreSQL, the pool, and the
//! rule that a PostgreSQL server off loopback is reached with `verify-full`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Seconds, is_loopback};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Directory for the SQLite database and stored files (recordings, raw mail).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/senim.db`.
    /// A PostgreSQL server not on loopback (nor a Unix socket) must be reached with
    /// `sslmode=verify-full` in the URL: TLS, its certificate checked and its name.
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout_seconds: Seconds,
    /// Seconds a write waits for the database's write lock (held by another writer
    /// or process) before it is answered 503, to be retried.
    pub lock_wait_seconds: Seconds,
    /// PostgreSQL: PEM file of the CA that signed the server's certificate, trusted
    /// besides the built-in web PKI roots (for a server with a private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            url: String::new(),
            max_connections: 8,
            connect_timeout_seconds: Seconds::new(5),
            lock_wait_seconds: Seconds::new(5),
            ca_file: None,
        }
    }
}

impl DatabaseConfig {
    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn effective_url(&self) -> String {
        if self.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("senim.db").display())
        } else {
            self.url.clone()
        }
    }

    pub fn settings(&self) -> crate::db::DbSettings {
        crate::db::DbSettings {
            url: self.effective_url(),
            max_connections: self.max_connections,
            connect_timeout: self.connect_timeout_seconds.std(),
            lock_wait: self.lock_wait_seconds.std(),
            ca_file: self.ca_file.clone(),
        }
    }

    /// The `[database]` values serde cannot check. Errors never show the URL, which
    /// may hold a password: only its scheme or host.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if self.lock_wait_seconds.get() == 0 {
            return Err("database.lock_wait_seconds must be at least 1".into());
        }
        let url = self.effective_url();
        if crate::db::is_postgres_url(&url) {
            check_postgres_url(&url)?;
        } else if !url.starts_with("sqlite:") {
            // The scheme alone: the rest may hold a password.
            let scheme = url
                .split_once("://")
                .map(|(scheme, _)| scheme)
                .filter(|s| {
                    s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                })
                .map(|s| format!(" (not `{s}://`)"))
                .unwrap_or_default();
            return Err(format!(
                "database.url must start with sqlite:// or postgres://{scheme}"
            ));
        }
        if let Some(file) = &self.ca_file {
            check_ca_file(file)?;
        }
        Ok(())
    }
}

/// A PostgreSQL server off this machine is reached with `sslmode=verify-full`:
/// identities and texts never cross a network in clear, nor to a server that only
/// holds some certificate of the CA (`verify-ca`) without being the one named.
fn check_postgres_url(url: &str) -> Result<(), String> {
    let endpoint = crate::db::postgres_endpoint(url)
        .map_err(|e| format!("database.url: not a usable PostgreSQL URL: {e}"))?;
    let local = endpoint.unix_socket || is_loopback(&endpoint.host.to_ascii_lowercase());
    if local || endpoint.verifies_full() {
        return Ok(());
    }
    let given = match endpoint.ssl_mode {
        Some(mode) => format!("sslmode={}", ssl_mode_name(mode)),
        None => "no sslmode".to_owned(),
    };
    Err(format!(
        "database.url: the PostgreSQL server `{}` is not on loopback, so the URL must carry \
         sslmode=verify-full (TLS, the server's certificate and host name checked), not {given}; \
         give database.ca_file for a private CA",
        endpoint.host
    ))
}

fn ssl_mode_name(mode: sqlx::postgres::PgSslMode) -> &'static str {
    use sqlx::postgres::PgSslMode;
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

/// `database.ca_file` exists and holds at least one PEM certificate.
fn check_ca_file(file: &Path) -> Result<(), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("database.ca_file: {} does not exist", file.display())
        }
        _ => format!("database.ca_file: cannot read {}: {e}", file.display()),
    })?;
    let mut certificates = 0;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        certificate.map_err(|e| {
            format!(
                "database.ca_file: {} is not a PEM file of certificates: {e}",
                file.display()
            )
        })?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err(format!(
            "database.ca_file: {} holds no PEM certificate",
            file.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_str;

    /// The `[database]` table with `url` set to `url`.
    fn database_url(url: &str) -> String {
        format!("[database]\nurl = \"{url}\"\n")
    }

    #[test]
    fn postgres_off_loopback_needs_verify_full_and_the_password_is_not_shown() {
        for url in [
            "postgres://senim:s3cret-pw@db.example.kz/senim",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=disable",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=prefer",
            "postgresql://senim:s3cret-pw@db.example.kz:6432/senim?sslmode=require",
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-ca",
            // The last sslmode is the one sqlx applies.
            "postgres://senim:s3cret-pw@db.example.kz/senim?sslmode=verify-full&sslmode=require",
            "postgres://senim:s3cret-pw@[2001:db8::5]/senim",
            "postgres://senim:s3cret-pw@127.0.0.1.example.kz/senim",
            // The `host` and `hostaddr` parameters win over the URL's host.
            "postgres://senim:s3cret-pw@localhost/senim?host=db.example.kz",
            "postgres://senim:s3cret-pw@localhost/senim?hostaddr=192.0.2.7",
        ] {
            let err = load_str(&database_url(url)).unwrap_err().to_string();
            assert!(err.contains("database.url"), "{url}: {err}");
            assert!(err.contains("sslmode=verify-full"), "{url}: {err}");
            assert!(
                !err.contains("s3cret-pw"),
                "{url}: the password shown: {err}"
            );
        }
        let err = load_str(&database_url("mysql://senim:s3cret-pw@db.example.kz/senim"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database.url") && !err.contains("s3cret-pw"),
            "{err}"
        );
    }

    #[test]
    fn postgres_on_loopback_takes_any_sslmode_and_off_it_verify_full() {
        for url in [
            "postgres://senim:pw@localhost/senim",
            "postgres://senim:pw@LocalHost:5433/senim?sslmode=disable",
            "postgres://senim@127.0.0.1/senim?sslmode=prefer",
            "postgres://senim@127.8.9.10:5432/senim?sslmode=require",
            "postgres://senim@[::1]:5432/senim?sslmode=verify-ca",
            "postgres://senim@%2Fvar%2Frun%2Fpostgresql/senim",
            "postgres:///senim?host=/var/run/postgresql",
            "postgres://senim:pw@db.example.kz/senim?sslmode=verify-full",
            "postgres://senim:pw@db.example.kz/senim?ssl-mode=VERIFY-FULL",
            "postgresql://senim@192.0.2.7:6432/senim?sslmode=verify-full",
            "postgres://senim@localhost/senim?host=db.example.kz&sslmode=verify-full",
        ] {
            if let Err(e) = load_str(&database_url(url)) {
                panic!("{url} refused: {e}");
            }
        }
    }

    #[test]
    fn database_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "not a certificate\n").unwrap();
        let err = load_str(&format!(
            "[database]\nca_file = \"{}\"\n",
            not_pem.display()
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("database.ca_file"), "{err}");
    }
}
