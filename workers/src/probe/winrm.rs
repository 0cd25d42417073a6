//! WinRM: connection tests and remote commands over WS-Management, through
//! the `winrm-rs` 1.1 client (Create shell, Command, Receive until `Done`,
//! Signal terminate, Delete shell).
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
//!   ends in a `w:TimedOut` fault, which winrm-rs 1.1 reports as an error; the
//!   operation timeout is therefore set to the whole command budget.
//!
//! Error texts never contain the password.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use opsc_proto::probe::{FailureStage, WinrmProbe};
use tokio::time::{Instant, timeout, timeout_at};
use winrm_rs::{AuthMethod, SoapError, WinrmClient, WinrmConfig, WinrmCredentials, WinrmError};

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
    /// `powershell.exe -EncodedCommand`.
    PowerShell,
    /// A `cmd` command line.
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

/// A host to run commands on.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Host name or address.
    pub hostname: &'a str,
    /// Transport settings.
    pub settings: &'a WinrmProbe,
    /// Credential.
    pub login: &'a WinrmLogin,
    /// Allowed to resolve, connect, authenticate and open the shell.
    pub connect_timeout: Duration,
}

/// One PowerShell script printing `key=value` lines.
const FACTS: &str = "$ErrorActionPreference = 'Stop'
$os = Get-CimInstance -ClassName Win32_OperatingSystem
Write-Output \"hostname=$env:COMPUTERNAME\"
Write-Output \"os_caption=$($os.Caption)\"
Write-Output \"os_version=$($os.Version)\"
Write-Output \"powershell_version=$($PSVersionTable.PSVersion.ToString())\"
";
const FACT_KEYS: [&str; 4] = ["hostname", "os_caption", "os_version", "powershell_version"];
/// Closing the shell is best effort and must not hold up the answer.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects, opens a shell, gathers facts, closes the shell.
pub async fn probe(
    hostname: &str,
    settings: &WinrmProbe,
    login: &WinrmLogin,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, Failure> {
    let target = Target {
        hostname,
        settings,
        login,
        connect_timeout: timeout,
    };
    let out = run(&target, Shell::PowerShell, FACTS, timeout)
        .await?
        .into_success()
        .map_err(|(stage, e)| (stage, format!("the facts script {e}")))?;
    let facts = parse_facts(&out.stdout);
    match FACT_KEYS.iter().find(|k| !facts.contains_key(**k)) {
        None => Ok(facts),
        Some(missing) => Err((
            FailureStage::Command,
            format!(
                "the facts script printed no {missing}: {}",
                excerpt(&out.stdout)
            ),
        )),
    }
}

/// Runs one script in a fresh shell; `command_timeout` bounds the command.
pub async fn run(
    target: &Target<'_>,
    shell: Shell,
    script: &str,
    command_timeout: Duration,
) -> Result<Output, Failure> {
    run_unredacted(target, shell, script, command_timeout)
        .await
        .map_err(|(stage, message)| (stage, redact(&message, &target.login.password)))
}

async fn run_unredacted(
    t: &Target<'_>,
    shell: Shell,
    script: &str,
    command_timeout: Duration,
) -> Result<Output, Failure> {
    let auth_method = match t.login.auth {
        WinrmAuthKind::Basic => AuthMethod::Basic,
        WinrmAuthKind::Ntlm => AuthMethod::Ntlm,
        WinrmAuthKind::Kerberos => {
            return Err((
                FailureStage::Auth,
                "kerberos is not supported by this worker build".into(),
            ));
        }
    };
    let deadline = Instant::now() + t.connect_timeout;
    let addrs = resolve(t, deadline).await?;
    reach(t, &addrs, deadline).await?;
    let config = WinrmConfig {
        port: t.settings.port,
        use_tls: t.settings.https,
        accept_invalid_certs: !t.settings.verify_tls,
        connect_timeout_secs: whole_secs(t.connect_timeout),
        operation_timeout_secs: whole_secs(command_timeout),
        auth_method,
        ..WinrmConfig::default()
    };
    let login = t.login;
    let credentials = WinrmCredentials::new(
        &login.username,
        login.password.as_str(),
        login.domain.clone().unwrap_or_default(),
    );
    let client = WinrmClient::new(config, credentials)
        .map_err(|e| (FailureStage::Worker, format!("WinRM client not built: {e}")))?;
    let host = url_host(t.hostname);
    let remote = match timeout_at(deadline, client.open_shell(&host)).await {
        Err(_) => {
            return Err((
                FailureStage::Handshake,
                format!(
                    "{}: no WinRM answer within {}s",
                    place(t),
                    t.connect_timeout.as_secs()
                ),
            ));
        }
        Ok(Err(e)) => return Err(classify(&e, t, FailureStage::Handshake)),
        Ok(Ok(remote)) => remote,
    };
    let result = {
        let running = async {
            match shell {
                Shell::PowerShell => remote.run_powershell(script).await,
                Shell::Cmd => remote.run_command(script, &[]).await,
            }
        };
        timeout(command_timeout, running).await
    };
    match timeout(CLOSE_TIMEOUT, remote.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let error = redact(&e.to_string(), &login.password);
            tracing::debug!(host = t.hostname, %error, "WinRM shell not closed.");
        }
        Err(_) => tracing::debug!(host = t.hostname, "WinRM shell not closed in time."),
    }
    match result {
        Err(_) => Err((
            FailureStage::Command,
            format!(
                "the command did not finish within {}s",
                command_timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => Err(classify(&e, t, FailureStage::Command)),
        Ok(Ok(out)) => Ok(Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            exit_code: out.exit_code,
        }),
    }
}

async fn resolve(t: &Target<'_>, deadline: Instant) -> Result<Vec<SocketAddr>, Failure> {
    let dns = |e: String| {
        (
            FailureStage::Dns,
            format!("{} did not resolve: {e}", t.hostname),
        )
    };
    match timeout_at(
        deadline,
        tokio::net::lookup_host((t.hostname, t.settings.port)),
    )
    .await
    {
        Err(_) => Err(dns("timed out".into())),
        Ok(Err(e)) => Err(dns(e.to_string())),
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(dns("no addresses".into()))
            } else {
                Ok(addrs)
            }
        }
    }
}

/// A TCP connection first, so that "nothing listens" is told apart from a
/// TLS or HTTP failure (winrm-rs reports all of them as connect errors).
async fn reach(t: &Target<'_>, addrs: &[SocketAddr], deadline: Instant) -> Result<(), Failure> {
    let mut last = String::from("no address to try");
    for addr in addrs {
        match timeout_at(deadline, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => last = format!("{}: {e}", addr.ip()),
            Err(_) => {
                last = format!(
                    "{}: no answer within {}s",
                    addr.ip(),
                    t.connect_timeout.as_secs()
                );
                break;
            }
        }
    }
    Err((
        FailureStage::Tcp,
        format!("no TCP connection to {} ({last})", place(t)),
    ))
}

fn classify(e: &WinrmError, t: &Target<'_>, otherwise: FailureStage) -> Failure {
    let at = place(t);
    match e {
        WinrmError::Http(err) if err.is_connect() && t.settings.https => (
            FailureStage::Handshake,
            format!("TLS with {at} failed: {}", chain(err)),
        ),
        WinrmError::Http(err) if err.is_connect() => {
            (FailureStage::Tcp, format!("{at}: {}", chain(err)))
        }
        WinrmError::Http(err) if err.is_timeout() => {
            (otherwise, format!("{at} did not answer in time"))
        }
        WinrmError::Http(err) => (
            FailureStage::Handshake,
            format!("HTTP with {at} failed: {}", chain(err)),
        ),
        WinrmError::AuthFailed(m)
            if m.contains("HTTP 401") || m.contains("NTLM authentication rejected") =>
        {
            (
                FailureStage::Auth,
                format!(
                    "{at} refused the credential of {:?} ({:?}, HTTP 401)",
                    t.login.username, t.login.auth
                ),
            )
        }
        WinrmError::AuthFailed(m)
            if m.starts_with("HTTP 500")
                && !t.settings.https
                && t.login.auth == WinrmAuthKind::Ntlm =>
        {
            (
                FailureStage::Handshake,
                format!(
                    "{at} answered HTTP 500 to an unencrypted request: it likely has AllowUnencrypted = false, \
                 and this worker cannot seal NTLM over HTTP; use HTTPS"
                ),
            )
        }
        WinrmError::AuthFailed(m) => (FailureStage::Handshake, format!("{at}: {}", excerpt(m))),
        WinrmError::Soap(SoapError::Fault { code, reason }) if code.contains("AccessDenied") => (
            FailureStage::Auth,
            format!(
                "{at} denied access to {:?}: {}",
                t.login.username,
                excerpt(reason)
            ),
        ),
        WinrmError::Soap(s) => (
            FailureStage::Command,
            format!("{at}: {}", excerpt(&s.to_string())),
        ),
        WinrmError::Ntlm(n) => (
            FailureStage::Handshake,
            format!("NTLM with {at} failed: {n}"),
        ),
        other => (otherwise, format!("{at}: {}", excerpt(&other.to_string()))),
    }
}

fn parse_facts(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// `host:port` with the scheme, for messages.
fn place(t: &Target<'_>) -> String {
    let scheme = if t.settings.https { "https" } else { "http" };
    format!("{scheme}://{}:{}", url_host(t.hostname), t.settings.port)
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
fn excerpt(s: &str) -> String {
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
    fn facts_parse_from_windows_lines() {
        let f = parse_facts(
            "hostname=WIN1\r\nos_caption=Microsoft Windows Server 2022 Standard\r\nos_version=\r\n",
        );
        assert_eq!(f.get("hostname").map(String::as_str), Some("WIN1"));
        assert_eq!(
            f.get("os_caption").map(String::as_str),
            Some("Microsoft Windows Server 2022 Standard")
        );
        assert!(!f.contains_key("os_version"));
    }

    #[test]
    fn messages_lose_the_password_and_stay_short() {
        assert_eq!(redact("bad hunter2 here", "hunter2"), "bad [redacted] here");
        assert_eq!(excerpt(&"x ".repeat(400)).chars().count(), 303);
        assert_eq!(url_host("::1"), "[::1]");
        assert_eq!(url_host("win1.example"), "win1.example");
    }
}
