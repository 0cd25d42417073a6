//! Driving the real binary (through `crate::harness::cli`): a logged-in
//! environment, files to pass with `-f`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::harness::cli::run_with_stdin;
use crate::harness::{ApiServer, env_of};

/// The JSON of a command's output.
pub fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Writes `text` to `dir/name`; its path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The environment of a CLI logged in to `api` as `username`, its session
/// kept under `home`.
pub async fn login(
    api: &ApiServer,
    home: &Path,
    username: &str,
    password: &str,
) -> BTreeMap<String, String> {
    std::fs::create_dir_all(home).unwrap();
    let env = env_of(&[
        ("OPSC_URL", api.base.clone()),
        (
            "OPSC_SESSION_FILE",
            home.join("session.json").display().to_string(),
        ),
        ("HOME", home.display().to_string()),
    ]);
    let run = run_with_stdin(
        &["login", "--username", username, "--password-stdin"],
        &env,
        &format!("{password}\n"),
    )
    .await;
    assert_eq!(run.code, Some(0), "login {username}: {run:?}");
    env
}

/// The id of the run whose first step is running (waits for one).
pub async fn running_step(api: &ApiServer, token: &str) -> String {
    for _ in 0..300 {
        let (_, page) = api
            .call(
                Method::GET,
                "/api/v1/runs?status=running",
                Some(token),
                None,
            )
            .await;
        if let Some(id) = page["items"][0]["id"].as_str() {
            let (_, steps) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/runs/{id}/steps"),
                    Some(token),
                    None,
                )
                .await;
            if steps["items"][0]["status"] == "running" {
                return id.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no run got its step running within 30 s");
}
