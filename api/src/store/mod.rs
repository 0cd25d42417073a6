//! The system of record: a PostgreSQL connection pool through sea-orm.

pub mod api_token;
pub mod audit;
pub mod batch;
pub mod credential;
pub mod job;
pub mod job_dependency;
pub mod job_grant;
pub mod job_version;
pub mod jsonb;
pub mod maintenance_window;
pub mod notification_channel;
pub mod notification_default;
pub mod notification_preference;
pub mod notification_rule;
pub mod notification_template;
pub mod paging;
pub mod recovery_code;
pub mod run;
pub mod run_step;
pub mod schedule;
pub mod schedule_fire;
pub mod session;
pub mod setting;
pub mod target;
pub mod target_group;
pub mod user;

use std::time::Duration;

use opsc_migrations::{Migrator, MigratorTrait};
use opsc_runtime::Check;
use opsc_runtime::Config;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use secrecy::ExposeSecret;

/// Errors of the store, as callers need to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No database URL configured.
    #[error("database.url (OPSC_DATABASE_URL) is not set")]
    NoUrl,
    /// The server could not be reached or refused the login.
    #[error("cannot connect to the database: {0}")]
    Connect(sea_orm::DbErr),
    /// Migrations are pending.
    #[error("the database schema is behind by {0} migration(s): run `opsconductor migrate`")]
    Behind(usize),
    /// Another database error.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Opens the pool and checks the connection.
    pub async fn connect(config: &Config) -> Result<Self, StoreError> {
        let url = config
            .database_url()
            .map_err(|e| StoreError::Connect(sea_orm::DbErr::Custom(e.to_string())))?
            .ok_or(StoreError::NoUrl)?;
        let cfg = &config.database;
        let mut opts = ConnectOptions::new(url.expose_secret().to_owned());
        opts.max_connections(cfg.max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        let db = Database::connect(opts).await.map_err(StoreError::Connect)?;
        Ok(Self { db })
    }

    /// Creates the database named in `url` when it does not exist yet, by
    /// connecting to the server's `postgres` database (for `dev` and tests).
    pub async fn create_database_if_missing(url: &str) -> Result<(), StoreError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let Some((server, name)) = base.rsplit_once('/') else {
            return Err(StoreError::Connect(sea_orm::DbErr::Custom(
                "database URL has no database name".into(),
            )));
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Connect(sea_orm::DbErr::Custom(format!(
                "database name {name:?} must be letters, digits and '_'"
            ))));
        }
        let admin_url = if query.is_empty() {
            format!("{server}/postgres")
        } else {
            format!("{server}/postgres?{query}")
        };
        let admin = Database::connect(admin_url)
            .await
            .map_err(StoreError::Connect)?;
        let exists = admin
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 FROM pg_database WHERE datname = $1",
                [name.into()],
            ))
            .await?
            .is_some();
        if !exists {
            // The name was checked above: only [A-Za-z0-9_] reaches this statement.
            let created = admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await;
            if let Err(e) = created {
                // Another process may have created it meanwhile.
                let now = admin
                    .query_one(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT 1 FROM pg_database WHERE datname = $1",
                        [name.into()],
                    ))
                    .await?;
                if now.is_none() {
                    return Err(e.into());
                }
            }
        }
        let _ = admin.close().await;
        Ok(())
    }

    /// The connection, for queries.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let pending = Migrator::get_pending_migrations(&self.db).await?.len();
        Migrator::up(&self.db, None).await?;
        Ok(pending)
    }

    /// Fails when migrations are pending: the api never runs on an old schema.
    pub async fn require_migrated(&self) -> Result<(), StoreError> {
        match Migrator::get_pending_migrations(&self.db).await?.len() {
            0 => Ok(()),
            n => Err(StoreError::Behind(n)),
        }
    }

    /// The `database` readiness check.
    pub fn check(&self) -> Check {
        let db = self.db.clone();
        Check::new("database", move || {
            let db = db.clone();
            async move {
                db.ping()
                    .await
                    .map_err(|e| format!("database unreachable: {e}"))
            }
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        let _ = self.db.clone().close().await;
    }
}

/// Whether `e` is PostgreSQL refusing the data itself (SQLSTATE class 22).
pub fn bad_data(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(db)))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(db))) => {
            db.code().is_some_and(|code| code.starts_with("22"))
        }
        _ => false,
    }
}
