//! Runs end to end: the api accepts, the dispatcher shards and seals, a
//! worker executes local and SSH steps against a real sshd, the recorder
//! writes history, and the stream replays output.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, Sshd};

#[tokio::test]
async fn a_job_with_local_and_ssh_steps_runs_on_several_targets() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let (_, c) = api.call(Method::POST, "/api/v1/credentials", Some(&admin),
        Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}}))).await;
    let mut targets = Vec::new();
    for name in ["web-1", "web-2", "web-3"] {
        let (s, t) = api
            .call(
                Method::POST,
                "/api/v1/targets",
                Some(&admin),
                Some(
                    json!({"name": name, "hostname": "127.0.0.1", "os_type": "linux",
            "ssh": {"port": sshd.port, "credential_id": c["id"], "host_key_policy": "accept-new"}}),
                ),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_str().unwrap().to_owned();
        let (_, tested) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{id}/test"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(tested["ok"], true, "{tested}");
        targets.push(id);
    }
    let pwned = format!("/tmp/opsc-pwned-{}", uuid::Uuid::new_v4().simple());
    let canary = "canary-secret-7f3a9c";
    let job = create_job(&api, &admin, json!({
        "name": "deploy",
        "parameters": {
            "svc": {"type": "string", "required": true},
            "token": {"type": "secret", "required": true}
        },
        "targets": {"targets": targets},
        "steps": [
            {"id": "hello", "type": "local.exec", "with": {"command": "echo hello {{ svc }} on {{ target.name }}"}},
            {"id": "remote", "type": "ssh.exec", "with": {"command": "echo svc={{ svc }}; printf 'user=%s\\n' \"$(id -un)\"; echo run={{ run.id }}"}},
            {"id": "chain", "type": "ssh.exec", "with": {"command": "echo previous={{ steps.remote.exit_code }} lines={{ steps.remote.stdout | length > 0 }}"}},
            {"id": "secret", "type": "local.exec", "with": {"command": "echo token={{ params.token }}"}}
        ]
    })).await;
    let run = run_job(
        &api,
        &admin,
        &job,
        json!({"parameters": {"svc": format!("x; touch {pwned}"), "token": canary}}),
    )
    .await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    assert_eq!(end["parameters"]["token"], "***", "{end}");
    assert_eq!(end["trigger"]["kind"], "manual");
    assert_eq!(end["target_ids"].as_array().map(Vec::len), Some(3));
    let items = steps(&api, &admin, &run).await;
    assert_eq!(items.len(), 12, "4 steps on 3 targets: {items:?}");
    assert!(
        items.iter().all(|s| s["status"] == "succeeded"),
        "{items:?}"
    );
    let remote = step(&items, "remote", Some(&targets[0]));
    assert_eq!(
        remote["stdout"][0],
        format!("svc=x; touch {pwned}"),
        "the parameter stays one word: {remote}"
    );
    assert_eq!(remote["stdout"][1], format!("user={}", sshd.user));
    assert_eq!(remote["stdout"][2], format!("run={run}"));
    assert!(
        !std::path::Path::new(&pwned).exists(),
        "a parameter injected a command"
    );
    assert_eq!(
        step(&items, "hello", Some(&targets[1]))["stdout"][0],
        format!("hello x; touch {pwned} on web-2")
    );
    assert_eq!(
        step(&items, "chain", Some(&targets[2]))["stdout"][0],
        "previous=0 lines=true"
    );
    assert_eq!(
        step(&items, "secret", Some(&targets[0]))["stdout"][0],
        "token=***",
        "secret redacted from output"
    );

    // The history filters find it.
    for q in [
        format!("job_id={job}"),
        "status=succeeded".to_owned(),
        format!("target_id={}", targets[1]),
        "trigger=manual".to_owned(),
    ] {
        let (_, page) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs?{q}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(page["total"], 1, "{q}: {page}");
    }
    let (_, none) = api
        .call(
            Method::GET,
            "/api/v1/runs?status=failed",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(none["total"], 0);

    // A late subscriber gets the whole run, then the end.
    let text = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("event: output") && text.contains("svc=x; touch"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with(&format!(
            "data: {{\"run_id\":\"{run}\",\"status\":\"succeeded\"}}"
        )),
        "{text}"
    );

    // The secret parameter appears nowhere: API, stream, database.
    let (_, all_steps) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/steps"),
            Some(&admin),
            None,
        )
        .await;
    assert!(
        !all_steps.to_string().contains(canary)
            && !text.contains(canary)
            && !end.to_string().contains(canary)
    );
    // The same steps without their output (what the console reads after
    // each step event): same statuses and timing, no lines; a bad value
    // is a 400 problem.
    let lines = |v: &Value| -> usize {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stdout"].as_array().unwrap().len())
            .sum()
    };
    let (s, bare) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/steps?output=false"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200, "{bare}");
    assert!(lines(&all_steps) > 0, "{all_steps}");
    assert_eq!(lines(&bare), 0, "{bare}");
    let statuses = |v: &Value| -> Vec<Value> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| json!([s["step_id"], s["status"], s["exit_code"], s["duration_ms"]]))
            .collect()
    };
    assert_eq!(statuses(&bare), statuses(&all_steps));
    let (s, bad) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/steps?output=maybe"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 400, "{bad}");
    let db = api.db.as_ref().unwrap();
    let dump = db.dump_text().await;
    assert!(
        !dump.contains(canary),
        "the secret parameter is in the database in clear"
    );
    assert!(
        !api.process.output().contains(canary),
        "the secret parameter is in the api's log"
    );

    // Re-run: same parameters (the secret included), new run.
    let (s, again) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/rerun"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 202, "{again}");
    let rerun = again["run_id"].as_str().unwrap();
    let end2 = wait_end(&api, &admin, rerun).await;
    assert_eq!(end2["status"], "succeeded", "{end2}");
    assert_eq!(end2["trigger"]["kind"], "rerun");
    assert_eq!(end2["rerun_of"], run.as_str());

    // A re-run with an Idempotency-Key, sent twice (a double click): one run.
    let rerun_with_key = || {
        api.req(
            Method::POST,
            &format!("/api/v1/runs/{run}/rerun"),
            Some(&admin),
        )
        .header("Idempotency-Key", "rerun-twice-1")
        .send()
    };
    let first = rerun_with_key().await.unwrap();
    assert_eq!(first.status().as_u16(), 202);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = rerun_with_key().await.unwrap();
    assert_eq!(second.status().as_u16(), 202);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["run_id"], second["run_id"]);
    let (_, reruns) = api
        .call(
            Method::GET,
            &format!(
                "/api/v1/runs?job_id={}&trigger=rerun",
                end2["job_id"].as_str().unwrap()
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        reruns["items"].as_array().map(Vec::len),
        Some(2),
        "one re-run without a key, one for the two requests with one: {reruns}"
    );
    api.stop().await;
}

#[tokio::test]
async fn failures_continue_on_error_retries_timeouts_cancel_and_idempotency() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let failing = create_job(
        &api,
        &admin,
        json!({"name": "failing", "steps": [
            {"id": "bad", "type": "local.exec", "with": {"command": "echo before; exit 3"}},
            {"id": "after", "type": "local.exec", "with": {"command": "echo never"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &failing, json!({})).await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "failed", "{end}");
    let items = steps(&api, &admin, &run).await;
    assert_eq!(step(&items, "bad", None)["exit_code"], 3);
    assert_eq!(step(&items, "bad", None)["stdout"][0], "before");
    assert_eq!(step(&items, "after", None)["status"], "skipped");

    let tolerant = create_job(&api, &admin, json!({"name": "tolerant", "steps": [
        {"id": "bad", "type": "local.exec", "continue_on_error": true, "with": {"command": "exit 4"}},
        {"id": "after", "type": "local.exec", "with": {"command": "echo exit was {{ steps.bad.exit_code }}"}},
        {"id": "skipped", "type": "local.exec", "when": "steps.bad.exit_code == 0", "with": {"command": "echo no"}}
    ]})).await;
    let run = run_job(&api, &admin, &tolerant, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    let items = steps(&api, &admin, &run).await;
    assert_eq!(step(&items, "bad", None)["status"], "failed");
    assert_eq!(step(&items, "after", None)["stdout"][0], "exit was 4");
    assert_eq!(step(&items, "skipped", None)["status"], "skipped");

    let retried = create_job(&api, &admin, json!({"name": "retried", "steps": [
        {"id": "flaky", "type": "local.exec", "retry": {"attempts": 2, "backoff_secs": 0}, "with": {"command": "exit 1"}},
        {"id": "slow", "type": "local.exec", "timeout_secs": 1, "with": {"command": "sleep 30"}}
    ]})).await;
    let run = run_job(&api, &admin, &retried, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");
    let items = steps(&api, &admin, &run).await;
    assert_eq!(step(&items, "flaky", None)["attempt"], 3, "{items:?}");
    let timeout = create_job(
        &api,
        &admin,
        json!({"name": "timeout", "steps": [
            {"id": "slow", "type": "local.exec", "timeout_secs": 1, "with": {"command": "sleep 30"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &timeout, json!({})).await;
    let started = tokio::time::Instant::now();
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout stopped the step"
    );
    assert_eq!(
        step(&steps(&api, &admin, &run).await, "slow", None)["status"],
        "timed_out"
    );

    // Cancel: the running command stops and the run ends within 2 seconds.
    let long = create_job(
        &api,
        &admin,
        json!({"name": "long", "steps": [
            {"id": "sleep", "type": "local.exec", "with": {"command": "echo started; sleep 60"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &long, json!({})).await;
    let mut sse = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("started") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), sse.chunk())
            .await
            .expect("live output")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let asked = tokio::time::Instant::now();
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/cancel"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "cancelled", "{end}");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "cancel took {:?}",
        asked.elapsed()
    );
    // The live stream ends with the run.
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(5), sse.chunk()).await
    {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("event: end") && seen.contains("\"status\":\"cancelled\""),
        "{seen}"
    );

    // Idempotency-Key: a retried request returns the same run.
    let send = || {
        api.req(
            Method::POST,
            &format!("/api/v1/jobs/{tolerant}/run"),
            Some(&admin),
        )
        .header("Idempotency-Key", "abc-123")
        .json(&json!({}))
        .send()
    };
    let a: Value = send().await.unwrap().json().await.unwrap();
    let b: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(a["run_id"], b["run_id"]);
    // The same key for a different request is refused, not answered with
    // the run another request made.
    let reused = api
        .req(
            Method::POST,
            &format!("/api/v1/jobs/{tolerant}/run"),
            Some(&admin),
        )
        .header("Idempotency-Key", "abc-123")
        .json(&json!({"parameters": {"nope": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status().as_u16(), 409);
    assert_eq!(reused.headers()["content-type"], "application/problem+json");
    let problem: Value = reused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("idempotency key was used before"),
        "{problem}"
    );
    assert!(problem.get("run_id").is_none(), "{problem}");
    // Bad parameters change nothing.
    let (s, e) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{tolerant}/run"),
            Some(&admin),
            Some(json!({"parameters": {"nope": 1}})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (_, page) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={tolerant}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(page["total"], 2, "{page}");
    api.stop().await;
}

#[tokio::test]
async fn a_step_printing_more_lines_than_the_clients_in_flight_acks_finishes() {
    // async-nats lets 5,000 publishes await their acknowledgement; a step's
    // lines once held theirs to the step's end and stopped at line 5,000.
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "many-lines", "steps": [
            {"id": "print", "type": "local.exec", "timeout_secs": 60, "with": {"command": "seq 1 12000"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    // Every line reaches PostgreSQL (the output recorder writes apart from
    // the run's status, so it may still be at it).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, steps) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs/{run}/steps"),
                Some(&admin),
                None,
            )
            .await;
        let stdout = steps["items"][0]["stdout"]
            .as_array()
            .unwrap_or_else(|| panic!("no stdout: {steps}"));
        if stdout.len() == 12_000 {
            assert_eq!(stdout.last().and_then(Value::as_str), Some("12000"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of 12000 lines recorded after 60 s",
            stdout.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    api.stop().await;
}
