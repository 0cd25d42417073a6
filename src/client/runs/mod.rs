//! `opsconductor runs`: list and inspect runs, follow one live, cancel or
//! re-run it.

mod view;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::ClientEnv;
use super::http::ApiClient;
use super::output::{self, View, ViewArgs};

/// `runs` arguments.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub output: ViewArgs,
    #[command(subcommand)]
    pub action: RunsAction,
}

/// What to do with runs.
#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// List runs, newest first.
    List(ListArgs),
    /// Show a run: its job, status, trigger, parameters and times.
    Show {
        /// The run's id.
        run_id: String,
    },
    /// A run's steps per target: status, exit code, duration, error
    /// (`--logs`: with their captured output).
    Steps {
        /// The run's id.
        run_id: String,
        /// Print each step's captured output under the table.
        #[arg(long)]
        logs: bool,
    },
    /// Print a run's output and status changes from its start, live until it
    /// ends (`-o json`: one JSON frame per line).
    ///
    /// Exit status: 0 when the run succeeded, 1 when it failed, timed out or
    /// lost its worker (or the command failed), 130 when it was cancelled.
    /// Ctrl-C stops following; the run goes on.
    Follow {
        /// The run's id.
        run_id: String,
    },
    /// Ask a run to stop (operators: their own runs, or runs of jobs they
    /// may run). The run ends `cancelled` once its worker has stopped it.
    Cancel {
        /// The run's id.
        run_id: String,
    },
    /// Run the version a run ran again, with its parameters and targets:
    /// prints the new run's id, or with --follow its output.
    Rerun {
        /// The run's id.
        run_id: String,
        /// Follow the new run until it ends and exit with its status.
        #[arg(long, short = 'f')]
        follow: bool,
    },
}

/// `runs list` filters.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Runs of this job: id or exact name.
    #[arg(long)]
    pub job: Option<String>,
    /// In this status (queued, running, succeeded, failed, cancelled, …).
    #[arg(long)]
    pub status: Option<String>,
    /// Started by this kind of trigger (manual, api, schedule, …).
    #[arg(long)]
    pub trigger: Option<String>,
    /// Ran on this target: id or exact name.
    #[arg(long)]
    pub target: Option<String>,
    /// Accepted since: a time (RFC 3339, e.g. 2026-12-01T08:00:00Z) or an
    /// age (`90s`, `30m`, `2h`, `7d`).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many (1-500).
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
}

/// Runs a `runs` command.
pub async fn run(env: &ClientEnv, args: RunsArgs) -> anyhow::Result<ExitCode> {
    let out = args.output.view();
    let mut api = super::connect(env)?;
    let api = &mut api;
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    match args.action {
        RunsAction::List(a) => done(view::list(api, out, &a).await),
        RunsAction::Show { run_id } => done(view::show(api, out, run_id.trim()).await),
        RunsAction::Steps { run_id, logs } => {
            done(view::steps(api, out, run_id.trim(), logs).await)
        }
        RunsAction::Follow { run_id } => {
            let format = super::jobs::follow_format(args.output);
            super::follow::follow(api, run_id.trim(), format).await
        }
        RunsAction::Cancel { run_id } => done(cancel(api, out, run_id.trim()).await),
        RunsAction::Rerun { run_id, follow } => {
            rerun(api, args.output, run_id.trim(), follow).await
        }
    }
}

/// `runs cancel`.
async fn cancel(api: &mut ApiClient, out: View, id: &str) -> anyhow::Result<()> {
    let run: Value = api
        .send(
            Method::POST,
            &["api", "v1", "runs", id, "cancel"],
            &json!({}),
        )
        .await
        .context("cancelling the run")?;
    crate::client::jobs::emit(out, &run, || {
        format!(
            "Cancel of run {} requested; it is {}.\n",
            output::sanitize(id),
            output::sanitize(run["status"].as_str().unwrap_or("?"))
        )
    })
}

/// `runs rerun`: the new run's id, or its output with `--follow`.
async fn rerun(
    api: &mut ApiClient,
    out: ViewArgs,
    id: &str,
    follow: bool,
) -> anyhow::Result<ExitCode> {
    let accepted: Value = api
        .send(
            Method::POST,
            &["api", "v1", "runs", id, "rerun"],
            &json!({}),
        )
        .await
        .context("re-running the run")?;
    let new = accepted["run_id"]
        .as_str()
        .context("the api accepted the re-run but named no run")?
        .to_owned();
    super::jobs::started(out, &accepted, &new, follow)?;
    if follow {
        let format = super::jobs::follow_format(out);
        return super::follow::follow(api, &new, format).await;
    }
    Ok(ExitCode::SUCCESS)
}
