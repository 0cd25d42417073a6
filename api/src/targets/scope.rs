//! Targets stay inside their credentials' scopes. Operators manage targets,
//! but where a target sends a credential (its host, its base URL's host,
//! its pool) must lie inside that credential's scope, and the settings
//! that lower a connection's guard — `accept-new`, `verify_tls: false`,
//! WinRM Basic over plain HTTP — are admins' to set. When an admin points
//! a target outside a scope, the scope grows by that exact host (and pool):
//! the admin's edit is the decision, and the audit entry says so.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::crud::TargetError;
use super::{HostKeyPolicy, TargetSpec, WinrmScheme};
use crate::credentials::crud::extend_scope;
use crate::credentials::scope::{normal_host, refusal};
use crate::store::credential;

/// One place a target sends a credential to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUse {
    /// The field naming the credential.
    pub field: &'static str,
    /// The credential.
    pub credential: Uuid,
    /// Where it goes.
    pub host: String,
}

/// The host part of an `http://` or `https://` URL, normalised.
pub fn url_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(normal_host))
        .unwrap_or_default()
}

/// Every credential `spec` uses and where it sends it.
pub fn uses(spec: &TargetSpec) -> Vec<CredentialUse> {
    let mut out = Vec::new();
    if let Some(s) = &spec.ssh {
        out.push(CredentialUse {
            field: "ssh.credential_id",
            credential: s.credential_id,
            host: normal_host(&spec.hostname),
        });
    }
    if let Some(w) = &spec.winrm {
        out.push(CredentialUse {
            field: "winrm.credential_id",
            credential: w.credential_id,
            host: normal_host(&spec.hostname),
        });
    }
    if let Some(h) = &spec.http
        && let Some(id) = h.credential_id
    {
        out.push(CredentialUse {
            field: "http.credential_id",
            credential: id,
            host: url_host(&h.base_url),
        });
    }
    out
}

/// What an operator may not set (or change to): each refused field and why.
fn guard_lowered(
    before: Option<&TargetSpec>,
    spec: &TargetSpec,
    creds: &HashMap<Uuid, credential::Model>,
) -> Vec<String> {
    let mut refused = Vec::new();
    let was_accept_new = before
        .and_then(|b| b.ssh.as_ref())
        .is_some_and(|s| s.host_key_policy == HostKeyPolicy::AcceptNew);
    if spec
        .ssh
        .as_ref()
        .is_some_and(|s| s.host_key_policy == HostKeyPolicy::AcceptNew)
        && !was_accept_new
    {
        refused.push(
            "ssh.host_key_policy: accept-new trusts whatever key answers first; only an admin may set it"
                .to_owned(),
        );
    }
    let winrm_trusting = |t: &TargetSpec| t.winrm.as_ref().is_some_and(|w| !w.verify_tls);
    if winrm_trusting(spec) && !before.is_some_and(winrm_trusting) {
        refused.push(
            "winrm.verify_tls: false accepts any certificate; only an admin may set it".to_owned(),
        );
    }
    let http_trusting = |t: &TargetSpec| t.http.as_ref().is_some_and(|h| !h.verify_tls);
    if http_trusting(spec) && !before.is_some_and(http_trusting) {
        refused.push(
            "http.verify_tls: false accepts any certificate; only an admin may set it".to_owned(),
        );
    }
    let basic_over_http = |t: &TargetSpec| {
        t.winrm.as_ref().is_some_and(|w| {
            w.scheme == WinrmScheme::Http
                && creds
                    .get(&w.credential_id)
                    .is_some_and(|c| c.public.get("auth") == Some(&json!("basic")))
        })
    };
    let same_winrm = |b: &TargetSpec| {
        b.winrm.as_ref().map(|w| (w.scheme, w.credential_id))
            == spec.winrm.as_ref().map(|w| (w.scheme, w.credential_id))
    };
    // An HTTP credential over plain http:// is readable on the wire.
    let plain_http = |t: &TargetSpec| {
        t.http.as_ref().is_some_and(|h| {
            h.credential_id.is_some()
                && h.base_url
                    .trim()
                    .to_ascii_lowercase()
                    .starts_with("http://")
        })
    };
    if plain_http(spec) && !before.is_some_and(plain_http) {
        refused.push(
            "http.base_url: an http:// URL sends the target's credential readable on the network; only an admin may set it"
                .to_owned(),
        );
    }
    // Moving a target forgets its pinned key; with accept-new the next key
    // that answers would be trusted, so only an admin may move it.
    let moved = before.is_some_and(|b| {
        normal_host(&b.hostname) != normal_host(&spec.hostname)
            || b.ssh.as_ref().map(|s| s.port) != spec.ssh.as_ref().map(|s| s.port)
    });
    if moved && was_accept_new {
        refused.push(
            "hostname: moving a target whose host_key_policy is accept-new would trust whatever key answers at the new place; only an admin may move it"
                .to_owned(),
        );
    }
    if basic_over_http(spec) && !before.is_some_and(|b| basic_over_http(b) && same_winrm(b)) {
        refused.push(
            "winrm.scheme: Basic over plain HTTP sends the password readable on the network; only an admin may set it"
                .to_owned(),
        );
    }
    refused
}

/// The credentials `uses` reference, by id (missing ones are reported by
/// the document's validation).
async fn load(
    db: &impl ConnectionTrait,
    uses: &[CredentialUse],
) -> Result<HashMap<Uuid, credential::Model>, TargetError> {
    let ids: Vec<Uuid> = uses.iter().map(|u| u.credential).collect();
    Ok(credential::Entity::find()
        .filter(credential::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Checks `spec` (replacing `before`, if any) as `admin` or an operator
/// would save it. An operator's document must keep every credential inside
/// its scope and lower no guard; an admin's widens the scopes it leaves.
/// Runs inside the caller's transaction; returns the widened scopes for the
/// audit trail (`[]` when none changed).
pub async fn enforce(
    db: &impl ConnectionTrait,
    admin: bool,
    before: Option<&TargetSpec>,
    spec: &TargetSpec,
) -> Result<Value, TargetError> {
    let uses = uses(spec);
    let creds = load(db, &uses).await?;
    if !admin {
        let refused = guard_lowered(before, spec, &creds);
        if !refused.is_empty() {
            return Err(TargetError::Forbidden(refused.join("; ")));
        }
    }
    let mut widened = Vec::new();
    for u in &uses {
        let Some(c) = creds.get(&u.credential) else {
            continue;
        };
        let Err(why) = c.scope().places(&u.host, &spec.pool) else {
            continue;
        };
        if !admin {
            return Err(TargetError::Forbidden(format!(
                "{}: {}; an admin may widen the credential's scope",
                u.field,
                refusal(&c.name, &spec.name, &why)
            )));
        }
        if let Some(scope) = extend_scope(db, c, &u.host, &spec.pool).await? {
            widened.push(json!({"credential": c.id, "name": c.name, "scope": scope}));
        }
    }
    Ok(Value::Array(widened))
}

/// Whether `cred` may be used with the stored target `t`, sending it to
/// `host`: its placement, then the narrowing to targets, groups and tags
/// (group memberships are looked up only when the scope names groups).
/// `Ok(Err(why))` is a refusal.
pub async fn permitted(
    db: &impl ConnectionTrait,
    t: &crate::store::target::Model,
    cred: &credential::Model,
    host: &str,
) -> Result<Result<(), String>, sea_orm::DbErr> {
    let scope = cred.scope();
    let mut groups = std::collections::BTreeSet::new();
    if !scope.groups.is_empty() {
        for g in crate::store::target_group::Entity::find()
            .filter(crate::store::target_group::Column::Id.is_in(scope.groups.clone()))
            .all(db)
            .await?
        {
            if super::group_member_ids(db, &g).await?.contains(&t.id) {
                groups.insert(g.id);
            }
        }
    }
    let tags: Vec<String> = serde_json::from_value(t.tags.clone()).unwrap_or_default();
    Ok(scope.covers(&crate::credentials::scope::Use {
        target: t.id,
        name: &t.name,
        host,
        pool: &t.pool,
        tags: &tags,
        groups: &groups,
    }))
}

/// Every credential `t` uses, checked against its scope; the refusal names
/// the credential and the target.
pub async fn check_uses(
    db: &impl ConnectionTrait,
    t: &crate::store::target::Model,
    creds: &HashMap<Uuid, credential::Model>,
) -> Result<Result<(), String>, sea_orm::DbErr> {
    for u in uses(&super::spec_of(t)) {
        if let Some(c) = creds.get(&u.credential)
            && let Err(why) = permitted(db, t, c, &u.host).await?
        {
            return Ok(Err(refusal(&c.name, &t.name, &why)));
        }
    }
    Ok(Ok(()))
}
