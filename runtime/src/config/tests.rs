use super::*;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn api_env() -> Vec<(String, String)> {
    env(&[
        ("OPSC_DATABASE_URL", "postgres://localhost/x"),
        ("OPSC_MASTER_KEY", KEY),
    ])
}

#[test]
fn defaults_are_valid_for_roles_without_secrets() {
    let c = Config::load(&Sources::default()).unwrap();
    assert_eq!(c.nats.prefix.as_str(), "opsc");
    c.validate(&[Role::Scheduler]).unwrap();
}

#[test]
fn a_notifier_needs_its_seal_key_or_the_master_key() {
    let c = Config::load(&Sources::default()).unwrap();
    let e = c.validate(&[Role::Notifier]).unwrap_err();
    assert!(e.to_string().contains("notifier.seal_key"), "{e}");
    let master = crate::keys::MasterKey::from_bytes([7; 32]);
    let key = crate::keys::SealKey::for_notifier(&master);
    let mut with_key = c.clone();
    with_key.notifier.seal_key = Some(key.to_base64().into());
    with_key.validate(&[Role::Notifier]).unwrap();
    assert_ne!(
        key.to_base64(),
        crate::keys::SealKey::for_pool(&master, "notifier").to_base64(),
        "the notifier's key is not the key of a pool named notifier"
    );
    let mut bad = c;
    bad.notifier.concurrency = 0;
    bad.notifier.seal_key = with_key.notifier.seal_key;
    assert!(
        bad.validate(&[Role::Notifier])
            .unwrap_err()
            .to_string()
            .contains("notifier.concurrency")
    );
}

#[test]
fn a_worker_needs_its_seal_key_or_the_master_key() {
    let c = Config::load(&Sources::default()).unwrap();
    let e = c.validate(&[Role::Worker]).unwrap_err();
    assert!(e.to_string().contains("worker.seal_key"), "{e}");
    assert!(
        e.to_string().contains("keys seal-key --pool default"),
        "{e}"
    );
    let key =
        crate::keys::SealKey::for_pool(&crate::keys::MasterKey::from_bytes([3; 32]), "default");
    let mut with_key = c;
    with_key.worker.seal_key = Some(key.to_base64().into());
    with_key.validate(&[Role::Worker]).unwrap();
    with_key.worker.seal_key = Some("c2hvcnQ=".to_owned().into());
    assert!(with_key.validate(&[Role::Worker]).is_err());
}

#[test]
fn a_worker_alone_never_holds_the_master_key() {
    let mut c = Config::load(&Sources::default()).unwrap();
    c.security.master_key = Some(KEY.to_owned().into());
    let e = c.validate(&[Role::Worker]).unwrap_err().to_string();
    assert!(
        e.contains("security.master_key") && e.contains("seal key"),
        "{e}"
    );
    // In one process with the api (`server all`) it derives its seal key from it.
    c.worker_seal_key().unwrap();
}

#[test]
fn pool_capabilities_and_passed_variables_are_checked() {
    let c = Config::load(&Sources {
        env: vec![
            ("OPSC_POOLS_LOCAL_EXEC".into(), "default, dmz".into()),
            ("OPSC_POOLS_HOST_FILES".into(), "dmz".into()),
            ("OPSC_WORKER_ENV_PASS".into(), "PATH,LANG".into()),
        ],
        ..Sources::default()
    })
    .unwrap();
    assert!(c.pools.of("default").local_exec && !c.pools.of("default").host_files);
    assert!(c.pools.of("dmz").local_exec && c.pools.of("dmz").host_files);
    assert!(!c.pools.of("other").local_exec);
    assert_eq!(c.worker.env_pass, ["PATH", "LANG"]);
    let bad = |k: &str, v: &str| {
        Config::load(&Sources {
            env: vec![(k.into(), v.into())],
            ..Sources::default()
        })
        .unwrap()
        .validate(&[Role::Scheduler])
        .err()
        .or_else(|| {
            let mut c = Config::load(&Sources {
                env: vec![(k.into(), v.into())],
                ..Sources::default()
            })
            .unwrap();
            c.worker.seal_key = Some(
                crate::keys::SealKey::for_pool(
                    &crate::keys::MasterKey::from_bytes([3; 32]),
                    "default",
                )
                .to_base64()
                .into(),
            );
            c.validate(&[Role::Worker]).err()
        })
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    assert!(bad("OPSC_POOLS_LOCAL_EXEC", "a.b").contains("pools.local_exec"));
    assert!(bad("OPSC_WORKER_ENV_PASS", "OPSC_MASTER_KEY").contains("never passed"));
    assert!(bad("OPSC_WORKER_ENV_PASS", "A;B").contains("not a variable name"));
}

#[test]
fn layers_apply_in_order_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[nats]\nurl = \"nats://file:4222\"\nprefix = \"fromfile\"\n[worker]\npool = \"filepool\"\n").unwrap();
    let sources = Sources {
        file: Some(&file),
        env: env(&[
            ("OPSC_NATS_PREFIX", "fromenv"),
            ("OPSC_WORKER_POOL", "envpool"),
            ("HOME", "/x"),
        ]),
        flags: vec![("worker.pool", "flagpool".into())],
    };
    let c = Config::load(&sources).unwrap();
    assert_eq!(c.nats.url, "nats://file:4222");
    assert_eq!(c.nats.prefix.as_str(), "fromenv");
    assert_eq!(c.worker.pool, "flagpool");
}

#[test]
fn bad_values_name_the_setting() {
    let cases = [
        (
            "OPSC_HTTP_ADDR",
            "not-an-addr",
            "http.addr (OPSC_HTTP_ADDR)",
        ),
        (
            "OPSC_NATS_PREFIX",
            "Bad.Prefix",
            "nats.prefix (OPSC_NATS_PREFIX)",
        ),
        (
            "OPSC_WORKER_CONCURRENCY",
            "many",
            "worker.concurrency (OPSC_WORKER_CONCURRENCY)",
        ),
        ("OPSC_LOG_FORMAT", "xml", "log.format (OPSC_LOG_FORMAT)"),
    ];
    for (name, value, setting) in cases {
        let err = Config::load(&Sources {
            env: env(&[(name, value)]),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.setting, setting, "{err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn unknown_opsc_variables_are_refused() {
    let err = Config::load(&Sources {
        env: env(&[("OPSC_NATS_ULR", "x")]),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.setting, "OPSC_NATS_ULR");
}

#[test]
fn unknown_file_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[nats]\nulr = \"x\"\n").unwrap();
    let err = Config::load(&Sources {
        file: Some(&file),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("ulr"), "{err}");
}

#[test]
fn api_role_requires_database_and_master_key() {
    let c = Config::load(&Sources::default()).unwrap();
    let err = c.validate(&[Role::Api]).unwrap_err();
    assert_eq!(err.setting, "database.url (OPSC_DATABASE_URL)");

    let c = Config::load(&Sources {
        env: env(&[("OPSC_DATABASE_URL", "postgres://localhost/x")]),
        ..Default::default()
    })
    .unwrap();
    let err = c.validate(&[Role::Api]).unwrap_err();
    assert_eq!(err.setting, "security.master_key (OPSC_MASTER_KEY)");

    let c = Config::load(&Sources {
        env: api_env(),
        ..Default::default()
    })
    .unwrap();
    c.validate(&Role::ALL).unwrap();
    assert_eq!(c.master_key().unwrap().expose()[31], 31);
}

#[test]
fn master_key_must_be_32_bytes_of_base64() {
    for (bad, why) in [("short", "base64"), ("AAEC", "32 bytes")] {
        let mut e = api_env();
        e[1].1 = bad.into();
        let c = Config::load(&Sources {
            env: e,
            ..Default::default()
        })
        .unwrap();
        let err = c.validate(&[Role::Api]).unwrap_err();
        assert!(err.problem.contains(why), "{err}");
    }
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let c = Config::load(&Sources {
        env: api_env(),
        ..Default::default()
    })
    .unwrap();
    let dbg = format!("{c:?} {:?}", c.master_key().unwrap());
    assert!(!dbg.contains(KEY));
    assert!(!dbg.contains("postgres://localhost/x"));
}

#[test]
fn invalid_worker_pool_is_refused() {
    let c = Config::load(&Sources {
        env: env(&[("OPSC_WORKER_POOL", "a.b")]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        c.validate(&[Role::Worker]).unwrap_err().setting,
        "worker.pool (OPSC_WORKER_POOL)"
    );
}

#[test]
fn environment_strings_become_numbers_only_where_numbers_are_expected() {
    let c = Config::load(&Sources {
        env: env(&[
            ("OPSC_WORKER_HEARTBEAT_SECS", "1"),
            ("OPSC_BOOTSTRAP_ADMIN_PASSWORD", "123456789012345"),
        ]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.worker.heartbeat_secs, 1);
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&c.bootstrap_admin_password().unwrap().unwrap()),
        "123456789012345"
    );
}

#[test]
fn database_password_file_is_inserted_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "p@ss:w/rd\n").unwrap();
    let c = Config::load(&Sources {
        env: env(&[
            ("OPSC_DATABASE_URL", "postgres://opsc@db:5432/opsc"),
            ("OPSC_DATABASE_PASSWORD_FILE", pw.to_str().unwrap()),
            ("OPSC_MASTER_KEY", KEY),
        ]),
        ..Default::default()
    })
    .unwrap();
    c.validate(&[Role::Api]).unwrap();
    let url = c.database_url().unwrap().unwrap();
    assert_eq!(
        url.expose_secret(),
        "postgres://opsc:p%40ss%3Aw%2Frd@db:5432/opsc"
    );
}
