//! Unit tests: the traceparent round trip, "off means none", and the JSON
//! line's fields.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt as _;

use super::propagate::{adopt, traceparent_of};
use super::*;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A dispatcher like production's (OpenTelemetry layer + JSON lines),
/// local to the test, with a provider that exports nowhere.
fn traced(sink: Sink) -> tracing::Dispatch {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("test");
    let slot = json::DispatchSlot::default();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(json::JsonLine {
                        traces: Some(slot.clone()),
                    })
                    .with_writer(move || sink.clone()),
            ),
    );
    let _ = slot.set(dispatch.downgrade());
    dispatch
}

#[test]
fn a_traceparent_makes_the_span_its_child_and_injects_back() {
    tracing::dispatcher::with_default(&traced(Sink::default()), || {
        let span = tracing::info_span!("consume");
        adopt(&span, PARENT);
        let out = traceparent_of(&span).unwrap();
        assert_eq!(trace_id_of(&out), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        // A new span of the same trace, not the remote span itself.
        assert!(!out.contains("00f067aa0ba902b7"), "{out}");
        assert!(out.ends_with("-01"), "{out}");
        let child = span.in_scope(|| traceparent_of(&tracing::info_span!("step")).unwrap());
        assert_eq!(trace_id_of(&child), trace_id_of(&out));
        assert_ne!(child, out);
    });
}

#[test]
fn a_malformed_traceparent_leaves_a_root() {
    tracing::dispatcher::with_default(&traced(Sink::default()), || {
        let span = tracing::info_span!("consume");
        adopt(&span, "00-zz-yy-01");
        let out = traceparent_of(&span).unwrap();
        assert_ne!(trace_id_of(&out), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    });
}

#[test]
fn off_means_no_traceparent() {
    // This test binary never enables export.
    assert!(!enabled());
    tracing::dispatcher::with_default(&traced(Sink::default()), || {
        let span = tracing::info_span!("publish");
        let _in = span.enter();
        assert_eq!(inject(&span), None);
        assert_eq!(current(), None);
    });
    assert_eq!(current(), None);
}

#[test]
fn off_still_logs_the_callers_trace_id() {
    let sink = Sink::default();
    let lines = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(json::JsonLine { traces: None })
        .with_writer({
            let sink = sink.clone();
            move || sink.clone()
        })
        .finish();
    tracing::subscriber::with_default(lines, || {
        let span = tracing::info_span!("shard", run_id = "r1", trace_id = tracing::field::Empty);
        set_parent(&span, Some(PARENT));
        span.in_scope(|| tracing::info!(step_id = "a", "Step finished."));
    });
    let line = &sink.lines()[0];
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(line["run_id"], "r1");
    assert_eq!(line["step_id"], "a");
    assert_eq!(line["message"], "Step finished.");
    assert_eq!(line["span"], "shard");
    assert!(line.get("span_id").is_none());
}

#[test]
fn json_lines_carry_every_spans_fields_and_the_trace_ids() {
    let sink = Sink::default();
    let expected = tracing::dispatcher::with_default(&traced(sink.clone()), || {
        let run = tracing::info_span!("worker.shard", run_id = "r1", job_id = "j1");
        adopt(&run, PARENT);
        let step = run.in_scope(|| tracing::info_span!("worker.step", step_id = "a"));
        step.in_scope(|| tracing::info!(exit_code = 0_u64, "Step finished."));
        traceparent_of(&step).unwrap()
    });
    let line = &sink.lines()[0];
    assert_eq!(line["run_id"], "r1");
    assert_eq!(line["job_id"], "j1");
    assert_eq!(line["step_id"], "a");
    assert_eq!(line["exit_code"], 0);
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    let span_id = line["span_id"].as_str().unwrap();
    assert!(expected.contains(span_id), "{expected} vs {span_id}");
}

#[test]
fn trace_ids_are_read_only_from_well_formed_traceparents() {
    assert_eq!(
        trace_id_of(PARENT),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
    ] {
        assert_eq!(trace_id_of(bad), None, "{bad}");
    }
}
