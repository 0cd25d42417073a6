//! `opsconductor jobs …`, `opsconductor runs …` and `opsconductor api …`
//! driving the real binary against a real api (and worker): definitions
//! from YAML and JSON files, every output format, names for ids, versions
//! and their diff, a YAML export without default clutter, runs listed,
//! shown, cancelled (the follower exits 130) and re-run, and a viewer
//! refused where the api refuses.

mod errors;
pub mod support;

use serde_json::{Value, json};

use self::support::{json_of, login, write};
use crate::harness::ApiServer;
use crate::harness::cli::{CliRun as Cli, command, finish, run as cli, run_with_stdin};

const HELLO_YAML: &str = "\
name: cli-hello
description: says hello
parameters:
  who:
    type: string
    default: world
steps:
  - id: greet
    type: local.exec
    with:
      command: echo hello {{ who }}
";

fn ok(run: &Cli, what: &str) -> String {
    assert_eq!(run.code, Some(0), "{what}: {run:?}");
    run.stdout.clone()
}

#[tokio::test]
async fn cli_jobs_create_export_version_diff_clone_and_delete() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "vera", "viewer", "viewer-password-1234")
        .await;
    let env = login(&api, dir, "admin", crate::harness::TEST_ADMIN_PASSWORD).await;
    let viewer = login(&api, &dir.join("viewer"), "vera", "viewer-password-1234").await;

    // Created from YAML and from JSON, each sent as what it is.
    let yaml = write(dir, "hello.yaml", HELLO_YAML);
    let out = ok(
        &cli(&["jobs", "create", "-f", &yaml, "-o", "table"], &env).await,
        "create yaml",
    );
    assert!(out.starts_with("Job cli-hello created: version 1"), "{out}");
    let other = json!({"name": "cli-other", "steps": [
        {"id": "s", "type": "local.exec", "with": {"command": "true"}, "continue_on_error": false}
    ]});
    let json_file = write(dir, "other.json", &other.to_string());
    let created = json_of(&ok(
        &cli(&["jobs", "create", "-f", &json_file, "-o", "json"], &env).await,
        "create json",
    ));
    assert_eq!(created["name"], "cli-other", "{created}");
    assert_eq!(created["current_version"], 1);
    // From standard input (YAML by default) too.
    let stdin_doc = HELLO_YAML.replace("cli-hello", "cli-stdin");
    let run = run_with_stdin(&["jobs", "create", "-f", "-", "-q"], &env, &stdin_doc).await;
    let stdin_id = ok(&run, "create from stdin").trim().to_owned();
    assert_eq!(stdin_id.len(), 36, "{run:?}");

    // A bad document is refused with where it is wrong; nothing is stored.
    let bad = write(
        dir,
        "bad.yaml",
        "name: broken\nsteps:\n  - id: a\n    type: local.exec\n    colour: red\n",
    );
    let run = cli(&["jobs", "create", "-f", &bad], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("colour"), "{run:?}");

    // Listed in three formats; piped without -o is JSON.
    let page = json_of(&ok(&cli(&["jobs", "list"], &env).await, "list"));
    assert_eq!(page["total"], 3, "{page}");
    let table = ok(
        &cli(&["jobs", "list", "-o", "table"], &env).await,
        "list table",
    );
    assert!(
        table.starts_with("ID ") && table.contains("NAME"),
        "{table}"
    );
    assert!(
        table.contains("cli-hello") && table.contains("says hello"),
        "{table}"
    );
    let yaml_list: Value = serde_norway::from_str(&ok(
        &cli(&["jobs", "list", "-o", "yaml"], &env).await,
        "list yaml",
    ))
    .unwrap();
    assert_eq!(
        yaml_list["items"].as_array().unwrap().len(),
        3,
        "{yaml_list}"
    );
    let ids = ok(
        &cli(&["jobs", "list", "-q", "--name", "stdin"], &env).await,
        "list -q",
    );
    assert_eq!(ids, format!("{stdin_id}\n"));

    // Shown by name.
    let shown = ok(
        &cli(&["jobs", "show", "cli-hello", "-o", "table"], &env).await,
        "show",
    );
    for part in [
        "name:",
        "cli-hello",
        "says hello",
        "Parameters:",
        "who",
        "world",
        "Steps:",
        "greet",
        "local.exec",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    let run = cli(&["jobs", "show", "no-such-job"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no-such-job"), "{run:?}");

    // The YAML export reads like the file: no defaults, reads back the same.
    let export = ok(&cli(&["jobs", "export", "cli-other"], &env).await, "export");
    assert_eq!(
        export,
        "name: cli-other\nsteps:\n- id: s\n  type: local.exec\n  with:\n    command: 'true'\n",
        "{export}"
    );
    let export = ok(&cli(&["jobs", "export", "cli-hello"], &env).await, "export");
    for clutter in [
        "null",
        "continue_on_error",
        "required: false",
        "choices",
        "{}",
        "[]",
        "''",
    ] {
        assert!(!export.contains(clutter), "{clutter}: {export}");
    }
    let as_json = json_of(&ok(
        &cli(&["jobs", "export", "cli-hello", "--format", "json"], &env).await,
        "export json",
    ));
    assert_eq!(as_json["name"], "cli-hello");

    // Update, versions, diff; an unchanged file stores nothing.
    let v2 = write(
        dir,
        "hello-v2.yaml",
        &HELLO_YAML.replace("echo hello", "echo goodbye"),
    );
    let out = ok(
        &cli(
            &["jobs", "update", "cli-hello", "-f", &v2, "-o", "table"],
            &env,
        )
        .await,
        "update",
    );
    assert!(out.starts_with("Job cli-hello updated: version 2"), "{out}");
    let out = ok(
        &cli(
            &["jobs", "update", "cli-hello", "-f", &v2, "-o", "table"],
            &env,
        )
        .await,
        "update again",
    );
    assert!(
        out.starts_with("Job cli-hello unchanged: version 2"),
        "{out}"
    );
    let versions = json_of(&ok(
        &cli(&["jobs", "versions", "cli-hello"], &env).await,
        "versions",
    ));
    let numbers: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "{versions}");
    let table = ok(
        &cli(&["jobs", "versions", "cli-hello", "-o", "table"], &env).await,
        "versions table",
    );
    assert!(
        table.starts_with("VERSION") && table.contains("admin"),
        "{table}"
    );
    let diff = ok(
        &cli(&["jobs", "diff", "cli-hello", "1", "2"], &env).await,
        "diff",
    );
    assert!(
        diff.starts_with("--- cli-hello v1\n+++ cli-hello v2\n@@ "),
        "{diff}"
    );
    assert!(
        diff.contains(
            "\n-    command: echo hello {{ who }}\n+    command: echo goodbye {{ who }}\n"
        ),
        "{diff}"
    );
    assert_eq!(
        diff.lines().filter(|l| l.starts_with(['-', '+'])).count(),
        4,
        "{diff}"
    );
    let same = ok(
        &cli(&["jobs", "diff", "cli-hello", "2", "2"], &env).await,
        "diff same",
    );
    assert_eq!(same, "");

    // Import: a name clash is refused unless --replace.
    let run = cli(&["jobs", "import", "-f", &yaml], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("replace"), "{run:?}");
    let out = ok(
        &cli(
            &["jobs", "import", "-f", &yaml, "--replace", "-o", "table"],
            &env,
        )
        .await,
        "import",
    );
    assert!(
        out.starts_with("Job cli-hello imported: version 3"),
        "{out}"
    );

    // Clone, disable, enable, delete.
    let out = ok(
        &cli(
            &["jobs", "clone", "cli-hello", "cli-copy", "-o", "table"],
            &env,
        )
        .await,
        "clone",
    );
    assert!(out.starts_with("Job cli-copy created: version 1"), "{out}");
    let copy = json_of(&ok(
        &cli(&["jobs", "show", "cli-copy"], &env).await,
        "show copy",
    ));
    assert_eq!(
        copy["definition"]["steps"][0]["with"]["command"], "echo hello {{ who }}",
        "{copy}"
    );
    ok(
        &cli(&["jobs", "disable", "cli-copy"], &env).await,
        "disable",
    );
    let shown = json_of(&ok(&cli(&["jobs", "show", "cli-copy"], &env).await, "show"));
    assert_eq!(shown["active"], false, "{shown}");
    let out = ok(
        &cli(&["jobs", "enable", "cli-copy", "-o", "table"], &env).await,
        "enable",
    );
    assert_eq!(out, "Job cli-copy enabled.\n");
    ok(&cli(&["jobs", "delete", "cli-copy"], &env).await, "delete");
    let run = cli(&["jobs", "show", "cli-copy"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no job is named cli-copy"), "{run:?}");

    // A viewer reads but cannot create, change or delete; nothing changes.
    let seen = json_of(&ok(&cli(&["jobs", "list"], &viewer).await, "viewer list"));
    assert_eq!(seen["total"], 3, "{seen}");
    let other_yaml = write(
        dir,
        "viewer.yaml",
        &HELLO_YAML.replace("cli-hello", "cli-viewer"),
    );
    for args in [
        vec!["jobs", "create", "-f", other_yaml.as_str()],
        vec!["jobs", "update", "cli-hello", "-f", other_yaml.as_str()],
        vec!["jobs", "delete", "cli-hello"],
        vec!["jobs", "disable", "cli-hello"],
    ] {
        let run = cli(&args, &viewer).await;
        assert_eq!(run.code, Some(1), "{args:?}: {run:?}");
        assert!(
            run.stderr.to_lowercase().contains("forbidden"),
            "{args:?}: {run:?}"
        );
    }
    let after = json_of(&ok(&cli(&["jobs", "list"], &env).await, "list"));
    assert_eq!(after["total"], 3, "{after}");
    let hello = json_of(&ok(
        &cli(&["jobs", "show", "cli-hello"], &env).await,
        "show",
    ));
    assert_eq!(hello["current_version"], 3, "{hello}");
    assert_eq!(hello["active"], true, "{hello}");

    // Usage errors exit 2 before any request.
    let run = cli(&["jobs", "diff", "cli-hello", "one", "2"], &env).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    api.stop().await;
}

#[tokio::test]
async fn cli_api_sends_raw_requests_with_the_session() {
    let home = tempfile::tempdir().unwrap();
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _ = &admin;
    let env = login(
        &api,
        home.path(),
        "admin",
        crate::harness::TEST_ADMIN_PASSWORD,
    )
    .await;

    let me = json_of(&ok(
        &cli(&["api", "GET", "/api/v1/me"], &env).await,
        "api me",
    ));
    assert_eq!(me["username"], "admin", "{me}");
    // A body from a file with its own content type; a query string.
    let doc = write(
        home.path(),
        "raw.yaml",
        &HELLO_YAML.replace("cli-hello", "raw-job"),
    );
    let created = json_of(&ok(
        &cli(
            &[
                "api",
                "POST",
                "/api/v1/jobs",
                "-d",
                &format!("@{doc}"),
                "-H",
                "Content-Type: application/yaml",
            ],
            &env,
        )
        .await,
        "api post",
    ));
    assert_eq!(created["name"], "raw-job", "{created}");
    let page = json_of(&ok(
        &cli(&["api", "get", "/api/v1/jobs?name=raw&limit=5"], &env).await,
        "api list",
    ));
    assert_eq!(page["total"], 1, "{page}");
    // Errors: exit 1 with the problem; a URL instead of a path is refused.
    let run = cli(
        &["api", "POST", "/api/v1/jobs", "-d", "{\"name\": 1}"],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("422") || run.stderr.to_lowercase().contains("invalid"),
        "{run:?}"
    );
    let run = cli(&["api", "GET", "/api/v1/no-such-thing"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let run = cli(&["api", "GET", &format!("{}/api/v1/me", api.base)], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("must start with /"), "{run:?}");
    let run = cli(
        &["api", "GET", "/api/v1/me", "-H", "Authorization: Bearer x"],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    api.stop().await;
}

#[tokio::test]
async fn cli_runs_list_show_steps_cancel_and_rerun() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    api.user(&admin, "vera", "viewer", "viewer-password-1234")
        .await;
    let env = login(&api, dir, "admin", crate::harness::TEST_ADMIN_PASSWORD).await;
    let viewer = login(&api, &dir.join("viewer"), "vera", "viewer-password-1234").await;
    let quick = write(dir, "quick.yaml", HELLO_YAML);
    ok(
        &cli(&["jobs", "create", "-f", &quick], &env).await,
        "create",
    );
    let long = write(
        dir,
        "long.yaml",
        "name: cli-long\nsteps:\n  - id: wait\n    type: local.exec\n    with:\n      command: echo waiting; sleep 60\n",
    );
    ok(
        &cli(&["jobs", "create", "-f", &long], &env).await,
        "create long",
    );

    // `jobs run` prints only the run's id, even piped.
    let out = ok(
        &cli(&["jobs", "run", "cli-hello", "-p", "who=cli"], &env).await,
        "run",
    );
    let run_id = out.trim().to_owned();
    assert_eq!(out, format!("{run_id}\n"));
    assert_eq!(run_id.len(), 36, "{out}");
    let followed = cli(&["runs", "follow", &run_id], &env).await;
    assert_eq!(followed.code, Some(0), "{followed:?}");
    assert!(
        followed.stdout.contains("[greet] hello cli"),
        "{followed:?}"
    );
    assert!(!followed.stdout.contains("io.opsconductor"), "{followed:?}");

    // Listed with filters, shown, its steps.
    let page = json_of(&ok(
        &cli(
            &[
                "runs",
                "list",
                "--job",
                "cli-hello",
                "--status",
                "succeeded",
                "--since",
                "1h",
            ],
            &env,
        )
        .await,
        "list",
    ));
    assert_eq!(page["items"][0]["id"], run_id.as_str(), "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let none = json_of(&ok(
        &cli(&["runs", "list", "--job", "cli-long"], &env).await,
        "list long",
    ));
    assert_eq!(none["total"], 0, "{none}");
    let table = ok(
        &cli(
            &["runs", "list", "-o", "table", "--trigger", "manual"],
            &env,
        )
        .await,
        "list table",
    );
    assert!(
        table.starts_with("ID ") && table.contains("cli-hello") && table.contains("succeeded"),
        "{table}"
    );
    assert!(table.contains("manual by"), "{table}");
    let ids = ok(&cli(&["runs", "list", "-q"], &env).await, "list -q");
    assert_eq!(ids, format!("{run_id}\n"));
    let run = cli(&["runs", "list", "--since", "yesterday-ish"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let shown = ok(
        &cli(&["runs", "show", &run_id, "-o", "table"], &env).await,
        "show",
    );
    for part in [
        "status:",
        "succeeded",
        "cli-hello v1",
        "who=cli",
        "duration:",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    let steps = ok(
        &cli(&["runs", "steps", &run_id, "-o", "table", "--logs"], &env).await,
        "steps",
    );
    assert!(
        steps.starts_with(&format!("Run {run_id} is succeeded.\nSTEP ")),
        "{steps}"
    );
    let row = steps.lines().find(|l| l.starts_with("greet")).unwrap();
    assert!(
        row.contains("(worker)") && row.contains("succeeded") && row.contains(" 0 "),
        "{row}"
    );
    assert!(
        steps.contains("--- greet on (worker)\nhello cli\n"),
        "{steps}"
    );
    let steps = json_of(&ok(
        &cli(&["runs", "steps", &run_id], &env).await,
        "steps json",
    ));
    assert_eq!(steps["items"][0]["exit_code"], 0, "{steps}");

    // A re-run prints the new id; with --follow it exits with its status.
    let again = ok(&cli(&["runs", "rerun", &run_id], &env).await, "rerun");
    let again = again.trim().to_owned();
    assert!(again.len() == 36 && again != run_id, "{again}");
    let followed = cli(&["runs", "rerun", &again, "--follow"], &env).await;
    assert_eq!(followed.code, Some(0), "{followed:?}");
    assert!(
        followed.stdout.contains("[greet] hello cli"),
        "{followed:?}"
    );
    let shown = json_of(&ok(
        &cli(&["runs", "show", &again], &env).await,
        "show rerun",
    ));
    assert_eq!(shown["rerun_of"], run_id.as_str(), "{shown}");

    // Cancelled while followed: the follower says who asked and exits 130.
    let child = command(&["jobs", "run", "cli-long", "--follow"], &env)
        .spawn()
        .unwrap();
    let long_run = support::running_step(&api, &admin).await;
    // A viewer may not cancel it.
    let run = cli(&["runs", "cancel", &long_run], &viewer).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.to_lowercase().contains("forbidden"), "{run:?}");
    let out = ok(
        &cli(&["runs", "cancel", &long_run, "-o", "table"], &env).await,
        "cancel",
    );
    assert!(
        out.starts_with(&format!("Cancel of run {long_run} requested")),
        "{out}"
    );
    let out = finish(child).await;
    assert_eq!(out.code, Some(130), "{out:?}");
    assert!(
        out.stdout
            .starts_with(&format!("Run {long_run} accepted.\n")),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("==> cancel requested by admin"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("io.opsconductor"), "{out:?}");
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("run {long_run} cancelled")),
        "{out:?}"
    );
    // A viewer may not re-run either; nothing was started.
    let run = cli(&["runs", "rerun", &run_id], &viewer).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let all = json_of(&ok(&cli(&["runs", "list"], &env).await, "list"));
    assert_eq!(all["total"], 4, "{all}");
    api.stop().await;
}
