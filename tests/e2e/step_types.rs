//! The step-type catalogue (`/api/v1/step-types`) and the check of `with`
//! against its schemas when a job is saved, against the real api.

use reqwest::Method;
use serde_json::json;

use crate::harness::ApiServer;

#[tokio::test]
async fn the_catalogue_lists_every_type_and_a_mistyped_key_is_refused_at_save() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "cat-viewer", "viewer", "cat-viewer-pass-77x")
        .await;
    let (viewer, _) = api.login("cat-viewer", "cat-viewer-pass-77x").await;

    let (s, _) = api
        .call(Method::GET, "/api/v1/step-types", None, None)
        .await;
    assert_eq!(s, 401, "the catalogue needs a sign-in");
    let (s, list) = api
        .call(Method::GET, "/api/v1/step-types", Some(&viewer), None)
        .await;
    assert_eq!(s, 200, "{list}");
    let items = list["items"].as_array().expect("items");
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    for want in [
        "ssh.exec",
        "sftp.upload",
        "winrm.exec",
        "http.request",
        "local.exec",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    for item in items {
        assert!(
            item["family"].is_string() && item["description"].is_string(),
            "{item}"
        );
        assert!(item["idempotent"].is_boolean(), "{item}");
        assert_eq!(item["with_schema"]["type"], "object", "{item}");
    }
    let (s, ssh) = api
        .call(
            Method::GET,
            "/api/v1/step-types/ssh.exec",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 200, "{ssh}");
    assert!(
        ssh["with_schema"]["properties"]["command"].is_object(),
        "{ssh}"
    );
    let (s, none) = api
        .call(
            Method::GET,
            "/api/v1/step-types/ssh.nope",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 404, "{none}");

    // A mistyped key in `with` is refused at save, naming the path and the
    // closest key; nothing is stored.
    let job = json!({"name": "cat-typo", "steps": [
        {"id": "a", "type": "local.exec", "with": {"comand": "echo hi"}}
    ]});
    let (s, body) = api
        .call(Method::POST, "/api/v1/jobs", Some(&admin), Some(job))
        .await;
    assert_eq!(s, 422, "{body}");
    let errors = body["errors"].to_string();
    assert!(errors.contains("/steps/0/with"), "{body}");
    assert!(errors.contains("command"), "suggests the known key: {body}");
    let (_, jobs) = api
        .call(Method::GET, "/api/v1/jobs?limit=500", Some(&admin), None)
        .await;
    assert!(
        !jobs["items"].to_string().contains("cat-typo"),
        "nothing stored: {jobs}"
    );
    api.stop().await;
}
