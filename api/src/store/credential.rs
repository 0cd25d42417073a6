//! The `credentials` table: metadata in the clear, secrets sealed (see `vault`).

use sea_orm::entity::prelude::*;

/// A credential row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    /// Primary key; also bound into the ciphertexts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Type (`ssh_key`, `winrm` …); also bound into the ciphertext.
    pub kind: String,
    /// Free text.
    pub description: String,
    /// Non-secret fields and derived facts (fingerprint, expiry).
    pub public: Json,
    /// The sealed secret fields.
    pub sealed: Vec<u8>,
    /// The wrapped data key.
    pub wrapped_dek: Vec<u8>,
    /// The key-encryption key that wrapped it.
    pub kek_id: String,
    /// Creator.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTimeWithTimeZone,
    /// Last changed.
    pub updated_at: DateTimeWithTimeZone,
    /// Last used by a run or connection test.
    pub last_used_at: Option<DateTimeWithTimeZone>,
    /// Where it may be used ([`crate::credentials::scope::CredentialScope`]).
    pub scope: Json,
}

/// No relations navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Its scope; a stored value that does not parse is an empty scope
    /// (usable nowhere) rather than a wider one.
    pub fn scope(&self) -> crate::credentials::scope::CredentialScope {
        serde_json::from_value(self.scope.clone()).unwrap_or_default()
    }

    /// The stored envelope.
    pub fn envelope(&self) -> crate::vault::Sealed {
        crate::vault::Sealed {
            sealed: self.sealed.clone(),
            wrapped_dek: self.wrapped_dek.clone(),
            kek_id: self.kek_id.clone(),
        }
    }
}
