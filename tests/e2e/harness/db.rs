//! A database of its own for each test.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The PostgreSQL server tests use (no database name).
pub fn server_url() -> String {
    std::env::var("OPSC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// A fresh, empty database, dropped by [`TestDb::drop_now`].
#[derive(Debug)]
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// URL for the binary under test.
    pub url: String,
}

impl TestDb {
    /// Creates `opsc_t_<random>`.
    pub async fn create() -> Self {
        let name = format!(
            "opsc_t_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let admin = Self::admin().await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        let url = format!("{}/{name}", server_url());
        Self { name, url }
    }

    /// A name for a database that does not exist yet (for `dev`, which creates it).
    pub fn reserve() -> Self {
        let name = format!(
            "opsc_t_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let url = format!("{}/{name}", server_url());
        Self { name, url }
    }

    /// Connects to this database.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(self.url.as_str())
            .await
            .expect("connect test database")
    }

    /// Drops the database (forcing out leftover sessions).
    pub async fn drop_now(self) {
        let admin = Self::admin().await;
        let _ = admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await;
    }

    async fn admin() -> DatabaseConnection {
        Database::connect(format!("{}/postgres", server_url()))
            .await
            .expect("connect to the test PostgreSQL server (OPSC_TEST_DATABASE_URL)")
    }
}
