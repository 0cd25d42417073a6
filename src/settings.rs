//! The server settings (`--config`, `--nats-url` …) and the layered
//! configuration they override: taken by `server`, `dev`, `migrate`, `keys`
//! and `schemas`, below the command line that offers them.

use std::path::PathBuf;

use clap::Args;
use opsc_runtime::ConfigError;
use opsc_runtime::config::{Config, Sources};

/// The server settings: taken by the commands that read the configuration
/// (`server`, `migrate`, `dev`, `keys`, `schemas`), not by the client commands.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (see deploy/opsconductor.example.toml).
    #[arg(long, global = true, env = "OPSC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// NATS server URL [setting nats.url, env OPSC_NATS_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub nats_url: Option<String>,
    /// Installation prefix for every subject, stream and bucket [nats.prefix, OPSC_NATS_PREFIX].
    #[arg(long, global = true, value_name = "PREFIX")]
    pub nats_prefix: Option<String>,
    /// PostgreSQL URL (api role) [database.url, OPSC_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format: json or text [log.format, OPSC_LOG_FORMAT].
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or debug [log.level, OPSC_LOG_LEVEL].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// The environment the configuration reads (see `handoff`).
    #[arg(skip)]
    pub env: crate::handoff::Environment,
}

impl GlobalArgs {
    /// Whether the environment sets `name`.
    pub fn env_has(&self, name: &str) -> bool {
        self.env.iter().any(|(k, _)| k == name)
    }
}

/// Loads the layered configuration with these flag overrides.
pub fn load_config(
    global: &GlobalArgs,
    mut flags: Vec<(&'static str, String)>,
) -> Result<Config, ConfigError> {
    let global_flags = [
        ("nats.url", &global.nats_url),
        ("nats.prefix", &global.nats_prefix),
        ("database.url", &global.database_url),
        ("log.format", &global.log_format),
        ("log.level", &global.log_level),
    ];
    for (key, value) in global_flags {
        if let Some(v) = value {
            flags.push((key, v.clone()));
        }
    }
    Config::load(&Sources {
        file: global.config.as_deref(),
        env: global.env.clone(),
        flags,
    })
}
