//! Credentials, API tokens and the audit log through the CLI; what a viewer is refused.

#[allow(
    clippy::wildcard_imports,
    reason = "the family shares its parent's helpers"
)]
use super::*;

#[tokio::test]
async fn cli_inventory_secrets_tokens_audit_and_a_viewers_refusal() {
    let home = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&[]).await;
    let admin_token = api.admin().await;
    api.user(&admin_token, "e2e-vera", "viewer", "e2e-vera-pass-31x")
        .await;
    let env = session(&api, home.path(), "admin", TEST_ADMIN_PASSWORD).await;
    let viewer = session(&api, home.path(), "e2e-vera", "e2e-vera-pass-31x").await;
    let dir = home.path();

    // An SSH key from a file with its passphrase from a file; a password
    // credential from a file. No secret is ever printed.
    let sshd = Sshd::start().await;
    std::fs::write(dir.join("key"), sshd.key_protected()).unwrap();
    std::fs::write(
        dir.join("pass"),
        format!("{}\n", crate::harness::KEY_PASSPHRASE),
    )
    .unwrap();
    std::fs::write(dir.join("pw"), "e2e-db-secret-77q\n").unwrap();
    let key_file = dir.join("key").display().to_string();
    let mut outputs = String::new();
    for args in [
        vec![
            "credentials",
            "create",
            "--name",
            "e2e-ssh",
            "--type",
            "ssh-key",
            "--username",
            "deploy",
            "--private-key-file",
            &key_file,
            "--passphrase-file",
            "PASS",
        ],
        vec![
            "credentials",
            "create",
            "--name",
            "e2e-db",
            "--type",
            "database",
            "--engine",
            "postgres",
            "--host",
            "db.e2e.test",
            "--port",
            "5432",
            "--username",
            "app",
            "--password-file",
            "PW",
            "--scope-host",
            "db.e2e.test",
        ],
    ] {
        let pass = dir.join("pass").display().to_string();
        let pw = dir.join("pw").display().to_string();
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "PASS" => pass.as_str(),
                "PW" => pw.as_str(),
                other => other,
            })
            .collect();
        let run = cli(&args, &env, "").await;
        assert_eq!(run.code, Some(0), "{run:?}");
        outputs.push_str(&run.stdout);
        outputs.push_str(&run.stderr);
    }
    for format in ["table", "json", "yaml"] {
        outputs.push_str(&ok(&["credentials", "list", "-o", format], &env).await);
        outputs.push_str(&ok(&["credentials", "show", "e2e-ssh", "-o", format], &env).await);
    }
    let table = ok(&["credentials", "list", "-o", "table"], &env).await;
    assert!(
        table.lines().any(|l| l.starts_with("e2e-db")
            && l.contains("database")
            && l.contains("db.e2e.test")),
        "{table}"
    );
    for secret in [
        crate::harness::KEY_PASSPHRASE,
        "e2e-db-secret-77q",
        "OPENSSH PRIVATE KEY",
    ] {
        assert!(!outputs.contains(secret), "{secret} was printed: {outputs}");
    }
    // A new password by standard input; the scope changes, the type stays.
    let run = cli(
        &[
            "credentials",
            "update",
            "e2e-db",
            "--password-stdin",
            "--scope-host",
            "db2.e2e.test",
            "-o",
            "json",
        ],
        &env,
        "e2e-db-secret-new-1\n",
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stdout.contains("e2e-db-secret-new-1"));
    let c = json_of(&run.stdout);
    assert_eq!(c["scope"]["hosts"], json!(["db2.e2e.test"]));
    assert_eq!(c["public"]["username"], "app");

    // A viewer is refused with the api's words, and nothing is created.
    let refused = cli(
        &[
            "targets",
            "create",
            "--name",
            "e2e-v",
            "--hostname",
            "v.e2e.test",
            "--os",
            "linux",
        ],
        &viewer,
        "",
    )
    .await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("creating target e2e-v")
            && refused.stderr.contains("needs the operator role"),
        "{refused:?}"
    );
    let refused = cli(&["credentials", "list"], &viewer, "").await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    let refused = cli(&["groups", "create", "--name", "e2e-vg"], &viewer, "").await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    let (_, page) = api
        .call(Method::GET, "/api/v1/targets", Some(&admin_token), None)
        .await;
    assert_eq!(page["total"], 0, "{page}");
    let (_, page) = api
        .call(
            Method::GET,
            "/api/v1/target-groups",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(page["total"], 0, "{page}");
    // A viewer may read and delete nothing of others'.
    assert!(
        json_of(&ok(&["targets", "list"], &viewer).await)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let refused = cli(&["credentials", "delete", "e2e-db"], &viewer, "").await;
    assert_eq!(refused.code, Some(1), "{refused:?}");

    // Tokens: the secret once (only it with -q), usable, listed without it, revoked by name.
    let secret = ok(
        &[
            "tokens",
            "create",
            "--name",
            "e2e-ci",
            "--role",
            "viewer",
            "--expires-in-days",
            "2",
            "-q",
        ],
        &viewer,
    )
    .await;
    let secret = secret.trim().to_owned();
    assert!(secret.len() > 20 && !secret.contains(' '), "{secret}");
    let as_token = env_of(&[
        ("OPSC_URL", api.base.clone()),
        ("OPSC_TOKEN", secret.clone()),
        ("HOME", dir.display().to_string()),
    ]);
    ok(&["targets", "list"], &as_token).await;
    let listed = ok(&["tokens", "list", "-o", "table"], &viewer).await;
    assert!(
        listed
            .lines()
            .any(|l| l.contains("e2e-ci") && l.contains("viewer")),
        "{listed}"
    );
    assert!(!listed.contains(&secret));
    let made = ok(
        &["tokens", "create", "--name", "e2e-two", "-o", "table"],
        &viewer,
    )
    .await;
    assert!(
        made.contains("shown only now") && made.contains("e2e-two"),
        "{made}"
    );
    ok(&["tokens", "revoke", "e2e-ci"], &viewer).await;
    let run = cli(&["targets", "list"], &as_token, "").await;
    assert_eq!(run.code, Some(1), "a revoked token still works: {run:?}");

    // Audit (admins): filtered by action, and exported as JSON Lines and CSV.
    let page = json_of(&ok(&["audit", "list", "--action", "credential.create"], &env).await);
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let table = ok(
        &[
            "audit",
            "list",
            "--action",
            "credential.update",
            "-o",
            "table",
        ],
        &env,
    )
    .await;
    assert!(table.lines().nth(1).unwrap().contains("admin"), "{table}");
    let jsonl = ok(&["audit", "export", "--action", "credential.create"], &env).await;
    assert_eq!(jsonl.lines().count(), 2, "{jsonl}");
    for line in jsonl.lines() {
        assert_eq!(json_of(line)["action"], "credential.create");
    }
    let csv = ok(
        &["audit", "export", "--format", "csv", "--actor", "admin"],
        &env,
    )
    .await;
    assert!(csv.lines().count() > 2, "{csv}");
    assert!(!jsonl.contains("e2e-db-secret") && !csv.contains("e2e-db-secret"));
    let refused = cli(&["audit", "list"], &viewer, "").await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("needs the admin role"),
        "{refused:?}"
    );
    api.stop().await;
}
