//! A schedule's secret parameter values: sealed by the vault at rest (the
//! envelope of a run's secret parameters, bound to the schedule's id), and
//! sealed for the api's own intake in the KV document, bound to the seal
//! context of the run intents the scheduler builds from it — so the
//! scheduler carries them and cannot read them, and they open only for an
//! intent of the schedule's job.

use std::collections::BTreeMap;

use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use serde_json::Value;
use uuid::Uuid;

use super::ScheduleError;
use crate::core::Core;
use crate::store::schedule;
use crate::vault;

/// Vault record kind of a schedule's secret parameters.
const KIND: &str = "schedule-parameters";

/// The secret columns of a row.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    /// The sealed JSON object.
    pub parameters: Option<Vec<u8>>,
    /// Its wrapped data key.
    pub dek: Option<Vec<u8>>,
    /// The key-encryption key's id.
    pub kek_id: Option<String>,
}

/// Seals `secret` for the row `id` (nothing when there is none).
pub(crate) fn seal(
    core: &Core,
    id: Uuid,
    secret: &BTreeMap<String, Value>,
) -> Result<Columns, ScheduleError> {
    if secret.is_empty() {
        return Ok(Columns::default());
    }
    let bytes = serde_json::to_vec(secret).map_err(|e| ScheduleError::Broken(e.to_string()))?;
    let sealed = vault::seal(&core.vault, id, KIND, &bytes);
    Ok(Columns {
        parameters: Some(sealed.sealed),
        dek: Some(sealed.wrapped_dek),
        kek_id: Some(sealed.kek_id),
    })
}

/// The secret values a row holds (none when it holds none).
pub(crate) fn open(
    core: &Core,
    row: &schedule::Model,
) -> Result<BTreeMap<String, Value>, ScheduleError> {
    let (Some(sealed), Some(dek), Some(kek)) =
        (&row.secret_parameters, &row.secret_dek, &row.secret_kek_id)
    else {
        return Ok(BTreeMap::new());
    };
    let envelope = vault::Sealed {
        sealed: sealed.clone(),
        wrapped_dek: dek.clone(),
        kek_id: kek.clone(),
    };
    let bytes = vault::open(&core.vault, row.id, KIND, &envelope).map_err(|e| {
        ScheduleError::Broken(format!(
            "the secret parameters of schedule {} do not open: {e}",
            row.id
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ScheduleError::Broken(format!(
            "the secret parameters of schedule {} are unreadable: {e}",
            row.id
        ))
    })
}

/// The seal context of the run intents of schedule `schedule_id` of `job_id`.
pub(crate) fn intent_context(schedule_id: Uuid, job_id: Uuid) -> String {
    RunIntent {
        job_id: Some(job_id),
        job_name: None,
        job_version: None,
        parameters: BTreeMap::new(),
        sealed_parameters: None,
        targets: None,
        trigger: Trigger::new(TriggerKind::Schedule, schedule_id.to_string()),
        idempotency_key: None,
        fence: None,
        retry_of: None,
        parameters_from: None,
    }
    .seal_context()
}

/// `secret` sealed for the api's intake, for the run intents of a
/// schedule of `job_id` (nothing when there is none).
pub(crate) fn for_intake(
    core: &Core,
    schedule_id: Uuid,
    job_id: Uuid,
    secret: &BTreeMap<String, Value>,
) -> Result<Option<String>, ScheduleError> {
    if secret.is_empty() {
        return Ok(None);
    }
    let bytes = serde_json::to_vec(secret).map_err(|e| ScheduleError::Broken(e.to_string()))?;
    Ok(Some(
        core.sealer
            .seal_intake(&bytes, &intent_context(schedule_id, job_id)),
    ))
}
