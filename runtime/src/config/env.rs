//! The environment names of the settings: every setting that can come from
//! an `OPSC_*` variable, and the `OPSC_*` variables that are not settings.

/// A setting: its dotted key and its stable environment name.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Key in the TOML file, e.g. `nats.url`.
    pub key: &'static str,
    /// Environment variable, e.g. `OPSC_NATS_URL`.
    pub env: &'static str,
}

/// Every setting that can come from the environment.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "http.addr",
        env: "OPSC_HTTP_ADDR",
    },
    Setting {
        key: "http.max_body_bytes",
        env: "OPSC_HTTP_MAX_BODY_BYTES",
    },
    Setting {
        key: "http.cors_origins",
        env: "OPSC_HTTP_CORS_ORIGINS",
    },
    Setting {
        key: "http.streams_per_user",
        env: "OPSC_HTTP_STREAMS_PER_USER",
    },
    Setting {
        key: "http.public_url",
        env: "OPSC_HTTP_PUBLIC_URL",
    },
    Setting {
        key: "http.console_dir",
        env: "OPSC_HTTP_CONSOLE_DIR",
    },
    Setting {
        key: "http.trusted_proxies",
        env: "OPSC_HTTP_TRUSTED_PROXIES",
    },
    Setting {
        key: "auth.api_token_days",
        env: "OPSC_AUTH_API_TOKEN_DAYS",
    },
    Setting {
        key: "auth.password_checks",
        env: "OPSC_AUTH_PASSWORD_CHECKS",
    },
    Setting {
        key: "auth.logins_per_address",
        env: "OPSC_AUTH_LOGINS_PER_ADDRESS",
    },
    Setting {
        key: "auth.access_token_ttl_secs",
        env: "OPSC_AUTH_ACCESS_TOKEN_TTL_SECS",
    },
    Setting {
        key: "auth.refresh_token_ttl_secs",
        env: "OPSC_AUTH_REFRESH_TOKEN_TTL_SECS",
    },
    Setting {
        key: "auth.lockout_threshold",
        env: "OPSC_AUTH_LOCKOUT_THRESHOLD",
    },
    Setting {
        key: "auth.lockout_secs",
        env: "OPSC_AUTH_LOCKOUT_SECS",
    },
    Setting {
        key: "auth.address_failure_limit",
        env: "OPSC_AUTH_ADDRESS_FAILURE_LIMIT",
    },
    Setting {
        key: "auth.token_cache_secs",
        env: "OPSC_AUTH_TOKEN_CACHE_SECS",
    },
    Setting {
        key: "database.url",
        env: "OPSC_DATABASE_URL",
    },
    Setting {
        key: "database.password_file",
        env: "OPSC_DATABASE_PASSWORD_FILE",
    },
    Setting {
        key: "database.max_connections",
        env: "OPSC_DATABASE_MAX_CONNECTIONS",
    },
    Setting {
        key: "nats.url",
        env: "OPSC_NATS_URL",
    },
    Setting {
        key: "nats.prefix",
        env: "OPSC_NATS_PREFIX",
    },
    Setting {
        key: "nats.credentials_file",
        env: "OPSC_NATS_CREDENTIALS_FILE",
    },
    Setting {
        key: "nats.request_timeout_secs",
        env: "OPSC_NATS_REQUEST_TIMEOUT_SECS",
    },
    Setting {
        key: "nats.stream_max_bytes",
        env: "OPSC_NATS_STREAM_MAX_BYTES",
    },
    Setting {
        key: "security.master_key",
        env: "OPSC_MASTER_KEY",
    },
    Setting {
        key: "security.master_key_file",
        env: "OPSC_MASTER_KEY_FILE",
    },
    Setting {
        key: "security.retired_master_keys",
        env: "OPSC_RETIRED_MASTER_KEYS",
    },
    Setting {
        key: "security.bootstrap_admin_username",
        env: "OPSC_BOOTSTRAP_ADMIN_USERNAME",
    },
    Setting {
        key: "security.bootstrap_admin_password",
        env: "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
    },
    Setting {
        key: "security.bootstrap_admin_password_file",
        env: "OPSC_BOOTSTRAP_ADMIN_PASSWORD_FILE",
    },
    Setting {
        key: "worker.pool",
        env: "OPSC_WORKER_POOL",
    },
    Setting {
        key: "worker.concurrency",
        env: "OPSC_WORKER_CONCURRENCY",
    },
    Setting {
        key: "worker.seal_key",
        env: "OPSC_WORKER_SEAL_KEY",
    },
    Setting {
        key: "worker.seal_key_file",
        env: "OPSC_WORKER_SEAL_KEY_FILE",
    },
    Setting {
        key: "worker.health_addr",
        env: "OPSC_WORKER_HEALTH_ADDR",
    },
    Setting {
        key: "worker.heartbeat_secs",
        env: "OPSC_WORKER_HEARTBEAT_SECS",
    },
    Setting {
        key: "worker.work_root",
        env: "OPSC_WORKER_WORK_ROOT",
    },
    Setting {
        key: "worker.file_roots",
        env: "OPSC_WORKER_FILE_ROOTS",
    },
    Setting {
        key: "worker.env_pass",
        env: "OPSC_WORKER_ENV_PASS",
    },
    Setting {
        key: "worker.egress_allow",
        env: "OPSC_WORKER_EGRESS_ALLOW",
    },
    Setting {
        key: "worker.egress_deny",
        env: "OPSC_WORKER_EGRESS_DENY",
    },
    Setting {
        key: "worker.egress_default",
        env: "OPSC_WORKER_EGRESS_DEFAULT",
    },
    Setting {
        key: "pools.local_exec",
        env: "OPSC_POOLS_LOCAL_EXEC",
    },
    Setting {
        key: "pools.host_files",
        env: "OPSC_POOLS_HOST_FILES",
    },
    Setting {
        key: "scheduler.health_addr",
        env: "OPSC_SCHEDULER_HEALTH_ADDR",
    },
    Setting {
        key: "scheduler.lease_ms",
        env: "OPSC_SCHEDULER_LEASE_MS",
    },
    Setting {
        key: "scheduler.misfire_grace_ms",
        env: "OPSC_SCHEDULER_MISFIRE_GRACE_MS",
    },
    Setting {
        key: "notifier.health_addr",
        env: "OPSC_NOTIFIER_HEALTH_ADDR",
    },
    Setting {
        key: "notifier.seal_key",
        env: "OPSC_NOTIFIER_SEAL_KEY",
    },
    Setting {
        key: "notifier.seal_key_file",
        env: "OPSC_NOTIFIER_SEAL_KEY_FILE",
    },
    Setting {
        key: "notifier.concurrency",
        env: "OPSC_NOTIFIER_CONCURRENCY",
    },
    Setting {
        key: "notifier.tick_secs",
        env: "OPSC_NOTIFIER_TICK_SECS",
    },
    Setting {
        key: "notifier.retry_base_ms",
        env: "OPSC_NOTIFIER_RETRY_BASE_MS",
    },
    Setting {
        key: "log.format",
        env: "OPSC_LOG_FORMAT",
    },
    Setting {
        key: "log.level",
        env: "OPSC_LOG_LEVEL",
    },
    Setting {
        key: "shutdown.drain_timeout_secs",
        env: "OPSC_DRAIN_TIMEOUT_SECS",
    },
    Setting {
        key: "telemetry.otlp_endpoint",
        env: "OPSC_TELEMETRY_OTLP_ENDPOINT",
    },
    Setting {
        key: "telemetry.service_name",
        env: "OPSC_TELEMETRY_SERVICE_NAME",
    },
    Setting {
        key: "telemetry.sample_ratio",
        env: "OPSC_TELEMETRY_SAMPLE_RATIO",
    },
    Setting {
        key: "telemetry.export_timeout_secs",
        env: "OPSC_TELEMETRY_EXPORT_TIMEOUT_SECS",
    },
];

/// Environment names read by the binary itself rather than the role config.
pub(super) const OTHER_ENV: &[&str] = &[
    "OPSC_CONFIG",
    "OPSC_URL",
    "OPSC_TOKEN",
    "OPSC_SESSION_FILE",
    "OPSC_SECRETS_ON_STDIN",
];
