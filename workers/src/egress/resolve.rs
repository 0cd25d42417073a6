//! Name resolution through the policy: for the SSH and WinRM connectors
//! ([`lookup`]) and as the HTTP client's resolver ([`EgressResolver`]), so
//! that every connection reqwest opens — redirects included — goes only to
//! addresses the policy allows.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{Egress, Refused};

/// Why a lookup gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
    /// The policy refused every address.
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// Resolves `host:port` and keeps the addresses the policy allows; an
/// address literal is checked without a lookup.
pub async fn lookup(
    egress: &Egress,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, LookupError> {
    egress.check_name(host)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| LookupError::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(LookupError::Resolve {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        });
    }
    Ok(egress.filter(host, addrs)?)
}

/// reqwest's resolver, through the policy.
#[derive(Debug, Clone)]
pub struct EgressResolver {
    egress: Arc<Egress>,
}

impl EgressResolver {
    /// A resolver enforcing `egress`.
    pub fn new(egress: Arc<Egress>) -> Self {
        Self { egress }
    }
}

impl Resolve for EgressResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress.clone();
        Box::pin(async move {
            // reqwest puts the port in itself; 0 only satisfies the lookup.
            let addrs = lookup(&egress, name.as_str(), 0).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}
