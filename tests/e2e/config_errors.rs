//! Bad configuration stops the process at once: exit code 2 and one line naming the setting.

use crate::harness::{Opsc, TEST_MASTER_KEY, env_of, shared_nats_url};

async fn fails_naming(args: &[&str], env: &[(&str, String)], setting: &str) {
    let mut p = Opsc::spawn(args, &env_of(env));
    let code = p.wait().await;
    let out = p.output();
    assert_eq!(code, Some(2), "{args:?} {env:?}: {out}");
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line, got: {out}");
    assert!(
        lines[0].starts_with("opsconductor: configuration: "),
        "{out}"
    );
    assert!(lines[0].contains(setting), "expected {setting:?} in {out}");
}

/// Arguments, environment, and the setting the error must name.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, String)>, &'a str);

#[tokio::test]
async fn bad_values_fail_fast_with_the_setting_named() {
    let db = (
        "OPSC_DATABASE_URL",
        "postgres://nobody@127.0.0.1:1/none".to_owned(),
    );
    let key = ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned());
    let cases: Vec<Case<'_>> = vec![
        (
            vec!["server", "worker"],
            vec![("OPSC_NATS_PREFIX", "Bad.Prefix".into())],
            "nats.prefix (OPSC_NATS_PREFIX)",
        ),
        (
            vec!["server", "api"],
            vec![key.clone()],
            "database.url (OPSC_DATABASE_URL)",
        ),
        (
            vec!["server", "api"],
            vec![db.clone()],
            "security.master_key (OPSC_MASTER_KEY)",
        ),
        (
            vec!["server", "api"],
            vec![db.clone(), ("OPSC_MASTER_KEY", "c2hvcnQ=".into())],
            "security.master_key (OPSC_MASTER_KEY)",
        ),
        (
            vec!["server", "api"],
            vec![
                db.clone(),
                key.clone(),
                ("OPSC_HTTP_ADDR", "nowhere".into()),
            ],
            "http.addr (OPSC_HTTP_ADDR)",
        ),
        (
            vec!["server", "worker"],
            vec![("OPSC_WORKER_CONCURRENCY", "0".into())],
            "worker.concurrency (OPSC_WORKER_CONCURRENCY)",
        ),
        (
            vec!["server", "worker"],
            vec![("OPSC_WORKER_POOL", "a.b".into())],
            "worker.pool (OPSC_WORKER_POOL)",
        ),
        (
            vec!["server", "worker"],
            vec![("OPSC_WORKER_EGRESS_DENY", "10.0.0.0/8,exa mple".into())],
            "worker.egress_deny (OPSC_WORKER_EGRESS_DENY)",
        ),
        (
            vec!["server", "worker"],
            vec![("OPSC_LOG_FORMAT", "xml".into())],
            "log.format (OPSC_LOG_FORMAT)",
        ),
        (
            vec!["server", "worker"],
            vec![("OPSC_NATS_ULR", "x".into())],
            "OPSC_NATS_ULR: unknown setting",
        ),
        (
            vec!["server", "worker", "--config", "/nonexistent/opsc.toml"],
            vec![],
            "--config",
        ),
        (
            vec!["server", "scheduler", "--nats-prefix", "9lives"],
            vec![],
            "nats.prefix (OPSC_NATS_PREFIX)",
        ),
    ];
    for (args, env, setting) in cases {
        fails_naming(&args, &env, setting).await;
    }
}

#[tokio::test]
async fn unknown_keys_in_the_config_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsc.toml");
    std::fs::write(&file, "[worker]\npool = \"p1\"\npoool = \"typo\"\n").unwrap();
    fails_naming(
        &["server", "worker", "--config", file.to_str().unwrap()],
        &[],
        "poool",
    )
    .await;
}

#[tokio::test]
async fn the_example_config_is_valid() {
    // deploy/opsconductor.example.toml documents every setting; it must load.
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/opsconductor.example.toml"
    );
    let cfg = opsc_runtime::Config::load(&opsc_runtime::config::Sources {
        file: Some(std::path::Path::new(file)),
        ..Default::default()
    })
    .expect("example config loads");
    cfg.validate(&[opsc_runtime::Role::Scheduler]).unwrap();
    // The notifier needs its seal key, which the example leaves commented out.
    let e = cfg.validate(&[opsc_runtime::Role::Notifier]).unwrap_err();
    assert!(e.to_string().contains("notifier.seal_key"), "{e}");
    let text = std::fs::read_to_string(file).unwrap();
    for s in opsc_runtime::config::SETTINGS {
        let leaf = s.key.rsplit('.').next().unwrap();
        assert!(
            text.contains(leaf),
            "example config does not mention {}",
            s.key
        );
        assert!(
            text.contains(s.env),
            "example config does not name {}",
            s.env
        );
    }
}

#[tokio::test]
async fn a_nats_without_jetstream_stops_the_binary_with_a_reason() {
    let nats = crate::harness::PrivateNats::start_without_jetstream().await;
    let port = crate::harness::free_port();
    let mut p = Opsc::spawn(
        &["server", "worker"],
        &env_of(&[
            ("OPSC_NATS_URL", nats.url()),
            ("OPSC_WORKER_HEALTH_ADDR", format!("127.0.0.1:{port}")),
            (
                "OPSC_WORKER_SEAL_KEY",
                crate::harness::TEST_MASTER_KEY.to_owned(),
            ),
        ]),
    );
    assert_eq!(p.wait().await, Some(1));
    assert!(p.output().contains("no JetStream"), "{}", p.output());
    let _ = shared_nats_url();
}
