use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::scripts::{self, CHUNK, Found};
use super::spec::{CopySpec, ExecSpec, Source, windows_path};
use crate::winrm::Shell;

fn with(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn exec_settings_pick_the_shell_by_key() {
    let s = ExecSpec::parse(&with(
        json!({"script": "Get-Date", "env": {"A": 1}, "cwd": "C:\\x"}),
    ))
    .unwrap();
    assert_eq!(s.shell, Shell::PowerShell);
    assert_eq!(s.env, [("A".to_owned(), "1".to_owned())]);
    let s = ExecSpec::parse(&with(json!({"command": "echo hi", "shell": "cmd"}))).unwrap();
    assert_eq!((s.shell, s.text.as_str()), (Shell::Cmd, "echo hi"));
    for (bad, why) in [
        (json!({"script": "a", "command": "b"}), "not both"),
        (json!({}), "is required"),
        (json!({"script": "  "}), "empty"),
        (json!({"script": "a", "shell": "cmd"}), "use with.command"),
        (
            json!({"command": "a", "shell": "powershell"}),
            "use with.script",
        ),
        (json!({"command": "a", "shell": "bash"}), "unknown variant"),
        (json!({"command": "a", "sudo": true}), "unknown field"),
        (
            json!({"command": "a", "env": {"A;B": "x"}}),
            "not a variable name",
        ),
    ] {
        let e = ExecSpec::parse(&with(bad.clone())).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn the_powershell_prefix_quotes_every_value() {
    let env = vec![("MSG".to_owned(), "it's; $(x)".to_owned())];
    assert_eq!(
        scripts::exec_script("Write-Output $env:MSG", &env, Some("C:\\O'Brien")),
        "$env:MSG = 'it''s; $(x)'\nSet-Location -LiteralPath 'C:\\O''Brien' -ErrorAction Stop\nWrite-Output $env:MSG"
    );
}

#[test]
fn copy_settings_need_one_source_and_a_full_windows_path() {
    let s = CopySpec::parse(&with(json!({"content": "x", "dest": "c:/Data/a.txt"}))).unwrap();
    assert_eq!(s.source, Source::Inline("x".into()));
    assert_eq!(
        (s.dest.as_str(), s.parent.as_str()),
        ("c:\\Data\\a.txt", "c:\\Data")
    );
    assert!(s.overwrite && s.create_dirs);
    let s = CopySpec::parse(&with(
        json!({"source": "/tmp/f", "dest": "C:\\a.txt", "overwrite": false}),
    ))
    .unwrap();
    assert_eq!((s.parent.as_str(), s.overwrite), ("C:\\", false));
    assert_eq!(
        windows_path("\\\\srv\\share\\d\\f").unwrap(),
        (
            "\\\\srv\\share\\d\\f".to_owned(),
            "\\\\srv\\share\\d".to_owned()
        )
    );
    for bad in [
        "a.txt",
        "C:",
        "C:\\",
        "C:\\dir\\",
        "C:\\a\\..\\b",
        "C:\\a?b",
        "\\\\srv\\share",
        "/etc/x",
    ] {
        assert!(windows_path(bad).is_err(), "{bad}");
    }
    for (bad, why) in [
        (json!({"dest": "C:\\a"}), "is required"),
        (
            json!({"content": "", "source": "/f", "dest": "C:\\a"}),
            "not both",
        ),
        (json!({"content": ""}), "missing field `dest`"),
        (
            json!({"content": "", "dest": "C:\\a", "mode": "0644"}),
            "unknown field",
        ),
    ] {
        let e = CopySpec::parse(&with(bad.clone())).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn a_full_chunk_stays_well_under_the_envelope_limit() {
    let script = scripts::chunk(
        "C:\\a\\very\\long\\path\\f.bin.opsc-0123456789ab.part",
        1,
        &[0xFF; CHUNK],
        None,
    );
    let encoded = winrm_rs::encode_powershell_command(&script);
    assert!(encoded.len() < 100 * 1024, "{} bytes", encoded.len());
    assert!(script.contains(&B64.encode([0xFF; CHUNK])));
    assert!(script.contains("[IO.FileMode]::Append"));
    let first = scripts::chunk("C:\\d\\f.part", 0, b"", Some("C:\\d"));
    assert!(first.contains("[IO.Directory]::CreateDirectory('C:\\d')"));
    assert!(first.contains("WriteAllBytes('C:\\d\\f.part', [Convert]::FromBase64String(''))"));
}

#[test]
fn the_destination_check_reads_three_flags() {
    assert_eq!(
        scripts::parse_found("True\r\nFalse\r\nTrue\r\n"),
        Some(Found {
            file: true,
            dir: false,
            parent: true
        })
    );
    assert_eq!(scripts::parse_found("True\r\nFalse\r\n"), None);
    assert_eq!(scripts::parse_found("yes\r\nno\r\nno\r\n"), None);
}

#[test]
fn the_settings_read_are_the_catalogue_keys() {
    use crate::steps::tests::{schema_keys, serde_keys};
    let exec = serde_keys(|w| ExecSpec::parse(w).unwrap_err());
    assert_eq!(exec, schema_keys("winrm.exec"));
    let copy = serde_keys(|w| CopySpec::parse(w).unwrap_err());
    assert_eq!(copy, schema_keys("winrm.copy"));
}
