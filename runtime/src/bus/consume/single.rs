//! Per-message consumers: each message gets its own handler task, at most
//! `concurrency` at once, and only as many messages are pulled as there are
//! free handlers.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{Decode, Handler, Options, decode, open, settle, with_progress};
use crate::bus::Bus;

/// How long one pull request waits for messages on the server.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

/// Consumes `opts.spec` with `handler` until `shutdown`, then drains.
pub async fn run<M: Decode, H: Handler<M>>(
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
        loop {
            let first = tokio::select! {
                () = shutdown.cancelled() => break 'reopen,
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'reopen },
            };
            let mut held = vec![first];
            while held.len() < opts.batch {
                match permits.clone().try_acquire_owned() {
                    Ok(p) => held.push(p),
                    Err(_) => break,
                }
            }
            let pull = consumer
                .batch()
                .max_messages(held.len())
                .expires(PULL_EXPIRES)
                .messages()
                .await;
            let mut pulled = match pull {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(durable = %opts.spec.name, error = %e, "Pull failed; reopening the consumer.");
                    continue 'reopen;
                }
            };
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => None,
                    m = pulled.next() => m,
                };
                let raw = match next {
                    None => break,
                    Some(Ok(raw)) => raw,
                    Some(Err(e)) => {
                        // 409s (the consumer's limits) and the like: pause, ask again.
                        tracing::debug!(durable = %opts.spec.name, error = %e, "Pull ended early.");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        break;
                    }
                };
                let Some(permit) = held.pop() else {
                    let _ = raw
                        .ack_with(async_nats::jetstream::AckKind::Nak(None))
                        .await;
                    continue;
                };
                let (bus, opts, handler) = (bus.clone(), opts.clone(), handler.clone());
                tasks.spawn(async move {
                    if let Some(delivery) = decode::<M>(&bus, &opts, raw).await {
                        let outcome = with_progress(
                            opts.progress_every,
                            &[&delivery],
                            handler.handle(&delivery),
                        )
                        .await;
                        settle(&bus, &opts, &delivery, outcome).await;
                    }
                    drop(permit);
                });
            }
            while tasks.try_join_next().is_some() {}
            if shutdown.is_cancelled() {
                // What this pull still brings goes back at once, not after ack_wait.
                while let Some(Some(Ok(raw))) = pulled.next().now_or_never() {
                    let _ = raw
                        .ack_with(async_nats::jetstream::AckKind::Nak(None))
                        .await;
                }
                break 'reopen;
            }
        }
    }
    if !tasks.is_empty() {
        tracing::info!(durable = %opts.spec.name, in_flight = tasks.len(), "Consumer draining.");
    }
    while tasks.join_next().await.is_some() {}
}
