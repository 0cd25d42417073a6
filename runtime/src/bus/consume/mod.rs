//! The one consumer runtime every durable consumer runs on.
//!
//! A consumer is a handler: it gets one decoded message ([`Handler`]) or a
//! batch of them ([`BatchHandler`]) and answers an [`Outcome`] for each —
//! [`Outcome::Ack`], [`Outcome::Retry`] or [`Outcome::DeadLetter`]. The
//! runtime owns the rest, the same way for every role:
//!
//! - finding the stream and durable consumer (waiting while provisioning is
//!   under way) and reopening after a disconnect;
//! - fetching only as much as the handlers can take, so no message waits in
//!   a client buffer while its acknowledgement timer runs;
//! - decoding: a message that does not decode is dead-lettered with the
//!   reason, one that decodes to "not mine" ([`Decode`] returns `None`) is
//!   acknowledged and skipped;
//! - bounded concurrency, and `AckProgress` heartbeats for long handlers so
//!   a long step is not redelivered while it runs;
//! - the retry limit: a message that still asks for a retry on its last
//!   allowed delivery (`max_deliver`) is dead-lettered with the last reason
//!   instead of being dropped by the server;
//! - metrics per durable (outcomes, pending, lag) and draining on shutdown:
//!   no new fetches, in-flight handlers finish, undelivered prefetches are
//!   handed back at once.

mod batch;
mod single;

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, AckKind};
pub use opsc_proto::envelope::Decode;
use opsc_proto::topology::ConsumerSpec;

use super::Bus;

pub use batch::run_batches;
pub use single::run;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: acknowledge it.
    Ack,
    /// Not now (a database or bus hiccup): deliver it again after `after`.
    Retry {
        /// Delay before the redelivery.
        after: Duration,
        /// Why, for the log and, on the last delivery, the dead letter.
        reason: String,
    },
    /// It can never be processed: store it on `<p>.dlq.<durable>` with the
    /// reason, then remove it from the queue.
    DeadLetter(String),
}

/// The delay before redelivery number `deliveries + 1`: 1 s, doubling to a
/// minute, so a consumer's deliveries outlast an outage of minutes (a
/// database failover) before the message is given up.
pub fn backoff(deliveries: u64) -> Duration {
    Duration::from_secs(1_u64 << deliveries.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

impl Outcome {
    /// A retry after `after`, for `reason`.
    pub fn retry(after: Duration, reason: impl Into<String>) -> Self {
        Self::Retry {
            after,
            reason: reason.into(),
        }
    }
}

/// One decoded message and what JetStream says about it.
#[derive(Debug)]
pub struct Delivery<M> {
    /// The decoded payload.
    pub message: M,
    /// The subject it was published on.
    pub subject: String,
    /// How many times it has been delivered, 1 on the first delivery.
    pub deliveries: u64,
    raw: jetstream::Message,
}

impl<M> Delivery<M> {
    /// Whether an earlier delivery was not acknowledged (its handler died,
    /// or asked for a retry).
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// Tells JetStream the handler is still working on it.
    pub async fn progress(&self) {
        let _ = self.raw.ack_with(AckKind::Progress).await;
    }
}

/// How a consumer acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// Fire-and-forget acknowledgements (the default: cheap, and a lost
    /// one only causes a redelivery the handler is idempotent against).
    Single,
    /// Acknowledgements the server confirms, for work whose repetition is
    /// expensive (a dispatch).
    Double,
}

/// What the runtime needs to know about a consumer.
#[derive(Debug, Clone)]
pub struct Options {
    /// The durable consumer, as declared in the topology.
    pub spec: ConsumerSpec,
    /// Handlers (or batches) running at once.
    pub concurrency: usize,
    /// Messages per batch ([`run_batches`]); per fetch at most ([`run`]).
    pub batch: usize,
    /// Send `AckProgress` this often while a handler runs.
    pub progress_every: Duration,
    /// How acknowledgements are sent.
    pub ack: AckMode,
    /// What a dead letter keeps of a message instead of its payload, when
    /// the payload may hold something that must not rest anywhere (a
    /// secret sent where it should not be); `None` keeps it as it came.
    pub redact: Option<Redact>,
}

/// What a dead letter keeps of a payload (see [`Options::redact`]).
pub type Redact = fn(&[u8]) -> Vec<u8>;

impl Options {
    /// Defaults for `spec`: 16 handlers, batches of 256, progress every 10 s.
    pub fn new(spec: ConsumerSpec) -> Self {
        Self {
            spec,
            concurrency: 16,
            batch: 256,
            progress_every: Duration::from_secs(10),
            ack: AckMode::Single,
            redact: None,
        }
    }

    /// Sets the concurrency.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the batch size.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Sets how dead letters keep payloads (see [`Options::redact`]).
    pub fn redact(mut self, f: Redact) -> Self {
        self.redact = Some(f);
        self
    }

    /// Sets the acknowledgement mode.
    pub fn ack(mut self, mode: AckMode) -> Self {
        self.ack = mode;
        self
    }

    fn labels(&self) -> Vec<(String, String)> {
        vec![("durable".to_owned(), self.spec.name.clone())]
    }
}

/// A consumer's per-message handler.
pub trait Handler<M>: Send + Sync + 'static {
    /// Processes one message.
    fn handle(&self, delivery: &Delivery<M>) -> impl Future<Output = Outcome> + Send;
}

/// A consumer's handler of batches.
pub trait BatchHandler<M>: Send + Sync + 'static {
    /// Processes a batch; one outcome per message, in order (a shorter
    /// answer retries the rest).
    fn handle(&self, batch: &[Delivery<M>]) -> impl Future<Output = Vec<Outcome>> + Send;
}

/// Finds the durable consumer, waiting while it is not provisioned yet.
/// `None` on shutdown.
async fn open(
    bus: &Bus,
    spec: &ConsumerSpec,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Option<PullConsumer> {
    // The consumer's dead-letter series exists from the start, at 0, so that
    // `increase()` over it sees the first dead letter.
    bus.metrics
        .dead_letters
        .get_or_create(&vec![("origin".to_owned(), spec.name.clone())])
        .inc_by(0);
    loop {
        let found = async {
            let stream = bus
                .js
                .get_stream_no_info(&spec.stream)
                .await
                .map_err(|e| e.to_string())?;
            stream
                .get_consumer::<jetstream::consumer::pull::Config>(&spec.name)
                .await
                .map_err(|e| e.to_string())
        };
        match found.await {
            Ok(c) => return Some(c),
            Err(e) => {
                tracing::debug!(durable = %spec.name, error = %e, "Consumer not available yet.");
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

/// Decodes a message: a delivery, or `None` when it was dealt with here
/// (skipped, or dead-lettered as malformed).
async fn decode<M: Decode>(
    bus: &Bus,
    opts: &Options,
    raw: jetstream::Message,
) -> Option<Delivery<M>> {
    let (deliveries, pending, lag) = match raw.info() {
        Ok(i) => (
            u64::try_from(i.delivered).unwrap_or(1),
            i.pending,
            (time::OffsetDateTime::now_utc() - i.published).as_seconds_f64(),
        ),
        Err(_) => (1, 0, 0.0),
    };
    let labels = opts.labels();
    bus.metrics
        .consumer_pending
        .get_or_create(&labels)
        .set(i64::try_from(pending).unwrap_or(i64::MAX));
    bus.metrics
        .consumer_lag
        .get_or_create(&labels)
        .observe(lag.max(0.0));
    match M::decode(&raw.payload) {
        Ok(Some(message)) => Some(Delivery {
            message,
            subject: raw.subject.to_string(),
            deliveries,
            raw,
        }),
        Ok(None) => {
            count(bus, opts, "skipped");
            let _ = raw.ack().await;
            None
        }
        Err(reason) => {
            count(bus, opts, "dead_letter");
            if let Err(e) = dead_letter(bus, opts, &raw, &format!("undecodable: {reason}")).await {
                tracing::error!(durable = %opts.spec.name, error = %e, "Dead letter not stored; the message will be redelivered.");
            }
            None
        }
    }
}

/// Stores `raw` as a dead letter of this consumer, redacted as it says.
async fn dead_letter(
    bus: &Bus,
    opts: &Options,
    raw: &jetstream::Message,
    reason: &str,
) -> Result<(), crate::bus::PublishError> {
    match opts.redact {
        Some(redact) => {
            bus.dead_letter_as(&opts.spec.name, raw, &redact(&raw.payload), reason)
                .await
        }
        None => bus.dead_letter(&opts.spec.name, raw, reason).await,
    }
}

fn count(bus: &Bus, opts: &Options, outcome: &str) {
    let mut labels = opts.labels();
    labels.push(("outcome".to_owned(), outcome.to_owned()));
    bus.metrics.consumer_messages.get_or_create(&labels).inc();
}

/// Carries out `outcome` for `delivery`.
async fn settle<M>(bus: &Bus, opts: &Options, delivery: &Delivery<M>, outcome: Outcome) {
    let durable = &opts.spec.name;
    let last = delivery.deliveries >= u64::try_from(opts.spec.max_deliver).unwrap_or(u64::MAX);
    let outcome = match outcome {
        Outcome::Retry { reason, .. } if last => Outcome::DeadLetter(format!(
            "still failing after {} deliveries: {reason}",
            delivery.deliveries
        )),
        other => other,
    };
    match outcome {
        Outcome::Ack => {
            count(bus, opts, "ack");
            let acked = match opts.ack {
                AckMode::Single => delivery.raw.ack().await,
                AckMode::Double => delivery.raw.double_ack().await,
            };
            if let Err(e) = acked {
                tracing::warn!(durable = %durable, error = %e, "Acknowledgement not sent; the message may be redelivered.");
            }
        }
        Outcome::Retry { after, reason } => {
            count(bus, opts, "retry");
            tracing::warn!(durable = %durable, subject = %delivery.subject, deliveries = delivery.deliveries, %reason, "Message will be retried.");
            let _ = delivery.raw.ack_with(AckKind::Nak(Some(after))).await;
        }
        Outcome::DeadLetter(reason) => {
            count(bus, opts, "dead_letter");
            if let Err(e) = dead_letter(bus, opts, &delivery.raw, &reason).await {
                tracing::error!(durable = %durable, error = %e, "Dead letter not stored; the message will be redelivered.");
            }
        }
    }
}

/// Runs `work`, sending `AckProgress` for `deliveries` while it takes long.
async fn with_progress<M, T>(
    every: Duration,
    deliveries: &[&Delivery<M>],
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                for d in deliveries {
                    d.progress().await;
                }
            }
        }
    }
}
