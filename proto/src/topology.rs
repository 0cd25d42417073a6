//! The bus topology, declared once: streams, durable consumers and KV buckets.
//!
//! Every role provisions this declaration idempotently at start (see
//! `opsc-runtime`), so any role may start first and several may start at once.
//! The declaration is plain data; turning it into JetStream API calls is the
//! runtime's job.

use std::time::Duration;

use crate::{Prefix, Subjects};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// How a stream keeps messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Each message is removed once a consumer acknowledged it (commands).
    WorkQueue,
    /// Messages are kept until the age or size limit (events, output).
    Limits,
}

/// Default `base_bytes` of [`Topology::for_prefix`]: 1 GiB.
pub const DEFAULT_STREAM_BYTES: i64 = 1024 * 1024 * 1024;

/// One JetStream stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    /// Stream name, e.g. `OPSC_CMD`.
    pub name: String,
    /// What the stream holds, for humans and `stream info`.
    pub description: &'static str,
    /// Subjects captured by the stream.
    pub subjects: Vec<String>,
    /// Retention policy.
    pub retention: Retention,
    /// Oldest message kept.
    pub max_age: Duration,
    /// Size limit in bytes (oldest messages go first).
    pub max_bytes: i64,
    /// Window in which a repeated `Nats-Msg-Id` is dropped.
    pub duplicate_window: Duration,
}

/// One durable pull consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerSpec {
    /// The stream it reads.
    pub stream: String,
    /// Durable name.
    pub name: String,
    /// What it is for.
    pub description: &'static str,
    /// The one subject it filters on (NATS 2.9 allows one).
    pub filter_subject: String,
    /// How long a delivered message may stay unacknowledged before redelivery.
    pub ack_wait: Duration,
    /// Deliveries before a message is given up (then dead-lettered).
    pub max_deliver: i64,
    /// Unacknowledged messages in flight at most.
    pub max_ack_pending: i64,
}

/// One KV bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketSpec {
    /// Bucket name, e.g. `opsc_schedules`.
    pub name: String,
    /// What it holds.
    pub description: &'static str,
    /// Revisions kept per key.
    pub history: i64,
    /// Entries older than this are removed (zero: kept).
    pub max_age: Duration,
}

impl BucketSpec {
    /// The name of the stream behind the bucket (`KV_<bucket>`).
    pub fn stream_name(&self) -> String {
        format!("KV_{}", self.name)
    }

    /// The subjects of the stream behind the bucket (`$KV.<bucket>.>`).
    pub fn stream_subject(&self) -> String {
        format!("$KV.{}.>", self.name)
    }
}

/// The whole declared topology of one installation.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Streams.
    pub streams: Vec<StreamSpec>,
    /// Durable consumers shared by every installation role.
    pub consumers: Vec<ConsumerSpec>,
    /// KV buckets.
    pub buckets: Vec<BucketSpec>,
}

/// Names of the streams of one installation.
#[derive(Debug, Clone)]
pub struct StreamNames {
    /// Commands (work queue).
    pub commands: String,
    /// Events (limits).
    pub events: String,
    /// Live output (limits, short).
    pub logs: String,
    /// Dead letters (limits).
    pub dead_letters: String,
}

impl StreamNames {
    /// Stream names for a prefix: `<PREFIX>_CMD`, `_EVT`, `_LOG`, `_DLQ`.
    pub fn new(prefix: &Prefix) -> Self {
        let p = prefix.upper();
        Self {
            commands: format!("{p}_CMD"),
            events: format!("{p}_EVT"),
            logs: format!("{p}_LOG"),
            dead_letters: format!("{p}_DLQ"),
        }
    }
}

/// Durable consumer names; stable, because integrators see them in monitoring.
pub mod consumer {
    /// api: turns run intents into dispatches.
    pub const DISPATCHER: &str = "dispatcher";
    /// api: projects events into PostgreSQL.
    pub const RECORDER: &str = "recorder";
    /// api: live output into PostgreSQL.
    pub const RECORDER_OUTPUT: &str = "recorder-output";
    /// scheduler: reacts to finished runs (dependencies, retries).
    pub const SCHEDULER: &str = "scheduler";
    /// api: schedule events (fires, skips, misfires) into PostgreSQL.
    pub const RECORDER_SCHEDULES: &str = "recorder-schedules";
    /// notifier: notices (the facts notifications are about).
    pub const NOTIFIER_EVENTS: &str = "notifier-events";
    /// api: finished runs into notices.
    pub const NOTICES_FINISHED: &str = "notices-finished";
    /// api: started runs into notices.
    pub const NOTICES_STARTED: &str = "notices-started";
    /// api: dead letters into notices.
    pub const NOTICES_DEAD_LETTERS: &str = "notices-dead-letters";
    /// api: notification attempts into PostgreSQL (history, dead-letter list).
    pub const RECORDER_NOTIFICATIONS: &str = "recorder-notifications";
    /// notifier: explicit notification requests.
    pub const NOTIFIER_COMMANDS: &str = "notifier-commands";

    /// Workers of one pool share this durable consumer.
    pub fn dispatch(pool: &str) -> String {
        format!("dispatch-{pool}")
    }
}

/// Bucket suffixes; the full name is `<prefix>_<suffix>`.
pub mod bucket {
    /// Schedules, kept in step with PostgreSQL by the api.
    pub const SCHEDULES: &str = "schedules";
    /// Maintenance windows.
    pub const WINDOWS: &str = "windows";
    /// Notification channels, rules and preferences.
    pub const NOTIFY_CONFIG: &str = "notify_config";
    /// The notifier's state: job streaks, throttles, open alerts, held digests, replicas.
    pub const NOTIFY_STATE: &str = "notify_state";
    /// Delivery keys of sent notifications (kept seven days).
    pub const NOTIFY_SENT: &str = "notify_sent";
    /// Leader leases (scheduler replicas, reaper).
    pub const LEASES: &str = "leases";
    /// How far the scheduler has handled each schedule (its cursors).
    pub const SCHEDULER_STATE: &str = "scheduler_state";
}

impl Topology {
    /// The topology shared by every role of the installation with this prefix.
    ///
    /// Per-pool dispatch consumers are not included: a worker declares its
    /// own pool's consumer with [`Topology::dispatch_consumer`].
    ///
    /// `base_bytes` sizes the streams: commands and output get it, events
    /// four times it, dead letters a quarter. JetStream reserves these sizes
    /// on the server up front, so they bound how many installations fit.
    pub fn for_prefix(prefix: &Prefix, base_bytes: i64) -> Self {
        let subjects = Subjects::new(prefix.clone());
        let names = StreamNames::new(prefix);
        let gib = base_bytes.max(1024 * 1024);
        let streams = vec![
            StreamSpec {
                name: names.commands.clone(),
                description: "Commands: run intents, dispatches, notification requests. Work queue.",
                subjects: vec![subjects.commands_all()],
                retention: Retention::WorkQueue,
                max_age: 7 * DAY,
                max_bytes: gib,
                duplicate_window: 2 * MINUTE,
            },
            StreamSpec {
                name: names.events.clone(),
                description: "Events: runs, steps, audit, schedules, notifications. CloudEvents JSON.",
                subjects: vec![subjects.events_all()],
                retention: Retention::Limits,
                max_age: 30 * DAY,
                max_bytes: 4 * gib,
                duplicate_window: 2 * MINUTE,
            },
            StreamSpec {
                name: names.logs.clone(),
                description: "Live step output, kept briefly; the recorder stores it durably.",
                subjects: vec![subjects.logs_all()],
                retention: Retention::Limits,
                max_age: DAY,
                max_bytes: gib,
                duplicate_window: 2 * MINUTE,
            },
            StreamSpec {
                name: names.dead_letters.clone(),
                description: "Dead letters: messages a consumer could not process, with the reason.",
                subjects: vec![subjects.dead_letters_all()],
                retention: Retention::Limits,
                max_age: 30 * DAY,
                max_bytes: gib / 4,
                duplicate_window: 2 * MINUTE,
            },
        ];
        let consumers = vec![
            ConsumerSpec {
                stream: names.commands.clone(),
                name: consumer::DISPATCHER.to_owned(),
                description: "api: run intents to dispatches",
                filter_subject: subjects.run_request(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 10,
                max_ack_pending: 1000,
            },
            ConsumerSpec {
                stream: names.commands.clone(),
                name: consumer::NOTIFIER_COMMANDS.to_owned(),
                description: "notifier: notification requests",
                filter_subject: subjects.notify(),
                ack_wait: MINUTE,
                max_deliver: 10,
                max_ack_pending: 256,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::RECORDER.to_owned(),
                description: "api: run events into PostgreSQL",
                filter_subject: subjects.run_events_all(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 5000,
            },
            ConsumerSpec {
                stream: names.logs.clone(),
                name: consumer::RECORDER_OUTPUT.to_owned(),
                description: "api: live output into PostgreSQL",
                filter_subject: subjects.logs_all(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 20_000,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::RECORDER_SCHEDULES.to_owned(),
                description: "api: schedule fires, skips and misfires into PostgreSQL",
                filter_subject: subjects.schedule_events_all(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 5000,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::SCHEDULER.to_owned(),
                description: "scheduler: finished runs for dependencies and retries",
                filter_subject: subjects.run_events_of_type("finished"),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 10,
                max_ack_pending: 1000,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::NOTIFIER_EVENTS.to_owned(),
                description: "notifier: notices for notification rules",
                filter_subject: subjects.notice_events_all(),
                ack_wait: MINUTE,
                max_deliver: 12,
                max_ack_pending: 1000,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::NOTICES_FINISHED.to_owned(),
                description: "api: finished runs into notices",
                filter_subject: subjects.run_events_of_type("finished"),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 2000,
            },
            ConsumerSpec {
                stream: names.events.clone(),
                name: consumer::NOTICES_STARTED.to_owned(),
                description: "api: started runs into notices",
                filter_subject: subjects.run_events_of_type("started"),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 2000,
            },
            ConsumerSpec {
                stream: names.events,
                name: consumer::RECORDER_NOTIFICATIONS.to_owned(),
                description: "api: notification attempts into PostgreSQL",
                filter_subject: subjects.notification_events_all(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 20,
                max_ack_pending: 5000,
            },
            ConsumerSpec {
                stream: names.dead_letters,
                name: consumer::NOTICES_DEAD_LETTERS.to_owned(),
                description: "api: dead letters into notices",
                filter_subject: subjects.dead_letters_all(),
                ack_wait: 30 * Duration::from_secs(1),
                max_deliver: 5,
                max_ack_pending: 500,
            },
        ];
        let bucket = |suffix: &str, description, history, max_age| BucketSpec {
            name: format!("{prefix}_{suffix}"),
            description,
            history,
            max_age,
        };
        let buckets = vec![
            bucket(
                bucket::SCHEDULES,
                "Schedules, mirrored from PostgreSQL by the api.",
                1,
                Duration::ZERO,
            ),
            bucket(
                bucket::WINDOWS,
                "Maintenance windows, mirrored by the api.",
                1,
                Duration::ZERO,
            ),
            bucket(
                bucket::NOTIFY_CONFIG,
                "Notification channels, rules and preferences.",
                1,
                Duration::ZERO,
            ),
            bucket(
                bucket::NOTIFY_STATE,
                "The notifier's state: streaks, throttles, open alerts, held digests.",
                1,
                Duration::ZERO,
            ),
            bucket(
                bucket::NOTIFY_SENT,
                "Delivery keys of sent notifications, so a redelivery never sends twice.",
                1,
                7 * DAY,
            ),
            bucket(
                bucket::LEASES,
                "Leader leases; an entry not renewed expires.",
                1,
                HOUR,
            ),
            bucket(
                bucket::SCHEDULER_STATE,
                "The scheduler's cursors: how far each schedule has been handled.",
                1,
                Duration::ZERO,
            ),
        ];
        Self {
            streams,
            consumers,
            buckets,
        }
    }

    /// The shared durable consumer named `name` (see [`consumer`]).
    pub fn shared_consumer(prefix: &Prefix, name: &str) -> Option<ConsumerSpec> {
        Self::for_prefix(prefix, DEFAULT_STREAM_BYTES)
            .consumers
            .into_iter()
            .find(|c| c.name == name)
    }

    /// The durable consumer the workers of `pool` share.
    pub fn dispatch_consumer(prefix: &Prefix, pool: &str) -> ConsumerSpec {
        ConsumerSpec {
            stream: StreamNames::new(prefix).commands,
            name: consumer::dispatch(pool),
            description: "workers of one pool: dispatches to execute",
            filter_subject: Subjects::new(prefix.clone()).run_dispatch(pool),
            ack_wait: 30 * Duration::from_secs(1),
            max_deliver: 5,
            max_ack_pending: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_names_derive_from_the_prefix() {
        let p = Prefix::parse("t9").unwrap();
        let t = Topology::for_prefix(&p, DEFAULT_STREAM_BYTES);
        for s in &t.streams {
            assert!(s.name.starts_with("T9_"), "{}", s.name);
            assert!(s.subjects.iter().all(|x| x.starts_with("t9.")));
        }
        for c in &t.consumers {
            assert!(c.filter_subject.starts_with("t9."));
        }
        for b in &t.buckets {
            assert!(b.name.starts_with("t9_"));
            assert_eq!(b.stream_name(), format!("KV_{}", b.name));
        }
    }

    #[test]
    fn work_queue_consumers_do_not_overlap() {
        // A work-queue stream refuses consumers whose filters overlap.
        let p = Prefix::default();
        let t = Topology::for_prefix(&p, DEFAULT_STREAM_BYTES);
        let cmd = StreamNames::new(&p).commands;
        let mut filters: Vec<String> = t
            .consumers
            .iter()
            .filter(|c| c.stream == cmd)
            .map(|c| c.filter_subject.clone())
            .collect();
        filters.push(Topology::dispatch_consumer(&p, "default").filter_subject);
        let before = filters.len();
        filters.sort();
        filters.dedup();
        assert_eq!(before, filters.len());
        assert!(filters.iter().all(|f| !f.contains('>') && !f.contains('*')));
    }
}
