//! WinRM: remote shells over WS-Management through the `winrm-rs` 1.1
//! client (Create shell, Command, Receive until `Done`, Signal terminate,
//! Delete shell), shared by connection tests and the `winrm.*` steps.
//!
//! Limits of this client, which the job engine inherits:
//! * Kerberos needs winrm-rs's `kerberos` feature, system GSSAPI libraries
//!   and a ticket from `kinit`; this build has none and answers `auth`.
//! * NTLM over plain HTTP: winrm-rs 1.1 authenticates with the first SOAP
//!   body in clear and frames its sealed bodies in a way Windows refuses
//!   (HTTP 400), after which it re-authenticates and sends in clear. So a
//!   host needs `AllowUnencrypted = true` for NTLM over HTTP; with the default
//!   `false`, use HTTPS. Basic over HTTP needs `AllowUnencrypted` as well.
//! * HTTPS with `verify_tls` trusts the webpki roots only, not the system
//!   store: a certificate from a private CA needs `verify_tls = false`.
//! * A Receive with nothing to report for the whole WS-Man operation timeout
//!   ends in a `w:TimedOut` fault; [`Session::receive`] polls again then, so
//!   a quiet command may run longer than the operation timeout.
//! * No stdin: commands get no input.
//!
//! Error texts never contain the password.

mod connect;
mod session;

use std::net::IpAddr;
use std::time::Duration;

use opsc_proto::dispatch::DispatchWinrm;
use opsc_proto::material::CredentialMaterial;
use opsc_proto::probe::{FailureStage, WinrmProbe};
use tokio_util::sync::CancellationToken;

pub use session::{Received, Session, ShellOptions};

/// Who logs on, and how.
#[derive(Clone)]
pub struct WinrmLogin {
    /// Account name.
    pub username: String,
    /// Password.
    pub password: String,
    /// NetBIOS domain (NTLM); `None` for a local account.
    pub domain: Option<String>,
    /// Authentication scheme.
    pub auth: WinrmAuthKind,
}

impl std::fmt::Debug for WinrmLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WinrmLogin")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("domain", &self.domain)
            .field("auth", &self.auth)
            .finish()
    }
}

impl WinrmLogin {
    /// The login of a `winrm` credential.
    pub fn from_material(material: CredentialMaterial) -> Result<Self, String> {
        let CredentialMaterial::Winrm {
            username,
            password,
            domain,
            auth,
        } = material
        else {
            return Err(format!(
                "a {} credential cannot log in over WinRM",
                material.kind()
            ));
        };
        let auth = match auth.as_str() {
            "basic" => WinrmAuthKind::Basic,
            "ntlm" => WinrmAuthKind::Ntlm,
            "kerberos" => WinrmAuthKind::Kerberos,
            other => return Err(format!("unknown WinRM authentication {other:?}")),
        };
        Ok(Self {
            username,
            password,
            domain,
            auth,
        })
    }
}

/// WinRM authentication schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinrmAuthKind {
    /// HTTP Basic (local accounts only, on Windows).
    Basic,
    /// NTLMv2 under `Negotiate`.
    Ntlm,
    /// Kerberos; not supported by this build.
    Kerberos,
}

/// The interpreter a script runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// `powershell.exe -NoProfile -NonInteractive -EncodedCommand`.
    PowerShell,
    /// A command line, run by the shell as under `cmd /c`.
    Cmd,
}

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Standard output (UTF-8, lossily decoded).
    pub stdout: String,
    /// Standard error; PowerShell error records are decoded from CLIXML.
    pub stderr: String,
    /// Exit code (`-1` when the host reported none).
    pub exit_code: i32,
}

impl Output {
    /// The output, or a `command` failure when the exit code is not 0.
    pub fn into_success(self) -> Result<Output, Failure> {
        if self.exit_code == 0 {
            return Ok(self);
        }
        Err((
            FailureStage::Command,
            format!("exited with {}: {}", self.exit_code, excerpt(&self.stderr)),
        ))
    }
}

/// Where a connection or command stopped, and why.
pub type Failure = (FailureStage, String);

/// How to reach the WinRM listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTPS rather than HTTP.
    pub https: bool,
    /// TCP port.
    pub port: u16,
    /// Verify the server certificate.
    pub verify_tls: bool,
}

impl From<&WinrmProbe> for Endpoint {
    fn from(p: &WinrmProbe) -> Self {
        Self {
            https: p.https,
            port: p.port,
            verify_tls: p.verify_tls,
        }
    }
}

impl From<&DispatchWinrm> for Endpoint {
    fn from(d: &DispatchWinrm) -> Self {
        Self {
            https: d.https,
            port: d.port,
            verify_tls: d.verify_tls,
        }
    }
}

/// A host to run commands on.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Host name or address.
    pub hostname: &'a str,
    /// Transport settings.
    pub endpoint: Endpoint,
    /// Credential.
    pub login: &'a WinrmLogin,
    /// Allowed to resolve, connect, authenticate and open the shell.
    pub connect_timeout: Duration,
    /// This worker's egress policy.
    pub egress: &'a crate::egress::Egress,
}

/// Runs one script in a fresh shell; `command_timeout` bounds the command.
pub async fn run(
    target: &Target<'_>,
    shell: Shell,
    script: &str,
    command_timeout: Duration,
) -> Result<Output, Failure> {
    let session = Session::open(target, &ShellOptions::default(), command_timeout).await?;
    let never = CancellationToken::new();
    let result =
        tokio::time::timeout(command_timeout, session.collect(shell, script, &never)).await;
    session.close().await;
    match result {
        Err(_) => Err((
            FailureStage::Command,
            format!(
                "the command did not finish within {}s",
                command_timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(Some(out))) => Ok(out),
        Ok(Ok(None)) => Err((FailureStage::Command, "interrupted".into())),
    }
}

/// `scheme://host:port`, for messages.
fn place(hostname: &str, endpoint: Endpoint) -> String {
    let scheme = if endpoint.https { "https" } else { "http" };
    format!("{scheme}://{}:{}", url_host(hostname), endpoint.port)
}

/// An IPv6 literal in brackets, as a URL needs it.
fn url_host(hostname: &str) -> String {
    match hostname.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => hostname.to_owned(),
    }
}

fn whole_secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// An error and its causes, `: `-joined.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The first 300 characters, on one line.
pub fn excerpt(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

fn redact(message: &str, password: &str) -> String {
    if password.is_empty() {
        message.to_owned()
    } else {
        message.replace(password, "[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_password_and_stay_short() {
        assert_eq!(redact("bad hunter2 here", "hunter2"), "bad [redacted] here");
        assert_eq!(excerpt(&"x ".repeat(400)).chars().count(), 303);
        assert_eq!(url_host("::1"), "[::1]");
        assert_eq!(url_host("win1.example"), "win1.example");
    }

    #[test]
    fn a_login_comes_only_from_a_winrm_credential() {
        let m = CredentialMaterial::Winrm {
            username: "u".into(),
            password: "p".into(),
            domain: None,
            auth: "ntlm".into(),
        };
        assert_eq!(
            WinrmLogin::from_material(m).unwrap().auth,
            WinrmAuthKind::Ntlm
        );
        let m = CredentialMaterial::Winrm {
            username: "u".into(),
            password: "p".into(),
            domain: None,
            auth: "digest".into(),
        };
        assert!(WinrmLogin::from_material(m).is_err());
    }
}
