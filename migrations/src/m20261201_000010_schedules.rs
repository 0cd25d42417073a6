//! Schedules: cron expressions read in a time zone that start runs of a
//! job, mirrored into the `<p>_schedules` KV bucket for the scheduler, and
//! the record of every occurrence the scheduler handled (`schedule_fires`:
//! fired, skipped or misfired), projected from its events.
//!
//! Secret parameter values never reach a plain column: they are sealed by
//! the vault (the same envelope as a run's secret parameters) into
//! `secret_parameters`, with their wrapped data key and key id.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE TABLE schedules (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    owner_id uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    cron text NOT NULL,
    time_zone text NOT NULL DEFAULT 'UTC',
    start_at timestamptz NULL,
    end_at timestamptz NULL,
    enabled boolean NOT NULL DEFAULT true,
    paused boolean NOT NULL DEFAULT false,
    dst jsonb NOT NULL DEFAULT '{}'::jsonb,
    misfire jsonb NOT NULL DEFAULT '{}'::jsonb,
    parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_names jsonb NOT NULL DEFAULT '[]'::jsonb,
    secret_parameters bytea NULL,
    secret_dek bytea NULL,
    secret_kek_id text NULL,
    targets jsonb NULL,
    revision bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    timing_changed_at timestamptz NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (end_at IS NULL OR start_at IS NULL OR end_at > start_at)
);
CREATE INDEX idx_schedules_job ON schedules (job_id);
CREATE INDEX idx_schedules_owner ON schedules (owner_id) WHERE owner_id IS NOT NULL;
CREATE TABLE schedule_fires (
    id text PRIMARY KEY,
    schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('fired', 'skipped', 'misfired')),
    fire_at timestamptz NOT NULL,
    last_fire_at timestamptz NULL,
    count bigint NOT NULL DEFAULT 1,
    count_capped boolean NOT NULL DEFAULT false,
    local_time text NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    lag_ms double precision NULL,
    catch_up boolean NOT NULL DEFAULT false,
    window_id uuid NULL,
    deferred boolean NOT NULL DEFAULT false,
    reason text NULL,
    intent_key text NULL,
    revision bigint NOT NULL,
    term bigint NULL
);
CREATE INDEX idx_schedule_fires_schedule ON schedule_fires (schedule_id, fire_at DESC);
CREATE INDEX idx_schedule_fires_recorded ON schedule_fires (recorded_at DESC);
";

const DOWN: &str = r"
DROP TABLE IF EXISTS schedule_fires;
DROP TABLE IF EXISTS schedules;
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
