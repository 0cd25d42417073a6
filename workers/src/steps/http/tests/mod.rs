//! The HTTP steps against a real server on 127.0.0.1, driven through the
//! registry and the `StepType` trait with a capturing output sink.

mod auth;
mod request;
mod server;
mod spec;
mod webhook;

use std::collections::BTreeMap;

use opsc_proto::dispatch::{DispatchHttp, DispatchTarget};
use opsc_proto::events::StepStatus;
use opsc_proto::material::CredentialMaterial;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::exec::output::{Captured, OutputSink};
use crate::exec::shard::OUTPUT_CAP;
use crate::exec::target::TargetConnections;
use crate::steps::{StepCall, StepOutcome, registry};
use crate::template::StepResult;

/// The result of one step run.
#[derive(Debug)]
pub struct Ran {
    pub outcome: StepOutcome,
    pub out: Captured,
}

impl Ran {
    /// `steps.<id>.json`, as the engine derives it for later steps.
    pub fn json(&self) -> Value {
        StepResult::new(
            self.out.stdout.clone(),
            self.out.stderr.clone(),
            self.outcome.exit_code,
            String::new(),
        )
        .json
        .unwrap_or_else(|| panic!("stdout is not JSON: {:?}", self.out.stdout))
    }

    pub fn succeeded(&self) -> bool {
        self.outcome.status == StepStatus::Succeeded
    }

    pub fn error(&self) -> &str {
        self.outcome.error.as_deref().unwrap_or_default()
    }
}

/// How a step is called.
#[derive(Debug, Default)]
pub struct Call {
    pub target: Option<DispatchTarget>,
    pub credentials: BTreeMap<Uuid, CredentialMaterial>,
    pub cancel: CancellationToken,
}

impl Call {
    /// A call on an HTTP target with `base_url` and, optionally, `material`.
    pub fn on_target(base_url: &str, material: Option<CredentialMaterial>) -> Self {
        let mut credentials = BTreeMap::new();
        let credential_id = material.map(|m| {
            let id = Uuid::new_v4();
            credentials.insert(id, m);
            id
        });
        Self {
            target: Some(target(base_url, credential_id, true)),
            credentials,
            cancel: CancellationToken::new(),
        }
    }

    /// Runs step type `kind` with `with` (a JSON object).
    pub async fn run(&self, kind: &str, with: Value) -> Ran {
        let with: BTreeMap<String, Value> = serde_json::from_value(with).unwrap();
        let secrets: Vec<String> = self
            .credentials
            .values()
            .flat_map(|m| m.secret_values().into_iter().map(str::to_owned))
            .collect();
        let sink = OutputSink::capture_only("http", OUTPUT_CAP, &secrets);
        let connections = TargetConnections::default();
        let types = registry();
        let step = types
            .get(kind)
            .unwrap_or_else(|| panic!("{kind} is not registered"));
        let outcome = step
            .run(StepCall {
                with: &with,
                target: self.target.as_ref(),
                connections: &connections,
                credentials: &self.credentials,
                host: &crate::host::Host::none()
                    .with_egress(crate::egress::Egress::with_loopback()),
                output: &sink,
                cancel: &self.cancel,
                run: &crate::steps::RunScope::default(),
            })
            .await;
        Ran {
            outcome,
            out: sink.finish().await,
        }
    }
}

/// Runs `kind` with `with` on no target.
pub async fn run(kind: &str, with: Value) -> Ran {
    Call::default().run(kind, with).await
}

/// An HTTP target.
pub fn target(base_url: &str, credential_id: Option<Uuid>, verify_tls: bool) -> DispatchTarget {
    DispatchTarget {
        id: Uuid::new_v4(),
        name: "api-1".to_owned(),
        hostname: "127.0.0.1".to_owned(),
        os_type: "other".to_owned(),
        tags: Vec::new(),
        metadata: BTreeMap::new(),
        facts: BTreeMap::new(),
        ssh: None,
        winrm: None,
        http: Some(DispatchHttp {
            base_url: base_url.to_owned(),
            credential_id,
            verify_tls,
        }),
        steps: vec!["http".to_owned()],
    }
}
