//! Secrets given in the environment leave it at start-up.
//!
//! A process's environment stays readable for its life (`/proc/<pid>/environ`)
//! and is what child processes inherit by default. So a server started with
//! `OPSC_MASTER_KEY` (or another secret setting) in its environment starts
//! itself again at once, before anything else runs: the same program and
//! arguments, without those variables, and with their values written into
//! a pipe that becomes the new process's standard input (servers read
//! nothing else from it). The new process reads them from there and uses
//! them as if they had been in its environment. Files (`*_file` settings)
//! are the better way still: nothing secret is in the environment at all.
//!
//! The process is also marked not dumpable: another process of the same
//! user (a command a worker started, say) cannot read its memory or
//! environment through `/proc`, and no core file is written.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

/// Settings whose values are secret.
const SECRET: &[&str] = &[
    "OPSC_MASTER_KEY",
    "OPSC_RETIRED_MASTER_KEYS",
    "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
    "OPSC_WORKER_SEAL_KEY",
    "OPSC_NOTIFIER_SEAL_KEY",
    "OPSC_DATABASE_URL",
];

/// Set in the restarted process: its standard input holds the secrets.
pub const MARK: &str = "OPSC_SECRETS_ON_STDIN";

/// The environment the configuration reads: the process's own, with the
/// secrets handed over on standard input when this process was restarted.
pub type Environment = Vec<(String, String)>;

/// For a long-running command: restarts the process without secrets in
/// its environment when there are any (does not return then), or reads
/// them back in the restarted process. Other commands get the environment
/// as it is.
pub fn environment(long_running: bool) -> Result<Environment, String> {
    let mut env: Environment = std::env::vars().collect();
    if !long_running {
        return Ok(env);
    }
    if env.iter().any(|(k, _)| k == MARK) {
        env.retain(|(k, _)| k != MARK);
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading the secrets handed over at start: {e}"))?;
        let handed: BTreeMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| format!("the secrets handed over at start are unreadable: {e}"))?;
        env.extend(handed);
        not_dumpable();
        return Ok(env);
    }
    let secrets: BTreeMap<String, String> = env
        .iter()
        .filter(|(k, _)| SECRET.contains(&k.as_str()))
        .cloned()
        .collect();
    if secrets.is_empty() {
        not_dumpable();
        return Ok(env);
    }
    Err(restart(&secrets))
}

/// Starts this program again without `secrets` in its environment, handing
/// them over on standard input; returns only on failure, with the reason.
fn restart(secrets: &BTreeMap<String, String>) -> String {
    use std::os::unix::process::CommandExt as _;
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return format!(
                "cannot find this program to restart it without secrets in its environment: {e}"
            );
        }
    };
    let (reader, mut writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return format!("cannot make a pipe to hand over the secrets: {e}"),
    };
    let text = serde_json::to_string(secrets).unwrap_or_default();
    // Far below a pipe's capacity: written whole before the restart.
    if let Err(e) = writer.write_all(text.as_bytes()) {
        return format!("cannot hand over the secrets: {e}");
    }
    drop(writer);
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let mut cmd = std::process::Command::new(&exe);
    cmd.arg0(arg0).args(args).stdin(reader).env(MARK, "1");
    for name in secrets.keys() {
        cmd.env_remove(name);
    }
    let e = cmd.exec();
    format!(
        "cannot restart {} without secrets in its environment: {e}",
        exe.display()
    )
}

/// Marks the process not dumpable (see the module documentation).
fn not_dumpable() {
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        eprintln!("opsconductor: cannot mark the process not dumpable: {e}");
    }
}
