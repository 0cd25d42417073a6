//! API tokens remember whether they were minted from a session that passed
//! a second factor: with `require_mfa_for_admins`, an admin token counts
//! only when it was.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = r"
ALTER TABLE api_tokens ADD COLUMN mfa boolean NOT NULL DEFAULT false;
";

const DOWN: &str = r"
ALTER TABLE api_tokens DROP COLUMN IF EXISTS mfa;
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
