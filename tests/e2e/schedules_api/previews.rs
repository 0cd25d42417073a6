//! Next occurrences and the calendar across a daylight-saving change.

use reqwest::Method;
use serde_json::json;

use super::{call, create, job_def};
use crate::harness::ApiServer;
use crate::harness::runs::create_job;

#[tokio::test]
async fn previews_show_daylight_saving_changes_and_the_calendar() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, job_def("previewed")).await;
    let ny = |name: &str, gap: &str| {
        json!({"name": name, "job_id": job, "cron": "30 2 * * *",
        "time_zone": "America/New_York", "start_at": "2027-03-12T00:00:00Z", "dst": {"gap": gap},
        "parameters": {"who": "x"}})
    };
    let shift = create(&api, &admin, ny("ny-shift", "shift")).await;
    let skip = create(&api, &admin, ny("ny-skip", "skip")).await;
    let (s, next) = call(
        &api,
        Method::GET,
        &format!("/api/v1/schedules/{shift}/next?count=4"),
        &admin,
        None,
    )
    .await;
    assert_eq!(s, 200, "{next}");
    let items: Vec<(String, String, String)> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["at"].as_str().unwrap().to_owned(),
                i["local"].as_str().unwrap().to_owned(),
                i["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect =
        |at: &str, local: &str, kind: &str| (at.to_owned(), local.to_owned(), kind.to_owned());
    assert_eq!(
        items,
        vec![
            expect(
                "2027-03-12T07:30:00Z",
                "2027-03-12T02:30:00-05:00",
                "regular"
            ),
            expect(
                "2027-03-13T07:30:00Z",
                "2027-03-13T02:30:00-05:00",
                "regular"
            ),
            expect(
                "2027-03-14T07:00:00Z",
                "2027-03-14T03:00:00-04:00",
                "shifted_from_gap"
            ),
            expect(
                "2027-03-15T06:30:00Z",
                "2027-03-15T02:30:00-04:00",
                "regular"
            ),
        ],
        "{next}"
    );
    let (_, next) = call(
        &api,
        Method::GET,
        &format!("/api/v1/schedules/{skip}/next?count=3"),
        &admin,
        None,
    )
    .await;
    assert_eq!(next["items"][2]["kind"], "skipped_gap", "{next}");
    for count in ["0", "101"] {
        let (s, p) = call(
            &api,
            Method::GET,
            &format!("/api/v1/schedules/{shift}/next?count={count}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(s, 422, "{count}: {p}");
    }

    let cal = |from: &str, to: &str| format!("/api/v1/schedules/calendar?from={from}&to={to}");
    let (s, c) = call(
        &api,
        Method::GET,
        &cal("2027-03-13T00:00:00Z", "2027-03-15T00:00:00Z"),
        &admin,
        None,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    let seen: Vec<(String, String, String)> = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["schedule_name"].as_str().unwrap().to_owned(),
                i["at"].as_str().unwrap().to_owned(),
                i["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let row = |n: &str, at: &str, kind: &str| (n.to_owned(), at.to_owned(), kind.to_owned());
    assert_eq!(
        seen,
        vec![
            row("ny-shift", "2027-03-13T07:30:00Z", "regular"),
            row("ny-skip", "2027-03-13T07:30:00Z", "regular"),
            row("ny-shift", "2027-03-14T07:00:00Z", "shifted_from_gap"),
            row("ny-skip", "2027-03-14T07:00:00Z", "skipped_gap"),
        ],
        "{c}"
    );
    assert_eq!(
        (c["truncated"].clone(), c["items"][0]["job_id"].clone()),
        (json!(false), json!(job))
    );
    for (from, to) in [
        ("2027-03-01T00:00:00Z", "2027-04-02T00:00:00Z"),
        ("2027-03-02T00:00:00Z", "2027-03-01T00:00:00Z"),
    ] {
        let (s, p) = call(&api, Method::GET, &cal(from, to), &admin, None).await;
        assert_eq!(s, 422, "{from} {to}: {p}");
    }
    // A disabled schedule is not in the calendar; one firing every second
    // fills it to the cap.
    let (s, _) = call(
        &api,
        Method::PATCH,
        &format!("/api/v1/schedules/{skip}"),
        &admin,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(s, 200);
    create(
        &api,
        &admin,
        json!({"name": "busy", "job_id": job, "cron": "* * * * * *", "parameters": {"who": "x"}}),
    )
    .await;
    let (_, c) = call(
        &api,
        Method::GET,
        &cal("2027-03-13T00:00:00Z", "2027-03-14T00:00:00Z"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (c["items"].as_array().unwrap().len(), c["truncated"].clone()),
        (10_000, json!(true))
    );
    assert!(!c.to_string().contains("ny-skip"));
    api.stop().await;
}

#[tokio::test]
async fn an_expression_not_saved_yet_is_previewed_like_a_schedule_and_refused_by_field() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "prev-viewer", "viewer", "preview-viewer-pass-8t")
        .await;
    let (viewer, _) = api.login("prev-viewer", "preview-viewer-pass-8t").await;
    let before = call(&api, Method::GET, "/api/v1/schedules", &admin, None).await;
    // The same expression, zone and policy as a saved schedule: the same
    // occurrences, the daylight-saving shift marked — for a viewer too.
    let (s, next) = call(
        &api,
        Method::POST,
        "/api/v1/schedules/next",
        &viewer,
        Some(
            json!({"cron": "30 2 * * *", "time_zone": "America/New_York",
            "start_at": "2027-03-13T00:00:00Z", "dst": {"gap": "shift"}, "count": 2}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{next}");
    assert_eq!(
        next["items"],
        json!([
            {"at": "2027-03-13T07:30:00Z", "local": "2027-03-13T02:30:00-05:00", "kind": "regular"},
            {"at": "2027-03-14T07:00:00Z", "local": "2027-03-14T03:00:00-04:00", "kind": "shifted_from_gap"}
        ]),
        "{next}"
    );
    // Wrong parts are refused naming their field, as when saving.
    for (body, path) in [
        (json!({"cron": "61 * * * *"}), "/cron"),
        (
            json!({"cron": "@daily", "time_zone": "Mars/Olympus"}),
            "/time_zone",
        ),
        (json!({"cron": "@daily", "count": 0}), "/count"),
        (
            json!({"cron": "@daily", "end_at": "10000-01-01T00:00:00Z"}),
            "/end_at",
        ),
        (json!({"cron": "@daily", "cronn": "x"}), "/cronn"),
    ] {
        let (s, p) = call(
            &api,
            Method::POST,
            "/api/v1/schedules/next",
            &viewer,
            Some(body.clone()),
        )
        .await;
        assert!(s == 422 || s == 400, "{body}: {s} {p}");
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["path"] == path),
            "{body}: {p}"
        );
    }
    // What never fires (no 30 February; an end already past) is refused as
    // a save refuses it, saying why.
    for body in [
        json!({"cron": "0 0 30 2 *"}),
        json!({"cron": "@daily", "end_at": "2001-01-01T00:00:00Z"}),
    ] {
        let (s, p) = call(
            &api,
            Method::POST,
            "/api/v1/schedules/next",
            &viewer,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 422, "{body}: {p}");
        assert_eq!(p["errors"][0]["path"], "/cron", "{body}: {p}");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("never fires"),
            "{body}: {p}"
        );
    }
    // No token: refused; and nothing was saved by any of it.
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/schedules/next",
            None,
            Some(json!({"cron": "@daily"})),
        )
        .await;
    assert_eq!(s, 401);
    let after = call(&api, Method::GET, "/api/v1/schedules", &admin, None).await;
    assert_eq!(before.1["items"], after.1["items"]);
    api.stop().await;
}
