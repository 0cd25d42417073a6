//! Jobs, targets and groups named by id or exact name ([`crate::client::resolve`]).

use anyhow::Context as _;
use serde_json::Value;

use crate::client::http::ApiClient;
use crate::client::output::sanitize;
use crate::client::resolve::{self, Kind};

/// A job's id, by id or exact name.
pub async fn job_id(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    resolve::id(api, Kind::Job, key).await
}

/// The job with its current definition, by id or exact name.
pub async fn job(api: &mut ApiClient, key: &str) -> anyhow::Result<Value> {
    let id = job_id(api, key).await?;
    api.get(&["api", "v1", "jobs", &id], &[])
        .await
        .with_context(|| format!("getting job {}", sanitize(key.trim())))
}

/// A target's id, by id or exact name.
pub async fn target(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    resolve::id(api, Kind::Target, key).await
}

/// A target group's id, by id or exact name.
pub async fn group(api: &mut ApiClient, key: &str) -> anyhow::Result<String> {
    resolve::id(api, Kind::Group, key).await
}
