//! `targets ping`, `groups test`, `targets test` and `approve-key` against a real worker and sshd.

#[allow(
    clippy::wildcard_imports,
    reason = "the family shares its parent's helpers"
)]
use super::*;

#[tokio::test]
async fn cli_inventory_ping_names_each_target_and_fails_for_a_broken_one() {
    let home = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let env = session(&api, home.path(), "admin", TEST_ADMIN_PASSWORD).await;
    let dir = home.path();
    std::fs::write(dir.join("key"), sshd.key_plain()).unwrap();
    let key = dir.join("key").display().to_string();
    ok(
        &[
            "credentials",
            "create",
            "--name",
            "e2e-key",
            "--type",
            "ssh-key",
            "--username",
            &sshd.user,
            "--private-key-file",
            &key,
            "--scope-host",
            "127.0.0.1",
        ],
        &env,
    )
    .await;
    let port = sshd.port.to_string();
    let closed = free_port().to_string();
    for (name, port, policy) in [
        ("ok-1", port.as_str(), "accept-new"),
        ("ok-2", port.as_str(), "accept-new"),
        ("strict-1", port.as_str(), "strict"),
        ("broken-1", closed.as_str(), "accept-new"),
    ] {
        ok(
            &[
                "targets",
                "create",
                "--name",
                name,
                "--hostname",
                "127.0.0.1",
                "--os",
                "linux",
                "--tag",
                "e2e",
                "--ssh-credential",
                "e2e-key",
                "--ssh-port",
                port,
                "--host-key-policy",
                policy,
                "--connect-timeout",
                "5",
            ],
            &env,
        )
        .await;
    }
    ok(
        &[
            "groups", "create", "--name", "e2e-all", "--member", "ok-1", "--member", "ok-2",
            "--member", "broken-1",
        ],
        &env,
    )
    .await;

    // The worker shows up.
    wait_until(
        "the worker in `workers list`",
        Duration::from_secs(30),
        || async {
            let out = cli(&["workers", "list", "--pool", "default"], &env, "").await;
            out.code == Some(0)
                && json_of(&out.stdout)["items"]
                    .as_array()
                    .is_some_and(|i| !i.is_empty())
        },
    )
    .await;
    let workers = ok(&["workers", "list", "-o", "table"], &env).await;
    assert!(
        workers
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("default")),
        "{workers}"
    );

    // One line per target: ok for the sshd ones, failed with the reason for the closed port.
    let run = cli(
        &["targets", "ping", "--group", "e2e-all", "-o", "table"],
        &env,
        "",
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    for name in ["ok-1", "ok-2"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{name} | ok | ssh"))),
            "{name}: {run:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("broken-1 | failed | tcp")),
        "{run:?}"
    );
    assert!(run.stderr.contains("3 targets: 2 ok, 1 failed"), "{run:?}");
    // As JSON, every outcome; names and a tag choose too.
    let run = cli(&["targets", "ping", "ok-1", "ok-2", "-o", "json"], &env, "").await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let all = json_of(&run.stdout);
    assert_eq!(all["total"], 2);
    assert_eq!(all["failed"], 0);
    let run = cli(&["targets", "ping", "--tag", "e2e", "-q"], &env, "").await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout.lines().count(),
        2,
        "broken-1 and strict-1 failed: {run:?}"
    );

    // groups test: the api tests the members.
    let run = cli(&["groups", "test", "e2e-all", "-o", "table"], &env, "").await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("ok-1 | ok")),
        "{run:?}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("broken-1 | failed")),
        "{run:?}"
    );

    // targets test: the facts of the connection.
    let run = cli(&["targets", "test", "ok-1", "-o", "table"], &env, "").await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("ok-1 | ok | ssh"), "{run:?}");
    assert!(run.stdout.contains(&sshd.host_fingerprint()), "{run:?}");

    // A strict target: the key waits for approval, which shows it and asks.
    let run = cli(&["targets", "test", "strict-1", "-o", "table"], &env, "").await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("host_key"), "{run:?}");
    let run = cli(&["targets", "approve-key", "strict-1"], &env, "y\n").await;
    assert_eq!(run.code, Some(1), "no terminal, no --yes: {run:?}");
    assert!(
        run.stderr.contains(&sshd.host_fingerprint()) && run.stderr.contains("--yes"),
        "{run:?}"
    );
    let run = cli(
        &["targets", "approve-key", "strict-1", "--yes", "-o", "table"],
        &env,
        "",
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("no key was pinned before"), "{run:?}");
    assert!(run.stdout.contains(&sshd.host_fingerprint()), "{run:?}");
    ok(&["targets", "test", "strict-1"], &env).await;
    api.stop().await;
}
