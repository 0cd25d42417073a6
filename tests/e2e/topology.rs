//! Topology provisioning: idempotent, concurrent-safe, updates changed limits.

use std::time::Duration;

use async_nats::jetstream::stream::RetentionPolicy;
use futures::StreamExt as _;
use opsc_proto::topology::Topology;

use crate::harness::{cleanup_prefix, shared_nats_url, test_bus, unique_prefix};

#[tokio::test]
async fn provisioning_twice_changes_nothing_and_declares_everything() {
    let prefix = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &prefix).await;
    let bus = &rt.bus;
    let topology = Topology::for_prefix(&prefix, crate::harness::TEST_STREAM_BYTES);
    let before = stream_states(bus, &topology).await;
    opsc_runtime::bus::provision(bus, &topology).await.unwrap();
    opsc_runtime::bus::provision(bus, &topology).await.unwrap();
    assert_eq!(stream_states(bus, &topology).await, before);

    for spec in &topology.streams {
        let mut s = bus.js.get_stream(&spec.name).await.unwrap();
        let info = s.info().await.unwrap();
        assert_eq!(info.config.subjects, spec.subjects);
        assert_eq!(info.config.max_age, spec.max_age);
        assert_eq!(info.config.duplicate_window, spec.duplicate_window);
        let expected = match spec.retention {
            opsc_proto::topology::Retention::WorkQueue => RetentionPolicy::WorkQueue,
            opsc_proto::topology::Retention::Limits => RetentionPolicy::Limits,
        };
        assert_eq!(info.config.retention, expected, "{}", spec.name);
    }
    for spec in &topology.consumers {
        let stream = bus.js.get_stream(&spec.stream).await.unwrap();
        let mut c: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer(&spec.name).await.unwrap();
        let info = c.info().await.unwrap();
        assert_eq!(info.config.filter_subject, spec.filter_subject);
        assert_eq!(info.config.max_deliver, spec.max_deliver);
    }
    cleanup_prefix(&bus.js, &prefix).await;
}

async fn stream_states(
    bus: &opsc_runtime::bus::Bus,
    topology: &Topology,
) -> Vec<(String, u64, usize)> {
    let mut out = Vec::new();
    let names = topology
        .streams
        .iter()
        .map(|s| s.name.clone())
        .chain(topology.buckets.iter().map(|b| b.stream_name()));
    for name in names {
        let mut s = bus.js.get_stream(&name).await.unwrap();
        let info = s.info().await.unwrap();
        out.push((name, info.state.messages, info.state.consumer_count));
    }
    out
}

#[tokio::test]
async fn concurrent_provisioning_from_many_processes_is_safe() {
    let prefix = unique_prefix();
    let url = shared_nats_url();
    // Eight "roles" start at once on a fresh prefix, each with its own connection.
    let starts = (0..8).map(|_| {
        let (url, prefix) = (url.clone(), prefix.clone());
        tokio::spawn(async move { test_bus(&url, &prefix).await })
    });
    let runtimes: Vec<_> = futures::future::join_all(starts)
        .await
        .into_iter()
        .map(|r| r.expect("no panic"))
        .collect();
    let bus = &runtimes[0].bus;
    let topology = Topology::for_prefix(&prefix, crate::harness::TEST_STREAM_BYTES);
    // And again, concurrently, on the now existing topology.
    let again = runtimes
        .iter()
        .map(|rt| opsc_runtime::bus::provision(&rt.bus, &topology));
    for r in futures::future::join_all(again).await {
        r.expect("provision again");
    }
    let names: Vec<String> = bus
        .js
        .stream_names()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    let own: Vec<_> = names
        .iter()
        .filter(|n| {
            n.starts_with(&format!("{}_", prefix.upper()))
                || n.starts_with(&format!("KV_{prefix}_"))
        })
        .collect();
    assert_eq!(
        own.len(),
        topology.streams.len() + topology.buckets.len(),
        "{own:?}"
    );
    for spec in &topology.consumers {
        let mut s = bus.js.get_stream(&spec.stream).await.unwrap();
        assert!(s.info().await.unwrap().state.consumer_count >= 1);
    }
    cleanup_prefix(&bus.js, &prefix).await;
}

#[tokio::test]
async fn a_stream_with_old_limits_is_updated_in_place() {
    let prefix = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &prefix).await;
    let bus = &rt.bus;
    let topology = Topology::for_prefix(&prefix, crate::harness::TEST_STREAM_BYTES);
    let events = topology
        .streams
        .iter()
        .find(|s| s.name == bus.streams.events)
        .unwrap();
    let mut cfg = bus
        .js
        .get_stream(&events.name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    cfg.max_age = Duration::from_secs(3600);
    bus.js.update_stream(cfg).await.unwrap();
    opsc_runtime::bus::provision(bus, &topology).await.unwrap();
    let info = bus
        .js
        .get_stream(&events.name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert_eq!(info.max_age, events.max_age);
    cleanup_prefix(&bus.js, &prefix).await;
}

#[tokio::test]
async fn a_consumer_whose_filter_changed_is_recreated_from_where_it_stood() {
    use futures::StreamExt as _;
    let prefix = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &prefix).await;
    let bus = &rt.bus;
    let topology = Topology::for_prefix(&prefix, crate::harness::TEST_STREAM_BYTES);
    let spec = topology
        .consumers
        .iter()
        .find(|c| c.name == opsc_proto::topology::consumer::RECORDER)
        .unwrap()
        .clone();
    // An older release's recorder: every event, three of them handled.
    let stream = bus.js.get_stream(&bus.streams.events).await.unwrap();
    stream.delete_consumer(&spec.name).await.unwrap();
    stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(spec.name.clone()),
            filter_subject: bus.subjects.events_all(),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    for i in 0..5 {
        let subject = bus.subjects.run_event(&format!("r{i}"), "started");
        bus.js
            .publish(subject, "{}".into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let old: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer(&spec.name).await.unwrap();
    let mut batch = old.fetch().max_messages(3).messages().await.unwrap();
    while let Some(m) = batch.next().await {
        m.unwrap().double_ack().await.unwrap();
    }

    opsc_runtime::bus::provision(bus, &topology).await.unwrap();
    let mut now: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer(&spec.name).await.unwrap();
    let info = now.info().await.unwrap();
    assert_eq!(info.config.filter_subject, spec.filter_subject);
    assert_eq!(
        info.num_pending, 2,
        "the two unhandled events remain, the three handled do not come back"
    );
    // Provisioning again changes nothing.
    opsc_runtime::bus::provision(bus, &topology).await.unwrap();
    assert_eq!(now.info().await.unwrap().num_pending, 2);
    cleanup_prefix(&bus.js, &prefix).await;
}

#[tokio::test]
async fn kv_buckets_work_on_this_server_version() {
    let prefix = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &prefix).await;
    let bus = &rt.bus;
    let kv = bus
        .js
        .get_key_value(format!("{prefix}_schedules"))
        .await
        .expect("bucket opens");
    let mut watch = kv.watch("s1").await.unwrap();
    let rev = kv.create("s1", "v1".into()).await.unwrap();
    assert!(
        kv.create("s1", "again".into()).await.is_err(),
        "create is exclusive"
    );
    let rev2 = kv.update("s1", "v2".into(), rev).await.unwrap();
    assert!(
        kv.update("s1", "stale".into(), rev).await.is_err(),
        "compare-and-set refuses a stale revision"
    );
    assert_eq!(kv.get("s1").await.unwrap().unwrap(), "v2");
    let first = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.revision, rev);
    let second = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.revision, rev2);
    cleanup_prefix(&bus.js, &prefix).await;
}

#[tokio::test]
async fn a_nats_without_jetstream_is_refused() {
    let nats = crate::harness::PrivateNats::start_without_jetstream().await;
    let cfg = opsc_runtime::config::NatsConfig {
        url: nats.url(),
        prefix: unique_prefix(),
        ..Default::default()
    };
    let metrics = opsc_runtime::Metrics::new("test");
    let err = opsc_runtime::bus::start(opsc_runtime::bus::StartOptions {
        nats: &cfg,
        roles: "test",
        extra_consumers: Vec::new(),
        metrics: &metrics,
        shutdown: tokio_util::sync::CancellationToken::new(),
    })
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("no JetStream"), "{err}");
}
