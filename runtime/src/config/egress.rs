//! One rule of a worker's egress policy (`worker.egress_allow`,
//! `worker.egress_deny`) as written in the configuration: a network, a
//! named set of networks, or a host pattern. The workers enforce them.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Cloud metadata services: AWS, GCP, Azure and OCI (169.254.169.254), the
/// ECS task endpoint, AWS, GCP and OCI over IPv6, Alibaba, Azure's
/// wireserver.
const METADATA_ADDRS: [&str; 7] = [
    "169.254.169.254",
    "169.254.170.2",
    "fd00:ec2::254",
    "fd20:ce::254",
    "fd00:c1::a9fe:a9fe",
    "100.100.100.200",
    "168.63.129.16",
];

/// `ip` as the rules compare it: an IPv4 address carried inside an IPv6 one
/// (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`,
/// 6to4 `2002::/16`) is that IPv4 address, so no form of it slips past a
/// rule written for IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    let ip = ip.to_canonical();
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        IpAddr::from([a, b, c, d])
    };
    let compatible = s[..6].iter().all(|x| *x == 0) && (s[6] != 0 || s[7] > 1);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    if compatible || nat64 {
        v4(s[6], s[7])
    } else if s[0] == 0x2002 {
        v4(s[1], s[2])
    } else {
        ip
    }
}

/// Names of metadata services that resolve to them.
pub const METADATA_NAMES: [&str; 3] = ["metadata.google.internal", "metadata.goog", "metadata"];

/// A set of networks with a name usable in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedSet {
    /// `127.0.0.0/8`, `::1` and the unspecified addresses (which reach the
    /// worker itself).
    Loopback,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// The cloud metadata addresses.
    Metadata,
    /// RFC 1918, shared address space (100.64.0.0/10) and unique local
    /// IPv6 (`fc00::/7`).
    Private,
}

impl NamedSet {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "loopback" => Some(Self::Loopback),
            "link-local" => Some(Self::LinkLocal),
            "metadata" => Some(Self::Metadata),
            "private" => Some(Self::Private),
            _ => None,
        }
    }

    /// Whether `ip` (canonical) is in the set.
    pub fn contains(self, ip: IpAddr) -> bool {
        match self {
            Self::Loopback => ip.is_loopback() || ip.is_unspecified() || in_any(ip, &["0.0.0.0/8"]),
            Self::LinkLocal => in_any(ip, &["169.254.0.0/16", "fe80::/10"]),
            Self::Metadata => METADATA_ADDRS
                .iter()
                .any(|a| IpAddr::from_str(a).is_ok_and(|m| m == ip)),
            Self::Private => in_any(
                ip,
                &[
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                    "100.64.0.0/10",
                    "fc00::/7",
                ],
            ),
        }
    }
}

fn in_any(ip: IpAddr, nets: &[&str]) -> bool {
    nets.iter()
        .filter_map(|n| IpNet::from_str(n).ok())
        .any(|n| n.contains(&ip))
}

/// A host pattern: an exact name, or `*.suffix` for every name under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this name.
    Exact(String),
    /// Any name ending in `.suffix` (not `suffix` itself); held with its
    /// leading dot.
    Under(String),
}

impl HostPattern {
    /// Whether `host` (lower case, no trailing dot) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => host == name,
            Self::Under(dot_suffix) => host
                .strip_suffix(dot_suffix.as_str())
                .is_some_and(|head| !head.is_empty()),
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A network or single address.
    Net(IpNet),
    /// A named set of networks.
    Set(NamedSet),
    /// A host name pattern.
    Host(HostPattern),
}

impl Rule {
    /// Parses a configuration entry; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(set) = NamedSet::parse(&t) {
            return Ok(Self::Set(set));
        }
        if let Ok(net) = IpNet::from_str(&t) {
            return Ok(Self::Net(net.trunc()));
        }
        if let Ok(ip) = IpAddr::from_str(&t) {
            return Ok(Self::Net(IpNet::from(ip.to_canonical())));
        }
        let (pattern, name) = match t.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, t.as_str()),
        };
        let name = name.trim_end_matches('.');
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(format!(
                "{text:?} is not a network (10.0.0.0/8), an address, a named set \
                 (loopback, link-local, metadata, private) or a host pattern \
                 (db.example.com, *.example.com)"
            ));
        }
        Ok(Self::Host(if pattern {
            HostPattern::Under(format!(".{name}"))
        } else {
            HostPattern::Exact(name.to_owned())
        }))
    }

    /// Whether the rule names the address `ip` (canonical).
    pub fn covers_addr(&self, ip: IpAddr) -> bool {
        match self {
            Self::Net(net) => net.contains(&ip),
            Self::Set(set) => set.contains(ip),
            Self::Host(_) => false,
        }
    }

    /// Whether the rule names the host `name` (lower case, no trailing dot).
    pub fn covers_name(&self, name: &str) -> bool {
        matches!(self, Self::Host(p) if p.matches(name))
    }
}
