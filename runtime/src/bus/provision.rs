//! Turns the declared [`Topology`] into JetStream streams, consumers and KV buckets.
//!
//! Idempotent and safe to run concurrently: creating what exists with the
//! same settings is a no-op on the server; when settings changed, the stream
//! is updated in place. KV buckets are created as their backing streams
//! directly, because `create_key_value` fails against nats-server 2.9
//! (DESIGN.md, "NATS versions").

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use opsc_proto::topology::{BucketSpec, ConsumerSpec, Retention, StreamSpec, Topology};

use super::Bus;

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The server runs without JetStream.
    #[error(
        "the NATS server has no JetStream enabled: start nats-server with -js (JetStream) and a store directory"
    )]
    NoJetStream,
    /// A stream could not be created or updated.
    #[error("stream {name}: {reason}")]
    Stream {
        /// Stream name.
        name: String,
        /// Server or client reason.
        reason: String,
    },
    /// A consumer could not be created.
    #[error("consumer {stream}/{name}: {reason}")]
    Consumer {
        /// Its stream.
        stream: String,
        /// Durable name.
        name: String,
        /// Server or client reason.
        reason: String,
    },
}

/// Provisions every stream, consumer and bucket of `topology`.
pub async fn provision(bus: &Bus, topology: &Topology) -> Result<(), ProvisionError> {
    for spec in &topology.streams {
        ensure_stream(&bus.js, stream_config(spec, bus.replicas)).await?;
    }
    for spec in &topology.buckets {
        ensure_stream(&bus.js, bucket_config(spec, bus.replicas)).await?;
    }
    for spec in &topology.consumers {
        ensure_consumer(&bus.js, spec).await?;
    }
    Ok(())
}

fn stream_config(spec: &StreamSpec, replicas: usize) -> stream::Config {
    stream::Config {
        name: spec.name.clone(),
        description: Some(spec.description.to_owned()),
        subjects: spec.subjects.clone(),
        retention: match spec.retention {
            Retention::WorkQueue => stream::RetentionPolicy::WorkQueue,
            Retention::Limits => stream::RetentionPolicy::Limits,
        },
        max_age: spec.max_age,
        max_bytes: spec.max_bytes,
        duplicate_window: spec.duplicate_window,
        storage: stream::StorageType::File,
        discard: stream::DiscardPolicy::Old,
        num_replicas: replicas,
        ..Default::default()
    }
}

fn bucket_config(spec: &BucketSpec, replicas: usize) -> stream::Config {
    stream::Config {
        name: spec.stream_name(),
        description: Some(spec.description.to_owned()),
        subjects: vec![spec.stream_subject()],
        max_messages_per_subject: spec.history,
        max_age: spec.max_age,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        storage: stream::StorageType::File,
        duplicate_window: if spec.max_age.is_zero() || spec.max_age > Duration::from_secs(120) {
            Duration::from_secs(120)
        } else {
            spec.max_age
        },
        num_replicas: replicas,
        ..Default::default()
    }
}

async fn ensure_stream(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<(), ProvisionError> {
    let name = config.name.clone();
    let err = |reason: String| ProvisionError::Stream {
        name: name.clone(),
        reason,
    };
    match js.create_stream(config.clone()).await {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            jetstream::context::CreateStreamErrorKind::JetStreamUnavailable => {
                Err(ProvisionError::NoJetStream)
            }
            jetstream::context::CreateStreamErrorKind::JetStream(inner)
                if inner.error_code() == jetstream::ErrorCode::JETSTREAM_NOT_ENABLED
                    || inner.error_code()
                        == jetstream::ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT =>
            {
                Err(ProvisionError::NoJetStream)
            }
            jetstream::context::CreateStreamErrorKind::JetStream(inner)
                if inner.error_code() == jetstream::ErrorCode::STREAM_NAME_EXIST =>
            {
                // Exists with other settings (an upgrade changed a limit): update in place.
                js.update_stream(config)
                    .await
                    .map(|_| ())
                    .map_err(|e| err(e.to_string()))
            }
            _ => Err(err(e.to_string())),
        },
    }
}

async fn ensure_consumer(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<(), ProvisionError> {
    let err = |reason: String| ProvisionError::Consumer {
        stream: spec.stream.clone(),
        name: spec.name.clone(),
        reason,
    };
    let config = consumer_config(spec, consumer::DeliverPolicy::All);
    let stream = js
        .get_stream_no_info(&spec.stream)
        .await
        .map_err(|e| err(e.to_string()))?;
    let existing = match stream.consumer_info(&spec.name).await {
        Ok(info) => Some(info),
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::ConsumerInfoErrorKind::NotFound
            ) || matches!(e.kind(), jetstream::context::ConsumerInfoErrorKind::JetStream(inner)
                    if inner.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND) =>
        {
            None
        }
        Err(e) => return Err(err(e.to_string())),
    };
    let Some(info) = existing else {
        return create_or_accept(&stream, config, spec).await;
    };
    let current = &info.config;
    let same_shape =
        current.filter_subject == spec.filter_subject && current.ack_policy == ACK_POLICY;
    if !same_shape {
        // Filter and acknowledgement policy cannot change in place (NATS
        // 2.9): make the consumer anew, starting after what the old one
        // acknowledged, so nothing is skipped and little is repeated (its
        // handlers are idempotent).
        let start = info.ack_floor.stream_sequence + 1;
        tracing::info!(consumer = %spec.name, start, "Consumer settings changed; recreating it from where it stood.");
        let _ = stream.delete_consumer(&spec.name).await;
        let from = consumer_config(
            spec,
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
        );
        return create_or_accept(&stream, from, spec).await;
    }
    let tuned = current.ack_wait == spec.ack_wait
        && current.max_deliver == spec.max_deliver
        && current.max_ack_pending == spec.max_ack_pending;
    if !tuned {
        let mut update = config;
        update.deliver_policy = current.deliver_policy;
        if let Err(e) = stream.update_consumer(update).await {
            tracing::warn!(consumer = %spec.name, error = %e, "Consumer limits not updated; the old ones stay.");
        }
    }
    Ok(())
}

/// Creates the consumer; a concurrent creation of the same shape is fine.
async fn create_or_accept(
    stream: &jetstream::stream::Stream<()>,
    config: consumer::pull::Config,
    spec: &ConsumerSpec,
) -> Result<(), ProvisionError> {
    match stream.create_consumer(config).await {
        Ok(_) => Ok(()),
        Err(e) => match stream.consumer_info(&spec.name).await {
            Ok(info)
                if info.config.filter_subject == spec.filter_subject
                    && info.config.ack_policy == ACK_POLICY =>
            {
                Ok(())
            }
            _ => Err(ProvisionError::Consumer {
                stream: spec.stream.clone(),
                name: spec.name.clone(),
                reason: e.to_string(),
            }),
        },
    }
}

/// Every consumer acknowledges each message on its own.
const ACK_POLICY: consumer::AckPolicy = consumer::AckPolicy::Explicit;

fn consumer_config(
    spec: &ConsumerSpec,
    deliver: consumer::DeliverPolicy,
) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(spec.name.clone()),
        description: Some(spec.description.to_owned()),
        filter_subject: spec.filter_subject.clone(),
        ack_policy: ACK_POLICY,
        ack_wait: spec.ack_wait,
        max_deliver: spec.max_deliver,
        max_ack_pending: spec.max_ack_pending,
        deliver_policy: deliver,
        ..Default::default()
    }
}
