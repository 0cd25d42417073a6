//! A run's `parallelism` holds for the whole run: 250 targets cut into
//! shards executed by two workers never run more than the limit at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, steps, wait_end_within};

/// The most intervals open at one instant.
fn max_overlap(mut intervals: Vec<(i64, i64)>) -> usize {
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for (start, end) in intervals.drain(..) {
        edges.push((start, 1));
        edges.push((end, -1));
    }
    // An end at the same instant as a start frees its slot first.
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut open, mut most) = (0_i32, 0_i32);
    for (_, d) in edges {
        open += d;
        most = most.max(open);
    }
    usize::try_from(most).unwrap_or(0)
}

fn micros(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map(|t| t.timestamp_micros())
        .unwrap()
}

#[tokio::test]
async fn parallelism_holds_across_the_shards_and_workers_of_a_run() {
    let api = ApiServer::start(&[]).await;
    let few = [("OPSC_WORKER_CONCURRENCY", "2")];
    let _a = api.start_worker_with("default", &few).await;
    let _b = api.start_worker_with("default", &few).await;
    let admin = api.admin().await;
    let rows: Vec<Value> = (0..250)
        .map(|i| json!({"name": format!("node-{i:03}"), "hostname": format!("10.9.{}.{}", i / 200, i % 200 + 1),
                        "os_type": "linux", "tags": ["fleet"]}))
        .collect();
    let (s, imported) = api
        .call(
            Method::POST,
            "/api/v1/targets/import",
            Some(&admin),
            Some(Value::Array(rows)),
        )
        .await;
    assert_eq!(s, 201, "{imported}");
    let job = create_job(&api, &admin, json!({
        "name": "fleet-wide",
        "parallelism": 20,
        "targets": {"tags": ["fleet"]},
        "steps": [{"id": "work", "type": "local.exec", "with": {"command": "sleep 0.25; echo {{ target.name }}"}}]
    }))
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let end = wait_end_within(&api, &admin, &run, std::time::Duration::from_secs(120)).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    assert_eq!(end["target_ids"].as_array().map(Vec::len), Some(250));

    let items = steps(&api, &admin, &run).await;
    assert_eq!(items.len(), 250);
    let intervals: Vec<(i64, i64)> = items
        .iter()
        .map(|s| (micros(&s["started_at"]), micros(&s["finished_at"])))
        .collect();
    let most = max_overlap(intervals);
    eprintln!("parallelism 20, 250 targets: at most {most} ran at once");
    assert!(most <= 20, "{most} targets ran at once; the limit is 20");
    assert!(
        most >= 14,
        "only {most} at once: the limit should be used, not serialized"
    );

    let (_, rows) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rows["status"], "succeeded");
    let workers: std::collections::BTreeSet<String> = worker_ids(&api, &run).await;
    assert_eq!(workers.len(), 2, "both workers took shards: {workers:?}");
}

/// The workers that ran a run's steps, from the run's `started` events.
async fn worker_ids(api: &ApiServer, run: &str) -> std::collections::BTreeSet<String> {
    use futures::StreamExt as _;
    let client = async_nats::connect(crate::harness::shared_nats_url())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let subjects = opsc_proto::Subjects::new(api.prefix.clone());
    let names = opsc_proto::topology::StreamNames::new(&api.prefix);
    let stream = js.get_stream(&names.events).await.unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: subjects.run_event(run, "started"),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = std::collections::BTreeSet::new();
    while let Ok(Some(Ok(m))) =
        tokio::time::timeout(std::time::Duration::from_millis(500), messages.next()).await
    {
        if let Ok(e) = opsc_proto::events::RunEvent::decode(&m.payload)
            && let opsc_proto::events::RunEvent::Started(s) = e.data
        {
            out.insert(s.worker_id);
        }
    }
    out
}

#[test]
fn overlap_counts_open_intervals() {
    assert_eq!(max_overlap(vec![(0, 10), (5, 15), (10, 20)]), 2);
    assert_eq!(max_overlap(vec![(0, 1), (1, 2), (2, 3)]), 1);
    assert_eq!(max_overlap(vec![(0, 9), (1, 8), (2, 7)]), 3);
}
