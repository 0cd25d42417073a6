//! Credentials get a scope: the hosts (and optionally pools, targets,
//! groups, tags) an admin lets them be used with. Existing credentials get
//! the hosts of the targets that use them today, so those keep working;
//! a credential no target uses gets an empty scope (usable nowhere until an
//! admin names its hosts, or an admin points a target at it).

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE credentials ADD COLUMN scope jsonb NOT NULL DEFAULT '{}'::jsonb;
WITH uses AS (
    SELECT (t.ssh->>'credential_id') AS credential_id, lower(rtrim(t.hostname, '.')) AS host
      FROM targets t WHERE t.ssh->>'credential_id' IS NOT NULL
    UNION
    SELECT (t.winrm->>'credential_id'), lower(rtrim(t.hostname, '.'))
      FROM targets t WHERE t.winrm->>'credential_id' IS NOT NULL
    UNION
    SELECT (t.http->>'credential_id'),
           lower(rtrim(btrim(substring(t.http->>'base_url'
               FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^]]*\]|[^:/?#]*)'), '[]'), '.'))
      FROM targets t WHERE t.http->>'credential_id' IS NOT NULL
)
UPDATE credentials c
   SET scope = jsonb_build_object('hosts', (
       SELECT coalesce(jsonb_agg(DISTINCT u.host ORDER BY u.host), '[]'::jsonb)
         FROM uses u WHERE u.credential_id = c.id::text AND u.host IS NOT NULL AND u.host <> ''));
";

const DOWN: &str = r"
ALTER TABLE credentials DROP COLUMN IF EXISTS scope;
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
