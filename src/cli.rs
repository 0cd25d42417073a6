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
/// Settings come from defaults < a TOML file (--config) < OPSC_* environment
/// variables < flags. See docs/configuration.md for every setting.
#[derive(Debug, Parser)]
#[command(name = "opsconductor", version, propagate_version = true)]
pub struct Cli {
    /// Kept under their own heading so the client commands' help stays readable.
    #[command(flatten, next_help_heading = "Server settings")]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one role, or all of them in one process.
    ///
    /// The api serves HTTP on http.addr; the other roles, when run alone,
    /// serve /healthz, /readyz and /metrics on their own health_addr.
    /// SIGTERM drains: stop taking work, finish or hand back what is in
    /// flight, exit 0.
    Server(ServerArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Run every role against local defaults, for trying OpsConductor out.
    ///
    /// Creates the database if missing, migrates, provisions the bus, keeps a
    /// generated master key in the data directory, creates the first admin
    /// (printing a generated password once when none is configured) and
    /// prints where to go.
    Dev(DevArgs),
    /// Manage the master key: `keys rotate` re-wraps every stored secret.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Generate or check the JSON Schemas of the bus contracts.
    Schemas {
        #[command(subcommand)]
        action: SchemasAction,
    },
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
    /// Run jobs: `jobs run <job> [--param NAME=VALUE] [--target T] [--follow]`.
    Jobs(crate::client::JobsArgs),
    /// Follow runs: `runs follow <run-id>` prints the live output; the exit
    /// status tells how the run ended (0 succeeded, 1 failed, 130 cancelled).
    Runs(crate::client::RunsArgs),
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
    let global = &cli.global;
    match cli.command {
        Command::Server(args) => {
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
            opsc_runtime::telemetry::init(&config.log);
            done(
                crate::server::run(crate::server::Launch {
                    config: config.into(),
                    roles,
                    store: None,
                })
                .await,
            )
        }
        Command::Migrate => {
            let config = load_config(global, Vec::new())?;
            opsc_runtime::telemetry::init(&config.log);
            done(crate::migrate::run(&config).await)
        }
        Command::Dev(args) => done(crate::dev::run(global, args).await),
        Command::Schemas { action } => done(crate::schemas::run(action)),
        Command::Keys {
            action: KeysAction::Seal { key_file, context },
        } => done(crate::keys::seal(&key_file, &context)),
        Command::Keys { action } => {
            let config = load_config(global, Vec::new())?;
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
        Command::Schedules(args) => {
            crate::client::schedules::run(&ClientEnv::from_process(), args).await
        }
        Command::Scheduler(args) => {
            done(crate::client::scheduler::run(&ClientEnv::from_process(), args).await)
        }
        Command::Bench(args) => crate::bench::run(&ClientEnv::from_process(), args).await,
    }
}
