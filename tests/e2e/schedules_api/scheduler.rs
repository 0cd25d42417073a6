//! The scheduler-wide pause, the status, and the recorder of schedule events.

use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::{TimeDelta, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use opsc_proto::events::{ScheduleFired, ScheduleMisfired, ScheduleSkipped, SkipReason};
use opsc_proto::schedule::{Lease, ReplicaBeat, SchedulerControl, SchedulerStatusDoc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{call, create};
use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

#[tokio::test]
async fn the_global_pause_status_and_recorded_fires() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let admin_id = call(&api, Method::GET, "/api/v1/me", &admin, None).await.1["id"].clone();
    let job = create_job(
        &api,
        &admin,
        json!({"name": "fired", "parameters": {"who": {"type": "string"}},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}),
    )
    .await;
    let id = create(
        &api,
        &admin,
        json!({"name": "s", "job_id": job, "cron": "@daily"}),
    )
    .await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let schedules = bus.bucket("schedules").await.unwrap();
    let leases = bus.bucket("leases").await.unwrap();

    // No scheduler ran yet.
    let (s, st) = call(&api, Method::GET, "/api/v1/scheduler/status", &admin, None).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        (
            st["paused"].clone(),
            st["leader"].clone(),
            st["replicas"].clone(),
            st["schedules_loaded"].clone()
        ),
        (json!(false), Value::Null, json!([]), Value::Null)
    );
    // The switch is persisted and mirrored.
    let (s, c) = call(&api, Method::POST, "/api/v1/scheduler/pause", &admin, None).await;
    assert_eq!(
        (s, c["paused"].clone(), c["changed_by"].clone()),
        (200, json!(true), admin_id.clone()),
        "{c}"
    );
    let control = |store: kv::Store| async move {
        serde_json::from_slice::<SchedulerControl>(
            &store.get("control.global").await.unwrap().unwrap(),
        )
        .unwrap()
    };
    assert!(control(schedules.clone()).await.paused);
    assert_eq!(
        call(&api, Method::GET, "/api/v1/scheduler/status", &admin, None)
            .await
            .1["paused"],
        true
    );
    call(&api, Method::POST, "/api/v1/scheduler/resume", &admin, None).await;
    assert!(!control(schedules.clone()).await.paused);

    // A scheduler's lease, heartbeats and summary.
    let now = Utc::now();
    let lease = Lease {
        holder: "r1".into(),
        term: 7,
        expires_at: now + TimeDelta::seconds(20),
        acquired_at: now,
    };
    leases
        .put(
            "scheduler.leader",
            serde_json::to_vec(&lease).unwrap().into(),
        )
        .await
        .unwrap();
    for (replica, seen) in [("r1", now), ("r0", now - TimeDelta::seconds(60))] {
        let beat = ReplicaBeat {
            replica_id: replica.into(),
            version: "e2e".into(),
            started_at: now,
            seen_at: seen,
            leader: replica == "r1",
        };
        leases
            .put(
                format!("scheduler.replica.{replica}"),
                serde_json::to_vec(&beat).unwrap().into(),
            )
            .await
            .unwrap();
    }
    let summary = SchedulerStatusDoc {
        leader: "r1".into(),
        term: 7,
        schedules_loaded: 3,
        schedules_active: 2,
        paused: false,
        next_fire: None,
        last_lag_ms: Some(1.5),
        lag_p99_ms: Some(4.0),
        written_at: now,
    };
    leases
        .put(
            "scheduler.status",
            serde_json::to_vec(&summary).unwrap().into(),
        )
        .await
        .unwrap();
    let (_, st) = call(&api, Method::GET, "/api/v1/scheduler/status", &admin, None).await;
    assert_eq!(
        (
            st["leader"]["replica_id"].clone(),
            st["leader"]["term"].clone()
        ),
        (json!("r1"), json!(7)),
        "{st}"
    );
    assert_eq!(
        st["replicas"].as_array().unwrap().len(),
        1,
        "stale heartbeats are left out: {st}"
    );
    assert_eq!(
        (
            st["schedules_loaded"].clone(),
            st["last_lag_ms"].clone(),
            st["lag_p99_ms"].clone()
        ),
        (json!(3), json!(1.5), json!(4.0))
    );

    // A fire whose intent became a run, recorded once however often it
    // arrives; a skip; a fire of a schedule that is gone.
    let at = Utc::now();
    let key = format!("schedule:{id}:{}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
    let mut trigger = Trigger::new(TriggerKind::Schedule, id.clone());
    trigger.origin = Some("scheduler".into());
    let intent = RunIntent {
        job_id: Some(job.parse().unwrap()),
        job_name: None,
        job_version: None,
        parameters: Default::default(),
        sealed_parameters: None,
        targets: None,
        trigger,
        idempotency_key: Some(key.clone()),
        fence: Some(7),
        retry_of: None,
        parameters_from: None,
    };
    bus.publish(&CloudEvent::new("/e2e", intent)).await.unwrap();
    let schedule_id: Uuid = id.parse().unwrap();
    let fired = ScheduleFired {
        schedule_id,
        job_id: job.parse().unwrap(),
        fire_at: at,
        fired_at: at,
        lag_ms: 2.5,
        intent_key: key.clone(),
        catch_up: false,
        deferred_by: None,
        revision: 1,
        term: 7,
    };
    let event = CloudEvent::new("/e2e", fired.clone());
    bus.publish(&event).await.unwrap();
    bus.publish(&event).await.unwrap();
    let skipped = ScheduleSkipped {
        schedule_id,
        job_id: job.parse().unwrap(),
        fire_at: at - TimeDelta::hours(1),
        local_time: "2027-03-14T02:30:00".into(),
        reason: SkipReason::DstGap,
        window_id: None,
        revision: 1,
    };
    bus.publish(&CloudEvent::new("/e2e", skipped))
        .await
        .unwrap();
    // Missed fires dropped for one reason come as one event that counts them.
    let missed = ScheduleMisfired {
        schedule_id,
        job_id: job.parse().unwrap(),
        fire_at: at - TimeDelta::hours(3),
        last_fire_at: Some(at - TimeDelta::hours(2)),
        count: 4,
        count_capped: false,
        noticed_at: at,
        reason: SkipReason::TooOld,
        revision: 1,
    };
    bus.publish(&CloudEvent::new("/e2e", missed)).await.unwrap();
    let ghost = ScheduleFired {
        schedule_id: Uuid::now_v7(),
        ..fired.clone()
    };
    bus.publish(&CloudEvent::new("/e2e", ghost)).await.unwrap();
    // What the recorder cannot record goes to the dead letters.
    let subject = format!("{}.evt.schedule.{id}.exploded", api.prefix);
    let mut odd = serde_json::to_value(CloudEvent::new("/e2e", fired.clone())).unwrap();
    odd["type"] = json!("io.opsconductor.schedule.exploded.v1");
    bus.js
        .publish(subject.clone(), odd.to_string().into())
        .await
        .unwrap()
        .await
        .unwrap();
    let mut broken = serde_json::to_value(CloudEvent::new("/e2e", fired)).unwrap();
    broken["data"] = json!({"schedule_id": "not-a-uuid"});
    bus.js
        .publish(
            format!("{}.evt.schedule.{id}.fired", api.prefix),
            broken.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let fires_at = format!("/api/v1/schedules/{id}/fires");
    wait_until("the fires and the run", Duration::from_secs(30), || async {
        let (_, f) = call(&api, Method::GET, &fires_at, &admin, None).await;
        f["items"]
            .as_array()
            .is_some_and(|i| i.len() == 3 && !i[0]["run_id"].is_null())
    })
    .await;
    let (_, f) = call(&api, Method::GET, &fires_at, &admin, None).await;
    let items = f["items"].as_array().unwrap();
    assert_eq!(
        (
            items[0]["kind"].clone(),
            items[0]["lag_ms"].clone(),
            items[0]["intent_key"].clone(),
            items[0]["term"].clone()
        ),
        (json!("fired"), json!(2.5), json!(key), json!(7)),
        "{f}"
    );
    assert_eq!(
        (items[1]["kind"].clone(), items[1]["reason"].clone()),
        (json!("skipped"), json!("dst_gap")),
        "{f}"
    );
    assert_eq!(
        (
            items[2]["kind"].clone(),
            items[2]["reason"].clone(),
            items[2]["count"].clone()
        ),
        (json!("misfired"), json!("too_old"), json!(4)),
        "{f}"
    );
    let (_, runs) = call(
        &api,
        Method::GET,
        &format!("/api/v1/runs?job_id={job}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(items[0]["run_id"], runs["items"][0]["id"], "{runs}");
    assert_eq!(
        call(
            &api,
            Method::GET,
            &format!("{fires_at}?limit=1"),
            &admin,
            None
        )
        .await
        .1["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, st) = call(&api, Method::GET, "/api/v1/scheduler/status", &admin, None).await;
    assert_eq!(st["recent_fires"].as_array().unwrap().len(), 3, "{st}");

    let letters = dead_letters(bus, 2).await;
    assert!(!more_dead_letters_than(bus, 2).await, "{letters:?}");
    let odd = letter(&letters, "for the unknown type", |l| l.subject == subject);
    assert!(
        odd.reason.contains("io.opsconductor.schedule.exploded.v1"),
        "{}",
        odd.reason
    );
    let broken = letter(&letters, "for the malformed fire", |l| {
        l.payload.contains("not-a-uuid")
    });
    assert_eq!(broken.origin, "recorder-schedules");
    let metrics = crate::harness::http()
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"opsc_schedule_fires_recorded_total{kind="fired"} 1"#,
        r#"opsc_schedule_fires_recorded_total{kind="skipped"} 1"#,
        r#"opsc_schedule_fires_recorded_total{kind="misfired"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    api.stop().await;
}
