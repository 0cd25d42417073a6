//! The scheduler through the real bus: two replicas and a leader killed
//! with SIGKILL still make exactly one run per fire instant; the misfire
//! policies decide what a pause leaves behind.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Timelike as _, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::create_job;
use crate::harness::{ApiServer, Opsc, wait_until};

async fn schedule(api: &ApiServer, token: &str, body: Value) -> String {
    let (status, created) = api
        .call(Method::POST, "/api/v1/schedules", Some(token), Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn status(api: &ApiServer, token: &str) -> Value {
    let (code, body) = api
        .call(Method::GET, "/api/v1/scheduler/status", Some(token), None)
        .await;
    assert_eq!(code, 200, "{body}");
    body
}

async fn leader(api: &ApiServer, token: &str) -> Option<String> {
    status(api, token).await["leader"]["replica_id"]
        .as_str()
        .map(str::to_owned)
}

async fn fires(api: &ApiServer, token: &str, id: &str) -> Vec<Value> {
    let (code, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/schedules/{id}/fires?limit=500"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// Every instant exactly once, and each whole second in `[from, to]` that
/// `expected` names present.
fn assert_each_once(
    runs: &BTreeMap<DateTime<Utc>, u64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    expected: impl Fn(DateTime<Utc>) -> bool,
    what: &str,
) {
    assert!(
        runs.values().all(|n| *n == 1),
        "{what}: an instant with more than one run: {runs:?}"
    );
    let mut t = from;
    while t <= to {
        if expected(t) {
            assert!(
                runs.contains_key(&t),
                "{what}: no run for {t} (runs: {:?})",
                runs.keys().collect::<Vec<_>>()
            );
        }
        t += chrono::Duration::seconds(1);
    }
}

fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap()
}

#[tokio::test]
async fn two_replicas_make_one_run_per_fire_through_a_leader_kill_and_an_edit() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "every-second",
            "steps": [{"id": "noop", "type": "local.exec", "with": {"command": "true"}}]
        }),
    )
    .await;
    let mut a = api.start_scheduler(&[]).await;
    let mut b = api.start_scheduler(&[]).await;
    let id = schedule(
        &api,
        &admin,
        json!({
            "name": "per-second",
            "job_id": job,
            "cron": "* * * * * *",
            "misfire": {"mode": "run_all", "max_count": 100, "stagger_ms": 0, "max_age_secs": 600}
        }),
    )
    .await;
    wait_until("a leader", Duration::from_secs(15), || async {
        leader(&api, &admin).await.is_some()
    })
    .await;
    wait_until("fires", Duration::from_secs(15), || async {
        api.schedule_runs(&id).await.len() >= 3
    })
    .await;
    let first = *api.schedule_runs(&id).await.keys().next().unwrap();

    // Kill the leader as a crash would; the standby takes over and catches up.
    let lead = leader(&api, &admin).await.unwrap();
    let (leader_proc, standby): (&mut Opsc, &mut Opsc) = if a.output().contains(&lead) {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert!(
        standby.output().contains("Scheduler started"),
        "{}",
        standby.output()
    );
    leader_proc.kill().await;
    let killed_at = Utc::now();
    wait_until("a new leader", Duration::from_secs(15), || async {
        leader(&api, &admin).await.is_some_and(|l| l != lead)
    })
    .await;
    // The killed one comes back as a standby.
    let _back = api.start_scheduler(&[]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Edit the timing while it fires: every second → every other second.
    let (code, body) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{id}"),
            Some(&admin),
            Some(json!({"cron": "*/2 * * * * *"})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let edited_at = Utc::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (code, body) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{id}"),
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let disabled_at = Utc::now();
    // Let intents in flight be admitted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs = api.schedule_runs(&id).await;

    let before_edit = whole_second(edited_at) - chrono::Duration::seconds(1);
    assert_each_once(
        &runs,
        first,
        before_edit,
        |_| true,
        "every second, across the kill",
    );
    assert_each_once(
        &runs,
        whole_second(edited_at) + chrono::Duration::seconds(2),
        whole_second(disabled_at) - chrono::Duration::seconds(1),
        |t| t.second() % 2 == 0,
        "every other second after the edit",
    );
    // After the edit settled, no odd second fired: the old timing is gone.
    let settled = whole_second(edited_at) + chrono::Duration::seconds(2);
    assert!(
        runs.keys()
            .filter(|t| **t >= settled)
            .all(|t| t.second() % 2 == 0),
        "an odd second fired after the edit: {runs:?}"
    );
    // Nothing after the disable.
    assert!(
        runs.keys()
            .all(|t| *t <= disabled_at + chrono::Duration::seconds(1)),
        "{runs:?}"
    );
    // The standby's catch-ups are recorded as such.
    let recorded = fires(&api, &admin, &id).await;
    let caught_up = recorded
        .iter()
        .filter(|f| f["kind"] == "fired" && f["catch_up"] == true)
        .count();
    assert!(
        caught_up >= 1,
        "the takeover caught up what fell due after {killed_at}: {recorded:?}"
    );
}

#[tokio::test]
async fn misfire_policies_decide_what_a_pause_leaves_behind() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "paused",
            "steps": [{"id": "noop", "type": "local.exec", "with": {"command": "true"}}]
        }),
    )
    .await;
    let _s = api.start_scheduler(&[]).await;
    let mut ids = BTreeMap::new();
    for (name, misfire) in [
        ("skip", json!({"mode": "skip"})),
        ("once", json!({"mode": "run_once"})),
        (
            "all",
            json!({"mode": "run_all", "max_count": 3, "stagger_ms": 100}),
        ),
    ] {
        let id = schedule(
            &api,
            &admin,
            json!({"name": name, "job_id": job, "cron": "* * * * * *", "misfire": misfire}),
        )
        .await;
        ids.insert(name, id);
    }
    wait_until("every schedule fires", Duration::from_secs(20), || async {
        let mut all = true;
        for id in ids.values() {
            all &= !api.schedule_runs(id).await.is_empty();
        }
        all
    })
    .await;
    let (code, body) = api
        .call(Method::POST, "/api/v1/scheduler/pause", Some(&admin), None)
        .await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut before = BTreeMap::new();
    for (name, id) in &ids {
        before.insert(*name, api.schedule_runs(id).await.len());
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    for (name, id) in &ids {
        assert_eq!(
            api.schedule_runs(id).await.len(),
            before[name],
            "{name} fired while paused"
        );
    }
    let (code, body) = api
        .call(Method::POST, "/api/v1/scheduler/resume", Some(&admin), None)
        .await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;

    let counts = |items: &[Value], kind: &str, reason: Option<&str>| -> u64 {
        items
            .iter()
            .filter(|f| f["kind"] == kind && reason.is_none_or(|r| f["reason"] == r))
            .map(|f| f["count"].as_u64().unwrap_or(1))
            .sum()
    };
    let skip = fires(&api, &admin, &ids["skip"]).await;
    assert!(
        !skip.iter().any(|f| f["catch_up"] == true),
        "skip never catches up: {skip:?}"
    );
    assert!(
        counts(&skip, "misfired", Some("misfire_skip")) >= 4,
        "{skip:?}"
    );

    let once = fires(&api, &admin, &ids["once"]).await;
    assert_eq!(
        once.iter().filter(|f| f["catch_up"] == true).count(),
        1,
        "{once:?}"
    );
    assert!(
        counts(&once, "misfired", Some("superseded")) >= 3,
        "{once:?}"
    );

    let all = fires(&api, &admin, &ids["all"]).await;
    assert_eq!(
        all.iter().filter(|f| f["catch_up"] == true).count(),
        3,
        "{all:?}"
    );
    assert!(
        counts(&all, "misfired", Some("over_max_count")) >= 1,
        "{all:?}"
    );
    for id in ids.values() {
        assert!(api.schedule_runs(id).await.values().all(|n| *n == 1));
    }
}
