//! What `bench fanout` measures OpsConductor against, over the same N logins
//! as its targets: OpenSSH's `ssh` under `xargs -P`, and Ansible's ad-hoc
//! `ansible all -m command` when an `ansible` is found.
//!
//! Both check the host key strictly against a known-hosts file written from
//! `ssh-keyscan`, as OpsConductor's targets are pinned before its run.
//! Ansible gets a configuration of its own: an empty `ansible.cfg`, its home
//! and local temp in a temporary directory, no `ANSIBLE_*` variables from the
//! caller, no facts, no retry files, pipelining on and SSH connection sharing
//! off, so each host alias costs one SSH login and one command, as on the
//! other two sides.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};
use tokio::process::Command;

use super::fanout::FanoutArgs;

/// How long one baseline may take at most.
const BASELINE_LIMIT: Duration = Duration::from_secs(600);

/// The skip reason when no `ansible` was found.
pub const NO_ANSIBLE: &str = "ansible not found on PATH";

/// Where to look for `ansible`, read from the environment once.
#[derive(Debug, Clone, Default)]
pub struct AnsibleSearch {
    /// `PATH`.
    pub path: Option<OsString>,
    /// The `bin` folder of the test venv `deploy/lib/services.sh` makes:
    /// `$OPSCONDUCTOR_STATE_DIR/test-venv/bin`, the state directory defaulting
    /// to `${XDG_STATE_HOME:-$HOME/.local/state}/opsconductor` as there.
    pub venv_bin: Option<PathBuf>,
}

impl AnsibleSearch {
    /// Reads `PATH`, `OPSCONDUCTOR_STATE_DIR`, `XDG_STATE_HOME` and `HOME`;
    /// empty values count as unset.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let state = var("OPSCONDUCTOR_STATE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                var("XDG_STATE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                    .map(|s| s.join("opsconductor"))
            });
        Self {
            path: var("PATH"),
            venv_bin: state.map(|s| s.join("test-venv").join("bin")),
        }
    }

    /// `explicit` (which must be executable), else the first executable
    /// `ansible` on `PATH`, else the test venv's; `None` when there is none.
    pub fn find(&self, explicit: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
        if let Some(p) = explicit {
            if !is_executable(p) {
                bail!("--ansible {}: not an executable file", p.display());
            }
            return Ok(Some(p.to_owned()));
        }
        let on_path = self
            .path
            .iter()
            .flat_map(std::env::split_paths)
            .filter(|d| d.is_absolute());
        Ok(on_path
            .chain(self.venv_bin.clone())
            .map(|d| d.join("ansible"))
            .find(|p| is_executable(p)))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A private directory with a known-hosts file from `ssh-keyscan`, shared by
/// both baselines.
#[derive(Debug)]
pub struct Logins {
    dir: tempfile::TempDir,
    known_hosts: PathBuf,
}

impl Logins {
    /// Scans the sshd's host keys.
    pub async fn scan(a: &FanoutArgs) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let known_hosts = dir.path().join("known_hosts");
        let scan = Command::new("ssh-keyscan")
            .args(["-p", &a.port.to_string(), &a.host])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .await
            .context("running ssh-keyscan (install openssh-client)")?;
        if scan.stdout.is_empty() {
            bail!("ssh-keyscan found no host key at {}:{}", a.host, a.port);
        }
        std::fs::write(&known_hosts, &scan.stdout)?;
        Ok(Self { dir, known_hosts })
    }

    /// `ssh` options for one strictly checked, non-interactive login.
    fn ssh_options(&self, a: &FanoutArgs) -> String {
        format!(
            "-i {key} -p {port} -o BatchMode=yes -o ConnectTimeout=10 \
             -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes -o LogLevel=ERROR",
            key = quote(&a.key.display().to_string()),
            port = a.port,
            known = quote(&self.known_hosts.display().to_string()),
        )
    }
}

/// The same logins with OpenSSH under `xargs -P`: one `ssh` per login, each
/// wrapped in `sh` only to report its exit status.
pub async fn openssh(a: &FanoutArgs, logins: &Logins) -> anyhow::Result<Value> {
    let login = logins.dir.path().join("login.sh");
    std::fs::write(
        &login,
        format!(
            "ssh -n {opts} {user}@{host} {cmd} >/dev/null\necho \"rc=$?\"\n",
            opts = logins.ssh_options(a),
            user = quote(&a.user),
            host = quote(&a.host),
            cmd = quote(&a.command),
        ),
    )?;
    let script = format!(
        "seq {n} | xargs -P {p} -n 1 sh {login}",
        n = a.targets,
        p = a.concurrency,
        login = quote(&login.display().to_string()),
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script]).stdout(Stdio::piped());
    let started = Instant::now();
    let out = limited(cmd, "sh -c 'seq | xargs -P … ssh'").await?;
    let wall = started.elapsed();
    let ok = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| *l == "rc=0")
        .count();
    let mut v = counts(ok, a.targets, wall);
    v["all_succeeded"] = json!(out.status.success() && ok == a.targets as usize);
    Ok(v)
}

/// The same logins with `ansible all -m command -a <command> -f <concurrency>`.
pub async fn ansible(a: &FanoutArgs, logins: &Logins, exe: &Path) -> anyhow::Result<Value> {
    let python = match &a.ansible_python {
        Some(p) => p.clone(),
        None => match remote_python3(a, logins).await? {
            Some(p) => p,
            None => {
                return Ok(json!({"skipped": "no python3 on the target's PATH \
                                  (`command -v python3`); pass --ansible-python"}));
            }
        },
    };
    let dir = logins.dir.path().join("ansible");
    let tree = dir.join("tree");
    for d in [&dir, &dir.join("home"), &dir.join("tmp")] {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(dir.join("ansible.cfg"), "")?;
    let key =
        std::fs::canonicalize(&a.key).with_context(|| format!("resolving {}", a.key.display()))?;
    let inventory = dir.join("inventory.json");
    std::fs::write(
        &inventory,
        serde_json::to_vec(&inventory_doc(a, &key, &logins.known_hosts, &python))?,
    )?;

    let mut probe = ansible_command(exe, &dir);
    probe.arg("--version");
    let version = limited(probe, "ansible --version")
        .await
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().next().map(str::to_owned)
        });
    let mut cmd = ansible_command(exe, &dir);
    cmd.arg("all")
        .arg("-i")
        .arg(&inventory)
        .args(["-m", "command", "-a", &a.command])
        .args(["-f", &a.concurrency.to_string(), "-o", "-t"])
        .arg(&tree)
        .stdout(Stdio::null());
    let started = Instant::now();
    let out = limited(cmd, "ansible").await?;
    let wall = started.elapsed();
    let (ok, first_failure) = tree_results(&tree, a.targets)?;
    let mut v = counts(ok, a.targets, wall);
    let fields = [
        ("exit_code", json!(out.status.code())),
        ("version", json!(version)),
        ("executable", json!(exe.display().to_string())),
        ("python_interpreter", json!(python)),
        ("forks", json!(a.concurrency)),
        ("pipelining", json!(true)),
    ];
    for (k, f) in fields {
        v[k] = f;
    }
    if let Some(f) = first_failure {
        v["first_failure"] = json!(f);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !err.trim().is_empty() {
        let tail: Vec<&str> = err.trim().lines().rev().take(5).collect();
        v["stderr_tail"] = json!(tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Ok(v)
}

/// `ansible` with the benchmark's private configuration, run in `dir`.
fn ansible_command(exe: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(exe);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ANSIBLE_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_HOME", dir.join("home"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp"))
        .env("ANSIBLE_HOST_KEY_CHECKING", "True")
        .env("ANSIBLE_GATHERING", "explicit")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("ANSIBLE_PIPELINING", "True")
        // No `ControlMaster`: it would share one connection between the
        // aliases of one host, and leave masters behind for `ControlPersist`.
        .env("ANSIBLE_SSH_ARGS", "-o ControlMaster=no")
        .env("ANSIBLE_NOCOLOR", "True")
        // Ansible refuses to start without a UTF-8 locale.
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A YAML inventory (written as JSON, which is YAML): `targets` aliases of
/// the one sshd, strict host-key checking against `known_hosts`.
fn inventory_doc(a: &FanoutArgs, key: &Path, known_hosts: &Path, python: &str) -> Value {
    let hosts: Map<String, Value> = (0..a.targets)
        .map(|i| {
            let host = json!({
                "ansible_host": a.host,
                "ansible_port": a.port,
                "ansible_user": a.user,
                "ansible_ssh_private_key_file": key.display().to_string(),
            });
            (alias(i), host)
        })
        .collect();
    json!({"all": {"hosts": hosts, "vars": {
        "ansible_python_interpreter": python,
        "ansible_ssh_common_args": format!(
            "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes",
            quote(&known_hosts.display().to_string())
        ),
    }}})
}

/// The inventory name of login `i`.
fn alias(i: u32) -> String {
    format!("h{i:05}")
}

/// Successful hosts in the per-host result files `ansible -t` wrote, and the
/// first failure (`alias: message`); a host without a file failed.
fn tree_results(tree: &Path, targets: u32) -> anyhow::Result<(usize, Option<String>)> {
    let mut ok = 0;
    let mut first_failure = None;
    for i in 0..targets {
        let name = alias(i);
        let result: Value = match std::fs::read(tree.join(&name)) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
            Err(e) => return Err(e).context("reading ansible's results"),
        };
        let succeeded = result.is_object()
            && result["failed"] != true
            && result["unreachable"] != true
            && result["rc"] == 0;
        if succeeded {
            ok += 1;
        } else if first_failure.is_none() {
            let msg = result["msg"].as_str().unwrap_or("no result");
            first_failure = Some(format!(
                "{name}: {}",
                msg.chars().take(300).collect::<String>()
            ));
        }
    }
    Ok((ok, first_failure))
}

/// The target's `python3`, for `ansible_python_interpreter`.
async fn remote_python3(a: &FanoutArgs, logins: &Logins) -> anyhow::Result<Option<String>> {
    let script = format!(
        "ssh -n {opts} {user}@{host} 'command -v python3'",
        opts = logins.ssh_options(a),
        user = quote(&a.user),
        host = quote(&a.host),
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script]).stdout(Stdio::piped());
    let out = limited(cmd, "ssh … command -v python3").await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text.lines().next().unwrap_or("").trim();
    Ok((out.status.success() && path.starts_with('/')).then(|| path.to_owned()))
}

/// Runs `cmd` to its end within [`BASELINE_LIMIT`] (stderr inherited unless
/// piped), killing it when the limit passes.
async fn limited(mut cmd: Command, what: &str) -> anyhow::Result<Output> {
    cmd.kill_on_drop(true);
    match tokio::time::timeout(BASELINE_LIMIT, cmd.output()).await {
        Ok(out) => out.with_context(|| format!("running {what}")),
        Err(_) => bail!("{what} did not finish within {BASELINE_LIMIT:?}"),
    }
}

/// `{succeeded, failed, total_ms, wall_s}` of one side.
pub fn counts(ok: usize, targets: u32, wall: Duration) -> Value {
    let ms = wall.as_secs_f64() * 1000.0;
    json!({
        "succeeded": ok,
        "failed": (targets as usize).saturating_sub(ok),
        "total_ms": (ms * 10.0).round() / 10.0,
        "wall_s": (ms).round() / 1000.0,
    })
}

/// How many times faster `ours` was than `theirs` (`total_ms` of each), to
/// two decimals; `null` when either is missing.
pub fn ratio(theirs: &Value, ours: &Value) -> Value {
    match (theirs["total_ms"].as_f64(), ours["total_ms"].as_f64()) {
        (Some(t), Some(o)) if o > 0.0 => json!((t / o * 100.0).round() / 100.0),
        _ => Value::Null,
    }
}

/// Single-quotes for `sh` (and for the `shlex` splitting Ansible applies to
/// `ansible_ssh_common_args`).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(targets: u32) -> FanoutArgs {
        FanoutArgs {
            targets,
            host: "127.0.0.1".into(),
            port: 2222,
            user: "opsc-test".into(),
            key: "/k/id".into(),
            concurrency: 10,
            command: "uname -n".into(),
            ansible: None,
            ansible_python: None,
        }
    }

    #[test]
    fn inventory_has_one_alias_per_login_with_strict_host_keys() {
        let doc = inventory_doc(
            &args(3),
            Path::new("/k/id"),
            Path::new("/t/known hosts"),
            "/usr/bin/python3",
        );
        let hosts = doc["all"]["hosts"].as_object().unwrap();
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts["h00002"]["ansible_port"], 2222);
        assert_eq!(hosts["h00000"]["ansible_ssh_private_key_file"], "/k/id");
        let vars = &doc["all"]["vars"];
        assert_eq!(vars["ansible_python_interpreter"], "/usr/bin/python3");
        assert_eq!(
            vars["ansible_ssh_common_args"],
            "-o UserKnownHostsFile='/t/known hosts' -o StrictHostKeyChecking=yes"
        );
    }

    #[test]
    fn tree_counts_only_clean_results() {
        let dir = tempfile::tempdir().unwrap();
        let ok = r#"{"changed": true, "rc": 0, "stdout": "vm"}"#;
        std::fs::write(dir.path().join("h00000"), ok).unwrap();
        std::fs::write(
            dir.path().join("h00001"),
            r#"{"failed": true, "rc": 1, "msg": "non-zero return code"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("h00002"),
            r#"{"unreachable": true, "msg": "refused"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("h00004"), ok).unwrap();
        let (n, first) = tree_results(dir.path(), 5).unwrap();
        assert_eq!(n, 2);
        assert_eq!(first.as_deref(), Some("h00001: non-zero return code"));
    }

    #[test]
    fn explicit_ansible_must_be_executable() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("ansible");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let search = AnsibleSearch {
            path: None,
            venv_bin: Some(dir.path().to_owned()),
        };
        assert!(search.find(Some(&exe)).is_err());
        assert_eq!(search.find(None).unwrap(), None);
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(search.find(None).unwrap(), Some(exe.clone()));
        assert_eq!(search.find(Some(&exe)).unwrap(), Some(exe));
    }

    #[test]
    fn ratios_and_counts() {
        let ours = counts(10, 10, Duration::from_millis(500));
        let theirs = counts(9, 10, Duration::from_millis(1500));
        assert_eq!(ours["wall_s"], 0.5);
        assert_eq!(theirs["failed"], 1);
        assert_eq!(ratio(&theirs, &ours), json!(3.0));
        assert_eq!(ratio(&json!({"skipped": "x"}), &ours), Value::Null);
    }
}
