//! `opsconductor runs`: follow a run's live output.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::ClientEnv;
use super::output::OutputArgs;

/// `runs` arguments.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub action: RunsAction,
}

/// What to do with runs.
#[derive(Debug, Subcommand)]
pub enum RunsAction {
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
}

/// Runs a `runs` command.
pub async fn run(env: &ClientEnv, args: RunsArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        RunsAction::Follow { run_id } => {
            let mut api = super::connect(env)?;
            super::follow::follow(&mut api, run_id.trim(), args.output.format).await
        }
    }
}
