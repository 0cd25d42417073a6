//! Connection tests: the api asks a worker of the target's pool to connect to
//! a target and report what it found.
//!
//! This is core-NATS request/reply on `<p>.ctl.target.test.<pool>` with the
//! workers of the pool in one queue group, so exactly one worker answers. The
//! api never connects to targets itself. Credentials travel only inside
//! [`ProbeRequest::sealed_credential`], sealed for the pool.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which protocol to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeProtocol {
    /// SSH: connect, check the host key, authenticate, gather facts.
    Ssh,
    /// WinRM: open a shell, gather facts, close the shell.
    Winrm,
}

/// What happens with an SSH host key that is not pinned yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// An unknown key fails the connection until an admin approves it.
    #[default]
    Strict,
    /// The first key seen is accepted and pinned.
    AcceptNew,
}

/// An SSH host key as pinned or presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostKey {
    /// Key algorithm, e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// `SHA256:` fingerprint (base64, as OpenSSH prints it).
    pub fingerprint: String,
    /// The public key in OpenSSH format (`<algorithm> <base64>`).
    pub public_key: String,
}

/// SSH side of a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SshProbe {
    /// TCP port.
    pub port: u16,
    /// Policy for a key that is not pinned.
    pub host_key_policy: HostKeyPolicy,
    /// The pinned key, if any: any other key fails with stage `host_key`.
    #[serde(default)]
    pub pinned: Option<HostKey>,
}

/// WinRM side of a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WinrmProbe {
    /// `true` for HTTPS.
    pub https: bool,
    /// TCP port.
    pub port: u16,
    /// Verify the server certificate.
    pub verify_tls: bool,
}

/// `<p>.ctl.target.test.<pool>`: connect to this target and report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeRequest {
    /// Unique per request; bound into the sealed credential.
    pub probe_id: Uuid,
    /// The target being tested.
    pub target_id: Uuid,
    /// Host name or address.
    pub hostname: String,
    /// Protocol to test.
    pub protocol: ProbeProtocol,
    /// Seconds allowed to reach and authenticate to the target.
    pub connect_timeout_secs: u32,
    /// SSH settings when `protocol` is `ssh`.
    #[serde(default)]
    pub ssh: Option<SshProbe>,
    /// WinRM settings when `protocol` is `winrm`.
    #[serde(default)]
    pub winrm: Option<WinrmProbe>,
    /// The credential's secret document, sealed for the pool (base64).
    pub sealed_credential: String,
}

/// Where a failed connection test stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureStage {
    /// The host name did not resolve.
    Dns,
    /// The worker's egress policy refused every address of the host.
    Egress,
    /// No TCP connection (refused, unreachable, timed out).
    Tcp,
    /// The protocol handshake failed (SSH key exchange, TLS, HTTP).
    Handshake,
    /// The SSH host key is unknown (strict policy) or changed.
    HostKey,
    /// The target refused the credential.
    Auth,
    /// Connected and authenticated, but the fact-gathering command failed.
    Command,
    /// The worker could not use the request (e.g. it cannot unseal it).
    Worker,
}

impl FailureStage {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Egress => "egress",
            Self::Tcp => "tcp",
            Self::Handshake => "handshake",
            Self::HostKey => "host_key",
            Self::Auth => "auth",
            Self::Command => "command",
            Self::Worker => "worker",
        }
    }
}

/// The worker's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeReply {
    /// Echo of the request's id.
    pub probe_id: Uuid,
    /// `true` when connected, authenticated and facts gathered.
    pub ok: bool,
    /// Where it failed (absent on success).
    #[serde(default)]
    pub stage: Option<FailureStage>,
    /// A human-readable explanation of the failure (never contains secrets).
    #[serde(default)]
    pub error: Option<String>,
    /// System facts, e.g. `hostname`, `os_release`, `kernel`, `uptime_secs`
    /// for SSH; `hostname`, `os_caption`, `os_version`, `powershell_version`
    /// for WinRM.
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
    /// The SSH host key the server presented (when the handshake got that far).
    #[serde(default)]
    pub host_key: Option<HostKey>,
    /// Milliseconds from start to answer.
    pub elapsed_ms: u64,
    /// The worker that answered.
    pub worker_id: String,
}

impl ProbeReply {
    /// A success reply with the facts gathered.
    pub fn succeeded(
        probe_id: Uuid,
        facts: BTreeMap<String, String>,
        host_key: Option<HostKey>,
    ) -> Self {
        Self {
            probe_id,
            ok: true,
            stage: None,
            error: None,
            facts,
            host_key,
            elapsed_ms: 0,
            worker_id: String::new(),
        }
    }

    /// A failure reply.
    pub fn failed(probe_id: Uuid, stage: FailureStage, error: impl Into<String>) -> Self {
        Self {
            probe_id,
            ok: false,
            stage: Some(stage),
            error: Some(error.into()),
            facts: BTreeMap::new(),
            host_key: None,
            elapsed_ms: 0,
            worker_id: String::new(),
        }
    }
}

impl crate::EventType for ProbeRequest {
    const TYPE: &'static str = "io.opsconductor.ctl.target.test.v1";
    const SCHEMA: &'static str = "commands/target.test.v1.json";
}

impl crate::EventType for ProbeReply {
    const TYPE: &'static str = "io.opsconductor.ctl.target.test.reply.v1";
    const SCHEMA: &'static str = "commands/target.test.reply.v1.json";
}
