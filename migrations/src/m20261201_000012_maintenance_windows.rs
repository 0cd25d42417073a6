//! Maintenance windows: one-off ranges or weekly recurring windows in a
//! time zone, applying globally or to jobs, target groups or targets,
//! mirrored into the `<p>_windows` KV bucket for the scheduler. The api
//! applies them at run admission; the scheduler skips or defers fires.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE TABLE maintenance_windows (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    enabled boolean NOT NULL DEFAULT true,
    timing jsonb NOT NULL,
    scope jsonb NOT NULL DEFAULT '{}'::jsonb,
    fire_policy text NOT NULL DEFAULT 'skip' CHECK (fire_policy IN ('skip', 'defer')),
    target_policy text NOT NULL DEFAULT 'exclude' CHECK (target_policy IN ('exclude', 'include')),
    revision bigint NOT NULL DEFAULT 1,
    owner_id uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_maintenance_windows_enabled ON maintenance_windows (enabled) WHERE enabled;
";

const DOWN: &str = r"
DROP TABLE IF EXISTS maintenance_windows;
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
