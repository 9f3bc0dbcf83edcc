//! The database handle: one connection pool to SQLite (the embedded default) or
//! PostgreSQL, the migrations of each, and the two macros that let a module write
//! its SQL once for both backends.
//!
//! Every module owns its own tables and talks to them through this handle; the SQL
//! it writes is the portable subset both backends understand (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`). `on_db!` and `on_tx!` expand one body of code once
//! per backend, so the compiler checks it against both.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
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

/// How the database is reached; built from the `[database]` configuration.
#[derive(Clone, Debug)]
pub struct DbSettings {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Db {
    /// Opens the pool. A SQLite file (and its directory) is created if missing, in WAL
    /// mode with `synchronous=FULL`, so a commit is on disk before it returns.
    pub async fn connect(settings: &DbSettings) -> Result<Db, sqlx::Error> {
        if is_postgres_url(&settings.url) {
            let options = PgConnectOptions::from_str(&settings.url)?.application_name("senim");
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(&settings.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(dir) = options.get_filename().parent() {
                create_dir(dir)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(SqliteDb {
                pool,
                writer: Arc::default(),
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
    /// writers, then is `BEGIN IMMEDIATE`, so the write lock is taken up front and a
    /// later statement never fails to upgrade it.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => {
                let turn = sqlite.writer.clone().lock_owned().await;
                Tx::Sqlite(sqlite.pool.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Answers whether the database can be reached right now (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
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

/// Whether a database URL names PostgreSQL (anything else is taken as SQLite).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
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
