//! Connection tests: answers `<p>.ctl.target.test.<pool>` requests.
//!
//! The workers of a pool share one queue group, so one of them answers each
//! request. A request that cannot be decoded goes to the dead-letter stream
//! with the reason and is answered with a `worker` failure; the worker goes on.

mod ssh_facts;
pub mod winrm;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::Message;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::material::CredentialMaterial;
use opsc_proto::probe::{FailureStage, ProbeProtocol, ProbeReply, ProbeRequest};
use opsc_runtime::bus::Bus;
use opsc_runtime::keys::SealKey;
use tokio_util::sync::CancellationToken;

use crate::egress::Egress;

/// Queue group of the workers of one pool.
const QUEUE: &str = "workers";

/// What the responder needs.
#[derive(Debug)]
pub struct Prober<'a> {
    /// The bus.
    pub bus: &'a Bus,
    /// This worker's pool.
    pub pool: &'a str,
    /// Opens credentials sealed for the pool.
    pub seal: &'a SealKey,
    /// Reported in replies.
    pub worker_id: &'a str,
    /// Where connection tests may connect.
    pub egress: &'a Arc<Egress>,
    /// Stops taking requests.
    pub shutdown: &'a CancellationToken,
}

/// Answers connection tests until shutdown.
pub async fn serve(p: Prober<'_>) -> anyhow::Result<()> {
    let subject = p.bus.subjects.target_probe(p.pool);
    let mut requests = p
        .bus
        .client
        .queue_subscribe(subject.clone(), QUEUE.to_owned())
        .await?;
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = p.shutdown.cancelled() => break,
            Some(_) = running.join_next(), if !running.is_empty() => {}
            msg = requests.next() => {
                let Some(msg) = msg else { break };
                let Some(reply_to) = msg.reply.clone() else {
                    tracing::warn!(%subject, "Connection test without a reply subject ignored.");
                    continue;
                };
                let bus = p.bus.clone();
                let seal = p.seal.clone();
                let worker_id = p.worker_id.to_owned();
                let egress = p.egress.clone();
                running.spawn(async move {
                    let reply = answer(&bus, &seal, &egress, &msg).await;
                    let reply = ProbeReply { worker_id, ..reply };
                    let event = CloudEvent::new(bus.source.clone(), reply);
                    if let Err(e) = bus.publish_core(reply_to.to_string(), &event).await {
                        tracing::warn!(error = %e, "Connection test reply not sent.");
                    }
                });
            }
        }
    }
    let _ = requests.unsubscribe().await;
    // Tests in flight finish (they are bounded by their connect timeouts).
    while running.join_next().await.is_some() {}
    Ok(())
}

async fn answer(bus: &Bus, seal: &SealKey, egress: &Egress, msg: &Message) -> ProbeReply {
    let (subject, payload) = (msg.subject.as_str(), &msg.payload[..]);
    let started = Instant::now();
    let request = match CloudEvent::<ProbeRequest>::decode(payload) {
        Ok(event) => event.data,
        Err(e) => {
            let reason = format!("undecodable connection test: {e}");
            if let Err(e) = bus
                .dead_letter_core("target-test", subject, payload, &reason)
                .await
            {
                tracing::warn!(error = %e, "Dead letter not stored.");
            }
            return ProbeReply::failed(uuid::Uuid::nil(), FailureStage::Worker, reason);
        }
    };
    let id = request.probe_id;
    let material = seal
        .open(&request.sealed_credential, &id.to_string())
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            serde_json::from_slice::<CredentialMaterial>(&bytes)
                .map_err(|_| "the sealed credential is not a credential document".to_owned())
        });
    let mut reply = match material {
        Err(e) => ProbeReply::failed(id, FailureStage::Worker, e),
        Ok(material) => {
            let timeout = Duration::from_secs(u64::from(request.connect_timeout_secs.max(1)));
            match request.protocol {
                ProbeProtocol::Ssh => ssh_facts::probe(&request, material, timeout, egress).await,
                ProbeProtocol::Winrm => winrm_probe(&request, material, timeout, egress).await,
            }
        }
    };
    reply.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(probe_id = %id, target_id = %request.target_id, ok = reply.ok,
        stage = reply.stage.map(FailureStage::as_str), "Connection test answered.");
    reply
}

async fn winrm_probe(
    request: &ProbeRequest,
    material: CredentialMaterial,
    timeout: Duration,
    egress: &Egress,
) -> ProbeReply {
    let id = request.probe_id;
    let Some(settings) = &request.winrm else {
        return ProbeReply::failed(
            id,
            FailureStage::Worker,
            "the request has no WinRM settings",
        );
    };
    let login = match crate::winrm::WinrmLogin::from_material(material) {
        Ok(login) => login,
        Err(e) => return ProbeReply::failed(id, FailureStage::Auth, e),
    };
    match winrm::probe(&request.hostname, settings, &login, timeout, egress).await {
        Ok(facts) => ProbeReply::succeeded(id, facts, None),
        Err((stage, error)) => ProbeReply::failed(id, stage, error),
    }
}
