//! Job ownership: every job has an owner (a user, or none: then only
//! admins edit and run it) and grants that let other users, or every
//! operator, run or edit it.
//!
//! Existing jobs are owned by the user who created them when that user
//! still exists; otherwise they have no owner (admin-only) until an admin
//! transfers them. No grants are made: an operator who ran an admin's job
//! before needs a grant now (see `docs/operations.md`, upgrade notes).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE jobs ADD COLUMN owner_id uuid NULL REFERENCES users(id) ON DELETE SET NULL;
UPDATE jobs SET owner_id = created_by
  WHERE created_by IS NOT NULL AND EXISTS (SELECT 1 FROM users u WHERE u.id = jobs.created_by);
CREATE INDEX idx_jobs_owner ON jobs (owner_id) WHERE owner_id IS NOT NULL;
CREATE TABLE job_grants (
    id uuid PRIMARY KEY,
    job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    user_id uuid NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NULL CHECK (role IN ('operator')),
    access text NOT NULL CHECK (access IN ('run', 'edit')),
    granted_by uuid NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (role IS NULL))
);
CREATE UNIQUE INDEX idx_job_grants_user ON job_grants (job_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX idx_job_grants_role ON job_grants (job_id, role) WHERE role IS NOT NULL;
CREATE INDEX idx_job_grants_grantee ON job_grants (user_id) WHERE user_id IS NOT NULL;
";

const DOWN: &str = r"
DROP TABLE IF EXISTS job_grants;
DROP INDEX IF EXISTS idx_jobs_owner;
ALTER TABLE jobs DROP COLUMN IF EXISTS owner_id;
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
