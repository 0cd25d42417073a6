//! Structured logging and, when `telemetry.otlp_endpoint` is set,
//! OpenTelemetry traces exported over OTLP/HTTP (protobuf).
//!
//! Fields first, then a short sentence; JSON in production. A JSON line
//! carries the fields of every span it happened in (`run_id`, `job_id`,
//! `step_id`, `target`, `request_id` …) and, when tracing is on, the
//! `trace_id` and `span_id` of the current span, so logs and traces join.
//! With tracing off, a span that took a `traceparent` (an HTTP header, a
//! bus envelope) still logs that trace's id as `trace_id`.
//!
//! The trace context crosses processes in the `traceparent` of the bus
//! envelopes: a publish stamps the current span's context ([`current`]),
//! a consumer makes its span the child of it ([`set_parent`]).

mod json;
mod propagate;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{LogConfig, LogFormat, Role, TelemetryConfig};

pub use propagate::{current, inject, set_parent, trace_id_of};

/// Whether spans are exported (set once, at start). Every helper checks it
/// first, so tracing costs nothing on the hot path when it is off.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The provider, kept to flush and shut it down when the process drains.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether this process exports traces.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Installs the global subscriber without traces (commands other than
/// `server`). Call once, at start, after config loaded.
///
/// `RUST_LOG`, when set, overrides `log.level` for debugging sessions.
pub fn init(cfg: &LogConfig) {
    install(cfg, None);
}

/// Installs the global subscriber with the OTLP exporter when
/// `telemetry.otlp_endpoint` is set; `roles` name the default
/// `service.name`. Must run inside the tokio runtime: spans are exported
/// in batches from a task on it.
pub fn init_with_traces(
    log: &LogConfig,
    telemetry: &TelemetryConfig,
    roles: &[Role],
) -> anyhow::Result<()> {
    let Some(url) = telemetry.traces_url() else {
        install(log, None);
        return Ok(());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .with_timeout(Duration::from_secs(telemetry.export_timeout_secs))
        .build()
        .with_context(|| format!("OTLP exporter for {url}"))?;
    let batch =
        opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .build();
    let service = telemetry.service_name_for(roles);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            telemetry.sample_ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(service.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("opsconductor");
    let _ = PROVIDER.set(provider);
    ENABLED.store(true, Ordering::Relaxed);
    install(log, Some(tracer));
    tracing::info!(endpoint = %url, service = %service, "Exporting traces over OTLP.");
    Ok(())
}

/// Exports the spans still buffered and stops the exporter; call once the
/// roles have drained. Waits at most the export timeout.
pub async fn shutdown() {
    let Some(provider) = PROVIDER.get().cloned() else {
        return;
    };
    // The batch processor's shutdown blocks until its task has exported:
    // run it off the runtime's worker threads.
    let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "Traces not all exported at shutdown."),
        Err(e) => tracing::warn!(error = %e, "Trace exporter shutdown failed."),
    }
}

/// The subscriber: the log lines on stderr (filtered by `log.level`), and
/// the OpenTelemetry layer when tracing, with a filter of its own so the
/// run's spans are exported whatever the log level.
fn install(cfg: &LogConfig, tracer: Option<opentelemetry_sdk::trace::SdkTracer>) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(with_quiet_dependencies(&cfg.level)));
    let slot = json::DispatchSlot::default();
    let traces = tracer.is_some().then(|| slot.clone());
    let lines = match cfg.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(json::JsonLine { traces })
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    let otel = tracer.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t)
            .with_filter(EnvFilter::new(with_quiet_dependencies("info")))
    });
    // A second init (tests running several roles in one process) keeps the first.
    let installed = tracing_subscriber::registry()
        .with(lines)
        .with(otel)
        .try_init();
    if installed.is_ok() {
        tracing::dispatcher::get_default(|d| {
            let _ = slot.set(d.downgrade());
        });
    }
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
    // The exporter's own HTTP client must not trace or log its requests.
    for own in ["opentelemetry", "opentelemetry_sdk", "opentelemetry_otlp"] {
        if !level.contains(own) {
            filter.push_str(&format!(",{own}=warn"));
        }
    }
    filter
}

#[cfg(test)]
mod tests;
