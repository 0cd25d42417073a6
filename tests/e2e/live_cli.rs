//! `opsconductor runs follow` and `opsconductor jobs run --follow` against a
//! real api and worker: the live output is printed, and the exit status
//! tells how the run ended (0 succeeded, 1 failed, 130 cancelled).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::ApiServer;
use crate::harness::cli::{self, command, finish, run as cli};
use crate::harness::runs::{create_job, run_job, wait_end};

/// The client's environment: the api's URL and an operator API token.
async fn client_env(api: &ApiServer, admin: &str) -> BTreeMap<String, String> {
    cli::env(&api.base, &api.api_token(admin, "operator").await)
}

#[tokio::test]
async fn runs_follow_prints_the_output_and_exits_with_the_runs_outcome() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let env = client_env(&api, &admin).await;
    let good = create_job(
        &api,
        &admin,
        json!({"name": "good", "steps": [
            {"id": "greet", "type": "local.exec", "with": {"command": "echo hello-from-step; sleep 1; echo second-line"}}
        ]}),
    )
    .await;
    let bad = create_job(
        &api,
        &admin,
        json!({"name": "bad", "steps": [
            {"id": "boom", "type": "local.exec", "with": {"command": "echo before-the-fall; echo oops >&2; exit 3"}}
        ]}),
    )
    .await;

    // Followed live, from the moment it was accepted.
    let run = run_job(&api, &admin, &good, json!({})).await;
    let out = cli(&["runs", "follow", &run], &env).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.contains("[greet] hello-from-step\n")
            && out.stdout.contains("[greet] second-line\n"),
        "{out:?}"
    );
    assert!(out.stdout.contains("==> step greet succeeded"), "{out:?}");
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("run {run} succeeded after ")),
        "{out:?}"
    );

    // A finished failing run: replayed, exit 1, the step's stderr on stderr.
    let run = run_job(&api, &admin, &bad, json!({})).await;
    wait_end(&api, &admin, &run).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = cli(&["runs", "follow", &run], &env).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("[boom] before-the-fall"), "{out:?}");
    assert!(out.stderr.contains("[boom] oops"), "{out:?}");
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("run {run} failed")),
        "{out:?}"
    );

    // -o json: one frame per line, the last one the end.
    let out = cli(&["runs", "follow", &run, "-o", "json"], &env).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    let frames: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        frames.last().unwrap(),
        &json!({"event": "end", "data": {"run_id": run, "status": "failed"}})
    );

    // Unknown runs are an error, not a hang.
    let out = cli(&["runs", "follow", &uuid::Uuid::now_v7().to_string()], &env).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("run"), "{out:?}");
    api.stop().await;
}

#[tokio::test]
async fn jobs_run_follow_prints_the_output_and_exits_with_the_runs_code() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let env = client_env(&api, &admin).await;
    create_job(
        &api,
        &admin,
        json!({"name": "param-echo",
            "parameters": {"who": {"type": "string", "required": true}, "times": {"type": "int", "default": 1}},
            "steps": [
                {"id": "say", "type": "local.exec", "with": {"command": "for i in $(seq {{ times }}); do echo hi {{ who }} $i; done"}}
            ]}),
    )
    .await;
    let failing = create_job(
        &api,
        &admin,
        json!({"name": "failing", "steps": [
            {"id": "bad", "type": "local.exec", "with": {"command": "echo trying; exit 7"}}
        ]}),
    )
    .await;
    let long = create_job(
        &api,
        &admin,
        json!({"name": "long", "steps": [
            {"id": "wait", "type": "local.exec", "with": {"command": "echo waiting; sleep 60"}}
        ]}),
    )
    .await;

    // By name, with typed parameters.
    let out = cli(
        &[
            "jobs",
            "run",
            "param-echo",
            "--param",
            "who=the world",
            "-p",
            "times=2",
            "--follow",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.starts_with("Run "), "{out:?}");
    assert!(
        out.stdout.contains("[say] hi the world 1\n")
            && out.stdout.contains("[say] hi the world 2\n"),
        "{out:?}"
    );

    // By id; the run's failure is the command's.
    let out = cli(&["jobs", "run", &failing, "--follow"], &env).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("[bad] trying"), "{out:?}");
    assert!(
        out.stdout.contains("==> step bad failed (exit 7"),
        "{out:?}"
    );

    // Without --follow: the run's id, exit 0 at once.
    let out = cli(&["jobs", "run", "failing", "-o", "json"], &env).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    let accepted: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let run = accepted["run_id"].as_str().unwrap().to_owned();
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");

    // A bad parameter is refused before anything runs.
    let out = cli(
        &[
            "jobs",
            "run",
            "param-echo",
            "-p",
            "who=x",
            "-p",
            "times=many",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("times"), "{out:?}");

    // Cancelled while followed: exit 130.
    let child = command(
        &[
            "runs",
            "follow",
            &run_job(&api, &admin, &long, json!({})).await,
        ],
        &env,
    )
    .spawn()
    .unwrap();
    let (_, page) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={long}"),
            Some(&admin),
            None,
        )
        .await;
    let long_run = page["items"][0]["id"].as_str().unwrap().to_owned();
    crate::harness::wait_until(
        "the long step to start",
        Duration::from_secs(20),
        || async {
            let (_, steps) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/runs/{long_run}/steps"),
                    Some(&admin),
                    None,
                )
                .await;
            steps["items"][0]["status"] == "running"
        },
    )
    .await;
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{long_run}/cancel"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let out = finish(child).await;
    assert_eq!(out.code, Some(130), "{out:?}");
    assert!(out.stdout.contains("[wait] waiting"), "{out:?}");
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("run {long_run} cancelled")),
        "{out:?}"
    );
    api.stop().await;
}
