//! The stored session: where it lives, and reading and writing it with mode 0600.
//!
//! The file holds a refresh token, so it is created readable by its owner only
//! (the folder 0700), and replaced atomically so a crash never leaves half a file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

use super::ClientEnv;

/// An access token this close to its expiry is treated as expired already.
const EXPIRY_MARGIN_SECS: i64 = 30;

/// The token pair the api answers to login and refresh.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// Short-lived bearer token.
    pub access_token: SecretString,
    /// Single-use token that obtains the next pair.
    pub refresh_token: SecretString,
    /// Lifetime of the access token, in seconds.
    pub expires_in: u64,
}

/// A logged-in session. `Debug` never shows the tokens.
#[derive(Debug, Deserialize)]
pub struct Session {
    /// The api base URL the tokens belong to.
    pub url: String,
    /// Who logged in.
    pub username: String,
    /// The current bearer token.
    pub access_token: SecretString,
    /// The token that obtains the next pair.
    pub refresh_token: SecretString,
    /// When `access_token` stops working.
    pub access_expires_at: DateTime<Utc>,
}

/// The file's shape; `SecretString` deliberately has no `Serialize`.
#[derive(Serialize)]
struct Stored<'a> {
    url: &'a str,
    username: &'a str,
    access_token: &'a str,
    refresh_token: &'a str,
    access_expires_at: DateTime<Utc>,
}

impl Session {
    /// A session from a fresh token pair received at `now`.
    pub fn new(url: String, username: String, tokens: Tokens, now: DateTime<Utc>) -> Self {
        Self {
            url,
            username,
            access_expires_at: expiry(&tokens, now),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }
    }

    /// Takes the pair a refresh returned.
    pub fn update(&mut self, tokens: Tokens, now: DateTime<Utc>) {
        self.access_expires_at = expiry(&tokens, now);
        self.access_token = tokens.access_token;
        self.refresh_token = tokens.refresh_token;
    }

    /// Whether the access token has expired, or will within a few seconds.
    pub fn access_expired(&self, now: DateTime<Utc>) -> bool {
        now + Duration::seconds(EXPIRY_MARGIN_SECS) >= self.access_expires_at
    }
}

/// No access token lives longer than this; bounds a nonsensical `expires_in`.
const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;

fn expiry(tokens: &Tokens, now: DateTime<Utc>) -> DateTime<Utc> {
    let secs = tokens.expires_in.min(MAX_LIFETIME_SECS);
    now + Duration::seconds(i64::try_from(secs).unwrap_or(0))
}

/// The session file cannot be found, read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Neither OPSC_SESSION_FILE, XDG_CONFIG_HOME nor HOME says where it goes.
    #[error("cannot tell where to keep the session: set OPSC_SESSION_FILE or HOME")]
    NoPath,
    /// Reading, writing or removing failed.
    #[error("session file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is not a session this version understands.
    #[error("session file {} is damaged ({source}): run `opsconductor login` again", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Where the session lives: `OPSC_SESSION_FILE`, else
/// `$XDG_CONFIG_HOME/opsconductor/session.json`, else
/// `$HOME/.config/opsconductor/session.json`.
pub fn resolve_path(env: &ClientEnv) -> Result<PathBuf, SessionError> {
    if let Some(p) = &env.session_file {
        return Ok(p.clone());
    }
    // The XDG spec says a relative value is invalid and must be ignored.
    let config_dir = match (&env.xdg_config_home, &env.home) {
        (Some(xdg), _) if xdg.is_absolute() => xdg.clone(),
        (_, Some(home)) => home.join(".config"),
        _ => return Err(SessionError::NoPath),
    };
    Ok(config_dir.join("opsconductor").join("session.json"))
}

/// The session file at one path.
#[derive(Debug, Clone)]
pub struct SessionFile {
    path: PathBuf,
}

impl SessionFile {
    /// The file at `path` (which need not exist yet).
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored session, or `None` when there is no file.
    pub fn load(&self) -> Result<Option<Session>, SessionError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| SessionError::Parse {
                path: self.path.clone(),
                source,
            })
    }

    /// Whether group or others can read the file (they never should).
    pub fn too_open(&self) -> bool {
        fs::metadata(&self.path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }

    /// Writes `session`, mode 0600, replacing any previous file atomically.
    pub fn save(&self, session: &Session) -> Result<(), SessionError> {
        let stored = Stored {
            url: &session.url,
            username: &session.username,
            access_token: session.access_token.expose_secret(),
            refresh_token: session.refresh_token.expose_secret(),
            access_expires_at: session.access_expires_at,
        };
        let mut text =
            serde_json::to_vec_pretty(&stored).map_err(|source| SessionError::Parse {
                path: self.path.clone(),
                source,
            })?;
        text.push(b'\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| self.io(e))?;
        }
        let tmp = self.tmp_path();
        let written = write_private(&tmp, &text).and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.io(e));
        }
        Ok(())
    }

    /// Deletes the file; whether there was one.
    pub fn remove(&self) -> Result<bool, SessionError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Takes the exclusive lock that serializes refreshes of this session
    /// across processes; held until the guard is dropped.
    pub fn lock(&self) -> Result<RefreshLock, SessionError> {
        let path = self.sibling(".lock");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|source| SessionError::Io { path, source })?;
        Ok(RefreshLock { _file: file })
    }

    /// Deletes the lock file (at logout).
    pub fn remove_lock(&self) {
        let _ = fs::remove_file(self.sibling(".lock"));
    }

    fn tmp_path(&self) -> PathBuf {
        self.sibling(&format!(".{}.tmp", std::process::id()))
    }

    /// The session file's path with `suffix` appended to its name.
    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn io(&self, source: io::Error) -> SessionError {
        SessionError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// The refresh lock; released when dropped.
#[derive(Debug)]
pub struct RefreshLock {
    _file: File,
}

/// Creates `path` with mode 0600 from the start (never briefly wider).
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A leftover temporary file keeps its old mode: narrow it either way.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
