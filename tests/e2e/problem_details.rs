//! Every 4xx of the api is one shape — problem+json with the request's id
//! and an `errors` list of `{path, message}` — whichever layer refused the
//! request, and a body's problems are all listed at once, in the words of
//! its fields; the CLI prints each of them.

use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;

/// Status and problem of an answer, after checking the shape every error
/// answer has: the media type, `request_id` equal to the `x-request-id`
/// header, and a non-empty `errors` list of `{path, message}` strings.
async fn problem_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let media = header("content-type");
    let request_id = header("x-request-id");
    let text = res.text().await.unwrap();
    assert!((400..500).contains(&status), "{status}: {text}");
    assert_eq!(media, "application/problem+json", "{status}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(!request_id.is_empty(), "{text}");
    assert_eq!(body["request_id"], request_id.as_str(), "{text}");
    assert_eq!(body["status"], status, "{text}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {text}"));
    assert!(!errors.is_empty(), "{text}");
    for e in errors {
        assert!(e["path"].is_string() && e["message"].is_string(), "{text}");
        assert!(!e["message"].as_str().unwrap().is_empty(), "{text}");
    }
    (status, body)
}

/// The message at `path` (the first), or a failure listing what there is.
fn message_at<'a>(body: &'a Value, path: &str) -> &'a str {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["path"] == path)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error at {path:?}: {body}"))
}

/// Status line and media type of the answer to a POST whose declared body
/// is 2 MiB, over a raw connection. The api refuses on `Content-Length`
/// alone and closes the connection, so only the head is sent: a client
/// still writing the body when the close arrives would see a broken pipe
/// instead of the answer (it did, once in CI).
async fn oversized_post(api: &ApiServer, token: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = api.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the api answers an oversized body without waiting for it")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let media = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, media)
}

async fn targets_count(api: &ApiServer, token: &str) -> usize {
    let (status, body) = api
        .call(Method::GET, "/api/v1/targets", Some(token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn every_refusal_is_a_problem_with_all_its_errors_and_the_request_id() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let before = targets_count(&api, &admin).await;

    // Several problems at once: two missing fields, two wrong types and a
    // typo, each located and worded, the typo with its suggestion.
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&admin))
        .json(&json!({"hostname": 5, "ssh": {"port": "22"}, "tagz": ["web"]}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(message_at(&body, "/name"), "`name` is required", "{body}");
    assert_eq!(
        message_at(&body, "/os_type"),
        "`os_type` is required",
        "{body}"
    );
    assert_eq!(
        message_at(&body, "/hostname"),
        "`hostname` must be a string, not a number",
        "{body}"
    );
    assert_eq!(
        message_at(&body, "/ssh/port"),
        "`ssh.port` must be an integer between 1 and 65535, not a string",
        "{body}"
    );
    assert_eq!(
        message_at(&body, "/tagz"),
        "unknown field `tagz`; did you mean `tags`?",
        "{body}"
    );
    assert!(body["errors"].as_array().unwrap().len() >= 5, "{body}");

    // One unknown field deeper down, with a suggestion.
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&admin))
        .json(&json!({"name": "t1", "hostname": "h1", "os_type": "linux",
                      "ssh": {"credential_id": uuid::Uuid::nil(), "prot": 22}}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        message_at(&body, "/ssh/prot"),
        "unknown field `prot` in `ssh`; did you mean `port`?",
        "{body}"
    );

    // A value outside an enumeration names the values, and the closest.
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&admin))
        .json(&json!({"name": "t1", "hostname": "h1", "os_type": "linx"}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 422, "{body}");
    let m = message_at(&body, "/os_type");
    assert!(
        m.starts_with("`os_type` must be ") && m.ends_with("did you mean `linux`?"),
        "{body}"
    );

    // Not JSON at all: 400, the syntax error as the entry.
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&admin))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(res).await.0, 400);

    // A path id that is no id.
    let res = api
        .req(Method::GET, "/api/v1/jobs/not-a-uuid", Some(&admin))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message_at(&body, "{id}").contains("must be a UUID"),
        "{body}"
    );

    // Query parameters: a wrong type, and a typo.
    let res = api
        .req(Method::GET, "/api/v1/targets?limit=many", Some(&admin))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message_at(&body, "?limit").starts_with("`limit` must be"),
        "{body}"
    );
    let res = api
        .req(Method::GET, "/api/v1/targets?lmit=5", Some(&admin))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message_at(&body, "?lmit").ends_with("did you mean `limit`?"),
        "{body}"
    );

    // An unknown route, and a method the route does not take.
    let res = api
        .req(Method::GET, "/api/v1/no-such-things", Some(&admin))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 404, "{body}");
    assert!(message_at(&body, "").contains("/api/docs"), "{body}");
    let res = api
        .req(Method::PATCH, "/api/v1/targets", Some(&admin))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(res).await;
    assert_eq!(status, 405, "{body}");
    assert!(
        message_at(&body, "").contains("does not take PATCH"),
        "{body}"
    );

    // A body over the limit, and one of another media type.
    let (status, media) = oversized_post(&api, &admin, "/api/v1/targets").await;
    assert_eq!(status, 413);
    assert_eq!(media, "application/problem+json");
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&admin))
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(res).await.0, 415);

    // No token, and a viewer where an admin is needed.
    let res = api
        .req(Method::GET, "/api/v1/targets", None)
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(res).await.0, 401);
    api.user(&admin, "e2e-vic", "viewer", "e2e-viewer-pass-9xq2")
        .await;
    let (viewer, _) = api.login("e2e-vic", "e2e-viewer-pass-9xq2").await;
    let res = api
        .req(Method::POST, "/api/v1/targets", Some(&viewer))
        .json(&json!({"name": "t1", "hostname": "h1", "os_type": "linux"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(res).await.0, 403);

    // A request id the client chose is the one the problem names.
    let res = api
        .req(Method::GET, "/api/v1/no-such-things", Some(&admin))
        .header("x-request-id", "e2e-chosen-id")
        .send()
        .await
        .unwrap();
    assert_eq!(problem_of(res).await.1["request_id"], "e2e-chosen-id");

    // Nothing of it changed anything.
    assert_eq!(targets_count(&api, &admin).await, before);
    api.stop().await;
}

#[tokio::test]
async fn the_cli_prints_each_path_and_message_of_a_problem() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsconductor"))
        .args([
            "api",
            "POST",
            "/api/v1/targets",
            "-d",
            r#"{"hostname": "h1", "os_type": "linux", "ssh": {"port": 70000}, "tagz": []}"#,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("OPSC_URL", &api.base)
        .env("OPSC_TOKEN", &admin)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), out)
        .await
        .expect("the CLI finishes within 30 s")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("opsconductor: Invalid Request Body: the request body has"),
        "{stderr}"
    );
    for line in [
        "  /name: `name` is required",
        "  /ssh/port: `ssh.port` must be an integer between 1 and 65535",
        "  /tagz: unknown field `tagz`; did you mean `tags`?",
    ] {
        assert!(lines.contains(&line), "{line:?} in {stderr}");
    }
    api.stop().await;
}

#[tokio::test]
async fn a_body_with_thousands_of_problems_gets_a_bounded_answer() {
    let api = ApiServer::start(&[]).await;
    let mut body = serde_json::Map::new();
    for i in 0..5000 {
        body.insert(format!("field_{i:05}"), Value::from(i));
    }
    body.insert("x".repeat(20_000), Value::from(0));
    let res = api
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&Value::Object(body))
        .send()
        .await
        .unwrap();
    let (status, problem) = problem_of(res).await;
    assert!((400..500).contains(&status), "{status} {problem}");
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 51, "{problem}");
    let last = errors[50]["message"].as_str().unwrap();
    assert!(
        last.starts_with("and ") && last.ends_with(" more problems"),
        "{last}"
    );
    assert!(
        problem.to_string().len() < 64 * 1024,
        "the answer stays small: {} bytes",
        problem.to_string().len()
    );
    api.stop().await;
}
