//! `GET /api/v1/workers` against real worker processes: workers appear
//! from their heartbeats with their pool, concurrency and load, the pool
//! filter works, and a stopped or killed worker disappears within three
//! heartbeat periods.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, wait_until};

/// Seconds between the test workers' heartbeats.
const BEAT: &str = "1";

async fn workers(api: &ApiServer, token: &str, query: &str) -> Vec<Value> {
    let (s, b) = api
        .call(
            Method::GET,
            &format!("/api/v1/workers{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["items"].as_array().unwrap().clone()
}

fn pools(list: &[Value]) -> Vec<&str> {
    list.iter().map(|w| w["pool"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn live_workers_are_listed_by_pool_and_expire_when_they_stop() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "looker", "viewer", "workers-viewer-pass-1")
        .await;
    let (viewer, _) = api.login("looker", "workers-viewer-pass-1").await;
    let mut edge = api
        .start_worker_with(
            "edge",
            &[
                ("OPSC_WORKER_HEARTBEAT_SECS", BEAT),
                ("OPSC_WORKER_CONCURRENCY", "3"),
            ],
        )
        .await;
    let mut default = api
        .start_worker_with("default", &[("OPSC_WORKER_HEARTBEAT_SECS", BEAT)])
        .await;

    wait_until("both workers listed", Duration::from_secs(10), || async {
        workers(&api, &viewer, "").await.len() == 2
    })
    .await;
    let list = workers(&api, &viewer, "").await;
    assert_eq!(
        pools(&list),
        ["default", "edge"],
        "sorted by pool: {list:?}"
    );
    let (d, e) = (&list[0], &list[1]);
    assert_eq!(d["concurrency"], 32, "{d}");
    assert_eq!(e["concurrency"], 3, "{e}");
    for w in &list {
        assert_eq!(w["in_flight"], 0, "{w}");
        assert_eq!(w["draining"], false, "{w}");
        assert_eq!(w["heartbeat_secs"], 1, "{w}");
        assert_eq!(w["version"], env!("CARGO_PKG_VERSION"), "{w}");
        assert!(w["id"].as_str().is_some_and(|s| !s.is_empty()), "{w}");
        for at in ["started_at", "last_heartbeat_at"] {
            assert!(
                chrono::DateTime::parse_from_rfc3339(w[at].as_str().unwrap()).is_ok(),
                "{at}: {w}"
            );
        }
    }
    let edge_only = workers(&api, &viewer, "?pool=edge").await;
    assert_eq!(edge_only.len(), 1);
    assert_eq!(edge_only[0]["id"], e["id"]);
    assert!(workers(&api, &viewer, "?pool=nowhere").await.is_empty());
    let (s, _) = api.call(Method::GET, "/api/v1/workers", None, None).await;
    assert_eq!(s, 401);

    // A running dispatch shows as load.
    let job = create_job(
        &api,
        &admin,
        json!({"name": "busy", "steps": [
            {"id": "s", "type": "local.exec", "with": {"command": "sleep 4"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    wait_until(
        "the default worker reports its load",
        Duration::from_secs(10),
        || async { workers(&api, &viewer, "?pool=default").await[0]["in_flight"] == 1 },
    )
    .await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    wait_until("the load is gone", Duration::from_secs(5), || async {
        workers(&api, &viewer, "?pool=default").await[0]["in_flight"] == 0
    })
    .await;

    // Killed (no last heartbeat): gone after three missed heartbeats.
    edge.kill().await;
    let killed = tokio::time::Instant::now();
    wait_until(
        "the killed worker expires",
        Duration::from_secs(8),
        || async { workers(&api, &viewer, "").await.len() == 1 },
    )
    .await;
    assert!(
        killed.elapsed() >= Duration::from_secs(2),
        "it expired on missed heartbeats, not at once: {:?}",
        killed.elapsed()
    );
    assert_eq!(pools(&workers(&api, &viewer, "").await), ["default"]);
    assert!(workers(&api, &viewer, "?pool=edge").await.is_empty());

    // Stopped (SIGTERM, drained): gone too.
    assert_eq!(default.terminate().await, Some(0), "{}", default.output());
    wait_until(
        "the stopped worker expires",
        Duration::from_secs(8),
        || async { workers(&api, &viewer, "").await.is_empty() },
    )
    .await;
    api.stop().await;
}
