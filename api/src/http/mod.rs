//! The HTTP surface: routes, shared state, and the layers every response passes.

pub mod problem;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use opsc_runtime::Config;
use opsc_runtime::bus::Bus;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::store::Store;

/// State shared by every handler; built once.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The system of record.
    pub store: Store,
    /// The bus, for publishing commands.
    pub bus: Bus,
    /// The configuration.
    pub config: Arc<Config>,
}

/// The request-id header, set when the client did not send one.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API routes. Unknown paths answer a problem+json 404.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(problem::not_found).with_state(state)
}

/// Request ids, tracing spans, body limit, panic safety and security headers.
pub fn layers(app: Router, max_body_bytes: usize) -> Router {
    let security = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    let mut app = app;
    for (name, value) in security {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let trace_id = req
                        .headers()
                        .get("traceparent")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|tp| tp.split('-').nth(1))
                        .unwrap_or(request_id);
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id,
                        trace_id,
                    )
                }),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
            .layer(CatchPanicLayer::custom(problem::panic_response))
            .layer(RequestBodyLimitLayer::new(max_body_bytes)),
    )
}
