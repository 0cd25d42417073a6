//! Who may: admins write; operators read channels and rules; viewers
//! neither; every user reads and writes their own preferences only.

use reqwest::Method;
use serde_json::json;

use super::{CHANNELS, RULES, create, email};
use crate::harness::ApiServer;

#[tokio::test]
async fn the_permission_matrix_holds_for_viewers_operators_and_admins() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let op_id = api
        .user(&admin, "olga", "operator", "operator-pass-1234")
        .await;
    let viewer_id = api.user(&admin, "vik", "viewer", "viewer-pass-12345").await;
    let op = api.login("olga", "operator-pass-1234").await.0;
    let viewer = api.login("vik", "viewer-pass-12345").await.0;
    let canary = "canary-access-secret-91";
    let ch = create(&api, &admin, CHANNELS, email("mail", canary)).await;
    let at = format!("{CHANNELS}/{ch}");
    let rule = create(
        &api,
        &admin,
        RULES,
        json!({"name": "r", "triggers": ["run_failed"], "send_to": [{"channel_id": ch}]}),
    )
    .await;

    // Reads: operators yes (never a secret), viewers no.
    for path in [
        CHANNELS.to_owned(),
        at.clone(),
        RULES.to_owned(),
        format!("{RULES}/{rule}"),
    ] {
        let (s, b) = api.call(Method::GET, &path, Some(&op), None).await;
        assert_eq!(s, 200, "{path}: {b}");
        assert!(!b.to_string().contains(canary));
        let (s, _) = api.call(Method::GET, &path, Some(&viewer), None).await;
        assert_eq!(s, 403, "{path}");
    }
    // Writes: admins only.
    for token in [&op, &viewer] {
        let writes = [
            (Method::POST, CHANNELS.to_owned(), Some(email("x", "y"))),
            (Method::PUT, at.clone(), Some(email("mail", "stolen"))),
            (Method::PATCH, at.clone(), Some(json!({"enabled": false}))),
            (Method::DELETE, at.clone(), None),
            (Method::POST, format!("{at}/test"), Some(json!({}))),
            (
                Method::POST,
                RULES.to_owned(),
                Some(
                    json!({"name": "x", "triggers": ["run_failed"], "send_to": [{"channel_id": ch}]}),
                ),
            ),
            (Method::DELETE, format!("{RULES}/{rule}"), None),
            (
                Method::PUT,
                "/api/v1/notifications/defaults".to_owned(),
                Some(json!({})),
            ),
            (
                Method::GET,
                "/api/v1/notifications/templates".to_owned(),
                None,
            ),
            (
                Method::POST,
                "/api/v1/notifications/control/pause".to_owned(),
                None,
            ),
            (
                Method::GET,
                "/api/v1/notifications/control".to_owned(),
                None,
            ),
        ];
        for (m, path, body) in writes {
            let (s, b) = api.call(m.clone(), &path, Some(token), body).await;
            assert_eq!(s, 403, "{m} {path}: {b}");
        }
    }
    let (_, c) = api.call(Method::GET, &at, Some(&admin), None).await;
    assert_eq!(
        (c["revision"].clone(), c["enabled"].clone()),
        (json!(1), json!(true)),
        "{c}"
    );
    let (s, _) = api
        .call(
            Method::GET,
            "/api/v1/notifications/defaults",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 200);

    // Preferences: own (a viewer too), others only for admins.
    let prefs = |id: &str| format!("/api/v1/notifications/preferences/{id}");
    let (s, b) = api.call(Method::PUT, &prefs("me"), Some(&viewer),
        Some(json!({"time_zone": "Europe/Berlin", "quiet_hours": {"from": "22:00", "to": "06:00"}, "subscriptions": {"channels": [ch], "own_runs": true}}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["user_id"].as_str(),
            b["time_zone"].as_str(),
            b["revision"].clone()
        ),
        (Some(viewer_id.as_str()), Some("Europe/Berlin"), json!(1))
    );
    let (s, b) = api
        .call(Method::GET, &prefs(&viewer_id), Some(&viewer), None)
        .await;
    assert_eq!(
        (s, b["time_zone"].as_str()),
        (200, Some("Europe/Berlin")),
        "{b}"
    );
    for (token, other) in [(&viewer, &op_id), (&op, &viewer_id)] {
        let (s, _) = api
            .call(Method::GET, &prefs(other), Some(token), None)
            .await;
        assert_eq!(s, 403);
        let (s, _) = api
            .call(Method::PUT, &prefs(other), Some(token), Some(json!({})))
            .await;
        assert_eq!(s, 403);
    }
    let (s, b) = api
        .call(Method::GET, &prefs(&viewer_id), Some(&admin), None)
        .await;
    assert_eq!((s, b["username"].as_str()), (200, Some("vik")), "{b}");
    let (s, b) = api
        .call(
            Method::PUT,
            &prefs("me"),
            Some(&op),
            Some(json!({"time_zone": "Mars/Olympus"})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(super::paths(&b).contains(&"/time_zone".to_owned()), "{b}");
    let (s, b) = api
        .call(
            Method::PUT,
            &prefs("me"),
            Some(&op),
            Some(json!({"subscriptions": {"job_ids": [uuid::Uuid::now_v7()]}})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        super::paths(&b).contains(&"/subscriptions/job_ids/0".to_owned()),
        "{b}"
    );
    let (_, b) = api.call(Method::GET, &prefs("me"), Some(&op), None).await;
    assert_eq!(
        (b["time_zone"].as_str(), b["revision"].clone()),
        (Some("UTC"), json!(0)),
        "{b}"
    );
    api.stop().await;
}
