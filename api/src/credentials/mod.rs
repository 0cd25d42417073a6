//! Credentials: what each type holds, how it is validated on write, which
//! fields are secret (sealed in the vault) or public (shown), and the stored
//! credentials themselves ([`crud`]).

mod certificate;
pub mod crud;
pub mod material;
pub mod scope;
mod ssh;
pub mod usage;

pub use crud::{Changed, CredentialError, CredentialUpdate, CredentialView, NewCredential};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A credential's content, tagged by `type`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialSpec {
    /// Windows Remote Management.
    Winrm {
        /// User name.
        username: String,
        /// Password (secret).
        password: String,
        /// Windows domain.
        #[serde(default)]
        domain: Option<String>,
        /// `basic`, `ntlm` or `kerberos`.
        auth: WinrmAuth,
    },
    /// SSH with a password.
    SshPassword {
        /// User name.
        username: String,
        /// Password (secret).
        password: String,
    },
    /// SSH with a private key (OpenSSH or PEM; RSA, Ed25519, ECDSA).
    SshKey {
        /// User name.
        username: String,
        /// The private key (secret).
        private_key: String,
        /// Its passphrase, when encrypted (secret).
        #[serde(default)]
        passphrase: Option<String>,
    },
    /// HTTP authentication.
    HttpAuth {
        /// `basic`, `bearer` or `api_key`.
        scheme: HttpScheme,
        /// Basic: user name.
        #[serde(default)]
        username: Option<String>,
        /// Basic: password (secret).
        #[serde(default)]
        password: Option<String>,
        /// Bearer token or API key value (secret).
        #[serde(default)]
        token: Option<String>,
        /// API key: the header carrying it.
        #[serde(default)]
        header: Option<String>,
        /// Extra headers sent with every request (secret).
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A database login.
    Database {
        /// `postgres`, `mysql`, `mariadb`, `mssql`, `oracle`, `mongodb`, `redis`.
        engine: String,
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Database name.
        #[serde(default)]
        database: Option<String>,
        /// User name.
        username: String,
        /// Password (secret).
        password: String,
        /// Driver options.
        #[serde(default)]
        options: BTreeMap<String, String>,
    },
    /// A TLS client certificate.
    Certificate {
        /// PEM certificate.
        certificate: String,
        /// PEM private key (secret).
        private_key: String,
        /// PEM CA chain.
        #[serde(default)]
        ca: Option<String>,
        /// Key passphrase (secret).
        #[serde(default)]
        passphrase: Option<String>,
    },
    /// SNMP v1/v2c community or v3 user.
    Snmp {
        /// `v1`, `v2c` or `v3`.
        version: SnmpVersion,
        /// v1/v2c community (secret).
        #[serde(default)]
        community: Option<String>,
        /// v3 user.
        #[serde(default)]
        username: Option<String>,
        /// v3 authentication protocol.
        #[serde(default)]
        auth_protocol: Option<SnmpAuth>,
        /// v3 authentication password (secret).
        #[serde(default)]
        auth_password: Option<String>,
        /// v3 privacy protocol.
        #[serde(default)]
        privacy_protocol: Option<SnmpPrivacy>,
        /// v3 privacy password (secret).
        #[serde(default)]
        privacy_password: Option<String>,
    },
}

/// WinRM authentication.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WinrmAuth {
    /// HTTP Basic.
    Basic,
    /// NTLM.
    Ntlm,
    /// Kerberos.
    Kerberos,
}

/// HTTP auth schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpScheme {
    /// HTTP Basic.
    Basic,
    /// Bearer token.
    Bearer,
    /// API key in a named header.
    ApiKey,
}

/// SNMP versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SnmpVersion {
    /// v1.
    V1,
    /// v2c.
    V2c,
    /// v3.
    V3,
}

/// SNMPv3 authentication protocols.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SnmpAuth {
    /// HMAC-MD5-96 (legacy).
    Md5,
    /// HMAC-SHA-96.
    Sha,
    /// HMAC-SHA-224.
    Sha224,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-384.
    Sha384,
    /// HMAC-SHA-512.
    Sha512,
}

/// SNMPv3 privacy protocols.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SnmpPrivacy {
    /// DES (legacy).
    Des,
    /// AES-128.
    Aes,
    /// AES-192.
    Aes192,
    /// AES-256.
    Aes256,
}

/// A validated credential, split for storage.
#[derive(Debug)]
pub struct Split {
    /// The type name.
    pub kind: &'static str,
    /// Shown in responses.
    pub public: Value,
    /// Sealed in the vault.
    pub secret: Value,
}

fn need(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

fn nonempty(v: &str) -> bool {
    !v.trim().is_empty()
}

impl CredentialSpec {
    /// Validates and splits into public and secret parts.
    pub fn split(self) -> Result<Split, String> {
        Ok(match self {
            Self::Winrm {
                username,
                password,
                domain,
                auth,
            } => {
                need(
                    nonempty(&username) && nonempty(&password),
                    "winrm needs username and password",
                )?;
                Split {
                    kind: "winrm",
                    public: json!({"username": username, "domain": domain, "auth": auth}),
                    secret: json!({"password": password}),
                }
            }
            Self::SshPassword { username, password } => {
                need(
                    nonempty(&username) && nonempty(&password),
                    "ssh_password needs username and password",
                )?;
                Split {
                    kind: "ssh_password",
                    public: json!({"username": username}),
                    secret: json!({"password": password}),
                }
            }
            Self::SshKey {
                username,
                private_key,
                passphrase,
            } => {
                need(nonempty(&username), "ssh_key needs a username")?;
                let facts = ssh::inspect(&private_key, passphrase.as_deref())?;
                Split {
                    kind: "ssh_key",
                    public: json!({"username": username, "algorithm": facts.algorithm, "public_key": facts.public_key,
                                   "fingerprint": facts.fingerprint, "encrypted": passphrase.is_some()}),
                    secret: json!({"private_key": private_key, "passphrase": passphrase}),
                }
            }
            Self::HttpAuth {
                scheme,
                username,
                password,
                token,
                header,
                headers,
            } => {
                match scheme {
                    HttpScheme::Basic => need(
                        username.as_deref().is_some_and(nonempty) && password.is_some(),
                        "basic auth needs username and password",
                    )?,
                    HttpScheme::Bearer => need(
                        token.as_deref().is_some_and(nonempty),
                        "bearer auth needs a token",
                    )?,
                    HttpScheme::ApiKey => need(
                        token.as_deref().is_some_and(nonempty)
                            && header.as_deref().is_some_and(|h| {
                                nonempty(h)
                                    && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            }),
                        "api_key auth needs a token and a header name of letters, digits and '-'",
                    )?,
                }
                need(
                    headers.keys().all(|h| {
                        nonempty(h) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    }),
                    "header names are letters, digits and '-'",
                )?;
                let header_names: Vec<&String> = headers.keys().collect();
                Split {
                    kind: "http_auth",
                    public: json!({"scheme": scheme, "username": username, "header": header, "headers": header_names}),
                    secret: json!({"password": password, "token": token, "headers": headers}),
                }
            }
            Self::Database {
                engine,
                host,
                port,
                database,
                username,
                password,
                options,
            } => {
                const ENGINES: [&str; 7] = [
                    "postgres", "mysql", "mariadb", "mssql", "oracle", "mongodb", "redis",
                ];
                need(
                    ENGINES.contains(&engine.as_str()),
                    "engine must be postgres, mysql, mariadb, mssql, oracle, mongodb or redis",
                )?;
                need(
                    nonempty(&host) && port != 0 && nonempty(&username),
                    "database needs host, port and username",
                )?;
                Split {
                    kind: "database",
                    public: json!({"engine": engine, "host": host, "port": port, "database": database, "username": username, "options": options}),
                    secret: json!({"password": password}),
                }
            }
            Self::Certificate {
                certificate,
                private_key,
                ca,
                passphrase,
            } => {
                let facts = certificate::inspect(&certificate)?;
                need(
                    private_key.contains("PRIVATE KEY-----"),
                    "private_key must be a PEM private key",
                )?;
                if let Some(ca) = &ca {
                    certificate::inspect(ca).map_err(|e| format!("ca: {e}"))?;
                }
                Split {
                    kind: "certificate",
                    public: json!({"certificate": certificate, "ca": ca, "subject": facts.subject, "issuer": facts.issuer,
                                   "not_before": facts.not_before, "not_after": facts.not_after}),
                    secret: json!({"private_key": private_key, "passphrase": passphrase}),
                }
            }
            Self::Snmp {
                version,
                community,
                username,
                auth_protocol,
                auth_password,
                privacy_protocol,
                privacy_password,
            } => {
                if version == SnmpVersion::V3 {
                    need(
                        username.as_deref().is_some_and(nonempty) && community.is_none(),
                        "SNMPv3 needs a username and no community",
                    )?;
                    need(
                        auth_protocol.is_some() == auth_password.is_some(),
                        "auth_protocol and auth_password go together",
                    )?;
                    need(
                        privacy_protocol.is_some() == privacy_password.is_some(),
                        "privacy_protocol and privacy_password go together",
                    )?;
                    need(
                        privacy_protocol.is_none() || auth_protocol.is_some(),
                        "privacy needs authentication",
                    )?;
                    for pw in [&auth_password, &privacy_password].into_iter().flatten() {
                        need(pw.len() >= 8, "SNMPv3 passwords have at least 8 characters")?;
                    }
                } else {
                    need(
                        community.as_deref().is_some_and(nonempty) && username.is_none(),
                        "SNMP v1/v2c needs a community and no user",
                    )?;
                }
                Split {
                    kind: "snmp",
                    public: json!({"version": version, "username": username, "auth_protocol": auth_protocol, "privacy_protocol": privacy_protocol}),
                    secret: json!({"community": community, "auth_password": auth_password, "privacy_password": privacy_password}),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
