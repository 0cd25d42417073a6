//! End-to-end tests against real NATS JetStream, PostgreSQL and the real binary.
//!
//! Every test isolates itself: its own `OPSC_NATS_PREFIX`, its own database,
//! its own ports, and — for fault tests — its own nats-server process. The
//! shared services of the machine are never stopped.
//!
//! Environment: `OPSC_TEST_NATS_URL` (default `nats://127.0.0.1:4222`),
//! `OPSC_TEST_DATABASE_URL` (a server URL, default
//! `postgres://postgres@127.0.0.1:5432`), `OPSC_TEST_NATS_SERVER` (the
//! nats-server binary for private servers, default from `PATH` or
//! `/usr/sbin/nats-server`).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first broken expectation"
)]

mod harness;

mod access_matrix;
mod activity;
mod adhoc;
mod api_fuzz;
mod audit_trail;
mod auth_flows;
mod bus_restart;
mod cli;
mod cli_inventory;
mod cli_jobs_runs;
mod cli_walkthrough;
mod concurrency;
mod config_errors;
mod connection_tests;
mod console_api;
mod console_browser;
mod console_serving;
mod credential_scope;
mod credentials;
mod dead_letters;
mod dependencies_api;
mod dev;
mod egress;
mod full_job;
mod hardening;
mod host_access;
mod http_steps;
mod insights;
mod intents;
mod isolation;
mod job_ownership;
mod jobs;
mod live;
mod live_cli;
mod live_cli_resume;
mod live_resume;
mod migrate;
mod names_in_documents;
mod notifications_api;
mod notifier_core;
mod notifier_scenarios;
mod notify_channels;
mod notify_config_api;
mod notify_flow;
mod notify_steps;
mod observability;
mod parallelism;
mod problem_details;
mod readiness;
mod recorder_faults;
mod remote_cancel;
mod run_lineage;
mod runs;
mod scheduler_guards;
mod scheduler_ha;
mod scheduler_reactions;
mod schedules_api;
mod schedules_cli;
mod sftp_steps;
mod step_types;
mod targets;
mod template_safety;
mod topology;
mod traces;
mod windows_api;
mod winrm_steps;
mod worker_loss;
mod workers;
