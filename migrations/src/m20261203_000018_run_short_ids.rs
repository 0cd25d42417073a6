//! Runs by short id: the console shows a run by the last 8 hex digits of
//! its id (a UUIDv7 begins with its time, which runs started together
//! share), and the global search finds it by them through this index.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE INDEX IF NOT EXISTS idx_runs_short_id ON runs (right(id::text, 8));
";

const DOWN: &str = r"
DROP INDEX IF EXISTS idx_runs_short_id;
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
