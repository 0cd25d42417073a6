//! `opsconductor server scheduler` replicas on an api's bus, and the runs
//! their schedules made.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, Statement};

use super::{ApiServer, Opsc, env_of, free_port, shared_nats_url};

impl ApiServer {
    /// Starts a scheduler replica on this installation's bus and waits
    /// until it is ready.
    pub async fn start_scheduler(&self, extra: &[(&str, &str)]) -> Opsc {
        let health = format!("127.0.0.1:{}", free_port());
        let nats = self
            .env
            .get("OPSC_NATS_URL")
            .cloned()
            .unwrap_or_else(shared_nats_url);
        let mut env = env_of(&[
            ("OPSC_NATS_PREFIX", self.prefix.to_string()),
            ("OPSC_NATS_URL", nats),
            ("OPSC_SCHEDULER_HEALTH_ADDR", health.clone()),
            ("OPSC_LOG_LEVEL", "info,opsc_scheduler=debug".to_owned()),
        ]);
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let p = Opsc::spawn(&["server", "scheduler"], &env);
        let ready = format!("http://{health}/readyz");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while super::status_of(&ready).await != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "scheduler not ready: {}",
                p.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        p
    }

    /// The runs a schedule made, by fire instant (from their intent ids,
    /// `bus:schedule:<id>:<instant>`), with how many runs each instant has.
    pub async fn schedule_runs(&self, schedule: &str) -> BTreeMap<DateTime<Utc>, u64> {
        let db = self.db.as_ref().expect("a database").connect().await;
        let rows = db
            .query_all(Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT intent_id FROM runs WHERE intent_id LIKE 'bus:schedule:{schedule}:%'"
                ),
            ))
            .await
            .expect("runs");
        let mut by_instant = BTreeMap::new();
        for row in rows {
            let id: String = row.try_get("", "intent_id").expect("intent_id");
            let at = id
                .strip_prefix(&format!("bus:schedule:{schedule}:"))
                .expect("an instant in the intent id");
            let at = DateTime::parse_from_rfc3339(at)
                .expect("an RFC 3339 instant")
                .with_timezone(&Utc);
            *by_instant.entry(at).or_insert(0) += 1;
        }
        by_instant
    }
}
