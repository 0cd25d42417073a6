//! The client's address: the TCP peer, or, when the peer is a trusted
//! reverse proxy (`http.trusted_proxies`), the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy. A client cannot
//! choose its address by sending the header: from anyone else it is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

/// The header proxies append the client to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client address of a request from `peer` with `headers`.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let trusts = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
    if !trusts(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    // From the nearest hop back; what follows an unreadable hop is unknown.
    hops.into_iter()
        .rev()
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|a| !trusts(a))
        .unwrap_or(peer)
}

/// The client's address as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(Self(client_addr(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(values: &[&str]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for v in values {
            m.append(FORWARDED_FOR, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        // A stranger cannot pick its address.
        assert_eq!(client_addr(stranger, &h(&["1.2.3.4"]), &trusted), stranger);
        // Behind a proxy: the right-most untrusted hop.
        assert_eq!(client_addr(proxy, &h(&["198.51.100.7"]), &trusted), client);
        assert_eq!(
            client_addr(proxy, &h(&["1.2.3.4, 198.51.100.7, 10.9.9.9"]), &trusted),
            client,
            "a spoofed left-most entry does not count"
        );
        assert_eq!(
            client_addr(proxy, &h(&["1.2.3.4", "198.51.100.7"]), &trusted),
            client
        );
        // Without the header, or only proxies in it: the proxy itself.
        assert_eq!(client_addr(proxy, &h(&[]), &trusted), proxy);
        assert_eq!(client_addr(proxy, &h(&["10.0.0.1"]), &trusted), proxy);
        // Nothing past an unreadable hop counts.
        assert_eq!(
            client_addr(proxy, &h(&["nonsense, 198.51.100.7"]), &trusted),
            client
        );
        assert_eq!(
            client_addr(proxy, &h(&["198.51.100.7, nonsense"]), &trusted),
            proxy
        );
        // No trusted proxies: the peer, always.
        assert_eq!(client_addr(proxy, &h(&["198.51.100.7"]), &[]), proxy);
    }
}
