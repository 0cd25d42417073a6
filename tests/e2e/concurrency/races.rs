//! Admissions at the same moment: the per-job lock lets exactly as many
//! runs through as the limit allows.

use reqwest::Method;
use serde_json::{Value, json};

use super::{job, runs_of, time};
use crate::harness::ApiServer;
use crate::harness::runs::{create_job, wait_end};

#[tokio::test]
async fn requests_at_the_same_moment_never_take_more_slots_than_the_limit() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let skip = create_job(&api, &admin, job("race-skip", 1, "skip", "sleep 2")).await;
    let queue = create_job(&api, &admin, job("race-queue", 2, "queue", "sleep 1")).await;
    let start = |id: String| {
        let (api, admin) = (&api, &admin);
        async move {
            api.call(
                Method::POST,
                &format!("/api/v1/jobs/{id}/run"),
                Some(admin),
                Some(json!({})),
            )
            .await
        }
    };
    // Eight at once against one slot: one run, seven refusals.
    let answers = futures::future::join_all((0..8).map(|_| start(skip.clone()))).await;
    let accepted = answers.iter().filter(|(s, _)| *s == 202).count();
    let refused = answers.iter().filter(|(s, _)| *s == 409).count();
    assert_eq!((accepted, refused), (1, 7), "{answers:?}");
    assert_eq!(runs_of(&api, &admin, &skip).await.len(), 1);

    // Six at once against two slots: all run, never three at once.
    let answers = futures::future::join_all((0..6).map(|_| start(queue.clone()))).await;
    assert!(answers.iter().all(|(s, _)| *s == 202), "{answers:?}");
    let mut ended: Vec<Value> = Vec::new();
    for (_, b) in &answers {
        let end = wait_end(&api, &admin, b["run_id"].as_str().unwrap()).await;
        assert_eq!(end["status"], "succeeded", "{end}");
        ended.push(end);
    }
    for r in &ended {
        let at = time(r, "started_at");
        let going = ended
            .iter()
            .filter(|o| time(o, "started_at") <= at && time(o, "finished_at") > at)
            .count();
        assert!(going <= 2, "{going} runs at once at {at}: {ended:?}");
    }
}
