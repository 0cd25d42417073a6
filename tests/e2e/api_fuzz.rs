//! Property-based fuzzing of the api from its own OpenAPI document, with
//! schemathesis (installed in the test venv by `deploy/test.sh`): every
//! operation gets generated input — valid and invalid, NUL characters, huge
//! numbers, wrong types, missing and extra fields, odd encodings — first as
//! an admin (an API token), then with no credentials. The test fails on any
//! 5xx, on a status code the document does not list for the operation, and
//! on a content type it does not list.

use std::path::PathBuf;
use std::time::Duration;

use crate::harness::ApiServer;

/// Test cases per operation and pass: enough to reach every constraint
/// the document states, short enough for CI (under two minutes a pass on an idle 2-core machine).
const EXAMPLES: &str = "12";

fn schemathesis() -> PathBuf {
    let python = std::env::var_os("OPSC_TEST_PYTHON")
        .map(PathBuf::from)
        .expect("OPSC_TEST_PYTHON is set by deploy/test.sh (the test venv's python)");
    let bin = python.with_file_name("schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: run the tests through deploy/test.sh, which installs it",
        bin.display()
    );
    bin
}

/// One schemathesis pass; its report when it found anything.
async fn pass(api: &ApiServer, token: Option<&str>, exclude: &str) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(schemathesis());
    cmd.arg("run")
        .arg(format!("{}/api/openapi.json", api.base))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance",
            "-n",
            EXAMPLES,
            "--phases",
            "coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--no-shrink",
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--exclude-path-regex",
            exclude,
        ])
        .env("NO_COLOR", "1")
        // It keeps a cache of examples in its working directory.
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true);
    if let Some(t) = token {
        cmd.args([
            "-H",
            &format!("Authorization: Bearer {t}"),
            "--generation-with-security-parameters",
            "false",
        ]);
    }
    // Only a guard against a hang: a pass takes about 100 s on an idle 2-core
    // machine and was seen past 10 minutes on a loaded CI host.
    let out = tokio::time::timeout(Duration::from_secs(25 * 60), cmd.output())
        .await
        .map_err(|_| "schemathesis ran for more than 25 minutes".to_owned())?
        .map_err(|e| format!("cannot run schemathesis: {e}"))?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() || only_generator_errors(&report) {
        Ok(())
    } else {
        Err(report)
    }
}

/// Whether a failed pass found nothing about the api: no check failed and
/// every error is the generator's own (hypothesis sometimes stumbles over
/// its own introspection, "AST constructor recursion depth mismatch"), not
/// a request that could not be answered.
fn only_generator_errors(report: &str) -> bool {
    let api_trouble = [
        "FAILURES",
        "Network Error",
        "Connection refused",
        "timed out",
    ];
    report.contains("= ERRORS =")
        && report.contains("Runtime Error")
        && !api_trouble.iter().any(|t| report.contains(t))
}

#[tokio::test]
async fn no_operation_answers_a_server_error_or_an_undocumented_status() {
    let api = ApiServer::start(&[]).await;
    // Connection tests need a worker of the pool, or they answer 503.
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let secret = api.api_token(&admin, "admin").await;

    // As an admin: everything but what would lock the fuzzer out (logins,
    // the caller's own account, the settings that demand MFA) and the live
    // streams, which stay open as long as a run (the activity stream: for ever).
    let authed = pass(
        &api,
        Some(&secret),
        "/auth/|/api/v1/me|/settings|/stream$|/ws$|/runs/activity$",
    )
    .await;
    // Anonymously: every operation, the public ones included.
    let anonymous = pass(&api, None, "/stream$|/ws$|/runs/activity$").await;
    // And the api is still up after all of it.
    assert_eq!(
        crate::harness::status_of(&format!("{}/readyz", api.base)).await,
        200,
        "the api is no longer ready after the fuzzing"
    );
    let report = |r: Result<(), String>| r.err().unwrap_or_else(|| "clean".to_owned());
    let (authed, anonymous) = (report(authed), report(anonymous));
    assert!(
        authed == "clean" && anonymous == "clean",
        "schemathesis found problems\n--- as an admin:\n{authed}\n--- anonymously:\n{anonymous}"
    );
}
