use std::net::{IpAddr, SocketAddr};

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn defaults_refuse_metadata_link_local_loopback_and_allow_the_rest() {
    let e = Egress::default();
    for (addr, word) in [
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.9", "link-local"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("224.0.0.1", "multicast"),
        ("::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("2002:a9fe:a9fe::1", "metadata"),
        ("fd20:ce::254", "metadata"),
        ("fd00:c1::a9fe:a9fe", "metadata"),
        ("0.1.2.3", "loopback"),
    ] {
        let r = e.check("h", ip(addr)).unwrap_err();
        assert!(r.rule.contains(word), "{addr}: {}", r.rule);
    }
    for addr in [
        "10.1.2.3",
        "192.168.0.9",
        "172.20.0.1",
        "8.8.8.8",
        "2001:db8::1",
    ] {
        e.check("h", ip(addr)).unwrap();
    }
    assert!(
        e.check_name("metadata.google.internal.")
            .unwrap_err()
            .rule
            .contains("metadata")
    );
}

#[test]
fn deny_wins_and_names_the_entry() {
    let e = Egress::from_rules(&["10.0.0.0/8"], &["private", "*.corp.example"], false).unwrap();
    let r = e.check("db", ip("10.9.9.9")).unwrap_err();
    assert_eq!(r.rule, "worker.egress_deny entry \"private\"");
    assert_eq!(
        r.to_string(),
        "egress to db (10.9.9.9) refused by worker.egress_deny entry \"private\""
    );
    let r = e.check_name("App.Corp.Example").unwrap_err();
    assert!(r.rule.contains("*.corp.example"), "{}", r.rule);
    // The bare suffix is not under it.
    e.check_name("corp.example").unwrap();
    e.check("www.example.org", ip("93.184.216.34")).unwrap();
}

#[test]
fn an_address_rule_lifts_loopback_a_host_pattern_does_not() {
    let by_addr = Egress::from_rules(&["loopback"], &[], false).unwrap();
    by_addr.check("localhost", ip("127.0.0.1")).unwrap();
    by_addr.check("x", ip("::1")).unwrap();
    // loopback does not lift metadata or link-local.
    by_addr.check("x", ip("169.254.169.254")).unwrap_err();
    let by_name = Egress::from_rules(&["localhost", "*.evil.example"], &[], false).unwrap();
    by_name.check("localhost", ip("127.0.0.1")).unwrap_err();
    by_name
        .check("a.evil.example", ip("169.254.169.254"))
        .unwrap_err();
    // Metadata only by its named set, not by the link-local network.
    let link = Egress::from_rules(&["169.254.0.0/16"], &[], false).unwrap();
    link.check("x", ip("169.254.10.10")).unwrap();
    link.check("x", ip("169.254.169.254")).unwrap_err();
    let meta = Egress::from_rules(&["metadata"], &[], false).unwrap();
    meta.check("x", ip("169.254.169.254")).unwrap();
    meta.check_name("metadata.google.internal").unwrap();
}

#[test]
fn default_deny_allows_only_what_is_named() {
    let e =
        Egress::from_rules(&["10.1.0.0/16", "*.example.com", "203.0.113.7"], &[], true).unwrap();
    e.check("x", ip("10.1.2.3")).unwrap();
    e.check("api.example.com", ip("198.51.100.1")).unwrap();
    e.check("x", ip("203.0.113.7")).unwrap();
    let r = e.check("x", ip("10.2.0.1")).unwrap_err();
    assert!(r.rule.contains("egress_default"), "{}", r.rule);
}

#[test]
fn filter_keeps_allowed_addresses_or_reports_the_first_refusal() {
    let e = Egress::default();
    let a = |s: &str| SocketAddr::new(ip(s), 22);
    let kept = e
        .filter("mixed", vec![a("127.0.0.1"), a("10.0.0.5")])
        .unwrap();
    assert_eq!(kept, vec![a("10.0.0.5")]);
    let r = e.filter("local", vec![a("127.0.0.1")]).unwrap_err();
    assert!(r.rule.contains("loopback"));
    assert_eq!(r.addr, Some(ip("127.0.0.1")));
}

#[test]
fn bad_entries_are_configuration_errors() {
    for bad in ["10.0.0.0/33", "exa mple.com", "*.", "", "http://x"] {
        let e = Egress::from_rules(&[bad], &[], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("worker.egress_allow"), "{bad}: {e}");
    }
    let e = Egress::from_rules(&[], &["a/b"], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("worker.egress_deny"), "{e}");
}

#[tokio::test]
async fn lookup_checks_literals_and_resolved_names() {
    let e = Egress::default();
    assert!(matches!(
        lookup(&e, "127.0.0.1", 22).await,
        Err(LookupError::Refused(_))
    ));
    assert!(matches!(
        lookup(&e, "localhost", 22).await,
        Err(LookupError::Refused(_))
    ));
    let open = Egress::with_loopback();
    assert!(!lookup(&open, "localhost", 22).await.unwrap().is_empty());
    assert!(matches!(
        lookup(&e, "no-such-host.invalid", 22).await,
        Err(LookupError::Resolve { .. })
    ));
}
