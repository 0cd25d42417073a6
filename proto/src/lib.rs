//! Wire contracts of OpsConductor.
//!
//! This crate owns every name and shape that crosses the bus: the installation
//! [`Prefix`] and the [`Subjects`] derived from it, the declared bus
//! [`topology`] (streams, durable consumers, KV buckets), the CloudEvents
//! [`envelope`], and the typed, versioned [`commands`] and [`events`], from
//! which the JSON Schemas in `schemas/` are generated ([`schema`]).
//!
//! It does no I/O and depends on no runtime: roles, tests and integrators'
//! tools can all link it. Changing a type here changes a public contract:
//! regenerate the schemas (`opsconductor schemas write`) and document the
//! change in `docs/events.md`.

pub mod commands;
pub mod dispatch;
pub mod envelope;
pub mod events;
pub mod job;
pub mod job_check;
pub mod material;
pub mod notify;
pub mod prefix;
pub mod probe;
pub mod run_policy;
pub mod schedule;
pub mod schema;
pub mod signing;
pub mod step_catalog;
pub mod subjects;
pub mod topology;

pub use envelope::{CloudEvent, EventType, RawEvent, Routed};
pub use prefix::{Prefix, PrefixError};
pub use subjects::Subjects;
