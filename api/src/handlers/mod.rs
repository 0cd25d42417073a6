//! Request handlers, one file per resource. Access rules are not here: they
//! are declared with each route in `http::routes`, and a job's owner and
//! grants are checked by the domain calls (`jobs::access`).

pub mod adhoc;
pub mod audit;
pub mod auth;
pub mod console_auth;
pub mod credential_usage;
pub mod credentials;
pub mod dependencies;
pub mod groups;
pub mod insights;
pub mod job_access;
pub mod job_bulk;
pub mod jobs;
pub mod me;
pub mod mfa;
pub mod notifications;
pub mod notify_config;
pub mod run_preview;
pub mod run_stream;
pub mod runs;
pub mod scheduler;
pub mod schedules;
pub mod search;
pub mod settings;
pub mod step_types;
pub mod target_tests;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod windows;
pub mod workers;
