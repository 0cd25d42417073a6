//! Connection tests of a target or of every member of a group.
//!
//! The api never connects to a target: it seals the target's credential for
//! the target's pool and asks a worker of that pool over the bus (NATS
//! request/reply), then records the outcome in `last_test` and any key the
//! test pinned or left pending in the host-key record.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::envelope::DecodeError;
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

use super::hostkey::HostKeyState;
use super::{WinrmScheme, group_member_ids, spec_of};
use crate::core::Core;
use crate::store::{credential, target, target_group};

/// Seconds allowed to a WinRM connection test.
const WINRM_TIMEOUT_SECS: u32 = 15;
/// Members of a group tested at once.
const GROUP_PARALLELISM: usize = 32;
/// What a group test says of a member whose test failed inside the api: the
/// cause is logged, never shown.
const INTERNAL_REASON: &str = "Internal Server Error";

/// Why a connection test could not run or gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No such target.
    #[error("no such target")]
    TargetNotFound,
    /// No such group.
    #[error("no such target group")]
    GroupNotFound,
    /// The target has nothing a worker could test.
    #[error("the target has neither SSH nor WinRM settings to test")]
    NothingToTest,
    /// SSH was asked for, but the target has no SSH settings.
    #[error("the target has no SSH settings")]
    NoSsh,
    /// WinRM was asked for, but the target has no WinRM settings.
    #[error("the target has no WinRM settings")]
    NoWinrm,
    /// The credential the target references was deleted.
    #[error("the target's credential no longer exists")]
    CredentialGone,
    /// The credential cannot be opened or used by a worker.
    #[error("{0}")]
    Unusable(String),
    /// The credential's scope does not include the target.
    #[error("{0}")]
    OutOfScope(String),
    /// The credential could not be encoded for sealing.
    #[error("encoding the credential failed: {0}")]
    Encode(#[from] serde_json::Error),
    /// No live worker serves the target's pool.
    #[error("no live worker serves pool {pool:?}; start one with OPSC_WORKER_POOL={pool}")]
    NoWorker {
        /// The pool.
        pool: String,
    },
    /// The worker did not answer in time.
    #[error("no answer from pool {pool:?} within {secs}s")]
    TimedOut {
        /// The pool.
        pool: String,
        /// Seconds waited.
        secs: u64,
    },
    /// The bus failed the request.
    #[error("{0}")]
    Bus(#[source] async_nats::RequestError),
    /// The answer was not a connection test reply.
    #[error("undecodable connection test reply: {0}")]
    Undecodable(#[source] DecodeError),
    /// The answer was meant for another test.
    #[error("a connection test reply for another request")]
    OtherReply,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl ProbeError {
    /// A failure inside the api (database, encoding, a garbled reply),
    /// whose cause is not for the caller.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Self::Encode(_) | Self::Undecodable(_) | Self::OtherReply | Self::Db(_)
        )
    }

    /// What a group test shows of this member's failure.
    fn reason(&self) -> String {
        if self.is_internal() {
            tracing::error!(error = %self, "Connection test failed.");
            INTERNAL_REASON.to_owned()
        } else {
            self.to_string()
        }
    }
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

/// A test ready to be asked: the request and what recording it needs.
struct Plan {
    request: ProbeRequest,
    pool: String,
    policy: HostKeyPolicy,
    credential_id: Uuid,
    wait: Duration,
}

/// The protocol to test: the asked one, else SSH when configured, else WinRM.
fn protocol_of(
    spec: &super::TargetSpec,
    asked: Option<ProbeProtocol>,
) -> Result<ProbeProtocol, ProbeError> {
    match asked {
        Some(p) => Ok(p),
        None if spec.ssh.is_some() => Ok(ProbeProtocol::Ssh),
        None if spec.winrm.is_some() => Ok(ProbeProtocol::Winrm),
        None => Err(ProbeError::NothingToTest),
    }
}

async fn plan(
    core: &Core,
    t: &target::Model,
    protocol: Option<ProbeProtocol>,
) -> Result<Plan, ProbeError> {
    let spec = spec_of(t);
    let protocol = protocol_of(&spec, protocol)?;
    let probe_id = Uuid::now_v7();
    let (credential_id, timeout, ssh, winrm, policy) = match protocol {
        ProbeProtocol::Ssh => {
            let s = spec.ssh.ok_or(ProbeError::NoSsh)?;
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
            let w = spec.winrm.ok_or(ProbeError::NoWinrm)?;
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
        .one(core.db())
        .await?
        .ok_or(ProbeError::CredentialGone)?;
    // Nothing is sealed for a target outside the credential's scope.
    let creds = std::collections::HashMap::from([(cred.id, cred.clone())]);
    super::scope::check_uses(core.db(), t, &creds)
        .await?
        .map_err(ProbeError::OutOfScope)?;
    let material =
        crate::credentials::material::material(&core.vault, &cred).map_err(ProbeError::Unusable)?;
    let plaintext = serde_json::to_vec(&material)?;
    let sealed = core
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

/// Asks a worker of the plan's pool, and waits for its reply.
async fn ask(core: &Core, plan: &Plan) -> Result<ProbeReply, ProbeError> {
    let event = CloudEvent::new(core.bus.source.clone(), plan.request.clone());
    let request = async_nats::Request::new()
        .payload(event.encode().into())
        .timeout(Some(plan.wait));
    let subject = core.bus.subjects.target_probe(&plan.pool);
    let answer = core
        .bus
        .client
        .send_request(subject, request)
        .await
        .map_err(|e| match e.kind() {
            async_nats::RequestErrorKind::NoResponders => ProbeError::NoWorker {
                pool: plan.pool.clone(),
            },
            async_nats::RequestErrorKind::TimedOut => ProbeError::TimedOut {
                pool: plan.pool.clone(),
                secs: plan.wait.as_secs(),
            },
            _ => ProbeError::Bus(e),
        })?;
    let reply = CloudEvent::<ProbeReply>::decode(&answer.payload)
        .map_err(ProbeError::Undecodable)?
        .data;
    if reply.probe_id != plan.request.probe_id {
        return Err(ProbeError::OtherReply);
    }
    Ok(reply)
}

/// Runs one test and records its outcome (and any newly pinned or pending key).
async fn test_one(
    core: &Core,
    t: &target::Model,
    protocol: Option<ProbeProtocol>,
) -> Result<TestOutcome, ProbeError> {
    let plan = plan(core, t, protocol).await?;
    let reply = ask(core, &plan).await?;
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
    let db = core.db();
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
    if !outcome.ok {
        let stage = outcome
            .stage
            .map(crate::runs::wire_name)
            .unwrap_or_default();
        let error = format!("{stage}: {}", outcome.error.as_deref().unwrap_or("failed"));
        let fact = crate::notices::publish::TestFact {
            target_id: t.id,
            name: &t.name,
            error: &error,
            tested_at: now,
            tested_by: None,
        };
        crate::notices::target_test_failed(core, fact).await;
    }
    Ok(outcome)
}

/// Tests one target over `protocol` (default: SSH when configured, else
/// WinRM) and records the outcome.
pub async fn test_target(
    core: &Core,
    id: Uuid,
    protocol: Option<ProbeProtocol>,
) -> Result<TestOutcome, ProbeError> {
    let t = target::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(ProbeError::TargetNotFound)?;
    test_one(core, &t, protocol).await
}

/// Tests every current member of a group, at most
/// [`GROUP_PARALLELISM`] at once; a member whose test cannot run says why.
pub async fn test_group(
    core: &Core,
    id: Uuid,
    protocol: Option<ProbeProtocol>,
) -> Result<GroupOutcome, ProbeError> {
    let g = target_group::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(ProbeError::GroupNotFound)?;
    let ids = group_member_ids(core.db(), &g).await?;
    let members = target::Entity::find()
        .filter(target::Column::Id.is_in(ids))
        .all(core.db())
        .await?;
    let mut results: Vec<MemberOutcome> = futures::stream::iter(members)
        .map(|t| async move {
            let result = test_one(core, &t, protocol).await;
            MemberOutcome {
                target_id: t.id,
                name: t.name,
                problem: result.as_ref().err().map(ProbeError::reason),
                outcome: result.ok(),
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
    Ok(GroupOutcome {
        total: results.len(),
        succeeded,
        failed: results.len() - succeeded,
        results,
    })
}
