//! `opsconductor jobs`: list, show, create and change job definitions, their
//! versions, and run them.
//!
//! Definitions travel as files (`-f FILE`, YAML or JSON, sent with their
//! content type, `-` for standard input); `export` writes one back out. A
//! job is named by its id or its exact name everywhere.

mod diff;
pub(crate) mod find;
mod run;
mod show;
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::ClientEnv;
use super::output::ViewArgs;

pub use self::run::{RunArgs, follow_format, started};
pub(crate) use self::show::{emit, text, when};

/// `jobs` arguments.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub output: ViewArgs,
    #[command(subcommand)]
    pub action: JobsAction,
}

/// What to do with jobs.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List jobs: name, version, whether active, owner.
    List {
        /// Only jobs whose name contains this (case-insensitive).
        #[arg(long)]
        name: Option<String>,
        /// Only active (true) or inactive (false) jobs.
        #[arg(long)]
        active: Option<bool>,
        /// At most this many (1-500).
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Show a job: its settings, steps and parameters.
    Show {
        /// The job: id or exact name.
        job: String,
    },
    /// Create a job from a definition file (YAML or JSON; operators).
    Create(FileArgs),
    /// Store a new version of a job from a definition file (an unchanged
    /// definition stores nothing).
    Update {
        /// The job: id or exact name.
        job: String,
        #[command(flatten)]
        file: FileArgs,
    },
    /// Import a definition file: a new job, or with --replace the next
    /// version of the job of that name.
    Import {
        #[command(flatten)]
        file: FileArgs,
        /// When a job of that name exists, add the file as its next version.
        #[arg(long)]
        replace: bool,
    },
    /// Print a job's current definition, ready to edit and `update -f`.
    Export {
        /// The job: id or exact name.
        job: String,
        /// The document format.
        #[arg(long, value_enum, default_value_t = DocFormat::Yaml)]
        format: DocFormat,
    },
    /// A new job from a job's current definition.
    Clone {
        /// The job to copy: id or exact name.
        job: String,
        /// The new job's name.
        name: String,
    },
    /// List a job's versions, newest first.
    Versions {
        /// The job: id or exact name.
        job: String,
    },
    /// A unified diff of two versions' definitions (as YAML).
    Diff {
        /// The job: id or exact name.
        job: String,
        /// The older version.
        from: i32,
        /// The newer version.
        to: i32,
    },
    /// Delete a job with its versions and grants (its runs stay).
    Delete {
        /// The job: id or exact name.
        job: String,
    },
    /// Let a job run again.
    Enable {
        /// The job: id or exact name.
        job: String,
    },
    /// Stop a job from being run (its schedules fire nothing).
    Disable {
        /// The job: id or exact name.
        job: String,
    },
    /// Run a job (operators): prints the run's id, or with --follow its
    /// output until it ends.
    Run(RunArgs),
}

/// A definition file.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The definition: a YAML (`.yaml`, `.yml`) or JSON file, `-` for
    /// standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// The file's format when its name does not tell (default for `-`: YAML).
    #[arg(long, value_enum)]
    pub format: Option<DocFormat>,
}

/// A definition's document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

impl DocFormat {
    /// The media type it is sent as.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Yaml => "application/yaml",
            Self::Json => "application/json",
        }
    }

    /// The api's name for it (`?format=`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Yaml => "yaml",
            Self::Json => "json",
        }
    }
}

/// Runs a `jobs` command.
pub async fn run(env: &ClientEnv, args: JobsArgs) -> anyhow::Result<ExitCode> {
    let out = args.output.view();
    let mut api = super::connect(env)?;
    let api = &mut api;
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    match args.action {
        JobsAction::List {
            name,
            active,
            limit,
        } => done(show::list(api, out, name, active, limit).await),
        JobsAction::Show { job } => done(show::show(api, out, &job).await),
        JobsAction::Versions { job } => done(show::versions(api, out, &job).await),
        JobsAction::Diff { job, from, to } => done(diff::diff(api, &job, from, to).await),
        JobsAction::Create(file) => done(write::create(api, out, &file).await),
        JobsAction::Update { job, file } => done(write::update(api, out, &job, &file).await),
        JobsAction::Import { file, replace } => done(write::import(api, out, &file, replace).await),
        JobsAction::Export { job, format } => done(write::export(api, &job, format).await),
        JobsAction::Clone { job, name } => done(write::clone(api, out, &job, &name).await),
        JobsAction::Delete { job } => done(write::delete(api, &job).await),
        JobsAction::Enable { job } => done(write::set_active(api, out, &job, true).await),
        JobsAction::Disable { job } => done(write::set_active(api, out, &job, false).await),
        JobsAction::Run(a) => run::run(api, args.output, a).await,
    }
}
