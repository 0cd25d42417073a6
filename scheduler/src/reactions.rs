//! Reactions to finished runs (the shared durable `scheduler` on
//! `<p>.evt.run.*.finished`): dependent runs and retries.
//!
//! Any replica may handle a finished run, leader or not: a dependent run's
//! intent is keyed `dependency:<dependency>:<upstream run>` and a retry is
//! written once under `retry.<run>` (create, never overwrite), so a
//! redelivered or twice-handled event changes nothing. Retries wait in the
//! bucket for their time and are published by the leader ([`crate::engine`]).

use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind};
use chrono::Utc;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{ParametersFrom, RunIntent, Trigger, TriggerKind};
use opsc_proto::events::{RunFinished, RunStatus};
use opsc_proto::schedule::{DependencyDoc, DependencyOn, PendingRetry, keys};
use opsc_runtime::bus::Bus;
use opsc_runtime::bus::consume::{self, Delivery, Handler, Outcome};
use rand::Rng as _;

use crate::book::SharedBook;
use crate::metrics::SchedulerMetrics;

/// The handler of finished runs.
#[derive(Debug)]
pub(crate) struct Reactions {
    /// The bus.
    pub bus: Bus,
    /// Schedules and dependencies.
    pub book: SharedBook,
    /// `<p>_scheduler_state`, where retries wait.
    pub state: kv::Store,
    /// Metrics.
    pub metrics: SchedulerMetrics,
}

impl Handler<CloudEvent<RunFinished>> for Reactions {
    async fn handle(&self, d: &Delivery<CloudEvent<RunFinished>>) -> Outcome {
        let event = &d.message;
        let f = &event.data;
        let Some(job) = f.job_id else {
            // From an api older than the reactions: nothing to react to.
            return Outcome::Ack;
        };
        for dep in self.dependents(job, f.status) {
            if let Some(within) = dep.within_secs {
                let late = (Utc::now() - event.time).num_seconds();
                if late > i64::try_from(within).unwrap_or(i64::MAX) {
                    self.count("dependency_late");
                    tracing::warn!(dependency_id = %dep.id, run_id = %f.run_id, late_secs = late, "A dependency reacted too late and did not start its run.");
                    continue;
                }
            }
            let intent = dependent(&dep, f.run_id, &self.bus.source);
            if let Err(e) = self.bus.publish(&intent).await {
                return Outcome::retry(consume::backoff(d.deliveries), e.to_string());
            }
            self.count("dependency");
        }
        if let Some(retry) = retry_of(f, event.time) {
            let body = serde_json::to_vec(&retry).unwrap_or_default();
            match self.state.create(keys::retry(f.run_id), body.into()).await {
                Ok(_) => self.count("retry_planned"),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
            }
        }
        Outcome::Ack
    }
}

impl Reactions {
    fn dependents(&self, job: uuid::Uuid, status: RunStatus) -> Vec<DependencyDoc> {
        let Ok(book) = self.book.read() else {
            return Vec::new();
        };
        book.dependencies
            .values()
            .filter(|d| d.enabled && d.upstream_job_id == job && reacts(d.on, status))
            .cloned()
            .collect()
    }

    fn count(&self, kind: &str) {
        self.metrics
            .reactions
            .get_or_create(&vec![("kind".to_owned(), kind.to_owned())])
            .inc();
    }
}

/// Whether an end of the upstream run starts the dependent one.
fn reacts(on: DependencyOn, status: RunStatus) -> bool {
    let failed = matches!(
        status,
        RunStatus::Failed | RunStatus::TimedOut | RunStatus::WorkerLost
    );
    match on {
        DependencyOn::Success => status == RunStatus::Succeeded,
        DependencyOn::Failure => failed,
        DependencyOn::Any => {
            failed || matches!(status, RunStatus::Succeeded | RunStatus::Cancelled)
        }
    }
}

/// The intent of a dependent run.
fn dependent(dep: &DependencyDoc, upstream: uuid::Uuid, source: &str) -> CloudEvent<RunIntent> {
    let key = format!("dependency:{}:{upstream}", dep.id);
    let intent = RunIntent {
        job_id: Some(dep.downstream_job_id),
        job_name: None,
        job_version: None,
        parameters: Default::default(),
        sealed_parameters: None,
        targets: None,
        trigger: Trigger {
            origin: Some("scheduler".to_owned()),
            cause_run_id: Some(upstream),
            ..Trigger::new(TriggerKind::Dependency, dep.id.to_string())
        },
        idempotency_key: Some(key.clone()),
        fence: None,
        retry_of: None,
        parameters_from: (!dep.parameters.is_empty()).then(|| ParametersFrom {
            run_id: upstream,
            map: dep.parameters.clone(),
        }),
    };
    CloudEvent::new(source.to_owned(), intent)
        .with_id(key)
        .with_subject(dep.id.to_string())
}

/// The retry a finished run asks for under its policy, if any.
fn retry_of(f: &RunFinished, ended: chrono::DateTime<Utc>) -> Option<PendingRetry> {
    let policy = f.retry.as_ref()?;
    let class = f.failure?;
    if !policy.covers(class, &f.exit_codes) || f.attempt > policy.max_retries {
        return None;
    }
    let base = policy.base_delay_secs(f.attempt);
    let jitter = if policy.jitter_pct == 0 {
        0.0
    } else {
        base * f64::from(rand::rng().random_range(0..=policy.jitter_pct)) / 100.0
    };
    let delay = Duration::from_secs_f64((base + jitter).max(0.0));
    Some(PendingRetry {
        run_id: f.run_id,
        job_id: f.job_id?,
        attempt: f.attempt + 1,
        retry_root: f.retry_root.unwrap_or(f.run_id),
        due_at: ended + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero()),
    })
}

/// The intent of a retry that fell due.
pub(crate) fn retry_intent(r: &PendingRetry, source: &str) -> CloudEvent<RunIntent> {
    let key = format!("retry:{}:{}", r.retry_root, r.attempt);
    let intent = RunIntent {
        job_id: Some(r.job_id),
        job_name: None,
        job_version: None,
        parameters: Default::default(),
        sealed_parameters: None,
        targets: None,
        trigger: Trigger {
            origin: Some("scheduler".to_owned()),
            cause_run_id: Some(r.run_id),
            ..Trigger::new(TriggerKind::Retry, r.retry_root.to_string())
        },
        idempotency_key: Some(key.clone()),
        fence: None,
        retry_of: Some(r.run_id),
        parameters_from: None,
    };
    CloudEvent::new(source.to_owned(), intent)
        .with_id(key)
        .with_subject(r.job_id.to_string())
}

#[cfg(test)]
mod tests {
    use opsc_proto::run_policy::{FailureClass, RetryPolicy};

    use super::*;

    fn failed(attempt: u32, class: FailureClass, codes: Vec<i32>) -> RunFinished {
        let mut f = RunFinished::new(uuid::Uuid::now_v7(), RunStatus::Failed, None, 10);
        f.job_id = Some(uuid::Uuid::now_v7());
        f.attempt = attempt;
        f.failure = Some(class);
        f.exit_codes = codes;
        f.retry = Some(RetryPolicy {
            max_retries: 2,
            delay_secs: 10,
            backoff: 3.0,
            jitter_pct: 0,
            max_delay_secs: 60,
            on: vec![FailureClass::ExitCode, FailureClass::WorkerLost],
            exit_codes: vec![3],
        });
        f
    }

    #[test]
    fn retries_follow_the_classes_codes_backoff_and_limit() {
        let now = Utc::now();
        let r = retry_of(&failed(1, FailureClass::ExitCode, vec![3]), now).unwrap();
        assert_eq!(
            (r.attempt, r.due_at),
            (2, now + chrono::Duration::seconds(10))
        );
        let r = retry_of(&failed(2, FailureClass::WorkerLost, vec![]), now).unwrap();
        assert_eq!(r.due_at, now + chrono::Duration::seconds(30));
        assert!(
            retry_of(&failed(3, FailureClass::ExitCode, vec![3]), now).is_none(),
            "beyond max_retries"
        );
        assert!(
            retry_of(&failed(1, FailureClass::ExitCode, vec![4]), now).is_none(),
            "another exit code"
        );
        assert!(
            retry_of(&failed(1, FailureClass::TimedOut, vec![]), now).is_none(),
            "a class not chosen"
        );
        let mut ok = failed(1, FailureClass::ExitCode, vec![3]);
        ok.failure = None;
        assert!(retry_of(&ok, now).is_none(), "no failure, no retry");
    }

    #[test]
    fn dependencies_react_to_the_ends_they_name() {
        assert!(reacts(DependencyOn::Success, RunStatus::Succeeded));
        assert!(!reacts(DependencyOn::Success, RunStatus::Failed));
        assert!(reacts(DependencyOn::Failure, RunStatus::TimedOut));
        assert!(!reacts(DependencyOn::Failure, RunStatus::Cancelled));
        assert!(reacts(DependencyOn::Any, RunStatus::Cancelled));
        assert!(!reacts(DependencyOn::Any, RunStatus::Queued));
    }
}
