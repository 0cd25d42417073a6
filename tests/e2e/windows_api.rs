//! Maintenance windows through the API: CRUD with every refusal located
//! and changing nothing, admins only for writes, the `<p>_windows` KV
//! mirror, and what an open window does to runs (a manual run refused
//! unless overridden by an admin or operator and audited; a bus intent's
//! targets inside a window left out and recorded).

mod addresses;
mod runs;

use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::schedule::WindowDoc;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

const BASE: &str = "/api/v1/maintenance-windows";

/// A weekly window open every day at all hours (so it is open now).
fn always(name: &str, scope: &Value) -> Value {
    json!({"name": name, "timing": {"kind": "weekly", "days": [1, 2, 3, 4, 5, 6, 7],
            "start_time": "00:00", "duration_mins": 1440, "time_zone": "Europe/Berlin"},
           "scope": scope})
}

/// The `errors[].path` of a problem.
fn paths(b: &Value) -> Vec<String> {
    b["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn doc(store: &kv::Store, id: &str) -> Option<WindowDoc> {
    let raw = store.get(format!("window.{id}")).await.unwrap()?;
    Some(serde_json::from_slice(&raw).unwrap())
}

async fn count(api: &ApiServer, token: &str) -> u64 {
    let (s, b) = api.call(Method::GET, BASE, Some(token), None).await;
    assert_eq!(s, 200, "{b}");
    b["total"].as_u64().unwrap()
}

#[tokio::test]
async fn windows_round_trip_are_validated_and_mirrored() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("windows").await.unwrap();

    let start = chrono::Utc::now() + chrono::TimeDelta::days(2);
    let once = json!({"name": "patch-night", "description": "quarterly",
        "timing": {"kind": "once", "start": start, "end": start + chrono::TimeDelta::hours(3)},
        "scope": {"global": true}, "fire_policy": "defer"});
    let (s, w) = api.call(Method::POST, BASE, Some(&admin), Some(once)).await;
    assert_eq!(s, 201, "{w}");
    let id = w["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            w["open_now"].clone(),
            w["closes_at"].clone(),
            w["target_policy"].clone(),
            w["revision"].clone()
        ),
        (json!(false), Value::Null, json!("exclude"), json!(1))
    );
    assert_eq!(w["next_openings"].as_array().unwrap().len(), 1, "{w}");
    let d = doc(&store, &id).await.expect("mirrored on create");
    assert_eq!((d.revision, d.enabled, d.scope.global), (1, true, true));

    let (s, w) = api
        .call(
            Method::POST,
            BASE,
            Some(&admin),
            Some(always("every-day", &json!({"global": true}))),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let daily = w["id"].as_str().unwrap().to_owned();
    assert_eq!(w["open_now"], json!(true), "{w}");
    assert!(w["closes_at"].as_str().is_some(), "{w}");
    assert_eq!(w["timing"]["start_time"], json!("00:00"));
    assert_eq!(w["next_openings"].as_array().unwrap().len(), 3, "{w}");

    // Refusals: located, and nothing changes.
    let before = count(&api, &admin).await;
    let unknown = uuid::Uuid::now_v7();
    let bad = [
        (
            json!({"kind": "weekly", "days": [1], "start_time": "01:00", "duration_mins": 60, "time_zone": "Mars/Olympus"}),
            json!({"global": true}),
            "/timing/time_zone",
        ),
        (
            json!({"kind": "weekly", "days": [], "start_time": "01:00", "duration_mins": 60}),
            json!({"global": true}),
            "/timing/days",
        ),
        (
            json!({"kind": "weekly", "days": [1], "start_time": "01:00", "duration_mins": 0}),
            json!({"global": true}),
            "/timing/duration_mins",
        ),
        (
            json!({"kind": "weekly", "days": [1], "start_time": "25:00", "duration_mins": 5}),
            json!({"global": true}),
            "/timing/start_time",
        ),
        (
            json!({"kind": "once", "start": start, "end": start}),
            json!({"global": true}),
            "/timing/end",
        ),
        (
            json!({"kind": "once", "start": start, "end": start + chrono::TimeDelta::hours(1)}),
            json!({"jobs": [unknown]}),
            "/scope/jobs/0",
        ),
        (
            json!({"kind": "once", "start": start, "end": start + chrono::TimeDelta::hours(1)}),
            json!({"targets": [unknown]}),
            "/scope/targets/0",
        ),
        (
            json!({"kind": "once", "start": start, "end": start + chrono::TimeDelta::hours(1)}),
            json!({"groups": [unknown]}),
            "/scope/groups/0",
        ),
        (
            json!({"kind": "once", "start": start, "end": start + chrono::TimeDelta::hours(1)}),
            json!({}),
            "/scope",
        ),
    ];
    for (timing, scope, path) in bad {
        let body = json!({"name": "bad", "timing": timing, "scope": scope});
        let (s, b) = api
            .call(Method::POST, BASE, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{path}: {b}");
        assert!(paths(&b).contains(&path.to_owned()), "{path}: {b}");
        let (s, b) = api
            .call(
                Method::PUT,
                &format!("{BASE}/{id}"),
                Some(&admin),
                Some(body),
            )
            .await;
        assert_eq!(s, 422, "{path}: {b}");
    }
    let (s, b) = api
        .call(
            Method::POST,
            BASE,
            Some(&admin),
            Some(always("patch-night", &json!({"global": true}))),
        )
        .await;
    assert_eq!(s, 409, "a taken name: {b}");
    assert_eq!(count(&api, &admin).await, before);
    let (_, w) = api
        .call(Method::GET, &format!("{BASE}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(
        w["revision"],
        json!(1),
        "refused writes changed nothing: {w}"
    );

    // Viewers and operators read, never write.
    api.user(&admin, "vic", "viewer", "viewer-password-1").await;
    let viewer = api.login("vic", "viewer-password-1").await.0;
    api.user(&admin, "otto", "operator", "operator-password-1")
        .await;
    let operator = api.login("otto", "operator-password-1").await.0;
    for token in [&viewer, &operator] {
        let (s, b) = api
            .call(Method::GET, &format!("{BASE}/{id}"), Some(token), None)
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = api
            .call(
                Method::POST,
                BASE,
                Some(token),
                Some(always("mine", &json!({"global": true}))),
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = api
            .call(
                Method::PATCH,
                &format!("{BASE}/{id}"),
                Some(token),
                Some(json!({"enabled": false})),
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = api
            .call(Method::DELETE, &format!("{BASE}/{id}"), Some(token), None)
            .await;
        assert_eq!(s, 403);
    }
    assert_eq!(count(&api, &admin).await, before);

    // A change reaches the KV document; so does a deletion.
    let (s, w) = api
        .call(
            Method::PATCH,
            &format!("{BASE}/{id}"),
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(
        (w["revision"].clone(), w["fire_policy"].clone()),
        (json!(2), json!("defer"))
    );
    let d = doc(&store, &id).await.unwrap();
    assert_eq!((d.revision, d.enabled), (2, false));

    let from = chrono::Utc::now();
    let (s, cal) = api
        .call(
            Method::GET,
            &format!(
                "{BASE}/calendar?from={}&to={}",
                urlencoding(&from.to_rfc3339()),
                urlencoding(&(from + chrono::TimeDelta::days(3)).to_rfc3339())
            ),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 200, "{cal}");
    let items = cal["items"].as_array().unwrap();
    assert!(
        items.iter().all(|i| i["window_id"] == json!(daily)),
        "the disabled one is left out: {cal}"
    );
    assert!(items.len() >= 3, "{cal}");
    let (s, _) = api
        .call(
            Method::GET,
            &format!(
                "{BASE}/calendar?from={}&to={}",
                urlencoding(&from.to_rfc3339()),
                urlencoding(&(from + chrono::TimeDelta::days(40)).to_rfc3339())
            ),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 422);

    let (s, _) = api
        .call(Method::DELETE, &format!("{BASE}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(s, 204);
    assert!(doc(&store, &id).await.is_none(), "deleted from the bucket");
    let (s, _) = api
        .call(Method::GET, &format!("{BASE}/{id}"), Some(&admin), None)
        .await;
    assert_eq!(s, 404);

    // The reconcile repairs a key deleted behind the api's back.
    store.delete(format!("window.{daily}")).await.unwrap();
    wait_until("the reconcile", Duration::from_secs(45), || {
        let (store, daily) = (store.clone(), daily.clone());
        async move { doc(&store, &daily).await.is_some() }
    })
    .await;
}

/// Percent-encodes the `+` and `:` of an RFC 3339 instant for a query.
pub(crate) fn urlencoding(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}
