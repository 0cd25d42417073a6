//! `opsconductor schedules …` and `opsconductor scheduler …` against a real
//! api (no scheduler role running): names resolve to ids, `-o json` is the
//! api's JSON, API errors exit 1 naming the field, usage errors exit 2, and
//! a secret parameter is never printed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::cli::{CliRun as Run, run_with_stdin};
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, TEST_ADMIN_PASSWORD, env_of};

/// A command line split at blanks, `'…'` kept whole (`--cron '0 3 * * *'`).
fn argv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !out.last().unwrap().is_empty() {
                    out.push(String::new());
                }
            }
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.retain(|a| !a.is_empty());
    out
}

/// Runs `opsconductor <line>` with exactly `env` (plus PATH), feeding
/// `stdin` through a pipe: never a terminal.
async fn cli(line: &str, env: &BTreeMap<String, String>, stdin: &str) -> Run {
    let args = argv(line);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_with_stdin(&args, env, stdin).await
}

/// Runs and expects exit 0; its stdout.
async fn ok(line: &str, env: &BTreeMap<String, String>) -> String {
    let run = cli(line, env, "").await;
    assert_eq!(run.code, Some(0), "{line}: {run:?}");
    run.stdout
}

/// Runs and expects exit `code` with `contains` on stderr.
async fn fails(line: &str, env: &BTreeMap<String, String>, code: i32, contains: &str) {
    let run = cli(line, env, "").await;
    assert_eq!(run.code, Some(code), "{line}: {run:?}");
    assert!(
        run.stderr.contains(contains),
        "{line}: {contains:?}: {run:?}"
    );
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An api with the admin logged in (the CLI's environment) and a job
/// `e2e-report` (an int and a secret parameter); the job's id.
async fn setup(home: &Path) -> (ApiServer, BTreeMap<String, String>, String) {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "e2e-report",
               "parameters": {"n": {"type": "int"}, "token": {"type": "secret"}},
               "steps": [{"id": "s", "type": "local.exec", "with": {"command": "true"}}]}),
    )
    .await;
    let env = env_of(&[
        ("OPSC_URL", api.base.clone()),
        (
            "OPSC_SESSION_FILE",
            home.join("session.json").display().to_string(),
        ),
        ("HOME", home.display().to_string()),
    ]);
    let login = cli(
        "login --username admin --password-stdin",
        &env,
        &format!("{TEST_ADMIN_PASSWORD}\n"),
    )
    .await;
    assert_eq!(login.code, Some(0), "{login:?}");
    (api, env, job)
}

#[tokio::test]
async fn schedules_cli_creates_previews_pauses_and_deletes_by_name() {
    let home = tempfile::tempdir().unwrap();
    let (api, env, job) = setup(home.path()).await;
    // Created by the job's name, with a typed and a secret parameter.
    let secret = "e2e-secret-value-8d2k";
    let run = cli(
        "schedules create --name e2e-nightly --job e2e-report --cron '0 3 * * *' \
         --time-zone Europe/Berlin --param n=3 --secret-param token --gap shift \
         --overlap first --description 'nightly report' -o json",
        &env,
        &format!("{secret}\n"),
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    let created = json_of(&run.stdout);
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["job_id"], job.as_str(), "{created}");
    assert_eq!(created["cron"], "0 3 * * *");
    assert_eq!(created["time_zone"], "Europe/Berlin");
    assert_eq!(created["description"], "nightly report");
    assert_eq!(created["parameters"]["n"], 3, "{created}");
    assert_eq!(created["secret_parameters"], json!(["token"]), "{created}");

    // --quiet prints the id only.
    let line =
        format!("schedules create --name e2e-hourly --job {job} --cron '0 * * * *' --disabled -q");
    let hourly = ok(&line, &env).await.trim().to_owned();
    assert_eq!(hourly.len(), 36, "{hourly:?}");

    let page = json_of(&ok("schedules list -o json", &env).await);
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["items"][0]["name"], "e2e-hourly", "{page}");
    assert_eq!(page["items"][1]["name"], "e2e-nightly", "{page}");
    let table = ok("schedules list --job e2e-report --enabled false", &env).await;
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains("e2e-hourly") && !table.contains("e2e-nightly"),
        "{table}"
    );
    let ids = ok("schedules list -q", &env).await;
    assert_eq!(ids, format!("{hourly}\n{id}\n"));

    let shown = ok("schedules show e2e-nightly", &env).await;
    for part in [id.as_str(), "0 3 * * *", "Europe/Berlin", "token"] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    assert!(!shown.contains(secret), "{shown}");
    let by_id = json_of(&ok(&format!("schedules show {id} -o json"), &env).await);
    assert_eq!(by_id["name"], "e2e-nightly");

    // The preview: UTC, local time and kind per row.
    let next = ok("schedules next e2e-nightly --count 3", &env).await;
    let lines: Vec<&str> = next.lines().collect();
    assert_eq!(lines.len(), 4, "{next}");
    assert!(
        lines[0].starts_with("UTC") && lines[0].contains("LOCAL"),
        "{next}"
    );
    assert!(
        lines[1].contains("T03:00:00+0") && lines[1].ends_with("regular"),
        "{next}"
    );
    let next = json_of(&ok(&format!("schedules next {id} --count 3 -o json"), &env).await);
    assert_eq!(next["items"].as_array().unwrap().len(), 3, "{next}");

    // 02:30 does not exist in Berlin on 2027-03-28: shifted to 03:00.
    let dst = ok(
        "schedules create --name e2e-dst --job e2e-report --cron '30 2 * * *' -q \
         --time-zone Europe/Berlin --start 2027-03-27T00:00:00Z",
        &env,
    )
    .await;
    let next = ok(&format!("schedules next {} --count 2", dst.trim()), &env).await;
    assert!(
        next.contains("2027-03-28T01:00:00Z  2027-03-28T03:00:00+02:00  shifted (DST gap)"),
        "{next}"
    );

    let fires = ok("schedules fires e2e-nightly --limit 5", &env).await;
    assert_eq!(
        fires,
        "FIRE AT  KIND  RECORDED  LAG  CATCH-UP  RUN  REASON\n"
    );

    let paused = ok("schedules pause e2e-nightly", &env).await;
    assert_eq!(paused, "Paused schedule e2e-nightly.\n");
    let got = json_of(&ok(&format!("schedules show {id} -o json"), &env).await);
    assert_eq!(got["paused"], true, "{got}");
    assert!(got["next_fire_at"].is_null(), "{got}");
    ok("schedules resume e2e-nightly", &env).await;
    let got = json_of(&ok(&format!("schedules show {id} -o json"), &env).await);
    assert_eq!(got["paused"], false, "{got}");

    // Not a terminal: no deletion without --yes.
    let refused = cli("schedules delete e2e-nightly", &env, "y\n").await;
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("pass --yes"), "{refused:?}");
    ok(&format!("schedules show {id}"), &env).await;
    let deleted = ok("schedules delete e2e-nightly --yes", &env).await;
    assert_eq!(deleted, "Deleted schedule e2e-nightly.\n");
    let gone = cli(&format!("schedules show {id}"), &env, "").await;
    assert_eq!(gone.code, Some(1), "{gone:?}");
    assert!(gone.stderr.contains("No such schedule"), "{gone:?}");

    api.stop().await;
}

#[tokio::test]
async fn schedules_cli_errors_exit_1_for_the_api_and_2_for_usage() {
    let home = tempfile::tempdir().unwrap();
    let (api, env, _job) = setup(home.path()).await;

    // An invalid cron: the api's field and reason, exit 1.
    let bad = cli(
        "schedules create --name e2e-bad --job e2e-report --cron '61 * * * *'",
        &env,
        "",
    )
    .await;
    assert_eq!(bad.code, Some(1), "{bad:?}");
    assert!(bad.stderr.contains("creating schedule e2e-bad"), "{bad:?}");
    assert!(bad.stderr.contains("/cron"), "{bad:?}");
    // Usage errors exit 2 before anything is created.
    let create = "schedules create --name x --cron '* * * * *' --job";
    let int = "--param n: an int is expected";
    fails(
        &format!("{create} e2e-report --param n=three"),
        &env,
        2,
        int,
    )
    .await;
    fails(
        &format!("{create} e2e-report --start soon"),
        &env,
        2,
        "RFC 3339",
    )
    .await;
    let token = "secret parameter token";
    fails(
        &format!("{create} e2e-report --secret-param token"),
        &env,
        2,
        token,
    )
    .await;
    let job = "no job is named no-such-job";
    fails(&format!("{create} no-such-job"), &env, 1, job).await;
    let schedule = "no schedule is named no-such-schedule";
    fails("schedules show no-such-schedule", &env, 1, schedule).await;
    assert!(json_of(&ok("schedules list -o json", &env).await)["items"] == json!([]));

    // No scheduler role runs here: the status still answers.
    let status = ok("scheduler status", &env).await;
    assert!(
        status.contains("paused:") && status.contains("leader:"),
        "{status}"
    );
    assert!(
        status.contains("none (no scheduler holds the lease)"),
        "{status}"
    );
    let status = json_of(&ok("scheduler status -o json", &env).await);
    assert_eq!(status["leader"], Value::Null, "{status}");
    assert_eq!(ok("scheduler pause", &env).await, "Scheduler paused.\n");
    let status = json_of(&ok("scheduler status -o json", &env).await);
    assert_eq!(status["paused"], true, "{status}");
    let resumed = json_of(&ok("scheduler resume -o json", &env).await);
    assert_eq!(resumed["paused"], false, "{resumed}");

    api.stop().await;
}
