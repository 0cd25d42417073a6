//! Concurrency limits per job: the run states `waiting` (held for a slot)
//! and `skipped` (not started because of the limit), and the indexes that
//! count a job's runs going and find its waiting runs in order.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN
  ('waiting','queued','running','succeeded','failed','cancelled','timed_out','worker_lost','skipped'));
CREATE INDEX idx_runs_job_going ON runs (job_id) WHERE status IN ('queued', 'running');
CREATE INDEX idx_runs_waiting ON runs (job_id, created_at, id) WHERE status = 'waiting';
";

const DOWN: &str = r"
DROP INDEX IF EXISTS idx_runs_waiting;
DROP INDEX IF EXISTS idx_runs_job_going;
UPDATE runs SET status = 'cancelled', reason = COALESCE(reason, 'concurrency states removed')
  WHERE status IN ('waiting', 'skipped');
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN
  ('queued','running','succeeded','failed','cancelled','timed_out','worker_lost'));
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
