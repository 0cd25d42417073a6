//! The walkthrough of `docs/cli.md`, run as written: its `yaml` blocks that
//! start with `# FILE` are written to FILE, and each line of its `sh` blocks
//! runs through `bash -c` with `opsconductor` on PATH (this build) and the
//! placeholders the page names (`$OPSC_URL`, `$SSH_PORT`, …) set to a real
//! api, worker and sshd. A line ending in `# exit N` must exit N, every
//! other line 0; at the end the run must have succeeded.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;

use crate::harness::{ApiServer, Sshd, TEST_ADMIN_PASSWORD};

/// What the walkthrough consists of, in order.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// A file to write: its name and text.
    File(String, String),
    /// A command line and the exit status it must have.
    Line(String, i32),
}

/// The parts of the `## Walkthrough` section of `doc`.
fn walkthrough(doc: &str) -> Vec<Part> {
    let start = doc
        .find("\n## Walkthrough")
        .expect("docs/cli.md has a Walkthrough section");
    let section = &doc[start + 1..];
    let section = section[3..]
        .find("\n## ")
        .map_or(section, |end| &section[..end + 3]);
    let mut parts = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        let Some(lang) = fence.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        match lang.trim() {
            "sh" => {
                for l in body.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
                    let code = l
                        .rsplit_once("# exit ")
                        .and_then(|(_, rest)| rest.split(':').next()?.trim().parse().ok())
                        .unwrap_or(0);
                    parts.push(Part::Line(l.to_owned(), code));
                }
            }
            "yaml" => {
                if let Some(name) = body.first().and_then(|l| l.strip_prefix("# ")) {
                    let text: String = body[1..].iter().map(|l| format!("{l}\n")).collect();
                    parts.push(Part::File(name.trim().to_owned(), text));
                }
            }
            _ => {}
        }
    }
    parts
}

#[test]
fn the_walkthrough_is_read_in_order_with_expected_exit_codes() {
    let doc = "# x\n## Walkthrough: a\n\n```sh\nopsconductor a\n\nb   # exit 1: why\n```\n\
               ```yaml\n# f.yaml\nname: x\n```\n```text\nignored\n```\n## Next\n```sh\nnot this\n```\n";
    assert_eq!(
        walkthrough(doc),
        vec![
            Part::Line("opsconductor a".into(), 0),
            Part::Line("b   # exit 1: why".into(), 1),
            Part::File("f.yaml".into(), "name: x\n".into()),
        ]
    );
}

#[tokio::test]
async fn cli_walkthrough_of_docs_runs_from_login_to_a_finished_run() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"))
        .expect("docs/cli.md");
    let parts = walkthrough(&doc);
    assert!(
        parts
            .iter()
            .any(|p| matches!(p, Part::Line(l, 0) if l.contains("--follow"))),
        "the walkthrough follows a run: {parts:?}"
    );

    let sshd = Sshd::start().await;
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let key_file = dir.join("id_walkthrough");
    std::fs::write(&key_file, sshd.key_plain()).unwrap();
    let password_file = dir.join("password");
    std::fs::write(&password_file, format!("{TEST_ADMIN_PASSWORD}\n")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_opsconductor"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let vars = [
        ("OPSC_URL", api.base.clone()),
        ("PASSWORD_FILE", password_file.display().to_string()),
        ("SSH_USER", sshd.user.clone()),
        ("KEY_FILE", key_file.display().to_string()),
        ("SSH_PORT", sshd.port.to_string()),
        ("HOME", dir.display().to_string()),
        ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
        ("PATH", path),
    ];

    let mut transcript = String::new();
    for part in &parts {
        match part {
            Part::File(name, text) => std::fs::write(dir.join(name), text).unwrap(),
            Part::Line(line, code) => {
                let child = tokio::process::Command::new("bash")
                    .arg("-c")
                    .arg(line)
                    .current_dir(dir)
                    .env_clear()
                    .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
                    .await
                    .unwrap_or_else(|_| panic!("{line}: still running after 120 s"))
                    .unwrap();
                transcript.push_str(&format!(
                    "$ {line}\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
                assert_eq!(out.status.code(), Some(*code), "{line}:\n{transcript}");
            }
        }
    }

    // The last run of the walkthrough's job succeeded, on the sshd's host.
    let (_, page) = api
        .call(Method::GET, "/api/v1/runs?limit=1", Some(&admin), None)
        .await;
    let run = &page["items"][0];
    assert_eq!(run["status"], "succeeded", "{page}\n{transcript}");
    assert_eq!(run["target_ids"].as_array().map(Vec::len), Some(1), "{run}");
    assert!(transcript.contains("from "), "{transcript}");
    api.stop().await;
}
