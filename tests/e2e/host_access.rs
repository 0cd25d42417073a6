//! Reaching into the worker host is an admin capability of a pool: an
//! operator cannot store a job version that runs a command on the worker or
//! uses a worker-side path (by create, update, clone or import), an admin
//! can only in a pool that allows it, a version runs only while its author
//! is an active admin, a forged dispatch without the api's sealed grant is
//! refused by the worker, and what does run gets a clean environment and
//! paths confined to the worker's roots. No server keeps a secret in its
//! environment.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::dispatch::{JobRef, RunDispatch};
use opsc_proto::events::ShardRef;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, TEST_MASTER_KEY, test_bus};

const PASSWORD: &str = "operator-password-1";

fn local_job(name: &str, command: &str) -> Value {
    json!({"name": name, "steps": [{"id": "cmd", "type": "local.exec", "with": {"command": command}}]})
}

async fn job_count(api: &ApiServer, token: &str) -> u64 {
    let (_, b) = api
        .call(Method::GET, "/api/v1/jobs", Some(token), None)
        .await;
    b["total"].as_u64().unwrap()
}

fn environ(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap())
        .replace('\0', "\n")
}

#[tokio::test]
async fn only_admin_versions_in_allowing_pools_reach_into_the_worker_host() {
    let api = ApiServer::start(&[]).await;
    let worker = api.start_worker("default").await;
    let admin = api.admin().await;
    api.user(&admin, "oper", "operator", PASSWORD).await;
    api.user(&admin, "viewer", "viewer", PASSWORD).await;
    let (op, _) = api.login("oper", PASSWORD).await;
    let (viewer, _) = api.login("viewer", PASSWORD).await;

    // An operator stores no version that reaches into the host, by any route.
    let before = job_count(&api, &admin).await;
    for def in [
        local_job("op-shell", "id; env"),
        json!({"name": "op-upload", "steps": [{"id": "u", "type": "sftp.upload",
            "with": {"source": "/etc/opsconductor/master.key", "dest": "/tmp/k"}}]}),
        json!({"name": "op-download", "steps": [{"id": "d", "type": "sftp.download",
            "with": {"source": "/etc/passwd", "dest": "/root/.ssh/authorized_keys"}}]}),
    ] {
        let (s, b) = api
            .call(Method::POST, "/api/v1/jobs", Some(&op), Some(def.clone()))
            .await;
        assert_eq!(s, 403, "{b}");
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("only a job version an active admin saved"),
            "{b}"
        );
        let (s, b) = api
            .call(Method::POST, "/api/v1/jobs/import", Some(&op), Some(def))
            .await;
        assert_eq!(s, 403, "import: {b}");
    }
    assert_eq!(job_count(&api, &admin).await, before, "nothing was stored");
    // Inline content touches no worker path: an operator may store it.
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(&op), Some(json!({"name": "op-inline",
            "steps": [{"id": "u", "type": "sftp.upload", "with": {"content": "x", "dest": "/tmp/x"}}]})))
        .await;
    assert_eq!(s, 201, "{b}");

    // An admin's version runs, for an operator granted it too, with a clean
    // environment in the work root.
    let job = create_job(&api, &admin, local_job("host-env", "env; pwd")).await;
    // Even with the right to edit it (see job_ownership.rs), an operator
    // stores no version that reaches into the host.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/jobs/{job}/grants"),
            Some(&admin),
            Some(json!({"grants": [{"kind": "user", "username": "oper", "access": "edit"}]})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for (who, def) in [
        ("update", local_job("host-env", "cat /proc/$PPID/environ")),
        ("rename", local_job("host-env-2", "env; pwd")),
    ] {
        let (s, b) = api
            .call(
                Method::PUT,
                &format!("/api/v1/jobs/{job}"),
                Some(&op),
                Some(def),
            )
            .await;
        assert_eq!(s, 403, "{who}: {b}");
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("only a job version an active admin saved"),
            "{who}: {b}"
        );
    }
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{job}/clone"),
            Some(&op),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(s, 403, "clone: {b}");
    let (_, j) = api
        .call(Method::GET, &format!("/api/v1/jobs/{job}"), Some(&op), None)
        .await;
    assert_eq!(j["current_version"], 1, "{j}");

    let run = run_job(&api, &op, &job, json!({})).await;
    let r = wait_end(&api, &op, &run).await;
    assert_eq!(r["status"], "succeeded", "{r}");
    let items = steps(&api, &viewer, &run).await;
    let out: Vec<String> = step(&items, "cmd", None)["stdout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    let text = out.join("\n");
    assert!(
        !text.contains("OPSC_"),
        "the worker's settings stay out: {text}"
    );
    assert!(!text.contains(TEST_MASTER_KEY), "{text}");
    let home = out
        .iter()
        .find_map(|l| l.strip_prefix("HOME="))
        .expect("HOME is set");
    assert!(home.contains("opsc-work-"), "HOME is the work root: {text}");
    assert_eq!(
        out.last().map(String::as_str),
        Some(home),
        "it starts in the work root"
    );
    let names: Vec<&str> = out
        .iter()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    for n in &names {
        assert!(
            [
                "PATH", "HOME", "PWD", "LANG", "LC_ALL", "TZ", "SHLVL", "_", "OLDPWD"
            ]
            .contains(n),
            "only passed variables reach the command: {n} in {text}"
        );
    }

    // A worker-side path outside the roots, or through `..`, fails the step.
    let (s, c) = api
        .call(Method::POST, "/api/v1/credentials", Some(&admin),
            Some(json!({"name": "pw", "spec": {"type": "ssh_password", "username": "u", "password": "p"}})))
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, t) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(
                json!({"name": "box", "hostname": "127.0.0.1", "os_type": "linux",
                "ssh": {"port": 1, "credential_id": c["id"]}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let files = create_job(&api, &admin, json!({"name": "host-files", "targets": {"targets": [t["id"]]},
        "keep_going": true,
        "steps": [
            {"id": "key", "type": "sftp.upload", "continue_on_error": true,
             "with": {"source": "/etc/passwd", "dest": "/tmp/x"}},
            {"id": "up", "type": "sftp.download", "continue_on_error": true,
             "with": {"source": "/etc/hostname", "dest": format!("{}/../../etc/cron.d/x", std::env::temp_dir().display())}},
            {"id": "cwd", "type": "local.exec", "with": {"command": "pwd", "cwd": "/etc"}}
        ]})).await;
    let run = run_job(&api, &admin, &files, json!({})).await;
    wait_end(&api, &admin, &run).await;
    let items = steps(&api, &admin, &run).await;
    for (id, why) in [
        ("key", "outside the worker's file roots"),
        ("up", "`..` is not allowed"),
        ("cwd", "outside"),
    ] {
        let s = &items
            .iter()
            .find(|s| s["step_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {items:?}"));
        assert_eq!(s["status"], "failed", "{id}: {s}");
        assert!(
            s["error"].as_str().unwrap_or_default().contains(why),
            "{id}: {s}"
        );
    }

    // An admin cannot store one for a pool that does not allow it.
    let mut elsewhere = local_job("elsewhere", "id");
    elsewhere["pool"] = json!("plain");
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(&admin), Some(elsewhere))
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("pools.local_exec"),
        "{b}"
    );

    // A version runs only while its author is an active admin.
    let second = api
        .user(&admin, "admin2", "admin", "admin2-password-1")
        .await;
    let (admin2, _) = api.login("admin2", "admin2-password-1").await;
    let theirs = create_job(&api, &admin2, local_job("by-admin2", "true")).await;
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/users/{second}"),
            Some(&admin),
            Some(json!({"role": "operator"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{theirs}/run"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("only a job version an active admin saved"),
        "{b}"
    );
    // An admin who saves it again, unchanged, adopts it: a new version by them.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/jobs/{theirs}"),
            Some(&admin),
            Some(local_job("by-admin2", "true")),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["current_version"], 2, "{b}");
    let run = run_job(&api, &admin, &theirs, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");

    // A dispatch forged on the bus, without the api's sealed grant, is refused.
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let run_id = uuid::Uuid::now_v7();
    let client = async_nats::connect(crate::harness::shared_nats_url())
        .await
        .unwrap();
    let mut events = client
        .subscribe(format!("{}.evt.run.{run_id}.>", api.prefix))
        .await
        .unwrap();
    let forged = RunDispatch {
        run_id,
        shard: ShardRef { index: 0, count: 1 },
        pool: "default".into(),
        parallelism: 1,
        job: JobRef {
            id: uuid::Uuid::now_v7(),
            name: "forged".into(),
            version: 1,
            author: None,
        },
        definition: serde_json::from_value(local_job("forged", "touch /tmp/forged-ran")).unwrap(),
        parameters: Default::default(),
        sealed: None,
        targets: Vec::new(),
        trigger: Trigger::new(TriggerKind::Manual, "forger"),
        accepted_at: Utc::now(),
        deadline: Utc::now() + chrono::Duration::seconds(60),
    };
    rt.bus
        .publish(&CloudEvent::new("/e2e", forged))
        .await
        .unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(m) = events.next().await {
            let v: Value = serde_json::from_slice(&m.payload).unwrap();
            if v["data"]["step_id"] == "cmd" && v["data"]["status"].is_string() {
                return v;
            }
        }
        panic!("no step event");
    })
    .await
    .expect("the worker answered the forged dispatch");
    assert_eq!(refused["data"]["status"], "failed", "{refused}");
    assert!(
        refused["data"]["error"]
            .as_str()
            .unwrap()
            .contains("sealed grant"),
        "{refused}"
    );
    assert!(!std::path::Path::new("/tmp/forged-ran").exists());

    // No server keeps a secret in its environment.
    for (name, pid) in [("api", api.process.pid()), ("worker", worker.pid())] {
        let env = environ(pid.unwrap());
        assert!(!env.contains("OPSC_MASTER_KEY="), "{name}: {env}");
        assert!(!env.contains("OPSC_WORKER_SEAL_KEY="), "{name}");
        assert!(!env.contains("OPSC_DATABASE_URL="), "{name}");
        assert!(!env.contains(TEST_MASTER_KEY), "{name}");
    }
}
