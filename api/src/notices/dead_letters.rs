//! Dead letters → `dead_letter` notices (durable `notices-dead-letters`),
//! except the dead letters of this very consumer, which would loop.

use std::sync::Arc;

use opsc_proto::CloudEvent;
use opsc_proto::events::DeadLetter;
use opsc_proto::notify::{DeadLetterNotice, Notice, NoticeKind};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// Turns dead letters into notices until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::NOTICES_DEAD_LETTERS)
    else {
        tracing::error!("The topology declares no notices-dead-letters consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec).concurrency(4).batch(64),
        Arc::new(Letters { core }),
        shutdown,
    )
    .await;
}

/// The handler of dead letters.
#[derive(Debug)]
struct Letters {
    core: Core,
}

impl Handler<CloudEvent<DeadLetter>> for Letters {
    async fn handle(&self, d: &Delivery<CloudEvent<DeadLetter>>) -> Outcome {
        let l = &d.message.data;
        if l.origin == consumer::NOTICES_DEAD_LETTERS {
            return Outcome::Ack;
        }
        let notice = Notice {
            notice_id: format!("dlq:{}", d.message.id),
            kind: NoticeKind::DeadLetter,
            at: d.message.time,
            console_url: super::console_url(&self.core),
            run: None,
            schedule: None,
            target: None,
            dead_letter: Some(DeadLetterNotice {
                origin: l.origin.clone(),
                subject: l.subject.clone(),
                reason: l.reason.clone(),
                deliveries: l.deliveries,
            }),
        };
        match super::send(&self.core, notice).await {
            Ok(()) => Outcome::Ack,
            Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        }
    }
}
