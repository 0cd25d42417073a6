use std::process::Command;

use serde_json::json;

use super::*;

/// A key made by OpenSSH's own ssh-keygen: (private key text, fingerprint).
fn keygen(kind: &str, passphrase: &str, pem: bool) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k");
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "test", "-f"])
        .arg(&file);
    if pem {
        cmd.args(["-m", "PEM"]);
    }
    assert!(
        cmd.status()
            .expect("ssh-keygen (openssh-client) is installed")
            .success()
    );
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(file.with_extension("pub"))
        .output()
        .unwrap();
    let fp = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    (std::fs::read_to_string(&file).unwrap(), fp)
}

fn ssh_key(private_key: &str, passphrase: Option<&str>) -> CredentialSpec {
    serde_json::from_value(json!({"type": "ssh_key", "username": "ops", "private_key": private_key, "passphrase": passphrase})).unwrap()
}

#[test]
fn ssh_keys_of_every_kind_parse_and_show_the_openssh_fingerprint() {
    for (kind, pass, pem) in [
        ("ed25519", "", false),
        ("ed25519", "pass phrase 1", false),
        ("rsa", "", true),
        ("ecdsa", "", false),
        ("rsa", "", false),
    ] {
        let (key, fp) = keygen(kind, pass, pem);
        let split = ssh_key(&key, (!pass.is_empty()).then_some(pass))
            .split()
            .unwrap_or_else(|e| panic!("{kind} pem={pem}: {e}"));
        assert_eq!(split.public["fingerprint"], fp, "{kind}");
        assert!(
            split.public["public_key"]
                .as_str()
                .unwrap()
                .starts_with(if kind == "rsa" {
                    "ssh-rsa "
                } else if kind == "ecdsa" {
                    "ecdsa-sha2-"
                } else {
                    "ssh-ed25519 "
                })
        );
        assert!(
            !split.public.to_string().contains("PRIVATE KEY"),
            "the key stays secret"
        );
        assert!(
            split.secret["private_key"]
                .as_str()
                .unwrap()
                .contains("PRIVATE KEY")
        );
    }
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let (key, _) = keygen("ed25519", "right passphrase", false);
    assert!(
        ssh_key(&key, None)
            .split()
            .unwrap_err()
            .contains("passphrase")
    );
    assert!(
        ssh_key(&key, Some("wrong passphrase"))
            .split()
            .unwrap_err()
            .contains("passphrase")
    );
    assert!(
        ssh_key(
            "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----",
            None
        )
        .split()
        .is_err()
    );
}

#[test]
fn certificates_show_subject_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=ops.example",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl is installed");
    assert!(ok.status.success());
    let spec: CredentialSpec = serde_json::from_value(json!({
        "type": "certificate",
        "certificate": std::fs::read_to_string(&crt).unwrap(),
        "private_key": std::fs::read_to_string(&key).unwrap(),
    }))
    .unwrap();
    let split = spec.split().unwrap();
    assert_eq!(split.public["subject"], "CN=ops.example");
    let not_after =
        chrono::DateTime::parse_from_rfc3339(split.public["not_after"].as_str().unwrap()).unwrap();
    let days = (not_after.to_utc() - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");
    assert!(!split.public.to_string().contains("PRIVATE KEY"));
}

#[test]
fn each_type_validates_its_fields() {
    let bad = [
        json!({"type": "winrm", "username": "", "password": "x", "auth": "ntlm"}),
        json!({"type": "winrm", "username": "a", "password": "x", "auth": "digest"}),
        json!({"type": "ssh_password", "username": "a", "password": ""}),
        json!({"type": "http_auth", "scheme": "bearer"}),
        json!({"type": "http_auth", "scheme": "api_key", "token": "t", "header": "X Bad"}),
        json!({"type": "database", "engine": "excel", "host": "h", "port": 1, "username": "u", "password": "p"}),
        json!({"type": "snmp", "version": "v2c"}),
        json!({"type": "snmp", "version": "v3", "username": "u", "privacy_protocol": "aes", "privacy_password": "longenough"}),
        json!({"type": "snmp", "version": "v3", "username": "u", "auth_protocol": "sha", "auth_password": "short"}),
        json!({"type": "certificate", "certificate": "nope", "private_key": "nope"}),
    ];
    for b in bad {
        let r = serde_json::from_value::<CredentialSpec>(b.clone())
            .map_err(|e| e.to_string())
            .and_then(CredentialSpec::split);
        assert!(r.is_err(), "accepted {b}");
    }
    let unknown = serde_json::from_value::<CredentialSpec>(
        json!({"type": "ssh_password", "username": "a", "password": "p", "port": 22}),
    );
    assert!(unknown.is_err(), "unknown fields are refused");
    let good = [
        json!({"type": "winrm", "username": "a", "password": "x", "domain": "CORP", "auth": "ntlm"}),
        json!({"type": "http_auth", "scheme": "api_key", "token": "t", "header": "X-Api-Key", "headers": {"X-Tenant": "7"}}),
        json!({"type": "database", "engine": "postgres", "host": "db", "port": 5432, "username": "u", "password": "p"}),
        json!({"type": "snmp", "version": "v2c", "community": "c0mmunity"}),
        json!({"type": "snmp", "version": "v3", "username": "u", "auth_protocol": "sha256", "auth_password": "longenough", "privacy_protocol": "aes", "privacy_password": "longenough"}),
    ];
    for g in good {
        let split = serde_json::from_value::<CredentialSpec>(g.clone())
            .unwrap()
            .split()
            .unwrap_or_else(|e| panic!("{g}: {e}"));
        for secret in [
            "\"x\"",
            "\"p\"",
            "c0mmunity",
            "longenough",
            "\"t\"",
            "\"7\"",
        ] {
            assert!(
                !split.public.to_string().contains(secret),
                "{} shows a secret: {}",
                split.kind,
                split.public
            );
        }
    }
}
