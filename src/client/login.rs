//! `opsconductor login` and `opsconductor logout`.

use anyhow::{Context as _, bail};
use clap::Args;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::http::{ApiClient, ApiError, Auth, Problem, parse_base};
use super::session::{self, Session, SessionFile};
use super::{ClientEnv, output, prompt};

/// `login` arguments.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The api base URL [env OPSC_URL, default http://127.0.0.1:8080].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Who logs in (asked for when not given).
    #[arg(long, short = 'u', value_name = "NAME")]
    pub username: Option<String>,
    /// Read the password from the first line of standard input (and, if the
    /// account has two-factor authentication, the code from the second)
    /// instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Logs in and stores the session (mode 0600).
pub async fn login(env: &ClientEnv, args: LoginArgs) -> anyhow::Result<()> {
    let url = args
        .url
        .as_deref()
        .unwrap_or_else(|| env.url_or_default())
        .trim_end_matches('/')
        .to_owned();
    parse_base(&url)?;
    let file = SessionFile::new(session::resolve_path(env)?);
    let username = match args.username {
        Some(u) if !u.trim().is_empty() => u.trim().to_owned(),
        Some(_) => bail!("--username is empty"),
        None if args.password_stdin => bail!("--password-stdin needs --username"),
        None => prompt::line("Username: ")?,
    };
    let password = if args.password_stdin {
        prompt::secret_from_stdin("password")?
    } else {
        prompt::secret("Password: ")?
    };

    let client = ApiClient::new(&url, Auth::None)?;
    let tokens = match client.login(&body(&username, &password, None)).await {
        Err(ApiError::Problem(p)) if p.is_mfa_required() => {
            let code = if args.password_stdin {
                prompt::secret_from_stdin("two-factor code")?
            } else {
                SecretString::from(prompt::line("Two-factor code: ")?)
            };
            client.login(&body(&username, &password, Some(&code))).await
        }
        other => other,
    }
    .with_context(|| format!("logging in to {url} as {}", output::sanitize(&username)))?;

    let session = Session::new(url.clone(), username.clone(), tokens, chrono::Utc::now());
    file.save(&session)
        .context("the login worked, but the session could not be stored")?;
    output::print(&format!(
        "Logged in to {} as {}.\n",
        output::sanitize(&url),
        output::sanitize(&username)
    ))?;
    if env.token.is_some() {
        eprintln!("Note: OPSC_TOKEN is set; the other commands use it instead of this session.");
    }
    Ok(())
}

fn body(username: &str, password: &SecretString, code: Option<&SecretString>) -> Value {
    let mut body = json!({ "username": username, "password": password.expose_secret() });
    if let (Some(code), Some(map)) = (code, body.as_object_mut()) {
        map.insert("totp_code".into(), code.expose_secret().trim().into());
    }
    body
}

/// Revokes the stored refresh token and deletes the session file.
///
/// The file is deleted even when the api cannot be reached, so the machine
/// keeps no credentials; the command then fails to say the token may still
/// be valid until it expires.
pub async fn logout(env: &ClientEnv) -> anyhow::Result<()> {
    let file = SessionFile::new(session::resolve_path(env)?);
    let stored = match file.load() {
        Ok(s) => s,
        Err(e) => {
            file.remove()?;
            return Err(e).context("removed the unreadable session file");
        }
    };
    let Some(session) = stored else {
        eprintln!("Not logged in.");
        return Ok(());
    };
    let revoked = match ApiClient::new(&session.url, Auth::None) {
        Ok(client) => client.logout(&session.refresh_token).await,
        Err(e) => Err(e),
    };
    file.remove()?;
    file.remove_lock();
    match revoked {
        // 401: the refresh token had expired or was revoked already.
        Ok(()) | Err(ApiError::Problem(Problem { status: 401, .. })) => {
            output::print(&format!(
                "Logged out of {}.\n",
                output::sanitize(&session.url)
            ))?;
            Ok(())
        }
        Err(e) => Err(e).context(
            "removed the local session, but the api did not confirm revoking it (it stays valid until it expires)",
        ),
    }
}
