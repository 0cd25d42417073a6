//! Job definitions: JSON and YAML documents, located validation errors,
//! immutable versions, clone, export/import, activation, access, secrets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;

fn definition(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Restarts a service",
        "parameters": {
            "service": {"type": "string", "default": "nginx", "pattern": "[a-z-]+"},
            "password": {"type": "secret", "required": true}
        },
        "steps": [
            {"id": "stop", "type": "ssh.exec", "with": {"command": "systemctl stop {{ params.service }}"}},
            {"id": "start", "type": "ssh.exec", "with": {"command": "systemctl start {{ params.service }}"},
             "retry": {"attempts": 2}}
        ]
    })
}

const YAML: &str = "\
name: disk-report
description: Reports free space
parameters:
  path:
    type: string
    default: /var
steps:
  - id: df
    type: local.exec
    with:
      command: df -h {{ params.path }}
  - id: pause
    type: wait
    with:
      seconds: 1
";

/// Sends a raw body with a content type; status and JSON body (Null when none).
async fn post(
    api: &ApiServer,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<String>,
) -> (u16, Value) {
    let res = api
        .req(Method::POST, path, Some(token))
        .header("content-type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create(api: &ApiServer, token: &str, doc: Value) -> Value {
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(token), Some(doc))
        .await;
    assert_eq!(s, 201, "{b}");
    b
}

fn paths(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

async fn total(api: &ApiServer, token: &str, query: &str) -> u64 {
    let (s, b) = api
        .call(
            Method::GET,
            &format!("/api/v1/jobs{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["total"].as_u64().unwrap()
}

#[tokio::test]
async fn invalid_documents_are_refused_with_paths_and_store_nothing() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;

    let mut unknown = definition("j");
    unknown["steps"][0]["comand"] = json!("x");
    let mut duplicate = definition("j");
    duplicate["steps"][1]["id"] = json!("stop");
    let mut bad_type = definition("j");
    bad_type["steps"][1]["type"] = json!("teleport");
    let mut later = definition("j");
    later["steps"][0]["with"]["command"] = json!("echo {{ steps.start.stdout }}");
    let mut missing = definition("j");
    missing["steps"][1]["with"]["command"] = json!("echo {{ steps.nowhere.stdout }}");
    let cases = [
        (unknown, "/steps/0/comand"),
        (duplicate, "/steps/1/id"),
        (bad_type, "/steps/1/type"),
        (later, "/steps/0/with/command"),
        (missing, "/steps/1/with/command"),
    ];
    for (doc, path) in cases {
        let (s, b) = api
            .call(Method::POST, "/api/v1/jobs", Some(&admin), Some(doc))
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["type"], "https://opsconductor.dev/problems/invalid-body");
        assert!(paths(&b).contains(&path.to_owned()), "{path} in {b}");
    }

    // Every problem at once.
    let mut many = definition("");
    many["steps"][1]["id"] = json!("stop");
    many["steps"][0]["type"] = json!("nope");
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(&admin), Some(many))
        .await;
    assert_eq!(s, 422, "{b}");
    let found = paths(&b);
    for p in ["/name", "/steps/0/type", "/steps/1/id"] {
        assert!(found.contains(&p.to_owned()), "{p} in {b}");
    }

    // YAML errors are located too; an unknown content type is 415.
    let bad_yaml = YAML.replace("    type: wait", "    type: wait\n    colour: red");
    let (s, b) = post(&api, "/api/v1/jobs", &admin, "application/yaml", bad_yaml).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(paths(&b), vec!["/steps/1/colour"]);
    let (s, b) = post(&api, "/api/v1/jobs", &admin, "text/plain", YAML).await;
    assert_eq!(s, 415, "{b}");

    // A secret parameter cannot carry a default, and it is never echoed.
    let mut secret = definition("with-secret");
    secret["parameters"]["password"]["default"] = json!("hunter2-secret");
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(&admin), Some(secret))
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(paths(&b), vec!["/parameters/password/default"]);
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("secret parameters cannot have defaults: pass the value at run time"),
        "{b}"
    );
    assert!(!b.to_string().contains("hunter2"), "{b}");

    assert_eq!(total(&api, &admin, "").await, 0, "nothing stored");
    api.stop().await;
}

#[tokio::test]
async fn versions_activation_clone_delete_and_access() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "vera", "viewer", "viewer-password-1")
        .await;
    let (viewer, _) = api.login("vera", "viewer-password-1").await;

    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&viewer),
            Some(definition("nope")),
        )
        .await;
    assert_eq!(s, 403, "{b}");

    let job = create(&api, &admin, definition("restart")).await;
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(job["current_version"], 1);
    assert_eq!(job["active"], true);
    assert_eq!(job["definition"]["steps"][1]["id"], "start");
    let (s, yaml_job) = post(&api, "/api/v1/jobs", &admin, "application/yaml", YAML).await;
    assert_eq!(s, 201, "{yaml_job}");
    assert_eq!(yaml_job["name"], "disk-report");
    assert_eq!(yaml_job["definition"]["steps"][1]["with"]["seconds"], 1);

    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&admin),
            Some(definition("restart")),
        )
        .await;
    assert_eq!(s, 409, "{b}");

    // PUT stores version 2; the same document again stores nothing.
    let mut v2 = definition("restart-service");
    v2["description"] = json!("Restarts a service, politely");
    let path = format!("/api/v1/jobs/{id}");
    let (s, b) = api
        .call(Method::PUT, &path, Some(&admin), Some(v2.clone()))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["current_version"], 2);
    assert_eq!(b["name"], "restart-service");
    let (s, b) = api
        .call(Method::PUT, &path, Some(&admin), Some(v2.clone()))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["current_version"], 2, "identical PUT makes no version");
    let mut bad = v2.clone();
    bad["steps"][1]["id"] = json!("stop");
    let (s, b) = api.call(Method::PUT, &path, Some(&admin), Some(bad)).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = api
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(definition("disk-report")),
        )
        .await;
    assert_eq!(s, 409, "{b}");

    let (s, b) = api
        .call(
            Method::GET,
            &format!("{path}/versions"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let versions: Vec<i64> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1]);
    let (s, b) = api
        .call(
            Method::GET,
            &format!("{path}/versions/1"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["definition"]["name"], "restart");
    assert_eq!(b["definition"]["description"], "Restarts a service");
    let (s, _) = api
        .call(
            Method::GET,
            &format!("{path}/versions/9"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, b) = api.call(Method::GET, &path, Some(&viewer), None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["definition"]["description"],
        "Restarts a service, politely"
    );
    assert!(b["definition"]["parameters"]["password"]["default"].is_null());

    // Deactivate, filter, activate.
    let (s, b) = api
        .call(
            Method::PATCH,
            &path,
            Some(&viewer),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = api
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["active"], false);
    assert_eq!(total(&api, &viewer, "?active=false").await, 1);
    assert_eq!(total(&api, &viewer, "?active=true").await, 1);
    assert_eq!(total(&api, &viewer, "?name=RESTART").await, 1);
    assert_eq!(total(&api, &viewer, "?name=zzz").await, 0);

    // Clone takes the current definition under a new name.
    let (s, b) = api
        .call(
            Method::POST,
            &format!("{path}/clone"),
            Some(&admin),
            Some(json!({"name": "restart-copy"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["current_version"], 1);
    assert_eq!(b["definition"]["name"], "restart-copy");
    assert_eq!(
        b["definition"]["description"],
        "Restarts a service, politely"
    );
    let (s, b) = api
        .call(
            Method::POST,
            &format!("{path}/clone"),
            Some(&admin),
            Some(json!({"name": "disk-report"})),
        )
        .await;
    assert_eq!(s, 409, "{b}");

    // Delete takes the versions with it.
    let (s, _) = api.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(s, 204);
    let (s, _) = api.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(s, 404);
    let (s, _) = api
        .call(
            Method::GET,
            &format!("{path}/versions/1"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(total(&api, &admin, "").await, 2);

    let (s, b) = api
        .call(
            Method::GET,
            &format!("/api/v1/audit?entity_id={id}&limit=100"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let actions: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "success")
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in ["job.create", "job.update", "job.deactivate", "job.delete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    api.stop().await;
}

#[tokio::test]
async fn export_and_import_round_trip_in_both_formats() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create(&api, &admin, definition("restart")).await;
    let id = job["id"].as_str().unwrap();

    for format in ["json", "yaml"] {
        let res = api
            .req(
                Method::GET,
                &format!("/api/v1/jobs/{id}/export?format={format}"),
                Some(&admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let disposition = res.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"restart.{format}\"")
        );
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        let doc = res.text().await.unwrap();

        // The same name without replace conflicts; with replace, an identical
        // document stores no version.
        let (s, b) = post(
            &api,
            "/api/v1/jobs/import",
            &admin,
            &content_type,
            doc.clone(),
        )
        .await;
        assert_eq!(s, 409, "{b}");
        let (s, b) = post(
            &api,
            "/api/v1/jobs/import?replace=true",
            &admin,
            &content_type,
            doc.clone(),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["current_version"], 1, "{format}: identical import");
        assert_eq!(b["definition"], job["definition"], "{format} round trip");

        // Under another name it creates a job with the same definition.
        let renamed = doc.replacen("restart", &format!("restart-{format}"), 1);
        let (s, b) = post(&api, "/api/v1/jobs/import", &admin, &content_type, renamed).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["name"], format!("restart-{format}"));
        assert_eq!(b["definition"]["steps"], job["definition"]["steps"]);
        assert_eq!(
            b["definition"]["parameters"],
            job["definition"]["parameters"]
        );
    }

    // A changed document with replace adds a version.
    let yaml = YAML.replace("disk-report", "restart");
    let (s, b) = post(
        &api,
        "/api/v1/jobs/import?replace=true",
        &admin,
        "text/yaml",
        yaml,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["id"], job["id"]);
    assert_eq!(b["current_version"], 2);
    assert_eq!(b["definition"]["steps"][0]["id"], "df");

    let (s, b) = api
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{id}/export?format=xml"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(total(&api, &admin, "").await, 3);
    api.stop().await;
}
