//! The HTTP surface: shared state, the route table, and the layers every
//! response passes (request ids, tracing, audit, CORS, body limit, security
//! headers).

pub mod json;
pub mod openapi;
pub mod problem;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use opsc_runtime::Config;
use opsc_runtime::bus::Bus;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::keys::DerivedKeys;
use crate::auth::throttle::{Limits, Throttle};
use crate::settings::Settings;
use crate::store::Store;

/// State shared by every handler; built once.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The system of record.
    pub store: Store,
    /// The bus, for publishing commands and audit events.
    pub bus: Bus,
    /// The configuration.
    pub config: Arc<Config>,
    /// Keys derived from the master key.
    pub keys: Arc<DerivedKeys>,
    /// Login throttling.
    pub throttle: Arc<Throttle>,
    /// Security settings (cached).
    pub settings: Settings,
    /// An Argon2 hash checked for unknown users, so they cost the same time.
    pub dummy_hash: Arc<str>,
    /// Key-encryption keys of the credential vault.
    pub vault: Arc<crate::vault::Keyring>,
    /// Seals credentials for the worker pool that uses them.
    pub sealer: Arc<opsc_runtime::seal::PoolSealer>,
    /// Live workers, from their heartbeats.
    pub workers: crate::workers::Registry,
}

impl AppState {
    /// Builds the state; fails on a bad master key.
    pub fn new(store: Store, bus: Bus, config: Arc<Config>) -> anyhow::Result<Self> {
        let master = config.master_key()?;
        let keys = DerivedKeys::from_master(master.expose());
        let retired: Vec<[u8; 32]> = config
            .retired_master_keys()?
            .iter()
            .map(|k| *k.expose())
            .collect();
        let vault = crate::vault::Keyring::new(master.expose(), &retired);
        let a = &config.auth;
        let throttle = Throttle::new(Limits {
            per_address: usize::try_from(a.address_failure_limit).unwrap_or(usize::MAX),
            window: Duration::from_secs(15 * 60),
            lockout_threshold: a.lockout_threshold,
            lockout: Duration::from_secs(a.lockout_secs),
        });
        let dummy = crate::password::hash(&crate::password::generate())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(Self {
            settings: Settings::new(store.db().clone()),
            store,
            bus,
            keys: Arc::new(keys),
            throttle: Arc::new(throttle),
            dummy_hash: dummy.into(),
            vault: Arc::new(vault),
            sealer: Arc::new(opsc_runtime::seal::PoolSealer::new(config.master_key()?)),
            workers: crate::workers::Registry::new(Duration::from_secs(
                config.worker.heartbeat_secs,
            )),
            config,
        })
    }
}

/// The request-id header, set when the client did not send one.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API routes, the OpenAPI document and the reference page.
/// Unknown paths answer a problem+json 404. Every request is audited as
/// `audit::record_layer` decides.
pub fn router(state: AppState) -> Router {
    let doc = openapi::document_text();
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
        .fallback(problem::not_found)
        .layer(from_fn_with_state(
            state.clone(),
            crate::audit::record_layer,
        ))
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
                let trace_id = req
                    .headers()
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|tp| tp.split('-').nth(1))
                    .unwrap_or(request_id);
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id, trace_id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
            .layer(CatchPanicLayer::custom(problem::panic_response))
            .layer(RequestBodyLimitLayer::new(config.http.max_body_bytes)),
    )
}
