//! Insights and the runs list with 100,000 runs: the aggregates come from
//! PostgreSQL, bad periods are 422 naming the parameter, a viewer reads
//! them, and the answers' times are printed (no timed assertion).

use std::time::Instant;

use reqwest::Method;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::create_job;

const PASSWORD: &str = "insights-pass-for-tests-1";

/// Inserts `n` finished runs of `job`, one every 30 s back from now: every
/// 10th failed, every 3rd by the scheduler, durations 1-50 s, and every
/// 5000th run taking 1000 s (slower than its baseline).
async fn insert_runs(api: &ApiServer, job: &str, name: &str, n: i64) {
    let db = api.db.as_ref().unwrap().connect().await;
    let started = Instant::now();
    db.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO runs (id, job_id, job_name, job_version, status, trigger_kind, trigger_actor, \
           parameters, target_ids, shards_finished, attempt, created_at, started_at, finished_at, updated_at) \
         SELECT gen_random_uuid(), $1::uuid, $2, 1, \
           CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END, \
           CASE WHEN i % 3 = 0 THEN 'schedule' ELSE 'manual' END, 'test', \
           '{}'::jsonb, '[]'::jsonb, '{}'::jsonb, 1, \
           now() - i * interval '30 seconds', now() - i * interval '30 seconds', \
           now() - i * interval '30 seconds' + CASE WHEN i % 5000 = 0 THEN interval '1000 seconds' \
             ELSE ((i % 50) + 1) * interval '1 second' END, now() \
         FROM generate_series(1, $3::bigint) AS i",
        vec![job.into(), name.into(), n.into()],
    ))
    .await
    .unwrap();
    db.execute_unprepared("ANALYZE runs").await.unwrap();
    eprintln!("inserted {n} runs in {:?}", started.elapsed());
}

async fn timed(api: &ApiServer, token: &str, path: &str) -> Value {
    let started = Instant::now();
    let (s, b) = api.call(Method::GET, path, Some(token), None).await;
    eprintln!("GET {path}: {s} in {:?}", started.elapsed());
    assert_eq!(s, 200, "{path}: {b}");
    b
}

#[tokio::test]
async fn insights_and_run_lists_answer_with_100k_runs() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "viewer1", "viewer", PASSWORD).await;
    let (viewer, _) = api.login("viewer1", PASSWORD).await;
    let def =
        json!({"name": "bench", "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]});
    let job = create_job(&api, &admin, def).await;
    insert_runs(&api, &job, "bench", 100_000).await;

    let all = timed(&api, &viewer, "/api/v1/runs?limit=50&offset=0").await;
    assert_eq!(all["total"], 100_000);
    assert_eq!(all["items"].as_array().unwrap().len(), 50);
    let failed = timed(
        &api,
        &viewer,
        "/api/v1/runs?limit=50&offset=0&status=failed",
    )
    .await;
    assert_eq!(failed["total"], 10_000);
    let by_job = format!("/api/v1/runs?limit=50&offset=0&job_id={job}&trigger=schedule");
    let scheduled = timed(&api, &viewer, &by_job).await;
    assert_eq!(scheduled["total"], 33_333);
    timed(&api, &viewer, "/api/v1/runs?limit=50&offset=5000").await;

    let to = chrono::Utc::now();
    let from = to - chrono::Duration::days(7);
    let path = format!(
        "/api/v1/insights?from={}&to={}&bucket=day",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let week = timed(&api, &viewer, &path).await;
    // 7 days of one run every 30 s.
    let runs = week["totals"]["runs"].as_i64().unwrap();
    assert!((20_150..=20_170).contains(&runs), "{}", week["totals"]);
    assert_eq!(week["jobs"][0]["job_name"], "bench");
    let rate = week["jobs"][0]["success_rate"].as_f64().unwrap();
    assert!((0.89..0.91).contains(&rate), "{rate}");
    let p50 = week["jobs"][0]["p50_ms"].as_f64().unwrap();
    assert!((20_000.0..=30_000.0).contains(&p50), "{p50}");
    assert!(week["series"].as_array().unwrap().len() >= 7);
    assert_eq!(week["slowest"][0]["job_id"], job.as_str());
    assert_eq!(week["most_failing"][0]["job_id"], job.as_str());
    let slow = week["slower_than_baseline"].as_array().unwrap();
    assert!(!slow.is_empty(), "{week}");
    assert!(
        slow.iter()
            .all(|r| r["duration_ms"].as_f64() > r["baseline_ms"].as_f64())
    );
    assert_eq!(slow[0]["baseline"], "p95");

    let day = timed(&api, &viewer, "/api/v1/insights").await;
    assert_eq!(day["bucket"], "hour");
    let n = day["totals"]["runs"].as_i64().unwrap();
    assert!((2_870..=2_890).contains(&n), "{}", day["totals"]);
    let other = format!("/api/v1/insights?job_id={}", uuid::Uuid::now_v7());
    assert_eq!(timed(&api, &viewer, &other).await["totals"]["runs"], 0);
    api.stop().await;
}

#[tokio::test]
async fn bad_insight_periods_are_422_naming_the_parameter() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    for (query, param) in [
        ("from=yesterday", "?from"),
        ("bucket=week", "?bucket"),
        ("job_id=nope", "?job_id"),
        ("from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "?from"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "?from"),
    ] {
        let res = api
            .req(
                Method::GET,
                &format!("/api/v1/insights?{query}"),
                Some(&admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 422, "{query}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(kind, "application/problem+json");
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["errors"][0]["path"], param, "{query}: {b}");
    }
    let (s, _) = api.call(Method::GET, "/api/v1/insights", None, None).await;
    assert_eq!(s, 401);
    api.stop().await;
}
