//! One remote shell and the commands run in it.
//!
//! The caller drives each command: [`Session::start`], then
//! [`Session::receive`] until `done`, handling each chunk of output as it
//! arrives, or [`Session::collect`] for the whole output at once. A session
//! dropped without [`Session::close`] (say, a step's future dropped at its
//! timeout) deletes its shell in the background, which ends whatever still
//! runs in it.

use std::sync::Arc;
use std::time::Duration;

use opsc_proto::probe::FailureStage;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::sync::CancellationToken;
use winrm_rs::{AuthMethod, WinrmClient, WinrmConfig, WinrmCredentials};

use super::connect::{Site, classify, is_timed_out, reach, resolve};
use super::{Failure, Output, Shell, Target, WinrmAuthKind, redact, url_host, whole_secs};

/// Signals and the shell's deletion are best effort and must not hold up
/// the step.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the shell's commands start with.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// Environment variables (the shell's `rsp:Environment`).
    pub env: Vec<(String, String)>,
    /// Working directory (the shell's `rsp:WorkingDirectory`); it must exist.
    pub cwd: Option<String>,
}

/// One Receive's worth of a command.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Standard output bytes.
    pub stdout: Vec<u8>,
    /// Standard error bytes (PowerShell error records decoded).
    pub stderr: Vec<u8>,
    /// The command ended.
    pub done: bool,
    /// Its exit code, once it ended.
    pub exit_code: Option<i32>,
}

/// An open shell on a host.
pub struct Session {
    client: Arc<WinrmClient>,
    host: String,
    shell_id: String,
    site: Site,
    password: String,
    closed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("place", &self.site.place)
            .field("shell_id", &self.shell_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Resolves, connects, authenticates and creates a shell, within
    /// `t.connect_timeout`. A Receive waits up to `operation_timeout` for
    /// output before it asks again.
    pub async fn open(
        t: &Target<'_>,
        options: &ShellOptions,
        operation_timeout: Duration,
    ) -> Result<Session, Failure> {
        let password = t.login.password.clone();
        Self::open_unredacted(t, options, operation_timeout)
            .await
            .map_err(|(stage, message)| (stage, redact(&message, &password)))
    }

    async fn open_unredacted(
        t: &Target<'_>,
        options: &ShellOptions,
        operation_timeout: Duration,
    ) -> Result<Session, Failure> {
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
        let site = Site::of(t);
        let deadline = Instant::now() + t.connect_timeout;
        let addrs = resolve(t, deadline).await?;
        reach(t, &addrs, deadline).await?;
        let config = WinrmConfig {
            port: t.endpoint.port,
            use_tls: t.endpoint.https,
            accept_invalid_certs: !t.endpoint.verify_tls,
            connect_timeout_secs: whole_secs(t.connect_timeout),
            operation_timeout_secs: whole_secs(operation_timeout),
            auth_method,
            env_vars: options.env.clone(),
            working_directory: options.cwd.clone(),
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
        let shell_id = match timeout_at(deadline, client.create_shell(&host)).await {
            Err(_) => {
                return Err((
                    FailureStage::Handshake,
                    format!(
                        "{}: no WinRM answer within {}s",
                        site.place,
                        t.connect_timeout.as_secs()
                    ),
                ));
            }
            Ok(Err(e)) => return Err(classify(&e, &site, FailureStage::Handshake)),
            Ok(Ok(id)) => id,
        };
        Ok(Session {
            client: Arc::new(client),
            host,
            shell_id,
            site,
            password: login.password.clone(),
            closed: false,
        })
    }

    fn failure(&self, e: &winrm_rs::WinrmError) -> Failure {
        let (stage, message) = classify(e, &self.site, FailureStage::Command);
        (stage, redact(&message, &self.password))
    }

    /// Starts `script`; its command id.
    pub async fn start(&self, shell: Shell, script: &str) -> Result<String, Failure> {
        let started = match shell {
            Shell::PowerShell => {
                let encoded = winrm_rs::encode_powershell_command(script);
                let args = [
                    "-NoProfile",
                    "-NonInteractive",
                    "-EncodedCommand",
                    encoded.as_str(),
                ];
                self.client
                    .execute_command(&self.host, &self.shell_id, "powershell.exe", &args)
                    .await
            }
            Shell::Cmd => {
                self.client
                    .execute_command(&self.host, &self.shell_id, script, &[])
                    .await
            }
        };
        started.map_err(|e| self.failure(&e))
    }

    /// The next output of a command: waits until it has some or ends (asking
    /// again after each operation timeout).
    pub async fn receive(&self, command_id: &str) -> Result<Received, Failure> {
        loop {
            match self
                .client
                .receive_output(&self.host, &self.shell_id, command_id)
                .await
            {
                Ok(r) => {
                    return Ok(Received {
                        stdout: r.stdout,
                        stderr: r.stderr,
                        done: r.done,
                        exit_code: r.exit_code,
                    });
                }
                Err(e) if is_timed_out(&e) => {}
                Err(e) => return Err(self.failure(&e)),
            }
        }
    }

    /// Runs `script` to its end and returns everything it wrote; `None`
    /// when `cancel` stopped it first (the command is then terminated).
    pub async fn collect(
        &self,
        shell: Shell,
        script: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<Output>, Failure> {
        let id = tokio::select! {
            id = self.start(shell, script) => id?,
            () = cancel.cancelled() => return Ok(None),
        };
        let (mut stdout, mut stderr, mut exit_code) = (Vec::new(), Vec::new(), None);
        loop {
            let r = tokio::select! {
                r = self.receive(&id) => r?,
                () = cancel.cancelled() => {
                    self.terminate(&id).await;
                    return Ok(None);
                }
            };
            stdout.extend_from_slice(&r.stdout);
            stderr.extend_from_slice(&r.stderr);
            exit_code = r.exit_code.or(exit_code);
            if r.done {
                break;
            }
        }
        self.terminate(&id).await;
        Ok(Some(Output {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code: exit_code.unwrap_or(-1),
        }))
    }

    /// Sends the `terminate` signal (best effort): the host ends the command
    /// if it still runs and forgets it.
    pub async fn terminate(&self, command_id: &str) {
        let sent = self
            .client
            .signal_terminate(&self.host, &self.shell_id, command_id);
        match timeout(CLEANUP_TIMEOUT, sent).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let error = self.failure(&e).1;
                tracing::debug!(place = %self.site.place, %error, "WinRM command not terminated.");
            }
            Err(_) => {
                tracing::debug!(place = %self.site.place, "WinRM command not terminated in time.");
            }
        }
    }

    /// Deletes the shell (best effort).
    pub async fn close(mut self) {
        self.closed = true;
        delete(
            &self.client,
            &self.host,
            &self.shell_id,
            &self.site.place,
            &self.password,
        )
        .await;
    }
}

async fn delete(client: &WinrmClient, host: &str, shell_id: &str, place: &str, password: &str) {
    match timeout(CLEANUP_TIMEOUT, client.delete_shell(host, shell_id)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let error = redact(&e.to_string(), password);
            tracing::debug!(%place, %error, "WinRM shell not deleted.");
        }
        Err(_) => tracing::debug!(%place, "WinRM shell not deleted in time."),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(place = %self.site.place, "WinRM shell left open: no runtime to delete it.");
            return;
        };
        let client = Arc::clone(&self.client);
        let host = std::mem::take(&mut self.host);
        let shell_id = std::mem::take(&mut self.shell_id);
        let place = std::mem::take(&mut self.site.place);
        let password = std::mem::take(&mut self.password);
        runtime.spawn(async move { delete(&client, &host, &shell_id, &place, &password).await });
    }
}
