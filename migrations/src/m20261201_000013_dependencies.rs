//! Dependencies between jobs: "run job B when job A ends with success,
//! failure or either", optionally only within a time after A ended, with
//! B's parameters taken from A's run by a mapping. Mirrored into the
//! `<p>_schedules` KV bucket (`dependency.<id>`) for the scheduler, which
//! reacts to A's ends.
//!
//! A pair of jobs has at most one dependency; a job never depends on
//! itself. Cycles are refused by the api when a dependency is written
//! (under a lock of this table), not by the schema.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r#"
CREATE TABLE job_dependencies (
    id uuid PRIMARY KEY,
    upstream_job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    downstream_job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    "on" text NOT NULL CHECK ("on" IN ('success', 'failure', 'any')),
    within_secs bigint NULL CHECK (within_secs IS NULL OR within_secs BETWEEN 1 AND 604800),
    parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    owner_id uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    revision bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (upstream_job_id, downstream_job_id),
    CHECK (upstream_job_id <> downstream_job_id)
);
CREATE INDEX idx_job_dependencies_downstream ON job_dependencies (downstream_job_id);
CREATE INDEX idx_job_dependencies_owner ON job_dependencies (owner_id) WHERE owner_id IS NOT NULL;
"#;

const DOWN: &str = r"
DROP TABLE IF EXISTS job_dependencies;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
