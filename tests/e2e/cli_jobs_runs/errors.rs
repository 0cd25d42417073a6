//! What the CLI prints when the api refuses: the summary, then one
//! `path: message` line per problem, and exit status 1 — for a bad
//! parameter of a run, an unknown field and a missing required field of a
//! job document. Nothing is stored by a refused command.

use super::support::{json_of, login, write};
use crate::harness::ApiServer;
use crate::harness::cli::run as cli;

const GREET_YAML: &str = "\
name: cli-greet
parameters:
  who:
    type: string
    pattern: \"[a-z]{1,10}\"
  times:
    type: int
    required: true
steps:
  - id: greet
    type: local.exec
    with:
      command: echo hello {{ who }}
";

/// The lines of a refusal's standard error after the summary.
fn problem_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("  "))
        .collect()
}

#[tokio::test]
async fn cli_errors_name_each_path_and_what_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let api = ApiServer::start(&[]).await;
    let env = login(&api, dir, "admin", crate::harness::TEST_ADMIN_PASSWORD).await;

    // A job document with an unknown field and a missing required one:
    // both reported at once, the typo with the field it probably meant.
    let broken = write(
        dir,
        "broken.yaml",
        "name: cli-broken\nsteps:\n  - id: a\n    typ: local.exec\n    with:\n      command: \"true\"\n",
    );
    let run = cli(&["jobs", "create", "-f", &broken], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.starts_with("opsconductor: "), "{run:?}");
    let lines = problem_lines(&run.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  /steps/0") && l.contains("did you mean `type`?")),
        "an unknown field with a suggestion: {}",
        run.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  /steps/0") && l.contains("is required")),
        "the missing `type`: {}",
        run.stderr
    );
    let listed = json_of(&cli(&["jobs", "list", "-o", "json"], &env).await.stdout);
    assert!(
        !listed.to_string().contains("cli-broken"),
        "a refused document stores nothing: {listed}"
    );

    // A run with a parameter that breaks its pattern and one of the wrong
    // type: each named by its path; no run is started.
    let greet = write(dir, "greet.yaml", GREET_YAML);
    let created = cli(&["jobs", "create", "-f", &greet], &env).await;
    assert_eq!(created.code, Some(0), "{created:?}");
    let run = cli(
        &[
            "jobs",
            "run",
            "cli-greet",
            "-p",
            "who=Not Valid!",
            "-p",
            "times=3",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.is_empty(),
        "no run id for a refused run: {run:?}"
    );
    // One problem is said on the summary line; several get a line each.
    assert!(
        run.stderr.contains("/parameters/who: ") && run.stderr.contains("pattern"),
        "the bad parameter by its path: {}",
        run.stderr
    );
    let run = cli(&["jobs", "run", "cli-greet", "-p", "who=bob"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("/parameters/times: "),
        "the missing parameter by its path: {}",
        run.stderr
    );
    let runs = json_of(&cli(&["runs", "list", "-o", "json"], &env).await.stdout);
    assert_eq!(runs["total"], 0, "refused runs start nothing: {runs}");

    // A name that resolves to nothing is an error naming it.
    let run = cli(&["jobs", "show", "no-such-job"], &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("no-such-job"), "{run:?}");
    api.stop().await;
}
