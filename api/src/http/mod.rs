//! The HTTP surface: shared state, the route table, and the layers every
//! response passes (request ids, tracing, audit, CORS, body limit, security
//! headers).

pub mod audit_layer;
pub mod client;
pub mod errors;
pub mod guard;
pub mod json;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod uniform;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use opsc_runtime::Config;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::console::Console;
use crate::core::Core;

/// State shared by every handler: the [`Core`], which is everything the
/// domain modules need; HTTP adds nothing of its own that must be shared.
#[derive(Clone, Debug)]
pub struct AppState(pub Core);

impl std::ops::Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.0
    }
}

/// The request-id header, set when the client did not send one.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API routes, the OpenAPI document, the reference page and the
/// console (every path outside `/api/`). Unknown `/api/` paths answer a
/// problem+json 404. Every request is audited as
/// `audit::record_layer` decides.
pub fn router(state: AppState) -> Router {
    let doc = openapi::document_text();
    let console = Console::from_config(state.config.http.console_dir.as_deref());
    routes::router(&state)
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], doc) }
            }),
        )
        .route("/api/docs", get(|| async { Html(openapi::REFERENCE_HTML) }))
        .route(
            "/api/docs/reference.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    openapi::REFERENCE_JS,
                )
                    .into_response()
            }),
        )
        .route(
            "/api/docs/reference.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    openapi::REFERENCE_CSS,
                )
                    .into_response()
            }),
        )
        .fallback(
            move |method: Method, uri: axum::http::Uri, headers: axum::http::HeaderMap| {
                let console = console.clone();
                async move {
                    if uri.path() == "/api" || uri.path().starts_with("/api/") {
                        problem::not_found(method, uri, headers)
                            .await
                            .into_response()
                    } else {
                        console.serve(&method, &uri, &headers).await
                    }
                }
            },
        )
        .layer(from_fn_with_state(state.clone(), audit_layer::record))
        .with_state(state)
}

/// Request ids, tracing spans, CORS, body limit, panic safety and security headers.
pub fn layers(app: Router, config: &Config) -> Router {
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
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
    ];
    let mut app = app;
    for (name, value) in security {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if !config.http.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = config
            .http
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    REQUEST_ID.clone(),
                    // A run stream's resume point, and a run's or re-run's
                    // idempotency key.
                    HeaderName::from_static("last-event-id"),
                    HeaderName::from_static("idempotency-key"),
                ])
                .expose_headers([REQUEST_ID.clone()])
                .max_age(Duration::from_secs(600)),
        );
    }
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let traceparent = req.headers().get("traceparent").and_then(|v| v.to_str().ok());
                // Tracing on: the OpenTelemetry ids are logged; off: the
                // caller's trace id, else the request id.
                let trace_id = if opsc_runtime::telemetry::enabled() {
                    None
                } else {
                    Some(traceparent.and_then(opsc_runtime::telemetry::trace_id_of).unwrap_or(request_id))
                };
                let span = tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id, trace_id);
                opsc_runtime::telemetry::set_parent(&span, traceparent);
                span
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
            .layer(axum::middleware::from_fn(uniform::uniform))
            .layer(CatchPanicLayer::custom(problem::panic_response))
            .layer(RequestBodyLimitLayer::new(config.http.max_body_bytes)),
    )
}
