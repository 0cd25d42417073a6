//! Notification configuration: channels (their secrets encrypted by the
//! api's vault, like credentials), rules, per-user preferences, the
//! admins' defaults (one row) and template overrides. The api mirrors
//! them into the `<p>_notify_config` KV bucket for the notifier.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
CREATE TABLE notification_channels (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'webhook')),
    settings jsonb NOT NULL,
    secrets bytea NULL,
    secrets_dek bytea NULL,
    secrets_kek_id text NULL,
    secrets_set jsonb NOT NULL DEFAULT '[]'::jsonb,
    enabled boolean NOT NULL DEFAULT true,
    allow_steps boolean NOT NULL DEFAULT false,
    rate_limit_per_minute integer NULL CHECK (rate_limit_per_minute BETWEEN 1 AND 10000),
    max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 10),
    created_by uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    revision bigint NOT NULL DEFAULT 1
);
CREATE TABLE notification_rules (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    document jsonb NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    created_by uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    revision bigint NOT NULL DEFAULT 1
);
CREATE TABLE notification_preferences (
    user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    document jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    revision bigint NOT NULL DEFAULT 1
);
CREATE TABLE notification_defaults (
    id smallint PRIMARY KEY CHECK (id = 1),
    document jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    revision bigint NOT NULL DEFAULT 1
);
CREATE TABLE notification_templates (
    id uuid PRIMARY KEY,
    document jsonb NOT NULL,
    created_by uuid NULL REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    revision bigint NOT NULL DEFAULT 1
);
";

const DOWN: &str = r"
DROP TABLE IF EXISTS notification_templates;
DROP TABLE IF EXISTS notification_defaults;
DROP TABLE IF EXISTS notification_preferences;
DROP TABLE IF EXISTS notification_rules;
DROP TABLE IF EXISTS notification_channels;
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
