//! Delivery: one attempt of one message through its channel, with the
//! at-least-once guard (`<p>_notify_sent` `sent.<id>`: checked before,
//! created after), the channel's rate limit, and a
//! [`NotificationRecorded`] for every attempt and decision.

pub mod limit;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use chrono::Utc;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{ChannelKind, DeliveryStatus, NotificationRecorded, NotifyTrigger, keys};
use opsc_runtime::bus::Bus;
use uuid::Uuid;

use crate::channels::{Outgoing, Registry};
use crate::config::Shared;
use crate::metrics::NotifierMetrics;
use crate::render::Rendered;

/// One message for one recipient on one channel.
#[derive(Debug, Clone)]
pub struct Message {
    /// The notification id (the delivery id).
    pub id: Uuid,
    /// Why it is sent (`rule`, `digest`, `test` …).
    pub origin: String,
    /// The rule.
    pub rule_id: Option<Uuid>,
    /// The trigger.
    pub trigger: Option<NotifyTrigger>,
    /// The notice.
    pub notice_id: Option<String>,
    /// The channel.
    pub channel_id: Uuid,
    /// The address (`None`: the channel's default or endpoint).
    pub to: Option<String>,
    /// The user.
    pub user_id: Option<Uuid>,
    /// The job.
    pub job_id: Option<Uuid>,
    /// The run.
    pub run_id: Option<Uuid>,
    /// What it says.
    pub rendered: Rendered,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// Delivered, delivered before, or given up: nothing more to do.
    Done,
    /// Failed; another attempt may succeed.
    Again,
}

/// Counters for the replica status.
#[derive(Debug, Default)]
pub struct Counters {
    /// Attempts under way.
    pub in_flight: AtomicU64,
    /// Delivered.
    pub sent: AtomicU64,
    /// Failed attempts.
    pub failed: AtomicU64,
}

/// Everything a delivery needs.
#[derive(Clone)]
pub struct Deliverer {
    /// The bus (records).
    pub bus: Bus,
    /// `<p>_notify_sent`.
    pub sent: kv::Store,
    /// The channel kinds.
    pub registry: Arc<Registry>,
    /// The configuration.
    pub cfg: Shared,
    /// Rate limits.
    pub limiter: limit::Limiter,
    /// Metrics.
    pub metrics: NotifierMetrics,
    /// This replica.
    pub replica: String,
    /// Status counters.
    pub counters: Arc<Counters>,
    /// First retry delay.
    pub retry_base_ms: u64,
    /// Deliveries being attempted in this process (a duplicate notice
    /// handled at the same time waits for the first).
    pub inflight: Arc<std::sync::Mutex<std::collections::HashSet<Uuid>>>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

/// Something to tell "still working" while a delivery waits.
pub trait Progress: Sync {
    /// Says so.
    fn tick(&self) -> impl std::future::Future<Output = ()> + Send;
}

impl Progress for () {
    async fn tick(&self) {}
}

impl<M: Sync> Progress for opsc_runtime::bus::consume::Delivery<M> {
    async fn tick(&self) {
        self.progress().await;
    }
}

/// Replaces every secret value in `text`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() >= 4 {
            out = out.replace(s, "[redacted]");
        }
    }
    out
}

impl Deliverer {
    /// The delay before attempt `attempt + 1`: the base, doubling, at most a minute.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ms = self
            .retry_base_ms
            .saturating_mul(1_u64 << attempt.saturating_sub(1).min(16));
        Duration::from_millis(ms.min(60_000))
    }

    /// Whether delivery is paused.
    pub fn paused(&self) -> bool {
        self.cfg.read().is_ok_and(|c| c.control.paused)
    }

    /// Whether `id` was delivered (or given up) before.
    pub async fn already(&self, id: Uuid) -> bool {
        matches!(self.sent.get(keys::sent(id)).await, Ok(Some(_)))
    }

    async fn mark(&self, id: Uuid, status: &str) {
        if let Err(e) = self
            .sent
            .create(keys::sent(id), status.as_bytes().to_vec().into())
            .await
            && e.kind() != kv::CreateErrorKind::AlreadyExists
        {
            tracing::warn!(notification_id = %id, error = %e, "Cannot mark a notification as sent.");
        }
    }

    /// Tries `m` once as attempt `attempt`; `last` forces this to be the last one.
    pub async fn attempt<P: Progress>(
        &self,
        m: &Message,
        attempt: u32,
        last: bool,
        progress: &P,
    ) -> Tried {
        let claimed = self.inflight.lock().is_ok_and(|mut s| s.insert(m.id));
        if !claimed {
            return Tried::Again;
        }
        let span = tracing::info_span!(
            "notifier.deliver",
            notification_id = %m.id,
            channel_id = %m.channel_id,
            attempt,
        );
        let tried = Box::pin(tracing::Instrument::instrument(
            self.attempt_claimed(m, attempt, last, progress),
            span,
        ))
        .await;
        if let Ok(mut s) = self.inflight.lock() {
            s.remove(&m.id);
        }
        tried
    }

    async fn attempt_claimed<P: Progress>(
        &self,
        m: &Message,
        attempt: u32,
        last: bool,
        progress: &P,
    ) -> Tried {
        if self.already(m.id).await {
            return Tried::Done;
        }
        let chan = self
            .cfg
            .read()
            .ok()
            .and_then(|c| c.channels.get(&m.channel_id).cloned());
        let Some(chan) = chan else {
            self.record(
                m,
                DeliveryStatus::DeadLettered,
                attempt,
                1,
                None,
                Some("the channel no longer exists".to_owned()),
                Utc::now(),
                0,
            )
            .await;
            self.mark(m.id, "dead_lettered").await;
            return Tried::Done;
        };
        let kind = chan.doc.kind();
        let max = chan.doc.max_attempts.clamp(1, 10);
        let last = last || attempt >= max;
        let give_up = |why: String| (why, false);
        let secrets = chan.secrets.clone().map_err(give_up);
        let imp = self.registry.get(&kind).cloned();
        if let Some(rl) = chan.doc.rate_limit {
            let begun = Instant::now();
            while let Some(wait) = self.limiter.take(m.channel_id, rl.per_minute) {
                tokio::time::sleep(wait.min(Duration::from_secs(5))).await;
                if begun.elapsed() > Duration::from_secs(10) {
                    progress.tick().await;
                }
            }
        }
        let started = Utc::now();
        let clock = Instant::now();
        self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let result = match (secrets, imp) {
            (Err(e), _) => Err(e),
            (Ok(_), None) => Err((
                format!(
                    "this notifier cannot deliver through {} channels",
                    kind.as_str()
                ),
                false,
            )),
            (Ok(s), Some(imp)) => {
                let out = Outgoing {
                    notification_id: m.id,
                    to: m.to.clone(),
                    subject: m.rendered.parts.subject.clone(),
                    text: m.rendered.parts.text.clone(),
                    html: m.rendered.parts.html.clone(),
                    data: m.rendered.data.clone(),
                    tone: m.rendered.tone,
                    link: m.rendered.link.clone(),
                };
                imp.send(&chan.doc, &s, &out)
                    .await
                    .map_err(|e| (redact(&e.message, &s.values()), e.transient))
            }
        };
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let took = clock.elapsed();
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let labels = NotifierMetrics::kind(kind.as_str());
        self.metrics
            .latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        match result {
            Ok(sent) => {
                self.mark(m.id, "delivered").await;
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                self.metrics.sent.get_or_create(&labels).inc();
                self.record_kind(
                    m,
                    kind,
                    DeliveryStatus::Delivered,
                    attempt,
                    max,
                    sent.provider_id,
                    m.rendered.error.clone(),
                    started,
                    ms,
                )
                .await;
                Tried::Done
            }
            Err((why, transient)) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                self.metrics.failed.get_or_create(&labels).inc();
                if transient && !last {
                    self.record_kind(
                        m,
                        kind,
                        DeliveryStatus::Failed,
                        attempt,
                        max,
                        None,
                        Some(why),
                        started,
                        ms,
                    )
                    .await;
                    Tried::Again
                } else {
                    self.metrics.dead_lettered.get_or_create(&labels).inc();
                    self.mark(m.id, "dead_lettered").await;
                    self.record_kind(
                        m,
                        kind,
                        DeliveryStatus::DeadLettered,
                        attempt,
                        max,
                        None,
                        Some(why),
                        started,
                        ms,
                    )
                    .await;
                    Tried::Done
                }
            }
        }
    }

    /// Records a decision or attempt of `m`.
    #[allow(clippy::too_many_arguments, reason = "one record's fields")]
    pub async fn record(
        &self,
        m: &Message,
        status: DeliveryStatus,
        attempt: u32,
        max: u32,
        provider_id: Option<String>,
        error: Option<String>,
        started_at: chrono::DateTime<Utc>,
        duration_ms: u64,
    ) {
        let kind = self
            .cfg
            .read()
            .ok()
            .and_then(|c| c.channels.get(&m.channel_id).map(|c| c.doc.kind()))
            .unwrap_or(ChannelKind::Webhook);
        self.record_kind(
            m,
            kind,
            status,
            attempt,
            max,
            provider_id,
            error,
            started_at,
            duration_ms,
        )
        .await;
    }

    #[allow(clippy::too_many_arguments, reason = "one record's fields")]
    async fn record_kind(
        &self,
        m: &Message,
        kind: ChannelKind,
        status: DeliveryStatus,
        attempt: u32,
        max: u32,
        provider_id: Option<String>,
        error: Option<String>,
        started_at: chrono::DateTime<Utc>,
        duration_ms: u64,
    ) {
        let recipient = m.to.clone().unwrap_or_else(|| {
            if kind.addressed() {
                "default"
            } else {
                "endpoint"
            }
            .to_owned()
        });
        let rec = NotificationRecorded {
            notification_id: m.id,
            status,
            attempt,
            max_attempts: max,
            notice_id: m.notice_id.clone(),
            origin: m.origin.clone(),
            rule_id: m.rule_id,
            trigger: m.trigger,
            channel_id: m.channel_id,
            channel_kind: kind,
            recipient,
            user_id: m.user_id,
            job_id: m.job_id,
            run_id: m.run_id,
            subject: m.rendered.parts.subject.clone(),
            text: m.rendered.parts.text.clone(),
            html: m.rendered.parts.html.clone(),
            error,
            started_at,
            duration_ms,
            provider_id,
            replica: self.replica.clone(),
        };
        let id = format!("{}.{}.{attempt}", m.id, status.as_str());
        let event = CloudEvent::new(self.bus.source.clone(), rec).with_id(id);
        if let Err(e) = self.bus.publish(&event).await {
            tracing::warn!(notification_id = %m.id, error = %e, "Cannot record a notification attempt.");
        }
    }
}
