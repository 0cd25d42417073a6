//! Shared runtime of every OpsConductor role.
//!
//! Owns what each role needs the same way, so role crates stay free of
//! copy-paste: the typed layered [`config`], [`telemetry`] (logs), the NATS
//! connection and idempotent topology provisioning ([`bus`]), the operability
//! endpoints `/healthz`, `/readyz`, `/metrics` ([`health`], [`metrics`]), and
//! signal handling ([`shutdown`]), and key material ([`keys`]).
//!
//! It must not know about any role's domain: no database, no job model, no
//! HTTP API beyond the operability endpoints.

pub mod bus;
pub mod config;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;

pub use config::{Config, ConfigError, Role};
pub use health::{Check, CheckFn, Health};
pub use metrics::Metrics;

/// Version of the running build, reported in heartbeats and metrics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
