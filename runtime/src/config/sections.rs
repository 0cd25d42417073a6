//! The sections of the configuration, one struct each, with their defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use opsc_proto::Prefix;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::LogFormat;

/// `[http]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address of the api (console, API, health).
    pub addr: SocketAddr,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser (CORS); none by
    /// default. A comma-separated list in the environment. `null` is refused.
    #[serde(deserialize_with = "list_or_csv")]
    pub cors_origins: Vec<String>,
    /// Reverse proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client; from any other peer the header
    /// is ignored. None by default. Comma-separated in the environment.
    #[serde(deserialize_with = "list_or_csv")]
    pub trusted_proxies: Vec<String>,
    /// Live run streams (SSE and WebSocket) one user may hold open at once;
    /// more answer 429.
    pub streams_per_user: u32,
    /// The address users reach the console at (e.g.
    /// `https://ops.example.com`), for links in notifications; none by
    /// default (then `http://<addr>` when it is not a wildcard address).
    pub public_url: Option<String>,
    /// Serve the console from this folder (a `console/dist` built by
    /// `npm run build`) instead of the copy embedded in the binary; for
    /// console development and tests. None by default.
    pub console_dir: Option<PathBuf>,
}

fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            streams_per_user: 16,
            public_url: None,
            console_dir: None,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user@host:port/db`; required by the api role.
    #[serde(serialize_with = "ser_secret_opt")]
    pub url: Option<SecretString>,
    /// File holding the password, inserted into `url` (for mounted secrets).
    pub password_file: Option<PathBuf>,
    /// Connection pool size.
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            password_file: None,
            max_connections: 10,
        }
    }
}

/// `[nats]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// Server URL(s), comma-separated.
    pub url: String,
    /// Installation prefix: every subject, stream, consumer and bucket derives from it.
    pub prefix: Prefix,
    /// NATS credentials file (JWT + nkey), when the server requires one.
    pub credentials_file: Option<PathBuf>,
    /// Seconds to wait for a request to JetStream.
    pub request_timeout_secs: u64,
    /// Size of the command and output streams in bytes; the event stream
    /// gets four times it, dead letters a quarter. JetStream reserves these
    /// on the server, so they also bound how many installations share one.
    pub stream_max_bytes: i64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".to_owned(),
            prefix: Prefix::default(),
            credentials_file: None,
            request_timeout_secs: 5,
            stream_max_bytes: opsc_proto::topology::DEFAULT_STREAM_BYTES,
        }
    }
}

/// `[security]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Key-encryption key: 32 random bytes, base64. Required by the api role.
    #[serde(serialize_with = "ser_secret_opt")]
    pub master_key: Option<SecretString>,
    /// File holding the master key instead (exclusive with `master_key`).
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, comma-separated base64: they only unwrap, until
    /// `opsconductor keys rotate` has re-wrapped everything under the current one.
    #[serde(serialize_with = "ser_secret_opt")]
    pub retired_master_keys: Option<SecretString>,
    /// User name of the first admin.
    pub bootstrap_admin_username: String,
    /// Password of the first admin, used only when the user table is empty.
    #[serde(serialize_with = "ser_secret_opt")]
    pub bootstrap_admin_password: Option<SecretString>,
    /// File holding that password instead.
    pub bootstrap_admin_password_file: Option<PathBuf>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            master_key_file: None,
            retired_master_keys: None,
            bootstrap_admin_username: "admin".to_owned(),
            bootstrap_admin_password: None,
            bootstrap_admin_password_file: None,
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of access tokens.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens (a login session lasts as long without use).
    pub refresh_token_ttl_secs: u64,
    /// Consecutive failed logins before an account locks.
    pub lockout_threshold: u32,
    /// How long a locked account stays locked.
    pub lockout_secs: u64,
    /// Failed logins from one client address per 15 minutes before it is throttled.
    pub address_failure_limit: u32,
    /// Seconds an authenticated token is remembered, so a busy client does
    /// not cost a database lookup per request (0: never). A revocation,
    /// deactivation or role change on any api replica ends it at once on
    /// every replica; this bounds the delay if that notice is lost.
    pub token_cache_secs: u64,
    /// Days an API token lives when its creator gives no lifetime (1 to
    /// 3650). Only an admin may mint one that never expires.
    pub api_token_days: u32,
    /// Password verifications (Argon2, about 19 MiB each) at once; a login
    /// past it waits up to half a second, then answers 503 with
    /// `Retry-After`. 0: twice the number of cores.
    pub password_checks: u32,
    /// Login requests from one client address in flight at once; more
    /// answer 429.
    pub logins_per_address: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 7 * 86_400,
            lockout_threshold: 10,
            lockout_secs: 900,
            address_failure_limit: 100,
            token_cache_secs: 10,
            api_token_days: 90,
            password_checks: 0,
            logins_per_address: 8,
        }
    }
}

/// `[worker]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// The pool this worker serves (targets and jobs may pin a pool).
    pub pool: String,
    /// Dispatches executed at once at most.
    pub concurrency: u32,
    /// The key opening secrets sealed for this pool (base64).
    #[serde(serialize_with = "ser_secret_opt")]
    pub seal_key: Option<SecretString>,
    /// File holding `seal_key` (for mounted secrets).
    pub seal_key_file: Option<PathBuf>,
    /// Where a worker running alone serves `/healthz`, `/readyz`, `/metrics`.
    pub health_addr: SocketAddr,
    /// Seconds between heartbeats.
    pub heartbeat_secs: u64,
    /// Where `local.exec` commands start (their working directory and
    /// `HOME`), and the first of the roots worker-side paths must lie in.
    /// Created (mode 0700) when a pool capability needs it.
    pub work_root: PathBuf,
    /// Further directories worker-side paths of the transfer steps may lie
    /// in (a comma-separated list in the environment).
    #[serde(deserialize_with = "list_or_csv")]
    pub file_roots: Vec<String>,
    /// Environment variables of the worker passed on to `local.exec`
    /// commands; nothing else of the worker's environment reaches them.
    #[serde(deserialize_with = "list_or_csv")]
    pub env_pass: Vec<String>,
    /// The egress policy of this worker's pool: networks (CIDRs, addresses),
    /// named sets (`loopback`, `link-local`, `metadata`, `private`) and host
    /// patterns (`db.example.com`, `*.example.com`) its steps and connection
    /// tests may connect to, checked after name resolution. An address rule
    /// here also lifts a built-in refusal (loopback, link-local; `metadata`
    /// only by name).
    #[serde(deserialize_with = "list_or_csv")]
    pub egress_allow: Vec<String>,
    /// Networks, named sets and host patterns refused; wins over every allow.
    #[serde(deserialize_with = "list_or_csv")]
    pub egress_deny: Vec<String>,
    /// What happens to an address no rule names: `allow` (private and public
    /// networks reachable) or `deny` (only what `egress_allow` names).
    pub egress_default: EgressDefault,
}

/// `worker.egress_default`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgressDefault {
    /// Anything no rule refuses.
    #[default]
    Allow,
    /// Only what `worker.egress_allow` names.
    Deny,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            pool: "default".to_owned(),
            concurrency: 32,
            seal_key: None,
            seal_key_file: None,
            health_addr: SocketAddr::from(([127, 0, 0, 1], 9101)),
            heartbeat_secs: 5,
            work_root: PathBuf::from("/var/lib/opsconductor/work"),
            file_roots: Vec::new(),
            env_pass: ["PATH", "LANG", "LC_ALL", "TZ"].map(str::to_owned).to_vec(),
            egress_allow: Vec::new(),
            egress_deny: Vec::new(),
            egress_default: EgressDefault::Allow,
        }
    }
}

/// `[pools]`: what the workers of a pool may do on their own host. Nothing
/// by default; an admin enables it per pool. The api refuses to store or
/// run a job version that needs a capability its pool lacks or that no
/// admin saved, and the worker checks again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolsConfig {
    /// Pools whose workers run `local.exec` (commands on the worker host).
    #[serde(deserialize_with = "list_or_csv")]
    pub local_exec: Vec<String>,
    /// Pools whose workers read and write worker-side paths (`source` of
    /// `sftp.upload`, `ssh.copy` and `winrm.copy`; `sftp.download`;
    /// `sftp.sync`).
    #[serde(deserialize_with = "list_or_csv")]
    pub host_files: Vec<String>,
}

impl PoolsConfig {
    /// What `pool` may do.
    pub fn of(&self, pool: &str) -> opsc_proto::job::HostCapabilities {
        opsc_proto::job::HostCapabilities {
            local_exec: self.local_exec.iter().any(|p| p == pool),
            host_files: self.host_files.iter().any(|p| p == pool),
        }
    }
}

/// `[scheduler]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// Where a scheduler running alone serves its operability endpoints.
    pub health_addr: SocketAddr,
    /// How long the leader's lease lasts without renewal, in milliseconds
    /// (renewed every third of it). A standby takes over about this long
    /// after the leader died. 1000 to 60000.
    pub lease_ms: u64,
    /// A fire noticed later than this after its instant is a misfire and
    /// follows the schedule's misfire policy, in milliseconds. 100 to 60000.
    pub misfire_grace_ms: u64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            health_addr: SocketAddr::from(([127, 0, 0, 1], 9102)),
            lease_ms: 3000,
            misfire_grace_ms: 1000,
        }
    }
}

/// `[notifier]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifierConfig {
    /// Where a notifier running alone serves its operability endpoints.
    pub health_addr: SocketAddr,
    /// The key that opens channel secrets (`opsconductor keys seal-key
    /// --notifier`); not needed where the master key is (`server all`).
    #[serde(serialize_with = "ser_secret_opt")]
    pub seal_key: Option<SecretString>,
    /// File holding `seal_key` (for mounted secrets).
    pub seal_key_file: Option<PathBuf>,
    /// Notices handled at once (1 to 256).
    pub concurrency: u32,
    /// Seconds between the checks of quiet hours, throttle digests and
    /// unacknowledged alerts (1 to 300).
    pub tick_secs: u64,
    /// First retry delay of a failed delivery, in milliseconds; it doubles
    /// per attempt up to a minute (100 to 60000).
    pub retry_base_ms: u64,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            health_addr: SocketAddr::from(([127, 0, 0, 1], 9103)),
            seal_key: None,
            seal_key_file: None,
            concurrency: 16,
            tick_secs: 15,
            retry_base_ms: 1000,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `json` or `text`.
    pub format: LogFormat,
    /// Filter in `tracing` syntax, e.g. `info` or `info,opsc_api=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".to_owned(),
        }
    }
}

/// `[shutdown]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// Seconds to finish in-flight work after SIGTERM before handing it back.
    pub drain_timeout_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout_secs: 30,
        }
    }
}

fn ser_secret_opt<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    // Secrets are never serialized; defaults have none, and config is never written back.
    match v {
        Some(_) => s.serialize_some("<redacted>"),
        None => s.serialize_none(),
    }
}

/// An address (as a one-address network) or a CIDR network.
pub fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

impl HttpConfig {
    /// The trusted proxies, parsed (invalid entries are refused by validation).
    pub fn trusted_networks(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| parse_network(p))
            .collect()
    }
}

impl AuthConfig {
    /// Password verifications at once: the setting, or twice the cores.
    pub fn password_check_limit(&self) -> usize {
        match self.password_checks {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }
}
