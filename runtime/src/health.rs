//! `/healthz`, `/readyz` and `/metrics`, served by every role.
//!
//! `/healthz` answers 200 while the process runs and never checks a
//! dependency, so an orchestrator restarts only a wedged process. `/readyz`
//! runs every registered [`Check`] and answers 503 naming each failing
//! dependency, so traffic and work move away while it is down.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::Metrics;

/// Result of one readiness check: `Err` says what is wrong.
pub type CheckResult = Result<(), String>;
/// A readiness check function.
pub type CheckFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = CheckResult> + Send>> + Send + Sync>;

/// A named readiness check (`nats`, `database`, `topology` …).
#[derive(Clone)]
pub struct Check {
    /// The dependency it checks, named in the 503 answer.
    pub name: &'static str,
    /// The check itself; it must answer within a second.
    pub run: CheckFn,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

impl Check {
    /// A check from an async closure.
    pub fn new<F, Fut>(name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        Self {
            name,
            run: Arc::new(move || Box::pin(f())),
        }
    }
}

/// The operability endpoints of a process.
#[derive(Clone, Debug)]
pub struct Health {
    checks: Arc<Vec<Check>>,
    metrics: Metrics,
}

impl Health {
    /// Endpoints running `checks` and rendering `metrics`.
    pub fn new(checks: Vec<Check>, metrics: Metrics) -> Self {
        Self {
            checks: Arc::new(checks),
            metrics,
        }
    }

    /// Runs every check concurrently; the failing ones with their reason.
    pub async fn failing(&self) -> Vec<(&'static str, String)> {
        let runs = self.checks.iter().map(|c| async move {
            let outcome = tokio::time::timeout(Duration::from_secs(2), (c.run)())
                .await
                .unwrap_or_else(|_| Err("check timed out".to_owned()));
            (c.name, outcome)
        });
        let mut failing = Vec::new();
        for (name, outcome) in futures::future::join_all(runs).await {
            let gauge = self
                .metrics
                .ready
                .get_or_create(&vec![("check".to_owned(), name.to_owned())]);
            match outcome {
                Ok(()) => {
                    gauge.set(1);
                }
                Err(why) => {
                    gauge.set(0);
                    failing.push((name, why));
                }
            }
        }
        failing
    }

    /// The router with the three endpoints, to serve alone or merge into an API.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(self.clone())
    }

    /// Serves the endpoints on `addr` until `shutdown` is cancelled.
    pub async fn serve(self, addr: SocketAddr, shutdown: CancellationToken) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for health endpoints: {e}"))?;
        tracing::info!(%addr, "Serving /healthz, /readyz and /metrics.");
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" })))
}

async fn readyz(State(h): State<Health>) -> impl IntoResponse {
    let failing = h.failing().await;
    if failing.is_empty() {
        return (StatusCode::OK, axum::Json(json!({ "status": "ready" })));
    }
    let checks: serde_json::Map<String, serde_json::Value> = failing
        .into_iter()
        .map(|(name, why)| (name.to_owned(), json!(why)))
        .collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "status": "unavailable", "failing": checks })),
    )
}

async fn metrics(State(h): State<Health>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        h.metrics.render(),
    )
}
