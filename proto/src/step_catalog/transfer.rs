//! File transfer: `sftp.upload`, `sftp.download`, `sftp.sync`, `ssh.copy`,
//! `winrm.copy`.

use serde_json::{Value, json};

use super::StepTypeSpec;
use super::shapes::{TEMPLATE_PATTERN, choice, flag, required_text, settings, strict_flag, text};

fn mode() -> Value {
    json!({
        "type": "string",
        "pattern": format!(r"^\s*(0o)?[0-7]{{1,5}}\s*$|{TEMPLATE_PATTERN}"),
        "title": "an octal file mode as text, like \"0640\"",
        "description": "Octal file mode as text, like \"0640\" (default: the source's; inline content: 0600).",
    })
}

/// The settings shared by the steps that copy one file.
fn single(with_sudo: bool, upload: bool) -> Vec<(&'static str, Value)> {
    let mut p = vec![];
    if upload {
        p.push((
            "source",
            text("A file on the worker host. Give source or content."),
        ));
        p.push(("content", text("Inline text to write instead of a file.")));
        p.push((
            "dest",
            required_text(
                "Target-side path (a trailing / or a directory: the source's name inside it).",
            ),
        ));
    } else {
        p.push(("source", required_text("Target-side file.")));
        p.push((
            "dest",
            required_text(
                "Worker-side path (a trailing / or a directory: the source's name inside it).",
            ),
        ));
    }
    p.push(("mode", mode()));
    p.push((
        "preserve_mtime",
        flag("Give the copy the source's modification time.", Some(true)),
    ));
    p.push((
        "create_dirs",
        flag("Create missing parent directories.", Some(true)),
    ));
    p.push((
        "overwrite",
        flag(
            "Replace an existing file (false: leave it alone).",
            Some(true),
        ),
    ));
    if with_sudo {
        p.push(("sudo", flag("Write as root through sudo -n.", Some(false))));
    }
    p
}

/// The transfer steps.
pub fn specs() -> Vec<StepTypeSpec> {
    vec![
        StepTypeSpec {
            name: "sftp.upload",
            family: "sftp",
            description: "Copies a worker file or inline text to the target over SFTP, verified by SHA-256.".into(),
            idempotent: true,
            needs_target: true,
            with_schema: settings(
                single(false, true),
                &["dest"],
                vec![json!({"content": "key={{ params.value }}\n", "dest": "/etc/app.conf", "mode": "0640"})],
            ),
        },
        StepTypeSpec {
            name: "sftp.download",
            family: "sftp",
            description: "Copies a file from the target to the worker host over SFTP, verified by SHA-256.".into(),
            idempotent: true,
            needs_target: true,
            with_schema: settings(
                single(false, false),
                &["source", "dest"],
                vec![json!({"source": "/var/log/app.log", "dest": "logs/", "overwrite": "true"})],
            ),
        },
        StepTypeSpec {
            name: "sftp.sync",
            family: "sftp",
            description: "Mirrors a directory tree between the worker host and the target over SFTP.".into(),
            idempotent: true,
            needs_target: true,
            with_schema: settings(
                vec![
                    ("source", required_text("The source directory (worker for upload, target for download).")),
                    ("dest", required_text("The destination directory, created when missing.")),
                    ("direction", choice("Which way to copy.", &["upload", "download"], Some("upload"))),
                    ("delete", flag("Remove destination entries the source does not have.", Some(false))),
                    ("checksum", flag("Compare contents (SHA-256) of same-size files instead of mtimes.", Some(false))),
                ],
                &["source", "dest"],
                vec![json!({"source": "site/", "dest": "/srv/www", "delete": true})],
            ),
        },
        StepTypeSpec {
            name: "ssh.copy",
            family: "ssh",
            description: "Copies a worker file or inline text to the target over a plain SSH channel (no SFTP needed).".into(),
            idempotent: true,
            needs_target: true,
            with_schema: settings(
                single(true, true),
                &["dest"],
                vec![json!({"source": "files/motd", "dest": "/etc/motd", "sudo": true})],
            ),
        },
        StepTypeSpec {
            name: "winrm.copy",
            family: "winrm",
            description: "Copies a worker file or inline text to a Windows target over WinRM, verified by SHA-256.".into(),
            idempotent: true,
            needs_target: true,
            with_schema: settings(
                vec![
                    ("source", text("A file on the worker host. Give source or content.")),
                    ("content", text("Inline text, written as UTF-8.")),
                    ("dest", required_text("A full Windows path, like C:\\dir\\file.txt.")),
                    ("overwrite", strict_flag("Replace an existing file.", true)),
                    ("create_dirs", strict_flag("Create missing directories.", true)),
                ],
                &["dest"],
                vec![json!({"content": "ok", "dest": "C:\\app\\ready.txt"})],
            ),
        },
    ]
}
