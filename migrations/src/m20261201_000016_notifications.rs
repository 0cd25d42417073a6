//! Notification history: `notifications` holds one row per notification
//! (its latest state, moved only forward, and who acknowledged it) and
//! `notification_attempts` one row per `NotificationRecorded` event, so a
//! redelivered event is recorded once. Two partial indexes on `runs` keep
//! a finished run's digest cheap: the job's last succeeded runs (its
//! duration baseline) and its last finished runs (previous status, streak).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN
      ('delivered','failed','dead_lettered','held','dropped','acknowledged')),
    status_rank integer NOT NULL,
    attempts integer NOT NULL,
    max_attempts integer NOT NULL,
    origin text NOT NULL,
    rule_id uuid NULL,
    trigger text NULL,
    channel_id uuid NOT NULL,
    channel_kind text NOT NULL,
    recipient text NOT NULL,
    user_id uuid NULL,
    job_id uuid NULL,
    run_id uuid NULL,
    notice_id text NULL,
    subject text NOT NULL,
    text text NOT NULL,
    html text NULL,
    error text NULL,
    provider_id text NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    acked_by uuid NULL,
    acked_by_name text NULL,
    acked_at timestamptz NULL
);
CREATE INDEX idx_notifications_first ON notifications (first_at DESC, id);
CREATE INDEX idx_notifications_job ON notifications (job_id, first_at DESC);
CREATE INDEX idx_notifications_run ON notifications (run_id);
CREATE INDEX idx_notifications_user ON notifications (user_id, first_at DESC);
CREATE INDEX idx_notifications_channel ON notifications (channel_id, last_at DESC);
CREATE INDEX idx_notifications_dead ON notifications (last_at DESC) WHERE status = 'dead_lettered';
CREATE TABLE notification_attempts (
    event_id text PRIMARY KEY,
    notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    status text NOT NULL,
    attempt integer NOT NULL,
    error text NULL,
    provider_id text NULL,
    replica text NOT NULL,
    started_at timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_notification_attempts_of ON notification_attempts (notification_id, started_at);
CREATE INDEX idx_notification_attempts_failed ON notification_attempts (started_at DESC)
  WHERE status IN ('failed', 'dead_lettered');
CREATE INDEX idx_runs_job_succeeded ON runs (job_id, finished_at DESC) WHERE status = 'succeeded';
CREATE INDEX idx_runs_job_finished ON runs (job_id, finished_at DESC) WHERE finished_at IS NOT NULL;
CREATE INDEX idx_runs_retry_of ON runs (retry_of) WHERE retry_of IS NOT NULL;
";

const DOWN: &str = r"
DROP INDEX IF EXISTS idx_runs_retry_of;
DROP INDEX IF EXISTS idx_runs_job_finished;
DROP INDEX IF EXISTS idx_runs_job_succeeded;
DROP TABLE IF EXISTS notification_attempts;
DROP TABLE IF EXISTS notifications;
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
