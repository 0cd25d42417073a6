//! The benchmarks' view of the api: one HTTP client with a short-lived API
//! token of its own, shared by concurrent requests.

use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::http::ApiClient;
use crate::client::{ClientEnv, connect};

/// How long a benchmark waits for its runs at most.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

/// A connection for load.
#[derive(Debug)]
pub struct Load {
    http: reqwest::Client,
    base: String,
    secret: String,
    token_id: String,
    api: tokio::sync::Mutex<ApiClient>,
    /// A short id naming what this benchmark creates.
    pub tag: String,
}

impl Load {
    /// Connects as the CLI does and creates a one-day API token for the load.
    pub async fn open(env: &ClientEnv) -> anyhow::Result<Self> {
        let mut api = connect(env)?;
        let tag = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let created: Value = api
            .send(
                Method::POST,
                &["api", "v1", "api-tokens"],
                &json!({"name": tag, "expires_in_days": 1}),
            )
            .await
            .context("creating the benchmark's API token")?;
        let secret = created["secret"]
            .as_str()
            .context("the api returned no token secret")?
            .to_owned();
        let token_id = created["token"]["id"]
            .as_str()
            .context("the api returned no token id")?
            .to_owned();
        let base = api.base().as_str().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Self {
            http,
            base,
            secret,
            token_id,
            api: tokio::sync::Mutex::new(api),
            tag,
        })
    }

    /// Revokes the token.
    pub async fn close(&self) {
        let mut api = self.api.lock().await;
        let _ = api
            .delete(&["api", "v1", "api-tokens", &self.token_id])
            .await;
    }

    /// `method path` with an optional body: status and JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.secret);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    /// `GET path`, which must succeed.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (s, v) = self.call(Method::GET, path, None).await?;
        if !(200..300).contains(&s) {
            bail!("GET {path}: {s} {v}");
        }
        Ok(v)
    }

    /// `POST path`, which must answer `expect`; the answer.
    pub async fn post(&self, path: &str, body: &Value, expect: u16) -> anyhow::Result<Value> {
        let (s, v) = self.call(Method::POST, path, Some(body)).await?;
        if s != expect {
            bail!("POST {path}: {s} {v}");
        }
        Ok(v)
    }

    /// The server's own figures from its `/metrics`: CPU seconds, resident
    /// bytes, and the largest resident bytes since it started.
    pub async fn process(&self) -> anyhow::Result<ServerProcess> {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?;
        let value = |name: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        Ok(ServerProcess {
            cpu_seconds: value("opsc_process_cpu_seconds"),
            resident_bytes: value("opsc_process_resident_memory_bytes"),
            resident_max_bytes: value("opsc_process_resident_memory_max_bytes"),
        })
    }

    /// Deletes, ignoring failures (clean-up).
    pub async fn delete(&self, path: &str) {
        let _ = self.call(Method::DELETE, path, None).await;
    }

    /// Creates a job; its id.
    pub async fn create_job(&self, def: &Value) -> anyhow::Result<String> {
        let v = self.post("/api/v1/jobs", def, 201).await?;
        id_of(&v)
    }

    /// Starts a run; its id.
    pub async fn start(&self, job: &str, body: &Value) -> anyhow::Result<String> {
        let v = self
            .post(&format!("/api/v1/jobs/{job}/run"), body, 202)
            .await?;
        v["run_id"]
            .as_str()
            .map(str::to_owned)
            .context("no run_id in the answer")
    }

    async fn total(&self, job: &str, status: Option<&str>) -> anyhow::Result<u64> {
        let filter = status.map(|s| format!("&status={s}")).unwrap_or_default();
        let v = self
            .get(&format!("/api/v1/runs?job_id={job}&limit=1{filter}"))
            .await?;
        v["total"].as_u64().context("no total in the run list")
    }

    /// Waits until `expected` runs of `job` exist and none is queued or running.
    pub async fn wait_done(&self, job: &str, expected: u64) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            if self.total(job, None).await? >= expected
                && self.total(job, Some("queued")).await? == 0
                && self.total(job, Some("running")).await? == 0
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("runs of job {job} did not end within {WAIT_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every run of `job`.
    pub async fn runs_of(&self, job: &str) -> anyhow::Result<Vec<Value>> {
        let mut all = Vec::new();
        loop {
            let page = self
                .get(&format!(
                    "/api/v1/runs?job_id={job}&limit=500&offset={}",
                    all.len()
                ))
                .await?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return Ok(all);
            }
            all.extend(items);
        }
    }

    /// The steps of a run.
    pub async fn steps_of(&self, run: &str) -> anyhow::Result<Vec<Value>> {
        let v = self.get(&format!("/api/v1/runs/{run}/steps")).await?;
        Ok(v["items"].as_array().cloned().unwrap_or_default())
    }
}

/// What the server process reports of itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerProcess {
    /// CPU seconds spent since it started.
    pub cpu_seconds: f64,
    /// Resident memory now.
    pub resident_bytes: f64,
    /// Largest resident memory since it started.
    pub resident_max_bytes: f64,
}

/// The `id` of an answer.
pub fn id_of(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {v}"))
}

/// A timestamp field.
pub fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v[key].as_str().and_then(|s| s.parse().ok())
}

/// Milliseconds from `a` to `b`.
pub fn ms(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}
