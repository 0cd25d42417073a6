//! An admin's decisions about a target's SSH host key: approving the
//! pending key (or pinning a given one before any contact), and forgetting
//! what is known. Approving the key that is pinned already is not an error:
//! it changes nothing and answers the record (`200`), so a repeated or
//! scripted approval is harmless; approving any other key when none is
//! pending is refused (`409`).

use chrono::Utc;
use opsc_proto::probe::HostKey;
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::hostkey::HostKeyState;
use crate::core::Core;
use crate::store::target;

/// Why a host-key decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    /// No such target.
    #[error("no such target")]
    NotFound,
    /// Approval of the pending key was asked for, but none is pending.
    #[error("no key is pending approval: run a connection test first")]
    NothingPending,
    /// The pending key is not the one reviewed.
    #[error("the pending key is {pending}, not {given}")]
    OtherKeyPending {
        /// The pending key's fingerprint.
        pending: String,
        /// The fingerprint given.
        given: String,
    },
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// `POST /api/v1/targets/{id}/host-key/approve`: which key to trust.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveHostKey {
    /// Approve the pending key, which must have this `SHA256:` fingerprint
    /// (guards against approving a key other than the one reviewed).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Or pin this OpenSSH public key (`ssh-ed25519 AAAA…`) before any contact.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// An approval done: the record now, and the fingerprints pinned before and after.
#[derive(Debug)]
pub struct Approved {
    /// The target's host-key record after the approval.
    pub keys: HostKeyState,
    /// The fingerprint pinned before, if any.
    pub before: Option<String>,
    /// The fingerprint pinned now.
    pub after: String,
    /// Whether the key was pinned already, so nothing changed.
    pub already_pinned: bool,
}

impl Approved {
    /// The answer when the approved key is the pinned one.
    fn unchanged(keys: HostKeyState, pinned: Option<String>) -> Self {
        Self {
            keys,
            after: pinned.clone().unwrap_or_default(),
            before: pinned,
            already_pinned: true,
        }
    }
}

fn parse_public_key(text: &str) -> Result<HostKey, HostKeyError> {
    let key = russh::keys::PublicKey::from_openssh(text.trim())
        .map_err(|_| HostKeyError::Invalid("public_key is not an OpenSSH public key".to_owned()))?;
    Ok(HostKey {
        algorithm: key.algorithm().as_str().to_owned(),
        fingerprint: key.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        public_key: key
            .to_openssh()
            .map_err(|_| HostKeyError::Invalid("public_key cannot be encoded".to_owned()))?,
    })
}

async fn load(core: &Core, id: Uuid) -> Result<target::Model, HostKeyError> {
    target::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(HostKeyError::NotFound)
}

async fn store(
    core: &Core,
    id: Uuid,
    column: Option<serde_json::Value>,
) -> Result<(), HostKeyError> {
    target::Entity::update_many()
        .col_expr(target::Column::HostKey, Expr::value(column))
        .filter(target::Column::Id.eq(id))
        .exec(core.db())
        .await?;
    Ok(())
}

/// Pins the key `body` names, approved by `approver`.
pub async fn approve(
    core: &Core,
    id: Uuid,
    approver: Uuid,
    body: ApproveHostKey,
) -> Result<Approved, HostKeyError> {
    let t = load(core, id).await?;
    let mut keys = HostKeyState::from_column(t.host_key.as_ref());
    let before = keys.pinned_key().map(|k| k.fingerprint);
    let key = match (body.fingerprint, body.public_key) {
        // Approving the key that is pinned already changes nothing: the
        // answer is the record as it is, like any repeated approval.
        (Some(fp), None) if before.as_deref() == Some(fp.trim()) => {
            return Ok(Approved::unchanged(keys, before));
        }
        (Some(fp), None) => {
            let pending = keys.pending.clone().ok_or(HostKeyError::NothingPending)?;
            if pending.fingerprint != fp.trim() {
                return Err(HostKeyError::OtherKeyPending {
                    pending: pending.fingerprint,
                    given: fp.trim().to_owned(),
                });
            }
            pending
        }
        (None, Some(pk)) => {
            let key = parse_public_key(&pk)?;
            if before.as_deref() == Some(key.fingerprint.as_str()) {
                return Ok(Approved::unchanged(keys, before));
            }
            key
        }
        _ => {
            return Err(HostKeyError::Invalid(
                "give either fingerprint (of the pending key) or public_key".to_owned(),
            ));
        }
    };
    let after = key.fingerprint.clone();
    keys.approve(key, approver.to_string(), Utc::now());
    store(core, id, keys.to_column()).await?;
    Ok(Approved {
        keys,
        before,
        after,
        already_pinned: false,
    })
}

/// Forgets the pinned and pending keys; the fingerprint pinned before, if any.
pub async fn forget(core: &Core, id: Uuid) -> Result<Option<String>, HostKeyError> {
    let t = load(core, id).await?;
    let before = HostKeyState::from_column(t.host_key.as_ref())
        .pinned_key()
        .map(|k| k.fingerprint);
    store(core, id, None).await?;
    Ok(before)
}
