//! Connection tests and host-key approval:
//! `POST /api/v1/targets/{id}/test`, `POST /api/v1/target-groups/{id}/test`,
//! `POST /api/v1/targets/{id}/host-key/approve`, `DELETE /api/v1/targets/{id}/host-key`.
//!
//! The api never connects to a target: it seals the target's credential for
//! the target's pool and asks a worker of that pool over the bus.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::probe::{
    FailureStage, HostKey, HostKeyPolicy, ProbeProtocol, ProbeReply, ProbeRequest, SshProbe,
    WinrmProbe,
};
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route};
use crate::store::{credential, target, target_group};
use crate::targets::WinrmScheme;
use crate::targets::hostkey::HostKeyState;
use crate::targets::{group_member_ids, spec_of};
use axum::http::Method;
use axum::routing;

/// Seconds allowed to a WinRM connection test.
const WINRM_TIMEOUT_SECS: u32 = 15;
/// Members of a group tested at once.
const GROUP_PARALLELISM: usize = 32;

/// Which protocol to test when a target has several.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestQuery {
    /// `ssh` or `winrm` (default: SSH when configured, else WinRM).
    #[serde(default)]
    pub protocol: Option<ProbeProtocol>,
}

/// The outcome of one connection test, as answered and stored in `last_test`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TestOutcome {
    /// Connected, authenticated and facts gathered.
    pub ok: bool,
    /// The protocol tested.
    pub protocol: ProbeProtocol,
    /// Where it failed: `dns`, `tcp`, `handshake`, `host_key`, `auth`, `command`, `worker`.
    pub stage: Option<FailureStage>,
    /// What failed.
    pub error: Option<String>,
    /// System facts.
    pub facts: BTreeMap<String, String>,
    /// The SSH host key the server presented.
    pub host_key: Option<HostKey>,
    /// True when this test pinned the presented key (`accept-new`).
    pub host_key_pinned: bool,
    /// The worker that ran the test.
    pub worker_id: String,
    /// Milliseconds the worker took.
    pub elapsed_ms: u64,
    /// When.
    pub tested_at: DateTime<Utc>,
}

struct Plan {
    request: ProbeRequest,
    pool: String,
    policy: HostKeyPolicy,
    credential_id: Uuid,
    wait: Duration,
}

async fn plan(
    state: &AppState,
    t: &target::Model,
    protocol: Option<ProbeProtocol>,
) -> Result<Plan, Problem> {
    let spec = spec_of(t);
    let protocol = match protocol {
        Some(p) => p,
        None if spec.ssh.is_some() => ProbeProtocol::Ssh,
        None if spec.winrm.is_some() => ProbeProtocol::Winrm,
        None => {
            return Err(Problem::invalid(
                "the target has neither SSH nor WinRM settings to test",
            ));
        }
    };
    let probe_id = Uuid::now_v7();
    let (credential_id, timeout, ssh, winrm, policy) = match protocol {
        ProbeProtocol::Ssh => {
            let s = spec
                .ssh
                .ok_or_else(|| Problem::invalid("the target has no SSH settings"))?;
            let pinned = HostKeyState::from_column(t.host_key.as_ref()).pinned_key();
            let probe = SshProbe {
                port: s.port,
                host_key_policy: s.host_key_policy,
                pinned,
            };
            (
                s.credential_id,
                s.connect_timeout_secs,
                Some(probe),
                None,
                s.host_key_policy,
            )
        }
        ProbeProtocol::Winrm => {
            let w = spec
                .winrm
                .ok_or_else(|| Problem::invalid("the target has no WinRM settings"))?;
            let https = w.scheme == WinrmScheme::Https;
            let probe = WinrmProbe {
                https,
                port: w.port.unwrap_or(if https { 5986 } else { 5985 }),
                verify_tls: w.verify_tls,
            };
            (
                w.credential_id,
                WINRM_TIMEOUT_SECS,
                None,
                Some(probe),
                HostKeyPolicy::Strict,
            )
        }
    };
    let cred = credential::Entity::find_by_id(credential_id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::invalid("the target's credential no longer exists"))?;
    let material =
        crate::credentials::material::material(&state.vault, &cred).map_err(Problem::invalid)?;
    let plaintext = serde_json::to_vec(&material).map_err(|e| Problem::internal(&e))?;
    let sealed = state
        .sealer
        .seal_for(&t.pool, &plaintext, &probe_id.to_string());
    Ok(Plan {
        request: ProbeRequest {
            probe_id,
            target_id: t.id,
            hostname: t.hostname.clone(),
            protocol,
            connect_timeout_secs: timeout,
            ssh,
            winrm,
            sealed_credential: sealed,
        },
        pool: t.pool.clone(),
        policy,
        credential_id,
        // Resolve, connect, authenticate and the facts command each get the
        // connect timeout; a few seconds more covers the bus.
        wait: Duration::from_secs(u64::from(timeout) * 2 + 5),
    })
}

async fn ask(state: &AppState, plan: &Plan) -> Result<ProbeReply, Problem> {
    let event = CloudEvent::new(state.bus.source.clone(), plan.request.clone());
    let request = async_nats::Request::new()
        .payload(event.encode().into())
        .timeout(Some(plan.wait));
    let subject = state.bus.subjects.target_probe(&plan.pool);
    let answer = state
        .bus
        .client
        .send_request(subject, request)
        .await
        .map_err(|e| match e.kind() {
            async_nats::RequestErrorKind::NoResponders => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-worker",
                "No worker can run the test",
            )
            .detail(format!(
                "no live worker serves pool {:?}; start one with OPSC_WORKER_POOL={}",
                plan.pool, plan.pool
            )),
            async_nats::RequestErrorKind::TimedOut => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "test-timeout",
                "The connection test did not finish",
            )
            .detail(format!(
                "no answer from pool {:?} within {}s",
                plan.pool,
                plan.wait.as_secs()
            )),
            _ => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "bus-unavailable",
                "The bus is unavailable",
            )
            .detail(e.to_string()),
        })?;
    let reply = CloudEvent::<ProbeReply>::decode(&answer.payload)
        .map_err(|e| Problem::internal(&format!("undecodable connection test reply: {e}")))?
        .data;
    if reply.probe_id != plan.request.probe_id {
        return Err(Problem::internal(
            &"a connection test reply for another request",
        ));
    }
    Ok(reply)
}

/// Runs one test and records its outcome (and any newly pinned or pending key).
async fn test_one(
    state: &AppState,
    t: &target::Model,
    protocol: Option<ProbeProtocol>,
) -> Result<TestOutcome, Problem> {
    let plan = plan(state, t, protocol).await?;
    let reply = ask(state, &plan).await?;
    let now = Utc::now();
    let mut keys = HostKeyState::from_column(t.host_key.as_ref());
    let pinned_now =
        plan.request.protocol == ProbeProtocol::Ssh && keys.after_test(plan.policy, &reply, now);
    let outcome = TestOutcome {
        ok: reply.ok,
        protocol: plan.request.protocol,
        stage: reply.stage,
        error: reply.error,
        facts: reply.facts,
        host_key: reply.host_key,
        host_key_pinned: pinned_now,
        worker_id: reply.worker_id,
        elapsed_ms: reply.elapsed_ms,
        tested_at: now,
    };
    let db = state.store.db();
    // Only the test's columns change, and only while the target still points
    // at the address that was tested.
    target::Entity::update_many()
        .col_expr(target::Column::LastTest, Expr::value(json!(outcome)))
        .col_expr(target::Column::HostKey, Expr::value(keys.to_column()))
        .filter(target::Column::Id.eq(t.id))
        .filter(target::Column::Hostname.eq(&t.hostname))
        .exec(db)
        .await?;
    credential::Entity::update_many()
        .col_expr(
            credential::Column::LastUsedAt,
            Expr::value(now.fixed_offset()),
        )
        .filter(credential::Column::Id.eq(plan.credential_id))
        .exec(db)
        .await?;
    Ok(outcome)
}

async fn load(state: &AppState, id: Uuid) -> Result<target::Model, Problem> {
    target::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("target"))
}

/// `POST /api/v1/targets/{id}/test`.
pub async fn test_target(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<TestQuery>,
) -> Result<Response, Problem> {
    let t = load(&state, id).await?;
    let outcome = test_one(&state, &t, q.protocol).await?;
    let mut res = reply(StatusCode::OK, &outcome);
    let mut summary =
        json!({"ok": outcome.ok, "protocol": outcome.protocol, "stage": outcome.stage});
    if outcome.host_key_pinned {
        summary["pinned"] = json!(outcome.host_key.as_ref().map(|k| &k.fingerprint));
    }
    res.extensions_mut()
        .insert(AuditDetail::new("target.test", "target", id).summary(summary));
    Ok(res)
}

/// One member's result in a group test.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberOutcome {
    /// The target.
    pub target_id: Uuid,
    /// Its name.
    pub name: String,
    /// The test's outcome, when it ran.
    pub outcome: Option<TestOutcome>,
    /// Why it could not run (no worker in its pool, no settings …).
    pub problem: Option<String>,
}

/// `POST /api/v1/target-groups/{id}/test`: the answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupOutcome {
    /// Members tested.
    pub total: usize,
    /// Members whose test succeeded.
    pub succeeded: usize,
    /// Members whose test failed or could not run.
    pub failed: usize,
    /// Per member, by name.
    pub results: Vec<MemberOutcome>,
}

/// `POST /api/v1/target-groups/{id}/test`: every member at once.
pub async fn test_group(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<TestQuery>,
) -> Result<Response, Problem> {
    let g = target_group::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("target group"))?;
    let ids = group_member_ids(state.store.db(), &g).await?;
    let members = target::Entity::find()
        .filter(target::Column::Id.is_in(ids))
        .all(state.store.db())
        .await?;
    let protocol = q.protocol;
    let mut results: Vec<MemberOutcome> = futures::stream::iter(members)
        .map(|t| {
            let state = state.clone();
            async move {
                let result = test_one(&state, &t, protocol).await;
                MemberOutcome {
                    target_id: t.id,
                    name: t.name,
                    problem: result.as_ref().err().map(Problem::describe),
                    outcome: result.ok(),
                }
            }
        })
        .buffer_unordered(GROUP_PARALLELISM)
        .collect()
        .await;
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let succeeded = results
        .iter()
        .filter(|r| r.outcome.as_ref().is_some_and(|o| o.ok))
        .count();
    let out = GroupOutcome {
        total: results.len(),
        succeeded,
        failed: results.len() - succeeded,
        results,
    };
    let mut res = reply(StatusCode::OK, &out);
    res.extensions_mut().insert(
        AuditDetail::new("target_group.test", "target_group", id)
            .summary(json!({"total": out.total, "succeeded": out.succeeded})),
    );
    Ok(res)
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

fn parse_public_key(text: &str) -> Result<HostKey, Problem> {
    let key = russh::keys::PublicKey::from_openssh(text.trim())
        .map_err(|_| Problem::invalid("public_key is not an OpenSSH public key"))?;
    Ok(HostKey {
        algorithm: key.algorithm().as_str().to_owned(),
        fingerprint: key.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        public_key: key
            .to_openssh()
            .map_err(|_| Problem::invalid("public_key cannot be encoded"))?,
    })
}

/// `POST /api/v1/targets/{id}/host-key/approve`.
pub async fn approve_host_key(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ApproveHostKey>,
) -> Result<Response, Problem> {
    let t = load(&state, id).await?;
    let mut keys = HostKeyState::from_column(t.host_key.as_ref());
    let before = keys.pinned_key().map(|k| k.fingerprint);
    let key = match (body.fingerprint, body.public_key) {
        (Some(fp), None) => {
            let pending = keys.pending.clone().ok_or_else(|| {
                Problem::conflict("no key is pending approval: run a connection test first")
            })?;
            if pending.fingerprint != fp.trim() {
                return Err(Problem::conflict(format!(
                    "the pending key is {}, not {}",
                    pending.fingerprint,
                    fp.trim()
                )));
            }
            pending
        }
        (None, Some(pk)) => parse_public_key(&pk)?,
        _ => {
            return Err(Problem::invalid(
                "give either fingerprint (of the pending key) or public_key",
            ));
        }
    };
    keys.approve(key.clone(), me.user_id.to_string(), Utc::now());
    target::Entity::update_many()
        .col_expr(target::Column::HostKey, Expr::value(keys.to_column()))
        .filter(target::Column::Id.eq(id))
        .exec(state.store.db())
        .await?;
    let mut res = reply(StatusCode::OK, &keys);
    res.extensions_mut().insert(
        AuditDetail::new("target.host_key.approve", "target", id)
            .summary(json!({"before": before, "after": key.fingerprint})),
    );
    Ok(res)
}

/// `DELETE /api/v1/targets/{id}/host-key`: forget the pinned and pending keys.
pub async fn forget_host_key(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let t = load(&state, id).await?;
    let before = HostKeyState::from_column(t.host_key.as_ref())
        .pinned_key()
        .map(|k| k.fingerprint);
    target::Entity::update_many()
        .col_expr(
            target::Column::HostKey,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .filter(target::Column::Id.eq(id))
        .exec(state.store.db())
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("target.host_key.forget", "target", id).summary(json!({"before": before})),
    );
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/targets/{id}/test",
            OPERATOR,
            "Test the connection to a target through a worker of its pool",
            routing::post(test_target),
        )
        .query::<TestQuery>()
        .ok::<TestOutcome>(200),
        Route::new(
            Method::POST,
            "/api/v1/targets/{id}/host-key/approve",
            ADMIN,
            "Trust the pending SSH host key, or pin a given public key",
            routing::post(approve_host_key),
        )
        .body::<ApproveHostKey>()
        .ok::<crate::targets::hostkey::HostKeyState>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/targets/{id}/host-key",
            ADMIN,
            "Forget the pinned and pending SSH host keys",
            routing::delete(forget_host_key),
        )
        .no_content(),
        Route::new(
            Method::POST,
            "/api/v1/target-groups/{id}/test",
            OPERATOR,
            "Test every member of a group concurrently",
            routing::post(test_group),
        )
        .query::<TestQuery>()
        .ok::<GroupOutcome>(200),
    ]
}
