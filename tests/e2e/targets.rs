//! Targets, groups, filters, and all-or-nothing bulk import/export.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;

async fn credential(api: &ApiServer, admin: &str, name: &str, spec: Value) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(admin),
            Some(json!({"name": name, "spec": spec})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn target(api: &ApiServer, admin: &str, body: Value) -> Value {
    let (s, b) = api
        .call(Method::POST, "/api/v1/targets", Some(admin), Some(body))
        .await;
    assert_eq!(s, 201, "{b}");
    b
}

fn names(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn targets_and_groups_with_filters_selectors_and_references() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let ssh = credential(
        &api,
        &admin,
        "ssh-pw",
        json!({"type": "ssh_password", "username": "ops", "password": "secret-pw-1"}),
    )
    .await;
    let win = credential(&api, &admin, "win", json!({"type": "winrm", "username": "Administrator", "password": "secret-pw-2", "auth": "ntlm"})).await;

    let web1 = target(
        &api,
        &admin,
        json!({"name": "web-1", "hostname": "web1.example.com", "os_type": "linux",
        "ssh": {"credential_id": ssh}, "tags": ["web", "prod"]}),
    )
    .await;
    target(&api, &admin, json!({"name": "web-2", "hostname": "10.0.0.12", "os_type": "linux",
        "ssh": {"credential_id": ssh, "port": 2222, "host_key_policy": "accept-new"}, "tags": ["web"], "pool": "dmz"})).await;
    let db1 = target(
        &api,
        &admin,
        json!({"name": "db-1", "hostname": "db1.example.com", "os_type": "linux",
        "ssh": {"credential_id": ssh}, "tags": ["db", "prod"], "metadata": {"rack": 4}}),
    )
    .await;
    target(
        &api,
        &admin,
        json!({"name": "win-1", "hostname": "win1.example.com", "os_type": "windows",
        "winrm": {"credential_id": win, "scheme": "https"}, "tags": ["prod"]}),
    )
    .await;
    assert_eq!(
        web1["ssh"]["host_key_policy"], "strict",
        "strict is the default"
    );
    assert_eq!(web1["ssh"]["port"], 22);

    // Wrong or missing credentials, bad host names and duplicates are refused with the field named.
    for (bad, field) in [
        (
            json!({"name": "x", "hostname": "x.example", "os_type": "linux", "ssh": {"credential_id": win}}),
            "ssh.credential_id",
        ),
        (
            json!({"name": "x", "hostname": "x.example", "os_type": "windows", "winrm": {"credential_id": uuid::Uuid::now_v7()}}),
            "winrm.credential_id",
        ),
        (
            json!({"name": "x", "hostname": "bad host!", "os_type": "linux"}),
            "hostname",
        ),
        (
            json!({"name": "x", "hostname": "x.example", "os_type": "linux", "tags": ["no spaces"]}),
            "tags",
        ),
    ] {
        let (s, b) = api
            .call(Method::POST, "/api/v1/targets", Some(&admin), Some(bad))
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["errors"][0]["field"], field, "{b}");
    }
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(json!({"name": "web-1", "hostname": "h", "os_type": "linux"})),
        )
        .await;
    assert_eq!(s, 409);

    let list = |q: &'static str| {
        let (api, admin) = (&api, admin.clone());
        async move {
            api.call(
                Method::GET,
                &format!("/api/v1/targets{q}"),
                Some(&admin),
                None,
            )
            .await
            .1
        }
    };
    assert_eq!(names(&list("?tag=web").await), ["web-1", "web-2"]);
    assert_eq!(names(&list("?os_type=windows").await), ["win-1"]);
    assert_eq!(names(&list("?name=WEB").await), ["web-1", "web-2"]);
    assert_eq!(names(&list("?pool=dmz").await), ["web-2"]);
    assert_eq!(list("?limit=2").await["total"], 4);
    assert_eq!(list("?limit=2").await["items"].as_array().unwrap().len(), 2);

    // A group with a static member and a selector resolves to both.
    let (s, g) = api
        .call(Method::POST, "/api/v1/target-groups", Some(&admin), Some(json!({
            "name": "prod-linux-and-web2", "members": [db1["id"]], "selector": {"tags": ["prod"], "os_type": "linux"}})))
        .await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().unwrap();
    let (_, members) = api
        .call(
            Method::GET,
            &format!("/api/v1/target-groups/{gid}/targets"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(names(&members), ["db-1", "web-1"]);
    assert_eq!(
        names(
            &api.call(
                Method::GET,
                &format!("/api/v1/targets?group={gid}"),
                Some(&admin),
                None
            )
            .await
            .1
        ),
        ["db-1", "web-1"]
    );

    // A credential in use cannot be deleted; a deleted target leaves static membership.
    let (s, b) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/credentials/{ssh}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let did = db1["id"].as_str().unwrap();
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/api/v1/targets/{did}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    let (_, g2) = api
        .call(
            Method::GET,
            &format!("/api/v1/target-groups/{gid}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(g2["members"], json!([]));
    api.stop().await;
}

#[tokio::test]
async fn import_with_one_bad_row_imports_nothing_and_names_the_row() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    credential(
        &api,
        &admin,
        "linux-key-cred",
        json!({"type": "ssh_password", "username": "ops", "password": "pw-123456"}),
    )
    .await;
    let csv_bad = "name,hostname,os_type,tags,ssh_credential,ssh_port\n\
                   app-1,app1.example.com,linux,web;prod,linux-key-cred,22\n\
                   app-2,app2.example.com,solaris,web,linux-key-cred,22\n\
                   app-3,app3.example.com,linux,,no-such-cred,22\n";
    let res = api
        .req(Method::POST, "/api/v1/targets/import", Some(&admin))
        .header("content-type", "text/csv")
        .body(csv_bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("row(s) 2, 3"),
        "{body}"
    );
    let rows: Vec<u64> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [2, 3], "{body}");
    assert_eq!(
        api.call(Method::GET, "/api/v1/targets", Some(&admin), None)
            .await
            .1["total"],
        0,
        "nothing imported"
    );

    let csv_good = csv_bad
        .replace("solaris", "unix")
        .replace("no-such-cred", "linux-key-cred");
    let res = api
        .req(Method::POST, "/api/v1/targets/import", Some(&admin))
        .header("content-type", "text/csv")
        .body(csv_good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["imported"], 3);

    // Export, then import the JSON export into a second installation: the same targets.
    let export = api
        .req(
            Method::GET,
            "/api/v1/targets/export?format=json",
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exported: Vec<Value> = serde_json::from_str(&export).unwrap();
    assert_eq!(exported.len(), 3);
    assert_eq!(exported[0]["tags"], json!(["prod", "web"]));
    let csv = api
        .req(
            Method::GET,
            "/api/v1/targets/export?format=csv",
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("name,hostname,os_type,pool"));
    assert_eq!(csv.lines().count(), 4);

    // A JSON import with a duplicate name inside the file is refused whole.
    let dup = json!([
        {"name": "n-1", "hostname": "n1.example.com", "os_type": "linux"},
        {"name": "n-1", "hostname": "n2.example.com", "os_type": "linux"},
    ]);
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/targets/import",
            Some(&admin),
            Some(dup),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["row"], 2);
    assert_eq!(
        api.call(Method::GET, "/api/v1/targets", Some(&admin), None)
            .await
            .1["total"],
        3
    );
    api.stop().await;
}
