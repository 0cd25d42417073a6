//! Subject names, all derived from one [`Prefix`].
//!
//! Layout (with the default prefix `opsc`):
//!
//! | subject | what |
//! |---|---|
//! | `opsc.cmd.run.request` | run intents |
//! | `opsc.cmd.run.dispatch.<pool>` | dispatches to the workers of a pool |
//! | `opsc.cmd.notify` | notification requests |
//! | `opsc.evt.run.<run_id>.<type>` | run and step events |
//! | `opsc.evt.<area>.<id>.<type>` | audit, schedule, notification, target events |
//! | `opsc.log.<run_id>.<step>` | live step output |
//! | `opsc.dlq.<origin>` | dead letters: messages no consumer could process |
//! | `opsc.ctl.run.<run_id>.cancel` | cancel requests (core NATS) |
//! | `opsc.ctl.worker.heartbeat.<pool>` | worker heartbeats (core NATS) |
//! | `opsc.ctl.target.test.<pool>` | connection tests, request/reply (core NATS) |
//! | `opsc.ctl.auth.invalidate` | api replicas: forget a user's cached tokens (core NATS) |

use crate::Prefix;

/// Builds every subject of one installation.
#[derive(Debug, Clone)]
pub struct Subjects {
    prefix: Prefix,
}

impl Subjects {
    /// Subjects for the installation with this prefix.
    pub fn new(prefix: Prefix) -> Self {
        Self { prefix }
    }

    /// The prefix the subjects derive from.
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    fn join(&self, rest: &str) -> String {
        format!("{}.{rest}", self.prefix)
    }

    /// All commands (`<p>.cmd.>`), the subjects of the command stream.
    pub fn commands_all(&self) -> String {
        self.join("cmd.>")
    }

    /// Run intents from the api, the scheduler, dependencies and retries.
    pub fn run_request(&self) -> String {
        self.join("cmd.run.request")
    }

    /// Dispatches to the workers of one pool.
    pub fn run_dispatch(&self, pool: &str) -> String {
        self.join(&format!("cmd.run.dispatch.{pool}"))
    }

    /// Notification requests.
    pub fn notify(&self) -> String {
        self.join("cmd.notify")
    }

    /// All events (`<p>.evt.>`), the subjects of the event stream.
    pub fn events_all(&self) -> String {
        self.join("evt.>")
    }

    /// One event of one run: `<p>.evt.run.<run_id>.<event>`.
    pub fn run_event(&self, run_id: &str, event: &str) -> String {
        self.join(&format!("evt.run.{run_id}.{event}"))
    }

    /// Every event of one run.
    pub fn run_events(&self, run_id: &str) -> String {
        self.join(&format!("evt.run.{run_id}.>"))
    }

    /// Events of any run whose last token is `event` (e.g. `finished`).
    pub fn run_events_of_type(&self, event: &str) -> String {
        self.join(&format!("evt.run.*.{event}"))
    }

    /// Every run event of every run.
    pub fn run_events_all(&self) -> String {
        self.join("evt.run.>")
    }

    /// Every schedule event (`<p>.evt.schedule.>`).
    pub fn schedule_events_all(&self) -> String {
        self.join("evt.schedule.>")
    }

    /// Every notice (`<p>.evt.notice.>`): the facts notifications are about.
    pub fn notice_events_all(&self) -> String {
        self.join("evt.notice.>")
    }

    /// Every notification attempt (`<p>.evt.notification.>`).
    pub fn notification_events_all(&self) -> String {
        self.join("evt.notification.>")
    }

    /// The attempts of one notification (`<p>.evt.notification.<id>.*`).
    pub fn notification_events(&self, notification_id: &str) -> String {
        self.join(&format!("evt.notification.{notification_id}.*"))
    }

    /// An event outside runs: `<p>.evt.<area>.<id>.<event>`.
    pub fn area_event(&self, area: &str, id: &str, event: &str) -> String {
        self.join(&format!("evt.{area}.{id}.{event}"))
    }

    /// All live output (`<p>.log.>`), the subjects of the output stream.
    pub fn logs_all(&self) -> String {
        self.join("log.>")
    }

    /// Live output of every step of one run.
    pub fn run_logs(&self, run_id: &str) -> String {
        self.join(&format!("log.{run_id}.>"))
    }

    /// Live output of one step of one run.
    pub fn step_log(&self, run_id: &str, step: &str) -> String {
        self.join(&format!("log.{run_id}.{step}"))
    }

    /// All dead letters (`<p>.dlq.>`).
    pub fn dead_letters_all(&self) -> String {
        self.join("dlq.>")
    }

    /// Dead letters from one origin (a consumer name).
    pub fn dead_letter(&self, origin: &str) -> String {
        self.join(&format!("dlq.{origin}"))
    }

    /// Cancel request for one run (core NATS, not persisted).
    pub fn run_cancel(&self, run_id: &str) -> String {
        self.join(&format!("ctl.run.{run_id}.cancel"))
    }

    /// Cancel requests of every run (core NATS), for a worker's one subscription.
    pub fn run_cancels_all(&self) -> String {
        self.join("ctl.run.*.cancel")
    }

    /// Heartbeats of the workers of one pool (core NATS).
    pub fn worker_heartbeat(&self, pool: &str) -> String {
        self.join(&format!("ctl.worker.heartbeat.{pool}"))
    }

    /// Connection tests for the workers of one pool (core NATS request/reply).
    pub fn target_probe(&self, pool: &str) -> String {
        self.join(&format!("ctl.target.test.{pool}"))
    }

    /// Notices between api replicas to forget a user's cached tokens (core NATS).
    pub fn auth_invalidate(&self) -> String {
        self.join("ctl.auth.invalidate")
    }

    /// Heartbeats of every pool.
    pub fn worker_heartbeats_all(&self) -> String {
        self.join("ctl.worker.heartbeat.*")
    }
}

/// Whether `token` can stand as one subject token (a pool name, a run id).
pub fn is_valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_derive_from_the_prefix() {
        let s = Subjects::new(Prefix::parse("t1").unwrap());
        assert_eq!(s.run_request(), "t1.cmd.run.request");
        assert_eq!(s.run_dispatch("dmz"), "t1.cmd.run.dispatch.dmz");
        assert_eq!(s.run_event("r1", "finished"), "t1.evt.run.r1.finished");
        assert_eq!(s.step_log("r1", "build"), "t1.log.r1.build");
        assert_eq!(
            s.worker_heartbeat("default"),
            "t1.ctl.worker.heartbeat.default"
        );
    }

    #[test]
    fn tokens_exclude_wildcards_and_separators() {
        assert!(is_valid_token("default"));
        assert!(is_valid_token("site-2_dmz"));
        for bad in ["", "a.b", "*", ">", "a b"] {
            assert!(!is_valid_token(bad), "{bad:?}");
        }
    }
}
