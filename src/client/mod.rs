//! The operator CLI: commands that talk to a running api over its public HTTP API.
//!
//! Owns the stored session (`session`), the API client with its one-refresh
//! rule (`http`), rendering (`output`), prompts (`prompt`), the live-run
//! follower (`follow`, reading `sse`) and one file per command group
//! (`login`, `users`, `jobs`, `runs`, `schedules`, `scheduler`). It never touches the database, the bus
//! or the server configuration: it is a client like any other. Nothing here
//! prints a token or a password.

pub mod adhoc;
pub mod api_raw;
pub mod audit;
pub mod completions;
pub mod credentials;
pub mod follow;
pub mod groups;
pub mod http;
pub mod jobs;
pub mod login;
pub mod output;
mod prompt;
pub mod resolve;
pub mod runs;
pub mod scheduler;
pub mod schedules;
pub mod session;
pub mod sse;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod workers;

use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::SecretString;

use self::http::{ApiClient, Auth};
use self::session::SessionFile;

pub use self::adhoc::AdhocArgs;
pub use self::api_raw::ApiArgs;
pub use self::jobs::JobsArgs;
pub use self::login::LoginArgs;
pub use self::runs::RunsArgs;
pub use self::scheduler::SchedulerArgs;
pub use self::schedules::SchedulesArgs;
pub use self::users::UsersArgs;

/// Where the api is when neither --url nor OPSC_URL says.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// What the client takes from the environment, read once at start.
#[derive(Debug, Clone, Default)]
pub struct ClientEnv {
    /// `OPSC_URL`: the api base URL.
    pub url: Option<String>,
    /// `OPSC_TOKEN`: an API token used instead of the session.
    pub token: Option<SecretString>,
    /// `OPSC_SESSION_FILE`: where the session is kept.
    pub session_file: Option<PathBuf>,
    /// `XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    /// `HOME`.
    pub home: Option<PathBuf>,
}

impl ClientEnv {
    /// Reads the process environment; empty values count as unset.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let text = |name: &str| var(name).and_then(|v| v.into_string().ok());
        Self {
            url: text("OPSC_URL"),
            token: text("OPSC_TOKEN").map(SecretString::from),
            session_file: var("OPSC_SESSION_FILE").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
        }
    }

    /// The api URL for commands without a session: `OPSC_URL`, else the default.
    pub fn url_or_default(&self) -> &str {
        self.url.as_deref().unwrap_or(DEFAULT_URL)
    }
}

/// A client authenticated by `OPSC_TOKEN`, or else by the stored session.
///
/// With a session the api URL is the one logged in to: its tokens are never
/// sent anywhere else, whatever OPSC_URL says.
pub fn connect(env: &ClientEnv) -> anyhow::Result<ApiClient> {
    if let Some(token) = &env.token {
        return Ok(ApiClient::new(
            env.url_or_default(),
            Auth::Token(token.clone()),
        )?);
    }
    let file = SessionFile::new(session::resolve_path(env)?);
    let session = file.load()?.with_context(|| {
        format!(
            "not logged in (no session at {}): run `opsconductor login`, or set OPSC_TOKEN",
            file.path().display()
        )
    })?;
    if file.too_open() {
        eprintln!(
            "opsconductor: warning: {} is readable by others; run `chmod 600` on it",
            file.path().display()
        );
    }
    Ok(ApiClient::new(
        &session.url.clone(),
        Auth::Session { session, file },
    )?)
}
