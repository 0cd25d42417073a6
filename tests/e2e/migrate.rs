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
