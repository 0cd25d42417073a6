//! NATS restarted (killed and started again on the same store) while runs
//! are being submitted: every run answered with 202 still runs to its end;
//! requests made while the bus was away are refused with 503 and leave
//! nothing behind.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::sync::Mutex;

use crate::harness::runs::{create_job, wait_end_within};
use crate::harness::{ApiServer, PrivateNats};

#[tokio::test]
async fn restarting_nats_during_submissions_loses_no_accepted_run() {
    let mut nats = PrivateNats::start().await;
    let api = Arc::new(ApiServer::start(&[("OPSC_NATS_URL", &nats.url())]).await);
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "tick", "steps": [{"id": "a", "type": "local.exec", "with": {"command": "echo tick"}}]}),
    )
    .await;

    let accepted = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(0_u32));
    let until = tokio::time::Instant::now() + Duration::from_secs(9);
    let mut submitters = Vec::new();
    for _ in 0..3 {
        let (api, admin, job) = (api.clone(), admin.clone(), job.clone());
        let (accepted, refused) = (accepted.clone(), refused.clone());
        submitters.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < until {
                let (s, b) = api
                    .call(
                        Method::POST,
                        &format!("/api/v1/jobs/{job}/run"),
                        Some(&admin),
                        Some(json!({})),
                    )
                    .await;
                match s {
                    202 => accepted
                        .lock()
                        .await
                        .push(b["run_id"].as_str().unwrap().to_owned()),
                    503 => *refused.lock().await += 1,
                    other => panic!("unexpected answer {other}: {b}"),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = accepted.lock().await.len();
    nats.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.resume().await;
    for s in submitters {
        s.await.unwrap();
    }
    let accepted = accepted.lock().await.clone();
    let refused = *refused.lock().await;
    assert!(before > 0, "runs were accepted before the restart");
    assert!(
        accepted.len() > before,
        "runs were accepted again after the restart ({before} before, {} in all)",
        accepted.len()
    );
    for run in &accepted {
        let end = wait_end_within(&api, &admin, run, Duration::from_secs(120)).await;
        assert_eq!(end["status"], "succeeded", "{run}: {end}");
    }
    // Nothing but the accepted runs exists.
    let (_, listed) = api
        .call(Method::GET, "/api/v1/runs?limit=500", Some(&admin), None)
        .await;
    let listed = usize::try_from(listed["total"].as_u64().unwrap()).unwrap();
    assert_eq!(
        listed,
        accepted.len(),
        "{} accepted, {refused} refused, {listed} stored",
        accepted.len()
    );
    eprintln!(
        "accepted {} ({before} before the restart), refused {refused}",
        accepted.len()
    );
    if let Ok(api) = Arc::try_unwrap(api) {
        api.stop().await;
    }
}
