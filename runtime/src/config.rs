//! One typed configuration, layered: defaults < TOML file < `OPSC_*`
//! environment < command-line flags, then [`Config::validate`] for the roles
//! that will run.
//!
//! Every setting has a dotted key (`nats.url`) used in the TOML file and in
//! error messages, and a stable environment name (`OPSC_NATS_URL`) listed in
//! [`SETTINGS`]. An `OPSC_*` variable that names no setting is an error, so a
//! typo cannot silently fall back to a default.

use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::keys::{MasterKey, SealKey};
use env::OTHER_ENV;

/// A role of the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Role {
    /// HTTP gateway and system of record.
    Api,
    /// Step executor.
    Worker,
    /// Cron, dependencies, retries.
    Scheduler,
    /// Notification delivery.
    Notifier,
}

impl Role {
    /// Every role, in start order.
    pub const ALL: [Role; 4] = [Role::Api, Role::Worker, Role::Scheduler, Role::Notifier];

    /// Lowercase name, as on the command line and in `source` attributes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Worker => "worker",
            Self::Scheduler => "scheduler",
            Self::Notifier => "notifier",
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object a line (production).
    #[default]
    Json,
    /// Human-readable lines (development).
    Text,
}

/// The whole configuration. Each role reads only its own sections.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP listener of the api role.
    pub http: HttpConfig,
    /// PostgreSQL (api role only).
    pub database: DatabaseConfig,
    /// NATS connection and naming.
    pub nats: NatsConfig,
    /// Keys and bootstrap secrets (api role).
    pub security: SecurityConfig,
    /// Logins, tokens, lockout (api role).
    pub auth: AuthConfig,
    /// Worker role.
    pub worker: WorkerConfig,
    /// What each pool's workers may do on their own host.
    pub pools: PoolsConfig,
    /// Scheduler role.
    pub scheduler: SchedulerConfig,
    /// Notifier role.
    pub notifier: NotifierConfig,
    /// Logging.
    pub log: LogConfig,
    /// Shutdown behaviour.
    pub shutdown: ShutdownConfig,
    /// OpenTelemetry traces (off by default).
    pub telemetry: TelemetryConfig,
}

/// A setting is missing, malformed or inconsistent. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {setting}: {problem}")]
pub struct ConfigError {
    /// The setting, as `key (ENV_NAME)` when it has an environment name.
    pub setting: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        let setting = match SETTINGS.iter().find(|s| s.key == key) {
            Some(s) => format!("{key} ({})", s.env),
            None => key.to_owned(),
        };
        Self {
            setting,
            problem: problem.into(),
        }
    }
}

/// Where configuration comes from; see [`Config::load`].
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// TOML file from `--config` (or `OPSC_CONFIG`).
    pub file: Option<&'a Path>,
    /// Environment variables (`std::env::vars()` in production).
    pub env: Vec<(String, String)>,
    /// Flag overrides as (dotted key, value), applied last.
    pub flags: Vec<(&'static str, String)>,
}

impl Config {
    /// Loads defaults < file < environment < flags. Does not validate roles.
    pub fn load(sources: &Sources<'_>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = sources.file {
            if !file.is_file() {
                return Err(ConfigError {
                    setting: "--config".into(),
                    problem: format!("file {} does not exist", file.display()),
                });
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        for (name, value) in &sources.env {
            if !name.starts_with("OPSC_") || OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            let Some(setting) = SETTINGS.iter().find(|s| s.env == name) else {
                return Err(ConfigError {
                    setting: name.clone(),
                    problem: "unknown setting (see docs/configuration.md)".into(),
                });
            };
            figment = figment.merge((setting.key, value.as_str()));
        }
        for (key, value) in &sources.flags {
            figment = figment.merge((*key, value.as_str()));
        }
        figment.extract_lossy::<Config>().map_err(|e| {
            let key = e.path.join(".");
            let key = if key.is_empty() {
                "config".to_owned()
            } else {
                key
            };
            ConfigError::new(&key, e.kind.to_string())
        })
    }

    /// Checks everything the given roles need; the first problem wins.
    pub fn validate(&self, roles: &[Role]) -> Result<(), ConfigError> {
        if self.nats.url.trim().is_empty() {
            return Err(ConfigError::new("nats.url", "must not be empty"));
        }
        if self.nats.stream_max_bytes < 1024 * 1024 {
            return Err(ConfigError::new(
                "nats.stream_max_bytes",
                "must be at least 1048576 (1 MiB)",
            ));
        }
        if self.nats.request_timeout_secs == 0 {
            return Err(ConfigError::new(
                "nats.request_timeout_secs",
                "must be at least 1",
            ));
        }
        if let Some(f) = &self.nats.credentials_file
            && !f.is_file()
        {
            return Err(ConfigError::new(
                "nats.credentials_file",
                format!("file {} does not exist", f.display()),
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::new(
                "log.level",
                format!("invalid filter {:?}", self.log.level),
            ));
        }
        self.telemetry.validate()?;
        if roles.contains(&Role::Api) {
            self.validate_api()?;
            if let Some(url) = &self.http.public_url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(ConfigError::new(
                    "http.public_url",
                    "must be an http:// or https:// address",
                ));
            }
            if let Some(dir) = &self.http.console_dir
                && !dir.join("index.html").is_file()
            {
                return Err(ConfigError::new(
                    "http.console_dir",
                    format!(
                        "{} holds no index.html (build the console with `npm ci && npm run build` in console/)",
                        dir.display()
                    ),
                ));
            }
        }
        if roles.contains(&Role::Worker) {
            if !opsc_proto::subjects::is_valid_token(&self.worker.pool) {
                return Err(ConfigError::new(
                    "worker.pool",
                    "must be 1-64 letters, digits, '-' or '_'",
                ));
            }
            if self.worker.concurrency == 0 {
                return Err(ConfigError::new("worker.concurrency", "must be at least 1"));
            }
            if self.worker.heartbeat_secs == 0 {
                return Err(ConfigError::new(
                    "worker.heartbeat_secs",
                    "must be at least 1",
                ));
            }
            if !roles.contains(&Role::Api)
                && (self.security.master_key.is_some() || self.security.master_key_file.is_some())
            {
                let key = if self.security.master_key.is_some() {
                    "security.master_key"
                } else {
                    "security.master_key_file"
                };
                return Err(ConfigError::new(
                    key,
                    format!(
                        "must not be given to a worker running alone: it needs only its pool's seal key (`opsconductor keys seal-key --pool {}`)",
                        self.worker.pool
                    ),
                ));
            }
            for name in &self.worker.env_pass {
                let ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !name.as_bytes()[0].is_ascii_digit();
                if !ok {
                    return Err(ConfigError::new(
                        "worker.env_pass",
                        format!("{name:?} is not a variable name"),
                    ));
                }
                if name.starts_with("OPSC_") {
                    return Err(ConfigError::new(
                        "worker.env_pass",
                        format!(
                            "{name} is OpsConductor's own setting and is never passed to commands"
                        ),
                    ));
                }
            }
            for (key, rules) in [
                ("worker.egress_allow", &self.worker.egress_allow),
                ("worker.egress_deny", &self.worker.egress_deny),
            ] {
                for rule in rules {
                    egress::Rule::parse(rule).map_err(|why| ConfigError::new(key, why))?;
                }
            }
            self.worker_seal_key()?;
        }
        if roles.contains(&Role::Notifier) {
            let n = &self.notifier;
            for (key, ok) in [
                ("notifier.concurrency", (1..=256).contains(&n.concurrency)),
                ("notifier.tick_secs", (1..=300).contains(&n.tick_secs)),
                (
                    "notifier.retry_base_ms",
                    (100..=60_000).contains(&n.retry_base_ms),
                ),
            ] {
                if !ok {
                    return Err(ConfigError::new(
                        key,
                        "is out of range (see docs/configuration.md)",
                    ));
                }
            }
            self.notifier_seal_key()?;
        }
        if roles.contains(&Role::Scheduler) {
            if !(1000..=60_000).contains(&self.scheduler.lease_ms) {
                return Err(ConfigError::new(
                    "scheduler.lease_ms",
                    "must be between 1000 and 60000",
                ));
            }
            if !(100..=60_000).contains(&self.scheduler.misfire_grace_ms) {
                return Err(ConfigError::new(
                    "scheduler.misfire_grace_ms",
                    "must be between 100 and 60000",
                ));
            }
        }
        for (key, pools) in [
            ("pools.local_exec", &self.pools.local_exec),
            ("pools.host_files", &self.pools.host_files),
        ] {
            if let Some(bad) = pools
                .iter()
                .find(|p| !opsc_proto::subjects::is_valid_token(p))
            {
                return Err(ConfigError::new(
                    key,
                    format!("{bad:?} is not a pool name (1-64 letters, digits, '-' or '_')"),
                ));
            }
        }
        Ok(())
    }

    fn validate_api(&self) -> Result<(), ConfigError> {
        match &self.database.url {
            None => {
                return Err(ConfigError::new(
                    "database.url",
                    "is required by the api role",
                ));
            }
            Some(url) => {
                let url = url.expose_secret();
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(ConfigError::new(
                        "database.url",
                        "must be a postgres:// or postgresql:// URL",
                    ));
                }
            }
        }
        if let Some(f) = &self.database.password_file
            && !f.is_file()
        {
            return Err(ConfigError::new(
                "database.password_file",
                format!("file {} does not exist", f.display()),
            ));
        }
        for origin in &self.http.cors_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && origin.parse::<axum::http::HeaderValue>().is_ok();
            if !ok {
                return Err(ConfigError::new(
                    "http.cors_origins",
                    format!(
                        "{origin:?} is not an origin like https://ops.example.com (\"null\" is never trusted)"
                    ),
                ));
            }
        }
        for proxy in &self.http.trusted_proxies {
            if parse_network(proxy).is_none() {
                return Err(ConfigError::new(
                    "http.trusted_proxies",
                    format!("{proxy:?} is not an address or CIDR network like 10.0.0.0/8"),
                ));
            }
        }
        let a = &self.auth;
        if self.http.streams_per_user == 0 {
            return Err(ConfigError::new(
                "http.streams_per_user",
                "must be at least 1",
            ));
        }
        if !(1..=3650).contains(&a.api_token_days) {
            return Err(ConfigError::new("auth.api_token_days", "must be 1 to 3650"));
        }
        if a.logins_per_address == 0 {
            return Err(ConfigError::new(
                "auth.logins_per_address",
                "must be at least 1",
            ));
        }
        for (key, value) in [
            ("auth.access_token_ttl_secs", a.access_token_ttl_secs),
            ("auth.refresh_token_ttl_secs", a.refresh_token_ttl_secs),
            ("auth.lockout_secs", a.lockout_secs),
            ("auth.lockout_threshold", u64::from(a.lockout_threshold)),
            (
                "auth.address_failure_limit",
                u64::from(a.address_failure_limit),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be at least 1"));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        self.master_key()?;
        self.retired_master_keys()?;
        self.bootstrap_admin_password()?;
        if self.security.bootstrap_admin_username.trim().is_empty() {
            return Err(ConfigError::new(
                "security.bootstrap_admin_username",
                "must not be empty",
            ));
        }
        Ok(())
    }

    /// The 32-byte key-encryption key, from `master_key` or `master_key_file`.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        let s = &self.security;
        let (text, key) = secret::key_value_or_file(
            ("security.master_key", s.master_key.as_ref()),
            ("security.master_key_file", s.master_key_file.as_deref()),
        )?
        .ok_or_else(|| {
            ConfigError::new(
                "security.master_key",
                "is required by the api role (32 random bytes, base64: `openssl rand -base64 32`)",
            )
        })?;
        MasterKey::from_base64(text.expose_secret())
            .map_err(|e| ConfigError::new(key, e.to_string()))
    }

    /// The key that opens secrets sealed for this worker's pool: from
    /// `worker.seal_key`, `worker.seal_key_file`, or, when this process also
    /// holds the master key (`server all`, `dev`), derived from it.
    pub fn worker_seal_key(&self) -> Result<SealKey, ConfigError> {
        let w = &self.worker;
        let found = secret::key_value_or_file(
            ("worker.seal_key", w.seal_key.as_ref()),
            ("worker.seal_key_file", w.seal_key_file.as_deref()),
        )?;
        let Some((text, key)) = found else {
            if self.security.master_key.is_none() && self.security.master_key_file.is_none() {
                return Err(ConfigError::new(
                    "worker.seal_key",
                    format!(
                        "is required by the worker role (print it where the master key is: `opsconductor keys seal-key --pool {}`)",
                        w.pool
                    ),
                ));
            }
            return Ok(SealKey::for_pool(&self.master_key()?, &w.pool));
        };
        SealKey::from_base64(text.expose_secret())
            .ok_or_else(|| ConfigError::new(key, "must be 32 bytes in base64"))
    }

    /// The key that opens channel secrets sealed for the notifier: from
    /// `notifier.seal_key`, `notifier.seal_key_file`, or, when this process
    /// also holds the master key, derived from it.
    pub fn notifier_seal_key(&self) -> Result<SealKey, ConfigError> {
        let n = &self.notifier;
        let found = secret::key_value_or_file(
            ("notifier.seal_key", n.seal_key.as_ref()),
            ("notifier.seal_key_file", n.seal_key_file.as_deref()),
        )?;
        let Some((text, key)) = found else {
            if self.security.master_key.is_none() && self.security.master_key_file.is_none() {
                return Err(ConfigError::new(
                    "notifier.seal_key",
                    "is required by the notifier role (print it where the master key is: `opsconductor keys seal-key --notifier`)",
                ));
            }
            return Ok(SealKey::for_notifier(&self.master_key()?));
        };
        SealKey::from_base64(text.expose_secret())
            .ok_or_else(|| ConfigError::new(key, "must be 32 bytes in base64"))
    }

    /// The database URL with the password from `database.password_file` inserted.
    pub fn database_url(&self) -> Result<Option<SecretString>, ConfigError> {
        let Some(url) = &self.database.url else {
            return Ok(None);
        };
        let password = secret::value_or_file(
            ("database.password", None),
            (
                "database.password_file",
                self.database.password_file.as_deref(),
            ),
        )?;
        let Some((password, _)) = password else {
            return Ok(Some(url.clone()));
        };
        let url = url.expose_secret();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| ConfigError::new("database.url", "is not a URL"))?;
        let (userinfo, host) = rest.split_once('@').ok_or_else(|| {
            ConfigError::new(
                "database.url",
                "must name a user (user@host) when a password file is set",
            )
        })?;
        let user = userinfo.split(':').next().unwrap_or_default();
        let encoded = percent_encode_userinfo(password.expose_secret());
        Ok(Some(SecretString::from(format!(
            "{scheme}://{user}:{encoded}@{host}"
        ))))
    }

    /// The retired master keys (possibly none).
    pub fn retired_master_keys(&self) -> Result<Vec<MasterKey>, ConfigError> {
        let Some(list) = &self.security.retired_master_keys else {
            return Ok(Vec::new());
        };
        list.expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| {
                MasterKey::from_base64(k).map_err(|e| {
                    ConfigError::new("security.retired_master_keys", format!("an entry {e}"))
                })
            })
            .collect()
    }

    /// The bootstrap admin password, from the setting or its file.
    pub fn bootstrap_admin_password(&self) -> Result<Option<SecretString>, ConfigError> {
        let s = &self.security;
        Ok(secret::value_or_file(
            (
                "security.bootstrap_admin_password",
                s.bootstrap_admin_password.as_ref(),
            ),
            (
                "security.bootstrap_admin_password_file",
                s.bootstrap_admin_password_file.as_deref(),
            ),
        )?
        .map(|(text, _)| text))
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a URL's userinfo.
fn percent_encode_userinfo(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub mod egress;
mod env;
mod secret;
mod sections;
mod telemetry;
#[cfg(test)]
mod tests;

pub use env::{SETTINGS, Setting};
pub use sections::*;
pub use telemetry::TelemetryConfig;
