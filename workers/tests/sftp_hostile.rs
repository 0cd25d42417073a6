//! `sftp.sync` against a hostile SFTP peer (`tests/sftp-peer`) that lists
//! names meant to lead a download out of its root — `../escape`, `a/b`,
//! NUL — through the workers' real SFTP client: each is refused before
//! anything is written, a benign tree from the same peer still syncs, and a
//! symlink inside the local root is never written through (it is in the
//! way, or with `delete: true` replaced, never followed).

use std::collections::BTreeMap;

use opsc_proto::dispatch::{DispatchSsh, DispatchTarget};
use opsc_proto::events::StepStatus;
use opsc_proto::material::CredentialMaterial;
use opsc_proto::probe::HostKeyPolicy;
use opsc_sftp_peer::{Node, SftpPeer, Tree};
use opsc_workers::exec::output::OutputSink;
use opsc_workers::exec::target::TargetConnections;
use opsc_workers::steps::{StepCall, StepOutcome, registry};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const USER: &str = "mirror";
const PASSWORD: &str = "peer-password-1";

fn dir(names: &[&str]) -> Node {
    Node::Dir(names.iter().map(|n| (*n).to_owned()).collect())
}

/// Runs `sftp.sync` with `with` against `peer`.
async fn sync(peer: &SftpPeer, with: Value) -> StepOutcome {
    let credential_id = Uuid::now_v7();
    let target = DispatchTarget {
        id: Uuid::now_v7(),
        name: "hostile".into(),
        hostname: "127.0.0.1".into(),
        os_type: "linux".into(),
        tags: vec![],
        metadata: BTreeMap::new(),
        facts: BTreeMap::new(),
        ssh: Some(DispatchSsh {
            port: peer.port(),
            credential_id,
            connect_timeout_secs: 5,
            host_key_policy: HostKeyPolicy::Strict,
            pinned: Some(opsc_workers::ssh::hostkey::describe(peer.host_key())),
        }),
        winrm: None,
        http: None,
        steps: vec!["s".into()],
    };
    let credentials = BTreeMap::from([(
        credential_id,
        CredentialMaterial::SshPassword {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    )]);
    let with: BTreeMap<String, Value> = serde_json::from_value(with).expect("with is an object");
    let sink = OutputSink::capture_only("s", 1024 * 1024, &[]);
    let connections = TargetConnections::default();
    let kind = registry()
        .get("sftp.sync")
        .cloned()
        .expect("sftp.sync is registered");
    kind.run(StepCall {
        with: &with,
        target: Some(&target),
        connections: &connections,
        credentials: &credentials,
        host: &opsc_workers::host::Host::none()
            .with_egress(opsc_workers::egress::Egress::with_loopback()),
        output: &sink,
        cancel: &CancellationToken::new(),
        run: &opsc_workers::steps::RunScope::default(),
    })
    .await
}

fn names_under(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| {
            p.strip_prefix(dir)
                .expect("below the walked directory")
                .display()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&p));
        }
    }
    out
}

#[tokio::test]
async fn names_that_would_leave_the_root_are_refused_before_anything_is_written() {
    for hostile in ["../escape", "a/b", "/etc/cron.d/x", "x\0y", "", "..\\..\\x"] {
        let tree = Tree::from([
            ("/srv".to_owned(), dir(&["ok.txt", hostile])),
            ("/srv/ok.txt".to_owned(), Node::File(b"fine\n".to_vec())),
        ]);
        let peer = SftpPeer::start(USER, PASSWORD, tree).await.unwrap();
        let work = tempfile::tempdir().unwrap();
        let mirror = work.path().join("root/mirror");
        let outcome = sync(
            &peer,
            json!({"source": "/srv", "dest": mirror.display().to_string(), "direction": "download"}),
        )
        .await;
        assert_eq!(
            outcome.status,
            StepStatus::Failed,
            "{hostile:?}: {outcome:?}"
        );
        let error = outcome.error.unwrap_or_default();
        assert!(error.contains("unsafe file name"), "{hostile:?}: {error}");
        let written = names_under(work.path());
        assert!(
            written
                .iter()
                .all(|n| !n.contains("escape") && !n.ends_with("ok.txt")),
            "{hostile:?}: nothing written: {written:?}"
        );
    }
}

#[tokio::test]
async fn a_benign_tree_from_the_same_peer_syncs_and_a_local_symlink_is_never_written_through() {
    let tree = Tree::from([
        ("/srv".to_owned(), dir(&["ok.txt", "d"])),
        ("/srv/ok.txt".to_owned(), Node::File(b"fine\n".to_vec())),
        ("/srv/d".to_owned(), dir(&["inner.txt"])),
        (
            "/srv/d/inner.txt".to_owned(),
            Node::File(b"deep\n".to_vec()),
        ),
    ]);
    let peer = SftpPeer::start(USER, PASSWORD, tree).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let mirror = work.path().join("mirror");
    let with =
        json!({"source": "/srv", "dest": mirror.display().to_string(), "direction": "download"});
    let outcome = sync(&peer, with.clone()).await;
    assert_eq!(outcome.status, StepStatus::Succeeded, "{outcome:?}");
    assert_eq!(std::fs::read(mirror.join("ok.txt")).unwrap(), b"fine\n");
    assert_eq!(
        std::fs::read(mirror.join("d/inner.txt")).unwrap(),
        b"deep\n"
    );

    // `d` replaced by a symlink to a directory outside the root: the sync
    // must not write `inner.txt` there.
    let outside = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(mirror.join("d")).unwrap();
    std::os::unix::fs::symlink(outside.path(), mirror.join("d")).unwrap();
    let outcome = sync(&peer, with.clone()).await;
    assert_eq!(outcome.status, StepStatus::Failed, "{outcome:?}");
    let error = outcome.error.unwrap_or_default();
    assert!(error.contains("another kind in the way (d)"), "{error}");
    assert!(
        names_under(outside.path()).is_empty(),
        "nothing written outside the root"
    );
    // Told to replace what is in the way, it removes the link itself (not
    // what it points to) and writes into a directory of its own.
    let mut replace = with;
    replace["delete"] = json!(true);
    let outcome = sync(&peer, replace).await;
    assert_eq!(outcome.status, StepStatus::Succeeded, "{outcome:?}");
    assert!(
        !std::fs::symlink_metadata(mirror.join("d"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read(mirror.join("d/inner.txt")).unwrap(),
        b"deep\n"
    );
    assert!(
        names_under(outside.path()).is_empty(),
        "still nothing outside the root"
    );
}
