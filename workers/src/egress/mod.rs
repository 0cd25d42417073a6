//! Where this worker's steps and connection tests may connect: its pool's
//! egress policy (`worker.egress_*`), checked after name resolution inside
//! the HTTP, SSH and WinRM connectors and on every redirect.
//!
//! The order, for a host name and each address it resolved to:
//! 1. an `egress_deny` rule naming the host or the address refuses;
//! 2. built-in refusals: cloud metadata addresses (lifted only by the
//!    named set `metadata` in `egress_allow`), link-local addresses, the
//!    worker's own loopback and the unspecified addresses, multicast and
//!    broadcast (the first two lifted by an `egress_allow` address rule,
//!    never by a host pattern: a name can resolve anywhere);
//! 3. an `egress_allow` rule naming the host or the address allows;
//! 4. otherwise `egress_default` decides (`allow` by default: private
//!    ranges are where targets live).
//!
//! A refusal names the rule, so the step's error says what to change.

mod resolve;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use opsc_runtime::config::{EgressDefault, WorkerConfig};

use opsc_runtime::config::egress::METADATA_NAMES;
pub use opsc_runtime::config::egress::{HostPattern, NamedSet, Rule};
pub use resolve::{EgressResolver, LookupError, lookup};

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The host as the step named it.
    pub host: String,
    /// The address it resolved to, when the address was refused.
    pub addr: Option<IpAddr>,
    /// The rule, as the configuration spells it.
    pub rule: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            Some(a) if a.to_string() != self.host => {
                write!(f, "egress to {} ({a}) refused by {}", self.host, self.rule)
            }
            _ => write!(f, "egress to {} refused by {}", self.host, self.rule),
        }
    }
}

impl std::error::Error for Refused {}

/// The built-in refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Metadata,
    LinkLocal,
    Loopback,
    NotUnicast,
}

impl Builtin {
    fn of(ip: IpAddr) -> Option<Self> {
        if NamedSet::Metadata.contains(ip) {
            Some(Self::Metadata)
        } else if NamedSet::LinkLocal.contains(ip) {
            Some(Self::LinkLocal)
        } else if NamedSet::Loopback.contains(ip) {
            Some(Self::Loopback)
        } else if ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255]) {
            Some(Self::NotUnicast)
        } else {
            None
        }
    }

    fn rule(self) -> String {
        match self {
            Self::Metadata => "the built-in rule for cloud metadata addresses \
                 (an admin may add \"metadata\" to worker.egress_allow)"
                .to_owned(),
            Self::LinkLocal => "the built-in rule for link-local addresses \
                 (an admin may add the network to worker.egress_allow)"
                .to_owned(),
            Self::Loopback => "the built-in rule for the worker's own loopback \
                 (an admin may add \"loopback\" to worker.egress_allow)"
                .to_owned(),
            Self::NotUnicast => {
                "the built-in rule for multicast and broadcast addresses".to_owned()
            }
        }
    }
}

/// The egress policy of this worker's pool.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    allow: Vec<(String, Rule)>,
    deny: Vec<(String, Rule)>,
    default_deny: bool,
}

fn parse_all(key: &str, entries: &[String]) -> anyhow::Result<Vec<(String, Rule)>> {
    entries
        .iter()
        .map(|e| {
            Rule::parse(e)
                .map(|r| (e.trim().to_owned(), r))
                .map_err(|why| anyhow::anyhow!("configuration: worker.{key}: {why}"))
        })
        .collect()
}

/// `host` as rules compare it: lower case, no trailing dot, no brackets.
fn normal(host: &str) -> String {
    host.trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

impl Egress {
    /// The policy of `worker.egress_*`; an entry that is not a network, a
    /// named set or a host pattern is an error naming the setting.
    pub fn from_config(worker: &WorkerConfig) -> anyhow::Result<Self> {
        Ok(Self {
            allow: parse_all("egress_allow", &worker.egress_allow)?,
            deny: parse_all("egress_deny", &worker.egress_deny)?,
            default_deny: worker.egress_default == EgressDefault::Deny,
        })
    }

    /// A policy from rule texts (tests and tools).
    pub fn from_rules(allow: &[&str], deny: &[&str], default_deny: bool) -> anyhow::Result<Self> {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let worker = WorkerConfig {
            egress_allow: owned(allow),
            egress_deny: owned(deny),
            egress_default: if default_deny {
                EgressDefault::Deny
            } else {
                EgressDefault::Allow
            },
            ..WorkerConfig::default()
        };
        Self::from_config(&worker)
    }

    /// A policy that lets loopback through (tests against local peers).
    pub fn with_loopback() -> Self {
        Self {
            allow: vec![("loopback".to_owned(), Rule::Set(NamedSet::Loopback))],
            ..Self::default()
        }
    }

    fn refused(host: &str, addr: Option<IpAddr>, rule: String) -> Refused {
        Refused {
            host: host.to_owned(),
            addr,
            rule,
        }
    }

    /// What can be decided from the name alone, before resolving it: a deny
    /// pattern, or a metadata service's name. An address literal is checked
    /// as its address.
    pub fn check_name(&self, host: &str) -> Result<(), Refused> {
        let name = normal(host);
        if let Ok(ip) = name.parse::<IpAddr>() {
            return self.check(host, ip);
        }
        if let Some((text, _)) = self.deny.iter().find(|(_, r)| r.covers_name(&name)) {
            return Err(Self::refused(
                host,
                None,
                format!("worker.egress_deny entry {text:?}"),
            ));
        }
        let metadata_allowed = self
            .allow
            .iter()
            .any(|(_, r)| *r == Rule::Set(NamedSet::Metadata));
        if !metadata_allowed && METADATA_NAMES.contains(&name.as_str()) {
            return Err(Self::refused(host, None, Builtin::Metadata.rule()));
        }
        Ok(())
    }

    /// Whether `host`, resolved to `ip`, may be connected to.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        let ip = opsc_runtime::config::egress::canonical(ip);
        let name = normal(host);
        if let Some((text, _)) = self
            .deny
            .iter()
            .find(|(_, r)| r.covers_addr(ip) || r.covers_name(&name))
        {
            return Err(Self::refused(
                host,
                Some(ip),
                format!("worker.egress_deny entry {text:?}"),
            ));
        }
        if let Some(builtin) = Builtin::of(ip) {
            let lifted = match builtin {
                Builtin::Metadata => self
                    .allow
                    .iter()
                    .any(|(_, r)| *r == Rule::Set(NamedSet::Metadata)),
                Builtin::LinkLocal | Builtin::Loopback => {
                    self.allow.iter().any(|(_, r)| r.covers_addr(ip))
                }
                Builtin::NotUnicast => false,
            };
            return if lifted {
                Ok(())
            } else {
                Err(Self::refused(host, Some(ip), builtin.rule()))
            };
        }
        if self
            .allow
            .iter()
            .any(|(_, r)| r.covers_addr(ip) || r.covers_name(&name))
        {
            return Ok(());
        }
        if self.default_deny {
            return Err(Self::refused(
                host,
                Some(ip),
                "worker.egress_default = \"deny\" (no worker.egress_allow entry names it)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// The addresses of `host` that may be connected to; when none may, the
    /// refusal of the first.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        self.check_name(host)?;
        let mut first = None;
        let mut kept = Vec::with_capacity(addrs.len());
        for a in addrs {
            match self.check(host, a.ip()) {
                Ok(()) => kept.push(a),
                Err(r) => {
                    first.get_or_insert(r);
                }
            }
        }
        match (kept.is_empty(), first) {
            (true, Some(r)) => Err(r),
            _ => Ok(kept),
        }
    }
}
