//! The credential vault: secret fields sealed with a per-record data key,
//! the data key wrapped by a key-encryption key named by `kek_id`.

// sea-orm-migration's trait elides the manager's lifetime; matching it needs the elided form.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Credentials {
    Table,
    Id,
    Name,
    Kind,
    Description,
    Public,
    Sealed,
    WrappedDek,
    KekId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(
                        ColumnDef::new(Credentials::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Credentials::Name)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Credentials::Kind).text().not_null())
                    .col(
                        ColumnDef::new(Credentials::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(Credentials::Public).json_binary().not_null())
                    .col(ColumnDef::new(Credentials::Sealed).binary().not_null())
                    .col(ColumnDef::new(Credentials::WrappedDek).binary().not_null())
                    .col(ColumnDef::new(Credentials::KekId).text().not_null())
                    .col(ColumnDef::new(Credentials::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(Credentials::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(
                        ColumnDef::new(Credentials::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .col(
                        ColumnDef::new(Credentials::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credentials_kek")
                    .table(Credentials::Table)
                    .col(Credentials::KekId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await
    }
}
