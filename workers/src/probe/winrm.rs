//! WinRM connection tests: one shell, one facts script (see
//! [`crate::winrm`] for the client and its limits).

use std::collections::BTreeMap;
use std::time::Duration;

use opsc_proto::probe::{FailureStage, WinrmProbe};

use crate::winrm::{self, Failure, Shell, Target, WinrmLogin, excerpt};

/// One PowerShell script printing `key=value` lines.
const FACTS: &str = "$ErrorActionPreference = 'Stop'
$os = Get-CimInstance -ClassName Win32_OperatingSystem
Write-Output \"hostname=$env:COMPUTERNAME\"
Write-Output \"os_caption=$($os.Caption)\"
Write-Output \"os_version=$($os.Version)\"
Write-Output \"powershell_version=$($PSVersionTable.PSVersion.ToString())\"
";
const FACT_KEYS: [&str; 4] = ["hostname", "os_caption", "os_version", "powershell_version"];

/// Connects, opens a shell, gathers facts, closes the shell.
pub async fn probe(
    hostname: &str,
    settings: &WinrmProbe,
    login: &WinrmLogin,
    timeout: Duration,
    egress: &crate::egress::Egress,
) -> Result<BTreeMap<String, String>, Failure> {
    let target = Target {
        hostname,
        endpoint: settings.into(),
        login,
        connect_timeout: timeout,
        egress,
    };
    let out = winrm::run(&target, Shell::PowerShell, FACTS, timeout)
        .await?
        .into_success()
        .map_err(|(stage, e)| (stage, format!("the facts script {e}")))?;
    let facts = parse_facts(&out.stdout);
    match FACT_KEYS.iter().find(|k| !facts.contains_key(**k)) {
        None => Ok(facts),
        Some(missing) => Err((
            FailureStage::Command,
            format!(
                "the facts script printed no {missing}: {}",
                excerpt(&out.stdout)
            ),
        )),
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
    fn facts_parse_from_windows_lines() {
        let f = parse_facts(
            "hostname=WIN1\r\nos_caption=Microsoft Windows Server 2022 Standard\r\nos_version=\r\n",
        );
        assert_eq!(f.get("hostname").map(String::as_str), Some("WIN1"));
        assert_eq!(
            f.get("os_caption").map(String::as_str),
            Some("Microsoft Windows Server 2022 Standard")
        );
        assert!(!f.contains_key("os_version"));
    }
}
