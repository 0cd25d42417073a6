//! SSH connection test: connect, pin-check, authenticate, gather facts.

use crate::egress::Egress;
use std::collections::BTreeMap;
use std::time::Duration;

use opsc_proto::material::CredentialMaterial;
use opsc_proto::probe::{FailureStage, ProbeReply, ProbeRequest};

use crate::ssh::{self, HostKeyCheck, SshLogin};

/// One POSIX `sh` command printing `key=value` lines.
const FACTS: &str = "printf 'hostname=%s\\n' \"$(hostname 2>/dev/null || uname -n)\"; \
     printf 'os_release=%s\\n' \"$( (. /etc/os-release 2>/dev/null && echo \"$PRETTY_NAME\") || uname -s)\"; \
     printf 'kernel=%s\\n' \"$(uname -r)\"; \
     printf 'uptime_secs=%s\\n' \"$(cut -d. -f1 /proc/uptime 2>/dev/null)\"";

/// Output kept from the facts command.
const FACTS_CAP: usize = 16 * 1024;

pub(super) async fn probe(
    request: &ProbeRequest,
    material: CredentialMaterial,
    timeout: Duration,
    egress: &Egress,
) -> ProbeReply {
    let id = request.probe_id;
    let Some(settings) = &request.ssh else {
        return ProbeReply::failed(id, FailureStage::Worker, "the request has no SSH settings");
    };
    let login = match SshLogin::from_material(material) {
        Ok(login) => login,
        Err(e) => return ProbeReply::failed(id, FailureStage::Auth, e),
    };
    let check = HostKeyCheck {
        policy: settings.host_key_policy,
        pinned: settings.pinned.clone(),
    };
    let to = ssh::Endpoint {
        host: &request.hostname,
        port: settings.port,
        egress,
    };
    let session = match ssh::connect(to, timeout, check, &login).await {
        Ok(session) => session,
        Err(e) => {
            return ProbeReply {
                host_key: e.host_key,
                ..ProbeReply::failed(id, e.stage, e.message)
            };
        }
    };
    let host_key = Some(session.host_key.clone());
    let result = tokio::time::timeout(timeout, session.exec(FACTS, FACTS_CAP)).await;
    session.close().await;
    let failed = |error: String| ProbeReply {
        host_key: host_key.clone(),
        ..ProbeReply::failed(id, FailureStage::Command, error)
    };
    match result {
        Err(_) => failed(format!(
            "the facts command timed out after {}s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => failed(format!("the facts command could not run: {e}")),
        Ok(Ok(out)) if out.exit_code != Some(0) => failed(format!(
            "the facts command exited with {}: {}",
            out.exit_code
                .map_or_else(|| "no status".to_owned(), |c| c.to_string()),
            out.stderr.trim()
        )),
        Ok(Ok(out)) => ProbeReply::succeeded(id, parse_facts(&out.stdout), host_key),
    }
}

fn parse_facts(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_lines_parse_and_empty_values_are_dropped() {
        let f = parse_facts(
            "hostname=web1\nos_release=Debian GNU/Linux 12 (bookworm)\nkernel=6.1.0\nuptime_secs=\nnoise\n",
        );
        assert_eq!(f.get("hostname").map(String::as_str), Some("web1"));
        assert_eq!(
            f.get("os_release").map(String::as_str),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert!(!f.contains_key("uptime_secs"));
        assert_eq!(f.len(), 3);
    }
}
