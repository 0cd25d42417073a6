//! `bench scheduler`: one scheduler replica with many schedules, on its own
//! prefix of the local NATS, measured from outside.
//!
//! It starts `opsconductor server scheduler` on a fresh `bench…` prefix,
//! writes the schedules into `<p>_schedules` as the api mirrors them (each
//! fires once a minute, at second `i % 60`, so the fires spread evenly over
//! the minute), waits until the replica leads, then for `--seconds` reads
//! every `fired` event: the scheduler's own lag (fire instant to the run
//! intent's acknowledgement by JetStream) and the lag seen here (to the
//! event's arrival). CPU and resident memory are the replica's, from
//! `/proc`. No api runs: the intents stay in the prefix's command stream,
//! which is deleted with everything else of the prefix at the end.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use clap::Args;
use futures::StreamExt as _;
use opsc_proto::events::ScheduleFired;
use opsc_proto::schedule::{ScheduleDoc, keys};
use opsc_proto::topology::{StreamNames, Topology, bucket};
use opsc_proto::{CloudEvent, Prefix, Subjects};
use serde_json::{Value, json};

use super::stats::summary;

/// `bench scheduler` arguments.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Schedules to load.
    #[arg(long, default_value_t = 10_000)]
    pub schedules: u32,
    /// Seconds to measure, after the replica leads.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// The NATS server (JetStream).
    #[arg(long, env = "OPSC_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
}

/// Runs the benchmark; its report.
pub async fn run(args: &SchedulerArgs) -> anyhow::Result<Value> {
    let prefix = Prefix::parse(&format!(
        "bench{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
    .context("a bench prefix")?;
    let client = async_nats::connect(&args.nats_url)
        .await
        .with_context(|| format!("connecting to {}", args.nats_url))?;
    let js = async_nats::jetstream::new(client.clone());
    let health = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("a free port")?;
    let mut replica = tokio::process::Command::new(std::env::current_exe().context("this binary")?)
        .args(["server", "scheduler"])
        .env("OPSC_NATS_URL", &args.nats_url)
        .env("OPSC_NATS_PREFIX", prefix.to_string())
        .env(
            "OPSC_NATS_STREAM_MAX_BYTES",
            (256 * 1024 * 1024).to_string(),
        )
        .env("OPSC_SCHEDULER_HEALTH_ADDR", health.to_string())
        .env("OPSC_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the scheduler")?;
    let measured = measure(&js, &client, &prefix, args, replica.id()).await;
    if let Some(pid) = replica.id() {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(i32::try_from(pid).unwrap_or(0)).context("a pid")?,
            rustix::process::Signal::TERM,
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), replica.wait()).await;
    remove_prefix(&js, &prefix).await;
    measured
}

async fn measure(
    js: &async_nats::jetstream::Context,
    client: &async_nats::Client,
    prefix: &Prefix,
    args: &SchedulerArgs,
    pid: Option<u32>,
) -> anyhow::Result<Value> {
    let pid = pid.context("the scheduler's pid")?;
    let name = |suffix: &str| format!("{prefix}_{suffix}");
    // The replica provisions the topology; wait for the buckets.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (schedules, leases) = loop {
        if let (Ok(s), Ok(l)) = (
            js.get_key_value(name(bucket::SCHEDULES)).await,
            js.get_key_value(name(bucket::LEASES)).await,
        ) {
            break (s, l);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the scheduler did not provision its buckets"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let now = Utc::now();
    let loading = Instant::now();
    futures::stream::iter(0..args.schedules)
        .map(|i| {
            let schedules = schedules.clone();
            async move {
                let doc = ScheduleDoc {
                    id: uuid::Uuid::now_v7(),
                    revision: 1,
                    job_id: uuid::Uuid::nil(),
                    cron: format!("{} * * * * *", i % 60),
                    time_zone: "UTC".to_owned(),
                    start_at: None,
                    end_at: None,
                    enabled: true,
                    paused: false,
                    dst: Default::default(),
                    misfire: Default::default(),
                    parameters: Default::default(),
                    sealed_parameters: None,
                    targets: None,
                    addresses: Default::default(),
                    created_at: now,
                    timing_changed_at: None,
                    updated_at: now,
                };
                let body = serde_json::to_vec(&doc).unwrap_or_default();
                schedules
                    .put(keys::schedule(doc.id), body.into())
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .context("writing the schedules")?;
    let load_secs = loading.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    while leases.get(keys::LEADER).await.ok().flatten().is_none() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "no scheduler replica took the lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let subjects = Subjects::new(prefix.clone());
    let mut fired = client
        .subscribe(subjects.schedule_events_all())
        .await
        .context("subscribing to schedule events")?;
    // Let the first minute's book load and the first fires settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu_before = super::procs::ticks(pid);
    let started = Instant::now();
    let started_at = Utc::now();
    let end = started + Duration::from_secs(args.seconds);
    let (mut lag, mut observed, mut catch_ups) = (Vec::new(), Vec::new(), 0_u64);
    while let Ok(Some(msg)) = tokio::time::timeout_at(end.into(), fired.next()).await {
        let Ok(event) = CloudEvent::<ScheduleFired>::decode(&msg.payload) else {
            continue;
        };
        if event.data.fire_at < started_at {
            // Queued during the warm-up.
            continue;
        }
        if event.data.catch_up {
            catch_ups += 1;
            continue;
        }
        lag.push(event.data.lag_ms);
        observed.push(
            (Utc::now() - event.data.fire_at)
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1000.0,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_secs = super::procs::ticks(pid).saturating_sub(cpu_before) as f64 / 100.0;
    let (rss, peak) = memory(pid);
    let p99 = super::stats::percentile(&lag, 99.0);
    Ok(json!({
        "benchmark": "scheduler",
        "schedules": args.schedules,
        "seconds": (elapsed * 10.0).round() / 10.0,
        "load_secs": (load_secs * 100.0).round() / 100.0,
        "fires": lag.len(),
        "fires_per_sec": ((lag.len() as f64 / elapsed) * 10.0).round() / 10.0,
        "catch_ups": catch_ups,
        "fire_lag_ms": summary(&lag),
        "observed_lag_ms": summary(&observed),
        "scheduler": {
            "cpu_percent": ((cpu_secs / elapsed) * 1000.0).round() / 10.0,
            "rss_mb": rss,
            "peak_rss_mb": peak,
        },
        "target": {"fire_lag_p99_ms": 50, "met": !lag.is_empty() && p99 <= 50.0},
        "lag": "fire_lag_ms: fire instant → run intent acknowledged by JetStream (the scheduler's clock); observed_lag_ms: fire instant → the fired event received here",
    }))
}

/// Resident and peak resident memory of a process, in MB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mb = |k: f64| (k / 1024.0 * 10.0).round() / 10.0;
    (mb(kb("VmRSS:")), mb(kb("VmHWM:")))
}

/// Deletes every stream of the prefix (its buckets are streams too).
async fn remove_prefix(js: &async_nats::jetstream::Context, prefix: &Prefix) {
    let names = StreamNames::new(prefix);
    let topology = Topology::for_prefix(prefix, opsc_proto::topology::DEFAULT_STREAM_BYTES);
    let streams = [names.commands, names.events, names.logs, names.dead_letters]
        .into_iter()
        .chain(topology.buckets.iter().map(|b| b.stream_name()));
    for s in streams {
        let _ = js.delete_stream(&s).await;
    }
}
