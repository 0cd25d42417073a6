//! The NATS connection, idempotent topology provisioning, and publishing helpers.
//!
//! Every role connects through [`start`]: it connects (retrying in the
//! background while NATS is down), provisions the declared topology, and
//! provisions it again after every reconnect, so a NATS that lost its state
//! is set up again without restarting any role. A NATS without JetStream is
//! refused with a clear message.

pub mod consume;
mod kv;
mod provision;
mod publish;

use std::time::Duration;

use async_nats::jetstream;
use opsc_proto::topology::{ConsumerSpec, StreamNames, Topology};
use opsc_proto::{Prefix, Subjects};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::config::NatsConfig;
use crate::{Check, Metrics};

pub use kv::BucketError;
pub use provision::{ProvisionError, provision};
pub use publish::{Encoded, Pending, PublishError};

/// A connected installation bus: client, JetStream context and names.
#[derive(Clone, Debug)]
pub struct Bus {
    /// Core NATS client.
    pub client: async_nats::Client,
    /// JetStream context.
    pub js: jetstream::Context,
    /// Subjects of this installation.
    pub subjects: Subjects,
    /// Stream names of this installation.
    pub streams: StreamNames,
    /// CloudEvents `source` of this process: `/opsconductor/<prefix>/<roles>`.
    pub source: String,
    /// Consumer and dead-letter metrics of this process.
    pub metrics: crate::metrics::BusMetrics,
    replicas: usize,
}

impl Bus {
    /// Whether the client is connected to NATS now. A publish while it is
    /// not would wait for the reconnect (or its timeout) before failing.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The installation prefix.
    pub fn prefix(&self) -> &Prefix {
        self.subjects.prefix()
    }
}

/// A bus kept provisioned, with its readiness checks.
#[derive(Debug)]
pub struct BusRuntime {
    /// The bus.
    pub bus: Bus,
    /// True once the topology is provisioned on the current connection.
    pub provisioned: watch::Receiver<bool>,
}

impl BusRuntime {
    /// `nats` (connection up) and `topology` (streams, consumers, buckets in place).
    pub fn checks(&self) -> Vec<Check> {
        let client = self.bus.client.clone();
        let provisioned = self.provisioned.clone();
        vec![
            Check::new("nats", move || {
                let state = client.connection_state();
                async move {
                    match state {
                        async_nats::connection::State::Connected => Ok(()),
                        other => Err(format!("NATS connection is {other}")),
                    }
                }
            }),
            Check::new("topology", move || {
                let ok = *provisioned.borrow();
                async move {
                    if ok {
                        Ok(())
                    } else {
                        Err("bus topology not provisioned yet".to_owned())
                    }
                }
            }),
        ]
    }

    /// Waits until the topology is provisioned, or `shutdown`.
    pub async fn wait_provisioned(&mut self, shutdown: &CancellationToken) -> bool {
        tokio::select! {
            r = self.provisioned.wait_for(|p| *p) => r.is_ok(),
            () = shutdown.cancelled() => false,
        }
    }
}

/// What [`start`] needs.
#[derive(Debug)]
pub struct StartOptions<'a> {
    /// Connection settings.
    pub nats: &'a NatsConfig,
    /// Roles in this process, for the client name and `source`.
    pub roles: &'a str,
    /// Consumers beyond the shared topology (a worker's pool consumer).
    pub extra_consumers: Vec<ConsumerSpec>,
    /// Process metrics (connection gauge).
    pub metrics: &'a Metrics,
    /// Stops the background provisioner.
    pub shutdown: CancellationToken,
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The connect options were refused (bad URL, unreadable credentials).
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect {
        /// The configured URL.
        url: String,
        /// The client's reason.
        reason: String,
    },
    /// The server answered but has no JetStream.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
}

/// Connects, provisions, and keeps the topology provisioned across reconnects.
///
/// Returns while NATS is still unreachable (readiness says so); returns an
/// error when the server is reachable but has no JetStream.
pub async fn start(opts: StartOptions<'_>) -> Result<BusRuntime, StartError> {
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let gauge = opts.metrics.nats_connected.clone();
    let mut connect = async_nats::ConnectOptions::new()
        .name(format!("opsconductor-{}", opts.roles))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(opts.nats.request_timeout_secs)))
        .event_callback(move |event| {
            let tx = events_tx.clone();
            let gauge = gauge.clone();
            async move {
                match &event {
                    async_nats::Event::Connected => {
                        gauge.set(1);
                        tracing::info!("Connected to NATS.");
                    }
                    async_nats::Event::Disconnected => {
                        gauge.set(0);
                        tracing::warn!("Disconnected from NATS; reconnecting.");
                    }
                    other => tracing::warn!(event = %other, "NATS connection event."),
                }
                let _ = tx.send(event);
            }
        });
    if let Some(creds) = &opts.nats.credentials_file {
        connect = connect
            .credentials_file(creds)
            .await
            .map_err(|e| StartError::Connect {
                url: opts.nats.url.clone(),
                reason: e.to_string(),
            })?;
    }
    let client =
        connect
            .connect(opts.nats.url.as_str())
            .await
            .map_err(|e| StartError::Connect {
                url: opts.nats.url.clone(),
                reason: e.to_string(),
            })?;
    let prefix = opts.nats.prefix.clone();
    let js = jetstream::new(client.clone());
    let bus = Bus {
        client,
        js,
        subjects: Subjects::new(prefix.clone()),
        streams: StreamNames::new(&prefix),
        source: format!("/opsconductor/{prefix}/{}", opts.roles),
        metrics: opts.metrics.bus.clone(),
        replicas: 1,
    };
    let mut topology = Topology::for_prefix(&prefix, opts.nats.stream_max_bytes);
    topology.consumers.extend(opts.extra_consumers);

    let (ready_tx, ready_rx) = watch::channel(false);
    // Give a reachable server a moment, so a missing JetStream fails the start.
    let connected = wait_connected(&bus.client, Duration::from_secs(3)).await;
    if connected {
        match provision(&bus, &topology).await {
            Ok(()) => {
                let _ = ready_tx.send(true);
            }
            Err(e @ ProvisionError::NoJetStream) => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "Provisioning failed; retrying."),
        }
    } else {
        tracing::warn!(url = %opts.nats.url, "NATS is not reachable yet; retrying in the background.");
    }

    let keeper = bus.clone();
    let shutdown = opts.shutdown;
    tokio::spawn(async move {
        loop {
            let retry = tokio::time::sleep(Duration::from_secs(2));
            tokio::select! {
                () = shutdown.cancelled() => return,
                event = events_rx.recv() => match event {
                    None => return,
                    Some(async_nats::Event::Connected) => { let _ = ready_tx.send(false); }
                    Some(_) => continue,
                },
                () = retry, if !*ready_tx.borrow() => {}
            }
            if keeper.client.connection_state() != async_nats::connection::State::Connected {
                continue;
            }
            match provision(&keeper, &topology).await {
                Ok(()) => {
                    tracing::info!("Bus topology provisioned.");
                    let _ = ready_tx.send(true);
                }
                Err(e) => tracing::error!(error = %e, "Provisioning the bus failed; retrying."),
            }
        }
    });
    Ok(BusRuntime {
        bus,
        provisioned: ready_rx,
    })
}

async fn wait_connected(client: &async_nats::Client, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if client.connection_state() == async_nats::connection::State::Connected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
