//! `opsconductor migrate`, and the api refusing an old schema or a missing bootstrap password.

use crate::harness::{
    Opsc, TEST_MASTER_KEY, TestDb, env_of, free_port, shared_nats_url, unique_prefix,
};

#[tokio::test]
async fn migrate_applies_once_and_is_idempotent() {
    let db = TestDb::create().await;
    let env = env_of(&[("OPSC_DATABASE_URL", db.url.clone())]);
    let mut first = Opsc::spawn(&["migrate"], &env);
    assert_eq!(first.wait().await, Some(0), "{}", first.output());
    use opsc_migrations::MigratorTrait as _;
    let all = opsc_migrations::Migrator::migrations().len();
    assert!(
        first
            .output()
            .contains(&format!("Applied {all} migration(s)")),
        "{}",
        first.output()
    );
    let mut second = Opsc::spawn(&["migrate"], &env);
    assert_eq!(second.wait().await, Some(0), "{}", second.output());
    assert!(
        second.output().contains("Applied 0 migration(s)"),
        "{}",
        second.output()
    );

    use sea_orm::ConnectionTrait as _;
    let conn = db.connect().await;
    let row = conn
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM users",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0);
    drop(conn);
    db.drop_now().await;
}

fn api_env(db: &TestDb, extra: &[(&str, String)]) -> std::collections::BTreeMap<String, String> {
    let mut env = env_of(&[
        ("OPSC_DATABASE_URL", db.url.clone()),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ("OPSC_NATS_URL", shared_nats_url()),
        ("OPSC_NATS_PREFIX", unique_prefix().to_string()),
        ("OPSC_HTTP_ADDR", format!("127.0.0.1:{}", free_port())),
    ]);
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env
}

#[tokio::test]
async fn api_refuses_an_unmigrated_database() {
    let db = TestDb::create().await;
    let mut p = Opsc::spawn(&["server", "api"], &api_env(&db, &[]));
    assert_eq!(p.wait().await, Some(1));
    assert!(
        p.output().contains("run `opsconductor migrate`"),
        "{}",
        p.output()
    );
    db.drop_now().await;
}

#[tokio::test]
async fn api_without_users_needs_a_bootstrap_password_that_passes_policy() {
    let db = TestDb::create().await;
    let mut m = Opsc::spawn(
        &["migrate"],
        &env_of(&[("OPSC_DATABASE_URL", db.url.clone())]),
    );
    assert_eq!(m.wait().await, Some(0));

    let mut p = Opsc::spawn(&["server", "api"], &api_env(&db, &[]));
    assert_eq!(p.wait().await, Some(1));
    assert!(
        p.output().contains("OPSC_BOOTSTRAP_ADMIN_PASSWORD"),
        "{}",
        p.output()
    );

    let weak = [("OPSC_BOOTSTRAP_ADMIN_PASSWORD", "admin123".to_owned())];
    let mut p = Opsc::spawn(&["server", "api"], &api_env(&db, &weak));
    assert_eq!(p.wait().await, Some(1));
    assert!(
        p.output().contains("at least 12 characters"),
        "{}",
        p.output()
    );
    assert!(
        !p.output().contains("admin123"),
        "the password is never echoed"
    );
    db.drop_now().await;
}

#[tokio::test]
async fn existing_credentials_are_scoped_to_the_hosts_their_targets_use() {
    use opsc_migrations::MigratorTrait as _;
    use sea_orm::ConnectionTrait as _;
    let db = TestDb::create().await;
    let conn = db.connect().await;
    let before_scope = opsc_migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name().contains("credential_scope"))
        .unwrap();
    opsc_migrations::Migrator::up(&conn, Some(u32::try_from(before_scope).unwrap()))
        .await
        .unwrap();
    let (ssh, http, unused) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    for (id, name) in [(ssh, "ssh"), (http, "http"), (unused, "unused")] {
        conn.execute_unprepared(&format!(
            "INSERT INTO credentials (id, name, kind, description, public, sealed, wrapped_dek, kek_id, created_at, updated_at)
             VALUES ('{id}', '{name}', 'ssh_key', '', '{{}}', '\\x00', '\\x00', 'k1', now(), now())"
        ))
        .await
        .unwrap();
    }
    for (name, host, ssh_json, http_json) in [
        (
            "a",
            "Web1.Example.com.",
            format!("{{\"credential_id\": \"{ssh}\"}}"),
            "null".to_owned(),
        ),
        (
            "b",
            "10.0.0.5",
            format!("{{\"credential_id\": \"{ssh}\"}}"),
            "null".to_owned(),
        ),
        (
            "c",
            "ignored",
            "null".to_owned(),
            format!(
                "{{\"base_url\": \"https://user:pw@[2001:db8::1]:8443/api\", \"credential_id\": \"{http}\"}}"
            ),
        ),
    ] {
        conn.execute_unprepared(&format!(
            "INSERT INTO targets (id, name, hostname, os_type, ssh, winrm, http, tags, metadata, pool, enabled, created_at, updated_at)
             VALUES ('{}', '{name}', '{host}', 'linux', {}, NULL, {}, '[]', '{{}}', 'default', true, now(), now())",
            uuid::Uuid::now_v7(),
            if ssh_json == "null" { "NULL".to_owned() } else { format!("'{ssh_json}'") },
            if http_json == "null" { "NULL".to_owned() } else { format!("'{http_json}'") },
        ))
        .await
        .unwrap();
    }
    opsc_migrations::Migrator::up(&conn, None).await.unwrap();
    let scope = |id: uuid::Uuid| {
        let conn = &conn;
        async move {
            conn.query_one(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT scope::text AS s FROM credentials WHERE id = '{id}'"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<String>("", "s")
            .unwrap()
        }
    };
    let parsed = |s: String| serde_json::from_str::<serde_json::Value>(&s).unwrap();
    assert_eq!(
        parsed(scope(ssh).await),
        serde_json::json!({"hosts": ["10.0.0.5", "web1.example.com"]})
    );
    assert_eq!(
        parsed(scope(http).await),
        serde_json::json!({"hosts": ["2001:db8::1"]})
    );
    assert_eq!(
        parsed(scope(unused).await),
        serde_json::json!({"hosts": []})
    );
    drop(conn);
    db.drop_now().await;
}
