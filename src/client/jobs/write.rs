//! `jobs create|update|import|export|clone|delete|enable|disable`: the
//! commands that send definitions or change a job.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::show::emit;
use super::{DocFormat, FileArgs, find};
use crate::client::http::{ApiClient, ApiError, Problem, RawRequest};
use crate::client::output::{self, View};

/// Definition files larger than this are refused before sending.
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// The file's bytes and format: `--format`, else its extension, else its
/// first character (`{`: JSON, anything else YAML).
fn read_file(file: &FileArgs) -> anyhow::Result<(Vec<u8>, DocFormat)> {
    let mut bytes = Vec::new();
    let path: &Path = &file.file;
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .context("reading the definition from standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if bytes.len() as u64 > MAX_FILE {
        bail!("{}: larger than 4 MiB", path.display());
    }
    let by_name = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Some(DocFormat::Json),
        Some("yaml" | "yml") => Some(DocFormat::Yaml),
        _ => None,
    };
    let sniffed = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => DocFormat::Json,
        _ => DocFormat::Yaml,
    };
    Ok((bytes, file.format.or(by_name).unwrap_or(sniffed)))
}

/// Sends `bytes` as a document; the api's JSON answer.
async fn send_doc(
    api: &mut ApiClient,
    method: Method,
    path: &[&str],
    query: &[(&str, String)],
    (bytes, format): (&[u8], DocFormat),
) -> Result<Value, ApiError> {
    let response = api
        .raw(RawRequest {
            method: &method,
            path,
            query,
            body: Some((format.media_type(), bytes)),
            headers: &[],
        })
        .await?;
    if !response.status().is_success() {
        return Err(ApiError::Problem(Problem::from_response(response).await));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// `Job NAME …: version N (id ID)`, or the view, or with -q the id.
fn saved(out: View, job: &Value, what: &str) -> anyhow::Result<()> {
    emit(out, job, || {
        format!(
            "Job {} {what}: version {} (id {}).\n",
            output::sanitize(job["name"].as_str().unwrap_or("?")),
            job["current_version"].as_i64().unwrap_or(0),
            output::sanitize(job["id"].as_str().unwrap_or("?")),
        )
    })
}

/// `jobs create -f FILE`.
pub async fn create(api: &mut ApiClient, out: View, file: &FileArgs) -> anyhow::Result<()> {
    let (bytes, format) = read_file(file)?;
    let job = send_doc(
        api,
        Method::POST,
        &["api", "v1", "jobs"],
        &[],
        (&bytes, format),
    )
    .await
    .context("creating the job")?;
    saved(out, &job, "created")
}

/// `jobs update JOB -f FILE`.
pub async fn update(
    api: &mut ApiClient,
    out: View,
    key: &str,
    file: &FileArgs,
) -> anyhow::Result<()> {
    let (bytes, format) = read_file(file)?;
    let id = find::job_id(api, key).await?;
    let before: Value = api
        .get(&["api", "v1", "jobs", &id], &[])
        .await
        .context("getting the job")?;
    let job = send_doc(
        api,
        Method::PUT,
        &["api", "v1", "jobs", &id],
        &[],
        (&bytes, format),
    )
    .await
    .context("updating the job")?;
    let what = if job["current_version"] == before["current_version"] {
        "unchanged"
    } else {
        "updated"
    };
    saved(out, &job, what)
}

/// `jobs import -f FILE [--replace]`.
pub async fn import(
    api: &mut ApiClient,
    out: View,
    file: &FileArgs,
    replace: bool,
) -> anyhow::Result<()> {
    let (bytes, format) = read_file(file)?;
    let query = [("replace", replace.to_string())];
    let job = send_doc(
        api,
        Method::POST,
        &["api", "v1", "jobs", "import"],
        &query,
        (&bytes, format),
    )
    .await
    .context("importing the job")?;
    saved(out, &job, "imported")
}

/// `jobs export JOB [--format yaml|json]`: the document as the api writes
/// it, on standard output.
pub async fn export(api: &mut ApiClient, key: &str, format: DocFormat) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    let query = [("format", format.name().to_owned())];
    let response = api
        .raw(RawRequest {
            method: &Method::GET,
            path: &["api", "v1", "jobs", &id, "export"],
            query: &query,
            body: None,
            headers: &[],
        })
        .await
        .context("exporting the job")?;
    if !response.status().is_success() {
        let problem = ApiError::Problem(Problem::from_response(response).await);
        return Err(anyhow::Error::from(problem).context("exporting the job"));
    }
    let mut text = response.text().await.context("reading the export")?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(output::print(&text)?)
}

/// `jobs clone JOB NAME`.
pub async fn clone(api: &mut ApiClient, out: View, key: &str, name: &str) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    let job: Value = api
        .send(
            Method::POST,
            &["api", "v1", "jobs", &id, "clone"],
            &json!({ "name": name }),
        )
        .await
        .context("cloning the job")?;
    saved(out, &job, "created")
}

/// `jobs delete JOB`.
pub async fn delete(api: &mut ApiClient, key: &str) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    api.delete(&["api", "v1", "jobs", &id])
        .await
        .context("deleting the job")?;
    eprintln!("Deleted job {}.", output::sanitize(key.trim()));
    Ok(())
}

/// `jobs enable|disable JOB`.
pub async fn set_active(
    api: &mut ApiClient,
    out: View,
    key: &str,
    active: bool,
) -> anyhow::Result<()> {
    let id = find::job_id(api, key).await?;
    let job: Value = api
        .send(
            Method::PATCH,
            &["api", "v1", "jobs", &id],
            &json!({ "active": active }),
        )
        .await
        .context("changing the job")?;
    let what = if active { "enabled" } else { "disabled" };
    emit(out, &job, || {
        format!(
            "Job {} {what}.\n",
            output::sanitize(job["name"].as_str().unwrap_or("?"))
        )
    })
}
