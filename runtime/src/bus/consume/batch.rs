//! Batch consumers: whatever has arrived, up to `batch` messages, goes to
//! the handler at once (a recorder writes it in one transaction). When
//! messages trickle in, a batch is a single message: batching never waits.

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
    let permits = Arc::new(Semaphore::new(opts.concurrency));
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
            let permit = tokio::select! {
                () = shutdown.cancelled() => break 'reopen,
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'reopen },
            };
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
            let (bus, opts, handler) = (bus.clone(), opts.clone(), handler.clone());
            tasks.spawn(async move {
                let mut batch: Vec<Delivery<M>> = Vec::with_capacity(raws.len());
                for raw in raws {
                    if let Some(d) = decode::<M>(&bus, &opts, raw).await {
                        batch.push(d);
                    }
                }
                if !batch.is_empty() {
                    let refs: Vec<&Delivery<M>> = batch.iter().collect();
                    let outcomes =
                        with_progress(opts.progress_every, &refs, handler.handle(&batch)).await;
                    let mut outcomes = outcomes.into_iter();
                    for delivery in &batch {
                        let outcome = outcomes.next().unwrap_or_else(|| {
                            Outcome::retry(
                                std::time::Duration::from_secs(1),
                                "the handler gave no outcome for it",
                            )
                        });
                        settle(&bus, &opts, delivery, outcome).await;
                    }
                }
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
    }
    while tasks.join_next().await.is_some() {}
}
