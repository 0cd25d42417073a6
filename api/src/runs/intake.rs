//! The intake: run intents from the bus (`<p>.cmd.run.request`, durable
//! `dispatcher`) admitted exactly like API requests.
//!
//! An intent that cannot be admitted — an unknown job, version or target,
//! parameters that do not fit, a trigger kind reserved for the API, secret
//! parameters that do not open, a schedule's intent the fence refuses
//! ([`crate::schedules::fence`]: an unknown schedule, a deposed leader) —
//! goes to `<p>.dlq.dispatcher` with the reason, and nothing else changes.
//! A transient failure (the database or the bus away) is retried.

use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, TriggerKind};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::admit::{Admission, JobName, admit};
use super::lineage::LineageError;
use crate::core::Core;
use crate::metrics::labels;
use crate::schedules::fence::{Fence, FenceError};

/// Intents admitted at once.
const CONCURRENCY: usize = 64;

/// Longest idempotency key.
const MAX_KEY: usize = 200;

/// Admits run intents from the bus until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    let spec = opsc_proto::topology::Topology::shared_consumer(
        core.bus.prefix(),
        opsc_proto::topology::consumer::DISPATCHER,
    );
    let Some(spec) = spec else {
        tracing::error!("The topology declares no dispatcher consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec)
            .concurrency(CONCURRENCY)
            .batch(CONCURRENCY)
            .redact(redact_intent),
        std::sync::Arc::new(Intake {
            core,
            fence: Fence::default(),
        }),
        shutdown,
    )
    .await;
}

/// The intake handler.
#[derive(Debug)]
struct Intake {
    core: Core,
    fence: Fence,
}

impl Handler<CloudEvent<RunIntent>> for Intake {
    async fn handle(&self, d: &Delivery<CloudEvent<RunIntent>>) -> Outcome {
        let mut admission = match admission(&self.core, &d.message) {
            Ok(a) => a,
            Err(reason) => return self.refuse(&reason),
        };
        match super::lineage::resolve(&self.core, &d.message.data, &mut admission).await {
            Ok(()) => {}
            Err(LineageError::Refused(reason)) => return self.refuse(&reason),
            Err(LineageError::Transient(reason)) => {
                return Outcome::retry(consume::backoff(d.deliveries), reason);
            }
        }
        let intent_id = admission.intent_id.as_deref().unwrap_or_default();
        match self
            .fence
            .check(&self.core, &d.message.data, intent_id)
            .await
        {
            Ok(()) => {}
            Err(FenceError::Refused(reason)) => return self.refuse(&reason),
            Err(FenceError::Transient(reason)) => {
                return Outcome::retry(consume::backoff(d.deliveries), reason);
            }
        }
        let trigger = admission.trigger.clone();
        // The admission continues the trace of whoever sent the intent.
        let span = tracing::info_span!("run.intake", trace_id = tracing::field::Empty);
        opsc_runtime::telemetry::set_parent(&span, d.message.traceparent.as_deref());
        match tracing::Instrument::instrument(admit(&self.core, admission), span).await {
            Ok(done) => {
                if !done.replayed {
                    crate::audit::write(
                        &self.core,
                        crate::audit::Entry::system(
                            "run.start",
                            Some(("run", done.run_id.to_string())),
                            json!({"intent_id": d.message.data.idempotency_key.clone().unwrap_or_else(|| d.message.id.clone()),
                                   "trigger": trigger, "job_id": d.message.data.job_id, "job_name": d.message.data.job_name}),
                        ),
                    )
                    .await;
                }
                Outcome::Ack
            }
            Err(e) if e.is_transient() => {
                Outcome::retry(consume::backoff(d.deliveries), e.to_string())
            }
            Err(e) => self.refuse(&e.to_string()),
        }
    }
}

impl Intake {
    fn refuse(&self, reason: &str) -> Outcome {
        self.count_refusal();
        Outcome::DeadLetter(format!("run intent refused: {reason}"))
    }

    fn count_refusal(&self) {
        self.core
            .metrics
            .intents_refused
            .get_or_create(&labels(&[("origin", "bus")]))
            .inc();
    }
}

/// What a dead letter keeps of an intent: every parameter value replaced
/// and the sealed parameters dropped, since any of them may be a secret
/// (sent in the clear by mistake, or sealed to a key that a later leak of
/// the dead-letter stream should not meet). A payload that is not an
/// intent at all holds no parameters we could tell apart and is kept.
fn redact_intent(payload: &[u8]) -> Vec<u8> {
    let Ok(mut event) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return payload.to_vec();
    };
    if let Some(data) = event.get_mut("data").and_then(|d| d.as_object_mut()) {
        if let Some(params) = data.get_mut("parameters").and_then(|p| p.as_object_mut()) {
            for value in params.values_mut() {
                *value = json!("[redacted]");
            }
        }
        if data.contains_key("sealed_parameters") {
            data.insert("sealed_parameters".to_owned(), json!("[sealed]"));
        }
    }
    serde_json::to_vec(&event).unwrap_or_else(|_| payload.to_vec())
}

/// The admission an intent asks for, or why it cannot be one.
fn admission(core: &Core, event: &CloudEvent<RunIntent>) -> Result<Admission, String> {
    let intent = &event.data;
    let job = match (intent.job_id, &intent.job_name) {
        (Some(id), None) => JobName::Id(id),
        (None, Some(name)) => JobName::Name(name.clone()),
        (Some(id), Some(name)) => JobName::Both(id, name.clone()),
        (None, None) => return Err("one of job_id and job_name is required".to_owned()),
    };
    if !intent.trigger.kind.allowed_on_bus() {
        return Err(format!(
            "trigger kind {:?} is set by the api only; on the bus use schedule, dependency, retry or integration",
            super::wire_name(intent.trigger.kind)
        ));
    }
    let key = match &intent.idempotency_key {
        Some(k)
            if k.is_empty() || k.len() > MAX_KEY || !k.chars().all(|c| c.is_ascii_graphic()) =>
        {
            return Err(format!(
                "idempotency_key must be 1-{MAX_KEY} visible ASCII characters"
            ));
        }
        Some(k) => k.clone(),
        None => event.id.clone(),
    };
    // The keys of the scheduler's runs are theirs alone: nobody takes a
    // future fire's, a retry's or a reaction's key with another intent.
    for (prefix, kind) in [
        ("schedule:", TriggerKind::Schedule),
        ("dependency:", TriggerKind::Dependency),
        ("retry:", TriggerKind::Retry),
    ] {
        if key.starts_with(prefix) && intent.trigger.kind != kind {
            return Err(format!(
                "idempotency keys starting with {prefix:?} belong to {} intents",
                super::wire_name(kind)
            ));
        }
    }
    let mut parameters = intent.parameters.clone();
    let mut sealed_names = std::collections::BTreeSet::new();
    if let Some(sealed) = &intent.sealed_parameters {
        let plain = core
            .sealer
            .open_intake(sealed, &intent.seal_context())
            .map_err(|e| format!("sealed_parameters: {e}"))?;
        let secret: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&plain)
                .map_err(|_| "sealed_parameters must hold a JSON object".to_owned())?;
        for (name, value) in secret {
            sealed_names.insert(name.clone());
            if parameters.insert(name.clone(), value).is_some() {
                return Err(format!(
                    "parameter {name:?} is given both in parameters and in sealed_parameters"
                ));
            }
        }
    }
    Ok(Admission {
        job,
        version: intent.job_version,
        parameters,
        targets: intent.targets.clone(),
        trigger: intent.trigger.clone(),
        intent_id: Some(format!("bus:{key}")),
        may_repeat: true,
        public_intent_id: Some(key),
        idempotency_key: intent.idempotency_key.clone(),
        sealed: Some(sealed_names),
        created_by: None,
        caller: None,
        retry: None,
        rerun_of: None,
    })
}
