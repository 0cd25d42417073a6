//! Database schema of the api role, as ordered sea-orm migrations.
//!
//! Only the api role (and `opsconductor migrate`, `opsconductor dev`) ever
//! applies these. A migration, once released, is never edited: add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_users;
mod m20261122_000002_auth;
mod m20261122_000003_credentials;
mod m20261122_000004_targets;
mod m20261122_000005_jobs_runs;
mod m20261201_000006_run_intents;
mod m20261201_000007_api_token_mfa;
mod m20261201_000008_job_ownership;
mod m20261201_000009_credential_scope;
mod m20261201_000010_schedules;
mod m20261201_000011_run_lineage;
mod m20261201_000012_maintenance_windows;
mod m20261201_000013_dependencies;
mod m20261201_000014_run_concurrency;
mod m20261201_000015_notification_config;
mod m20261201_000016_notifications;
mod m20261202_000017_console_indexes;
mod m20261203_000018_run_short_ids;

/// All migrations, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users::Migration),
            Box::new(m20261122_000002_auth::Migration),
            Box::new(m20261122_000003_credentials::Migration),
            Box::new(m20261122_000004_targets::Migration),
            Box::new(m20261122_000005_jobs_runs::Migration),
            Box::new(m20261201_000006_run_intents::Migration),
            Box::new(m20261201_000007_api_token_mfa::Migration),
            Box::new(m20261201_000008_job_ownership::Migration),
            Box::new(m20261201_000009_credential_scope::Migration),
            Box::new(m20261201_000010_schedules::Migration),
            Box::new(m20261201_000011_run_lineage::Migration),
            Box::new(m20261201_000012_maintenance_windows::Migration),
            Box::new(m20261201_000013_dependencies::Migration),
            Box::new(m20261201_000014_run_concurrency::Migration),
            Box::new(m20261201_000015_notification_config::Migration),
            Box::new(m20261201_000016_notifications::Migration),
            Box::new(m20261202_000017_console_indexes::Migration),
            Box::new(m20261203_000018_run_short_ids::Migration),
        ]
    }
}
