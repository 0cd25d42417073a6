//! The JSON log line: one object a line with the event's fields, the
//! fields of every span it happened in (the innermost wins a clash), and,
//! when tracing, `trace_id` and `span_id` of the current span.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The dispatcher the JSON lines are written under, once installed: the
/// ids are read through it (inside an event, `get_default` answers none).
pub(super) type DispatchSlot = Arc<OnceLock<tracing::dispatcher::WeakDispatch>>;

/// The JSON event format (with `JsonFields` formatting span fields).
pub(super) struct JsonLine {
    /// Set when spans have OpenTelemetry contexts to print the ids of.
    pub(super) traces: Option<DispatchSlot>,
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), Value::String(timestamp));
        let meta = event.metadata();
        line.insert("level".into(), Value::String(meta.level().to_string()));
        let mut current = None;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&fields.fields)
                {
                    line.extend(map);
                }
                current = Some((span.id(), span.name()));
            }
        }
        event.record(&mut Fields(&mut line));
        line.insert("target".into(), Value::String(meta.target().to_owned()));
        if let Some((id, name)) = current {
            line.insert("span".into(), Value::String(name.to_owned()));
            if let Some(dispatch) = self.traces.as_ref().and_then(|s| s.get()?.upgrade()) {
                add_trace_ids(&mut line, &id, &dispatch);
            }
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// `trace_id` and `span_id` of span `id` from its OpenTelemetry context.
fn add_trace_ids(
    line: &mut Map<String, Value>,
    id: &tracing::span::Id,
    dispatch: &tracing::Dispatch,
) {
    let Some(cx) = tracing_opentelemetry::get_otel_context(id, dispatch) else {
        return;
    };
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        line.insert("trace_id".into(), Value::String(sc.trace_id().to_string()));
        line.insert("span_id".into(), Value::String(sc.span_id().to_string()));
    }
}

/// Collects an event's fields; `message` stays `message`.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_string()));
    }
}
