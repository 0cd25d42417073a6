//! Targets (hosts reached over SSH, WinRM or HTTP) and target groups.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Targets {
    Table,
    Id,
    Name,
    Hostname,
    OsType,
    Ssh,
    Winrm,
    Http,
    Tags,
    Metadata,
    Pool,
    Enabled,
    HostKey,
    LastTest,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TargetGroups {
    Table,
    Id,
    Name,
    Description,
    Members,
    Selector,
    CreatedAt,
    UpdatedAt,
}

fn now(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .default(Expr::current_timestamp())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Targets::Table)
                    .col(ColumnDef::new(Targets::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Targets::Name).text().not_null().unique_key())
                    .col(ColumnDef::new(Targets::Hostname).text().not_null())
                    .col(ColumnDef::new(Targets::OsType).text().not_null().check(
                        Expr::col(Targets::OsType).is_in([
                            "windows",
                            "linux",
                            "unix",
                            "network_device",
                            "other",
                        ]),
                    ))
                    .col(ColumnDef::new(Targets::Ssh).json_binary().null())
                    .col(ColumnDef::new(Targets::Winrm).json_binary().null())
                    .col(ColumnDef::new(Targets::Http).json_binary().null())
                    .col(ColumnDef::new(Targets::Tags).json_binary().not_null())
                    .col(ColumnDef::new(Targets::Metadata).json_binary().not_null())
                    .col(
                        ColumnDef::new(Targets::Pool)
                            .text()
                            .not_null()
                            .default("default"),
                    )
                    .col(
                        ColumnDef::new(Targets::Enabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(ColumnDef::new(Targets::HostKey).json_binary().null())
                    .col(ColumnDef::new(Targets::LastTest).json_binary().null())
                    .col(now(Targets::CreatedAt))
                    .col(now(Targets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_targets_pool", Targets::Pool),
            ("idx_targets_os", Targets::OsType),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Targets::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX idx_targets_tags ON targets USING GIN (tags)")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TargetGroups::Table)
                    .col(
                        ColumnDef::new(TargetGroups::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TargetGroups::Name)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(TargetGroups::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(TargetGroups::Members)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TargetGroups::Selector).json_binary().null())
                    .col(now(TargetGroups::CreatedAt))
                    .col(now(TargetGroups::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TargetGroups::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Targets::Table).to_owned())
            .await
    }
}
