//! Readiness follows NATS: every role turns 503 when it goes, and recovers
//! without a restart when it comes back. Liveness never depends on it.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::events::WorkerHeartbeat;

use crate::harness::{
    Opsc, PrivateNats, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY, TestDb, env_of, free_port, http,
    status_of, unique_prefix,
};

struct Role {
    name: &'static str,
    process: Opsc,
    base: String,
}

async fn migrated_db() -> TestDb {
    let db = TestDb::create().await;
    let mut m = Opsc::spawn(
        &["migrate"],
        &env_of(&[("OPSC_DATABASE_URL", db.url.clone())]),
    );
    assert_eq!(m.wait().await, Some(0), "{}", m.output());
    db
}

fn common_env(nats: &str, prefix: &str, db: &TestDb) -> BTreeMap<String, String> {
    env_of(&[
        ("OPSC_NATS_URL", nats.to_owned()),
        ("OPSC_NATS_PREFIX", prefix.to_owned()),
        ("OPSC_DATABASE_URL", db.url.clone()),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        (
            "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
            TEST_ADMIN_PASSWORD.to_owned(),
        ),
        ("OPSC_WORKER_HEARTBEAT_SECS", "1".to_owned()),
    ])
}

fn start_role(name: &'static str, env: &BTreeMap<String, String>) -> Role {
    let port = free_port();
    let mut env = env.clone();
    let var = match name {
        "api" | "all" => "OPSC_HTTP_ADDR",
        "worker" => "OPSC_WORKER_HEALTH_ADDR",
        "scheduler" => "OPSC_SCHEDULER_HEALTH_ADDR",
        _ => "OPSC_NOTIFIER_HEALTH_ADDR",
    };
    env.insert(var.to_owned(), format!("127.0.0.1:{port}"));
    if name == "worker" {
        // A worker alone holds its pool's seal key, never the master key
        // (any 32 bytes do here: nothing is sealed for it).
        env.remove("OPSC_MASTER_KEY");
        env.insert(
            "OPSC_WORKER_SEAL_KEY".to_owned(),
            TEST_MASTER_KEY.to_owned(),
        );
    }
    Role {
        name,
        process: Opsc::spawn(&["server", name], &env),
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_all(roles: &[Role], path: &str, status: u16, within: Duration) {
    for r in roles {
        let url = format!("{}{path}", r.base);
        let deadline = tokio::time::Instant::now() + within;
        while status_of(&url).await != status {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} {path} did not answer {status} within {within:?}; its output:\n{}",
                r.name,
                r.process.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn every_role_follows_nats_down_and_back_up() {
    let mut nats = PrivateNats::start().await;
    let db = migrated_db().await;
    let prefix = unique_prefix();
    let env = common_env(&nats.url(), prefix.as_str(), &db);
    let mut roles: Vec<Role> = ["api", "worker", "scheduler", "notifier"]
        .into_iter()
        .map(|name| start_role(name, &env))
        .collect();
    wait_all(&roles, "/readyz", 200, Duration::from_secs(20)).await;

    nats.stop();
    wait_all(&roles, "/readyz", 503, Duration::from_secs(10)).await;
    wait_all(&roles, "/healthz", 200, Duration::from_secs(1)).await;
    for r in &roles {
        let body: serde_json::Value = http()
            .get(format!("{}/readyz", r.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            body["failing"]["nats"].is_string(),
            "{} names nats: {body}",
            r.name
        );
        let metrics = http()
            .get(format!("{}/metrics", r.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("opsc_nats_connected 0"),
            "{}: {metrics}",
            r.name
        );
    }

    nats.resume().await;
    wait_all(&roles, "/readyz", 200, Duration::from_secs(30)).await;

    for r in &mut roles {
        assert_eq!(
            r.process.terminate().await,
            Some(0),
            "{} drains: {}",
            r.name,
            r.process.output()
        );
    }
    db.drop_now().await;
}

#[tokio::test]
async fn a_role_started_before_nats_becomes_ready_when_it_arrives() {
    let mut nats = PrivateNats::start().await;
    nats.stop();
    let db = migrated_db().await;
    let prefix = unique_prefix();
    let env = common_env(&nats.url(), prefix.as_str(), &db);
    let mut worker = start_role("worker", &env);
    let roles = std::slice::from_ref(&worker);
    wait_all(roles, "/healthz", 200, Duration::from_secs(10)).await;
    assert_eq!(status_of(&format!("{}/readyz", worker.base)).await, 503);
    nats.resume().await;
    wait_all(
        std::slice::from_ref(&worker),
        "/readyz",
        200,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(worker.process.terminate().await, Some(0));
    db.drop_now().await;
}

#[tokio::test]
async fn all_roles_in_one_process_heartbeat_and_drain_on_sigterm() {
    let nats = PrivateNats::start().await;
    let db = migrated_db().await;
    let prefix = unique_prefix();
    let env = common_env(&nats.url(), prefix.as_str(), &db);
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut beats = client
        .subscribe(format!("{prefix}.ctl.worker.heartbeat.*"))
        .await
        .unwrap();
    let mut all = start_role("all", &env);
    wait_all(
        std::slice::from_ref(&all),
        "/readyz",
        200,
        Duration::from_secs(20),
    )
    .await;

    let first = tokio::time::timeout(Duration::from_secs(10), beats.next())
        .await
        .unwrap()
        .unwrap();
    let beat = CloudEvent::<WorkerHeartbeat>::decode(&first.payload).unwrap();
    assert_eq!(beat.data.pool, "default");
    assert!(!beat.data.draining);

    assert_eq!(
        all.process.terminate().await,
        Some(0),
        "{}",
        all.process.output()
    );
    // The last heartbeat says the worker drained.
    let mut last = None;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), beats.next()).await {
        last = Some(
            CloudEvent::<WorkerHeartbeat>::decode(&m.payload)
                .unwrap()
                .data,
        );
    }
    assert!(last.expect("a final heartbeat").draining);
    db.drop_now().await;
}
