//! The W3C `traceparent` of bus envelopes and HTTP requests, in and out.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::enabled;

const TRACEPARENT: &str = "traceparent";

/// The W3C `traceparent` of `span`, to send along; `None` when tracing is
/// off or the span is not recorded (filtered out, not sampled).
pub fn inject(span: &Span) -> Option<String> {
    if !enabled() {
        return None;
    }
    traceparent_of(span)
}

/// [`inject`] whether or not this process exports (for a subscriber of its own).
pub(super) fn traceparent_of(span: &Span) -> Option<String> {
    if span.is_disabled() {
        return None;
    }
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The `traceparent` of the current span (what a publish stamps on its
/// envelope); `None` when tracing is off.
pub fn current() -> Option<String> {
    if !enabled() {
        return None;
    }
    inject(&Span::current())
}

/// Makes `span` the child of the remote span `traceparent` names (a bus
/// envelope's, an HTTP header's). Call it right after creating the span,
/// before entering it. A missing or malformed `traceparent` leaves the
/// span a root.
///
/// With tracing off, a valid `traceparent` still gives the span's
/// `trace_id` field (when the span declares one) its trace id, so log
/// lines join the trace the caller started.
pub fn set_parent(span: &Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else {
        return;
    };
    if enabled() {
        adopt(span, tp);
    } else if let Some(id) = trace_id_of(tp) {
        span.record("trace_id", id);
    }
}

/// Sets the OpenTelemetry parent of `span` from `traceparent`.
pub(super) fn adopt(span: &Span, traceparent: &str) {
    let mut carrier = HashMap::with_capacity(1);
    carrier.insert(TRACEPARENT.to_owned(), traceparent.to_owned());
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The trace id (32 lowercase hex digits) of a well-formed version-00
/// `traceparent`; `None` otherwise (an all-zero id is invalid).
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    let ok = version == "00"
        && parts.next().is_none()
        && hex(trace, 32)
        && nonzero(trace)
        && hex(parent, 16)
        && nonzero(parent)
        && hex(flags, 2);
    ok.then_some(trace)
}
