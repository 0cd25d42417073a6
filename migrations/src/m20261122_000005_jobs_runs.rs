//! Jobs (with immutable versions), runs, their per-target steps, captured
//! output, and the recorded run events (idempotent by event id).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    current_version integer NOT NULL,
    created_by uuid NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE job_versions (
    job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    version integer NOT NULL,
    definition jsonb NOT NULL,
    created_by uuid NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, version)
);
CREATE TABLE runs (
    id uuid PRIMARY KEY,
    job_id uuid NOT NULL,
    job_name text NOT NULL,
    job_version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','timed_out','worker_lost')),
    reason text NULL,
    trigger_kind text NOT NULL,
    trigger_actor text NOT NULL,
    parameters jsonb NOT NULL,
    secret_parameters bytea NULL,
    secret_dek bytea NULL,
    secret_kek_id text NULL,
    targets jsonb NULL,
    target_ids jsonb NOT NULL DEFAULT '[]',
    shards integer NULL,
    deadline timestamptz NULL,
    shards_finished jsonb NOT NULL DEFAULT '{}',
    idempotency_key text NULL,
    rerun_of uuid NULL,
    created_by uuid NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz NULL,
    finished_at timestamptz NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_runs_idempotency ON runs (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX idx_runs_job ON runs (job_id, created_at DESC);
CREATE INDEX idx_runs_status ON runs (status, created_at DESC);
CREATE INDEX idx_runs_created ON runs (created_at DESC);
CREATE INDEX idx_runs_targets ON runs USING GIN (target_ids);
CREATE TABLE run_steps (
    run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id text NOT NULL,
    target_key uuid NOT NULL,
    target_id uuid NULL,
    position integer NOT NULL,
    attempt integer NOT NULL,
    status text NOT NULL,
    exit_code integer NULL,
    error text NULL,
    output_truncated boolean NOT NULL DEFAULT false,
    worker_id text NULL,
    started_at timestamptz NULL,
    finished_at timestamptz NULL,
    duration_ms bigint NULL,
    PRIMARY KEY (run_id, step_id, target_key)
);
CREATE TABLE run_output (
    run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id text NOT NULL,
    target_key uuid NOT NULL,
    line_no bigint NOT NULL,
    stream text NOT NULL,
    text text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (run_id, step_id, target_key, line_no)
);
CREATE TABLE run_events (
    event_id text PRIMARY KEY,
    run_id uuid NOT NULL,
    event_type text NOT NULL,
    sequence bigint NULL,
    at timestamptz NOT NULL,
    data jsonb NOT NULL
);
CREATE INDEX idx_run_events_run ON run_events (run_id, at);
";

const DOWN: &str = r"
DROP TABLE IF EXISTS run_events;
DROP TABLE IF EXISTS run_output;
DROP TABLE IF EXISTS run_steps;
DROP TABLE IF EXISTS runs;
DROP TABLE IF EXISTS job_versions;
DROP TABLE IF EXISTS jobs;
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
