//! `bench pipeline`: no-op runs through the whole pipeline.
//!
//! 1. Throughput: `--runs` runs of a one-step job (`wait 0`) submitted by
//!    `--concurrency` clients at once; runs/s is the number of runs over the
//!    span from the first acceptance to the last finish (server times).
//! 2. Latency: runs submitted at a steady rate of half that throughput for
//!    `--latency-secs`; accept-to-first-step is the time from a run's
//!    acceptance to its first step's start, p50/p99.
//!
//! During the throughput phase it also reads the CPU seconds the server
//! (from its `/metrics`), PostgreSQL and NATS (from `/proc`) spent, in all
//! and per run, and the server's resident memory before and after the
//! burst and at its peak since it started. Resident memory at rest is
//! `opsc_process_resident_memory_bytes` on a server left idle.

use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::client::{Load, ms, time};
use super::procs::Cpu;
use super::stats::summary;

/// `bench pipeline` arguments.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Runs in the throughput phase.
    #[arg(long, default_value_t = 2000)]
    pub runs: u32,
    /// Clients submitting at once in the throughput phase.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds of steady submission in the latency phase (0 skips it).
    #[arg(long, default_value_t = 5)]
    pub latency_secs: u64,
    /// Worker pool the job runs in (default: the job default).
    #[arg(long)]
    pub pool: Option<String>,
}

/// Submits `n` runs with `concurrency` at once; the run ids and failures.
async fn burst(load: &Load, job: &str, n: u32, concurrency: usize) -> (Vec<String>, u32) {
    let results: Vec<anyhow::Result<String>> = futures::stream::iter(0..n)
        .map(|_| async move { load.start(job, &json!({})).await })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count() as u32;
    (results.into_iter().flatten().collect(), failed)
}

/// Runs the benchmark.
pub async fn run(load: &Load, a: &PipelineArgs) -> anyhow::Result<Value> {
    let mut def = json!({
        "name": format!("{}-pipeline", load.tag),
        "description": "opsconductor bench pipeline: one no-op step",
        "steps": [{"id": "noop", "type": "wait", "with": {"seconds": 0}}]
    });
    if let Some(pool) = &a.pool {
        def["pool"] = json!(pool);
    }
    let job = load.create_job(&def).await?;
    let result = measure(load, &job, a).await;
    load.delete(&format!("/api/v1/jobs/{job}")).await;
    result
}

async fn measure(load: &Load, job: &str, a: &PipelineArgs) -> anyhow::Result<Value> {
    // Warm-up: connections, caches, consumers.
    let (warm, _) = burst(load, job, 50, 16).await;
    load.wait_done(job, warm.len() as u64).await?;
    let mut expected = warm.len() as u64;

    // 1. Throughput, with the CPU each process spent and the server's memory.
    let server_before = load.process().await.unwrap_or_default();
    let cpu_before = Cpu::now();
    let started = Instant::now();
    let (ids, refused) = burst(load, job, a.runs, a.concurrency).await;
    let submit_secs = started.elapsed().as_secs_f64();
    expected += ids.len() as u64;
    load.wait_done(job, expected).await?;
    let wall_secs = started.elapsed().as_secs_f64();
    let server_after = load.process().await.unwrap_or_default();
    let cpu = cpu_before.report(
        &Cpu::now(),
        ids.len(),
        server_after.cpu_seconds - server_before.cpu_seconds,
    );
    let runs = load.runs_of(job).await?;
    let measured: Vec<&Value> = runs
        .iter()
        .filter(|r| ids.iter().any(|i| r["id"] == i.as_str()))
        .collect();
    let first = measured.iter().filter_map(|r| time(r, "created_at")).min();
    let last = measured.iter().filter_map(|r| time(r, "finished_at")).max();
    let span_ms = match (first, last) {
        (Some(f), Some(l)) => ms(f, l),
        _ => wall_secs * 1000.0,
    };
    let succeeded = measured
        .iter()
        .filter(|r| r["status"] == "succeeded")
        .count();
    let runs_per_sec = succeeded as f64 / (span_ms / 1000.0);

    // 2. Latency at half the rate.
    let latency = if a.latency_secs > 0 && runs_per_sec > 0.0 {
        let rate = (runs_per_sec / 2.0).max(1.0);
        Some(steady(load, job, rate, a.latency_secs, &mut expected).await?)
    } else {
        None
    };
    Ok(json!({
        "bench": "pipeline",
        "throughput": {
            "runs": a.runs,
            "concurrency": a.concurrency,
            "accepted": ids.len(),
            "refused": refused,
            "succeeded": succeeded,
            "submit_secs": round(submit_secs),
            "accept_rate_per_sec": round(ids.len() as f64 / submit_secs),
            "span_ms": round(span_ms),
            "runs_per_sec": round(runs_per_sec),
        },
        "cpu_during_throughput": cpu,
        "memory_mb": {
            "opsconductor_rss_before_burst": round(server_before.resident_bytes / 1_048_576.0),
            "opsconductor_rss_after_burst": round(server_after.resident_bytes / 1_048_576.0),
            "opsconductor_rss_peak_since_start": round(server_after.resident_max_bytes / 1_048_576.0),
        },
        "latency_at_half_rate": latency,
    }))
}

/// Submits at `rate` per second for `secs`; accept-to-first-step figures.
async fn steady(
    load: &Load,
    job: &str,
    rate: f64,
    secs: u64,
    expected: &mut u64,
) -> anyhow::Result<Value> {
    let n = (rate * secs as f64).round().max(1.0) as u64;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let body = json!({});
    let mut pending = futures::stream::FuturesUnordered::new();
    let mut ids = Vec::new();
    let mut refused = 0_u32;
    let mut sent = 0_u64;
    while sent < n || !pending.is_empty() {
        tokio::select! {
            _ = tick.tick(), if sent < n => {
                sent += 1;
                pending.push(load.start(job, &body));
            }
            Some(r) = pending.next(), if !pending.is_empty() => match r {
                Ok(id) => ids.push(id),
                Err(_) => refused += 1,
            },
        }
    }
    *expected += ids.len() as u64;
    load.wait_done(job, *expected).await?;
    let runs = load.runs_of(job).await?;
    let accepted_at: std::collections::HashMap<&str, chrono::DateTime<chrono::Utc>> = runs
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?, time(r, "created_at")?)))
        .collect();
    let mut to_first_step = Vec::new();
    let mut to_finish = Vec::new();
    let fetched: Vec<(String, anyhow::Result<Vec<Value>>)> = futures::stream::iter(ids.iter())
        .map(|id| async move { (id.clone(), load.steps_of(id).await) })
        .buffer_unordered(16)
        .collect()
        .await;
    for (id, steps) in fetched {
        let Some(accepted) = accepted_at.get(id.as_str()).copied() else {
            continue;
        };
        let steps = steps?;
        if let Some(first) = steps.iter().filter_map(|s| time(s, "started_at")).min() {
            to_first_step.push(ms(accepted, first));
        }
        if let Some(done) = steps.iter().filter_map(|s| time(s, "finished_at")).max() {
            to_finish.push(ms(accepted, done));
        }
    }
    Ok(json!({
        "rate_per_sec": round(rate),
        "runs": ids.len(),
        "refused": refused,
        "accept_to_first_step_ms": summary(&to_first_step),
        "accept_to_last_step_end_ms": summary(&to_finish),
    }))
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
