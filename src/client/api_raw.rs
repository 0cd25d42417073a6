//! `opsconductor api METHOD PATH`: one request to the api as given, with the
//! stored session or `OPSC_TOKEN`, for what no command covers yet.
//!
//! Only a path is taken, never a URL, so the credentials go to the api
//! logged in to and nowhere else. The answer's body is printed (JSON
//! pretty-printed); an answer of 400 or more exits 1 with the problem on
//! standard error.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::Method;
use serde_json::Value;

use super::ClientEnv;
use super::http::RawRequest;
use super::output;

/// Request bodies larger than this are refused before sending.
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// `api` arguments.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The method: GET, POST, PUT, PATCH, DELETE, …
    pub method: String,
    /// The path with its query, e.g. `/api/v1/runs?status=failed`.
    pub path: String,
    /// The body: text, `@FILE`, or `@-` for standard input (sent as JSON
    /// unless a `-H 'Content-Type: …'` says otherwise).
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    pub data: Option<String>,
    /// A request header, `'Name: value'` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
}

/// `%xx` escapes decoded (the client encodes each segment again).
fn decode(segment: &str) -> anyhow::Result<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .with_context(|| format!("bad %-escape in {}", output::sanitize(segment)))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("the path is not UTF-8 once decoded")
}

/// A path's decoded segments and its query pairs.
type Split = (Vec<String>, Vec<(String, String)>);

/// The path's segments and query pairs.
fn split(path: &str) -> anyhow::Result<Split> {
    let Some(rest) = path.strip_prefix('/') else {
        bail!("the path must start with / (a path on the api, not a URL)");
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split_once('#').map_or(path, |(p, _)| p);
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let query = reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok((segments, query))
}

/// `-d` as bytes.
fn body(data: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match data.strip_prefix('@') {
        Some("-") => {
            std::io::stdin()
                .take(MAX_BODY + 1)
                .read_to_end(&mut bytes)
                .context("reading the body from standard input")?;
        }
        Some(file) => {
            std::fs::File::open(file)
                .and_then(|f| f.take(MAX_BODY + 1).read_to_end(&mut bytes))
                .with_context(|| format!("reading {file}"))?;
        }
        None => bytes = data.as_bytes().to_vec(),
    }
    if bytes.len() as u64 > MAX_BODY {
        bail!("the body is larger than 16 MiB");
    }
    Ok(bytes)
}

/// `Name: value` headers; the client's own `Authorization` is kept.
fn headers(given: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .with_context(|| format!("-H {}: expected 'Name: value'", output::sanitize(h)))?;
            let name = name.trim();
            if name.is_empty() || reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
            {
                bail!("-H {}: not a header name", output::sanitize(h));
            }
            if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("host") {
                bail!("-H {name}: set by the client itself");
            }
            Ok((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Runs `api METHOD PATH`.
pub async fn run(env: &ClientEnv, args: ApiArgs) -> anyhow::Result<ExitCode> {
    let method = Method::from_bytes(args.method.trim().to_ascii_uppercase().as_bytes())
        .with_context(|| format!("{}: not an HTTP method", output::sanitize(&args.method)))?;
    let (segments, query) = split(args.path.trim())?;
    let mut headers = headers(&args.headers)?;
    let data = args.data.as_deref().map(body).transpose()?;
    let content_type = headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or_else(|| "application/json".to_owned(), |i| headers.remove(i).1);
    let mut api = super::connect(env)?;
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query: Vec<(&str, String)> = query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let response = api
        .raw(RawRequest {
            method: &method,
            path: &path,
            query: &query,
            body: data.as_deref().map(|d| (content_type.as_str(), d)),
            headers: &headers,
        })
        .await?;
    let status = response.status();
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    let bytes = response.bytes().await.context("reading the answer")?;
    let text = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if is_json => output::json(&v),
        _ => {
            let mut t = String::from_utf8_lossy(&bytes).into_owned();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            t
        }
    };
    if status.is_client_error() || status.is_server_error() {
        let problem = super::http::Problem::from_parts(status, None, &bytes);
        eprintln!("opsconductor: {problem}");
        eprint!("{text}");
        return Ok(ExitCode::FAILURE);
    }
    output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_decoded_segments_and_a_query() {
        let (s, q) = split("/api/v1/jobs/a%2Fb?name=x%20y&limit=5").unwrap();
        assert_eq!(s, ["api", "v1", "jobs", "a/b"]);
        assert_eq!(
            q,
            [("name".into(), "x y".into()), ("limit".into(), "5".into())]
        );
        assert!(split("http://elsewhere/api").is_err(), "a URL is refused");
        assert!(split("api/v1/me").is_err());
        assert!(split("/api/%zz").is_err());
    }

    #[test]
    fn headers_are_checked_and_authorization_is_the_clients() {
        let h = headers(&["X-Trace: 1".into(), "Content-Type: application/yaml".into()]).unwrap();
        assert_eq!(h[0], ("X-Trace".into(), "1".into()));
        assert!(headers(&["Authorization: Bearer x".into()]).is_err());
        assert!(headers(&["no colon".into()]).is_err());
        assert!(headers(&["bad name: x".into()]).is_err());
    }
}
