//! Commands and pauses: `local.exec`, `ssh.exec`, `winrm.exec`, `wait`.

use serde_json::json;

use super::StepTypeSpec;
use super::shapes::{choice, env, number, required_text, settings, text};

/// The command steps and `wait`.
pub fn specs() -> Vec<StepTypeSpec> {
    vec![
        StepTypeSpec {
            name: "local.exec",
            family: "local",
            description: "Runs a shell command on the worker host (pools allowed to by an admin)."
                .into(),
            idempotent: false,
            needs_target: false,
            with_schema: settings(
                vec![
                    (
                        "command",
                        required_text("The command; interpolated values are shell-quoted."),
                    ),
                    (
                        "shell",
                        json!({"type": "string", "default": "/bin/sh", "description": "The shell run with -c."}),
                    ),
                    (
                        "env",
                        env("Environment variables added to the clean environment."),
                    ),
                    (
                        "cwd",
                        text(
                            "Working directory inside the worker's file roots (default: the work root).",
                        ),
                    ),
                ],
                &["command"],
                vec![json!({"command": "backup.sh {{ params.db }}", "env": {"LEVEL": "full"}})],
            ),
        },
        StepTypeSpec {
            name: "ssh.exec",
            family: "ssh",
            description: "Runs a shell command on the target over SSH.".into(),
            idempotent: false,
            needs_target: true,
            with_schema: settings(
                vec![
                    (
                        "command",
                        required_text("The command; interpolated values are shell-quoted."),
                    ),
                    (
                        "sudo",
                        json!({"type": "boolean", "default": false, "description": "Run through sudo -n."}),
                    ),
                    ("env", env("Variables exported before the command.")),
                    ("cwd", text("Directory changed into before the command.")),
                ],
                &["command"],
                vec![json!({"command": "systemctl restart {{ params.svc }}", "sudo": true})],
            ),
        },
        StepTypeSpec {
            name: "winrm.exec",
            family: "winrm",
            description:
                "Runs a PowerShell script or a cmd command line on a Windows target over WinRM."
                    .into(),
            idempotent: false,
            needs_target: true,
            with_schema: settings(
                vec![
                    (
                        "script",
                        text(
                            "PowerShell; interpolated values are single-quoted literals. Give script or command.",
                        ),
                    ),
                    (
                        "command",
                        text(
                            "A cmd command line; interpolated values are double-quoted. Give script or command.",
                        ),
                    ),
                    (
                        "shell",
                        choice(
                            "Must match the key given: powershell for script, cmd for command.",
                            &["powershell", "cmd"],
                            None,
                        ),
                    ),
                    (
                        "env",
                        env("Environment variables of the script or command."),
                    ),
                    ("cwd", text("Working directory.")),
                ],
                &[],
                vec![json!({"script": "Restart-Service -Name {{ params.svc }}"})],
            ),
        },
        StepTypeSpec {
            name: "wait",
            family: "flow",
            description: "Pauses for a number of seconds (ended early by cancel).".into(),
            idempotent: true,
            needs_target: false,
            with_schema: settings(
                vec![(
                    "seconds",
                    number(
                        "number",
                        "Seconds to wait, 0 to 86400.",
                        0.0,
                        86_400.0,
                        None,
                    ),
                )],
                &["seconds"],
                vec![
                    json!({"seconds": 30}),
                    json!({"seconds": "{{ params.delay }}"}),
                ],
            ),
        },
    ]
}
