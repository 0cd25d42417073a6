//! Structured logging. Fields first, then a short sentence; JSON in production.
//!
//! Spans carry `run_id`, `step_id`, `request_id` and `trace_id` where they
//! apply, and the JSON format prints the current span's fields on every line.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Call once, at start, after config loaded.
///
/// `RUST_LOG`, when set, overrides `log.level` for debugging sessions.
pub fn init(cfg: &LogConfig) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(with_quiet_dependencies(&cfg.level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_writer(std::io::stderr);
    // A second init (tests running several roles in one process) keeps the first.
    let _ = match cfg.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}

/// Dependencies that log every query or connect at INFO are held to WARN,
/// unless the filter names them.
fn with_quiet_dependencies(level: &str) -> String {
    let mut filter = level.to_owned();
    for noisy in ["sqlx", "sea_orm_migration", "async_nats"] {
        if !level.contains(noisy) {
            filter.push_str(&format!(",{noisy}=warn"));
        }
    }
    filter
}
