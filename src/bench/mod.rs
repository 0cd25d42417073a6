//! `opsconductor bench`: load a running installation through its public API
//! and print what it measured as one JSON document.
//!
//! Each benchmark creates what it needs (a job, targets, a credential) under
//! a `bench-<id>` name, measures with the server's own timestamps where they
//! exist (accepted, started and finished times are recorded by the api and
//! the workers on this machine's clock), and deletes what it created. It
//! authenticates as the CLI does (`OPSC_TOKEN` or the stored session) and
//! uses a short-lived API token of its own for the load, revoked at the end.

mod baselines;
mod client;
mod fanout;
mod pipeline;
mod procs;
mod scheduler;
mod stats;
mod steps;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::client::ClientEnv;

/// `bench` arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub kind: BenchKind,
}

/// Which benchmark.
#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// No-op runs through the whole pipeline (api, bus, dispatcher, worker,
    /// recorder): runs per second at full load, then accept-to-first-step
    /// latency at half that rate.
    Pipeline(pipeline::PipelineArgs),
    /// One sequential job of many no-op steps against a one-step job: the
    /// engine's overhead per step.
    Steps(steps::StepsArgs),
    /// One command on N targets that all point at one sshd, against
    /// OpenSSH's `ssh` under `xargs -P` and (when installed) Ansible's ad-hoc
    /// `command` module over the same logins.
    Fanout(fanout::FanoutArgs),
    /// One scheduler replica with many schedules on a private prefix of the
    /// local NATS: fire lag p50/p99, CPU and resident memory.
    Scheduler(scheduler::SchedulerArgs),
}

/// Runs a benchmark and prints its JSON report.
pub async fn run(env: &ClientEnv, args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let BenchKind::Scheduler(a) = &args.kind {
        // Needs only NATS: no installation, no session.
        let report = scheduler::run(a).await?;
        crate::client::output::print(&crate::client::output::json(&report))?;
        return Ok(ExitCode::SUCCESS);
    }
    let load = client::Load::open(env).await?;
    let report = match args.kind {
        BenchKind::Pipeline(a) => pipeline::run(&load, &a).await,
        BenchKind::Steps(a) => steps::run(&load, &a).await,
        BenchKind::Fanout(a) => fanout::run(&load, &a).await,
        BenchKind::Scheduler(_) => unreachable_scheduler(),
    };
    load.close().await;
    let report: Value = report?;
    crate::client::output::print(&crate::client::output::json(&report))?;
    Ok(ExitCode::SUCCESS)
}

fn unreachable_scheduler() -> anyhow::Result<Value> {
    anyhow::bail!("the scheduler benchmark runs without an installation")
}
