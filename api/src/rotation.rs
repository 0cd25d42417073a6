//! Key rotation: re-wrap every credential's data key under the current
//! key-encryption key. Safe while the api serves: each row is updated only
//! if it still carries the key id it was read with, and new writes already
//! use the current key.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::store::{Store, credential};
use crate::vault::{self, Keyring};

/// What a rotation did.
#[derive(Debug, Default, Serialize)]
pub struct RotationReport {
    /// The key everything is now wrapped with.
    pub current_key_id: String,
    /// Records re-wrapped now.
    pub rewrapped: u64,
    /// Records that already used the current key.
    pub already_current: u64,
    /// Records changed by someone else meanwhile (they use the current key).
    pub raced: u64,
    /// Records that could not be opened, with the reason: they need attention.
    pub failed: Vec<(String, String)>,
}

/// Re-wraps every record not yet under the current key, in pages of 200.
pub async fn rotate(store: &Store, keys: &Keyring) -> Result<RotationReport, sea_orm::DbErr> {
    let db = store.db();
    let current = keys.current().id.clone();
    let mut report = RotationReport {
        current_key_id: current.clone(),
        ..Default::default()
    };
    report.already_current = u64::try_from(
        credential::Entity::find()
            .filter(credential::Column::KekId.eq(&current))
            .all(db)
            .await?
            .len(),
    )
    .unwrap_or(0);
    let mut after = uuid::Uuid::nil();
    loop {
        let page = credential::Entity::find()
            .filter(credential::Column::KekId.ne(&current))
            .filter(credential::Column::Id.gt(after))
            .order_by_asc(credential::Column::Id)
            .limit(200)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            match vault::rewrap(keys, row.id, &row.envelope()) {
                Ok(new) => {
                    let updated = credential::Entity::update_many()
                        .col_expr(credential::Column::WrappedDek, Expr::value(new.wrapped_dek))
                        .col_expr(credential::Column::KekId, Expr::value(new.kek_id))
                        .filter(credential::Column::Id.eq(row.id))
                        .filter(credential::Column::KekId.eq(&row.kek_id))
                        .exec(db)
                        .await?;
                    if updated.rows_affected == 1 {
                        report.rewrapped += 1;
                    } else {
                        report.raced += 1;
                    }
                }
                Err(e) => report.failed.push((row.id.to_string(), e.to_string())),
            }
        }
    }
    Ok(report)
}
