//! File transfer steps end to end: `sftp.upload`, `sftp.download`,
//! `sftp.sync` and `ssh.copy` run by a real worker against a real sshd
//! (`internal-sftp`). Worker and sshd share this machine, so the test reads
//! what landed on the "target" straight from disk; files written over SSH
//! belong to the test account, not to root (the worker's user), which shows
//! they went through the connection.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, Opsc, Sshd, wait_until};

/// An installation with a worker, an sshd, and a target whose host key is pinned.
struct Fixture {
    api: ApiServer,
    _worker: Opsc,
    _sshd: Sshd,
    admin: String,
    target: String,
    /// The "target side": a directory the test account may write.
    remote: tempfile::TempDir,
    /// The worker side.
    local: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Self {
        let api = ApiServer::start(&[]).await;
        let worker = api.start_worker("default").await;
        let sshd = Sshd::start().await;
        let admin = api.admin().await;
        let (s, c) = api
            .call(Method::POST, "/api/v1/credentials", Some(&admin),
                Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}})))
            .await;
        assert_eq!(s, 201, "{c}");
        let (s, t) = api
            .call(Method::POST, "/api/v1/targets", Some(&admin),
                Some(json!({"name": "files-1", "hostname": "127.0.0.1", "os_type": "linux",
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
        let remote = tempfile::Builder::new()
            .prefix("opsc-sftp-")
            .tempdir_in("/tmp")
            .unwrap();
        set_mode(remote.path(), 0o777);
        Self {
            api,
            _worker: worker,
            _sshd: sshd,
            admin,
            target,
            remote,
            local: tempfile::tempdir().unwrap(),
        }
    }

    fn remote(&self, rel: &str) -> String {
        format!("{}/{rel}", self.remote.path().display())
    }

    fn local(&self, rel: &str) -> PathBuf {
        self.local.path().join(rel)
    }

    /// Runs a job of `steps` on the target; the run and its steps.
    async fn run(&self, name: &str, steps_: Value, parameters: Value) -> (Value, Vec<Value>) {
        let job = create_job(
            &self.api,
            &self.admin,
            json!({"name": name, "targets": {"targets": [self.target]},
                   "parameters": {"who": {"type": "string", "default": "world"}},
                   "steps": steps_}),
        )
        .await;
        let run = run_job(
            &self.api,
            &self.admin,
            &job,
            json!({"parameters": parameters}),
        )
        .await;
        let end = wait_end(&self.api, &self.admin, &run).await;
        let items = steps(&self.api, &self.admin, &run).await;
        (end, items)
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn set_mtime(path: &Path, secs: u64) {
    let t = UNIX_EPOCH + Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
        .unwrap();
}

fn write(path: &Path, data: &[u8], mode: u32, mtime: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
    set_mode(path, mode);
    set_mtime(path, mtime);
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mode_of(path: impl AsRef<Path>) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

/// The JSON summary a transfer step printed.
fn summary(items: &[Value], id: &str) -> Value {
    let s = step(items, id, None);
    let line = s["stdout"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{id} printed nothing: {s}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{id}: {e}: {line}"))
}

/// Names under `dir` (recursively) that look like our temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".opsc-") {
                found.push(e.path().display().to_string());
            }
            if e.file_type().unwrap().is_dir() {
                pending.push(e.path());
            }
        }
    }
    found
}

#[tokio::test]
async fn sftp_upload_and_download_keep_mode_and_mtime_and_verify() {
    let f = Fixture::start().await;
    // Bigger than the 16 × 32 KiB request window, not a multiple of a chunk.
    let data: Vec<u8> = (0..700_001_u32).map(|i| (i * 7 % 251) as u8).collect();
    let src = f.local("app.conf");
    write(&src, &data, 0o640, 1_600_000_000);
    let dest = f.remote("conf/app.conf");
    let greeting = f.remote("greeting.txt");
    let down = f.local("down/app.conf");
    let (end, items) = f
        .run(
            "transfer",
            json!([
                {"id": "up", "type": "sftp.upload", "with": {"source": src, "dest": dest}},
                {"id": "greet", "type": "sftp.upload",
                 "with": {"content": "hello {{ params.who }}\n", "dest": greeting, "mode": "0604"}},
                {"id": "keep", "type": "sftp.upload",
                 "with": {"content": "changed\n", "dest": greeting, "overwrite": false}},
                {"id": "down", "type": "sftp.download", "with": {"source": dest, "dest": down}},
                {"id": "report", "type": "local.exec",
                 "with": {"command": "echo sha={{ steps.up.json.sha256 }} bytes={{ steps.up.json.bytes }}"}}
            ]),
            json!({"who": "world"}),
        )
        .await;
    assert_eq!(end["status"], "succeeded", "{end}\n{items:?}");

    // Upload: content, the source's mode and mtime, written as the login user.
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    let meta = std::fs::metadata(&dest).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), 1_600_000_000);
    assert_ne!(meta.uid(), 0, "written over SSH by the test account");
    let up = summary(&items, "up");
    assert_eq!(up["sha256"], sha256(&data), "{up}");
    assert_eq!(up["bytes"], 700_001);
    assert_eq!(up["verified_by"], "sha256sum");
    assert_eq!(up["changed"], true);
    assert_eq!(
        step(&items, "report", None)["stdout"][0],
        format!("sha={} bytes=700001", sha256(&data)),
        "steps.up.json is usable in templates"
    );

    // Inline content: rendered, with the mode asked for; not overwritten when told so.
    assert_eq!(std::fs::read_to_string(&greeting).unwrap(), "hello world\n");
    assert_eq!(mode_of(&greeting), 0o604);
    assert_eq!(summary(&items, "keep")["changed"], false);

    // Download: content, mode and mtime of the target's file.
    assert_eq!(std::fs::read(&down).unwrap(), data);
    assert_eq!(mode_of(&down), 0o640);
    assert_eq!(std::fs::metadata(&down).unwrap().mtime(), 1_600_000_000);
    assert_eq!(summary(&items, "down")["sha256"], sha256(&data));

    assert!(leftovers(f.remote.path()).is_empty());
    assert!(leftovers(f.local.path()).is_empty());
    f.api.stop().await;
}

#[tokio::test]
async fn sftp_sync_copies_only_changes_and_deletes_extras() {
    let f = Fixture::start().await;
    let src = f.local("site");
    let big: Vec<u8> = (0..100_000_u32).map(|i| (i % 253) as u8).collect();
    write(&src.join("a.txt"), b"alpha", 0o600, 1_650_000_000);
    write(&src.join("sub/b.txt"), b"bravo", 0o644, 1_650_000_100);
    write(&src.join("sub/deep/c.bin"), &big, 0o755, 1_650_000_200);
    let site = f.remote("site");
    let sync = json!({"source": src, "dest": site});
    let (end, items) = f
        .run(
            "sync",
            json!([
                {"id": "first", "type": "sftp.sync", "with": sync},
                {"id": "second", "type": "sftp.sync", "with": sync}
            ]),
            json!({}),
        )
        .await;
    assert_eq!(end["status"], "succeeded", "{end}\n{items:?}");
    let first = summary(&items, "first");
    assert_eq!(
        (&first["copied"], &first["skipped"], &first["deleted"]),
        (&json!(3), &json!(0), &json!(0)),
        "{first}"
    );
    assert_eq!(first["bytes"], 5 + 5 + 100_000);
    assert_eq!(first["direction"], "upload");
    let second = summary(&items, "second");
    assert_eq!(
        (&second["copied"], &second["skipped"]),
        (&json!(0), &json!(3)),
        "nothing changed: {second}"
    );
    for (rel, mode, mtime) in [
        ("a.txt", 0o600, 1_650_000_000),
        ("sub/b.txt", 0o644, 1_650_000_100),
        ("sub/deep/c.bin", 0o755, 1_650_000_200),
    ] {
        let there = format!("{site}/{rel}");
        assert_eq!(
            std::fs::read(&there).unwrap(),
            std::fs::read(src.join(rel)).unwrap()
        );
        let m = std::fs::metadata(&there).unwrap();
        assert_eq!((m.mode() & 0o7777, m.mtime()), (mode, mtime), "{rel}");
    }

    // Change one file locally; on the target, add extras and alter a.txt
    // keeping its size and mtime (only a checksum comparison sees that).
    write(&src.join("sub/b.txt"), b"BRAVO", 0o644, 1_700_000_000);
    let (end, items) = f
        .run(
            "sync-again",
            json!([
                {"id": "mess", "type": "ssh.exec", "with": {"command": format!(
                    "cd '{site}' && mkdir -p old && echo x > old/x.txt && echo y > extra.txt \
                     && printf ALPHA > a.txt && touch -m -d @1650000000 a.txt")}},
                {"id": "mirror", "type": "sftp.sync", "with": {"source": src, "dest": site, "delete": true}},
                {"id": "deep", "type": "sftp.sync", "with": {"source": src, "dest": site, "checksum": true}},
                {"id": "settled", "type": "sftp.sync", "with": {"source": src, "dest": site, "checksum": "true"}},
                {"id": "back", "type": "sftp.sync",
                 "with": {"source": site, "dest": f.local("back"), "direction": "download"}}
            ]),
            json!({}),
        )
        .await;
    assert_eq!(end["status"], "succeeded", "{end}\n{items:?}");
    let mirror = summary(&items, "mirror");
    assert_eq!(
        (&mirror["copied"], &mirror["deleted"], &mirror["skipped"]),
        (&json!(1), &json!(3), &json!(2)),
        "b.txt copied; old/x.txt, old and extra.txt deleted: {mirror}"
    );
    assert!(!Path::new(&format!("{site}/old")).exists());
    assert!(!Path::new(&format!("{site}/extra.txt")).exists());
    let deep = summary(&items, "deep");
    assert_eq!(
        (&deep["copied"], &deep["skipped"]),
        (&json!(1), &json!(2)),
        "{deep}"
    );
    assert_eq!(
        std::fs::read_to_string(format!("{site}/a.txt")).unwrap(),
        "alpha"
    );
    assert_eq!(summary(&items, "settled")["copied"], 0);
    let back = summary(&items, "back");
    assert_eq!(
        (&back["copied"], &back["direction"]),
        (&json!(3), &json!("download"))
    );
    for rel in ["a.txt", "sub/b.txt", "sub/deep/c.bin"] {
        let copy = f.local("back").join(rel);
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(src.join(rel)).unwrap()
        );
        assert_eq!(mode_of(&copy), mode_of(src.join(rel)), "{rel}");
    }
    assert!(
        step(&items, "mirror", None)["stderr"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "deleted extra.txt"),
        "progress on stderr"
    );
    assert!(leftovers(f.remote.path()).is_empty());
    f.api.stop().await;
}

#[tokio::test]
async fn ssh_copy_and_transfer_failures() {
    let f = Fixture::start().await;
    let src = f.local("tool.sh");
    write(&src, b"#!/bin/sh\necho hi\n", 0o750, 1_600_000_000);
    let inline = f.remote("copy/inline.txt");
    let (end, items) = f
        .run(
            "copy",
            json!([
                {"id": "inline", "type": "ssh.copy",
                 "with": {"content": "who={{ params.who }}\n", "dest": inline, "mode": "0640"}},
                {"id": "file", "type": "ssh.copy", "with": {"source": src, "dest": f.remote("copy/")}}
            ]),
            json!({"who": "it's me; rm -rf /"}),
        )
        .await;
    assert_eq!(end["status"], "succeeded", "{end}\n{items:?}");
    assert_eq!(
        std::fs::read_to_string(&inline).unwrap(),
        "who=it's me; rm -rf /\n"
    );
    let meta = std::fs::metadata(&inline).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_ne!(meta.uid(), 0);
    let copied = f.remote("copy/tool.sh");
    assert_eq!(std::fs::read(&copied).unwrap(), b"#!/bin/sh\necho hi\n");
    assert_eq!(mode_of(&copied), 0o750);
    assert_eq!(std::fs::metadata(&copied).unwrap().mtime(), 1_600_000_000);
    let s = summary(&items, "inline");
    assert_eq!(s["sha256"], sha256(b"who=it's me; rm -rf /\n"), "{s}");

    // A directory the test account may not write into.
    let locked = f.remote("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(Path::new(&locked), 0o555);
    let (end, items) = f
        .run(
            "denied",
            json!([
                {"id": "up", "type": "sftp.upload", "continue_on_error": true,
                 "with": {"content": "x", "dest": format!("{locked}/x.txt")}},
                {"id": "cp", "type": "ssh.copy",
                 "with": {"content": "x", "dest": format!("{locked}/y.txt")}}
            ]),
            json!({}),
        )
        .await;
    assert_eq!(end["status"], "failed", "{end}");
    let up = step(&items, "up", None);
    assert_eq!(up["status"], "failed");
    let error = up["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{locked}/x.txt")) && error.contains("permission denied"),
        "{error}"
    );
    let cp = step(&items, "cp", None);
    assert_eq!(cp["status"], "failed");
    let error = cp["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{locked}/y.txt")) && error.contains("Permission denied"),
        "{error}"
    );
    assert!(std::fs::read_dir(&locked).unwrap().next().is_none());

    // A transfer cut by its timeout ends promptly and leaves no partial file.
    let huge = f.local("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(16 << 30)
        .unwrap();
    let started = tokio::time::Instant::now();
    let (end, items) = f
        .run(
            "slow",
            json!([
                {"id": "big", "type": "sftp.upload", "timeout_secs": 2,
                 "with": {"source": huge, "dest": f.remote("big/huge.bin")}}
            ]),
            json!({}),
        )
        .await;
    assert_eq!(end["status"], "failed", "{end}");
    assert_eq!(step(&items, "big", None)["status"], "timed_out");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let remote = f.remote.path().to_path_buf();
    wait_until(
        "the partial upload removed",
        Duration::from_secs(15),
        || {
            let remote = remote.clone();
            async move { leftovers(&remote).is_empty() }
        },
    )
    .await;
    assert!(!Path::new(&f.remote("big/huge.bin")).exists());

    // Cancelling the run stops a transfer under way and removes its partial file.
    let job = create_job(
        &f.api,
        &f.admin,
        json!({"name": "cancelled", "targets": {"targets": [f.target]}, "steps": [
            {"id": "big", "type": "sftp.upload", "with": {"source": huge, "dest": f.remote("big/huge.bin")}}
        ]}),
    )
    .await;
    let run = run_job(&f.api, &f.admin, &job, json!({})).await;
    wait_until("the upload under way", Duration::from_secs(20), || {
        let remote = remote.clone();
        async move { !leftovers(&remote).is_empty() }
    })
    .await;
    let asked = tokio::time::Instant::now();
    let (s, b) = f
        .api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/cancel"),
            Some(&f.admin),
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let end = wait_end(&f.api, &f.admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}");
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "cancel took {:?}",
        asked.elapsed()
    );
    wait_until(
        "the partial upload removed",
        Duration::from_secs(15),
        || {
            let remote = remote.clone();
            async move { leftovers(&remote).is_empty() }
        },
    )
    .await;
    f.api.stop().await;
}
