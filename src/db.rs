//! The database handle: one connection pool to SQLite (the embedded default) or
//! PostgreSQL, the migrations of each, and the macros that let a module write
//! its SQL once for both backends.
//!
//! Every module owns its own tables and talks to them through this handle; the SQL
//! it writes is the portable subset both backends understand (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`). `on_db!` and `on_tx!` expand one body of code once
//! per backend, so the compiler checks it against both; `execute_in!` runs one
//! statement in a transaction and `on_write!` one write in a transaction of its own.
//!
//! Every write takes a transaction from `Db::begin`: on SQLite the process's writers
//! queue there in order, each waiting at most `lock_wait`, so a reader never holds up
//! a writer and no write sleeps in SQLite's busy handler behind another of ours.
//!
//! PostgreSQL is reached over TLS (rustls, ring) as the URL's `sslmode` asks; with
//! `verify-full` the server's certificate must chain to the web PKI roots built in
//! (webpki-roots) or to `DbSettings::ca_file`, and name the host. Which URLs must ask
//! for `verify-full` is the configuration's rule (`config`), on what
//! `postgres_endpoint` reads from the URL.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::OwnedMutexGuard;

/// Migrations of each backend, embedded in the binary.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A pool of connections to the Journal's database.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// SQLite's pool and the queue of its write transactions. SQLite allows one writer
/// at a time; waiting here, in order, instead of in SQLite's busy handler (which
/// sleeps and polls) keeps the latency of concurrent writers low and fair.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    writer: Arc<tokio::sync::Mutex<()>>,
    /// How long a writer waits for its turn before giving up (`DbSettings::lock_wait`).
    lock_wait: Duration,
}

/// One open transaction on either backend. Dropping it without `commit` rolls back
/// (and, on SQLite, lets the next writer in).
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend `$db` is.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the concrete connection (`&mut DB::Connection`)
/// of the transaction `$tx`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx, _) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Runs the statement `$query` (a `sqlx::query(..)` and its binds) in the
/// transaction `$tx`, its count of rows dropped: `Result<(), sqlx::Error>`.
#[macro_export]
macro_rules! execute_in {
    ($tx:expr, $query:expr) => {
        $crate::on_tx!($tx, conn => $query.execute(conn).await.map(|_| ()))
    };
}

/// Runs `$body` (a write returning `Result<T, sqlx::Error>`) with `$conn` bound to
/// the connection of a transaction of its own, committed after it: a single write
/// that takes its turn in the writer queue like every other (`Db::begin`) instead
/// of contending for SQLite's lock in its busy handler.
#[macro_export]
macro_rules! on_write {
    ($db:expr, $conn:ident => $body:expr) => {
        async {
            let mut tx = $db.begin().await?;
            let out = $crate::on_tx!(&mut tx, $conn => $body)?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(out)
        }
        .await
    };
}

/// Runs the statement `$query` (a `sqlx::query(..)` and its binds) in the
/// transaction `$tx`: `Result<u64, sqlx::Error>`, the count of rows it touched.
#[macro_export]
macro_rules! rows_affected_in {
    ($tx:expr, $query:expr) => {
        $crate::on_tx!($tx, conn => $query.execute(conn).await.map(|r| r.rows_affected()))
    };
}

/// Runs the statement `$query` (a `sqlx::query(..)` and its binds) alone, in a
/// transaction of its own (`on_write!`), its count of rows dropped.
#[macro_export]
macro_rules! execute_alone {
    ($db:expr, $query:expr) => {
        $crate::on_write!($db, conn => $query.execute(conn).await.map(|_| ()))
    };
}

/// How the database is reached; built from the `[database]` configuration.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// How long a write waits for the write lock (its turn among this process's
    /// writers, then SQLite's lock against other processes) before it gives up
    /// with a transient error (503 + `Retry-After` at the HTTP edge).
    pub lock_wait: Duration,
    /// PostgreSQL: a PEM file of the CA(s) that signed the server's certificate,
    /// trusted besides the built-in web PKI roots (and instead of any `sslrootcert`
    /// in the URL). Unused by SQLite.
    pub ca_file: Option<PathBuf>,
}

impl Db {
    /// Opens the pool. A SQLite file (and its directory) is created if missing, in WAL
    /// mode with `synchronous=FULL`, so a commit is on disk before it returns, and
    /// `secure_delete=ON`, so deleted content is overwritten with zeros.
    pub async fn connect(settings: &DbSettings) -> Result<Db, sqlx::Error> {
        if is_postgres_url(&settings.url) {
            let mut options = PgConnectOptions::from_str(&settings.url)?.application_name("senim");
            if let Some(ca_file) = &settings.ca_file {
                options = options.ssl_root_cert(ca_file);
            }
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(outside_transaction::<Postgres>(conn)) })
                })
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(&settings.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                // Deleted and overwritten content is zeroed in the file, not left
                // in free space: what the retention purge destroys is gone from
                // the database file once the WAL is checkpointed (`checkpoint`).
                .pragma("secure_delete", "ON")
                .busy_timeout(settings.lock_wait);
            if let Some(dir) = options.get_filename().parent() {
                create_dir(dir)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .after_release(|conn, _| {
                    Box::pin(async move {
                        // The worker runs commands in order: once the ping is
                        // answered, a rollback queued by a dropped transaction has run.
                        // Checked on release, not on acquire: an idle connection
                        // still inside a transaction would hold the write lock until
                        // someone took it.
                        sqlx::Connection::ping(&mut *conn).await?;
                        Ok(outside_transaction::<Sqlite>(conn))
                    })
                })
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(SqliteDb {
                pool,
                writer: Arc::default(),
                lock_wait: settings.lock_wait,
            }))
        }
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(&sqlite.pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// Starts a write transaction. On SQLite it waits its turn among this process's
    /// writers (at most `lock_wait`), then is `BEGIN IMMEDIATE`, so the write lock is
    /// taken up front and a later statement never fails to upgrade it.
    ///
    /// Cancel-safe: the `BEGIN` runs in a task of its own, so a caller dropped while
    /// it runs (an HTTP client that hung up, a timeout) leaves no connection inside a
    /// transaction: the finished transaction is dropped, which rolls it back. sqlx's
    /// own `begin` is not: cancelled between its `BEGIN` and its check of the
    /// connection, it returns the connection to the pool still holding the write lock.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite(sqlite) => {
                let turn =
                    tokio::time::timeout(sqlite.lock_wait, sqlite.writer.clone().lock_owned())
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)?;
                let pool = sqlite.pool.clone();
                let tx = run_to_completion(async move { pool.begin_with("BEGIN IMMEDIATE").await })
                    .await?;
                Ok(Tx::Sqlite(tx, turn))
            }
            Db::Postgres(pool) => {
                let pool = pool.clone();
                Ok(Tx::Postgres(
                    run_to_completion(async move { pool.begin().await }).await?,
                ))
            }
        }
    }

    /// Answers whether the database can be reached right now (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// SQLite: copies the WAL into the database file and truncates the WAL to
    /// nothing, so that what was overwritten (a purge's destroyed data) is gone
    /// from both files; `false` if a reader kept it from finishing (it finishes
    /// at a later checkpoint). PostgreSQL: nothing to do here (its own VACUUM
    /// frees old row versions); `true`.
    pub async fn checkpoint(&self) -> Result<bool, sqlx::Error> {
        match self {
            Db::Sqlite(sqlite) => {
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&sqlite.pool)
                        .await?;
                Ok(busy == 0)
            }
            Db::Postgres(_) => Ok(true),
        }
    }

    /// The backend's name, for logs and `/readyz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _turn) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _turn) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// Runs `work` in a task of its own, so that dropping the caller does not stop it
/// half-way; its result is dropped (and so cleaned up) if nobody waits for it.
async fn run_to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    tokio::spawn(work)
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
}

/// Whether a connection given back to the pool is outside any transaction. One that
/// is not (a transaction that could not be ended) is closed, never reused: closing
/// it rolls the transaction back and frees the write lock.
fn outside_transaction<DB: sqlx::Database>(conn: &DB::Connection) -> bool {
    let depth = <DB::TransactionManager as sqlx::TransactionManager>::get_transaction_depth(conn);
    if depth > 0 {
        tracing::warn!(
            depth,
            "a pooled connection was still inside a transaction: closed"
        );
        metrics::counter!("senim_db_connections_discarded_total").increment(1);
    }
    depth == 0
}

/// Whether a database URL names PostgreSQL (anything else is taken as SQLite).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Where a PostgreSQL URL leads, and the TLS it asks for, as sqlx reads the URL.
#[derive(Clone, Debug)]
pub struct PgEndpoint {
    /// The host name or IP address connected to (the URL's host, or its `host` or
    /// `hostaddr` parameter, else `PGHOST`, else the local socket or `localhost`).
    /// The certificate must name it under `sslmode=verify-full`.
    pub host: String,
    /// Whether the connection goes through a Unix-domain socket (a host that is a
    /// directory), never over the network.
    pub unix_socket: bool,
    /// The URL's own `sslmode` (or `ssl-mode`), the last one given; `None` when the
    /// URL gives none (sqlx then takes `PGSSLMODE`, else `prefer`).
    pub ssl_mode: Option<PgSslMode>,
}

impl PgEndpoint {
    /// Whether the URL itself asks for `sslmode=verify-full`: TLS, the certificate
    /// checked against the trusted CAs and the host name against the certificate.
    pub fn verifies_full(&self) -> bool {
        matches!(self.ssl_mode, Some(PgSslMode::VerifyFull))
    }
}

/// Reads a PostgreSQL URL as `Db::connect` will: where it connects and with which
/// `sslmode`. Errors name what is wrong in the URL, never its password.
pub fn postgres_endpoint(url: &str) -> Result<PgEndpoint, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let query = url.split('#').next().unwrap_or_default();
    let pairs: Vec<(String, String)> = match query.split_once('?') {
        Some((_, query)) => serde_urlencoded::from_str(query).map_err(|e| {
            sqlx::Error::Configuration(format!("the URL's parameters cannot be read: {e}").into())
        })?,
        None => Vec::new(),
    };
    let url_sets_ssl_mode = pairs
        .iter()
        .any(|(key, _)| key == "sslmode" || key == "ssl-mode");
    let host = options.get_host().to_owned();
    Ok(PgEndpoint {
        unix_socket: options.get_socket().is_some() || host.starts_with('/'),
        host,
        ssl_mode: url_sets_ssl_mode.then(|| options.get_ssl_mode()),
    })
}

/// Whether an error is a transient unavailability (connection refused, pool timed
/// out, database busy) that a client should retry, as opposed to a bug or bad data.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(e) => {
            // SQLITE_BUSY / SQLITE_LOCKED, or PostgreSQL's connection-exception and
            // insufficient-resources classes.
            let code = e.code().unwrap_or_default();
            matches!(code.as_ref(), "5" | "6" | "517")
                || code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
        }
        _ => false,
    }
}

fn create_dir(dir: &Path) -> Result<(), sqlx::Error> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)
}
