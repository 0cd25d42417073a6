//! Runs admitted from intents: one run per intent key (`intent_id`, which
//! takes over from the per-user `Idempotency-Key` index), the trigger's
//! origin and cause, and an index for the reaper.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE runs ADD COLUMN intent_id text NULL;
ALTER TABLE runs ADD COLUMN trigger_origin text NULL;
ALTER TABLE runs ADD COLUMN cause_run_id uuid NULL;
CREATE UNIQUE INDEX idx_runs_intent ON runs (intent_id) WHERE intent_id IS NOT NULL;
UPDATE runs SET intent_id = 'http:' || created_by || ':' || idempotency_key
  WHERE idempotency_key IS NOT NULL AND created_by IS NOT NULL;
DROP INDEX IF EXISTS idx_runs_idempotency;
CREATE INDEX idx_runs_open ON runs (deadline) WHERE status IN ('queued', 'running');
";

const DOWN: &str = r"
CREATE UNIQUE INDEX IF NOT EXISTS idx_runs_idempotency ON runs (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
DROP INDEX IF EXISTS idx_runs_open;
DROP INDEX IF EXISTS idx_runs_intent;
ALTER TABLE runs DROP COLUMN IF EXISTS cause_run_id;
ALTER TABLE runs DROP COLUMN IF EXISTS trigger_origin;
ALTER TABLE runs DROP COLUMN IF EXISTS intent_id;
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
