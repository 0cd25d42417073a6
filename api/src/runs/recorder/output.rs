//! The output recorder: live output lines (`<p>.log.>`) into `run_output`,
//! a batch per statement, idempotent by (run, step, target, line number).

use std::sync::Arc;

use opsc_proto::CloudEvent;
use opsc_proto::events::OutputLine;
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, BatchHandler, Delivery, Options, Outcome};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::isolate;
use crate::core::Core;
use crate::store::jsonb::storable;

/// Lines written in one statement at most.
const BATCH: usize = 1024;

/// Records output lines until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::RECORDER_OUTPUT) else {
        tracing::error!("The topology declares no output recorder consumer.");
        return;
    };
    consume::run_batches(
        core.bus.clone(),
        Options::new(spec).concurrency(2).batch(BATCH),
        Arc::new(Output { core }),
        shutdown,
    )
    .await;
}

#[derive(Debug)]
struct Output {
    core: Core,
}

impl BatchHandler<CloudEvent<OutputLine>> for Output {
    async fn handle(&self, batch: &[Delivery<CloudEvent<OutputLine>>]) -> Vec<Outcome> {
        match self.write(batch).await {
            Ok(()) => vec![Outcome::Ack; batch.len()],
            Err(e) => {
                let what = "output not recorded";
                isolate::one_by_one(batch, &e, what, |one| self.write(one))
                    .await
                    .0
            }
        }
    }
}

impl Output {
    /// Writes the lines of `batch` in one statement.
    async fn write(
        &self,
        batch: &[Delivery<CloudEvent<OutputLine>>],
    ) -> Result<(), sea_orm::DbErr> {
        let rows: Vec<Value> = batch
            .iter()
            .map(|d| {
                let l = &d.message.data;
                json!({"run_id": l.run_id, "step_id": l.step_id,
                       "target_key": l.target_id.unwrap_or(uuid::Uuid::nil()),
                       "line_no": l.line_no, "stream": l.stream, "text": l.text, "at": d.message.time})
            })
            .collect();
        let runs = super::project::uuid_array(
            &batch
                .iter()
                .map(|d| d.message.data.run_id)
                .collect::<std::collections::BTreeSet<_>>(),
        );
        // Lines of a run that does not exist (withdrawn) are dropped by the
        // join; the ids let it look the runs up by key.
        self.core
            .db()
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO run_output (run_id, step_id, target_key, line_no, stream, text, at)
                 SELECT x.run_id, x.step_id, x.target_key, x.line_no, x.stream, x.text, x.at
                 FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, step_id text, target_key uuid,
                      line_no bigint, stream text, text text, at timestamptz)
                 JOIN runs r ON r.id = x.run_id AND r.id = ANY($2::uuid[])
                 ON CONFLICT DO NOTHING",
                vec![storable(json!(rows)).into(), runs.into()],
            ))
            .await?;
        Ok(())
    }
}
