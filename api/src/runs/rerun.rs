//! Re-runs: a run again, exactly as it was — the job version it ran (not
//! the job's current definition), its targets, its parameters — admitted
//! like any run ([`super::admit`]), by someone who may run the job now.
//!
//! Secret parameters are the exception. They are replayed only to the user
//! who started the run, on the same version: anyone else (an operator with a
//! grant, an admin re-running an operator's run, a run started from the bus)
//! gives them again, or the re-run is refused naming the missing ones
//! ([`AdmitError::SecretsRequired`]). Otherwise whoever may edit a job could
//! re-run someone else's run with their secret through a step of their own.

use std::collections::BTreeMap;

use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::job::{JobDefinition, ParamType};
use sea_orm::EntityTrait;
use serde_json::Value;
use uuid::Uuid;

use super::admit::{Admission, AdmitError, Admitted, JobName, SECRET_KIND, admit_with};
use crate::core::Core;
use crate::jobs::access::{Action, Actor};
use crate::store::{job, job_version, run};
use crate::vault;

/// A re-run to admit.
#[derive(Debug)]
pub struct Rerun<'a> {
    /// The run to run again.
    pub of: &'a run::Model,
    /// Who asks.
    pub actor: Actor,
    /// Secret parameters given again (only secret parameters of the run's
    /// version may be given; the others are the run's).
    pub parameters: BTreeMap<String, Value>,
    /// Start it even inside an open maintenance window (admins and
    /// operators; audited, see [`super::windows`]).
    pub override_window: bool,
    /// The client's `Idempotency-Key`: the same key again answers the
    /// re-run it started (a double click starts one re-run).
    pub idempotency_key: Option<String>,
}

/// What a re-run did.
#[derive(Debug, Clone, Copy)]
pub struct Rerunning {
    /// The new run.
    pub admitted: Admitted,
    /// Whether the original run's secret parameters were replayed.
    pub secrets_replayed: bool,
}

/// Whether a re-run by `actor` of `r`, running `version`, replays its
/// secret parameters: only for who started it, on the version it ran.
pub fn replays_secrets(r: &run::Model, actor: &Actor, version: i32) -> bool {
    r.created_by == Some(actor.id) && r.job_version == version
}

/// The parameters of a re-run before any secret is replayed: the run's
/// shown values without its secret ones, then the given ones (each must be
/// a secret parameter of `def`). Also the names of the run's secret
/// parameters.
fn merge(
    def: &JobDefinition,
    shown: &Value,
    given: BTreeMap<String, Value>,
) -> Result<(BTreeMap<String, Value>, Vec<String>), AdmitError> {
    let is_secret = |name: &str| {
        def.parameters
            .get(name)
            .is_some_and(|p| p.kind == ParamType::Secret)
    };
    if let Some(name) = given.keys().find(|n| !is_secret(n)) {
        return Err(AdmitError::invalid(
            &format!("/parameters/{}", crate::strict::escape(name)),
            format!(
                "{name:?} is not a secret parameter of the version the run ran: a re-run takes only secret parameters, the others are the run's"
            ),
        ));
    }
    let mut params = BTreeMap::new();
    let mut secret = Vec::new();
    for (name, value) in shown.as_object().into_iter().flatten() {
        if is_secret(name) {
            secret.push(name.clone());
        } else {
            params.insert(name.clone(), value.clone());
        }
    }
    params.extend(given);
    Ok((params, secret))
}

/// The definition of `job` at `version`.
async fn definition(
    core: &Core,
    job: Uuid,
    version: i32,
) -> Result<std::sync::Arc<JobDefinition>, AdmitError> {
    if let Some(def) = core.definitions.get(job, version) {
        return Ok(def);
    }
    let row = job_version::Entity::find_by_id((job, version))
        .one(core.db())
        .await?
        .ok_or(AdmitError::UnknownVersion(
            u32::try_from(version).unwrap_or(0),
        ))?;
    let def: JobDefinition = serde_json::from_value(row.definition)
        .map_err(|e| AdmitError::Broken(format!("the stored definition is unreadable: {e}")))?;
    let def = std::sync::Arc::new(def);
    core.definitions.put(job, version, def.clone());
    Ok(def)
}

/// Admits a re-run of `req.of`; see the module docs.
pub async fn rerun(core: &Core, req: Rerun<'_>) -> Result<Rerunning, AdmitError> {
    let r = req.of;
    let j = job::Entity::find_by_id(r.job_id)
        .one(core.db())
        .await?
        .ok_or_else(|| AdmitError::UnknownJob(r.job_id.to_string()))?;
    // Refused for who may not run the job before anything about secrets
    // is said.
    crate::jobs::access::require(core.db(), &req.actor, &j, Action::Run).await?;
    let def = definition(core, r.job_id, r.job_version).await?;
    let (mut parameters, secret) = merge(&def, &r.parameters, req.parameters)?;
    let replay = replays_secrets(r, &req.actor, r.job_version);
    if replay {
        for (name, value) in secret_parameters(core, r)? {
            parameters.entry(name).or_insert(value);
        }
    } else {
        let missing: Vec<String> = secret
            .into_iter()
            .filter(|name| !parameters.contains_key(name))
            .collect();
        if !missing.is_empty() {
            return Err(AdmitError::SecretsRequired(missing));
        }
    }
    let mut trigger = Trigger::new(TriggerKind::Rerun, req.actor.id.to_string());
    trigger.cause_run_id = Some(r.id);
    let admitted = admit_with(
        core,
        Admission {
            job: JobName::Id(r.job_id),
            version: u32::try_from(r.job_version).ok(),
            parameters,
            targets: r
                .targets
                .clone()
                .and_then(|t| serde_json::from_value(t).ok()),
            trigger,
            intent_id: req
                .idempotency_key
                .as_ref()
                .map(|k| format!("http:{}:{k}", req.actor.id)),
            may_repeat: req.idempotency_key.is_some(),
            public_intent_id: None,
            idempotency_key: req.idempotency_key,
            sealed: None,
            created_by: Some(req.actor.id),
            caller: Some(req.actor),
            retry: None,
            rerun_of: Some(r.id),
        },
        req.override_window,
    )
    .await?;
    Ok(Rerunning {
        admitted,
        secrets_replayed: replay,
    })
}

/// The secret parameters stored with a run, opened (for a re-run by who
/// started it).
pub(super) fn secret_parameters(
    core: &Core,
    r: &run::Model,
) -> Result<BTreeMap<String, Value>, AdmitError> {
    let (Some(sealed), Some(dek), Some(kek)) =
        (&r.secret_parameters, &r.secret_dek, &r.secret_kek_id)
    else {
        return Ok(BTreeMap::new());
    };
    let env = vault::Sealed {
        sealed: sealed.clone(),
        wrapped_dek: dek.clone(),
        kek_id: kek.clone(),
    };
    let bytes = vault::open(&core.vault, r.id, SECRET_KIND, &env)
        .map_err(|e| AdmitError::Broken(format!("secret parameters cannot be opened: {e}")))?;
    Ok(serde_json::from_slice(&bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::user::Role;

    fn def() -> JobDefinition {
        serde_json::from_value(json!({"name": "j",
            "parameters": {"svc": {"type": "string"}, "token": {"type": "secret"},
                           "other": {"type": "secret"}},
            "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}))
        .unwrap()
    }

    fn run_by(user: Option<Uuid>, version: i32) -> run::Model {
        let now = chrono::Utc::now().fixed_offset();
        run::Model {
            id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            job_name: "j".into(),
            job_version: version,
            status: "succeeded".into(),
            reason: None,
            trigger_kind: "manual".into(),
            trigger_actor: "x".into(),
            parameters: json!({"svc": "web", "token": "***"}),
            secret_parameters: None,
            secret_dek: None,
            secret_kek_id: None,
            targets: None,
            target_ids: json!([]),
            shards: None,
            deadline: None,
            shards_finished: json!({}),
            idempotency_key: None,
            intent_id: None,
            trigger_origin: None,
            cause_run_id: None,
            rerun_of: None,
            attempt: 1,
            retry_of: None,
            retry_root: None,
            created_by: user,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
        }
    }

    #[test]
    fn secrets_replay_only_to_who_started_the_run_on_its_version() {
        let me = Actor {
            id: Uuid::now_v7(),
            role: Role::Operator,
        };
        let admin = Actor {
            id: Uuid::now_v7(),
            role: Role::Admin,
        };
        let mine = run_by(Some(me.id), 3);
        assert!(replays_secrets(&mine, &me, 3));
        assert!(!replays_secrets(&mine, &me, 4), "another version");
        assert!(
            !replays_secrets(&mine, &admin, 3),
            "an admin is someone else"
        );
        assert!(
            !replays_secrets(&run_by(None, 3), &me, 3),
            "a run from the bus"
        );
    }

    #[test]
    fn a_rerun_keeps_the_shown_parameters_and_takes_only_secret_ones() {
        let r = run_by(None, 1);
        let (params, secret) = merge(&def(), &r.parameters, BTreeMap::new()).unwrap();
        assert_eq!(params, BTreeMap::from([("svc".to_owned(), json!("web"))]));
        assert_eq!(secret, vec!["token".to_owned()]);

        let given = BTreeMap::from([("token".to_owned(), json!("s3cret"))]);
        let (params, _) = merge(&def(), &r.parameters, given).unwrap();
        assert_eq!(params["token"], "s3cret");

        for name in ["svc", "unknown"] {
            let given = BTreeMap::from([(name.to_owned(), json!("x"))]);
            let e = merge(&def(), &r.parameters, given).unwrap_err();
            assert!(matches!(e, AdmitError::Invalid { .. }), "{name}: {e}");
            assert!(e.to_string().contains("only secret parameters"), "{e}");
        }
    }
}
