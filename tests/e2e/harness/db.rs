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
    /// Every row of every table as JSON text, for grepping secrets.
    pub async fn dump_text(&self) -> String {
        use sea_orm::{ConnectionTrait as _, Statement};
        let conn = self.connect().await;
        let tables = conn
            .query_all(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
            ))
            .await
            .unwrap();
        let mut all = String::new();
        for t in tables {
            let name: String = t.try_get("", "t").unwrap();
            let rows = conn
                .query_all(Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT row_to_json(x)::text AS j FROM \"{name}\" x"),
                ))
                .await
                .unwrap();
            for r in rows {
                all.push_str(&r.try_get::<String>("", "j").unwrap());
                all.push('\n');
            }
        }
        all
    }

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
