//! Real databases for tests: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database on the local server (127.0.0.1:5432, trust auth; override
//! with SENIMTEST_POSTGRES_URL), dropped when the test ends.

use std::path::PathBuf;

use senim::db::{Db, DbSettings};
use tempfile::TempDir;

/// The server-level URL of the test PostgreSQL (its database `test` is only used to
/// create and drop the per-test databases).
pub fn postgres_admin_url() -> String {
    std::env::var("SENIMTEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database a daemon on `backend` is given: a PostgreSQL database made
/// for the test, or none on SQLite (the daemon makes its own file).
pub async fn daemon_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestDb::postgres().await),
    }
}

/// The `database_url` of a daemon given `db` (empty: SQLite in its directory).
pub fn daemon_url(db: &Option<TestDb>) -> &str {
    db.as_ref().map_or("", |t| t.url.as_str())
}

/// A migrated, empty database of one backend.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub dir: TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("senim.db").display());
        let db = connect(&url).await;
        TestDb {
            db,
            url,
            dir,
            pg_name: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let admin = postgres_admin_url();
        let name = format!("senim_t_{}", uuid::Uuid::new_v4().simple());
        let admin_db = connect_raw(&admin).await;
        senim::on_db!(&admin_db, pool => sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|_| ()))
            .unwrap_or_else(|e| panic!("cannot create a test database on {admin}: {e} (is PostgreSQL running?)"));
        admin_db.close().await;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("SENIMTEST_POSTGRES_URL must end in /<database>"),
        };
        let db = connect(&url).await;
        let dir = tempfile::tempdir().expect("temporary directory");
        TestDb {
            db,
            url,
            dir,
            pg_name: Some(name),
        }
    }

    /// Closes the pool and opens a new one on the same database (a restart).
    pub async fn reconnect(&mut self) {
        self.db.close().await;
        self.db = connect(&self.url).await;
    }

    pub fn backend(&self) -> Backend {
        if self.pg_name.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    #[allow(dead_code)]
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let admin = postgres_admin_url();
        // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let db = Db::connect(&settings(&admin)).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                senim::on_db!(&db, pool => sqlx::query(&sql).execute(pool).await.map(|_| ())).ok()
            })
        })
        .join();
    }
}

fn settings(url: &str) -> DbSettings {
    DbSettings {
        url: url.to_owned(),
        max_connections: 8,
        connect_timeout: std::time::Duration::from_secs(10),
        lock_wait: std::time::Duration::from_secs(30),
        ca_file: None,
    }
}

/// Connects to a database as it is (one a daemon made), without migrating.
pub async fn connect_raw(url: &str) -> Db {
    Db::connect(&settings(url))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// Connects and migrates.
pub async fn connect(url: &str) -> Db {
    let db = connect_raw(url).await;
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
    db
}

/// The data of the PostgreSQL database at `url` as `pg_dump` writes it: what
/// a search for plain bytes at rest reads.
#[allow(dead_code)]
pub fn pg_dump(url: &str) -> Vec<u8> {
    let out = std::process::Command::new("pg_dump")
        .args(["--data-only", "--inserts", url])
        .output()
        .expect("run pg_dump");
    super::senim::assert_succeeded(&out);
    out.stdout
}
