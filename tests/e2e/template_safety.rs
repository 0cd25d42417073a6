//! Templates through the real api and worker, as an operator: a value
//! placed where quoting does not protect it is refused at save with the
//! field and the fix; the doubling attack on template memory is refused at
//! save in its engine-operator form and, in its bounded form, fails the
//! step with a clear error while the worker stays up and runs the next job;
//! the same command written safely runs, and a hostile value stays data.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, Sshd};

const PASSWORD: &str = "Corr3ct-Horse-Battery!";

/// An `ssh.exec` job on `target` (steps on a target need no host
/// capability, so an operator may write and run them).
fn job(name: &str, target: &str, command: &str) -> Value {
    json!({"name": name,
        "parameters": {"svc": {"type": "string", "required": true}},
        "targets": {"targets": [target]},
        "steps": [{"id": "s", "type": "ssh.exec", "with": {"command": command}}]})
}

/// A target on the test sshd, its host key pinned by an admin's test.
async fn ssh_target(api: &ApiServer, admin: &str, sshd: &Sshd) -> String {
    let (s, c) = api
        .call(Method::POST, "/api/v1/credentials", Some(admin),
            Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}})))
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, t) = api
        .call(Method::POST, "/api/v1/targets", Some(admin),
            Some(json!({"name": "linux-1", "hostname": "127.0.0.1", "os_type": "linux",
                "ssh": {"port": sshd.port, "credential_id": c["id"], "host_key_policy": "accept-new"}})))
        .await;
    assert_eq!(s, 201, "{t}");
    let target = t["id"].as_str().unwrap().to_owned();
    let (_, tested) = api
        .call(
            Method::POST,
            &format!("/api/v1/targets/{target}/test"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
    target
}

#[tokio::test]
async fn unsafe_quoting_and_template_bombs_are_refused_and_safe_forms_run() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let target = ssh_target(&api, &admin, &sshd).await;
    api.user(&admin, "oper", "operator", PASSWORD).await;
    let (operator, _) = api.login("oper", PASSWORD).await;

    for (command, says) in [
        (r#"echo "restarting {{ svc }} now""#, "double quotes"),
        ("echo `cat {{ svc }}`", "backticks"),
        ("grep '{{ svc }}' /etc/hosts", "single quotes"),
    ] {
        let (s, b) = api
            .call(
                Method::POST,
                "/api/v1/jobs",
                Some(&operator),
                Some(job("unsafe", &target, command)),
            )
            .await;
        assert_eq!(s, 422, "{command}: {b}");
        let text = b.to_string();
        assert!(
            text.contains("/steps/0/with/command") && text.contains(says),
            "{command}: {text}"
        );
    }
    // The engine's own concatenation kept in a variable: refused at save.
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&operator),
            Some(job(
                "bomb",
                &target,
                "{% set a = svc %}{% for i in range(40) %}{% set a = a ~ a %}{% endfor %}echo {{ a }}",
            )),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(b.to_string().contains("concat("), "{b}");

    // The bounded form saves, and fails the step at the limit, at once.
    let bomb = create_job(
        &api,
        &operator,
        job(
            "bounded-bomb",
            &target,
            "{% set ns = namespace(a=svc) %}{% for i in range(64) %}{% set ns.a = concat(ns.a, ns.a) %}{% endfor %}echo {{ ns.a | length }}",
        ),
    )
    .await;
    let run = run_job(
        &api,
        &operator,
        &bomb,
        json!({"parameters": {"svc": "xxxxxxxxxxxxxxxx"}}),
    )
    .await;
    let end = wait_end(&api, &operator, &run).await;
    assert_eq!(end["status"], "failed", "{end}");
    let s = steps(&api, &operator, &run).await;
    let error = step(&s, "s", Some(&target))["error"].to_string();
    assert!(
        error.contains("template limit: concat() would build a text of more than 1048576 bytes"),
        "{error}"
    );

    // The worker is still up, and the safe spelling runs with a hostile
    // value kept as data.
    let safe = create_job(
        &api,
        &operator,
        job("safe", &target, r#"echo "restarting "{{ svc }}" now""#),
    )
    .await;
    let run = run_job(
        &api,
        &operator,
        &safe,
        json!({"parameters": {"svc": "web$(touch /tmp/pwned-opsc)\"; id"}}),
    )
    .await;
    let end = wait_end(&api, &operator, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    let s = steps(&api, &operator, &run).await;
    assert_eq!(
        step(&s, "s", Some(&target))["stdout"][0],
        "restarting web$(touch /tmp/pwned-opsc)\"; id now"
    );
}
