//! Request handlers, one file per resource. Access rules are not here: they
//! are declared with each route in `http::routes`.

pub mod audit;
pub mod auth;
pub mod credentials;
pub mod groups;
pub mod me;
pub mod mfa;
pub mod settings;
pub mod targets;
pub mod tokens;
pub mod users;
