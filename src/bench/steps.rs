//! `bench steps`: the engine's overhead per step.
//!
//! A job of `--steps` sequential no-op steps (`wait 0`) and a job of one
//! such step run `--repeat` times each, one run at a time. The overhead per
//! step is the difference of their median accept-to-finish times over the
//! extra steps; the gap between one step's end and the next one's start, as
//! the worker recorded them, is reported as well.

use clap::Args;
use serde_json::{Value, json};

use super::client::{Load, ms, time};
use super::stats::{percentile, summary};

/// `bench steps` arguments.
#[derive(Debug, Args)]
pub struct StepsArgs {
    /// Steps of the long job.
    #[arg(long, default_value_t = 40)]
    pub steps: u32,
    /// Runs of each job.
    #[arg(long, default_value_t = 10)]
    pub repeat: u32,
    /// Worker pool the jobs run in (default: the job default).
    #[arg(long)]
    pub pool: Option<String>,
}

fn job(load: &Load, name: &str, steps: u32, pool: Option<&String>) -> Value {
    let steps: Vec<Value> = (1..=steps)
        .map(|i| json!({"id": format!("s{i}"), "type": "wait", "with": {"seconds": 0}}))
        .collect();
    let mut def = json!({"name": format!("{}-{name}", load.tag), "steps": steps});
    if let Some(p) = pool {
        def["pool"] = json!(p);
    }
    def
}

/// Runs `job` `repeat` times, one after the other; accept-to-finish times
/// and the gaps between consecutive steps.
async fn series(load: &Load, job: &str, repeat: u32) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut durations = Vec::new();
    let mut gaps = Vec::new();
    for i in 0..repeat {
        let run = load.start(job, &json!({})).await?;
        load.wait_done(job, u64::from(i) + 1).await?;
        let r = load.get(&format!("/api/v1/runs/{run}")).await?;
        if r["status"] != "succeeded" {
            anyhow::bail!("run {run} ended {}: {}", r["status"], r["reason"]);
        }
        if let (Some(a), Some(f)) = (time(&r, "created_at"), time(&r, "finished_at")) {
            durations.push(ms(a, f));
        }
        let steps = load.steps_of(&run).await?;
        for w in steps.windows(2) {
            if let (Some(end), Some(next)) = (time(&w[0], "finished_at"), time(&w[1], "started_at"))
            {
                gaps.push(ms(end, next));
            }
        }
    }
    Ok((durations, gaps))
}

/// Runs the benchmark.
pub async fn run(load: &Load, a: &StepsArgs) -> anyhow::Result<Value> {
    let steps = a.steps.max(2);
    let long = load
        .create_job(&job(load, "steps-long", steps, a.pool.as_ref()))
        .await?;
    let short = load
        .create_job(&job(load, "steps-one", 1, a.pool.as_ref()))
        .await?;
    let result = async {
        // Warm-up.
        series(load, &short, 1).await?;
        let (one, _) = series(load, &short, a.repeat).await?;
        let (many, gaps) = series(load, &long, a.repeat).await?;
        let per_step = (percentile(&many, 50.0) - percentile(&one, 50.0)) / f64::from(steps - 1);
        Ok(json!({
            "bench": "steps",
            "steps": steps,
            "repeat": a.repeat,
            "one_step_run_ms": summary(&one),
            "long_run_ms": summary(&many),
            "overhead_per_step_ms": (per_step * 100.0).round() / 100.0,
            "gap_between_steps_ms": summary(&gaps),
        }))
    }
    .await;
    load.delete(&format!("/api/v1/jobs/{long}")).await;
    load.delete(&format!("/api/v1/jobs/{short}")).await;
    result
}
