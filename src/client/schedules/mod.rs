//! `opsconductor schedules`: list, show, create, preview, pause, resume and
//! delete the cron schedules that start runs of jobs.
//!
//! Wherever a schedule, job, target or target group is named, its id or its
//! exact name will do ([`resolve`]). Secret run parameters are read from
//! files or standard input, never from the command line ([`params`]).
//! Mistakes in the command line exit 2, like clap's own; failed requests
//! exit 1.

mod create;
mod params;
mod resolve;
mod show;
pub(crate) mod view;

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

pub use self::create::CreateArgs;
use self::show::Show;
use super::output::{self, OutputArgs, OutputFormat, sanitize};
use super::{ClientEnv, prompt};

/// A mistake in the command line found after parsing: exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// `schedules` arguments.
#[derive(Debug, Args)]
pub struct SchedulesArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print only ids (`list`, `create`, `show`).
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub action: SchedulesAction,
}

/// What to do with schedules.
#[derive(Debug, Subcommand)]
pub enum SchedulesAction {
    /// List schedules, one page at a time (`-o json`: the whole page object).
    List(ListArgs),
    /// Show one schedule.
    Show {
        /// The schedule: its id or exact name.
        schedule: String,
    },
    /// Create a schedule (operators), from options or from a JSON file.
    Create(Box<CreateArgs>),
    /// Preview the next fires: UTC, the schedule's local time, and whether a
    /// daylight-saving change shifted, skipped or doubled it.
    Next {
        /// The schedule: its id or exact name.
        schedule: String,
        /// How many fires to show.
        #[arg(long, default_value_t = 10)]
        count: u32,
    },
    /// The recent fires: fired, skipped or misfired, with lag and run.
    Fires {
        /// The schedule: its id or exact name.
        schedule: String,
        /// Most fires to show (the api caps it).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Stop a schedule from firing until resumed.
    Pause {
        /// The schedule: its id or exact name.
        schedule: String,
    },
    /// Let a paused schedule fire again.
    Resume {
        /// The schedule: its id or exact name.
        schedule: String,
    },
    /// Delete a schedule. Asks first on a terminal; elsewhere --yes is required.
    Delete {
        /// The schedule: its id or exact name.
        schedule: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// `schedules list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the schedules of this job: its id or exact name.
    #[arg(long)]
    pub job: Option<String>,
    /// Only enabled (true) or disabled (false) schedules.
    #[arg(long, value_name = "true|false")]
    pub enabled: Option<bool>,
    /// Most schedules to show (the api caps it).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Schedules to skip, for the next page.
    #[arg(long)]
    pub offset: Option<u32>,
}

/// Runs a `schedules` command.
pub async fn run(env: &ClientEnv, args: SchedulesArgs) -> anyhow::Result<ExitCode> {
    let show = Show::new(args.output.format, args.quiet);
    match execute(env, show, args.action).await {
        Err(e) if e.downcast_ref::<Usage>().is_some() => {
            eprintln!("opsconductor: {}", format!("{e:#}").replace('\n', " "));
            Ok(ExitCode::from(2))
        }
        other => other,
    }
}

fn path(id: &str) -> [&str; 4] {
    ["api", "v1", "schedules", id]
}

async fn execute(env: &ClientEnv, show: Show, action: SchedulesAction) -> anyhow::Result<ExitCode> {
    // Refused before any request: nothing can be asked without a terminal.
    if let SchedulesAction::Delete {
        yes: false,
        schedule,
    } = &action
        && !io::stdin().is_terminal()
    {
        return Err(Usage(format!(
            "not deleting schedule {} without confirmation: standard input is not a terminal; pass --yes",
            sanitize(schedule)
        ))
        .into());
    }
    let mut api = super::connect(env)?;
    match action {
        SchedulesAction::List(a) => {
            let mut query = Vec::new();
            if let Some(job) = &a.job {
                let job = resolve::job(&mut api, job).await?;
                query.push(("job_id", job["id"].as_str().unwrap_or_default().to_owned()));
            }
            query.extend(a.enabled.map(|e| ("enabled", e.to_string())));
            query.extend(a.limit.map(|l| ("limit", l.to_string())));
            query.extend(a.offset.map(|o| ("offset", o.to_string())));
            let page: Value = api
                .get(&["api", "v1", "schedules"], &query)
                .await
                .context("listing schedules")?;
            show.list(&page)?;
        }
        SchedulesAction::Show { schedule } => {
            let id = resolve::schedule(&mut api, &schedule).await?;
            let got: Value = api
                .get(&path(&id), &[])
                .await
                .context("getting the schedule")?;
            show.one(&got, view::details)?;
        }
        SchedulesAction::Create(a) => {
            let body = create::body(&mut api, &a).await?;
            let name = body["name"].as_str().unwrap_or_default().to_owned();
            let created: Value = api
                .send(Method::POST, &["api", "v1", "schedules"], &body)
                .await
                .with_context(|| format!("creating schedule {}", sanitize(&name)))?;
            show.one(&created, view::details)?;
        }
        SchedulesAction::Next { schedule, count } => {
            let id = resolve::schedule(&mut api, &schedule).await?;
            let query = [("count", count.to_string())];
            let mut at = path(&id).to_vec();
            at.push("next");
            let got: Value = api
                .get(&at, &query)
                .await
                .context("previewing the schedule")?;
            show.items(&got, view::next)?;
        }
        SchedulesAction::Fires { schedule, limit } => {
            let id = resolve::schedule(&mut api, &schedule).await?;
            let query: Vec<_> = limit
                .map(|l| ("limit", l.to_string()))
                .into_iter()
                .collect();
            let mut at = path(&id).to_vec();
            at.push("fires");
            let got: Value = api.get(&at, &query).await.context("listing the fires")?;
            show.items(&got, view::fires)?;
        }
        SchedulesAction::Pause { schedule } => toggle(&mut api, show, &schedule, "pause").await?,
        SchedulesAction::Resume { schedule } => toggle(&mut api, show, &schedule, "resume").await?,
        SchedulesAction::Delete { schedule, yes } => {
            let id = resolve::schedule(&mut api, &schedule).await?;
            if !yes && !confirm(&schedule, &id)? {
                eprintln!("Nothing deleted.");
                return Ok(ExitCode::from(1));
            }
            api.delete(&path(&id))
                .await
                .context("deleting the schedule")?;
            if show.format == OutputFormat::Table && !show.quiet {
                output::print(&format!("Deleted schedule {}.\n", sanitize(&schedule)))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `POST /api/v1/schedules/{id}/pause|resume`.
async fn toggle(
    api: &mut super::http::ApiClient,
    show: Show,
    schedule: &str,
    verb: &str,
) -> anyhow::Result<()> {
    let id = resolve::schedule(api, schedule).await?;
    let mut at = path(&id).to_vec();
    at.push(verb);
    let (doing, done) = if verb == "pause" {
        ("pausing", "Paused")
    } else {
        ("resuming", "Resumed")
    };
    let got: Value = api
        .send(Method::POST, &at, &json!({}))
        .await
        .with_context(|| format!("{doing} the schedule"))?;
    show.one(&got, |_| {
        format!("{done} schedule {}.\n", sanitize(schedule))
    })
}

/// Asks on the terminal; true for `y` or `yes`.
fn confirm(schedule: &str, id: &str) -> anyhow::Result<bool> {
    let mut err = io::stderr().lock();
    let named = if schedule == id {
        sanitize(id)
    } else {
        format!("{} ({})", sanitize(schedule), sanitize(id))
    };
    write!(err, "Delete schedule {named}? [y/N] ").and_then(|()| err.flush())?;
    let answer = prompt::read_line(&mut io::stdin().lock())
        .context("reading the answer")?
        .unwrap_or_default();
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
