//! Command-line surface. Flags override environment and file settings.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use opsc_runtime::Role;

use crate::client::ClientEnv;
use crate::dev::DevArgs;
use crate::schemas::SchemasAction;
use crate::settings::{GlobalArgs, load_config};

/// OpsConductor: operations automation on a NATS JetStream bus.
///
/// Settings of the server commands (`server`, `migrate`, `dev`, `keys`,
/// `schemas`) come from defaults < a TOML file (--config) < OPSC_*
/// environment variables < flags. See docs/configuration.md for every
/// setting. The client commands take only their own options.
#[derive(Debug, Parser)]
#[command(
    name = "opsconductor",
    version,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// The process environment (filled in by `main`), handed to the server
    /// settings of the command that reads them.
    #[arg(skip)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; the server commands carry their settings"
)]
pub enum Command {
    /// Run one role, or all of them in one process.
    ///
    /// The api serves HTTP on http.addr; the other roles, when run alone,
    /// serve /healthz, /readyz and /metrics on their own health_addr.
    /// SIGTERM drains: stop taking work, finish or hand back what is in
    /// flight, exit 0.
    Server(ServerArgs),
    /// Apply pending database migrations, then exit.
    Migrate {
        #[command(flatten, next_help_heading = "Server settings")]
        settings: GlobalArgs,
    },
    /// Run every role against local defaults, for trying OpsConductor out.
    ///
    /// Creates the database if missing, migrates, provisions the bus, keeps a
    /// generated master key in the data directory, creates the first admin
    /// (printing a generated password once when none is configured) and
    /// prints where to go.
    Dev(DevCommand),
    /// Manage the master key: `keys rotate` re-wraps every stored secret.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        #[command(flatten, next_help_heading = "Server settings")]
        settings: GlobalArgs,
    },
    /// Generate or check the JSON Schemas of the bus contracts.
    Schemas {
        #[command(subcommand)]
        action: SchemasAction,
        #[command(flatten, next_help_heading = "Server settings")]
        settings: GlobalArgs,
    },
    /// Print a shell completion script: `completions bash|zsh|fish`.
    ///
    /// bash: `source <(opsconductor completions bash)`; zsh: write it to a
    /// file named `_opsconductor` on your `$fpath`; fish:
    /// `opsconductor completions fish > ~/.config/fish/completions/opsconductor.fish`.
    Completions(crate::client::completions::CompletionsArgs),
    /// Targets: `targets list|show|create|update|delete|import|export|test|approve-key|ping`.
    Targets(crate::client::targets::TargetsArgs),
    /// Target groups: `groups list|show|create|update|delete|members|test`.
    Groups(crate::client::groups::GroupsArgs),
    /// Stored credentials (metadata only; secrets from files or standard
    /// input): `credentials list|show|create|update|delete`.
    Credentials(crate::client::credentials::CredentialsArgs),
    /// Your API tokens: `tokens list|create|revoke`.
    Tokens(crate::client::tokens::TokensArgs),
    /// The audit trail (admins): `audit list|export`.
    Audit(crate::client::audit::AuditArgs),
    /// The live workers: `workers list`.
    Workers(crate::client::workers::WorkersArgs),
    /// Log in to an api and keep the session for the other commands.
    ///
    /// The session is stored in $XDG_CONFIG_HOME/opsconductor/session.json
    /// (else ~/.config/opsconductor/session.json; OPSC_SESSION_FILE overrides),
    /// readable by you only. When OPSC_TOKEN is set, the other commands use
    /// that API token instead.
    Login(crate::client::LoginArgs),
    /// Revoke the stored session on the api and delete it.
    Logout,
    /// List, show, create, change and delete users (admins only).
    Users(crate::client::UsersArgs),
    /// Job definitions and their versions, and running them:
    /// `jobs list|show|create|update|import|export|clone|versions|diff|delete|enable|disable|run`.
    Jobs(crate::client::JobsArgs),
    /// Runs: `runs list|show|steps|follow|cancel|rerun`; `runs follow <run-id>`
    /// prints the live output and its exit status tells how the run ended
    /// (0 succeeded, 1 failed, 130 cancelled).
    Runs(crate::client::RunsArgs),
    /// Run one command across targets without saving a job:
    /// `run --targets web-1,web-2 | --group G | --tag T [--winrm | --local] -- uname -a`.
    ///
    /// Follows the run: each output line is prefixed with its target. Exit
    /// status: 0 when it succeeded everywhere, 1 when it failed anywhere,
    /// 130 when it was cancelled. `--detach` prints only the run's id.
    Run(crate::client::AdhocArgs),
    /// One request to the api with the stored session or OPSC_TOKEN:
    /// `api GET /api/v1/me`, `api POST /api/v1/jobs -d @job.json`. Prints
    /// the answer; exits 1 when it is an error (400 or more).
    Api(crate::client::ApiArgs),
    /// Cron schedules of jobs: `schedules list|show|create|next|fires|pause|resume|delete`.
    Schedules(crate::client::SchedulesArgs),
    /// The scheduler role: `scheduler status`, and `pause`/`resume` for every schedule (admins).
    Scheduler(crate::client::SchedulerArgs),
    /// Benchmarks against a running installation, printing JSON:
    /// `bench pipeline` (with the CPU each process spent), `bench steps`,
    /// `bench fanout --targets N --host H --port P --user U --key FILE`
    /// (against OpenSSH and, when installed, Ansible).
    Bench(crate::bench::BenchArgs),
}

/// How the command line ends, in the top-level `--help`.
const EXIT_CODES: &str = "Exit status: 0 done; 1 an error (the api refused or failed, a run \
failed, a connection test failed); 2 a usage or configuration error; 130 a followed run was \
cancelled, or Ctrl-C.";

/// `dev` arguments, with the server settings.
#[derive(Debug, Args)]
pub struct DevCommand {
    #[command(flatten)]
    pub args: DevArgs,
    #[command(flatten, next_help_heading = "Server settings")]
    pub settings: GlobalArgs,
}

/// `server` arguments.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The role to run.
    #[arg(value_enum)]
    pub role: RoleArg,
    /// Listen address of the api [http.addr, OPSC_HTTP_ADDR].
    #[arg(long, value_name = "ADDR")]
    pub http_addr: Option<String>,
    /// Worker pool [worker.pool, OPSC_WORKER_POOL].
    #[arg(long, value_name = "POOL")]
    pub pool: Option<String>,
    #[command(flatten, next_help_heading = "Server settings")]
    pub settings: GlobalArgs,
}

/// A role, or all of them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// HTTP gateway and system of record.
    Api,
    /// Step executor for one pool.
    Worker,
    /// Cron schedules, dependencies, retries.
    Scheduler,
    /// Notification delivery.
    Notifier,
    /// Every role in one process.
    All,
}

impl RoleArg {
    fn roles(self) -> Vec<Role> {
        match self {
            Self::Api => vec![Role::Api],
            Self::Worker => vec![Role::Worker],
            Self::Scheduler => vec![Role::Scheduler],
            Self::Notifier => vec![Role::Notifier],
            Self::All => Role::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Re-wrap every credential's data key under the current master key.
    ///
    /// Procedure: set OPSC_MASTER_KEY to the new key and OPSC_RETIRED_MASTER_KEYS
    /// to the old one, restart the api (it reads with both, writes with the
    /// new), run this (safe while the api serves), then drop the old key.
    /// Prints a JSON report; exits non-zero when a record could not be opened.
    Rotate,
    /// Print the seal key of a worker pool (base64), for `worker.seal_key`.
    ///
    /// Credentials cross the bus sealed for the pool of their target; a
    /// worker running without the master key needs its pool's seal key. The
    /// key derives from the master key: after a master-key change, give the
    /// workers their new seal keys.
    SealKey {
        /// The pool.
        #[arg(long, default_value = "default", conflicts_with = "intake")]
        pool: String,
        /// Print the api's public intake key instead: producers of run
        /// intents seal secret parameters with it (`keys seal`); it cannot
        /// open them, only the api can.
        #[arg(long)]
        intake: bool,
        /// Print the notifier's seal key instead (`notifier.seal_key`): it
        /// opens the channel secrets the api seals for the notifier.
        #[arg(long, conflicts_with_all = ["intake", "pool"])]
        notifier: bool,
    },
    /// Seal standard input for the api with its public intake key: a run
    /// intent's `sealed_parameters` (a JSON object of secret parameters)
    /// with the context `run-intent/job:<job id>` (or
    /// `run-intent/name:<job name>`). Prints the sealed value (base64).
    /// Needs no master key, and what it seals only the api can open.
    Seal {
        /// A file holding the public intake key (base64).
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
        /// What the sealed value is bound to; it opens only for this.
        #[arg(long)]
        context: String,
    },
}

/// Runs the chosen command; the exit status on success: 0, except for the
/// run followers (`runs follow`, `jobs run --follow`), whose status tells
/// how the run ended.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let env = cli.global.env;
    let with_env = |mut settings: GlobalArgs| {
        settings.env = env.clone();
        settings
    };
    match cli.command {
        Command::Server(args) => {
            let global = &with_env(args.settings);
            let mut flags = Vec::new();
            if let Some(a) = args.http_addr {
                flags.push(("http.addr", a));
            }
            if let Some(p) = args.pool {
                flags.push(("worker.pool", p));
            }
            let roles = args.role.roles();
            let config = load_config(global, flags)?;
            config.validate(&roles)?;
            opsc_runtime::telemetry::init_with_traces(&config.log, &config.telemetry, &roles)?;
            done(
                crate::server::run(crate::server::Launch {
                    config: config.into(),
                    roles,
                    store: None,
                })
                .await,
            )
        }
        Command::Migrate { settings } => {
            let config = load_config(&with_env(settings), Vec::new())?;
            opsc_runtime::telemetry::init(&config.log);
            done(crate::migrate::run(&config).await)
        }
        Command::Dev(dev) => done(crate::dev::run(&with_env(dev.settings), dev.args).await),
        Command::Schemas { action, .. } => done(crate::schemas::run(action)),
        Command::Completions(args) => done(crate::client::completions::run(&args)),
        Command::Targets(args) => {
            crate::client::targets::run(&ClientEnv::from_process(), args).await
        }
        Command::Groups(args) => crate::client::groups::run(&ClientEnv::from_process(), args).await,
        Command::Credentials(args) => {
            done(crate::client::credentials::run(&ClientEnv::from_process(), args).await)
        }
        Command::Tokens(args) => {
            done(crate::client::tokens::run(&ClientEnv::from_process(), args).await)
        }
        Command::Audit(args) => {
            done(crate::client::audit::run(&ClientEnv::from_process(), args).await)
        }
        Command::Workers(args) => {
            done(crate::client::workers::run(&ClientEnv::from_process(), args).await)
        }
        Command::Keys {
            action: KeysAction::Seal { key_file, context },
            ..
        } => done(crate::keys::seal(&key_file, &context)),
        Command::Keys { action, settings } => {
            let config = load_config(&with_env(settings), Vec::new())?;
            opsc_runtime::telemetry::init(&config.log);
            done(match action {
                KeysAction::Rotate => crate::keys::rotate(&config).await,
                KeysAction::SealKey { notifier: true, .. } => {
                    crate::keys::seal_key_notifier(&config)
                }
                KeysAction::SealKey { pool, intake, .. } => {
                    crate::keys::seal_key(&config, &pool, intake)
                }
                KeysAction::Seal { .. } => Ok(()),
            })
        }
        Command::Login(args) => {
            done(crate::client::login::login(&ClientEnv::from_process(), args).await)
        }
        Command::Logout => done(crate::client::login::logout(&ClientEnv::from_process()).await),
        Command::Users(args) => {
            done(crate::client::users::run(&ClientEnv::from_process(), args).await)
        }
        Command::Jobs(args) => crate::client::jobs::run(&ClientEnv::from_process(), args).await,
        Command::Runs(args) => crate::client::runs::run(&ClientEnv::from_process(), args).await,
        Command::Run(args) => crate::client::adhoc::run(&ClientEnv::from_process(), args).await,
        Command::Api(args) => crate::client::api_raw::run(&ClientEnv::from_process(), args).await,
        Command::Schedules(args) => {
            crate::client::schedules::run(&ClientEnv::from_process(), args).await
        }
        Command::Scheduler(args) => {
            done(crate::client::scheduler::run(&ClientEnv::from_process(), args).await)
        }
        Command::Bench(args) => crate::bench::run(&ClientEnv::from_process(), args).await,
    }
}
