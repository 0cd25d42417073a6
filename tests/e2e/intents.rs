//! Run intents published straight onto `<p>.cmd.run.request`, as the
//! scheduler and integrators do: one run per intent however often it
//! arrives, the same run as the API would start, and every intent that
//! cannot be admitted in the dead-letter stream with its reason — with
//! nothing else changed.

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, TargetSelection, Trigger, TriggerKind};
use opsc_proto::events::RunEvent;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::{create_job, steps, wait_end};
use crate::harness::{ApiServer, Opsc, TEST_MASTER_KEY, env_of, test_bus, wait_until};

fn intent(job: &str, who: Option<&str>, key: Option<&str>) -> RunIntent {
    let mut parameters = std::collections::BTreeMap::new();
    if let Some(w) = who {
        parameters.insert("who".to_owned(), json!(w));
    }
    let mut trigger = Trigger::new(TriggerKind::Integration, "ci-pipeline");
    trigger.origin = Some("integration:e2e".to_owned());
    RunIntent {
        job_id: Some(job.parse().unwrap()),
        job_name: None,
        job_version: None,
        parameters,
        sealed_parameters: None,
        targets: None,
        trigger,
        idempotency_key: key.map(str::to_owned),
        fence: None,
        retry_of: None,
        parameters_from: None,
    }
}

/// The intake key, as an integrator gets it, and a value sealed with it.
async fn seal_for_intake(context: &str, plain: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut key = Opsc::spawn(
        &["keys", "seal-key", "--intake"],
        &env_of(&[("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned())]),
    );
    assert_eq!(key.wait().await, Some(0), "{}", key.output());
    let line = key
        .output()
        .lines()
        .rfind(|l| l.trim().len() == 44)
        .unwrap()
        .trim()
        .to_owned();
    let file = dir.path().join("intake.key");
    std::fs::write(&file, line).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsconductor"))
        .args(["keys", "seal", "--key-file"])
        .arg(&file)
        .args(["--context", context])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(plain.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn intents_on_the_bus_make_one_run_each_and_bad_ones_are_dead_lettered() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, json!({
        "name": "from-the-bus",
        "parameters": {
            "who": {"type": "string", "required": true},
            "token": {"type": "secret"}
        },
        "steps": [{"id": "hi", "type": "local.exec", "with": {"command": "echo hi {{ who }} token={{ params.token }}"}}]
    }))
    .await;
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;

    // Keyed: published five times (twice with one envelope id, three times
    // with fresh ones): one run.
    let keyed = CloudEvent::new(
        "/e2e",
        intent(&job, Some("keyed"), Some("nightly:2026-12-01")),
    );
    for _ in 0..2 {
        bus.publish(&keyed).await.unwrap();
    }
    for _ in 0..3 {
        let again = CloudEvent::new("/e2e", keyed.data.clone());
        bus.publish(&again).await.unwrap();
    }
    // Unkeyed, by name: each envelope is its own intent.
    let mut by_name = intent(&job, Some("named"), None);
    by_name.job_id = None;
    by_name.job_name = Some("from-the-bus".to_owned());
    let named = CloudEvent::new("/e2e", by_name);
    bus.publish(&named).await.unwrap();
    // A secret parameter, sealed for the api's intake.
    let canary = "intake-canary-51c2";
    let mut sealed = intent(&job, Some("sealed"), Some("sealed-1"));
    sealed.sealed_parameters = Some(
        seal_for_intake(
            &sealed.seal_context(),
            &json!({"token": canary}).to_string(),
        )
        .await,
    );
    bus.publish(&CloudEvent::new("/e2e", sealed)).await.unwrap();

    // What cannot be admitted.
    let unknown_job = {
        let mut i = intent(
            &uuid::Uuid::now_v7().to_string(),
            Some("x"),
            Some("bad-job"),
        );
        i.trigger.origin = None;
        i
    };
    let missing_param = intent(&job, None, Some("bad-param"));
    let mut unknown_target = intent(&job, Some("x"), Some("bad-target"));
    let ghost = uuid::Uuid::now_v7();
    unknown_target.targets = Some(TargetSelection {
        targets: vec![ghost],
        ..Default::default()
    });
    let mut as_a_person = intent(&job, Some("x"), Some("bad-kind"));
    as_a_person.trigger.kind = TriggerKind::Manual;
    let mut clear_secret = intent(&job, Some("x"), Some("bad-secret"));
    clear_secret
        .parameters
        .insert("token".to_owned(), json!("cleartext-canary-9d0e"));
    let mut wrong_seal = intent(&job, Some("x"), Some("bad-seal"));
    wrong_seal.sealed_parameters =
        Some(seal_for_intake("run-intent/job:someone-else", r#"{"token": "t"}"#).await);
    for bad in [
        unknown_job,
        missing_param,
        unknown_target,
        as_a_person,
        clear_secret,
        wrong_seal,
    ] {
        bus.publish(&CloudEvent::new("/e2e", bad)).await.unwrap();
    }
    bus.js
        .publish(bus.subjects.run_request(), "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();

    // Everything was handled: nothing waits or is in flight at the intake.
    let cmd = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    wait_until("the intake to drain", Duration::from_secs(30), || {
        let cmd = cmd.clone();
        async move {
            let mut c: async_nats::jetstream::consumer::PullConsumer =
                cmd.get_consumer("dispatcher").await.unwrap();
            let info = c.info().await.unwrap();
            info.num_pending == 0 && info.num_ack_pending == 0
        }
    })
    .await;

    // Three runs: keyed, named, sealed.
    let (_, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={job}"),
            Some(&admin),
            None,
        )
        .await;
    let runs = list["items"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 3, "{list}");
    for r in &runs {
        let id = r["id"].as_str().unwrap();
        let end = wait_end(&api, &admin, id).await;
        assert_eq!(end["status"], "succeeded", "{end}");
        assert_eq!(end["trigger"]["kind"], "integration");
        assert_eq!(end["trigger"]["origin"], "integration:e2e");
    }
    let sealed_run = runs
        .iter()
        .find(|r| r["parameters"]["who"] == "sealed")
        .expect("the sealed intent's run");
    assert_eq!(sealed_run["parameters"]["token"], "***");
    let items = steps(&api, &admin, sealed_run["id"].as_str().unwrap()).await;
    assert_eq!(
        items[0]["stdout"],
        json!(["hi sealed token=***"]),
        "the secret reached the step, redacted"
    );

    // The producer finds its run by its key in the accepted event.
    let events = bus.js.get_stream(&bus.streams.events).await.unwrap();
    let keyed_run = runs
        .iter()
        .find(|r| r["parameters"]["who"] == "keyed")
        .unwrap();
    let accepted = events
        .get_last_raw_message_by_subject(
            &bus.subjects
                .run_event(keyed_run["id"].as_str().unwrap(), "accepted"),
        )
        .await
        .unwrap();
    match RunEvent::decode(&accepted.payload).unwrap().data {
        RunEvent::Accepted(a) => assert_eq!(a.intent_id.as_deref(), Some("nightly:2026-12-01")),
        other => panic!("{other:?}"),
    }

    // Seven dead letters, each with its reason; the clear secret is not kept.
    let letters = dead_letters(bus, 7).await;
    assert!(
        !more_dead_letters_than(bus, 7).await,
        "exactly seven dead letters"
    );
    let reason_of = |needle: &str| {
        letter(&letters, &format!("for {needle}"), |l| {
            l.payload.contains(needle)
        })
    };
    assert!(
        reason_of("bad-job").reason.contains("no job"),
        "{:?}",
        reason_of("bad-job")
    );
    assert!(reason_of("bad-param").reason.contains("/parameters/who"));
    assert!(reason_of("bad-target").reason.contains(&ghost.to_string()));
    assert!(reason_of("bad-kind").reason.contains("set by the api only"));
    assert!(reason_of("bad-seal").reason.contains("sealed_parameters"));
    let bad_seal = reason_of("bad-seal");
    assert!(
        bad_seal
            .payload
            .contains(r#""sealed_parameters":"[sealed]""#),
        "sealed values are not kept: {}",
        bad_seal.payload
    );
    let clear = reason_of("bad-secret");
    assert!(
        clear.reason.contains("\"token\" is secret"),
        "{}",
        clear.reason
    );
    assert!(
        !clear.payload.contains("cleartext-canary-9d0e"),
        "{}",
        clear.payload
    );
    let garbage = letters.iter().find(|l| l.payload == "{not json").unwrap();
    assert!(
        garbage.reason.starts_with("undecodable"),
        "{}",
        garbage.reason
    );
    for l in &letters {
        assert_eq!(l.origin, "dispatcher");
        assert_eq!(l.subject, bus.subjects.run_request());
    }

    // Nothing else changed: no other runs, and no secret anywhere on the bus.
    let (_, all) = api
        .call(Method::GET, "/api/v1/runs", Some(&admin), None)
        .await;
    assert_eq!(all["total"], 3, "{all}");
    let captured: Value = json!(letters);
    assert!(!captured.to_string().contains(canary));

    // And the pipeline's metrics say so.
    let metrics = crate::harness::http()
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"opsc_runs_admitted_total{trigger="integration"} 3"#,
        r#"opsc_run_intents_refused_total{origin="bus"} 6"#,
        r#"opsc_dead_letters_total{origin="dispatcher"} 7"#,
        r#"opsc_runs_finished_total{trigger="integration",status="succeeded"} 3"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    assert!(
        metrics.contains(
            r#"opsc_step_duration_seconds_count{step_type="local.exec",status="succeeded"} 3"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"opsc_consumer_lag_seconds_count{durable="dispatcher"}"#));
}

#[tokio::test]
async fn a_reused_key_and_a_sealed_plain_parameter_are_refused_and_nothing_is_kept() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "reuse",
            "parameters": {"who": {"type": "string"}, "token": {"type": "secret"}},
            "steps": [{"id": "hi", "type": "local.exec", "with": {"command": "echo {{ who }}"}}]
        }),
    )
    .await;
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let runs_of_job = || async {
        let (_, page) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs?job_id={job}"),
                Some(&admin),
                None,
            )
            .await;
        page["total"].as_u64().unwrap_or(0)
    };

    bus.publish(&CloudEvent::new(
        "/e2e",
        intent(&job, Some("first"), Some("k-1")),
    ))
    .await
    .unwrap();
    wait_until("the first run", Duration::from_secs(30), || async {
        runs_of_job().await == 1
    })
    .await;

    // Another producer reusing the key for other parameters gets no run,
    // and in particular not the first producer's.
    bus.publish(&CloudEvent::new(
        "/e2e",
        intent(&job, Some("second-canary"), Some("k-1")),
    ))
    .await
    .unwrap();
    // A value sealed for a parameter that is not secret would be stored in
    // the clear: refused.
    let mut plain = intent(&job, None, Some("sealed-plain"));
    let sealed = seal_for_intake(&plain.seal_context(), r#"{"who": "sealed-canary"}"#).await;
    plain.sealed_parameters = Some(sealed.clone());
    bus.publish(&CloudEvent::new("/e2e", plain)).await.unwrap();

    let letters = dead_letters(bus, 2).await;
    let reused = letter(&letters, "for the reused key", |l| {
        l.payload.contains("k-1")
    });
    for (said, needle) in [
        (&reused.reason, "idempotency key was used before"),
        (&reused.payload, "[redacted]"),
    ] {
        assert!(said.contains(needle), "{needle} in {said}");
    }
    assert!(
        !reused.payload.contains("second-canary"),
        "{}",
        reused.payload
    );
    let plain = letter(&letters, "for the sealed plain parameter", |l| {
        l.payload.contains("sealed-plain")
    });
    assert!(
        plain.reason.contains("not a secret parameter"),
        "{}",
        plain.reason
    );
    assert!(!plain.payload.contains(&sealed), "{}", plain.payload);
    assert_eq!(runs_of_job().await, 1, "nothing else was started");
}
