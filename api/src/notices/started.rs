//! The first `run.started` of a run (shard 0) → a `run_started` notice
//! (durable `notices-started`), but only while an enabled rule listens for
//! `run_started`: [`Listening`] reads `notification_rules` every few
//! seconds, so runs cost one atomic load otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::events::RunStarted;
use opsc_proto::notify::{Notice, NoticeKind};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// How often the rules are read again.
const REFRESH: Duration = Duration::from_secs(3);

const LISTENING_SQL: &str = r"
SELECT EXISTS (
  SELECT 1 FROM notification_rules
  WHERE COALESCE((document ->> 'enabled')::boolean, false)
    AND document -> 'triggers' ? 'run_started') AS listening
";

/// Whether some enabled rule listens for `run_started`, refreshed every
/// few seconds.
#[derive(Debug, Clone, Default)]
pub struct Listening(Arc<AtomicBool>);

impl Listening {
    /// Starts the refresh loop and answers its flag.
    pub fn start(core: Core, shutdown: CancellationToken) -> Self {
        let me = Self::default();
        let flag = me.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                flag.0.store(read(&core).await, Ordering::Relaxed);
            }
        });
        me
    }

    /// Whether a started run is worth a notice now.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Reads the rules; false when they cannot be read (no rules table yet).
async fn read(core: &Core) -> bool {
    let row = core
        .db()
        .query_one(Statement::from_string(DbBackend::Postgres, LISTENING_SQL))
        .await;
    match row {
        Ok(Some(r)) => r.try_get::<bool>("", "listening").unwrap_or(false),
        Ok(None) => false,
        Err(e) => {
            tracing::debug!(error = %e, "Notification rules not readable; no run_started notices.");
            false
        }
    }
}

/// Turns started runs into notices until shutdown.
pub async fn run(core: Core, listening: Listening, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::NOTICES_STARTED) else {
        tracing::error!("The topology declares no notices-started consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec).concurrency(16).batch(256),
        Arc::new(Started { core, listening }),
        shutdown,
    )
    .await;
}

/// The handler of started runs.
#[derive(Debug)]
struct Started {
    core: Core,
    listening: Listening,
}

impl Handler<CloudEvent<RunStarted>> for Started {
    async fn handle(&self, d: &Delivery<CloudEvent<RunStarted>>) -> Outcome {
        let s = &d.message.data;
        if s.shard.index != 0 || !self.listening.get() {
            return Outcome::Ack;
        }
        let run = match super::digest::digest(self.core.db(), s.run_id, None).await {
            Ok(Some(run)) => run,
            Ok(None) => return Outcome::Ack,
            Err(e) => return Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        };
        let notice = Notice {
            notice_id: format!("run:{}:started", s.run_id),
            kind: NoticeKind::RunStarted,
            at: d.message.time,
            console_url: super::console_url(&self.core),
            run: Some(opsc_proto::notify::RunDigest {
                status: opsc_proto::events::RunStatus::Running,
                ..run
            }),
            schedule: None,
            target: None,
            dead_letter: None,
        };
        match super::send(&self.core, notice).await {
            Ok(()) => Outcome::Ack,
            Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        }
    }
}
