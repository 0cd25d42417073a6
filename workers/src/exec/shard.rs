//! Executes one dispatch: every step on every target of the shard, targets
//! in parallel up to the run's limit, steps in order on each target.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use opsc_proto::dispatch::{DispatchSecrets, DispatchTarget, RunDispatch};
use opsc_proto::events::{RunStatus, StepFinished, StepStarted, StepStatus};
use opsc_proto::job::{HostUse, Step};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::output::OutputSink;
use super::resume::{History, Recorded};
use super::target::TargetConnections;
use crate::host::Access;
use crate::steps::{Registry, SendWhen, StepCall, StepOutcome, StepType};
use crate::template::{self, StepResult, TemplateContext};

/// Default step timeout.
const STEP_TIMEOUT_SECS: u64 = 300;
/// Output kept per step and target.
pub const OUTPUT_CAP: usize = 1024 * 1024;

/// One shard being executed.
pub struct Shard {
    /// The dispatch.
    pub dispatch: RunDispatch,
    /// Its opened secrets.
    pub secrets: DispatchSecrets,
    /// What this worker may do on its host.
    pub host: Arc<crate::host::Host>,
    /// Step types.
    pub registry: Arc<Registry>,
    /// Events.
    pub emitter: Emitter,
    /// The bus (output lines).
    pub bus: opsc_runtime::bus::Bus,
    /// This worker.
    pub worker_id: String,
    /// Cancelled by a cancel request, the run deadline or `keep_going: false`.
    pub cancel: CancellationToken,
    /// What an earlier, lost worker did of this shard (a redelivery).
    pub history: Option<History>,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("run_id", &self.dispatch.run_id)
            .finish_non_exhaustive()
    }
}

/// How one step attempt ended, for its `step_finished`.
#[derive(Debug)]
struct Ended {
    attempt: u32,
    outcome: StepOutcome,
    duration_ms: u64,
    truncated: bool,
    lines: u64,
}

impl Ended {
    /// An attempt that never ran (skipped, refused before it started).
    fn without_output(attempt: u32, outcome: StepOutcome) -> Self {
        Self {
            attempt,
            outcome,
            duration_ms: 0,
            truncated: false,
            lines: 0,
        }
    }
}

/// How a target's sequence of steps ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetEnd {
    Succeeded,
    Failed,
    Interrupted,
    /// An interrupted, non-idempotent step of a lost worker.
    Lost,
}

/// What to do with a step, given what a lost worker did of it.
#[derive(Debug)]
enum Resumption {
    /// Not recorded: run it.
    Run,
    /// Finished before: keep its result.
    Done(StepFinished, (String, String)),
    /// Interrupted or between retries: run it from this attempt.
    From(u32),
    /// Interrupted and not safe to repeat.
    Lost(u32),
}

impl Shard {
    fn secret_values(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .secrets
            .parameters
            .values()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        for m in self.secrets.credentials.values() {
            v.extend(m.secret_values().into_iter().map(str::to_owned));
            // What an HTTP Basic header carries (base64 of `user:password`).
            if let Some((user, password)) = m.login() {
                v.push(format!("{user}:{password}"));
            }
        }
        v.retain(|s| s.len() >= 3);
        v
    }

    fn base_context(&self) -> TemplateContext {
        let d = &self.dispatch;
        let mut params = d.parameters.clone();
        params.extend(self.secrets.parameters.clone());
        TemplateContext {
            params,
            steps: BTreeMap::new(),
            target: None,
            run: json!({"id": d.run_id, "trigger": d.trigger, "accepted_at": d.accepted_at,
                        "shard": d.shard.index}),
            job: json!({"id": d.job.id, "name": d.job.name, "version": d.job.version}),
        }
    }

    /// Runs the shard; its status and reason.
    pub async fn run(&self) -> (RunStatus, Option<String>) {
        let d = &self.dispatch;
        let targets: Vec<Option<&DispatchTarget>> = if d.targets.is_empty() {
            vec![None]
        } else {
            d.targets.iter().map(Some).collect()
        };
        // The dispatch's share of the run's parallelism (older apis sent
        // none: then the job's).
        let parallelism = if d.parallelism > 0 {
            d.parallelism
        } else {
            d.definition.parallelism.unwrap_or(50)
        }
        .max(1) as usize;
        let keep_going = d.definition.keep_going.unwrap_or(true);
        let limit = tokio::sync::Semaphore::new(parallelism);
        let mut running = futures::stream::FuturesUnordered::new();
        for t in targets {
            let limit = &limit;
            running.push(async move {
                let _permit = limit.acquire().await;
                let end = self.run_target(t).await;
                if end == TargetEnd::Failed && !keep_going {
                    self.cancel.cancel();
                }
                end
            });
        }
        let mut ends = Vec::new();
        while let Some(end) = running.next().await {
            ends.push(end);
        }
        let lost = ends.iter().filter(|e| **e == TargetEnd::Lost).count();
        if lost > 0 {
            (
                RunStatus::WorkerLost,
                Some(format!(
                    "worker_lost: the worker running this shard stopped in the middle of a step that is not idempotent, on {lost} of {} target(s)",
                    ends.len()
                )),
            )
        } else if ends.contains(&TargetEnd::Failed) {
            let n = ends.iter().filter(|e| **e == TargetEnd::Failed).count();
            (
                RunStatus::Failed,
                Some(format!("failed on {n} of {} target(s)", ends.len())),
            )
        } else if ends.contains(&TargetEnd::Interrupted) {
            (RunStatus::Cancelled, Some("cancelled".to_owned()))
        } else {
            (RunStatus::Succeeded, None)
        }
    }

    async fn run_target(&self, target: Option<&DispatchTarget>) -> TargetEnd {
        let mut ctx = self.base_context();
        ctx.target = target.map(|t| {
            json!({"id": t.id, "name": t.name, "hostname": t.hostname, "os_type": t.os_type,
                   "tags": t.tags, "metadata": t.metadata, "facts": t.facts})
        });
        let connections = TargetConnections::default();
        let mut end = TargetEnd::Succeeded;
        for step in &self.dispatch.definition.steps {
            if target.is_some_and(|t| !t.steps.contains(&step.id)) {
                continue;
            }
            let target_id = target.map(|t| t.id);
            let send = self
                .registry
                .get(step.kind.as_str())
                .map_or(SendWhen::OnSuccess, |k| k.runs_after(&step.with));
            if let Some(why) = skip_because(send, end, self.cancel.is_cancelled()) {
                let status = if self.cancel.is_cancelled() {
                    StepStatus::Cancelled
                } else {
                    StepStatus::Skipped
                };
                if self.cancel.is_cancelled() && end == TargetEnd::Succeeded {
                    end = TargetEnd::Interrupted;
                }
                self.finished(
                    step,
                    target_id,
                    Ended::without_output(
                        0,
                        StepOutcome {
                            status,
                            exit_code: None,
                            error: Some(why.to_owned()),
                        },
                    ),
                )
                .await;
                continue;
            }
            let (outcome, captured) = match self.resumption(step, target_id) {
                Resumption::Run => self.run_step(step, target, &connections, &ctx, 1).await,
                Resumption::From(attempt) => {
                    self.run_step(step, target, &connections, &ctx, attempt)
                        .await
                }
                Resumption::Done(f, captured) => (
                    StepOutcome {
                        status: f.status,
                        exit_code: f.exit_code,
                        error: f.error,
                    },
                    captured,
                ),
                Resumption::Lost(attempt) => {
                    let o = StepOutcome::failed(
                        "worker_lost: the worker running this step stopped; the step is not idempotent, so it was not repeated",
                        None,
                    );
                    self.finished(step, target_id, Ended::without_output(attempt, o.clone()))
                        .await;
                    end = TargetEnd::Lost;
                    ctx.steps.insert(
                        step.id.clone(),
                        StepResult {
                            stdout: String::new(),
                            stderr: String::new(),
                            exit_code: None,
                            json: None,
                            status: "failed".to_owned(),
                        },
                    );
                    continue;
                }
            };
            let result = StepResult {
                json: serde_json::from_str(captured.0.trim()).ok(),
                stdout: captured.0,
                stderr: captured.1,
                exit_code: outcome.exit_code,
                status: format!("{:?}", outcome.status).to_lowercase(),
            };
            ctx.steps.insert(step.id.clone(), result);
            match outcome.status {
                StepStatus::Failed | StepStatus::TimedOut if !step.continue_on_error => {
                    end = TargetEnd::Failed;
                }
                // A step after a failure (a notify step) leaves it failed.
                StepStatus::Cancelled if end == TargetEnd::Succeeded => {
                    end = TargetEnd::Interrupted;
                }
                _ => {}
            }
        }
        connections.close().await;
        end
    }

    /// Whether `step` on `target` runs, resumes or was done by a lost worker.
    fn resumption(&self, step: &Step, target: Option<uuid::Uuid>) -> Resumption {
        let Some(history) = &self.history else {
            return Resumption::Run;
        };
        let retries = step.retry.as_ref().map_or(0, |r| r.attempts);
        match history.of(&step.id, target) {
            None => Resumption::Run,
            Some(Recorded::Finished(f)) => {
                let retry_left = matches!(f.status, StepStatus::Failed | StepStatus::TimedOut)
                    && f.attempt >= 1
                    && f.attempt <= retries;
                if retry_left {
                    // It ended an attempt; the next one had not started.
                    Resumption::From(f.attempt + 1)
                } else {
                    Resumption::Done(f.clone(), history.output_of(&step.id, target))
                }
            }
            Some(Recorded::Started(attempt)) => {
                let safe = step.idempotent.unwrap_or_else(|| {
                    self.registry
                        .get(step.kind.as_str())
                        .is_some_and(|k| k.idempotent())
                });
                if safe {
                    Resumption::From(attempt + 1)
                } else {
                    Resumption::Lost(*attempt)
                }
            }
        }
    }

    /// Runs one step with its condition, retries and timeout; emits its
    /// events. Returns the outcome and the captured stdout/stderr.
    /// [`Shard::run_untraced_step`] in a span of its own, a child of the shard's.
    async fn run_step(
        &self,
        step: &Step,
        target: Option<&DispatchTarget>,
        connections: &TargetConnections,
        ctx: &TemplateContext,
        first_attempt: u32,
    ) -> (StepOutcome, (String, String)) {
        let span = tracing::info_span!(
            "worker.step",
            run_id = %self.dispatch.run_id,
            step_id = %step.id,
            step_type = %step.kind,
            target = target.map(|t| t.name.as_str()),
            target_id = target.map(|t| tracing::field::display(t.id)),
        );
        let ended = tracing::Instrument::instrument(
            self.run_untraced_step(step, target, connections, ctx, first_attempt),
            span.clone(),
        )
        .await;
        span.in_scope(|| tracing::debug!(status = ?ended.0.status, "Step ended."));
        ended
    }

    async fn run_untraced_step(
        &self,
        step: &Step,
        target: Option<&DispatchTarget>,
        connections: &TargetConnections,
        ctx: &TemplateContext,
        first_attempt: u32,
    ) -> (StepOutcome, (String, String)) {
        let target_id = target.map(|t| t.id);
        if let Some(when) = &step.when {
            match template::eval_condition(when, ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let o = StepOutcome {
                        status: StepStatus::Skipped,
                        exit_code: None,
                        error: Some("`when` is false".to_owned()),
                    };
                    self.finished(step, target_id, Ended::without_output(0, o.clone()))
                        .await;
                    return (o, Default::default());
                }
                Err(e) => {
                    let o = StepOutcome::failed(format!("when: {e}"), None);
                    self.finished(step, target_id, Ended::without_output(1, o.clone()))
                        .await;
                    return (o, Default::default());
                }
            }
        }
        let Some(kind) = self.registry.get(step.kind.as_str()).cloned() else {
            let o = StepOutcome::failed(
                format!("this worker has no step type {:?}", step.kind),
                None,
            );
            self.finished(step, target_id, Ended::without_output(1, o.clone()))
                .await;
            return (o, Default::default());
        };
        let with = match render_with(&step.with, kind.as_ref(), ctx)
            .and_then(|w| self.within_host(step, w))
        {
            Ok(w) => w,
            Err(e) => {
                let o = StepOutcome::failed(e, None);
                self.finished(step, target_id, Ended::without_output(1, o.clone()))
                    .await;
                return (o, Default::default());
            }
        };
        let retry = step.retry.clone().unwrap_or(opsc_proto::job::Retry {
            attempts: 0,
            backoff_secs: 1,
        });
        let timeout = Duration::from_secs(step.timeout_secs.unwrap_or(STEP_TIMEOUT_SECS).max(1));
        let mut attempt = first_attempt.saturating_sub(1);
        loop {
            attempt += 1;
            // Stored before the step runs: see `emit`.
            self.emitter
                .emit_durable(
                    StepStarted {
                        run_id: self.dispatch.run_id,
                        step_id: step.id.clone(),
                        target_id,
                        attempt,
                        worker_id: self.worker_id.clone(),
                    },
                    None,
                )
                .await;
            let sink = OutputSink::new(
                self.bus.clone(),
                self.dispatch.run_id,
                &step.id,
                target_id,
                OUTPUT_CAP,
                &self.secret_values(),
            );
            let step_cancel = self.cancel.child_token();
            let scope = crate::steps::RunScope {
                bus: Some(self.bus.clone()),
                run_id: self.dispatch.run_id,
                job_id: self.dispatch.job.id,
                job_name: self.dispatch.job.name.clone(),
                step_id: step.id.clone(),
            };
            let started = Instant::now();
            let call = StepCall {
                with: &with,
                target,
                connections,
                credentials: &self.secrets.credentials,
                host: &self.host,
                output: &sink,
                cancel: &step_cancel,
                run: &scope,
            };
            let outcome = run_within(kind.run(call), timeout, &step_cancel).await;
            let outcome = if self.cancel.is_cancelled()
                && !matches!(outcome.status, StepStatus::Succeeded | StepStatus::TimedOut)
            {
                StepOutcome {
                    status: StepStatus::Cancelled,
                    exit_code: outcome.exit_code,
                    error: Some(stopped_because("the run was stopped", outcome.error)),
                }
            } else {
                outcome
            };
            let captured = sink.finish().await;
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.finished(
                step,
                target_id,
                Ended {
                    attempt,
                    outcome: outcome.clone(),
                    duration_ms: ms,
                    truncated: captured.truncated,
                    lines: captured.lines,
                },
            )
            .await;
            let retryable = matches!(outcome.status, StepStatus::Failed | StepStatus::TimedOut);
            if !retryable || attempt > retry.attempts {
                return (outcome, (captured.stdout, captured.stderr));
            }
            let backoff = Duration::from_secs(
                retry
                    .backoff_secs
                    .saturating_mul(1 << (attempt - 1).min(10)),
            );
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = self.cancel.cancelled() => return (outcome, (captured.stdout, captured.stderr)),
            }
        }
    }

    /// The rendered settings of a step that reaches into the worker host,
    /// with its worker-side path confined to the roots; or why it may not
    /// run here (see [`crate::host`]).
    fn within_host(
        &self,
        step: &Step,
        mut with: BTreeMap<String, Value>,
    ) -> Result<BTreeMap<String, Value>, String> {
        let Some(how) = step.host_use() else {
            return Ok(with);
        };
        self.host
            .permit(&self.dispatch, self.secrets.host.as_ref(), how)?;
        if let HostUse::Files(key) = how {
            let writes = key == "dest";
            let access = if writes { Access::Write } else { Access::Read };
            let raw = with.get(key).and_then(Value::as_str).unwrap_or_default();
            let confined = self.host.confine(raw, access)?;
            with.insert(
                key.to_owned(),
                Value::String(confined.display().to_string()),
            );
        }
        Ok(with)
    }

    async fn finished(&self, step: &Step, target_id: Option<uuid::Uuid>, end: Ended) {
        self.emitter
            .emit(
                StepFinished {
                    run_id: self.dispatch.run_id,
                    step_id: step.id.clone(),
                    target_id,
                    attempt: end.attempt,
                    status: end.outcome.status,
                    exit_code: end.outcome.exit_code,
                    duration_ms: end.duration_ms,
                    // An error text may quote a setting or a command line.
                    error: end.outcome.error.map(|e| {
                        let secrets = self.secret_values();
                        let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
                        template::redact(&e, &s)
                    }),
                    output_truncated: end.truncated,
                    output_lines: end.lines,
                    step_type: Some(step.kind.clone()),
                },
                None,
            )
            .await;
    }
}

/// Why a step with send condition `send` does not run after the earlier
/// steps of its target ended as `end`; `None`: it runs. A failure stops the
/// steps after it, except those that run after failures (`send: always`
/// or `on_failure`); a stopped or lost run stops every step.
fn skip_because(send: SendWhen, end: TargetEnd, cancelled: bool) -> Option<&'static str> {
    if cancelled {
        return Some("the run was stopped");
    }
    match (end, send) {
        (TargetEnd::Succeeded, SendWhen::OnFailure) => {
            Some("send: on_failure, and no earlier step failed")
        }
        (TargetEnd::Succeeded, _) | (TargetEnd::Failed, SendWhen::Always | SendWhen::OnFailure) => {
            None
        }
        _ => Some("an earlier step failed"),
    }
}

/// How long a step that timed out may take to stop its work (and say
/// whether it could) before it is abandoned.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Runs a step with its timeout. On timeout the step is told to stop
/// (`cancel`) and given [`STOP_GRACE`] to stop its remote work and report,
/// so what it says about that (a command it could not stop) is kept.
async fn run_within(
    step: impl std::future::Future<Output = StepOutcome>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> StepOutcome {
    tokio::pin!(step);
    tokio::select! {
        o = &mut step => return o,
        () = tokio::time::sleep(timeout) => cancel.cancel(),
    }
    let why = format!("timed out after {}s", timeout.as_secs());
    match tokio::time::timeout(STOP_GRACE, &mut step).await {
        Ok(o) => StepOutcome {
            status: StepStatus::TimedOut,
            exit_code: o.exit_code,
            error: Some(stopped_because(&why, o.error)),
        },
        Err(_) => StepOutcome {
            status: StepStatus::TimedOut,
            exit_code: None,
            error: Some(format!(
                "{why}; the step did not stop within {}s and was abandoned",
                STOP_GRACE.as_secs()
            )),
        },
    }
}

/// `why`, with what the step said when it matters: that its remote work
/// could not be stopped.
fn stopped_because(why: &str, said: Option<String>) -> String {
    match said {
        Some(e) if e.contains("could not be stopped") => format!("{why}; {e}"),
        _ => why.to_owned(),
    }
}

/// Renders every string in `with` (recursively); keys the step type quotes
/// get their interpolated values quoted.
fn render_with(
    with: &BTreeMap<String, Value>,
    kind: &dyn StepType,
    ctx: &TemplateContext,
) -> Result<BTreeMap<String, Value>, String> {
    fn walk(
        v: &Value,
        quoting: template::Quoting,
        ctx: &TemplateContext,
        path: &str,
    ) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(
                template::render(s, ctx, quoting).map_err(|e| format!("with{path}: {e}"))?,
            ),
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| walk(x, quoting, ctx, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), walk(x, quoting, ctx, &format!("{path}.{k}"))?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
    with.iter()
        .map(|(k, v)| Ok((k.clone(), walk(v, kind.quoting(k), ctx, &format!(".{k}"))?)))
        .collect()
}

#[cfg(test)]
mod send_tests {
    use super::*;

    #[test]
    fn failures_stop_only_the_steps_that_do_not_run_after_them() {
        use SendWhen::{Always, OnFailure, OnSuccess};
        use TargetEnd::{Failed, Interrupted, Lost, Succeeded};
        assert_eq!(skip_because(OnSuccess, Succeeded, false), None);
        assert_eq!(skip_because(Always, Succeeded, false), None);
        assert!(skip_because(OnFailure, Succeeded, false).is_some());
        assert!(skip_because(OnSuccess, Failed, false).is_some());
        assert_eq!(skip_because(Always, Failed, false), None);
        assert_eq!(skip_because(OnFailure, Failed, false), None);
        for send in [Always, OnFailure, OnSuccess] {
            assert!(skip_because(send, Succeeded, true).is_some());
            assert!(skip_because(send, Failed, true).is_some());
            assert!(skip_because(send, Interrupted, false).is_some());
            assert!(skip_because(send, Lost, false).is_some());
        }
    }
}
