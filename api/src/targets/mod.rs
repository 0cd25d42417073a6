//! Targets: what a target document holds and how it is validated, the
//! inventory's rows ([`crud`]), bulk import and export ([`import`]), groups
//! ([`groups`]), connection tests ([`probe`]) and host-key trust
//! ([`hostkey`], [`approval`]).

pub mod approval;
pub mod crud;
pub mod csv_io;
pub mod groups;
pub mod hostkey;
pub mod import;
mod members;
pub mod names;
pub mod probe;
pub mod scope;

pub use approval::HostKeyError;
pub use crud::{TargetError, TargetQuery, TargetView};
pub use groups::{GroupError, GroupSpec, GroupView};
pub use members::{group_member_ids, resolve, spec_of, unknown_in};
pub use probe::ProbeError;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::store::credential;

/// Operating system families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OsType {
    /// Windows (WinRM).
    Windows,
    /// Linux (SSH).
    Linux,
    /// Other Unix (SSH).
    Unix,
    /// Switches, routers, firewalls.
    NetworkDevice,
    /// Anything else.
    Other,
}

impl OsType {
    /// Lowercase name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Windows => "windows",
            Self::Linux => "linux",
            Self::Unix => "unix",
            Self::NetworkDevice => "network_device",
            Self::Other => "other",
        }
    }
}

pub use opsc_proto::probe::HostKeyPolicy;

fn default_ssh_port() -> u16 {
    22
}
fn default_timeout() -> u32 {
    10
}
fn yes() -> bool {
    true
}

/// SSH settings of a target.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshSettings {
    /// Port (default 22).
    #[serde(default = "default_ssh_port")]
    #[schemars(range(min = 1))]
    pub port: u16,
    /// An `ssh_password` or `ssh_key` credential, by id or name (stored
    /// and shown as its id).
    #[schemars(with = "opsc_proto::job::Ref")]
    pub credential_id: Uuid,
    /// Seconds to connect (default 10).
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 300))]
    pub connect_timeout_secs: u32,
    /// Host-key policy (default `strict`).
    #[serde(default)]
    pub host_key_policy: HostKeyPolicy,
}

/// WinRM transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WinrmScheme {
    /// HTTP (5985).
    Http,
    /// HTTPS (5986, default).
    #[default]
    Https,
}

/// WinRM settings of a target.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WinrmSettings {
    /// `http` or `https` (default).
    #[serde(default)]
    pub scheme: WinrmScheme,
    /// Port (default 5985 for http, 5986 for https).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// A `winrm` credential, by id or name (stored and shown as its id).
    #[schemars(with = "opsc_proto::job::Ref")]
    pub credential_id: Uuid,
    /// Verify the server certificate (default true).
    #[serde(default = "yes")]
    pub verify_tls: bool,
}

/// HTTP settings of a target.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Base URL (`http://` or `https://`).
    #[schemars(pattern(r"^https?://"))]
    pub base_url: String,
    /// An `http_auth` credential, by id or name (stored and shown as its id).
    #[serde(default)]
    #[schemars(with = "Option<opsc_proto::job::Ref>")]
    pub credential_id: Option<Uuid>,
    /// Verify the server certificate (default true).
    #[serde(default = "yes")]
    pub verify_tls: bool,
}

/// A target document, as created, updated, imported and exported.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Unique name, 1–200 characters.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// Host name or IP address.
    #[schemars(length(min = 1, max = 253), pattern(r"^[A-Za-z0-9._:-]+$"))]
    pub hostname: String,
    /// Operating system family.
    pub os_type: OsType,
    /// SSH settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSettings>,
    /// WinRM settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winrm: Option<WinrmSettings>,
    /// HTTP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
    /// Tags: letters, digits, `.`, `_`, `-`, `:`, `=`.
    #[serde(default)]
    #[schemars(inner(pattern(r"^[A-Za-z0-9._:=-]{1,64}$")))]
    pub tags: Vec<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, Value>,
    /// Worker pool that reaches it (default `default`).
    #[serde(default = "default_pool")]
    #[schemars(pattern(r"^[A-Za-z0-9_-]{1,64}$"))]
    pub pool: String,
    /// Disabled targets are skipped (default enabled).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_pool() -> String {
    "default".to_owned()
}

/// One problem with one field of a target document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    /// The field, e.g. `ssh.credential_id`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Whether `h` is a DNS name or an IP address.
pub fn valid_hostname(h: &str) -> bool {
    if h.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:=".contains(c))
}

impl TargetSpec {
    /// Checks everything that needs no database; the list of problems.
    pub fn check_fields(&mut self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.name = self.name.trim().to_owned();
        self.hostname = self.hostname.trim().to_lowercase();
        if self.name.is_empty() || self.name.len() > 200 {
            errors.push(err("name", "must be 1-200 characters"));
        }
        if !valid_hostname(&self.hostname) {
            errors.push(err("hostname", "must be a host name or an IP address"));
        }
        if !opsc_proto::subjects::is_valid_token(&self.pool) {
            errors.push(err("pool", "must be 1-64 letters, digits, '-' or '_'"));
        }
        self.tags.sort();
        self.tags.dedup();
        if let Some(bad) = self.tags.iter().find(|t| !valid_tag(t)) {
            errors.push(err(
                "tags",
                format!("{bad:?} is not a tag (letters, digits, . _ - : =)"),
            ));
        }
        if let Some(s) = &self.ssh
            && (s.port == 0 || s.connect_timeout_secs == 0 || s.connect_timeout_secs > 300)
        {
            errors.push(err(
                "ssh",
                "port must be 1-65535 and connect_timeout_secs 1-300",
            ));
        }
        if let Some(w) = &self.winrm
            && w.port == Some(0)
        {
            errors.push(err("winrm.port", "must be 1-65535"));
        }
        if let Some(h) = &self.http
            && !(h.base_url.starts_with("https://") || h.base_url.starts_with("http://"))
        {
            errors.push(err("http.base_url", "must start with http:// or https://"));
        }
        errors
    }

    /// Checks that referenced credentials exist and have a fitting type.
    pub async fn check_credentials(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Vec<FieldError>, sea_orm::DbErr> {
        let mut wanted: Vec<(&str, Uuid, &[&str])> = Vec::new();
        if let Some(s) = &self.ssh {
            wanted.push((
                "ssh.credential_id",
                s.credential_id,
                &["ssh_password", "ssh_key"],
            ));
        }
        if let Some(w) = &self.winrm {
            wanted.push(("winrm.credential_id", w.credential_id, &["winrm"]));
        }
        if let Some(id) = self.http.as_ref().and_then(|h| h.credential_id) {
            wanted.push(("http.credential_id", id, &["http_auth"]));
        }
        let mut errors = Vec::new();
        for (field, id, kinds) in wanted {
            match credential::Entity::find()
                .filter(credential::Column::Id.eq(id))
                .one(db)
                .await?
            {
                None => errors.push(err(field, "no such credential")),
                Some(c) if !kinds.contains(&c.kind.as_str()) => {
                    errors.push(err(
                        field,
                        format!(
                            "a {} credential cannot be used here (needs {})",
                            c.kind,
                            kinds.join(" or ")
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(errors)
    }
}
