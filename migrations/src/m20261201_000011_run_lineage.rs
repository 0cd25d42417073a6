//! Run lineage: the retry chain of a run (`attempt`, `retry_of`,
//! `retry_root`) and the retry policy of a schedule (`schedules.retry`,
//! a `RetryPolicy` as JSON, overriding its job's).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE runs ADD COLUMN attempt int NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN retry_of uuid NULL REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN retry_root uuid NULL;
CREATE INDEX idx_runs_retry_root ON runs (retry_root) WHERE retry_root IS NOT NULL;
ALTER TABLE schedules ADD COLUMN retry jsonb NULL;
";

const DOWN: &str = r"
ALTER TABLE schedules DROP COLUMN IF EXISTS retry;
DROP INDEX IF EXISTS idx_runs_retry_root;
ALTER TABLE runs DROP COLUMN IF EXISTS retry_root;
ALTER TABLE runs DROP COLUMN IF EXISTS retry_of;
ALTER TABLE runs DROP COLUMN IF EXISTS attempt;
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
