//! `opsconductor dev`: from nothing to ready, with a first admin and no default password.

use std::time::{Duration, Instant};

use sea_orm::EntityTrait as _;
use secrecy::SecretString;

use crate::harness::{
    Opsc, TestDb, env_of, free_port, shared_nats_url, status_of, unique_prefix, wait_until,
};

#[tokio::test]
async fn dev_reaches_ready_creates_the_admin_and_drains() {
    let db = TestDb::reserve();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let prefix = unique_prefix();
    let env = env_of(&[
        ("OPSC_DATABASE_URL", db.url.clone()),
        ("OPSC_NATS_URL", shared_nats_url()),
        ("OPSC_NATS_PREFIX", prefix.to_string()),
        ("OPSC_HTTP_ADDR", format!("127.0.0.1:{port}")),
    ]);
    let args = ["dev", "--data-dir", data.path().to_str().unwrap()];
    let started = Instant::now();
    let mut dev = Opsc::spawn(&args, &env);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    wait_until("dev to be ready", Duration::from_secs(10), || {
        let ready = ready.clone();
        async move { status_of(&ready).await == 200 }
    })
    .await;
    println!("dev ready after {:?}", started.elapsed());

    let out = dev.output();
    let password = out
        .lines()
        .skip_while(|l| !l.contains("generated password"))
        .nth(1)
        .map(str::trim)
        .expect("the generated password is printed once")
        .to_owned();
    let conn = db.connect().await;
    let users = opsc_api::store::user::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "admin");
    assert!(users[0].password_hash.starts_with("$argon2id$"));
    assert!(opsc_api::password::verify(
        &SecretString::from(password.clone()),
        &users[0].password_hash
    ));
    assert!(!out.contains(&users[0].password_hash));

    // The demo job runs to success out of the box, with no targets.
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::harness::http();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let jobs: serde_json::Value = client
        .get(format!("{base}/api/v1/jobs?name=demo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let demo = jobs["items"][0]["id"]
        .as_str()
        .expect("the demo job exists")
        .to_owned();
    let run: serde_json::Value = client
        .post(format!("{base}/api/v1/jobs/{demo}/run"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"parameters": {"who": "tester"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["run_id"]
        .as_str()
        .expect("202 with a run id")
        .to_owned();
    let stream = client
        .get(format!("{base}/api/v1/runs/{run_id}/stream"))
        .bearer_auth(&token)
        // The stream lasts as long as the run: on a loaded machine that is
        // more than the client's usual five seconds.
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stream.contains("Hello, tester, from"), "{stream}");
    assert!(stream.contains("\"status\":\"succeeded\""), "{stream}");
    assert_eq!(
        dev.terminate().await,
        Some(0),
        "SIGTERM drains to exit 0: {}",
        dev.output()
    );

    // A second start keeps the admin, prints no password, and reuses the master key.
    let key = std::fs::read_to_string(data.path().join("master.key")).unwrap();
    let mut again = Opsc::spawn(&args, &env);
    wait_until("dev to be ready again", Duration::from_secs(10), || {
        let ready = ready.clone();
        async move { status_of(&ready).await == 200 }
    })
    .await;
    assert!(
        again.output().contains("existing user"),
        "{}",
        again.output()
    );
    assert!(!again.output().contains(&password));
    assert_eq!(
        std::fs::read_to_string(data.path().join("master.key")).unwrap(),
        key
    );
    assert_eq!(again.terminate().await, Some(0));
    assert_eq!(
        opsc_api::store::user::Entity::find()
            .all(&conn)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(conn);
    db.drop_now().await;
    let js = async_nats::jetstream::new(async_nats::connect(shared_nats_url()).await.unwrap());
    crate::harness::cleanup_prefix(&js, &prefix).await;
}
