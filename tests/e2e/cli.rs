//! The operator CLI against the real api: login, users, logout; the session
//! file stays 0600 and no password or token is ever printed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use crate::harness::cli::{CliRun as Run, run_with_stdin as cli};
use crate::harness::{
    Opsc, PrivateNats, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY, TestDb, env_of, free_port, status_of,
    unique_prefix,
};

/// Runs and expects exit 0; every run is kept for the secrecy check.
async fn ok(
    runs: &mut Vec<Run>,
    args: &[&str],
    env: &BTreeMap<String, String>,
    stdin: &str,
) -> String {
    let run = cli(args, env, stdin).await;
    assert_eq!(run.code, Some(0), "{args:?} failed: {}", run.all());
    let stdout = run.stdout.clone();
    runs.push(run);
    stdout
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Exit 1 and exactly one line on stderr, starting `opsconductor: `.
fn assert_one_line_error(run: &Run, contains: &str) {
    assert_eq!(run.code, Some(1), "{}", run.all());
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.all());
    assert!(lines[0].starts_with("opsconductor: "), "{}", run.all());
    assert!(
        lines[0].contains(contains),
        "expected {contains:?}: {}",
        run.all()
    );
}

#[tokio::test]
async fn login_manage_users_and_logout_without_printing_secrets() {
    let home = tempfile::tempdir().unwrap();
    let session = home.path().join("cfg").join("session.json");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // The client's variables must not upset the server's configuration check.
    let client_vars = [
        ("OPSC_URL", url.clone()),
        ("OPSC_SESSION_FILE", session.display().to_string()),
        ("OPSC_TOKEN", String::new()),
    ];

    // A NATS of its own: nothing is left behind in the shared one.
    let nats = PrivateNats::start().await;
    let db = TestDb::create().await;
    let mut migrate_env = env_of(&[("OPSC_DATABASE_URL", db.url.clone())]);
    migrate_env.extend(
        client_vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    let mut m = Opsc::spawn(&["migrate"], &migrate_env);
    assert_eq!(m.wait().await, Some(0), "{}", m.output());

    let mut api_env = env_of(&[
        ("OPSC_DATABASE_URL", db.url.clone()),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ("OPSC_NATS_URL", nats.url()),
        ("OPSC_NATS_PREFIX", unique_prefix().to_string()),
        ("OPSC_HTTP_ADDR", format!("127.0.0.1:{port}")),
        (
            "OPSC_BOOTSTRAP_ADMIN_PASSWORD",
            TEST_ADMIN_PASSWORD.to_owned(),
        ),
    ]);
    api_env.extend(
        client_vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    let mut api = Opsc::spawn(&["server", "api"], &api_env);
    let readyz = format!("{url}/readyz");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while status_of(&readyz).await != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the api is not ready: {}",
            api.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let env = env_of(&[
        ("OPSC_URL", url.clone()),
        ("OPSC_SESSION_FILE", session.display().to_string()),
        ("HOME", home.path().display().to_string()),
    ]);
    let user_password = "e2e-user-pass-4kq8z-long";
    let new_password = "e2e-changed-pass-7hw2m";
    let mut runs = Vec::new();

    let out = ok(
        &mut runs,
        &["login", "--username", "admin", "--password-stdin"],
        &env,
        &format!("{TEST_ADMIN_PASSWORD}\n"),
    )
    .await;
    assert_eq!(out, format!("Logged in to {url} as admin.\n"));
    assert_eq!(mode(&session), 0o600, "the session file is private");
    let stored = json(&std::fs::read_to_string(&session).unwrap());
    assert_eq!(stored["url"], url.as_str());
    assert_eq!(stored["username"], "admin");
    let tokens = [
        stored["access_token"].as_str().unwrap().to_owned(),
        stored["refresh_token"].as_str().unwrap().to_owned(),
    ];
    assert!(stored["access_expires_at"].is_string(), "{stored}");

    let created = json(
        &ok(
            &mut runs,
            &[
                "users",
                "create",
                "--username",
                "e2e-ann",
                "--role",
                "operator",
                "--email",
                "ann@example.test",
                "--display-name",
                "Ann E2E",
                "--password-stdin",
                "-o",
                "json",
            ],
            &env,
            &format!("{user_password}\n"),
        )
        .await,
    );
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["username"], "e2e-ann");
    assert_eq!(created["role"], "operator");
    assert_eq!(created["email"], "ann@example.test");
    assert_eq!(created["active"], true);

    let page = json(&ok(&mut runs, &["users", "list", "-o", "json"], &env, "").await);
    let names: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(
        names.contains(&"admin") && names.contains(&"e2e-ann"),
        "{page}"
    );
    assert!(page["total"].as_u64().unwrap() >= 2, "{page}");
    for user in page["items"].as_array().unwrap() {
        assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    }

    let table = ok(&mut runs, &["users", "list"], &env, "").await;
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("e2e-ann") && l.contains("operator")),
        "{table}"
    );

    let updated = json(
        &ok(
            &mut runs,
            &[
                "users",
                "update",
                &id,
                "--role",
                "viewer",
                "--active",
                "false",
                "--password-stdin",
                "-o",
                "json",
            ],
            &env,
            &format!("{new_password}\n"),
        )
        .await,
    );
    assert_eq!(updated["role"], "viewer");
    assert_eq!(updated["active"], false);
    let got = json(&ok(&mut runs, &["users", "get", &id, "-o", "json"], &env, "").await);
    assert_eq!(got["role"], "viewer");
    let details = ok(&mut runs, &["users", "get", &id], &env, "").await;
    assert!(
        details.contains("e2e-ann") && details.contains("viewer"),
        "{details}"
    );

    let deleted = ok(&mut runs, &["users", "delete", &id], &env, "").await;
    assert_eq!(deleted, format!("Deleted user {id}.\n"));
    let gone = cli(&["users", "get", &id], &env, "").await;
    assert_one_line_error(&gone, "getting the user");
    runs.push(gone);

    ok(&mut runs, &["logout"], &env, "").await;
    assert!(!session.exists(), "logout deletes the session file");
    let after = cli(&["users", "list"], &env, "").await;
    assert_one_line_error(&after, "not logged in");
    runs.push(after);

    for run in &runs {
        let all = run.all();
        for secret in [TEST_ADMIN_PASSWORD, user_password, new_password]
            .into_iter()
            .chain(tokens.iter().map(String::as_str))
        {
            assert!(!all.contains(secret), "a secret was printed: {all}");
        }
    }

    assert_eq!(api.terminate().await, Some(0), "{}", api.output());
    db.drop_now().await;
}

#[tokio::test]
async fn an_unreachable_api_is_one_line_and_stores_nothing() {
    let home = tempfile::tempdir().unwrap();
    let session = home.path().join("session.json");
    let url = format!("http://127.0.0.1:{}", free_port());
    let env = env_of(&[
        ("OPSC_URL", url.clone()),
        ("OPSC_SESSION_FILE", session.display().to_string()),
        ("HOME", home.path().display().to_string()),
    ]);
    let run = cli(
        &["login", "--username", "admin", "--password-stdin"],
        &env,
        "not-a-real-password-x\n",
    )
    .await;
    assert_one_line_error(&run, &format!("cannot reach the api at {url}"));
    assert!(!run.all().contains("not-a-real-password-x"));
    assert!(!session.exists());

    let run = cli(&["users", "list"], &env, "").await;
    assert_one_line_error(&run, "not logged in");
}
