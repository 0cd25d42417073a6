//! A credential's scope: where an admin lets it go. `hosts` says where it
//! may be sent — every use must match one of them — and `pools` which
//! workers may receive it; `targets`, `groups` and `tags` narrow further
//! which inventory entries may use it. Operators can edit targets and tags,
//! never a scope, so nothing they change can widen where a secret goes.

use std::collections::BTreeSet;

use opsc_runtime::config::egress::Rule;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most entries in one list of a scope.
const MAX_ENTRIES: usize = 1000;

/// Where a credential may be used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialScope {
    /// Hosts it may be sent to: exact names or addresses (`db1.example.com`,
    /// `10.0.0.5`), every name under a domain (`*.example.com`), networks
    /// matching a host written as an address (`10.0.0.0/8`), or `*` for any
    /// host. A target's host name — and for HTTP credentials the host of its
    /// base URL — must match one. Empty: usable nowhere.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub hosts: Vec<String>,
    /// Pools whose workers may receive it; empty: any pool.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub pools: Vec<String>,
    /// Only these targets may use it; empty together with `groups` and
    /// `tags`: any target whose host matches.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub targets: Vec<Uuid>,
    /// Only members of these target groups may use it.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub groups: Vec<Uuid>,
    /// Only targets with one of these tags may use it.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub tags: Vec<String>,
}

/// One use of a credential: a target sending it to a host from a pool.
#[derive(Debug, Clone)]
pub struct Use<'a> {
    /// The target's id.
    pub target: Uuid,
    /// Its name, for messages.
    pub name: &'a str,
    /// Where the credential goes: the host name, or the base URL's host.
    pub host: &'a str,
    /// The target's pool.
    pub pool: &'a str,
    /// The target's tags.
    pub tags: &'a [String],
    /// The groups the target is a member of (needed only when the scope
    /// names groups).
    pub groups: &'a BTreeSet<Uuid>,
}

/// A host as scopes compare it: lower case, no trailing dot, no brackets.
pub fn normal_host(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

fn host_rule(entry: &str) -> Result<Option<Rule>, String> {
    if entry.trim() == "*" {
        return Ok(None);
    }
    match Rule::parse(entry)? {
        Rule::Set(_) => Err(format!(
            "{entry:?}: named sets belong to the egress policy; name hosts, domains (*.example.com) or networks"
        )),
        rule => Ok(Some(rule)),
    }
}

fn host_matches(entry: &str, host: &str) -> bool {
    match host_rule(entry) {
        Ok(None) => true,
        Ok(Some(rule)) => match host.parse::<std::net::IpAddr>() {
            Ok(ip) => rule.covers_addr(ip.to_canonical()),
            Err(_) => rule.covers_name(host),
        },
        Err(_) => false,
    }
}

impl CredentialScope {
    /// Checks every entry; the error names the list and the entry.
    pub fn validate(&self) -> Result<(), String> {
        for (list, len) in [
            ("hosts", self.hosts.len()),
            ("pools", self.pools.len()),
            ("targets", self.targets.len()),
            ("groups", self.groups.len()),
            ("tags", self.tags.len()),
        ] {
            if len > MAX_ENTRIES {
                return Err(format!("scope.{list}: at most {MAX_ENTRIES} entries"));
            }
        }
        for h in &self.hosts {
            host_rule(h).map_err(|why| format!("scope.hosts: {why}"))?;
        }
        if let Some(p) = self
            .pools
            .iter()
            .find(|p| !opsc_proto::subjects::is_valid_token(p))
        {
            return Err(format!(
                "scope.pools: {p:?} is not a pool name (1-64 letters, digits, '-' or '_')"
            ));
        }
        if let Some(t) = self
            .tags
            .iter()
            .find(|t| t.is_empty() || t.len() > 100 || t.contains('\0'))
        {
            return Err(format!("scope.tags: {t:?} is not a tag (1-100 characters)"));
        }
        Ok(())
    }

    /// Whether the scope lets the credential go to `host` from `pool` —
    /// the part of a use that says where the secret travels.
    pub fn places(&self, host: &str, pool: &str) -> Result<(), String> {
        let host = normal_host(host);
        if !self.hosts.iter().any(|h| host_matches(h, &host)) {
            return Err(if self.hosts.is_empty() {
                "its scope names no host".to_owned()
            } else {
                format!("{host} is not in its hosts ({})", self.hosts.join(", "))
            });
        }
        if !self.pools.is_empty() && !self.pools.iter().any(|p| p == pool) {
            return Err(format!(
                "pool {pool} is not in its pools ({})",
                self.pools.join(", ")
            ));
        }
        Ok(())
    }

    /// Whether the scope covers `u` entirely: placement, then the narrowing
    /// to targets, groups and tags.
    pub fn covers(&self, u: &Use<'_>) -> Result<(), String> {
        self.places(u.host, u.pool)?;
        let narrowed = !(self.targets.is_empty() && self.groups.is_empty() && self.tags.is_empty());
        let named = self.targets.contains(&u.target)
            || self.groups.iter().any(|g| u.groups.contains(g))
            || self.tags.iter().any(|t| u.tags.contains(t));
        if narrowed && !named {
            return Err(
                "its scope names other targets, groups or tags than this target's".to_owned(),
            );
        }
        Ok(())
    }

    /// The scope with `host` (and `pool`, when pools are listed) added.
    #[must_use]
    pub fn extended(&self, host: &str, pool: &str) -> Self {
        let mut s = self.clone();
        let host = normal_host(host);
        if self.places(&host, pool).is_err() {
            if !s.hosts.iter().any(|h| host_matches(h, &host)) {
                s.hosts.push(host);
            }
            if !s.pools.is_empty() && !s.pools.iter().any(|p| p == pool) {
                s.pools.push(pool.to_owned());
            }
        }
        s
    }
}

/// The message of a refused use, naming the credential and the target.
pub fn refusal(credential: &str, target: &str, why: &str) -> String {
    format!("credential {credential:?} may not be used with target {target:?}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(hosts: &[&str]) -> CredentialScope {
        CredentialScope {
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            ..CredentialScope::default()
        }
    }

    #[test]
    fn hosts_match_names_domains_networks_and_star() {
        let s = scope(&["db1.example.com", "*.corp.example", "10.1.0.0/16", "::1"]);
        for ok in ["DB1.example.com.", "a.corp.example", "10.1.2.3", "[::1]"] {
            s.places(ok, "default").unwrap();
        }
        for bad in [
            "db2.example.com",
            "corp.example",
            "10.2.0.1",
            "evil.example",
        ] {
            let e = s.places(bad, "default").unwrap_err();
            assert!(e.contains("not in its hosts"), "{bad}: {e}");
        }
        scope(&["*"]).places("anything.example", "p").unwrap();
        assert_eq!(
            scope(&[]).places("h", "p").unwrap_err(),
            "its scope names no host"
        );
    }

    #[test]
    fn pools_and_narrowing_apply_on_top_of_hosts() {
        let t = Uuid::now_v7();
        let g = Uuid::now_v7();
        let mut s = scope(&["*"]);
        s.pools = vec!["dmz".into()];
        assert!(
            s.places("h", "default")
                .unwrap_err()
                .contains("pool default")
        );
        s.places("h", "dmz").unwrap();
        s.tags = vec!["prod".into()];
        let none = BTreeSet::new();
        let tags = vec!["dev".to_owned()];
        let u = Use {
            target: t,
            name: "web",
            host: "h",
            pool: "dmz",
            tags: &tags,
            groups: &none,
        };
        assert!(s.covers(&u).unwrap_err().contains("other targets"));
        s.targets = vec![t];
        s.covers(&u).unwrap();
        s.targets.clear();
        s.groups = vec![g];
        let member = BTreeSet::from([g]);
        s.covers(&Use {
            groups: &member,
            ..u.clone()
        })
        .unwrap();
    }

    #[test]
    fn validation_names_the_bad_entry() {
        assert!(
            scope(&["private"])
                .validate()
                .unwrap_err()
                .contains("named sets")
        );
        assert!(
            scope(&["exa mple"])
                .validate()
                .unwrap_err()
                .contains("scope.hosts")
        );
        let mut s = scope(&["h"]);
        s.pools = vec!["a.b".into()];
        assert!(s.validate().unwrap_err().contains("scope.pools"));
    }

    #[test]
    fn extending_adds_the_exact_host_once() {
        let s = scope(&["a.example"]).extended("B.example.", "default");
        assert_eq!(s.hosts, vec!["a.example", "b.example"]);
        assert_eq!(s.extended("b.example", "default"), s);
    }
}
