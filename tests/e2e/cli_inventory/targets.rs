//! Targets and groups through the CLI, by name, in every output format.

#[allow(
    clippy::wildcard_imports,
    reason = "the family shares its parent's helpers"
)]
use super::*;

#[tokio::test]
async fn cli_inventory_targets_and_groups_by_name_in_every_format() {
    let home = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&[]).await;
    let env = session(&api, home.path(), "admin", TEST_ADMIN_PASSWORD).await;
    let dir = home.path();

    // A password credential from standard input: never printed back.
    let made = cli(
        &[
            "credentials",
            "create",
            "--name",
            "e2e-key",
            "--type",
            "ssh-password",
            "--username",
            "deploy",
            "--password-stdin",
            "--scope-host",
            "*.e2e.test",
            "-o",
            "json",
        ],
        &env,
        "e2e-pass-word-5h2\n",
    )
    .await;
    assert_eq!(made.code, Some(0), "{made:?}");
    assert!(
        !made.stdout.contains("e2e-pass-word-5h2") && !made.stderr.contains("e2e-pass-word-5h2")
    );
    assert_eq!(json_of(&made.stdout)["type"], "ssh_password");

    // Created from flags (credential by name) and from a YAML file.
    let web1 = json_of(
        &ok(
            &[
                "targets",
                "create",
                "--name",
                "web-1",
                "--hostname",
                "web-1.e2e.test",
                "--os",
                "linux",
                "--tag",
                "web",
                "--tag",
                "prod",
                "--ssh-credential",
                "e2e-key",
                "--ssh-port",
                "2222",
                "-o",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(web1["ssh"]["port"], 2222);
    assert_eq!(web1["tags"], json!(["prod", "web"]));
    let cred_id = web1["ssh"]["credential_id"].as_str().unwrap().to_owned();
    std::fs::write(
        dir.join("web-2.yaml"),
        "name: web-2\nhostname: web-2.e2e.test\nos_type: linux\ntags: [web]\nssh:\n  credential_id: e2e-key\n",
    )
    .unwrap();
    let file = dir.join("web-2.yaml").display().to_string();
    let quiet = ok(&["targets", "create", "-f", &file, "-q"], &env).await;
    let web2_id = quiet.trim().to_owned();
    assert!(uuid::Uuid::try_parse(&web2_id).is_ok(), "{quiet}");

    // Piped without -o: JSON. Table, YAML and ids when asked.
    let page = json_of(&ok(&["targets", "list"], &env).await);
    assert_eq!(names(&page), ["web-1", "web-2"]);
    let table = ok(&["targets", "list", "-o", "table", "--tag", "prod"], &env).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("LAST TEST"),
        "{table}"
    );
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[1].starts_with("web-1 ")
            && lines[1].contains("ssh:2222")
            && lines[1].contains("never"),
        "{table}"
    );
    let yaml = ok(&["targets", "list", "-o", "yaml"], &env).await;
    assert!(
        yaml.contains("name: web-1") && yaml.contains("hostname: web-2.e2e.test"),
        "{yaml}"
    );
    let ids = ok(&["targets", "list", "-q"], &env).await;
    assert_eq!(ids.lines().count(), 2, "{ids}");
    assert!(ids.lines().any(|l| l == web2_id), "{ids}");

    // Show by name; update keeps what is not given.
    let shown = ok(&["targets", "show", "web-2", "-o", "table"], &env).await;
    assert!(
        shown.contains("hostname:") && shown.contains("web-2.e2e.test"),
        "{shown}"
    );
    assert!(shown.contains(&cred_id), "{shown}");
    let updated = json_of(
        &ok(
            &[
                "targets", "update", "web-2", "--tag", "web", "--tag", "canary", "--pool",
                "default",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(updated["tags"], json!(["canary", "web"]));
    assert_eq!(updated["hostname"], "web-2.e2e.test");
    assert_eq!(updated["ssh"]["credential_id"], cred_id.as_str());

    // Groups: static members by name and a selector; members resolved.
    let g = json_of(
        &ok(
            &[
                "groups",
                "create",
                "--name",
                "e2e-web",
                "--member",
                "web-1",
                "--selector-tag",
                "canary",
                "--description",
                "web tier",
            ],
            &env,
        )
        .await,
    );
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    let members = json_of(&ok(&["groups", "members", "e2e-web"], &env).await);
    assert_eq!(names(&members), ["web-1", "web-2"]);
    let listed = ok(&["groups", "list", "-o", "table"], &env).await;
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("e2e-web") && l.contains("tag:canary")),
        "{listed}"
    );
    let shown = ok(&["groups", "show", "e2e-web", "-o", "yaml"], &env).await;
    assert!(
        shown.contains("name: e2e-web") && shown.contains("current_members"),
        "{shown}"
    );
    ok(
        &[
            "groups",
            "update",
            "e2e-web",
            "--remove-member",
            "web-1",
            "--no-selector",
            "--add-member",
            "web-2",
        ],
        &env,
    )
    .await;
    let members = json_of(&ok(&["groups", "members", "e2e-web"], &env).await);
    assert_eq!(names(&members), ["web-2"]);
    // Filtering by a group given by name.
    let page = json_of(&ok(&["targets", "list", "--group", "e2e-web"], &env).await);
    assert_eq!(names(&page), ["web-2"]);

    // An unknown name is an error naming it, and changes nothing.
    let run = cli(
        &["groups", "update", "e2e-web", "--add-member", "nope-9"],
        &env,
        "",
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no target is named nope-9"), "{run:?}");

    // Import: a bad row names itself and imports nothing; a good file imports.
    std::fs::write(
        dir.join("bad.json"),
        json!([{"name": "db-1", "hostname": "db-1.e2e.test", "os_type": "linux"},
               {"name": "db-2", "hostname": "bad host!", "os_type": "linux"}])
        .to_string(),
    )
    .unwrap();
    let bad = cli(
        &[
            "targets",
            "import",
            &dir.join("bad.json").display().to_string(),
        ],
        &env,
        "",
    )
    .await;
    assert_eq!(bad.code, Some(1), "{bad:?}");
    assert!(bad.stderr.contains("row 2: hostname"), "{bad:?}");
    assert!(bad.stderr.contains("nothing was imported"), "{bad:?}");
    let page = json_of(&ok(&["targets", "list", "--name", "db-"], &env).await);
    assert_eq!(page["total"], 0, "{page}");
    std::fs::write(
        dir.join("good.yaml"),
        "- name: db-1\n  hostname: db-1.e2e.test\n  os_type: linux\n",
    )
    .unwrap();
    let done = ok(
        &[
            "targets",
            "import",
            &dir.join("good.yaml").display().to_string(),
            "-o",
            "table",
        ],
        &env,
    )
    .await;
    assert_eq!(done, "Imported 1 targets.\n");

    // Export as CSV names every target; JSON round-trips the names.
    let csv = ok(&["targets", "export", "--format", "csv"], &env).await;
    assert!(csv.lines().next().unwrap().contains("hostname"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let exported = json_of(&ok(&["targets", "export", "--name", "web-"], &env).await);
    assert_eq!(exported.as_array().unwrap().len(), 2, "{exported}");

    // Deleting by name.
    ok(&["groups", "delete", "e2e-web"], &env).await;
    assert_eq!(
        ok(&["targets", "delete", "db-1", "-q"], &env)
            .await
            .trim()
            .len(),
        36
    );
    let page = json_of(&ok(&["targets", "list"], &env).await);
    assert_eq!(names(&page), ["web-1", "web-2"]);
    api.stop().await;
}
