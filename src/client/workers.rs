//! `opsconductor workers list`: the live workers, from their heartbeats.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::ClientEnv;
use super::output::{Table, ViewArgs, yes_no};

/// `workers` arguments.
#[derive(Debug, Args)]
pub struct WorkersArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: WorkersAction,
}

/// What to do with workers.
#[derive(Debug, Subcommand)]
pub enum WorkersAction {
    /// The live workers: pool, version, load, last heartbeat.
    List {
        /// Only workers of this pool.
        #[arg(long)]
        pool: Option<String>,
    },
}

/// Runs a `workers` command.
pub async fn run(env: &ClientEnv, args: WorkersArgs) -> anyhow::Result<()> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    match args.action {
        WorkersAction::List { pool } => {
            let query: Vec<(&str, String)> = pool.map(|p| ("pool", p)).into_iter().collect();
            let list: Value = api
                .get(&["api", "v1", "workers"], &query)
                .await
                .context("listing workers")?;
            view.render(&list, table)?;
        }
    }
    Ok(())
}

fn table(list: &Value) -> String {
    let mut t = Table::new(&[
        "ID",
        "POOL",
        "VERSION",
        "LOAD",
        "DRAINING",
        "STARTED",
        "LAST HEARTBEAT",
    ]);
    for w in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let text = |k: &str| w[k].as_str().unwrap_or_default().to_owned();
        t.row(vec![
            text("id"),
            text("pool"),
            text("version"),
            format!(
                "{}/{}",
                w["in_flight"].as_u64().unwrap_or(0),
                w["concurrency"].as_u64().unwrap_or(0)
            ),
            yes_no(w["draining"].as_bool().unwrap_or(false)),
            text("started_at"),
            text("last_heartbeat_at"),
        ]);
    }
    t.render()
}
