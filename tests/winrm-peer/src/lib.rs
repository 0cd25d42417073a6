//! A WS-Management (WinRM) test peer: a tiny Windows host on `127.0.0.1`, so
//! WinRM clients can be tested end to end where no Windows host can run.
//!
//! It owns nothing of the product and must not import it; the product's
//! tests start it ([`WinrmPeer::start`]) and point a real WinRM client at it.
//!
//! # Wire format
//!
//! Plain HTTP on `POST /wsman`, SOAP 1.2 envelopes read namespace-aware
//! (WS-Addressing `Action`/`MessageID`/`To`, WS-Management `ResourceURI` and
//! `SelectorSet`), answered as WinRM answers: `ResourceCreated` plus
//! `rsp:Shell` for Create, `CommandId` for Command, base64 `rsp:Stream`s and
//! `CommandState` (`Running`, then `Done` with `ExitCode`) for Receive,
//! `SignalResponse`, `DeleteResponse`; SOAP faults with HTTP 500 (an unknown
//! `ShellId` gives `w:InvalidSelectors` with WSManFault code 2150858843).
//! Only the `cmd` shell resource
//! (`http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd`) exists.
//!
//! # Authentication
//!
//! * `Basic` (when [`PeerConfig::allow_basic`]): local accounts only, as on
//!   Windows.
//! * `Negotiate` carrying raw NTLMSSP: NEGOTIATE → HTTP 401 with
//!   `WWW-Authenticate: Negotiate <CHALLENGE>` → AUTHENTICATE, checked as
//!   NTLMv2 (NTOWFv2, NTProofStr over the server challenge and the client
//!   blob, MIC when the client announces one). NTLMv1 is refused. The logon
//!   belongs to the TCP connection: later requests on it carry no header.
//! * Anything refused gets HTTP 401 with `WWW-Authenticate: Negotiate` (and
//!   `Basic realm="WSMAN"`), an empty body, as Windows answers.
//!
//! # Message encryption
//!
//! On an NTLM connection, `multipart/encrypted` bodies
//! (`application/HTTP-SPNEGO-session-encrypted`, MS-WSMV 2.2.9.1) are
//! unsealed and the answer sealed back, framed as Windows frames them (the
//! closing boundary right after the ciphertext). A sealed body that does not
//! unseal (signature, sequence number, `Length`) gets HTTP 400, as Windows
//! Server answers it. Unsealed bodies are accepted only with
//! [`PeerConfig::allow_unencrypted`] (`AllowUnencrypted = true`); otherwise
//! Basic gets 401 and an unsealed NTLM body HTTP 500.
//!
//! # Commands
//!
//! A Command starts the command line on a thread of its own and a Receive
//! waits (up to the request's `OperationTimeout`, then `w:TimedOut`) for
//! output or the end; a `terminate` or `ctrl_c` Signal, or a Delete, stops
//! it. A Create's `rsp:Environment` and `rsp:WorkingDirectory` (which must
//! exist) apply to the shell's commands. Requests beyond
//! [`PeerConfig::max_envelope_kb`] get `w:EncodingLimit`.
//!
//! A command line (`Command` plus `Arguments`) runs as under `cmd /c`, after
//! `%NAME%` expansion and `^` unescaping: `hostname`, `whoami`, `ver`,
//! `echo <text>`, `cd` (prints the directory), `set <prefix>`, `type <file>`,
//! `exit [/b] N`, `cmd /c <line>`; chaining and redirection are refused, and
//! anything else writes `'x' is not recognized as an internal or external
//! command, ...` to stderr and exits 1.
//!
//! `powershell.exe [-NoProfile] [-NonInteractive] [-ExecutionPolicy X]
//! -EncodedCommand <base64 UTF-16LE>` (or `-Command <script>`) runs the
//! script in a very small PowerShell: statements split on newlines and `;`;
//! `$var = ...` and `$env:NAME = ...`; `$ErrorActionPreference`; strings
//! `'..'` (typographic quotes too) and `".."` with `` ` `` escapes and
//! `$var`/`$env:NAME`/`$( )` interpolation; integers, `$true`, `$false`,
//! `$null`; `( )`; properties and methods; `[Convert]::FromBase64String`/
//! `ToBase64String`, `[IO.File]::WriteAllBytes`/`ReadAllBytes`/`WriteAllText`/
//! `ReadAllText`/`Exists`/`Delete`/`Move`/`Open(path, Append|Create|
//! CreateNew)` with the stream's `Write`/`Flush`/`Close`/`Dispose`,
//! `[IO.Directory]::Exists`/`CreateDirectory`, `[IO.FileMode]::X`; cmdlets
//! `Write-Output`, `Write-Host`, `Write-Error`, `Set-Location`,
//! `Get-Location`, `New-Item`, `Move-Item`, `Remove-Item` (files),
//! `Get-FileHash` (SHA256), `Test-Path`, `Get-Content`, `Start-Sleep`,
//! `Get-CimInstance Win32_OperatingSystem`, `hostname`, with `-ErrorAction`;
//! `throw` and `exit N`. Files live in an in-memory file system per peer
//! ([`WinrmPeer::file`], [`WinrmPeer::put_file`]). Errors go to stderr as
//! CLIXML error records; the exit code is 1 when the last statement failed
//! (or a `Stop` error ended the script), else 0, unless `exit N` says
//! otherwise. Unknown commands fail as in PowerShell (`The term '...' is
//! not recognized ...`); operators, pipelines, control flow and anything
//! else not listed fail with a `NotSupportedException` record and exit 1.
//! The facts come from [`PeerConfig::facts`].

mod fs;
mod host;
mod http;
mod ntlm;
mod powershell;
mod process;
mod seal;
mod shell;
mod soap;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use host::PeerFacts;
pub use soap::{RESOURCE_CMD, action};

/// What the peer is and who may log on.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Accounts.
    pub users: Vec<PeerUser>,
    /// Computer name, e.g. `WIN-TEST01` (`$env:COMPUTERNAME`, `hostname`).
    pub hostname: String,
    /// NetBIOS domain the host belongs to; `None` for a workgroup host.
    pub domain: Option<String>,
    /// What the facts commands report.
    pub facts: PeerFacts,
    /// `Service/Auth/Basic`.
    pub allow_basic: bool,
    /// `Service/AllowUnencrypted`.
    pub allow_unencrypted: bool,
    /// `MaxEnvelopeSizekb`: larger requests are refused with
    /// `w:EncodingLimit` (Windows' default is 500; older hosts had 150).
    pub max_envelope_kb: u32,
}

impl PeerConfig {
    /// A workgroup host with Basic and unencrypted traffic allowed.
    pub fn new(hostname: impl Into<String>, users: Vec<PeerUser>) -> Self {
        Self {
            users,
            hostname: hostname.into(),
            domain: None,
            facts: PeerFacts::default(),
            allow_basic: true,
            allow_unencrypted: true,
            max_envelope_kb: 500,
        }
    }
}

/// An account.
#[derive(Debug, Clone)]
pub struct PeerUser {
    /// Account name (matched case-insensitively).
    pub username: String,
    /// Password.
    pub password: String,
    /// NetBIOS domain of a domain account; `None` for a local account.
    pub domain: Option<String>,
}

impl PeerUser {
    /// A local account.
    pub fn local(username: &str, password: &str) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            domain: None,
        }
    }
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// No `Authorization` header and no NTLM logon on the connection.
    None,
    /// `Authorization: Basic`.
    Basic,
    /// `Authorization: Negotiate` with an NTLM NEGOTIATE message.
    NtlmNegotiate,
    /// `Authorization: Negotiate` with an NTLM AUTHENTICATE message.
    NtlmAuthenticate,
    /// No header, on a connection with an established NTLM logon.
    NtlmSession,
}

/// One HTTP request as the peer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// TCP connection number (from 1, in accept order).
    pub connection: u64,
    /// WS-Addressing Action, when the body was read.
    pub action: Option<String>,
    /// How it authenticated.
    pub auth: AuthScheme,
    /// The account, once authenticated.
    pub user: Option<String>,
    /// Whether the body was sealed and unsealed successfully.
    pub sealed: bool,
    /// HTTP status answered.
    pub status: u16,
}

/// State shared by all connections.
#[derive(Debug)]
struct Shared {
    config: PeerConfig,
    port: u16,
    identity: ntlm::Identity,
    host: host::Host,
    shells: Mutex<shell::Shells>,
    log: Mutex<Vec<RecordedRequest>>,
    /// Stops every running command when the peer stops.
    stop: CancellationToken,
}

/// A running peer; stops when [`WinrmPeer::stop`] is called or it is dropped.
#[derive(Debug)]
pub struct WinrmPeer {
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl WinrmPeer {
    /// Listens on `127.0.0.1`, on a free port.
    pub async fn start(config: PeerConfig) -> anyhow::Result<WinrmPeer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let shutdown = CancellationToken::new();
        let users: Vec<String> = config.users.iter().map(|u| u.username.clone()).collect();
        let shared = Arc::new(Shared {
            identity: ntlm::Identity {
                computer: config.hostname.clone(),
                domain: config.domain.clone(),
            },
            host: host::Host {
                hostname: config.hostname.clone(),
                domain: config.domain.clone(),
                facts: config.facts.clone(),
                fs: Arc::new(Mutex::new(fs::Fs::new(&users))),
            },
            config,
            port,
            shells: Mutex::default(),
            log: Mutex::default(),
            stop: shutdown.clone(),
        });
        let task = tokio::spawn(accept(listener, Arc::clone(&shared), shutdown.clone()));
        Ok(WinrmPeer {
            shared,
            shutdown,
            task,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The actions answered with HTTP 200, in order.
    pub fn completed_actions(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.status == 200)
            .filter_map(|r| r.action)
            .collect()
    }

    /// The bytes of a file on the host (`C:\\...`, any case), if it exists.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        let p = fs::resolve("C:\\", path)?;
        self.files().read(&p).ok()
    }

    /// Writes a file, creating its directories.
    pub fn put_file(&self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let p = fs::resolve("C:\\", path)
            .ok_or_else(|| anyhow::anyhow!("{path} is not a full path"))?;
        let mut files = self.files();
        if let Some(dir) = p.parent() {
            files
                .create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
        files
            .write(&p, bytes.to_vec())
            .map_err(|e| anyhow::anyhow!(e.message))
    }

    /// Whether a directory exists on the host.
    pub fn is_dir(&self, path: &str) -> bool {
        fs::resolve("C:\\", path).is_some_and(|p| self.files().is_dir(&p))
    }

    /// The full path of every file on the host.
    pub fn file_paths(&self) -> Vec<String> {
        self.files().file_paths()
    }

    /// Commands that are still running, in every shell.
    pub fn running_commands(&self) -> usize {
        self.shared
            .shells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, fs::Fs> {
        self.shared
            .host
            .fs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops listening and drops every connection.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for WinrmPeer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, shutdown: CancellationToken) {
    let next_id = AtomicU64::new(1);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "WinRM peer accept failed.");
                    continue;
                }
            },
        };
        let conn = Arc::new(http::Conn {
            id: next_id.fetch_add(1, Ordering::Relaxed),
            auth: Mutex::default(),
        });
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service =
                service_fn(move |req| http::serve(Arc::clone(&shared), Arc::clone(&conn), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.shutdown().await;
}
