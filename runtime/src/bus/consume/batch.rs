//! Batch consumers: whatever has arrived, up to `batch` messages, goes to
//! the handler at once (a recorder writes it in one transaction). When
//! messages trickle in, a batch is a single message: batching never waits.
//!
//! With lanes ([`Options::lane_key`]) a fetched batch is split by key and
//! each lane handles its part in order, one batch at a time, while the other
//! lanes work: batches side by side never touch the same keys.

use std::sync::Arc;

use futures::{FutureExt as _, StreamExt as _};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{
    BatchHandler, Decode, Delivery, Options, Outcome, decode, open, settle, with_progress,
};
use crate::bus::Bus;

/// Consumes `opts.spec` in batches with `handler` until `shutdown`, then drains.
pub async fn run_batches<M: Decode, H: BatchHandler<M>>(
    bus: Bus,
    opts: Options,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    let opts = Arc::new(opts);
    let lanes: Vec<Arc<Semaphore>> = match opts.lane_key {
        Some(_) => (0..opts.concurrency).map(|_| Arc::new(Semaphore::new(1))).collect(),
        None => vec![Arc::new(Semaphore::new(opts.concurrency))],
    };
    let mut tasks = tokio::task::JoinSet::new();
    'reopen: while !shutdown.is_cancelled() {
        let Some(consumer) = open(&bus, &opts.spec, &shutdown).await else {
            break;
        };
        let stream = consumer
            .stream()
            .max_messages_per_batch(opts.batch)
            .heartbeat(std::time::Duration::from_secs(5))
            .expires(std::time::Duration::from_secs(10))
            .messages()
            .await;
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(durable = %opts.spec.name, error = %e, "Consumer stream failed; reopening.");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            let first = tokio::select! {
                () = shutdown.cancelled() => break 'reopen,
                m = stream.next() => m,
            };
            let mut raws = match first {
                Some(Ok(m)) => vec![m],
                Some(Err(e)) => {
                    tracing::debug!(durable = %opts.spec.name, error = %e, "Consumer stream error; reopening.");
                    continue 'reopen;
                }
                None => continue 'reopen,
            };
            while raws.len() < opts.batch {
                match stream.next().now_or_never() {
                    Some(Some(Ok(m))) => raws.push(m),
                    _ => break,
                }
            }
            for (lane, raws) in split(&opts, lanes.len(), raws) {
                let permit = tokio::select! {
                    () = shutdown.cancelled() => break 'reopen,
                    p = lanes[lane].clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'reopen },
                };
                let (bus, opts, handler) = (bus.clone(), opts.clone(), handler.clone());
                tasks.spawn(async move {
                    handle(&bus, &opts, handler.as_ref(), raws).await;
                    drop(permit);
                });
            }
            while tasks.try_join_next().is_some() {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// The fetched messages by lane, each lane's in arrival order.
fn split(
    opts: &Options,
    lanes: usize,
    raws: Vec<async_nats::jetstream::Message>,
) -> Vec<(usize, Vec<async_nats::jetstream::Message>)> {
    let Some(key) = opts.lane_key.filter(|_| lanes > 1) else {
        return vec![(0, raws)];
    };
    let mut by_lane: Vec<Vec<async_nats::jetstream::Message>> = (0..lanes).map(|_| Vec::new()).collect();
    for raw in raws {
        let lane = lane_of(key(&raw.subject), lanes);
        by_lane[lane].push(raw);
    }
    by_lane
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
        .collect()
}

/// A stable lane for `key` (FNV-1a).
fn lane_of(key: &str, lanes: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    usize::try_from(h % u64::try_from(lanes.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// Decodes one lane's batch, hands it to the handler, settles each message.
async fn handle<M: Decode, H: BatchHandler<M>>(
    bus: &Bus,
    opts: &Options,
    handler: &H,
    raws: Vec<async_nats::jetstream::Message>,
) {
    let mut batch: Vec<Delivery<M>> = Vec::with_capacity(raws.len());
    for raw in raws {
        if let Some(d) = decode::<M>(bus, opts, raw).await {
            batch.push(d);
        }
    }
    if batch.is_empty() {
        return;
    }
    let refs: Vec<&Delivery<M>> = batch.iter().collect();
    let outcomes = with_progress(opts.progress_every, &refs, handler.handle(&batch)).await;
    let mut outcomes = outcomes.into_iter();
    for delivery in &batch {
        let outcome = outcomes.next().unwrap_or_else(|| {
            Outcome::retry(
                std::time::Duration::from_secs(1),
                "the handler gave no outcome for it",
            )
        });
        settle(bus, opts, delivery, outcome).await;
    }
}

#[cfg(test)]
mod tests {
    use super::lane_of;

    #[test]
    fn a_key_always_has_the_same_lane_and_keys_spread() {
        assert_eq!(lane_of("run-a", 2), lane_of("run-a", 2));
        let lanes: std::collections::BTreeSet<usize> =
            (0..64).map(|i| lane_of(&format!("run-{i}"), 4)).collect();
        assert_eq!(lanes.len(), 4);
        assert_eq!(lane_of("anything", 1), 0);
    }
}
