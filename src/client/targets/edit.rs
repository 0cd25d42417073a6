//! A target document from flags, or from a file, and a change applied to
//! the document the api holds.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use super::doc;
use crate::client::http::ApiClient;
use crate::client::resolve::{self, Kind};

/// Operating system families.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Os {
    /// Linux (SSH).
    Linux,
    /// Other Unix (SSH).
    Unix,
    /// Windows (WinRM).
    Windows,
    /// Switches, routers, firewalls.
    NetworkDevice,
    /// Anything else.
    Other,
}

impl Os {
    /// As the api writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Unix => "unix",
            Self::Windows => "windows",
            Self::NetworkDevice => "network_device",
            Self::Other => "other",
        }
    }
}

/// What happens with an SSH host key not pinned yet.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostKeyPolicy {
    /// An unknown key fails until an admin approves it (`targets approve-key`).
    Strict,
    /// The first key seen is pinned.
    AcceptNew,
}

impl HostKeyPolicy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::AcceptNew => "accept-new",
        }
    }
}

/// WinRM transport.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scheme {
    /// HTTP (5985).
    Http,
    /// HTTPS (5986).
    Https,
}

/// The fields of a target that flags set (create and update).
#[derive(Debug, Args)]
pub struct TargetFields {
    /// The whole document from a file (JSON or YAML, `-` for standard input);
    /// flags given as well override its fields.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Host name or IP address.
    #[arg(long)]
    pub hostname: Option<String>,
    /// Operating system family.
    #[arg(long, value_enum)]
    pub os: Option<Os>,
    /// Tag (repeatable; replaces the tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Metadata `KEY=VALUE` (repeatable; adds or replaces that key).
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// Worker pool that reaches it.
    #[arg(long)]
    pub pool: Option<String>,
    /// Enabled (true) or skipped by runs (false).
    #[arg(long, value_name = "true|false")]
    pub enabled: Option<bool>,
    /// SSH credential (`ssh_key` or `ssh_password`): id or exact name.
    #[arg(long, value_name = "CREDENTIAL")]
    pub ssh_credential: Option<String>,
    /// SSH port (default 22).
    #[arg(long)]
    pub ssh_port: Option<u16>,
    /// SSH host-key policy (default strict).
    #[arg(long, value_enum)]
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Seconds to connect (default 10).
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u32>,
    /// WinRM credential: id or exact name.
    #[arg(long, value_name = "CREDENTIAL")]
    pub winrm_credential: Option<String>,
    /// WinRM transport (default https).
    #[arg(long, value_enum)]
    pub winrm_scheme: Option<Scheme>,
    /// WinRM port (default 5985 for http, 5986 for https).
    #[arg(long)]
    pub winrm_port: Option<u16>,
    /// HTTP base URL (`http://` or `https://`), for HTTP steps.
    #[arg(long, value_name = "URL")]
    pub http_url: Option<String>,
    /// HTTP credential (`http_auth`): id or exact name.
    #[arg(long, value_name = "CREDENTIAL")]
    pub http_credential: Option<String>,
}

impl TargetFields {
    /// Whether any field flag (besides `--file`) was given.
    pub fn any(&self) -> bool {
        self.hostname.is_some()
            || self.os.is_some()
            || !self.tags.is_empty()
            || !self.meta.is_empty()
            || self.pool.is_some()
            || self.enabled.is_some()
            || self.ssh_credential.is_some()
            || self.ssh_port.is_some()
            || self.host_key_policy.is_some()
            || self.connect_timeout.is_some()
            || self.winrm_credential.is_some()
            || self.winrm_scheme.is_some()
            || self.winrm_port.is_some()
            || self.http_url.is_some()
            || self.http_credential.is_some()
    }

    /// `base` (a file's document, the current one, or nothing) with these
    /// fields set over it.
    pub async fn apply(
        &self,
        api: &mut ApiClient,
        base: Map<String, Value>,
    ) -> anyhow::Result<Value> {
        let mut doc = match &self.file {
            Some(path) => match doc::read(path)? {
                Value::Object(m) => m,
                _ => bail!("{}: a target document is a mapping", path.display()),
            },
            None => base,
        };
        let mut set = |k: &str, v: Value| {
            doc.insert(k.to_owned(), v);
        };
        if let Some(h) = &self.hostname {
            set("hostname", json!(h));
        }
        if let Some(os) = self.os {
            set("os_type", json!(os.as_str()));
        }
        if !self.tags.is_empty() {
            set("tags", json!(self.tags));
        }
        if let Some(p) = &self.pool {
            set("pool", json!(p));
        }
        if let Some(e) = self.enabled {
            set("enabled", json!(e));
        }
        if !self.meta.is_empty() {
            let mut meta = doc
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for m in &self.meta {
                let (k, v) = doc::pair(m)?;
                meta.insert(k, json!(v));
            }
            doc.insert("metadata".into(), Value::Object(meta));
        }
        self.ssh(api, &mut doc).await?;
        self.winrm(api, &mut doc).await?;
        self.http(api, &mut doc).await?;
        Ok(Value::Object(doc))
    }

    async fn ssh(&self, api: &mut ApiClient, doc: &mut Map<String, Value>) -> anyhow::Result<()> {
        let touched = self.ssh_credential.is_some()
            || self.ssh_port.is_some()
            || self.host_key_policy.is_some()
            || self.connect_timeout.is_some();
        if !touched {
            return Ok(());
        }
        let mut ssh = section(doc, "ssh");
        if let Some(c) = &self.ssh_credential {
            ssh.insert(
                "credential_id".into(),
                json!(resolve::id(api, Kind::Credential, c).await?),
            );
        }
        if !ssh.contains_key("credential_id") {
            bail!("SSH settings need --ssh-credential");
        }
        if let Some(p) = self.ssh_port {
            ssh.insert("port".into(), json!(p));
        }
        if let Some(p) = self.host_key_policy {
            ssh.insert("host_key_policy".into(), json!(p.as_str()));
        }
        if let Some(t) = self.connect_timeout {
            ssh.insert("connect_timeout_secs".into(), json!(t));
        }
        doc.insert("ssh".into(), Value::Object(ssh));
        Ok(())
    }

    async fn winrm(&self, api: &mut ApiClient, doc: &mut Map<String, Value>) -> anyhow::Result<()> {
        let touched = self.winrm_credential.is_some()
            || self.winrm_scheme.is_some()
            || self.winrm_port.is_some();
        if !touched {
            return Ok(());
        }
        let mut winrm = section(doc, "winrm");
        if let Some(c) = &self.winrm_credential {
            winrm.insert(
                "credential_id".into(),
                json!(resolve::id(api, Kind::Credential, c).await?),
            );
        }
        if !winrm.contains_key("credential_id") {
            bail!("WinRM settings need --winrm-credential");
        }
        if let Some(s) = self.winrm_scheme {
            let s = if matches!(s, Scheme::Http) {
                "http"
            } else {
                "https"
            };
            winrm.insert("scheme".into(), json!(s));
        }
        if let Some(p) = self.winrm_port {
            winrm.insert("port".into(), json!(p));
        }
        doc.insert("winrm".into(), Value::Object(winrm));
        Ok(())
    }

    async fn http(&self, api: &mut ApiClient, doc: &mut Map<String, Value>) -> anyhow::Result<()> {
        if self.http_url.is_none() && self.http_credential.is_none() {
            return Ok(());
        }
        let mut http = section(doc, "http");
        if let Some(u) = &self.http_url {
            http.insert("base_url".into(), json!(u));
        }
        if let Some(c) = &self.http_credential {
            http.insert(
                "credential_id".into(),
                json!(resolve::id(api, Kind::Credential, c).await?),
            );
        }
        if !http.contains_key("base_url") {
            bail!("HTTP settings need --http-url");
        }
        doc.insert("http".into(), Value::Object(http));
        Ok(())
    }
}

/// The object `doc[key]`, or an empty one.
fn section(doc: &Map<String, Value>, key: &str) -> Map<String, Value> {
    doc.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
