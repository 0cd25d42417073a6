//! Credential material as a worker receives it: only ever inside a seal
//! (see `opsc_runtime::seal`), never as a field of a message.
//!
//! The api builds it from a credential's public and secret parts; the worker
//! opens the seal and deserialises it. `Debug` prints the type only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a worker needs to authenticate to a target.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CredentialMaterial {
    /// WinRM login.
    Winrm {
        /// User name.
        username: String,
        /// Password.
        password: String,
        /// Windows domain.
        #[serde(default)]
        domain: Option<String>,
        /// `basic`, `ntlm` or `kerberos`.
        auth: String,
    },
    /// SSH password login.
    SshPassword {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// SSH key login.
    SshKey {
        /// User name.
        username: String,
        /// Private key, OpenSSH or PEM.
        private_key: String,
        /// Passphrase of an encrypted key.
        #[serde(default)]
        passphrase: Option<String>,
    },
    /// HTTP authentication.
    HttpAuth {
        /// `basic`, `bearer` or `api_key`.
        scheme: String,
        /// Basic user.
        #[serde(default)]
        username: Option<String>,
        /// Basic password.
        #[serde(default)]
        password: Option<String>,
        /// Bearer or API-key token.
        #[serde(default)]
        token: Option<String>,
        /// Header carrying the API key.
        #[serde(default)]
        header: Option<String>,
        /// Extra headers (their values are secret).
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
}

impl CredentialMaterial {
    /// The type name, as in the credential API.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Winrm { .. } => "winrm",
            Self::SshPassword { .. } => "ssh_password",
            Self::SshKey { .. } => "ssh_key",
            Self::HttpAuth { .. } => "http_auth",
        }
    }

    /// User name and password of a password login, when it is one.
    pub fn login(&self) -> Option<(&str, &str)> {
        match self {
            Self::Winrm {
                username, password, ..
            }
            | Self::SshPassword { username, password } => {
                Some((username.as_str(), password.as_str()))
            }
            Self::HttpAuth {
                username: Some(u),
                password: Some(p),
                ..
            } => Some((u.as_str(), p.as_str())),
            _ => None,
        }
    }

    /// Every secret value in it, for redacting captured output.
    pub fn secret_values(&self) -> Vec<&str> {
        match self {
            Self::Winrm { password, .. } | Self::SshPassword { password, .. } => {
                vec![password.as_str()]
            }
            Self::SshKey { passphrase, .. } => passphrase.iter().map(String::as_str).collect(),
            Self::HttpAuth {
                password,
                token,
                headers,
                ..
            } => password
                .iter()
                .chain(token.iter())
                .chain(headers.values())
                .map(String::as_str)
                .collect(),
        }
    }
}

impl std::fmt::Debug for CredentialMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CredentialMaterial({}, <redacted>)", self.kind())
    }
}
