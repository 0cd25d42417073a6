//! Indexes the console's lists and dashboard need with many runs: runs by
//! trigger and by finish time (the insights' period and baselines), and
//! jobs by lower-cased name (search by name prefix or part).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE INDEX IF NOT EXISTS idx_runs_trigger ON runs (trigger_kind, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_runs_job_finished ON runs (job_id, created_at)
  INCLUDE (status, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_jobs_lower_name ON jobs (lower(name) text_pattern_ops);
CREATE INDEX IF NOT EXISTS idx_targets_lower_name ON targets (lower(name) text_pattern_ops);
";

const DOWN: &str = r"
DROP INDEX IF EXISTS idx_targets_lower_name;
DROP INDEX IF EXISTS idx_jobs_lower_name;
DROP INDEX IF EXISTS idx_runs_job_finished;
DROP INDEX IF EXISTS idx_runs_trigger;
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
