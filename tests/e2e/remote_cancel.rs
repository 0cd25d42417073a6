//! Cancel and timeouts stop the remote work, not only the run's status: a
//! real worker runs commands and transfers against a real sshd on this
//! machine, and the test watches the target's processes in `/proc`.
//!
//! Most use an sshd that refuses the SSH `signal` request, as OpenSSH does
//! for root logins ("session signalling requires privilege separation") and
//! forced commands; and closing a channel without a pseudo-terminal does not
//! end its command. So these fail unless the worker kills the command's
//! process group itself.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, Opsc, Sshd, wait_until};

/// A process on this machine (zombies left out: they are dead).
#[derive(Debug, Clone)]
struct Proc {
    pid: u32,
    ppid: u32,
    pgid: u32,
    cmdline: String,
}

fn processes() -> Vec<Proc> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 3 || fields[0] == "Z" {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        found.push(Proc {
            pid,
            ppid: fields[1].parse().unwrap_or(0),
            pgid: fields[2].parse().unwrap_or(0),
            cmdline: cmdline.trim().to_owned(),
        });
    }
    found
}

/// Live processes whose command line (or environment: a forced command
/// gets the requested one in `SSH_ORIGINAL_COMMAND`) contains `marker`.
fn with_marker(marker: &str) -> Vec<Proc> {
    processes()
        .into_iter()
        .filter(|p| {
            p.cmdline.contains(marker)
                || std::fs::read(format!("/proc/{}/environ", p.pid))
                    .is_ok_and(|env| String::from_utf8_lossy(&env).contains(marker))
        })
        .collect()
}

/// Live members of process group `pgid`.
fn group(pgid: u32) -> Vec<Proc> {
    processes().into_iter().filter(|p| p.pgid == pgid).collect()
}

/// Live descendants of `root`.
fn descendants(root: u32) -> Vec<Proc> {
    let all = processes();
    let mut found: Vec<Proc> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for p in all.iter().filter(|p| p.ppid == parent) {
            parents.push(p.pid);
            found.push(p.clone());
        }
    }
    found
}

/// The SFTP servers of `sshd`'s connections: with `internal-sftp` each is
/// a forked child of a connection's session process, titled
/// `sshd: <user>@internal-sftp`.
fn sftp_servers(sshd: &Sshd) -> Vec<Proc> {
    descendants(sshd.pid().expect("sshd runs"))
        .into_iter()
        .filter(|p| p.cmdline.starts_with("sshd:") && p.cmdline.ends_with("@internal-sftp"))
        .collect()
}

/// Waits until a command with `marker` runs a process named `child`; the
/// command's process group (never 0 or 1: the test only ever looks at it).
async fn running_group(marker: &str, child: &str) -> u32 {
    let mut pgid = 0;
    wait_until(
        &format!("{child} of the command with {marker} running"),
        Duration::from_secs(30),
        || {
            let g = with_marker(marker).first().map_or(0, |p| p.pgid);
            let ready = g > 1 && group(g).iter().any(|p| p.cmdline.starts_with(child));
            if ready {
                pgid = g;
            }
            async move { ready }
        },
    )
    .await;
    pgid
}

/// Waits up to `within` until group `pgid` has no live process; a failure
/// names what is left.
async fn wait_gone(what: &str, pgid: u32, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = group(pgid);
        if left.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {}s waiting for {what}; left in group {pgid}: {:?}",
            within.as_secs(),
            left.iter()
                .map(|p| (p.pid, p.cmdline.as_str()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Names under `dir` that look like our temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".opsc-"))
                .collect()
        })
        .unwrap_or_default()
}

/// An installation with a worker, an sshd and a target with a pinned key.
struct Fixture {
    api: ApiServer,
    worker: Opsc,
    sshd: Sshd,
    admin: String,
    target: String,
}

impl Fixture {
    async fn start(sshd: Sshd) -> Self {
        let api = ApiServer::start(&[]).await;
        let worker = api.start_worker("default").await;
        let admin = api.admin().await;
        let (s, c) = api
            .call(Method::POST, "/api/v1/credentials", Some(&admin),
                Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}})))
            .await;
        assert_eq!(s, 201, "{c}");
        let (s, t) = api
            .call(Method::POST, "/api/v1/targets", Some(&admin),
                Some(json!({"name": "box-1", "hostname": "127.0.0.1", "os_type": "linux",
                    "ssh": {"port": sshd.port, "credential_id": c["id"], "host_key_policy": "accept-new"}})))
            .await;
        assert_eq!(s, 201, "{t}");
        let target = t["id"].as_str().unwrap().to_owned();
        let (_, tested) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{target}/test"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(tested["ok"], true, "{tested}");
        Self {
            api,
            worker,
            sshd,
            admin,
            target,
        }
    }

    /// Starts a job of `steps` on the target; the run id.
    async fn start_run(&self, name: &str, steps: Value) -> String {
        let job = create_job(
            &self.api,
            &self.admin,
            json!({"name": name, "targets": {"targets": [self.target]}, "steps": steps}),
        )
        .await;
        run_job(&self.api, &self.admin, &job, json!({})).await
    }

    async fn cancel(&self, run: &str) {
        let (s, b) = self
            .api
            .call(
                Method::POST,
                &format!("/api/v1/runs/{run}/cancel"),
                Some(&self.admin),
                None,
            )
            .await;
        assert_eq!(s, 202, "{b}");
    }

    /// Context for a failed assertion.
    fn logs(&self) -> String {
        format!(
            "worker:\n{}\nsshd:\n{}",
            self.worker.output(),
            self.sshd.log()
        )
    }
}

fn marker() -> String {
    format!("opsc-rc-{}", uuid::Uuid::new_v4().simple())
}

/// The sshd log shows it refused the `signal` request, so what stopped the
/// command was the worker's kill.
fn assert_signal_refused(f: &Fixture) {
    let log = f.sshd.log();
    assert!(log.contains("refusing to send signal"), "{log}");
}

/// A directory on the "target" the test account may write.
fn remote_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("opsc-rc-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    dir
}

/// A 16 GiB sparse worker file: no transfer of it ends within a test.
fn huge_source(dir: &Path) -> std::path::PathBuf {
    let huge = dir.join("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(16 << 30)
        .unwrap();
    huge
}

#[tokio::test]
async fn cancelling_an_ssh_exec_kills_its_remote_processes() {
    let f = Fixture::start(Sshd::start_ignoring_signals(10).await).await;
    let mark = marker();
    let run = f
        .start_run(
            "sleepy",
            json!([{"id": "nap", "type": "ssh.exec",
                    "with": {"command": format!("echo started; echo oops >&2; sleep 300; : {mark}")}}]),
        )
        .await;
    let pgid = running_group(&mark, "sleep").await;
    f.cancel(&run).await;
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}");
    wait_gone(
        "the cancelled command's processes gone",
        pgid,
        Duration::from_secs(5),
    )
    .await;
    assert_signal_refused(&f);
    let items = steps(&f.api, &f.admin, &run).await;
    let nap = step(&items, "nap", None);
    assert_eq!(nap["status"], "cancelled", "{nap}");
    assert_eq!(
        nap["stdout"],
        json!(["started"]),
        "no process-group report in the output: {nap}"
    );
    assert_eq!(nap["stderr"], json!(["oops"]), "{nap}");
    f.api.stop().await;
}

#[tokio::test]
async fn a_step_timeout_kills_its_remote_processes_even_when_they_ignore_sigterm() {
    let f = Fixture::start(Sshd::start_ignoring_signals(10).await).await;
    let mark = marker();
    let run = f
        .start_run(
            "stubborn",
            json!([{"id": "nap", "type": "ssh.exec", "timeout_secs": 2,
                    "with": {"command": format!("trap '' TERM; echo started; sleep 300; : {mark}")}}]),
        )
        .await;
    let pgid = running_group(&mark, "sleep").await;
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "failed", "{end}");
    let items = steps(&f.api, &f.admin, &run).await;
    let nap = step(&items, "nap", None);
    assert_eq!(nap["status"], "timed_out", "{nap}");
    assert_eq!(nap["stdout"], json!(["started"]), "{nap}");
    // SIGTERM is ignored: SIGKILL follows after the grace period.
    wait_gone(
        "the timed-out command's processes gone",
        pgid,
        Duration::from_secs(10),
    )
    .await;
    assert_signal_refused(&f);
    f.api.stop().await;
}

#[tokio::test]
async fn a_timed_out_ssh_copy_leaves_no_remote_process_or_partial_file() {
    let f = Fixture::start(Sshd::start_ignoring_signals(10).await).await;
    let remote = remote_dir();
    let local = tempfile::tempdir().unwrap();
    let huge = huge_source(local.path());
    let dest = remote.path().join(format!("{}.bin", marker()));
    let mark = marker();
    // The last step keeps the run's connection open while the test looks.
    let run = f
        .start_run(
            "copy",
            json!([
                {"id": "copy", "type": "ssh.copy", "timeout_secs": 2, "continue_on_error": true,
                 "with": {"source": huge, "dest": dest}},
                {"id": "hold", "type": "ssh.exec",
                 "with": {"command": format!("sleep 300; : {mark}")}}
            ]),
        )
        .await;
    let dest_name = dest.file_name().unwrap().to_string_lossy().into_owned();
    let copy = running_group(&dest_name, "cat").await;
    let hold = running_group(&mark, "sleep").await;
    // Generous: in one loaded CI run (two cores, the whole suite) the group
    // outlived 10 s; the message names what is left if it ever outlives 30.
    wait_gone(
        "the copy's remote processes gone",
        copy,
        Duration::from_secs(30),
    )
    .await;
    wait_until("the partial file removed", Duration::from_secs(10), || {
        let left = leftovers(remote.path());
        async move { left.is_empty() }
    })
    .await;
    assert!(!dest.exists());
    assert_signal_refused(&f);
    f.cancel(&run).await;
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}\n{}", f.logs());
    let items = steps(&f.api, &f.admin, &run).await;
    assert_eq!(step(&items, "copy", None)["status"], "timed_out");
    wait_gone("the held command gone", hold, Duration::from_secs(5)).await;
    f.api.stop().await;
}

#[tokio::test]
async fn a_timed_out_sftp_upload_leaves_no_sftp_server_or_partial_file() {
    let f = Fixture::start(Sshd::start().await).await;
    let remote = remote_dir();
    let local = tempfile::tempdir().unwrap();
    let huge = huge_source(local.path());
    let dest = remote.path().join("up.bin");
    let mark = marker();
    let run = f
        .start_run(
            "upload",
            json!([
                {"id": "up", "type": "sftp.upload", "timeout_secs": 2, "continue_on_error": true,
                 "with": {"source": huge, "dest": dest}},
                {"id": "hold", "type": "ssh.exec",
                 "with": {"command": format!("sleep 300; : {mark}")}}
            ]),
        )
        .await;
    wait_until("the SFTP upload under way", Duration::from_secs(30), || {
        let n = sftp_servers(&f.sshd).len();
        async move { n > 0 }
    })
    .await;
    // The connection stays open for the next step; the upload's SFTP
    // server must not.
    let hold = running_group(&mark, "sleep").await;
    wait_until(
        "the SFTP server of the upload gone",
        Duration::from_secs(10),
        || {
            let n = sftp_servers(&f.sshd).len();
            async move { n == 0 }
        },
    )
    .await;
    wait_until("the partial file removed", Duration::from_secs(10), || {
        let left = leftovers(remote.path());
        async move { left.is_empty() }
    })
    .await;
    assert!(!dest.exists());
    f.cancel(&run).await;
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}\n{}", f.logs());
    let items = steps(&f.api, &f.admin, &run).await;
    assert_eq!(step(&items, "up", None)["status"], "timed_out");
    wait_gone("the held command gone", hold, Duration::from_secs(5)).await;
    f.api.stop().await;
}

#[tokio::test]
async fn a_command_that_cannot_be_stopped_is_reported_not_hidden() {
    // One channel per connection: the kill channel is refused.
    let f = Fixture::start(Sshd::start_ignoring_signals(1).await).await;
    let mark = marker();
    let run = f
        .start_run(
            "unstoppable",
            json!([{"id": "nap", "type": "ssh.exec",
                    "with": {"command": format!("echo started; sleep 300; : {mark}")}}]),
        )
        .await;
    let pgid = running_group(&mark, "sleep").await;
    f.cancel(&run).await;
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}");
    let items = steps(&f.api, &f.admin, &run).await;
    let nap = step(&items, "nap", None);
    let stderr = nap["stderr"].to_string();
    assert!(
        stderr.contains("cancelled; the remote command could not be stopped: cannot run kill"),
        "{nap}\n{}",
        f.logs()
    );
    // The report is true: the command still runs. End it (only the
    // processes of the group this test started).
    let left = group(pgid);
    assert!(
        left.iter().any(|p| p.cmdline.starts_with("sleep")),
        "{left:?}\n{nap}\n{}",
        f.logs()
    );
    for p in left.iter().filter(|p| p.pid > 1 && p.pgid == pgid) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &p.pid.to_string()])
            .status();
    }
    wait_gone("the leftover processes ended", pgid, Duration::from_secs(5)).await;
    f.api.stop().await;
}
