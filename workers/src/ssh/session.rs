//! An authenticated SSH connection to one target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsc_proto::material::CredentialMaterial;
use opsc_proto::probe::{FailureStage, HostKey};
use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKeyWithHashAlg};
use russh::{ChannelMsg, Preferred};

use super::hostkey::{HostKeyCheck, HostKeyVerdict, describe};
use crate::egress::{self, Egress, LookupError};

/// How to log in.
#[derive(Clone)]
pub enum SshLogin {
    /// User and password.
    Password {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// User and private key.
    Key {
        /// User name.
        username: String,
        /// OpenSSH or PEM private key.
        private_key: String,
        /// Passphrase of an encrypted key.
        passphrase: Option<String>,
    },
}

impl std::fmt::Debug for SshLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SshLogin(<redacted>)")
    }
}

impl SshLogin {
    /// The login a credential gives, or why it cannot be used for SSH.
    pub fn from_material(material: CredentialMaterial) -> Result<Self, String> {
        match material {
            CredentialMaterial::SshPassword { username, password } => {
                Ok(Self::Password { username, password })
            }
            CredentialMaterial::SshKey {
                username,
                private_key,
                passphrase,
            } => Ok(Self::Key {
                username,
                private_key,
                passphrase,
            }),
            other => Err(format!(
                "a {} credential cannot log in over SSH",
                other.kind()
            )),
        }
    }

    fn username(&self) -> &str {
        match self {
            Self::Password { username, .. } | Self::Key { username, .. } => username,
        }
    }
}

/// Why a connection failed, and how far it got.
#[derive(Debug, Clone)]
pub struct ConnectError {
    /// Where it stopped.
    pub stage: FailureStage,
    /// What happened (never a secret).
    pub message: String,
    /// The host key presented, when the handshake got that far.
    pub host_key: Option<HostKey>,
}

impl ConnectError {
    fn new(stage: FailureStage, message: impl Into<String>) -> Self {
        Self {
            stage,
            message: message.into(),
            host_key: None,
        }
    }
}

/// Output of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status (`None` when the server sent none, e.g. killed by a signal).
    pub exit_code: Option<u32>,
}

type Seen = Arc<Mutex<Option<(HostKey, HostKeyVerdict)>>>;

pub(super) struct Client {
    check: HostKeyCheck,
    seen: Seen,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            return Ok(false);
        };
        let verdict = self.check.judge(key);
        let accepted = verdict.accepted();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((describe(key), verdict));
        }
        Ok(accepted)
    }
}

/// Host-key algorithms offered: russh's defaults without SHA-1 `ssh-rsa`.
fn preferred() -> Preferred {
    Preferred {
        key: std::borrow::Cow::Owned(vec![
            Algorithm::Ed25519,
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP384,
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP521,
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ]),
        ..Preferred::DEFAULT
    }
}

/// An authenticated connection.
pub struct Session {
    pub(super) handle: Handle<Client>,
    /// The key the server presented.
    pub host_key: HostKey,
    /// Whether it was pinned already or newly accepted.
    pub verdict: HostKeyVerdict,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host_key", &self.host_key.fingerprint)
            .finish_non_exhaustive()
    }
}

async fn within<T>(
    timeout: Duration,
    stage: FailureStage,
    what: &str,
    fut: impl Future<Output = T>,
) -> Result<T, ConnectError> {
    tokio::time::timeout(timeout, fut).await.map_err(|_| {
        ConnectError::new(
            stage,
            format!("{what} timed out after {}s", timeout.as_secs()),
        )
    })
}

/// Where to connect, and the policy that decides whether it may be.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// Host name or address.
    pub host: &'a str,
    /// SSH port.
    pub port: u16,
    /// This worker's egress policy.
    pub egress: &'a Egress,
}

/// Resolves (keeping the addresses the egress policy allows), connects,
/// verifies the host key (before any credential is sent) and authenticates.
pub async fn connect(
    to: Endpoint<'_>,
    timeout: Duration,
    check: HostKeyCheck,
    login: &SshLogin,
) -> Result<Session, ConnectError> {
    let Endpoint { host, port, egress } = to;
    let addrs = within(
        timeout,
        FailureStage::Dns,
        "resolving",
        egress::lookup(egress, host, port),
    )
    .await?
    .map_err(|e| match e {
        LookupError::Refused(r) => ConnectError::new(FailureStage::Egress, r.to_string()),
        other @ LookupError::Resolve { .. } => {
            ConnectError::new(FailureStage::Dns, other.to_string())
        }
    })?;
    let mut last = None;
    let mut socket = None;
    for addr in &addrs {
        match within(
            timeout,
            FailureStage::Tcp,
            "connecting",
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => {
                socket = Some(s);
                break;
            }
            Ok(Err(e)) => last = Some(ConnectError::new(FailureStage::Tcp, format!("{addr}: {e}"))),
            Err(e) => last = Some(e),
        }
    }
    let socket = socket.ok_or_else(|| {
        last.unwrap_or_else(|| {
            ConnectError::new(FailureStage::Dns, format!("{host} has no address"))
        })
    })?;
    let _ = socket.set_nodelay(true);
    let config = Arc::new(client::Config {
        preferred: preferred(),
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        ..client::Config::default()
    });
    let seen: Seen = Arc::default();
    let client = Client {
        check,
        seen: seen.clone(),
    };
    let handshake = within(
        timeout,
        FailureStage::Handshake,
        "the SSH handshake",
        client::connect_stream(config, socket, client),
    )
    .await;
    let presented = seen.lock().ok().and_then(|s| s.clone());
    let mut handle = match handshake {
        Ok(Ok(handle)) => handle,
        Ok(Err(e)) => {
            return Err(match presented {
                Some((key, HostKeyVerdict::Refused(reason))) => ConnectError {
                    stage: FailureStage::HostKey,
                    message: reason,
                    host_key: Some(key),
                },
                other => ConnectError {
                    stage: FailureStage::Handshake,
                    message: format!("SSH handshake failed: {e}"),
                    host_key: other.map(|(k, _)| k),
                },
            });
        }
        Err(e) => return Err(e),
    };
    let Some((host_key, verdict)) = presented else {
        return Err(ConnectError::new(
            FailureStage::Handshake,
            "the server presented no host key",
        ));
    };
    let fail = |stage, message: String| ConnectError {
        stage,
        message,
        host_key: Some(host_key.clone()),
    };
    let auth = within(timeout, FailureStage::Auth, "authentication", async {
        match login {
            SshLogin::Password { username, password } => {
                handle.authenticate_password(username, password).await
            }
            SshLogin::Key {
                username,
                private_key,
                passphrase,
            } => {
                let key = russh::keys::decode_secret_key(private_key.trim(), passphrase.as_deref())
                    .map_err(|_| russh::Error::NotAuthenticated)?;
                let hash = if key.algorithm().is_rsa() {
                    handle
                        .best_supported_rsa_hash()
                        .await?
                        .flatten()
                        .or(Some(HashAlg::Sha256))
                } else {
                    None
                };
                handle
                    .authenticate_publickey(
                        username,
                        PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                    )
                    .await
            }
        }
    })
    .await
    .map_err(|e| ConnectError {
        host_key: Some(host_key.clone()),
        ..e
    })?
    .map_err(|e| fail(FailureStage::Auth, format!("authentication failed: {e}")))?;
    if !auth.success() {
        let how = match login {
            SshLogin::Password { .. } => "password",
            SshLogin::Key { .. } => "key",
        };
        return Err(fail(
            FailureStage::Auth,
            format!(
                "the server refused the {how} of user {:?}",
                login.username()
            ),
        ));
    }
    Ok(Session {
        handle,
        host_key,
        verdict,
    })
}

impl Session {
    /// Runs `command` and collects its output, keeping at most `cap` bytes of
    /// each stream. For short probes: nothing stops it on the target when
    /// the future is dropped (steps use [`Session::exec_stream`] and
    /// [`Session::exec_input`]).
    pub async fn exec(&self, command: &str, cap: usize) -> Result<Output, russh::Error> {
        let mut channel = self.handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        let mut out = Output::default();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => append(&mut stdout, &data, cap),
                ChannelMsg::ExtendedData { data, .. } => append(&mut stderr, &data, cap),
                ChannelMsg::ExitStatus { exit_status } => out.exit_code = Some(exit_status),
                _ => {}
            }
        }
        out.stdout = String::from_utf8_lossy(&stdout).into_owned();
        out.stderr = String::from_utf8_lossy(&stderr).into_owned();
        Ok(out)
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.handle.is_closed()
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn append(buf: &mut Vec<u8>, data: &[u8], cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}
